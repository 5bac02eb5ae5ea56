import CairnCrypto
import CairnJSON
import CairnLedger
import CairnServer
import CairnTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The bad-input matrix of issue 10 §3, HTTP half: one row per bad request to `cairn serve` —
/// wrong or missing Content-Type, empty and oversized bodies, too many records, malformed JSON,
/// records the schema refuses, references the ledger does not hold, erasures and corrections the
/// token may not make, bad tokens and roles, unknown or malformed parameters, sizes without a
/// published checkpoint, bad tile paths and digests, blob uploads without a media type, an erased
/// blob. Each row states the HTTP status, the `error` member of the JSON error body (tile errors
/// are `text/plain` by specs/tiles.md: none), and words of the body that name the problem (the
/// line, path, parameter, value or role); and every row must leave the ledger as it found it (size,
/// root, latest checkpoint, fsck) and the access log grown only by the reads specs/http-api.md §6
/// records (404 and 410 reads: one entry; refusals before the read: none).
///
/// The ledger is prepared once, through the API, and copied for each row: a row that does change
/// its copy fails alone. Rows run one at a time: each starts a server (two ingest engines), and a
/// hundred at once would crowd out the rest of the test run. The CLI half is
/// `CairnCLITests/BadInputMatrixTests`.
@Suite("Bad-request matrix: cairn serve", .serialized)
struct BadRequestMatrixTests {
    @Test("A bad request gets its status and error, names the problem and changes nothing", arguments: rows)
    func row(_ row: HTTPRow) async throws {
        let world = try await ServerWorld.shared()
        let (copy, server) = try await world.start()
        let ledger = server.ledger
        let before = try ledger.fingerprint(accessLogSize: try server.accessLog.ledger.treeSize())
        let request = row.request(world)
        let reply = try await ServerWorld.stopping(server) {
            try await server.makeApplication().test(.router) { client in
                try await Client(client: client, tokens: world.tokens).send(
                    request.method, request.uri, as: request.role, body: request.body,
                    contentType: request.contentType, headers: request.headers)
            }
        }
        let what = "\(request.method) \(request.uri.prefix(120))"
        let after = try ledger.fingerprint(accessLogSize: try server.accessLog.ledger.treeSize())
        expecting(row.knownIssue) {
            #expect(
                reply.code == row.status, "\(what): \(reply.code), expected \(row.status): \(reply.text.prefix(500))")
            if let error = row.error {
                #expect(reply.error == error, "\(what): error \(reply.error ?? "none"), expected \(error)")
                #expect(
                    reply.contentType?.hasPrefix("application/json") == true, "\(what): \(reply.contentType ?? "")")
                #expect(reply.json["message"]?.stringValue?.isEmpty == false, "\(what): no message: \(reply.text)")
            } else {
                #expect(reply.contentType?.hasPrefix("text/plain") == true, "\(what): \(reply.contentType ?? "")")
            }
            #expect(reply.headers[.cairnRequestID] != nil, "\(what): no request id")
            #expect(!row.mentions.isEmpty)
            for fragment in row.mentions {
                #expect(
                    reply.text.contains(fragment),
                    "\(what): the body should mention \(fragment): \(reply.text.prefix(800))")
            }
            // Reads that reached the ledger are recorded; refusals before the read are not.
            let grown = Int64(after.accessLogSize ?? 0) - Int64(before.accessLogSize ?? 0)
            #expect(grown == (row.logged ? 1 : 0), "\(what): the access log grew by \(grown)")
        }
        #expect(
            after.size == before.size && after.root == before.root, "\(what): the ledger changed: \(before) → \(after)")
        #expect(after.checkpoint == before.checkpoint, "\(what): a new checkpoint was signed")
        #expect(try await offThePool { try ledger.fsck().leaves } == before.size)
        withExtendedLifetime(copy) {}
    }

    @Test(
        "A request the HTTP parser refuses gets a 400 with a JSON error naming the problem (never a 500)",
        arguments: RawRow.rows)
    func raw(_ row: RawRow) async throws {
        let world = try await ServerWorld.shared()
        let (copy, server) = try await world.start()
        let ledger = server.ledger
        let before = try ledger.fingerprint(accessLogSize: try server.accessLog.ledger.treeSize())
        let response = try await ServerWorld.stopping(server) {
            try await server.makeApplication().test(.live) { client in
                let port = try #require(client.port)
                let request = row.request(world.tokens["append"] ?? "")
                // Blocking socket calls run on a thread of their own, never on the cooperative
                // pool the server's handlers need.
                return try await offThePool { try RawRow.exchange(port: port, request: request) }
            }
        }
        let parts = response.components(separatedBy: "\r\n\r\n")
        let head = parts[0].lowercased()
        let body = parts.dropFirst().joined(separator: "\r\n\r\n")
        let statusLine = head.split(separator: "\r\n", maxSplits: 1).first.map(String.init) ?? ""
        expecting(row.knownIssue) {
            #expect(
                statusLine.hasPrefix("http/1.1 \(row.status)"),
                "\(row.name): \(statusLine.isEmpty ? "no response" : statusLine)")
            // Like every other error (specs/http-api.md §1.1): a JSON body that says what is
            // wrong, and the request id.
            #expect(head.contains("\ncairn-request-id: "), "\(row.name): no request id: \(response)")
            #expect(
                (try? JSONParser.parse(Array(body.utf8)))?["error"]?.stringValue != nil,
                "\(row.name): no JSON error body: \(response)")
            #expect(
                body.lowercased().contains(row.mention), "\(row.name): the body should mention \(row.mention): \(body)")
        }
        let after = try ledger.fingerprint(accessLogSize: try server.accessLog.ledger.treeSize())
        #expect(after == before, "\(row.name): the ledger changed: \(before) → \(after)")
        #expect(try await offThePool { try ledger.fsck().leaves } == before.size)
        withExtendedLifetime(copy) {}
    }
}

