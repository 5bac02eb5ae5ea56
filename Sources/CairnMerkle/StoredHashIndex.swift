/// The numbering under which the hashes of a growing Merkle tree are stored (the "stored hash index" of Go's
/// golang.org/x/mod/sumdb/tlog).
///
/// Pure functions; thread-safe. The hash at *level* `L`, *index* `n` is the Merkle Tree Hash of the complete
/// subtree of leaves `[n·2^L, (n+1)·2^L)` (RFC 6962 section 2.1); level 0 holds the leaf hashes. Every such hash
/// gets one stored index. Appending leaf `m` stores its leaf hash `(0, m)` and then the hash of every subtree that
/// leaf completes, `(1, m/2)`, `(2, m/4)`, … — one per trailing 1 bit of `m` — at consecutive indexes
/// `count(treeSize: m) ..< count(treeSize: m + 1)`. So storage only ever appends, and the hashes of a tree of size
/// `s` are exactly the stored indexes below `count(treeSize: s)`: a store for a large tree serves every older tree.
///
/// Tree sizes are limited to `maxTreeSize` (2^63 − 1), which keeps every stored index below 2^64; the functions
/// trap on coordinates outside that domain (a programming error, not an input error).
public enum StoredHashIndex {
    /// The largest supported tree size, 2^63 − 1 (Go's `int64` limit).
    public static let maxTreeSize = UInt64(Int64.max)

    /// The stored index of the hash at (`level`, `n`). Requires `(n + 1)·2^level <= maxTreeSize`.
    public static func index(level: Int, n: UInt64) -> UInt64 {
        precondition(
            level >= 0 && level < 63 && n < maxTreeSize >> level,
            "subtree (level \(level), n \(n)) lies beyond the largest supported tree")
        // The hash is stored when its last leaf, `last`, is appended: after the `count(last)` hashes of the
        // smaller tree, the leaf hash of `last` and the `level - 1` hashes below it on the way up.
        let last = n << level | (1 << level - 1)
        return count(treeSize: last) + UInt64(level)
    }

    /// The (`level`, `n`) coordinates of the hash stored at `storedIndex`; the inverse of `index(level:n:)`.
    public static func split(_ storedIndex: UInt64) -> (level: Int, n: UInt64) {
        precondition(storedIndex < count(treeSize: maxTreeSize), "stored index \(storedIndex) is out of range")
        // Find the leaf `m` whose append stored this index: the largest m with count(m) <= storedIndex.
        // Since 2m - 64 < count(m) <= 2m, m is at most 32 steps above storedIndex / 2.
        var m = storedIndex / 2
        while count(treeSize: m + 1) <= storedIndex { m += 1 }
        // Appending leaf m stored (0, m), (1, m >> 1), (2, m >> 2), … from count(m) on.
        let level = Int(storedIndex - count(treeSize: m))
        return (level, m >> level)
    }

    /// The number of hashes stored for a tree of `treeSize` leaves: one per complete subtree,
    /// Σ_L ⌊treeSize / 2^L⌋ = 2·treeSize − popcount(treeSize).
    public static func count(treeSize: UInt64) -> UInt64 {
        precondition(treeSize <= maxTreeSize, "tree size \(treeSize) exceeds the largest supported size")
        return 2 * treeSize - UInt64(treeSize.nonzeroBitCount)
    }
}

/// A complete subtree: leaves `[n·2^level, (n+1)·2^level)`, whose hash is stored (see `StoredHashIndex`).
struct Subtree: Equatable {
    var level: Int
    var n: UInt64

    var storedIndex: UInt64 { StoredHashIndex.index(level: level, n: n) }

    /// The maximal complete subtrees that make up the leaves `range`, left to right (largest first).
    ///
    /// `range` must be a node of the RFC 6962 tree or a prefix of the whole tree, so that `range.lowerBound` is a
    /// multiple of the largest power of two not above `range.count`. Then, by RFC 6962 section 2.1,
    /// MTH(D[range]) is the right-to-left fold `node(h₀, node(h₁, … node(hₖ₋₁, hₖ)))` of their hashes: one
    /// subtree per set bit of `range.count`.
    static func decomposing(_ range: Range<UInt64>) -> [Subtree] {
        var result: [Subtree] = []
        decompose(range) { result.append($0) }
        return result
    }

    /// Calls `body` with each subtree of `decomposing(range)`, in order, without allocating.
    @inline(__always)
    static func decompose(_ range: Range<UInt64>, _ body: (Subtree) -> Void) {
        var start = range.lowerBound
        var remaining = range.upperBound - range.lowerBound
        while remaining != 0 {
            let level = UInt64.bitWidth - 1 - remaining.leadingZeroBitCount
            assert(start & (1 << level - 1) == 0, "\(range) is not a node of the tree")
            body(Subtree(level: level, n: start >> level))
            start += 1 << level
            remaining -= 1 << level
        }
    }
}
