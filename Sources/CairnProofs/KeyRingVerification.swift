import CairnCrypto
import CairnMerkle
import CairnNote

// Verification against a log's keys over its life (`LogKeyRing`, specs/key-rotation.md): a checkpoint counts when
// a key valid at its tree size signed it, so a proof issued before a key rotation verifies with the old key, and
// one issued after with the new key — both from the one vkey a verifier pinned, through the key history.

extension CheckpointVerifier {
    /// Parses `bytes` as a signed checkpoint and verifies it with the key of `keyRing` valid at its tree size.
    /// Returns the checkpoint.
    public static func verify(
        _ bytes: [UInt8], keyRing: LogKeyRing, origin: String? = nil
    ) throws(ProofError) -> Checkpoint {
        let signed: SignedCheckpoint
        do {
            signed = try SignedCheckpoint(parsing: bytes)
        } catch {
            throw ProofError(.malformed, error.message)
        }
        return try verifyCheckpoint(signed, keyRing: keyRing, role: "checkpoint", origin: origin)
    }
}

extension TlogProof {
    /// Verifies the proof for the entry bytes `entry` with the key of `keyRing` valid at the checkpoint's size.
    public func verify(
        entry: [UInt8], keyRing: LogKeyRing, origin: String? = nil
    ) throws(ProofError) -> Checkpoint {
        let verified = try verifyCheckpoint(checkpoint, keyRing: keyRing, role: "checkpoint", origin: origin)
        do {
            try MerkleVerifier.verifyInclusion(
                leafHash: RFC6962.leafHash(entry), index: index, treeSize: verified.size, proof: hashes,
                root: verified.rootHash)
        } catch {
            throw ProofError(error.proofCode, error.message)
        }
        return verified
    }
}

extension ConsistencyProofRequest {
    /// Verifies that the log grew consistently from `oldCheckpoint` to this request's checkpoint, each signed by
    /// a key of `keyRing` valid at its own size (the old one may predate a rotation, the new one follow it).
    public func verify(
        oldCheckpoint: SignedCheckpoint, keyRing: LogKeyRing, origin: String? = nil
    ) throws(ProofError) -> Checkpoint {
        let old = try verifyCheckpoint(oldCheckpoint, keyRing: keyRing, role: "old checkpoint", origin: origin)
        let new = try verifyCheckpoint(checkpoint, keyRing: keyRing, role: "new checkpoint", origin: origin)
        return try verifyConsistency(old: old, new: new)
    }
}

/// Verifies `signed` with `keyRing` and maps note errors onto proof errors, as `verifyCheckpoint(_:key:…)` does.
func verifyCheckpoint(
    _ signed: SignedCheckpoint, keyRing: LogKeyRing, role: String, origin: String? = nil
) throws(ProofError) -> Checkpoint {
    do {
        return try keyRing.verify(signed, origin: origin).checkpoint
    } catch {
        switch error.code {
        case .badSignature:
            throw ProofError(.badSignature, "\(role): \(error.message)")
        case .originMismatch:
            let name = keyRing.members.first?.key.name ?? ""
            let expected = origin.map { "the expected origin \"\($0)\" (--origin)" } ?? "the log key's name \"\(name)\""
            throw ProofError(
                .originMismatch, "\(role): origin \"\(signed.checkpoint.origin)\" does not match \(expected)")
        case .unknownKey, .noVerifiedSignature:
            throw ProofError(.wrongKey, "\(role): wrong key: \(error.message)")
        default:
            throw ProofError(.malformed, "\(role): \(error.message)")
        }
    }
}
