import CairnCrypto
import CairnMerkle
import CairnTestSupport
import Testing

@testable import CairnMirror

/// `TileTree`: tiles authenticated against a root, older roots and consistency proofs from them, and every kind of
/// tampering refused, against an independently built in-memory tree.
@Suite("TileTree")
struct TileTreeTests {
    /// One log of 70,001 entries, shared by the tests (building it takes a moment).
    static let log = FakeLog(size: 70_001)

    /// A tree of `size` with its right edge authenticated from the log's tiles.
    static func authenticated(_ size: UInt64) throws -> TileTree {
        var tree = try TileTree(size: size, root: try MerkleTree.root(treeSize: size, reader: log.tree))
        var edge: [TileCoordinate: [UInt8]] = [:]
        for tile in tree.rightEdge {
            edge[tile] = log.tileBytes(level: tile.level, index: tile.index, width: tree.width(of: tile)!)
        }
        try tree.authenticateRightEdge(edge)
        return tree
    }

    /// Authenticates `tile` and its missing ancestors from the log's tiles.
    static func hold(_ tile: TileCoordinate, in tree: inout TileTree) throws {
        for link in tree.authenticationChain(for: tile) {
            try tree.authenticate(
                link, bytes: log.tileBytes(level: link.level, index: link.index, width: 256), keep: true)
        }
    }

