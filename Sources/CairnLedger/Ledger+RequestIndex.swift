import CairnCrypto
import CairnJSON
import CairnRecords
import CairnStorage

/// What `Ledger.indexRequestIDs` did.
public struct RequestIndexReport: Sendable, Hashable {
    /// The tree size the request-id index covers now: every entry below it is indexed.
    public let treeSize: UInt64
    /// How far the index reached when this run began (`treeSize` when there was nothing to do).
    public let coveredFrom: UInt64
    /// `I` keys written (checkpoints and model calls with a `request_id`, entries older than the index).
    public let keysWritten: UInt64

    public init(treeSize: UInt64, coveredFrom: UInt64, keysWritten: UInt64) {
        self.treeSize = treeSize
        self.coveredFrom = coveredFrom
        self.keysWritten = keysWritten
    }

    /// True when the index already covered the whole ledger and nothing was written.
    public var alreadyComplete: Bool { coveredFrom == treeSize }
}

/// One model call correlated with a checkpoint by request id (`cairn query`, specs/storage.md "Query indexes").
public struct ModelCallMatch: Sendable, Hashable {
    /// The model call's entry index.
    public let index: UInt64
    /// Its `provider`.
    public let provider: String
    /// Its `model.id`: the model the provider's log says served the call.
    public let modelID: String
    /// Its `usage` object, when it has one.
    public let usage: JSONValue?
    /// Its HTTP `status`, when it has one.
    public let status: Int?
}

// The request-id index (tag `I`): `I ‖ request id ‖ entry index` for every checkpoint and model call whose effective
// record has a `request_id`, written with the entry's other derived rows (and moved by corrections, like them).
//
// Ledgers written before the tag existed hold checkpoints without such keys, and a cairn of that age can still append
// to a newer ledger. So the index carries a watermark, `meta/request_index_size`: every entry below it is indexed
// (absent: 0). A commit advances it to the new tree size only when it stood at the commit's start size, so the first
// commit of a new ledger starts it, and an append by an older cairn (which writes no `I` key and does not know the
// watermark) leaves it behind for good. Entries at or above the watermark are found by a scan
// (`requestIDCandidates`); `cairn migrate` (`indexRequestIDs`) indexes them and moves the watermark to the tree size.
extension Ledger {
    /// `meta` key of the request-id index's watermark (big-endian u64).
    static let requestIndexSizeKey = Array("request_index_size".utf8)

    /// Entries looked at per write transaction by `indexRequestIDs`.
    public static let requestIndexChunkEntries: UInt64 = 1 << 16

    /// The number of leading entries the request-id index covers (0 when the ledger never recorded one).
    func requestIndexCoverage(_ txn: some TransactionReading) throws -> UInt64 {
        guard let raw = try txn.value(tables.meta, key: Self.requestIndexSizeKey) else { return 0 }
        guard let size = raw.withUnsafeBytes({ BigEndianKey.decode($0) }) else {
            throw LedgerError(
                .corrupt, "meta/request_index_size is not an 8-byte size (run `cairn migrate` to rebuild)")
        }
        return size
    }

    /// In a commit that grew the tree from `startSize` to `newSize`: the index covers the new entries too when it
    /// covered every entry before them.
    func advanceRequestIndex(_ txn: WriteTransaction, from startSize: UInt64, to newSize: UInt64) throws {
        guard profile == .provenance, newSize > startSize, try requestIndexCoverage(txn) == startSize else { return }
        try txn.put(tables.meta, key: Self.requestIndexSizeKey, value: BigEndianKey.bytes(newSize))
    }

    /// The entries that may have `request_id` `requestID`, sorted, without repeats: the `I` keys, and, for entries
    /// at or above the watermark, every checkpoint, and the original of every correction (its target's request id
    /// may have changed). Not checked: callers compare each candidate's effective facts.
    func requestIDCandidates(_ txn: some TransactionReading, _ requestID: String) throws -> [UInt64] {
        var found = Set<UInt64>()
        let prefix = IndexKey(.requestID, requestID).bytes
        try txn.forEach(tables.index, prefix: prefix) { key, _ in
            found.insert(readUInt64(key, at: prefix.count))
            return true
        }
        let size = try storedTreeSize(txn)
        let covered = try requestIndexCoverage(txn)
        if covered < size {
            try forEachUnindexed(txn, from: covered, to: size) { found.insert($0) }
        }
        return found.sorted()
    }

    /// Calls `body` with each entry in `[from, to)` whose request id the index may lack: checkpoints, and the
    /// originals that corrections in the range correct (whatever their index).
    private func forEachUnindexed(
        _ txn: some TransactionReading, from: UInt64, to: UInt64, _ body: (UInt64) throws -> Void
    ) throws {
        for type in [RecordType.checkpoint, .correction] {
            let prefix = IndexKey(.type, type.rawValue).bytes
            var entries: [UInt64] = []
            try txn.forEach(tables.index, prefix: prefix, from: IndexKey.bytes(prefix, from)) { key, _ in
                let index = readUInt64(key, at: prefix.count)
                guard index < to else { return false }
                entries.append(index)
                return true
            }
            for index in entries {
                guard type == .correction else {
                    try body(index)
                    continue
                }
                // Down the chain of corrections to the original record.
                var target = index
                for _ in 0...Ledger.maxCorrectionDepth {
                    guard let corrects = try facts(txn, target).corrects, let next = try self.index(txn, of: corrects)
                    else { break }
                    target = next
                }
                if target != index { try body(target) }
            }
        }
    }

