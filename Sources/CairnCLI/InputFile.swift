import Foundation

/// A file or standard input, read with checked `read(2)` calls: the one way every command reads
/// its inputs (records, blobs, proofs, checkpoints, keys, policies, configuration).
///
/// Foundation's `FileHandle.readDataToEndOfFile()` traps on a read error (`cairn append <
/// some-directory` died with "Illegal instruction"), and `Data(contentsOf:)` reports a
/// directory as `NSCocoaErrorDomain Code=256`. Here a path that is missing, a directory or not
/// readable is exit status 66 with a message naming it, and a read that fails — standard input
/// that is a directory or closed, EIO — is exit status 74. EINTR is retried, and EAGAIN (a
/// non-blocking standard input) waits until there is something to read.
final class InputFile {
    let descriptor: Int32
    /// How messages name the input: "standard input", or "input file records.jsonl".
    let name: String
    private let owned: Bool

    private init(descriptor: Int32, name: String, owned: Bool) {
        self.descriptor = descriptor
        self.name = name
        self.owned = owned
    }

    deinit {
        if owned { close(descriptor) }
    }

    static let standardInputName = "standard input"

    static var standardInput: InputFile {
        InputFile(descriptor: 0, name: standardInputName, owned: false)
    }

    /// Opens `path` for reading; `what` names it in messages ("input file", "proof file"…).
    /// "-" is standard input.
    static func open(_ path: String, what: String) throws(CLIError) -> InputFile {
        if path == "-" { return standardInput }
        let name = "\(what) \(path)"
        var descriptor: Int32
        repeat {
            descriptor = Foundation.open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)
        } while descriptor < 0 && errno == EINTR
        guard descriptor >= 0 else {
            let code = errno
            switch code {
            case ENOENT: throw CLIError(.notFound, "\(name): no such file")
            case ENOTDIR: throw CLIError(.notFound, "\(name): no such file (a part of the path is not a directory)")
            default: throw CLIError(.notFound, "cannot open \(name): \(String(cString: strerror(code)))")
            }
        }
        let file = InputFile(descriptor: descriptor, name: name, owned: true)
        var status = stat()
        if fstat(descriptor, &status) == 0 && status.st_mode & S_IFMT == S_IFDIR {
            throw CLIError(.notFound, "\(name) is a directory, not a file")
        }
        return file
    }

    /// The size of a regular file; nil for a pipe, a terminal or a device.
    var regularFileSize: UInt64? {
        var status = stat()
        guard fstat(descriptor, &status) == 0, status.st_mode & S_IFMT == S_IFREG else { return nil }
        return UInt64(status.st_size)
    }

    /// Up to `count` bytes; empty at the end of the input.
    func read(upTo count: Int) throws(CLIError) -> [UInt8] {
        guard count > 0 else { return [] }
        var bytes = [UInt8](repeating: 0, count: count)
        let n = try read(into: &bytes, at: 0)
        bytes.removeSubrange(n...)
        return bytes
    }

    /// Everything up to the end of the input, or the first `limit + 1` bytes when there are more (so a caller
    /// sees that the input is over its limit). Buffers grow as bytes arrive: a small input costs a small read.
    func readToEnd(limit: Int) throws(CLIError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: min(limit + 1, 1 << 16))
        var filled = 0
        while filled <= limit {
            if filled == bytes.count {
                bytes.append(contentsOf: repeatElement(0, count: min(bytes.count, limit + 1 - bytes.count)))
            }
            let n = try read(into: &bytes, at: filled)
            if n == 0 { break }
            filled += n
        }
        bytes.removeSubrange(filled...)
        return bytes
    }

    /// Everything up to the end of the input.
    func readToEnd() throws(CLIError) -> [UInt8] {
        // A regular file's size (plus one byte, to see the end) is allocated at once, up to 1 GiB.
        let expected = regularFileSize.map { Int(min($0, 1 << 30)) + 1 } ?? 0
        var bytes = [UInt8](repeating: 0, count: max(expected, 1 << 16))
        var filled = 0
        while true {
            if filled == bytes.count { bytes.append(contentsOf: repeatElement(0, count: bytes.count)) }
            let n = try read(into: &bytes, at: filled)
            if n == 0 { break }
            filled += n
        }
        bytes.removeSubrange(filled...)
        return bytes
    }

    /// Moves to byte `offset` of a file.
    func seek(to offset: UInt64) throws(CLIError) {
        guard let position = off_t(exactly: offset), lseek(descriptor, position, SEEK_SET) >= 0 else {
            throw CLIError(.ioError, "cannot seek in \(name) to byte \(offset): \(String(cString: strerror(errno)))")
        }
    }

    /// One successful `read(2)` into `bytes[start...]`: the number of bytes read, 0 at the end.
    private func read(into bytes: inout [UInt8], at start: Int) throws(CLIError) -> Int {
        let descriptor = self.descriptor
        while true {
            let n = bytes.withUnsafeMutableBytes { raw in
                guard let base = raw.baseAddress, start < raw.count else { return 0 }
                return Foundation.read(descriptor, base + start, raw.count - start)
            }
            if n >= 0 { return n }
            let code = errno
            if code == EINTR { continue }
            if code == EAGAIN || code == EWOULDBLOCK {
                StandardStreams.wait(for: descriptor, events: Int16(POLLIN))
                continue
            }
            throw CLIError(.ioError, "cannot read \(name): \(Self.describe(code))")
        }
    }

    private static func describe(_ code: Int32) -> String {
        switch code {
        case EISDIR: "it is a directory, not a file"
        case EBADF: "it is closed or not open for reading"
        default: String(cString: strerror(code))
        }
    }
}

/// Reads a whole file, or standard input for "-" (see `InputFile`).
func readInput(_ path: String, what: String) throws(CLIError) -> [UInt8] {
    try InputFile.open(path, what: what).readToEnd()
}
