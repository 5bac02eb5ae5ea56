import CairnCrypto
import CairnMerkle
import CairnTestSupport
import Testing

@Suite("Stored tiles (storage format 2)")
struct StoredTileTests {
    /// The stored tile (`level`, `index`) of `width` entries, built from an independent tree's stored hashes by
    /// the layout's definition: row k holds ⌊width / 2^k⌋ hashes at Merkle level 8·level + k.
    func expectedTile(_ tree: InMemoryMerkleTree, level: Int, index: UInt64, width: Int) throws -> [UInt8] {
        var out: [UInt8] = []
        for row in 0..<8 {
            let count = UInt64(width >> row)
            guard count > 0 else { continue }
            let first = index << UInt64(8 - row)
            let indexes = (first..<first + count).map { StoredHashIndex.index(level: 8 * level + row, n: $0) }
            for hash in try tree.readHashes(at: indexes) { hash.withUnsafeBytes { out.append(contentsOf: $0) } }
        }
        return out
    }

    @Test("Layout arithmetic: hash counts, row offsets, widths from counts, keys and hash locations")
    func layout() {
        #expect(StoredTile.hashCount(width: 256) == 510)
        #expect(StoredTile.hashCount(width: 1) == 1)
        #expect(StoredTile.hashCount(width: 20) == 20 + 10 + 5 + 2 + 1)
        #expect(StoredTile.rowOffset(width: 256, row: 7) == 508)
        for width in 1...256 {
            #expect(StoredTile.width(hashCount: StoredTile.hashCount(width: width)) == width)
        }
        let counts = Set((1...256).map(StoredTile.hashCount(width:)))
        for count in 0...520 where !counts.contains(count) { #expect(StoredTile.width(hashCount: count) == nil) }
        #expect(StoredTile.coordinates(key: StoredTile.key(level: 7, index: 12345)) == (7, 12345))
        #expect(StoredTile.key(level: 1, index: 0) > StoredTile.key(level: 0, index: (1 << 55) - 1))
        // (level 9, n 5): tile level 1, row 1; tile index 5 >> 7 = 0, position 5.
        #expect(StoredTile.locate(level: 9, n: 5) == (1, 0, 1, 5))
        #expect(StoredTile.locate(level: 0, n: 1000) == (0, 3, 0, 1000 - 768))
        #expect(StoredTile.locate(level: 7, n: 3) == (0, 1, 7, 1))
    }

    @Test("The builder's completed and partial tiles equal the layout built from an independent tree, at every size")
    func builderMatchesTree() throws {
        var tree = InMemoryMerkleTree()
        var builder = StoredTileBuilder()
        var completed: [UInt64: [UInt8]] = [:]
        var generator = SeededGenerator(seed: 11)
        let size: UInt64 = 66_000  // one full tile at level 1, a partial one at level 2
        for leaf in 0..<size {
            let hash = RFC6962.leafHash(Array("leaf \(leaf)".utf8))
            tree.append(leafHash: hash)
            try builder.append(leafHash: hash) { level, index, tile in
                #expect(completed[StoredTile.key(level: level, index: index)] == nil, "a tile is completed once")
                completed[StoredTile.key(level: level, index: index)] = Array(tile)
            }
            #expect(builder.frontier.root == tree.root || leaf % 997 != 0)
            // At random sizes, every partial tile equals its definition.
            if Int.random(in: 0..<2000, using: &generator) == 0 || leaf + 1 == size {
                var partials = 0
                try builder.forEachPartialTile { level, index, tile in
                    let width = StoredTile.tiles(treeSize: leaf + 1, level: level).partialWidth
                    let want = try expectedTile(tree, level: level, index: index, width: width)
                    #expect(Array(tile) == want)
                    partials += 1
                }
                #expect(
                    partials
                        == (0..<8).filter { StoredTile.tiles(treeSize: leaf + 1, level: $0).partialWidth > 0 }.count)
            }
        }
        #expect(completed.count == 258)  // 257 full tiles at level 0 (65,792 leaves), one at level 1 (65,536)
        for (key, tile) in completed {
            let (level, index) = StoredTile.coordinates(key: key)
            let want = try expectedTile(tree, level: level, index: index, width: 256)
            #expect(tile == want)
        }
        #expect(builder.frontier.root == tree.root)
    }

