import CairnMerkle
import Testing

@Suite("C2SP tlog-tiles paths and entry bundles")
struct MerkleTilePathTests {
    @Test("The spec's example: index 1234067 is x001/x234/067, for hash tiles and entry bundles")
    func specExample() throws {
        let tile = try MerkleTile(path: "tile/0/x001/x234/067")
        #expect(tile == MerkleTile(level: 0, index: 1_234_067))
        let partial = try MerkleTile(path: "tile/0/x001/x234/067.p/8")
        #expect(partial == MerkleTile(level: 0, index: 1_234_067, width: 8) && partial.isPartial)
        let bundle = try MerkleEntryBundle(path: "tile/entries/x001/x234/067")
        #expect(bundle == MerkleEntryBundle(index: 1_234_067) && !bundle.isPartial)
        #expect(bundle.leafIndexes == 315_921_152..<315_921_408 && bundle.requiredTreeSize == 315_921_408)
        #expect(MerkleEntryBundle(index: 1_234_067, width: 8)!.path == "tile/entries/x001/x234/067.p/8")
        #expect(try TileResource(path: "tile/entries/000.p/1") == .entries(MerkleEntryBundle(index: 0, width: 1)!))
        #expect(try TileResource(path: "tile/3/999") == .hashes(MerkleTile(level: 3, index: 999)!))
    }

    @Test("Every path round-trips: parse(path) is the value, for indexes around every group boundary")
    func roundTrip() throws {
        var indexes: [UInt64] = [0, 1, 9, 10, 99, 100, 255, 256, 999, 1000, 1001, 65_535, 999_999, 1_000_000]
        var power: UInt64 = 1000
        while power < UInt64.max / 1000 {
            indexes += [power - 1, power, power + 1]
            power *= 1000
        }
        for index in indexes {
            for width in [1, 2, 10, 99, 100, 255, 256] {
                if let bundle = MerkleEntryBundle(index: index, width: width) {
                    #expect(try MerkleEntryBundle(path: bundle.path) == bundle)
                }
                for level in 0..<8 {
                    guard let tile = MerkleTile(level: level, index: index, width: width) else { continue }
                    #expect(try MerkleTile(path: tile.path) == tile, "\(tile.path)")
                    #expect(try TileResource(path: tile.path).path == tile.path)
                }
            }
        }
        // The largest bundle: its last leaf is leaf 2^63 − 2 (a tree of 2^63 − 1 leaves).
        let last = try #require(MerkleEntryBundle(index: (UInt64(Int64.max) - 1) >> 8, width: 255))
        #expect(last.requiredTreeSize == UInt64(Int64.max))
        #expect(try MerkleEntryBundle(path: last.path) == last)
        #expect(MerkleEntryBundle(index: (UInt64(Int64.max) - 1) >> 8, width: 256) == nil)
    }

    @Test(
        "Malformed and non-canonical paths are refused as malformed",
        arguments: [
            // Structure.
            "", "tile", "tile/", "tile/0", "tile/0/", "/tile/0/000", "tile/0/000/", "tile//0/000", "tile/0//000",
            "tiles/0/000", "Tile/0/000", "tile/0/000?x", "tile/0/000#x", " tile/0/000", "tile/0/000 ",
            // Levels: no leading zeros, no signs, 0…63.
            "tile/00/000", "tile/01/000", "tile/+1/000", "tile/-1/000", "tile/64/000", "tile/100/000", "tile/a/000",
            "tile/data/000", "tile/ 0/000", "tile/0x1/000", "tile/entrie/000", "tile/ENTRIES/000", "tile/8/0/000",
            // Index groups: exactly 3 digits, x on all but the last, no leading x000.
            "tile/0/0", "tile/0/00", "tile/0/0000", "tile/0/x000", "tile/0/x001", "tile/0/001/234", "tile/0/x001/x234",
            "tile/0/x000/001", "tile/0/x000/x001/234", "tile/0/X001/234", "tile/0/xx01/234", "tile/0/x01/234",
            "tile/0/x0001/234", "tile/0/x001/23", "tile/0/1e3", "tile/0/+12", "tile/0/-12", "tile/0/ 12", "tile/0/12 ",
            "tile/0/０１２", "tile/0/%30%30%30", "tile/0/00\u{0}", "tile/entries/x000/000",
            // Partial widths: 1…255, no leading zeros, only on the last group.
            "tile/0/000.p/0", "tile/0/000.p/256", "tile/0/000.p/1000", "tile/0/000.p/01", "tile/0/000.p/+1",
            "tile/0/000.p/", "tile/0/000.p", "tile/0/000.p/1/2", "tile/0/000.P/1", "tile/0/000.q/1", "tile/0/000p/1",
            "tile/0/x001.p/234/5", "tile/0/x001/234.p/5.p/5", "tile/0/000.p/-1", "tile/entries/000.p/256",
            "tile/entries/000.p/00", "tile/0/000.p/1 ",
            // Traversal and other path tricks.
            "tile/0/../000", "tile/../0/000", "tile/0/000/..", "tile/0/./000", "tile/./0/000", "../tile/0/000",
            "tile/entries/../../etc/passwd", "tile/0/000.p/../../x", "tile/0/..%2f000", "tile\\0\\000", "tile/0/000\n",
            "tile/0/x001/../234", "tile/entries/x001/x..", "tile/0/.p/1",
        ])
    func malformed(path: String) {
        #expect(throws: TilePathError.self) { try TileResource(path: path) }
        do {
            _ = try TileResource(path: path)
        } catch {
            #expect(error.code == .malformed, "\(path.debugDescription): \(error.message)")
            #expect(error.message.hasPrefix("tile path "))
        }
    }

