import CairnCrypto
import CairnJSON

/// Moving large checkpoint payloads out of records into blobs. The same record, threshold and
/// salts always give the same stored record and payloads; the ledger gives content it already
/// stores the salt it has, so retries stay idempotent, and anyone holding the original and the
/// salts (`cairn blob disclose`) can recompute the stored form (specs/record-schema.md, "Payload blobs").
public enum PayloadExtraction {
    /// Fields of a checkpoint that may be moved to blobs.
    public static let fields = ["prompt", "raw_output", "turns"]

    /// The media type of a string payload's blob.
    public static let textMediaType = "text/plain; charset=utf-8"
    /// The media type of a JSON payload's blob (RFC 8785 canonical form).
    public static let jsonMediaType = "application/json"

    /// `record` with every extractable field larger than `threshold` bytes replaced by a blob
    /// reference (`{"blob": "sha256:…", "size": N, "media_type": "…"}`), and the payloads; `nil`
    /// when nothing is that large (or the record is not a checkpoint). Strings are stored as their
    /// UTF-8 bytes, other JSON values as their canonical form; references stay as they are. Each
    /// payload is salted by `salting` (unsalted without one).
    public static func extract(
        from record: JSONValue, over threshold: Int, salting: BlobSalting? = nil
    ) -> (record: JSONValue, payloads: [BlobPayload])? {
        guard threshold > 0, case .object(var object) = record, object["type"]?.stringValue == "checkpoint" else {
            return nil
        }
        var payloads: [BlobPayload] = []
        for field in fields {
            guard let value = object[field], var payload = payload(of: value, field: field),
                payload.bytes.count > threshold
            else {
                continue
            }
            if let salting { payload = salting.salt(payload, recordID: object["id"]?.stringValue, field: field) }
            object[field] = reference(to: payload)
            payloads.append(payload)
        }
        return payloads.isEmpty ? nil : (.object(object), payloads)
    }

    /// Every stored form `original` may have been appended as, whatever threshold was used: the
    /// record with each subset of its extractable fields moved to blobs (at most 8 forms, the
    /// original first). For `cairn verify inclusion --entry original.json`. A payload is salted
    /// with `salts[SHA-256 of its bytes]` when there is one (from blob disclosures), else unsalted.
    public static func storedForms(
        of original: JSONValue, salts: [SHA256Digest: [UInt8]] = [:]
    ) -> [(record: JSONValue, moved: [String])] {
        guard case .object(let object) = original, object["type"]?.stringValue == "checkpoint" else {
            return [(original, [])]
        }
        let candidates = fields.compactMap { field in
            object[field].flatMap { payload(of: $0) }.map { (field, $0.salted(salts[$0.contentDigest] ?? [])) }
        }
        var forms: [(JSONValue, [String])] = []
        for mask in 0..<(1 << candidates.count) {
            var copy = object
            var moved: [String] = []
            for (bit, (field, payload)) in candidates.enumerated() where mask & (1 << bit) != 0 {
                copy[field] = reference(to: payload)
                moved.append(field)
            }
            forms.append((.object(copy), moved))
        }
        return forms
    }

    /// The blob a field's value would be stored as; `nil` for a value that already is a reference.
    static func payload(of value: JSONValue, field: String? = nil) -> BlobPayload? {
        switch value {
        case .string(let text):
            return BlobPayload(bytes: Array(text.utf8), mediaType: textMediaType, field: field)
        case .object(let inner) where inner["blob"] != nil:
            return nil
        default:
            guard let canonical = try? JCS.canonicalize(value) else { return nil }
            return BlobPayload(bytes: canonical, mediaType: jsonMediaType, field: field)
        }
    }

    /// `{"prompt": "sha256:…", …}`: which fields of a prepared entry were moved to which blobs;
    /// nil when none were. For receipts, which must say that the stored record is not the text
    /// that was submitted.
    public static func movedFields(of entry: PreparedEntry) -> JSONValue? {
        let moved = entry.payloads.compactMap { payload in payload.field.map { ($0, payload.digest.description) } }
        guard !moved.isEmpty else { return nil }
        return .object(JSONObject(moved.map { ($0.0, JSONValue.string($0.1)) }))
    }

    static func reference(to payload: BlobPayload) -> JSONValue {
        .object([
            "blob": .string(payload.digest.description), "size": .number(Double(payload.bytes.count)),
            "media_type": .string(payload.mediaType),
        ])
    }
}
