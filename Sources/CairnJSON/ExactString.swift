// Exact (byte-for-byte) string comparison, hashing and RFC 8785 key ordering.
//
// Swift's `String ==` and `String.hashValue` use Unicode canonical equivalence, so "\u{E9}" equals
// "e\u{301}". JSON (and JCS) treat those as different strings, so everything in this module that
// compares or hashes text goes through these helpers instead.

/// Returns true when `a` and `b` hold the same Unicode scalars (the same UTF-8 bytes).
internal func utf8Equal(_ a: String, _ b: String) -> Bool {
    let ua = a.utf8
    let ub = b.utf8
    guard ua.count == ub.count else { return false }
    let fast = ua.withContiguousStorageIfAvailable { pa in
        ub.withContiguousStorageIfAvailable { pb in pa.elementsEqual(pb) }
    }
    if let fast, let result = fast { return result }
    return ua.elementsEqual(ub)
}

/// Feeds the UTF-8 bytes of `s`, then its length, into `hasher`.
internal func hashUTF8(_ s: String, into hasher: inout Hasher) {
    let done: Void? = s.utf8.withContiguousStorageIfAvailable { buffer in
        hasher.combine(bytes: UnsafeRawBufferPointer(buffer))
    }
    if done == nil {
        for b in s.utf8 { hasher.combine(b) }
    }
    hasher.combine(s.utf8.count)
}

/// Returns true when `a` sorts before `b` by their UTF-16 code units (RFC 8785 §3.2.3).
///
/// Works on UTF-8 directly. UTF-8 byte order equals code point order, which equals UTF-16 order except
/// that supplementary characters (UTF-8 lead bytes 0xF0...0xF4, UTF-16 surrogates 0xD800...0xDBFF) sort
/// *before* U+E000...U+FFFF (UTF-8 lead bytes 0xEE and 0xEF) in UTF-16. Both strings share every byte
/// before the first difference, so the differing bytes are either both lead bytes (where the fix-up
/// below applies) or both continuation bytes under the same lead byte (where byte order is correct).
internal func utf16Less(_ a: String, _ b: String) -> Bool {
    let fast = a.utf8.withContiguousStorageIfAvailable { pa in
        b.utf8.withContiguousStorageIfAvailable { pb in
            utf16Less(UnsafeRawBufferPointer(pa), UnsafeRawBufferPointer(pb))
        }
    }
    if let fast, let result = fast { return result }
    return a.utf16.lexicographicallyPrecedes(b.utf16)
}

/// Byte-buffer form of `utf16Less(_:_:)`; both buffers must hold valid UTF-8.
internal func utf16Less(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
    let n = min(a.count, b.count)
    var i = 0
    while i < n {
        let x = a[i]
        let y = b[i]
        if x != y { return utf16OrderKey(x) < utf16OrderKey(y) }
        i += 1
    }
    return a.count < b.count
}

/// Moves lead bytes 0xEE and 0xEF (U+E000...U+FFFF) above the four-byte lead bytes 0xF0...0xF4.
internal func utf16OrderKey(_ byte: UInt8) -> UInt8 {
    byte == 0xEE || byte == 0xEF ? byte &+ 0x10 : byte
}

/// A `String` wrapper whose equality and hash are exact (by UTF-8 bytes), for use as a dictionary key.
internal struct ExactKey: Hashable, Sendable {
    let string: String

    init(_ string: String) { self.string = string }

    static func == (a: ExactKey, b: ExactKey) -> Bool { utf8Equal(a.string, b.string) }

    func hash(into hasher: inout Hasher) { hashUTF8(string, into: &hasher) }
}
