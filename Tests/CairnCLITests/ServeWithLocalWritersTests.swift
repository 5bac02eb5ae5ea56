import CairnCrypto
import CairnLedger
import CairnNote
import CairnTestSupport
import Foundation
import Synchronization
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Issue 14 item 6: is a local `cairn append` (or `import`, `blob put`) beside a running `cairn serve` safe? Both are
/// writers of one LMDB environment: LMDB serializes their transactions, and each writer reloads its cached state
/// (the tree's right edge, the content index's log) when another has committed. This runs a real server under
/// HTTP load while other processes append to the same ledger directly — new records, records already in the log
/// (a retry commits nothing new but moves the content index's merges), blobs — and then checks that every
/// acknowledged record is in the log at its acknowledged index, `cairn fsck` is clean for the ledger and its access
/// log, every checkpoint verifies (with Cairn's verifier, and with Go's sumdb/note and sumdb/tlog when installed).
@Suite("A running cairn serve and local writers beside it")
struct ServeWithLocalWritersTests {
    /// One acknowledged append: where the ledger said the record went.
    struct Acknowledged: Hashable {
        let index: UInt64
        let digest: String
    }

    static func acknowledgements(_ body: String) -> [Acknowledged] {
        let parsed = (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [[String: Any]] ?? []
        return parsed.compactMap { object in
            guard let index = object["index"] as? Int, let digest = object["digest"] as? String else { return nil }
            return Acknowledged(index: UInt64(index), digest: digest)
        }
    }

    @Test(
        "HTTP appends and concurrent CLI appends: every acknowledgement holds, fsck is clean, every checkpoint verifies"
    )
    func serverAndLocalWriters() async throws {
        let f = try LedgerFixture(origin: "example.com/cairn-writers")
        let token = try f.cli.ok("token", "create", "--role", "append", "--name", "load").text
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let config = try f.dir.write("server.json", #"{"limits":{"rate_limit":null}}"#)
        let server = try ServeCLITests.Server(
            ledger: f.cli.ledger, arguments: ["--config", config], stderrPath: f.dir.file("serve.log"))
        let url = server.url

        // HTTP load: 4 clients, 40 batches of 10 records each. Records are canonical JSON already, so that the
        // entries are exactly these bytes (the Go verifier hashes them).
        let localWritersDone = StopFlag()
        async let load = Self.httpLoad(url: url, token: token, until: localWritersDone)

        // Local writers meanwhile, each a process of its own: new records, a record already in the log, blobs. Each
        // process is waited for off the cooperative pool (`offThePool`): blocking a pool thread in waitpid would keep
        // the HTTP load's tasks from running on a busy two-core machine, and the writers would not overlap.
        let cli = f.cli
        var cliAcks: [Acknowledged] = []
        for round in 0..<25 {
            let records = (0..<4).map { #"{"n":\#($0),"round":\#(round),"via":"cli"}"# }.joined(separator: "\n")
            let out = try await offThePool { try cli.run(["append"], stdin: Array(records.utf8)) }
            #expect(out.status == 0, "\(out.stderr)")
            let lines = out.lines.map(parseJSONLine)
            cliAcks += lines.compactMap { line in
                guard let index = line["index"] as? Int, let digest = line["digest"] as? String else { return nil }
                return Acknowledged(index: UInt64(index), digest: digest)
            }
            // A retry of the first record: nothing new, but a commit all the same.
            let retry = try await offThePool {
                try cli.run(["append"], stdin: Array(#"{"n":0,"round":0,"via":"cli"}"#.utf8))
            }
            #expect(retry.status == 0 && parseJSONLine(retry.text)["duplicate"] as? Bool == true, "\(retry.stderr)")
            if round % 5 == 0 {
                let blob = try f.dir.write("blob-\(round).txt", "blob \(round)\n")
                let put = try await offThePool { try cli.run(["blob", "put", "--media-type", "text/plain", blob]) }
                #expect(put.status == 0, "\(put.stderr)")
            }
        }
        localWritersDone.set()
        let (httpAcks, failures) = try await load
        #expect(failures.isEmpty, "\(failures)")
        #expect(server.terminate() == 0, "\(server.log)")

        // The two kinds of writers really took turns: local appends landed between the server's.
        let httpIndexes = httpAcks.map(\.index)
        let interleaved = cliAcks.filter { $0.index > httpIndexes.min() ?? 0 && $0.index < httpIndexes.max() ?? 0 }
        #expect(interleaved.count > 10, "\(interleaved.count) local appends between the server's first and last")
        let acknowledged = httpAcks + cliAcks
        #expect(httpAcks.count >= 4 * 10 * 10 && cliAcks.count == 25 * 4)
        #expect(Set(acknowledged.map(\.index)).count == acknowledged.count, "two records acknowledged at one index")
        var options = Ledger.OpenOptions()
        options.readOnly = true
        let ledger = try Ledger.open(at: f.cli.ledger, options: options)
        let size = try ledger.treeSize()
        #expect(size == UInt64(acknowledged.count))
        for ack in acknowledged {
            #expect(SHA256.hash(try ledger.entry(at: ack.index)).description == ack.digest, "entry \(ack.index)")
        }
        #expect(try f.cli.run(["fsck"]).status == 0)
        #expect(try f.cli.run(["fsck", "--ledger", f.cli.ledger + "/access-log"]).status == 0)

        // Every checkpoint the two kinds of writers signed verifies and commits to the tree the log holds.
        let checkpoints = try Self.verifiedCheckpoints(ledger, vkey: try NoteVerifierKey(parsing: f.vkey))
        #expect(checkpoints.count > 25, "each commit signs a checkpoint")
        try Self.verifyWithGo(ledger: ledger, vkey: f.vkey, checkpoints: checkpoints, cli: f.cli)
    }

    /// Set once, read from any task.
    final class StopFlag: Sendable {
        private let value = Mutex(false)
        func set() { value.withLock { $0 = true } }
        var isSet: Bool { value.withLock { $0 } }
    }

    /// 4 clients sending batches of 10 records over HTTP — at least 10 batches each, and on until `done` is set
    /// (at most 400): the acknowledgements, and the failed requests. Records are canonical JSON already, so that
    /// the entries are exactly these bytes (the Go verifier hashes them).
    static func httpLoad(url: String, token: String, until done: StopFlag) async throws -> ([Acknowledged], [String]) {
        try await withThrowingTaskGroup(of: ([Acknowledged], [String]).self) { group in
            for client in 0..<4 {
                group.addTask {
                    var acks: [Acknowledged] = []
                    var failures: [String] = []
                    // Until the local writers are done (at least 10 batches), paced so that the load spans them
                    // however fast either side runs: the two kinds of writers must overlap for the test to mean
                    // anything.
                    var batch = 0
                    while (batch < 10 || !done.isSet) && batch < 4000 {
                        defer { batch += 1 }
                        if batch >= 10 { try await Task.sleep(for: .milliseconds(20)) }
                        let body = (0..<10).map { #"{"batch":\#(batch),"client":\#(client),"n":\#($0),"via":"http"}"# }
                            .joined(separator: "\n")
                        let reply = try await ServeCLITests.request(
                            "POST", url + "/v1/entries", token: token, body: body, contentType: "application/x-ndjson")
                        if reply.status == 200 {
                            acks += Self.acknowledgements(reply.body)
                        } else {
                            failures.append("HTTP \(reply.status): \(reply.body)")
                        }
                    }
                    return (acks, failures)
                }
            }
            var acks: [Acknowledged] = []
            var failures: [String] = []
            for try await (clientAcks, clientFailures) in group {
                acks += clientAcks
                failures += clientFailures
            }
            return (acks, failures)
        }
    }

    /// Every stored checkpoint, each verified with the log's key and against the root of the tree it names.
    static func verifiedCheckpoints(_ ledger: Ledger, vkey: NoteVerifierKey) throws -> [UInt64: [UInt8]] {
        try ledger.read { snapshot in
            var checkpoints: [UInt64: [UInt8]] = [:]
            for treeSize in 1...snapshot.treeSize where try snapshot.hasCheckpoint(size: treeSize) {
                let signed = try snapshot.checkpoint(size: treeSize)
                let checkpoint = try signed.verify(logKey: vkey)
                let root = try snapshot.rootHash(size: treeSize)
                #expect(checkpoint.size == treeSize)
                #expect(checkpoint.rootHash == root, "checkpoint \(treeSize)")
                checkpoints[treeSize] = Array(signed.serialized.utf8)
            }
            return checkpoints
        }
    }

    /// Checks every checkpoint, and inclusion proofs of a sample of entries, with Go's sumdb/note and sumdb/tlog
    /// (Tests/Interop/verify_with_go.go), which recompute every root from the entries.
    static func verifyWithGo(ledger: Ledger, vkey: String, checkpoints: [UInt64: [UInt8]], cli: CLI) throws {
        guard let go = GoToolchain.binaryOrSkip("Go verification of a ledger written by a server and the CLI") else {
            return
        }
        let out = try TemporaryDirectory()
        _ = try out.write("vkey", vkey + "\n")
        var entries: [String] = []
        var appended = ""
        for index in 0..<(try ledger.treeSize()) {
            let entry = try ledger.entry(at: index)
            entries.append(String(decoding: entry, as: UTF8.self))
            appended += #"{"index":\#(index),"digest":"\#(SHA256.hash(entry).description)","duplicate":false}"# + "\n"
        }
        _ = try out.write("entries.jsonl", entries.joined(separator: "\n") + "\n")
        _ = try out.write("appended.jsonl", appended)
        for (size, note) in checkpoints { _ = try out.write("checkpoints/\(size)", note) }
        let size = try ledger.treeSize()
        for index in [0, 1, size / 3, size / 2, size - 1] {
            _ = try out.write(
                "inclusion/\(index)-\(size).proof", try cli.ok("prove", "inclusion", String(index)).stdout)
        }
        let cache = try TemporaryDirectory()
        let result = try CLI.exec(
            go,
            [
                "run", GoInteropTests.repositoryRoot.appendingPathComponent("Tests/Interop/verify_with_go.go").path,
                out.path,
            ],
            environment: GoToolchain.environment(cache: cache.path))
        #expect(result.status == 0, "Go verifier failed:\n\(result.stderr)\n\(result.text)")
        #expect(
            result.text.contains("go-verify: ok: \(size) entries, \(checkpoints.count) checkpoints"), "\(result.text)")
    }
}
