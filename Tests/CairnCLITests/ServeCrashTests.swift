import CairnJSON
import CairnLedger
import CairnTestSupport
import Foundation
import Synchronization
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Kills `cairn serve` (SIGKILL) while clients append, at random moments, and checks after the next start that
/// every acknowledged append is named by its own `append` entry in the access log — moved there from the access
/// outbox if the kill came between the records' commit and the access log's (specs/http-api.md §6) — that the
/// outbox is empty, and that both logs pass fsck.
///
/// A crash run of minutes on a loaded machine, so it runs only with `CAIRN_CRASH_TESTS=1` (`make crash-serve`, which
/// `.ci/run` calls on its own after `make test`): inside the parallel default run on a busy CI machine, no append was
/// acknowledged before the kills. The outbox's start-up move is covered in the default run by `AccessOutboxTests`.
@Suite(
    "cairn serve killed under load", .serialized,
    .enabled(if: ProcessInfo.processInfo.environment["CAIRN_CRASH_TESTS"] == "1", "set CAIRN_CRASH_TESTS=1"))
struct ServeCrashTests {
    /// How many appends the load has had acknowledged so far.
    final class Counter: Sendable {
        let value = Atomic<Int>(0)
    }

    /// An acknowledged append: its request id and the indexes its receipt gave.
    struct Acknowledged: Sendable {
        let requestID: String
        let indexes: [UInt64]
    }

    /// Appends 3-record batches from `clients` connections until the server goes away.
    static func load(
        _ url: String, token: String, clients: Int, round: Int, count: Counter
    ) async -> [Acknowledged] {
        await withTaskGroup(of: [Acknowledged].self) { group in
            for client in 0..<clients {
                group.addTask {
                    var acknowledged: [Acknowledged] = []
                    for counter in 0... {
                        let body = (0..<3).map {
                            #"{"type":"note","text":"r\#(round) c\#(client) n\#(counter) \#($0)"}"#
                        }
                        var request = URLRequest(url: URL(string: url + "/v1/entries")!)
                        request.httpMethod = "POST"
                        request.timeoutInterval = 10
                        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
                        request.setValue("application/x-ndjson", forHTTPHeaderField: "Content-Type")
                        request.httpBody = Data(body.joined(separator: "\n").utf8)
                        guard let reply = try? await URLSession.shared.data(for: request),
                            let http = reply.1 as? HTTPURLResponse
                        else { break }  // the server is gone
                        let data = reply.0
                        guard http.statusCode == 200 else { continue }
                        let receipts = (try? JSONParser.parse(Array(data)))?.arrayValue ?? []
                        let indexes = receipts.compactMap { $0["index"]?.nonNegativeIntValue.map(UInt64.init) }
                        if let id = http.value(forHTTPHeaderField: "Cairn-Request-Id"), indexes.count == 3 {
                            acknowledged.append(Acknowledged(requestID: id, indexes: indexes))
                            count.value.add(1, ordering: .relaxed)
                        }
                    }
                    return acknowledged
                }
            }
            var all: [Acknowledged] = []
            for await part in group { all += part }
            return all
        }
    }

    @Test("SIGKILL mid-load: after the next start every acknowledged append is named by its own access-log entry")
    func acknowledgedAppendsAreRecorded() async throws {
        let f = try LedgerFixture()
        let created = parseJSONLine(
            try f.cli.ok("token", "create", "--role", "append", "--name", "loader", "--json").text)
        let token = try #require(created["token"] as? String)
        let tokenID = try #require(created["id"] as? String)
        var acknowledged: [Acknowledged] = []
        for round in 0..<4 {
            let server = try ServeCLITests.Server(
                ledger: f.cli.ledger, arguments: ["--rate-limit", "0"], stderrPath: f.dir.file("serve-\(round).log"))
            let count = Counter()
            async let appended = Self.load(server.url, token: token, clients: 16, round: round, count: count)
            // Kill mid-load: once appends are being acknowledged (up to 30 s on a slow machine), at a random moment.
            for _ in 0..<300 where count.value.load(ordering: .relaxed) < 20 {
                try await Task.sleep(for: .milliseconds(100))
            }
            try await Task.sleep(for: .milliseconds(Int.random(in: 0...300)))
            kill(server.process.processIdentifier, SIGKILL)
            server.process.waitUntilExit()
            #expect(server.process.terminationReason == .uncaughtSignal)
            acknowledged += await appended
        }
        #expect(acknowledged.count > 0)
        // The next start moves what the outbox holds and reconciles, before it listens.
        let last = try ServeCLITests.Server(ledger: f.cli.ledger, stderrPath: f.dir.file("serve-last.log"))
        #expect(last.terminate() == 0, "\(last.log)")
        // How often a kill fell between the two commits (the starts that found rows say so in their log).
        let starts = (1..<4).map { f.dir.file("serve-\($0).log") } + [f.dir.file("serve-last.log")]
        let moved = starts.filter {
            ((try? String(contentsOfFile: $0, encoding: .utf8)) ?? "").contains("access outbox")
        }
        print(
            "serve crash test: \(acknowledged.count) acknowledged appends; \(moved.count) of 4 starts moved outbox rows"
        )

        let outbox = try await Ledger.open(at: f.cli.ledger).read { try $0.outboxRows() }
        #expect(outbox.count == 0, "rows left in the access outbox after a start")
        let entries = try await Ledger.open(at: f.cli.ledger + "/access-log").read { snapshot in
            try (0..<snapshot.treeSize).map { try snapshot.entry(at: $0) }
        }
        var named: [String: (token: String?, indexes: Set<UInt64>)] = [:]
        for bytes in entries {
            let entry = try JSONParser.parse(bytes)
            guard entry["type"]?.stringValue == "append", let id = entry["request_id"]?.stringValue else { continue }
            #expect(named[id] == nil, "request \(id) is named twice")
            var indexes = Set<UInt64>()
            if let first = entry["first"]?.nonNegativeIntValue, let count = entry["count"]?.nonNegativeIntValue {
                indexes.formUnion((0..<count).map { UInt64(first + $0) })
            }
            for run in entry["duplicate_runs"]?.arrayValue ?? [] {
                if let first = run[0]?.nonNegativeIntValue, let count = run[1]?.nonNegativeIntValue {
                    indexes.formUnion((0..<count).map { UInt64(first + $0) })
                }
            }
            named[id] = (entry["token"]?["id"]?.stringValue, indexes)
        }
        var missing = 0
        for append in acknowledged {
            guard let entry = named[append.requestID] else {
                missing += 1
                continue
            }
            #expect(entry.token == tokenID)
            #expect(entry.indexes == Set(append.indexes), "request \(append.requestID)")
        }
        #expect(missing == 0, "\(missing) of \(acknowledged.count) acknowledged appends have no access-log entry")
        try f.cli.ok("fsck")
        try f.cli.ok("fsck", "--ledger", f.cli.ledger + "/access-log")
    }
}
