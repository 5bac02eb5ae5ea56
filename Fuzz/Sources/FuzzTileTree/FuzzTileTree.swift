// FuzzTileTree: tiles and entry bundles as `cairn mirror` and `cairn monitor` receive them from a log they do not
// trust (CairnMirror: `TileTree`, specs/mirror.md §3), and the two state files they read back (`MirrorState`,
// `MonitorState`).
//
// The input chooses a tree size `s` (1…600) of the fuzzers' deterministic log, an older size `m` (0…s), one
// resource to replace — a tile of the right edge, a full tile that the root of `m` needs, or an entry bundle — and
// the replacement bytes (any length). Everything else is the log's true tiles. Oracles:
// - nothing traps, whatever the bytes, sizes and coordinates (arbitrary 64-bit sizes go through the geometry too);
// - soundness: every tile and bundle accepted is the true one, byte for byte (a fuzzer cannot find a SHA-256
//   collision), and once the right edge and the tiles needed are accepted, the root of `m` and the consistency proof
//   from `m` computed from them are the true ones;
// - the state files: whatever parses serializes to a file that parses to an equal state.
import CairnCrypto
import CairnMerkle
import CairnMirror
import FuzzKit

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = bytes(data, size)
    geometry(input)
    tiles(input)
    states(input)
    return 0
}

/// The log's true bytes of a tile at a width.
private func trueTile(_ tile: TileCoordinate, width: Int) -> [UInt8] {
    let indexes = (0..<UInt64(width)).map {
        StoredHashIndex.index(level: MerkleTile.height * tile.level, n: tile.index << 8 + $0)
    }
    return TileTree.bytes(try! FuzzLog.tree.readHashes(at: indexes))
}

private func trueBundle(_ index: UInt64, width: Int) -> [UInt8] {
    try! MerkleEntryBundle.encode((0..<UInt64(width)).map { FuzzLog.entry(index << 8 + $0) })
}

/// Geometry of arbitrary sizes and coordinates: widths, right edges and the tiles an older root needs.
private func geometry(_ input: [UInt8]) {
    guard input.count >= 17 else { return }
    var size: UInt64 = 0
    for byte in input[1..<9] { size = size << 8 | UInt64(byte) }
    var index: UInt64 = 0
    for byte in input[9..<17] { index = index << 8 | UInt64(byte) }
    let level = Int(input[0] % 10)
    let tile = TileCoordinate(level: level, index: index)
    if let width = TileTree.width(of: tile, treeSize: size) {
        oracle((1...256).contains(width) && level < 8, "width \(width) for \(tile) at size \(size)")
    }
    guard let tree = try? TileTree(size: size, root: .zero) else {
        oracle(size > StoredHashIndex.maxTreeSize, "size \(size) refused")
        return
    }
    for edge in tree.rightEdge {
        let width = tree.width(of: edge)
        oracle(
            width != nil && width! < 256, "the right edge of \(size) has \(edge) of width \(String(describing: width))")
    }
    let old = size == 0 ? 0 : index % (size + 1)
    _ = try? tree.tilesNeeded(forRootOf: old)
    if old > 0 { _ = try? tree.tilesNeeded(forConsistencyFrom: old) }
    _ = try? tree.rootHash(ofSize: old)
    _ = tree.authenticationChain(for: tile)
}

