import CairnCrypto

/// An append-only Merkle tree held in memory: every stored hash in an array under `StoredHashIndex` numbering.
///
/// Value type, `Sendable`; confine a mutable copy to one task. For tests, property tests and small tools: it
/// grows by 64 bytes per leaf on average and never shrinks.
public struct InMemoryMerkleTree: HashReader, Sendable {
    /// Every stored hash; index `i` holds the hash at `StoredHashIndex.split(i)`.
    public private(set) var storedHashes: [SHA256Digest] = []

    /// The tree's right edge, kept in step with `storedHashes`.
    public private(set) var frontier = MerkleFrontier()

    /// An empty tree.
    public init() {}

    /// The number of leaves.
    public var treeSize: UInt64 { frontier.treeSize }

    /// The current root, MTH(D[0:treeSize]) (RFC 6962 section 2.1).
    public var root: SHA256Digest { frontier.root }

    /// Appends a leaf given by its leaf hash (`RFC6962.leafHash` of the entry).
    public mutating func append(leafHash: SHA256Digest) {
        storedHashes.append(contentsOf: frontier.append(leafHash: leafHash))
    }

    /// Appends a leaf given by its entry bytes; stores SHA-256(0x00 ‖ entry).
    public mutating func append(entry: [UInt8]) {
        append(leafHash: RFC6962.leafHash(entry))
    }

    /// The stored hashes at `indexes`; throws `MerkleStorageError` (`.missingHash`) for an index not yet stored.
    public func readHashes(at indexes: [UInt64]) throws(MerkleStorageError) -> [SHA256Digest] {
        var result: [SHA256Digest] = []
        result.reserveCapacity(indexes.count)
        for index in indexes {
            guard index < UInt64(storedHashes.count) else {
                throw .missingHash(storedIndex: index, storedCount: UInt64(storedHashes.count))
            }
            result.append(storedHashes[Int(index)])
        }
        return result
    }
}
