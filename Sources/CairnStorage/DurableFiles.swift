import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The one implementation of durable file operations outside LMDB: key files, blobs, spool and
/// witness directories, and the files commands write (`OutputFile`).
///
/// Every function either completes its promise or throws a `FileError` naming the file:
/// - reads and writes loop over short transfers and `EINTR`;
/// - a durable write is `fsync`ed, and so is the directory whose entry it created, changed or
///   removed: without the directory `fsync` a crash can lose a file whose data was synced;
/// - a file's mode is set exactly with `fchmod` after creation (the umask cannot widen it,
///   but it can narrow it, and 0600 on a key file is part of the contract);
/// - replacement is atomic: a temporary file in the same directory, `fsync`, `rename`, directory
///   `fsync`; the temporary file is removed on any failure;
/// - a failed `fsync` is never retried (see `FileError`).
///
/// Thread-safe (no shared state besides the test-only `FileFaults`). Paths are used as given
/// (relative paths resolve against the working directory).
///
/// ```swift
/// try DurableFiles.createNew(dir + "/signing-key.pem", contents: pem, mode: 0o600)
/// try DurableFiles.replace(dir + "/blobs/ab/cdef…", contents: bytes, mode: 0o640)
/// let pem = try DurableFiles.read(dir + "/signing-key.pem")
/// ```
public enum DurableFiles {
    // MARK: - Inspecting

    /// What a path names.
    public enum Kind: Sendable, Equatable, CustomStringConvertible {
        case missing
        case regular
        case directory
        case symbolicLink
        case fifo
        case characterDevice
        case blockDevice
        case socket
        case other

        init(mode: mode_t) {
            switch mode & S_IFMT {
            case S_IFREG: self = .regular
            case S_IFDIR: self = .directory
            case S_IFLNK: self = .symbolicLink
            case S_IFIFO: self = .fifo
            case S_IFCHR: self = .characterDevice
            case S_IFBLK: self = .blockDevice
            case S_IFSOCK: self = .socket
            default: self = .other
            }
        }

        /// "a regular file", "a FIFO (named pipe)", … for messages.
        public var description: String {
            switch self {
            case .missing: "missing"
            case .regular: "a regular file"
            case .directory: "a directory"
            case .symbolicLink: "a symbolic link"
            case .fifo: "a FIFO (named pipe)"
            case .characterDevice: "a character device"
            case .blockDevice: "a block device"
            case .socket: "a socket"
            case .other: "a special file"
            }
        }
    }

    /// What `path` names (following symbolic links unless `followingSymbolicLinks` is false);
    /// `.missing` when nothing is there or it cannot be inspected.
    public static func kind(of path: String, followingSymbolicLinks: Bool = true) -> Kind {
        var st = stat()
        let rc = followingSymbolicLinks ? stat(path, &st) : lstat(path, &st)
        return rc == 0 ? Kind(mode: st.st_mode) : .missing
    }

    /// The size of the regular file at `path` (following symbolic links), or `nil`.
    public static func size(of path: String) -> UInt64? {
        var st = stat()
        guard stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
        return UInt64(st.st_size)
    }

    // MARK: - Reading

