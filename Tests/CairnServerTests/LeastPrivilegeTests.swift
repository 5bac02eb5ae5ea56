import CairnCrypto
import CairnJSON
import CairnLedger
import CairnServer
import CairnTestSupport
import Foundation
import Testing

/// Issue 10, items 4 and 14: destroying data needs a role of its own, a producer cannot rewrite
/// another producer's history, and who appended every entry is recorded, shown and provable.
@Suite("Least privilege: erasure, corrections, appenders")
struct LeastPrivilegeTests {
    static let checkpoint = ServerFixture.provenanceRecords[0]
    static let checkpointID = "0f8e7a52-3c1d-4d7e-9a41-7f1c2b6e5d01"

    static func review(_ decision: String, by reviewer: String = "bob@example.com") -> String {
        #"{"type":"review","schema":1,"subject":"\#(checkpointID)","reviewer":"\#(reviewer)","decision":"\#(decision)","at":"2026-11-20T10:02:41Z"}"#
    }

    static func correction(of digest: String, patch: String) -> String {
        #"{"type":"correction","schema":1,"corrects":"\#(digest)","author":"mallory@example.com","reason":"fixing it","patch":\#(patch)}"#
    }

    @Test("an append token cannot erase a blob; the erase role (or admin) can")
    func erasureNeedsItsRole() async throws {
        let fixture = try await ServerFixture(profile: .provenance)
        try await fixture.live { client in
            let blob = try await client.send(
                .post, "/v1/blobs", as: "append", body: Array("secret prompt".utf8), contentType: "text/plain")
            let address = try #require(blob.json["blob"]?.stringValue)
            let erasure =
                #"{"type":"erasure","schema":1,"blob":"\#(address)","reason":"leak","at":"2026-11-22T08:00:00Z","author":"sec@example.com"}"#
            let refused = try await client.post("/v1/entries", as: "append", ndjson: [erasure])
            #expect(refused.code == 403, "\(refused.text)")
            #expect(refused.error == "forbidden")
            #expect(refused.text.contains("erase role"))
            let corrector = try await client.post("/v1/entries", as: "corrector", ndjson: [erasure])
            #expect(corrector.code == 403)
            // Nothing was written, and the bytes are still there.
            #expect(try fixture.ledger.treeSize() == 0)
            #expect(try await client.get("/v1/blobs/\(address)", as: "read").code == 200)
            let allowed = try await client.post("/v1/entries", as: "eraser", ndjson: [erasure])
            #expect(allowed.code == 200, "\(allowed.text)")
            #expect(try await client.get("/v1/blobs/\(address)", as: "read").code == 410)
        }
    }

