import CairnCrypto
import CairnMerkle
import CairnTestSupport
import Foundation

/// Test vectors under Tests/Vectors/merkle, found relative to this file.
enum Vectors {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Vectors/merkle")

    static func load<T: Decodable>(_ type: T.Type, _ name: String) throws -> T {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(T.self, from: Data(contentsOf: directory.appendingPathComponent(name)))
    }
}

/// Independent reference implementation, straight from the recursive definitions of RFC 6962 section 2.1
/// (MTH), 2.1.1 (PATH) and 2.1.2 (PROOF / SUBPROOF), over leaf hashes `d`. Slow on purpose: no stored hashes,
/// no bit tricks.
enum Naive {
    /// The largest power of two strictly less than n (n > 1).
    static func k<T: BinaryInteger>(_ n: T) -> T {
        var k: T = 1
        while n - k > k { k *= 2 }  // k * 2 < n, without overflowing
        return k
    }

    /// MTH(D[range]), where `d` holds leaf hashes: MTH({d}) = leaf hash, MTH(D[n]) = node(MTH(D[0:k]), MTH(D[k:n])).
    static func mth(_ d: [SHA256Digest], _ range: Range<Int>) -> SHA256Digest {
        switch range.count {
        case 0: return SHA256.hash([])
        case 1: return d[range.lowerBound]
        default:
            let split = range.lowerBound + k(range.count)
            return SHA256.hash([0x01] + mth(d, range.lowerBound..<split).bytes + mth(d, split..<range.upperBound).bytes)
        }
    }

    /// PATH(m, D[range]) (RFC 6962 section 2.1.1), m relative to the range.
    static func path(_ m: Int, _ d: [SHA256Digest], _ range: Range<Int>) -> [SHA256Digest] {
        let n = range.count
        if n == 1 { return [] }
        let split = range.lowerBound + k(n)
        if m < k(n) {
            return path(m, d, range.lowerBound..<split) + [mth(d, split..<range.upperBound)]
        }
        return path(m - k(n), d, split..<range.upperBound) + [mth(d, range.lowerBound..<split)]
    }

    /// PROOF(m, D[n]) = SUBPROOF(m, D[n], true) (RFC 6962 section 2.1.2).
    static func proof(_ m: Int, _ d: [SHA256Digest], _ n: Int) -> [SHA256Digest] {
        subproof(m, d, 0..<n, true)
    }

    static func subproof(_ m: Int, _ d: [SHA256Digest], _ range: Range<Int>, _ b: Bool) -> [SHA256Digest] {
        let n = range.count
        if m == n { return b ? [] : [mth(d, range)] }
        let split = range.lowerBound + k(n)
        if m <= k(n) {
            return subproof(m, d, range.lowerBound..<split, b) + [mth(d, split..<range.upperBound)]
        }
        return subproof(m - k(n), d, split..<range.upperBound, false) + [mth(d, range.lowerBound..<split)]
    }

    /// Where each inclusion proof hash sits relative to the running hash.
    enum Side: Equatable { case leftSibling, rightSibling }

    /// The shape of PATH(m, D[n]): the side of each sibling, leaf end first; nil if there is no proof (m >= n).
    /// An RFC 9162 verifier's result depends on (index, size) only through this shape.
    static func inclusionShape(_ m: UInt64, _ n: UInt64) -> [Side]? {
        guard m < n else { return nil }
        if n == 1 { return [] }
        let k = Self.k(n)
        return m < k ? inclusionShape(m, k)! + [.rightSibling] : inclusionShape(m - k, n - k)! + [.leftSibling]
    }

    /// How each consistency proof hash is used: the shared subtree it starts from, a left sibling (inside both
    /// trees) or a right sibling (in the new tree only).
    enum Step: Equatable { case seed, leftSibling, rightSibling }

    /// The shape of PROOF(m, D[n]) following SUBPROOF; nil where the verification policy has no proof
    /// (m == 0 or m > n). An RFC 9162 verifier's result depends on the sizes only through this shape.
    static func consistencyShape(_ m: UInt64, _ n: UInt64) -> [Step]? {
        guard m > 0, m <= n else { return nil }
        func sub(_ m: UInt64, _ n: UInt64, _ b: Bool) -> [Step] {
            if m == n { return b ? [] : [.seed] }
            let k = Self.k(n)
            return m <= k ? sub(m, k, b) + [.rightSibling] : sub(m - k, n - k, false) + [.leftSibling]
        }
        return sub(m, n, true)
    }
}

/// A reader that records what it is asked, to check read counts and that a tree of size s reads only stored
/// indexes below count(treeSize: s).
final class RecordingReader: HashReader {
    let base: InMemoryMerkleTree
    private(set) var calls: [[UInt64]] = []

    init(_ base: InMemoryMerkleTree) { self.base = base }

    func readHashes(at indexes: [UInt64]) throws -> [SHA256Digest] {
        calls.append(indexes)
        return try base.readHashes(at: indexes)
    }
}

/// Shared trees, built once.
enum Fixture {
    /// The leaf hashes of entries "leaf 0", "leaf 1", … .
    static let leafHashes: [SHA256Digest] = (0..<10_000).map { RFC6962.leafHash(Array("leaf \($0)".utf8)) }

    /// A tree of all of `leafHashes`; serves every smaller tree size too.
    static let tree: InMemoryMerkleTree = {
        var tree = InMemoryMerkleTree()
        for hash in leafHashes { tree.append(leafHash: hash) }
        return tree
    }()
}

extension SHA256Digest {
    /// This digest with bit `bit` (0 = most significant bit of byte 0) inverted.
    func flipping(bit: Int) -> SHA256Digest {
        var bytes = self.bytes
        bytes[bit / 8] ^= 0x80 >> UInt8(bit % 8)
        return SHA256Digest(bytes: bytes)!
    }
}
