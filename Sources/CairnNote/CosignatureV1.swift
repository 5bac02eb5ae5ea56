import CairnCrypto

/// c2sp.org/tlog-cosignature, Ed25519 "cosignature/v1" (signature type 0x04).
///
/// A cosigner signs, with Ed25519, the message
///
/// ```
/// cosignature/v1
/// time <timestamp>
/// <the whole checkpoint text, extension lines included>
/// ```
///
/// and writes the signature line `— <cosigner name> base64(key ID || timestamp || signature)`,
/// where the key ID is SHA-256(name || 0x0A || 0x04 || public key)[:4], the timestamp is 8 bytes
/// big-endian (POSIX seconds, at most 2^63 - 1) and the signature is 64 bytes.
public enum CosignatureV1 {
    /// The signature type byte of a cosignature/v1 key.
    public static let signatureType: UInt8 = NoteVerifierKey.cosignatureV1Type
    /// The largest timestamp allowed: 2^63 - 1.
    public static let maxTimestamp = UInt64(Int64.max)
    /// Bytes after the key ID in a cosignature/v1 line: 8-byte timestamp and 64-byte signature.
    public static let signatureByteCount = 72

    /// The message a cosigner signs for this checkpoint text and timestamp.
    public static func signedMessage(checkpointText: String, timestamp: UInt64) -> [UInt8] {
        signedMessage(text: Array(checkpointText.utf8), timestamp: timestamp)
    }

    static func signedMessage(text: [UInt8], timestamp: UInt64) -> [UInt8] {
        Array("cosignature/v1\ntime \(timestamp)\n".utf8) + text
    }

    /// Cosigns `checkpoint` at `timestamp` with the cosigner's Ed25519 key under `name`.
    /// Add the returned line to the note with ``SignedCheckpoint/adding(_:)``.
    public static func sign(
        checkpoint: Checkpoint, timestamp: UInt64, signer key: Ed25519PrivateKey, name: String
    ) throws(NoteError) -> NoteSignature {
        try NoteSyntax.checkKeyName(name, context: "cosigner")
        guard timestamp <= maxTimestamp else {
            throw NoteError(
                .invalidTimestamp,
                "cosignature timestamp \(timestamp) is above 2^63 - 1; use POSIX seconds")
        }
        let text = try checkpoint.validatedText()
        let keyID = NoteVerifierKey.keyID(name: name, type: signatureType, publicKey: key.publicKey.rawRepresentation)
        do throws(CryptoError) {
            let signature = try key.signature(for: signedMessage(checkpointText: text, timestamp: timestamp))
            return NoteSignature(
                unchecked: name, keyID: keyID,
                signature: NoteSyntax.bigEndianBytes(timestamp) + signature)
        } catch {
            throw NoteError(.signingFailed, "cosigner \(name): \(error.message)")
        }
    }

    /// Verifies the cosignature of `cosigner` (a type 0x04 vkey) on the checkpoint and returns
    /// its timestamp. Other signature lines, including the log's, are ignored.
    ///
    /// Every line from the cosigner must verify (`badSignature`); if there are several, the
    /// latest timestamp is returned. No line from the cosigner is `unknownKey`.
    public static func verify(_ signed: SignedCheckpoint, cosigner: NoteVerifierKey) throws(NoteError) -> UInt64 {
        guard cosigner.type == signatureType else {
            throw NoteError(
                .unsupportedKeyType,
                "cosigner key \(cosigner.nameAndID) has signature type 0x\(Hex.encode([cosigner.type])); "
                    + "a cosignature/v1 key has type 0x04 (make it with NoteVerifierKey(cosignatureName:ed25519:))")
        }
        let lines = signed.note.signatures.filter { $0.names(cosigner) }
        guard !lines.isEmpty else {
            throw NoteError(
                .unknownKey,
                "the checkpoint has no cosignature from \(cosigner.nameAndID) (signed by: \(signed.note.signerList))")
        }
        try signed.note.verify(with: [cosigner])
        return lines.compactMap { timestamp(of: $0) }.max()!  // verified lines are 72 bytes
    }

    /// The timestamp of a cosignature/v1 signature line, read without verifying it; nil if the
    /// signature is not 72 bytes.
    public static func timestamp(of signature: NoteSignature) -> UInt64? {
        split(signature.signature)?.timestamp
    }

    static func split(_ bytes: [UInt8]) -> (timestamp: UInt64, signature: [UInt8])? {
        guard bytes.count == signatureByteCount else { return nil }
        return (NoteSyntax.readUInt64(bytes, at: 0), Array(bytes[8...]))
    }
}
