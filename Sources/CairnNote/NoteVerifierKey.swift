import CairnCrypto

/// A c2sp.org/signed-note verifier key ("vkey"): `<name>+<hex key ID>+<base64(type || key)>`.
///
/// Cairn verifies two signature types, both with a 32-byte Ed25519 public key:
/// - `0x01`: an Ed25519 signature of the note text (c2sp.org/signed-note);
/// - `0x04`: a timestamped Ed25519 cosignature of a checkpoint (c2sp.org/tlog-cosignature v1).
///
/// The key ID is always checked: it must equal SHA-256(name || 0x0A || type || key)[:4].
public struct NoteVerifierKey: Sendable, Hashable, CustomStringConvertible {
    /// Signature type 0x01: Ed25519 over the note text.
    public static let ed25519Type: UInt8 = 0x01
    /// Signature type 0x04: timestamped Ed25519 checkpoint cosignature (cosignature/v1).
    public static let cosignatureV1Type: UInt8 = 0x04

    /// The key name, as it appears in signature lines.
    public let name: String
    /// The 32-bit key ID, as it appears (big-endian) at the start of each signature.
    public let keyID: UInt32
    /// The signature type byte (0x01 or 0x04).
    public let type: UInt8
    /// The 32-byte Ed25519 public key.
    public let publicKey: [UInt8]

    let ed25519: Ed25519PublicKey

    /// Parses a vkey. The text is split on its first two `+` only (base64 may contain `+`).
    ///
    /// Checks, in order: three parts; a valid key name; a key ID of exactly 8 lowercase hex
    /// digits; canonical padded base64; a supported type byte; a 32-byte key; and that the key ID
    /// is the one computed from the name, type and key.
    public init(parsing text: String) throws(NoteError) {
        let parts = text.split(separator: "+", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3 else {
            throw NoteError(
                .malformedVerifierKey,
                "verifier key: expected <name>+<8 hex digit key ID>+<base64 key>, found \(parts.count - 1) '+'")
        }
        let name = String(parts[0])
        try NoteSyntax.checkKeyName(name, context: "verifier key")
        guard let keyID = NoteSyntax.parseHex8(parts[1]) else {
            throw NoteError(
                .malformedVerifierKey,
                "verifier key \(NoteSyntax.escaped(name)): the key ID \"\(NoteSyntax.escaped(parts[1]))\" "
                    + "is not 8 lowercase hex digits")
        }
        guard let bytes = Base64.decode(parts[2]), let type = bytes.first else {
            throw NoteError(
                .malformedVerifierKey,
                "verifier key \(name): the key is not canonical padded base64 (RFC 4648) of a type byte and a key")
        }
        let key = Array(bytes.dropFirst())
        try self.init(name: name, type: type, publicKey: key, context: "verifier key \(name)")
        guard keyID == self.keyID else {
            throw NoteError(
                .keyIDMismatch,
                "verifier key \(name): key ID \(NoteSyntax.hex8(keyID)) does not match the name and key "
                    + "(computed \(NoteSyntax.hex8(self.keyID))); the vkey was altered or mistyped")
        }
    }

    /// The vkey of an Ed25519 note signer (type 0x01) with this name.
    public init(name: String, ed25519 key: Ed25519PublicKey) throws(NoteError) {
        try NoteSyntax.checkKeyName(name, context: "verifier key")
        try self.init(name: name, type: Self.ed25519Type, publicKey: key.rawRepresentation, context: "verifier key")
    }

    /// The vkey of a cosignature/v1 cosigner (type 0x04) with this name.
    public init(cosignatureName name: String, ed25519 key: Ed25519PublicKey) throws(NoteError) {
        try NoteSyntax.checkKeyName(name, context: "cosigner key")
        try self.init(
            name: name, type: Self.cosignatureV1Type, publicKey: key.rawRepresentation, context: "cosigner key")
    }

    private init(name: String, type: UInt8, publicKey: [UInt8], context: String) throws(NoteError) {
        guard type == Self.ed25519Type || type == Self.cosignatureV1Type else {
            throw NoteError(
                .unsupportedKeyType,
                "\(context): signature type 0x\(Hex.encode([type])) is not supported; Cairn verifies "
                    + "0x01 (Ed25519) and 0x04 (Ed25519 cosignature/v1)")
        }
        guard publicKey.count == Ed25519PublicKey.byteCount else {
            throw NoteError(
                .malformedVerifierKey,
                "\(context): an Ed25519 public key is 32 bytes, found \(publicKey.count)")
        }
        do throws(CryptoError) {
            self.ed25519 = try Ed25519PublicKey(rawRepresentation: publicKey)
        } catch {
            throw NoteError(.malformedVerifierKey, "\(context): \(error.message)")
        }
        self.name = name
        self.type = type
        self.publicKey = publicKey
        self.keyID = Self.keyID(name: name, type: type, publicKey: publicKey)
    }

    /// The vkey text: `<name>+<8 lowercase hex>+<base64(type || key)>`.
    public var description: String {
        name + "+" + NoteSyntax.hex8(keyID) + "+" + Base64.encode([type] + publicKey)
    }

    /// `<name>+<8 lowercase hex>`: how error messages and Go's note package name a key.
    public var nameAndID: String { name + "+" + NoteSyntax.hex8(keyID) }

    /// SHA-256(name || 0x0A || type || publicKey)[:4], read as a big-endian integer.
    public static func keyID(name: String, type: UInt8, publicKey: [UInt8]) -> UInt32 {
        let digest = SHA256.hash(Array(name.utf8) + [0x0A, type] + publicKey)
        return NoteSyntax.readUInt32(digest.bytes, at: 0)
    }

    /// Whether this key made `signature` over a note with these text bytes. The caller has
    /// matched the name and key ID already.
    func verifies(_ signature: NoteSignature, text: [UInt8]) -> Bool {
        switch type {
        case Self.ed25519Type:
            return ed25519.isValidSignature(signature.signature, for: text)
        case Self.cosignatureV1Type:
            guard let (timestamp, ed25519Signature) = CosignatureV1.split(signature.signature),
                timestamp <= CosignatureV1.maxTimestamp
            else { return false }
            return ed25519.isValidSignature(
                ed25519Signature,
                for: CosignatureV1.signedMessage(text: text, timestamp: timestamp))
        default:
            return false  // unreachable: init admits only the two types above
        }
    }
}
