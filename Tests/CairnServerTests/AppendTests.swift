import CairnCrypto
import CairnJSON
import CairnLedger
import CairnServer
import CairnTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import Testing

/// `POST /v1/entries`: results, idempotence, all-or-nothing batches, and every kind of bad body
/// refused with the right status and problems while the ledger stays untouched.
@Suite("POST /v1/entries")
struct AppendTests {
    @Test("one record (application/json) and many (ndjson): indexes, digests, duplicates, in order")
    func appends() async throws {
        let fixture = try await ServerFixture()
        try await fixture.live { client in
            let single = try await client.post("/v1/entries", json: note("a"))
            #expect(single.code == 200)
            #expect(single.contentType == "application/json")
            let first = try #require(single.json.arrayValue?.first)
            #expect(first["index"]?.intValue == 0)
            #expect(first["duplicate"]?.boolValue == false)
            let digest = try #require(first["digest"]?.stringValue)
            #expect(digest == "sha256:" + sha256Hex(#"{"text":"a","type":"note"}"#))

            // A document spanning lines, with members in another order: same canonical record.
            let again = try await client.post("/v1/entries", json: "{\n  \"type\": \"note\",\n  \"text\": \"a\"\n}\n")
            #expect(again.json[0]?["index"]?.intValue == 0)
            #expect(again.json[0]?["duplicate"]?.boolValue == true)

            // ndjson with CRLF, blank lines and a duplicate inside the batch.
            let body = note("b") + "\r\n\r\n" + note("c") + "\n" + note("a") + "\n" + note("b") + "\n"
            let batch = try await client.send(
                .post, "/v1/entries", as: "append", body: Array(body.utf8),
                contentType: "application/x-ndjson; charset=utf-8")
            #expect(batch.code == 200, "\(batch.text)")
            let results = try #require(batch.json.arrayValue)
            #expect(results.map { $0["index"]?.intValue } == [1, 2, 0, 1])
            #expect(results.map { $0["duplicate"]?.boolValue } == [false, false, true, true])
            #expect(try fixture.ledger.treeSize() == 3)
            // The entries are what was sent, canonicalized.
            #expect(String(decoding: try fixture.ledger.entry(at: 2), as: UTF8.self) == #"{"text":"c","type":"note"}"#)
            // application/jsonl is accepted too.
            let jsonl = try await client.send(
                .post, "/v1/entries", as: "append", body: Array(note("d").utf8), contentType: "application/jsonl")
            #expect(jsonl.json[0]?["index"]?.intValue == 3)
        }
    }

    /// Sends `body` and expects `status`/`error`, the problems' codes, and an unchanged ledger.
    static func expectRefused(
        _ client: Client, _ ledger: Ledger, body: [UInt8], contentType: String = "application/x-ndjson",
        status: Int, error: String, codes: [String] = [], sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> Reply {
        let before = try ledger.treeSize()
        let reply = try await client.send(.post, "/v1/entries", as: "append", body: body, contentType: contentType)
        #expect(reply.code == status, "\(reply.text)", sourceLocation: sourceLocation)
        #expect(reply.error == error, "\(reply.text)", sourceLocation: sourceLocation)
        #expect(reply.contentType == "application/json", sourceLocation: sourceLocation)
        if !codes.isEmpty {
            #expect(
                reply.problems.map { $0["code"]?.stringValue ?? "" } == codes, "\(reply.text)",
                sourceLocation: sourceLocation)
        }
        #expect(try ledger.treeSize() == before, "the ledger changed", sourceLocation: sourceLocation)
        return reply
    }

