import CairnCrypto

/// The hashes of a tree's right edge, folded once: MTH(D[lo:size]) for every `lo` where a maximal complete
/// subtree of the tree starts.
///
/// Every proof against a tree of `size` leaves that walks down its right edge needs some of these: the ranges
/// `[lo, size)` of an inclusion or consistency proof that end at the tree's last leaf are exactly these, and
/// each otherwise costs reading the right edge's subtrees (from partial stored tiles) and up to
/// popcount(size) − 1 node hashes. A log keeps the right edge of its latest published size and passes it to
/// `MerkleTree`'s proofs; the proofs are byte-identical with or without it.
///
/// Value type, `Sendable`, immutable.
public struct MerkleRightEdge: Sendable, Equatable {
    /// The tree size this right edge belongs to.
    public let treeSize: UInt64
    /// Where each maximal complete subtree starts, left to right (one per set bit of `treeSize`).
    let starts: [UInt64]
    /// MTH(D[starts[i]:treeSize]) for each i; the first is the tree's root.
    let suffixHashes: [SHA256Digest]

    /// The right edge of the tree `frontier` describes.
    public init(_ frontier: MerkleFrontier) {
        treeSize = frontier.treeSize
        var starts: [UInt64] = []
        starts.reserveCapacity(frontier.subtreeHashes.count)
        var start: UInt64 = 0
        var bit = UInt64.bitWidth - 1
        while start < treeSize {
            while treeSize & (1 << bit) == 0 { bit -= 1 }
            starts.append(start)
            start += 1 << bit
            bit -= 1
        }
        var suffixes = frontier.subtreeHashes
        if suffixes.count > 1 {
            for i in stride(from: suffixes.count - 2, through: 0, by: -1) {
                suffixes[i] = RFC6962.nodeHash(suffixes[i], suffixes[i + 1])
            }
        }
        self.starts = starts
        suffixHashes = suffixes
    }

    /// The root hash MTH(D[0:treeSize]) (`RFC6962.emptyRoot` for the empty tree).
    public var root: SHA256Digest { suffixHashes.first ?? RFC6962.emptyRoot }

    /// MTH(D[range]) when `range` ends at the tree's last leaf and starts where a maximal complete subtree does;
    /// nil otherwise.
    func hash(of range: Range<UInt64>) -> SHA256Digest? {
        guard range.upperBound == treeSize else { return nil }
        // The subtrees before `lo` are one per set bit of `lo`, when `lo` is such a start.
        let position = range.lowerBound.nonzeroBitCount
        guard position < starts.count, starts[position] == range.lowerBound else { return nil }
        return suffixHashes[position]
    }
}
