import CairnCrypto
import CairnLedger
import CairnServer
import CairnTestSupport
import Foundation
import Testing

@Suite("Tokens in the ledger")
struct TokenTests {
    @Test("create, authenticate, list, revoke; only the SHA-256 of a token is stored")
    func lifecycle() async throws {
        let dir = try TemporaryDirectory()
        let ledger = try Ledger.create(at: dir.file("l"), origin: "example.com/tokens")
        let engine = IngestEngine(ledger: ledger)
        defer { engine.shutdown() }
        let store = TokenStore(ledger: ledger)
        let created = try await store.create(
            name: "ci", roles: [.append, .read], at: "2026-01-01T00:00:00Z", using: engine)
        #expect(created.secret.hasPrefix("cairn_"))
        #expect(created.secret.count == 6 + 43)
        #expect(created.token.id.hasPrefix("tok_") && created.token.id.count == 20)
        #expect(created.token.roles == [.append, .read])
        let other = try await store.create(
            name: "auditor", roles: [.audit], at: "2026-01-02T00:00:00Z", using: engine)
        #expect(other.secret != created.secret)

        #expect(try await store.authenticate(secret: created.secret) == created.token)
        #expect(try await store.authenticate(secret: created.secret + "x") == nil)
        #expect(try await store.authenticate(secret: "not-a-cairn-token") == nil)
        #expect(try await store.authenticate(secret: "") == nil)
        #expect(try store.tokens().map(\.name) == ["ci", "auditor"])

        // The secret never reaches the disk; its hash does.
        let data = try Data(contentsOf: URL(fileURLWithPath: dir.file("l/data.mdb")))
        #expect(data.range(of: Data(created.secret.utf8)) == nil)
        #expect(data.range(of: Data(created.secret.dropFirst(6).utf8)) == nil)
        let hash = sha256Bytes(created.secret)
        #expect(data.range(of: Data(hash)) != nil)

        let revoked = try await store.revoke(id: created.token.id, at: "2026-01-03T00:00:00Z", using: engine)
        #expect(revoked.revoked == "2026-01-03T00:00:00Z")
        #expect(try await store.authenticate(secret: created.secret) == nil)
        #expect(
            try await store.revoke(id: created.token.id, at: "2026-01-04T00:00:00Z", using: engine).revoked
                == "2026-01-03T00:00:00Z")
        #expect(try store.tokens().first?.isRevoked == true)
        await #expect(throws: LedgerError.self) {
            try await store.revoke(id: "tok_0000000000000000", at: "x", using: engine)
        }
        await #expect(throws: LedgerError.self) {
            try await store.create(name: "", roles: [.read], at: "x", using: engine)
        }
        await #expect(throws: LedgerError.self) { try await store.create(name: "n", roles: [], at: "x", using: engine) }
        await #expect(throws: LedgerError.self) {
            try await store.create(name: "a\nb", roles: [.read], at: "x", using: engine)
        }
    }

    @Test("a token created or revoked by another process takes effect within the store's refresh interval")
    func otherProcess() async throws {
        let dir = try TemporaryDirectory()
        let ledger = try Ledger.create(at: dir.file("l"), origin: "example.com/tokens")
        let serving = TokenStore(ledger: ledger, refreshInterval: .milliseconds(50))
        #expect(try await serving.authenticate(secret: "cairn_unknown") == nil)  // the map is loaded, empty
        // "Another process": a second store and engine on the same ledger.
        let engine = IngestEngine(ledger: ledger)
        defer { engine.shutdown() }
        let created = try await TokenStore(ledger: ledger).create(
            name: "late", roles: [.read], at: "2026-01-01T00:00:00Z", using: engine)
        try await poll("the new token is accepted") { try await serving.authenticate(secret: created.secret) != nil }
        _ = try await TokenStore(ledger: ledger).revoke(id: created.token.id, at: "2026-01-02T00:00:00Z", using: engine)
        try await poll("the revoked token is refused") { try await serving.authenticate(secret: created.secret) == nil }
    }

    @Test("role grants: admin everything, audit includes read, nothing else implies anything")
    func grants() throws {
        func token(_ roles: Set<TokenRole>) -> APIToken {
            APIToken(id: "tok_0", name: "t", roles: roles.sorted(), created: "2026-01-01T00:00:00Z", revoked: nil)
        }
        #expect(TokenRole.allCases.allSatisfy { token([.admin]).grants($0) })
        #expect(token([.audit]).grants(.read))
        #expect(!token([.audit]).grants(.append))
        #expect(!token([.read]).grants(.audit))
        #expect(!token([.append]).grants(.read))
        #expect(!token([.metrics]).grants(.read))
        #expect(token([.append, .metrics]).grants(.metrics))
    }

    @Test("a ledger opened read-only before it ever had a tokens table has no tokens, and still opens")
    func readOnlyWithoutTable() async throws {
        let dir = try TemporaryDirectory()
        let ledger = try Ledger.create(at: dir.file("l"), origin: "example.com/tokens")
        let engine = IngestEngine(ledger: ledger)
        _ = try await TokenStore(ledger: ledger).create(
            name: "t", roles: [.read], at: "2026-01-01T00:00:00Z", using: engine)
        await engine.shutdownGracefully()
        var options = Ledger.OpenOptions()
        options.readOnly = true
        let readOnly = try Ledger.open(at: dir.file("l"), options: options)
        #expect(try TokenStore(ledger: readOnly).tokens().count == 1)
        let readOnlyEngine = IngestEngine(ledger: readOnly)
        defer { readOnlyEngine.shutdown() }
        await #expect(throws: LedgerError.self) {
            try await TokenStore(ledger: readOnly).create(name: "x", roles: [.read], at: "x", using: readOnlyEngine)
        }
    }
}

