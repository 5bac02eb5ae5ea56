import CairnCrypto
import CairnMerkle
import Testing

@Suite("Error codes and messages")
struct ErrorMessageTests {
    let tree: InMemoryMerkleTree = {
        var tree = InMemoryMerkleTree()
        for leaf in Fixture.leafHashes.prefix(8) { tree.append(leafHash: leaf) }
        return tree
    }()

    /// Runs `body`, which must throw a MerkleProofError, and returns it.
    func proofError(_ body: () throws -> Void) -> MerkleProofError? {
        #expect(throws: MerkleProofError.self) { try body() }
    }

    @Test("indexOutOfRange: an index at or past the tree size, or any index in the empty tree")
    func indexOutOfRange() throws {
        let leaf = tree.storedHashes[0]
        let error = proofError {
            try MerkleVerifier.verifyInclusion(leafHash: leaf, index: 8, treeSize: 8, proof: [], root: tree.root)
        }
        #expect(error?.code == .indexOutOfRange)
        #expect(error?.message == "leaf index 8 is out of range for a tree of size 8: leaf indexes run from 0 to 7")
        let empty = proofError {
            try MerkleVerifier.verifyInclusion(leafHash: leaf, index: 0, treeSize: 0, proof: [], root: leaf)
        }
        #expect(empty?.message == "leaf index 0 is out of range for a tree of size 0: the empty tree has no leaves")
        let generation = proofError { _ = try MerkleTree.inclusionProof(index: 8, treeSize: 8, reader: tree) }
        #expect(generation == error)
        #expect(error?.description == error?.message)
    }

