import CairnCrypto
import CairnTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The LD_PRELOAD fault shim (Tests/Faults/fault_shim.c), compiled once per test run.
enum FaultShim {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// A C compiler, if there is one.
    static let compiler: String? = ["/usr/bin/cc", "/usr/bin/gcc", "/usr/bin/clang", "/usr/local/bin/cc"]
        .first { FileManager.default.isExecutableFile(atPath: $0) }

    /// The compiled shim, or why it could not be built.
    static let library: Result<String, ShimError> = {
        guard let compiler else { return .failure(ShimError(message: "no C compiler (cc, gcc or clang)")) }
        let source = repository.appendingPathComponent("Tests/Faults/fault_shim.c").path
        guard let text = FileManager.default.contents(atPath: source) else {
            return .failure(ShimError(message: "cannot read \(source)"))
        }
        // One build per version of the source, shared by test runs (built aside, then renamed).
        let output = NSTemporaryDirectory() + "cairn-fault-shim-\(SHA256.hash(Array(text)).hex.prefix(16)).so"
        if FileManager.default.fileExists(atPath: output) { return .success(output) }
        let building = output + ".\(getpid())"
        do {
            let built = try CLI.exec(compiler, ["-shared", "-fPIC", "-O1", "-o", building, source, "-ldl"])
            guard built.status == 0 else { return .failure(ShimError(message: "cc failed: \(built.stderr)")) }
        } catch {
            return .failure(ShimError(message: "cannot run \(compiler): \(error)"))
        }
        guard rename(building, output) == 0 else { return .failure(ShimError(message: "cannot rename \(building)")) }
        return .success(output)
    }()

    struct ShimError: Error, CustomStringConvertible {
        let message: String
        var description: String { message }
    }

    /// The environment that makes `ops` on paths containing `path` fail with `errno` after
    /// `after` successful calls, logging each injected failure to `log`.
    static func environment(
        path: String, ops: String, errno: String, after: Int = 0, times: Int? = nil, minBytes: Int? = nil,
        log: String
    ) throws -> [String: String] {
        var environment = [
            "LD_PRELOAD": try library.get(), "CAIRN_FAULT_PATH": path, "CAIRN_FAULT_OPS": ops,
            "CAIRN_FAULT_ERRNO": errno, "CAIRN_FAULT_AFTER": String(after), "CAIRN_FAULT_LOG": log,
        ]
        if let times { environment["CAIRN_FAULT_TIMES"] = String(times) }
        if let minBytes { environment["CAIRN_FAULT_MIN_BYTES"] = String(minBytes) }
        return environment
    }

    /// The lines of the shim's log (one per injected failure).
    static func injected(_ log: String) -> [String] {
        ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }
}

/// What the ledger acknowledged: its size and root, which a failed command must not change.
struct LedgerState: Equatable {
    let size: String
    let root: String

    init(_ cli: CLI) throws {
        let lines = try cli.ok("checkpoint").lines
        size = lines.count > 1 ? lines[1] : ""
        root = lines.count > 2 ? lines[2] : ""
    }
}