    @Test("The geometry of the spec's example, size 70,000")
    func geometry() throws {
        let tree = try TileTree(size: 70_000, root: .zero)
        #expect(
            tree.rightEdge.compactMap { tree.path(of: $0) } == [
                "tile/0/273.p/112", "tile/1/001.p/17", "tile/2/000.p/1",
            ])
        #expect(TileTree.fullTileCount(level: 0, treeSize: 70_000) == 273)
        #expect(TileTree.fullTileCount(level: 1, treeSize: 70_000) == 1)
        #expect(tree.width(of: TileCoordinate(level: 0, index: 272)) == 256)
        #expect(tree.width(of: TileCoordinate(level: 0, index: 274)) == nil)
        #expect(tree.width(of: TileCoordinate(level: 3, index: 0)) == nil)
        #expect(tree.width(of: TileCoordinate(level: 9, index: 0)) == nil)
        #expect(try TileTree(size: 256, root: .zero).rightEdge == [TileCoordinate(level: 1, index: 0)])
        #expect(try TileTree(size: 0, root: .zero).rightEdge.isEmpty)
        #expect(throws: TileTreeError.self) { try TileTree(size: UInt64.max, root: .zero) }
    }

    @Test(
        "The right edge recomputes the root; older roots and consistency proofs from the tiles are the tree's",
        arguments: [0, 1, 2, 255, 256, 257, 511, 4096, 65_535, 65_536, 65_537, 70_000, 70_001] as [UInt64])
    func olderTrees(size: UInt64) throws {
        var tree = try Self.authenticated(size)
        #expect(tree.isAuthenticated)
        for old in Set([1, 2, 3, 255, 256, 257, 1000, 65_535, 65_536, 69_999, size / 2, max(size, 1) - 1, size])
        where old > 0 && old <= size {
            for tile in try tree.tilesNeeded(forRootOf: old) + tree.tilesNeeded(forConsistencyFrom: old) {
                try Self.hold(tile, in: &tree)
            }
            #expect(try tree.rootHash(ofSize: old) == MerkleTree.root(treeSize: old, reader: Self.log.tree), "\(old)")
            #expect(
                try tree.consistencyProof(from: old)
                    == MerkleTree.consistencyProof(oldSize: old, newSize: size, reader: Self.log.tree), "\(old)")
        }
        #expect(try tree.rootHash(ofSize: 0) == RFC6962.emptyRoot)
        #expect(throws: TileTreeError.self) { try tree.rootHash(ofSize: size + 1) }
        #expect(throws: TileTreeError.self) { try tree.consistencyProof(from: 0) }
    }

    @Test("A tile not held is a missingTile error, never a trap")
    func missingTiles() throws {
        let tree = try Self.authenticated(70_000)
        let error = try #require(throws: TileTreeError.self) { try tree.rootHash(ofSize: 1000) }
        #expect(error.code == .missingTile)
        var fresh = try TileTree(size: 70_000, root: .zero)
        // Before the right edge, nothing authenticates through a parent.
        #expect(
            fresh.authenticationChain(for: TileCoordinate(level: 0, index: 3)) == [TileCoordinate(level: 0, index: 3)])
        let early = try #require(throws: TileTreeError.self) {
            try fresh.authenticate(
                TileCoordinate(level: 0, index: 3), bytes: Self.log.tileBytes(level: 0, index: 3, width: 256))
        }
        #expect(early.code == .missingTile)
    }

    @Test("Every tampered byte, wrong length or foreign tile is refused")
    func tampering() throws {
        let size: UInt64 = 70_000
        let root = try MerkleTree.root(treeSize: size, reader: Self.log.tree)
        var edge: [TileCoordinate: [UInt8]] = [:]
        let probe = try TileTree(size: size, root: root)
        for tile in probe.rightEdge {
            edge[tile] = Self.log.tileBytes(level: tile.level, index: tile.index, width: probe.width(of: tile)!)
        }
        // One flipped bit anywhere in the right edge changes the root.
        for tile in probe.rightEdge {
            for offset in [0, 31, edge[tile]!.count - 1] {
                var bad = edge
                bad[tile]![offset] ^= 0x10
                var tree = try TileTree(size: size, root: root)
                let error = try #require(throws: TileTreeError.self) { try tree.authenticateRightEdge(bad) }
                #expect(error.code == .rootMismatch && error.message.contains("not to the checkpoint's root"))
                #expect(!tree.isAuthenticated)
            }
            var short = edge
            short[tile]!.removeLast()
            var tree = try TileTree(size: size, root: root)
            #expect((try? tree.authenticateRightEdge(short)) == nil)
            var missing = edge
            missing[tile] = nil
            #expect((try? tree.authenticateRightEdge(missing)) == nil)
        }
        // A tile of another tree (a root that is not this one).
        var other = try TileTree(size: size, root: SHA256.hash(Array("other".utf8)))
        #expect((try? other.authenticateRightEdge(edge)) == nil)

        // Full tiles at levels 0 and 1: a flipped bit, a short tile, the right tile at the wrong index.
        var tree = try TileTree(size: size, root: root)
        try tree.authenticateRightEdge(edge)
        try Self.hold(TileCoordinate(level: 1, index: 0), in: &tree)
        for (level, index) in [(0, 5), (0, 255), (1, 0)] as [(Int, UInt64)] {
            let tile = TileCoordinate(level: level, index: index)
            let good = Self.log.tileBytes(level: level, index: index, width: 256)
            var bad = good
            bad[100] ^= 1
            var copy = tree
            let error = try #require(throws: TileTreeError.self) { try copy.authenticate(tile, bytes: bad) }
            #expect(error.code == .tileMismatch, "\(error)")
            #expect(error.message.hasPrefix(TileTree.fullPath(tile) + " hashes to "))
            let short = try #require(throws: TileTreeError.self) {
                try copy.authenticate(tile, bytes: Array(good.dropLast(32)))
            }
            #expect(short.code == .wrongSize)
            let swapped = Self.log.tileBytes(level: 0, index: index == 7 ? 8 : 7, width: 256)
            #expect((try? copy.authenticate(tile, bytes: swapped)) == nil)
            #expect((try? copy.authenticate(tile, bytes: good)) != nil)
        }
        // The partial tile is not a full one.
        let partial = TileCoordinate(level: 0, index: 273)
        #expect((try? tree.authenticate(partial, bytes: [UInt8](repeating: 0, count: 8192))) == nil)
    }

    @Test("Soundness over random forgeries: whatever is accepted is the true tile or bundle (the fuzzer's oracle)")
    func randomForgeries() throws {
        var random = SeededGenerator(seed: 0x6d69_7272_6f72)
        for round in 0..<400 {
            let size = UInt64.random(in: 1...70_001, using: &random)
            let old = UInt64.random(in: 0...size, using: &random)
            var tree = try TileTree(size: size, root: try MerkleTree.root(treeSize: size, reader: Self.log.tree))
            var edge: [TileCoordinate: [UInt8]] = [:]
            for tile in tree.rightEdge {
                edge[tile] = Self.log.tileBytes(level: tile.level, index: tile.index, width: tree.width(of: tile)!)
            }
            // Forge: flip a byte, truncate, extend, or swap in another tile of the same length.
            func forge(_ bytes: [UInt8]) -> [UInt8] {
                var out = bytes
                switch Int.random(in: 0..<4, using: &random) {
                case 0 where !out.isEmpty: out[Int.random(in: 0..<out.count, using: &random)] ^= 0x01
                case 1 where !out.isEmpty: out.removeLast(Int.random(in: 1...out.count, using: &random))
                case 2: out += [UInt8.random(in: 0...255, using: &random)]
                default: out = out.map { $0 &+ 1 }
                }
                return out
            }
            if round % 3 == 0, let target = tree.rightEdge.randomElement(using: &random) {
                edge[target] = forge(edge[target]!)
                #expect((try? tree.authenticateRightEdge(edge)) == nil, "size \(size): a forged \(target) passed")
                continue
            }
            try tree.authenticateRightEdge(edge)
            let needed = try tree.tilesNeeded(forRootOf: old)
            var forged = false
            for tile in needed {
                for link in tree.authenticationChain(for: tile) {
                    let good = Self.log.tileBytes(level: link.level, index: link.index, width: 256)
                    if round % 3 == 1 && !forged {
                        forged = true
                        #expect((try? tree.authenticate(link, bytes: forge(good))) == nil, "size \(size): \(link)")
                    }
                    try tree.authenticate(link, bytes: good, keep: true)
                }
            }
            #expect(try tree.rootHash(ofSize: old) == MerkleTree.root(treeSize: old, reader: Self.log.tree))
            let bundle = UInt64.random(in: 0...(size - 1) >> 8, using: &random)
            let tile = TileCoordinate(level: 0, index: bundle)
            for link in tree.authenticationChain(for: tile) {
                try tree.authenticate(
                    link, bytes: Self.log.tileBytes(level: link.level, index: link.index, width: 256), keep: true)
            }
            let width = tree.width(of: tile)!
            let hashes = tree.hashes(of: tile)!
            let good = Self.log.bundleBytes(index: bundle, width: width)
            #expect((try? TileTree.checkBundle(forge(good), leafHashes: hashes[...], path: "b")) == nil)
            #expect((try? TileTree.checkBundle(good, leafHashes: hashes[...], path: "b")) != nil)
        }
    }

    @Test("Entry bundles: the logged entries pass; a changed, missing, extra or truncated entry does not")
    func bundles() throws {
        let hashes = try TileTree.hashes(Self.log.tileBytes(level: 0, index: 2, width: 256), width: 256, path: "t")
        let good = Self.log.bundleBytes(index: 2, width: 256)
        #expect(try TileTree.checkBundle(good, leafHashes: hashes[...], path: "b").count == 256)
        var changed = good
        changed[10] ^= 1
        #expect(throws: TileTreeError.self) { try TileTree.checkBundle(changed, leafHashes: hashes[...], path: "b") }
        let fewer = Self.log.bundleBytes(index: 2, width: 255)
        #expect(throws: TileTreeError.self) { try TileTree.checkBundle(fewer, leafHashes: hashes[...], path: "b") }
        #expect(throws: TileTreeError.self) {
            try TileTree.checkBundle(good + [0, 1, 0x41], leafHashes: hashes[...], path: "b")
        }
        #expect(throws: TileTreeError.self) {
            try TileTree.checkBundle(Array(good.dropLast()), leafHashes: hashes[...], path: "b")
        }
        #expect(throws: TileTreeError.self) { try TileTree.checkBundle([0xff], leafHashes: hashes[...], path: "b") }
        let partial = Self.log.bundleBytes(index: 273, width: 17)
        let partialHashes = try TileTree.hashes(
            Self.log.tileBytes(level: 0, index: 273, width: 17), width: 17, path: "t")
        #expect(try TileTree.checkBundle(partial, leafHashes: partialHashes[...], path: "b").count == 17)
    }
}
