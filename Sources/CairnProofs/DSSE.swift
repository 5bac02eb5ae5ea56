import CairnCrypto

/// A DSSE envelope (Dead Simple Signing Envelope, secure-systems-lab/dsse v1.0.0): a payload, its
/// type, and signatures over the pre-authentication encoding (PAE) of the two. Pure: no I/O, no
/// JSON (the `cairn` command maps it to and from the standard JSON envelope,
/// `{"payload": base64, "payloadType": …, "signatures": [{"keyid": …, "sig": base64}]}`).
///
/// Cairn signs in-toto Statements with it (`cairn export in-toto`, specs/in-toto.md): payload type
/// `application/vnd.in-toto+json`, one Ed25519 signature by the log's key over
/// `PAE(payloadType, payload)`.
///
/// ```swift
/// let envelope = try DSSEEnvelope.sign(payload: body, payloadType: DSSEEnvelope.inTotoPayloadType, keyID: "k") {
///     try privateKey.signature(for: $0)
/// }
/// try envelope.verify(key: privateKey.publicKey, payloadType: DSSEEnvelope.inTotoPayloadType)
/// ```
public struct DSSEEnvelope: Sendable, Hashable {
    /// The payload type of an in-toto Statement (in-toto attestation spec v1, envelope layer).
    public static let inTotoPayloadType = "application/vnd.in-toto+json"

    /// One signature of the envelope.
    public struct Signature: Sendable, Hashable {
        /// The `keyid`: an unauthenticated hint naming the key. DSSE forbids using it for any
        /// security decision; verification here never depends on it.
        public var keyID: String?
        /// The decoded `sig`.
        public var signature: [UInt8]

        public init(keyID: String?, signature: [UInt8]) {
            self.keyID = keyID
            self.signature = signature
        }
    }

    /// The serialized body (the decoded `payload`).
    public var payload: [UInt8]
    /// The `payloadType`.
    public var payloadType: String
    /// The signatures, in envelope order.
    public var signatures: [Signature]

    public init(payload: [UInt8], payloadType: String, signatures: [Signature]) {
        self.payload = payload
        self.payloadType = payloadType
        self.signatures = signatures
    }

    /// `PAE(UTF8(payloadType), payload)`: the bytes every signature signs.
    public var preAuthenticationEncoding: [UInt8] {
        Self.preAuthenticationEncoding(payloadType: payloadType, payload: payload)
    }

    /// DSSE's pre-authentication encoding:
    ///
    ///     PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body
    ///
    /// where SP is one space (0x20) and LEN is the byte length in ASCII decimal without leading
    /// zeros. `PAE("http://example.com/HelloWorld", "hello world")` is
    /// `DSSEv1 29 http://example.com/HelloWorld 11 hello world`.
    public static func preAuthenticationEncoding(payloadType: String, payload: [UInt8]) -> [UInt8] {
        let type = Array(payloadType.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(type.count + payload.count + 32)
        out += Array("DSSEv1 \(type.count) ".utf8)
        out += type
        out += Array(" \(payload.count) ".utf8)
        out += payload
        return out
    }

    /// An envelope of `payload` with one signature: `sign(PAE(payloadType, payload))`.
    public static func sign(
        payload: [UInt8], payloadType: String, keyID: String?, with sign: ([UInt8]) throws -> [UInt8]
    ) rethrows -> DSSEEnvelope {
        let signature = try sign(preAuthenticationEncoding(payloadType: payloadType, payload: payload))
        return DSSEEnvelope(
            payload: payload, payloadType: payloadType,
            signatures: [Signature(keyID: keyID, signature: signature)])
    }

    /// Verifies the envelope as DSSE's protocol says: some signature is a valid Ed25519 signature
    /// of the PAE by `key` (every signature is tried: `keyid` is a hint, not a filter), then the
    /// payload type is `payloadType` when one is required. Returns the index of the first valid
    /// signature.
    ///
    /// Errors: `.malformed` (no signatures), `.wrongKey` (no signature claims `keyID`, when given,
    /// and none verifies), `.badSignature` (none verifies: the payload, its type or the signature
    /// was altered), `.malformed` (a valid signature over another payload type).
    @discardableResult
    public func verify(
        key: Ed25519PublicKey, keyID: String? = nil, payloadType expected: String? = nil
    ) throws(ProofError) -> Int {
        guard !signatures.isEmpty else { throw ProofError(.malformed, "the DSSE envelope has no signatures") }
        let message = preAuthenticationEncoding
        guard let valid = signatures.firstIndex(where: { key.isValidSignature($0.signature, for: message) }) else {
            if let keyID, !signatures.contains(where: { $0.keyID == keyID }) {
                let named = signatures.compactMap(\.keyID).filter { !$0.isEmpty }
                throw ProofError(
                    .wrongKey,
                    "the DSSE envelope has no signature by \(keyID)"
                        + (named.isEmpty ? "" : " (its signatures name \(named.joined(separator: ", ")))"))
            }
            throw ProofError(
                .badSignature,
                "no signature of the DSSE envelope verifies"
                    + (keyID.map { " with \($0)" } ?? "")
                    + ": the payload, its type or the signature was altered")
        }
        if let expected, payloadType != expected {
            throw ProofError(
                .malformed, "the DSSE envelope's payloadType is \(payloadType.debugDescription), not \(expected)")
        }
        return valid
    }

    /// Decodes DSSE base64: standard or URL-safe alphabet (RFC 4648 §4, §5), with or without
    /// padding, as DSSE requires verifiers to accept. Anything else (whitespace, mixed padding,
    /// non-zero trailing bits) is `nil`.
    public static func decodeBase64(_ text: String) -> [UInt8]? {
        var bytes = Array(text.utf8)
        var sawStandard = false
        var sawURLSafe = false
        for i in bytes.indices {
            switch bytes[i] {
            case UInt8(ascii: "+"), UInt8(ascii: "/"): sawStandard = true
            case UInt8(ascii: "-"):
                sawURLSafe = true
                bytes[i] = UInt8(ascii: "+")
            case UInt8(ascii: "_"):
                sawURLSafe = true
                bytes[i] = UInt8(ascii: "/")
            default: break
            }
        }
        guard !(sawStandard && sawURLSafe) else { return nil }
        if !bytes.contains(UInt8(ascii: "=")) {
            switch bytes.count % 4 {
            case 0: break
            case 2: bytes += Array("==".utf8)
            case 3: bytes += Array("=".utf8)
            default: return nil
            }
        }
        return Base64.decode(String(decoding: bytes, as: UTF8.self))
    }
}
