import CairnCrypto
import CairnMerkle

/// A hash tile by its coordinates, without a width: tile level `level` (0…7), index `index`. Which width it has
/// depends on the tree size (`TileTree.width(of:treeSize:)`).
package struct TileCoordinate: Hashable, Sendable, Comparable, CustomStringConvertible {
    package let level: Int
    package let index: UInt64

    package init(level: Int, index: UInt64) {
        self.level = level
        self.index = index
    }

    /// The tile at the next level up that holds this tile's hash (when this tile is full).
    package var parent: TileCoordinate { TileCoordinate(level: level + 1, index: index >> 8) }

    package static func < (lhs: TileCoordinate, rhs: TileCoordinate) -> Bool {
        (lhs.level, lhs.index) < (rhs.level, rhs.index)
    }

    package var description: String { "tile (\(level), \(index))" }
}

/// Why tiles or entry bundles fetched from a log were refused.
///
/// `code` is stable; `message` is one line for people that names the resource (its tile path) and what is wrong.
package struct TileTreeError: Error, Sendable, Equatable, CustomStringConvertible {
    package enum Code: String, Sendable, Equatable, CaseIterable {
        /// A tile or bundle has the wrong length for its width, or a bundle the wrong number of entries.
        case wrongSize
        /// The tiles of the tree's right edge do not hash to the checkpoint's root.
        case rootMismatch
        /// A full tile does not hash to its entry in the tile above it.
        case tileMismatch
        /// An entry of a bundle does not hash to its leaf hash in the level-0 tile.
        case bundleMismatch
        /// A hash was asked of a tile that is not held (a caller's ordering mistake, never input's).
        case missingTile
        /// A tree size beyond 2^63 − 1, or an old size beyond the tree's.
        case invalidSize
    }

    package let code: Code
    package let message: String

    package init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    package var description: String { message }
}

