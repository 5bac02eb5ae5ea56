import CairnCrypto
import CairnLedger
import CairnMerkle
import CairnNote
import CairnStorage
import CairnTestSupport
import Foundation
import Testing

/// Creates a generic-profile ledger (any JSON object), for tests of the log itself.
func makeLedger(_ dir: TemporaryDirectory, options: Ledger.CreateOptions = Ledger.CreateOptions()) throws -> Ledger {
    var options = options
    options.profile = .generic
    return try Ledger.create(at: dir.path, origin: "example.com/t", options: options)
}

func entries(_ range: Range<Int>, tag: String = "r") -> [PreparedEntry] {
    range.map { PreparedEntry(canonicalBytes: Array("{\"\(tag)\":\($0)}".utf8)) }
}

@Suite("Ledger engine")
struct LedgerTests {
    @Test("A new ledger has an empty tree with a signed checkpoint of the empty root")
    func emptyLedger() throws {
        let dir = try TemporaryDirectory()
        let ledger = try makeLedger(dir)
        #expect(try ledger.treeSize() == 0)
        let checkpoint = try ledger.checkpoint()
        #expect(checkpoint.checkpoint.size == 0)
        #expect(
            checkpoint.checkpoint.rootHash.hex == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(try checkpoint.verify(logKey: ledger.verifierKey) == checkpoint.checkpoint)
    }

    @Test("Appends assign consecutive indexes, dedupe by content, and sign each new size")
    func appendAssignsIndexes() throws {
        let dir = try TemporaryDirectory()
        let ledger = try makeLedger(dir)
        let first = try ledger.append(entries(0..<3))
        #expect(first.results.map(\.index) == [0, 1, 2])
        #expect(first.results.allSatisfy { !$0.duplicate })
        #expect(first.treeSize == 3)
        #expect(first.checkpoint?.checkpoint.size == 3)
        let second = try ledger.append(entries(2..<5))
        #expect(second.results.map(\.index) == [2, 3, 4])
        #expect(second.results.map(\.duplicate) == [true, false, false])
        let none = try ledger.append(entries(0..<2))
        #expect(none.checkpoint == nil)
        #expect(none.treeSize == 5)
        #expect(try ledger.entry(at: 4) == Array("{\"r\":4}".utf8))
        #expect(try ledger.index(of: SHA256.hash(Array("{\"r\":3}".utf8))) == 3)
    }

    @Test("Roots and proofs from stored hashes match an independent in-memory tree at every size")
    func proofsMatchInMemoryTree() throws {
        let dir = try TemporaryDirectory()
        let ledger = try makeLedger(dir)
        var reference = InMemoryMerkleTree()
        var roots: [SHA256Digest] = [RFC6962.emptyRoot]
        for batch in [1, 1, 2, 3, 5, 8, 13, 21, 34] {
            let start = Int(reference.treeSize)
            let batchEntries = entries(start..<(start + batch))
            _ = try ledger.append(batchEntries)
            for e in batchEntries {
                reference.append(entry: e.bytes)
                roots.append(try MerkleTree.root(treeSize: reference.treeSize, reader: reference))
            }
        }
        let size = reference.treeSize
        for n in 0...size {
            #expect(try ledger.rootHash(size: n) == roots[Int(n)], "root at size \(n)")
        }
        // Sizes 1, 2, 7 and the last were published by their commits; 8 and 50 were not: proofs for
        // them are given against a checkpoint the caller holds (signed here with the ledger's key).
        let key = try Ed25519PrivateKey(
            pemRepresentation: String(contentsOfFile: dir.path + "/signing-key.pem", encoding: .utf8))
        let signer = try NoteSigner(name: ledger.origin, privateKey: key)
        for n in [UInt64(1), 2, 7, 8, 50, size] {
            let held = try SignedCheckpoint.sign(
                Checkpoint(origin: ledger.origin, size: n, rootHash: roots[Int(n)]), with: signer)
            let published = try ledger.read { try $0.hasCheckpoint(size: n) }
            #expect(published == ![8, 50].contains(n))
            for i in 0..<n {
                let proof =
                    try published
                    ? ledger.inclusionProof(index: i, size: n)
                    : ledger.read { try $0.inclusionProof(index: i, in: held) }
                #expect(proof.hashes == (try MerkleTree.inclusionProof(index: i, treeSize: n, reader: reference)))
                try MerkleVerifier.verifyInclusion(
                    leafHash: proof.leafHash, index: i, treeSize: n, proof: proof.hashes, root: roots[Int(n)])
                #expect(proof.checkpoint.checkpoint.rootHash == roots[Int(n)])
            }
            for m in 1...n {
                let proof =
                    try published
                    ? ledger.consistencyProof(oldSize: m, size: n)
                    : ledger.read { try $0.consistencyProof(oldSize: m, to: held) }
                try MerkleVerifier.verifyConsistency(
                    oldSize: m, newSize: n, oldRoot: roots[Int(m)], newRoot: roots[Int(n)], proof: proof.hashes)
            }
        }
    }

