// Byte-exact string helpers. Swift's `String ==` uses canonical equivalence ("K" == "\u{212A}", the Kelvin
// sign); JSON and RFC 8785 compare strings code point by code point, and so does every check here.

/// True when `a` and `b` have the same UTF-8 bytes.
@inline(__always)
func exactlyEqual(_ a: String, _ b: String) -> Bool {
    guard a.utf8.count == b.utf8.count else { return false }
    return withUTF8Bytes(a) { x in withUTF8Bytes(b) { y in bytesEqual(x, y) } }
}

/// True when the two buffers hold the same bytes.
@inline(__always)
func bytesEqual(_ x: UnsafeBufferPointer<UInt8>, _ y: UnsafeBufferPointer<UInt8>) -> Bool {
    guard x.count == y.count else { return false }
    var i = 0
    while i < x.count {
        if x[i] != y[i] { return false }
        i += 1
    }
    return true
}

/// True when `text` starts with the bytes of `prefix`.
@inline(__always)
func hasExactPrefix(_ text: String, _ prefix: String) -> Bool {
    let length = prefix.utf8.count
    guard text.utf8.count >= length else { return false }
    return withUTF8Bytes(text) { x in
        withUTF8Bytes(prefix) { y in bytesEqual(UnsafeBufferPointer(rebasing: x[..<length]), y) }
    }
}

/// Calls `body` with the UTF-8 bytes of `text`, without copying when the string is native.
@inline(__always)
func withUTF8Bytes<R>(_ text: String, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
    if let result = text.utf8.withContiguousStorageIfAvailable(body) { return result }
    var copy = text
    return copy.withUTF8(body)
}

/// True when `byte` is an ASCII digit.
@inline(__always)
func isDigit(_ byte: UInt8) -> Bool { byte &- UInt8(ascii: "0") < 10 }

/// True when `byte` is a lowercase hexadecimal digit (`0-9a-f`).
@inline(__always)
func isLowerHex(_ byte: UInt8) -> Bool {
    byte &- UInt8(ascii: "0") < 10 || byte &- UInt8(ascii: "a") < 6
}
