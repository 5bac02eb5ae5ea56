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
        var checker = Checker(strictFields: true)
        guard case .object(let object) = value, Self.hasShape(object) else { return nil }
        checker.check(object, RecordSchemas.blobReference)
        guard checker.issues.isEmpty, case .string(let blob)? = object["blob"],
            let digest = SHA256Digest(hex: blob.dropFirst(7)),
            let size = object["size"]?.intValue, case .string(let mediaType)? = object["media_type"]
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

    /// Adds the digest of every valid blob reference in `value`, at any depth.
    public static func collectDigests(in value: JSONValue, into digests: inout Set<SHA256Digest>) {
        switch value {
        case .object(let object):
            if hasShape(object), let reference = BlobReference(value) {
                digests.insert(reference.digest)
            } else {
                for (_, member) in object { collectDigests(in: member, into: &digests) }
            }
        case .array(let elements):
            for element in elements { collectDigests(in: element, into: &digests) }
        case .null, .bool, .number, .string:
            break
        }
    }
}
