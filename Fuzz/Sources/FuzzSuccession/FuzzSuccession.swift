// FuzzSuccession: a successor log's first entry as `cairn verify successor` reads it (CairnLedger:
// `PredecessorRecord(entry:)`, then `verify(with:)`, specs/sealing.md), and the seal entries inside it
// (`SealRecord(entry:)`).
//
// The generated seeds are the predecessor records of the fuzzers' log sealed after 5 entries (the seal is entry 5,
// size 6) — the checkpoint signed by the fuzzers' log key, the seal proof valid — and of a log sealed as its only
// entry (an empty proof), so mutations reach the checks behind the signature.
//
// Oracles:
// - never traps;
// - a parsed record serializes (`json`, canonical) to bytes that parse to an equal record;
// - soundness: a record that verifies with the log key describes exactly the seeds' final state — the size, the
//   root and the seal that the key signed: no mutation can move the end of the log or change its seal.
import CairnCrypto
import CairnJSON
import CairnLedger
import CairnMerkle
import CairnNote
import FuzzKit

private struct Sealed {
    let record: PredecessorRecord
    let size: UInt64
    let root: SHA256Digest
    let seal: [UInt8]
}

/// The fuzzers' log with `entries` ordinary entries, then sealed.
private func sealed(after entries: Int) -> Sealed {
    var tree = InMemoryMerkleTree()
    for index in 0..<entries { tree.append(entry: FuzzLog.entry(UInt64(index))) }
    let seal = try! JCS.canonicalize(
        SealRecord(origin: FuzzKeys.logName, at: "2026-12-31T23:59:59Z", author: "fuzz", reason: "sealed").json)
    tree.append(entry: seal)
    let size = UInt64(entries + 1)
    let checkpoint = try! SignedCheckpoint.sign(
        Checkpoint(origin: FuzzKeys.logName, size: size, rootHash: tree.root), with: FuzzKeys.logSigner)
    let record = PredecessorRecord(
        origin: FuzzKeys.logName, vkey: FuzzKeys.logKey, checkpoint: checkpoint.serialized, sealEntry: seal,
        sealProof: try! MerkleTree.inclusionProof(index: size - 1, treeSize: size, reader: tree),
        at: "2027-01-01T00:00:00Z", author: "fuzz")
    return Sealed(record: record, size: size, root: tree.root, seal: seal)
}

private let seeded = [sealed(after: 5), sealed(after: 0)]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = bytes(data, size)
    _ = try? SealRecord(entry: input)
    guard let parsed = try? PredecessorRecord(entry: input) else { return 0 }
    let again = try? PredecessorRecord(entry: try JCS.canonicalize(parsed.json))
    oracle(again == parsed, "a parsed predecessor record does not survive its own serialization")
    guard let link = try? parsed.verify(with: FuzzKeys.logKey) else { return 0 }
    oracle(
        seeded.contains {
            $0.size == link.checkpoint.size && $0.root == link.checkpoint.rootHash && $0.seal == parsed.sealEntry
        },
        "a link verified for size \(link.checkpoint.size), which the log key never sealed at")
    return 0
}

private func seeds() -> [[UInt8]] {
    seeded.map { try! JCS.canonicalize($0.record.json) }
}

@_cdecl("FuzzSuccession_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    fuzzerMain(argc, argv, seeds: seeds) { fuzz($0, $1) }
}