    @Test("a checkpoint's large prompt is moved to a blob before the append; the receipt names the stored record")
    func extractsLargePayloads() async throws {
        let large = String(repeating: "retry with backoff; ", count: 1_000)  // 20,000 bytes
        let original = ServerFixture.provenanceRecords[0].replacingOccurrences(
            of: #""prompt":"Add retry with exponential backoff to the payment client""#,
            with: #""prompt":"\#(large)""#)
        #expect(original.contains(large))
        for threshold in [16_384, 0] {
            let fixture = try await ServerFixture(profile: .provenance) { $0.extractOverBytes = threshold }
            try await fixture.live { client in
                let receipt = try #require(try await client.append([original]).first)
                let stored = try fixture.ledger.entry(at: 0)
                let digest = try #require(receipt["digest"]?.stringValue)
                #expect(digest == SHA256.hash(stored).description, "the receipt is the stored record's")
                let record = try JSONParser.parse(stored)
                if threshold == 0 {
                    #expect(record["prompt"]?.stringValue == large)
                    return
                }
                let reference = try #require(record["prompt"]?["blob"]?.stringValue, "\(record["prompt"] as Any)")
                let blob = try await client.get("/v1/blobs/\(reference)", as: "read")
                #expect(blob.code == 200)
                #expect(blob.body == Array(large.utf8))
                #expect(!String(decoding: stored, as: UTF8.self).contains(large))
                // The address is a salted commitment, and the salt comes with the bytes.
                let salt = try #require(blob.headers[HTTPField.Name("Cairn-Blob-Salt")!].flatMap { Hex.decode($0) })
                #expect(salt.count == 32)
                #expect(SHA256.hash(salt + blob.body).description == reference)
                #expect(SHA256.hash(blob.body).description != reference)
                // Sending the record again is a duplicate: its payload gets the salt it has.
                let again = try #require(try await client.append([original]).first)
                #expect(again["duplicate"] == .bool(true), "\(again)")
                #expect(again["digest"]?.stringValue == digest)
            }
        }
    }

    @Test("a disk failure while a payload is stored is 503 (retry), never a refused record; nothing is appended")
    func payloadStorageFailure() async throws {
        let large = String(repeating: "retry with backoff; ", count: 1_000)
        let original = ServerFixture.provenanceRecords[0].replacingOccurrences(
            of: #""prompt":"Add retry with exponential backoff to the payment client""#,
            with: #""prompt":"\#(large)""#)
        let fixture = try await ServerFixture(profile: .provenance) { $0.extractOverBytes = 1024 }
        // An injected I/O failure: the blob directory cannot be created (a file is in its way).
        let blobs = fixture.ledger.directory + "/blobs"
        try? FileManager.default.removeItem(atPath: blobs)
        #expect(FileManager.default.createFile(atPath: blobs, contents: Data("in the way".utf8)))
        try await fixture.live { client in
            let reply = try await client.post("/v1/entries", ndjson: [original])
            #expect(reply.code == 503, "\(reply.text)")
            #expect(reply.error == "unavailable", "\(reply.text)")
            #expect(reply.headers[.retryAfter] != nil)
            #expect(try fixture.ledger.treeSize() == 0)
            // Once the disk is healthy again, the same request succeeds.
            try FileManager.default.removeItem(atPath: blobs)
            let retried = try await client.post("/v1/entries", ndjson: [original])
            #expect(retried.code == 200, "\(retried.text)")
            #expect(try fixture.ledger.treeSize() == 1)
            #expect(try fixture.ledger.fsck().blobs == 1)
        }
    }

    @Test("malformed bodies are 400 with the line and column of each problem; nothing is appended")
    func malformed() async throws {
        let fixture = try await ServerFixture()
        let ledger = fixture.ledger
        try await fixture.live { client in
            try await client.append([note("existing")])
            // Not JSON on line 2, truncated on line 4: both reported, nothing appended (all or nothing).
            let reply = try await Self.expectRefused(
                client, ledger,
                body: Array((note("ok") + "\n{\"type\":\"note\",,}\n" + note("ok2") + "\n{\"type\":\"no").utf8),
                status: 400, error: "invalid_json", codes: ["unexpectedCharacter", "unexpectedEnd"])
            #expect(reply.problems[0]["line"]?.intValue == 2)
            #expect(reply.problems[0]["column"]?.intValue == 16)
            #expect(reply.problems[1]["line"]?.intValue == 4)
            #expect(reply.json["message"]?.stringValue?.contains("2 of 4 records") == true)
            // Invalid UTF-8.
            _ = try await Self.expectRefused(
                client, ledger, body: Array(#"{"type":"note","text":""#.utf8) + [0xC3, 0x28] + Array(#""}"#.utf8),
                status: 400, error: "invalid_json", codes: ["invalidUTF8"])
            // Duplicate keys, in a multi-line application/json document: the document's own line.
            let duplicate = try await Self.expectRefused(
                client, ledger, body: Array("{\n\"type\":\"note\",\n\"type\":\"other\"}".utf8),
                contentType: "application/json", status: 400, error: "invalid_json", codes: ["duplicateKey"])
            #expect(duplicate.problems.first?["line"]?.intValue == 3)
            // Not an object; two documents in an application/json body; an empty body.
            _ = try await Self.expectRefused(
                client, ledger, body: Array("[1,2]".utf8), status: 400, error: "invalid_json", codes: ["notAnObject"])
            _ = try await Self.expectRefused(
                client, ledger, body: Array((note("x") + "\n" + note("y")).utf8), contentType: "application/json",
                status: 400, error: "invalid_json", codes: ["trailingData"])
            _ = try await Self.expectRefused(
                client, ledger, body: Array(" \n\n".utf8), status: 400, error: "empty_body")
            _ = try await Self.expectRefused(
                client, ledger, body: [], contentType: "application/json", status: 400, error: "empty_body")
            // Integers beyond 2^53 and a byte order mark.
            _ = try await Self.expectRefused(
                client, ledger, body: Array(#"{"n":9007199254740993}"#.utf8), status: 400, error: "invalid_json",
                codes: ["impreciseInteger"])
            _ = try await Self.expectRefused(
                client, ledger, body: [0xEF, 0xBB, 0xBF] + Array(note("bom").utf8), status: 400, error: "invalid_json",
                codes: ["byteOrderMark"])
            // Unsupported content types.
            _ = try await Self.expectRefused(
                client, ledger, body: Array(note("t").utf8), contentType: "text/plain", status: 415,
                error: "unsupported_media_type")
            let noType = try await client.send(.post, "/v1/entries", as: "append", body: Array(note("t").utf8))
            #expect(noType.code == 415)
            // Unknown parameters.
            let unknown = try await client.send(
                .post, "/v1/entries?atomic=false", as: "append", body: Array(note("t").utf8),
                contentType: "application/json")
            #expect(unknown.code == 400)
            #expect(unknown.error == "invalid_parameter")
            #expect(unknown.problems.first?["parameter"]?.stringValue == "atomic")
            #expect(try ledger.treeSize() == 1)
        }
    }

    @Test("413 over the body limit and over the ledger's maximum entry size; nothing is appended")
    func tooLarge() async throws {
        let fixture = try await ServerFixture(maxEntryBytes: 200) { $0.maxBodyBytes = 4096 }
        let ledger = fixture.ledger
        try await fixture.live { client in
            let big = #"{"type":"note","text":""# + String(repeating: "x", count: 5000) + #""}"#
            let body = try await Self.expectRefused(
                client, ledger, body: Array(big.utf8), status: 413, error: "too_large")
            #expect(body.json["message"]?.stringValue?.contains("4096") == true)
            // Under the body limit, but one record's canonical form is over 200 bytes.
            let entry = #"{"type":"note","text":""# + String(repeating: "y", count: 300) + #""}"#
            let reply = try await Self.expectRefused(
                client, ledger, body: Array((note("fine") + "\n" + entry).utf8), status: 413, error: "too_large",
                codes: ["tooLarge"])
            #expect(reply.problems.first?["line"]?.intValue == 2)
            // A syntax error elsewhere in the same body outranks the size: 400.
            _ = try await Self.expectRefused(
                client, ledger, body: Array(("{" + "\n" + entry).utf8), status: 400, error: "invalid_json",
                codes: ["unexpectedEnd", "tooLarge"])
            // The connection is still usable afterwards.
            try await client.append([note("after")])
            #expect(try ledger.treeSize() == 1)
        }
    }

    @Test("schema problems are 422 invalid_record with the JSON path of each; reference problems 422 rejected")
    func provenance() async throws {
        let fixture = try await ServerFixture(profile: .provenance)
        let ledger = fixture.ledger
        let records = ServerFixture.provenanceRecords
        try await fixture.live { client in
            // A review of an unknown checkpoint: rejected at commit, with its line and path.
            let orphan = try await Self.expectRefused(
                client, ledger, body: Array(records[1].utf8), contentType: "application/json", status: 422,
                error: "rejected",
                codes: ["unknownSubject"])
            #expect(orphan.problems.first?["path"]?.stringValue == "$.subject")
            #expect(orphan.problems.first?["line"]?.intValue == 1)
            // Two schema problems on line 2 of a batch; the valid line 1 is not appended either.
            var broken = try #require(try JSONParser.parse(Array(records[0].utf8)).objectValue)
            broken["tool_path"] = "telepathy"
            broken["requested_by"] = ""
            let reply = try await Self.expectRefused(
                client, ledger, body: Array((records[3] + "\n" + JSONWriter.compact(.object(broken))).utf8),
                status: 422, error: "invalid_record")
            let paths = Set(reply.problems.compactMap { $0["path"]?.stringValue })
            #expect(paths == ["$.tool_path", "$.requested_by"], "\(reply.text)")
            #expect(reply.problems.allSatisfy { $0["line"]?.intValue == 2 })
            #expect(Set(reply.problems.compactMap { $0["code"]?.stringValue }) == ["invalidValue", "emptyString"])
            // strict=true refuses unknown fields.
            var extended = try #require(try JSONParser.parse(Array(records[0].utf8)).objectValue)
            extended["surprise"] = true
            let strict = try await client.send(
                .post, "/v1/entries?strict=true", as: "append", body: JSONWriter.compactBytes(.object(extended)),
                contentType: "application/json")
            #expect(strict.code == 422)
            #expect(strict.problems.first?["code"]?.stringValue == "unknownField")
            // A checkpoint and its review in one request: the review refers to the earlier record.
            let results = try await client.append([records[0], records[1], records[2]])
            #expect(results.count == 3)
            // A batch whose second record reuses a checkpoint id: all or nothing, 422 rejected on line 2.
            var reused = try #require(try JSONParser.parse(Array(records[3].utf8)).objectValue)
            reused["id"] = "0f8e7a52-3c1d-4d7e-9a41-7f1c2b6e5d01"
            let duplicateID = try await Self.expectRefused(
                client, ledger, body: Array((records[3] + "\n" + JSONWriter.compact(.object(reused))).utf8),
                status: 422,
                error: "rejected", codes: ["duplicateID"])
            #expect(duplicateID.problems.first?["line"]?.intValue == 2)
            #expect(try ledger.treeSize() == 3)
        }
    }
}

func sha256Hex(_ text: String) -> String {
    SHA256.hash(Array(text.utf8)).hex
}
