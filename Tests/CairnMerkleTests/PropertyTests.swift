import CairnCrypto
import CairnMerkle
import CairnTestSupport
import Foundation
import Testing

/// Property tests over the shared 10,000-leaf tree, driven by a printed seed.
///
/// Rerun a failure with `CAIRN_MERKLE_SEED=<seed> swift test --filter PropertyTests`.
@Suite("Property: generated proofs verify, and single-bit mutations are rejected")
struct PropertyTests {
    static let seed: UInt64 = {
        let seed =
            ProcessInfo.processInfo.environment["CAIRN_MERKLE_SEED"].flatMap { UInt64($0) }
            ?? UInt64.random(in: 0...UInt64.max)
        print("PropertyTests seed: \(seed) (rerun with CAIRN_MERKLE_SEED=\(seed))")
        return seed
    }()

    /// Fixed tree sizes (powers of two and their neighbours), then sizes drawn from the seed.
    static let fixedSizes: [UInt64] = [
        1, 2, 3, 5, 7, 8, 9, 255, 256, 257, 1_023, 1_024, 1_025, 8_191, 8_192, 8_193,
        10_000,
    ]
    static let randomSizeCount = 4

    /// The tree size for case `n`, and a generator for that case alone (cases run in parallel).
    static func setUp(_ n: Int) -> (size: UInt64, rng: SeededGenerator) {
        var rng = SeededGenerator(seed: seed ^ UInt64(n) &* 0x9e37_79b9_7f4a_7c15)
        let size = n < fixedSizes.count ? fixedSizes[n] : UInt64.random(in: 1...10_000, using: &rng)
        return (size, rng)
    }

    /// Edge positions in 0..<limit: both ends, both sides of the root split (the largest power of two below
    /// `limit`) and of one random power of two, plus `random` random ones.
    static func sample(below limit: UInt64, random: Int, using rng: inout SeededGenerator) -> [UInt64] {
        let k = Naive.k(limit)
        let p: UInt64 = 1 << UInt64.random(in: 0...UInt64(63 - limit.leadingZeroBitCount), using: &rng)
        var picks: Set<UInt64> = [0, limit - 1, k - 1, k, p - 1, p]
        for _ in 0..<random { picks.insert(UInt64.random(in: 0..<limit, using: &rng)) }
        return picks.filter { $0 < limit }.sorted()
    }

    /// Counts of mutations: rejected, and accepted because the mutated sizes give the same proof shape.
    struct Tally: CustomStringConvertible {
        var mutations = 0
        var rejected = 0
        var shapeEquivalent = 0
        var description: String {
            "\(mutations) mutations: \(rejected) rejected, \(shapeEquivalent) accepted as shape-equivalent"
        }
    }

    @Test(
        "Inclusion proofs verify; every single-bit mutation of leaf, proof, root, index or size is caught",
        arguments: 0..<(fixedSizes.count + randomSizeCount))
    func inclusion(case n: Int) throws {
        var (size, rng) = Self.setUp(n)
        let tree = Fixture.tree
        let root = try MerkleTree.root(treeSize: size, reader: tree)
        var tally = Tally()
        for index in Self.sample(below: size, random: 2, using: &rng) {
            let leaf = Fixture.leafHashes[Int(index)]
            let proof = try MerkleTree.inclusionProof(index: index, treeSize: size, reader: tree)
            func verifies(
                _ leaf: SHA256Digest, _ index: UInt64, _ size: UInt64, _ proof: [SHA256Digest],
                _ root: SHA256Digest
            ) -> Bool {
                (try? MerkleVerifier.verifyInclusion(
                    leafHash: leaf, index: index, treeSize: size, proof: proof, root: root)) != nil
            }
            let context = Comment(rawValue: "seed \(Self.seed), leaf \(index), tree size \(size)")
            #expect(verifies(leaf, index, size, proof, root), context)

            // Hash mutations must always be rejected.
            for bit in 0..<256 {
                tally.mutations += 2 + proof.count
                var rejected = !verifies(leaf.flipping(bit: bit), index, size, proof, root) ? 1 : 0
                rejected += !verifies(leaf, index, size, proof, root.flipping(bit: bit)) ? 1 : 0
                for i in proof.indices {
                    var mutated = proof
                    mutated[i] = mutated[i].flipping(bit: bit)
                    rejected += !verifies(leaf, index, size, mutated, root) ? 1 : 0
                }
                tally.rejected += rejected
                #expect(rejected == 2 + proof.count, "\(context), bit \(bit)")
            }
            // Index and size mutations. An RFC 9162 verifier sees (index, size) only through the proof's shape:
            // the sequence of left/right siblings. A mutation that keeps the shape computes the same root from
            // the same hashes, so it verifies, and rightly so: the proof cannot tell the two positions apart.
            // The shape is computed independently, from the recursive PATH definition (RFC 6962 section 2.1.1);
            // every mutation with another shape must be rejected, every one with the same shape must verify.
            let shape = Naive.inclusionShape(index, size)
            for bit in 0..<64 {
                for (i, s) in [(index ^ 1 << bit, size), (index, size ^ 1 << bit)] {
                    tally.mutations += 1
                    let sameShape = Naive.inclusionShape(i, s) == shape
                    let accepted = verifies(leaf, i, s, proof, root)
                    #expect(accepted == sameShape, "\(context), mutated to leaf \(i), tree size \(s)")
                    if accepted { tally.shapeEquivalent += 1 } else { tally.rejected += 1 }
                }
            }
        }
        #expect(tally.rejected + tally.shapeEquivalent == tally.mutations)
        print("inclusion, tree size \(size): \(tally)")
    }

