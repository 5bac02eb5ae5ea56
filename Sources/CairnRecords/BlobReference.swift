import CairnCrypto
import CairnJSON

/// A pointer from a record to a payload stored outside the log:
/// exactly `{"blob": "sha256:<64 hex>", "size": <integer ≥ 0>, "media_type": "<type/subtype…>"}`.
///
/// Payload fields (`prompt`, `raw_output`, `turns`, a turn's `content`) hold either their inline value
/// or a blob reference. Anywhere else, including extension fields and correction patches, an object
/// whose members are exactly `blob`, `size` and `media_type` is a blob reference too, and is checked as
/// one. Erasing the blob (`erasure`) leaves the record, its address and its proofs intact.
public struct BlobReference: Sendable, Hashable {
    /// The SHA-256 of the payload bytes.
    public let digest: SHA256Digest
    /// The payload's length in bytes.
    public let size: Int
    /// The payload's media type, e.g. `text/plain; charset=utf-8`.
    public let mediaType: String

    /// Creates a reference; nil when `size` is negative or above 2^53 − 1, or `mediaType` is not a
    /// media type (`type/subtype`, optional `; name=value` parameters).
    public init?(digest: SHA256Digest, size: Int, mediaType: String) {
        guard size >= 0, Double(size) <= RecordSchemas.maxInteger, TextFormats.isMediaType(mediaType) else {
            return nil
        }
        self.digest = digest
        self.size = size
        self.mediaType = mediaType
    }

    /// Reads a valid blob reference object; nil for anything else (extra members included).
    public init?(_ value: JSONValue) {
        self.init(view: value)
    }

    init?<V: JSONView>(view value: V) {
        var checker = Checker(strictFields: true)
        guard value.kind == .object, Self.hasShape(value) else { return nil }
        checker.check(value, RecordSchemas.blobReference)
        guard checker.issues.isEmpty, let blob = value["blob"]?.stringValue,
            let digest = SHA256Digest(hex: blob.dropFirst(7)),
            let size = value["size"]?.intValue, let mediaType = value["media_type"]?.stringValue
        else { return nil }
        self.digest = digest
        self.size = size
        self.mediaType = mediaType
    }

    /// The JSON object form.
    public var jsonValue: JSONValue {
        ["blob": .string(digest.description), "size": .number(Double(size)), "media_type": .string(mediaType)]
    }

    /// True when the members of `object` are exactly `blob`, `size` and `media_type`.
    static func hasShape(_ object: JSONObject) -> Bool {
        object.count == 3 && object["blob"] != nil && object["size"] != nil && object["media_type"] != nil
    }

    /// True when `value` is an object whose members are exactly `blob`, `size` and `media_type`.
    static func hasShape<V: JSONView>(_ value: V) -> Bool {
        value.kind == .object && value.count == 3 && value["blob"] != nil && value["size"] != nil
            && value["media_type"] != nil
    }

    /// Adds the digest of every valid blob reference in `value`, at any depth.
    public static func collectDigests(in value: JSONValue, into digests: inout Set<SHA256Digest>) {
        collectDigests(view: value, into: &digests)
    }

    /// Adds the digest of every valid blob reference in the value a tape holds, at any depth.
    public static func collectDigests(in value: JSONTape.Value, into digests: inout Set<SHA256Digest>) {
        value.withBorrowed { collectDigests(view: $0, into: &digests) }
    }

    static func collectDigests<V: JSONView>(view value: V, into digests: inout Set<SHA256Digest>) {
        switch value.kind {
        case .object:
            if hasShape(value), let reference = BlobReference(view: value) {
                digests.insert(reference.digest)
            } else {
                value.forEachMember { _, member in collectDigests(view: member, into: &digests) }
            }
        case .array:
            value.forEachElement { collectDigests(view: $0, into: &digests) }
        case .null, .bool, .number, .string:
            break
        }
    }
}
