import CairnCrypto

/// How storage format 2 keeps the tree's hashes: one value per hash tile, holding every stored hash inside the
/// tile (specs/storage.md, "Hash tiles").
///
/// Pure functions; thread-safe. The stored tile (`L`, `N`) of width `w` (1…256) holds, row by row, the hashes at
/// Merkle levels 8·L + k for k = 0…7 whose leaves lie under the tile's first `w` entries: row k has ⌊w / 2^k⌋
/// hashes, positions `N`·(256 / 2^k) + 0, 1, …, so a full tile holds 256 + 128 + … + 2 = 510 hashes (16,320
/// bytes). Row 0 is the C2SP tlog-tiles tile (`MerkleTile`) itself, served as stored; the rows above it are the
/// hashes a proof would otherwise recompute. The tile's own top hash (Merkle level 8·L + 8) is an entry of tile
/// level L + 1 and is not repeated.
public enum StoredTile {
    /// The number of rows: Merkle levels per tile level.
    public static let rowCount = MerkleTile.height
    /// The number of hashes in a full stored tile.
    public static let fullHashCount = 510

    /// Where the hash at Merkle (`level`, `n`) lives: tile level and index, row, and position within the row.
    @inlinable
    public static func locate(level: Int, n: UInt64) -> (tileLevel: Int, tileIndex: UInt64, row: Int, position: Int) {
        let row = level % rowCount
        let shift = UInt64(MerkleTile.height - row)
        return (level / rowCount, n >> shift, row, Int(n & (1 << shift - 1)))
    }

    /// The number of hashes a stored tile of `width` entries holds: Σₖ ⌊width / 2^k⌋ for k = 0…7.
    @inlinable
    public static func hashCount(width: Int) -> Int {
        var count = 0
        for row in 0..<rowCount { count += width >> row }
        return count
    }

    /// The offset (in hashes) of `row` in a stored tile of `width` entries.
    @inlinable
    public static func rowOffset(width: Int, row: Int) -> Int {
        var offset = 0
        for k in 0..<row { offset += width >> k }
        return offset
    }

    /// The width of a stored tile holding `hashCount` hashes, or nil when no width gives that count.
    public static func width(hashCount: Int) -> Int? {
        guard hashCount > 0, hashCount <= fullHashCount else { return nil }
        // hashCount(width:) is strictly increasing and lies between width and 2·width.
        for width in (hashCount + 1) / 2...min(hashCount, MerkleTile.fullWidth) {
            if Self.hashCount(width: width) == hashCount { return width }
        }
        return nil
    }

    /// The LMDB key of stored tile (`level`, `index`): the big-endian encoding of level · 2^56 + index, so that a
    /// level's tiles are contiguous and in order (an index at tile level L is below 2^(55 − 8L)).
    @inlinable
    public static func key(level: Int, index: UInt64) -> UInt64 {
        UInt64(level) << 56 | index
    }

    /// The (`level`, `index`) of a stored tile's key.
    @inlinable
    public static func coordinates(key: UInt64) -> (level: Int, index: UInt64) {
        (Int(key >> 56), key & (1 << 56 - 1))
    }

    /// The stored tiles of a tree of `treeSize` leaves at tile `level`: the full ones, and the width of the
    /// partial one (0 when there is none).
    @inlinable
    public static func tiles(treeSize: UInt64, level: Int) -> (fullCount: UInt64, partialWidth: Int) {
        let entries = treeSize >> UInt64(MerkleTile.height * level)
        return (entries >> 8, Int(entries & 0xff))
    }
}

/// Builds the stored tiles (see `StoredTile`) of a growing tree: the tree's right edge as the partial tile of
/// each tile level, kept in memory; a tile is handed out once, when it becomes full, and the partial ones on
/// request (once per commit).
///
/// Value type, `Sendable`; confine a mutable copy to one writer. Appending costs the leaf's new hashes
/// (`MerkleFrontier`) and one 32-byte copy per hash; nothing is allocated after the first append.
public struct StoredTileBuilder: Sendable {
    /// The right edge of the tree, for its root.
    public private(set) var frontier: MerkleFrontier

    // One full-layout tile per tile level (row k at offset 512 − 512/2^k hashes), in one buffer.
    private var buffer: [UInt8]

    private static let tileBytes = StoredTile.fullHashCount * SHA256Digest.byteCount

    /// The number of leaves.
    public var treeSize: UInt64 { frontier.treeSize }

