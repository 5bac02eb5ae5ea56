// Strict UTF-8 validation (RFC 3629 §4, the "Well-Formed UTF-8 Byte Sequences" table of Unicode §3.9).

/// Returns the length (2...4) of the well-formed UTF-8 sequence whose lead byte is `bytes[i]`
/// (which must be ≥ 0x80), or 0 when the sequence is ill-formed or truncated.
@inline(__always)
internal func wellFormedUTF8Length(_ bytes: UnsafeRawBufferPointer, at i: Int) -> Int {
    let end = bytes.count
    let b0 = bytes[i]
    switch b0 {
    case 0xC2...0xDF:
        guard i + 1 < end, isContinuation(bytes[i + 1]) else { return 0 }
        return 2
    case 0xE0...0xEF:
        guard i + 2 < end else { return 0 }
        let b1 = bytes[i + 1]
        let low: UInt8 = b0 == 0xE0 ? 0xA0 : 0x80  // E0 80...9F would be overlong
        let high: UInt8 = b0 == 0xED ? 0x9F : 0xBF  // ED A0...BF would encode a surrogate
        guard b1 >= low, b1 <= high, isContinuation(bytes[i + 2]) else { return 0 }
        return 3
    case 0xF0...0xF4:
        guard i + 3 < end else { return 0 }
        let b1 = bytes[i + 1]
        let low: UInt8 = b0 == 0xF0 ? 0x90 : 0x80  // F0 80...8F would be overlong
        let high: UInt8 = b0 == 0xF4 ? 0x8F : 0xBF  // F4 90...BF would exceed U+10FFFF
        guard b1 >= low, b1 <= high, isContinuation(bytes[i + 2]), isContinuation(bytes[i + 3]) else { return 0 }
        return 4
    default:
        return 0
    }
}

@inline(__always)
internal func isContinuation(_ byte: UInt8) -> Bool { byte & 0xC0 == 0x80 }

/// Decodes the well-formed sequence of `length` bytes at `i` (as validated by `wellFormedUTF8Length`).
internal func decodeScalar(_ bytes: UnsafeRawBufferPointer, at i: Int, length: Int) -> Unicode.Scalar {
    var value = UInt32(bytes[i])
    switch length {
    case 2: value &= 0x1F
    case 3: value &= 0x0F
    case 4: value &= 0x07
    default: break
    }
    for k in 1..<max(length, 1) { value = value << 6 | UInt32(bytes[i + k] & 0x3F) }
    return Unicode.Scalar(value) ?? "\u{FFFD}"
}

/// Explains why the sequence starting at `bytes[i]` is not well-formed UTF-8 (slow path, errors only).
internal func describeUTF8Problem(_ bytes: UnsafeRawBufferPointer, at i: Int) -> String {
    let b0 = bytes[i]
    let needed: Int
    switch b0 {
    case 0x80...0xBF:
        return "invalid UTF-8: continuation byte \(hexByte(b0)) without a lead byte"
    case 0xC0, 0xC1:
        return "invalid UTF-8: byte \(hexByte(b0)) can only start an overlong encoding and never occurs in UTF-8"
    case 0xC2...0xDF: needed = 1
    case 0xE0...0xEF: needed = 2
    case 0xF0...0xF4: needed = 3
    case 0xF5...0xFF:
        return "invalid UTF-8: byte \(hexByte(b0)) never occurs in UTF-8"
    default:
        return "invalid UTF-8 at byte \(hexByte(b0))"
    }
    let plural = needed == 1 ? "byte" : "bytes"
    for k in 1...needed {
        guard i + k < bytes.count else {
            return "invalid UTF-8: truncated sequence, lead byte \(hexByte(b0)) needs \(needed) continuation "
                + "\(plural) but the input ends"
        }
        let b = bytes[i + k]
        guard isContinuation(b) else {
            return "invalid UTF-8: truncated sequence, lead byte \(hexByte(b0)) needs \(needed) continuation "
                + "\(plural) but byte \(k + 1) is \(hexByte(b))"
        }
        if k == 1 {
            if b0 == 0xE0, b < 0xA0 { return "invalid UTF-8: overlong 3-byte encoding (\(hexByte(b0)) \(hexByte(b)))" }
            if b0 == 0xF0, b < 0x90 { return "invalid UTF-8: overlong 4-byte encoding (\(hexByte(b0)) \(hexByte(b)))" }
            if b0 == 0xED, b > 0x9F {
                return "invalid UTF-8: encoded UTF-16 surrogate (\(hexByte(b0)) \(hexByte(b))); "
                    + "surrogates U+D800...U+DFFF are not characters"
            }
            if b0 == 0xF4, b > 0x8F {
                return "invalid UTF-8: code point above U+10FFFF (\(hexByte(b0)) \(hexByte(b)))"
            }
        }
    }
    return "invalid UTF-8 sequence starting with \(hexByte(b0))"
}

/// "0xAB".
internal func hexByte(_ byte: UInt8) -> String {
    "0x" + hexDigits(UInt32(byte), width: 2)
}

/// "U+00E9", "U+1F602".
internal func scalarName(_ scalar: Unicode.Scalar) -> String {
    "U+" + hexDigits(scalar.value, width: 4)
}

/// Uppercase hexadecimal, left-padded with zeros to `width` digits.
internal func hexDigits(_ value: UInt32, width: Int) -> String {
    let digits = String(value, radix: 16, uppercase: true)
    return String(repeating: "0", count: max(0, width - digits.count)) + digits
}