/// The tiles of one tree (https://c2sp.org/tlog-tiles), each authenticated against the tree's root before it is
/// used: what a mirror or a monitor believes of a log that only serves tiles.
///
/// A value type, `Sendable`; pure (no I/O: the caller fetches, this checks). The rule (specs/mirror.md §3):
///
/// 1. **The right edge first.** The partial tiles of the tree (at most one per level) hold every hash that makes up
///    the root: the root of a tree of `size` leaves is the RFC 6962 fold of its maximal complete subtrees, and each
///    is an entry, or a run of entries, of the partial tile of its level. `authenticateRightEdge(_:)` recomputes the
///    root from them with CairnMerkle's `MerkleTree.root` and compares it with the checkpoint's.
/// 2. **A full tile through its parent.** Entry `k mod 256` of tile (L + 1, ⌊k / 256⌋) is the hash of the complete
///    subtree of full tile (L, k): `authenticate(_:bytes:keep:)` accepts a full tile only when its parent is held
///    and the RFC 6962 hash of its 256 entries is that entry. `authenticationChain(for:)` says which ancestors to
///    fetch first, topmost first; every chain ends at the right edge.
/// 3. **Trusted tiles** (`insertTrusted(_:bytes:)`) are full tiles authenticated earlier against this tree's
///    checkpoint: a mirror's own files, from which it recomputes the root of a smaller size a log rolls back to.
///
/// A tile is held at the width it has in this tree. Hashes of any complete subtree — for the root of an older size,
/// or a consistency proof from it — are read from held tiles through `MerkleTree` (`rootHash(ofSize:)`,
/// `consistencyProof(from:)`); `tilesNeeded(forRootOf:)` and `tilesNeeded(forConsistencyFrom:)` say which tiles
/// those reads touch. Nothing here traps on what a log sends: every length is checked first.
package struct TileTree: Sendable {
    /// The number of leaves.
    package let size: UInt64
    /// The root the tiles must hash to (the checkpoint's).
    package let root: SHA256Digest
    /// Held tiles: their hashes, at the width they have in this tree.
    private var tiles: [TileCoordinate: [SHA256Digest]] = [:]
    /// Whether the right edge has been authenticated (nothing is held before).
    package private(set) var isAuthenticated = false

    /// The tree of a checkpoint. Throws `.invalidSize` beyond 2^63 − 1 leaves.
    package init(size: UInt64, root: SHA256Digest) throws(TileTreeError) {
        guard size <= StoredHashIndex.maxTreeSize else {
            throw TileTreeError(.invalidSize, "tree size \(size) exceeds the largest supported size 2^63 − 1")
        }
        self.size = size
        self.root = root
    }

    // MARK: - Geometry

    /// The width of `tile` in a tree of `treeSize` leaves: 256 for a full tile, 1…255 for the partial one, `nil`
    /// when the tree has no such tile.
    package static func width(of tile: TileCoordinate, treeSize: UInt64) -> Int? {
        guard (0..<MerkleTile.height).contains(tile.level) else { return nil }
        let entries = treeSize >> UInt64(MerkleTile.height * tile.level)
        let full = entries >> 8
        if tile.index < full { return MerkleTile.fullWidth }
        let partial = Int(entries & 0xff)
        return tile.index == full && partial > 0 ? partial : nil
    }

    /// The width of `tile` in this tree, or `nil`.
    package func width(of tile: TileCoordinate) -> Int? { Self.width(of: tile, treeSize: size) }

    /// The number of full tiles at `level` in a tree of `treeSize` leaves.
    package static func fullTileCount(level: Int, treeSize: UInt64) -> UInt64 {
        guard (0..<MerkleTile.height).contains(level) else { return 0 }
        return treeSize >> UInt64(MerkleTile.height * (level + 1))
    }

    /// The resource path of `tile` at its width in this tree (`tile/<L>/<N>[.p/<W>]`), or `nil` if absent.
    package func path(of tile: TileCoordinate) -> String? {
        width(of: tile).flatMap { MerkleTile(level: tile.level, index: tile.index, width: $0)?.path }
    }

    /// The partial tiles of the tree, level 0 first: what `authenticateRightEdge(_:)` needs.
    package var rightEdge: [TileCoordinate] {
        (0..<MerkleTile.height).compactMap { level in
            let tile = TileCoordinate(level: level, index: Self.fullTileCount(level: level, treeSize: size))
            guard let width = width(of: tile), width < MerkleTile.fullWidth else { return nil }
            return tile
        }
    }

    // MARK: - Authenticating

    /// Authenticates the right edge: `partials` must hold, for each tile of `rightEdge`, exactly its bytes (32 per
    /// hash, at its width), and the root recomputed from them must be this tree's. On success the tiles are held.
    ///
    /// Throws `.wrongSize` (a missing tile or a wrong length) or `.rootMismatch`.
    package mutating func authenticateRightEdge(_ partials: [TileCoordinate: [UInt8]]) throws(TileTreeError) {
        var edge: [TileCoordinate: [SHA256Digest]] = [:]
        for tile in rightEdge {
            let width = width(of: tile)!
            guard let bytes = partials[tile] else {
                throw TileTreeError(.wrongSize, "\(path(of: tile)!): missing from the right edge of the tree")
            }
            edge[tile] = try Self.hashes(bytes, width: width, path: path(of: tile)!)
        }
        let computed: SHA256Digest
        if size == 0 {
            computed = RFC6962.emptyRoot
        } else {
            do {
                computed = try MerkleTree.root(treeSize: size, reader: TileHashReader(tiles: edge))
            } catch {
                throw TileTreeError(.rootMismatch, "the right edge of tree size \(size) is incomplete: \(error)")
            }
        }
        guard computed == root else {
            let paths = rightEdge.compactMap { path(of: $0) }.joined(separator: ", ")
            throw TileTreeError(
                .rootMismatch,
                "the tiles of tree size \(size) (\(paths.isEmpty ? "none" : paths)) hash to root \(computed.base64), "
                    + "not to the checkpoint's root \(root.base64): the log serves tiles of another tree")
        }
        for (tile, hashes) in edge { tiles[tile] = hashes }
        isAuthenticated = true
    }

    /// Whether `tile` is held (authenticated or trusted).
    package func holds(_ tile: TileCoordinate) -> Bool { tiles[tile] != nil }

    /// The held hashes of `tile`, at its width in this tree.
    package func hashes(of tile: TileCoordinate) -> [SHA256Digest]? { tiles[tile] }

    /// The tiles to authenticate, topmost first, before `tile` is held: `tile` and those of its ancestors that are
    /// not held. Empty when `tile` is held; a tile the tree does not have, or an unauthenticated tree, gives the
    /// tile alone (whose authentication then fails with a message saying why).
    package func authenticationChain(for tile: TileCoordinate) -> [TileCoordinate] {
        var chain: [TileCoordinate] = []
        var current = tile
        while tiles[current] == nil {
            chain.append(current)
            // Only a full tile has a parent that vouches for it; partials are the right edge.
            guard isAuthenticated, width(of: current) == MerkleTile.fullWidth, current.level + 1 < MerkleTile.height
            else { break }
            current = current.parent
        }
        return chain.reversed()
    }

    /// Authenticates the full tile `tile` from its `bytes` through its parent, which must be held: the RFC 6962
    /// hash of its 256 entries must be the parent's entry for it. Returns its hashes, and keeps them when `keep`
    /// (tiles above level 0 are always kept: they vouch for the tiles below).
    ///
    /// Throws `.wrongSize`, `.tileMismatch`, or `.missingTile` when the parent is not held (or the tree has no such
    /// full tile).
    @discardableResult
    package mutating func authenticate(
        _ tile: TileCoordinate, bytes: [UInt8], keep: Bool = false
    ) throws(TileTreeError) -> [SHA256Digest] {
        let path = TileTree.fullPath(tile)
        guard width(of: tile) == MerkleTile.fullWidth else {
            throw TileTreeError(
                .missingTile, "\(path): tree size \(size) has no such full tile to authenticate through its parent")
        }
        let hashes = try Self.hashes(bytes, width: MerkleTile.fullWidth, path: path)
        guard let parent = tiles[tile.parent] else {
            throw TileTreeError(.missingTile, "\(path): its parent tile is not authenticated yet")
        }
        let entry = Int(tile.index & 0xff)
        guard entry < parent.count else {
            throw TileTreeError(.missingTile, "\(path): its parent tile has no entry \(entry)")
        }
        let computed = Self.fold(hashes[...])
        guard computed == parent[entry] else {
            throw TileTreeError(
                .tileMismatch,
                "\(path) hashes to \(computed.base64), but entry \(entry) of the tile above it is "
                    + "\(parent[entry].base64): the tile is not part of the signed tree")
        }
        if keep || tile.level > 0 { tiles[tile] = hashes }
        return hashes
    }

    /// Holds the full tile `tile` without checking it against its parent: for tiles authenticated earlier against
    /// a checkpoint that this tree extends (a mirror's own files). Only the length is checked.
    package mutating func insertTrusted(_ tile: TileCoordinate, bytes: [UInt8]) throws(TileTreeError) {
        let path = TileTree.fullPath(tile)
        guard width(of: tile) == MerkleTile.fullWidth else {
            throw TileTreeError(.missingTile, "\(path): tree size \(size) has no such full tile")
        }
        tiles[tile] = try Self.hashes(bytes, width: MerkleTile.fullWidth, path: path)
    }

    /// Drops a held level-0 tile that is no longer needed (a mirror streams them).
    package mutating func release(_ tile: TileCoordinate) {
        guard tile.level == 0, !rightEdge.contains(tile) else { return }
        tiles[tile] = nil
    }

    // MARK: - Older trees

    /// The tiles whose hashes `rootHash(ofSize: oldSize)` reads, in order, without duplicates.
    package func tilesNeeded(forRootOf oldSize: UInt64) throws(TileTreeError) -> [TileCoordinate] {
        try checkOldSize(oldSize, allowZero: true)
        guard oldSize > 0 else { return [] }
        let recorder = NodeRecorder()
        _ = try? MerkleTree.root(treeSize: oldSize, reader: recorder)
        return Self.tiles(of: recorder.nodes)
    }

    /// The tiles whose hashes `consistencyProof(from: oldSize)` reads, in order, without duplicates.
    package func tilesNeeded(forConsistencyFrom oldSize: UInt64) throws(TileTreeError) -> [TileCoordinate] {
        try checkOldSize(oldSize, allowZero: false)
        let recorder = NodeRecorder()
        _ = try? MerkleTree.consistencyProof(oldSize: oldSize, newSize: size, reader: recorder)
        return Self.tiles(of: recorder.nodes)
    }

    /// The root of the tree's first `oldSize` leaves, MTH(D[0:oldSize]), from held tiles (RFC 6962: every
    /// complete subtree of the older tree is one of this tree). Throws `.missingTile` when a tile of
    /// `tilesNeeded(forRootOf:)` is not held, `.invalidSize` for a size beyond this tree's.
    package func rootHash(ofSize oldSize: UInt64) throws(TileTreeError) -> SHA256Digest {
        try checkOldSize(oldSize, allowZero: true)
        guard oldSize > 0 else { return RFC6962.emptyRoot }
        do {
            return try MerkleTree.root(treeSize: oldSize, reader: TileHashReader(tiles: tiles))
        } catch let error as TileTreeError {
            throw error
        } catch {
            throw TileTreeError(.missingTile, "cannot compute the root of size \(oldSize): \(error)")
        }
    }

    /// The consistency proof from `oldSize` to this tree's size (RFC 9162 §2.1.4.1), from held tiles.
    package func consistencyProof(from oldSize: UInt64) throws(TileTreeError) -> [SHA256Digest] {
        try checkOldSize(oldSize, allowZero: false)
        do {
            return try MerkleTree.consistencyProof(
                oldSize: oldSize, newSize: size, reader: TileHashReader(tiles: tiles))
        } catch let error as TileTreeError {
            throw error
        } catch {
            throw TileTreeError(.missingTile, "cannot compute the consistency proof from size \(oldSize): \(error)")
        }
    }

    private func checkOldSize(_ oldSize: UInt64, allowZero: Bool) throws(TileTreeError) {
        guard oldSize <= size, allowZero || oldSize > 0 else {
            throw TileTreeError(.invalidSize, "size \(oldSize) is not an older size of a tree of size \(size)")
        }
    }

    // MARK: - Bytes

    /// The hashes of a tile of `width` entries: exactly 32·`width` bytes.
    package static func hashes(_ bytes: [UInt8], width: Int, path: String) throws(TileTreeError) -> [SHA256Digest] {
        let expected = width * SHA256Digest.byteCount
        guard bytes.count == expected else {
            throw TileTreeError(
                .wrongSize, "\(path) is \(bytes.count) bytes; a tile of \(width) hashes is \(expected) bytes")
        }
        var hashes: [SHA256Digest] = []
        hashes.reserveCapacity(width)
        var offset = 0
        while offset < bytes.count {
            hashes.append(SHA256Digest(bytes: bytes[offset..<offset + SHA256Digest.byteCount])!)
            offset += SHA256Digest.byteCount
        }
        return hashes
    }

    /// The bytes of a tile: its hashes, concatenated.
    package static func bytes(_ hashes: some Collection<SHA256Digest>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(hashes.count * SHA256Digest.byteCount)
        for hash in hashes { hash.withUnsafeBytes { out.append(contentsOf: $0) } }
        return out
    }

    /// Decodes an entry bundle of `leafHashes.count` entries (specs/tiles.md §1) and checks that entry `i` hashes
    /// (RFC 6962 leaf hash) to `leafHashes[i]`. Returns the entries. Throws `.wrongSize` for a malformed bundle or
    /// the wrong number of entries, `.bundleMismatch` for an entry that is not the logged one.
    @discardableResult
    package static func checkBundle(
        _ bytes: [UInt8], leafHashes: ArraySlice<SHA256Digest>, path: String
    ) throws(TileTreeError) -> [[UInt8]] {
        let entries: [[UInt8]]
        do {
            entries = try MerkleEntryBundle.decode(bytes)
        } catch {
            throw TileTreeError(.wrongSize, "\(path): \(error.message)")
        }
        guard entries.count == leafHashes.count else {
            throw TileTreeError(
                .wrongSize, "\(path) holds \(entries.count) entries; the tree has \(leafHashes.count) there")
        }
        for (offset, (entry, expected)) in zip(entries, leafHashes).enumerated() {
            let computed = RFC6962.leafHash(entry)
            guard computed == expected else {
                throw TileTreeError(
                    .bundleMismatch,
                    "\(path): entry \(offset) hashes to \(computed.base64), but its leaf hash in the level-0 tile is "
                        + "\(expected.base64): the bundle does not hold the logged entries")
            }
        }
        return entries
    }

    /// The path of a full tile, for messages.
    static func fullPath(_ tile: TileCoordinate) -> String {
        MerkleTile(level: tile.level, index: tile.index)?.path ?? "tile (\(tile.level), \(tile.index))"
    }

    /// The RFC 6962 hash of a complete subtree whose level-`8·L` hashes are `hashes` (a power of two of them), with
    /// CairnMerkle's frontier: appending them as leaves of a tree and taking its root.
    static func fold(_ hashes: ArraySlice<SHA256Digest>) -> SHA256Digest {
        guard hashes.count > 1 else { return hashes.first ?? RFC6962.emptyRoot }
        var frontier = MerkleFrontier()
        for hash in hashes { frontier.append(leafHash: hash) { _ in } }
        return frontier.root
    }

    /// The tiles holding the given nodes' hashes, in order of first use.
    static func tiles(of nodes: [MerkleNode]) -> [TileCoordinate] {
        var seen: Set<TileCoordinate> = []
        var result: [TileCoordinate] = []
        for node in nodes {
            guard let (tile, _, _) = TileHashReader.locate(node), seen.insert(tile).inserted else { continue }
            result.append(tile)
        }
        return result
    }
}

