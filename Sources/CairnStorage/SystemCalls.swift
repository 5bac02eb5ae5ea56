#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// The system calls of the file layer, each behaving like its libc namesake (-1 and `errno` on
// failure), but: retried on EINTR where that is safe, and failed on demand by `FileFaults`.
// Everything in `DurableFiles` and `OutputFile` goes through these, never through libc directly,
// so the unit tests' fault injection reaches every path.

/// `errno` set to `code`, and -1, when a fault rule matches.
@inline(__always)
private func injectedFailure(_ operation: FileFaults.Operation, _ path: String) -> Bool {
    guard case .fail(let code) = FileFaults.check(operation, path) else { return false }
    errno = code
    return true
}

func sysOpen(_ path: String, _ flags: Int32, _ mode: mode_t = 0) -> Int32 {
    if injectedFailure(.open, path) { return -1 }
    while true {
        let fd = open(path, flags, mode)
        if fd < 0 && errno == EINTR { continue }
        return fd
    }
}

/// Reads up to `count` bytes at the file offset; retried on EINTR.
func sysRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int, path: String) -> Int {
    while true {
        var count = count
        switch FileFaults.check(.read, path) {
        case .fail(let code):
            errno = code
            if code == EINTR { continue }
            return -1
        case .limit(let limit): count = min(count, limit)
        case nil: break
        }
        let n = read(fd, buffer, count)
        if n < 0 && errno == EINTR { continue }
        return n
    }
}

/// Reads up to `count` bytes at `offset`; retried on EINTR.
func sysPread(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int, _ offset: off_t, path: String) -> Int {
    if injectedFailure(.read, path) { return -1 }
    while true {
        let n = pread(fd, buffer, count, offset)
        if n < 0 && errno == EINTR { continue }
        return n
    }
}

/// One `write` call; retried on EINTR (nothing was written then).
func sysWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int, path: String) -> Int {
    while true {
        var count = count
        switch FileFaults.check(.write, path) {
        case .fail(let code):
            errno = code
            if code == EINTR { continue }
            return -1
        case .limit(let limit): count = min(count, limit)
        case nil: break
        }
        let n = write(fd, buffer, count)
        if n < 0 && errno == EINTR { continue }
        return n
    }
}

/// `fsync`, retried only on EINTR (the call was interrupted before it reported anything): any
/// other failure is final (see `FileError`).
func sysFsync(_ fd: Int32, path: String) -> Int32 {
    while true {
        if case .fail(let code) = FileFaults.check(.fsync, path) {
            errno = code
            if code == EINTR { continue }
            return -1
        }
        let rc = fsync(fd)
        if rc != 0 && errno == EINTR { continue }
        return rc
    }
}

func sysFchmod(_ fd: Int32, _ mode: mode_t, path: String) -> Int32 {
    if injectedFailure(.chmod, path) { return -1 }
    return fchmod(fd, mode)
}

func sysFtruncate(_ fd: Int32, _ length: off_t, path: String) -> Int32 {
    if injectedFailure(.truncate, path) { return -1 }
    while true {
        let rc = ftruncate(fd, length)
        if rc != 0 && errno == EINTR { continue }
        return rc
    }
}

func sysRename(_ from: String, _ to: String) -> Int32 {
    if injectedFailure(.rename, to) || injectedFailure(.rename, from) { return -1 }
    return rename(from, to)
}

func sysUnlink(_ path: String) -> Int32 {
    if injectedFailure(.unlink, path) { return -1 }
    return unlink(path)
}

func sysMkdir(_ path: String, _ mode: mode_t) -> Int32 {
    if injectedFailure(.mkdir, path) { return -1 }
    return mkdir(path, mode)
}

#if os(Linux)
private typealias RenameAt2 = @convention(c) (Int32, UnsafePointer<CChar>, Int32, UnsafePointer<CChar>, UInt32) -> Int32

/// glibc's `renameat2`, looked up at run time (Swift's Glibc module does not declare it).
private let renameat2Function: RenameAt2? = {
    guard let symbol = dlsym(nil, "renameat2") else { return nil }
    return unsafeBitCast(symbol, to: RenameAt2.self)
}()
#endif

/// Renames `from` to `to` only if `to` does not exist (fails with EEXIST otherwise), atomically
/// where the system can (`renameat2(RENAME_NOREPLACE)` on Linux); elsewhere, or on a file system
/// without it, checks and renames, which leaves a tiny window.
func sysRenameNoReplace(_ from: String, _ to: String) -> Int32 {
    if injectedFailure(.rename, to) || injectedFailure(.rename, from) { return -1 }
    #if os(Linux)
    if let renameat2Function {
        let rc = renameat2Function(AT_FDCWD, from, AT_FDCWD, to, 1)  // RENAME_NOREPLACE
        if rc == 0 || (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP) { return rc }
    }
    #endif
    var st = stat()
    if lstat(to, &st) == 0 {
        errno = EEXIST
        return -1
    }
    return rename(from, to)
}