private func tiles(_ input: [UInt8]) {
    guard input.count >= 5 else { return }
    let size = 1 + (UInt64(input[0]) << 8 | UInt64(input[1])) % FuzzLog.maxSize
    let old = (UInt64(input[2]) << 8 | UInt64(input[3])) % (size + 1)
    let selector = Int(input[4])
    let replacement = Array(input.dropFirst(5))

    var tree = try! TileTree(size: size, root: FuzzLog.roots[Int(size)])
    // The right edge, one tile of it perhaps replaced.
    let edge = tree.rightEdge
    var partials: [TileCoordinate: [UInt8]] = [:]
    for tile in edge { partials[tile] = trueTile(tile, width: tree.width(of: tile)!) }
    if selector < 64, !edge.isEmpty {
        partials[edge[selector % edge.count]] = replacement
    }
    guard (try? tree.authenticateRightEdge(partials)) != nil else { return }
    for tile in edge {
        oracle(partials[tile] == trueTile(tile, width: tree.width(of: tile)!), "a forged right-edge tile was accepted")
    }

    // The tiles the root of `old` and the consistency proof need, one full tile perhaps replaced.
    var needed = (try? tree.tilesNeeded(forRootOf: old)) ?? []
    if old > 0 { needed += (try? tree.tilesNeeded(forConsistencyFrom: old)) ?? [] }
    var complete = true
    var chainNumber = 0
    for tile in needed {
        for link in tree.authenticationChain(for: tile) {
            var bytes = trueTile(link, width: 256)
            if selector >= 64 && selector < 128 && chainNumber == selector - 64 { bytes = replacement }
            chainNumber += 1
            if (try? tree.authenticate(link, bytes: bytes, keep: true)) != nil {
                oracle(bytes == trueTile(link, width: 256), "a forged full tile \(link) was accepted")
            } else {
                complete = false
            }
        }
    }
    if complete {
        oracle((try? tree.rootHash(ofSize: old)) == FuzzLog.roots[Int(old)], "the root of \(old) from tiles is wrong")
        if old > 0 {
            oracle(
                (try? tree.consistencyProof(from: old)) == FuzzLog.consistencyProof(oldSize: old, newSize: size),
                "the consistency proof from \(old) to \(size) from tiles is wrong")
        }
    }

    // An entry bundle of the tree, perhaps replaced, against its authenticated level-0 tile.
    if selector >= 128 {
        let index = UInt64(selector - 128) % (size / 256 + 1)
        let tile = TileCoordinate(level: 0, index: index)
        guard let width = tree.width(of: tile) else { return }
        if width == 256 {
            for link in tree.authenticationChain(for: tile) {
                guard (try? tree.authenticate(link, bytes: trueTile(link, width: 256), keep: true)) != nil else {
                    oracle(false, "the true tile \(link) was refused")
                    return
                }
            }
        }
        guard let hashes = tree.hashes(of: tile) else { return }
        if let entries = try? TileTree.checkBundle(replacement, leafHashes: hashes[...], path: "bundle") {
            oracle(replacement == trueBundle(index, width: width), "a forged bundle was accepted")
            oracle(entries.count == width, "a bundle of \(entries.count) entries was accepted for \(width)")
        }
        oracle(
            (try? TileTree.checkBundle(trueBundle(index, width: width), leafHashes: hashes[...], path: "b")) != nil,
            "the true bundle was refused")
    }
}

private func states(_ input: [UInt8]) {
    if let state = try? MirrorState(parsing: input, path: "state.json") {
        oracle(
            (try? MirrorState(parsing: state.serialized, path: "state.json")) == state,
            "a mirror state does not survive a round trip")
    }
    if let state = try? MonitorState(parsing: input, path: "state.json") {
        oracle(
            (try? MonitorState(parsing: state.serialized, path: "state.json")) == state,
            "a monitor state does not survive a round trip")
    }
}

private func seeds() -> [[UInt8]] {
    var seeds: [[UInt8]] = []
    // Sizes around tile boundaries, each with a true tile as the replacement (accepted) and a damaged one.
    for (size, old): (UInt64, UInt64) in [(600, 300), (512, 256), (257, 256), (300, 1), (599, 598)] {
        var tree = try! TileTree(size: size, root: FuzzLog.roots[Int(size)])
        let header: [UInt8] = [UInt8((size - 1) >> 8), UInt8((size - 1) & 0xff), UInt8(old >> 8), UInt8(old & 0xff)]
        if let edge = tree.rightEdge.first {
            let good = trueTile(edge, width: tree.width(of: edge)!)
            seeds.append(header + [0] + good)
            seeds.append(header + [0] + good.dropLast())
        }
        var edgeTiles: [TileCoordinate: [UInt8]] = [:]
        for tile in tree.rightEdge { edgeTiles[tile] = trueTile(tile, width: tree.width(of: tile)!) }
        try! tree.authenticateRightEdge(edgeTiles)
        seeds.append(header + [64] + trueTile(TileCoordinate(level: 0, index: 0), width: 256))
        seeds.append(header + [128] + trueBundle(0, width: min(256, Int(size))))
        seeds.append(header + [129] + trueBundle(1, width: Int(size) > 512 ? 256 : max(1, Int(size) - 256)))
    }
    var state = MirrorState(url: "https://log.example/", origin: "fuzz.example/log")
    state.checkpoint = FuzzKeys.signedCheckpoint(size: 3, root: FuzzLog.roots[3], cosigners: 1).serialized
    state.unservableBundles = [.init(path: "tile/entries/000", reason: "entry 1 is 70010 bytes")]
    seeds.append(state.serialized)
    var monitor = MonitorState(
        url: "https://log.example/", vkey: FuzzKeys.logKey.description, origin: "fuzz.example/log", startedAt: 1)
    monitor.last = FuzzKeys.signedCheckpoint(size: 3, root: FuzzLog.roots[3], cosigners: 1).serialized
    monitor.history = [.init(size: 3, root: FuzzLog.roots[3], witnesses: ["w"], firstSeen: 2)]
    monitor.counters = ["ok": 1, "rounds": 1]
    seeds.append(monitor.serialized)
    return seeds
}

@_cdecl("FuzzTileTree_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    fuzzerMain(argc, argv, seeds: seeds) { fuzz($0, $1) }
}
