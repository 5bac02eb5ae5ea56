import CairnCrypto
import CairnLedger
import CairnTestSupport
import Foundation
import Testing

/// Kills a process that is appending with concurrent producers (SIGKILL, 20 times at random
/// moments) and checks after each kill that every acknowledged record is where it was
/// acknowledged, that nothing half-written is visible (fsck), and that appending resumes.
@Suite("Crash safety", .serialized)
struct CrashTests {
    /// Starts `cairn stress-append`, lets it run for `milliseconds`, kills it with SIGKILL, and
    /// returns the acknowledgements it printed.
    func runAndKill(_ cli: CLI, milliseconds: Int, producers: Int) throws -> [(UInt64, String)] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CLI.binary)
        process.arguments = ["stress-append", "--producers", String(producers)]
        process.environment = ProcessInfo.processInfo.environment.merging(["CAIRN_LEDGER": cli.ledger]) { $1 }
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        usleep(useconds_t(milliseconds * 1000))
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal, "the appender should have been killed, not exited")
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        // A line cut by the kill was never fully acknowledged to anyone: ignore it.
        return text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().compactMap { line in
            let parts = line.split(separator: " ")
            guard parts.count == 2, let index = UInt64(parts[0]) else { return nil }
            return (index, String(parts[1]))
        }
    }

    @Test("SIGKILL at 20 random moments loses no acknowledged record, leaves no partial state, and appending resumes")
    func sigkill() throws {
        let f = try LedgerFixture()
        var rng = SystemRandomNumberGenerator()
        var acknowledged: [UInt64: String] = [:]
        for round in 0..<20 {
            let acks = try runAndKill(
                f.cli, milliseconds: Int.random(in: 150...900, using: &rng), producers: [1, 16, 64][round % 3])
            for (index, digest) in acks {
                #expect(
                    acknowledged[index] == nil || acknowledged[index] == digest, "index \(index) acknowledged twice")
                acknowledged[index] = digest
            }
            // A new process sees a consistent ledger…
            let fsck = try f.cli.run("fsck", "--json")
            #expect(fsck.status == 0, "round \(round): fsck failed after SIGKILL: \(fsck.text) \(fsck.stderr)")
            // …holding every acknowledged record at its acknowledged index.
            var options = Ledger.OpenOptions()
            options.readOnly = true
            let ledger = try Ledger.open(at: f.cli.ledger, options: options)
            let size = try ledger.treeSize()
            for (index, digest) in acknowledged {
                #expect(index < size, "round \(round): acknowledged index \(index) is beyond the tree size \(size)")
                guard index < size else { continue }
                #expect(
                    SHA256.hash(try ledger.entry(at: index)).description == digest,
                    "round \(round): acknowledged \(digest) is not at \(index)")
            }
            // The content index finds them too (a sample; fsck checked every leaf).
            for (index, digest) in acknowledged.prefix(50) {
                let parsed = try #require(SHA256Digest(hex: digest.dropFirst(7)))
                #expect(try ledger.index(of: parsed) == index)
            }
        }
        #expect(acknowledged.count > 100, "the appender should have acknowledged records before being killed")
        // Appending resumes normally.
        let after = try f.cli.ok("append", stdin: "{\"after\":\"crashes\"}\n")
        #expect(parseJSONLine(after.text)["duplicate"] as? Bool == false)
        #expect(try f.cli.ok("fsck").status == 0)
        print("crash test: \(acknowledged.count) acknowledged records survived 20 SIGKILLs")
    }
}

@Suite("Crash safety of the migration to storage format 2")
struct MigrationCrashTests {
    @Test("SIGKILL during `cairn migrate` leaves a whole ledger each time; the next run resumes and finishes")
    func sigkillDuringMigration() throws {
        let f = try LedgerFixture()
        let size = 150_000
        let (root, tiles): (SHA256Digest, [String: [UInt8]]) = try {
            let ledger = try Ledger.open(at: f.cli.ledger)
            for start in stride(from: 0, to: size, by: 25_000) {
                _ = try ledger.append(
                    (start..<start + 25_000).map { PreparedEntry(canonicalBytes: Array("{\"m\":\($0)}".utf8)) })
            }
            return (try ledger.rootHash(size: UInt64(size)), try ledger.hashTiles(sizes: [UInt64(size)]))
        }()
        try FormatOneLedger.downgrade(directory: f.cli.ledger)
        var rng = SystemRandomNumberGenerator()
        var killed = 0
        // Kill at random moments until two runs were killed mid-way (a run that finished first is undone, so
        // that the next has work again); at most 12 rounds.
        for round in 0..<12 where killed < 2 {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: CLI.binary)
            process.arguments = ["migrate", "--chunk-leaves", "1000", "--ledger", f.cli.ledger]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            usleep(useconds_t(Int.random(in: 20...250, using: &rng) * 1000))
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            if process.terminationReason == .uncaughtSignal { killed += 1 }
            // Whatever the moment, a new process sees a whole ledger in one format or the other, same root.
            let fsck = try f.cli.run("fsck", "--json")
            #expect(fsck.status == 0, "round \(round): fsck failed after SIGKILL: \(fsck.text) \(fsck.stderr)")
            let report = parseJSONLine(fsck.text)
            #expect(report["root_hash"] as? String == root.base64, "round \(round)")
            #expect([1, 2].contains(report["storage_format"] as? Int), "round \(round)")
            if report["storage_format"] as? Int == 2 { try FormatOneLedger.downgrade(directory: f.cli.ledger) }
        }
        #expect(killed == 2, "two runs should have been killed mid-migration")
        let done = try f.cli.ok("migrate", "--json", "--chunk-leaves", "2000")
        #expect(parseJSONLine(done.text)["tree_size"] as? Int == size)
        let fsck = parseJSONLine(try f.cli.ok("fsck", "--json").text)
        #expect(fsck["storage_format"] as? Int == 2 && fsck["root_hash"] as? String == root.base64)
        #expect(try Ledger.open(at: f.cli.ledger).hashTiles(sizes: [UInt64(size)]) == tiles)
        #expect(try f.cli.ok("append", stdin: "{\"after\":\"migration\"}\n").status == 0)
    }

    @Test(
        "On a format 1 ledger: reads work; append and serve are refused naming `cairn migrate`; after it, appends work")
    func formatOneThroughTheCLI() throws {
        let dir = try TemporaryDirectory("format-1-cli")
        try FileManager.default.createDirectory(atPath: dir.file("ledger"), withIntermediateDirectories: true)
        try FormatOneLedger.copyFixture(into: dir.file("ledger"))
        let cli = CLI(ledger: dir.file("ledger"))
        #expect(try cli.ok("prove", "inclusion", "5").text.contains("600"))
        #expect(parseJSONLine(try cli.ok("fsck", "--json").text)["storage_format"] as? Int == 1)
        let append = try cli.run("append", stdin: "{\"late\":1}\n")
        #expect(append.status == 70 && append.stderr.contains("run `cairn migrate --ledger"), "\(append.stderr)")
        let serve = try cli.run("serve", "--listen", "127.0.0.1:0")
        #expect(serve.status == 70 && serve.stderr.contains("run `cairn migrate --ledger"), "\(serve.stderr)")
        let migrated = parseJSONLine(try cli.ok("migrate", "--json").text)
        #expect(migrated["tree_size"] as? Int == 600 && migrated["already_migrated"] as? Bool == false)
        #expect(try cli.ok("append", stdin: "{\"late\":1}\n").status == 0)
        #expect(parseJSONLine(try cli.ok("fsck", "--json").text)["storage_format"] as? Int == 2)
    }
}
