import CairnCrypto
import CairnJSON
import CairnRecords
import CairnStorage

/// An entry as seen by a scan: the effective record as of the scan's tree size, and the entries
/// that refer to it up to that size.
public struct ScannedEntry: Sendable, Hashable {
    public let index: UInt64
    public let digest: SHA256Digest
    public let record: JSONValue
    public let facts: RecordFacts
    /// Entries referring to this one (reviews, tests, deploys, corrections…), in log order, each
    /// with its effective record as of the scan's tree size.
    public let references: [Reference]
    /// When the ledger committed the entry (Unix milliseconds); nil when it holds no time for it.
    public let appendedAt: Int64?

    public struct Reference: Sendable, Hashable {
        public let index: UInt64
        public let type: RecordType
        public let record: JSONValue
        public let facts: RecordFacts
        /// When the ledger committed the referring entry (Unix milliseconds), if it knows.
        public let appendedAt: Int64?
    }
}

extension LedgerSnapshot {
    /// Streams every entry of `type` whose own timestamp is in `[since, until)` (all entries of
    /// the type when both are nil), in log order, as the ledger stood at tree size `size`
    /// (default: this snapshot's size). Corrections and references appended at or after
    /// `size` are ignored, so the same call with the same `size` always sees the same data —
    /// which is what makes a report reproducible. Memory stays bounded: one entry at a time.
    ///
    /// `body` returns `false` to stop. Returns the tree size the scan used.
    @discardableResult
    public func scan(
        type: RecordType, since: Int64? = nil, until: Int64? = nil, asOf size: UInt64? = nil,
        _ body: (ScannedEntry) throws -> Bool
    ) throws -> UInt64 {
        guard ledger.profile == .provenance else {
            throw LedgerError(.invalidArgument, "scans need a ledger created with the provenance profile")
        }
        // Errors thrown by `body` pass through unchanged; the ledger's own are wrapped.
        let current = treeSize
        let size = size ?? current
        try run { try ledger.checkSize(size, current: current) }
        return try ledger.scan(txn, type: type, since: since, until: until, size: size, body)
    }
}

extension Ledger {
    func scan(
        _ txn: ReadTransaction, type: RecordType, since: Int64?, until: Int64?, size: UInt64,
        _ body: (ScannedEntry) throws -> Bool
    ) throws -> UInt64 {
        do {
            let prefix = IndexKey(.type, type.rawValue).bytes
            var stop = false
            try txn.forEach(tables.index, prefix: prefix) { key, _ in
                let index = readUInt64(key, at: prefix.count)
                guard index < size else { return false }  // keys are in log order
                let record = try effectiveRecord(txn, index, asOf: size)
                let facts = RecordFacts(stored: record)
                if since != nil || until != nil {
                    guard let ms = facts.timestamp, ms >= (since ?? .min), ms < (until ?? .max) else { return true }
                }
                var references: [ScannedEntry.Reference] = []
                for source in try self.references(txn, to: index) where source.index < size {
                    let sourceRecord = try effectiveRecord(txn, source.index, asOf: size)
                    references.append(
                        .init(
                            index: source.index, type: source.type, record: sourceRecord,
                            facts: RecordFacts(stored: sourceRecord),
                            appendedAt: try appendedAt(txn, source.index)))
                }
                let entry = ScannedEntry(
                    index: index, digest: SHA256.hash(try entry(txn, index)), record: record, facts: facts,
                    references: references, appendedAt: try appendedAt(txn, index))
                stop = !(try body(entry))
                return !stop
            }
            return size
        } catch let error as StorageError {
            throw LedgerError(wrapping: error)
        }
    }

    /// The effective record at `index` counting only corrections below tree size `size`.
    func effectiveRecord(_ txn: some TransactionReading, _ index: UInt64, asOf size: UInt64) throws -> JSONValue {
        // Fast path: never corrected.
        guard try txn.value(tables.effective, key: index) != nil else { return try effectiveRecord(txn, index) }
        let original = try JSONParser.parse(try entry(txn, index))
        var corrections: [JSONValue] = []
        for source in try references(txn, to: index) where source.type == .correction && source.index < size {
            corrections.append(try effectiveRecord(txn, source.index, asOf: size))
        }
        if corrections.isEmpty { return original }
        do {
            return try Corrections.effective(original: original, corrections: corrections, options: .stored)
        } catch {
            throw LedgerError(.corrupt, "entry \(index) cannot be corrected as of size \(size): \(error)")
        }
    }
}
