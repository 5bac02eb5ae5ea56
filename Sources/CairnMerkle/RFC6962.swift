import CairnCrypto

/// RFC 6962 section 2.1 hashing (unchanged in RFC 9162 section 2.1.1): the Merkle Tree Hash building blocks.
///
/// Stateless and thread-safe. The hash function is SHA-256; the one-byte prefixes 0x00 (leaf) and 0x01 (node)
/// keep a leaf hash from ever equalling an interior node hash (second-preimage resistance).
public enum RFC6962 {
    /// The Merkle Tree Hash of the empty tree, MTH({}) = SHA-256() (RFC 6962 section 2.1):
    /// `e3b0c442…b855`.
    public static let emptyRoot: SHA256Digest = SHA256.hash([])

    /// The hash of a leaf, MTH({d(0)}) = SHA-256(0x00 ‖ d(0)) (RFC 6962 section 2.1). `entry` is the leaf's bytes,
    /// not a hash of them; it is read in place, not copied.
    @inlinable
    public static func leafHash(_ entry: UnsafeRawBufferPointer) -> SHA256Digest {
        SHA256.hash(prefix: 0x00, entry)
    }

    /// The hash of a leaf, MTH({d(0)}) = SHA-256(0x00 ‖ d(0)) (RFC 6962 section 2.1).
    @inlinable
    public static func leafHash(_ entry: [UInt8]) -> SHA256Digest {
        entry.withUnsafeBytes { leafHash($0) }
    }

    /// The hash of an interior node, SHA-256(0x01 ‖ left ‖ right) (RFC 6962 section 2.1), where `left` and
    /// `right` are the Merkle Tree Hashes of its two children.
    @inlinable
    public static func nodeHash(_ left: SHA256Digest, _ right: SHA256Digest) -> SHA256Digest {
        SHA256.hash(node: left, right)
    }
}
