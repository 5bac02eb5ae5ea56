// FuzzTilePath: C2SP tlog-tiles resource paths (`tile/<L>/<N>[.p/<W>]`, `tile/entries/<N>[.p/<W>]`) as the
// server's tile routes parse them, and entry bundles (CairnMerkle: `TileResource`, `MerkleTile`,
// `MerkleEntryBundle`).
//
// Oracles:
// - parse → format: an accepted path is its resource's `path`, and the three parsers agree on it;
// - format → parse: for a tile or bundle built from the input's bytes (level, index, width), its path parses
//   back to the same resource, and the arithmetic on it (`requiredTreeSize`, stored hash indexes, the tiles
//   of a tree) neither traps nor disagrees;
// - an entry bundle that decodes re-encodes to exactly the input bytes.
import CairnMerkle
import FuzzKit

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = bytes(data, size)
    if let path = String(validating: input, as: UTF8.self) {
        checkPath(path)
    }
    checkBuilt(input)
    if let entries = try? MerkleEntryBundle.decode(input) {
        oracle((try? MerkleEntryBundle.encode(entries)) == input, "the entry bundle does not re-encode to its input")
    }
    return 0
}

private func checkPath(_ path: String) {
    let resource = try? TileResource(path: path)
    let tile = try? MerkleTile(path: path)
    let bundle = try? MerkleEntryBundle(path: path)
    switch resource {
    case .hashes(let parsed)?:
        oracle(tile == parsed && bundle == nil, "the parsers disagree on hash tile \(path)")
        oracle(parsed.path == path, "hash tile path \(path) formats as \(parsed.path)")
        check(parsed)
    case .entries(let parsed)?:
        oracle(bundle == parsed && tile == nil, "the parsers disagree on entry bundle \(path)")
        oracle(parsed.path == path, "entry bundle path \(path) formats as \(parsed.path)")
        check(parsed)
    case nil:
        oracle(tile == nil && bundle == nil, "a tile parser accepted \(path), TileResource did not")
    }
}

private func checkBuilt(_ input: [UInt8]) {
    guard input.count >= 10 else { return }
    var index: UInt64 = 0
    for byte in input[2..<10] { index = index << 8 | UInt64(byte) }
    // Often small indexes, sometimes any: shift right by the low bits of the second byte.
    index >>= UInt64(input[1] & 0x3f)
    let width = Int(input[0]) + 1  // 1...256
    let level = Int(input[1] >> 6) + (input.count > 10 ? Int(input[10] & 0x04) : 0)  // 0...7
    if let tile = MerkleTile(level: level, index: index, width: width) {
        let parsed = try? TileResource(path: tile.path)
        oracle(parsed == .hashes(tile), "hash tile \(tile.path) does not parse back")
        check(tile)
    }
    if let bundle = MerkleEntryBundle(index: index, width: width) {
        let parsed = try? TileResource(path: bundle.path)
        oracle(parsed == .entries(bundle), "entry bundle \(bundle.path) does not parse back")
        check(bundle)
    }
    // The tiles of a tree of `index` leaves: the partial tile fits the tree exactly.
    let (full, partial) = MerkleTile.tiles(treeSize: index, level: level)
    if let partial {
        oracle(partial.index == full && partial.isPartial, "tiles(treeSize: \(index)) gives a bad partial tile")
        oracle(partial.requiredTreeSize <= index, "the partial tile of a tree of \(index) needs more leaves")
    }
    let (fullBundles, partialBundle) = MerkleEntryBundle.bundles(treeSize: index)
    if let partialBundle {
        oracle(partialBundle.index == fullBundles, "bundles(treeSize: \(index)) gives a bad partial bundle")
        oracle(partialBundle.requiredTreeSize == index, "the partial bundle of a tree of \(index) does not end it")
    }
}

private func check(_ tile: MerkleTile) {
    let required = tile.requiredTreeSize
    oracle(required > 0, "tile \(tile.path) needs no leaves")
    let stored = tile.storedHashIndexes
    oracle(stored.count == tile.width, "tile \(tile.path) has \(stored.count) stored hashes")
    oracle(zip(stored, stored.dropFirst()).allSatisfy { $0 < $1 }, "tile \(tile.path) stored hashes out of order")
}

private func check(_ bundle: MerkleEntryBundle) {
    oracle(bundle.requiredTreeSize == bundle.leafIndexes.upperBound, "bundle \(bundle.path) size mismatch")
    oracle(bundle.hashTile.requiredTreeSize == bundle.requiredTreeSize, "bundle \(bundle.path) and its tile differ")
}

private func seeds() -> [[UInt8]] {
    [
        "tile/0/000", "tile/0/x001/234", "tile/1/005.p/7", "tile/entries/000.p/1",
        "tile/entries/x018/x446/x744/x073/x709/x551/615.p/255",
        "tile/7/x035/x184/372/000", "tile/entries/x001/x234/067",
    ].map { Array($0.utf8) } + [[0, 3, 0x61, 0x62, 0x63, 0, 0, 0, 1, 0x7a]]
}

@_cdecl("FuzzTilePath_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    fuzzerMain(argc, argv, seeds: seeds) { fuzz($0, $1) }
}
