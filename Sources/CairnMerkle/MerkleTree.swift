import CairnCrypto

/// Root hashes and proofs for a tree whose hashes are kept under `StoredHashIndex` numbering.
///
/// Stateless; each function reads what it needs with a single `HashReader.readHashes` call of O(log n) indexes
/// and never recomputes a stored subtree. A tree of size `s` uses only stored indexes below
/// `StoredHashIndex.count(treeSize: s)`, so proofs for older tree sizes can be served from a grown store.
///
/// Each function throws `MerkleProofError` for arguments that name no proof (see each), and otherwise passes on
/// what the reader throws (for example `MerkleStorageError`).
public enum MerkleTree {
    /// The Merkle Tree Hash MTH(D[0:treeSize]) (RFC 6962 section 2.1), from at most 63 stored hashes.
    public static func root(treeSize: UInt64, reader: some HashReader) throws -> SHA256Digest {
        try MerkleFrontier(treeSize: treeSize, reader: reader).root
    }

    /// The inclusion proof PATH(index, D[0:treeSize]) (RFC 9162 section 2.1.3.1; RFC 6962 section 2.1.1), leaf
    /// end first. Throws `.indexOutOfRange` unless `index < treeSize`.
    ///
    /// `rightEdge`, when it is the right edge of this `treeSize`, supplies the hashes of ranges ending at the
    /// last leaf instead of reading and folding them; the proof is the same.
    public static func inclusionProof(
        index: UInt64, treeSize: UInt64, reader: some HashReader, rightEdge: MerkleRightEdge? = nil
    ) throws -> [SHA256Digest] {
        guard index < treeSize else { throw MerkleProofError.indexOutOfRange(index: index, treeSize: treeSize) }
        try checkTreeSize(treeSize)
        // Walk down from the root; at each node [lo, hi) with k the largest power of two below hi - lo, the proof
        // gets the hash of the child not containing the leaf. The walk collects them root end first.
        var ranges: [Range<UInt64>] = []
        var lo: UInt64 = 0
        var hi = treeSize
        while hi - lo > 1 {
            let k = largestPowerOfTwo(below: hi - lo)
            if index < lo + k {
                ranges.append(lo + k..<hi)
                hi = lo + k
            } else {
                ranges.append(lo..<lo + k)
                lo += k
            }
        }
        return try hashes(
            of: ranges.reversed(), reader: reader, rightEdge: rightEdge?.treeSize == treeSize ? rightEdge : nil)
    }

    /// The consistency proof PROOF(oldSize, D[0:newSize]) (RFC 9162 section 2.1.4.1; RFC 6962 section 2.1.2),
    /// empty when the sizes are equal. Throws `.invalidSizes` unless `0 < oldSize <= newSize`. `rightEdge` as
    /// for `inclusionProof`, for `newSize`.
    public static func consistencyProof(
        oldSize: UInt64, newSize: UInt64, reader: some HashReader, rightEdge: MerkleRightEdge? = nil
    ) throws -> [SHA256Digest] {
        guard oldSize > 0, oldSize <= newSize else {
            throw MerkleProofError.invalidSizes(oldSize: oldSize, newSize: newSize)
        }
        try checkTreeSize(newSize)
        // SUBPROOF(m, D[lo:hi], b) unrolled: walk down from the root while the old tree's edge (leaf oldSize)
        // falls strictly inside the node. `complete` is the RFC's b: the node is still the whole old tree.
        var ranges: [Range<UInt64>] = []
        var lo: UInt64 = 0
        var hi = newSize
        var complete = true
        while oldSize != hi {
            let k = largestPowerOfTwo(below: hi - lo)
            if oldSize <= lo + k {
                ranges.append(lo + k..<hi)
                hi = lo + k
            } else {
                ranges.append(lo..<lo + k)
                lo += k
                complete = false
            }
        }
        // Here [lo, hi) is a node the old and new trees share. Unless it is the whole old tree (whose root the
        // verifier already has), its hash starts the proof.
        if !complete {
            ranges.append(lo..<hi)
        }
        return try hashes(
            of: ranges.reversed(), reader: reader, rightEdge: rightEdge?.treeSize == newSize ? rightEdge : nil)
    }

    /// MTH(D[range]) for each range, with one read of all the stored subtree hashes involved. The
    /// subtrees of all ranges go in one flat list (a proof allocates a few arrays, not one per range).
    /// Ranges whose hash `rightEdge` holds are neither read nor folded.
    static func hashes(
        of ranges: some Collection<Range<UInt64>>, reader: some HashReader, rightEdge: MerkleRightEdge? = nil
    ) throws -> [SHA256Digest] {
        var indexes: [MerkleNode] = []
        indexes.reserveCapacity(ranges.count * 2)
        // Per range: how many stored hashes it folds, or -1 when `known` holds its hash.
        var counts: [Int] = []
        counts.reserveCapacity(ranges.count)
        var known: [SHA256Digest] = []
        for range in ranges {
            if let hash = rightEdge?.hash(of: range) {
                known.append(hash)
                counts.append(-1)
                continue
            }
            let before = indexes.count
            Subtree.decompose(range) { indexes.append(MerkleNode(level: $0.level, n: $0.n)) }
            counts.append(indexes.count - before)
        }
        let stored = indexes.isEmpty ? [] : try reader.readHashes(ofNodes: indexes)
        guard stored.count == indexes.count else {
            throw MerkleStorageError.wrongHashCount(requested: indexes.count, returned: stored.count)
        }
        var result: [SHA256Digest] = []
        result.reserveCapacity(counts.count)
        var end = 0
        var nextKnown = 0
        for count in counts {
            if count < 0 {
                result.append(known[nextKnown])
                nextKnown += 1
                continue
            }
            end += count
            // Right-to-left fold, RFC 6962 section 2.1.
            var hash = stored[end - 1]
            var position = end - 2
            while position >= end - count {
                hash = RFC6962.nodeHash(stored[position], hash)
                position -= 1
            }
            result.append(hash)
        }
        return result
    }

    /// The largest power of two strictly less than `n` (the RFC's k); requires n > 1.
    static func largestPowerOfTwo(below n: UInt64) -> UInt64 {
        1 << (UInt64.bitWidth - 1 - (n - 1).leadingZeroBitCount)
    }

    static func checkTreeSize(_ treeSize: UInt64) throws(MerkleProofError) {
        guard treeSize <= StoredHashIndex.maxTreeSize else { throw MerkleProofError.treeTooLarge(treeSize) }
    }
}
