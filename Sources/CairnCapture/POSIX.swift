// The file-system calls capture needs, over the C library directly: `cairn-capture` links no Foundation, which
// would cost ~6 ms of start-up on every hook event (docs/performance.md, "Capture").
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

package enum POSIX {
    /// Whether anything exists at `path`.
    package static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    /// Whether `path` exists, and whether it is a directory.
    package static func kind(of path: String) -> (exists: Bool, isDirectory: Bool) {
        var status = stat()
        guard stat(path, &status) == 0 else { return (false, false) }
        return (true, status.st_mode & S_IFMT == S_IFDIR)
    }

    /// The whole file, if it can be read and is at most `limit` bytes.
    static func readFile(_ path: String, limit: Int) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        return readAll(fd, limit: limit).flatMap { $0.count <= limit ? $0 : nil }
    }

    /// The last `limit` bytes of a file, and whether they start after its first byte.
    static func readTail(_ path: String, limit: Int) -> (bytes: [UInt8], cut: Bool)? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        let size = lseek(fd, 0, SEEK_END)
        guard size >= 0 else { return nil }
        let start = max(0, Int(size) - limit)
        guard lseek(fd, off_t(start), SEEK_SET) == off_t(start), let bytes = readAll(fd, limit: limit) else {
            return nil
        }
        return (bytes, start > 0)
    }

    /// Everything until the end of `fd`, or the first `limit + 1` bytes when there are more.
    package static func readAll(_ fd: Int32, limit: Int) -> [UInt8]? {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while bytes.count <= limit {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                return nil
            }
            if n == 0 { break }
            bytes += chunk[0..<n]
        }
        return bytes
    }

    /// Writes all of `bytes` to `fd`, retrying short writes; the error text on failure.
    static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> String? {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                return lastError()
            }
            offset += written
        }
        return nil
    }

    static func lastError() -> String { String(cString: strerror(errno)) }

    /// Creates directory `path` (mode 0700) unless it exists.
    static func makeDirectory(_ path: String) throws(CaptureError) {
        if mkdir(path, 0o700) != 0 && errno != EEXIST { throw CaptureError("cannot create \(path): \(lastError())") }
    }

    /// Appends `bytes` to `path` (mode 0600, created with its directory) in one write, then, with `sync`,
    /// `fdatasync`s it.
    static func append(_ bytes: [UInt8], to path: String, sync: Bool) throws(CaptureError) {
        try makeDirectory(parent(path))
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw CaptureError("cannot open \(path): \(lastError())") }
        defer { close(fd) }
        if let error = writeAll(fd, bytes) { throw CaptureError("cannot write \(path): \(error)") }
        if sync, fdatasync(fd) != 0 { throw CaptureError("cannot sync \(path): \(lastError())") }
    }

    /// Opens `path` for appending under an exclusive `flock`, the lock `WorkingLog.consume` takes to replace the
    /// file: after the lock is held, the descriptor is checked to still be the file at `path` (a replacement made
    /// while waiting is opened again). Returns the locked descriptor; closing it releases the lock.
    package static func openLocked(_ path: String, flags: Int32) throws(CaptureError) -> Int32 {
        try makeDirectory(parent(path))
        for _ in 0..<100 {
            let fd = open(path, flags | O_CREAT | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw CaptureError("cannot open \(path): \(lastError())") }
            var locked = flock(fd, LOCK_EX)
            while locked != 0 && errno == EINTR { locked = flock(fd, LOCK_EX) }
            guard locked == 0 else {
                let error = lastError()
                close(fd)
                throw CaptureError("cannot lock \(path): \(error)")
            }
            var opened = stat()
            var current = stat()
            if fstat(fd, &opened) == 0, stat(path, &current) == 0, opened.st_ino == current.st_ino,
                opened.st_dev == current.st_dev
            {
                return fd
            }
            close(fd)
        }
        throw CaptureError("cannot lock \(path): it keeps being replaced")
    }

    package static func currentDirectory() -> String? {
        var buffer = [CChar](repeating: 0, count: 4096)
        guard getcwd(&buffer, buffer.count) != nil else { return nil }
        return String(cString: buffer)
    }

    /// The current directory as the shell named it: `$PWD` when it is absolute and is the current directory
    /// (it keeps the symbolic links the user went through), else the physical path (a parent process may have
    /// changed directory without updating `$PWD`).
    static func workingDirectory() -> String? {
        var here = stat()
        var named = stat()
        if let pwd = environment("PWD"), pwd.hasPrefix("/"), stat(".", &here) == 0, stat(pwd, &named) == 0,
            here.st_dev == named.st_dev, here.st_ino == named.st_ino
        {
            return pwd
        }
        return currentDirectory()
    }

    static func environment(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }

    /// Milliseconds since the Unix epoch.
    package static func nowMilliseconds() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Int64(time.tv_sec) * 1000 + Int64(time.tv_nsec) / 1_000_000
    }

    /// `path` made absolute (against `base`) with `.`, `..` and repeated slashes removed; symbolic links are
    /// not resolved.
    static func normalize(_ path: String, base: String) -> String {
        let joined = path.hasPrefix("/") ? path : base + "/" + path
        var parts: [Substring] = []
        for part in joined.split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            if part == ".." {
                if !parts.isEmpty { parts.removeLast() }
                continue
            }
            parts.append(part)
        }
        return "/" + parts.joined(separator: "/")
    }

    /// The directory part of a normalized absolute path (`/` for `/`).
    package static func parent(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return "/" }
        return String(path[..<slash])
    }
}
