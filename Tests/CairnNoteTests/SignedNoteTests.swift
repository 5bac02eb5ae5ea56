import CairnCrypto
import CairnNote
import Testing

/// c2sp.org/signed-note: format, signing and verification.
@Suite("Signed notes")
struct SignedNoteTests {
    static let vectors = NoteVectors.shared
    static let peter = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
    static let peterSigner = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
    static let enoch = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
    static let quote =
        "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"

    /// What Cairn reports for each error vector. Every error vector must be listed here.
    static let expectedErrors: [String: NoteError] = {
        let badPeter = NoteError(
            code: .badSignature,
            message: "the signature by PeterNeumann+c74f20a3 does not verify; the note was changed after signing "
                + "or the signature is corrupt")
        let badFoo = NoteError(
            code: .badSignature,
            message: "the signature by example.com/foo+530d903a does not verify; the note was changed after signing "
                + "or the signature is corrupt")
        let lastLineNoNewline = NoteError(
            code: .malformedNote,
            message: "line 4: the last signature line does not end with a newline")
        return [
            "c2sp-example-unknown-key": NoteError(
                code: .noVerifiedSignature,
                message:
                    "no trusted key signed this note (trusted: PeterNeumann+c74f20a3; signed by: example.com/foo+530d903a)"
            ),
            "c2sp-example-bad-signature": badFoo,
            "c2sp-example-modified-text": badFoo,
            "go-open-no-known-keys": NoteError(
                code: .noVerifiedSignature,
                message:
                    "no trusted key signed this note (trusted: none; signed by: PeterNeumann+c74f20a3, EnochRoot+af0cfe78)"
            ),
            "go-open-duplicated-verifier-used": NoteError(
                code: .ambiguousKey,
                message: "the trusted keys include EnochRoot+af0cfe78 2 times; remove the duplicates from the key list"),
            "go-open-101-signatures": NoteError(
                code: .tooManySignatures,
                message: "the note has 101 signature lines; Cairn accepts at most 100"),
            "go-open-invalid-signature": badPeter,
            "go-open-malformed-0": NoteError(
                code: .malformedNote,
                message:
                    "no blank line before the signatures; a signed note is its text, a blank line, then one or more signature lines"
            ),
            "go-open-malformed-1": NoteError(
                code: .malformedNote,
                message: "line 3: no signature lines after this blank line; a signed note needs at least one"),
            "go-open-malformed-2": lastLineNoNewline,
            "go-open-malformed-3": NoteError(
                code: .malformedNote,
                message:
                    "line 1: control character U+0001 is not allowed; a note may contain no ASCII control character but newline"
            ),
            "go-open-malformed-4": NoteError(
                code: .malformedNote,
                message: "line 1: invalid UTF-8; a signed note must be UTF-8 text"),
            "go-open-malformed-5": lastLineNoNewline,
            "go-open-malformed-6": NoteError(
                code: .malformedSignatureLine,
                message: "line 5: not a signature line; after the last blank line every line must be "
                    + "'\u{2014} <key name> <base64 signature>' (U+2014 em dash, space)"),
            "go-open-misnamed-signature": NoteError(
                code: .noVerifiedSignature,
                message:
                    "no trusted key signed this note (trusted: PeterNeumann+c74f20a3; signed by: CarmenSandiego+c74f20a3)"
            ),
        ]
    }()

    // MARK: vectors

    @Test(
        "signed_note_cases: each note verifies, or fails, exactly as the vector says",
        arguments: vectors.signedNoteCases)
    func signedNoteCase(_ v: NoteVectors.NoteCase) throws {
        let keys = try v.verifierKeys.map { try NoteVerifierKey(parsing: $0) }
        let outcome = Result { () throws(NoteError) -> [NoteVerifierKey] in
            try SignedNote(parsing: v.bytes).verify(with: keys)
        }
        switch (v.expected, outcome) {
        case ("valid", .success(let verified)):
            // "PeterNeumann+c74f20a3 (duplicates collapse to one)" -> "PeterNeumann+c74f20a3"
            let expected = (v.verified ?? []).map { String($0.split(separator: " ")[0]) }
            #expect(verified.map(\.nameAndID) == expected)
            let note = try SignedNote(parsing: v.bytes)
            for unverified in v.unverified ?? [] {
                let nameAndID = String(unverified.split(separator: " ")[0])
                #expect(note.signatures.contains { $0.nameAndID == nameAndID })
                #expect(!verified.contains { $0.nameAndID == nameAndID })
            }
        case ("error", .failure(let error)):
            #expect(error == Self.expectedErrors[v.id], "no expected error listed for \(v.id)")
        default:
            Issue.record("\(v.id): expected \(v.expected), got \(outcome)")
        }
    }

