import CairnJSON
import CairnNote
import CairnStorage

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Who appended entries: an API token (over HTTP) or a local operating-system user (the
/// `cairn` command, or any process that opens the ledger itself).
///
/// The ledger records the principal of every appended entry in the same transaction as the entry
/// (table `appenders`, specs/storage.md), views show it (`appended_by`), and corrections are
/// checked against it: a record may be corrected by the principal that appended it, or by one
/// trusted to correct others' records (`mayCorrectOthers`, the server's `correct` role).
/// What a record says about its author (`author`, `requested_by`) is a claim; this is who the
/// ledger saw append it.
public struct Principal: Sendable, Hashable, CustomStringConvertible {
    /// How the principal was authenticated.
    public enum Kind: String, Sendable, Hashable {
        /// A bearer token of `cairn serve` (`id` is the token id, `name` its label).
        case token
        /// A local user of the machine holding the ledger (`id` is `uid:N`, `name` the login).
        case local
    }

    public let kind: Kind
    /// A stable identifier: `tok_…` or `uid:N`.
    public let id: String
    /// A human label: the token's name or the user's login name.
    public let name: String
    /// Whether corrections of records appended by other principals are allowed (not stored).
    public let mayCorrectOthers: Bool

    public init(kind: Kind, id: String, name: String, mayCorrectOthers: Bool = false) {
        self.kind = kind
        self.id = id
        self.name = name
        self.mayCorrectOthers = mayCorrectOthers
    }

    /// The user running this process: whoever can open the ledger's files can do anything to
    /// them, so a local principal may correct any record.
    public static let currentUser: Principal = {
        let uid = getuid()
        var name = "uid \(uid)"
        if let entry = getpwuid(uid), let login = entry.pointee.pw_name {
            name = String(cString: login)
        }
        return Principal(kind: .local, id: "uid:\(uid)", name: name, mayCorrectOthers: true)
    }()

    /// `token tok_… (name)` or `local uid:N (name)`.
    public var description: String { "\(kind.rawValue) \(id) (\(name))" }

    /// `{"kind": …, "id": …, "name": …}`: the stored form and the `appended_by` of views.
    public var json: JSONValue {
        .object(["kind": .string(kind.rawValue), "id": .string(id), "name": .string(name)])
    }

    /// Two principals are the same appender when kind and id are equal, byte for byte.
    func isSameAppender(as other: Principal) -> Bool {
        kind == other.kind && id.sameBytes(as: other.id)
    }

    /// The same appender under the same name, byte for byte: the appenders table starts a new run
    /// when this changes.
    func isSameRun(as other: Principal) -> Bool {
        isSameAppender(as: other) && name.sameBytes(as: other.name)
    }

    init?(stored bytes: UnsafeRawBufferPointer) {
        guard let value = try? JSONParser.parse(bytes), let kindText = value["kind"]?.stringValue,
            let kind = Kind(rawValue: kindText), let id = value["id"]?.stringValue,
            let name = value["name"]?.stringValue
        else { return nil }
        self.init(kind: kind, id: id, name: name)
    }
}

extension Ledger {
    /// Records that `principal` appended the entries from `first` on (a run: every later index
    /// up to the next run belongs to it).
    func recordAppender(_ txn: WriteTransaction, _ principal: Principal, from first: UInt64) throws {
        guard let table = tables.appenders else { throw LedgerError(.readOnly, "the ledger is open read-only") }
        try txn.put(table, key: first, value: JSONWriter.compactBytes(principal.json))
    }

    /// The principal that appended the entry at `index`, or nil for entries appended before the
    /// ledger recorded appenders.
    func appender(_ txn: some TransactionReading, of index: UInt64) throws -> Principal? {
        guard let table = tables.appenders else { return nil }
        return try txn.withCursor(table) { cursor -> Principal? in
            // The run holding `index` is the last one starting at or before it.
            let run: Cursor.Entry?
            if let (key, value) = try cursor.seek(atLeast: index), BigEndianKey.decode(key) == index {
                run = (key, value)
            } else if try cursor.seek(atLeast: index) != nil {
                run = try cursor.previous()
            } else {
                run = try cursor.last()
            }
            guard let (key, value) = run, let start = BigEndianKey.decode(key), start <= index else { return nil }
            guard let principal = Principal(stored: value) else {
                throw LedgerError(.corrupt, "the appender of entry \(index) is stored malformed (run `cairn fsck`)")
            }
            return principal
        }
    }
}

extension LedgerSnapshot {
    /// The principal that appended the entry at `index` (nil for entries appended before the
    /// ledger recorded appenders).
    public func appender(of index: UInt64) throws(LedgerError) -> Principal? {
        try run { try ledger.appender(txn, of: index) }
    }
}

/// A run of consecutive entries appended by one principal.
public struct AppenderRun: Sendable, Hashable {
    /// The entries of the run.
    public let entries: Range<UInt64>
    /// Who appended them (nil for entries appended before the ledger recorded appenders).
    public let principal: Principal?
}

extension LedgerSnapshot {
    /// Who appended the entries in `range`, as runs in index order, clipped to `range` (which is
    /// clipped to the tree size). Adjacent runs have different principals or came from different
    /// commits.
    public func appenders(in range: Range<UInt64>) throws(LedgerError) -> [AppenderRun] {
        let upper = min(range.upperBound, treeSize)
        guard range.lowerBound < upper else { return [] }
        return try run {
            var runs: [AppenderRun] = []
            var start = range.lowerBound
            var principal = try ledger.appender(txn, of: start)
            if let table = ledger.tables.appenders {
                try txn.withCursor(table) { cursor in
                    var next = try cursor.seek(atLeast: start + 1)
                    while let (key, value) = next, let first = BigEndianKey.decode(key), first < upper {
                        guard let following = Principal(stored: value) else {
                            throw LedgerError(
                                .corrupt, "the appender of entry \(first) is stored malformed (run `cairn fsck`)")
                        }
                        runs.append(AppenderRun(entries: start..<first, principal: principal))
                        (start, principal) = (first, following)
                        next = try cursor.next()
                    }
                }
            }
            runs.append(AppenderRun(entries: start..<upper, principal: principal))
            return runs
        }
    }
}
