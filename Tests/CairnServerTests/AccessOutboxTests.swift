import CairnCrypto
import CairnJSON
import CairnLedger
import CairnProofs
import CairnServer
import CairnTestSupport
import HTTPTypes
import Testing

/// An HTTP append's access-log entry is made durable in the records' own commit, in the main
/// ledger's access outbox, and moved into the access log from there (specs/http-api.md §6,
/// specs/storage.md "The access outbox").
@Suite("The access outbox")
struct AccessOutboxTests {
    static func outboxRows(_ fixture: ServerFixture) throws -> [OutboxRow] {
        try fixture.ledger.read { try $0.outboxRows() }
    }

    @Test(
        "an acknowledged append's entry is durable with its records, reaches the access log byte for byte, and is deleted"
    )
    func oneCommit() async throws {
        let fixture = try await ServerFixture()
        let appender = try #require(fixture.tokenIDs["append"])
        try await fixture.inProcess { client in
            let reply = try await client.post("/v1/entries", ndjson: [note("a"), note("b")])
            #expect(reply.code == 200, "\(reply.text)")
            let requestID = try #require(reply.headers[HTTPField.Name("Cairn-Request-Id")!])
            // Acknowledged: the entry is in the main ledger already (only a later main commit deletes it).
            let rows = try Self.outboxRows(fixture)
            #expect(rows.count == 1)
            let row = try #require(rows.first)
            let entry = try JSONParser.parse(row.bytes)
            #expect(entry["type"]?.stringValue == "append")
            #expect(entry["request_id"]?.stringValue == requestID)
            #expect(entry["token"]?["id"]?.stringValue == appender)
            #expect(entry["first"]?.intValue == 0)
            #expect(entry["count"]?.intValue == 2)
            #expect(JCS.isCanonical(json: row.bytes))

            // Moved into the access log as it is.
            try await fixture.server.accessLog.settle()
            #expect(try fixture.server.accessLog.ledger.treeSize() == 1)
            #expect(try fixture.server.accessLog.ledger.entry(at: 0) == row.bytes)

            // The next commit of the main ledger deletes the delivered row and writes its own.
            let retry = try await client.post("/v1/entries", ndjson: [note("a")])
            #expect(retry.code == 200)
            let next = try Self.outboxRows(fixture)
            #expect(next.count == 1)
            #expect(next.first?.key != row.key)
            let duplicate = try JSONParser.parse(try #require(next.first?.bytes))
            #expect(duplicate["count"]?.intValue == 0)
            #expect(duplicate["duplicate_runs"]?.arrayValue?.count == 1)
        }
        // A clean stop leaves nothing in the outbox, everything in the access log.
        #expect(try Self.outboxRows(fixture).isEmpty)
        #expect(try fixture.server.accessLog.ledger.treeSize() == 2)
    }

    @Test("rows a stopped server left in the outbox are moved at the next start, once, before reconciliation")
    func leftoversAreMoved() async throws {
        let fixture = try await ServerFixture()
        let tokenID = try #require(fixture.tokenIDs["append"])
        let principal = Principal(kind: .token, id: tokenID, name: "append-token")
        // Everything the fixture appended before is accounted for first.
        try await fixture.server.reconcileAccessLog()
        let accessBase = try fixture.server.accessLog.ledger.treeSize()
        let mainBase = try fixture.ledger.treeSize()

        // A server that died after three commits: records and their outbox rows durable, the access log never
        // given them (an engine without an outbox delivery writes the rows and leaves them).
        let engine = IngestEngine(ledger: fixture.ledger)
        for number in 0..<3 {
            _ = try await engine.append(
                contentsOf: [
                    try PreparedEntry.prepare(json: Array(note("lost \(number)").utf8), maxEntryBytes: 1 << 20)
                ],
                as: principal,
                outboxRow: { outcomes in
                    try AppendAccessRecord.outboxRow(
                        of: outcomes, by: principal, requestID: "request-\(number)", peer: "127.0.0.1")
                })
        }
        await engine.shutdownGracefully()
        let rows = try Self.outboxRows(fixture)
        #expect(rows.count == 3)
        // The first reached the access log before the crash; its deletion did not reach the main ledger.
        _ = try await fixture.server.accessLog.engine.append(PreparedEntry(canonicalBytes: rows[0].bytes))

        // The next start moves them (the first again: a duplicate), then reconciles: nothing is unrecorded.
        try await fixture.server.reconcileAccessLog()
        #expect(try Self.outboxRows(fixture).isEmpty)
        let access = fixture.server.accessLog.ledger
        #expect(try access.treeSize() == accessBase + 4)  // the three rows, once each, and the reconcile entry
        for (offset, row) in rows.enumerated() {
            #expect(try access.entry(at: accessBase + UInt64(offset)) == row.bytes)
            let entry = try JSONParser.parse(row.bytes)
            #expect(entry["first"]?.intValue == Int(mainBase) + offset)
            #expect(entry["token"]?["id"]?.stringValue == tokenID)
        }
        let reconcile = try JSONParser.parse(try access.entry(at: accessBase + 3))
        #expect(reconcile["type"]?.stringValue == "reconcile")
        #expect(reconcile["unrecorded"]?.intValue == 0)
        #expect(reconcile["through"]?.intValue == Int(mainBase) + 3)

        // The access log still verifies: its own fsck, and an inclusion proof of a moved entry checked against
        // its checkpoint and key.
        #expect(try access.fsck().leaves == accessBase + 4)
        try await fixture.inProcess { client in
            let reply = try await client.get("/v1/access-log/proof/inclusion?entry=\(accessBase + 1)", as: "audit")
            #expect(reply.code == 200, "\(reply.text)")
            let proof = try TlogProof(parsing: reply.body)
            #expect(try proof.verify(entry: rows[1].bytes, logKey: access.verifierKey).size == accessBase + 4)
        }
        // A second start finds nothing to move.
        let again = try CairnServer(
            ledger: fixture.ledger, configuration: fixture.server.configuration, logger: fixture.server.logger)
        defer { again.shutdown() }
        try await again.reconcileAccessLog()
        #expect(try again.accessLog.ledger.treeSize() == accessBase + 5)  // only the new reconcile entry
    }

    @Test("a stopped access log refuses appends (503) rather than let its outbox grow")
    func failClosed() async throws {
        let fixture = try await ServerFixture()
        try await fixture.inProcess { client in
            fixture.server.accessLog.shutdown()
            let reply = try await client.post("/v1/entries", ndjson: [note("refused")])
            #expect(reply.code == 503)
            #expect(reply.error == "unavailable")
        }
        #expect(try fixture.ledger.treeSize() == 0)
        #expect(try Self.outboxRows(fixture).isEmpty)
    }
}