    @Test("Proofs interleaved with appends: the cached right edge follows the latest size and old sizes still prove")
    func proofsWhileGrowing() throws {
        let dir = try TemporaryDirectory()
        let ledger = try makeLedger(dir)
        var reference = InMemoryMerkleTree()
        var published: [UInt64] = []
        for batch in [1, 2, 3, 5, 8, 13, 21, 34, 55] {
            let start = Int(reference.treeSize)
            let batchEntries = entries(start..<(start + batch))
            _ = try ledger.append(batchEntries)
            for e in batchEntries { reference.append(entry: e.bytes) }
            published.append(reference.treeSize)
            // Every published size, the latest (whose right edge the ledger caches) last and first.
            for n in [reference.treeSize] + published {
                let root = try MerkleTree.root(treeSize: n, reader: reference)
                for i in stride(from: 0, to: n, by: 3) {
                    let proof = try ledger.inclusionProof(index: i, size: n)
                    #expect(proof.hashes == (try MerkleTree.inclusionProof(index: i, treeSize: n, reader: reference)))
                    try MerkleVerifier.verifyInclusion(
                        leafHash: proof.leafHash, index: i, treeSize: n, proof: proof.hashes, root: root)
                }
                for m in stride(from: 1, through: n, by: 2) {
                    let proof = try ledger.consistencyProof(oldSize: m, size: n)
                    try MerkleVerifier.verifyConsistency(
                        oldSize: m, newSize: n, oldRoot: try MerkleTree.root(treeSize: m, reader: reference),
                        newRoot: root, proof: proof.hashes)
                }
            }
        }
    }

    @Test("Reopening a ledger sees every committed entry and can keep appending")
    func reopen() throws {
        let dir = try TemporaryDirectory()
        do {
            let ledger = try makeLedger(dir)
            _ = try ledger.append(entries(0..<10))
        }
        let ledger = try Ledger.open(at: dir.path)
        #expect(try ledger.treeSize() == 10)
        let more = try ledger.append(entries(10..<12))
        #expect(more.results.map(\.index) == [10, 11])
        #expect(try ledger.fsck().leaves == 12)
    }

    @Test("Requests beyond the tree are refused with sizeOutOfRange or entryNotFound")
    func outOfRange() throws {
        let dir = try TemporaryDirectory()
        let ledger = try makeLedger(dir)
        _ = try ledger.append(entries(0..<3))
        #expect(throws: LedgerError(.sizeOutOfRange, "tree size 4 is beyond the current size 3")) {
            try ledger.checkpoint(size: 4)
        }
        let error = #expect(throws: LedgerError.self) { try ledger.entry(at: 3) }
        #expect(error?.code == .entryNotFound)
        let proofError = #expect(throws: LedgerError.self) { try ledger.inclusionProof(index: 3, size: 3) }
        #expect(proofError?.code == .sizeOutOfRange)
        let consistency = #expect(throws: LedgerError.self) { try ledger.consistencyProof(oldSize: 4, size: 3) }
        #expect(consistency?.code == .sizeOutOfRange)
        // Size 2 is inside the commit of size 3: never published, and a read never signs it.
        let unpublished = #expect(throws: LedgerError.self) { try ledger.consistencyProof(oldSize: 1, size: 2) }
        #expect(unpublished?.code == .checkpointNotPublished)
        #expect(unpublished?.message.contains("nearest published sizes are 0 and 3") == true)
        #expect(try !ledger.read { try $0.hasCheckpoint(size: 2) })
    }

    @Test("A ledger opened read-only reads and proves but refuses to append")
    func readOnly() throws {
        let dir = try TemporaryDirectory()
        _ = try makeLedger(dir).append(entries(0..<2))
        var options = Ledger.OpenOptions()
        options.readOnly = true
        // The registry hands back the same environment to this process; a read-only ledger object
        // still refuses writes itself.
        let ledger = try Ledger.open(at: dir.path, options: options)
        #expect(try ledger.inclusionProof(index: 1).hashes.count == 1)
        let error = #expect(throws: LedgerError.self) { try ledger.append(entries(5..<6)) }
        #expect(error?.code == .readOnly)
    }

    @Test("create refuses a bad origin and a non-empty directory")
    func createRefusals() throws {
        let dir = try TemporaryDirectory()
        for bad in ["", "with space", "a+b", "tab\there"] {
            let error = #expect(throws: LedgerError.self) { try Ledger.create(at: dir.path + "/x", origin: bad) }
            #expect(error?.code == .invalidOrigin, "\(bad.debugDescription)")
        }
        _ = try makeLedger(dir)
        let error = #expect(throws: LedgerError.self) { try makeLedger(dir) }
        #expect(error?.code == .alreadyExists)
    }

    @Test("A signing key that does not match the ledger's vkey is refused before anything is signed")
    func mismatchedKey() throws {
        let dir = try TemporaryDirectory()
        _ = try makeLedger(dir)
        let other = try Ed25519PrivateKey.generate()
        let keyPath = dir.path + "/signing-key.pem"
        try FileManager.default.removeItem(atPath: keyPath)
        try other.pemRepresentation.write(toFile: keyPath, atomically: true, encoding: .utf8)
        // A fresh process would load the key from disk; emulate with a new Ledger object.
        let ledger = try Ledger.open(at: dir.path)
        let error = #expect(throws: LedgerError.self) { try ledger.append(entries(0..<1)) }
        #expect(error?.code == .signingKeyUnavailable)
        #expect(error?.message.contains("does not match") == true)
    }

    @Test("Appends grow a small LMDB map instead of failing")
    func mapGrowth() throws {
        let dir = try TemporaryDirectory()
        var options = Ledger.CreateOptions()
        options.storage.initialMapSize = 512 * 1024
        let ledger = try makeLedger(dir, options: options)
        let payload = String(repeating: "x", count: 2000)
        let big = (0..<3000).map { PreparedEntry(canonicalBytes: Array("{\"i\":\($0),\"p\":\"\(payload)\"}".utf8)) }
        let result = try ledger.append(big)
        #expect(result.treeSize == 3000)
        #expect(try ledger.fsck().leaves == 3000)
    }

    @Test("Concurrent appends from many threads get distinct, gap-free indexes")
    func concurrentAppends() async throws {
        let dir = try TemporaryDirectory()
        let ledger = try makeLedger(dir)
        let indexes = try await withThrowingTaskGroup(of: [UInt64].self) { group in
            for t in 0..<8 {
                group.addTask {
                    var mine: [UInt64] = []
                    for i in 0..<25 {
                        mine += try ledger.append(entries(i..<(i + 1), tag: "t\(t)")).results.map(\.index)
                    }
                    return mine
                }
            }
            var all: [UInt64] = []
            for try await part in group { all += part }
            return all
        }
        #expect(indexes.sorted() == Array(0..<200))
        #expect(try ledger.fsck().checkpoints == 201)
    }
}