    /// The builder of the empty tree.
    public init() {
        frontier = MerkleFrontier()
        buffer = []
    }

    /// The builder of the tree of `treeSize` leaves, from its partial tiles: `partialTile(level, index)` must
    /// return the stored tile (`level`, `index`) of the width `StoredTile.tiles(treeSize:level:)` gives, or nil
    /// when it is missing.
    ///
    /// Throws what `partialTile` throws, `MerkleStorageError` (`.missingHash`) when a tile is missing or has the
    /// wrong size, or `MerkleProofError` when `treeSize` exceeds `StoredHashIndex.maxTreeSize`.
    public init(
        treeSize: UInt64, partialTile: (_ level: Int, _ index: UInt64) throws -> UnsafeRawBufferPointer?
    ) throws {
        try MerkleTree.checkTreeSize(treeSize)
        buffer = [UInt8](repeating: 0, count: Self.tileBytes * StoredTile.rowCount)
        for level in 0..<StoredTile.rowCount {
            let (full, width) = StoredTile.tiles(treeSize: treeSize, level: level)
            guard width > 0 else { continue }
            guard let stored = try partialTile(level, full),
                stored.count
                    == StoredTile.hashCount(width: width) * SHA256Digest.byteCount
            else {
                throw MerkleStorageError.missingHash(
                    storedIndex: StoredHashIndex.index(level: MerkleTile.height * level, n: full << 8))
            }
            let base = level * Self.tileBytes
            buffer.withUnsafeMutableBytes { out in
                Self.copyRows(width: width, from: stored.baseAddress!, compact: true, to: out.baseAddress! + base)
            }
        }
        frontier = MerkleFrontier()
        frontier = try MerkleFrontier(treeSize: treeSize, reader: EdgeReader(buffer: buffer, treeSize: treeSize))
    }

    private static func fullRowOffset(_ row: Int) -> Int { 512 - 512 >> row }

    /// Copies the rows of a tile of `width` entries from the stored (compact) layout to the builder's full one
    /// (row k at offset 512 − 512/2^k hashes), or back when `compact` is false.
    private static func copyRows(
        width: Int, from source: UnsafeRawPointer, compact: Bool, to destination: UnsafeMutableRawPointer
    ) {
        for row in 0..<StoredTile.rowCount where width >> row > 0 {
            let compactOffset = StoredTile.rowOffset(width: width, row: row) * SHA256Digest.byteCount
            let fullOffset = fullRowOffset(row) * SHA256Digest.byteCount
            (destination + (compact ? fullOffset : compactOffset)).copyMemory(
                from: source + (compact ? compactOffset : fullOffset),
                byteCount: (width >> row) * SHA256Digest.byteCount)
        }
    }

    /// Appends leaf number `treeSize`; calls `completed` with each tile the leaf completes (tile level, index,
    /// and its 16,320 bytes, valid only during the call), lowest level first.
    ///
    /// If `completed` throws, the error is passed on and this builder must be discarded.
    public mutating func append(
        leafHash: SHA256Digest,
        completed: (_ level: Int, _ index: UInt64, _ tile: UnsafeRawBufferPointer) throws -> Void
    ) throws {
        if buffer.isEmpty { buffer = [UInt8](repeating: 0, count: Self.tileBytes * StoredTile.rowCount) }
        let leaf = frontier.treeSize
        var level = 0
        // Place each new hash (level i, n leaf >> i) in its tile; a hash at row 7, position 1 completes its tile.
        try buffer.withUnsafeMutableBytes { (out: UnsafeMutableRawBufferPointer) in
            try frontier.append(leafHash: leafHash) { (hash: SHA256Digest) in
                let (tileLevel, tileIndex, row, position) = StoredTile.locate(level: level, n: leaf >> UInt64(level))
                let base = tileLevel * Self.tileBytes
                let at = base + (Self.fullRowOffset(row) + position) * SHA256Digest.byteCount
                hash.withUnsafeBytes {
                    out.baseAddress!.advanced(by: at).copyMemory(from: $0.baseAddress!, byteCount: 32)
                }
                if row == StoredTile.rowCount - 1 && position == 1 {
                    try completed(
                        tileLevel, tileIndex, UnsafeRawBufferPointer(rebasing: out[base..<base + Self.tileBytes]))
                }
                level += 1
            }
        }
    }

