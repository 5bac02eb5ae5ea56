/// A tile of a C2SP tlog-tiles log (https://c2sp.org/tlog-tiles): `width` consecutive stored hashes at Merkle
/// level 8·`level`.
///
/// Value type, `Sendable`. Entry `i` of the tile at tile level `L`, index `N` is MTH(D[(N·256 + i)·256^L :
/// (N·256 + i + 1)·256^L]), the stored hash (level 8·L, n N·256 + i). A full tile has 256 entries; a partial
/// one 1…255. The levels in between are recomputed from a tile's entries and are not served.
public struct MerkleTile: Hashable, Sendable, CustomStringConvertible {
    /// The tile height: Merkle levels per tile level.
    public static let height = 8
    /// The number of entries in a full tile.
    public static let fullWidth = 256

    /// The tile level `L` (0 for leaf hashes); its entries are at Merkle level 8·L.
    public let level: Int
    /// The tile's index `N` within its level.
    public let index: UInt64
    /// The number of entries, 1…256.
    public let width: Int

    /// A tile, or `nil` if `width` is not in 1…256 or the tile would reach beyond `StoredHashIndex.maxTreeSize`
    /// leaves.
    public init?(level: Int, index: UInt64, width: Int = MerkleTile.fullWidth) {
        guard (0..<8).contains(level), (1...Self.fullWidth).contains(width) else { return nil }
        // Entries N·256 ..< N·256 + width at Merkle level 8·L must exist in a tree of at most maxTreeSize leaves,
        // which has `capacity` hashes at that level.
        let capacity = StoredHashIndex.maxTreeSize >> (Self.height * level)
        guard capacity >= UInt64(width), index <= (capacity - UInt64(width)) >> 8 else { return nil }
        self.level = level
        self.index = index
        self.width = width
    }

    /// Whether the tile has fewer than 256 entries.
    public var isPartial: Bool { width < Self.fullWidth }

    /// The stored hash indexes (see `StoredHashIndex`) of the entries, in order.
    public var storedHashIndexes: [UInt64] {
        (0..<UInt64(width)).map { StoredHashIndex.index(level: Self.height * level, n: index << 8 + $0) }
    }

    /// The number of leaves a tree needs for every entry of this tile to exist.
    public var requiredTreeSize: UInt64 { (index << 8 + UInt64(width)) << (Self.height * level) }

    /// The resource path `tile/<L>/<N>[.p/<W>]`, with `N` in 3-digit groups, all but the last prefixed by `x`
    /// (index 1234067 is `x001/x234/067`).
    public var path: String { "tile/\(level)/" + TilePath.encode(index: index, width: width) }

    /// The resource path.
    public var description: String { path }

    /// The tiles that make up a tree of `treeSize` leaves at tile `level`: how many full tiles, and the partial
    /// tile of width ⌊treeSize / 256^level⌋ mod 256, if that is not 0.
    public static func tiles(treeSize: UInt64, level: Int) -> (fullCount: UInt64, partial: MerkleTile?) {
        precondition((0..<8).contains(level), "tile level \(level) is out of range 0..<8")
        let entries = treeSize >> (height * level)
        let width = Int(entries % UInt64(fullWidth))
        return (entries >> 8, width == 0 ? nil : MerkleTile(level: level, index: entries >> 8, width: width))
    }
}