    @Test("wrongProofLength: a proof with a hash too many or too few")
    func wrongProofLength() throws {
        let proof = try MerkleTree.inclusionProof(index: 5, treeSize: 8, reader: tree)
        let error = proofError {
            try MerkleVerifier.verifyInclusion(
                leafHash: tree.storedHashes[0], index: 5, treeSize: 8, proof: proof + [proof[0]], root: tree.root)
        }
        #expect(error?.code == .wrongProofLength)
        #expect(
            error?.message
                == "an inclusion proof for leaf 5 in a tree of size 8 must have 3 hashes, got 4: "
                + "the proof was made for another leaf index or tree size")
        let consistency = try MerkleTree.consistencyProof(oldSize: 6, newSize: 8, reader: tree)
        let short = proofError {
            try MerkleVerifier.verifyConsistency(
                oldSize: 6, newSize: 8, oldRoot: tree.root, newRoot: tree.root, proof: consistency.dropLast())
        }
        #expect(short?.code == .wrongProofLength)
        #expect(
            short?.message
                == "a consistency proof from size 6 to size 8 must have 3 hashes, got 2: "
                + "the proof was made for other tree sizes")
    }

    @Test("rootMismatch: the proof computes another root; the message names both roots")
    func rootMismatch() throws {
        let oldRoot = try MerkleTree.root(treeSize: 6, reader: tree)
        let proof = try MerkleTree.inclusionProof(index: 5, treeSize: 8, reader: tree)
        let wrong = tree.root.flipping(bit: 255)
        let inclusion = proofError {
            try MerkleVerifier.verifyInclusion(
                leafHash: tree.storedHashes[8], index: 5, treeSize: 8, proof: proof, root: wrong)
        }
        #expect(inclusion?.code == .rootMismatch)
        #expect(
            inclusion?.message
                == "root mismatch: the inclusion proof for leaf 5 in a tree of size 8 computes \(tree.root.hex), "
                + "but the given root is \(wrong.hex)")
        let consistency = try MerkleTree.consistencyProof(oldSize: 6, newSize: 8, reader: tree)
        let old = proofError {
            try MerkleVerifier.verifyConsistency(
                oldSize: 6, newSize: 8, oldRoot: wrong, newRoot: tree.root, proof: consistency)
        }
        #expect(old?.code == .rootMismatch)
        #expect(
            old?.message
                == "old root mismatch: the consistency proof from size 6 to size 8 computes old root \(oldRoot.hex), "
                + "but the given old root is \(wrong.hex)")
        let new = proofError {
            try MerkleVerifier.verifyConsistency(
                oldSize: 6, newSize: 8, oldRoot: oldRoot, newRoot: wrong, proof: consistency)
        }
        #expect(
            new?.message
                == "new root mismatch: the consistency proof from size 6 to size 8 computes new root \(tree.root.hex), "
                + "but the given new root is \(wrong.hex)")
        let equal = proofError {
            try MerkleVerifier.verifyConsistency(oldSize: 8, newSize: 8, oldRoot: tree.root, newRoot: wrong, proof: [])
        }
        #expect(
            equal?.message
                == "root mismatch: trees of the same size 8 must have the same root, but the old root is "
                + "\(tree.root.hex) and the new root is \(wrong.hex)")
    }

    @Test("invalidSizes: old size 0, old size above new size, and sizes beyond 2^63 - 1")
    func invalidSizes() throws {
        let root = tree.root
        let zero = proofError {
            try MerkleVerifier.verifyConsistency(oldSize: 0, newSize: 8, oldRoot: root, newRoot: root, proof: [])
        }
        #expect(zero?.code == .invalidSizes)
        #expect(
            zero?.message
                == "no consistency proof from size 0 to size 8: every tree extends the empty tree, so there is nothing "
                + "to prove; skip the check for an empty old tree")
        let reversed = proofError { _ = try MerkleTree.consistencyProof(oldSize: 8, newSize: 6, reader: tree) }
        #expect(reversed?.code == .invalidSizes)
        #expect(
            reversed?.message
                == "no consistency proof from size 8 to size 6: the old size must not exceed the new size; "
                + "check the order of the two tree sizes")
        let huge = proofError { _ = try MerkleTree.root(treeSize: 1 << 63, reader: tree) }
        #expect(huge?.code == .invalidSizes)
        #expect(huge?.message == "tree size 9223372036854775808 exceeds the largest supported size 9223372036854775807")
        let hugeProof = proofError {
            _ = try MerkleTree.consistencyProof(oldSize: 1, newSize: .max, reader: tree)
        }
        #expect(
            hugeProof
                == huge.map { _ in
                    MerkleProofError(
                        code: .invalidSizes,
                        message: "tree size 18446744073709551615 exceeds the largest supported size 9223372036854775807"
                    )
                })
    }

    @Test("Every MerkleProofError code is produced by the verifier")
    func everyCodeProduced() throws {
        let root = tree.root
        let leaf = tree.storedHashes[0]
        let attempts: [() throws -> Void] = [
            {
                try MerkleVerifier.verifyInclusion(leafHash: leaf, index: 9, treeSize: 8, proof: [], root: root)
            },
            {
                try MerkleVerifier.verifyInclusion(leafHash: leaf, index: 0, treeSize: 8, proof: [], root: root)
            },
            {
                try MerkleVerifier.verifyInclusion(leafHash: leaf, index: 0, treeSize: 1, proof: [], root: root)
            },
            {
                try MerkleVerifier.verifyConsistency(oldSize: 2, newSize: 1, oldRoot: root, newRoot: root, proof: [])
            },
        ]
        var codes: Set<MerkleProofError.Code> = []
        for attempt in attempts {
            do { try attempt() } catch let error as MerkleProofError { codes.insert(error.code) }
        }
        #expect(codes == Set(MerkleProofError.Code.allCases))
    }

    @Test("MerkleStorageError: a missing stored hash names its index and subtree; a short read is caught")
    func storageErrors() throws {
        let missing = #expect(throws: MerkleStorageError.self) {
            _ = try MerkleTree.inclusionProof(index: 0, treeSize: 9, reader: tree)
        }
        #expect(missing?.code == .missingHash && missing?.storedIndex == 15)
        #expect(
            missing?.message
                == "missing stored hash 15 (level 0, n 8: leaves 8..<9); the store holds 15 hashes: "
                + "the tree size asked for is larger than the stored tree, or the hash store is damaged")
        struct ShortReader: HashReader {
            func readHashes(at indexes: [UInt64]) throws -> [SHA256Digest] { [] }
        }
        let short = #expect(throws: MerkleStorageError.self) {
            _ = try MerkleTree.root(treeSize: 3, reader: ShortReader())
        }
        #expect(short?.code == .wrongHashCount && short?.storedIndex == nil)
        #expect(
            short?.message
                == "hash reader returned 0 hashes for 2 indexes: the HashReader implementation is broken "
                + "(it must return one hash per index, in order)")
        #expect(Set(MerkleStorageError.Code.allCases) == [.missingHash, .wrongHashCount])
    }
}
