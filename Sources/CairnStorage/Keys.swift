/// Fixed-width big-endian integer keys, so that LMDB's byte order is numeric order and
/// `MDB_APPEND` can be used for monotonically increasing keys.
public enum BigEndianKey {
    /// The 8-byte big-endian encoding of `value`.
    @inlinable
    public static func encode(_ value: UInt64) -> (UInt64) {
        value.bigEndian
    }

    /// Calls `body` with the 8-byte big-endian encoding of `value`.
    @inlinable
    public static func withBytes<R>(_ value: UInt64, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        var be = value.bigEndian
        return try withUnsafeBytes(of: &be, body)
    }

    /// Decodes an 8-byte big-endian key; returns `nil` for any other length.
    @inlinable
    public static func decode(_ bytes: UnsafeRawBufferPointer) -> UInt64? {
        guard bytes.count == 8 else { return nil }
        var value: UInt64 = 0
        for b in bytes { value = value << 8 | UInt64(b) }
        return value
    }

    /// The 8-byte big-endian encoding of `value`, as an array.
    public static func bytes(_ value: UInt64) -> [UInt8] {
        withBytes(value) { Array($0) }
    }
}
