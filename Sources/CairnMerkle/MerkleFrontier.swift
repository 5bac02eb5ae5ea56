import CairnCrypto

/// The right edge of a Merkle tree: the hashes of its maximal complete subtrees, enough to append leaves and to
/// compute the root without reading anything.
///
/// Value type, `Sendable`; confine a mutable copy to one writer. A tree of size `s` is, by RFC 6962 section 2.1,
/// the left-to-right sequence of complete subtrees given by the set bits of `s`, largest first; the frontier
/// keeps their hashes (at most 63). Appending a leaf merges the trailing equal-sized subtrees, exactly as the
/// stored-hash numbering does (see `StoredHashIndex`).
public struct MerkleFrontier: Sendable, Equatable {
    /// The number of leaves in the tree.
    public private(set) var treeSize: UInt64

    /// The hashes of the maximal complete subtrees, left (largest) to right (smallest): one per set bit of
    /// `treeSize`.
    public private(set) var subtreeHashes: [SHA256Digest]

    /// The frontier of the empty tree.
    public init() {
        treeSize = 0
        subtreeHashes = []
    }

    /// Loads the frontier of the tree of `treeSize` leaves with one `readHashes` call of at most 63 indexes.
    ///
    /// Throws what `reader` throws, or `MerkleProofError` (`.invalidSizes`) if `treeSize` exceeds
    /// `StoredHashIndex.maxTreeSize`.
    public init(treeSize: UInt64, reader: some HashReader) throws {
        try MerkleTree.checkTreeSize(treeSize)
        self.treeSize = treeSize
        subtreeHashes = try reader.readHashes(of: Subtree.decomposing(0..<treeSize))
    }

    /// The Merkle Tree Hash MTH(D[0:treeSize]) (RFC 6962 section 2.1): `RFC6962.emptyRoot` for the empty tree,
    /// else the right-to-left fold of `subtreeHashes`. Costs popcount(treeSize) − 1 hashes.
    public var root: SHA256Digest {
        guard var hash = subtreeHashes.last else { return RFC6962.emptyRoot }
        for left in subtreeHashes.dropLast().reversed() {
            hash = RFC6962.nodeHash(left, hash)
        }
        return hash
    }

    /// Appends leaf number `treeSize` and returns the hashes to store, in stored-index order, starting at stored
    /// index `StoredHashIndex.count(treeSize: treeSize)` (before the append): the leaf hash, then the hash of each
    /// subtree the leaf completes, bottom up.
    public mutating func append(leafHash: SHA256Digest) -> [SHA256Digest] {
        var hashes: [SHA256Digest] = []
        hashes.reserveCapacity(1 + treeSize.trailingOnes)
        append(leafHash: leafHash) { hashes.append($0) }
        return hashes
    }

    /// Appends leaf number `treeSize`, calling `store` with each hash to store, in stored-index order (see
    /// `append(leafHash:)`). Allocation-free in the steady state.
    ///
    /// If `store` throws, the error is passed on and the frontier is left unchanged.
    public mutating func append<E: Error>(
        leafHash: SHA256Digest, store: (SHA256Digest) throws(E) -> Void
    ) throws(E) {
        precondition(treeSize < StoredHashIndex.maxTreeSize, "the tree is at its largest supported size")
        var hash = leafHash
        try store(hash)
        // Leaf m completes one subtree per trailing 1 bit of m: each merges with the next frontier hash leftwards.
        let merged = treeSize.trailingOnes
        for i in 0..<merged {
            hash = RFC6962.nodeHash(subtreeHashes[subtreeHashes.count - 1 - i], hash)
            try store(hash)
        }
        subtreeHashes.removeLast(merged)
        subtreeHashes.append(hash)
        treeSize += 1
    }
}

extension UInt64 {
    /// The number of trailing 1 bits.
    var trailingOnes: Int { (~self).trailingZeroBitCount }
}
