import CairnCrypto

/// One signature line of a signed note: `— <name> base64(key ID || signature)`.
public struct NoteSignature: Sendable, Hashable {
    /// The key name.
    public let name: String
    /// The key ID (the first four bytes of the decoded base64, big-endian).
    public let keyID: UInt32
    /// The signature bytes after the key ID (64 for Ed25519, 72 for a cosignature/v1).
    public let signature: [UInt8]

    /// A signature line from its parts. The name must be a valid key name and the signature
    /// non-empty.
    public init(name: String, keyID: UInt32, signature: [UInt8]) throws(NoteError) {
        try NoteSyntax.checkKeyName(name, context: "signature")
        guard !signature.isEmpty else {
            throw NoteError(.malformedSignatureLine, "signature of \(name): the signature is empty")
        }
        self.init(unchecked: name, keyID: keyID, signature: signature)
    }

    /// Parses one signature line, with or without its final newline (for example a cosignature
    /// line returned by a witness).
    public init(parsingLine line: String) throws(NoteError) {
        var bytes = Array(line.utf8)
        if bytes.last == NoteSyntax.newline { bytes.removeLast() }
        if let i = bytes.firstIndex(where: { $0 < 0x20 }) {
            throw NoteError(
                .malformedSignatureLine,
                "signature line: control character \(NoteSyntax.codePoint(Unicode.Scalar(bytes[i]))) is not allowed")
        }
        self = try NoteSyntax.parseSignatureLine(bytes[...], context: "signature line")
    }

    init(unchecked name: String, keyID: UInt32, signature: [UInt8]) {
        self.name = name
        self.keyID = keyID
        self.signature = signature
    }

    /// The line as it appears in a note, including the final newline:
    /// `— <name> <base64(4-byte big-endian key ID || signature)>\n`.
    public var line: String {
        NoteSyntax.signaturePrefixText + name + " " + Base64.encode(NoteSyntax.bigEndianBytes(keyID) + signature) + "\n"
    }

    /// `<name>+<8 lowercase hex>`, as in a vkey.
    public var nameAndID: String { name + "+" + NoteSyntax.hex8(keyID) }
}

/// Signs note texts with an Ed25519 key under a key name (signature type 0x01).
public struct NoteSigner: Sendable {
    /// The key name written in signature lines.
    public let name: String
    /// SHA-256(name || 0x0A || 0x01 || public key)[:4].
    public let keyID: UInt32
    /// The vkey that verifies this signer's signatures.
    public let verifierKey: NoteVerifierKey

    let privateKey: Ed25519PrivateKey

    /// A signer with this key name and Ed25519 key.
    public init(name: String, privateKey: Ed25519PrivateKey) throws(NoteError) {
        try NoteSyntax.checkKeyName(name, context: "signer")
        self.verifierKey = try NoteVerifierKey(name: name, ed25519: privateKey.publicKey)
        self.name = name
        self.keyID = verifierKey.keyID
        self.privateKey = privateKey
    }

    /// Reads a private key in the format of Go's golang.org/x/mod/sumdb/note:
    /// `PRIVATE+KEY+<name>+<8 hex digit key ID>+<base64(0x01 || 32-byte seed)>`.
    /// The key ID is checked against the public key derived from the seed. Error messages never
    /// include the key material.
    public init(goPrivateKey text: String) throws(NoteError) {
        let parts = text.split(separator: "+", maxSplits: 4, omittingEmptySubsequences: false)
        guard parts.count == 5, parts[0] == "PRIVATE", parts[1] == "KEY" else {
            throw NoteError(
                .malformedSignerKey,
                "signer key: expected PRIVATE+KEY+<name>+<8 hex digit key ID>+<base64 key>")
        }
        let name = String(parts[2])
        try NoteSyntax.checkKeyName(name, context: "signer key")
        guard let keyID = NoteSyntax.parseHex8(parts[3]) else {
            throw NoteError(.malformedSignerKey, "signer key \(name): the key ID is not 8 lowercase hex digits")
        }
        guard let bytes = Base64.decode(parts[4]), let type = bytes.first else {
            throw NoteError(
                .malformedSignerKey,
                "signer key \(name): the key is not canonical padded base64 (RFC 4648) of a type byte and a seed")
        }
        guard type == NoteVerifierKey.ed25519Type else {
            throw NoteError(
                .unsupportedKeyType,
                "signer key \(name): signature type 0x\(Hex.encode([type])) is not supported; "
                    + "Go-format signer keys hold 0x01 (Ed25519)")
        }
        let privateKey: Ed25519PrivateKey
        do throws(CryptoError) {
            privateKey = try Ed25519PrivateKey(seed: Array(bytes.dropFirst()))
        } catch {
            throw NoteError(.malformedSignerKey, "signer key \(name): \(error.message)")
        }
        try self.init(name: name, privateKey: privateKey)
        guard keyID == self.keyID else {
            throw NoteError(
                .keyIDMismatch,
                "signer key \(name): key ID \(NoteSyntax.hex8(keyID)) does not match the key "
                    + "(computed \(NoteSyntax.hex8(self.keyID))); the key was altered or mistyped")
        }
    }

    /// Signs a note text. The text must end in a newline and contain no ASCII control character
    /// other than newline.
    public func sign(text: String) throws(NoteError) -> NoteSignature {
        try NoteSyntax.checkNoteText(text)
        do throws(CryptoError) {
            let signature = try privateKey.signature(for: Array(text.utf8))
            return NoteSignature(unchecked: name, keyID: keyID, signature: signature)
        } catch {
            throw NoteError(.signingFailed, "signer \(name): \(error.message)")
        }
    }
}