/// Runs `checks`; for a row marked with a known issue — behaviour that is wrong today and being
/// fixed — their failures are recorded as that known issue, and the test fails when they all pass,
/// so that the marker goes with the fix.
func expecting(_ knownIssue: String?, _ checks: () -> Void) {
    guard let knownIssue else { return checks() }
    withKnownIssue(Comment(rawValue: knownIssue)) { checks() }
}

// MARK: - Rows

/// One row of the matrix.
struct HTTPRow: Sendable, CustomTestStringConvertible {
    struct Request: Sendable {
        var method: HTTPRequest.Method
        var uri: String
        /// A role name of the world's tokens, "bogus" (an unknown token), "revoked", or nil (none).
        var role: String?
        var body: [UInt8]?
        var contentType: String?
        var headers: HTTPFields = [:]
    }

    let name: String
    let status: Int
    /// The `error` member; nil for a `text/plain` error (tile routes).
    let error: String?
    /// Words the body must contain.
    let mentions: [String]
    /// Whether the access log records the request (a read that reached the ledger).
    var logged = false
    /// Why the row fails today, while the fix is under way (see `expecting`).
    var knownIssue: String?
    let request: @Sendable (ServerWorld) -> Request

    var testDescription: String { "\(name) → \(status) \(error ?? "")" }

    /// The same row, marked as failing today for `reason` (see `expecting`).
    func failingToday(_ reason: String) -> HTTPRow {
        var row = self
        row.knownIssue = reason
        return row
    }

    /// `GET path` with a role's token.
    static func get(
        _ name: String, _ path: String, as role: String? = "read", _ status: Int, _ error: String?,
        _ mentions: [String],
        logged: Bool = false
    ) -> HTTPRow {
        HTTPRow(name: name, status: status, error: error, mentions: mentions, logged: logged) { _ in
            Request(method: .get, uri: path, role: role)
        }
    }

    /// `GET path(world)` with a role's token.
    static func get(
        _ name: String, as role: String? = "read", _ status: Int, _ error: String?, _ mentions: [String],
        logged: Bool = false, _ path: @escaping @Sendable (ServerWorld) -> String
    ) -> HTTPRow {
        HTTPRow(name: name, status: status, error: error, mentions: mentions, logged: logged) { world in
            Request(method: .get, uri: path(world), role: role)
        }
    }

    /// `POST /v1/entries` of ndjson lines.
    static func append(
        _ name: String, as role: String? = "append", _ status: Int, _ error: String, _ mentions: [String],
        uri: String = "/v1/entries", _ lines: @escaping @Sendable (ServerWorld) -> [String]
    ) -> HTTPRow {
        HTTPRow(name: name, status: status, error: error, mentions: mentions) { world in
            Request(
                method: .post, uri: uri, role: role, body: Array(lines(world).joined(separator: "\n").utf8),
                contentType: "application/x-ndjson")
        }
    }

    /// `POST uri` of `body` with a Content-Type.
    static func post(
        _ name: String, _ uri: String, as role: String? = "append", contentType: String?, _ status: Int,
        _ error: String,
        _ mentions: [String], _ body: @escaping @Sendable (ServerWorld) -> [UInt8]
    ) -> HTTPRow {
        HTTPRow(name: name, status: status, error: error, mentions: mentions) { world in
            Request(method: .post, uri: uri, role: role, body: body(world), contentType: contentType)
        }
    }
}

extension BadRequestMatrixTests {
    static let rows: [HTTPRow] = appends + records + permissions + reads + proofs + tiles + blobs

    static let upperCase = "sha256:" + String(repeating: "AB", count: 32)
    /// specs/http-api.md §1: an index is decimal without a sign (and, being made explicit now,
    /// without leading zeros), an address 64 lowercase hex digits. Today `01` reads entry 1 and
    /// upper-case hex names the same entry as lower-case; the lead is making both a 400.
    static let sixtyThree = "sha256:" + String(repeating: "a", count: 63)

    // MARK: The body of POST /v1/entries (400, 413, 415)

