// String serialization shared by JCS and JSONWriter (RFC 8785 §3.2.2.2).

/// Appends `s` as a JSON string: in quotes, escaping only `"`, `\` and U+0000...U+001F (with the short
/// forms \b \t \n \f \r where they exist, otherwise \u00xx in lowercase hex); every other character,
/// including U+007F, U+2028 and non-ASCII, is written as literal UTF-8.
internal func appendQuotedString(_ s: String, to out: inout ByteWriter) {
    out.append(UInt8(ascii: "\""))
    let done: Void? = s.utf8.withContiguousStorageIfAvailable { utf8 in
        appendEscaped(UnsafeRawBufferPointer(utf8), to: &out)
    }
    if done == nil {
        appendEscaped(Array(s.utf8), to: &out)
    }
    out.append(UInt8(ascii: "\""))
}

/// Appends UTF-8 `bytes` as a JSON string, escaped as `appendQuotedString(_:to:)` describes.
internal func appendQuotedString(_ utf8: UnsafeRawBufferPointer, to out: inout ByteWriter) {
    out.append(UInt8(ascii: "\""))
    appendEscaped(utf8, to: &out)
    out.append(UInt8(ascii: "\""))
}

private func appendEscaped(_ bytes: [UInt8], to out: inout ByteWriter) {
    bytes.withUnsafeBytes { appendEscaped($0, to: &out) }
}

private func appendEscaped(_ bytes: UnsafeRawBufferPointer, to out: inout ByteWriter) {
    var runStart = 0
    for i in 0..<bytes.count {
        let byte = bytes[i]
        guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
        if runStart < i { out.append(UnsafeRawBufferPointer(rebasing: bytes[runStart..<i])) }
        runStart = i + 1
        out.append(UInt8(ascii: "\\"))
        switch byte {
        case UInt8(ascii: "\""): out.append(UInt8(ascii: "\""))
        case UInt8(ascii: "\\"): out.append(UInt8(ascii: "\\"))
        case 0x08: out.append(UInt8(ascii: "b"))
        case 0x09: out.append(UInt8(ascii: "t"))
        case 0x0A: out.append(UInt8(ascii: "n"))
        case 0x0C: out.append(UInt8(ascii: "f"))
        case 0x0D: out.append(UInt8(ascii: "r"))
        default:
            out.append(UInt8(ascii: "u"))
            out.append(UInt8(ascii: "0"))
            out.append(UInt8(ascii: "0"))
            out.append(lowercaseHexDigit(byte >> 4))
            out.append(lowercaseHexDigit(byte & 0x0F))
        }
    }
    if runStart < bytes.count { out.append(UnsafeRawBufferPointer(rebasing: bytes[runStart...])) }
}

@inline(__always)
private func lowercaseHexDigit(_ nibble: UInt8) -> UInt8 {
    nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
}
