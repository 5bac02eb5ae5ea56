import CairnCrypto
import CairnJSON
import CairnMerkle
import CairnNote
import CairnRecords
import CairnStorage

// Sealing and successor logs (specs/sealing.md). `seal` appends a `seal` record in a commit of its own and marks the
// log sealed in the same transaction (`meta/sealed`); every later commit is refused, while reads, proofs and
// cosignatures of the final checkpoint go on. `createSuccessor` starts a new log whose entry 0 is a `predecessor`
// record committing to the sealed log's final checkpoint. Both record types are reserved: the ledger refuses one
// sent any other way, as it refuses key-rotation records.

extension LedgerLayout.MetaKey {
    /// Present once the log is sealed: the index of its seal entry, 8 bytes big-endian.
    static let sealed = "sealed"
}

/// The one reserved entry a commit admits: a seal (`Ledger.seal`) or a successor's link (`Ledger.createSuccessor`).
package struct ReservedCommit: Sendable {
    /// `.seal` or `.predecessor`.
    let type: RecordType
    /// The content address of the entry.
    let entryDigest: SHA256Digest
}

/// A sealed log's seal: what `Ledger.sealState` reports.
public struct LedgerSealState: Sendable, Hashable {
    /// The index of the seal entry: the log's last entry.
    public let entryIndex: UInt64
    /// The seal record.
    public let seal: SealRecord
    /// The final checkpoint (size `entryIndex + 1`).
    public let checkpoint: SignedCheckpoint
}

/// How to seal a log.
public struct SealOptions: Sendable {
    /// Why (the record's `reason`): non-blank.
    public var reason: String
    /// Who (the record's `author`).
    public var author: String
    /// When (the record's `at`, RFC 3339 UTC).
    public var at: String

    public init(reason: String, author: String, at: String) {
        self.reason = reason
        self.author = author
        self.at = at
    }
}

extension Ledger {
    // MARK: - Inside the commit

    /// Refuses any commit to a sealed log.
    func refuseIfSealed(_ txn: some TransactionReading) throws {
        guard let state = try sealState(txn) else { return }
        throw LedgerError(
            .sealed,
            "the log \(origin) is sealed: entry \(state.entryIndex) sealed it at \(state.seal.at) "
                + "(\(state.seal.reason)); it stays readable and provable but takes no more entries: append to its "
                + "successor (`cairn init --successor-of`, specs/sealing.md); nothing was appended")
    }

    /// The log's seal, or nil while it is open.
    func sealState(_ txn: some TransactionReading) throws -> LedgerSealState? {
        guard let stored = try txn.value(tables.meta, key: Array(LedgerLayout.MetaKey.sealed.utf8)) else { return nil }
        guard let index = stored.withUnsafeBytes({ BigEndianKey.decode($0) }) else {
            throw LedgerError(.corrupt, "meta/sealed is malformed (run `cairn fsck`)")
        }
        guard let checkpoint = try storedCheckpoint(txn, size: index + 1) else {
            throw LedgerError(.corrupt, "the sealed log has no checkpoint of its final size \(index + 1)")
        }
        let bytes = try entry(txn, index)
        let seal: SealRecord
        do throws(SuccessionError) {
            seal = try SealRecord(entry: bytes)
        } catch {
            throw LedgerError(.corrupt, "the seal entry \(index) is not a seal record: \(error.message)")
        }
        return LedgerSealState(entryIndex: index, seal: seal, checkpoint: checkpoint)
    }

    /// Refuses a `seal` or `predecessor` record that is not the reserved entry of its own commit.
    func reservedRecordRefusal(
        _ entry: PreparedEntry, position: Int, keyRotation: KeyRotationCommit?, reserved: ReservedCommit?
    ) throws -> AppendRejection? {
        guard let type = Self.reservedType(of: entry) else { return nil }
        let message: String
        switch type {
        case .keyRotation:
            guard keyRotation?.entryDigest != entry.digest else { return nil }
            message =
                "key-rotation records are appended only by `cairn key rotate`, which holds the signing key and "
                + "commits the record under a checkpoint signed by both the old and the new key "
                + "(specs/key-rotation.md); this one was not appended"
        case .seal:
            guard reserved?.type != .seal || reserved?.entryDigest != entry.digest else { return nil }
            message =
                "seal records are appended only by `cairn seal`, which seals the log in the same commit "
                + "(specs/sealing.md); this one was not appended"
        default:
            guard reserved?.type != .predecessor || reserved?.entryDigest != entry.digest else { return nil }
            message =
                "predecessor records are written only by `cairn init --successor-of`, as a new log's first entry "
                + "(specs/sealing.md); this one was not appended"
        }
        return AppendRejection(
            position: position, digest: entry.digest,
            problems: [RecordProblem(path: "$.type", code: "reservedType", message: message)])
    }

