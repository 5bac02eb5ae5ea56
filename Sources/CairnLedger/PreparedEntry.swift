import CairnCrypto
import CairnJSON
import CairnMerkle

/// A record made ready to append: its canonical bytes and both of their hashes.
///
/// Preparing is pure and independent per record, so producers (or a pool of threads) do it in
/// parallel before handing entries to the single writer, which then does only ordered work.
public struct PreparedEntry: Sendable, Hashable {
    /// The leaf entry: the record's RFC 8785 canonical JSON bytes.
    public let bytes: [UInt8]
    /// SHA-256(bytes): the record's content address.
    public let digest: SHA256Digest
    /// SHA-256(0x00 ‖ bytes): the RFC 6962 leaf hash.
    public let leafHash: SHA256Digest

    /// Wraps already-canonical entry bytes, hashing them.
    public init(canonicalBytes bytes: [UInt8]) {
        self.bytes = bytes
        self.digest = SHA256.hash(bytes)
        self.leafHash = bytes.withUnsafeBytes { RFC6962.leafHash($0) }
    }

    /// Parses a JSON text, requires an object, canonicalizes it (RFC 8785) and checks its size.
    public static func prepare(json: UnsafeRawBufferPointer, maxEntryBytes: Int) throws(RecordError) -> PreparedEntry {
        let canonical: [UInt8]
        do {
            // The streaming path: canonical bytes straight from the parser, no value tree.
            canonical = try JCS.canonicalize(json: json)
        } catch {
            throw RecordError(.invalidJSON, error.description, parseError: error)
        }
        guard canonical.first == UInt8(ascii: "{") else {
            throw RecordError(
                .notAnObject, "expected a JSON object, found \(kindName(canonicalFirstByte: canonical.first))")
        }
        guard canonical.count <= maxEntryBytes else {
            throw RecordError(
                .tooLarge,
                "canonical entry is \(canonical.count) bytes, over the ledger's limit of \(maxEntryBytes) bytes")
        }
        return PreparedEntry(canonicalBytes: canonical)
    }

    /// Parses a JSON text, requires an object, canonicalizes it (RFC 8785) and checks its size.
    public static func prepare(json: [UInt8], maxEntryBytes: Int) throws(RecordError) -> PreparedEntry {
        let result = json.withUnsafeBytes { raw in
            Result { () throws(RecordError) in try prepare(json: raw, maxEntryBytes: maxEntryBytes) }
        }
        return try result.get()
    }
}

/// Why a record was refused, before anything was written.
public struct RecordError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable, Equatable {
        /// Not valid JSON (syntax, UTF-8, duplicate keys, unrepresentable numbers…).
        case invalidJSON
        /// Valid JSON, but not an object.
        case notAnObject
        /// The canonical entry exceeds the ledger's size limit.
        case tooLarge
    }

    public let code: Code
    /// One line, without file or line context (the caller adds that).
    public let message: String
    /// The parser's error, with its line and column, when `code == .invalidJSON` from parsing.
    public let parseError: JSONParseError?

    public init(_ code: Code, _ message: String, parseError: JSONParseError? = nil) {
        self.code = code
        self.message = message
        self.parseError = parseError
    }

    public var description: String { message }
}

/// "an array", "a string"… for messages, from the first byte of a canonical JSON text.
private func kindName(canonicalFirstByte byte: UInt8?) -> String {
    switch byte {
    case UInt8(ascii: "["): "an array"
    case UInt8(ascii: "\""): "a string"
    case UInt8(ascii: "t"), UInt8(ascii: "f"): "a boolean"
    case UInt8(ascii: "n"): "null"
    default: "a number"
    }
}
