import CairnCrypto
import CairnJSON
import CairnLedger
import CairnServer
import CairnTestSupport
import Testing

/// An entry committed to the ledger whose access-log record never became durable (the process died
/// between the two, and the client never retried) is recorded as `unrecorded` at the next start,
/// with the appender the ledger stored for it (specs/http-api.md §6, "Reconciliation").
@Suite("The access log is reconciled with the ledger at start-up")
struct AccessLogReconciliationTests {
    /// The JSON of access-log entry `index`.
    static func accessEntry(_ fixture: ServerFixture, _ index: UInt64) throws -> JSONValue {
        try JSONParser.parse(try fixture.server.accessLog.ledger.entry(at: index))
    }

    @Test("Entries appended without an access-log record are recorded with their appender; a second run finds none")
    func recordsUnrecordedEntries() async throws {
        let fixture = try await ServerFixture()
        let reconcile = AccessLogReconciliation(main: fixture.ledger, accessLog: fixture.server.accessLog)
        // Whatever the fixture appended before any access log existed is accounted for first.
        let start = try await reconcile.run()
        #expect(start.from == 0)
        let base = try fixture.ledger.treeSize()
        #expect(start.through == base)

        // Recorded appends (over HTTP), then two entries committed with no record, as a crash
        // between the commit and the access-log record leaves them, then another recorded append.
        try await fixture.live { client in
            try await client.append([note("recorded 1"), note("recorded 2")])
            let engine = IngestEngine(ledger: fixture.ledger)
            let producer = Principal(
                kind: .token, id: try #require(fixture.tokenIDs["append2"]), name: "append2-token")
            _ = try await engine.append(
                contentsOf: [note("lost 1"), note("lost 2")].map {
                    try PreparedEntry.prepare(json: Array($0.utf8), maxEntryBytes: 1 << 20)
                }, as: producer)
            await engine.shutdownGracefully()
            try await client.append([note("recorded 3")])
        }
        #expect(try fixture.ledger.treeSize() == base + 5)
        let accessSize = try fixture.server.accessLog.ledger.treeSize()

        let server = try CairnServer(
            ledger: fixture.ledger, configuration: fixture.server.configuration, logger: fixture.server.logger)
        defer { server.shutdown() }
        let again = AccessLogReconciliation(main: fixture.ledger, accessLog: server.accessLog)
        let outcome = try await again.run()
        #expect(outcome.from == base)
        #expect(outcome.through == base + 5)
        #expect(outcome.unrecordedEntries == 2)
        #expect(outcome.runs == 1)
        // It read back the two append records to the marker of the first run, and no further.
        #expect(outcome.accessEntriesRead == 3)
        #expect(accessSize == 3)

        // The unrecorded entry names the run, its appender, and a hash of the entries' addresses.
        #expect(try server.accessLog.ledger.treeSize() == accessSize + 2)
        let unrecorded = try Self.accessEntry(fixture, accessSize)
        #expect(unrecorded["type"]?.stringValue == "unrecorded")
        let run = try #require(unrecorded["runs"]?[0])
        #expect(run["first"]?.intValue == Int(base + 2))
        #expect(run["count"]?.intValue == 2)
        #expect(run["appended_by"]?["id"]?.stringValue == fixture.tokenIDs["append2"])
        #expect(run["appended_by"]?["kind"]?.stringValue == "token")
        var addresses: [UInt8] = []
        for index in [base + 2, base + 3] { addresses += SHA256.hash(try fixture.ledger.entry(at: index)).bytes }
        #expect(run["entries_sha256"]?.stringValue == SHA256.hash(addresses).hex)
        let marker = try Self.accessEntry(fixture, accessSize + 1)
        #expect(marker["type"]?.stringValue == "reconcile")
        #expect(marker["from"]?.intValue == Int(base))
        #expect(marker["through"]?.intValue == Int(base + 5))
        #expect(marker["unrecorded"]?.intValue == 2)

        // Nothing new: the next start reads only back to its own marker and records no gap.
        let third = try await again.run()
        #expect(third.unrecordedEntries == 0)
        #expect(third.from == base + 5)
        #expect(third.accessEntriesRead == 1)

        // An auditor asking for the token's activity finds the unrecorded run among its entries.
        let tokens = fixture.tokens
        let producerID = try #require(fixture.tokenIDs["append2"])
        let byToken = try await server.makeApplication().test(.router) { client in
            try await Client(client: client, tokens: tokens, log: nil).get(
                "/v1/access-log/query?token=\(producerID)", as: "audit")
        }
        let indexes = byToken.json["matches"]?.arrayValue?.compactMap { $0["index"]?.intValue } ?? []
        #expect(indexes.contains(Int(accessSize)), "\(indexes)")
        let other = try #require(fixture.tokenIDs["read"])
        let byOther = try await server.makeApplication().test(.router) { client in
            try await Client(client: client, tokens: tokens, log: nil).get(
                "/v1/access-log/query?token=\(other)", as: "audit")
        }
        #expect(!(byOther.json["matches"]?.arrayValue ?? []).contains { $0["index"]?.intValue == Int(accessSize) })
    }

    @Test("A retry that finds its entries already committed names them as duplicates: nothing is unrecorded")
    func retriedDuplicatesAreCovered() async throws {
        let fixture = try await ServerFixture()
        let reconcile = AccessLogReconciliation(main: fixture.ledger, accessLog: fixture.server.accessLog)
        try await reconcile.run()
        try await fixture.live { client in
            let engine = IngestEngine(ledger: fixture.ledger)
            _ = try await engine.append(
                try PreparedEntry.prepare(
                    json: Array(note("committed, never acknowledged").utf8), maxEntryBytes: 1 << 20))
            await engine.shutdownGracefully()
            let retry = try await client.append([note("committed, never acknowledged"), note("new")])
            #expect(retry.first?["duplicate"]?.boolValue == true)
        }
        let server = try CairnServer(
            ledger: fixture.ledger, configuration: fixture.server.configuration, logger: fixture.server.logger)
        defer { server.shutdown() }
        let outcome = try await AccessLogReconciliation(main: fixture.ledger, accessLog: server.accessLog).run()
        #expect(outcome.unrecordedEntries == 0)
    }

    @Test("Coverage: gaps between recorded runs, overlapping and out-of-order runs, and the whole range")
    func coverage() {
        var coverage = IndexCoverage()
        #expect(coverage.gaps(in: 0..<10) == [0..<10])
        coverage.add(5, count: 2)
        coverage.add(0, count: 2)
        coverage.add(1, count: 2)
        coverage.add(9, count: 100)
        #expect(coverage.gaps(in: 0..<10) == [3..<5, 7..<9])
        #expect(coverage.gaps(in: 4..<6) == [4..<5])
        #expect(coverage.gaps(in: 9..<50).isEmpty)
        coverage.add(UInt64.max - 1, count: 5)  // saturates instead of trapping
        #expect(coverage.gaps(in: 0..<3).isEmpty)
    }
}
