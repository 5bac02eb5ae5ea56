#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The few file operations the ledger needs, with exact modes and durable writes.
enum FileSystem {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static func errnoText() -> String { String(cString: strerror(errno)) }

    static func exists(_ path: String, isDirectory: inout Bool) -> Bool {
        var st = stat()
        guard stat(path, &st) == 0 else { return false }
        isDirectory = (st.st_mode & S_IFMT) == S_IFDIR
        return true
    }

    /// Creates `path` (and missing parents) as a directory, or accepts an existing empty one.
    static func createEmptyDirectory(_ path: String) throws {
        var isDirectory = false
        if exists(path, isDirectory: &isDirectory) {
            guard isDirectory else {
                throw LedgerError(.alreadyExists, "\(path) exists and is not a directory")
            }
            guard let dir = opendir(path) else {
                throw LedgerError(.storage, "cannot read directory \(path): \(errnoText())")
            }
            defer { closedir(dir) }
            while let entry = readdir(dir) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                    String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
                }
                if name != "." && name != ".." {
                    throw LedgerError(
                        .alreadyExists, "\(path) is not empty (found \(name)); choose a new directory for the ledger")
                }
            }
            return
        }
        try createDirectories(path)
    }

    /// Writes a new file (never replacing one) with `mode`, and syncs it and its directory.
    static func writeNewFile(_ path: String, contents: [UInt8], mode: mode_t) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else { throw LedgerError(.storage, "cannot create \(path): \(errnoText())") }
        defer { close(fd) }
        // The umask may have narrowed the mode; set it exactly.
        _ = fchmod(fd, mode)
        var written = 0
        while written < contents.count {
            let n = contents.withUnsafeBytes { write(fd, $0.baseAddress! + written, $0.count - written) }
            guard n > 0 else { throw LedgerError(.storage, "cannot write \(path): \(errnoText())") }
            written += n
        }
        guard fsync(fd) == 0 else { throw LedgerError(.storage, "cannot sync \(path): \(errnoText())") }
        syncDirectory(of: path)
    }

    static func syncDirectory(of path: String) {
        let dir = path.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        let fd = open(dir.isEmpty ? "." : dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd >= 0 {
            _ = fsync(fd)
            close(fd)
        }
    }

    /// Reads a whole file.
    static func readFile(_ path: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw Failure(description: errnoText()) }
        defer { close(fd) }
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw Failure(description: errnoText())
            }
            if n == 0 { break }
            out.append(contentsOf: buffer[0..<n])
        }
        return out
    }

    static func fileExists(_ path: String) -> Bool {
        var isDirectory = false
        return exists(path, isDirectory: &isDirectory) && !isDirectory
    }

    /// Creates `path` and missing parents.
    static func createDirectories(_ path: String) throws {
        var prefix = path.hasPrefix("/") ? "/" : ""
        for component in path.split(separator: "/") {
            prefix += component + "/"
            if mkdir(prefix, 0o750) != 0 && errno != EEXIST {
                throw LedgerError(.storage, "cannot create directory \(prefix): \(errnoText())")
            }
        }
    }

    /// Writes `path` through a temporary file, fsync and rename, so readers see all or nothing.
    static func writeAtomically(_ path: String, contents: [UInt8], mode: mode_t) throws {
        let temporary = path + ".tmp-\(getpid())"
        unlink(temporary)
        try writeNewFile(temporary, contents: contents, mode: mode)
        guard rename(temporary, path) == 0 else {
            let reason = errnoText()
            unlink(temporary)
            throw LedgerError(.storage, "cannot move \(temporary) to \(path): \(reason)")
        }
        syncDirectory(of: path)
    }

    /// Overwrites a file with zeros, syncs, and unlinks it (and syncs its directory). A missing
    /// file is fine: the removal may be a retry.
    static func removeDurably(_ path: String) throws {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return }
            throw LedgerError(.storage, "cannot open \(path) to erase it: \(errnoText())")
        }
        var st = stat()
        if fstat(fd, &st) == 0 && st.st_size > 0 {
            let zeros = [UInt8](repeating: 0, count: 64 * 1024)
            var remaining = Int(st.st_size)
            while remaining > 0 {
                let n = zeros.withUnsafeBytes { write(fd, $0.baseAddress!, min(remaining, $0.count)) }
                if n <= 0 { break }
                remaining -= n
            }
            _ = fsync(fd)
        }
        close(fd)
        guard unlink(path) == 0 || errno == ENOENT else {
            throw LedgerError(.storage, "cannot delete \(path): \(errnoText())")
        }
        syncDirectory(of: path)
    }
}
