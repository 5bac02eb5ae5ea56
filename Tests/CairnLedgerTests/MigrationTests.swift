import CairnCrypto
import CairnLedger
import CairnMerkle
import CairnNote
import CairnStorage
import CairnTestSupport
import Foundation
import Testing

@Suite("Storage format 2 and the migration from format 1")
struct MigrationTests {
    func storedFormat(_ directory: String) throws -> String? {
        let env = try LMDBEnvironment.shared(directory: directory)
        let meta = try env.openTable("meta")
        return try env.read { try $0.value(meta, key: Array("format".utf8)) }.map {
            String(decoding: $0, as: UTF8.self)
        }
    }

    @Test(
        "A ledger written by the format 1 code is read as it is, refuses appends, migrates, keeps its tiles and proofs, and its old checkpoints are consistent with new ones"
    )
    func fixture() throws {
        let dir = try TemporaryDirectory("format-1")
        try FormatOneLedger.copyFixture(into: dir.path)
        let sizes: [UInt64] = [0, 100, 137, 337, 600]
        let ledger = try Ledger.open(at: dir.path)
        let before = try ledger.fsck()
        #expect(before.storageFormat == 1 && before.leaves == 600 && before.checkpoints == 5)
        #expect(before.rootHash.base64 == "A1vRNmOhFboQkRRWHzyBBfwg5z4SZiFaCe/Nrt5MpYU=")
        let oldCheckpoints = try sizes.map { try ledger.checkpoint(size: $0) }
        let oldTiles = try ledger.hashTiles(sizes: sizes)
        let oldProofs = try [0, 99, 255, 256, 599].map { try ledger.inclusionProof(index: $0, size: 600) }
        let oldConsistency = try ledger.consistencyProof(oldSize: 137, size: 600)

        let refused = #expect(throws: LedgerError.self) { _ = try ledger.append(entries(0..<1, tag: "late")) }
        #expect(refused?.code == .unsupportedFormat)
        #expect(refused?.message.contains("run `cairn migrate --ledger \(dir.path)`") == true)
        #expect(try ledger.treeSize() == 600)

        let report = try ledger.migrate()
        #expect(report == MigrationReport(treeSize: 600, resumedFrom: 0, alreadyMigrated: false))
        #expect(try storedFormat(dir.path) == "2")
        let after = try ledger.fsck()
        #expect(after.storageFormat == 2 && after.rootHash == before.rootHash && after.hashes == before.hashes)
        #expect(try ledger.hashTiles(sizes: sizes) == oldTiles, "served tiles are byte-identical")
        #expect(try [0, 99, 255, 256, 599].map { try ledger.inclusionProof(index: $0, size: 600) } == oldProofs)
        #expect(try ledger.consistencyProof(oldSize: 137, size: 600) == oldConsistency)
        #expect(try ledger.migrate().alreadyMigrated)

        // New appends, new checkpoints: every old checkpoint is consistent with the newest.
        _ = try ledger.append(entries(0..<300, tag: "after"))
        _ = try ledger.append(entries(300..<333, tag: "after"))
        let newest = try ledger.checkpoint()
        #expect(newest.checkpoint.size == 933)
        for old in oldCheckpoints where old.checkpoint.size > 0 {
            let proof = try ledger.consistencyProof(oldSize: old.checkpoint.size)
            try MerkleVerifier.verifyConsistency(
                oldSize: old.checkpoint.size, newSize: 933, oldRoot: old.checkpoint.rootHash,
                newRoot: newest.checkpoint.rootHash, proof: proof.hashes)
        }
        // The fixture's published vkey verifies checkpoints signed before and after the migration.
        let vkeyText = try String(contentsOfFile: dir.file("ledger.vkey"), encoding: .utf8)
        let vkey = try NoteVerifierKey(parsing: vkeyText.trimmingCharacters(in: .newlines))
        _ = try oldCheckpoints[2].verify(logKey: vkey)
        _ = try newest.verify(logKey: vkey)
        #expect(try ledger.fsck().checkpoints == 7)
    }

