import CairnStorage
import CairnTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

func fileType(_ path: String) -> mode_t {
    var st = stat()
    return lstat(path, &st) == 0 ? st.st_mode & S_IFMT : 0
}

@Suite("OutputFile: one rule for every path a user names for output")
struct OutputFileTests {
    @Test("A new path is created atomically, with 0666 minus the umask, and no temporary file stays")
    func newFile() throws {
        let dir = try TemporaryDirectory()
        let path = dir.path + "/report.csv"
        let out = try OutputFile(path: path)
        #expect(out.disposition == .create)
        try out.write(Array("a,b\r\n".utf8))
        #expect(!FileManager.default.fileExists(atPath: path))  // not visible before commit
        try out.write(Array("1,2\r\n".utf8))
        try out.commit()
        #expect(contents(path) == Array("a,b\r\n1,2\r\n".utf8))
        let mask = umask(0)
        umask(mask)
        #expect(mode(path) == 0o666 & ~mask)
        #expect(entries(dir.path) == ["report.csv"])
    }

    @Test("An existing regular file is written through: same inode, mode and hard links; shorter content truncates")
    func writeThrough() throws {
        let dir = try TemporaryDirectory()
        let path = dir.path + "/proof.txt"
        try DurableFiles.createNew(path, contents: Array(repeating: 0x78, count: 10_000), mode: 0o600)
        #expect(link(path, dir.path + "/second-name") == 0)
        let before = inode(path)
        try DurableFiles.writeOutput(path, contents: Array("short\n".utf8))
        #expect(contents(path) == Array("short\n".utf8))
        #expect(contents(dir.path + "/second-name") == Array("short\n".utf8))
        #expect(inode(path) == before)
        #expect(mode(path) == 0o600)
        // Empty output empties it.
        let empty = try OutputFile(path: path)
        #expect(empty.disposition == .writeThrough)
        try empty.commit()
        #expect(contents(path) == [])
        #expect(entries(dir.path) == ["proof.txt", "second-name"])
    }

    @Test("A symbolic link to a regular file writes the target and stays a link")
    func linkToRegular() throws {
        let dir = try TemporaryDirectory()
        try DurableFiles.createNew(dir.path + "/target", contents: [1, 2, 3], mode: 0o640)
        try FileManager.default.createSymbolicLink(atPath: dir.path + "/link", withDestinationPath: "target")
        try DurableFiles.writeOutput(dir.path + "/link", contents: [9])
        #expect(fileType(dir.path + "/link") == S_IFLNK)
        #expect(contents(dir.path + "/target") == [9])
    }

    @Test("A FIFO, a directory, a socket and symbolic links to them or to nothing are refused, naming what they are")
    func refusals() throws {
        let dir = try TemporaryDirectory()
        #expect(mkfifo(dir.path + "/fifo", 0o600) == 0)
        try FileManager.default.createDirectory(atPath: dir.path + "/dir", withIntermediateDirectories: false)
        try FileManager.default.createSymbolicLink(atPath: dir.path + "/to-fifo", withDestinationPath: "fifo")
        try FileManager.default.createSymbolicLink(atPath: dir.path + "/dangling", withDestinationPath: "missing")
        let socketPath = dir.path + "/sock"
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, byte) in socketPath.utf8.prefix(raw.count - 1).enumerated() { raw[i] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        #expect(bound == 0)
        let cases: [(String, String)] = [
            ("fifo", "it is a FIFO (named pipe), not a regular file"),
            ("dir", "it is a directory, not a regular file"),
            ("sock", "it is a socket, not a regular file"),
            ("to-fifo", "it is a symbolic link to fifo, which is a FIFO (named pipe), not a regular file"),
            ("dangling", "it is a symbolic link to missing, which does not exist, not a regular file"),
        ]
        for (name, reason) in cases {
            let path = dir.path + "/" + name
            let before = fileType(path)
            let error = #expect(throws: FileError.self, "\(name)") { try DurableFiles.writeOutput(path, contents: [1]) }
            #expect(error?.code == .notRegularFile, "\(name)")
            #expect(
                error?.message
                    == "refusing to write \(path): \(reason) (an output must be a new path or an existing regular file)"
            )
            #expect(fileType(path) == before, "\(name) was replaced")
        }
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/missing"))
        #expect(entries(dir.path) == ["dangling", "dir", "fifo", "sock", "to-fifo"])
    }

    @Test("Device nodes are refused and stay devices: /dev/null, /dev/full, and a link to /dev/null")
    func devices() throws {
        let dir = try TemporaryDirectory()
        try FileManager.default.createSymbolicLink(atPath: dir.path + "/null", withDestinationPath: "/dev/null")
        for path in ["/dev/null", "/dev/full", dir.path + "/null"] {
            let error = #expect(throws: FileError.self) { try DurableFiles.writeOutput(path, contents: [1]) }
            #expect(error?.code == .notRegularFile)
            #expect(error?.message.contains("a character device, not a regular file") == true)
        }
        #expect(fileType("/dev/null") == S_IFCHR)
        #expect(fileType("/dev/full") == S_IFCHR)
    }

    @Test("A failure while writing a new file leaves nothing; while writing through, the file stays (partial)")
    func failures() throws {
        let dir = try TemporaryDirectory()
        let path = dir.path + "/out"
        for (operation, code) in [(FileFaults.Operation.write, ENOSPC), (.fsync, EIO), (.rename, EIO)] {
            let error = withFaults([.init(operation, pathContains: dir.path, errno: code)]) {
                #expect(throws: FileError.self) { try DurableFiles.writeOutput(path, contents: [1, 2]) }
            }
            #expect(error?.errno == code)
            #expect(entries(dir.path).isEmpty, "\(operation) left \(entries(dir.path))")
        }
        try DurableFiles.writeOutput(path, contents: [7, 7, 7])
        let error = withFaults([.init(.fsync, pathContains: path, errno: EIO)]) {
            #expect(throws: FileError.self) { try DurableFiles.writeOutput(path, contents: [8]) }
        }
        #expect(error?.code == .io)
        #expect(error?.operation == .sync)
        #expect(entries(dir.path) == ["out"])
    }

    @Test("Something created at a new path while the output is written is not replaced")
    func appearedMeanwhile() throws {
        let dir = try TemporaryDirectory()
        let path = dir.path + "/report.md"
        let out = try OutputFile(path: path)
        try out.write([1])
        #expect(mkfifo(path, 0o600) == 0)
        let error = #expect(throws: FileError.self) { try out.commit() }
        #expect(error?.code == .exists)
        #expect(fileType(path) == S_IFIFO)
        #expect(entries(dir.path) == ["report.md"])
    }

    @Test("Opening two outputs before writing: a refused second one leaves the first untouched")
    func refusedBeforeWriting() throws {
        let dir = try TemporaryDirectory()
        let report = dir.path + "/report.csv"
        try DurableFiles.createNew(report, contents: Array("previous".utf8), mode: 0o644)
        #expect(mkfifo(dir.path + "/manifest", 0o600) == 0)
        let first = try OutputFile(path: report)
        #expect(throws: FileError.self) { _ = try OutputFile(path: dir.path + "/manifest") }
        first.discard()
        #expect(contents(report) == Array("previous".utf8))
    }
}