    @Test("A builder reloaded from its partial tiles continues exactly as one that never stopped")
    func reload() throws {
        var generator = SeededGenerator(seed: 5)
        var original = StoredTileBuilder()
        var stored: [UInt64: [UInt8]] = [:]
        func store(_ level: Int, _ index: UInt64, _ tile: UnsafeRawBufferPointer) {
            stored[StoredTile.key(level: level, index: index)] = Array(tile)
        }
        var size: UInt64 = 0
        for _ in 0..<40 {
            let batch = UInt64.random(in: 1...3000, using: &generator)
            for leaf in size..<size + batch {
                try original.append(leafHash: RFC6962.leafHash(Array("\(leaf)".utf8)), completed: store)
            }
            size += batch
            try original.forEachPartialTile(store)
            let reloaded = try StoredTileBuilder(treeSize: size) { level, index in
                stored[StoredTile.key(level: level, index: index)].map { bytes in
                    bytes.withUnsafeBytes { UnsafeRawBufferPointer(start: $0.baseAddress, count: $0.count) }
                }
            }
            #expect(reloaded.frontier == original.frontier)
            var a: [[UInt8]] = []
            var b: [[UInt8]] = []
            try original.forEachPartialTile { a.append(Array($2)) }
            try reloaded.forEachPartialTile { b.append(Array($2)) }
            #expect(a == b)
            original = reloaded  // go on from the reloaded one
        }
        #expect(throws: MerkleStorageError.self) {
            _ = try StoredTileBuilder(treeSize: 300) { _, _ in nil }
        }
    }

    @Test("The tile reader serves each stored hash from its tile, and names a missing one")
    func reader() throws {
        var tree = InMemoryMerkleTree()
        var builder = StoredTileBuilder()
        var stored: [UInt64: [UInt8]] = [:]
        for leaf in 0..<1000 {
            let hash = RFC6962.leafHash(Array("\(leaf)".utf8))
            tree.append(leafHash: hash)
            try builder.append(leafHash: hash) { stored[StoredTile.key(level: $0, index: $1)] = Array($2) }
        }
        try builder.forEachPartialTile { stored[StoredTile.key(level: $0, index: $1)] = Array($2) }
        let buffers = stored.mapValues { bytes -> UnsafeRawBufferPointer in
            let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 8)
            copy.copyBytes(from: bytes)
            return UnsafeRawBufferPointer(copy)
        }
        defer { for buffer in buffers.values { buffer.deallocate() } }
        struct Source: StoredTileSource {
            let buffers: [UInt64: UnsafeRawBufferPointer]
            func storedTile(level: Int, index: UInt64) throws -> UnsafeRawBufferPointer? {
                buffers[StoredTile.key(level: level, index: index)]
            }
        }
        let reader = StoredTileHashReader(source: Source(buffers: buffers))
        let all = Array(0..<StoredHashIndex.count(treeSize: 1000))
        let want = try tree.readHashes(at: all.reversed())
        #expect(try reader.readHashes(at: all.reversed()) == want)
        let nodes = all.map { index in
            let (level, n) = StoredHashIndex.split(index)
            return MerkleNode(level: level, n: n)
        }
        #expect(try reader.readHashes(ofNodes: nodes) == (try tree.readHashes(ofNodes: nodes)))
        let beyond = StoredHashIndex.count(treeSize: 1000)
        let error = #expect(throws: MerkleStorageError.self) { try reader.readHashes(at: [3, beyond]) }
        #expect(error?.storedIndex == beyond)
    }
}
