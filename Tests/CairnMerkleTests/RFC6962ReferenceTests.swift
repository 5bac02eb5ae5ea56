import CairnCrypto
import CairnMerkle
import Foundation
import Testing

/// rfc6962_reference.json: the classic 8-leaf reference tree (see Tests/Vectors/README.md).
struct ReferenceVectors: Decodable {
    struct HasherVector: Decodable {
        let desc: String
        let op: String
        let inputHex: String?
        let leftHex: String?
        let rightHex: String?
        let expected: String
    }
    struct Root: Decodable {
        let treeSize: UInt64
        let root: String
    }
    struct Level: Decodable {
        let level: Int
        let hashes: [String]
    }
    struct Inclusion: Decodable {
        let leafIndex: UInt64?
        let treeSize: UInt64
        let leafHash: String?
        let root: String?
        let proof: [String]
        let expected: String
    }
    struct Consistency: Decodable {
        let size1: UInt64
        let size2: UInt64
        let root1: String
        let root2: String
        let proof: [String]
        let expected: String
    }
    let emptyTreeRoot: String
    let hasherVectors: [HasherVector]
    let leavesHex: [String]
    let leafHashes: [String]
    let rootsBySize: [Root]
    let completeSubtreeHashesByLevel: [Level]
    let inclusionProofs: [Inclusion]
    let consistencyProofs: [Consistency]

    static func load() throws -> ReferenceVectors {
        try Vectors.load(ReferenceVectors.self, "rfc6962_reference.json")
    }

    /// The reference tree, built by appending the 8 leaf inputs.
    func tree() throws -> InMemoryMerkleTree {
        var tree = InMemoryMerkleTree()
        for leaf in leavesHex { tree.append(entry: try bytes(leaf)) }
        return tree
    }
}

func digest(_ hex: String) throws -> SHA256Digest {
    try #require(SHA256Digest(hex: hex), "not a 32-byte hex digest: \(hex)")
}

func bytes(_ hex: String?) throws -> [UInt8] {
    let hex = try #require(hex, "missing hex field")
    return try #require(Hex.decode(hex), "not hex: \(hex)")
}

@Suite("RFC 6962 reference tree (rfc6962_reference.json)")
struct RFC6962ReferenceTests {
    @Test("Hasher vectors: empty root, leaf hashes and the node hash construction (RFC 6962 section 2.1)")
    func hasherVectors() throws {
        let vectors = try ReferenceVectors.load()
        #expect(RFC6962.emptyRoot.hex == vectors.emptyTreeRoot)
        #expect(vectors.hasherVectors.count == 4)
        for vector in vectors.hasherVectors {
            switch vector.op {
            case "empty_root":
                #expect(RFC6962.emptyRoot.hex == vector.expected, "\(vector.desc)")
            case "hash_leaf":
                let input = try bytes(vector.inputHex)
                #expect(RFC6962.leafHash(input).hex == vector.expected, "\(vector.desc)")
                #expect(input.withUnsafeBytes { RFC6962.leafHash($0) }.hex == vector.expected, "\(vector.desc)")
            case "hash_children":
                // The vector's children are 4-byte strings, which `nodeHash` (digests only) cannot take. Check the
                // construction SHA-256(0x01 ‖ left ‖ right) on them, and that nodeHash is that construction.
                let left = try bytes(vector.leftHex)
                let right = try bytes(vector.rightHex)
                #expect(SHA256.hash([0x01] + left + right).hex == vector.expected, "\(vector.desc)")
                let l = SHA256.hash(left)
                let r = SHA256.hash(right)
                #expect(RFC6962.nodeHash(l, r) == SHA256.hash([0x01] + l.bytes + r.bytes))
                #expect(RFC6962.nodeHash(l, r) != RFC6962.nodeHash(r, l))
            default:
                Issue.record("unknown hasher vector op \(vector.op)")
            }
        }
    }

    @Test("Leaf hashes, every root for sizes 0...8, and every complete-subtree hash at its stored index")
    func rootsAndSubtrees() throws {
        let vectors = try ReferenceVectors.load()
        let tree = try vectors.tree()
        #expect(tree.treeSize == 8)
        for (n, hex) in vectors.leafHashes.enumerated() {
            #expect(tree.storedHashes[Int(StoredHashIndex.index(level: 0, n: UInt64(n)))].hex == hex)
        }
        #expect(vectors.rootsBySize.map(\.treeSize) == Array(0...8))
        for expected in vectors.rootsBySize {
            // From the full store (an older size), and from a tree grown to exactly that size.
            #expect(try MerkleTree.root(treeSize: expected.treeSize, reader: tree).hex == expected.root)
            var grown = InMemoryMerkleTree()
            for leaf in vectors.leavesHex.prefix(Int(expected.treeSize)) {
                grown.append(entry: try bytes(leaf))
            }
            #expect(grown.root.hex == expected.root, "size \(expected.treeSize)")
        }
        var seen = 0
        for level in vectors.completeSubtreeHashesByLevel {
            for (n, hex) in level.hashes.enumerated() {
                let index = StoredHashIndex.index(level: level.level, n: UInt64(n))
                #expect(tree.storedHashes[Int(index)].hex == hex, "level \(level.level), n \(n)")
                seen += 1
            }
        }
        #expect(seen == tree.storedHashes.count && seen == 15)
    }

    @Test("Inclusion proofs are generated exactly and verify (RFC 9162 sections 2.1.3.1 and 2.1.3.2)")
    func inclusionProofs() throws {
        let vectors = try ReferenceVectors.load()
        let tree = try vectors.tree()
        #expect(vectors.inclusionProofs.count == 6)
        for vector in vectors.inclusionProofs {
            guard vector.expected == "valid" else {
                // The empty tree has no leaves: no proof can be generated or verified.
                #expect(vector.treeSize == 0 && vector.leafIndex == nil)
                let error = #expect(throws: MerkleProofError.self) {
                    try MerkleTree.inclusionProof(index: 0, treeSize: 0, reader: tree)
                }
                #expect(error?.code == .indexOutOfRange)
                #expect(throws: MerkleProofError.self) {
                    try MerkleVerifier.verifyInclusion(
                        leafHash: RFC6962.emptyRoot, index: 0, treeSize: 0, proof: [], root: RFC6962.emptyRoot)
                }
                continue
            }
            let index = try #require(vector.leafIndex)
            let proof = try MerkleTree.inclusionProof(index: index, treeSize: vector.treeSize, reader: tree)
            #expect(proof.map(\.hex) == vector.proof, "leaf \(index), size \(vector.treeSize)")
            try MerkleVerifier.verifyInclusion(
                leafHash: try digest(vector.leafHash ?? ""), index: index, treeSize: vector.treeSize,
                proof: proof, root: try digest(vector.root ?? ""))
        }
    }

    @Test("Consistency proofs are generated exactly and verify (RFC 9162 sections 2.1.4.1 and 2.1.4.2)")
    func consistencyProofs() throws {
        let vectors = try ReferenceVectors.load()
        let tree = try vectors.tree()
        #expect(vectors.consistencyProofs.count == 5)
        for vector in vectors.consistencyProofs {
            #expect(vector.expected == "valid")
            let proof = try MerkleTree.consistencyProof(oldSize: vector.size1, newSize: vector.size2, reader: tree)
            #expect(proof.map(\.hex) == vector.proof, "\(vector.size1) -> \(vector.size2)")
            try MerkleVerifier.verifyConsistency(
                oldSize: vector.size1, newSize: vector.size2, oldRoot: try digest(vector.root1),
                newRoot: try digest(vector.root2), proof: proof)
        }
    }
}
