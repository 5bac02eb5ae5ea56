import CairnJSON
import CairnLedger
import CairnServer
import CairnTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing

/// A ledger with one token per role, and a server over it.
struct ServerFixture: Sendable {
    let dir: TemporaryDirectory
    let ledger: Ledger
    let server: CairnServer
    /// Token secrets by role name (`append`, `read`, `audit`, `metrics`, `admin`).
    let tokens: [String: String]
    let tokenIDs: [String: String]

    /// The record samples of examples/records.jsonl (provenance).
    static let provenanceRecords: [String] = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("examples/records.jsonl")
        let text = (try? String(contentsOf: url, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").map(String.init)
    }()

    init(
        profile: LedgerProfile = .generic, maxEntryBytes: Int = 1 << 20,
        configure: (inout ServerConfiguration) -> Void = { _ in }
    ) async throws {
        dir = try TemporaryDirectory()
        var options = Ledger.CreateOptions()
        options.profile = profile
        options.maxEntryBytes = maxEntryBytes
        ledger = try Ledger.create(at: dir.file("ledger"), origin: "example.com/cairn-server-test", options: options)
        var tokens: [String: String] = [:]
        var ids: [String: String] = [:]
        let store = TokenStore(ledger: ledger)
        let engine = IngestEngine(ledger: ledger)
        for role in TokenRole.allCases {
            let created = try await store.create(
                name: "\(role.rawValue)-token", roles: [role], at: "2026-01-01T00:00:00Z", using: engine)
            tokens[role.rawValue] = created.secret
            ids[role.rawValue] = created.token.id
        }
        // Tokens with more than one role, and a second producer.
        for (name, roles) in [
            ("append2", [TokenRole.append]), ("eraser", [.append, .erase]), ("corrector", [.append, .correct]),
        ] as [(String, Set<TokenRole>)] {
            let created = try await store.create(
                name: "\(name)-token", roles: roles, at: "2026-01-01T00:00:00Z", using: engine)
            tokens[name] = created.secret
            ids[name] = created.token.id
        }
        await engine.shutdownGracefully()
        self.tokens = tokens
        self.tokenIDs = ids
        var configuration = ServerConfiguration()
        configuration.listen = .tcp(host: "127.0.0.1", port: 0)
        configuration.rateLimit = nil
        configure(&configuration)
        var logger = Logger(label: "cairn.test")
        logger.logLevel = .critical
        server = try CairnServer(ledger: ledger, configuration: configuration, logger: logger)
    }

    /// Runs `body` against the server over a real loopback socket, then drains the engines.
    func live<Value: Sendable>(
        log: ResponseLog? = nil, _ body: @Sendable (Client) async throws -> Value
    ) async throws -> Value {
        defer { server.shutdown() }
        return try await server.makeApplication().test(.live) { client in
            try await body(Client(client: client, tokens: tokens, log: log))
        }
    }

    /// Runs `body` against the router in process (concurrent requests are really concurrent).
    func inProcess<Value: Sendable>(
        log: ResponseLog? = nil, _ body: @Sendable (Client) async throws -> Value
    ) async throws -> Value {
        defer { server.shutdown() }
        return try await server.makeApplication().test(.router) { client in
            try await body(Client(client: client, tokens: tokens, log: log))
        }
    }
}

/// A response, decoded for assertions.
struct Reply: Sendable {
    let status: HTTPResponse.Status
    let headers: HTTPFields
    let body: [UInt8]

    var text: String { String(decoding: body, as: UTF8.self) }
    var json: JSONValue { (try? JSONParser.parse(body)) ?? .null }
    var code: Int { Int(status.code) }
    /// The `error` member of an error body.
    var error: String? { json["error"]?.stringValue }
    var problems: [JSONValue] { json["problems"]?.arrayValue ?? [] }
    var contentType: String? { headers[.contentType] }
}

/// Sends requests with a role's token.
struct Client: Sendable {
    let client: any TestClientProtocol
    let tokens: [String: String]
    /// Where responses are recorded (for the OpenAPI check), if anywhere.
    var log: ResponseLog?

    /// `as`: a role name (its token), `nil` (no token), or `"bogus"` (an unknown token).
    func send(
        _ method: HTTPRequest.Method, _ uri: String, as role: String? = nil, body: [UInt8]? = nil,
        contentType: String? = nil, headers extra: HTTPFields = [:]
    ) async throws -> Reply {
        var headers = extra
        if let role {
            headers[.authorization] = "Bearer " + (tokens[role] ?? "cairn_bogus-token-that-is-not-in-the-ledger-000000")
        }
        if let contentType { headers[.contentType] = contentType }
        let response = try await client.execute(
            uri: uri, method: method, headers: headers, body: body.map { ByteBuffer(bytes: $0) })
        let reply = Reply(
            status: response.status, headers: response.headers, body: Array(response.body.readableBytesView))
        log?.record(method: method.rawValue, uri: uri, reply: reply)
        return reply
    }

    func get(_ uri: String, as role: String? = nil, headers: HTTPFields = [:]) async throws -> Reply {
        try await send(.get, uri, as: role, headers: headers)
    }

    func post(_ uri: String, as role: String? = "append", json text: String) async throws -> Reply {
        try await send(.post, uri, as: role, body: Array(text.utf8), contentType: "application/json")
    }

    func post(_ uri: String, as role: String? = "append", ndjson lines: [String]) async throws -> Reply {
        try await send(
            .post, uri, as: role, body: Array(lines.joined(separator: "\n").utf8), contentType: "application/x-ndjson")
    }

    /// Appends records (ndjson) and requires 200.
    @discardableResult
    func append(
        _ records: [String], as role: String = "append", sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> [JSONValue] {
        let reply = try await post("/v1/entries", as: role, ndjson: records)
        #expect(reply.code == 200, "append failed: \(reply.text)", sourceLocation: sourceLocation)
        return reply.json.arrayValue ?? []
    }
}

/// Responses a test saw, for the OpenAPI check.
final class ResponseLog: @unchecked Sendable {
    struct Entry {
        let method: String
        let uri: String
        let status: Int
        let contentType: String?
        let body: [UInt8]
    }

    private let lock = NSLock()
    private var entries: [Entry] = []

    func record(method: String, uri: String, reply: Reply) {
        lock.withLock {
            entries.append(
                Entry(method: method, uri: uri, status: reply.code, contentType: reply.contentType, body: reply.body))
        }
    }

    var all: [Entry] { lock.withLock { entries } }

    /// One JSON object per line: method, uri, status, content_type, body_base64.
    func jsonLines() -> String {
        all.map { entry in
            var object: [String: Any] = [
                "method": entry.method, "uri": entry.uri, "status": entry.status,
                "body_base64": Data(entry.body).base64EncodedString(),
            ]
            if let contentType = entry.contentType { object["content_type"] = contentType }
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
            return String(decoding: data, as: UTF8.self)
        }.joined(separator: "\n") + "\n"
    }
}

extension String {
    /// Percent-encodes a query value.
    var queryEncoded: String {
        addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? self
    }
}

/// A generic-profile note record.
func note(_ text: String) -> String { #"{"type":"note","text":"\#(text)"}"# }
