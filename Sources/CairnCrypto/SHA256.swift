import CCairnOpenSSL

/// A SHA-256 digest: 32 bytes, stored inline (no heap allocation).
///
/// Value type, `Sendable`. `Comparable` orders digests by their bytes, as `memcmp` would.
public struct SHA256Digest: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The number of bytes in a digest.
    public static let byteCount = 32

    // The digest bytes in memory order (not integers in any meaningful sense).
    private var storage: (UInt64, UInt64, UInt64, UInt64)

    /// The all-zero digest; useful as a placeholder, never the hash of anything known.
    public static let zero = SHA256Digest(storage: (0, 0, 0, 0))

    private init(storage: (UInt64, UInt64, UInt64, UInt64)) {
        self.storage = storage
    }

    /// Creates a digest by copying exactly 32 bytes; returns `nil` for any other length.
    public init?(bytes: UnsafeRawBufferPointer) {
        guard bytes.count == Self.byteCount else { return nil }
        self = .zero
        Swift.withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: bytes) }
    }

    /// Creates a digest by copying exactly 32 bytes; returns `nil` for any other length.
    public init?<Bytes: Collection<UInt8>>(bytes: Bytes) {
        guard bytes.count == Self.byteCount else { return nil }
        self = .zero
        Swift.withUnsafeMutableBytes(of: &storage) { raw in
            var i = 0
            for b in bytes {
                raw[i] = b
                i += 1
            }
        }
    }

    /// Parses 64 hexadecimal digits (either case).
    public init?(hex: some StringProtocol) {
        guard let bytes = Hex.decode(hex), let d = SHA256Digest(bytes: bytes) else { return nil }
        self = d
    }

    /// Parses standard padded base64 (RFC 4648 section 4) of exactly 32 bytes.
    public init?(base64: some StringProtocol) {
        guard let bytes = Base64.decode(base64), let d = SHA256Digest(bytes: bytes) else { return nil }
        self = d
    }

    /// Fills a digest by letting `body` write exactly 32 bytes.
    @inlinable
    public static func build(_ body: (UnsafeMutablePointer<UInt8>) -> Void) -> SHA256Digest {
        var d = SHA256Digest.zero
        d.withUnsafeMutableBytePointer(body)
        return d
    }

    @usableFromInline
    mutating func withUnsafeMutableBytePointer(_ body: (UnsafeMutablePointer<UInt8>) -> Void) {
        Swift.withUnsafeMutableBytes(of: &storage) { raw in
            body(raw.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
    }

    /// Calls `body` with the 32 digest bytes.
    @inlinable
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try withStorageBytes(body)
    }

    @usableFromInline
    func withStorageBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        var copy = storage
        return try Swift.withUnsafeBytes(of: &copy, body)
    }

    /// The 32 digest bytes.
    public var bytes: [UInt8] { withUnsafeBytes { Array($0) } }

    /// 64 lowercase hexadecimal digits.
    public var hex: String { withUnsafeBytes { Hex.encode($0) } }

    /// Standard padded base64 (44 characters).
    public var base64: String { withUnsafeBytes { Base64.encode($0) } }

    /// `sha256:` followed by 64 lowercase hex digits: the content-address form.
    public var description: String { "sha256:" + hex }

    /// Parses the content-address form, `sha256:` and exactly 64 lower-case hex digits (nothing else).
    public init?(address: some StringProtocol) {
        guard address.hasPrefix("sha256:") else { return nil }
        let hex = address.dropFirst("sha256:".count)
        guard hex.utf8.count == 64,
            hex.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) })
        else { return nil }
        self.init(hex: hex)
    }

    public static func < (lhs: SHA256Digest, rhs: SHA256Digest) -> Bool {
        lhs.withUnsafeBytes { l in
            rhs.withUnsafeBytes { r in
                for i in 0..<32 where l[i] != r[i] { return l[i] < r[i] }
                return false
            }
        }
    }

    public static func == (lhs: SHA256Digest, rhs: SHA256Digest) -> Bool {
        lhs.storage.0 == rhs.storage.0 && lhs.storage.1 == rhs.storage.1 && lhs.storage.2 == rhs.storage.2
            && lhs.storage.3 == rhs.storage.3
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(storage.0)
        hasher.combine(storage.1)
        hasher.combine(storage.2)
        hasher.combine(storage.3)
    }
}

/// SHA-256 (FIPS 180-4) over OpenSSL libcrypto.
///
/// Stateless and thread-safe. Uses libcrypto's low-level SHA-256 entry points, which skip the
/// per-call provider lookup of the EVP one-shot API (measured in docs/performance.md).
public enum SHA256 {
    /// SHA-256 of `bytes`.
    @inlinable
    public static func hash(_ bytes: UnsafeRawBufferPointer) -> SHA256Digest {
        SHA256Digest.build { out in cairn_sha256(bytes.baseAddress, bytes.count, out) }
    }

    /// SHA-256 of `bytes`.
    @inlinable
    public static func hash(_ bytes: [UInt8]) -> SHA256Digest {
        bytes.withUnsafeBytes { hash($0) }
    }

    /// SHA-256 of `bytes`.
    @inlinable
    public static func hash(_ bytes: ArraySlice<UInt8>) -> SHA256Digest {
        bytes.withUnsafeBytes { hash($0) }
    }

    /// SHA-256 of the UTF-8 bytes of `string`.
    public static func hash(utf8 string: String) -> SHA256Digest {
        var s = string
        return s.withUTF8 { hash(UnsafeRawBufferPointer($0)) }
    }

    /// SHA-256(prefix || bytes), without copying `bytes`.
    @inlinable
    public static func hash(prefix: UInt8, _ bytes: UnsafeRawBufferPointer) -> SHA256Digest {
        SHA256Digest.build { out in cairn_sha256_prefixed(prefix, bytes.baseAddress, bytes.count, out) }
    }

    /// SHA-256(0x01 || left || right).
    @inlinable
    public static func hash(node left: SHA256Digest, _ right: SHA256Digest) -> SHA256Digest {
        left.withUnsafeBytes { l in
            right.withUnsafeBytes { r in
                SHA256Digest.build { out in
                    cairn_sha256_node(
                        l.baseAddress!.assumingMemoryBound(to: UInt8.self),
                        r.baseAddress!.assumingMemoryBound(to: UInt8.self), out)
                }
            }
        }
    }
}

/// An incremental SHA-256 computation, for input that arrives in pieces.
///
/// Not thread-safe: confine an instance to one task or thread.
public struct SHA256Hasher: ~Copyable {
    private var context = cairn_sha256_ctx()

    public init() {
        _ = cairn_sha256_init(&context)
    }

    /// Adds `bytes` to the hashed input.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        _ = cairn_sha256_update(&context, bytes.baseAddress, bytes.count)
    }

    /// Adds `bytes` to the hashed input.
    public mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// Finishes the computation and returns the digest.
    public consuming func finalize() -> SHA256Digest {
        var ctx = context
        return SHA256Digest.build { out in _ = cairn_sha256_final(&ctx, out) }
    }
}