    @Test("Parsing keeps the text and every signature line verbatim: serialized gives back the same bytes")
    func verbatimRoundTrip() throws {
        var parsed = 0
        for v in Self.vectors.signedNoteCases {
            guard let note = try? SignedNote(parsing: v.bytes) else { continue }
            #expect(Array(note.serialized.utf8) == v.bytes, "\(v.id)")
            parsed += 1
        }
        #expect(parsed == 12)
    }

    @Test("signing_cases: signing with Go's private key format reproduces the published note byte for byte")
    func signingCase() throws {
        for v in Self.vectors.signingCases {
            let signer = try NoteSigner(goPrivateKey: v.signerKey)
            let note = try SignedNote(text: v.text, signatures: [signer.sign(text: v.text)])
            #expect(note.serialized == v.expectedNote, "\(v.id)")
            #expect(signer.verifierKey.description == Self.peter)
            #expect(try note.verify(with: [signer.verifierKey]) == [signer.verifierKey])
        }
    }

    // MARK: format rules

    @Test("The text is separated from the signatures by the last blank line, so the text may contain blank lines")
    func lastBlankLineSeparates() throws {
        let signer = try NoteSigner(goPrivateKey: Self.peterSigner)
        let text = "first paragraph\n\nsecond paragraph\n\n"
        let note = try SignedNote(text: text, signatures: [signer.sign(text: text)])
        let parsed = try SignedNote(parsing: note.serialized)
        #expect(parsed.text == text)
        #expect(parsed.signatures.count == 1)
        #expect(try parsed.verify(with: [signer.verifierKey]).count == 1)
    }

    @Test("The note text includes its final newline but not the separating blank line")
    func textIncludesFinalNewline() throws {
        let v = Self.vectors.signedNoteCases.first { $0.id == "c2sp-example-valid" }!
        let note = try SignedNote(parsing: v.bytes)
        #expect(note.text == "This is an example message.\n")
        #expect(note.signatures.map(\.nameAndID) == ["example.com/foo+530d903a"])
        #expect(note.signatures[0].signature.count == 64)
    }

    @Test("A note with 16 signatures is accepted (the signed-note minimum); up to 100 are accepted, 101 are not")
    func signatureLimit() throws {
        let signer = try NoteSigner(goPrivateKey: Self.peterSigner)
        let line = try signer.sign(text: Self.quote).line
        for (count, accepted) in [(16, true), (100, true), (101, false)] {
            let text = Self.quote + "\n" + String(repeating: line, count: count)
            let result = Result { () throws(NoteError) in try SignedNote(parsing: text) }
            let parsed = (try? result.get()) != nil
            #expect(parsed == accepted, "\(count) signatures")
            if case .failure(let error) = result { #expect(error.code == .tooManySignatures) }
        }
        #expect(SignedNote.maxSignatures == 100)
    }

    @Test("Signature lines must be '— name base64', the base64 canonical and holding a key ID plus at least one byte")
    func signatureLineForm() {
        let cases: [(String, NoteError.Code, String)] = [
            (
                "- a AAAAAAA=", .malformedSignatureLine,
                "line 3: not a signature line; after the last blank line every line must be '\u{2014} <key name> <base64 signature>' (U+2014 em dash, space)"
            ),
            ("\u{2014} nobase64", .malformedSignatureLine, "line 3: no space between the key name and the signature"),
            (
                "\u{2014} a AAAAAA", .malformedSignatureLine,
                "line 3: the signature of a is not canonical padded base64 (RFC 4648)"
            ),
            (
                "\u{2014} a AAAAAAB=", .malformedSignatureLine,
                "line 3: the signature of a is not canonical padded base64 (RFC 4648)"
            ),
            (
                "\u{2014} a AAAAAA==", .malformedSignatureLine,
                "line 3: the signature of a is 4 bytes; it needs a 4-byte key ID and at least one signature byte"
            ),
            (
                "\u{2014} a  AAAAAAA=", .malformedSignatureLine,
                "line 3: the signature of a is not canonical padded base64 (RFC 4648)"
            ),
            (
                "\u{2014}  AAAAAAA=", .invalidKeyName,
                "line 3: the key name is empty; key names must be non-empty with no spaces or '+'"
            ),
            (
                "\u{2014} a+b AAAAAAA=", .invalidKeyName,
                "line 3: key name \"a+b\" contains '+'; key names must be non-empty with no spaces or '+'"
            ),
        ]
        for (line, code, message) in cases {
            #expect(throws: NoteError(code: code, message: message), "\(line)") {
                try SignedNote(parsing: "text\n\n" + line + "\n")
            }
        }
        #expect(throws: Never.self) { try SignedNote(parsing: "text\n\n\u{2014} a AAAAAAA=\n") }
    }