@Suite("fsck finds corruption")
struct FsckTests {
    /// A ledger of 20 entries and direct access to its tables.
    func corruptible() throws -> (TemporaryDirectory, Ledger, LMDBEnvironment) {
        let dir = try TemporaryDirectory()
        let ledger = try makeLedger(dir)
        _ = try ledger.append(entries(0..<13))
        _ = try ledger.append(entries(13..<20))
        let env = try LMDBEnvironment.shared(directory: dir.path)
        return (dir, ledger, env)
    }

    func expectCorrupt(_ ledger: Ledger, _ fragment: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let error = #expect(throws: LedgerError.self, sourceLocation: sourceLocation) { try ledger.fsck() }
        #expect(error?.code == .corrupt, sourceLocation: sourceLocation)
        #expect(error?.message.contains(fragment) == true, "\(error?.message ?? "")", sourceLocation: sourceLocation)
    }

    @Test("fsck passes on an intact ledger and counts what it checked")
    func intact() throws {
        let (_, ledger, _) = try corruptible()
        let report = try ledger.fsck()
        #expect(report.leaves == 20)
        #expect(report.hashes == StoredHashIndex.count(treeSize: 20))
        #expect(report.checkpoints == 3)
        #expect(report.rootHash == (try ledger.rootHash(size: 20)))
    }

    @Test("A changed leaf is caught by the content index")
    func changedLeaf() throws {
        let (_, ledger, env) = try corruptible()
        let leaves = try env.openTable("leaves")
        try env.write { txn in try txn.put(leaves, key: 7, value: Array("{\"r\":777}".utf8)) }
        expectCorrupt(ledger, "leaf 7")
    }

    @Test("A changed tree hash is caught with its level and node, in its stored tile")
    func changedHash() throws {
        let (_, ledger, env) = try corruptible()
        // 20 leaves: one partial tile (0, 0) of width 20; row 1 (level 1) starts after the 20 leaf hashes.
        let tiles = try env.openTable("tiles")
        var tile = try #require(try env.read { txn in try txn.value(tiles, key: StoredTile.key(level: 0, index: 0)) })
        #expect(tile.count == StoredTile.hashCount(width: 20) * 32)
        tile[(20 + 3) * 32] ^= 1
        try env.write { txn in try txn.put(tiles, key: StoredTile.key(level: 0, index: 0), value: tile) }
        expectCorrupt(ledger, "stored hash (level 1, node 3) in the stored tile 0/0")
        try env.write { txn in
            try txn.put(tiles, key: StoredTile.key(level: 0, index: 0), value: Array(tile.prefix(40)))
        }
        expectCorrupt(ledger, "the stored tile 0/0 is 40 bytes")
    }

