#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file written because a user named it (`cairn report -o PATH`, `--manifest PATH`,
/// `prove -o PATH`, `blob get -o PATH`): the one behaviour every command has for such paths
/// (specs/storage.md, "Output files").
///
/// What is at PATH decides, when the file is opened and before anything is written:
/// - **nothing**: the content goes to a temporary file in PATH's directory, which `commit` syncs
///   and renames to PATH (refusing, with `.exists`, to replace anything that appeared at PATH
///   meanwhile) before syncing the directory. The new file has mode 0666 minus the umask, as the
///   shell's `>` would give it. A command that fails leaves nothing behind.
/// - **a regular file, or a symbolic link to one**: written through, as `>` would: truncated at
///   the first write (or at `commit` if nothing is written), written, and synced at `commit`. Its
///   inode, owner, mode and hard links are kept. A command that fails midway may leave it partial.
/// - **anything else** (a directory, FIFO, character or block device, socket, or a symbolic link
///   to one of those or to nothing): refused with `.notRegularFile`, naming what it is. Renaming
///   a temporary file over it would replace a device node or a link a user set up; writing into
///   it would block on a FIFO or feed a device.
///
/// Several output files of one command are opened first and written after, so a refusal of the
/// second leaves the first untouched. Not thread-safe: one writer.
///
/// ```swift
/// let out = try OutputFile(path: "report.csv")
/// try out.write(Array("a,b\n".utf8))
/// try out.commit()
/// ```
public final class OutputFile {
    /// How the content reaches `path`.
    public enum Disposition: Sendable, Equatable {
        /// A new file, renamed into place at `commit`.
        case create
        /// An existing regular file, rewritten in place.
        case writeThrough
    }

    /// The path as given.
    public let path: String
    public let disposition: Disposition

    private var fd: Int32
    private let temporary: String?
    private var truncated = false
    private var finished = false

    /// Opens `path` for writing as described above; throws `.notRegularFile` for a path that
    /// must not be written, and the system's error when the file or its temporary cannot be
    /// opened.
    public init(path: String) throws(FileError) {
        self.path = path
        var st = stat()
        if lstat(path, &st) != 0 {
            guard errno == ENOENT else { throw .system(errno, .inspect, path) }
            let temporary = DurableFiles.temporaryPath(for: path)
            // 0666: the umask decides the final mode, as for any file a shell command creates.
            let fd = sysOpen(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o666)
            guard fd >= 0 else { throw .system(errno, .create, path) }
            self.fd = fd
            self.temporary = temporary
            self.disposition = .create
            return
        }
        var kind = DurableFiles.Kind(mode: st.st_mode)
        var viaLink = false
        if kind == .symbolicLink {
            viaLink = true
            kind = DurableFiles.kind(of: path, followingSymbolicLinks: true)
        }
        guard kind == .regular else { throw Self.refusal(path, kind: kind, viaLink: viaLink) }
        // No O_TRUNC here: the file is truncated only once it is known to be a regular file (a
        // race could have swapped it) and only when the command starts writing.
        let fd = sysOpen(path, O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)
        guard fd >= 0 else { throw .system(errno, .open, path) }
        var opened = stat()
        guard fstat(fd, &opened) == 0, (opened.st_mode & S_IFMT) == S_IFREG else {
            let actual = DurableFiles.Kind(mode: opened.st_mode)
            close(fd)
            throw Self.refusal(path, kind: actual, viaLink: viaLink)
        }
        self.fd = fd
        self.temporary = nil
        self.disposition = .writeThrough
    }

    deinit { discard() }

    /// Appends `bytes` to the output.
    public func write(_ bytes: [UInt8]) throws(FileError) {
        let result = bytes.withUnsafeBytes { raw in Result { () throws(FileError) in try write(raw) } }
        try result.get()
    }

    /// Appends `bytes` to the output.
    public func write(_ bytes: UnsafeRawBufferPointer) throws(FileError) {
        precondition(!finished, "write to an OutputFile after commit or discard")
        try truncateOnce()
        try DurableFiles.writeAll(fd, path: temporary ?? path, bytes)
    }

    /// Makes the output durable and visible at `path` (see the type's description). After a
    /// failure the temporary file (if any) is removed.
    public func commit() throws(FileError) {
        precondition(!finished, "commit of an OutputFile after commit or discard")
        do throws(FileError) {
            try truncateOnce()
            if sysFsync(fd, path: temporary ?? path) != 0 { throw FileError.system(errno, .sync, path) }
            let descriptor = fd
            fd = -1
            try DurableFiles.closeChecked(descriptor, path: path)
            if let temporary {
                guard sysRenameNoReplace(temporary, path) == 0 else {
                    if errno == EEXIST {
                        throw FileError(
                            .exists, operation: .rename, path: path, errno: EEXIST,
                            reason: "something was created at this path while the output was being written; "
                                + "it was left as it is")
                    }
                    throw FileError.system(errno, .rename, path)
                }
                finished = true
                try DurableFiles.syncParentDirectory(of: path)
            }
            finished = true
        } catch {
            discard()
            throw error
        }
    }

    /// Abandons the output: closes it and removes the temporary file. An existing file being
    /// written through keeps what was written so far. Idempotent; called by `deinit`.
    public func discard() {
        if fd >= 0 {
            close(fd)
            fd = -1
        }
        if !finished, let temporary { _ = sysUnlink(temporary) }
        finished = true
    }

    private func truncateOnce() throws(FileError) {
        guard disposition == .writeThrough, !truncated else { return }
        guard sysFtruncate(fd, 0, path: path) == 0 else { throw .system(errno, .truncate, path) }
        truncated = true
    }

    /// The error for a path that is not a regular file.
    static func refusal(_ path: String, kind: DurableFiles.Kind, viaLink: Bool) -> FileError {
        let what: String
        if viaLink {
            var buffer = [CChar](repeating: 0, count: 4096)
            let n = readlink(path, &buffer, buffer.count - 1)
            let target = n > 0 ? String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) : "?"
            what =
                kind == .missing
                ? "a symbolic link to \(target), which does not exist"
                : "a symbolic link to \(target), which is \(kind)"
        } else {
            what = kind.description
        }
        return FileError(
            .notRegularFile, operation: .open, path: path, reason: "it is \(what), not a regular file",
            message: "refusing to write \(path): it is \(what), not a regular file "
                + "(an output must be a new path or an existing regular file)")
    }
}

extension DurableFiles {
    /// Writes `contents` to the output path `path` with `OutputFile`'s rules (create a new file
    /// atomically, write an existing regular file through, refuse anything else).
    public static func writeOutput(_ path: String, contents: [UInt8]) throws(FileError) {
        let output = try OutputFile(path: path)
        try output.write(contents)
        try output.commit()
    }
}