    /// The whole content of the file at `path`, or with `limit` at most its first `limit` bytes.
    public static func read(_ path: String, limit: Int? = nil) throws(FileError) -> [UInt8] {
        let fd = sysOpen(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .system(errno, .read, path) }
        defer { close(fd) }
        var st = stat()
        if fstat(fd, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR {
            throw FileError(.notRegularFile, operation: .read, path: path, reason: "it is a directory")
        }
        var out: [UInt8] = []
        let wanted = limit ?? .max
        if (st.st_mode & S_IFMT) == S_IFREG && st.st_size > 0 { out.reserveCapacity(min(Int(st.st_size), wanted)) }
        var buffer = [UInt8](repeating: 0, count: min(64 * 1024, max(wanted, 1)))
        while out.count < wanted {
            let n = buffer.withUnsafeMutableBytes { raw in
                raw.baseAddress.map { sysRead(fd, $0, min(raw.count, wanted - out.count), path: path) } ?? 0
            }
            if n < 0 { throw .system(errno, .read, path) }
            if n == 0 { return out }
            out.append(contentsOf: buffer[0..<n])
        }
        return out
    }

    /// The content of the file at `path`, or `nil` if it does not exist.
    public static func readIfPresent(_ path: String) throws(FileError) -> [UInt8]? {
        do {
            return try read(path)
        } catch  where error.code == .notFound {
            return nil
        }
    }

    // MARK: - Writing

    /// Creates the file `path`, which must not exist (`.exists` otherwise, and never through a
    /// symbolic link), with exactly `mode`, writes `contents`, and syncs the file and its
    /// directory. On failure the partial file is removed.
    public static func createNew(_ path: String, contents: [UInt8], mode: mode_t) throws(FileError) {
        let fd = sysOpen(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
        guard fd >= 0 else { throw .system(errno, .create, path) }
        do throws(FileError) {
            try fill(fd, path: path, contents: contents, mode: mode)
        } catch {
            close(fd)
            _ = sysUnlink(path)
            throw error
        }
        try closeChecked(fd, path: path)
        try syncParentDirectory(of: path)
    }

    /// Replaces (or creates) the file `path` atomically: readers see the old content or all of
    /// the new, never a mixture, and after a crash one of the two is there. Writes a temporary
    /// file in the same directory with exactly `mode`, syncs it, renames it over `path`, and syncs
    /// the directory. With `synced: false` the two syncs are skipped: still atomic for readers,
    /// but the new content may be lost in a crash (for hints such as progress files).
    public static func replace(_ path: String, contents: [UInt8], mode: mode_t, synced: Bool = true) throws(FileError) {
        let temporary = temporaryPath(for: path)
        let fd = sysOpen(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
        guard fd >= 0 else {
            throw .system(errno, .create, path, message: "cannot create a temporary file next to \(path)")
        }
        do throws(FileError) {
            try fill(fd, path: path, contents: contents, mode: mode, sync: synced)
            try closeChecked(fd, path: path)
        } catch {
            close(fd)
            _ = sysUnlink(temporary)
            throw error
        }
        guard sysRename(temporary, path) == 0 else {
            let error = FileError.system(errno, .rename, path)
            _ = sysUnlink(temporary)
            throw error
        }
        if synced { try syncParentDirectory(of: path) }
    }

    /// Overwrites the regular file `path` with zeros, syncs it, unlinks it and syncs its
    /// directory, so that the bytes are gone from the file system, not just unnamed. Returns
    /// whether there was a file (a missing one is fine: a removal may be a retry). The unlink is
    /// attempted even when the overwrite fails; the first failure is then thrown.
    @discardableResult
    public static func removeDurably(_ path: String) throws(FileError) -> Bool {
        let fd = sysOpen(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return false }
            throw .system(errno, .open, path, message: "cannot open \(path) to erase it")
        }
        var overwriteError: FileError?
        var st = stat()
        if fstat(fd, &st) == 0 && st.st_size > 0 {
            do throws(FileError) {
                try overwriteWithZeros(fd, path: path, size: UInt64(st.st_size))
                if sysFsync(fd, path: path) != 0 { throw FileError.system(errno, .sync, path) }
            } catch {
                overwriteError = error
            }
        }
        close(fd)
        guard sysUnlink(path) == 0 || errno == ENOENT else { throw .system(errno, .remove, path) }
        try syncParentDirectory(of: path)
        if let overwriteError { throw overwriteError }
        return true
    }

    /// Unlinks `path` (and, if `synced`, syncs its directory). Returns whether it existed.
    @discardableResult
    public static func remove(_ path: String, synced: Bool = true) throws(FileError) -> Bool {
        guard sysUnlink(path) == 0 else {
            if errno == ENOENT { return false }
            throw .system(errno, .remove, path)
        }
        if synced { try syncParentDirectory(of: path) }
        return true
    }

    // MARK: - Directories

    /// Creates `path` and its missing parents with `mode` (which the umask may narrow), syncing
    /// the parent of every directory it creates so that the new entries survive a crash. An
    /// existing directory is fine. Returns the directories created, outermost first.
    @discardableResult
    public static func createDirectories(_ path: String, mode: mode_t = 0o750) throws(FileError) -> [String] {
        let trimmed = trimmingTrailingSlashes(path)
        if sysMkdir(trimmed, mode) == 0 {
            try syncParentDirectory(of: trimmed)
            return [trimmed]
        }
        switch errno {
        case EEXIST:
            guard kind(of: trimmed) == .directory else {
                throw FileError(
                    .notDirectory, operation: .createDirectory, path: trimmed,
                    reason: "it exists and is not a directory")
            }
            return []
        case ENOENT:
            let parent = parentDirectory(of: trimmed)
            guard parent != trimmed else { throw .system(ENOENT, .createDirectory, trimmed) }
            var created = try createDirectories(parent, mode: mode)
            if sysMkdir(trimmed, mode) != 0 && errno != EEXIST { throw .system(errno, .createDirectory, trimmed) }
            try syncParentDirectory(of: trimmed)
            created.append(trimmed)
            return created
        default:
            throw .system(errno, .createDirectory, trimmed)
        }
    }

    /// Creates the directory `path` (and its parents), or accepts an existing empty one, for
    /// something that must start in a directory of its own (a ledger, a witness). Throws
    /// `.notDirectory` if `path` is a file and `.notEmpty` (naming one entry) if it is not empty.
    public static func createEmptyDirectory(_ path: String, mode: mode_t = 0o750) throws(FileError) {
        switch kind(of: path) {
        case .missing:
            try createDirectories(path, mode: mode)
        case .directory:
            if let entry = try firstEntry(ofDirectory: path) {
                throw FileError(
                    .notEmpty, operation: .createDirectory, path: path, reason: "found \(entry)",
                    message: "\(path) is not empty (found \(entry))")
            }
        default:
            throw FileError(
                .notDirectory, operation: .createDirectory, path: path, reason: "it exists and is not a directory",
                message: "\(path) exists and is not a directory")
        }
    }

    /// The name of one entry of the directory other than `.` and `..`, or `nil` if it is empty.
    public static func firstEntry(ofDirectory path: String) throws(FileError) -> String? {
        guard let dir = opendir(path) else { throw .system(errno, .read, path) }
        defer { closedir(dir) }
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { return name }
        }
        return nil
    }

    /// Syncs the directory `path`, making the entries created, renamed or removed in it durable.
    /// File systems that cannot sync directories (`EINVAL`, `ENOTSUP`) are accepted.
    public static func syncDirectory(_ path: String) throws(FileError) {
        let fd = sysOpen(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw .system(errno, .sync, path, message: "cannot open directory \(path) to sync it") }
        defer { close(fd) }
        if sysFsync(fd, path: path) != 0 && errno != EINVAL && errno != ENOTSUP {
            throw .system(errno, .sync, path, message: "cannot sync directory \(path) to disk")
        }
    }

    /// Syncs the directory that holds `path`.
    public static func syncParentDirectory(of path: String) throws(FileError) {
        try syncDirectory(parentDirectory(of: path))
    }

    /// The directory part of `path`: "." for a bare name, "/" for a file in the root.
    public static func parentDirectory(of path: String) -> String {
        let trimmed = trimmingTrailingSlashes(path)
        guard let slash = trimmed.lastIndex(of: "/") else { return "." }
        let parent = trimmingTrailingSlashes(String(trimmed[..<slash]))
        return parent.isEmpty ? "/" : parent
    }

    // MARK: - Internals

    /// Syncs the open file or directory `fd` (named `path` in errors); a failure is reported,
    /// never retried (see `sysFsync`). For writers that must work relative to directory
    /// descriptors (the tile export, which never follows symbolic links).
    package static func sync(_ fd: Int32, path: String) throws(FileError) {
        if sysFsync(fd, path: path) != 0 { throw .system(errno, .sync, path) }
    }

    /// Sets the exact mode, writes everything and (if `sync`) syncs the open file `fd`.
    package static func fill(
        _ fd: Int32, path: String, contents: [UInt8], mode: mode_t, sync: Bool = true
    ) throws(FileError) {
        guard sysFchmod(fd, mode, path: path) == 0 else { throw .system(errno, .setMode, path) }
        try writeAll(fd, path: path, contents)
        if sync && sysFsync(fd, path: path) != 0 { throw .system(errno, .sync, path) }
    }

    /// Writes all of `bytes` to `fd` at its offset, looping over short writes.
    static func writeAll(_ fd: Int32, path: String, _ bytes: [UInt8]) throws(FileError) {
        let result = bytes.withUnsafeBytes { raw in
            Result { () throws(FileError) in try writeAll(fd, path: path, raw) }
        }
        try result.get()
    }

    /// Writes all of `bytes` to `fd` at its offset, looping over short writes.
    static func writeAll(_ fd: Int32, path: String, _ bytes: UnsafeRawBufferPointer) throws(FileError) {
        guard let base = bytes.baseAddress else { return }
        var offset = 0
        while offset < bytes.count {
            let n = sysWrite(fd, base + offset, bytes.count - offset, path: path)
            if n < 0 { throw .system(errno, .write, path) }
            if n == 0 {
                throw FileError(.io, operation: .write, path: path, reason: "the system wrote 0 bytes")
            }
            offset += n
        }
    }

    private static func overwriteWithZeros(_ fd: Int32, path: String, size: UInt64) throws(FileError) {
        let zeros = [UInt8](repeating: 0, count: 64 * 1024)
        var remaining = size
        while remaining > 0 {
            let chunk = Int(min(remaining, UInt64(zeros.count)))
            let result = zeros.withUnsafeBytes { raw in
                Result { () throws(FileError) in
                    try writeAll(fd, path: path, UnsafeRawBufferPointer(rebasing: raw[0..<chunk]))
                }
            }
            try result.get()
            remaining -= UInt64(chunk)
        }
    }

    /// Closes `fd`, reporting the delayed write errors some file systems (NFS) report only here.
    static func closeChecked(_ fd: Int32, path: String) throws(FileError) {
        // EINTR from close: the descriptor is closed anyway on Linux; never retry.
        if close(fd) != 0 && errno != EINTR { throw .system(errno, .close, path) }
    }

    private static let temporaryCounter = TemporaryCounter()

    /// A fresh hidden name next to `path` for a temporary file: `.<name>.tmp-<pid>-<n>`.
    static func temporaryPath(for path: String) -> String {
        let trimmed = trimmingTrailingSlashes(path)
        let name = trimmed.lastIndex(of: "/").map { String(trimmed[trimmed.index(after: $0)...]) } ?? trimmed
        let directory = parentDirectory(of: trimmed)
        let prefix = directory == "/" ? "/" : directory + "/"
        return prefix + ".\(name).tmp-\(getpid())-\(temporaryCounter.next())"
    }

    static func trimmingTrailingSlashes(_ path: String) -> String {
        var trimmed = Substring(path)
        while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        return String(trimmed)
    }
}

/// A process-wide counter for unique temporary names.
final class TemporaryCounter: Sendable {
    private let value = Atomic<UInt64>(0)
    func next() -> UInt64 { value.add(1, ordering: .relaxed).newValue }
}
