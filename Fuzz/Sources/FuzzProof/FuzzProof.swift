// FuzzProof: the proof files `cairn verify inclusion --proof` and `cairn verify consistency --proof` read
// (CairnProofs: `TlogProof`, c2sp.org/tlog-proof; `ConsistencyProofRequest`, the tlog-witness body), and the
// Merkle verification behind them (CairnMerkle: `MerkleVerifier`).
//
// The seeds are valid proofs over a deterministic log of `FuzzLog.maxSize` entries, with checkpoints signed
// by the fuzzers' log key, so mutations of the index or the hashes keep a valid signature. Each input is
// tried as both formats. Oracles:
// - a parsed proof re-serializes to exactly the input bytes;
// - soundness: a proof that verifies for the deterministic log (through the signed-checkpoint API or
//   `MerkleVerifier` directly) is exactly the proof the tree produces, and verification through the API
//   agrees with verification of the same numbers by `MerkleVerifier`.
import CairnCrypto
import CairnMerkle
import CairnNote
import CairnProofs
import FuzzKit

/// Signed checkpoints of the deterministic log by size, made on first use (signing is slow).
nonisolated(unsafe) private var signedCheckpoints: [UInt64: SignedCheckpoint] = [:]

private func signedCheckpoint(size: UInt64) -> SignedCheckpoint {
    if let signed = signedCheckpoints[size] { return signed }
    let signed = FuzzKeys.signedCheckpoint(size: size, root: FuzzLog.roots[Int(size)])
    signedCheckpoints[size] = signed
    return signed
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = bytes(data, size)
    if let proof = try? TlogProof(parsing: input) {
        oracle(Array(proof.serialized.utf8) == input, "the tlog-proof does not re-serialize to its input")
        checkInclusion(proof)
    }
    if let request = try? ConsistencyProofRequest(parsing: input) {
        oracle(Array(request.serialized.utf8) == input, "the consistency proof does not re-serialize to its input")
        checkConsistency(request)
    }
    return 0
}

private func checkInclusion(_ proof: TlogProof) {
    let checkpoint = proof.checkpoint.checkpoint
    let entry = FuzzLog.entry(proof.index)
    let viaAPI = (try? proof.verify(entry: entry, logKey: FuzzKeys.logKey)) != nil
    let direct =
        (try? MerkleVerifier.verifyInclusion(
            leafHash: RFC6962.leafHash(entry), index: proof.index, treeSize: checkpoint.size, proof: proof.hashes,
            root: checkpoint.rootHash)) != nil
    if viaAPI { oracle(direct, "the API accepted an inclusion proof MerkleVerifier refuses") }
    guard direct, checkpoint.size <= FuzzLog.maxSize, checkpoint.rootHash == FuzzLog.roots[Int(checkpoint.size)]
    else { return }
    oracle(
        proof.hashes == FuzzLog.inclusionProof(index: proof.index, size: checkpoint.size),
        "an inclusion proof other than the tree's verified (index \(proof.index), size \(checkpoint.size))")
}

private func checkConsistency(_ request: ConsistencyProofRequest) {
    let checkpoint = request.checkpoint.checkpoint
    let oldSize = request.oldSize
    guard oldSize <= FuzzLog.maxSize else {
        // Still exercise the size arithmetic of the verifier.
        _ = try? MerkleVerifier.verifyConsistency(
            oldSize: oldSize, newSize: checkpoint.size, oldRoot: FuzzLog.roots[0], newRoot: checkpoint.rootHash,
            proof: request.hashes)
        return
    }
    let viaAPI = (try? request.verify(oldCheckpoint: signedCheckpoint(size: oldSize), logKey: FuzzKeys.logKey)) != nil
    let direct =
        (try? MerkleVerifier.verifyConsistency(
            oldSize: oldSize, newSize: checkpoint.size, oldRoot: FuzzLog.roots[Int(oldSize)],
            newRoot: checkpoint.rootHash, proof: request.hashes)) != nil
    if viaAPI {
        // From the empty tree (a witness's first checkpoint, `old 0`) the API needs no proof; MerkleVerifier
        // refuses size 0 (RFC 9162 defines no proof for it).
        oracle(
            oldSize == 0 ? request.hashes.isEmpty : direct,
            "the API accepted a consistency proof MerkleVerifier refuses")
    }
    guard direct, oldSize > 0, checkpoint.size <= FuzzLog.maxSize,
        checkpoint.rootHash == FuzzLog.roots[Int(checkpoint.size)]
    else { return }
    oracle(
        request.hashes == FuzzLog.consistencyProof(oldSize: oldSize, newSize: checkpoint.size),
        "a consistency proof other than the tree's verified (\(oldSize) to \(checkpoint.size))")
}

private func seeds() -> [[UInt8]] {
    var out: [String] = []
    for (index, size) in [(UInt64(0), UInt64(1)), (0, 2), (5, 8), (6, 7), (255, 256), (300, 513), (599, 600)] {
        let proof = TlogProof(
            index: index, hashes: FuzzLog.inclusionProof(index: index, size: size),
            checkpoint: FuzzKeys.signedCheckpoint(size: size, root: FuzzLog.roots[Int(size)]))
        out.append(proof.serialized)
    }
    let extra = TlogProof(
        index: 3, hashes: FuzzLog.inclusionProof(index: 3, size: 10),
        checkpoint: FuzzKeys.signedCheckpoint(size: 10, root: FuzzLog.roots[10], cosigners: 2), extra: [1, 2, 3])
    out.append(extra.serialized)
    for (old, new) in [(UInt64(1), UInt64(1)), (1, 2), (3, 7), (4, 8), (6, 8), (256, 600), (511, 512)] {
        let request = ConsistencyProofRequest(
            oldSize: old, hashes: FuzzLog.consistencyProof(oldSize: old, newSize: new),
            checkpoint: FuzzKeys.signedCheckpoint(size: new, root: FuzzLog.roots[Int(new)]))
        out.append(request.serialized)
    }
    return out.map { Array($0.utf8) }
}

@_cdecl("FuzzProof_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    fuzzerMain(argc, argv, seeds: seeds) { fuzz($0, $1) }
}
