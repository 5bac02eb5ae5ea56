import CairnCrypto
import CairnMerkle
import Testing

@Suite("C2SP tlog-tiles tile math")
struct MerkleTileTests {
    @Test("The tiles of a tree follow the tlog-tiles examples (sizes 70,000 and 256)")
    func specExamples() throws {
        // "a tree of size 70,000 will be represented by 273 full level 0 tiles, one partial level 0 tile of width
        // 112, one full level 1 tile, one partial level 1 tile of width 17, and one partial level 2 tile of width 1"
        let level0 = MerkleTile.tiles(treeSize: 70_000, level: 0)
        #expect(level0.fullCount == 273 && level0.partial == MerkleTile(level: 0, index: 273, width: 112))
        let level1 = MerkleTile.tiles(treeSize: 70_000, level: 1)
        #expect(level1.fullCount == 1 && level1.partial == MerkleTile(level: 1, index: 1, width: 17))
        let level2 = MerkleTile.tiles(treeSize: 70_000, level: 2)
        #expect(level2.fullCount == 0 && level2.partial == MerkleTile(level: 2, index: 0, width: 1))
        let level3 = MerkleTile.tiles(treeSize: 70_000, level: 3)
        #expect(level3.fullCount == 0 && level3.partial == nil)
        // "a tree of size 256 will be represented by a full level 0 tile and a partial level 1 tile of width 1"
        #expect(MerkleTile.tiles(treeSize: 256, level: 0) == (1, nil))
        #expect(MerkleTile.tiles(treeSize: 256, level: 1) == (0, MerkleTile(level: 1, index: 0, width: 1)))
    }

    @Test("Paths: 3-digit groups, all but the last prefixed with x, and .p/<W> for partial tiles")
    func paths() throws {
        #expect(try #require(MerkleTile(level: 0, index: 1_234_067)).path == "tile/0/x001/x234/067")
        #expect(try #require(MerkleTile(level: 2, index: 5, width: 17)).path == "tile/2/005.p/17")
        #expect(try #require(MerkleTile(level: 1, index: 1_000)).path == "tile/1/x001/000")
        #expect(try #require(MerkleTile(level: 0, index: 0)).description == "tile/0/000")
        #expect(MerkleTile(level: 0, index: 0, width: 0) == nil)
        #expect(MerkleTile(level: 0, index: 0, width: 257) == nil)
        #expect(MerkleTile(level: 8, index: 0, width: 1) == nil)
        #expect(MerkleTile(level: 7, index: 0, width: 128) == nil)  // would need 2^63 leaves
        #expect(MerkleTile(level: 7, index: 0, width: 127) != nil)
    }

    @Test("A tile's entries are the stored hashes MTH(D[(N·256 + i)·256^L ..< (N·256 + i + 1)·256^L])")
    func storedHashes() throws {
        let leaves = Fixture.leafHashes
        let size = UInt64(leaves.count)
        let full = try #require(MerkleTile(level: 0, index: 3))
        #expect(full.requiredTreeSize == 1024 && !full.isPartial)
        #expect(full.storedHashIndexes.map { Fixture.tree.storedHashes[Int($0)] } == Array(leaves[768..<1024]))
        let partial = try #require(MerkleTile.tiles(treeSize: size, level: 1).partial)
        #expect(partial == MerkleTile(level: 1, index: 0, width: 39) && partial.requiredTreeSize <= size)
        for (i, stored) in partial.storedHashIndexes.enumerated() {
            #expect(Fixture.tree.storedHashes[Int(stored)] == Naive.mth(leaves, i * 256..<(i + 1) * 256))
        }
        let last = try #require(MerkleTile.tiles(treeSize: size, level: 0).partial)
        #expect(last.index == 39 && last.width == 16 && last.requiredTreeSize == size)
    }
}
