import CairnCrypto
import CairnMerkle
import CairnNote
import CairnStorage

/// What `Ledger.migrate` did.
public struct MigrationReport: Sendable, Hashable {
    /// The tree size migrated (the whole tree: appends wait for the migration).
    public let treeSize: UInt64
    /// The number of leaves whose hashes were already in stored tiles when this run began (a resumed migration),
    /// or the tree size when the ledger was already in format 2.
    public let resumedFrom: UInt64
    /// True when the ledger was already in format 2 and nothing was written.
    public let alreadyMigrated: Bool

    public init(treeSize: UInt64, resumedFrom: UInt64, alreadyMigrated: Bool) {
        self.treeSize = treeSize
        self.resumedFrom = resumedFrom
        self.alreadyMigrated = alreadyMigrated
    }
}

/// Progress of a migration: leaves whose hashes are in stored tiles so far, out of the tree size.
public typealias MigrationProgress = (_ migrated: UInt64, _ total: UInt64) -> Void

extension Ledger {
    /// Leaves moved per write transaction by `migrate` (about 64 MiB of tiles).
    public static let migrationChunkLeaves: UInt64 = 1 << 20

    /// Converts a format 1 ledger (one key per tree hash) to format 2 (stored tiles, specs/storage.md "Formats and
    /// migration"); does nothing to a format 2 ledger.
    ///
    /// Resumable and crash-safe: each durable write transaction moves the hashes of up to `chunkLeaves` leaves
    /// into stored tiles and records how far it got (`meta/migrated_tree_size`); a run that is interrupted, by
    /// an error or a crash, leaves a format 1 ledger that reads as before, and the next run goes on from there.
    /// The last transaction checks the recomputed root against the stored checkpoint of the tree size, empties
    /// the `hashes` table and sets the format to 2, all at once. Leaves, checkpoints and every other table are
    /// untouched, so every proof and checkpoint issued before stays valid. `stopAfterChunks` (tests) returns after
    /// that many transactions, as an interruption would.
    ///
    /// Throws `.readOnly` for a ledger opened read-only, `.corrupt` when the stored hashes do not give the
    /// published root, and storage errors.
    public func migrate(
        chunkLeaves: UInt64 = Ledger.migrationChunkLeaves, stopAfterChunks: Int? = nil,
        progress: MigrationProgress? = nil
    ) throws(LedgerError) -> MigrationReport {
        guard !isReadOnly else { throw LedgerError(.readOnly, "the ledger at \(directory) is open read-only") }
        guard chunkLeaves > 0 else { throw LedgerError(.invalidArgument, "chunkLeaves must be positive") }
        return try LedgerError.wrapping(fallback: .storage) {
            var resumedFrom: UInt64?
            var chunks = 0
            while true {
                let step = try writer.withLock { state in
                    state = nil
                    return try env.write { txn in try migrateChunk(txn, chunkLeaves: chunkLeaves) }
                }
                if resumedFrom == nil { resumedFrom = step.from }
                if step.alreadyMigrated {
                    return MigrationReport(treeSize: step.treeSize, resumedFrom: step.treeSize, alreadyMigrated: true)
                }
                progress?(step.to, step.treeSize)
                chunks += 1
                if step.to == step.treeSize || chunks == stopAfterChunks {
                    return MigrationReport(
                        treeSize: step.treeSize, resumedFrom: resumedFrom ?? 0, alreadyMigrated: false)
                }
            }
        }
    }

    private struct MigrationStep {
        var from: UInt64
        var to: UInt64
        var treeSize: UInt64
        var alreadyMigrated: Bool
    }

    // One durable transaction of the migration; may run twice if the map had to grow, so it changes nothing but
    // through `txn`.
    private func migrateChunk(_ txn: WriteTransaction, chunkLeaves: UInt64) throws -> MigrationStep {
        let size = try storedTreeSize(txn)
        if try isTiled(txn) { return MigrationStep(from: size, to: size, treeSize: size, alreadyMigrated: true) }
        guard let hashes = tables.hashes else { throw missingTable(LedgerLayout.TableName.hashes) }
        guard let tileTable = tables.tiles else { throw missingTable(LedgerLayout.TableName.tiles) }
        let progressKey = Array(LedgerLayout.MetaKey.migratedTreeSize.utf8)
        let from: UInt64
        if let raw = try txn.value(tables.meta, key: progressKey) {
            guard let done = raw.withUnsafeBytes({ BigEndianKey.decode($0) }), done <= size else {
                throw LedgerError(.corrupt, "the stored migration progress is malformed or beyond the tree")
            }
            from = done
        } else {
            from = 0
            try txn.removeAll(tileTable)  // nothing of a migration is stored before its first commit
        }
        var builder = from == 0 ? StoredTileBuilder() : try loadTileBuilder(txn, treeSize: from)
        let to = min(size, from + chunkLeaves)
        if from < to {
            try txn.withCursor(hashes) { cursor in
                var stored = StoredHashIndex.count(treeSize: from)
                var entry = try cursor.seek(atLeast: stored)
                for leaf in from..<to {
                    // Leaf `leaf` stored its leaf hash and then one hash per trailing 1 bit; the tiles' interior
                    // hashes are recomputed from the leaf hashes, and the root is checked at the end.
                    guard let (key, value) = entry, BigEndianKey.decode(key) == stored,
                        let leafHash = SHA256Digest(bytes: value)
                    else {
                        throw LedgerError(
                            .corrupt, "stored hash \(stored) (the leaf hash of \(leaf)) is missing or malformed")
                    }
                    try builder.append(leafHash: leafHash) { level, index, tile in
                        try putStoredTile(txn, level: level, index: index, tile)
                    }
                    let count = 1 + (~leaf).trailingZeroBitCount
                    stored += UInt64(count)
                    for _ in 0..<count { entry = try cursor.next() }
                }
            }
            try builder.forEachPartialTile { level, index, tile in
                try putStoredTile(txn, level: level, index: index, tile)
            }
        }
        guard to == size else {
            try txn.put(tables.meta, key: progressKey, value: BigEndianKey.bytes(to))
            return MigrationStep(from: from, to: to, treeSize: size, alreadyMigrated: false)
        }
        // The whole tree is in tiles: its root must be the one the log published for this size.
        if let published = try storedCheckpoint(txn, size: size), published.checkpoint.rootHash != builder.frontier.root
        {
            throw LedgerError(
                .corrupt,
                "the stored hashes give root \(builder.frontier.root.hex) for size \(size), but the published "
                    + "checkpoint says \(published.checkpoint.rootHash.hex): run `cairn fsck`; nothing was migrated "
                    + "in this step")
        }
        try txn.removeAll(hashes)
        _ = try txn.delete(tables.meta, key: progressKey)
        try txn.put(
            tables.meta, key: Array(LedgerLayout.MetaKey.format.utf8),
            value: Array(String(LedgerLayout.formatVersion).utf8))
        return MigrationStep(from: from, to: to, treeSize: size, alreadyMigrated: false)
    }
}
