import CairnCrypto
import CairnJSON
import CairnLedger
import CairnMerkle
import CairnNote
import CairnProofs
import CairnServer
import CairnTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import Testing

/// Entries, records, queries, blobs, the checkpoint and proofs, read over a real socket.
@Suite("Reads")
struct ReadTests {
    @Test("GET /v1/entries: JSON by index and by address, exact bytes with Accept or raw=true, 404, 400")
    func entries() async throws {
        let fixture = try await ServerFixture()
        try await fixture.live { client in
            let results = try await client.append([note("zero"), #"{"type":"note","text":"é \"q\"","n":1.50}"#])
            let digest = try #require(results[1]["digest"]?.stringValue)
            let bytes = try fixture.ledger.entry(at: 1)
            for uri in [
                "/v1/entries/1", "/v1/entries/\(digest)",
                "/v1/entries/\(digest.replacingOccurrences(of: ":", with: "%3A"))",
            ] {
                let reply = try await client.get(uri, as: "read")
                #expect(reply.code == 200, "\(uri): \(reply.text)")
                #expect(reply.json["index"]?.intValue == 1)
                #expect(reply.json["digest"]?.stringValue == digest)
                #expect(reply.json["leaf_hash"]?.stringValue == RFC6962.leafHash(bytes).base64)
                #expect(reply.json["record"]?["text"]?.stringValue == "é \"q\"")
                #expect(reply.headers[.cacheControl] == "no-store")
            }
            let raw = try await client.get("/v1/entries/1?raw=true", as: "read")
            #expect(raw.body == bytes)
            #expect(raw.contentType == "application/octet-stream")
            let accept = try await client.get(
                "/v1/entries/1", as: "read", headers: [.accept: "application/octet-stream"])
            #expect(accept.body == bytes)
            let preferJSON = try await client.get(
                "/v1/entries/1", as: "read", headers: [.accept: "application/octet-stream;q=0.5, application/json"])
            #expect(preferJSON.contentType == "application/json")
            for (uri, status) in [
                ("/v1/entries/2", 404), ("/v1/entries/sha256:\(String(repeating: "ab", count: 32))", 404),
                ("/v1/entries/-1", 400), ("/v1/entries/+1", 400), ("/v1/entries/99999999999999999999999", 400),
                ("/v1/entries/sha256:XYZ", 400), ("/v1/entries/0?raw=maybe", 400), ("/v1/entries/0?foo=1", 400),
            ] {
                let reply = try await client.get(uri, as: "read")
                #expect(reply.code == status, "\(uri): \(reply.text)")
                #expect(reply.error == (status == 404 ? "not_found" : "invalid_parameter"), "\(uri)")
            }
            // Unknown routes and wrong methods.
            let unknown = try await client.get("/v1/nothing", as: "read")
            #expect(unknown.code == 404)
            #expect(unknown.error == "not_found")
            let wrongMethod = try await client.send(.delete, "/v1/entries/0", as: "admin")
            #expect(wrongMethod.code == 405)
            #expect(wrongMethod.headers[.allow] == "GET")
            #expect(wrongMethod.error == "method_not_allowed")
        }
    }

    @Test("checkpoint and proofs: C2SP text that verifies with the vkey; bad sizes are 400, unknown entries 404")
    func proofs() async throws {
        let fixture = try await ServerFixture()
        try await fixture.live { client in
            try await client.append((0..<9).map { note("n\($0)") })
            let checkpointReply = try await client.get("/checkpoint", as: "read")
            #expect(checkpointReply.contentType == "text/plain; charset=utf-8")
            #expect(checkpointReply.text == (try fixture.ledger.checkpoint()).serialized)
            let old = try CheckpointVerifier.verify(checkpointReply.body, logKey: fixture.ledger.verifierKey)
            #expect(old.size == 9)
            let oldNote = try SignedCheckpoint(parsing: checkpointReply.body)
            try await client.append((9..<20).map { note("n\($0)") })

            for (entry, size) in [("4", nil), ("0", 9), ("19", nil)] as [(String, UInt64?)] {
                let uri = "/v1/proof/inclusion?entry=\(entry)" + (size.map { "&size=\($0)" } ?? "")
                let reply = try await client.get(uri, as: "read")
                #expect(reply.code == 200, "\(uri): \(reply.text)")
                #expect(reply.contentType == "text/plain; charset=utf-8")
                let proof = try TlogProof(parsing: reply.body)
                let verified = try proof.verify(
                    entry: try fixture.ledger.entry(at: UInt64(entry)!), logKey: fixture.ledger.verifierKey)
                #expect(verified.size == size ?? 20)
                // A proof by content address is the same proof.
                let digest = SHA256.hash(try fixture.ledger.entry(at: UInt64(entry)!))
                let byDigest = try await client.get(
                    "/v1/proof/inclusion?entry=\(digest)" + (size.map { "&size=\($0)" } ?? ""), as: "read")
                #expect(byDigest.body == reply.body)
            }
            let consistency = try await client.get("/v1/proof/consistency?old=9", as: "read")
            #expect(consistency.code == 200)
            let request = try ConsistencyProofRequest(parsing: consistency.body)
            #expect(try request.verify(oldCheckpoint: oldNote, logKey: fixture.ledger.verifierKey).size == 20)
            // Size 15 was never published (the 11 records were one commit): the server does not sign it on
            // request, and nothing was stored by asking.
            let unpublished = try await client.get("/v1/proof/consistency?old=9&size=15", as: "read")
            #expect(unpublished.code == 400, "\(unpublished.text)")
            #expect(unpublished.problems.first?["parameter"]?.stringValue == "size")
            #expect(try await !fixture.ledger.read { try $0.hasCheckpoint(size: 15) })
            let inclusionAt15 = try await client.get("/v1/proof/inclusion?entry=3&size=15", as: "read")
            #expect(inclusionAt15.code == 400, "\(inclusionAt15.text)")
            #expect(try await !fixture.ledger.read { try $0.hasCheckpoint(size: 15) })
            // The same bytes `cairn prove` would print.
            let current = try await client.get("/v1/proof/consistency?old=9", as: "read")
            let proof = try fixture.ledger.consistencyProof(oldSize: 9)
            #expect(
                current.text
                    == ConsistencyProofRequest(oldSize: 9, hashes: proof.hashes, checkpoint: proof.checkpoint)
                    .serialized)

            for (uri, status) in [
                ("/v1/proof/inclusion?entry=20", 404), ("/v1/proof/inclusion?entry=5&size=21", 400),
                ("/v1/proof/inclusion?entry=5&size=5", 400), ("/v1/proof/inclusion?entry=5&size=-1", 400),
                ("/v1/proof/inclusion?entry=5&size=18446744073709551616", 400), ("/v1/proof/inclusion", 400),
                ("/v1/proof/inclusion?entry=5&entry=6", 400), ("/v1/proof/inclusion?entry=5&sise=9", 400),
                ("/v1/proof/consistency?old=21", 400), ("/v1/proof/consistency?old=10&size=9", 400),
                ("/v1/proof/consistency", 400), ("/v1/proof/consistency?old=%zz", 400),
            ] {
                let reply = try await client.get(uri, as: "read")
                #expect(reply.code == status, "\(uri): \(reply.text)")
                #expect(reply.contentType == "application/json", "\(uri)")
            }
            #expect(try fixture.ledger.treeSize() == 20)
        }
    }

    @Test("records: effective view, history; queries with the CLI's filters; bad filters are 400")
    func recordsAndQueries() async throws {
        let fixture = try await ServerFixture(profile: .provenance)
        let records = ServerFixture.provenanceRecords
        try await fixture.live { client in
            try await client.append(records)
            let id = "0f8e7a52-3c1d-4d7e-9a41-7f1c2b6e5d01"
            let view = try await client.get("/v1/records/\(id)?history=true", as: "read")
            #expect(view.code == 200, "\(view.text)")
            #expect(view.json["index"]?.intValue == 0)
            #expect(view.json["corrected"]?.boolValue == false)
            #expect(view.json["record"]?["id"]?.stringValue == id)
            let history = try #require(view.json["history"]?.arrayValue)
            #expect(history.compactMap { $0["type"]?.stringValue } == ["review", "test", "deploy"])
            let plain = try await client.get("/v1/records/0", as: "read")
            #expect(plain.json["history"] == nil)
            #expect(try await client.get("/v1/records/no-such-id", as: "read").code == 404)

            let byModel = try await client.get("/v1/query?model=claude-sonnet-4-5", as: "read")
            #expect(byModel.code == 200, "\(byModel.text)")
            #expect(byModel.json["count"]?.intValue == 1)
            // Rows are spliced from stored bytes: the body is exactly the compact serialization of what it parses to.
            #expect(byModel.body == JSONWriter.compactBytes(byModel.json))
            let match = try #require(byModel.json["matches"]?[0])
            #expect(match["index"]?.intValue == 0)
            #expect(match["reviews"]?[0]?["reviewer"]?.stringValue == "bob@example.com")
            let line = try await client.get("/v1/query?path=src/retry.ts&line=20", as: "read")
            #expect(line.json["count"]?.intValue == 1)
            let outside = try await client.get("/v1/query?path=src/retry.ts&lines=100-200", as: "read")
            #expect(outside.json["count"]?.intValue == 0)
            let deploys = try await client.get(
                "/v1/query?type=deploy&requested_by=\("alice@example.com".queryEncoded)", as: "read")
            #expect(deploys.json["matches"]?[0]?["type"]?.stringValue == "deploy")
            #expect(deploys.json["matches"]?[0]?["checkpoint"]?.intValue == 0)
            let unreviewedSince = try await client.get("/v1/query?since=2026-11-21&unreviewed=true", as: "read")
            #expect(unreviewedSince.json["count"]?.intValue == 0)
            let limited = try await client.get("/v1/query?limit=1", as: "read")
            #expect(limited.json["count"]?.intValue == 1)

            for (uri, parameter) in [
                ("/v1/query?line=5", "line"), ("/v1/query?lines=1-3", "lines"), ("/v1/query?path=a&line=0", "line"),
                ("/v1/query?path=a&line=5&lines=1-9", "lines"), ("/v1/query?path=a&lines=9-1", "lines"),
                ("/v1/query?limit=0", "limit"), ("/v1/query?limit=-5", "limit"), ("/v1/query?limit=10001", "limit"),
                ("/v1/query?limit=99999999999999999999", "limit"), ("/v1/query?since=yesterday", "since"),
                ("/v1/query?type=poem", "type"), ("/v1/query?colour=blue", "colour"), ("/v1/query?model=", "model"),
                ("/v1/query?unreviewed=yes", "unreviewed"), ("/v1/query?model=a&model=b", "model"),
                // Filters that could only ever match nothing (RecordQuery.validate).
                ("/v1/query?tool_path=IDE", "tool_path"), ("/v1/query?commit=9fceb02", "commit"),
                ("/v1/query?commit=9FCEB02D0AE598E95DC970B74767F19372D61AF8", "commit"),
                ("/v1/query?since=2026-12-01&until=2026-11-01", "until"),
            ] {
                let reply = try await client.get(uri, as: "read")
                #expect(reply.code == 400, "\(uri): \(reply.text)")
                #expect(reply.error == "invalid_parameter", "\(uri)")
                #expect(reply.problems.first?["parameter"]?.stringValue == parameter, "\(uri): \(reply.text)")
            }
            #expect(try fixture.ledger.treeSize() == UInt64(records.count))
        }
    }

    @Test("request_id: a checkpoint with the model calls of its request id; type=model-call lists model calls")
    func requestIDQueries() async throws {
        let fixture = try await ServerFixture(profile: .provenance)
        let checkpoint =
            #"{"type":"checkpoint","schema":1,"id":"cp-r","timestamp":"2026-11-20T09:14:03Z","#
            + #""requested_by":"alice@example.com","tool_path":"agent","model":{"id":"gpt-5","version":"1","#
            + #""provider":"openai"},"prompt":"p","request_id":"req 1/2","outputs":[{"repo":"r","#
            + #""commit":"9fceb02d0ae598e95dc970b74767f19372d61af8","path":"a.ts","ranges":[[1,2]],"#
            + #""content_hash":"sha256:\#(String(repeating: "c", count: 64))","contributor":"ai"}]}"#
        let call =
            #"{"type":"model-call","schema":1,"request_id":"req 1/2","provider":"openai","#
            + #""timestamp":"2026-11-20T09:14:01Z","model":{"id":"gpt-5-2025-08-07"},"status":200,"#
            + #""usage":{"input_tokens":3,"output_tokens":4}}"#
        try await fixture.live { client in
            try await client.append([checkpoint, call])
            let reply = try await client.get("/v1/query?request_id=\("req 1/2".queryEncoded)", as: "read")
            #expect(reply.code == 200, "\(reply.text)")
            #expect(reply.json["count"]?.intValue == 1)
            let match = try #require(reply.json["matches"]?[0])
            #expect(match["model_mismatch"] == .bool(true))
            #expect(match["model_calls"]?[0]?["index"]?.intValue == 1)
            #expect(match["model_calls"]?[0]?["model"]?.stringValue == "gpt-5-2025-08-07")
            #expect(match["model_calls"]?[0]?["status"]?.intValue == 200)
            let calls = try await client.get("/v1/query?type=model-call", as: "read")
            #expect(calls.json["matches"]?[0]?["type"]?.stringValue == "model-call")
            let none = try await client.get("/v1/query?request_id=other", as: "read")
            #expect(none.json["count"]?.intValue == 0)
            #expect(try await client.get("/v1/query?request_id=", as: "read").code == 400)
        }
    }

    @Test("queries need a provenance ledger")
    func genericQuery() async throws {
        let fixture = try await ServerFixture()
        try await fixture.live { client in
            let reply = try await client.get("/v1/query?model=x", as: "read")
            #expect(reply.code == 400)
            #expect(reply.error == "invalid_parameter")
        }
    }

    @Test("blobs: store with a media type, read back with it, 404 unknown, 410 erased with when and why")
    func blobs() async throws {
        let fixture = try await ServerFixture(profile: .provenance)
        try await fixture.live { client in
            let payload = Array("--- a/x\n+++ b/x\n@@ -1 +1 @@\n-old\n+new\n".utf8)
            let put = try await client.send(
                .post, "/v1/blobs", as: "append", body: payload, contentType: "text/x-diff; charset=utf-8")
            #expect(put.code == 200, "\(put.text)")
            let address = try #require(put.json["blob"]?.stringValue)
            #expect(
                put.json == [
                    "blob": .string(address), "size": .number(Double(payload.count)),
                    "media_type": "text/x-diff; charset=utf-8",
                ])
            // A salted commitment: each upload draws a new salt.
            #expect(address != "sha256:" + SHA256.hash(payload).hex)
            let again = try await client.send(
                .post, "/v1/blobs", as: "append", body: payload, contentType: "text/x-diff; charset=utf-8")
            #expect(again.json["blob"]?.stringValue != address)
            let get = try await client.get("/v1/blobs/\(address)", as: "read")
            #expect(get.code == 200)
            #expect(get.body == payload)
            let salt = try #require(get.headers[HTTPField.Name("Cairn-Blob-Salt")!].flatMap { Hex.decode($0) })
            #expect("sha256:" + SHA256.hash(salt + payload).hex == address)
            #expect(get.contentType == "text/x-diff; charset=utf-8")
            #expect(get.headers[.cacheControl] == "no-store")
            #expect(
                try await client.get("/v1/blobs/sha256:\(String(repeating: "1", count: 64))", as: "read").code == 404)
            #expect(try await client.get("/v1/blobs/12", as: "read").code == 400)
            let noType = try await client.send(.post, "/v1/blobs", as: "append", body: payload)
            #expect(noType.code == 415)
            let badType = try await client.send(
                .post, "/v1/blobs", as: "append", body: payload, contentType: "nonsense")
            #expect(badType.code == 415)

            try await fixture.ledger.eraseBlob(
                try #require(SHA256Digest(hex: address.dropFirst(7))), reason: "secret pasted",
                author: "sec@example.com", at: "2026-11-23T00:00:00Z", using: fixture.server.engine)
            let gone = try await client.get("/v1/blobs/\(address)", as: "read")
            #expect(gone.code == 410)
            #expect(gone.error == "gone")
            #expect(gone.json["erasure"]?["reason"]?.stringValue == "secret pasted")
            #expect(gone.json["erasure"]?["at"]?.stringValue == "2026-11-23T00:00:00Z")
            #expect(gone.json["erasure"]?["entry"]?.intValue == 0)
            // Nothing of the erased blob is left to recognise the content by: uploaded again, it is a new blob.
            let reupload = try await client.send(
                .post, "/v1/blobs", as: "append", body: payload, contentType: "text/x-diff")
            #expect(reupload.code == 200)
            #expect(reupload.json["blob"]?.stringValue != address)
        }
    }

    @Test("blob uploads over max_blob_bytes are 413")
    func blobLimit() async throws {
        let fixture = try await ServerFixture { $0.maxBlobBytes = 1000 }
        try await fixture.live { client in
            let reply = try await client.send(
                .post, "/v1/blobs", as: "append", body: Array(repeating: 7, count: 1001),
                contentType: "application/octet-stream")
            #expect(reply.code == 413)
            #expect(reply.error == "too_large")
        }
    }
}
