import CairnCrypto
import CairnMerkle
import CairnTestSupport
import Testing

@Suite("Proof generation against the recursive RFC 6962 definitions")
struct ProofGenerationTests {
    @Test("Inclusion proofs equal RFC 6962 PATH(m, D[n]) and verify, for every m < n <= 64")
    func inclusionMatchesPath() throws {
        let leaves = Fixture.leafHashes
        for n in 1...64 {
            let root = Naive.mth(leaves, 0..<n)
            for m in 0..<n {
                let reader = RecordingReader(Fixture.tree)
                let proof = try MerkleTree.inclusionProof(index: UInt64(m), treeSize: UInt64(n), reader: reader)
                #expect(proof == Naive.path(m, leaves, 0..<n), "m \(m), n \(n)")
                #expect(proof.count == MerkleVerifier.inclusionProofLength(index: UInt64(m), treeSize: UInt64(n)))
                // A one-leaf tree's proof is empty: nothing is read.
                #expect(reader.calls.count == (n == 1 ? 0 : 1))
                #expect(reader.calls.joined().allSatisfy { $0 < StoredHashIndex.count(treeSize: UInt64(n)) })
                try MerkleVerifier.verifyInclusion(
                    leafHash: leaves[m], index: UInt64(m), treeSize: UInt64(n), proof: proof, root: root)
            }
        }
    }

    @Test("Consistency proofs equal RFC 6962 PROOF(m, D[n]) and verify, for every 0 < m <= n <= 64")
    func consistencyMatchesProof() throws {
        let leaves = Fixture.leafHashes
        for n in 1...64 {
            let newRoot = Naive.mth(leaves, 0..<n)
            for m in 1...n {
                let reader = RecordingReader(Fixture.tree)
                let proof = try MerkleTree.consistencyProof(oldSize: UInt64(m), newSize: UInt64(n), reader: reader)
                #expect(proof == Naive.proof(m, leaves, n), "m \(m), n \(n)")
                #expect(proof.count == MerkleVerifier.consistencyProofLength(oldSize: UInt64(m), newSize: UInt64(n)))
                // Equal sizes need no hash: nothing is read.
                #expect(reader.calls.count == (m == n ? 0 : 1))
                #expect(reader.calls.joined().allSatisfy { $0 < StoredHashIndex.count(treeSize: UInt64(n)) })
                try MerkleVerifier.verifyConsistency(
                    oldSize: UInt64(m), newSize: UInt64(n), oldRoot: Naive.mth(leaves, 0..<m), newRoot: newRoot,
                    proof: proof)
            }
        }
    }

    @Test("With the tree's right edge, proofs are the same and read fewer hashes; an edge of another size is ignored")
    func rightEdge() throws {
        let leaves = Fixture.leafHashes
        var (readWithEdge, readWithout) = (0, 0)
        func count(_ reader: RecordingReader) -> Int { reader.calls.reduce(0) { $0 + $1.count } }
        for n in 1...130 {
            let size = UInt64(n)
            let edge = MerkleRightEdge(try MerkleFrontier(treeSize: size, reader: Fixture.tree))
            #expect(edge.treeSize == size)
            #expect(edge.root == Naive.mth(leaves, 0..<n))
            let stale = MerkleRightEdge(try MerkleFrontier(treeSize: size + 1, reader: Fixture.tree))
            for m in 0..<n {
                let (aided, unaided, staled) = (
                    RecordingReader(Fixture.tree), RecordingReader(Fixture.tree), RecordingReader(Fixture.tree)
                )
                let proof = try MerkleTree.inclusionProof(
                    index: UInt64(m), treeSize: size, reader: aided, rightEdge: edge)
                #expect(proof == Naive.path(m, leaves, 0..<n), "m \(m), n \(n)")
                _ = try MerkleTree.inclusionProof(index: UInt64(m), treeSize: size, reader: unaided)
                let other = try MerkleTree.inclusionProof(
                    index: UInt64(m), treeSize: size, reader: staled, rightEdge: stale)
                #expect(other == proof)
                #expect(count(aided) <= count(unaided) && count(staled) == count(unaided), "m \(m), n \(n)")
                readWithEdge += count(aided)
                readWithout += count(unaided)
            }
            for m in 1...n {
                let (aided, unaided) = (RecordingReader(Fixture.tree), RecordingReader(Fixture.tree))
                let proof = try MerkleTree.consistencyProof(
                    oldSize: UInt64(m), newSize: size, reader: aided, rightEdge: edge)
                #expect(proof == Naive.proof(m, leaves, n), "m \(m), n \(n)")
                let other = try MerkleTree.consistencyProof(
                    oldSize: UInt64(m), newSize: size, reader: unaided, rightEdge: stale)
                #expect(other == proof)
                #expect(count(aided) <= count(unaided), "m \(m), n \(n)")
                readWithEdge += count(aided)
                readWithout += count(unaided)
            }
        }
        // The edge is used: the right edge's subtrees are no longer read.
        #expect(
            readWithEdge < readWithout * 9 / 10, "\(readWithEdge) hashes read with the edge, \(readWithout) without")
    }

    @Test("Proof lengths equal the recursive definitions' lengths for large and extreme sizes")
    func proofLengths() {
        var rng = SeededGenerator(seed: 6962)
        var pairs: [(UInt64, UInt64)] = [(0, 1), (UInt64.max - 1, UInt64.max), (0, UInt64.max), (1 << 62, 1 << 63)]
        for _ in 0..<2_000 {
            let n = UInt64.random(in: 1...UInt64.max >> UInt64.random(in: 0...63, using: &rng), using: &rng)
            pairs.append((UInt64.random(in: 0..<n, using: &rng), n))
        }
        for (m, n) in pairs {
            #expect(MerkleVerifier.inclusionProofLength(index: m, treeSize: n) == Naive.inclusionShape(m, n)!.count)
            if m > 0 {
                #expect(
                    MerkleVerifier.consistencyProofLength(oldSize: m, newSize: n)
                        == Naive.consistencyShape(m, n)!.count, "\(m) -> \(n)")
            }
        }
    }

    @Test("Proofs of large trees read O(log n) stored hashes in one call, all within the tree")
    func readCounts() throws {
        let n: UInt64 = 10_000
        for m in [0, 1, 4_095, 4_096, 8_191, 8_192, 9_998, 9_999] as [UInt64] {
            let reader = RecordingReader(Fixture.tree)
            let proof = try MerkleTree.inclusionProof(index: m, treeSize: n, reader: reader)
            #expect(reader.calls.count == 1 && reader.calls[0].count <= 2 * 14)
            #expect(reader.calls[0].allSatisfy { $0 < StoredHashIndex.count(treeSize: n) })
            #expect(proof.count == MerkleVerifier.inclusionProofLength(index: m, treeSize: n))
            if m > 0 {
                let reader = RecordingReader(Fixture.tree)
                _ = try MerkleTree.consistencyProof(oldSize: m, newSize: n, reader: reader)
                #expect(reader.calls.count == 1 && reader.calls[0].count <= 2 * 14)
            }
        }
    }
}