/// Records of about `bytes` bytes each, one per line.
func paddedRecords(_ count: Int, bytes: Int, tag: String = "r") -> String {
    let pad = String(repeating: "p", count: bytes)
    return (0..<count).map { #"{"\#(tag)":\#($0),"pad":"\#(pad)"}"# }.joined(separator: "\n") + "\n"
}

/// Issue 10, section 3 "Faults": ENOSPC and EIO injected into the `cairn` process with the
/// LD_PRELOAD shim. Each test asserts what the caller sees (exit status, message, nothing
/// reported as appended), that the fault was really injected (the shim's log), and that after
/// the fault `cairn fsck` passes, nothing acknowledged is lost, and a retry succeeds.
@Suite(
    "Faults injected into the cairn process (LD_PRELOAD shim)",
    .enabled(
        if: FaultShim.compiler != nil,
        "skipped: no C compiler (cc, gcc or clang) to build Tests/Faults/fault_shim.c"))
struct FaultInjectionTests {
    /// A ledger with two acknowledged entries.
    static func fixture(profile: String = "generic") throws -> (LedgerFixture, LedgerState) {
        let f = try LedgerFixture(profile: profile)
        if profile == "generic" {
            try f.cli.ok("append", stdin: #"{"acknowledged":1}"# + "\n" + #"{"acknowledged":2}"#)
        }
        return (f, try LedgerState(f.cli))
    }

    /// After a fault: fsck passes and the acknowledged state is unchanged.
    static func expectRecovered(
        _ f: LedgerFixture, _ state: LedgerState, sourceLocation: SourceLocation = #_sourceLocation
    )
        throws
    {
        let fsck = try f.cli.run("fsck")
        #expect(fsck.status == 0, "fsck after the fault: \(fsck.stderr)", sourceLocation: sourceLocation)
        #expect(try LedgerState(f.cli) == state, sourceLocation: sourceLocation)
    }

    @Test(
        "ENOSPC/EIO while append commits (data pages, meta page, fdatasync): exit 74, nothing appended, fsck passes, a retry appends",
        arguments: [
            ("ENOSPC", "write,pwrite,writev,pwritev", 0), ("EIO", "write,pwrite,writev,pwritev", 0),
            ("ENOSPC", "write,pwrite,writev,pwritev", 1), ("EIO", "write,pwrite,writev,pwritev", 1),
            ("EIO", "fsync,fdatasync", 0), ("ENOSPC", "fsync,fdatasync", 0),
        ])
    func appendCommit(errno: String, ops: String, after: Int) throws {
        let (f, state) = try Self.fixture()
        let log = f.dir.file("faults.log")
        let out = try f.cli.run(
            ["append"], stdin: Array(#"{"during":"the fault"}"#.utf8),
            environment: try FaultShim.environment(
                path: f.cli.ledger + "/data.mdb", ops: ops, errno: errno, after: after, log: log))
        #expect(!FaultShim.injected(log).isEmpty, "the fault was never reached")
        #expect(out.status == 74, "\(out.status): \(out.stderr)")
        #expect(out.stdout.isEmpty, "reported as appended: \(out.text)")
        let reason = errno == "EIO" ? "Input/output error" : "No space left on device"
        #expect(out.stderr.contains("error: "), "\(out.stderr)")
        #expect(out.stderr.contains(reason) || out.stderr.contains("Input/output error"), "\(out.stderr)")
        #expect(out.stderr.contains(f.cli.ledger), "\(out.stderr)")
        try Self.expectRecovered(f, state)
        let retry = parseJSONLine(try f.cli.ok("append", stdin: #"{"during":"the fault"}"#).text)
        #expect(retry["index"] as? Int == 2 && retry["duplicate"] as? Bool == false)
        #expect(try f.cli.ok("fsck").status == 0)
    }

    @Test(
        "ENOSPC/EIO on blob put (file write, fsync, rename, directory fsync): exit 74, no metadata without its file",
        arguments: [
            ("ENOSPC", "write", 0), ("EIO", "write", 0), ("EIO", "fsync", 0), ("EIO", "fsync", 1),
            ("EIO", "fsync", 2), ("ENOSPC", "rename", 0),
        ])
    func blobPut(errno: String, ops: String, after: Int) throws {
        let (f, state) = try Self.fixture()
        let log = f.dir.file("faults.log")
        let bytes = [UInt8](repeating: 0x42, count: 300_000)
        let payload = try f.dir.write("payload.bin", bytes)
        let out = try f.cli.run(
            // Unsalted, so that the test knows the address the failed put would have had.
            ["blob", "put", "--unsalted", payload],
            environment: try FaultShim.environment(
                path: f.cli.ledger + "/blobs", ops: ops, errno: errno, after: after, log: log))
        #expect(!FaultShim.injected(log).isEmpty, "the fault was never reached")
        #expect(out.status == 74, "\(out.status): \(out.stderr)")
        #expect(out.stdout.isEmpty)
        #expect(out.stderr.contains(f.cli.ledger + "/blobs"), "\(out.stderr)")
        let digest = "sha256:" + SHA256.hash(bytes).hex
        let info = try f.cli.run("blob", "info", digest)
        let file = f.cli.ledger + "/blobs/" + digest.dropFirst(7).prefix(2) + "/" + digest.dropFirst(9)
        if info.status == 0 {
            // Metadata is only ever committed after its file is durable.
            #expect(FileManager.default.fileExists(atPath: file), "metadata without its file")
        } else {
            #expect(info.status == 66)
        }
        let leftovers = (FileManager.default.enumerator(atPath: f.cli.ledger + "/blobs")?.allObjects as? [String] ?? [])
            .filter { $0.contains(".tmp-") }
        #expect(leftovers.isEmpty, "temporary files left: \(leftovers)")
        try Self.expectRecovered(f, state)
        let retry = parseJSONLine(try f.cli.ok("blob", "put", "--unsalted", payload).text)
        #expect(retry["blob"] as? String == digest)
        #expect(try f.cli.ok("blob", "get", digest).stdout.count == 300_000)
        #expect(try f.cli.ok("fsck").status == 0)
    }

    @Test(
        "ENOSPC/EIO while append --extract-over moves a large prompt to a blob: exit 74, nothing appended",
        arguments: ["ENOSPC", "EIO"])
    func extraction(errno: String) throws {
        let (f, state) = try Self.fixture(profile: "provenance")
        let log = f.dir.file("faults.log")
        let long = String(repeating: "retry with jitter ", count: 5000)
        let record = ProvenanceCLITests.checkpoint("c1").replacingOccurrences(
            of: "\"Add retries\"", with: "\"\(long)\"")
        let out = try f.cli.run(
            ["append", "--extract-over", "1000"], stdin: Array(record.utf8),
            environment: try FaultShim.environment(
                path: f.cli.ledger + "/blobs", ops: "write", errno: errno, log: log))
        #expect(!FaultShim.injected(log).isEmpty, "the fault was never reached")
        #expect(out.stdout.isEmpty)
        #expect(out.status != 0)
        try Self.expectRecovered(f, state)
        // An I/O failure is not a bad record: exit 74, not 65 (so a spool retries instead of
        // dead-lettering): payload extraction is pure, and writing the payload is storage I/O.
        #expect(out.status == 74, "\(out.status): \(out.stderr)")
        let retry = parseJSONLine(try f.cli.ok("append", "--extract-over", "1000", stdin: record).text)
        #expect(retry["index"] as? Int == 0)
        #expect(try f.cli.ok("fsck").status == 0)
    }

    @Test("A signing key that vanished before append: exit 77, nothing appended, fsck passes")
    func vanishedKey() throws {
        let (f, state) = try Self.fixture()
        let key = f.cli.ledger + "/signing-key.pem"
        let saved = f.dir.file("saved-key.pem")
        try FileManager.default.moveItem(atPath: key, toPath: saved)
        let out = try f.cli.run(["append"], stdin: Array(#"{"unsigned":true}"#.utf8))
        #expect(out.status == 77, "\(out.status): \(out.stderr)")
        #expect(out.stderr.contains("cannot read signing key \(key)"), "\(out.stderr)")
        #expect(out.stdout.isEmpty)
        try Self.expectRecovered(f, state)
        try FileManager.default.moveItem(atPath: saved, toPath: key)
        #expect(parseJSONLine(try f.cli.ok("append", stdin: #"{"unsigned":true}"#).text)["index"] as? Int == 2)
    }

    /// The largest map size recorded in data.mdb's two meta pages (LMDB's mm_mapsize, at byte 32
    /// of each page on 64-bit systems).
    static func recordedMapSize(_ directory: String) throws -> UInt64 {
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: directory + "/data.mdb")).prefix(8192 + 40))
        let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
        func word(_ offset: Int) -> UInt64 { (0..<8).reduce(0) { $0 | UInt64(bytes[offset + $1]) << (8 * $1) } }
        return max(word(32), word(pageSize + 32))
    }

    @Test("A map that must grow during a big append grows, and the append succeeds")
    func mapGrows() throws {
        let dir = try TemporaryDirectory()
        defer { withExtendedLifetime(dir) {} }
        let cli = CLI(ledger: dir.file("ledger"))
        let small = ["CAIRN_LMDB_INITIAL_MAP_SIZE": String(1 << 20)]
        #expect(
            try cli.run(["init", "--origin", "example.com/map", "--profile", "generic"], environment: small).status == 0
        )
        #expect(try Self.recordedMapSize(cli.ledger) == 1 << 20)
        let out = try cli.run(["append"], stdin: Array(paddedRecords(3000, bytes: 1000).utf8), environment: small)
        #expect(out.status == 0, "\(out.stderr)")
        #expect(out.lines.count == 3000)
        #expect(try LedgerState(cli).size == "3000")
        #expect(try Self.recordedMapSize(cli.ledger) > 1 << 20)
        #expect(
            (try FileManager.default.attributesOfItem(atPath: cli.ledger + "/data.mdb")[.size] as? Int ?? 0) > 1 << 20)
        #expect(try cli.run(["fsck"]).status == 0)
    }

    @Test("When the map cannot grow (mmap fails): exit 74 with a clear message, nothing acknowledged lost")
    func mapCannotGrow() throws {
        let dir = try TemporaryDirectory()
        defer { withExtendedLifetime(dir) {} }
        let cli = CLI(ledger: dir.file("ledger"))
        let small = ["CAIRN_LMDB_INITIAL_MAP_SIZE": String(1 << 20)]
        #expect(
            try cli.run(["init", "--origin", "example.com/map", "--profile", "generic"], environment: small).status == 0
        )
        #expect(
            try cli.run(["append"], stdin: Array(paddedRecords(10, bytes: 100).utf8), environment: small).status == 0)
        let state = try LedgerState(cli)
        let log = dir.file("faults.log")
        // Only mappings larger than the initial map fail: opening works, growing does not.
        let faults = try FaultShim.environment(
            path: cli.ledger + "/data.mdb", ops: "mmap", errno: "ENOMEM", minBytes: (1 << 20) + 1, log: log)
        let out = try cli.run(
            ["append"], stdin: Array(paddedRecords(3000, bytes: 1000, tag: "big").utf8),
            environment: small.merging(faults) { $1 })
        #expect(!FaultShim.injected(log).isEmpty, "the fault was never reached")
        #expect(out.status == 74, "\(out.status): \(out.stderr)")
        #expect(out.stdout.isEmpty)
        #expect(
            out.stderr.contains(
                "the LMDB map of \(cli.ledger) is full at 1048576 bytes and cannot grow to 2097152 bytes"),
            "\(out.stderr)")
        #expect(out.stderr.contains("the transaction was not committed"))
        #expect(try cli.run(["fsck"]).status == 0)
        #expect(try LedgerState(cli) == state)
        let retry = try cli.run(["append"], stdin: Array(paddedRecords(3000, bytes: 1000, tag: "big").utf8))
        #expect(retry.status == 0, "\(retry.stderr)")
        #expect(try LedgerState(cli).size == "3010")
    }
}

