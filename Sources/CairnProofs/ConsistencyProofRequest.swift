import CairnCrypto
import CairnMerkle
import CairnNote

/// The body of a C2SP `tlog-witness` add-checkpoint request: a consistency proof from an old
/// tree size to a signed checkpoint. Cairn uses it as its consistency-proof file format, so a
/// proof can be posted to a witness unchanged.
///
/// ```
/// old 4
/// <base64 hash>            (zero to 63 lines)
///
/// <signed checkpoint of the new size, verbatim>
/// ```
public struct ConsistencyProofRequest: Sendable, Hashable {
    /// The C2SP limit on consistency proof lines.
    public static let maxHashes = 63

    /// The older tree size.
    public var oldSize: UInt64
    /// The consistency proof (RFC 9162 section 2.1.4); empty when `oldSize` is 0 or equals the new size.
    public var hashes: [SHA256Digest]
    /// The signed checkpoint of the new size.
    public var checkpoint: SignedCheckpoint

    public init(oldSize: UInt64, hashes: [SHA256Digest], checkpoint: SignedCheckpoint) {
        self.oldSize = oldSize
        self.hashes = hashes
        self.checkpoint = checkpoint
    }

    /// Parses the request body; errors name the offending line.
    public init(parsing bytes: [UInt8]) throws(ProofError) {
        let text = try ProofLines(bytes, format: "consistency proof")
        guard let first = text.lines.first else { throw ProofError.malformed(line: 1, "missing the old size line") }
        oldSize = try ProofLines.number(first, keyword: "old", lineNumber: 1)
        let (hashes, blank) = try text.hashes(from: 1, max: Self.maxHashes)
        self.hashes = hashes
        checkpoint = try text.checkpoint(after: blank)
    }

    /// The request body, ending in a newline.
    public var serialized: String {
        var out = "old \(oldSize)\n"
        for hash in hashes { out += hash.base64 + "\n" }
        return out + "\n" + checkpoint.serialized
    }

    /// Verifies that the log only grew from `oldCheckpoint` to this request's checkpoint: both
    /// are signed by `logKey`, `old` equals the old checkpoint's size, and the proof holds
    /// (RFC 9162 section 2.1.4.2; an empty old tree is consistent with every tree; equal sizes
    /// need equal roots). Returns the verified new checkpoint. Both origins must be `origin`, or
    /// the key's name when `origin` is nil.
    public func verify(
        oldCheckpoint: SignedCheckpoint, logKey: NoteVerifierKey, origin: String? = nil
    ) throws(ProofError) -> Checkpoint {
        let old = try verifyCheckpoint(oldCheckpoint, key: logKey, role: "old checkpoint", origin: origin)
        let new = try verifyCheckpoint(checkpoint, key: logKey, role: "new checkpoint", origin: origin)
        return try verifyConsistency(old: old, new: new)
    }

    /// The proof's part of ``verify(oldCheckpoint:logKey:origin:)``, once both checkpoints' signatures are
    /// verified: `old` must have the size `old N` names, and the proof must lead from its root to `new`'s.
    func verifyConsistency(old: Checkpoint, new: Checkpoint) throws(ProofError) -> Checkpoint {
        guard old.size == oldSize else {
            throw ProofError(
                .sizeMismatch, "the proof is from size \(oldSize) but the old checkpoint has size \(old.size)")
        }
        guard oldSize <= new.size else {
            throw ProofError(
                .sizeMismatch,
                "old size \(oldSize) is larger than the new checkpoint's size \(new.size): the log shrank")
        }
        if oldSize == 0 {
            guard old.rootHash == RFC6962.emptyRoot else {
                throw ProofError(.rootMismatch, "the old checkpoint has size 0 but not the empty tree's root")
            }
            guard hashes.isEmpty else {
                throw ProofError(
                    .wrongProofLength, "a proof from the empty tree must have no hashes, got \(hashes.count)")
            }
            return new
        }
        do {
            try MerkleVerifier.verifyConsistency(
                oldSize: oldSize, newSize: new.size, oldRoot: old.rootHash, newRoot: new.rootHash, proof: hashes)
        } catch {
            throw ProofError(error.proofCode, error.message)
        }
        return new
    }
}
