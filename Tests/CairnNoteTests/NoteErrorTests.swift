import CairnCrypto
import CairnNote
import Foundation
import Testing

/// One test per NoteError code: what triggers it and the exact one-line message.
@Suite("Note error codes and messages")
struct NoteErrorTests {
    static let peter = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
    static let seed1 = [UInt8](repeating: 1, count: 32)
    static let example = """
        This is an example message.

        \u{2014} example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=

        """
    static let exampleKey = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"

    @Test("malformedNote: no blank line separates text and signatures")
    func malformedNote() {
        #expect(
            throws: NoteError(
                code: .malformedNote,
                message:
                    "no blank line before the signatures; a signed note is its text, a blank line, then one or more signature lines"
            )
        ) {
            try SignedNote(parsing: "just text\n")
        }
    }

    @Test("malformedSignatureLine: a line after the blank line is not a signature line")
    func malformedSignatureLine() {
        #expect(
            throws: NoteError(
                code: .malformedSignatureLine,
                message: "line 3: not a signature line; after the last blank line every line must be "
                    + "'\u{2014} <key name> <base64 signature>' (U+2014 em dash, space)")
        ) {
            try SignedNote(parsing: "text\n\n-- example.com/foo AAAAAAA=\n")
        }
    }

    @Test("tooManySignatures: more than 100 signature lines")
    func tooManySignatures() {
        let text = "text\n\n" + String(repeating: "\u{2014} a AAAAAAA=\n", count: 101)
        #expect(
            throws: NoteError(
                code: .tooManySignatures,
                message: "the note has 101 signature lines; Cairn accepts at most 100")
        ) {
            try SignedNote(parsing: text)
        }
    }

    @Test("invalidKeyName: a key name with a space")
    func invalidKeyName() {
        #expect(
            throws: NoteError(
                code: .invalidKeyName,
                message:
                    "signer: key name \"my log\" contains a space (U+0020); key names must be non-empty with no spaces or '+'"
            )
        ) {
            try NoteSigner(name: "my log", privateKey: Ed25519PrivateKey(seed: Self.seed1))
        }
    }

    @Test("malformedVerifierKey: a vkey without its key")
    func malformedVerifierKey() {
        #expect(
            throws: NoteError(
                code: .malformedVerifierKey,
                message: "verifier key: expected <name>+<8 hex digit key ID>+<base64 key>, found 1 '+'")
        ) {
            try NoteVerifierKey(parsing: "PeterNeumann+c74f20a3")
        }
    }

    @Test("malformedSignerKey: a Go private key without the PRIVATE+KEY prefix")
    func malformedSignerKey() {
        #expect(
            throws: NoteError(
                code: .malformedSignerKey,
                message: "signer key: expected PRIVATE+KEY+<name>+<8 hex digit key ID>+<base64 key>")
        ) {
            try NoteSigner(goPrivateKey: Self.peter)
        }
        #expect(
            throws: NoteError(
                code: .malformedSignerKey,
                message: "signer key PeterNeumann: an Ed25519 seed is 32 bytes, got 31")
        ) {
            try NoteSigner(
                goPrivateKey: "PRIVATE+KEY+PeterNeumann+c74f20a3+"
                    + Base64.encode([1] + [UInt8](repeating: 0, count: 31)))
        }
    }

    @Test("unsupportedKeyType: a vkey with signature type 0x65")
    func unsupportedKeyType() {
        #expect(
            throws: NoteError(
                code: .unsupportedKeyType,
                message:
                    "verifier key PeterNeumann: signature type 0x65 is not supported; Cairn verifies 0x01 (Ed25519) "
                    + "and 0x04 (Ed25519 cosignature/v1)")
        ) {
            try NoteVerifierKey(parsing: "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")
        }
        #expect(
            throws: NoteError(
                code: .unsupportedKeyType,
                message:
                    "signer key PeterNeumann: signature type 0x04 is not supported; Go-format signer keys hold 0x01 (Ed25519)"
            )
        ) {
            try NoteSigner(goPrivateKey: "PRIVATE+KEY+PeterNeumann+c74f20a3+" + Base64.encode([4] + Self.seed1))
        }
    }

    @Test("keyIDMismatch: a vkey or Go private key whose key ID is not the computed one")
    func keyIDMismatch() {
        #expect(
            throws: NoteError(
                code: .keyIDMismatch,
                message:
                    "verifier key PeterNeumann: key ID c74f20a4 does not match the name and key (computed c74f20a3); "
                    + "the vkey was altered or mistyped")
        ) {
            try NoteVerifierKey(parsing: "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")
        }
        #expect(
            throws: NoteError(
                code: .keyIDMismatch,
                message: "signer key PeterNeumann: key ID c74f20a4 does not match the key (computed c74f20a3); "
                    + "the key was altered or mistyped")
        ) {
            try NoteSigner(
                goPrivateKey: "PRIVATE+KEY+PeterNeumann+c74f20a4+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz")
        }
    }

    @Test("unknownKey: the checkpoint carries no signature from the required log key")
    func unknownKey() throws {
        let signer = try NoteSigner(name: "example.com/log", privateKey: Ed25519PrivateKey(seed: Self.seed1))
        let other = try NoteSigner(
            name: "example.com/log", privateKey: Ed25519PrivateKey(seed: [UInt8](repeating: 2, count: 32)))
        let signed = try SignedCheckpoint.sign(
            Checkpoint(origin: "example.com/log", size: 0, rootHash: SHA256.hash([])), with: other)
        #expect(
            throws: NoteError(
                code: .unknownKey,
                message: "the checkpoint has no signature from the log key \(signer.verifierKey.nameAndID) "
                    + "(signed by: \(other.verifierKey.nameAndID))")
        ) {
            try signed.verify(logKey: signer.verifierKey)
        }
    }

    @Test("badSignature: a trusted key's signature over changed text")
    func badSignature() throws {
        let changed = Self.example.replacingFirst("example message.", with: "example message!")
        #expect(
            throws: NoteError(
                code: .badSignature,
                message:
                    "the signature by example.com/foo+530d903a does not verify; the note was changed after signing "
                    + "or the signature is corrupt")
        ) {
            try SignedNote(parsing: changed).verify(with: [NoteVerifierKey(parsing: Self.exampleKey)])
        }
    }

    @Test("noVerifiedSignature: none of the trusted keys signed")
    func noVerifiedSignature() throws {
        #expect(
            throws: NoteError(
                code: .noVerifiedSignature,
                message:
                    "no trusted key signed this note (trusted: PeterNeumann+c74f20a3; signed by: example.com/foo+530d903a)"
            )
        ) {
            try SignedNote(parsing: Self.example).verify(with: [NoteVerifierKey(parsing: Self.peter)])
        }
    }

    @Test("ambiguousKey: the trusted keys name the signer twice")
    func ambiguousKey() throws {
        let key = try NoteVerifierKey(parsing: Self.exampleKey)
        #expect(
            throws: NoteError(
                code: .ambiguousKey,
                message:
                    "the trusted keys include example.com/foo+530d903a 2 times; remove the duplicates from the key list"
            )
        ) {
            try SignedNote(parsing: Self.example).verify(with: [key, key])
        }
    }

    @Test("malformedCheckpoint: the note text is not a checkpoint")
    func malformedCheckpoint() {
        #expect(
            throws: NoteError(
                code: .malformedCheckpoint,
                message: "the checkpoint has 1 line; it needs at least 3: origin, tree size, root hash")
        ) {
            try SignedCheckpoint(parsing: Self.example)
        }
    }

    @Test("originMismatch: the checkpoint is for another log")
    func originMismatch() throws {
        let signer = try NoteSigner(name: "example.com/log", privateKey: Ed25519PrivateKey(seed: Self.seed1))
        let signed = try SignedCheckpoint.sign(
            Checkpoint(origin: "example.com/log", size: 0, rootHash: SHA256.hash([])), with: signer)
        #expect(
            throws: NoteError(
                code: .originMismatch,
                message:
                    "line 1: the checkpoint origin \"example.com/log\" is not the expected origin \"example.com/other\"; "
                    + "check that the log key belongs to this log")
        ) {
            try signed.verify(logKey: signer.verifierKey, origin: "example.com/other")
        }
    }

    @Test("invalidTimestamp: a cosignature timestamp above 2^63 - 1")
    func invalidTimestamp() throws {
        #expect(
            throws: NoteError(
                code: .invalidTimestamp,
                message: "cosignature timestamp 18446744073709551615 is above 2^63 - 1; use POSIX seconds")
        ) {
            try CosignatureV1.sign(
                checkpoint: Checkpoint(origin: "o", size: 0, rootHash: SHA256.hash([])),
                timestamp: .max, signer: Ed25519PrivateKey(seed: Self.seed1), name: "w")
        }
    }

    @Test("signingFailed: reserved for an OpenSSL failure while signing, which no input can cause; its form is fixed")
    func signingFailed() {
        let error = NoteError(code: .signingFailed, message: "signer example.com/log: OpenSSL could not sign")
        #expect(error.description == "signingFailed: signer example.com/log: OpenSSL could not sign")
    }

    @Test("Error codes are stable: their raw values are the case names, and every code is tested above")
    func stableCodes() {
        #expect(
            NoteError.Code.allCases.map(\.rawValue) == [
                "malformedNote", "malformedSignatureLine", "tooManySignatures", "invalidKeyName",
                "malformedVerifierKey", "malformedSignerKey", "unsupportedKeyType", "keyIDMismatch",
                "unknownKey", "badSignature", "noVerifiedSignature", "ambiguousKey",
                "malformedCheckpoint", "originMismatch", "invalidTimestamp", "signingFailed",
            ])
    }

    @Test("Messages are one line: no message contains a newline, even for input full of them")
    func oneLineMessages() {
        let inputs = [
            "a\nb", "\n\n\n", "x\n\n\u{2014} a\nb AAAA\n", "PRIVATE+KEY+a\nb+00000000+AA==", "a\nb+00000000+AA==",
        ]
        for input in inputs {
            for error in [
                Support.noteError { _ = try SignedNote(parsing: input) },
                Support.noteError { _ = try NoteVerifierKey(parsing: input) },
                Support.noteError { _ = try NoteSigner(goPrivateKey: input) },
                Support.noteError { _ = try Checkpoint(parsing: input) },
                Support.noteError { _ = try NoteSignature(parsingLine: input) },
            ] {
                #expect(error != nil)
                #expect(!(error?.message.contains("\n") ?? false), "\(String(describing: error))")
            }
        }
    }
}

extension String {
    func replacingFirst(_ target: String, with replacement: String) -> String {
        guard let range = self.range(of: target) else { return self }
        return self.replacingCharacters(in: range, with: replacement)
    }
}
