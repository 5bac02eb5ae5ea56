import CairnCrypto
import CairnMerkle
import Testing

@Suite("Stored hash index numbering, frontier and roots")
struct StoredHashIndexTests {
    @Test("index(level:n:) and split(_:) are inverse, from index 0 up and at the largest supported tree")
    func indexSplitRoundTrip() {
        for i in UInt64(0)..<50_000 {
            let (level, n) = StoredHashIndex.split(i)
            #expect(StoredHashIndex.index(level: level, n: n) == i)
        }
        for level in 0..<20 {
            for n in UInt64(0)..<300 {
                let (l, m) = StoredHashIndex.split(StoredHashIndex.index(level: level, n: n))
                #expect(l == level && m == n)
            }
        }
        // The last subtree at each level of the largest tree, and the last stored index overall.
        let max = StoredHashIndex.maxTreeSize
        for level in 0..<63 {
            for n in [0, max >> level - 1] {
                let (l, m) = StoredHashIndex.split(StoredHashIndex.index(level: level, n: n))
                #expect(l == level && m == n, "level \(level), n \(n)")
            }
        }
        let last = StoredHashIndex.count(treeSize: max) - 1
        #expect(StoredHashIndex.index(level: 0, n: max - 1) == last)  // 2^63 - 1 leaves: the last hash is a leaf
        #expect(StoredHashIndex.split(last) == (0, max - 1))
    }

    @Test("The worked example of specs/merkle.md: a tree of 5 leaves, its stored hashes, root and proofs")
    func fiveLeafExample() throws {
        let expected: [(level: Int, n: UInt64)] = [(0, 0), (0, 1), (1, 0), (0, 2), (0, 3), (1, 1), (2, 0), (0, 4)]
        #expect(StoredHashIndex.count(treeSize: 5) == 8)
        for (index, coordinates) in expected.enumerated() {
            #expect(StoredHashIndex.split(UInt64(index)) == coordinates)
            #expect(StoredHashIndex.index(level: coordinates.level, n: coordinates.n) == UInt64(index))
        }
        var tree = InMemoryMerkleTree()
        for leaf in Fixture.leafHashes.prefix(5) { tree.append(leafHash: leaf) }
        let stored = tree.storedHashes
        #expect(stored.count == 8)
        #expect(tree.root == RFC6962.nodeHash(stored[6], stored[7]))
        let reader = RecordingReader(tree)
        #expect(
            try MerkleTree.inclusionProof(index: 1, treeSize: 5, reader: reader) == [stored[0], stored[5], stored[7]])
        #expect(reader.calls == [[0, 5, 7]])
        let consistency = try MerkleTree.consistencyProof(oldSize: 3, newSize: 5, reader: reader)
        #expect(consistency == [stored[3], stored[4], stored[2], stored[7]])
        #expect(reader.calls.last == [3, 4, 2, 7])
        #expect(try MerkleTree.root(treeSize: 3, reader: reader) == RFC6962.nodeHash(stored[2], stored[3]))
        #expect(reader.calls.last == [2, 3])
    }

    @Test("Appending leaf m stores 1 + trailing ones of m hashes at count(m)..<count(m+1), each the MTH of its subtree")
    func appendsFollowTheNumbering() throws {
        var frontier = MerkleFrontier()
        var stored: [SHA256Digest] = []
        let leaves = Array(Fixture.leafHashes.prefix(1100))
        for (m, leaf) in leaves.enumerated() {
            let size = UInt64(m)
            #expect(StoredHashIndex.count(treeSize: size) == UInt64(stored.count))
            let new = frontier.append(leafHash: leaf)
            #expect(new.count == 1 + (~size).trailingZeroBitCount)
            stored += new
            #expect(StoredHashIndex.count(treeSize: size + 1) == UInt64(stored.count))
            #expect(frontier.treeSize == size + 1 && frontier.subtreeHashes.count == (size + 1).nonzeroBitCount)
        }
        #expect(stored == Array(Fixture.tree.storedHashes.prefix(stored.count)))
        // Every stored hash is the naive MTH of the leaves its (level, n) names.
        for (i, hash) in stored.enumerated() {
            let (level, n) = StoredHashIndex.split(UInt64(i))
            let first = Int(n) << level
            #expect(hash == Naive.mth(leaves, first..<first + 1 << level), "stored index \(i)")
        }
    }

    @Test("The closure form of append stores the same hashes and leaves the frontier unchanged when it throws")
    func closureAppend() throws {
        struct Full: Error {}
        var frontier = MerkleFrontier()
        var stored: [SHA256Digest] = []
        for leaf in Fixture.leafHashes.prefix(63) {
            frontier.append(leafHash: leaf) { stored.append($0) }
        }
        #expect(stored == Array(Fixture.tree.storedHashes.prefix(stored.count)))
        // Leaf 63 completes six subtrees: seven hashes to store. Fail on the third.
        let before = frontier
        var calls = 0
        #expect(throws: Full.self) {
            try frontier.append(leafHash: Fixture.leafHashes[63]) { _ throws(Full) in
                calls += 1
                if calls == 3 { throw Full() }
            }
        }
        #expect(calls == 3 && frontier == before)
        frontier.append(leafHash: Fixture.leafHashes[63]) { stored.append($0) }
        #expect(stored == Array(Fixture.tree.storedHashes.prefix(stored.count)) && stored.count == 127)
    }

    @Test("A frontier loaded from stored hashes equals the one built by appending, for sizes 0...1100")
    func frontierFromStore() throws {
        var appended = MerkleFrontier()
        for size in 0...1100 {
            let reader = RecordingReader(Fixture.tree)
            let loaded = try MerkleFrontier(treeSize: UInt64(size), reader: reader)
            #expect(loaded == appended, "size \(size)")
            #expect(reader.calls.count == 1 && reader.calls[0].count == size.nonzeroBitCount)
            _ = appended.append(leafHash: Fixture.leafHashes[size])
        }
    }

    @Test("Frontier root == MerkleTree.root == naive recursive MTH, for sizes 0...300 and larger ones")
    func rootsAgree() throws {
        let leaves = Fixture.leafHashes
        var frontier = MerkleFrontier()
        for size in 0...300 {
            let naive = Naive.mth(leaves, 0..<size)
            #expect(frontier.root == naive, "size \(size)")
            #expect(try MerkleTree.root(treeSize: UInt64(size), reader: Fixture.tree) == naive, "size \(size)")
            _ = frontier.append(leafHash: leaves[size])
        }
        #expect(MerkleFrontier().root == RFC6962.emptyRoot)
        for size in [511, 512, 513, 1000, 4095, 4096, 4097, 6_000, 8_191, 8_192, 8_193, 9_999, 10_000] {
            let naive = Naive.mth(leaves, 0..<size)
            let reader = RecordingReader(Fixture.tree)
            #expect(try MerkleTree.root(treeSize: UInt64(size), reader: reader) == naive, "size \(size)")
            #expect(reader.calls.count == 1 && reader.calls[0].count == size.nonzeroBitCount)
        }
        #expect(Fixture.tree.root == Naive.mth(leaves, 0..<leaves.count))
    }

    @Test("A store missing hashes is reported, with the missing stored index")
    func missingHashes() throws {
        var tree = InMemoryMerkleTree()
        for leaf in Fixture.leafHashes.prefix(5) { tree.append(leafHash: leaf) }
        let error = #expect(throws: MerkleStorageError.self) { try MerkleTree.root(treeSize: 6, reader: tree) }
        #expect(error?.code == .missingHash && error?.storedIndex == 9)
    }
}
