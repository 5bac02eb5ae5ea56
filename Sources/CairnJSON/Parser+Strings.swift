// String tokens: a fast path for strings without escapes, and a slow path that unescapes into `scratch`.

/// A parsed string: its unescaped bytes are `input[range]` when it had no escapes, else all of `scratch`.
internal struct StringToken {
    let range: Range<Int>
    let hadEscapes: Bool
}

extension Parser where Sink: ~Copyable {
    /// Sends a string value to the sink.
    mutating func emitString(_ token: StringToken) {
        if token.hadEscapes {
            let unescaped = scratch
            unescaped.withUnsafeBytes { sink.string($0, hadEscapes: true) }
        } else {
            sink.string(UnsafeRawBufferPointer(rebasing: input[token.range]), hadEscapes: false)
        }
    }

    /// The text of a parsed string (for messages).
    func text(of token: StringToken) -> String {
        token.hadEscapes
            ? String(decoding: scratch, as: UTF8.self)
            : String(decoding: UnsafeRawBufferPointer(rebasing: input[token.range]), as: UTF8.self)
    }

    /// Parses the string whose opening quote is at `index`; leaves `index` after the closing quote.
    mutating func parseString() throws(JSONParseError) -> StringToken {
        let start = index + 1
        var i = start
        let end = input.count
        while true {
            // Skip plain ASCII eight bytes at a time, up to the first quote, backslash, control or
            // non-ASCII byte.
            while i &+ 8 <= end {
                let mask = specialByteMask(
                    UInt64(littleEndian: input.loadUnaligned(fromByteOffset: i, as: UInt64.self)))
                if mask != 0 {
                    i &+= mask.trailingZeroBitCount &>> 3
                    break
                }
                i &+= 8
            }
            guard i < end else { throw unterminatedString(from: start - 1) }
            let byte = input[i]
            if byte == UInt8(ascii: "\"") {
                index = i + 1
                return StringToken(range: start..<i, hadEscapes: false)
            } else if byte == UInt8(ascii: "\\") {
                return try parseEscapedString(from: start, firstEscape: i)
            } else if byte < 0x20 {
                throw controlCharacter(at: i)
            } else if byte < 0x80 {
                i += 1
            } else {
                let length = wellFormedUTF8Length(input, at: i)
                guard length > 0 else { throw fail(.invalidUTF8, at: i, describeUTF8Problem(input, at: i)) }
                i += length
            }
        }
    }

    /// Slow path: the string starting at `start` has its first backslash at `firstEscape`.
    private mutating func parseEscapedString(from start: Int, firstEscape: Int) throws(JSONParseError) -> StringToken {
        scratch.removeAll(keepingCapacity: true)
        if scratch.capacity < 256 { scratch.reserveCapacity(256) }
        scratch.appendBytes(UnsafeRawBufferPointer(rebasing: input[start..<firstEscape]))
        var i = firstEscape
        let end = input.count
        while i < end {
            let byte = input[i]
            if byte == UInt8(ascii: "\"") {
                index = i + 1
                return StringToken(range: 0..<scratch.count, hadEscapes: true)
            } else if byte == UInt8(ascii: "\\") {
                i = try unescape(at: i)
            } else if byte < 0x20 {
                throw controlCharacter(at: i)
            } else if byte < 0x80 {
                scratch.append(byte)
                i += 1
            } else {
                let length = wellFormedUTF8Length(input, at: i)
                guard length > 0 else { throw fail(.invalidUTF8, at: i, describeUTF8Problem(input, at: i)) }
                scratch.appendBytes(UnsafeRawBufferPointer(rebasing: input[i..<i + length]))
                i += length
            }
        }
        throw unterminatedString(from: start - 1)
    }

    /// Appends the character of the escape sequence at `i` (a backslash) to `scratch`; returns the
    /// offset after the sequence.
    private mutating func unescape(at i: Int) throws(JSONParseError) -> Int {
        guard i + 1 < input.count else {
            throw fail(.unexpectedEnd, at: i + 1, "unterminated escape sequence, found end of input")
        }
        let replacement: UInt8
        switch input[i + 1] {
        case UInt8(ascii: "\""): replacement = 0x22
        case UInt8(ascii: "\\"): replacement = 0x5C
        case UInt8(ascii: "/"): replacement = 0x2F
        case UInt8(ascii: "b"): replacement = 0x08
        case UInt8(ascii: "f"): replacement = 0x0C
        case UInt8(ascii: "n"): replacement = 0x0A
        case UInt8(ascii: "r"): replacement = 0x0D
        case UInt8(ascii: "t"): replacement = 0x09
        case UInt8(ascii: "u"): return try unescapeUnicode(at: i)
        default:
            let found = try describe(at: i + 1)
            throw fail(
                .invalidEscape, at: i,
                "invalid escape sequence: backslash followed by \(found); valid escapes are "
                    + #"\" \\ \/ \b \f \n \r \t and \uXXXX"#
            )
        }
        scratch.append(replacement)
        return i + 2
    }

