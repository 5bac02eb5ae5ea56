import CairnCrypto
import CairnMerkle
import CairnStorage

// Where the tree's hashes live: stored tiles in format 2, one key per hash in format 1 (specs/storage.md,
// "Hash tiles" and "Formats and migration").

extension Ledger {
    /// Whether `txn` sees the ledger in format 2 (stored tiles). One metadata read until format 2 has been
    /// seen, none after.
    func isTiled(_ txn: some TransactionReading) throws -> Bool {
        if knownTiled.load(ordering: .relaxed) { return true }
        let format = try txn.value(tables.meta, key: Array(LedgerLayout.MetaKey.format.utf8))
        guard format == Array(String(LedgerLayout.formatVersion).utf8) else { return false }
        knownTiled.store(true, ordering: .relaxed)
        return true
    }

    /// The stored tile (`level`, `index`), pointing into the memory map (valid until `txn` ends, or in a write
    /// transaction until the next write), or nil.
    func storedTile(_ txn: some TransactionReading, level: Int, index: UInt64) throws -> UnsafeRawBufferPointer? {
        guard let tiles = tables.tiles else { throw missingTable(LedgerLayout.TableName.tiles) }
        return try BigEndianKey.withBytes(StoredTile.key(level: level, index: index)) { key in
            try txn.rawValue(tiles, key: key)
        }
    }

    /// Writes the stored tile (`level`, `index`): a completed tile once, a partial one at each commit.
    func putStoredTile(_ txn: WriteTransaction, level: Int, index: UInt64, _ tile: UnsafeRawBufferPointer) throws {
        guard let tiles = tables.tiles else { throw missingTable(LedgerLayout.TableName.tiles) }
        try txn.put(tiles, key: StoredTile.key(level: level, index: index), value: tile)
    }

    /// A reader of stored hashes in `txn`, for the format `tiled` says.
    func hashReader(_ txn: ReadTransaction, tiled: Bool) throws -> LedgerHashReader {
        if tiled { return .tiled(StoredTileHashReader(source: TileSource(ledger: self, txn: txn))) }
        guard let hashes = tables.hashes else { throw missingTable(LedgerLayout.TableName.hashes) }
        return .perHash(StoredHashReader(txn: txn, table: hashes))
    }

    func missingTable(_ name: String) -> LedgerError {
        LedgerError(
            .corrupt,
            "the ledger at \(directory) has no \(name) table (it was opened read-only before a migration, or is "
                + "damaged): open it again, or run `cairn fsck`")
    }
}

/// The stored tiles of one LMDB read transaction.
struct TileSource: StoredTileSource {
    let ledger: Ledger
    let txn: ReadTransaction

    func storedTile(level: Int, index: UInt64) throws -> UnsafeRawBufferPointer? {
        // Callers check sizes against the tree first: a tile that is not there is damage.
        guard let tile = try ledger.storedTile(txn, level: level, index: index) else {
            throw LedgerError(.corrupt, "the stored tile \(level)/\(index) is missing (run `cairn fsck`)")
        }
        if tile.count % 32 != 0 || StoredTile.width(hashCount: tile.count / 32) == nil {
            throw LedgerError(
                .corrupt,
                "the stored tile \(level)/\(index) is \(tile.count) bytes, which no tile width gives (run "
                    + "`cairn fsck`)")
        }
        return tile
    }
}

/// A snapshot's reader of stored hashes, for either storage format (an enum, not an existential: a proof
/// allocates no box for it).
enum LedgerHashReader: HashReader {
    case tiled(StoredTileHashReader<TileSource>)
    case perHash(StoredHashReader)

    func readHashes(at indexes: [UInt64]) throws -> [SHA256Digest] {
        switch self {
        case .tiled(let reader): try Self.mapErrors { try reader.readHashes(at: indexes) }
        case .perHash(let reader): try reader.readHashes(at: indexes)
        }
    }

    func readHashes(ofNodes nodes: [MerkleNode]) throws -> [SHA256Digest] {
        switch self {
        case .tiled(let reader): try Self.mapErrors { try reader.readHashes(ofNodes: nodes) }
        case .perHash(let reader): try reader.readHashes(ofNodes: nodes)
        }
    }

    private static func mapErrors<R>(_ body: () throws -> R) throws -> R {
        do {
            return try body()
        } catch let error as MerkleStorageError {
            throw LedgerError(.corrupt, "\(error.message) (run `cairn fsck`)")
        }
    }
}

extension LedgerSnapshot {
    /// The storage format this snapshot sees: `LedgerLayout.formatVersion` (2, hash tiles) or
    /// `LedgerLayout.perHashFormatVersion` (1, read-only until `Ledger.migrate`).
    public var storageFormat: Int { isTiled ? LedgerLayout.formatVersion : LedgerLayout.perHashFormatVersion }

    /// A reader of this snapshot's stored hashes.
    var hashReader: LedgerHashReader {
        get throws { try ledger.hashReader(txn, tiled: isTiled) }
    }
}

extension Ledger {
    /// The tile builder of the tree of `treeSize` leaves, from its stored partial tiles.
    func loadTileBuilder(_ txn: some TransactionReading, treeSize: UInt64) throws -> StoredTileBuilder {
        do {
            return try StoredTileBuilder(treeSize: treeSize) { level, index in
                try storedTile(txn, level: level, index: index)
            }
        } catch let error as MerkleStorageError {
            throw LedgerError(
                .corrupt,
                "a partial tile of the tree is missing or malformed: \(error.message) "
                    + "(run `cairn fsck`)")
        }
    }
}
