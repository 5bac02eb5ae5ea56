import CairnCrypto

/// Offline verification of inclusion and consistency proofs: RFC 9162 sections 2.1.3.2 and 2.1.4.2.
///
/// Stateless and thread-safe; no I/O. All inputs may be hostile: any size or index is handled without trapping.
/// Beyond the RFC, the policy is that of transparency-dev/merkle (and of the probe vectors):
/// - a consistency proof from old size 0 is an error (`.invalidSizes`), even between equal roots;
/// - from old size == new size, only the empty proof between equal roots verifies;
/// - a proof of the wrong length is rejected up front (`.wrongProofLength`), before any hashing.
public enum MerkleVerifier {
    /// Checks that `leafHash` is leaf `index` of the tree of size `treeSize` whose root is `root`
    /// (RFC 9162 section 2.1.3.2).
    public static func verifyInclusion(
        leafHash: SHA256Digest, index: UInt64, treeSize: UInt64, proof: [SHA256Digest], root: SHA256Digest
    ) throws(MerkleProofError) {
        let computed = try rootFromInclusionProof(leafHash: leafHash, index: index, treeSize: treeSize, proof: proof)
        guard computed == root else {
            throw .rootMismatch(
                "root mismatch: the inclusion proof for leaf \(index) in a tree of size \(treeSize) computes "
                    + "\(computed.hex), but the given root is \(root.hex)")
        }
    }

    /// The root that an inclusion proof for `leafHash` at `index` in a tree of size `treeSize` computes
    /// (RFC 9162 section 2.1.3.2, steps 1–4). Throws for an out-of-range index or a proof of the wrong length.
    public static func rootFromInclusionProof(
        leafHash: SHA256Digest, index: UInt64, treeSize: UInt64, proof: [SHA256Digest]
    ) throws(MerkleProofError) -> SHA256Digest {
        guard index < treeSize else { throw .indexOutOfRange(index: index, treeSize: treeSize) }
        let expected = inclusionProofLength(index: index, treeSize: treeSize)
        func wrongLength() -> MerkleProofError {
            .wrongProofLength(
                "an inclusion proof for leaf \(index) in a tree of size \(treeSize)", expected: expected,
                actual: proof.count, madeFor: "another leaf index or tree size")
        }
        guard proof.count == expected else { throw wrongLength() }
        var fn = index
        var sn = treeSize - 1
        var r = leafHash
        for p in proof {
            guard sn != 0 else { throw wrongLength() }  // Step 4a; unreachable after the length check.
            if fn & 1 == 1 || fn == sn {
                r = RFC6962.nodeHash(p, r)
                while fn & 1 == 0 && fn != 0 {
                    fn >>= 1
                    sn >>= 1
                }
            } else {
                r = RFC6962.nodeHash(r, p)
            }
            fn >>= 1
            sn >>= 1
        }
        guard sn == 0 else { throw wrongLength() }  // Step 5; unreachable after the length check.
        return r
    }

    /// Checks that the tree of size `newSize` with root `newRoot` extends the tree of size `oldSize` with root
    /// `oldRoot` (RFC 9162 section 2.1.4.2, with the policy above for old size 0 and equal sizes).
    public static func verifyConsistency(
        oldSize: UInt64, newSize: UInt64, oldRoot: SHA256Digest, newRoot: SHA256Digest, proof: [SHA256Digest]
    ) throws(MerkleProofError) {
        guard oldSize > 0, oldSize <= newSize else { throw .invalidSizes(oldSize: oldSize, newSize: newSize) }
        let expected = consistencyProofLength(oldSize: oldSize, newSize: newSize)
        func what() -> String { "the consistency proof from size \(oldSize) to size \(newSize)" }
        func wrongLength() -> MerkleProofError {
            .wrongProofLength(
                "a consistency proof from size \(oldSize) to size \(newSize)", expected: expected,
                actual: proof.count, madeFor: "other tree sizes")
        }
        guard proof.count == expected else { throw wrongLength() }
        if oldSize == newSize {
            guard oldRoot == newRoot else {
                throw .rootMismatch(
                    "root mismatch: trees of the same size \(oldSize) must have the same root, but the old root is "
                        + "\(oldRoot.hex) and the new root is \(newRoot.hex)")
            }
            return
        }
        // Steps 2 and 5: when the old size is a power of two, the old root is the implicit first path element.
        var path = proof[...]
        let first = oldSize & (oldSize - 1) == 0 ? oldRoot : path.removeFirst()
        var fn = oldSize - 1
        var sn = newSize - 1
        while fn & 1 == 1 {
            fn >>= 1
            sn >>= 1
        }
        var fr = first
        var sr = first
        for c in path {
            guard sn != 0 else { throw wrongLength() }  // Step 6a; unreachable after the length check.
            if fn & 1 == 1 || fn == sn {
                fr = RFC6962.nodeHash(c, fr)
                sr = RFC6962.nodeHash(c, sr)
                while fn & 1 == 0 && fn != 0 {
                    fn >>= 1
                    sn >>= 1
                }
            } else {
                sr = RFC6962.nodeHash(sr, c)
            }
            fn >>= 1
            sn >>= 1
        }
        guard sn == 0 else { throw wrongLength() }  // Step 7; unreachable after the length check.
        guard fr == oldRoot else {
            throw .rootMismatch(
                "old root mismatch: \(what()) computes old root \(fr.hex), but the given old root is \(oldRoot.hex)")
        }
        guard sr == newRoot else {
            throw .rootMismatch(
                "new root mismatch: \(what()) computes new root \(sr.hex), but the given new root is \(newRoot.hex)")
        }
    }

    /// The number of hashes in the inclusion proof for leaf `index` in a tree of size `treeSize`; requires
    /// `index < treeSize`.
    ///
    /// The leaf's path to the root and the last leaf's path share every level above the highest bit in which
    /// `index` and `treeSize − 1` differ. Below that ("inner" levels) every level has a sibling; above it the
    /// leaf is on the tree's right border, where only levels with a left sibling (set bits) count.
    public static func inclusionProofLength(index: UInt64, treeSize: UInt64) -> Int {
        precondition(index < treeSize, "leaf index \(index) is out of range for tree size \(treeSize)")
        let inner = UInt64.bitWidth - (index ^ (treeSize - 1)).leadingZeroBitCount
        let border = (index >> inner).nonzeroBitCount  // `>>` by 64 gives 0 in Swift
        return inner + border
    }

    /// The number of hashes in the consistency proof from `oldSize` to `newSize`; requires
    /// `0 < oldSize <= newSize`.
    ///
    /// The proof is the inclusion proof of the old tree's last complete subtree (`2^t` leaves, t = trailing
    /// zeros of `oldSize`) in the new tree, taken at that subtree's level, preceded by that subtree's hash
    /// unless it is the whole old tree (`oldSize` a power of two). Equal sizes take the empty proof.
    public static func consistencyProofLength(oldSize: UInt64, newSize: UInt64) -> Int {
        precondition(oldSize > 0 && oldSize <= newSize, "no consistency proof from \(oldSize) to \(newSize)")
        if oldSize == newSize { return 0 }
        let shift = oldSize.trailingZeroBitCount
        let path = inclusionProofLength(index: (oldSize - 1) >> shift, treeSize: (newSize - 1) >> shift + 1)
        return path + (oldSize >> shift == 1 ? 0 : 1)
    }
}
