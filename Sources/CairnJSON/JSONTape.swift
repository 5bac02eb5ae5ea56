// A parsed JSON text as one flat array of nodes: what validators and fact extractors read when they need
// random access to a record but not a `JSONValue` tree (no allocation per string, array or object).

/// The kinds of JSON values.
public enum JSONKind: UInt8, Sendable {
    case null, bool, number, string, array, object

    /// For messages: `null`, `a boolean`, `a number`, `a string`, `an array`, `an object` (as `JSONValue.kindName`).
    public var name: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}

/// One JSON text, parsed by `JSONParser`'s rules, stored as a *tape*: its values in document order in one array,
/// with every string's unescaped UTF-8 bytes in another. A container's node says where its subtree ends, so
/// siblings are found by skipping, and an object's members are a key node followed by its value.
///
/// It is read through `JSONTape.Value` (`root`), which answers what `JSONValue` does (`stringValue`,
/// `numberValue`, members, elements) without building a tree: parsing a 1 KB record costs two array
/// allocations instead of one per string, array and object. Immutable once built; `Sendable`.
///
/// ```swift
/// let tape = try JSONTape(parsing: Array(#"{"id": "r1", "tags": ["a", "b"]}"#.utf8))
/// tape.root["tags"]?[1]?.stringValue   // "b"
/// tape.root.jsonValue                  // the same value as JSONParser.parse gives
/// ```
public final class JSONTape: Sendable {
    /// One value, or an object's key.
    @usableFromInline
    struct Node: Sendable {
        /// 0-5: `JSONKind`; 6: an object key; 7: `true` (kind bool, false is `JSONKind.bool`).
        @usableFromInline let tag: UInt8
        /// Containers: the index one past their last descendant. Strings and keys: the bytes' offset.
        @usableFromInline var a: Int
        /// Containers: their number of elements or members. Strings and keys: the bytes' length.
        @usableFromInline var b: Int
        /// Numbers: the value.
        @usableFromInline let number: Double

        @usableFromInline static let keyTag: UInt8 = 6
        @usableFromInline static let trueTag: UInt8 = 7
    }

    @usableFromInline let nodes: [Node]
    @usableFromInline let strings: [UInt8]

    init(nodes: [Node], strings: [UInt8]) {
        self.nodes = nodes
        self.strings = strings
    }

    /// Parses one JSON text with `JSONParser`'s rules and `options` (same acceptance, same errors).
    ///
    /// - Throws: `JSONParseError` naming the first problem, its code and its position.
    public convenience init(
        parsing bytes: UnsafeRawBufferPointer, options: JSONParser.Options = .default
    )
        throws(JSONParseError)
    {
        var parser = Parser(input: bytes, options: options, sink: TapeBuilder(inputCount: bytes.count))
        try parser.parseDocument()
        self.init(nodes: parser.sink.nodes, strings: parser.sink.strings)
    }

    /// Parses one JSON text with `JSONParser`'s rules and `options`.
    ///
    /// - Throws: `JSONParseError` naming the first problem, its code and its position.
    public convenience init(parsing bytes: [UInt8], options: JSONParser.Options = .default) throws(JSONParseError) {
        let result = bytes.withUnsafeBytes { raw in
            Result { () throws(JSONParseError) in try JSONTape(parsing: raw, options: options) }
        }
        try self.init(copying: result.get())
    }

    private convenience init(copying other: JSONTape) {
        self.init(nodes: other.nodes, strings: other.strings)
    }

    /// Parses one JSON text exactly as `JCS.parseAndCanonicalize` does, from one pass over the input: its tape and
    /// its RFC 8785 canonical bytes (the bytes `JCS.canonicalize(json:)` gives).
    ///
    /// - Throws: `JSONParseError` if the text is not accepted by `JSONParser`.
    public static func parseAndCanonicalize(
        json bytes: UnsafeRawBufferPointer, options: JSONParser.Options = .default
    ) throws(JSONParseError) -> (tape: JSONTape, canonical: [UInt8]) {
        var parser = Parser(
            input: bytes, options: options,
            sink: TeeSink(TapeBuilder(inputCount: bytes.count), CanonicalWriter(capacity: bytes.count + 16)))
        try parser.parseDocument()
        let tape = JSONTape(nodes: parser.sink.first.nodes, strings: parser.sink.first.strings)
        return (tape, parser.sink.second.out.bytes())
    }

