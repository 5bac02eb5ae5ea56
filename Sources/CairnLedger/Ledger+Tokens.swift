import CairnCrypto
import CairnJSON
import CairnStorage

/// What an API token may do on `cairn serve` (specs/http-api.md, section 2).
public enum TokenRole: String, Sendable, Hashable, CaseIterable, Comparable {
    /// Append records and store blobs.
    case append
    /// Read entries, records, queries, blobs, checkpoints and proofs.
    case read
    /// Everything `read` may, and the access log.
    case audit
    /// Scrape `/metrics`.
    case metrics
    /// Everything.
    case admin

    public static func < (lhs: TokenRole, rhs: TokenRole) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// An API token as stored: everything but the secret, which is kept only as its SHA-256 hash.
public struct APIToken: Sendable, Hashable {
    /// A public identifier (`tok_` and 16 hex digits): what logs and the access log show.
    public let id: String
    /// A label chosen at creation (`ci-pipeline`, `auditor-laptop`).
    public let name: String
    /// The roles granted, sorted.
    public let roles: [TokenRole]
    /// When it was created (RFC 3339 UTC).
    public let created: String
    /// When it was revoked, if it was.
    public let revoked: String?

    public var isRevoked: Bool { revoked != nil }

    /// Whether the token may act in `role`: `admin` may do everything, `audit` includes `read`.
    public func grants(_ role: TokenRole) -> Bool {
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

    init(id: String, name: String, roles: [TokenRole], created: String, revoked: String?) {
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
            throw LedgerError(.corrupt, "a row of the tokens table is malformed")
        }
        let roles = roleValues.compactMap { $0.stringValue.flatMap(TokenRole.init(rawValue:)) }
        guard roles.count == roleValues.count else {
            throw LedgerError(.corrupt, "token \(id) has a role this cairn does not know")
        }
        self.init(id: id, name: name, roles: roles, created: created, revoked: value["revoked"]?.stringValue)
    }
}

/// A token just created: the only time its secret exists outside the client's hands.
public struct CreatedToken: Sendable {
    public let token: APIToken
    /// `cairn_` followed by 43 base64url characters (256 random bits). Shown once, never stored.
    public let secret: String
}

extension LedgerLayout.TableName {
    /// SHA-256 of a token's secret (32 bytes) → the token's metadata (JSON, see `APIToken`).
    static let tokens = "tokens"
}

extension Ledger {
    /// Opens the tokens table; nil when the ledger is open read-only and was never opened for
    /// writing since tokens were introduced (it then has no tokens).
    static func openTokenTable(_ env: LMDBEnvironment) throws -> Table? {
        do {
            return try env.openTable(LedgerLayout.TableName.tokens)
        } catch let error as StorageError where env.options.readOnly && error.resultCode == .notFound {
            return nil
        }
    }

    /// The prefix of every token secret.
    public static let tokenPrefix = "cairn_"

    /// Creates a token with `roles`, stores its SHA-256 hash, and returns it with its secret.
    public func createToken(name: String, roles: Set<TokenRole>, at timestamp: String) throws -> CreatedToken {
        guard !isReadOnly, let table = tables.tokens else {
            throw LedgerError(.readOnly, "the ledger at \(directory) is open read-only")
        }
        guard !roles.isEmpty else { throw LedgerError(.invalidArgument, "a token needs at least one role") }
        guard !name.isEmpty, name.utf8.count <= 128,
            !name.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f })
        else {
            throw LedgerError(
                .invalidArgument,
                "a token name must be 1 to 128 bytes without control characters, got \(name.debugDescription)")
        }
        var generator = SystemRandomNumberGenerator()  // getrandom(2) / arc4random: cryptographically secure
        let secretBytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        let idBytes = (0..<8).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        let secret = Self.tokenPrefix + Self.base64URL(secretBytes)
        let token = APIToken(
            id: "tok_" + idBytes.withUnsafeBytes { Hex.encode($0) }, name: name, roles: roles.sorted(),
            created: timestamp, revoked: nil)
        let hash = SHA256.hash(Array(secret.utf8))
        try env.write { txn in
            try hash.withUnsafeBytes { key in
                try token.encoded.withUnsafeBytes { value in
                    guard try txn.insertIfAbsent(table, key: key, value: value) == nil else {
                        throw LedgerError(.storage, "token hash collision (the random generator is broken)")
                    }
                }
            }
        }
        return CreatedToken(token: token, secret: secret)
    }

    /// Every token ever created, revoked ones included, oldest first.
    public func tokens() throws -> [APIToken] {
        guard let table = tables.tokens else { return [] }
        let tokens = try env.read { txn in
            var rows: [[UInt8]] = []
            try txn.withCursor(table) { cursor in
                var entry = try cursor.first()
                while let current = entry {
                    rows.append(Array(current.value))
                    entry = try cursor.next()
                }
            }
            return rows
        }.map { try APIToken(decoding: $0) }
        return tokens.sorted { ($0.created, $0.id) < ($1.created, $1.id) }
    }

    /// Revokes the token with `id`; later requests with it are refused. Revoking a revoked token
    /// changes nothing. Throws `.entryNotFound` for an unknown id.
    @discardableResult
    public func revokeToken(id: String, at timestamp: String) throws -> APIToken {
        guard !isReadOnly, let table = tables.tokens else {
            throw LedgerError(.readOnly, "the ledger at \(directory) is open read-only")
        }
        return try env.write { txn in
            var found: (key: [UInt8], token: APIToken)?
            try txn.withCursor(table) { cursor in
                var entry = try cursor.first()
                while let current = entry {
                    let token = try APIToken(decoding: Array(current.value))
                    if token.id == id {
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
    }

    /// The live token whose secret is `secret`, looked up by the secret's SHA-256; nil when the
    /// secret is unknown or the token was revoked.
    public func authenticate(secret: String) throws -> APIToken? {
        guard let table = tables.tokens, secret.hasPrefix(Self.tokenPrefix), secret.utf8.count <= 256 else {
            return nil
        }
        let hash = SHA256.hash(Array(secret.utf8))
        let row = try env.read { txn in
            try hash.withUnsafeBytes { key in try txn.rawValue(table, key: key).map { Array($0) } }
        }
        guard let row else { return nil }
        let token = try APIToken(decoding: row)
        return token.isRevoked ? nil : token
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