    /// Handles `\uXXXX` at `i`, combining a high and a low surrogate escape into one scalar.
    private mutating func unescapeUnicode(at i: Int) throws(JSONParseError) -> Int {
        let unit = try hexQuad(at: i)
        var scalarValue = UInt32(unit)
        var next = i + 6
        switch unit {
        case 0xD800...0xDBFF:
            let hasLowEscape =
                next + 1 < input.count && input[next] == UInt8(ascii: "\\")
                && input[next + 1] == UInt8(ascii: "u")
            guard hasLowEscape else {
                throw fail(
                    .loneSurrogate, at: i,
                    "lone high surrogate \\u\(hexDigits(UInt32(unit), width: 4)) must be followed by a low "
                        + "surrogate escape \\uDC00...\\uDFFF; I-JSON forbids unpaired surrogates"
                )
            }
            let low = try hexQuad(at: next)
            guard (0xDC00...0xDFFF).contains(low) else {
                throw fail(
                    .loneSurrogate, at: i,
                    "high surrogate \\u\(hexDigits(UInt32(unit), width: 4)) is followed by "
                        + "\\u\(hexDigits(UInt32(low), width: 4)), not by a low surrogate \\uDC00...\\uDFFF"
                )
            }
            scalarValue = 0x10000 + ((UInt32(unit) - 0xD800) << 10) + (UInt32(low) - 0xDC00)
            next += 6
        case 0xDC00...0xDFFF:
            throw fail(
                .loneSurrogate, at: i,
                "lone low surrogate \\u\(hexDigits(UInt32(unit), width: 4)) without a preceding high surrogate "
                    + "\\uD800...\\uDBFF; I-JSON forbids unpaired surrogates"
            )
        default:
            break
        }
        appendUTF8(scalarValue)
        return next
    }

    /// Reads the four hex digits of the `\u` escape whose backslash is at `i`.
    private func hexQuad(at i: Int) throws(JSONParseError) -> UInt16 {
        var value: UInt16 = 0
        for k in 2..<6 {
            let position = i + k
            guard position < input.count else {
                throw fail(.unexpectedEnd, at: position, "\\u must be followed by four hex digits, found end of input")
            }
            let byte = input[position]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default:
                throw fail(
                    .invalidEscape, at: i,
                    "\\u must be followed by four hex digits, found \(try describe(at: position))"
                )
            }
            value = value << 4 | UInt16(digit)
        }
        return value
    }

    /// Appends the UTF-8 encoding of a Unicode scalar value (never a surrogate) to `scratch`.
    private mutating func appendUTF8(_ value: UInt32) {
        switch value {
        case 0..<0x80:
            scratch.append(UInt8(value))
        case 0x80..<0x800:
            scratch.append(UInt8(0xC0 | value >> 6))
            scratch.append(UInt8(0x80 | value & 0x3F))
        case 0x800..<0x10000:
            scratch.append(UInt8(0xE0 | value >> 12))
            scratch.append(UInt8(0x80 | value >> 6 & 0x3F))
            scratch.append(UInt8(0x80 | value & 0x3F))
        default:
            scratch.append(UInt8(0xF0 | value >> 18))
            scratch.append(UInt8(0x80 | value >> 12 & 0x3F))
            scratch.append(UInt8(0x80 | value >> 6 & 0x3F))
            scratch.append(UInt8(0x80 | value & 0x3F))
        }
    }

    private func unterminatedString(from quote: Int) -> JSONParseError {
        let (line, column) = Self.lineAndColumn(of: quote, in: input)
        return fail(
            .unexpectedEnd, at: input.count,
            "unterminated string (opened at line \(line), column \(column)): expected '\"', found end of input"
        )
    }

    private func controlCharacter(at i: Int) -> JSONParseError {
        let byte = input[i]
        let shortForm: String
        switch byte {
        case 0x08: shortForm = "\\b"
        case 0x09: shortForm = "\\t"
        case 0x0A: shortForm = "\\n"
        case 0x0C: shortForm = "\\f"
        case 0x0D: shortForm = "\\r"
        default: shortForm = "\\u00" + hexDigits(UInt32(byte), width: 2).lowercased()
        }
        return fail(
            .controlCharacterInString, at: i,
            "control character \(scalarName(Unicode.Scalar(byte))) must be escaped in a string (write \(shortForm))"
        )
    }
}

/// For the eight bytes of `word` (first byte in the low bits), a mask whose lowest set bit is the high
/// bit of the first byte that is `"`, `\`, below 0x20, or 0x80 and above; zero when there is none.
/// Bits above the lowest one may be spurious (borrows propagate upward), so use only the lowest.
@inline(__always)
private func specialByteMask(_ word: UInt64) -> UInt64 {
    let ones: UInt64 = 0x0101_0101_0101_0101
    let highs: UInt64 = 0x8080_8080_8080_8080
    let quote = word ^ (ones &* 0x22)
    let backslash = word ^ (ones &* 0x5C)
    let zeroInQuote = (quote &- ones) & ~quote
    let zeroInBackslash = (backslash &- ones) & ~backslash
    let belowSpace = (word &- ones &* 0x20) & ~word
    return (zeroInQuote | zeroInBackslash | belowSpace | word) & highs
}
