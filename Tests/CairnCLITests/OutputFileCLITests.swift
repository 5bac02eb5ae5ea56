import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Issue 10, item 7: `report -o PATH` renamed a temporary file over whatever was at PATH (a
/// symbolic link, a FIFO, a character device). Every output option — `report --output` and
/// `--manifest`, `prove inclusion|consistency -o`, `blob get -o` — now follows one rule:
/// a new path is created atomically, an existing regular file (or a link to one) is written
/// through, anything else is refused with exit 73 and a message naming what it is.
@Suite("Output paths of every command: write through regular files, refuse anything else (exit 73)")
struct OutputFileCLITests {
    static func kind(_ path: String) -> mode_t {
        var st = stat()
        return lstat(path, &st) == 0 ? st.st_mode & S_IFMT : 0
    }

    static func inode(_ path: String) -> ino_t {
        var st = stat()
        return stat(path, &st) == 0 ? st.st_ino : 0
    }

    /// A provenance ledger with a report's worth of records, and a blob.
    static func fixture() throws -> (LedgerFixture, blob: String) {
        let f = try AuditCLITests.fixture()
        let payload = try f.dir.write("payload.txt", "some payload\n")
        let put = parseJSONLine(try f.cli.ok("blob", "put", payload).text)
        return (f, put["blob"] as? String ?? "")
    }

    /// The commands that write to a path, each with its output option set to `path`.
    static func writers(_ f: LedgerFixture, blob: String, _ path: String) -> [[String]] {
        [
            ["report", "--format", "csv", "--output", path, "--manifest", f.dir.file("m-\(UUID().uuidString)")],
            ["report", "--format", "csv", "--output", f.dir.file("r-\(UUID().uuidString).csv"), "--manifest", path],
            ["prove", "inclusion", "0", "-o", path],
            ["prove", "consistency", "--old", "1", "-o", path],
            ["blob", "get", blob, "-o", path],
        ]
    }

    @Test("A FIFO, a directory and a symbolic link to a FIFO are refused by every command, unchanged")
    func refusedKinds() throws {
        let (f, blob) = try Self.fixture()
        let fifo = f.dir.file("fifo")
        #expect(mkfifo(fifo, 0o600) == 0)
        let directory = f.dir.file("dir")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
        let link = f.dir.file("link-to-fifo")
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: fifo)
        let cases: [(String, String, mode_t)] = [
            (fifo, "it is a FIFO (named pipe), not a regular file", S_IFIFO),
            (directory, "it is a directory, not a regular file", S_IFDIR),
            (link, "it is a symbolic link to \(fifo), which is a FIFO (named pipe)", S_IFLNK),
        ]
        for (path, reason, type) in cases {
            for args in Self.writers(f, blob: blob, path) {
                let out = try f.cli.run(args)
                #expect(out.status == 73, "\(args): \(out.status) \(out.stderr)")
                #expect(out.stderr.contains("refusing to write \(path): \(reason)"), "\(args): \(out.stderr)")
                #expect(Self.kind(path) == type, "\(args) replaced \(path)")
            }
        }
        #expect(Self.kind(fifo) == S_IFIFO)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).isEmpty)
    }

    @Test("Device nodes (/dev/full, /dev/null, a link to /dev/null) are refused and stay devices")
    func devices() throws {
        let (f, blob) = try Self.fixture()
        let link = f.dir.file("null-link")
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: "/dev/null")
        for path in ["/dev/full", "/dev/null", link] {
            for args in Self.writers(f, blob: blob, path) {
                let out = try f.cli.run(args)
                #expect(out.status == 73, "\(args): \(out.status) \(out.stderr)")
                #expect(out.stderr.contains("a character device, not a regular file"), "\(args): \(out.stderr)")
            }
        }
        #expect(Self.kind("/dev/full") == S_IFCHR)
        #expect(Self.kind("/dev/null") == S_IFCHR)
        #expect(Self.kind(link) == S_IFLNK)
    }

    @Test("An existing regular file is written through: same inode, mode and hard links; the report verifies")
    func writeThrough() throws {
        let (f, blob) = try Self.fixture()
        let report = try f.dir.write("q4.csv", String(repeating: "old content\n", count: 1000))
        #expect(chmod(report, 0o600) == 0)
        #expect(link(report, f.dir.file("q4-hardlink.csv")) == 0)
        let before = Self.inode(report)
        try f.cli.ok("report", "--format", "csv", "--output", report)
        #expect(Self.inode(report) == before)
        var st = stat()
        #expect(stat(report, &st) == 0 && st.st_mode & 0o7777 == 0o600 && st.st_nlink == 2)
        let written = try String(contentsOfFile: report, encoding: .utf8)
        #expect(written.hasPrefix("Date,Checkpoint,") && !written.contains("old content"))
        #expect(try String(contentsOfFile: f.dir.file("q4-hardlink.csv"), encoding: .utf8) == written)
        try f.cli.ok("report", "verify", report, "--vkey", f.vkeyFile)

        // Through a symbolic link: the target is written, the link stays.
        let target = try f.dir.write("proof-target", "stale\n")
        let link = f.dir.file("proof-link")
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: target)
        try f.cli.ok("prove", "inclusion", "0", "-o", link)
        #expect(Self.kind(link) == S_IFLNK)
        #expect(try String(contentsOfFile: target, encoding: .utf8).hasPrefix("c2sp.org/tlog-proof@v1\n"))
        let bytes = try f.dir.write("blob-out", Array(repeating: 0x7a, count: 5000))
        try f.cli.ok("blob", "get", blob, "-o", bytes)
        #expect(try String(contentsOfFile: bytes, encoding: .utf8) == "some payload\n")
    }

    @Test("A new path is created (and no temporary file stays); a missing directory is exit 73")
    func newPaths() throws {
        let (f, blob) = try Self.fixture()
        let out = f.dir.file("new-proof")
        try f.cli.ok("prove", "consistency", "--old", "1", "-o", out)
        #expect(try String(contentsOfFile: out, encoding: .utf8).hasPrefix("old 1\n"))
        try f.cli.ok("blob", "get", blob, "-o", f.dir.file("new-blob"))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: f.dir.path).filter { $0.contains(".tmp-") }
        #expect(leftovers.isEmpty)
        let missing = try f.cli.run("blob", "get", blob, "-o", f.dir.file("no/such/dir/file"))
        #expect(missing.status == 73, "\(missing.stderr)")
        #expect(missing.stderr.contains("no/such/dir/file"))
    }

    @Test("A refused manifest path leaves an existing report file untouched")
    func manifestRefusedFirst() throws {
        let (f, _) = try Self.fixture()
        let report = try f.dir.write("keep.csv", "previous report\n")
        let fifo = f.dir.file("manifest-fifo")
        #expect(mkfifo(fifo, 0o600) == 0)
        let out = try f.cli.run("report", "--output", report, "--manifest", fifo)
        #expect(out.status == 73)
        #expect(try String(contentsOfFile: report, encoding: .utf8) == "previous report\n")
        #expect(Self.kind(fifo) == S_IFIFO)
    }

    @Test("Each --help with an output option says what it does with an existing path")
    func documented() throws {
        let (f, _) = try Self.fixture()
        for args in [["report", "create"], ["prove", "inclusion"], ["prove", "consistency"], ["blob", "get"]] {
            let help = try f.cli.run(args + ["--help"]).text.replacingOccurrences(of: "\n", with: " ")
                .split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
            #expect(help.contains("regular file, which is overwritten"), "\(args)")
        }
    }
}
