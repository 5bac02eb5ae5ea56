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

/// Sends every event to two sinks, in order: one parse, two outputs (a value tree and its canonical bytes).
internal struct TeeSink<First: JSONEventSink & ~Copyable, Second: JSONEventSink & ~Copyable>: JSONEventSink, ~Copyable {
    var first: First
    var second: Second

    init(_ first: consuming First, _ second: consuming Second) {
        self.first = first
        self.second = second
    }

    mutating func beginArray() {
        first.beginArray()
        second.beginArray()
    }

    mutating func endArray() {
        first.endArray()
        second.endArray()
    }

    mutating func beginObject() {
        first.beginObject()
        second.beginObject()
    }

    mutating func key(_ utf8: UnsafeRawBufferPointer, hadEscapes: Bool) {
        first.key(utf8, hadEscapes: hadEscapes)
        second.key(utf8, hadEscapes: hadEscapes)
    }

    mutating func endObject() {
        first.endObject()
        second.endObject()
    }

    mutating func string(_ utf8: UnsafeRawBufferPointer, hadEscapes: Bool) {
        first.string(utf8, hadEscapes: hadEscapes)
        second.string(utf8, hadEscapes: hadEscapes)
    }

    mutating func number(_ value: Double, exactIntegerLiteral: UnsafeRawBufferPointer?) {
        first.number(value, exactIntegerLiteral: exactIntegerLiteral)
        second.number(value, exactIntegerLiteral: exactIntegerLiteral)
    }

    mutating func bool(_ value: Bool) {
        first.bool(value)
        second.bool(value)
    }

    mutating func null() {
        first.null()
        second.null()
    }
}
