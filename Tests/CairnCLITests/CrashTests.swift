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
