import CairnCrypto
import CairnLedger
import CairnNote
import CairnProofs
import CairnTestSupport
import Foundation
import Testing

/// `IngestEngine.addCosignatures(_:size:)`: cosignatures stored with the checkpoint they sign.
@Suite("Ledger: stored cosignatures")
struct LedgerCosignatureTests {
    static func cosignature(
        _ ledger: Ledger, size: UInt64, seed: UInt8 = 0x21, timestamp: UInt64 = 100
    )
        throws -> NoteSignature
    {
        try CosignatureV1.sign(
            checkpoint: try ledger.checkpoint(size: size).checkpoint, timestamp: timestamp, signer: Keys.seed(seed),
            name: "w\(seed).example")
    }

    @Test("The stored note gains the lines; checkpoint(size:), proofs and fsck see the cosigned checkpoint")
    func addAndServe() async throws {
        let log = try TestLedger()
        try log.append(5)
        let before = try log.ledger.checkpoint(size: 3)  // now cached
        let line1 = try Self.cosignature(log.ledger, size: 3, seed: 0x21)
        let line2 = try Self.cosignature(log.ledger, size: 3, seed: 0x22)
        try await log.ledger.addCosignatures([line1, line2], size: 3)

        let after = try log.ledger.checkpoint(size: 3)
        #expect(after.checkpoint == before.checkpoint)
        #expect(after.note.signatures == before.note.signatures + [line1, line2])
        #expect(try after.verify(logKey: log.vkey).size == 3)  // the log's signature still verifies
        #expect(try log.ledger.inclusionProof(index: 1, size: 3).checkpoint == after)
        #expect(try log.ledger.consistencyProof(oldSize: 1, size: 3).checkpoint == after)
        #expect(try log.ledger.checkpoint(size: 4).note.signatures.count == 1)  // other sizes untouched
        #expect(try log.ledger.checkpoint().note.signatures.count == 1)

        // fsck verifies the log's signature and ignores the cosignatures.
        let report = try log.ledger.fsck()
        #expect(report.checkpoints == 6)  // sizes 0…5

        // A reopened ledger reads the same bytes.
        let reopened = try Ledger.open(at: log.dir.file("ledger"))
        #expect(try reopened.checkpoint(size: 3).serialized == after.serialized)
    }

    @Test("A newer cosignature by the same witness key replaces the older one")
    func replacesSameKey() async throws {
        let log = try TestLedger()
        try log.append(2)
        try await log.ledger.addCosignatures([try Self.cosignature(log.ledger, size: 2, timestamp: 100)], size: 2)
        let newer = try Self.cosignature(log.ledger, size: 2, timestamp: 200)
        try await log.ledger.addCosignatures([newer], size: 2)
        let signed = try log.ledger.checkpoint(size: 2)
        #expect(signed.note.signatures.count == 2)
        #expect(signed.note.signatures.last == newer)
        let key = try NoteVerifierKey(cosignatureName: "w33.example", ed25519: Keys.seed(0x21).publicKey)
        #expect(try CosignatureV1.verify(signed, cosigner: key) == 200)
    }

    @Test("Concurrent additions by different witnesses to one checkpoint all survive")
    func concurrentAdditions() async throws {
        let log = try TestLedger()
        try log.append(3)
        let ledger = log.ledger
        let lines = try (0x30..<0x38).map { try Self.cosignature(ledger, size: 3, seed: UInt8($0)) }
        await withTaskGroup(of: Void.self) { group in
            for line in lines {
                group.addTask { try? await ledger.addCosignatures([line], size: 3) }
            }
        }
        #expect(Set(try ledger.checkpoint(size: 3).note.signatures.dropFirst()) == Set(lines))
        #expect(try ledger.fsck().checkpoints == 4)
    }

    @Test("Refused: the log's own key, a size without a checkpoint, more than 100 lines, a read-only ledger")
    func refusals() async throws {
        let log = try TestLedger()
        try log.append(2)
        let own = try log.ledger.checkpoint(size: 2).note.signatures[0]
        await #expect(throws: LedgerError.self) { try await log.ledger.addCosignatures([own], size: 2) }
        do {
            try await log.ledger.addCosignatures([try Self.cosignature(log.ledger, size: 2)], size: 9)
            Issue.record("size 9 accepted")
        } catch let error as LedgerError {
            #expect(error.code == .sizeOutOfRange)
        }
        let many = try (0..<100).map { i in
            try NoteSignature(name: "w\(i).example", keyID: UInt32(i), signature: [UInt8](repeating: 1, count: 72))
        }
        do {
            try await log.ledger.addCosignatures(many, size: 2)
            Issue.record("101 signature lines accepted")
        } catch let error as LedgerError {
            #expect(error.code == .invalidArgument)
        }
        #expect(try log.ledger.checkpoint(size: 2).note.signatures == [own])  // nothing written

        var options = Ledger.OpenOptions()
        options.readOnly = true
        let other = try TestLedger(tag: "ro")
        try other.append(1)
        let line = try Self.cosignature(other.ledger, size: 1)
        let readOnly = try Ledger.open(at: other.dir.file("ledger"), options: options)
        do {
            try await readOnly.addCosignatures([line], size: 1)
            Issue.record("read-only ledger written")
        } catch let error as LedgerError {
            #expect(error.code == .readOnly)
        }
    }
}
