#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An advisory lock held for as long as this object lives: `flock(LOCK_EX | LOCK_NB)` on a file, which names the
/// holder's process id so that whoever is refused can say who holds it.
///
/// `cairn serve` holds one in each ledger directory it serves (`serve.lock`, specs/storage.md), so that a second
/// server is refused at start instead of publishing checkpoints beside the first. The kernel releases a `flock`
/// when the last descriptor of the open file goes, so the lock is gone when the process dies, however it dies
/// (SIGKILL, a crash): a lock file left behind is harmless, and the next holder overwrites its process id. The
/// descriptor is close-on-exec, so a child process does not inherit the lock. (Like every `flock`, it excludes
/// processes of one machine: a ledger directory on a network file system shared by two hosts is not protected.)
///
/// ```swift
/// let lock = try LockFile(path: dir + "/serve.lock")   // throws LockFileError.held(pid: 4242) if taken
/// // … serve …
/// withExtendedLifetime(lock) {}
/// ```
public final class LockFile: Sendable {
    /// The lock file's path.
    public let path: String
    private let fd: Int32

    /// Takes the lock on `path` (creating the file with `mode` if needed) without waiting, and writes this
    /// process's id into it. Throws `.held` when another open file description holds it — another process,
    /// or another `LockFile` of this one.
    public init(path: String, mode: mode_t = 0o644) throws(LockFileError) {
        let fd = sysOpen(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, mode)
        guard fd >= 0 else { throw .file(FileError.system(errno, .open, path)) }
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            if code == EINTR { continue }
            close(fd)
            if code == EWOULDBLOCK {
                throw .held(path: path, pid: Self.holder(of: path))
            }
            throw .file(FileError.system(code, .open, path, message: "cannot lock \(path)"))
        }
        // Ours now: replace whatever a previous holder wrote. A failure here leaves the lock held but the file
        // without a pid, which only makes a refused process's message less precise.
        let text = Array("\(getpid())\n".utf8)
        if sysFtruncate(fd, 0, path: path) == 0 {
            _ = text.withUnsafeBytes { raw in pwrite(fd, raw.baseAddress, raw.count, 0) }
        }
        self.path = path
        self.fd = fd
    }

    deinit {
        // Closing the descriptor releases the lock. The file stays: removing it would race with a process that
        // has just opened it and is about to lock the removed inode.
        close(fd)
    }

    /// The process id written in the lock file at `path`, or `nil` if there is none (or it cannot be read).
    public static func holder(of path: String) -> Int32? {
        guard let bytes = try? DurableFiles.read(path, limit: 32) else { return nil }
        let text = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: " \n")
        guard let pid = Int32(text), pid > 0 else { return nil }
        return pid
    }
}

/// Why a `LockFile` could not be taken.
public enum LockFileError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Another process (`pid`, when the file names it) holds the lock.
    case held(path: String, pid: Int32?)
    /// The lock file cannot be opened or locked.
    case file(FileError)

    public var description: String {
        switch self {
        case .held(let path, let pid):
            "\(path) is locked by " + (pid.map { "process \($0)" } ?? "another process")
        case .file(let error):
            error.message
        }
    }
}

extension String {
    /// The string without the given characters at either end.
    fileprivate func trimmingCharacters(in characters: String) -> String {
        let set = Set(characters)
        var slice = Substring(self)
        while let first = slice.first, set.contains(first) { slice.removeFirst() }
        while let last = slice.last, set.contains(last) { slice.removeLast() }
        return String(slice)
    }
}