    @Test(
        "Well-formed paths beyond any tree of 2^63 − 1 leaves are out of range, not malformed",
        arguments: [
            "tile/8/000", "tile/63/000", "tile/7/000.p/128", "tile/1/x036/x028/x797/x018/x963/968",
            "tile/entries/x036/x028/x797/x018/x963/968", "tile/0/x018/x446/x744/x073/x709/x551/615",
            "tile/0/x999/x999/x999/x999/x999/x999/999", "tile/0/x001/x000/x000/x000/x000/x000/x000/000",
        ])
    func outOfRange(path: String) {
        do {
            _ = try TileResource(path: path)
            Issue.record("\(path) was accepted")
        } catch {
            #expect(error.code == .outOfRange, "\(path): \(error.message)")
        }
    }

    @Test("A path of one kind is refused by the other kind's parser")
    func kinds() {
        #expect(throws: TilePathError.self) { try MerkleTile(path: "tile/entries/000") }
        #expect(throws: TilePathError.self) { try MerkleEntryBundle(path: "tile/0/000") }
        #expect(throws: TilePathError.self) { try MerkleTile(path: String(repeating: "tile/0/", count: 40) + "000") }
    }

    @Test("Bundles: uint16 big-endian length then the bytes; the bundles of a tree follow the tile rules")
    func bundleFormat() throws {
        let entries: [[UInt8]] = [[], [0x41], Array(repeating: 7, count: 300), Array(repeating: 1, count: 65_535)]
        let bytes = try MerkleEntryBundle.encode(entries)
        #expect(bytes.count == 8 + 1 + 300 + 65_535)
        #expect(Array(bytes[0..<5]) == [0, 0, 0, 1, 0x41] && Array(bytes[5..<7]) == [0x01, 0x2c])
        #expect(Array(bytes[307..<309]) == [0xff, 0xff])
        #expect(try MerkleEntryBundle.decode(bytes) == entries)
        #expect(try MerkleEntryBundle.decode([]) == [])
        for cut in [1, 3, 6, 308, bytes.count - 1] {
            #expect(throws: EntryBundleError.self) {
                try MerkleEntryBundle.decode(Array(bytes[0..<cut]))
            }
        }
        do {
            _ = try MerkleEntryBundle.encode([[1], Array(repeating: 0, count: 65_536)], firstIndex: 512)
            Issue.record("a 65,536-byte entry was encoded")
        } catch {
            #expect(error.code == .entryTooLarge && error.entryIndex == 513)
            #expect(error.message.contains("entry 513 is 65536 bytes"))
        }
        #expect(MerkleEntryBundle.bundles(treeSize: 0) == (0, nil))
        #expect(MerkleEntryBundle.bundles(treeSize: 256) == (1, nil))
        #expect(MerkleEntryBundle.bundles(treeSize: 70_000) == (273, MerkleEntryBundle(index: 273, width: 112)))
        #expect(
            MerkleEntryBundle(index: 273, width: 112)!.hashTile == MerkleTile.tiles(treeSize: 70_000, level: 0).partial)
        #expect(MerkleEntryBundle(index: 0, width: 0) == nil && MerkleEntryBundle(index: 0, width: 257) == nil)
    }
}
