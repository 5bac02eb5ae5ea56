/// A strict RFC 8259 JSON parser with precise error positions: stateless, callable from any thread.
///
/// Every `parse` call is independent. I-JSON (RFC 7493) restrictions apply.
///
/// Accepts exactly one JSON text, optionally surrounded by JSON whitespace (space, tab, LF, CR), and
/// rejects everything else: comments, trailing commas, single quotes, `NaN`/`Infinity`, leading zeros,
/// raw control characters in strings, ill-formed UTF-8, a byte order mark, duplicate keys (compared after
/// unescaping), lone surrogate escapes, numbers that overflow or underflow a double, and (by default)
/// integer literals beyond ±(2^53 − 1). `specs/canonical-json.md` lists every rule with its error code.
///
/// ```swift
/// let value = try JSONParser.parse(#"{"id": "r1", "size": 1024}"#)
/// value["size"]?.numberValue  // 1024.0
/// ```
public struct JSONParser {
    /// Limits and policies for one parse: a `Sendable` value type.
    public struct Options: Sendable {
        /// The deepest allowed nesting of arrays and objects (256 by default). `[[1]]` has depth 2; a
        /// scalar at the top has depth 0. The parser does not recurse, so any limit is safe for the
        /// parser itself, but very deep values are costly for recursive consumers.
        public var maxDepth: Int = 256

        /// Rejects, with `JSONParseError.Code.impreciseInteger`, integer literals (no fraction, no
        /// exponent) outside ±(2^53 − 1), because a double cannot hold them exactly and the stored value
        /// would silently differ from the text (I-JSON, RFC 7493 §2.2); and any other number whose
        /// double is an integer of magnitude in [2^53, 10^21), because RFC 8785 would write it as such
        /// an integer literal (`1.5e17` → `150000000000000000`). When false, both are rounded to the
        /// nearest double like any other number. Default: true.
        public var rejectImpreciseIntegers: Bool = true

        /// Creates options; every parameter defaults to the value documented on its property.
        public init(maxDepth: Int = 256, rejectImpreciseIntegers: Bool = true) {
            self.maxDepth = maxDepth
            self.rejectImpreciseIntegers = rejectImpreciseIntegers
        }

        /// Depth 256, imprecise integers rejected.
        public static let `default` = Options()
    }

    /// Parses exactly one JSON text from UTF-8 bytes.
    ///
    /// - Throws: `JSONParseError` naming the first problem, its code and its position.
    public static func parse(
        _ bytes: UnsafeRawBufferPointer,
        options: Options = .default
    ) throws(JSONParseError) -> JSONValue {
        var parser = Parser(input: bytes, options: options, sink: ValueBuilder())
        try parser.parseDocument()
        return parser.sink.result
    }

    /// Parses exactly one JSON text from UTF-8 bytes.
    ///
    /// - Throws: `JSONParseError` naming the first problem, its code and its position.
    public static func parse(_ bytes: [UInt8], options: Options = .default) throws(JSONParseError) -> JSONValue {
        try withRawBytes(of: bytes) { raw throws(JSONParseError) in try parse(raw, options: options) }
    }

    /// Parses exactly one JSON text. A `String` is always valid Unicode, so `invalidUTF8` cannot occur.
    ///
    /// - Throws: `JSONParseError` naming the first problem, its code and its position.
    public static func parse(_ text: String, options: Options = .default) throws(JSONParseError) -> JSONValue {
        try withRawBytes(of: text) { raw throws(JSONParseError) in try parse(raw, options: options) }
    }
}

/// Calls `body` with the bytes of `array`, keeping `body`'s typed error.
internal func withRawBytes<R, E: Error>(
    of array: [UInt8],
    _ body: (UnsafeRawBufferPointer) throws(E) -> R
) throws(E) -> R {
    let result: Result<R, E> = array.withUnsafeBytes { raw in Result { () throws(E) in try body(raw) } }
    return try result.get()
}

/// Calls `body` with the UTF-8 bytes of `text`, keeping `body`'s typed error.
internal func withRawBytes<R, E: Error>(
    of text: String,
    _ body: (UnsafeRawBufferPointer) throws(E) -> R
) throws(E) -> R {
    var text = text
    let result: Result<R, E> = text.withUTF8 { utf8 in
        Result { () throws(E) in try body(UnsafeRawBufferPointer(utf8)) }
    }
    return try result.get()
}
