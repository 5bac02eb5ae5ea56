import CairnCrypto
import CairnJSON
import CairnRecords
import CairnStorage

/// A record as it stands today, with everything appended about it since.
public struct RecordView: Sendable, Hashable {
    public let index: UInt64
    public let digest: SHA256Digest
    /// The entry exactly as appended.
    public let original: JSONValue
    /// The original with every correction applied in log order.
    public let effective: JSONValue
    /// Entries that refer to this one (corrections, reviews, tests, deploys, rollbacks, rewrites,
    /// erasures of blobs it references) and, for a checkpoint with a `request_id`, the model calls
    /// of that request (the provider's side of the same call), in log order.
    public let history: [HistoryItem]
    /// Who the ledger saw append the entry (nil for entries from before appenders were recorded).
    public let appendedBy: Principal?
    /// When the ledger committed the entry (Unix milliseconds, the log's clock); nil for entries
    /// committed by a cairn that did not record commit times.
    public let appendedAt: Int64?

    public var isCorrected: Bool { original != effective }
}

/// One entry in a record's history.
public struct HistoryItem: Sendable, Hashable {
    public let index: UInt64
    public let digest: SHA256Digest
    public let type: RecordType
    /// The entry's effective record.
    public let record: JSONValue
    /// Who the ledger saw append it.
    public let appendedBy: Principal?
    /// When the ledger committed the entry (Unix milliseconds); nil when it holds no time for it.
    public let appendedAt: Int64?
}

extension LedgerSnapshot {
    /// Resolves a checkpoint id, `sha256:` content address or leaf index (in that order of
    /// preference for plain strings) to a leaf index.
    public func resolve(recordReference text: String) throws(LedgerError) -> UInt64 {
        try run {
            if !text.hasPrefix("sha256:"), let index = try ledger.resolveSubject(txn, .id(text)) { return index }
            guard let reference = EntryReference(text) else {
                throw LedgerError(.entryNotFound, "no checkpoint has id \(text.debugDescription)")
            }
            return try ledger.resolve(txn, reference)
        }
    }

    /// The record at `index` with its effective view and history.
    public func view(_ index: UInt64) throws(LedgerError) -> RecordView {
        try run { try ledger.view(txn, index) }
    }
}

extension Ledger {
    func view(_ txn: some TransactionReading, _ index: UInt64) throws -> RecordView {
        let bytes = try entry(txn, index)
        let original = try JSONParser.parse(bytes)
        let effective = profile == .provenance ? try effectiveRecord(txn, index) : original
        var history: [HistoryItem] = []
        if profile == .provenance {
            var sources = try references(txn, to: index)
            if effective["type"]?.stringValue == RecordType.checkpoint.rawValue,
                let requestID = effective["request_id"]?.stringValue
            {
                sources += try modelCalls(txn, requestID: requestID).map { ($0.index, RecordType.modelCall) }
                sources.sort { $0.index < $1.index }
            }
            for source in sources {
                history.append(
                    HistoryItem(
                        index: source.index, digest: SHA256.hash(try entry(txn, source.index)), type: source.type,
                        record: try effectiveRecord(txn, source.index), appendedBy: try appender(txn, of: source.index),
                        appendedAt: try appendedAt(txn, source.index)))
            }
        }
        return RecordView(
            index: index, digest: SHA256.hash(bytes), original: original, effective: effective, history: history,
            appendedBy: try appender(txn, of: index), appendedAt: try appendedAt(txn, index))
    }
}

extension RecordView {
    /// The JSON of `cairn show --json` and `GET /v1/records/{id}`: index, digest, when it was
    /// appended (when the ledger knows), whether it was corrected, the effective record (and the
    /// original, if corrected), and with `history` every entry about the record in log order.
    public func json(history: Bool) -> JSONValue {
        var object: JSONObject = ["index": .uint(index), "digest": .string(digest.description)]
        if let appendedAt { object["appended_at"] = .string(Timestamp.format(appendedAt)) }
        if let appendedBy { object["appended_by"] = appendedBy.json }
        object["corrected"] = .bool(isCorrected)
        object["record"] = effective
        if isCorrected { object["original"] = original }
        if history {
            object["history"] = .array(
                self.history.map { item in
                    var entry: JSONObject = ["index": .uint(item.index), "digest": .string(item.digest.description)]
                    if let appendedAt = item.appendedAt { entry["appended_at"] = .string(Timestamp.format(appendedAt)) }
                    if let appendedBy = item.appendedBy { entry["appended_by"] = appendedBy.json }
                    entry["type"] = .string(item.type.rawValue)
                    entry["record"] = item.record
                    return .object(entry)
                })
        }
        return .object(object)
    }
}
