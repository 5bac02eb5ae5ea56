import CairnCrypto
import CairnMerkle
import CairnNote
import CairnStorage

/// Where one appended record ended up.
public struct AppendResult: Sendable, Hashable {
    /// The leaf index holding the record (the earlier one, for a duplicate).
    public let index: UInt64
    /// The record's content address.
    public let digest: SHA256Digest
    /// True when the same canonical record was already in the log and nothing was appended.
    public let duplicate: Bool

    public init(index: UInt64, digest: SHA256Digest, duplicate: Bool) {
        self.index = index
        self.digest = digest
        self.duplicate = duplicate
    }
}

/// What happened to one submitted entry.
public enum AppendOutcome: Sendable, Hashable {
    /// Appended, or found to be a duplicate of an entry already in the log.
    case appended(AppendResult)
    /// Refused because of what the ledger holds (only with `RejectionPolicy.skipRecord`).
    case rejected(AppendRejection)

    /// The result, if the entry was not rejected.
    public var result: AppendResult? {
        if case .appended(let result) = self { return result }
        return nil
    }
}

/// What a batch does when one of its records is refused by the ledger's checks.
public enum RejectionPolicy: Sendable, Hashable {
    /// Nothing of the batch is written; the rejection is thrown (the CLI's all-or-nothing).
    case wholeBatch
    /// The refused record is left out and reported; the others are committed (group commit,
    /// where records from independent producers share a batch).
    case skipRecord
}

/// A record of an atomic group was refused: the transaction was abandoned (see
/// `Ledger.append(_:rejecting:atomicGroups:)`).
struct AtomicGroupRejection: Error {
    /// Which of the `atomicGroups`.
    let group: Int
    /// Its `position` counts from the start of the whole batch.
    let rejection: AppendRejection
}

/// The outcome of one committed batch.
public struct CommitResult: Sendable, Hashable {
    /// One outcome per submitted entry, in submission order.
    public let outcomes: [AppendOutcome]
    /// The outcomes of the entries that were not rejected, in submission order (with the
    /// default `.wholeBatch` policy: one per submitted entry).
    public var results: [AppendResult] { outcomes.compactMap(\.result) }
    /// The tree size after the commit.
    public let treeSize: UInt64
    /// The checkpoint signed for the new size, or `nil` when every entry was a duplicate.
    public let checkpoint: SignedCheckpoint?
    /// The stored metadata of each blob committed on its own (`IngestEngine.store`), in order:
    /// an existing blob's when it was already stored.
    public let storedBlobs: [BlobMetadata]
    /// The access-outbox rows the commit wrote (specs/storage.md, "The access outbox"), in key order.
    package let outboxRows: [OutboxRow]

    init(
        outcomes: [AppendOutcome], treeSize: UInt64, checkpoint: SignedCheckpoint?, storedBlobs: [BlobMetadata] = [],
        outboxRows: [OutboxRow] = []
    ) {
        self.outcomes = outcomes
        self.treeSize = treeSize
        self.checkpoint = checkpoint
        self.storedBlobs = storedBlobs
        self.outboxRows = outboxRows
    }
}