    /// The reserved type (`key-rotation`, `seal`, `predecessor`) of an entry, if it has one: from its facts
    /// (provenance), or, for an entry without facts, from its bytes (parsed only when they hold such a `type`).
    static func reservedType(of entry: PreparedEntry) -> RecordType? {
        if let facts = entry.facts {
            switch facts.type {
            case .keyRotation, .seal, .predecessor: return facts.type
            default: return nil
            }
        }
        return reservedType(ofBytes: entry.bytes)
    }

    private static let reservedTypes: [RecordType] = [.keyRotation, .seal, .predecessor]
    private static let reservedTypeNames: Set<[UInt8]> = Set(reservedTypes.map { Array($0.rawValue.utf8) })
    /// `"type":"`, as a canonical record holds its type member.
    private static let typeMemberPrefix = Array(#""type":""#.utf8)

    /// Whether some `"type":"…"` member of `bytes`, at any depth, names a reserved type (a nested object's type may
    /// come first in canonical order: each occurrence is looked at).
    private static func mentionsReservedType(_ bytes: [UInt8]) -> Bool {
        let prefix = typeMemberPrefix
        var start = 0
        while let found = bytes[start...].firstIndex(of: prefix[0]), found + prefix.count <= bytes.count {
            if bytes[found..<found + prefix.count].elementsEqual(prefix) {
                let valueStart = found + prefix.count
                guard let end = bytes[valueStart...].firstIndex(of: UInt8(ascii: "\"")) else { return false }
                if reservedTypeNames.contains(Array(bytes[valueStart..<end])) { return true }
                start = end
            } else {
                start = found + 1
            }
        }
        return false
    }

    /// After a seal or a predecessor link is appended, inside its commit: checks that it was the commit's one new
    /// entry (and, for a link, entry 0), and marks the log sealed for a seal.
    func finishReservedCommit(
        _ reserved: ReservedCommit, txn: WriteTransaction, startSize: UInt64, outcomes: [AppendOutcome]
    ) throws {
        guard outcomes.count == 1, case .appended(let appended) = outcomes[0], !appended.duplicate,
            appended.digest == reserved.entryDigest, appended.index == startSize
        else {
            throw LedgerError(
                .invalidArgument,
                "a \(reserved.type.rawValue) record is committed alone, as a new entry; nothing was appended")
        }
        switch reserved.type {
        case .seal:
            try txn.put(tables.meta, key: Array(LedgerLayout.MetaKey.sealed.utf8), value: BigEndianKey.bytes(startSize))
        default:
            guard startSize == 0 else {
                throw LedgerError(
                    .invalidArgument, "a predecessor record is a log's first entry; this log has \(startSize)")
            }
        }
    }

    // MARK: - Sealing

    /// The log's seal, or nil while it is open.
    public func sealState() throws(LedgerError) -> LedgerSealState? {
        try LedgerError.wrapping { try env.read { try sealState($0) } }
    }

    /// Seals the log: appends a `seal` record as its last entry, in a commit of its own that also marks the log
    /// sealed, and returns the seal with the final checkpoint. Every later append is refused (`.sealed`); reads,
    /// proofs and cosignatures go on. Sealing a sealed log is refused too.
    public func seal(_ options: SealOptions) throws(LedgerError) -> LedgerSealState {
        try LedgerError.wrapping(fallback: .storage) {
            guard !isReadOnly else { throw LedgerError(.readOnly, "the ledger at \(directory) is open read-only") }
            try env.read { try refuseIfSealed($0) }
            let record = SealRecord(origin: origin, at: options.at, author: options.author, reason: options.reason)
            let entry = try Self.prepareOwnRecord(record.json, profile: profile, maxEntryBytes: maxEntryBytes)
            let committed = try append([entry], reserved: ReservedCommit(type: .seal, entryDigest: entry.digest))
            if case .rejected(let rejection) = committed.outcomes.first { throw rejection }
            guard let state = try env.read({ try sealState($0) }) else {
                throw LedgerError(.corrupt, "the seal was committed but the log does not read as sealed")
            }
            return state
        }
    }

    // MARK: - Successors

    /// The `predecessor` record a successor of this sealed log starts with.
    public func predecessorRecord(author: String, at: String) throws(LedgerError) -> PredecessorRecord {
        try LedgerError.wrapping {
            try read { snapshot in
                let txn = snapshot.txn
                guard let state = try sealState(txn) else {
                    throw LedgerError(
                        .invalidArgument,
                        "the log \(origin) at \(directory) is not sealed: seal it first (`cairn seal`), so that its "
                            + "successor can commit to its final checkpoint")
                }
                let size = state.entryIndex + 1
                let proof = try snapshot.inclusionProof(index: state.entryIndex, size: size)
                let signers = try keySchedule(txn).signers(forSize: size)
                guard let key = signers.last else { throw LedgerError(.corrupt, "no key signs size \(size)") }
                return PredecessorRecord(
                    origin: origin, vkey: key, checkpoint: state.checkpoint.serialized,
                    sealEntry: try entry(txn, state.entryIndex), sealProof: proof.hashes, at: at, author: author)
            }
        }
    }

    /// Creates a successor of `predecessor` (a sealed log) at `directory`: a new log with its own origin and key,
    /// whose entry 0 is a `predecessor` record committing to the predecessor's final checkpoint. If `directory`
    /// already holds a ledger of that origin with no entries (an earlier call was interrupted after creating it),
    /// the link is appended to it.
    public static func createSuccessor(
        at directory: String, origin: String, of predecessor: Ledger, author: String, at: String,
        options: CreateOptions = CreateOptions()
    ) throws(LedgerError) -> Ledger {
        let record = try predecessor.predecessorRecord(author: author, at: at)
        guard !origin.utf8.elementsEqual(predecessor.origin.utf8) else {
            throw LedgerError(
                .invalidOrigin,
                "a successor needs an origin of its own (the predecessor is \(predecessor.origin)): two logs of one "
                    + "origin with different trees look like a fork to every verifier and witness")
        }
        let ledger: Ledger
        do {
            ledger = try create(at: directory, origin: origin, options: options)
        } catch {
            guard error.code == .alreadyExists, let existing = try? open(at: directory),
                existing.origin.utf8.elementsEqual(origin.utf8), (try? existing.read({ $0.treeSize })) == 0
            else { throw error }
            ledger = existing
        }
        try LedgerError.wrapping(fallback: .storage) {
            // Clients keep their tokens across the shards of a log (copied before the link: a re-run copies again).
            try copyTokens(from: predecessor, to: ledger)
            let entry = try prepareOwnRecord(record.json, profile: ledger.profile, maxEntryBytes: ledger.maxEntryBytes)
            let committed = try ledger.append(
                [entry], reserved: ReservedCommit(type: .predecessor, entryDigest: entry.digest))
            if case .rejected(let rejection) = committed.outcomes.first { throw rejection }
        }
        return ledger
    }

    /// Copies the server's tokens (their hashes, names, roles and revocations) from one ledger to another: the
    /// successor of a log accepts the tokens its predecessor did, until they are revoked in it.
    private static func copyTokens(from source: Ledger, to target: Ledger) throws {
        guard let from = source.tables.tokens, let to = target.tables.tokens else { return }
        let rows = try source.env.read { txn in
            var rows: [([UInt8], [UInt8])] = []
            try txn.forEach(from, prefix: []) { key, value in
                rows.append((Array(key), Array(value)))
                return true
            }
            return rows
        }
        guard !rows.isEmpty else { return }
        try target.env.write { txn in
            for (key, value) in rows { try txn.put(to, key: key, value: value) }
        }
    }

    /// The successor's link: its entry 0 as a `predecessor` record, or nil when the log has no predecessor.
    public func predecessorLink() throws(LedgerError) -> PredecessorRecord? {
        try LedgerError.wrapping {
            try env.read { txn -> PredecessorRecord? in
                guard try storedTreeSize(txn) > 0 else { return nil }
                let first = try entry(txn, 0)
                guard Self.reservedType(ofBytes: first) == .predecessor else { return nil }
                do throws(SuccessionError) {
                    return try PredecessorRecord(entry: first)
                } catch {
                    throw LedgerError(.corrupt, "entry 0 is not a valid predecessor record: \(error.message)")
                }
            }
        }
    }

    /// The reserved type of stored entry bytes (as `reservedType(of:)` for an entry without facts).
    static func reservedType(ofBytes bytes: [UInt8]) -> RecordType? {
        guard mentionsReservedType(bytes), let value = try? JSONParser.parse(bytes),
            let text = value["type"]?.stringValue
        else { return nil }
        return Self.reservedTypes.first { $0.rawValue == text }
    }

    // MARK: - fsck

    /// A seal is the log's last entry, of this log's origin, with a checkpoint of the final size, and the log is
    /// marked sealed exactly when its last entry is a seal; a predecessor record at entry 0 proves its link with the
    /// key it names.
    func fsckSuccession(_ txn: ReadTransaction, treeSize size: UInt64) throws {
        let lastIsSeal = try size > 0 && Self.reservedType(ofBytes: entry(txn, size - 1)) == .seal
        if let state = try sealState(txn) {
            guard state.entryIndex + 1 == size else {
                throw LedgerError(
                    .corrupt, "the log is marked sealed by entry \(state.entryIndex), but it has \(size) entries")
            }
            guard state.seal.origin.utf8.elementsEqual(origin.utf8) else {
                throw LedgerError(
                    .corrupt, "the seal entry \(state.entryIndex) seals \(state.seal.origin), not \(origin)")
            }
        } else if lastIsSeal {
            throw LedgerError(.corrupt, "the last entry \(size - 1) is a seal record, but the log is not marked sealed")
        }
        guard size > 0 else { return }
        let first = try entry(txn, 0)
        guard Self.reservedType(ofBytes: first) == .predecessor else { return }
        do throws(SuccessionError) {
            let record = try PredecessorRecord(entry: first)
            _ = try record.verify(with: record.vkey)
        } catch {
            throw LedgerError(.corrupt, "entry 0, the link to the predecessor log, does not hold: \(error.message)")
        }
    }
}