    /// The top-level value.
    @inlinable public var root: Value { Value(tape: self, index: 0) }

    /// A value in a tape: a cheap view (the tape and a node index), valid as long as it is kept. Each accessor reads
    /// through `withBorrowed` (the tape's storage lent for the call), so the walking is written once, in
    /// `BorrowedValue`.
    public struct Value: Sendable {
        @usableFromInline let tape: JSONTape
        @usableFromInline let index: Int

        @inlinable init(tape: JSONTape, index: Int) {
            self.tape = tape
            self.index = index
        }

        /// The same tape's value at the node a borrowed view points at.
        @inlinable func value(_ borrowed: BorrowedValue?) -> Value? {
            borrowed.map { Value(tape: tape, index: $0.index) }
        }

        /// The value's kind.
        @inlinable public var kind: JSONKind { withBorrowed { $0.kind } }

        /// The string, if this is a string.
        @inlinable public var stringValue: String? { withBorrowed { $0.stringValue } }

        /// The number, if this is a number.
        @inlinable public var numberValue: Double? { withBorrowed { $0.numberValue } }

        /// The number as an `Int`, if this is an integral number within ±(2^53 − 1) (as `JSONValue.intValue`).
        @inlinable public var intValue: Int? { withBorrowed { $0.intValue } }

        /// The Boolean, if this is `true` or `false`.
        @inlinable public var boolValue: Bool? { withBorrowed { $0.boolValue } }

        /// The number of elements (array) or members (object); 0 for anything else.
        @inlinable public var count: Int { withBorrowed { $0.count } }

        /// The member value for `key` if this is an object that has it (keys compared exactly, byte for byte).
        @inlinable public subscript(key: String) -> Value? { value(withBorrowed { $0[key] }) }

        /// The member value whose key has the UTF-8 bytes `key`, if this is an object that has it.
        @inlinable public func member(_ key: UnsafeRawBufferPointer) -> Value? {
            value(withBorrowed { $0.member(key) })
        }

        /// The element at `position` if this is an array and `position` is in bounds.
        @inlinable public subscript(position: Int) -> Value? { value(withBorrowed { $0[position] }) }

        /// Calls `body` with each element, in order (nothing if this is not an array).
        @inlinable public func forEachElement(_ body: (Value) throws -> Void) rethrows {
            for index in withBorrowed({ $0.childIndexes(members: false) }) { try body(Value(tape: tape, index: index)) }
        }

        /// Calls `body` with each member's key bytes (valid only during the call) and value, in document order
        /// (nothing if this is not an object).
        @inlinable public func forEachMember(_ body: (UnsafeRawBufferPointer, Value) throws -> Void) rethrows {
            for index in withBorrowed({ $0.childIndexes(members: true) }) {
                try tape.withBytes(of: tape.nodes[index - 1]) { try body($0, Value(tape: tape, index: index)) }
            }
        }

        /// Calls `body` with this value as a `BorrowedValue`, the tape's storage lent for the call.
        @inlinable public func withBorrowed<R, E: Error>(_ body: (BorrowedValue) throws(E) -> R) throws(E) -> R {
            let result: Result<R, E> = tape.nodes.withUnsafeBufferPointer { nodes in
                tape.strings.withUnsafeBufferPointer { strings in
                    // An empty string table still needs an address (no string is read from it).
                    withUnsafePointer(to: UInt8(0)) { empty in
                        Result { () throws(E) -> R in
                            try body(
                                BorrowedValue(
                                    nodes: nodes.baseAddress!, strings: strings.baseAddress ?? empty, index: index))
                        }
                    }
                }
            }
            return try result.get()
        }

        /// The value as a `JSONValue` tree (for messages, and code that needs a tree).
        public var jsonValue: JSONValue { withBorrowed { $0.jsonValue } }
    }

    /// A value in a tape read through pointers to the tape's storage, without reference counting: what validators
    /// use inside `Value.withBorrowed`, where retaining the tape on every step through a record cost a quarter of
    /// validation. It is valid only during the call that handed it out.
    public struct BorrowedValue: @unchecked Sendable {
        @usableFromInline let nodes: UnsafePointer<Node>
        @usableFromInline let strings: UnsafePointer<UInt8>
        @usableFromInline let index: Int