extension Ledger {
    /// Appends `entries` in one durable LMDB write transaction, in order, and signs the
    /// checkpoint of the new size in the same transaction: the ingest engine's commit, and the
    /// only code that appends leaves. Not for other callers: appends go through `IngestEngine`
    /// (which also writes the blob files of the entries' payloads before they get here).
    ///
    /// `blobs` (blobs stored on their own) and the metadata of each entry's payloads are written
    /// in the same transaction, before the entries. Entries whose content address is already in
    /// the log (or earlier in the same batch) are not appended; their result points at the
    /// existing index with `duplicate == true`. With `.wholeBatch`, either the whole batch is
    /// committed or nothing is; with `.skipRecord`, a rejected record inside one of
    /// `atomicGroups` (ranges of positions in `entries`) aborts the whole transaction with
    /// `AtomicGroupRejection`, so that the engine can drop that group and commit the rest again,
    /// and outside the groups a rejected record is skipped. Each entry costs O(log n): one leaf,
    /// its new tree hashes, one index entry.
    ///
    /// `principals` (one per entry; default: the user running this process) are recorded as the
    /// entries' appenders, and checked when an entry corrects another (see `Principal`).
    ///
    /// `outbox` (the ingest engine's) writes access-outbox rows made from the outcomes, and deletes delivered
    /// ones, in the same transaction (specs/storage.md, "The access outbox").
    ///
    /// `keyRotation` is given by `rotateSigningKey` alone: its one entry, a `key-rotation` record, is admitted
    /// and its checkpoint signed by the old and the new key (`Ledger+KeyRotation`); any other key-rotation
    /// record is refused. `reserved` is given by `seal` and `createSuccessor` alone, likewise for their `seal` and
    /// `predecessor` records (`Ledger+Seal`). A sealed log refuses every commit (`.sealed`).
    package func append(
        _ entries: [PreparedEntry], principals: [Principal]? = nil, blobs: [BlobMetadata] = [],
        rejecting policy: RejectionPolicy = .wholeBatch, atomicGroups: [Range<Int>] = [],
        outbox: OutboxBatch = OutboxBatch(), keyRotation: KeyRotationCommit? = nil, reserved: ReservedCommit? = nil
    ) throws -> CommitResult {
        let principals = principals ?? Array(repeating: .currentUser, count: entries.count)
        precondition(principals.count == entries.count, "one principal per entry")
        let signer = try loadSigner()
        let result = try writer.withLock { state in
            var attempt: WriterState?
            do {
                let (result, newState) = try env.write { txn in
                    attempt?.digests.rollback()  // the map was full and the transaction is retried
                    let current = try writerState(txn, cached: state)
                    attempt = current
                    activeDigestCache.withLock { $0 = current.digests }
                    defer { activeDigestCache.withLock { $0 = nil } }
                    return try commit(
                        entries, principals: principals, blobs: blobs, policy: policy, atomicGroups: atomicGroups,
                        outbox: outbox, txn: txn, state: current, signer: signer, keyRotation: keyRotation,
                        reserved: reserved)
                }
                newState.digests.commit(treeSize: newState.frontier.treeSize)
                state = newState
                return result
            } catch {
                attempt?.digests.rollback()
                if attempt.map({ $0.digests !== state?.digests }) ?? false { state = nil }
                throw error
            }
        }
        // An erasure entry, however it arrived, means the blob's bytes must go; and so must the
        // bytes of a payload that was erased while its record was on its way (the record was
        // refused, but its producer had already written the file).
        for (entry, outcome) in zip(entries, result.outcomes) {
            switch outcome {
            case .appended(let appended) where !appended.duplicate:
                if let blob = entry.facts?.erasedBlob { try blobStore.remove(blob) }
            case .rejected(let rejection) where rejection.problems.contains(where: { $0.code == "blobErased" }):
                for payload in entry.payloads { try blobStore.removeIfErased(payload.digest) }
            case .rejected:
                try blobStore.discardPayloads(of: [entry])
            default:
                break
            }
        }
        return result
    }

    /// Runs a storage operation of the ingest engine (`IngestEngine.perform`) in a durable write
    /// transaction of its own, under the writer lock.
    func performWrite(_ operation: (WriteTransaction) throws -> Void) throws {
        guard !isReadOnly else { throw LedgerError(.readOnly, "the ledger at \(directory) is open read-only") }
        try writer.withLock { _ in try env.write { txn in try operation(txn) } }
    }