    /// The model calls whose effective `request_id` is `requestID`, in log order. Model calls are always indexed:
    /// only a cairn that writes `I` keys accepts the type.
    func modelCalls(_ txn: some TransactionReading, requestID: String) throws -> [ModelCallMatch] {
        var indexes: [UInt64] = []
        let prefix = IndexKey(.requestID, requestID).bytes
        try txn.forEach(tables.index, prefix: prefix) { key, _ in
            indexes.append(readUInt64(key, at: prefix.count))
            return true
        }
        var calls: [ModelCallMatch] = []
        let modelCallType = IndexKey(.type, RecordType.modelCall.rawValue).bytes
        for index in indexes {
            // Most keys under a request id are checkpoints (the one asking, first of all): a point lookup in the
            // type index tells them apart without parsing them.
            guard try txn.value(tables.index, key: modelCallType + BigEndianKey.bytes(index)) != nil else {
                continue
            }
            let (record, facts) = try recordAndFacts(txn, index)
            guard facts.type == .modelCall, facts.requestID == requestID else { continue }
            calls.append(
                ModelCallMatch(
                    index: index, provider: facts.provider ?? "", modelID: facts.modelID ?? "", usage: record["usage"],
                    status: record["status"]?.intValue))
        }
        return calls
    }

    /// Indexes the request ids of the entries the request-id index does not cover yet — those of a ledger written
    /// before it existed, or appended by an older cairn — and moves its watermark to the tree size (specs/storage.md,
    /// "Query indexes"). Resumable: each durable write transaction indexes up to `chunkEntries` entries and records
    /// how far it got; a run that stops leaves a ledger whose queries are still right (they scan what is not
    /// covered). Does nothing to a ledger the index covers, or to a generic one. `cairn migrate` runs it.
    ///
    /// Throws `.readOnly` for a ledger opened read-only, and storage errors.
    public func indexRequestIDs(
        chunkEntries: UInt64 = Ledger.requestIndexChunkEntries, progress: MigrationProgress? = nil
    ) throws(LedgerError) -> RequestIndexReport {
        guard !isReadOnly else { throw LedgerError(.readOnly, "the ledger at \(directory) is open read-only") }
        guard chunkEntries > 0 else { throw LedgerError(.invalidArgument, "chunkEntries must be positive") }
        return try LedgerError.wrapping(fallback: .storage) {
            var coveredFrom: UInt64?
            var written: UInt64 = 0
            while true {
                // Under the writer lock, so that no commit runs between reading the watermark and moving it.
                let step = try writer.withLock { _ in
                    try env.write { txn in try indexRequestIDChunk(txn, chunkEntries: chunkEntries) }
                }
                if coveredFrom == nil { coveredFrom = step.from }
                written += step.written
                if step.to > step.from { progress?(step.to, step.size) }
                if step.to == step.size {
                    return RequestIndexReport(
                        treeSize: step.size, coveredFrom: coveredFrom ?? step.size, keysWritten: written)
                }
            }
        }
    }

    // One durable transaction of `indexRequestIDs`; may run twice if the map had to grow, so it changes nothing but
    // through `txn`.
    private func indexRequestIDChunk(
        _ txn: WriteTransaction, chunkEntries: UInt64
    ) throws -> (from: UInt64, to: UInt64, size: UInt64, written: UInt64) {
        let size = try storedTreeSize(txn)
        guard profile == .provenance else { return (size, size, size, 0) }
        let from = min(try requestIndexCoverage(txn), size)
        let to = min(size, from + chunkEntries)
        var written: UInt64 = 0
        var seen = Set<UInt64>()
        try forEachUnindexed(txn, from: from, to: to) { index in
            guard seen.insert(index).inserted, let requestID = try facts(txn, index).requestID else { return }
            try txn.put(tables.index, key: IndexKey(.requestID, requestID).appending(index).bytes, value: [])
            written += 1
        }
        if to > from {
            try txn.put(tables.meta, key: Self.requestIndexSizeKey, value: BigEndianKey.bytes(to))
        }
        return (from, to, size, written)
    }
}

extension LedgerSnapshot {
    /// How many leading entries the request-id index covers (`Ledger.indexRequestIDs`): equal to the tree size
    /// unless the ledger holds entries from before the index, or appended by an older cairn.
    public var requestIndexCoverage: UInt64 {
        get throws(LedgerError) { try run { try ledger.requestIndexCoverage(txn) } }
    }
}