        @inlinable init(nodes: UnsafePointer<Node>, strings: UnsafePointer<UInt8>, index: Int) {
            self.nodes = nodes
            self.strings = strings
            self.index = index
        }

        @inlinable func at(_ index: Int) -> BorrowedValue {
            BorrowedValue(nodes: nodes, strings: strings, index: index)
        }

        @inlinable var node: Node { nodes[index] }

        @inlinable func bytes(of node: Node) -> UnsafeRawBufferPointer {
            UnsafeRawBufferPointer(start: strings + node.a, count: node.b)
        }

        /// The value's kind.
        @inlinable public var kind: JSONKind {
            let tag = node.tag
            return tag == Node.trueTag ? .bool : JSONKind(rawValue: tag) ?? .string
        }

        /// The string, if this is a string.
        @inlinable public var stringValue: String? {
            let node = node
            guard node.tag == JSONKind.string.rawValue else { return nil }
            return String(decoding: bytes(of: node), as: UTF8.self)
        }

        /// The number, if this is a number.
        @inlinable public var numberValue: Double? {
            let node = node
            return node.tag == JSONKind.number.rawValue ? node.number : nil
        }

        /// The number as an `Int`, if this is an integral number within ±(2^53 − 1) (as `JSONValue.intValue`).
        @inlinable public var intValue: Int? {
            guard let number = numberValue, number.rounded(.towardZero) == number, abs(number) <= 9_007_199_254_740_991
            else { return nil }
            return Int(number)
        }

        /// The Boolean, if this is `true` or `false`.
        @inlinable public var boolValue: Bool? {
            let tag = node.tag
            return tag == Node.trueTag ? true : tag == JSONKind.bool.rawValue ? false : nil
        }

        /// The number of elements (array) or members (object); 0 for anything else.
        @inlinable public var count: Int {
            let node = node
            return node.tag == JSONKind.array.rawValue || node.tag == JSONKind.object.rawValue ? node.b : 0
        }

        @inlinable var end: Int {
            let node = node
            return node.tag == JSONKind.array.rawValue || node.tag == JSONKind.object.rawValue ? node.a : index + 1
        }

        /// The member value for `key` if this is an object that has it (keys compared exactly, byte for byte).
        @inlinable public subscript(key: String) -> BorrowedValue? {
            guard node.tag == JSONKind.object.rawValue else { return nil }
            // Literal and native strings lend their bytes without a copy.
            if let found = key.utf8.withContiguousStorageIfAvailable({ member(UnsafeRawBufferPointer($0)) }) {
                return found
            }
            var key = key
            return key.withUTF8 { wanted in member(UnsafeRawBufferPointer(wanted)) }
        }

        /// The member value whose key has the UTF-8 bytes `key`, if this is an object that has it.
        @inlinable public func member(_ key: UnsafeRawBufferPointer) -> BorrowedValue? {
            let end = end
            var i = index + 1
            while i < end {
                let value = at(i + 1)
                let name = nodes[i]
                if name.b == key.count && (key.count == 0 || memcmpEqual(strings + name.a, key.baseAddress!, key.count))
                {
                    return value
                }
                i = value.end
            }
            return nil
        }

        /// The element at `position` if this is an array and `position` is in bounds.
        @inlinable public subscript(position: Int) -> BorrowedValue? {
            guard node.tag == JSONKind.array.rawValue, position >= 0, position < count else { return nil }
            var i = index + 1
            for _ in 0..<position { i = at(i).end }
            return at(i)
        }

        /// The node indexes of the elements (`members` false, for an array) or of the members' values (`members`
        /// true, for an object; each key is the node before its value); empty for anything else.
        @inlinable func childIndexes(members: Bool) -> [Int] {
            guard node.tag == (members ? JSONKind.object : JSONKind.array).rawValue else { return [] }
            var indexes: [Int] = []
            indexes.reserveCapacity(count)
            let end = end
            var i = index + (members ? 2 : 1)
            while i < end {
                indexes.append(i)
                i = at(i).end + (members ? 1 : 0)
            }
            return indexes
        }

        /// Calls `body` with each element, in order (nothing if this is not an array).
        @inlinable public func forEachElement(_ body: (BorrowedValue) throws -> Void) rethrows {
            guard node.tag == JSONKind.array.rawValue else { return }
            let end = end
            var i = index + 1
            while i < end {
                let element = at(i)
                try body(element)
                i = element.end
            }
        }

