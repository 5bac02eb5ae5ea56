/// Receives the parser's events for one JSON text, in document order.
///
/// The parser has already checked everything (grammar, UTF-8, escapes, duplicate keys, number
/// ranges) before it sends an event, so a sink only builds its output. Byte buffers passed to a sink
/// are valid only during the call.
internal protocol JSONEventSink: ~Copyable {
    mutating func beginArray()
    mutating func endArray()
    mutating func beginObject()
    /// An object key: its unescaped UTF-8 bytes. `hadEscapes` is false when the bytes were copied
    /// verbatim from the input, which guarantees that they contain no `"`, `\` or control characters.
    mutating func key(_ utf8: UnsafeRawBufferPointer, hadEscapes: Bool)
    mutating func endObject()
    /// A string value: its unescaped UTF-8 bytes (see `key(_:hadEscapes:)`).
    mutating func string(_ utf8: UnsafeRawBufferPointer, hadEscapes: Bool)
    /// A finite number. `exactIntegerLiteral`, when present, is the number's input text, an integer
    /// literal of at most 15 digits other than `-0`, which is also its ES6 form.
    mutating func number(_ value: Double, exactIntegerLiteral: UnsafeRawBufferPointer?)
    mutating func bool(_ value: Bool)
    mutating func null()
}
