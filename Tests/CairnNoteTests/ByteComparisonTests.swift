import CairnCrypto
import CairnNote
import Testing

/// Key names and origins are compared as bytes, as C2SP and Go's sumdb/note compare them (issue 10
/// §2 item 13): Swift's `String ==` treats canonically equivalent spellings as equal, which let a
/// look-alike signature line or origin pass.
@Suite("Names and origins are compared byte for byte")
struct ByteComparisonTests {
    static let signer = try! NoteSigner(
        name: "Key.example", privateKey: try! Ed25519PrivateKey(seed: [UInt8](repeating: 7, count: 32)))
    /// `Key.example` with a KELVIN SIGN (U+212A), canonically equivalent to `K`.
    static let kelvin = "\u{212A}ey.example"

    @Test("The look-alike spellings used here are equal to Swift's == and differ as bytes")
    func premise() {
        #expect(Self.kelvin == "Key.example")
        #expect(!Self.kelvin.sameBytes(as: "Key.example"))
        #expect("caf\u{E9}" == "cafe\u{301}")
        #expect(!"caf\u{E9}".sameBytes(as: "cafe\u{301}"))
    }

    @Test("A genuine signature on a line renamed to a look-alike name is not the trusted key's line")
    func lookAlikeSignatureLine() throws {
        let checkpoint = Checkpoint(origin: "Key.example", size: 3, rootHash: SHA256.hash(utf8: "root"))
        let signed = try SignedCheckpoint.sign(checkpoint, with: Self.signer)
        #expect(try signed.verify(logKey: Self.signer.verifierKey) == checkpoint)
        let line = try #require(signed.note.signatures.first)
        let renamed = try NoteSignature(name: Self.kelvin, keyID: line.keyID, signature: line.signature)
        let forged = try SignedCheckpoint(note: SignedNote(text: signed.note.text, signatures: [renamed]))
        #expect(throws: NoteError.self) { try forged.verify(logKey: Self.signer.verifierKey) }
        do {
            try forged.verify(logKey: Self.signer.verifierKey)
        } catch {
            #expect(error.code == .unknownKey, "\(error)")
        }
        #expect(throws: NoteError.self) { try forged.note.verify(with: [Self.signer.verifierKey]) }
        #expect(!renamed.names(Self.signer.verifierKey))
        #expect(renamed != line)
        #expect(Set([renamed, line]).count == 2)
    }

    @Test("A checkpoint whose origin is a look-alike of the key's name (or of --origin) is refused")
    func lookAlikeOrigin() throws {
        let lookAlike = Checkpoint(origin: Self.kelvin, size: 3, rootHash: SHA256.hash(utf8: "root"))
        let signed = try SignedCheckpoint.sign(lookAlike, with: Self.signer)
        do {
            try signed.verify(logKey: Self.signer.verifierKey)
            Issue.record("a look-alike origin verified")
        } catch {
            #expect(error.code == .originMismatch, "\(error)")
        }
        let nfd = try SignedCheckpoint.sign(
            Checkpoint(origin: "cafe\u{301} log", size: 1, rootHash: SHA256.hash(utf8: "r")), with: Self.signer)
        #expect(throws: NoteError.self) { try nfd.verify(logKey: Self.signer.verifierKey, origin: "caf\u{E9} log") }
        #expect(try nfd.verify(logKey: Self.signer.verifierKey, origin: "cafe\u{301} log").size == 1)
        // Checkpoints and keys that differ only so are different values.
        #expect(lookAlike != Checkpoint(origin: "Key.example", size: 3, rootHash: SHA256.hash(utf8: "root")))
    }
}
