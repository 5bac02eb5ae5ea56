import CairnStorage
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A mirror's directory (specs/mirror.md §1): the log's resources at their tlog-tiles paths, for any static web
/// server to serve, and the mirror's own files in `.cairn-mirror/`.
///
/// Reached only through file descriptors opened relative to the directory without following symbolic links, with
/// paths built from validated tile coordinates, so nothing is ever written outside it. Files are written durably
/// as `cairn export tiles` writes them: a temporary file in the same directory, `DurableFiles.fill` (exact mode,
/// every byte, `fsync`), `rename`, and an `fsync` of each changed directory (`syncDirectories()`) before anything
/// that depends on the new files is written. Holds an exclusive `flock` on `.cairn-mirror/` while open: one mirror
/// per directory.
///
/// Not thread-safe: one mirror, one task.
final class MirrorDirectory {
    /// The mirror's own directory inside the mirror directory.
    static let stateDirectory = ".cairn-mirror"
    /// The state file (`MirrorState`).
    static let stateFile = "state.json"
    /// The pinned verifier key of the log (written on the first verified round).
    static let keyFile = "log.vkey"
    /// Evidence of inconsistencies and rollbacks, one directory each.
    static let evidenceDirectory = "evidence"

    let path: String
    private let root: Int32
    /// Open directories below the root, by relative path ("" is the root).
    private var directories: [String: Int32] = [:]
    /// Directories whose entries changed since the last sync.
    private var dirty: Set<String> = []
    private var temporaryCounter = 0
    /// Files written outside `.cairn-mirror/` (what readers are served), and their bytes.
    private(set) var filesWritten = 0
    private(set) var bytesWritten: UInt64 = 0
    private var isClosed = false

