import CairnCrypto
import CairnLedger
import CairnTestSupport
import Foundation
import Testing

/// `cairn backup`, `cairn backup verify` and `cairn restore` as real processes: a backup taken while another
/// process appends restores to a clean ledger with every acknowledged record and earlier proof; faults injected
/// into the backup's writes (LMDB's copy included) with the LD_PRELOAD shim; exit statuses and messages.
@Suite("cairn backup and cairn restore")
struct BackupCLITests {
    /// A generic ledger with `count` records appended in batches of 50 (their `append` output lines), and `blobs`
    /// blobs of 20 KB.
    static func fixture(count: Int, blobs: Int = 0) throws -> (LedgerFixture, [[String: Any]]) {
        let f = try LedgerFixture()
        var acknowledged: [[String: Any]] = []
        for start in stride(from: 0, to: count, by: 50) {
            let batch = (start..<min(start + 50, count)).map { #"{"before":\#($0)}"# }.joined(separator: "\n")
            acknowledged += try f.cli.ok("append", stdin: batch).lines.map(parseJSONLine)
        }
        for i in 0..<blobs {
            let file = try f.dir.write("blob-\(i).txt", String(repeating: "blob \(i) ", count: 2_000))
            try f.cli.ok("blob", "put", "--media-type", "text/plain", file)
        }
        return (f, acknowledged)
    }

    static func size(_ cli: CLI, ledger: String? = nil) throws -> UInt64 {
        let lines = try cli.run(["checkpoint"] + (ledger.map { ["--ledger", $0] } ?? [])).lines
        return UInt64(lines.count > 1 ? lines[1] : "") ?? 0
    }

    @Test("A backup taken while another process appends restores to a clean ledger with every acknowledged record")
    func backupDuringAppends() throws {
        let (f, acknowledged) = try Self.fixture(count: 400, blobs: 3)
        // Proofs handed out before the backup, with their entries.
        var proofs: [(index: Int, size: UInt64, proof: [UInt8], entry: String)] = []
        let sizeBefore = try Self.size(f.cli)
        for index in [0, 1, 63, 200, 399] {
            let proof = try f.cli.ok("prove", "inclusion", String(index)).stdout
            let entry = try f.dir.write("entry-\(index).json", try f.cli.ok("get", String(index), "--raw").stdout)
            proofs.append((index, sizeBefore, proof, entry))
        }

        // Another process appends throughout: 60 `cairn append`s in a row.
        let appender = Process()
        appender.executableURL = URL(fileURLWithPath: "/bin/bash")
        appender.arguments = [
            "-c",
            #"for i in $(seq 1 60); do printf '{"during":%d,"a":1}\n{"during":%d,"a":2}\n' $i $i | "$0" append > /dev/null "#
                + #"|| exit 1; done"#, CLI.binary,
        ]
        appender.environment = ["CAIRN_LEDGER": f.cli.ledger, "PATH": "/usr/bin:/bin"]
        try appender.run()
        try pollBlocking("appends beside the backup", timeout: 60) { try Self.size(f.cli) >= sizeBefore + 10 }
        let atStart = try Self.size(f.cli)
        let dest = f.dir.file("backups/cairn")
        let backup = try f.cli.run(["backup", dest, "--json"])
        #expect(backup.status == 0, "\(backup.stderr)")
        appender.waitUntilExit()
        #expect(appender.terminationStatus == 0)
        let report = parseJSONLine(backup.text)
        let backedUp = report["tree_size"] as? Int ?? 0
        #expect(UInt64(backedUp) >= atStart, "\(backup.text)")
        #expect(try Self.size(f.cli) > UInt64(backedUp), "the appends went on after the backup")

        #expect(try f.cli.run(["backup", "verify", dest, "--vkey", f.vkeyFile]).status == 0)
        let restored = f.dir.file("restored")
        let restore = try f.cli.run(["restore", dest, restored, "--vkey", f.vkeyFile])
        #expect(restore.status == 0, "\(restore.stderr)")
        #expect(
            restore.text.hasPrefix("restored \(dest) into \(restored): example.com/cairn-test at tree size \(backedUp)")
        )
        #expect(restore.stderr.contains("note: the backup holds no signing keys"))
        #expect(try f.cli.run(["fsck", "--ledger", restored]).status == 0)
        #expect(try f.cli.run(["fsck", "--ledger", restored + "/access-log"]).status == 0)

        // Every record acknowledged before the backup is there, at its index.
        var options = Ledger.OpenOptions()
        options.readOnly = true
        let ledger = try Ledger.open(at: restored, options: options)
        #expect(try ledger.treeSize() == UInt64(backedUp))
        for record in acknowledged {
            let index = try #require(record["index"] as? Int)
            #expect(SHA256.hash(try ledger.entry(at: UInt64(index))).description == record["digest"] as? String)
        }
        // Every earlier proof verifies, and the restored ledger gives the same proof for the same size.
        for (index, size, proof, entry) in proofs {
            let file = try f.dir.write("proof-\(index)", proof)
            #expect(
                try f.cli.run(["verify", "inclusion", "--vkey", f.vkeyFile, "--proof", file, "--entry", entry]).status
                    == 0)
            let again = try f.cli.run([
                "prove", "inclusion", String(index), "--size", String(size), "--ledger", restored,
            ])
            #expect(again.stdout == proof, "proof of \(index) at \(size)")
        }
    }

    @Test(
        "ENOSPC and EIO while the backup is written (LMDB's copy, blobs, keys, manifest): exit 74, no manifest; a retry is whole",
        arguments: [
            ("ENOSPC", "write,pwrite,writev,pwritev", 0), ("ENOSPC", "write,pwrite,writev,pwritev", 1),
            ("ENOSPC", "write,pwrite,writev,pwritev", 3), ("ENOSPC", "write,pwrite,writev,pwritev", 5),
            ("EIO", "write,pwrite,writev,pwritev", 2), ("EIO", "fsync,fdatasync", 0), ("EIO", "fsync,fdatasync", 5),
            ("ENOSPC", "rename", 1),
        ])
    func faultDuringBackup(errno: String, ops: String, after: Int) throws {
        let (f, _) = try Self.fixture(count: 200, blobs: 4)
        let dest = f.dir.file("backup")
        // A whole backup first: the failed one must not leave a manifest that verifies either.
        try f.cli.ok("backup", dest)
        try f.cli.ok("append", stdin: #"{"after":"the first backup"}"#)
        let more = try f.dir.write("more.txt", String(repeating: "more ", count: 5_000))
        try f.cli.ok("blob", "put", "--media-type", "text/plain", more)
        let log = f.dir.file("faults.log")
        let out = try f.cli.run(
            ["backup", dest],
            environment: try FaultShim.environment(path: dest, ops: ops, errno: errno, after: after, log: log))
        #expect(!FaultShim.injected(log).isEmpty, "the fault was never reached")
        #expect(out.status == 74, "\(out.status): \(out.stderr)")
        #expect(out.stdout.isEmpty)
        let reason = errno == "EIO" ? "Input/output error" : "No space left on device"
        #expect(out.stderr.hasPrefix("error: ") && out.stderr.contains(reason), "\(out.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dest + "/backup.manifest"))
        let verify = try f.cli.run(["backup", "verify", dest])
        #expect(verify.status == 1)
        #expect(verify.stderr.contains("the backup is incomplete"), "\(verify.stderr)")
        // The ledger is untouched, and the backup taken again is whole.
        #expect(try f.cli.run(["fsck"]).status == 0)
        try f.cli.ok("backup", dest)
        let valid = try f.cli.ok("backup", "verify", dest, "--vkey", f.vkeyFile)
        #expect(valid.text.hasPrefix("valid: backup \(dest): example.com/cairn-test at tree size 201"), "\(valid.text)")
    }

    @Test("--include-key also copies the keys earlier rotations retired (0600); a backup without it removes them")
    func retiredKeys() throws {
        let f = try LedgerFixture(origin: "example.com/backup-rotated")
        try f.cli.ok("append", stdin: #"{"n":1}"#)
        try f.cli.ok("key", "rotate", "--reason", "yearly", "--author", "ops@example.com")
        try f.cli.ok("key", "rotate", "--reason", "yearly again", "--author", "ops@example.com")
        let retired = try FileManager.default.contentsOfDirectory(atPath: f.cli.ledger).filter {
            $0.hasSuffix(".pem.retired")
        }
        #expect(retired.count == 2)
        let dest = f.dir.file("backup")
        try f.cli.ok("backup", dest, "--include-key")
        try f.cli.ok("backup", "verify", dest, "--vkey", f.vkeyFile)
        for name in retired {
            #expect(
                FileManager.default.contentsEqual(atPath: dest + "/" + name, andPath: f.cli.ledger + "/" + name),
                "\(name)")
            let mode = try FileManager.default.attributesOfItem(atPath: dest + "/" + name)[.posixPermissions] as? Int
            #expect(mode == 0o600, "\(name)")
        }
        let restored = f.dir.file("restored")
        try f.cli.ok("restore", dest, restored)
        for name in retired {
            let mode =
                try FileManager.default.attributesOfItem(atPath: restored + "/" + name)[.posixPermissions] as? Int
            #expect(mode == 0o600, "\(name)")
        }
        // Without --include-key, no key of the log stays in the backup.
        try f.cli.ok("backup", dest)
        let left = try FileManager.default.contentsOfDirectory(atPath: dest).filter { $0.hasPrefix("signing-key") }
        #expect(left.isEmpty, "\(left)")
        try f.cli.ok("backup", "verify", dest, "--vkey", f.vkeyFile)
    }

    @Test("ENOSPC while restoring: exit 74 and nothing left in the new directory")
    func faultDuringRestore() throws {
        let (f, _) = try Self.fixture(count: 100, blobs: 2)
        let dest = f.dir.file("backup")
        try f.cli.ok("backup", dest)
        let target = f.dir.file("restored")
        let log = f.dir.file("faults.log")
        let out = try f.cli.run(
            ["restore", dest, target],
            environment: try FaultShim.environment(path: target, ops: "write", errno: "ENOSPC", after: 3, log: log))
        #expect(!FaultShim.injected(log).isEmpty)
        #expect(out.status == 74, "\(out.stderr)")
        #expect(out.stderr.contains("No space left on device"), "\(out.stderr)")
        #expect(!FileManager.default.fileExists(atPath: target))
        try f.cli.ok("restore", dest, target)
        #expect(try f.cli.run(["fsck", "--ledger", target]).status == 0)
    }

    @Test("Exit statuses and messages: 73 for an unusable destination, 66, 77, and 1 with the reason")
    func statuses() throws {
        let (f, _) = try Self.fixture(count: 10, blobs: 1)
        let dest = f.dir.file("backup")
        try f.cli.ok("backup", dest)
        _ = try f.dir.write("full/x", "x")
        let notEmpty = try f.cli.run(["backup", f.dir.file("full")])
        #expect(notEmpty.status == 73)
        #expect(
            notEmpty.stderr.hasPrefix("error: \(f.dir.file("full")) is not empty (found x) and is not a Cairn backup"))
        let restoreOver = try f.cli.run(["restore", dest, f.dir.file("full")])
        #expect(restoreOver.status == 73)
        #expect(restoreOver.stderr.contains("is not empty (found x): restore into a new or empty directory"))
        #expect(try f.cli.run(["restore", dest, f.cli.ledger]).status == 73)
        #expect(try f.cli.run(["backup", "verify", f.dir.file("nothing")]).status == 66)
        #expect(try CLI(ledger: f.dir.file("no-ledger")).run(["backup", f.dir.file("b2")]).status == 66)

        // Tampered: a flipped byte in the copy, then an edited manifest.
        let copy = f.dir.file("copy")
        try FileManager.default.copyItem(atPath: dest, toPath: copy)
        let data = copy + "/data.mdb"
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: data)))
        bytes[bytes.count - 100] ^= 0x20
        try Data(bytes).write(to: URL(fileURLWithPath: data))
        let flipped = try f.cli.run(["backup", "verify", copy, "--json"])
        #expect(flipped.status == 1)
        let failure = parseJSONLine(flipped.text)
        #expect(failure["valid"] as? Bool == false && failure["code"] as? String == "fileMismatch", "\(flipped.text)")
        #expect(try f.cli.run(["restore", copy, f.dir.file("r1")]).status == 1)
        #expect(!FileManager.default.fileExists(atPath: f.dir.file("r1")))
        let manifest = dest + "/backup.manifest"
        let text = try String(contentsOfFile: manifest, encoding: .utf8)
        try text.replacingOccurrences(of: "signing-keys excluded", with: "signing-keys included")
            .write(toFile: manifest, atomically: false, encoding: .utf8)
        let edited = try f.cli.run(["backup", "verify", dest])
        #expect(edited.status == 1)
        #expect(
            edited.stderr.hasPrefix("invalid: the manifest's signature by example.com/cairn-test+"), "\(edited.stderr)")
        #expect(edited.stderr.contains("was changed after it was signed"))

        // The signing key signs the manifest: without it, 77 and nothing written.
        try FileManager.default.moveItem(atPath: f.cli.ledger + "/signing-key.pem", toPath: f.dir.file("key.pem"))
        let keyless = try f.cli.run(["backup", f.dir.file("b3")])
        #expect(keyless.status == 77, "\(keyless.stderr)")
        #expect(!FileManager.default.fileExists(atPath: f.dir.file("b3")))
    }

    @Test("A second cairn serve on a served ledger (or its access log) is refused with 75, naming the process")
    func secondServerRefused() throws {
        let f = try LedgerFixture()
        try f.cli.ok("append", stdin: #"{"n":1}"#)
        let first = try ServeCLITests.Server(ledger: f.cli.ledger, stderrPath: f.dir.file("first.log"))
        let pid = first.process.processIdentifier
        let second = try f.cli.run(["serve", "--listen", "127.0.0.1:0"])
        #expect(second.status == 75, "\(second.stderr)")
        #expect(
            second.stderr.hasPrefix(
                "error: the ledger at \(f.cli.ledger) is already being served by another cairn serve (process \(pid) "
                    + "holds \(f.cli.ledger)/serve.lock)"), "\(second.stderr)")
        #expect(second.stderr.contains("cairn append --server URL"))
        let onAccessLog = try CLI(ledger: f.cli.ledger + "/access-log").run(["serve", "--listen", "127.0.0.1:0"])
        #expect(onAccessLog.status == 75, "\(onAccessLog.stderr)")
        #expect(onAccessLog.stderr.contains("(process \(pid) holds"))
        // Local commands that write are not refused: they are safe beside the server.
        try f.cli.ok("append", stdin: #"{"n":2}"#)
        // The lock dies with its process, even by SIGKILL.
        kill(pid, SIGKILL)
        first.process.waitUntilExit()
        let third = try ServeCLITests.Server(ledger: f.cli.ledger, stderrPath: f.dir.file("third.log"))
        #expect(third.terminate() == 0)
        #expect(
            try String(contentsOfFile: f.cli.ledger + "/serve.lock", encoding: .utf8)
                == "\(third.process.processIdentifier)\n")
    }
}
