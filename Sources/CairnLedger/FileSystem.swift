import CairnStorage

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The file operations the ledger needs, as thin wrappers over `CairnStorage.DurableFiles` (the
/// one durable-file implementation: EINTR-safe loops, exact modes, file and directory `fsync`,
/// atomic replacement). Failures become `LedgerError`s (`.storage`, or `.alreadyExists` for a
/// directory that cannot hold a new ledger) carrying the layer's message, which names the file.
enum FileSystem {
    /// A read failure, described by the system's reason alone (callers add the path).
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static func errnoText() -> String { String(cString: strerror(errno)) }

    static func exists(_ path: String, isDirectory: inout Bool) -> Bool {
        let kind = DurableFiles.kind(of: path)
        guard kind != .missing else { return false }
        isDirectory = kind == .directory
        return true
    }

    /// Creates `path` (and missing parents) as a directory, or accepts an existing empty one.
    static func createEmptyDirectory(_ path: String) throws {
        do {
            try DurableFiles.createEmptyDirectory(path, mode: 0o750)
        } catch  where error.code == .notEmpty {
            throw LedgerError(.alreadyExists, "\(error.message); choose a new directory for the ledger")
        } catch  where error.code == .notDirectory && error.operation == .createDirectory {
            throw LedgerError(.alreadyExists, error.message)
        } catch {
            throw LedgerError(.storage, error.message)
        }
    }

    /// Writes a new file (never replacing one) with `mode`, and syncs it and its directory.
    static func writeNewFile(_ path: String, contents: [UInt8], mode: mode_t) throws {
        try storage { () throws(FileError) in try DurableFiles.createNew(path, contents: contents, mode: mode) }
    }

    /// Syncs the directory holding `path`, best effort (the operations above sync and report
    /// failures themselves).
    static func syncDirectory(of path: String) {
        try? DurableFiles.syncParentDirectory(of: path)
    }

    /// Reads a whole file, or its first `limit` bytes.
    static func readFile(_ path: String, limit: Int? = nil) throws -> [UInt8] {
        do {
            return try DurableFiles.read(path, limit: limit)
        } catch {
            throw Failure(description: error.reason)
        }
    }

    static func fileExists(_ path: String) -> Bool {
        let kind = DurableFiles.kind(of: path)
        return kind != .missing && kind != .directory
    }

    /// Creates `path` and missing parents (syncing each new directory's entry).
    static func createDirectories(_ path: String) throws {
        try storage { () throws(FileError) in try DurableFiles.createDirectories(path, mode: 0o750) }
    }

    /// Writes `path` through a temporary file, fsync and rename, so readers see all or nothing.
    static func writeAtomically(_ path: String, contents: [UInt8], mode: mode_t) throws {
        try storage { () throws(FileError) in try DurableFiles.replace(path, contents: contents, mode: mode) }
    }

    /// Overwrites a file with zeros, syncs, and unlinks it (and syncs its directory). A missing
    /// file is fine: the removal may be a retry.
    static func removeDurably(_ path: String) throws {
        try storage { () throws(FileError) in try DurableFiles.removeDurably(path) }
    }

    @discardableResult
    private static func storage<R>(_ body: () throws(FileError) -> R) throws -> R {
        do {
            return try body()
        } catch {
            throw LedgerError(.storage, error.message)
        }
    }
}
