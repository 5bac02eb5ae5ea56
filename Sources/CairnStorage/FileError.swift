#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An error from the file layer (`DurableFiles`, `OutputFile`): what was being done, to which
/// file, and the system's reason, with a stable code callers map to exit statuses or HTTP
/// statuses.
///
/// A failed `sync` is never retried by this layer: after `fsync` reports an error the kernel may
/// have dropped the dirty pages, and a second `fsync` that succeeds proves nothing (PostgreSQL's
/// "fsyncgate"). A caller that sees `operation == .sync` must not acknowledge the data.
public struct FileError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of failure this is.
    public enum Code: String, Sendable, Equatable, CaseIterable {
        /// The file (or a directory on its path) does not exist (`ENOENT`).
        case notFound
        /// The file exists and the operation required that it did not (`EEXIST`).
        case exists
        /// The path names something that is not a regular file (a directory, FIFO, device,
        /// socket, or a symbolic link to one) where a regular file is required.
        case notRegularFile
        /// The path, or a component of it, is not a directory where one is required.
        case notDirectory
        /// A directory that must be empty is not.
        case notEmpty
        /// The file system is full or the quota is exhausted (`ENOSPC`, `EDQUOT`).
        case noSpace
        /// Permission denied (`EACCES`, `EPERM`).
        case permission
        /// The file system is mounted read-only (`EROFS`).
        case readOnlyFileSystem
        /// The device reported an I/O error (`EIO`).
        case io
        /// Any other system error (see `errno`).
        case other
    }

    /// The operation that failed.
    public enum Operation: String, Sendable, Equatable {
        case open, create, read, write, sync, rename, remove, createDirectory, inspect, setMode, truncate, close
    }

    public let code: Code
    public let operation: Operation
    /// The file the operation was about (for a rename, the destination).
    public let path: String
    /// The system error number, when the failure came from a system call.
    public let errno: Int32?
    /// Why, without the path: the system's text for `errno`, or a sentence of ours.
    public let reason: String
    /// One line naming the operation, the file and the reason.
    public let message: String

    public init(
        _ code: Code, operation: Operation, path: String, errno: Int32? = nil, reason: String, message: String? = nil
    ) {
        self.code = code
        self.operation = operation
        self.path = path
        self.errno = errno
        self.reason = reason
        self.message = message ?? "\(Self.verb(operation)) \(path): \(reason)"
    }

    /// An error for a failed system call, classified by its `errno`.
    public static func system(
        _ errno: Int32, _ operation: Operation, _ path: String, message: String? = nil
    ) -> FileError {
        let reason = String(cString: strerror(errno))
        return FileError(
            code(for: errno), operation: operation, path: path, errno: errno, reason: reason,
            message: message.map { "\($0): \(reason)" })
    }

    /// The code for a system error number.
    public static func code(for errno: Int32) -> Code {
        switch errno {
        case ENOENT: .notFound
        case EEXIST: .exists
        case EISDIR: .notRegularFile
        case ENOTDIR: .notDirectory
        case ENOTEMPTY: .notEmpty
        case ENOSPC, EDQUOT: .noSpace
        case EACCES, EPERM: .permission
        case EROFS: .readOnlyFileSystem
        case EIO: .io
        default: .other
        }
    }

    static func verb(_ operation: Operation) -> String {
        switch operation {
        case .open: "cannot open"
        case .create: "cannot create"
        case .read: "cannot read"
        case .write: "cannot write"
        case .sync: "cannot sync to disk"
        case .rename: "cannot move into place"
        case .remove: "cannot remove"
        case .createDirectory: "cannot create directory"
        case .inspect: "cannot inspect"
        case .setMode: "cannot set the mode of"
        case .truncate: "cannot truncate"
        case .close: "cannot close"
        }
    }

    public var description: String { message }
}
