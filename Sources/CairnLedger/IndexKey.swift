import CairnCrypto

/// Keys of the provenance secondary index (table `index`; normative layout in specs/storage.md).
///
/// A key is a one-byte tag naming the field, the field's value, and then fixed-width big-endian
/// integers (usually the leaf index last), so that all entries for one value are adjacent and in
/// leaf order, and a query is a prefix scan.
enum IndexTag: UInt8 {
    /// type → entry
    case type = 0x59  // "Y"
    /// timestamp (ms) → entry
    case time = 0x54  // "T"
    /// model id → checkpoint
    case model = 0x4d  // "M"
    /// requested_by → checkpoint
    case requestedBy = 0x51  // "Q"
    /// tool_path → checkpoint
    case toolPath = 0x4b  // "K"
    /// work_item → checkpoint
    case workItem = 0x57  // "W"
    /// output repo → checkpoint
    case repo = 0x50  // "P"
    /// output commit → checkpoint
    case commit = 0x43  // "C"
    /// commit a rewrite maps onto → checkpoint ‖ rewrite entry
    case commitAlias = 0x41  // "A"
    /// output path ‖ range start → checkpoint, value: range end
    case lines = 0x4c  // "L"
    /// reviewer → review
    case reviewer = 0x52  // "R"
    /// reviewer → reviewed checkpoint ‖ review
    case reviewedBy = 0x72  // "r"
    /// deploy/rollback environment → entry
    case environment = 0x45  // "E"
    /// blob digest → referencing entry
    case blob = 0x42  // "B"
    /// checkpoints that no review names yet
    case unreviewed = 0x55  // "U"
    /// request_id → checkpoint or model call
    case requestID = 0x49  // "I"
}

/// Builds index keys.
struct IndexKey {
    /// Values longer than this are indexed by their SHA-256 (LMDB keys are limited to 511 bytes).
    static let maxInlineValue = 384

    private(set) var bytes: [UInt8]

    init(_ tag: IndexTag) {
        bytes = [tag.rawValue]
    }

    /// `tag ‖ len(u16) ‖ value`, or `tag|0x80 ‖ SHA-256(value)` for long values.
    init(_ tag: IndexTag, _ value: String) {
        let count = value.utf8.count
        if count <= Self.maxInlineValue {
            // One allocation, with room for the two integers most keys end with.
            bytes = []
            bytes.reserveCapacity(3 + count + 16)
            bytes.append(tag.rawValue)
            bytes.append(UInt8(count >> 8))
            bytes.append(UInt8(count & 0xff))
            bytes.append(contentsOf: value.utf8)
        } else {
            bytes = [tag.rawValue | 0x80] + SHA256.hash(utf8: value).bytes
        }
    }

    init(_ tag: IndexTag, digest: SHA256Digest) {
        bytes = [tag.rawValue] + digest.bytes
    }

    consuming func appending(_ value: UInt64) -> IndexKey {
        withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
        return self
    }

    consuming func appending(_ value: UInt32) -> IndexKey {
        withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
        return self
    }

    /// `prefix ‖ value` (big-endian): the first key of `prefix`'s entries at or after `value`.
    static func bytes(_ prefix: [UInt8], _ value: UInt64) -> [UInt8] {
        var bytes = prefix
        withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
        return bytes
    }

    /// A timestamp in ms as an order-preserving unsigned integer.
    consuming func appending(time ms: Int64) -> IndexKey {
        appending(UInt64(bitPattern: ms) ^ (1 << 63))
    }

    static func decodeTime(_ value: UInt64) -> Int64 {
        Int64(bitPattern: value ^ (1 << 63))
    }
}

/// Reads a big-endian integer at `offset` of a key.
func readUInt64(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> UInt64 {
    var value: UInt64 = 0
    for i in 0..<8 { value = value << 8 | UInt64(bytes[offset + i]) }
    return value
}

func readUInt32(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> UInt32 {
    var value: UInt32 = 0
    for i in 0..<4 { value = value << 8 | UInt32(bytes[offset + i]) }
    return value
}
