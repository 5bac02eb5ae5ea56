import CairnCrypto
import CairnNote
import Testing

/// c2sp.org/tlog-cosignature, Ed25519 cosignature/v1 (type 0x04).
@Suite("Cosignatures (v1)")
struct CosignatureTests {
    static let cases = NoteVectors.shared.cosignatureV1Cases
    /// The published transparency-dev test key "Known" (the cosigner in cosignature_v1_cases).
    static let knownKey = try! Support.ed25519Key(goPrivateKey: Support.transparencyDevTestKeys["Known"]!)

    @Test(
        "cosignature_v1_cases: only the unaltered cosignature verifies, with the 0x04 key, giving its timestamp",
        arguments: cases)
    func cosignatureCase(_ v: NoteVectors.CosignatureCase) throws {
        let signed = try SignedCheckpoint(parsing: v.note)
        let key = try NoteVerifierKey(parsing: v.cosignerVkey)
        let outcome = Result { () throws(NoteError) in try CosignatureV1.verify(signed, cosigner: key) }
        switch (v.id, outcome) {
        case ("cosig-v1-valid", .success(let timestamp)):
            #expect(timestamp == v.expectedTimestamp)
        case ("cosig-v1-wrong-keytype", .failure(let error)):
            #expect(error.code == .unsupportedKeyType)
            // As a plain note key, the 0x01 key's ID does not match the 0x04 line: unknown, so ignored.
            #expect(Support.noteError { _ = try signed.note.verify(with: [key]) }?.code == .noVerifiedSignature)
        case ("cosig-v1-timestamp-altered", .failure(let error)), ("cosig-v1-body-altered", .failure(let error)):
            #expect(error.code == .badSignature)
        default:
            Issue.record("\(v.id): expected \(v.expected), got \(outcome)")
        }
    }

    @Test("The signed message is 'cosignature/v1', 'time <decimal>', then the whole checkpoint text")
    func signedMessage() throws {
        let v = Self.cases.first { $0.id == "cosig-v1-valid" }!
        let signed = try SignedCheckpoint(parsing: v.note)
        #expect(
            CosignatureV1.signedMessage(checkpointText: signed.note.text, timestamp: 1_679_315_147)
                == Array(v.signedMessage!.utf8))
    }

    @Test("Cosigning is deterministic: the Known test key reproduces the published cosignature line exactly")
    func reproducesPublishedLine() throws {
        let v = Self.cases.first { $0.id == "cosig-v1-valid" }!
        let signed = try SignedCheckpoint(parsing: v.note)
        let line = try CosignatureV1.sign(
            checkpoint: signed.checkpoint, timestamp: 1_679_315_147,
            signer: Self.knownKey, name: "Known")
        #expect(line == signed.note.signatures[1])
        #expect(line.signature.count == 72)
        #expect(line.keyID == 0xfdd35892)
    }

    @Test("A cosignature added to a log-signed checkpoint verifies, and the log signature still verifies")
    func cosignRoundTrip() throws {
        let log = try NoteSigner(name: "example.com/log", privateKey: Ed25519PrivateKey.generate())
        let witnessKey = try Ed25519PrivateKey.generate()
        let witness = try NoteVerifierKey(cosignatureName: "witness.example/w1", ed25519: witnessKey.publicKey)
        let checkpoint = Checkpoint(
            origin: "example.com/log", size: 3, rootHash: SHA256.hash(utf8: "three"),
            extensionLines: ["extension lines are cosigned too"])
        let signed = try SignedCheckpoint.sign(checkpoint, with: log)
        let cosignature = try CosignatureV1.sign(
            checkpoint: checkpoint, timestamp: 1_700_000_000,
            signer: witnessKey, name: witness.name)
        let cosigned = try SignedCheckpoint(parsing: signed.adding(cosignature).serialized)
        #expect(try CosignatureV1.verify(cosigned, cosigner: witness) == 1_700_000_000)
        #expect(try cosigned.verify(logKey: log.verifierKey) == checkpoint)
        #expect(try cosigned.note.verify(with: [log.verifierKey, witness]) == [log.verifierKey, witness])
    }

    @Test("A cosignature is checked against the cosigner's key only: no line from it is unknownKey")
    func missingCosignature() throws {
        let log = try NoteSigner(
            name: "example.com/log", privateKey: Ed25519PrivateKey(seed: [UInt8](repeating: 3, count: 32)))
        let witness = try NoteVerifierKey(
            cosignatureName: "witness.example/w1",
            ed25519: Ed25519PrivateKey(seed: [UInt8](repeating: 2, count: 32)).publicKey)
        let signed = try SignedCheckpoint.sign(
            Checkpoint(origin: "example.com/log", size: 0, rootHash: SHA256.hash([])), with: log)
        #expect(
            throws: NoteError(
                code: .unknownKey,
                message:
                    "the checkpoint has no cosignature from witness.example/w1+df1c0a35 (signed by: \(log.verifierKey.nameAndID))"
            )
        ) {
            try CosignatureV1.verify(signed, cosigner: witness)
        }
    }

    @Test("Timestamps above 2^63 - 1 cannot be signed, and do not verify")
    func timestampLimit() throws {
        let key = try Ed25519PrivateKey(seed: [UInt8](repeating: 2, count: 32))
        let checkpoint = Checkpoint(origin: "example.com/log", size: 0, rootHash: SHA256.hash([]))
        #expect(throws: Never.self) {
            try CosignatureV1.sign(
                checkpoint: checkpoint, timestamp: CosignatureV1.maxTimestamp, signer: key, name: "w")
        }
        #expect(
            throws: NoteError(
                code: .invalidTimestamp,
                message: "cosignature timestamp 9223372036854775808 is above 2^63 - 1; use POSIX seconds")
        ) {
            try CosignatureV1.sign(
                checkpoint: checkpoint, timestamp: CosignatureV1.maxTimestamp + 1, signer: key, name: "w")
        }
        // Forge a line with a too-large timestamp but a genuine signature over its message.
        let timestamp = UInt64.max
        let message = CosignatureV1.signedMessage(checkpointText: checkpoint.text, timestamp: timestamp)
        let bytes = (0..<8).map { _ in UInt8(0xFF) } + (try key.signature(for: message))
        let vkey = try NoteVerifierKey(cosignatureName: "w", ed25519: key.publicKey)
        let note = try SignedNote(
            text: checkpoint.text,
            signatures: [NoteSignature(name: "w", keyID: vkey.keyID, signature: bytes)])
        let signed = try SignedCheckpoint(note: note)
        #expect(Support.noteError { _ = try CosignatureV1.verify(signed, cosigner: vkey) }?.code == .badSignature)
    }
}
