import CairnCrypto

/// The text formats of a `key-rotation` record's keys (specs/key-rotation.md), checked without `CairnNote`: a
/// C2SP signed-note verifier key of an Ed25519 note signer, and an Ed25519 signature in base64.
///
/// The key check is the one `NoteVerifierKey(parsing:)` makes, restricted to signature type 0x01: a key name
/// (non-empty, no Unicode space, no `+`, no control character), exactly 8 lowercase hex digits, the canonical
/// padded base64 of 0x01 and a 32-byte key, and the key ID equal to the first 4 bytes of
/// SHA-256(name ‖ 0x0A ‖ 0x01 ‖ key). Whether the 32 bytes are a point of the curve is left to the note layer.
enum VerifierKeyText {
    /// Why `text` is not an Ed25519 verifier key, or nil when it is one.
    static func problem(_ text: String) -> String? {
        let parts = text.split(separator: "+", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3 else { return "it has \(parts.count - 1) '+' where a verifier key has 2" }
        let name = parts[0]
        if name.isEmpty { return "the key name is empty" }
        for scalar in name.unicodeScalars
        where scalar.properties.isWhitespace || scalar.value < 0x20 || scalar.value == 0x7F {
            return "the key name contains \(scalar.codePointName)"
        }
        let id = parts[1].utf8
        guard id.count == 8, id.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }),
            let idBytes = Hex.decode(parts[1])
        else { return "the key ID is not 8 lowercase hex digits" }
        guard let key = Base64.decode(parts[2]) else { return "the key is not canonical padded base64" }
        guard key.count == 33, key[0] == 0x01 else {
            return "the key is not 0x01 (an Ed25519 note signer) and 32 bytes"
        }
        let digest = SHA256.hash(Array(name.utf8) + [0x0A] + key).bytes
        guard digest.prefix(4).elementsEqual(idBytes) else {
            return "the key ID does not match the name and key (the vkey was altered or mistyped)"
        }
        return nil
    }

    /// Whether `text` is the canonical padded base64 of exactly 64 bytes.
    static func isSignature(_ text: String) -> Bool {
        text.utf8.count == 88 && Base64.decode(text)?.count == 64
    }
}