/// Reads Merkle nodes from tiles: the node at Merkle level 8·L + r, index n, is the RFC 6962 hash of entries
/// n·2^r … (n + 1)·2^r − 1 of tile level L, which lie in one tile (2^r divides 256).
private struct TileHashReader: HashReader {
    let tiles: [TileCoordinate: [SHA256Digest]]

    /// The tile, first entry and entry count of a node; `nil` for coordinates no tile has.
    static func locate(_ node: MerkleNode) -> (TileCoordinate, offset: Int, count: Int)? {
        guard node.level >= 0, node.level < MerkleTile.height * MerkleTile.height else { return nil }
        let row = node.level % MerkleTile.height
        guard node.n <= UInt64.max >> UInt64(row) else { return nil }
        let first = node.n << UInt64(row)
        return (
            TileCoordinate(level: node.level / MerkleTile.height, index: first >> 8), Int(first & 0xff), 1 << row
        )
    }

    func readHashes(at indexes: [UInt64]) throws -> [SHA256Digest] {
        let limit = StoredHashIndex.count(treeSize: StoredHashIndex.maxTreeSize)
        return try readHashes(
            ofNodes: indexes.map { index throws(TileTreeError) in
                guard index < limit else {
                    throw TileTreeError(.missingTile, "stored hash index \(index) is beyond any tree")
                }
                let (level, n) = StoredHashIndex.split(index)
                return MerkleNode(level: level, n: n)
            })
    }

    func readHashes(ofNodes nodes: [MerkleNode]) throws -> [SHA256Digest] {
        var result: [SHA256Digest] = []
        result.reserveCapacity(nodes.count)
        for node in nodes {
            guard let (tile, offset, count) = Self.locate(node) else {
                throw TileTreeError(.missingTile, "Merkle node (level \(node.level), n \(node.n)) is in no tile")
            }
            guard let hashes = tiles[tile], offset + count <= hashes.count else {
                throw TileTreeError(
                    .missingTile,
                    "\(tile) is not held (needed for Merkle node level \(node.level), n \(node.n))")
            }
            result.append(TileTree.fold(hashes[offset..<offset + count]))
        }
        return result
    }
}

/// A reader that records the nodes asked for and answers zeros: which hashes a computation reads.
private final class NodeRecorder: HashReader {
    private(set) var nodes: [MerkleNode] = []

    func readHashes(at indexes: [UInt64]) throws -> [SHA256Digest] {
        Array(repeating: .zero, count: indexes.count)
    }

    func readHashes(ofNodes nodes: [MerkleNode]) throws -> [SHA256Digest] {
        self.nodes += nodes
        return Array(repeating: .zero, count: nodes.count)
    }
}
