import CairnCrypto
import CairnJSON
import CairnLedger
import CairnStorage
import Synchronization

/// What an API token may do on `cairn serve` (specs/http-api.md, section 2).
package enum TokenRole: String, Sendable, Hashable, CaseIterable, Comparable {
    /// Append records and store blobs.
    case append
    /// Read entries, records, queries, blobs, checkpoints and proofs.
    case read
    /// Everything `read` may, and the access log.
    case audit
    /// Scrape `/metrics`.
    case metrics
    /// Append `erasure` records, which destroy a blob's bytes for good (with `append`).
    case erase
    /// Correct records that other principals appended (with `append`); without it, a token may
    /// correct only what it appended itself.
    case correct
    /// Everything.
    case admin

    package static func < (lhs: TokenRole, rhs: TokenRole) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// An API token as stored: everything but the secret, which is kept only as its SHA-256 hash.
package struct APIToken: Sendable, Hashable {
    /// A public identifier (`tok_` and 16 hex digits): what logs and the access log show.
    package let id: String
    /// A label chosen at creation (`ci-pipeline`, `auditor-laptop`).
    package let name: String
    /// The roles granted, sorted.
    package let roles: [TokenRole]
    /// When it was created (RFC 3339 UTC).
    package let created: String
    /// When it was revoked, if it was.
    package let revoked: String?

    package var isRevoked: Bool { revoked != nil }

    /// Whether the token may act in `role`: `admin` may do everything, `audit` includes `read`.
    /// Nothing else implies anything: `erase` and `correct` are granted only on purpose.
    package func grants(_ role: TokenRole) -> Bool {
        roles.contains(role) || roles.contains(.admin) || (role == .read && roles.contains(.audit))
    }

    var encoded: [UInt8] {
        var object: JSONObject = [
            "id": .string(id), "name": .string(name), "roles": .array(roles.map { .string($0.rawValue) }),
            "created": .string(created),
        ]
        if let revoked { object["revoked"] = .string(revoked) }
        return JSONWriter.compactBytes(.object(object))
    }

    package init(id: String, name: String, roles: [TokenRole], created: String, revoked: String?) {
        self.id = id
        self.name = name
        self.roles = roles
        self.created = created
        self.revoked = revoked
    }

    init(decoding bytes: [UInt8]) throws {
        guard let value = try? JSONParser.parse(bytes), let id = value["id"]?.stringValue,
            let name = value["name"]?.stringValue, case .array(let roleValues)? = value["roles"],
            let created = value["created"]?.stringValue
        else {
            throw LedgerError(.corrupt, "a row of the tokens table is malformed (run `cairn fsck`)")
        }
        let roles = roleValues.compactMap { $0.stringValue.flatMap(TokenRole.init(rawValue:)) }
        guard roles.count == roleValues.count else {
            throw LedgerError(.corrupt, "token \(id) has a role this cairn does not know")
        }
        self.init(id: id, name: name, roles: roles, created: created, revoked: value["revoked"]?.stringValue)
    }
}

/// A token just created: the only time its secret exists outside the client's hands.
package struct CreatedToken: Sendable {
    package let token: APIToken
    /// `cairn_` followed by 43 base64url characters (256 random bits). Shown once, never stored.
    package let secret: String
}

/// The API tokens of `cairn serve` (specs/http-api.md, section 2), kept in the ledger's
/// environment (table `tokens`: SHA-256 of a secret → the token's metadata) and written only
/// through the ledger's ingest engine.
///
/// Thread-safe. Authentication is answered from memory: the table is read into a map at most
/// once per `refreshInterval` (on the ledger I/O pool, one refresh at a time), so no request
/// reads LMDB on the cooperative pool and a flood of bad tokens costs one read per interval.
/// A token created or revoked by another process (`cairn token create|revoke`) takes effect
/// within that interval; one revoked through this store takes effect at once.
package final class TokenStore: Sendable {
    /// The prefix of every token secret.
    package static let secretPrefix = "cairn_"
    /// How stale the in-memory map may get before a lookup refreshes it.
    package static let defaultRefreshInterval: Duration = .seconds(1)

    package let ledger: Ledger
    let refreshInterval: Duration
    private let cache = Mutex<Cache?>(nil)
    private let refreshing = Mutex<Task<Cache, any Error>?>(nil)

    struct Cache: Sendable {
        let tokens: [SHA256Digest: APIToken]
        let loaded: ContinuousClock.Instant
    }

    package init(ledger: Ledger, refreshInterval: Duration = TokenStore.defaultRefreshInterval) {
        self.ledger = ledger
        self.refreshInterval = refreshInterval
    }

    // MARK: - Reading

    /// Every token ever created, revoked ones included, oldest first.
    package func tokens() throws -> [APIToken] {
        try ledger.read { snapshot in try Self.rows(snapshot) }.values.sorted {
            ($0.created, $0.id) < ($1.created, $1.id)
        }
    }

    /// The live token whose secret is `secret`, looked up by the secret's SHA-256; nil when the
    /// secret is unknown or the token was revoked.
    package func authenticate(secret: String) async throws -> APIToken? {
        guard secret.hasPrefix(Self.secretPrefix), secret.utf8.count <= 256 else { return nil }
        let hash = SHA256.hash(Array(secret.utf8))
        let token = try await current().tokens[hash]
        return token?.isRevoked == false ? token : nil
    }

    /// The in-memory map, refreshed if it is older than `refreshInterval`.
    private func current() async throws -> Cache {
        if let cached = cache.withLock({ $0 }), cached.loaded.duration(to: .now) < refreshInterval { return cached }
        let task = refreshing.withLock { running -> Task<Cache, any Error> in
            if let running { return running }
            let ledger = self.ledger
            let task = Task {
                let started = ContinuousClock.now
                let rows = try await ledger.read { snapshot in try Self.rows(snapshot) }
                return Cache(tokens: rows, loaded: started)
            }
            running = task
            return task
        }
        defer { refreshing.withLock { if $0 == task { $0 = nil } } }
        let fresh = try await task.value
        cache.withLock { $0 = fresh }
        return fresh
    }

    /// Forgets the in-memory map, so the next lookup reads the table.
    func invalidate() {
        cache.withLock { $0 = nil }
    }

    static func rows(_ snapshot: LedgerSnapshot) throws -> [SHA256Digest: APIToken] {
        guard let table = snapshot.ledger.tokensTable else { return [:] }
        var rows: [SHA256Digest: APIToken] = [:]
        try snapshot.transaction.withCursor(table) { cursor in
            var entry = try cursor.first()
            while let current = entry {
                guard let hash = SHA256Digest(bytes: current.key) else {
                    throw LedgerError(.corrupt, "a key of the tokens table is not a SHA-256 digest (run `cairn fsck`)")
                }
                rows[hash] = try APIToken(decoding: Array(current.value))
                entry = try cursor.next()
            }
        }
        return rows
    }

    // MARK: - Writing (through the ingest engine)

    /// Creates a token with `roles`, stores its SHA-256 hash, and returns it with its secret.
    package func create(
        name: String, roles: Set<TokenRole>, at timestamp: String, using engine: IngestEngine
    ) async throws -> CreatedToken {
        guard !ledger.isReadOnly, let table = ledger.tokensTable else {
            throw LedgerError(.readOnly, "the ledger at \(ledger.directory) is open read-only")
        }
        guard !roles.isEmpty else { throw LedgerError(.invalidArgument, "a token needs at least one role") }
        guard !name.isEmpty, name.utf8.count <= 128,
            !name.unicodeScalars.contains(where: { $0.value < 0x20 || (0x7f...0x9f).contains($0.value) })
        else {
            throw LedgerError(
                .invalidArgument,
                "a token name must be 1 to 128 bytes without control characters, got \(name.debugDescription)")
        }
        var generator = SystemRandomNumberGenerator()  // getrandom(2) / arc4random: cryptographically secure
        let secretBytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        let idBytes = (0..<8).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        let secret = Self.secretPrefix + Self.base64URL(secretBytes)
        let token = APIToken(
            id: "tok_" + idBytes.withUnsafeBytes { Hex.encode($0) }, name: name, roles: roles.sorted(),
            created: timestamp, revoked: nil)
        let hash = SHA256.hash(Array(secret.utf8))
        try await engine.perform { txn in
            try hash.withUnsafeBytes { key in
                try token.encoded.withUnsafeBytes { value in
                    guard try txn.insertIfAbsent(table, key: key, value: value) == nil else {
                        throw LedgerError(.storage, "token hash collision (the random generator is broken)")
                    }
                }
            }
        }
        invalidate()
        return CreatedToken(token: token, secret: secret)
    }

    /// Revokes the token with `id`; later requests with it are refused. Revoking a revoked token
    /// changes nothing. Throws `.entryNotFound` for an unknown id.
    @discardableResult
    package func revoke(id: String, at timestamp: String, using engine: IngestEngine) async throws -> APIToken {
        guard !ledger.isReadOnly, let table = ledger.tokensTable else {
            throw LedgerError(.readOnly, "the ledger at \(ledger.directory) is open read-only")
        }
        let revoked = try await engine.perform { txn -> APIToken in
            var found: (key: [UInt8], token: APIToken)?
            try txn.withCursor(table) { cursor in
                var entry = try cursor.first()
                while let current = entry {
                    let token = try APIToken(decoding: Array(current.value))
                    if token.id.utf8.elementsEqual(id.utf8) {
                        found = (Array(current.key), token)
                        return
                    }
                    entry = try cursor.next()
                }
            }
            guard let found else { throw LedgerError(.entryNotFound, "no token has id \(id)") }
            if found.token.isRevoked { return found.token }
            let revoked = APIToken(
                id: found.token.id, name: found.token.name, roles: found.token.roles, created: found.token.created,
                revoked: timestamp)
            try txn.put(table, key: found.key, value: revoked.encoded)
            return revoked
        }
        invalidate()
        return revoked
    }

    static func base64URL(_ bytes: [UInt8]) -> String {
        let standard = bytes.withUnsafeBytes { Base64.encode($0) }
        return String(
            standard.compactMap { c -> Character? in
                switch c {
                case "+": "-"
                case "/": "_"
                case "=": nil
                default: c
                }
            })
    }
}