    @Test("an append token may place a legal hold but not release one; the erase role can")
    func releasingAHoldNeedsTheEraseRole() async throws {
        let fixture = try await ServerFixture(profile: .provenance)
        try await fixture.live { client in
            try await client.append([Self.checkpoint], as: "append")
            func hold(_ action: String, _ scope: String) -> String {
                #"{"type":"legal-hold","schema":1,"hold":"LIT-1","action":"\#(action)",\#(scope)"reason":"dispute","at":"2026-11-25T09:00:00Z","author":"legal@example.com"}"#
            }
            let placed = try await client.post(
                "/v1/entries", as: "append", ndjson: [hold("place", #""subject":"\#(Self.checkpointID)","#)])
            #expect(placed.code == 200, "\(placed.text)")
            let release = hold("release", "")
            let refused = try await client.post("/v1/entries", as: "append", ndjson: [release])
            #expect(refused.code == 403, "\(refused.text)")
            #expect(refused.text.contains("erase role") && refused.text.contains("legal hold"))
            #expect(try fixture.ledger.treeSize() == 2)
            let allowed = try await client.post("/v1/entries", as: "eraser", ndjson: [release])
            #expect(allowed.code == 200, "\(allowed.text)")
            #expect(try fixture.ledger.treeSize() == 3)
        }
    }

    @Test("a producer cannot correct what another appended; its own records, and the correct role, can")
    func correctionsBelongToTheirAppender() async throws {
        let fixture = try await ServerFixture(profile: .provenance)
        try await fixture.live { client in
            try await client.append([Self.checkpoint], as: "append")
            let reviewReceipt = try await client.append([Self.review("changes_requested")], as: "append")
            let reviewDigest = try #require(reviewReceipt.first?["digest"]?.stringValue)
            let checkpointDigest = SHA256.hash(try fixture.ledger.entry(at: 0)).description

            // Another team's token flips the review, moves it, hides the checkpoint: all refused.
            for attempt in [
                Self.correction(of: reviewDigest, patch: #"{"decision":"approved"}"#),
                Self.correction(
                    of: reviewDigest, patch: #"{"subject":"sha256:\#(String(repeating: "0", count: 64))"}"#),
                Self.correction(
                    of: checkpointDigest, patch: #"{"outputs":[],"model":{"id":"other","version":"1"}}"#),
            ] {
                let reply = try await client.post("/v1/entries", as: "append2", ndjson: [attempt])
                #expect(reply.code == 422, "\(reply.text)")
                #expect(reply.problems.first?["code"]?.stringValue == "notPermitted", "\(reply.text)")
                #expect(reply.text.contains(fixture.tokenIDs["append"]!), "the message names the appender")
            }
            #expect(try fixture.ledger.treeSize() == 2)
            #expect(try fixture.ledger.view(1).effective["decision"]?.stringValue == "changes_requested")

            // The appender itself may correct its record, and so may a token with the correct role.
            let own = try await client.post(
                "/v1/entries", as: "append",
                ndjson: [Self.correction(of: reviewDigest, patch: #"{"feedback":["see thread"]}"#)])
            #expect(own.code == 200, "\(own.text)")
            let trusted = try await client.post(
                "/v1/entries", as: "corrector",
                ndjson: [Self.correction(of: reviewDigest, patch: #"{"decision":"approved"}"#)])
            #expect(trusted.code == 200, "\(trusted.text)")
            #expect(try fixture.ledger.view(1).effective["decision"]?.stringValue == "approved")
        }
    }

    @Test("views and history show who appended each entry; the access log proves it")
    func appendersAreShownAndProvable() async throws {
        let fixture = try await ServerFixture(profile: .provenance)
        try await fixture.live { client in
            try await client.append([Self.checkpoint], as: "append")
            try await client.append([Self.review("approved", by: "carol@example.com")], as: "append2")
            let view = try await client.get("/v1/records/\(Self.checkpointID)?history=true", as: "read")
            #expect(view.code == 200)
            #expect(view.json["appended_by"]?["kind"]?.stringValue == "token")
            #expect(view.json["appended_by"]?["id"]?.stringValue == fixture.tokenIDs["append"])
            #expect(view.json["appended_by"]?["name"]?.stringValue == "append-token")
            #expect(view.json["history"]?[0]?["appended_by"]?["id"]?.stringValue == fixture.tokenIDs["append2"])

            // The access log holds an append entry per request: the token, the index and the
            // SHA-256 of the appended entries' addresses.
            let log = try await client.get("/v1/access-log/query?limit=100", as: "audit")
            let appends = (log.json["matches"]?.arrayValue ?? []).compactMap { $0["record"] }
                .filter { $0["type"]?.stringValue == "append" }
            #expect(appends.count == 2, "\(log.text)")
            let first = try #require(appends.first)
            #expect(first["token"]?["id"]?.stringValue == fixture.tokenIDs["append"])
            #expect(first["first"]?.intValue == 0)
            #expect(first["count"]?.intValue == 1)
            let digest = SHA256.hash(try fixture.ledger.entry(at: 0))
            #expect(first["entries_sha256"]?.stringValue == digest.withUnsafeBytes { SHA256.hash($0) }.hex)
        }
    }
}