    @Test("A proof over a missing or malformed stored tile fails as corrupt, naming it; restored, proofs verify")
    func proofOverDamagedHash() throws {
        let (_, ledger, env) = try corruptible()
        // Every hash of a tree of 20 leaves is in tile (0, 0).
        let tiles = try env.openTable("tiles")
        let key = StoredTile.key(level: 0, index: 0)
        let tile = try #require(try env.read { txn in try txn.value(tiles, key: key) })
        try env.write { txn in _ = try txn.delete(tiles, key: BigEndianKey.bytes(key)) }
        let missing = #expect(throws: LedgerError.self) { try ledger.inclusionProof(index: 6, size: 20) }
        #expect(missing?.code == .corrupt)
        #expect(missing?.message.contains("the stored tile 0/0 is missing") == true, "\(missing?.message ?? "")")
        try env.write { txn in try txn.put(tiles, key: key, value: Array(tile.prefix(31))) }
        let short = #expect(throws: LedgerError.self) { try ledger.inclusionProof(index: 6, size: 20) }
        #expect(short?.message.contains("the stored tile 0/0 is 31 bytes") == true, "\(short?.message ?? "")")
        try env.write { txn in try txn.put(tiles, key: key, value: tile) }
        for index: UInt64 in [6, 17] {
            let proof = try ledger.inclusionProof(index: index, size: 20)
            try MerkleVerifier.verifyInclusion(
                leafHash: proof.leafHash, index: index, treeSize: 20, proof: proof.hashes,
                root: try ledger.rootHash(size: 20))
        }
    }

    @Test("A checkpoint with a forged root or signature is caught")
    func forgedCheckpoint() throws {
        let (_, ledger, env) = try corruptible()
        let checkpoints = try env.openTable("checkpoints")
        let original = try env.read { txn in try txn.value(checkpoints, key: 13)! }
        var text = String(decoding: original, as: UTF8.self).components(separatedBy: "\n")
        text[2] = RFC6962.emptyRoot.base64
        try env.write { txn in try txn.put(checkpoints, key: 13, value: Array(text.joined(separator: "\n").utf8)) }
        expectCorrupt(ledger, "checkpoint for size 13 does not verify")
    }

    @Test("A missing content index entry is caught")
    func missingIndexEntry() throws {
        let (_, ledger, env) = try corruptible()
        let log = try env.openTable("digests.log")
        try env.write { txn in _ = try txn.delete(log, key: BigEndianKey.bytes(5)) }
        expectCorrupt(ledger, "content index holds 19 entries for 20 leaves")
    }

    @Test("A stored tree size that disagrees with the leaves is caught")
    func wrongTreeSize() throws {
        let (_, ledger, env) = try corruptible()
        let meta = try env.openTable("meta")
        try env.write { txn in try txn.put(meta, key: Array("tree_size".utf8), value: BigEndianKey.bytes(19)) }
        expectCorrupt(ledger, "stored tree size is 19")
    }
}

@Suite("Content index across merges")
struct DigestIndexTests {
    @Test("Lookups, duplicate detection and fsck hold while the index log is merged into sorted levels")
    func merges() throws {
        let dir = try TemporaryDirectory()
        let ledger = try makeLedger(dir)
        var next = 0
        // Batch sizes that straddle the level-0 capacity (32,768) in different ways.
        for size in [1, 30_000, 2_767, 1, 40_000, 27_000, 5] {
            _ = try ledger.append(entries(next..<(next + size), tag: "m"))
            next += size
            // Readers' cached map of the log must follow appends and merges.
            for i in [0, next / 2, next - 1] {
                #expect(try ledger.index(of: SHA256.hash(Array("{\"m\":\(i)}".utf8))) == UInt64(i), "entry \(i)")
            }
        }
        #expect(try ledger.treeSize() == 99_774)
        for i in stride(from: 0, to: next, by: 997) + [next - 1] {
            let digest = SHA256.hash(Array("{\"m\":\(i)}".utf8))
            #expect(try ledger.index(of: digest) == UInt64(i), "entry \(i)")
        }
        #expect(try ledger.index(of: SHA256.hash(utf8: "absent")) == nil)
        let again = try ledger.append(entries(500..<520, tag: "m") + entries(99_774..<99_775, tag: "m"))
        #expect(again.results.map(\.duplicate) == Array(repeating: true, count: 20) + [false])
        #expect(again.results.map(\.index) == Array(500..<520) + [99_774])
        #expect(try ledger.fsck().leaves == 99_775)
    }
}
