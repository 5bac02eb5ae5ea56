/// A JSON value (RFC 8259): an immutable `Sendable` value type, safe to share across threads.
///
/// Objects keep their members in input order (for display); duplicate keys cannot occur, because
/// `JSONParser` rejects them and `JSONObject` keeps keys unique. Strings are compared exactly, by
/// Unicode scalars (no normalization), so `.string("\u{E9}") != .string("e\u{301}")`, matching the
/// canonical bytes. Numbers compare as `Double` does: `0 == -0`, and `NaN` equals nothing.
///
/// ```swift
/// let record: JSONValue = ["id": "r1", "tags": ["a", "b"], "size": 1024, "ok": true, "parent": nil]
/// record["tags"]?[0]?.stringValue   // "a"
/// record["size"]?.numberValue       // 1024.0
/// ```
public enum JSONValue: Sendable, Hashable {
    /// `null`.
    case null
    /// `true` or `false`.
    case bool(Bool)
    /// A number. Values from `JSONParser` are always finite.
    case number(Double)
    /// A string of Unicode scalars.
    case string(String)
    /// An array; order is significant.
    case array([JSONValue])
    /// An object with unique keys.
    case object(JSONObject)

    /// True when both values are of the same kind and equal (strings exactly, objects in any member order).
    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case (.bool(let a), .bool(let b)): return a == b
        case (.number(let a), .number(let b)): return a == b
        case (.string(let a), .string(let b)): return utf8Equal(a, b)
        case (.array(let a), .array(let b)): return a == b
        case (.object(let a), .object(let b)): return a == b
        default: return false
        }
    }

    /// Hashes consistently with `==`.
    public func hash(into hasher: inout Hasher) {
        switch self {
        case .null:
            hasher.combine(0)
        case .bool(let b):
            hasher.combine(1)
            hasher.combine(b)
        case .number(let d):
            hasher.combine(2)
            hasher.combine(d)
        case .string(let s):
            hasher.combine(3)
            hashUTF8(s, into: &hasher)
        case .array(let a):
            hasher.combine(4)
            hasher.combine(a)
        case .object(let o):
            hasher.combine(5)
            hasher.combine(o)
        }
    }
}

// MARK: - Accessors

extension JSONValue {
    /// The string, if this is a string.
    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// The number, if this is a number.
    public var numberValue: Double? {
        if case .number(let d) = self { return d }
        return nil
    }

    /// The number as an `Int`, if this is an integral number within ±(2^53 − 1), the range in which
    /// every integer is exactly representable (I-JSON, RFC 7493 §2.2).
    public var intValue: Int? {
        guard case .number(let d) = self, d.rounded(.towardZero) == d, abs(d) <= 9_007_199_254_740_991 else {
            return nil
        }
        return Int(d)
    }

    /// The number as a non-negative `Int` (a count, a log index), if it is an integral number in
    /// 0 ... 2^53 − 1.
    public var nonNegativeIntValue: Int? {
        guard let value = intValue, value >= 0 else { return nil }
        return value
    }

    /// The Boolean, if this is `true` or `false`.
    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    /// The elements, if this is an array.
    public var arrayValue: [JSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    /// The object, if this is an object.
    public var objectValue: JSONObject? {
        if case .object(let o) = self { return o }
        return nil
    }

    /// True when this is `null`.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// The member value for `key` if this is an object that has it; otherwise `nil`.
    public subscript(key: String) -> JSONValue? {
        objectValue?[key]
    }

    /// The element at `index` if this is an array and `index` is in bounds; otherwise `nil`.
    public subscript(index: Int) -> JSONValue? {
        guard case .array(let a) = self, a.indices.contains(index) else { return nil }
        return a[index]
    }
}

// MARK: - Literals

extension JSONValue: ExpressibleByNilLiteral {
    /// `nil` is `null`.
    public init(nilLiteral: ()) { self = .null }
}

extension JSONValue: ExpressibleByBooleanLiteral {
    /// A Boolean literal.
    public init(booleanLiteral value: Bool) { self = .bool(value) }
}

extension JSONValue: ExpressibleByIntegerLiteral {
    /// An integer literal, stored as a `Double` (exact up to ±2^53).
    public init(integerLiteral value: Int) { self = .number(Double(value)) }
}

extension JSONValue: ExpressibleByFloatLiteral {
    /// A floating-point literal.
    public init(floatLiteral value: Double) { self = .number(value) }
}

extension JSONValue: ExpressibleByStringLiteral {
    /// A string literal.
    public init(stringLiteral value: String) { self = .string(value) }
}

extension JSONValue: ExpressibleByArrayLiteral {
    /// An array literal.
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
}

extension JSONValue: ExpressibleByDictionaryLiteral {
    /// An object literal, members in source order. Traps on a repeated key, like `Dictionary`.
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        var object = JSONObject()
        for (key, value) in elements {
            precondition(object.insertNew(key, value), "JSONValue object literal contains duplicate key \"\(key)\"")
        }
        self = .object(object)
    }
}

extension JSONValue: CustomStringConvertible {
    /// Compact JSON text, members in stored order (see `JSONWriter.compact(_:)`).
    public var description: String { JSONWriter.compact(self) }
}

extension JSONValue {
    /// A count or leaf index as a JSON number (exact up to 2^53, as every JSON consumer expects).
    public static func uint(_ value: UInt64) -> JSONValue { .number(Double(value)) }
    /// A count as a JSON number.
    public static func int(_ value: Int) -> JSONValue { .number(Double(value)) }
}

extension JSONValue {
    /// The kind of the value, for messages: `null`, `a boolean`, `a number`, `a string`, `an array`, `an object`.
    public var kindName: String { kind.name }
}