    /// Opens (creating it if needed) and locks the mirror directory `path`. A directory that exists must be empty or
    /// hold `.cairn-mirror/` (a mirror's); anything else is `.otherLog`.
    init(path: String) throws(MirrorError) {
        self.path = path
        do {
            try DurableFiles.createDirectories(path, mode: 0o755)
        } catch {
            throw MirrorError(.storage, "cannot create the mirror directory \(path): \(error)")
        }
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else {
            throw MirrorError(.storage, "cannot open the mirror directory \(path): \(Self.errnoText())")
        }
        root = fd
        directories[""] = fd
        do throws(MirrorError) {
            var state = openat(fd, Self.stateDirectory, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            if state < 0 && errno == ENOENT {
                let entry: String?
                do {
                    entry = try DurableFiles.firstEntry(ofDirectory: path)
                } catch {
                    throw MirrorError(.storage, "cannot list \(path): \(error)")
                }
                if let entry {
                    throw MirrorError(
                        .otherLog,
                        "\(path) is not empty (found \(entry)) and is not a mirror directory (no "
                            + "\(Self.stateDirectory)/): choose an empty directory or an existing mirror's")
                }
                guard mkdirat(fd, Self.stateDirectory, 0o755) == 0 || errno == EEXIST else {
                    throw MirrorError(
                        .storage, "cannot create \(path)/\(Self.stateDirectory): \(Self.errnoText())")
                }
                try syncDescriptor(fd, "")
                state = openat(fd, Self.stateDirectory, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            }
            guard state >= 0 else {
                let reason =
                    errno == ELOOP || errno == ENOTDIR
                    ? "it is not a directory (symbolic links are refused)" : Self.errnoText()
                throw MirrorError(.storage, "cannot open \(path)/\(Self.stateDirectory): \(reason)")
            }
            directories[Self.stateDirectory] = state
            guard flock(state, LOCK_EX | LOCK_NB) == 0 else {
                let reason =
                    errno == EWOULDBLOCK ? "another `cairn mirror` is running on this directory" : Self.errnoText()
                throw MirrorError(.storage, "cannot lock \(path): \(reason)")
            }
        } catch {
            closeAll()
            throw error
        }
    }

    deinit { closeAll() }

    /// Closes every descriptor, which releases the lock.
    func closeAll() {
        guard !isClosed else { return }
        isClosed = true
        for fd in directories.values { _ = close(fd) }
        directories.removeAll()
    }

    // MARK: - Paths

    /// Splits a relative path into components, refusing anything but the names a mirror's files have.
    private func components(_ path: String) throws(MirrorError) -> [String] {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        for part in parts {
            guard !part.isEmpty, part != ".", part != "..", part.utf8.count <= 96,
                part.utf8.allSatisfy({
                    (0x30...0x39).contains($0) || (0x61...0x7a).contains($0) || $0 == 0x2e || $0 == 0x2d || $0 == 0x5f
                })
            else {
                throw MirrorError(.storage, "refusing to use \(path.debugDescription) in the mirror directory")
            }
        }
        return parts
    }

    /// The directory at `components` below the root, created (mode 0755) if `create`; nil if missing and not
    /// `create`.
    private func openDirectory(_ components: ArraySlice<String>, create: Bool) throws(MirrorError) -> Int32? {
        let key = components.joined(separator: "/")
        if let fd = directories[key] { return fd }
        guard let name = components.last,
            let parent = try openDirectory(components.dropLast(), create: create)
        else { return nil }
        var fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        if fd < 0 && errno == ENOENT && create {
            if mkdirat(parent, name, 0o755) != 0 && errno != EEXIST {
                throw MirrorError(.storage, "cannot create directory \(self.path)/\(key): \(Self.errnoText())")
            }
            dirty.insert(components.dropLast().joined(separator: "/"))
            fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        }
        if fd < 0 {
            if errno == ENOENT && !create { return nil }
            let reason =
                errno == ELOOP || errno == ENOTDIR
                ? "it is not a directory (symbolic links are refused)" : Self.errnoText()
            throw MirrorError(.storage, "cannot open \(self.path)/\(key): \(reason)")
        }
        directories[key] = fd
        return fd
    }

    // MARK: - Reading

    /// The regular file at `path` (relative), or nil when there is none, it is not a regular file, or it is larger
    /// than `maxBytes` (a damaged file is a missing one: the mirror fetches it again).
    func contents(of path: String, maxBytes: Int) throws(MirrorError) -> [UInt8]? {
        let parts = try components(path)
        guard let parent = try openDirectory(parts.dropLast(), create: false) else { return nil }
        let fd = openat(parent, parts.last!, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT || errno == ELOOP { return nil }
            throw MirrorError(.storage, "cannot read \(self.path)/\(path): \(Self.errnoText())")
        }
        defer { _ = close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG, st.st_size <= maxBytes else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(Int(st.st_size))
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else {
                throw MirrorError(.storage, "cannot read \(self.path)/\(path): \(Self.errnoText())")
            }
            if n == 0 { return out }
            out.append(contentsOf: buffer[0..<n])
            if out.count > maxBytes { return nil }
        }
    }

    // MARK: - Writing

    /// Writes `bytes` at `path` (relative) unless the file there already holds exactly them; returns whether it
    /// wrote. The directory entry is durable after the next `syncDirectories()`.
    @discardableResult
    func store(_ path: String, _ bytes: [UInt8]) throws(MirrorError) -> Bool {
        if let existing = try contents(of: path, maxBytes: bytes.count), existing == bytes { return false }
        try write(path, bytes)
        return true
    }

    /// Removes the temporary files (`.cairn-mirror-<pid>-<n>.tmp`) of runs that are no longer alive — a run killed
    /// between creating one and renaming it leaves it behind — so that the directory holds only what it serves.
    /// Files of a live process (another run on the same directory) are left alone. Returns how many were removed.
    @discardableResult
    func removeLeftoverTemporaryFiles() -> Int {
        var removed = 0
        guard let walk = FileManager.default.enumerator(atPath: path) else { return 0 }
        while let relative = walk.nextObject() as? String {
            let name = relative.split(separator: "/").last.map(String.init) ?? relative
            guard name.hasPrefix(".cairn-mirror-"), name.hasSuffix(".tmp") else { continue }
            let pid = name.dropFirst(".cairn-mirror-".count).prefix { $0 != "-" }
            guard let pid = Int32(pid), pid != getpid(), kill(pid, 0) != 0, errno == ESRCH else { continue }
            if unlink(path + "/" + relative) == 0 { removed += 1 }
        }
        return removed
    }

    /// Writes `bytes` at `path` (relative), replacing any file there: a temporary file next to it, filled and synced
    /// (`DurableFiles.fill`), renamed into place.
    func write(_ path: String, _ bytes: [UInt8]) throws(MirrorError) {
        let parts = try components(path)
        let parent = try openDirectory(parts.dropLast(), create: true)!
        var st = stat()
        if fstatat(parent, parts.last!, &st, AT_SYMLINK_NOFOLLOW) == 0 && (st.st_mode & S_IFMT) != S_IFREG {
            throw MirrorError(
                .storage, "\(self.path)/\(path) exists and is not a regular file (symbolic links are refused)")
        }
        temporaryCounter += 1
        let temporary = ".cairn-mirror-\(getpid())-\(temporaryCounter).tmp"
        let fd = openat(parent, temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw MirrorError(.storage, "cannot create a file next to \(self.path)/\(path): \(Self.errnoText())")
        }
        var done = false
        defer { if !done { unlinkat(parent, temporary, 0) } }
        do {
            try DurableFiles.fill(fd, path: "\(self.path)/\(path)", contents: bytes, mode: 0o644)
        } catch {
            _ = close(fd)
            throw MirrorError(.storage, "cannot write \(self.path)/\(path): \(error)")
        }
        _ = close(fd)
        guard renameat(parent, temporary, parent, parts.last!) == 0 else {
            throw MirrorError(.storage, "cannot move a file into place at \(self.path)/\(path): \(Self.errnoText())")
        }
        done = true
        dirty.insert(parts.dropLast().joined(separator: "/"))
        // What readers are served: the mirror's own files do not count.
        if parts.first != Self.stateDirectory {
            filesWritten += 1
            bytesWritten += UInt64(bytes.count)
        }
    }

    /// Writes `bytes` at `path` and syncs its directory at once: for the files everything else depends on
    /// (the state file, `checkpoint`).
    func writeDurably(_ path: String, _ bytes: [UInt8]) throws(MirrorError) {
        try write(path, bytes)
        try syncDirectories()
    }

    /// Creates a new directory (with its parents) for evidence and writes `files` into it, durably. Returns its
    /// path; when it already exists (the same evidence found again), nothing is written.
    func writeEvidence(named name: String, files: [(name: String, bytes: [UInt8])]) throws(MirrorError) -> String {
        let relative = "\(Self.stateDirectory)/\(Self.evidenceDirectory)/\(name)"
        let parts = try components(relative)
        let full = "\(self.path)/\(relative)"
        if try openDirectory(parts[...], create: false) != nil,
            try contents(of: relative + "/" + (files.last?.name ?? "evidence.json"), maxBytes: 1 << 20) != nil
        {
            return full
        }
        _ = try openDirectory(parts[...], create: true)
        for file in files { try write(relative + "/" + file.name, file.bytes) }
        try syncDirectories()
        return full
    }

    /// Deletes the partial versions (`<path>.p/<W>`) of the full tile or bundle at `path`, and their directory, as
    /// `cairn export tiles` does once the full tile exists. Returns how many files were deleted.
    func removePartials(of path: String) throws(MirrorError) -> Int {
        var parts = try components(path)
        parts[parts.count - 1] += ".p"
        guard let parent = try openDirectory(parts.dropLast(), create: false) else { return 0 }
        let key = parts.joined(separator: "/")
        let removed: Int
        do {
            removed = try PartialTileDirectory.removeWidths(
                in: parts.last!, of: parent, temporaryPrefix: ".cairn-mirror-")
        } catch {
            throw MirrorError(.storage, "cannot \(error.operation) \(self.path)/\(key): \(error.reason)")
        }
        if let cached = directories.removeValue(forKey: key) { _ = close(cached) }
        dirty.insert(parts.dropLast().joined(separator: "/"))
        return removed
    }

    /// Syncs every directory that gained or lost an entry, so that the renames before are durable.
    func syncDirectories() throws(MirrorError) {
        for key in dirty.sorted(by: { $0.count > $1.count }) {
            let parts = key.isEmpty ? [] : key.split(separator: "/").map(String.init)
            guard let fd = try openDirectory(parts[...], create: false) else { continue }
            try syncDescriptor(fd, key)
        }
        dirty.removeAll()
    }

    private func syncDescriptor(_ fd: Int32, _ key: String) throws(MirrorError) {
        do {
            try DurableFiles.sync(fd, path: key.isEmpty ? path : "\(path)/\(key)")
        } catch {
            throw MirrorError(.storage, "cannot sync the directory \(key.isEmpty ? path : "\(path)/\(key)"): \(error)")
        }
    }

    static func errnoText() -> String { String(cString: strerror(errno)) }
}