    @Test(
        "An interrupted migration leaves a working format 1 ledger; the next run resumes and gives the tiles a format 2 ledger wrote"
    )
    func resumable() throws {
        let dir = try TemporaryDirectory("migrate")
        do {
            let original = try makeLedger(dir)
            for start in stride(from: 0, to: 70_000, by: 7_000) {
                _ = try original.append(entries(start..<start + 7_000))
            }
        }
        let sizes: [UInt64] = [7_000, 65_536, 70_000]
        let written = try Ledger.open(at: dir.path).hashTiles(sizes: sizes)
        let root = try Ledger.open(at: dir.path).rootHash(size: 70_000)
        try FormatOneLedger.downgrade(directory: dir.path)

        let ledger = try Ledger.open(at: dir.path)
        #expect(try ledger.fsck().storageFormat == 1)
        var seen: [UInt64] = []
        let first = try ledger.migrate(chunkLeaves: 10_000, stopAfterChunks: 2) { done, total in
            #expect(total == 70_000)
            seen.append(done)
        }
        #expect(seen == [10_000, 20_000])
        #expect(first == MigrationReport(treeSize: 70_000, resumedFrom: 0, alreadyMigrated: false))
        // Still format 1, whole and usable: fsck, proofs, tiles; appends refused.
        #expect(try storedFormat(dir.path) == "1")
        #expect(try ledger.fsck().storageFormat == 1)
        let proof = try ledger.inclusionProof(index: 12_345, size: 70_000)
        try MerkleVerifier.verifyInclusion(
            leafHash: proof.leafHash, index: 12_345, treeSize: 70_000, proof: proof.hashes, root: root)
        #expect(try ledger.hashTiles(sizes: sizes) == written)
        #expect(throws: LedgerError.self) { _ = try ledger.append(entries(0..<1, tag: "late")) }

        let rest = try ledger.migrate(chunkLeaves: 10_000)
        #expect(rest.resumedFrom == 20_000)
        #expect(try storedFormat(dir.path) == "2")
        let report = try ledger.fsck()
        #expect(report.storageFormat == 2 && report.rootHash == root)
        // specs/storage.md's worked example: 274 + 2 + 1 stored tiles for 70,000 leaves; `hashes` emptied.
        let env = try LMDBEnvironment.shared(directory: dir.path)
        let (tileTable, hashTable) = (try env.openTable("tiles"), try env.openTable("hashes"))
        let (tileCount, hashCount) = try env.read { txn in (try txn.count(tileTable), try txn.count(hashTable)) }
        #expect(tileCount == 277 && hashCount == 0)
        #expect(try ledger.hashTiles(sizes: sizes) == written)
        _ = try ledger.append(entries(0..<10, tag: "late"))
        #expect(try ledger.fsck().leaves == 70_010)
    }

    @Test("A damaged format 1 hash stops the migration before the format changes, naming the published root")
    func damaged() throws {
        let dir = try TemporaryDirectory("migrate-damaged")
        do {
            let original = try makeLedger(dir)
            _ = try original.append(entries(0..<1_000))
        }
        try FormatOneLedger.downgrade(directory: dir.path)
        let env = try LMDBEnvironment.shared(directory: dir.path)
        let hashes = try env.openTable("hashes")
        try env.write { txn in
            try txn.put(hashes, key: StoredHashIndex.index(level: 0, n: 500), value: [UInt8](repeating: 9, count: 32))
        }
        let ledger = try Ledger.open(at: dir.path)
        let error = #expect(throws: LedgerError.self) { try ledger.migrate(chunkLeaves: 300) }
        #expect(error?.code == .corrupt)
        #expect(error?.message.contains("but the published checkpoint says") == true, "\(error?.message ?? "")")
        #expect(try storedFormat(dir.path) == "1")
        // The intact parts still read; fsck names the damage.
        #expect(try ledger.inclusionProof(index: 3, size: 1_000).index == 3)
        #expect(throws: LedgerError.self) { try ledger.fsck() }
    }
}
