// The parser's structure loop: values, arrays, objects and literals, without recursion.
//
// The parser validates everything and reports events to a sink (`ValueBuilder` builds a tree,
// `CanonicalWriter` writes RFC 8785 bytes). It keeps only what validation needs: one frame per open
// container and, for open objects, their unescaped keys in `keyArena` to reject duplicates.

/// Parsing state over one input buffer. Not shared: one instance per parse.
internal struct Parser<Sink: JSONEventSink & ~Copyable>: ~Copyable {
    /// One open array or object.
    private struct Frame {
        let isObject: Bool
        /// Index in `keySpans` of this object's first key.
        let firstKey: Int
        /// Where this object's escaped keys start in `keyArena`.
        let arenaStart: Int
        /// Hash set of this object's keys, built once it has more than `Parser.linearSearchLimit` keys.
        var keySet: Set<[UInt8]>?
    }

    /// Where an open object's unescaped key is: in `keyArena` if it had escapes, else in the input.
    private struct KeySpan {
        let start: Int
        let count: Int
        let inArena: Bool
    }

    /// Objects with at most this many keys are searched linearly for duplicates.
    private static var linearSearchLimit: Int { 16 }

    let input: UnsafeRawBufferPointer
    let options: JSONParser.Options
    /// Receives the events.
    var sink: Sink
    /// The offset of the next unread byte.
    var index = 0
    /// Reused buffer for strings that contain escapes.
    var scratch: [UInt8] = []
    private var frames: [Frame] = []
    /// The keys of all open objects, innermost last.
    private var keySpans: [KeySpan] = []
    /// Unescaped bytes of the keys in `keySpans` that had escapes.
    private var keyArena: [UInt8] = []

    init(input: UnsafeRawBufferPointer, options: JSONParser.Options, sink: consuming Sink) {
        self.input = input
        self.options = options
        self.sink = sink
    }

    /// Parses the whole input as one JSON text surrounded by optional whitespace.
    mutating func parseDocument() throws(JSONParseError) {
        if input.count >= 3, input[0] == 0xEF, input[1] == 0xBB, input[2] == 0xBF {
            throw fail(
                .byteOrderMark, at: 0,
                "the text starts with a UTF-8 byte order mark (EF BB BF), which JSON forbids "
                    + "(RFC 8259 §8.1); remove it"
            )
        }
        try parseValueTree()
        skipWhitespace()
        if index < input.count {
            throw fail(.trailingData, at: index, "unexpected \(try describe(at: index)) after the JSON value")
        }
    }

    // MARK: - Structure

    private mutating func parseValueTree() throws(JSONParseError) {
        var afterComma = false
        nextValue: while true {
            skipWhitespace()
            guard index < input.count else {
                throw fail(.unexpectedEnd, at: index, "expected a JSON value, found end of input")
            }
            let byte = input[index]
            switch byte {
            case UInt8(ascii: "\""):
                emitString(try parseString())
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                let start = index
                let number = try parseNumber()
                let literal = number.isCanonicalLiteral ? UnsafeRawBufferPointer(rebasing: input[start..<index]) : nil
                sink.number(number.value, exactIntegerLiteral: literal)
            case UInt8(ascii: "{"):
                try open(isObject: true)
                sink.beginObject()
                skipWhitespace()
                if index < input.count, input[index] == UInt8(ascii: "}") {
                    index += 1
                    closeTop()
                } else {
                    try parseMemberKey(afterComma: false)
                    afterComma = false
                    continue nextValue
                }
            case UInt8(ascii: "["):
                try open(isObject: false)
                sink.beginArray()
                skipWhitespace()
                if index < input.count, input[index] == UInt8(ascii: "]") {
                    index += 1
                    closeTop()
                } else {
                    afterComma = false
                    continue nextValue
                }
            case UInt8(ascii: "t"):
                try expectLiteral("true")
                sink.bool(true)
            case UInt8(ascii: "f"):
                try expectLiteral("false")
                sink.bool(false)
            case UInt8(ascii: "n"):
                try expectLiteral("null")
                sink.null()
            default:
                var hint = valueHint(byte)
                if afterComma, byte == UInt8(ascii: "]") { hint = " (trailing commas are not allowed)" }
                throw fail(
                    .unexpectedCharacter, at: index, "expected a JSON value, found \(try describe(at: index))\(hint)"
                )
            }

            // A value is complete: continue its container, or close the containers that end here.
            while !frames.isEmpty {
                let isObject = frames[frames.count - 1].isObject
                skipWhitespace()
                guard index < input.count else {
                    throw fail(.unexpectedEnd, at: index, "\(expectedAfterValue(isObject)), found end of input")
                }
                let byte = input[index]
                if byte == UInt8(ascii: ",") {
                    index += 1
                    if isObject {
                        try parseMemberKey(afterComma: true)
                    } else {
                        afterComma = true
                    }
                    continue nextValue
                }
                guard byte == (isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")) else {
                    throw fail(
                        .unexpectedCharacter, at: index,
                        "\(expectedAfterValue(isObject)), found \(try describe(at: index))\(valueHint(byte))"
                    )
                }
                index += 1
                closeTop()
            }
            return
        }
    }

    private func expectedAfterValue(_ isObject: Bool) -> String {
        isObject ? "expected ',' or '}' after object member" : "expected ',' or ']' after array element"
    }