    @Test("Key names must be non-empty and contain no Unicode space (any White_Space character) and no '+'")
    func keyNames() throws {
        let key = try Ed25519PrivateKey(seed: [UInt8](repeating: 7, count: 32))
        for good in ["a", "example.com/log", "Señor-1", "oid/1.3.6.1.4.1", "日本語"] {
            #expect(throws: Never.self) { try NoteSigner(name: good, privateKey: key) }
        }
        for bad in ["", "a b", "a\tb", "a\u{00A0}b", "a\u{2003}b", "a\u{3000}b", "a\u{2028}b", "a+b", "a\u{1}b"] {
            let error = Support.noteError { _ = try NoteSigner(name: bad, privateKey: key) }
            #expect(error?.code == .invalidKeyName, "\(bad.debugDescription)")
        }
    }

    @Test("Only valid note text can be signed: it ends in a newline and has no control character but newline")
    func signableText() throws {
        let signer = try NoteSigner(goPrivateKey: Self.peterSigner)
        #expect(throws: NoteError(code: .malformedNote, message: "the note text must end with a newline")) {
            try signer.sign(text: "no newline")
        }
        #expect(throws: NoteError(code: .malformedNote, message: "the note text must end with a newline")) {
            try signer.sign(text: "")
        }
        #expect(
            throws: NoteError(
                code: .malformedNote,
                message:
                    "line 2: control character U+0009 is not allowed; a note may contain no ASCII control character but newline"
            )
        ) {
            try signer.sign(text: "one\ntab\there\n")
        }
        #expect(
            throws: NoteError(
                code: .malformedNote,
                message:
                    "line 1: control character U+000D is not allowed; a note may contain no ASCII control character but newline"
            )
        ) {
            try signer.sign(text: "crlf\r\n")
        }
    }

    // MARK: verification rules

    @Test("Signatures from unknown keys are ignored, even one sharing the name, or the ID, of a known key")
    func unknownKeysIgnored() throws {
        let signer = try NoteSigner(goPrivateKey: Self.peterSigner)
        let good = try signer.sign(text: Self.quote)
        let junk = [UInt8](repeating: 0xAB, count: 64)
        let sameName = try NoteSignature(name: "PeterNeumann", keyID: good.keyID ^ 1, signature: junk)
        let sameID = try NoteSignature(name: "PeterNeumanm", keyID: good.keyID, signature: junk)
        let note = try SignedNote(text: Self.quote, signatures: [sameName, good, sameID])
        #expect(try note.verify(with: [signer.verifierKey]) == [signer.verifierKey])
    }

    @Test("A failing signature from a known key rejects the whole note, even when another known key verifies")
    func knownBadSignatureRejects() throws {
        let peter = try NoteSigner(goPrivateKey: Self.peterSigner)
        let other = try NoteSigner(name: "other.example", privateKey: Ed25519PrivateKey.generate())
        var forged = try other.sign(text: Self.quote).signature
        forged[0] ^= 1
        let note = try SignedNote(
            text: Self.quote,
            signatures: [
                peter.sign(text: Self.quote), NoteSignature(name: other.name, keyID: other.keyID, signature: forged),
            ])
        let error = Support.noteError { _ = try note.verify(with: [peter.verifierKey, other.verifierKey]) }
        #expect(error?.code == .badSignature)
        #expect(try note.verify(with: [peter.verifierKey]) == [peter.verifierKey], "unknown to this verifier: ignored")
    }

    @Test("A known key's signature of the wrong length is a bad signature, not a parse error")
    func wrongLengthSignatureIsBad() throws {
        let peter = try NoteVerifierKey(parsing: Self.peter)
        let note = try SignedNote(
            text: Self.quote,
            signatures: [NoteSignature(name: peter.name, keyID: peter.keyID, signature: [1, 2, 3])])
        #expect(Support.noteError { _ = try note.verify(with: [peter]) }?.code == .badSignature)
    }

    @Test("verify returns each trusted key that signed once, in the order of its first signature")
    func verifiedKeysOrder() throws {
        let v = Self.vectors.signedNoteCases.first { $0.id == "go-open-duplicate-and-bad-unknown-sigs" }!
        let note = try SignedNote(parsing: v.bytes)
        #expect(note.signatures.count == 5)
        let peter = try NoteVerifierKey(parsing: Self.peter)
        let enoch = try NoteVerifierKey(parsing: Self.enoch)
        #expect(try note.verify(with: [peter]) == [peter])
        // With Enoch trusted, the corrupted Enoch copy is a known key's bad signature.
        #expect(Support.noteError { _ = try note.verify(with: [enoch, peter]) }?.code == .badSignature)
        let both = try SignedNote(parsing: Self.vectors.signedNoteCases.first { $0.id == "go-open-both-known" }!.bytes)
        #expect(try both.verify(with: [enoch, peter]) == [peter, enoch])
    }

    @Test("The same trusted key listed twice is ambiguous only when a signature line names it")
    func duplicateTrustedKeys() throws {
        let peter = try NoteVerifierKey(parsing: Self.peter)
        let enoch = try NoteVerifierKey(parsing: Self.enoch)
        let peterOnly = try SignedNote(
            parsing: Self.vectors.signedNoteCases
                .first { $0.id == "go-open-duplicated-verifier-unused" }!.bytes)
        #expect(try peterOnly.verify(with: [enoch, peter, enoch]) == [peter])
        #expect(Support.noteError { _ = try peterOnly.verify(with: [peter, enoch, peter]) }?.code == .ambiguousKey)
    }

    // MARK: building notes

    @Test("Adding a signature appends it, replacing one with the same key name and ID")
    func addingSignatures() throws {
        let peter = try NoteSigner(goPrivateKey: Self.peterSigner)
        let other = try NoteSigner(name: "other.example", privateKey: Ed25519PrivateKey.generate())
        let note = try SignedNote(text: Self.quote, signatures: [peter.sign(text: Self.quote)])
        let two = try note.adding(other.sign(text: Self.quote))
        #expect(two.signatures.map(\.name) == ["PeterNeumann", "other.example"])
        let again = try two.adding(peter.sign(text: Self.quote))
        #expect(again.signatures.map(\.name) == ["other.example", "PeterNeumann"])
        #expect(try again.verify(with: [peter.verifierKey, other.verifierKey]).count == 2)
    }

    @Test("A signature line parses on its own, with or without its newline, and prints back the same")
    func signatureLineAlone() throws {
        let text =
            "\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM="
        let a = try NoteSignature(parsingLine: text)
        let b = try NoteSignature(parsingLine: text + "\n")
        #expect(a == b)
        #expect(a.line == text + "\n")
        #expect(a.nameAndID == "PeterNeumann+c74f20a3")
        #expect(
            throws: NoteError(
                code: .malformedSignatureLine,
                message: "signature line: control character U+000A is not allowed")
        ) {
            try NoteSignature(parsingLine: text + "\n\n")
        }
    }

    @Test("A note needs at least one signature")
    func atLeastOneSignature() {
        #expect(throws: NoteError(code: .malformedNote, message: "a signed note needs at least one signature")) {
            try SignedNote(text: "text\n", signatures: [])
        }
    }
}
