import CairnCrypto
import CairnJSON

/// How a blob's address commits to its bytes (specs/record-schema.md, "Blob references"):
/// `SHA-256(salt ‖ bytes)`, with a 32-byte random salt chosen when the blob is first stored and
/// kept beside it. The salt is erased with the bytes, so once a blob is erased nobody can confirm
/// a guess of its content (a short prompt, a name) against the address the log still holds.
/// Blobs stored before salting have an empty salt: their address is the plain SHA-256 of the bytes.
public enum BlobCommitment {
    /// The length of the salt of a salted blob.
    public static let saltByteCount = 32

    /// The address of `bytes` under `salt`: `SHA-256(salt ‖ bytes)`; the plain SHA-256 for an empty salt.
    public static func address(salt: [UInt8], bytes: [UInt8]) -> SHA256Digest {
        guard !salt.isEmpty else { return SHA256.hash(bytes) }
        var input = salt
        input.reserveCapacity(salt.count + bytes.count)
        input.append(contentsOf: bytes)
        return SHA256.hash(input)
    }

    /// A new random salt (the system's cryptographically secure generator: getrandom(2)).
    public static func randomSalt() -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<saltByteCount).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }
}

/// A blob's bytes and salt, handed to an auditor (`cairn blob disclose`) so that they can check,
/// without trusting the ledger, that the bytes are what a record's blob reference commits to:
///
///     {"format":"cairn-blob-disclosure/1","blob":"sha256:…","size":N,"media_type":"…",
///      "salt":"<64 hex digits, or empty for an unsalted blob>","content":"<the bytes, base64>"}
///
/// See specs/record-schema.md, "Blob disclosures".
public struct BlobDisclosure: Sendable, Hashable {
    /// The value of `format`.
    public static let format = "cairn-blob-disclosure/1"

    public let reference: BlobReference
    public let salt: [UInt8]
    public let bytes: [UInt8]

    /// A disclosure of `bytes` under `salt` for `reference`; not checked (see `verify()`).
    public init(reference: BlobReference, salt: [UInt8], bytes: [UInt8]) {
        self.reference = reference
        self.salt = salt
        self.bytes = bytes
    }

    /// The JSON document (compact, members in the order above).
    public var jsonBytes: [UInt8] {
        let object: JSONValue = .object([
            "format": .string(Self.format), "blob": .string(reference.digest.description),
            "size": .number(Double(reference.size)), "media_type": .string(reference.mediaType),
            "salt": .string(Hex.encode(salt)), "content": .string(Base64.encode(bytes)),
        ])
        return JSONWriter.compactBytes(object)
    }

    /// Reads a disclosure document; the errors name the member that is wrong and what was expected.
    public init(json: [UInt8]) throws(BlobDisclosureError) {
        let value: JSONValue
        do {
            value = try JSONParser.parse(json)
        } catch {
            throw BlobDisclosureError("not JSON: \(error)")
        }
        guard case .object(let object) = value else { throw BlobDisclosureError("expected a JSON object") }
        guard object["format"]?.stringValue == Self.format else {
            throw BlobDisclosureError("$.format: expected \"\(Self.format)\"")
        }
        let known: Set<String> = ["format", "blob", "size", "media_type", "salt", "content"]
        if let extra = object.keys.first(where: { !known.contains($0) }) {
            throw BlobDisclosureError(
                "$.\(extra): unknown member (expected only \(known.sorted().joined(separator: ", ")))")
        }
        guard
            let reference = BlobReference(
                .object([
                    "blob": object["blob"] ?? .null, "size": object["size"] ?? .null,
                    "media_type": object["media_type"] ?? .null,
                ]))
        else {
            throw BlobDisclosureError(
                "$.blob, $.size, $.media_type: expected a blob reference (\"sha256:\" and 64 lowercase hex digits, "
                    + "an integer ≥ 0 and a media type)")
        }
        guard case .string(let saltText)? = object["salt"], let salt = Hex.decode(saltText),
            salt.isEmpty || salt.count == BlobCommitment.saltByteCount,
            saltText.allSatisfy({ !$0.isUppercase })
        else {
            throw BlobDisclosureError(
                "$.salt: expected \(BlobCommitment.saltByteCount * 2) lowercase hex digits (or \"\" for an unsalted blob)"
            )
        }
        guard case .string(let content)? = object["content"], let bytes = Base64.decode(content) else {
            throw BlobDisclosureError("$.content: expected the bytes in base64 (RFC 4648, padded)")
        }
        self.init(reference: reference, salt: salt, bytes: bytes)
    }

    /// Checks that the bytes have the disclosed size and that `SHA-256(salt ‖ bytes)` is the
    /// disclosed address; throws saying which does not hold.
    public func verify() throws(BlobDisclosureError) {
        guard bytes.count == reference.size else {
            throw BlobDisclosureError("the content is \(bytes.count) bytes, the reference says \(reference.size)")
        }
        let computed = BlobCommitment.address(salt: salt, bytes: bytes)
        guard computed == reference.digest else {
            throw BlobDisclosureError(
                "SHA-256(salt ‖ content) is \(computed), not the disclosed address \(reference.digest): "
                    + "these bytes (or this salt) are not what the address commits to")
        }
    }
}

/// Why a blob disclosure was not accepted.
public struct BlobDisclosureError: Error, Sendable, Hashable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