@Suite("Server configuration")
struct ConfigurationTests {
    @Test("the example of specs/server-config.md parses to what it says")
    func specExample() throws {
        let spec = try String(
            contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().appendingPathComponent("specs/server-config.md"), encoding: .utf8)
        let start = try #require(spec.range(of: "```json\n"))
        let end = try #require(spec.range(of: "```", range: start.upperBound..<spec.endIndex))
        var configuration = ServerConfiguration()
        try configuration.apply(configurationFile: Array(spec[start.upperBound..<end.lowerBound].utf8))
        try configuration.validate()
        #expect(configuration.ledger == "/var/lib/cairn/ledger")
        #expect(configuration.listen == .tcp(host: "127.0.0.1", port: 8080))
        #expect(configuration.publicReads)
        #expect(!configuration.publicMetrics)
        #expect(configuration.trustedProxies == ["127.0.0.1"])
        #expect(configuration.maxBodyBytes == 8_388_608)
        #expect(configuration.rateLimit == .init(requestsPerSecond: 50, burst: 100))
        #expect(configuration.requestTimeout == .seconds(30))
        #expect(configuration.idleTimeout == .seconds(15) && ServerConfiguration().idleTimeout == .seconds(15))
        #expect(configuration.maxRecordsPerRequest == 10_000 && ServerConfiguration().maxRecordsPerRequest == 10_000)
        #expect(
            configuration.maxConcurrentExpensiveReads == 1 && ServerConfiguration().maxConcurrentExpensiveReads == 1)
        #expect(configuration.maxConnections == 4096 && ServerConfiguration().maxConnections == nil)
        #expect(configuration.ingest.maxQueuedRecords == 262_144)
        #expect(configuration.logFormat == .json)
        #expect(configuration.witnesses.count == 1)
        #expect(configuration.witnesses.first?.name == "witness.example.org")
    }

    @Test("unknown keys, wrong types and impossible values are refused with their path")
    func refusals() {
        let cases: [(String, String)] = [
            (#"{"listen":"127.0.0.1:8080","publc_reads":true}"#, "publc_reads"),
            (#"{"limits":{"max_body_byte":1}}"#, "limits.max_body_byte"),
            (#"{"limits":{"max_body_bytes":"8M"}}"#, "limits.max_body_bytes"),
            (#"{"limits":{"max_body_bytes":1.5}}"#, "limits.max_body_bytes"),
            (#"{"public_reads":"yes"}"#, "public_reads"),
            (#"{"listen":"localhost"}"#, "listen"),
            (#"{"listen":"127.0.0.1:70000"}"#, "listen"),
            (#"{"log":{"level":"loud"}}"#, "log.level"),
            (#"{"witnesses":[{"name":"w","url":"https://w"}]}"#, "witnesses[0]"),
            (#"{"witnesses":[{"name":"w","vkey":"nonsense","url":"https://w"}]}"#, "witnesses[0].vkey"),
            (#"{"limits":{"idle_timeout_seconds":1e10}}"#, "limits.idle_timeout_seconds"),
            (#"{"limits":{"request_timeout_seconds":0}}"#, "limits.request_timeout_seconds"),
            (#"[1]"#, "configuration"),
            (#"{"a":1,"a":2}"#, "JSON"),
        ]
        for (text, mention) in cases {
            var configuration = ServerConfiguration()
            #expect(throws: ConfigurationError.self, "\(text)") {
                try configuration.apply(configurationFile: Array(text.utf8))
            }
            do {
                try configuration.apply(configurationFile: Array(text.utf8))
            } catch {
                #expect(error.message.contains(mention), "\(text): \(error.message)")
            }
        }
        var zero = ServerConfiguration()
        zero.maxBodyBytes = 0
        #expect(throws: ConfigurationError.self) { try zero.validate() }
        var burst = ServerConfiguration()
        burst.rateLimit = .init(requestsPerSecond: 1, burst: 0)
        #expect(throws: ConfigurationError.self) { try burst.validate() }
        // A rate so small that the refill time overflows the arithmetic.
        var crawl = ServerConfiguration()
        crawl.rateLimit = .init(requestsPerSecond: 1e-300, burst: 1)
        #expect(throws: ConfigurationError.self) { try crawl.validate() }
        var noLimit = ServerConfiguration()
        try? noLimit.apply(configurationFile: Array(#"{"limits":{"rate_limit":null}}"#.utf8))
        #expect(noLimit.rateLimit == nil)
    }

    @Test(
        "listen addresses",
        arguments: [
            ("127.0.0.1:8080", ServerConfiguration.ListenAddress.tcp(host: "127.0.0.1", port: 8080), true),
            ("[::1]:9000", .tcp(host: "::1", port: 9000), true),
            ("0.0.0.0:80", .tcp(host: "0.0.0.0", port: 80), false),
            ("unix:/run/cairn.sock", .unix(path: "/run/cairn.sock"), true),
        ])
    func listen(text: String, expected: ServerConfiguration.ListenAddress, loopback: Bool) throws {
        let parsed = try ServerConfiguration.ListenAddress(parsing: text)
        #expect(parsed == expected)
        #expect(parsed.isLoopback == loopback)
        #expect(parsed.description == text)
    }
}

func sha256Bytes(_ text: String) -> [UInt8] {
    SHA256.hash(Array(text.utf8)).bytes
}