/// A real small file system: a tmpfs of a few MiB, filled up. Needs `mount` (root, or a user
/// namespace that allows it); skipped otherwise.
@Suite(
    "A full file system (tmpfs)",
    .enabled(if: SmallFileSystem.canMount, "skipped: mounting a tmpfs is not permitted here (needs root)"))
struct SmallFileSystemTests {
    @Test("Append and blob put on a full tmpfs exit 74 and say so; fsck passes; after space is freed, both work")
    func full() throws {
        let dir = try TemporaryDirectory()
        let mountPoint = dir.file("mnt")
        try SmallFileSystem.mount(at: mountPoint, megabytes: 3)
        defer {
            SmallFileSystem.unmount(mountPoint)
            withExtendedLifetime(dir) {}  // removed only after the unmount
        }
        let cli = CLI(ledger: mountPoint + "/ledger")
        #expect(try cli.run(["init", "--origin", "example.com/full", "--profile", "generic"]).status == 0)
        #expect(try cli.run(["append"], stdin: Array(paddedRecords(5, bytes: 100).utf8)).status == 0)
        let state = try LedgerState(cli)
        // Leave about 200 KiB free.
        let filler = mountPoint + "/filler"
        var fs = statvfs()
        #expect(statvfs(mountPoint, &fs) == 0)
        let free = Int(fs.f_bavail) * Int(fs.f_frsize)
        #expect(FileManager.default.createFile(atPath: filler, contents: Data(count: max(0, free - 200 * 1024))))

        let out = try cli.run(["append"], stdin: Array(paddedRecords(1000, bytes: 1000).utf8))
        #expect(out.status == 74, "\(out.status): \(out.stderr)")
        #expect(out.stdout.isEmpty)
        // LMDB reports a short write as EIO; the message says the file system is full.
        #expect(out.stderr.contains("bytes free") || out.stderr.contains("No space left on device"), "\(out.stderr)")
        #expect(try cli.run(["fsck"]).status == 0)
        #expect(try LedgerState(cli) == state)

        let payload = try dir.write("payload", Array(repeating: 0x61, count: 1 << 20))
        let blob = try cli.run(["blob", "put", payload])
        #expect(blob.status == 74, "\(blob.status): \(blob.stderr)")
        #expect(blob.stderr.contains("No space left on device"), "\(blob.stderr)")
        #expect(try cli.run(["fsck"]).status == 0)

        try FileManager.default.removeItem(atPath: filler)
        let retry = try cli.run(["append"], stdin: Array(paddedRecords(1000, bytes: 1000).utf8))
        #expect(retry.status == 0, "\(retry.stderr)")
        #expect(try cli.run(["blob", "put", payload]).status == 0)
        #expect(try cli.run(["fsck"]).status == 0)
        #expect(try LedgerState(cli).size == "1005")
    }
}