    /// The cached writer state if it describes `txn`'s tree, else a fresh one read from storage
    /// (first append in this process, or another process appended since, or finished a merge of the content
    /// index in a commit that appended nothing).
    private func writerState(_ txn: WriteTransaction, cached: WriterState?) throws -> WriterState {
        guard try isTiled(txn) else {
            throw LedgerError(
                .unsupportedFormat,
                "the ledger at \(directory) is in storage format \(LedgerLayout.perHashFormatVersion) (one key per tree "
                    + "hash), which this cairn reads but does not append to: run `cairn migrate --ledger \(directory)` "
                    + "once (it is resumable and keeps every proof valid), then append again")
        }
        let size = try storedTreeSize(txn)
        if let cached, cached.digests.treeSize == size, try tables.digests.isCurrent(cached.digests, in: txn) {
            // A failed commit leaves the builder ahead of the stored tree: reload it (≤ 8 reads).
            if cached.frontier.treeSize != size { cached.tiles.builder = try loadTileBuilder(txn, treeSize: size) }
            return cached
        }
        return WriterState(
            tiles: TileState(try loadTileBuilder(txn, treeSize: size)),
            digests: try tables.digests.makeWriterCache(txn, treeSize: size))
    }

    // Runs inside the write transaction; may run more than once if the map had to grow, so it
    // only changes state through `txn` (and the digest cache's pending changes, which are rolled
    // back) and returns the new frontier instead of storing it.
    private func commit(
        _ entries: [PreparedEntry], principals: [Principal], blobs: [BlobMetadata], policy: RejectionPolicy,
        atomicGroups: [Range<Int>], outbox: OutboxBatch, txn: WriteTransaction, state: WriterState,
        signer: NoteSigner, keyRotation: KeyRotationCommit?, reserved: ReservedCommit?
    ) throws -> (CommitResult, WriterState) {
        try refuseIfSealed(txn)
        let storedBlobs = try blobs.map { try storeBlobMetadata(txn, $0) }
        let startSize = state.frontier.treeSize
        // The appender of the last entry so far: a new run is recorded when it changes.
        var lastAppender = startSize > 0 ? try appender(txn, of: startSize - 1) : nil
        let tiles = state.tiles
        let cache = state.digests
        var outcomes: [AppendOutcome] = []
        outcomes.reserveCapacity(entries.count)
        // Kept only while they cover the ledger (Ledger+Aggregates); written once, after the entries.
        let aggregates = try aggregateDeltas(txn, startSize: startSize)
        // Long-lived append cursors: each append goes straight to the last page of its table.
        try txn.withAppender(tables.leaves) { leaves in
            try tables.digests.withLogAppender(txn) { digestLog in
                for (position, entry) in entries.enumerated() {
                    let index = tiles.builder.treeSize
                    let principal = principals[position]
                    if let earlier = try admitOrFindDuplicate(
                        entry, principal: principal, index: index, position: position, txn: txn, cache: cache,
                        aggregates: aggregates, keyRotation: keyRotation, reserved: reserved)
                    {
                        outcomes.append(earlier)
                        if case .rejected(let rejection) = earlier {
                            if policy == .wholeBatch { throw rejection }
                            if let group = atomicGroups.firstIndex(where: { $0.contains(position) }) {
                                throw AtomicGroupRejection(group: group, rejection: rejection)
                            }
                        }
                        continue
                    }
                    if !(lastAppender.map { $0.isSameRun(as: principal) } ?? false) {
                        try recordAppender(txn, principal, from: index)
                        lastAppender = principal
                    }
                    try tables.digests.insert(entry.digest, index: index, log: digestLog, cache: cache)
                    try entry.bytes.withUnsafeBytes { try leaves.append(index, $0) }
                    // A completed tile is written once; the partial ones once per commit, below.
                    try tiles.builder.append(leafHash: entry.leafHash) { level, tileIndex, tile in
                        try putStoredTile(txn, level: level, index: tileIndex, tile)
                    }
                    outcomes.append(.appended(AppendResult(index: index, digest: entry.digest, duplicate: false)))
                }
            }
        }
        try tiles.builder.forEachPartialTile { level, tileIndex, tile in
            try putStoredTile(txn, level: level, index: tileIndex, tile)
        }
        try tables.digests.compact(
            txn, cache: cache, treeSize: tiles.builder.treeSize, appended: Int(tiles.builder.treeSize - startSize))
        let newSize = tiles.builder.treeSize
        let newState = WriterState(tiles: tiles, digests: cache)
        if let reserved { try finishReservedCommit(reserved, txn: txn, startSize: startSize, outcomes: outcomes) }
        // Also when every record was a duplicate: a retry's access entry names them.
        let outboxRows = try writeOutbox(outbox, outcomes: outcomes, txn: txn)
        guard newSize > startSize else {
            return (
                CommitResult(
                    outcomes: outcomes, treeSize: newSize, checkpoint: nil, storedBlobs: storedBlobs,
                    outboxRows: outboxRows), newState
            )
        }
        // Signed by the log's current key (and, for a key rotation, by the new key too).
        let checkpoint = try signCommit(
            Checkpoint(origin: origin, size: newSize, rootHash: tiles.builder.frontier.root), txn: txn,
            signer: signer, keyRotation: keyRotation, startSize: startSize, outcomes: outcomes)
        // An intermediate size may already have a checkpoint (issued on request); sizes only grow,
        // so the new size has none yet.
        try txn.put(tables.checkpoints, key: newSize, value: Array(checkpoint.serialized.utf8), mode: .noOverwrite)
        try txn.put(tables.meta, key: Array(LedgerLayout.MetaKey.treeSize.utf8), value: BigEndianKey.bytes(newSize))
        try recordCommitTime(txn, from: startSize, to: newSize)
        try advanceRequestIndex(txn, from: startSize, to: newSize)
        if let aggregates { try flush(aggregates, txn, newSize: newSize) }
        return (
            CommitResult(
                outcomes: outcomes, treeSize: newSize, checkpoint: checkpoint, storedBlobs: storedBlobs,
                outboxRows: outboxRows), newState
        )
    }

