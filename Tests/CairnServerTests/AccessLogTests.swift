import CairnCrypto
import CairnJSON
import CairnLedger
import CairnNote
import CairnProofs
import CairnServer
import CairnTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import Testing

/// Every authenticated read of contents lands in the access log, which the audit role queries
/// and proves like the main log; a read the access log cannot record is refused.
@Suite("The access log")
struct AccessLogTests {
    @Test("content reads are recorded (who, what, when, from where, status) and provable; other requests are not")
    func recorded() async throws {
        let fixture = try await ServerFixture(profile: .provenance)
        let records = ServerFixture.provenanceRecords
        try await fixture.live { client in
            try await client.append(records)
            let blob = try await client.send(
                .post, "/v1/blobs", as: "append", body: Array("b".utf8), contentType: "text/plain")
            let blobAddress = try #require(blob.json["blob"]?.stringValue)
            // Not recorded: blob uploads, transparency reads, refused requests, operations. The append
            // is (who appended which entries), as entry 0.
            _ = try await client.get("/checkpoint", as: "read")
            _ = try await client.get("/v1/proof/inclusion?entry=0", as: "read")
            _ = try await client.get("/v1/entries/0")
            _ = try await client.get("/v1/entries/0", as: "append")
            _ = try await client.get("/healthz")
            // The append's entry reaches the access log just after the append is answered (§6).
            try await fixture.server.accessLog.settle()
            #expect(try fixture.server.accessLog.ledger.treeSize() == 1)
            let append = try JSONParser.parse(try fixture.server.accessLog.ledger.entry(at: 0))
            #expect(append["type"]?.stringValue == "append")
            #expect(append["token"]?["id"]?.stringValue == fixture.tokenIDs["append"])
            #expect(append["count"]?.intValue == records.count)

            let reads: [(uri: String, role: String, status: Int)] = [
                ("/v1/entries/0", "read", 200),
                ("/v1/records/0f8e7a52-3c1d-4d7e-9a41-7f1c2b6e5d01?history=true", "audit", 200),
                ("/v1/query?model=claude-sonnet-4-5&limit=5", "admin", 200),
                ("/v1/blobs/\(blobAddress)", "read", 200),
                ("/v1/entries/999", "read", 404),
                ("/tile/entries/000.p/1", "audit", 200),
            ]
            var requestIDs: [String] = []
            for read in reads {
                let reply = try await client.get(read.uri, as: read.role)
                #expect(reply.code == read.status, "\(read.uri): \(reply.text)")
                requestIDs.append(try #require(reply.headers[HTTPField.Name("Cairn-Request-Id")!]))
            }
            let accessLedger = fixture.server.accessLog.ledger
            #expect(try accessLedger.treeSize() == UInt64(1 + reads.count))
            #expect(accessLedger.origin == "example.com/cairn-server-test/access-log")

            // The audit role reads them back, in order.
            let query = try await client.get("/v1/access-log/query", as: "audit")
            #expect(query.code == 200, "\(query.text)")
            let all = try #require(query.json["matches"]?.arrayValue)
            #expect(all.count == 1 + reads.count)
            let matches = Array(all.dropFirst())  // the reads
            let first = try #require(matches.first?["record"])
            #expect(first["type"]?.stringValue == "access")
            #expect(first["token"]?["id"]?.stringValue == fixture.tokenIDs["read"])
            #expect(first["token"]?["name"]?.stringValue == "read-token")
            #expect(first["peer"]?.stringValue == "127.0.0.1")
            #expect(first["method"]?.stringValue == "GET")
            #expect(first["route"]?.stringValue == "/v1/entries/{entry}")
            #expect(first["target"] == ["entry": "0"])
            #expect(first["status"]?.intValue == 200)
            #expect(matches.map { $0["record"]?["request_id"]?.stringValue } == requestIDs)
            #expect(matches[2]["record"]?["target"]?["query"] == ["model": "claude-sonnet-4-5", "limit": "5"])
            #expect(matches[3]["record"]?["target"] == ["blob": .string(blobAddress)])
            #expect(matches[4]["record"]?["status"]?.intValue == 404)
            #expect(matches[5]["record"]?["target"] == ["tile": "tile/entries/000.p/1"])
            // No secret and no record content in the access log.
            for index in 0...UInt64(reads.count) {
                let text = String(decoding: try accessLedger.entry(at: index), as: UTF8.self)
                for secret in fixture.tokens.values { #expect(!text.contains(secret)) }
                #expect(!text.contains("exponential backoff"))
            }

            // Filters: by token, by time.
            let byToken = try await client.get("/v1/access-log/query?token=\(fixture.tokenIDs["read"]!)", as: "audit")
            #expect(byToken.json["count"]?.intValue == 3)
            let future = try await client.get("/v1/access-log/query?since=2999-01-01", as: "audit")
            #expect(future.json["count"]?.intValue == 0)
            let past = try await client.get("/v1/access-log/query?until=2000-01-01T00:00:00Z", as: "audit")
            #expect(past.json["count"]?.intValue == 0)
            let now = try await client.get(
                "/v1/access-log/query?since=2000-01-01&until=2999-01-01&limit=2", as: "audit")
            #expect(now.json["count"]?.intValue == 2)
            #expect(try await client.get("/v1/access-log/query?limit=0", as: "audit").code == 400)
            #expect(try await client.get("/v1/access-log/query?who=me", as: "audit").code == 400)

            // Proofs that verify against the access log's own key.
            let entry = try await client.get("/v1/access-log/entries/4?raw=true", as: "audit")
            #expect(entry.body == (try accessLedger.entry(at: 4)))
            let proofReply = try await client.get("/v1/access-log/proof/inclusion?entry=4", as: "audit")
            #expect(proofReply.code == 200)
            let proof = try TlogProof(parsing: proofReply.body)
            let verified = try proof.verify(entry: entry.body, logKey: accessLedger.verifierKey)
            #expect(verified.size == UInt64(1 + reads.count))
            #expect(throws: ProofError.self) { try proof.verify(entry: entry.body, logKey: fixture.ledger.verifierKey) }
            let checkpoint = try await client.get("/v1/access-log/checkpoint", as: "audit")
            let old = try SignedCheckpoint(parsing: checkpoint.body)
            _ = try await client.get("/v1/entries/1", as: "read")
            let consistency = try await client.get(
                "/v1/access-log/proof/consistency?old=\(1 + reads.count)", as: "audit")
            let request = try ConsistencyProofRequest(parsing: consistency.body)
            #expect(
                try request.verify(oldCheckpoint: old, logKey: accessLedger.verifierKey).size == UInt64(reads.count + 2)
            )
            // The vkey file is where the spec says.
            let vkey = try String(contentsOfFile: fixture.ledger.directory + "/access-log/ledger.vkey", encoding: .utf8)
            #expect(vkey == accessLedger.verifierKey.description + "\n")
            // Reading the access log is not itself recorded.
            #expect(try accessLedger.treeSize() == UInt64(reads.count + 2))
        }
    }

    @Test("fail closed: when the access log cannot record, content reads are 503 and nothing is served")
    func failClosed() async throws {
        let fixture = try await ServerFixture()
        try await fixture.inProcess { client in
            try await client.append([note("secret")])
            fixture.server.accessLog.shutdown()  // the access log's engine refuses everything from now on
            let reply = try await client.get("/v1/entries/0", as: "read")
            #expect(reply.code == 503)
            #expect(reply.error == "unavailable")
            #expect(reply.headers[.retryAfter] != nil)
            #expect(!reply.text.contains("secret"))
            let raw = try await client.get("/v1/entries/0?raw=true", as: "read")
            #expect(raw.code == 503)
            // Reads that reveal no contents still work.
            #expect(try await client.get("/checkpoint", as: "read").code == 200)
        }
    }

    @Test("the access log is reopened on restart, and refused if it belongs to another log")
    func reopen() async throws {
        let fixture = try await ServerFixture()
        try await fixture.inProcess { client in
            try await client.append([note("x")])
            _ = try await client.get("/v1/entries/0", as: "read")
        }
        let reopened = try AccessLog.openOrCreate(for: fixture.ledger)
        #expect(try reopened.treeSize() == 2)  // the append and the read
        let other = try TemporaryDirectory()
        var options = Ledger.CreateOptions()
        options.profile = .generic
        let stranger = try Ledger.create(at: other.file("l"), origin: "example.com/other", options: options)
        _ = try Ledger.create(at: other.file("l/access-log"), origin: "example.com/not-it", options: options)
        #expect(throws: LedgerError.self) { try AccessLog.openOrCreate(for: stranger) }
    }
}