enum SmallFileSystem {
    /// Whether this process may mount a tmpfs (tried once).
    static let canMount: Bool = {
        guard getuid() == 0 else { return false }
        let probe = NSTemporaryDirectory() + "cairn-mount-probe-\(getpid())"
        try? FileManager.default.createDirectory(atPath: probe, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: probe) }
        guard (try? mount(at: probe, megabytes: 1)) != nil else { return false }
        unmount(probe)
        return true
    }()

    static func mount(at path: String, megabytes: Int) throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        let out = try CLI.exec("/bin/mount", ["-t", "tmpfs", "-o", "size=\(megabytes)m", "tmpfs", path])
        guard out.status == 0 else { throw LedgerFixture.FixtureError(message: "mount failed: \(out.stderr)") }
    }

    static func unmount(_ path: String) {
        _ = try? CLI.exec("/bin/umount", [path])
    }
}

/// Issue 10 §3: an fsync failure is fatal for the process — never retried and acknowledged.
@Suite("Faults under cairn serve", .enabled(if: FaultShim.compiler != nil))
struct ServerFaultTests {

    @Test("A failed fsync under cairn serve is fatal: the append is not acknowledged, the server exits, fsck passes")
    func serverFsyncFailureIsFatal() async throws {
        let f = try LedgerFixture()
        let token = try f.cli.ok("token", "create", "--role", "append", "--name", "p").text
            .trimmingCharacters(in: .whitespacesAndNewlines)
        try f.cli.ok("append", stdin: #"{"before":true}"#)
        let before = try LedgerState(f.cli)
        let log = f.dir.file("faults.log")
        // The first fdatasync of the main log's data.mdb after the server starts fails with EIO.
        let server = try ServeCLITests.Server(
            ledger: f.cli.ledger, arguments: ["--rate-limit", "0"], stderrPath: f.dir.file("serve.log"),
            environment: try FaultShim.environment(
                path: f.cli.ledger + "/data.mdb", ops: "fdatasync", errno: "EIO", times: 1, log: log))
        let reply = try await ServeCLITests.request(
            "POST", server.url + "/v1/entries", token: token, body: #"{"during":"the fault"}"#)
        #expect(!FaultShim.injected(log).isEmpty, "the fault was never reached")
        // Never acknowledged, and never retried: the writer stopped, and so does the server.
        #expect(reply.status == 503, "\(reply.status) \(reply.body)")
        #expect(reply.body.contains("restart"), "\(reply.body)")
        server.process.waitUntilExit()
        #expect(server.process.terminationStatus != 0, "\(server.log)")
        #expect(server.log.contains("writer"), "\(server.log)")
        // The file is consistent, nothing was acknowledged that is not there, and a restarted
        // server appends the same record.
        try f.cli.ok("fsck")
        let after = try LedgerState(f.cli)
        #expect(after == before || after.size == "2", "\(after)")
        let restarted = try ServeCLITests.Server(
            ledger: f.cli.ledger, arguments: ["--rate-limit", "0"], stderrPath: f.dir.file("serve2.log"))
        defer { _ = restarted.terminate() }
        let retry = try await ServeCLITests.request(
            "POST", restarted.url + "/v1/entries", token: token, body: #"{"during":"the fault"}"#)
        #expect(retry.status == 200, "\(retry.body)")
        try f.cli.ok("fsck")
    }
}
