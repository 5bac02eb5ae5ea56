import CairnCrypto
import CairnMerkle
import CairnNote
import CairnStorage

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// C2SP tlog-tiles reads (https://c2sp.org/tlog-tiles; normative for Cairn: specs/tiles.md): hash tiles and entry
// bundles read from the stored hashes and leaves. The static export of the whole tile tree is CairnTileExport's.

extension LedgerSnapshot {
    // MARK: - Tiles

    /// The hash tile at tile level `level` (0…7), index `index`, width `width` (1…256; below 256 a partial tile):
    /// the concatenated 32-byte stored hashes (Merkle level 8·`level`, n `index`·256 + i) for i < `width`.
    ///
    /// `width` stored-hash reads. Throws `LedgerError` `.invalidArgument` for coordinates no tile has, and
    /// `.sizeOutOfRange` when this snapshot's tree does not (yet) hold every hash of the tile.
    public func hashTile(level: Int, index: UInt64, width: Int) throws(LedgerError) -> [UInt8] {
        guard let tile = MerkleTile(level: level, index: index, width: width) else {
            throw LedgerError(
                .invalidArgument,
                "no tile has level \(level), index \(index) and width \(width): levels are 0…7, widths 1…256, "
                    + "and a tile cannot reach beyond 2^63 − 1 leaves")
        }
        return try hashTile(tile)
    }

    /// The hash tile `tile` (see `hashTile(level:index:width:)`): in format 2, a prefix of one stored tile's
    /// first row, as stored; in format 1, `tile.width` stored-hash reads.
    public func hashTile(_ tile: MerkleTile) throws(LedgerError) -> [UInt8] {
        try run {
            try checkTileInTree(tile.path, required: tile.requiredTreeSize, size: treeSize)
            guard isTiled else { return try perHashTile(tile) }
            let stored = try ledger.storedTile(txn, level: tile.level, index: tile.index)
            guard let stored, stored.count % SHA256Digest.byteCount == 0,
                let width = StoredTile.width(hashCount: stored.count / SHA256Digest.byteCount), width >= tile.width
            else {
                throw LedgerError(
                    .corrupt, "the stored tile of \(tile.path) is missing or malformed (run `cairn fsck`)")
            }
            return Array(stored[0..<tile.width * SHA256Digest.byteCount])
        }
    }

    private func perHashTile(_ tile: MerkleTile) throws -> [UInt8] {
        guard let hashes = ledger.tables.hashes else { throw ledger.missingTable(LedgerLayout.TableName.hashes) }
        var out: [UInt8] = []
        out.reserveCapacity(tile.width * SHA256Digest.byteCount)
        for stored in tile.storedHashIndexes {
            try txn.withValue(hashes, key: stored) { raw in
                guard let raw, raw.count == SHA256Digest.byteCount else {
                    throw LedgerError(
                        .corrupt, "stored hash \(stored) of \(tile.path) is missing or malformed (run `cairn fsck`)")
                }
                out.append(contentsOf: raw)
            }
        }
        return out
    }

    /// The entry bundle with index `index` and width `width` (1…256; below 256 a partial bundle): for each of the
    /// leaves `index`·256 ..< `index`·256 + `width`, its length as a big-endian uint16 and its entry bytes.
    ///
    /// One cursor walk over `width` consecutive leaves. Throws `LedgerError` `.invalidArgument` for coordinates no
    /// bundle has, `.sizeOutOfRange` when this snapshot's tree does not (yet) hold every entry, and
    /// `.entryTooLarge` when an entry is longer than 65,535 bytes (which the format cannot describe; see
    /// specs/tiles.md, "Entry size").
    public func entryBundle(index: UInt64, width: Int) throws(LedgerError) -> [UInt8] {
        guard let bundle = MerkleEntryBundle(index: index, width: width) else {
            throw LedgerError(
                .invalidArgument,
                "no entry bundle has index \(index) and width \(width): widths are 1…256, and a bundle cannot "
                    + "reach beyond 2^63 − 1 leaves")
        }
        return try entryBundle(bundle)
    }

    /// The entry bundle `bundle` (see `entryBundle(index:width:)`).
    public func entryBundle(_ bundle: MerkleEntryBundle) throws(LedgerError) -> [UInt8] {
        try run {
            try checkTileInTree(bundle.path, required: bundle.requiredTreeSize, size: treeSize)
            var out: [UInt8] = []
            try txn.withCursor(ledger.tables.leaves) { cursor in
                var current = try cursor.seek(atLeast: bundle.leafIndexes.lowerBound)
                for leaf in bundle.leafIndexes {
                    guard let (key, value) = current, BigEndianKey.decode(key) == leaf else {
                        throw LedgerError(.corrupt, "leaf \(leaf) of \(bundle.path) is missing (run `cairn fsck`)")
                    }
                    guard value.count <= MerkleEntryBundle.maxEntryBytes else {
                        throw LedgerError(
                            .entryTooLarge, EntryBundleError.entryTooLarge(index: leaf, size: value.count).message)
                    }
                    out.append(UInt8(value.count >> 8))
                    out.append(UInt8(value.count & 0xff))
                    out.append(contentsOf: value)
                    current = try cursor.next()
                }
            }
            return out
        }
    }

    /// The hash tile or entry bundle `resource`.
    public func tileData(_ resource: TileResource) throws(LedgerError) -> [UInt8] {
        switch resource {
        case .hashes(let tile): try hashTile(tile)
        case .entries(let bundle): try entryBundle(bundle)
        }
    }

    private func checkTileInTree(_ path: String, required: UInt64, size: UInt64) throws {
        guard required <= size else {
            throw LedgerError(
                .sizeOutOfRange,
                "\(path) is beyond the current tree: it needs \(required) leaves, and \(Ledger.describe(size: size))")
        }
    }
}