    static let appends: [HTTPRow] = [
        .post(
            "entries as text/plain", "/v1/entries", contentType: "text/plain", 415, "unsupported_media_type",
            [
                "Content-Type", "text/plain",
            ]
        ) { _ in Array(Records.review().utf8) },
        .post(
            "entries without a Content-Type", "/v1/entries", contentType: nil, 415, "unsupported_media_type",
            [
                "Content-Type", "none",
            ]
        ) { _ in Array(Records.review().utf8) },
        .post(
            "an empty ndjson body", "/v1/entries", contentType: "application/x-ndjson", 400, "empty_body",
            [
                "no record"
            ]
        ) { _ in [] },
        .post(
            "an ndjson body of blank lines", "/v1/entries", contentType: "application/x-ndjson", 400, "empty_body",
            [
                "no record"
            ]
        ) { _ in Array("\n  \r\n\n".utf8) },
        .post("an empty JSON body", "/v1/entries", contentType: "application/json", 400, "empty_body", ["no record"]) {
            _ in []
        },
        .post(
            "a body over max_body_bytes", "/v1/entries", contentType: "application/x-ndjson", 413, "too_large",
            ["body", "\(ServerWorld.maxBodyBytes)"]
        ) { _ in Array(String(repeating: "{}\n", count: ServerWorld.maxBodyBytes / 3 + 10).utf8) },
        .post(
            "more lines than max_records_per_request", "/v1/entries", contentType: "application/x-ndjson", 413,
            "too_large", ["\(ServerWorld.maxRecords)"]
        ) { _ in Array(String(repeating: "{}\n", count: ServerWorld.maxRecords + 1).utf8) },
        .append("a line that is not JSON", 400, "invalid_json", [#""line":2"#, #""column":1"#, "unexpectedCharacter"]) {
            _ in
            [Records.review(reviewer: "ok@example.com"), "hello"]
        },
        .post(
            "invalid UTF-8", "/v1/entries", contentType: "application/x-ndjson", 400, "invalid_json",
            [#""line":1"#, "invalidUTF8", "0xFF"]
        ) { _ in Array(#"{"type":"review","reviewer":""#.utf8) + [0xFF] + Array(#""}"#.utf8) },
        .append("duplicate keys", 400, "invalid_json", ["duplicateKey", "\\\"type\\\""]) { _ in
            [#"{"type":"review","type":"test"}"#]
        },
        .append("a line that is an array", 400, "invalid_json", ["notAnObject", #""line":1"#]) { _ in ["[1,2,3]"] },
        .append("arrays nested 10,000 deep", 400, "invalid_json", [#""line":1"#, "256"]) { _ in
            [String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)]
        },
        .post(
            "a JSON document over max_body_bytes", "/v1/entries", contentType: "application/json", 413, "too_large",
            ["body", "\(ServerWorld.maxBodyBytes)"]
        ) { _ in
            Array(
                Records.review(extra: #","x_pad":"\#(String(repeating: "x", count: ServerWorld.maxBodyBytes))""#).utf8)
        },
        .post(
            "two documents in an application/json body", "/v1/entries", contentType: "application/json", 400,
            "invalid_json", [#""line":1"#]
        ) { _ in Array((Records.review(reviewer: "one@example.com") + Records.review(reviewer: "two@example.com")).utf8)
        },
        .post(
            "an application/json body that is an array", "/v1/entries", contentType: "application/json", 400,
            "invalid_json", ["notAnObject"]
        ) { _ in Array("[\(Records.review(reviewer: "one@example.com"))]".utf8) },
        .append("an integer beyond 2^53 - 1", 400, "invalid_json", ["9007199254740993"]) { _ in
            [#"{"n":9007199254740993}"#]
        },
        .append("a record over the ledger's entry limit", 413, "too_large", ["tooLarge", "65536"]) { _ in
            [Records.review(extra: #","x_pad":"\#(String(repeating: "x", count: 70_000))""#)]
        },
        .append(
            "an unknown parameter", 400, "invalid_parameter", ["strictt", "unknownParameter"],
            uri: "/v1/entries?strictt=true"
        ) {
            _ in [Records.review(reviewer: "ok@example.com")]
        },
        .append("strict=maybe", 400, "invalid_parameter", ["strict", "maybe"], uri: "/v1/entries?strict=maybe") { _ in
            [Records.review(reviewer: "ok@example.com")]
        },
    ]

    // MARK: Records the schema or the ledger refuses (422)

    static let records: [HTTPRow] = [
        .append("a review without its reviewer", 422, "invalid_record", ["$.reviewer", "missingField"]) { _ in
            [Records.review().replacingOccurrences(of: #""reviewer":"bob@example.com","#, with: "")]
        },
        .append("schema as a string", 422, "invalid_record", ["$.schema"]) { _ in [Records.review(schema: #""1""#)] },
        .append("a control character in a reviewer's name", 422, "invalid_record", ["$.reviewer", "U+001B"]) { _ in
            [Records.review(reviewer: #"mallory\u001b[2K\rbob@example.com"#)]
        },
        .append("a deploy of commit HEAD", 422, "invalid_record", ["$.git_commit", "invalidCommit", "HEAD"]) { _ in
            [Records.deploy]
        },
        .append("a timestamp with a numeric offset", 422, "invalid_record", ["$.at", "+00:00"]) { _ in
            [Records.review(at: "2026-11-20T10:02:41+00:00")]
        },
        .append("an unknown record type", 422, "invalid_record", ["$.type", "bogus"]) { _ in
            [#"{"type":"bogus","schema":1}"#]
        },
        .append(
            "an unknown field with strict=true", 422, "invalid_record", ["$.x_extra", "unknownField"],
            uri: "/v1/entries?strict=true"
        ) { _ in [Records.review(extra: #","x_extra":1"#)] },
        .append("a correction whose patch changes the type", 422, "invalid_record", ["$.patch.type"]) { world in
            [Records.correction(of: world.checkpointDigest, patch: #"{"type":"review"}"#)]
        },
        .append(
            "a valid record, then an invalid one: nothing is appended", 422, "invalid_record",
            [#""line":2"#, "$.reviewer", "nothing was appended"]
        ) { _ in [Records.review(reviewer: "zed@example.com"), #"{"type":"review","schema":1}"#] },
        .append("a review of an unknown checkpoint", 422, "rejected", ["unknownSubject", "no-such-checkpoint"]) { _ in
            [Records.review(subject: "no-such-checkpoint")]
        },
        .append("a correction of an unknown entry", 422, "rejected", ["unknownTarget", "$.corrects"]) { _ in
            [Records.correction(of: Records.zeros, patch: #"{"x_note":1}"#)]
        },
        .append("a second checkpoint with a used id", 422, "rejected", ["duplicateID", "$.id"]) { _ in
            [Records.checkpoint(id: Records.checkpointID)]
        },
        .append("a checkpoint whose prompt is an unknown blob", 422, "rejected", ["unknownBlob", Records.ones]) { _ in
            [
                Records.checkpoint(
                    id: "matrix-unknown-blob",
                    prompt: #"{"blob":"\#(Records.ones)","size":5,"media_type":"text/plain"}"#)
            ]
        },
        .append("a correction that makes its target invalid", 422, "rejected", ["invalidEffectiveRecord", "maybe"]) {
            world in [Records.correction(of: world.reviewDigest, patch: #"{"decision":"maybe"}"#)]
        },
        .append("a correction chain deeper than 16", 422, "rejected", ["correctionTooDeep", "$.corrects"]) { world in
            [Records.correction(of: world.lastCorrection, patch: #"{"reason":"once more"}"#)]
        },
        .append("an erasure of an unknown blob", as: "eraser", 422, "rejected", ["unknownBlob", Records.ones]) { _ in
            [Records.erasure(of: Records.ones)]
        },
        .append("an erasure of an erased blob", as: "eraser", 422, "rejected", ["blobErased"]) { world in
            // Not the template's erasure itself: that would be a duplicate, answered 200.
            [Records.erasure(of: world.erasedBlob, reason: "leaked again")]
        },
    ]

    // MARK: Tokens and roles (401, 403, 422 notPermitted)

    static let permissions: [HTTPRow] = [
        .append("an append without a token", as: nil, 401, "unauthorized", ["token"]) { _ in [Records.review()] },
        .append("an append with an unknown token", as: "bogus", 401, "unauthorized", ["token"]) { _ in
            [Records.review()]
        },
        .append("an append with a revoked token", as: "revoked", 401, "unauthorized", ["token"]) { _ in
            [Records.review(reviewer: "late@example.com")]
        },
        .append("an append with a read token", as: "read", 403, "forbidden", ["append"]) { _ in [Records.review()] },
        .append("an erasure by an append token", 403, "forbidden", ["erase role", "line 1"]) { world in
            [Records.erasure(of: world.blob)]
        },
        .append("an erasure by a token that may correct, not erase", as: "corrector", 403, "forbidden", ["erase role"])
        {
            world in [Records.erasure(of: world.blob)]
        },
        .append(
            "a correction of another token's review", as: "append2", 422, "rejected", ["notPermitted", "correct role"]
        ) {
            world in [Records.correction(of: world.reviewDigest, patch: #"{"decision":"approved"}"#)]
        },
        .get("a read with an append token", "/v1/entries/1", as: "append", 403, "forbidden", ["read"]),
        HTTPRow(name: "a Basic Authorization header", status: 401, error: "unauthorized", mentions: ["Bearer"]) { _ in
            HTTPRow.Request(method: .get, uri: "/v1/entries/1", headers: [.authorization: "Basic YWxpY2U6c2VjcmV0"])
        },
        .get("a read without a token", "/v1/entries/1", as: nil, 401, "unauthorized", ["token"]),
        .get("the access log with a read token", "/v1/access-log/checkpoint", 403, "forbidden", ["audit"]),
        .get("metrics with a read token", "/metrics", 403, "forbidden", ["metrics"]),
        .get(
            "a proof with an unknown token", "/v1/proof/inclusion?entry=1", as: "bogus", 401, "unauthorized", ["token"]),
    ]

    // MARK: Entries, records, queries (400, 404, 405)

    static let reads: [HTTPRow] = [
        .get("an entry beyond the log", "/v1/entries/99999", 404, "not_found", ["99999"], logged: true),
        .get(
            "an unknown content address", "/v1/entries/\(Records.zeros)", 404, "not_found", [Records.zeros],
            logged: true),
        .get("a negative index", "/v1/entries/-1", 400, "invalid_parameter", ["entry", "-1"]),
        .get("an index with a leading zero", "/v1/entries/01", 400, "invalid_parameter", ["entry", "01"]),
        .get(
            "an upper-case content address", "/v1/entries/\(upperCase)", 400, "invalid_parameter", ["entry", upperCase]
        ),
        .get("a content address of 63 hex digits", "/v1/entries/\(sixtyThree)", 400, "invalid_parameter", ["entry"]),
        .get("an unknown parameter", "/v1/entries/1?rwa=true", 400, "invalid_parameter", ["rwa", "unknownParameter"]),
        .get("raw=maybe", "/v1/entries/1?raw=maybe", 400, "invalid_parameter", ["raw", "maybe"]),
        .get(
            "a parameter given twice", "/v1/entries/1?raw=true&raw=false", 400, "invalid_parameter",
            ["raw", "more than once"]),
        .get("a malformed percent-escape", "/v1/entries/1?raw=%zz", 400, "invalid_parameter", ["%zz"]),
        .get("an unknown checkpoint id", "/v1/records/no-such-id", 404, "not_found", ["no-such-id"], logged: true),
        .get("a record id that is not UTF-8", "/v1/records/%FF", 400, "invalid_parameter", ["record"]),
        .get("query with an empty path", "/v1/query?path=", 400, "invalid_parameter", ["path", "empty"]),
        .get(
            "query with a size that overflows 64 bits", "/v1/proof/inclusion?entry=0&size=99999999999999999999999", 400,
            "invalid_parameter", ["size", "99999999999999999999999"]),
        .get(
            "a parameter on /checkpoint", "/checkpoint?size=1", 400, "invalid_parameter", ["size", "unknownParameter"]),
        .get(
            "the access log queried since=bad", "/v1/access-log/query?since=bad", as: "audit", 400, "invalid_parameter",
            ["since", "bad"]),
        .get("a negative access-log index", "/v1/access-log/entries/-1", as: "audit", 400, "invalid_parameter", ["-1"]),
        HTTPRow(name: "POST to /checkpoint", status: 405, error: "method_not_allowed", mentions: ["POST"]) { _ in
            HTTPRow.Request(
                method: .post, uri: "/checkpoint", role: "admin", body: Array("{}".utf8),
                contentType: "application/json")
        },
        .get("history=perhaps", "/v1/records/1?history=perhaps", 400, "invalid_parameter", ["history", "perhaps"]),
        .get("query tool_path=IDE", "/v1/query?tool_path=IDE", 400, "invalid_parameter", ["tool_path", "IDE"]),
        .get("query line=0", "/v1/query?path=src/retry.ts&line=0", 400, "invalid_parameter", ["line"]),
        .get("query line without path", "/v1/query?line=5", 400, "invalid_parameter", ["line", "path"]),
        .get(
            "query since after until", "/v1/query?since=2026-12-01&until=2026-11-01", 400, "invalid_parameter",
            ["until"]),
        .get(
            "query by a short commit id", "/v1/query?commit=9fceb02", 400, "invalid_parameter", ["commit", "9fceb02"]),
        .get("query since=yesterday", "/v1/query?since=yesterday", 400, "invalid_parameter", ["since", "yesterday"]),
        .get("query limit=0", "/v1/query?limit=0", 400, "invalid_parameter", ["limit"]),
        .get("query limit over the maximum", "/v1/query?limit=10001", 400, "invalid_parameter", ["limit", "10001"]),
        .get("query type=bogus", "/v1/query?type=bogus", 400, "invalid_parameter", ["type", "bogus"]),
        .get(
            "query with an unknown parameter", "/v1/query?modle=x", 400, "invalid_parameter",
            ["modle", "unknownParameter"]),
        .get("an unknown route", "/v1/nothing", 404, "not_found", ["/v1/nothing"]),
        HTTPRow(name: "DELETE of an entry", status: 405, error: "method_not_allowed", mentions: ["DELETE"]) { _ in
            HTTPRow.Request(method: .delete, uri: "/v1/entries/1", role: "admin")
        },
    ]

    // MARK: Proofs (400, 404)

    static let proofs: [HTTPRow] = [
        .get(
            "an inclusion proof without entry", "/v1/proof/inclusion", 400, "invalid_parameter",
            ["entry", "missingParameter"]),
        .get(
            "an inclusion proof of an unknown entry", "/v1/proof/inclusion?entry=\(Records.zeros)", 404, "not_found",
            [Records.zeros]),
        .get(
            "an inclusion proof for a size beyond the tree", "/v1/proof/inclusion?entry=0&size=999", 400,
            "invalid_parameter", ["999"]),
        .get(
            "an inclusion proof for a size without a checkpoint", "/v1/proof/inclusion?entry=0&size=10", 400,
            "invalid_parameter", ["size", "no published checkpoint"]),
        .get(
            "an inclusion proof of an index beyond the size", "/v1/proof/inclusion?entry=9&size=7", 400,
            "invalid_parameter", ["9", "7"]),
        .get(
            "an inclusion proof with size=-1", "/v1/proof/inclusion?entry=0&size=-1", 400, "invalid_parameter",
            ["size", "-1"]),
        .get(
            "an inclusion proof with entry=01", "/v1/proof/inclusion?entry=01", 400, "invalid_parameter",
            ["entry", "01"]
        ),
        .get(
            "a consistency proof without old", "/v1/proof/consistency", 400, "invalid_parameter",
            ["old", "missingParameter"]),
        .get(
            "a consistency proof with old=abc", "/v1/proof/consistency?old=abc", 400, "invalid_parameter",
            ["old", "abc"]),
        .get(
            "a consistency proof from a larger size", "/v1/proof/consistency?old=10&size=7", 400, "invalid_parameter",
            ["10", "7"]),
        .get(
            "an access-log entry beyond its log", "/v1/access-log/entries/99999", as: "audit", 404, "not_found",
            ["99999"]),
    ]

    // MARK: Tiles (400, 404: text/plain)

    static let tiles: [HTTPRow] = [
        .get("a tile path with a leading zero in the level", "/tile/00/000", 400, nil, ["tile/00/000"]),
        .get("a partial tile of width 0", "/tile/0/000.p/0", 400, nil, ["000.p/0"]),
        .get("a partial tile width with a leading zero", "/tile/0/000.p/01", 400, nil, ["01"]),
        .get("a tile index that is not three digits", "/tile/0/0", 400, nil, ["tile/0/0"]),
        .get("a tile beyond the tree", "/tile/0/999", 404, nil, ["999"]),
        .get("a tile level no tree has", "/tile/9/000", 404, nil, ["9"]),
        .get("an entry bundle with a malformed path", "/tile/entries/x000", 400, nil, ["x000"]),
    ]

    // MARK: Blobs (400, 404, 410, 413, 415)

    static let blobs: [HTTPRow] = [
        .post(
            "a blob without a Content-Type", "/v1/blobs", contentType: nil, 415, "unsupported_media_type",
            ["Content-Type"]
        ) {
            _ in Array("bytes".utf8)
        },
        .post(
            "a blob whose Content-Type is not type/subtype", "/v1/blobs", contentType: "nonsense", 415,
            "unsupported_media_type",
            [
                "nonsense"
            ]
        ) { _ in Array("bytes".utf8) },
        .post(
            "a blob over max_blob_bytes", "/v1/blobs", contentType: "text/plain", 413, "too_large",
            ["\(ServerWorld.maxBlobBytes)"]
        ) {
            _ in Array(repeating: UInt8(ascii: "x"), count: ServerWorld.maxBlobBytes + 1)
        },
        .post(
            "a blob upload with a parameter", "/v1/blobs?name=x", contentType: "text/plain", 400, "invalid_parameter",
            [
                "name", "unknownParameter",
            ]
        ) { _ in Array("bytes".utf8) },
        .post(
            "a blob upload by a read token", "/v1/blobs", as: "read", contentType: "text/plain", 403, "forbidden",
            ["append"]
        ) {
            _ in Array("bytes".utf8)
        },
        .get("an unknown blob", "/v1/blobs/\(Records.zeros)", 404, "not_found", [Records.zeros], logged: true),
        .get("an erased blob", 410, "gone", ["erased", "leaked"], logged: true) { world in
            "/v1/blobs/\(world.erasedBlob)"
        },
        .get(
            "a blob address that is no digest", "/v1/blobs/not-a-digest", 400, "invalid_parameter",
            ["digest", "not-a-digest"]),
        .get("a blob address that is an index", "/v1/blobs/1", 400, "invalid_parameter", ["digest"]),
        .get("an upper-case blob address", "/v1/blobs/\(upperCase)", 400, "invalid_parameter", ["digest", upperCase]),
        .get("a blob address of 63 hex digits", "/v1/blobs/\(sixtyThree)", 400, "invalid_parameter", ["digest"]),
    ]
}

/// Records for the rows (examples/records.jsonl is in the ledger).
enum Records {
    static let checkpointID = "0f8e7a52-3c1d-4d7e-9a41-7f1c2b6e5d01"
    static let zeros = "sha256:" + String(repeating: "0", count: 64)
    static let ones = "sha256:" + String(repeating: "1", count: 64)

    static func review(
        subject: String = checkpointID, reviewer: String = "bob@example.com", decision: String = "approved",
        at: String = "2026-11-20T10:02:41Z", schema: String = "1", extra: String = ""
    ) -> String {
        #"{"type":"review","schema":\#(schema),"subject":"\#(subject)","reviewer":"\#(reviewer)","decision":"\#(decision)","at":"\#(at)"\#(extra)}"#
    }

    static func correction(of target: String, patch: String, reason: String = "fixing it") -> String {
        #"{"type":"correction","schema":1,"corrects":"\#(target)","author":"alice@example.com","reason":"\#(reason)","patch":\#(patch)}"#
    }

    static func erasure(of blob: String, reason: String = "leaked") -> String {
        #"{"type":"erasure","schema":1,"blob":"\#(blob)","reason":"\#(reason)","at":"2026-11-22T08:00:00Z","author":"sec@example.com"}"#
    }

    static func checkpoint(id: String, prompt: String = #""prompt""#) -> String {
        #"{"type":"checkpoint","schema":1,"id":"\#(id)","timestamp":"2026-11-20T09:14:03Z","requested_by":"eve@example.com","tool_path":"ide","model":{"id":"m","version":"1","provider":"p"},"prompt":\#(prompt),"outputs":[{"repo":"r","commit":"9fceb02d0ae598e95dc970b74767f19372d61af8","path":"a.ts","ranges":[[1,2]],"content_hash":"sha256:6b86b273ff34fce19d6b804eff5a3f5747ada4eaa22f1d49c01e52ddb7875b4b","contributor":"ai"}]}"#
    }

    static let deploy =
        #"{"type":"deploy","schema":1,"subject":"0f8e7a52-3c1d-4d7e-9a41-7f1c2b6e5d01","git_commit":"HEAD","branch":"main","environment":"production","at":"2026-11-21T18:00:00Z"}"#
}

// MARK: - Requests below the router

/// A request written to the socket byte by byte, for what the HTTP parser itself must refuse:
/// malformed chunked bodies, a body both chunked and with a length, a broken request line
/// (issue 10 §2 item 14: these answered 500, or nothing).
struct RawRow: Sendable, CustomTestStringConvertible {
    let name: String
    let status: Int
    /// A word the body must contain (compared in lower case).
    let mention: String
    /// Why the row fails today, while the fix is under way (see `expecting`).
    var knownIssue: String?
    /// The request, given the append token.
    let request: @Sendable (String) -> [UInt8]

    var testDescription: String { "\(name) → \(status)" }

    static func append(_ token: String, headers: String, body: String) -> [UInt8] {
        Array(
            ("POST /v1/entries HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer \(token)\r\n"
                + "Content-Type: application/x-ndjson\r\n\(headers)Connection: close\r\n\r\n\(body)").utf8)
    }

    /// Issue 10 §2 item 14 ("Low"), open today.

    static let rows: [RawRow] = [
        RawRow(name: "a chunk size that is not hex", status: 400, mention: "chunk") { token in
            append(token, headers: "Transfer-Encoding: chunked\r\n", body: "zz\r\n{}\r\n0\r\n\r\n")
        },
        RawRow(name: "a chunk longer than its size", status: 400, mention: "chunk") { token in
            append(
                token, headers: "Transfer-Encoding: chunked\r\n",
                body: "2\r\n\(Records.review(reviewer: "chunk@example.com"))\r\n0\r\n\r\n")
        },
        RawRow(
            name: "Content-Length and Transfer-Encoding together", status: 400, mention: "content-length"
        ) { token in
            append(
                token, headers: "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n",
                body: "2\r\n{}\r\n0\r\n\r\n")
        },
        RawRow(
            name: "a Content-Length that is not a number", status: 400, mention: "content-length"
        ) { token in
            append(token, headers: "Content-Length: lots\r\n", body: "{}")
        },
        RawRow(name: "a request line without a version", status: 400, mention: "request") { _ in
            Array("GET /checkpoint\r\nHost: localhost\r\nConnection: close\r\n\r\n".utf8)
        },
    ]

    /// Sends `request` to 127.0.0.1:`port`, half-closes, and reads the response until the server
    /// closes the connection (or 10 s pass).
    static func exchange(port: Int, request: [UInt8]) throws -> String {
        struct SocketError: Error, CustomStringConvertible { let description: String }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw SocketError(description: "socket: \(errno)") }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { throw SocketError(description: "connect: \(errno)") }
        var sent = 0
        while sent < request.count {
            let n = request.withUnsafeBytes { raw in send(fd, raw.baseAddress! + sent, raw.count - sent, 0) }
            if n <= 0 { break }  // the server may close early: its response is still there to read
            sent += n
        }
        shutdown(fd, Int32(SHUT_WR))
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
            if n <= 0 { break }
            response += buffer[0..<n]
        }
        return String(decoding: response, as: UTF8.self)
    }
}

// MARK: - The world

/// The template ledger, prepared once through the API and copied for each row: a provenance
/// ledger (entry limit 64 KiB) with one token per role (and `append2`, `eraser`, `corrector`, a
/// revoked one); a blob and an erased blob (the erasure is entry 0, by `eraser`);
/// examples/records.jsonl (entries 1-6, one request, by `append`); a chain of 16 corrections,
/// each of the one before (entries 7-22, one request, by `append`: sizes 8-22 have no
/// checkpoint); and one more review (entry 23).
final class ServerWorld: Sendable {
    static let maxBodyBytes = 256 * 1024
    static let maxRecords = 100
    static let maxBlobBytes = 64 * 1024
    static let secret = "a secret\n"

    static let quiet: Logger = {
        var logger = Logger(label: "cairn.matrix")
        logger.logLevel = .critical
        return logger
    }()

    /// Created once and removed when the test process exits.
    static let root: String = {
        let path = NSTemporaryDirectory() + "cairn-request-matrix-" + UUID().uuidString
        atexit { try? FileManager.default.removeItem(atPath: ServerWorld.root) }
        return path
    }()

    private static let preparation = Task { try await ServerWorld() }

    static func shared() async throws -> ServerWorld { try await preparation.value }

    let template: String
    let configuration: ServerConfiguration
    /// Token secrets by role name (and `append2`, `eraser`, `corrector`, `revoked`).
    let tokens: [String: String]
    let blob: String
    let erasedBlob: String
    let checkpointDigest: String
    let reviewDigest: String
    let lastCorrection: String

    struct SetupError: Error, CustomStringConvertible {
        let description: String
    }

    private init() async throws {
        try FileManager.default.createDirectory(atPath: Self.root, withIntermediateDirectories: true)
        template = Self.root + "/template"
        try FileManager.default.createDirectory(atPath: template, withIntermediateDirectories: false)
        var configuration = ServerConfiguration()
        configuration.listen = .tcp(host: "127.0.0.1", port: 0)
        configuration.rateLimit = nil
        configuration.maxBodyBytes = Self.maxBodyBytes
        configuration.maxRecordsPerRequest = Self.maxRecords
        configuration.maxBlobBytes = Self.maxBlobBytes
        self.configuration = configuration

        var options = Ledger.CreateOptions()
        options.profile = .provenance
        options.maxEntryBytes = 65536
        let ledger = try Ledger.create(
            at: template + "/ledger", origin: "example.com/cairn-request-matrix", options: options)
        let store = TokenStore(ledger: ledger)
        let engine = IngestEngine(ledger: ledger)
        var tokens: [String: String] = [:]
        let roles: [(String, Set<TokenRole>)] =
            TokenRole.allCases.map { ($0.rawValue, [$0]) } + [
                ("append2", [.append]), ("eraser", [.append, .erase]), ("corrector", [.append, .correct]),
                ("revoked", [.append]),
            ]
        for (name, roles) in roles {
            let created = try await store.create(
                name: "\(name)-token", roles: roles, at: "2026-01-01T00:00:00Z", using: engine)
            tokens[name] = created.secret
            if name == "revoked" {
                _ = try await store.revoke(id: created.token.id, at: "2026-01-02T00:00:00Z", using: engine)
            }
        }
        await engine.shutdownGracefully()
        self.tokens = tokens
        let secrets = tokens

        let server = try CairnServer(ledger: ledger, configuration: configuration, logger: Self.quiet)
        defer { server.shutdown() }
        let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("examples/records.jsonl")
        let exampleLines = try String(contentsOf: examples, encoding: .utf8).split(separator: "\n").map(String.init)
        let prepared = try await server.makeApplication().test(.router) { testClient in
            let client = Client(client: testClient, tokens: secrets)
            func ok(_ reply: Reply, _ what: String) throws -> Reply {
                guard reply.code == 200 else { throw SetupError(description: "\(what): \(reply.code) \(reply.text)") }
                return reply
            }
            let payload = try ok(
                try await client.send(
                    .post, "/v1/blobs", as: "append", body: Array("payload\n".utf8), contentType: "text/plain"),
                "blob")
            let secret = try ok(
                try await client.send(
                    .post, "/v1/blobs", as: "append", body: Array(Self.secret.utf8), contentType: "text/plain"),
                "secret blob")
            let erased = secret.json["blob"]?.stringValue ?? ""
            _ = try ok(
                try await client.post("/v1/entries", as: "eraser", ndjson: [Records.erasure(of: erased)]), "erasure")
            let examples = try ok(try await client.post("/v1/entries", as: "append", ndjson: exampleLines), "examples")
            let first = examples.json[0]?["digest"]?.stringValue ?? ""
            let review = examples.json[1]?["digest"]?.stringValue ?? ""
            var target = first
            var chain: [String] = []
            for link in 1...16 {
                let record = Records.correction(
                    of: target, patch: link == 1 ? #"{"work_item":"PAY-1"}"# : #"{"reason":"amended \#(link)"}"#,
                    reason: "fix \(link)")
                chain.append(record)
                target = SHA256.hash(try JCS.canonicalize(json: Array(record.utf8))).description
            }
            let chained = try ok(try await client.post("/v1/entries", as: "append", ndjson: chain), "chain")
            guard chained.json[15]?["digest"]?.stringValue == target else {
                throw SetupError(description: "the correction chain: \(chained.text)")
            }
            _ = try ok(
                try await client.post(
                    "/v1/entries", as: "append", ndjson: [Records.review(reviewer: "carol@example.com")]),
                "review")
            return (payload.json["blob"]?.stringValue ?? "", erased, first, review, target)
        }
        (blob, erasedBlob, checkpointDigest, reviewDigest, lastCorrection) = prepared
        guard try ledger.treeSize() == 24 else { throw SetupError(description: "tree size \(try ledger.treeSize())") }
    }

    /// A server over a new copy of the template ledger (and its access log and blobs); the
    /// copy is removed when the returned directory is released.
    func start() async throws -> (TemporaryDirectory, CairnServer) {
        let template = template
        let configuration = configuration
        return try await offThePool {
            let copy = try TemporaryDirectory("request-matrix")
            try Self.copyTree(template, to: copy.path)
            let ledger = try Ledger.open(at: copy.file("ledger"))
            return (copy, try CairnServer(ledger: ledger, configuration: configuration, logger: Self.quiet))
        }
    }

    /// Runs `body`, then stops the server's engines (which blocks: off the cooperative pool).
    static func stopping<Value: Sendable>(
        _ server: CairnServer, _ body: () async throws -> Value
    ) async throws -> Value {
        let value: Value
        do {
            value = try await body()
        } catch {
            try await offThePool { server.shutdown() }
            throw error
        }
        try await offThePool { server.shutdown() }
        return value
    }

    /// Copies a directory tree, leaving out LMDB's lock files (each copy gets its own).
    static func copyTree(_ source: String, to destination: String) throws {
        let files = FileManager.default
        for name in try files.contentsOfDirectory(atPath: source) where name != "lock.mdb" {
            let from = source + "/" + name
            let to = destination + "/" + name
            var isDirectory: ObjCBool = false
            _ = files.fileExists(atPath: from, isDirectory: &isDirectory)
            if isDirectory.boolValue {
                try files.createDirectory(atPath: to, withIntermediateDirectories: false)
                try copyTree(from, to: to)
            } else {
                try files.copyItem(atPath: from, toPath: to)
            }
        }
    }
}
