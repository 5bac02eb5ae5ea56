import CairnCrypto
import CairnNote
import Testing

/// c2sp.org/signed-note "Verifier keys": `<name>+hex(key ID)+base64(type || key)`.
@Suite("Verifier keys")
struct VerifierKeyTests {
    static let vectors = NoteVectors.shared

    @Test(
        "vkey_valid: each vkey parses into its name, key ID, type and key, and prints back unchanged",
        arguments: vectors.vkeyValid)
    func validVKey(_ v: NoteVectors.ValidVKey) throws {
        let key = try NoteVerifierKey(parsing: v.vkey)
        #expect(key.name == v.name)
        #expect(NoteSignatureHex.hex8(key.keyID) == v.keyIdHex)
        #expect(key.type == v.signatureType)
        #expect(key.publicKey == Support.hex(v.publicKeyHex))
        #expect(key.description == v.vkey)
        #expect(NoteVerifierKey.keyID(name: v.name, type: v.signatureType, publicKey: key.publicKey) == key.keyID)
    }

    @Test("vkey_invalid: every mangled, truncated, wrong-length or unknown-type vkey is refused")
    func invalidVKeys() {
        #expect(Self.vectors.vkeyInvalid.count == 133)
        let vkeyCodes: Set<NoteError.Code> = [
            .malformedVerifierKey, .invalidKeyName, .unsupportedKeyType, .keyIDMismatch,
        ]
        for v in Self.vectors.vkeyInvalid {
            let error = Support.noteError { _ = try NoteVerifierKey(parsing: v.vkey) }
            #expect(error != nil, "accepted \(v.vkey) (\(v.why))")
            if let error { #expect(vkeyCodes.contains(error.code), "\(v.vkey): \(error)") }
        }
    }

    @Test("The key ID is SHA-256(name || 0x0A || type || key)[:4], big-endian")
    func keyIDFormula() throws {
        let key = try NoteVerifierKey(parsing: "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k")
        let digest = SHA256.hash(Array("example.com/foo".utf8) + [0x0A, 0x01] + key.publicKey).bytes
        #expect(
            NoteVerifierKey.keyID(name: key.name, type: 0x01, publicKey: key.publicKey)
                == UInt32(digest[0]) << 24 | UInt32(digest[1]) << 16 | UInt32(digest[2]) << 8 | UInt32(digest[3]))
        #expect(key.keyID == 0x530d903a)
    }

    @Test("A vkey is split on its first two '+' only, because base64 may contain '+'")
    func splitOnFirstTwoPlus() throws {
        let key = try NoteVerifierKey(parsing: "Log+2271c621+AemuH5ooBpEPcr+W8onrjA1NfuzBVHdezakU81Ekarvs")
        #expect(key.name == "Log")
        #expect(key.publicKey.count == 32)
    }

    @Test(
        "A vkey made from a public key matches the published one; the same key as a cosigner gets type 0x04 and another ID"
    )
    func vkeyFromPublicKey() throws {
        let known = try NoteVerifierKey(parsing: "Known+451c786d+AXAQ0T7lbwuY4ABJ9/MYY9bWV3hmSyOGVt2x42NkmdUH")
        let publicKey = try Ed25519PublicKey(rawRepresentation: known.publicKey)
        #expect(try NoteVerifierKey(name: "Known", ed25519: publicKey) == known)
        let cosigner = try NoteVerifierKey(cosignatureName: "Known", ed25519: publicKey)
        #expect(cosigner.description == "Known+fdd35892+BHAQ0T7lbwuY4ABJ9/MYY9bWV3hmSyOGVt2x42NkmdUH")
        #expect(cosigner.type == 0x04)
        #expect(cosigner != known)
    }

    @Test("The key ID must be exactly 8 lowercase hex digits")
    func keyIDSpelling() {
        for id in ["C74F20A3", "c74f20a", "c74f20a3f", "0xc74f20", "c74f20g3", ""] {
            let error = Support.noteError {
                _ = try NoteVerifierKey(parsing: "PeterNeumann+\(id)+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")
            }
            #expect(
                error
                    == NoteError(
                        code: .malformedVerifierKey,
                        message: "verifier key PeterNeumann: the key ID \"\(id)\" is not 8 lowercase hex digits"))
        }
    }

    @Test("A vkey's key must be canonical base64 of a type byte and a 32-byte key")
    func keyMaterial() {
        #expect(
            throws: NoteError(
                code: .malformedVerifierKey,
                message:
                    "verifier key PeterNeumann: the key is not canonical padded base64 (RFC 4648) of a type byte and a key"
            )
        ) {
            try NoteVerifierKey(parsing: "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T")
        }
        #expect(
            throws: NoteError(
                code: .malformedVerifierKey,
                message:
                    "verifier key PeterNeumann: the key is not canonical padded base64 (RFC 4648) of a type byte and a key"
            )
        ) {
            try NoteVerifierKey(parsing: "PeterNeumann+c74f20a3+")
        }
        // Go's vector: non-canonical base64 (non-zero padding bits), which Cairn refuses first.
        #expect(
            throws: NoteError(
                code: .malformedVerifierKey,
                message:
                    "verifier key PeterNeumann: the key is not canonical padded base64 (RFC 4648) of a type byte and a key"
            )
        ) {
            try NoteVerifierKey(parsing: "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==")
        }
        #expect(
            throws: NoteError(
                code: .malformedVerifierKey,
                message: "verifier key PeterNeumann: an Ed25519 public key is 32 bytes, found 40")
        ) {
            try NoteVerifierKey(
                parsing: "PeterNeumann+cc469956+" + Base64.encode([1] + [UInt8](repeating: 7, count: 40)))
        }
    }
}

/// Hex spelling of key IDs for assertions.
enum NoteSignatureHex {
    static func hex8(_ id: UInt32) -> String {
        let hex = String(id, radix: 16)
        return String(repeating: "0", count: 8 - hex.count) + hex
    }
}
