/// HMAC-SHA-256 (RFC 2104 with SHA-256, RFC 4231's test vectors), over `SHA256Hasher`.
public enum HMACSHA256 {
    /// The 32-byte authentication code of `message` under `key` (any length: keys over 64 bytes are hashed first).
    public static func code(key: [UInt8], message: UnsafeRawBufferPointer) -> SHA256Digest {
        let blockSize = 64
        var block = key.count > blockSize ? SHA256.hash(key).bytes : key
        block += [UInt8](repeating: 0, count: blockSize - block.count)
        var inner = SHA256Hasher()
        inner.update(block.map { $0 ^ 0x36 })
        inner.update(message)
        let innerDigest = inner.finalize()
        var outer = SHA256Hasher()
        outer.update(block.map { $0 ^ 0x5C })
        innerDigest.withUnsafeBytes { outer.update($0) }
        return outer.finalize()
    }

    /// The authentication code of `message` under `key`.
    public static func code(key: [UInt8], message: [UInt8]) -> SHA256Digest {
        message.withUnsafeBytes { code(key: key, message: $0) }
    }
}
