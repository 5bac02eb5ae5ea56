/// The JSON Canonicalization Scheme (RFC 8785): stateless, every function callable from any thread.
///
/// It gives one exact byte sequence for each JSON value.
///
/// Output rules (RFC 8785 §3.2): no whitespace; object members sorted by the UTF-16 code units of
/// their keys; array order kept; strings escaped only where required (`\"`, `\\`, `\b \t \n \f \r`,
/// other U+0000...U+001F as `\u00xx`), everything else as UTF-8; numbers as ECMAScript writes them.
///
/// ```swift
/// let leaf = try JCS.canonicalize(json: Array(#"{"b": 1.50, "a": [true, null]}"#.utf8))
/// String(decoding: leaf, as: UTF8.self)  // {"a":[true,null],"b":1.5}
/// ```
public enum JCS {
    /// The canonical UTF-8 bytes of `value`.
    ///
    /// - Throws: `JCSError` with code `nonFiniteNumber` if any number is NaN or infinite.
    public static func canonicalize(_ value: JSONValue) throws(JCSError) -> [UInt8] {
        var out = ByteWriter(capacity: 256)
        guard appendCanonical(value, to: &out) else { throw nonFiniteError(in: value) }
        return out.bytes()
    }

    /// Validates one JSON text exactly as `JSONParser.parse` does (same rules, same errors, same
    /// `options`) and returns its canonical bytes.
    ///
    /// This is the ingest path: a record's leaf bytes are `try JCS.canonicalize(json: recordBytes)`.
    /// It streams: the canonical bytes are written while parsing, without building a `JSONValue`.
    /// The output always parses again under the same `options` (see `specs/canonical-json.md`).
    ///
    /// - Throws: `JSONParseError` if the text is not accepted by `JSONParser`.
    public static func canonicalize(
        json bytes: UnsafeRawBufferPointer,
        options: JSONParser.Options = .default
    ) throws(JSONParseError) -> [UInt8] {
        var parser = Parser(input: bytes, options: options, sink: CanonicalWriter(capacity: bytes.count + 16))
        try parser.parseDocument()
        return parser.sink.out.bytes()
    }

    /// Parses one JSON text exactly as `JSONParser.parse` does and returns both its value and its canonical
    /// bytes, from one pass over the input: the bytes are those `canonicalize(json:)` and
    /// `canonicalize(_:)` of the value give. The ingest path of records that are validated as values.
    ///
    /// - Throws: `JSONParseError` if the text is not accepted by `JSONParser`.
    public static func parseAndCanonicalize(
        json bytes: UnsafeRawBufferPointer,
        options: JSONParser.Options = .default
    ) throws(JSONParseError) -> (value: JSONValue, canonical: [UInt8]) {
        var parser = Parser(
            input: bytes, options: options,
            sink: TeeSink(ValueBuilder(), CanonicalWriter(capacity: bytes.count + 16)))
        try parser.parseDocument()
        return (parser.sink.first.result, parser.sink.second.out.bytes())
    }

    /// Parses one JSON text with `JSONParser` (strict, with `options`) and returns its canonical bytes.
    ///
    /// - Throws: `JSONParseError` if the text is not accepted by `JSONParser`.
    public static func canonicalize(
        json bytes: [UInt8],
        options: JSONParser.Options = .default
    ) throws(JSONParseError) -> [UInt8] {
        try withRawBytes(of: bytes) { raw throws(JSONParseError) in try canonicalize(json: raw, options: options) }
    }

    /// True when `bytes` is a JSON text accepted by `JSONParser` (with `options`) that is already in
    /// canonical form, byte for byte. Use it to check stored leaves.
    public static func isCanonical(json bytes: UnsafeRawBufferPointer, options: JSONParser.Options = .default) -> Bool {
        guard let canonical = try? canonicalize(json: bytes, options: options) else { return false }
        return canonical.elementsEqual(bytes)
    }

    /// True when `bytes` is a JSON text accepted by `JSONParser` (with `options`) that is already in
    /// canonical form, byte for byte.
    public static func isCanonical(json bytes: [UInt8], options: JSONParser.Options = .default) -> Bool {
        bytes.withUnsafeBytes { isCanonical(json: $0, options: options) }
    }

    /// The ECMAScript `Number.prototype.toString` text of `number` (RFC 8785 §3.2.2.3): shortest
    /// round-trip digits; plain integers below 10^21; exponent form such as `1e+21` or `1e-7` outside
    /// 10^-6 ≤ |x| < 10^21; `-0` becomes `0`.
    ///
    /// - Precondition: `number.isFinite`.
    public static func serialize(number: Double) -> String {
        var out = ByteWriter(capacity: 32)
        appendES6Number(number, to: &out)
        return out.string()
    }

    // MARK: - Serialization

    /// Appends the canonical form of `value`; returns false (output incomplete) on a non-finite number.
    static func appendCanonical(_ value: JSONValue, to out: inout ByteWriter) -> Bool {
        switch value {
        case .null:
            out.appendASCII("null")
        case .bool(let b):
            out.appendASCII(b ? "true" : "false")
        case .number(let d):
            guard d.isFinite else { return false }
            appendES6Number(d, to: &out)
        case .string(let s):
            appendQuotedString(s, to: &out)
        case .array(let elements):
            out.append(UInt8(ascii: "["))
            for (position, element) in elements.enumerated() {
                if position > 0 { out.append(UInt8(ascii: ",")) }
                guard appendCanonical(element, to: &out) else { return false }
            }
            out.append(UInt8(ascii: "]"))
        case .object(let object):
            return appendCanonical(object.members, to: &out)
        }
        return true
    }

    private static func appendCanonical(_ members: [JSONObject.Member], to out: inout ByteWriter) -> Bool {
        out.append(UInt8(ascii: "{"))
        let finite = withUnsafeTemporaryAllocation(of: Int.self, capacity: members.count) { buffer in
            var order = buffer
            for position in 0..<members.count { order.initializeElement(at: position, to: position) }
            order.sort { utf16Less(members[$0].key, members[$1].key) }
            for (n, position) in order.enumerated() {
                if n > 0 { out.append(UInt8(ascii: ",")) }
                appendQuotedString(members[position].key, to: &out)
                out.append(UInt8(ascii: ":"))
                guard appendCanonical(members[position].value, to: &out) else { return false }
            }
            return true
        }
        out.append(UInt8(ascii: "}"))
        return finite
    }

    /// Finds the first non-finite number in `value` (slow path, errors only).
    private static func nonFiniteError(in value: JSONValue) -> JCSError {
        func search(_ value: JSONValue, _ path: String) -> (path: String, number: Double)? {
            switch value {
            case .number(let d) where !d.isFinite:
                return (path, d)
            case .array(let elements):
                for (position, element) in elements.enumerated() {
                    if let found = search(element, "\(path)[\(position)]") { return found }
                }
            case .object(let object):
                for (key, member) in object {
                    if let found = search(member, "\(path)[\(quotedForMessage(key))]") { return found }
                }
            default:
                break
            }
            return nil
        }
        let (path, number) = search(value, "$") ?? ("$", .nan)
        let name = number.isNaN ? "NaN" : (number < 0 ? "-Infinity" : "Infinity")
        return JCSError(
            code: .nonFiniteNumber, path: path,
            detail: "number at \(path) is \(name); JSON and RFC 8785 have no NaN or Infinity"
        )
    }
}
