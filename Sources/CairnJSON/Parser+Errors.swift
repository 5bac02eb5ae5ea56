// Building `JSONParseError`s: positions, descriptions of what was found, and hints. Only runs on failure.

extension Parser where Sink: ~Copyable {
    /// Makes an error of `code` at byte `offset`, computing its line and column.
    @inline(never)
    func fail(_ code: JSONParseError.Code, at offset: Int, _ detail: String) -> JSONParseError {
        let (line, column) = Self.lineAndColumn(of: offset, in: input)
        return JSONParseError(code: code, offset: offset, line: line, column: column, detail: detail)
    }

    /// The 1-based line and column (in Unicode scalars) of byte `offset`. LF, CR LF and a lone CR each
    /// end a line. Every byte before `offset` has already been validated as UTF-8.
    static func lineAndColumn(of offset: Int, in input: UnsafeRawBufferPointer) -> (line: Int, column: Int) {
        var line = 1
        var column = 1
        var i = 0
        let end = min(offset, input.count)
        while i < end {
            let byte = input[i]
            if byte == 0x0A || (byte == 0x0D && (i + 1 >= input.count || input[i + 1] != 0x0A)) {
                line += 1
                column = 1
            } else if byte != 0x0D && !isContinuation(byte) {
                column += 1
            }
            i += 1
        }
        return (line, column)
    }

    /// Describes the character at `offset` for a message: `'x'`, `U+00A0`, or `end of input`.
    /// Throws `invalidUTF8` when the bytes there are not well-formed UTF-8.
    @inline(never)
    func describe(at offset: Int) throws(JSONParseError) -> String {
        guard offset < input.count else { return "end of input" }
        let byte = input[offset]
        if byte < 0x80 {
            return byte > 0x20 && byte < 0x7F
                ? "'\(Character(Unicode.Scalar(byte)))'" : scalarName(Unicode.Scalar(byte))
        }
        let length = wellFormedUTF8Length(input, at: offset)
        guard length > 0 else { throw fail(.invalidUTF8, at: offset, describeUTF8Problem(input, at: offset)) }
        let scalar = decodeScalar(input, at: offset, length: length)
        let hint =
            scalar.properties.isWhitespace
            ? " (only space, tab, line feed and carriage return are JSON whitespace)" : ""
        return scalarName(scalar) + hint
    }

    /// A hint for a byte found where a value (or a `,`/closing bracket) was expected.
    func valueHint(_ byte: UInt8) -> String {
        switch byte {
        case UInt8(ascii: "'"): return " (strings must be in double quotes)"
        case UInt8(ascii: "/"), UInt8(ascii: "#"): return " (comments are not allowed in JSON)"
        case UInt8(ascii: "N"), UInt8(ascii: "I"): return " (NaN and Infinity are not JSON numbers)"
        case UInt8(ascii: "+"): return " (a number must not start with '+')"
        case UInt8(ascii: "."): return " (a number must start with a digit)"
        case UInt8(ascii: "T"), UInt8(ascii: "F"): return " (the literals true, false and null are lowercase)"
        case 0x0B, 0x0C: return " (only space, tab, line feed and carriage return are JSON whitespace)"
        default: return ""
        }
    }

    /// A hint for a byte found where an object key was expected.
    func keyHint(_ byte: UInt8) -> String {
        switch byte {
        case UInt8(ascii: "'"): return " (keys must be in double quotes)"
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "_"),
            UInt8(ascii: "$"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return " (object keys must be double-quoted strings)"
        default: return valueHint(byte)
        }
    }
}

/// `s` in double quotes, escaped like JCS so that the message stays on one line; long text is cut short.
internal func quotedForMessage(_ s: String, limit: Int = 80) -> String {
    var shown = s
    if s.unicodeScalars.count > limit {
        shown = String(String.UnicodeScalarView(s.unicodeScalars.prefix(limit))) + "…"
    }
    var out = ByteWriter(capacity: 64)
    appendQuotedString(shown, to: &out)
    return out.string()
}
