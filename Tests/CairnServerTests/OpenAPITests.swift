import CairnCrypto
import CairnJSON
import CairnLedger
import CairnTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import Testing

@testable import CairnServer

/// specs/openapi.yaml against the server: the document is valid OpenAPI 3.1, it lists exactly
/// the server's routes, and real responses (every operation, successes and errors) match the
/// schemas it declares. Uses Python (PyYAML, openapi-spec-validator, openapi-schema-validator):
/// skipped when they are missing, unless CAIRN_REQUIRE_INTEROP=1 (CI).
@Suite("OpenAPI document")
struct OpenAPITests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let spec = root.appendingPathComponent("specs/openapi.yaml").path
    static let script = root.appendingPathComponent("scripts/check_openapi.py").path
    static let required = ProcessInfo.processInfo.environment["CAIRN_REQUIRE_INTEROP"] == "1"

    static let pythonAvailable: Bool = {
        let result = try? run(["python3", "-c", "import yaml, openapi_spec_validator, openapi_schema_validator"])
        return result?.status == 0
    }()

    static func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    static func requirePython() throws -> Bool {
        if pythonAvailable { return true }
        if required {
            let message =
                "CAIRN_REQUIRE_INTEROP=1 but python3 with PyYAML, openapi-spec-validator and "
                + "openapi-schema-validator is missing (pip install pyyaml openapi-spec-validator)"
            Issue.record(Comment(rawValue: message))
        }
        return false
    }

    @Test("specs/openapi.yaml is a valid OpenAPI 3.1 document", .enabled(if: pythonAvailable || required))
    func validDocument() throws {
        guard try Self.requirePython() else { return }
        let result = try Self.run(["python3", Self.script, Self.spec])
        #expect(result.status == 0, "\(result.output)")
    }

    @Test("the document's paths and methods are exactly the server's routes", .enabled(if: pythonAvailable || required))
    func sameRoutes() async throws {
        guard try Self.requirePython() else { return }
        let listing = try Self.run([
            "python3", "-c",
            "import yaml,sys; d=yaml.safe_load(open(sys.argv[1])); "
                + "print('\\n'.join(sorted(m.upper()+' '+p for p,o in d['paths'].items() for m in o "
                + "if m in ('get','post','put','delete','patch'))))",
            Self.spec,
        ])
        #expect(listing.status == 0, "\(listing.output)")
        let documented = Set(listing.output.split(separator: "\n").map(String.init))
        let fixture = try await ServerFixture()
        defer { fixture.server.shutdown() }
        let served = Set(
            fixture.server.routeTable.routes.map { route in
                "\(route.method.rawValue) " + route.path.replacingOccurrences(of: "/**", with: "/{path}")
            })
        #expect(
            served == documented,
            "only served: \(served.subtracting(documented)); only documented: \(documented.subtracting(served))")
    }

    @Test("real responses of every operation match the document's schemas", .enabled(if: pythonAvailable || required))
    func responsesMatch() async throws {
        guard try Self.requirePython() else { return }
        let log = ResponseLog()
        let records = ServerFixture.provenanceRecords
        let main = try await ServerFixture(profile: .provenance, maxEntryBytes: 4096) { $0.maxBodyBytes = 64 << 10 }
        try await main.live(log: log) { client in
            // Writes: 200, 400, 413, 415, 422 (both kinds), 401, 403.
            _ = try await client.post("/v1/entries", ndjson: records)
            // A checkpoint with a request id and the provider's model call of it: `model_calls` in query rows.
            _ = try await client.post(
                "/v1/entries",
                ndjson: [
                    records[0].replacingOccurrences(
                        of: #""id":"0f8e7a52-"#, with: #""request_id":"req_1","id":"1f8e7a52-"#),
                    #"{"type":"model-call","schema":1,"request_id":"req_1","provider":"anthropic","#
                        + #""timestamp":"2026-11-20T09:14:01Z","model":{"id":"claude-sonnet-4-5"},"status":200,"#
                        + #""usage":{"input_tokens":3}}"#,
                ])
            _ = try await client.post("/v1/entries", json: records[0])
            _ = try await client.post("/v1/entries", json: "{\"type\":")
            _ = try await client.post("/v1/entries", json: "   ")
            _ = try await client.post("/v1/entries", json: #"{"type":"checkpoint","schema":1}"#)
            _ = try await client.post(
                "/v1/entries",
                json:
                    #"{"type":"review","schema":1,"subject":"nope","reviewer":"r","decision":"approved","at":"2026-01-01T00:00:00Z"}"#
            )
            var huge = try #require(try JSONParser.parse(Array(records[0].utf8)).objectValue)
            huge["id"] = "11111111-2222-4333-8444-555555555555"
            huge["prompt"] = .string(String(repeating: "x", count: 5000))
            _ = try await client.post("/v1/entries", json: JSONWriter.compact(.object(huge)))
            _ = try await client.send(
                .post, "/v1/entries", as: "append", body: Array(repeating: 0x20, count: 70_000),
                contentType: "application/json")
            _ = try await client.send(
                .post, "/v1/entries", as: "append", body: Array("{}".utf8), contentType: "text/csv")
            _ = try await client.post("/v1/entries", as: nil, json: records[0])
            _ = try await client.post("/v1/entries", as: "read", json: records[0])
            let blob = try await client.send(
                .post, "/v1/blobs", as: "append", body: Array("diff".utf8), contentType: "text/x-diff")
            _ = try await client.send(.post, "/v1/blobs", as: "append", body: Array("x".utf8))
            // Reads.
            for uri in [
                "/v1/entries/0", "/v1/entries/0?raw=true", "/v1/entries/77", "/v1/entries/x",
                "/v1/records/0f8e7a52-3c1d-4d7e-9a41-7f1c2b6e5d01?history=true", "/v1/records/1", "/v1/records/none",
                "/v1/query?model=claude-sonnet-4-5", "/v1/query?type=review", "/v1/query?line=3", "/v1/query?limit=5",
                "/v1/query?request_id=req_1", "/v1/query?type=model-call", "/v1/query?state=untested&repo=x",
                "/v1/stats", "/v1/stats/gaps?since=2026-11-01", "/v1/stats/health", "/v1/stats/models?repo=r",
                "/v1/stats/nonsense", "/v1/stats?since=never",
                "/v1/blobs/\(blob.json["blob"]?.stringValue ?? "")",
                "/v1/blobs/sha256:\(String(repeating: "9", count: 64))",
                "/v1/blobs/nope", "/checkpoint", "/v1/key-history", "/v1/key-history?x=1",
                "/v1/proof/inclusion?entry=2", "/v1/proof/inclusion?entry=2&size=3",
                "/v1/proof/inclusion?entry=99", "/v1/proof/inclusion?entry=2&size=999", "/v1/proof/consistency?old=1",
                "/v1/proof/consistency?old=0&size=0", "/v1/proof/consistency?old=99", "/tile/0/000.p/2",
                "/tile/entries/000.p/2",
                "/v1/access-log/checkpoint", "/v1/access-log/entries/0", "/v1/access-log/entries/0?raw=1",
                "/v1/access-log/entries/99999", "/v1/access-log/query",
                "/v1/access-log/query?token=tok_0000000000000000&limit=3",
                "/v1/access-log/query?since=never", "/v1/access-log/proof/inclusion?entry=0",
                "/v1/access-log/proof/consistency?old=1", "/healthz", "/nowhere",
            ] {
                _ = try await client.get(uri, as: uri.contains("access-log") ? "audit" : "read")
            }
            _ = try await client.get("/metrics", as: "metrics")
            _ = try await client.get("/metrics", as: "read")
            _ = try await client.get("/checkpoint")
            _ = try await client.get("/checkpoint", as: "bogus")
            _ = try await client.send(.put, "/v1/entries/0", as: "admin")
        }
        // 410, 429 and 503, which need a state of their own.
        let edge = try await ServerFixture(profile: .provenance) {
            $0.rateLimit = .init(requestsPerSecond: 0.01, burst: 6)
            $0.ingest.maxQueuedRecords = 1
        }
        try await edge.inProcess(log: log) { client in
            let blob = try await client.send(
                .post, "/v1/blobs", as: "append", body: Array("secret".utf8), contentType: "text/plain")
            let address = try #require(blob.json["blob"]?.stringValue)
            try await edge.ledger.eraseBlob(
                try #require(SHA256Digest(hex: address.dropFirst(7))), reason: "leak", author: "sec",
                at: "2026-01-01T00:00:00Z", using: edge.server.engine)
            _ = try await client.get("/v1/blobs/\(address)", as: "read")
            _ = try await client.send(
                .post, "/v1/blobs", as: "append", body: Array("secret".utf8), contentType: "text/plain")
            edge.server.accessLog.shutdown()
            _ = try await client.get("/v1/entries/0", as: "read")
            for _ in 0..<6 { _ = try await client.get("/checkpoint", as: "read") }
        }
        let codes = Set(log.all.map(\.status))
        #expect(
            codes.isSuperset(of: [200, 400, 401, 403, 404, 405, 410, 413, 415, 422, 429, 503]), "\(codes.sorted())")
        let dir = try TemporaryDirectory()
        let file = dir.file("responses.jsonl")
        try log.jsonLines().write(toFile: file, atomically: true, encoding: .utf8)
        let result = try Self.run(["python3", Self.script, Self.spec, file])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("21 of 21 operations covered"), "\(result.output)")
    }
}
