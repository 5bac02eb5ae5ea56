/// Read access to a parsed JSON value, whatever holds it: a `JSONValue` tree or a `JSONTape`.
///
/// Code written against `JSONView` (the record validator, fact extraction) reads records the same way from
/// either, so a record checked from its tape gets exactly the verdict, issues and facts it gets from its tree.
public protocol JSONView: Sendable {
    /// The value's kind.
    var kind: JSONKind { get }
    /// The string, if this is a string.
    var stringValue: String? { get }
    /// The number, if this is a number.
    var numberValue: Double? { get }
    /// The Boolean, if this is `true` or `false`.
    var boolValue: Bool? { get }
    /// The number as an `Int`, if this is an integral number within ±(2^53 − 1).
    var intValue: Int? { get }
    /// The number of elements (array) or members (object); 0 for anything else.
    var count: Int { get }
    /// The member value for `key` if this is an object that has it (keys compared exactly).
    subscript(key: String) -> Self? { get }
    /// The element at `position` if this is an array and `position` is in bounds.
    subscript(position: Int) -> Self? { get }
    /// Calls `body` with each element, in order (nothing if this is not an array).
    func forEachElement(_ body: (Self) throws -> Void) rethrows
    /// Calls `body` with each member's key as UTF-8 bytes (valid only during the call) and its value, in stored
    /// order (nothing if this is not an object).
    func forEachMember(_ body: (UnsafeRawBufferPointer, Self) throws -> Void) rethrows
    /// The value as a `JSONValue` tree.
    var jsonValue: JSONValue { get }
}

extension JSONTape.Value: JSONView {}

extension JSONTape.BorrowedValue: JSONView {}

extension JSONValue: JSONView {
    /// The value's kind.
    public var kind: JSONKind {
        switch self {
        case .null: .null
        case .bool: .bool
        case .number: .number
        case .string: .string
        case .array: .array
        case .object: .object
        }
    }

    /// The number of elements (array) or members (object); 0 for anything else.
    public var count: Int {
        switch self {
        case .array(let elements): elements.count
        case .object(let object): object.count
        default: 0
        }
    }

    /// Calls `body` with each element, in order (nothing if this is not an array).
    public func forEachElement(_ body: (JSONValue) throws -> Void) rethrows {
        guard case .array(let elements) = self else { return }
        for element in elements { try body(element) }
    }

    /// Calls `body` with each member's key as UTF-8 bytes (valid only during the call) and its value, in stored
    /// order (nothing if this is not an object).
    public func forEachMember(_ body: (UnsafeRawBufferPointer, JSONValue) throws -> Void) rethrows {
        guard case .object(let object) = self else { return }
        for (key, value) in object {
            var key = key
            try key.withUTF8 { try body(UnsafeRawBufferPointer($0), value) }
        }
    }

    /// Itself.
    public var jsonValue: JSONValue { self }
}