    @Test(
        "Consistency proofs verify; every single-bit mutation of proof, roots or sizes is caught",
        arguments: 0..<(fixedSizes.count + randomSizeCount))
    func consistency(case n: Int) throws {
        var (newSize, rng) = Self.setUp(n)
        let tree = Fixture.tree
        let newRoot = try MerkleTree.root(treeSize: newSize, reader: tree)
        var tally = Tally()
        for oldSize in Self.sample(below: newSize + 1, random: 2, using: &rng) where oldSize > 0 {
            let oldRoot = try MerkleTree.root(treeSize: oldSize, reader: tree)
            let proof = try MerkleTree.consistencyProof(oldSize: oldSize, newSize: newSize, reader: tree)
            func verifies(
                _ m: UInt64, _ n: UInt64, _ r1: SHA256Digest, _ r2: SHA256Digest,
                _ proof: [SHA256Digest]
            ) -> Bool {
                (try? MerkleVerifier.verifyConsistency(oldSize: m, newSize: n, oldRoot: r1, newRoot: r2, proof: proof))
                    != nil
            }
            let context = Comment(rawValue: "seed \(Self.seed), sizes \(oldSize) -> \(newSize)")
            #expect(verifies(oldSize, newSize, oldRoot, newRoot, proof), context)

            for bit in 0..<256 {
                tally.mutations += 2 + proof.count
                var rejected = !verifies(oldSize, newSize, oldRoot.flipping(bit: bit), newRoot, proof) ? 1 : 0
                rejected += !verifies(oldSize, newSize, oldRoot, newRoot.flipping(bit: bit), proof) ? 1 : 0
                for i in proof.indices {
                    var mutated = proof
                    mutated[i] = mutated[i].flipping(bit: bit)
                    rejected += !verifies(oldSize, newSize, oldRoot, newRoot, mutated) ? 1 : 0
                }
                tally.rejected += rejected
                #expect(rejected == 2 + proof.count, "\(context), bit \(bit)")
            }
            // As for inclusion: the verifier sees the sizes only through the proof's shape (which hashes seed the
            // computation, which are left siblings inside both trees, which right siblings in the new tree only),
            // computed independently from the recursive SUBPROOF definition (RFC 6962 section 2.1.2).
            let shape = Naive.consistencyShape(oldSize, newSize)
            for bit in 0..<64 {
                for (m, s) in [(oldSize ^ 1 << bit, newSize), (oldSize, newSize ^ 1 << bit)] {
                    tally.mutations += 1
                    let sameShape = Naive.consistencyShape(m, s) == shape
                    let accepted = verifies(m, s, oldRoot, newRoot, proof)
                    #expect(accepted == sameShape, "\(context), mutated to sizes \(m) -> \(s)")
                    if accepted { tally.shapeEquivalent += 1 } else { tally.rejected += 1 }
                }
            }
        }
        #expect(tally.rejected + tally.shapeEquivalent == tally.mutations)
        print("consistency, tree size \(newSize): \(tally)")
    }
}
