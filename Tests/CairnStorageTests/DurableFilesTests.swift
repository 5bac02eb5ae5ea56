import CairnTestSupport
import Foundation
import Testing

@testable import CairnStorage

#if canImport(Glibc)
import Glibc
#endif

/// The mode bits of `path` (not following a symbolic link).
func mode(_ path: String) -> mode_t {
    var st = stat()
    return lstat(path, &st) == 0 ? st.st_mode & 0o7777 : 0
}

func inode(_ path: String) -> ino_t {
    var st = stat()
    return lstat(path, &st) == 0 ? st.st_ino : 0
}

func contents(_ path: String) -> [UInt8]? {
    FileManager.default.contents(atPath: path).map(Array.init)
}

/// The names in a directory (hidden ones included), sorted.
func entries(_ path: String) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted()
}

/// Installs fault rules scoped to `dir` for the duration of `body`.
func withFaults<R>(_ rules: [FileFaults.Rule], _ body: () throws -> R) rethrows -> R {
    for rule in rules { FileFaults.inject(rule) }
    defer { for rule in rules { FileFaults.remove(pathContains: rule.pathContains) } }
    return try body()
}

@Suite("DurableFiles: exact modes, synced writes, atomic replacement, typed errors, injected faults")
struct DurableFilesTests {
    @Test("createNew sets the exact mode despite the umask, and refuses an existing file or link")
    func createNew() throws {
        let dir = try TemporaryDirectory()
        let path = dir.path + "/key.pem"
        // 0666 is narrowed to 0644 by the usual umask 022; fchmod makes it exact.
        try DurableFiles.createNew(path, contents: Array("secret".utf8), mode: 0o666)
        #expect(mode(path) == 0o666)
        try DurableFiles.createNew(dir.path + "/private", contents: [1], mode: 0o600)
        #expect(mode(dir.path + "/private") == 0o600)
        #expect(contents(path) == Array("secret".utf8))
        let again = #expect(throws: FileError.self) { try DurableFiles.createNew(path, contents: [1], mode: 0o600) }
        #expect(again?.code == .exists)
        #expect(again?.message == "cannot create \(path): File exists")
        #expect(contents(path) == Array("secret".utf8))
        try FileManager.default.createSymbolicLink(atPath: dir.path + "/link", withDestinationPath: dir.path + "/gone")
        let link = #expect(throws: FileError.self) {
            try DurableFiles.createNew(dir.path + "/link", contents: [1], mode: 0o600)
        }
        #expect(link?.code == .exists)
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/gone"))
    }

    @Test(
        "createNew: a failed write or fsync throws the typed error and leaves no partial file",
        arguments: [
            (FileFaults.Operation.write, ENOSPC, FileError.Code.noSpace, FileError.Operation.write),
            (.fsync, EIO, .io, .sync), (.chmod, EPERM, .permission, .setMode),
        ])
    func createNewFailures(
        operation: FileFaults.Operation, errno code: Int32, expected: FileError.Code, failed: FileError.Operation
    ) throws {
        let dir = try TemporaryDirectory()
        let path = dir.path + "/signing-key.pem"
        let error = withFaults([.init(operation, pathContains: path, errno: code)]) {
            #expect(throws: FileError.self) { try DurableFiles.createNew(path, contents: [1, 2, 3], mode: 0o600) }
        }
        #expect(error?.code == expected)
        #expect(error?.operation == failed)
        #expect(error?.path == path)
        #expect(error?.errno == code)
        #expect(error?.message.contains(path) == true)
        #expect(entries(dir.path).isEmpty)
    }

    @Test("The directory holding a new file is synced; a failed directory fsync is an error")
    func directorySync() throws {
        let dir = try TemporaryDirectory()
        let sub = dir.path + "/witness"
        try FileManager.default.createDirectory(atPath: sub, withIntermediateDirectories: false)
        // The first matching fsync is the file's own (its path is under `sub`); the second, the
        // directory's, fails.
        let error = withFaults([.init(.fsync, pathContains: sub, after: 1, errno: EIO)]) {
            let error = #expect(throws: FileError.self) {
                try DurableFiles.createNew(sub + "/key", contents: [1], mode: 0o600)
            }
            #expect(FileFaults.injected(pathContains: sub) == 1)
            return error
        }
        #expect(error?.code == .io)
        #expect(error?.operation == .sync)
        #expect(error?.path == sub)
        #expect(error?.message == "cannot sync directory \(sub) to disk: Input/output error")
    }

    @Test("EINTR and short transfers are retried until everything is written and read")
    func interruptedAndShort() throws {
        let dir = try TemporaryDirectory()
        let path = dir.path + "/blob"
        let bytes = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        withFaults([
            .init(.write, pathContains: path, errno: EINTR, times: 3),
            .init(.fsync, pathContains: path, errno: EINTR, times: 2),
        ]) {
            #expect(throws: Never.self) { try DurableFiles.createNew(path, contents: bytes, mode: 0o640) }
        }
        #expect(contents(path) == bytes)
        let short = dir.path + "/short"
        try withFaults([.init(.write, pathContains: short, maxBytes: 1000)]) {
            try DurableFiles.replace(short, contents: bytes, mode: 0o640)
            #expect(FileFaults.injected(pathContains: short) == 200)
        }
        #expect(contents(short) == bytes)
        try withFaults([.init(.read, pathContains: short, times: 5, maxBytes: 3)]) {
            let read = try DurableFiles.read(short)
            #expect(read == bytes)
        }
        try withFaults([.init(.read, pathContains: short, errno: EINTR, times: 4)]) {
            let read = try DurableFiles.read(short)
            #expect(read == bytes)
        }
    }

    @Test(
        "replace keeps the old content and leaves no temporary file when any step fails",
        arguments: [
            (FileFaults.Operation.open, EACCES, FileError.Code.permission), (.write, ENOSPC, .noSpace),
            (.write, EIO, .io), (.fsync, EIO, .io), (.rename, EIO, .io), (.chmod, EPERM, .permission),
        ])
    func replaceFailures(operation: FileFaults.Operation, errno code: Int32, expected: FileError.Code) throws {
        let dir = try TemporaryDirectory()
        let path = dir.path + "/state.json"
        try DurableFiles.replace(path, contents: Array("old".utf8), mode: 0o644)
        let before = inode(path)
        let error = withFaults([.init(operation, pathContains: dir.path, errno: code)]) {
            #expect(throws: FileError.self) { try DurableFiles.replace(path, contents: Array("new".utf8), mode: 0o644) }
        }
        #expect(error?.code == expected)
        #expect(error?.message.contains(path) == true)
        #expect(contents(path) == Array("old".utf8))
        #expect(inode(path) == before)
        #expect(entries(dir.path) == ["state.json"])
    }

    @Test("replace swaps in a new inode with the exact mode; unsynced replacement is still atomic")
    func replace() throws {
        let dir = try TemporaryDirectory()
        let path = dir.path + "/blob"
        try DurableFiles.replace(path, contents: [1], mode: 0o600)
        let first = inode(path)
        try DurableFiles.replace(path, contents: [2, 2], mode: 0o640)
        #expect(contents(path) == [2, 2])
        #expect(mode(path) == 0o640)
        #expect(inode(path) != first)
        // Without syncs (progress hints): no fsync at all, same result.
        try withFaults([.init(.fsync, pathContains: dir.path, errno: EIO)]) {
            try DurableFiles.replace(path, contents: [3], mode: 0o644, synced: false)
        }
        #expect(contents(path) == [3])
        #expect(entries(dir.path) == ["blob"])
    }

    @Test(
        "removeDurably zeroes the bytes before unlinking, tolerates a missing file, and unlinks even if zeroing fails")
    func removeDurably() throws {
        let dir = try TemporaryDirectory()
        let path = dir.path + "/secret"
        try DurableFiles.createNew(path, contents: Array(repeating: 0x41, count: 100_000), mode: 0o640)
        // A second name for the same inode shows what happened to the bytes.
        #expect(link(path, dir.path + "/witness") == 0)
        #expect(try DurableFiles.removeDurably(path))
        #expect(!FileManager.default.fileExists(atPath: path))
        #expect(contents(dir.path + "/witness") == Array(repeating: 0, count: 100_000))
        #expect(try DurableFiles.removeDurably(path) == false)

        let other = dir.path + "/other"
        try DurableFiles.createNew(other, contents: [1, 2, 3], mode: 0o640)
        let error = withFaults([.init(.write, pathContains: other, errno: EIO)]) {
            #expect(throws: FileError.self) { try DurableFiles.removeDurably(other) }
        }
        #expect(error?.code == .io)
        #expect(!FileManager.default.fileExists(atPath: other))
    }

    @Test("createDirectories creates and reports missing parents, accepts existing ones, refuses a file")
    func createDirectories() throws {
        let dir = try TemporaryDirectory()
        let deep = dir.path + "/a/b/c/"
        #expect(
            try DurableFiles.createDirectories(deep, mode: 0o700) == [
                dir.path + "/a", dir.path + "/a/b", dir.path + "/a/b/c",
            ])
        #expect(mode(dir.path + "/a/b") == 0o700)
        #expect(try DurableFiles.createDirectories(deep).isEmpty)
        _ = FileManager.default.createFile(atPath: dir.path + "/file", contents: nil)
        let blocked = #expect(throws: FileError.self) { try DurableFiles.createDirectories(dir.path + "/file/x") }
        #expect(blocked?.code == .notDirectory)
        let notDir = #expect(throws: FileError.self) { try DurableFiles.createDirectories(dir.path + "/file") }
        #expect(notDir?.code == .notDirectory)
        let failing = withFaults([.init(.mkdir, pathContains: dir.path + "/z", errno: ENOSPC)]) {
            #expect(throws: FileError.self) { try DurableFiles.createDirectories(dir.path + "/z/y") }
        }
        #expect(failing?.code == .noSpace)
        #expect(failing?.operation == .createDirectory)
    }

    @Test("createEmptyDirectory accepts a new or empty directory and names what is in the way")
    func createEmptyDirectory() throws {
        let dir = try TemporaryDirectory()
        try DurableFiles.createEmptyDirectory(dir.path + "/new/ledger")
        try DurableFiles.createEmptyDirectory(dir.path + "/new/ledger")
        _ = FileManager.default.createFile(atPath: dir.path + "/new/ledger/data.mdb", contents: nil)
        let full = #expect(throws: FileError.self) { try DurableFiles.createEmptyDirectory(dir.path + "/new/ledger") }
        #expect(full?.code == .notEmpty)
        #expect(full?.message == "\(dir.path)/new/ledger is not empty (found data.mdb)")
        let file = #expect(throws: FileError.self) {
            try DurableFiles.createEmptyDirectory(dir.path + "/new/ledger/data.mdb")
        }
        #expect(file?.code == .notDirectory)
    }

    @Test("read: a missing file, a directory and an I/O error are told apart")
    func readErrors() throws {
        let dir = try TemporaryDirectory()
        let missing = #expect(throws: FileError.self) { try DurableFiles.read(dir.path + "/nope") }
        #expect(missing?.code == .notFound)
        #expect(try DurableFiles.readIfPresent(dir.path + "/nope") == nil)
        let directory = #expect(throws: FileError.self) { try DurableFiles.read(dir.path) }
        #expect(directory?.code == .notRegularFile)
        try DurableFiles.createNew(dir.path + "/f", contents: [9], mode: 0o600)
        let io = withFaults([.init(.read, pathContains: dir.path + "/f", errno: EIO)]) {
            #expect(throws: FileError.self) { try DurableFiles.read(dir.path + "/f") }
        }
        #expect(io?.code == .io)
        #expect(io?.message == "cannot read \(dir.path)/f: Input/output error")
    }

    @Test("Paths: parent directories and temporary names")
    func paths() {
        #expect(DurableFiles.parentDirectory(of: "a") == ".")
        #expect(DurableFiles.parentDirectory(of: "/a") == "/")
        #expect(DurableFiles.parentDirectory(of: "/x/y/") == "/x")
        #expect(DurableFiles.parentDirectory(of: "x//y") == "x")
        let temporary = DurableFiles.temporaryPath(for: "/d/report.csv")
        #expect(temporary.hasPrefix("/d/.report.csv.tmp-\(getpid())-"))
        #expect(DurableFiles.temporaryPath(for: "/d/report.csv") != temporary)
    }
}
