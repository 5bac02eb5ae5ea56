import CairnStorage

/// Files the user names for a command's output (`-o`/`--output`, `--manifest`): every command
/// writes them through `CairnStorage.OutputFile`, so they behave alike (specs/storage.md,
/// "Output files"): a new path is created atomically, an existing regular file (or a symbolic
/// link to one) is written through, and anything else is refused with exit status 73.

/// Writes `text` to `path`, or to stdout when `path` is nil.
func emit(_ text: String, to path: String?) throws {
    try emit(Array(text.utf8), to: path)
}

/// Writes `bytes` to `path`, or to stdout when `path` is nil.
func emit(_ bytes: [UInt8], to path: String?) throws {
    guard let path else {
        Console.write(bytes)
        return
    }
    try writeOutputFile(path, bytes)
}

/// Writes `bytes` to the output file `path` (see `OutputFile`).
func writeOutputFile(_ path: String, _ bytes: [UInt8]) throws {
    do {
        try DurableFiles.writeOutput(path, contents: bytes)
    } catch {
        throw CLIError(outputFailure: error)
    }
}

/// Opens the output file `path` (see `OutputFile`), as a `CLIError` on failure.
func openOutputFile(_ path: String) throws -> OutputFile {
    do {
        return try OutputFile(path: path)
    } catch {
        throw CLIError(outputFailure: error)
    }
}

extension OutputFile {
    /// `write`, failing with a `CLIError`.
    func writeOrFail(_ bytes: [UInt8]) throws {
        do {
            try write(bytes)
        } catch {
            throw CLIError(outputFailure: error)
        }
    }

    /// `commit`, failing with a `CLIError`.
    func commitOrFail() throws {
        do {
            try commit()
        } catch {
            throw CLIError(outputFailure: error)
        }
    }
}

extension CLIError {
    /// The exit status for a failed output file: 73 (sysexits' "cannot create output file") when
    /// the path cannot be an output — not a regular file, something appeared there, no such
    /// directory, no permission, a read-only file system; 74 when writing or syncing it failed.
    init(outputFailure error: FileError) {
        let opening = [.create, .open, .inspect].contains(error.operation)
        let status: ExitStatus =
            switch error.code {
            case .notRegularFile, .exists, .notDirectory: .cannotCreate
            case .notFound, .permission, .readOnlyFileSystem, .other: opening ? .cannotCreate : .ioError
            default: .ioError
            }
        self.init(status, error.message)
    }
}