    /// Returns why the entry is not appended — a duplicate's earlier index, or a rejection
    /// (nothing written for it) — or nil after checking and indexing a provenance record.
    private func admitOrFindDuplicate(
        _ entry: PreparedEntry, principal: Principal, index: UInt64, position: Int, txn: WriteTransaction,
        cache: DigestIndex.WriterCache, aggregates: AggregateDeltas?, keyRotation: KeyRotationCommit?,
        reserved: ReservedCommit?
    ) throws -> AppendOutcome? {
        // Only `rotateSigningKey` appends key-rotation records (Ledger+KeyRotation), only `seal` and
        // `createSuccessor` seal and predecessor records (Ledger+Seal).
        if let refusal = try reservedRecordRefusal(
            entry, position: position, keyRotation: keyRotation, reserved: reserved)
        {
            return .rejected(refusal)
        }
        if let earlier = try tables.digests.lookup(txn, entry.digest, cache: cache) {
            return .appended(AppendResult(index: earlier, digest: entry.digest, duplicate: true))
        }
        // The entry's payloads are stored with it (their files were written by its producer).
        var erasedPayloads: [RecordProblem] = []
        for payload in entry.payloads {
            if let erasure = try storeBlobMetadata(txn, payload.metadata).erasure {
                erasedPayloads.append(
                    RecordProblem(
                        path: "$", code: "blobErased",
                        message: "the record's payload \(payload.digest) was erased at \(erasure.at) (entry "
                            + "\(erasure.entry)); erased content cannot be stored again"))
            }
        }
        if !erasedPayloads.isEmpty {
            return .rejected(AppendRejection(position: position, digest: entry.digest, problems: erasedPayloads))
        }
        if profile == .provenance {
            guard let facts = entry.facts else {
                throw LedgerError(
                    .invalidArgument,
                    "record \(position + 1) was not prepared with the ledger's rules (use recordRules())")
            }
            do {
                try admit(
                    entry, facts: facts, principal: principal, index: index, position: position, txn: txn,
                    aggregates: aggregates)
            } catch let rejection as AppendRejection {
                return .rejected(rejection)
            }
        }
        return nil
    }
}
