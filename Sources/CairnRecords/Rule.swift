// The vocabulary of the schema tables (`RecordSchemas.swift`): what a value must be, what an object
// holds. `Checker` interprets it.

/// What one JSON value must be.
indirect enum Rule: Sendable {
    /// A string in a given format.
    case text(TextFormat)
    /// A string equal (byte for byte) to one of these.
    case enumeration([String])
    /// An integral number in `min...max`.
    case integer(min: Double, max: Double)
    /// A number in `min...max`.
    case number(min: Double, max: Double)
    /// An array whose elements follow the rule; `nonEmpty` arrays need at least one element.
    case array(Rule, nonEmpty: Bool)
    /// An object with this shape.
    case object(Shape)
    /// Either a blob reference object, or a value following the rule (for payloads).
    case orBlob(Rule)
    /// `[start, end]`: 1-based inclusive line numbers, `start ≤ end`.
    case lineRange
    /// A correction's RFC 7396 merge patch: a non-empty object not naming `type`, `schema` or `corrects`.
    case patch
    /// `"type"`: one of the record types.
    case recordType
    /// `"schema"`: the number 1.
    case schemaVersion

    /// A string from an enumeration.
    static func oneOf(_ values: String...) -> Rule { .enumeration(values) }

    /// What a value must be, for `wrongType` messages: "a string", "an array", …
    var expectation: String {
        switch self {
        case .text, .enumeration, .recordType: return "a string"
        case .integer: return "an integer"
        case .number, .schemaVersion: return "a number"
        case .array: return "an array"
        case .object, .patch: return "an object"
        case .orBlob(let rule): return rule.expectation + " or a blob reference"
        case .lineRange: return "[start, end]"
        }
    }
}

/// The formats of string values.
enum TextFormat: Sendable {
    /// Any string, even empty.
    case any
    /// At least one character.
    case nonEmpty
    /// An identifier or a person: at least one character, none of them a C0 control character
    /// (U+0000–U+001F) or DEL (U+007F).
    case identifier
    /// At least one character other than whitespace (`Text.isBlank`).
    case nonBlank
    /// RFC 3339 UTC timestamp (`Timestamp`).
    case timestamp
    /// `YYYY-MM-DD` calendar date.
    case date
    /// `sha256:` and 64 lowercase hex digits.
    case digest
    /// 40 or 64 lowercase hex digits.
    case commit
    /// Repository-relative path.
    case repositoryPath
    /// Media type with optional parameters.
    case mediaType
    /// A content address, or a checkpoint id (which cannot start with `sha256:`).
    case subject
    /// A checkpoint id: an identifier not starting with `sha256:`.
    case checkpointID
    /// A C2SP signed-note verifier key of an Ed25519 note signer (`name+<8 hex key ID>+<base64(0x01 ‖ key)>`),
    /// whose key ID matches its name and key.
    case verifierKey
    /// The canonical padded base64 of a 64-byte Ed25519 signature.
    case ed25519Signature

    /// Whether the format refuses C0 control characters and DEL (`controlCharacter`) unless the
    /// validator accepts them (`RecordValidator.Options.acceptsControlCharacters`).
    var refusesControlCharacters: Bool {
        switch self {
        case .identifier, .subject, .checkpointID: return true
        case .any, .nonEmpty, .nonBlank, .timestamp, .date, .digest, .commit, .repositoryPath, .mediaType, .verifierKey,
            .ed25519Signature:
            return false
        }
    }
}

/// One member of an object shape.
struct Field: Sendable {
    let name: String
    let rule: Rule
    let isRequired: Bool

    static func required(_ name: String, _ rule: Rule) -> Field {
        Field(name: name, rule: rule, isRequired: true)
    }

    static func optional(_ name: String, _ rule: Rule) -> Field {
        Field(name: name, rule: rule, isRequired: false)
    }
}

/// What an object holds: its members, the groups of which at least one member must be present, and
/// whether members outside `fields` are refused even without `strictFields`.
struct Shape: Sendable {
    let fields: [Field]
    let atLeastOneOf: [[String]]
    let isClosed: Bool
    /// The UTF-8 bytes of each field's name, for `position(of:)`.
    private let names: [[UInt8]]

    init(_ fields: [Field], atLeastOneOf: [[String]] = [], isClosed: Bool = false) {
        precondition(fields.count <= 64, "a shape tracks its members in a 64-bit mask")
        self.fields = fields
        self.atLeastOneOf = atLeastOneOf
        self.isClosed = isClosed
        self.names = fields.map { Array($0.name.utf8) }
    }

    /// The position in `fields` of the field named exactly `key`. A linear scan: shapes are small, and
    /// comparing lengths first is cheaper than hashing the key.
    func position(of key: String) -> Int? {
        withUTF8Bytes(key) { key in position(of: UnsafeRawBufferPointer(key)) }
    }

    /// The position of the field whose name has the UTF-8 bytes `key`.
    func position(of key: UnsafeRawBufferPointer) -> Int? {
        let key = key.assumingMemoryBound(to: UInt8.self)
        for (position, name) in names.enumerated() where name.count == key.count {
            if name.withUnsafeBufferPointer({ bytesEqual($0, key) }) { return position }
        }
        return nil
    }
}
