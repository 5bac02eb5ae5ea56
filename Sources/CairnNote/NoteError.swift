/// An error from parsing, signing or verifying a signed note, verifier key or checkpoint.
///
/// `code` is stable and meant for programs. `message` is one line meant for people: it says what
/// is wrong and, for malformed input, where (`line 4: ...`, counting the note's lines from 1).
public struct NoteError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong. The raw value is the case name and will not change.
    public enum Code: String, Sendable, CaseIterable {
        // Note structure (c2sp.org/signed-note "Format").
        /// Not a signed note: invalid UTF-8, a control character, no blank line before the
        /// signatures, no signature lines, or a missing final newline.
        case malformedNote
        /// A line after the last blank line is not `— <name> <base64>`, or its signature is not
        /// canonical base64 of a 4-byte key ID and at least one signature byte.
        case malformedSignatureLine
        /// More signature lines than Cairn accepts (``SignedNote/maxSignatures``).
        case tooManySignatures
        /// A key name is empty or contains a Unicode space or `+`.
        case invalidKeyName

        // Keys.
        /// A verifier key is not `<name>+<8 lowercase hex>+<base64(type || key)>`, or its key has
        /// the wrong length for its type.
        case malformedVerifierKey
        /// A Go-format private key (`PRIVATE+KEY+<name>+<hex id>+<base64>`) is malformed.
        case malformedSignerKey
        /// The signature type byte is not one Cairn verifies (0x01 Ed25519, 0x04 cosignature/v1),
        /// or a key of the wrong type was given for an operation.
        case unsupportedKeyType
        /// A key's stated key ID differs from SHA-256(name || 0x0A || type || key)[:4].
        case keyIDMismatch

        // Verification (c2sp.org/signed-note "Signatures").
        /// The note has no signature line from the one key that was required (a log or cosigner key).
        case unknownKey
        /// A signature line from a trusted key does not verify.
        case badSignature
        /// None of the trusted keys signed the note.
        case noVerifiedSignature
        /// Two trusted keys share a name and key ID, and the note has a signature from that pair.
        case ambiguousKey

        // Checkpoints and cosignatures.
        /// The note text is not a c2sp.org/tlog-checkpoint body Cairn accepts.
        case malformedCheckpoint
        /// The checkpoint's origin line is not the expected origin.
        case originMismatch
        /// A cosignature timestamp is above 2^63 - 1.
        case invalidTimestamp
        /// The Ed25519 key failed to sign (an OpenSSL failure; see the message).
        case signingFailed
    }

    public let code: Code
    public let message: String

    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    init(_ code: Code, _ message: String) {
        self.init(code: code, message: message)
    }

    /// `<code>: <message>`.
    public var description: String { "\(code.rawValue): \(message)" }
}