        /// Calls `body` with each member's key bytes (valid only during the call) and value, in document order
        /// (nothing if this is not an object).
        @inlinable public func forEachMember(_ body: (UnsafeRawBufferPointer, BorrowedValue) throws -> Void) rethrows {
            guard node.tag == JSONKind.object.rawValue else { return }
            let end = end
            var i = index + 1
            while i < end {
                let value = at(i + 1)
                try body(bytes(of: nodes[i]), value)
                i = value.end
            }
        }

        /// The value as a `JSONValue` tree.
        public var jsonValue: JSONValue {
            switch kind {
            case .null: return .null
            case .bool: return .bool(boolValue ?? false)
            case .number: return .number(node.number)
            case .string: return .string(stringValue ?? "")
            case .array:
                var elements: [JSONValue] = []
                elements.reserveCapacity(count)
                forEachElement { elements.append($0.jsonValue) }
                return .array(elements)
            case .object:
                var members: [JSONObject.Member] = []
                members.reserveCapacity(count)
                forEachMember { key, value in
                    members.append((String(decoding: key, as: UTF8.self), value.jsonValue))
                }
                return .object(JSONObject(uniqueMembers: members))
            }
        }
    }

    @inlinable func withBytes<R>(of node: Node, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try strings.withUnsafeBytes { all in
            try body(UnsafeRawBufferPointer(rebasing: all[node.a..<node.a + node.b]))
        }
    }

}

@usableFromInline
func memcmpEqual(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, _ count: Int) -> Bool {
    for i in 0..<count where a.load(fromByteOffset: i, as: UInt8.self) != b.load(fromByteOffset: i, as: UInt8.self) {
        return false
    }
    return true
}

/// Builds a tape from parser events.
struct TapeBuilder: JSONEventSink {
    private(set) var nodes: [JSONTape.Node] = []
    private(set) var strings: [UInt8] = []
    /// Open containers: their node index and how many elements or members they have so far.
    private var open: [(index: Int, count: Int)] = []

    init(inputCount: Int) {
        // A node per ~12 input bytes and the strings' bytes are good first guesses for records; both grow if not.
        nodes.reserveCapacity(max(16, inputCount / 12))
        strings.reserveCapacity(inputCount)
        open.reserveCapacity(8)
    }

    mutating func beginArray() { begin(.array) }
    mutating func beginObject() { begin(.object) }
    mutating func endArray() { end() }
    mutating func endObject() { end() }

    mutating func key(_ utf8: UnsafeRawBufferPointer, hadEscapes: Bool) {
        open[open.count - 1].count += 1
        appendBytes(utf8, tag: JSONTape.Node.keyTag)
    }

    mutating func string(_ utf8: UnsafeRawBufferPointer, hadEscapes: Bool) {
        countElement()
        appendBytes(utf8, tag: JSONKind.string.rawValue)
    }

    mutating func number(_ value: Double, exactIntegerLiteral: UnsafeRawBufferPointer?) {
        countElement()
        nodes.append(.init(tag: JSONKind.number.rawValue, a: 0, b: 0, number: value))
    }

    mutating func bool(_ value: Bool) {
        countElement()
        nodes.append(.init(tag: value ? JSONTape.Node.trueTag : JSONKind.bool.rawValue, a: 0, b: 0, number: 0))
    }

    mutating func null() {
        countElement()
        nodes.append(.init(tag: JSONKind.null.rawValue, a: 0, b: 0, number: 0))
    }

    private mutating func begin(_ kind: JSONKind) {
        countElement()
        open.append((nodes.count, 0))
        nodes.append(.init(tag: kind.rawValue, a: 0, b: 0, number: 0))
    }

    private mutating func end() {
        let (index, count) = open.removeLast()
        nodes[index].a = nodes.count
        nodes[index].b = count
    }

    /// An array's element is counted when it starts (an object's member when its key arrives).
    private mutating func countElement() {
        guard let last = open.last, nodes[last.index].tag == JSONKind.array.rawValue else { return }
        open[open.count - 1].count += 1
    }

    private mutating func appendBytes(_ utf8: UnsafeRawBufferPointer, tag: UInt8) {
        nodes.append(.init(tag: tag, a: strings.count, b: utf8.count, number: 0))
        strings.append(contentsOf: utf8)
    }
}