    /// Opens an array or object at `index` (which holds its bracket), enforcing the depth limit.
    private mutating func open(isObject: Bool) throws(JSONParseError) {
        guard frames.count < options.maxDepth else {
            throw fail(
                .tooDeep, at: index,
                "arrays and objects are nested deeper than the limit of \(options.maxDepth) "
                    + "(JSONParser.Options.maxDepth)"
            )
        }
        if frames.isEmpty {
            frames.reserveCapacity(8)
            keySpans.reserveCapacity(32)
        }
        frames.append(Frame(isObject: isObject, firstKey: keySpans.count, arenaStart: keyArena.count, keySet: nil))
        index += 1
    }

    /// Closes the innermost container (its closing bracket has been read).
    private mutating func closeTop() {
        let frame = frames.removeLast()
        if frame.isObject {
            keySpans.truncate(to: frame.firstKey)
            keyArena.truncate(to: frame.arenaStart)
            sink.endObject()
        } else {
            sink.endArray()
        }
    }

    /// Reads `"key"` and the following `:` for the innermost (object) frame, rejecting a repeated key.
    private mutating func parseMemberKey(afterComma: Bool) throws(JSONParseError) {
        skipWhitespace()
        let expected = afterComma ? "expected a string key after ','" : "expected a string key or '}'"
        guard index < input.count else {
            throw fail(.unexpectedEnd, at: index, "\(expected), found end of input")
        }
        let byte = input[index]
        guard byte == UInt8(ascii: "\"") else {
            var hint = keyHint(byte)
            if afterComma, byte == UInt8(ascii: "}") { hint = " (trailing commas are not allowed)" }
            throw fail(.unexpectedCharacter, at: index, "\(expected), found \(try describe(at: index))\(hint)")
        }
        let keyOffset = index
        let token = try parseString()
        guard emitKey(token) else {
            throw fail(.duplicateKey, at: keyOffset, "duplicate key \(quotedForMessage(text(of: token)))")
        }

        skipWhitespace()
        guard index < input.count else {
            throw fail(.unexpectedEnd, at: index, "expected ':' after object key, found end of input")
        }
        guard input[index] == UInt8(ascii: ":") else {
            throw fail(
                .unexpectedCharacter, at: index, "expected ':' after object key, found \(try describe(at: index))"
            )
        }
        index += 1
    }

    /// Records the key and sends it to the sink; returns false (sending nothing) if it is a duplicate.
    private mutating func emitKey(_ token: StringToken) -> Bool {
        if token.hadEscapes {
            let unescaped = scratch
            return unescaped.withUnsafeBytes { bytes in
                guard recordKey(bytes, inputOffset: nil) else { return false }
                sink.key(bytes, hadEscapes: true)
                return true
            }
        }
        let bytes = UnsafeRawBufferPointer(rebasing: input[token.range])
        guard recordKey(bytes, inputOffset: token.range.lowerBound) else { return false }
        sink.key(bytes, hadEscapes: false)
        return true
    }

    /// Adds `key` to the innermost object's keys; returns false if the object already has it.
    /// `inputOffset` is where the key's bytes are in the input, or nil when they must be copied.
    private mutating func recordKey(_ key: UnsafeRawBufferPointer, inputOffset: Int?) -> Bool {
        let top = frames.count - 1
        let first = frames[top].firstKey
        if frames[top].keySet == nil {
            if keySpans.count - first < Self.linearSearchLimit {
                let isDuplicate = keyArena.withUnsafeBytes { arena in
                    keySpans.withUnsafeBufferPointer { spans in
                        for k in first..<spans.count where spans[k].count == key.count {
                            if bytes(of: spans[k], arena: arena).elementsEqual(key) { return true }
                        }
                        return false
                    }
                }
                if isDuplicate { return false }
            } else {
                var set = Set<[UInt8]>(minimumCapacity: 2 * Self.linearSearchLimit)
                keyArena.withUnsafeBytes { arena in
                    for span in keySpans[first...] { set.insert(Array(bytes(of: span, arena: arena))) }
                }
                frames[top].keySet = set
            }
        }
        if frames[top].keySet != nil, !frames[top].keySet!.insert(Array(key)).inserted { return false }
        if let inputOffset {
            keySpans.append(KeySpan(start: inputOffset, count: key.count, inArena: false))
        } else {
            keySpans.append(KeySpan(start: keyArena.count, count: key.count, inArena: true))
            keyArena.appendBytes(key)
        }
        return true
    }

    private func bytes(of span: KeySpan, arena: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: (span.inArena ? arena : input)[span.start..<span.start + span.count])
    }

    // MARK: - Tokens

    mutating func skipWhitespace() {
        while index < input.count {
            switch input[index] {
            case 0x20, 0x0A, 0x0D, 0x09: index += 1
            default: return
            }
        }
    }

    /// Matches `literal` (`true`, `false` or `null`) at `index`.
    private mutating func expectLiteral(_ literal: StaticString) throws(JSONParseError) {
        let start = index
        let count = literal.utf8CodeUnitCount
        for k in 0..<count {
            let position = start + k
            guard position < input.count else {
                throw fail(.unexpectedEnd, at: position, "expected '\(literal)', found end of input")
            }
            guard input[position] == literal.utf8Start[k] else {
                throw fail(
                    .unexpectedCharacter, at: position, "expected '\(literal)', found \(try describe(at: position))"
                )
            }
        }
        index = start + count
    }
}