    /// Calls `body` with each partial tile of the tree (tile level, index, and its bytes in the stored layout,
    /// valid only during the call), lowest level first: what a commit writes besides the completed tiles.
    public func forEachPartialTile(
        _ body: (_ level: Int, _ index: UInt64, _ tile: UnsafeRawBufferPointer) throws -> Void
    ) throws {
        var scratch = [UInt8](repeating: 0, count: Self.tileBytes)
        for level in 0..<StoredTile.rowCount {
            let (full, width) = StoredTile.tiles(treeSize: treeSize, level: level)
            guard width > 0 else { continue }
            let count = StoredTile.hashCount(width: width) * SHA256Digest.byteCount
            scratch.withUnsafeMutableBytes { out in
                buffer.withUnsafeBytes { tiles in
                    let full = tiles.baseAddress! + level * Self.tileBytes
                    Self.copyRows(width: width, from: full, compact: false, to: out.baseAddress!)
                }
            }
            try scratch.withUnsafeBytes { raw in
                try body(level, full, UnsafeRawBufferPointer(rebasing: raw[0..<count]))
            }
        }
    }

    /// Reads the right edge's hashes from the full-layout buffers (every frontier hash is in a partial tile).
    private struct EdgeReader: HashReader {
        let buffer: [UInt8]
        let treeSize: UInt64

        func readHashes(at indexes: [UInt64]) throws -> [SHA256Digest] {
            try indexes.map { index in
                let (level, n) = StoredHashIndex.split(index)
                let (tileLevel, tileIndex, row, position) = StoredTile.locate(level: level, n: n)
                let (full, width) = StoredTile.tiles(treeSize: treeSize, level: tileLevel)
                guard tileIndex == full, position < width >> row else {
                    throw MerkleStorageError.missingHash(storedIndex: index)
                }
                let at =
                    (tileLevel * StoredTileBuilder.tileBytes + (StoredTileBuilder.fullRowOffset(row) + position) * 32)
                return buffer.withUnsafeBytes {
                    SHA256Digest(bytes: UnsafeRawBufferPointer(rebasing: $0[at..<at + 32]))!
                }
            }
        }
    }
}

/// Where `StoredTileHashReader` gets stored tiles: `storedTile(level:index:)` returns the stored tile's bytes,
/// valid for the reader's lifetime (an LMDB read transaction's memory map), or nil.
public protocol StoredTileSource {
    func storedTile(level: Int, index: UInt64) throws -> UnsafeRawBufferPointer?
}

/// Reads stored hashes from stored tiles. Each `readHashes` call fetches every tile it needs once; hashes are
/// addressed by (level, node) (`readHashes(ofNodes:)`), stored indexes are converted first.
public struct StoredTileHashReader<Source: StoredTileSource>: HashReader {
    let source: Source

    /// A reader over `source`.
    public init(source: Source) {
        self.source = source
    }

    public func readHashes(at indexes: [UInt64]) throws -> [SHA256Digest] {
        try readHashes(
            ofNodes: indexes.map { index in
                let (level, n) = StoredHashIndex.split(index)
                return MerkleNode(level: level, n: n)
            })
    }

    public func readHashes(ofNodes nodes: [MerkleNode]) throws -> [SHA256Digest] {
        var fetched: [(key: UInt64, bytes: UnsafeRawBufferPointer, width: Int)] = []
        fetched.reserveCapacity(8)
        var hashes: [SHA256Digest] = []
        hashes.reserveCapacity(nodes.count)
        for node in nodes {
            let (tileLevel, tileIndex, row, position) = StoredTile.locate(level: node.level, n: node.n)
            let key = StoredTile.key(level: tileLevel, index: tileIndex)
            let found: (key: UInt64, bytes: UnsafeRawBufferPointer, width: Int)
            if let cached = fetched.first(where: { $0.key == key }) {
                found = cached
            } else {
                guard let bytes = try source.storedTile(level: tileLevel, index: tileIndex),
                    bytes.count % SHA256Digest.byteCount == 0,
                    let width = StoredTile.width(hashCount: bytes.count / SHA256Digest.byteCount)
                else {
                    throw MerkleStorageError.missingHash(storedIndex: node.storedIndex)
                }
                found = (key, bytes, width)
                fetched.append(found)
            }
            guard position < found.width >> row else {
                throw MerkleStorageError.missingHash(storedIndex: node.storedIndex)
            }
            let at = (StoredTile.rowOffset(width: found.width, row: row) + position) * SHA256Digest.byteCount
            hashes.append(SHA256Digest(bytes: UnsafeRawBufferPointer(rebasing: found.bytes[at..<at + 32]))!)
        }
        return hashes
    }
}
