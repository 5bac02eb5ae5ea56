#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Streaming reads and copies of large files (an LMDB copy, blobs), for backups and restores: the whole file is
/// never held in memory, every chunk is shown to the caller (who hashes it), and every call goes through the
/// layer's system calls, so `FileFaults` reaches them.
extension DurableFiles {
    /// The chunk size of streaming reads and copies.
    public static let copyChunkSize = 1 << 20

    /// Calls `body` with the successive chunks of the regular file `path` and returns its length in bytes.
    /// Refuses a symbolic link (`O_NOFOLLOW`) and anything that is not a regular file (`.notRegularFile`).
    @discardableResult
    public static func forEachChunk(
        of path: String, _ body: (UnsafeRawBufferPointer) -> Void
    ) throws(FileError) -> UInt64 {
        let fd = try openRegularFile(path)
        defer { close(fd) }
        return try pump(from: fd, path: path) { chunk throws(FileError) in body(chunk) }
    }

    /// Copies the regular file `source` to `destination`, calling `inspect` with every chunk as it goes (to hash
    /// it), and syncs the copy; returns the number of bytes copied.
    ///
    /// Without `replacing`, `destination` must not exist: it is created exclusively (`.exists` otherwise). With
    /// `replacing`, the copy is written to a temporary file next to it and renamed over it, so `destination`
    /// holds either what it held or the whole copy, never part of it. In both cases the copy gets exactly
    /// `mode`, and on failure nothing is left behind. The directory holding `destination` is **not** synced:
    /// a caller that copies many files syncs each directory once, at the end (`syncDirectory`).
    @discardableResult
    public static func copy(
        from source: String, to destination: String, mode: mode_t, replacing: Bool = false,
        inspect: (UnsafeRawBufferPointer) -> Void = { _ in }
    ) throws(FileError) -> UInt64 {
        let input = try openRegularFile(source)
        defer { close(input) }
        let target = replacing ? temporaryPath(for: destination) : destination
        let output = sysOpen(target, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
        guard output >= 0 else { throw .system(errno, .create, destination) }
        let copied: UInt64
        do throws(FileError) {
            guard sysFchmod(output, mode, path: destination) == 0 else { throw .system(errno, .setMode, destination) }
            copied = try pump(from: input, path: source) { chunk throws(FileError) in
                inspect(chunk)
                try writeAll(output, path: destination, chunk)
            }
            guard sysFsync(output, path: destination) == 0 else { throw .system(errno, .sync, destination) }
        } catch {
            close(output)
            _ = sysUnlink(target)
            throw error
        }
        do throws(FileError) {
            try closeChecked(output, path: destination)
            if replacing && sysRename(target, destination) != 0 { throw .system(errno, .rename, destination) }
        } catch {
            _ = sysUnlink(target)
            throw error
        }
        return copied
    }

    /// Renames `from` to `to`, replacing what `to` names (atomically, as `rename(2)` does). Neither directory is
    /// synced: the caller syncs once it has made all its changes there.
    public static func rename(_ from: String, to: String) throws(FileError) {
        guard sysRename(from, to) == 0 else { throw .system(errno, .rename, to) }
    }

    /// Removes the empty directory `path` (`rmdir`); returns false if it does not exist. Its parent is not synced.
    @discardableResult
    public static func removeEmptyDirectory(_ path: String) throws(FileError) -> Bool {
        guard rmdir(path) == 0 else {
            if errno == ENOENT { return false }
            throw .system(errno, .remove, path)
        }
        return true
    }

    /// The names of the entries of the directory `path` (not `.` and `..`), sorted by their bytes.
    public static func entries(ofDirectory path: String) throws(FileError) -> [String] {
        guard let dir = opendir(path) else { throw .system(errno, .read, path) }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
    }

    /// Opens the regular file `path` for reading, never through a symbolic link.
    private static func openRegularFile(_ path: String) throws(FileError) -> Int32 {
        let fd = sysOpen(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ELOOP {
                throw FileError(
                    .notRegularFile, operation: .open, path: path, errno: ELOOP, reason: "it is a symbolic link")
            }
            throw .system(errno, .open, path)
        }
        var status = stat()
        guard fstat(fd, &status) == 0 else {
            let error = FileError.system(errno, .inspect, path)
            close(fd)
            throw error
        }
        guard status.st_mode & S_IFMT == S_IFREG else {
            close(fd)
            throw FileError(
                .notRegularFile, operation: .open, path: path,
                reason: "it is \(Kind(mode: status.st_mode)), not a regular file")
        }
        return fd
    }

    /// Reads `fd` to its end in chunks, handing each to `body`; returns the number of bytes read.
    private static func pump(
        from fd: Int32, path: String, _ body: (UnsafeRawBufferPointer) throws(FileError) -> Void
    ) throws(FileError) -> UInt64 {
        var buffer = [UInt8](repeating: 0, count: copyChunkSize)
        var total: UInt64 = 0
        while true {
            let n = buffer.withUnsafeMutableBytes { raw in sysRead(fd, raw.baseAddress!, raw.count, path: path) }
            if n < 0 { throw .system(errno, .read, path) }
            if n == 0 { return total }
            let result = buffer.withUnsafeBytes { raw in
                Result { () throws(FileError) in try body(UnsafeRawBufferPointer(rebasing: raw[0..<n])) }
            }
            try result.get()
            total += UInt64(n)
        }
    }
}
