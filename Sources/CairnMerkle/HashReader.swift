import CairnCrypto

/// A source of stored hashes, addressed by `StoredHashIndex`.
///
/// Called synchronously on the caller's thread; conformers need not be `Sendable`. The LMDB storage implements it
/// over one read transaction; `InMemoryMerkleTree` implements it over an array.
public protocol HashReader {
    /// Returns the hashes at `indexes`, in the same order (an index may repeat). Throws if any is missing, for
    /// example a `MerkleStorageError` with code `.missingHash`.
    func readHashes(at indexes: [UInt64]) throws -> [SHA256Digest]

    /// Returns the hashes of `nodes`, in the same order; what `MerkleTree` and `MerkleFrontier` call. The default
    /// reads their stored indexes with `readHashes(at:)`; a store addressed by (level, node), such as stored tiles,
    /// implements it directly and skips the conversion.
    func readHashes(ofNodes nodes: [MerkleNode]) throws -> [SHA256Digest]
}

/// A complete subtree of the tree, by its coordinates: the hash at `level` covers leaves [n·2^level,
/// (n+1)·2^level).
public struct MerkleNode: Hashable, Sendable {
    public var level: Int
    public var n: UInt64

    public init(level: Int, n: UInt64) {
        self.level = level
        self.n = n
    }

    /// The node's stored index (`StoredHashIndex.index(level:n:)`).
    public var storedIndex: UInt64 { StoredHashIndex.index(level: level, n: n) }
}

/// A hash store that cannot serve a requested hash. Thrown by `HashReader` conformers and by `MerkleTree`.
public struct MerkleStorageError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A stable identifier of the failure.
    public enum Code: String, Sendable, Equatable, CaseIterable {
        /// A stored hash index beyond the end of the store, or otherwise absent.
        case missingHash
        /// A `HashReader` returned a different number of hashes than it was asked for.
        case wrongHashCount
    }

    /// What failed.
    public let code: Code
    /// The missing stored index, for `.missingHash`.
    public let storedIndex: UInt64?
    /// One line saying what is wrong and what to do about it.
    public let message: String

    /// The message.
    public var description: String { message }

    /// The hash at `storedIndex` is not in the store; `storedCount`, if known, is how many hashes it holds.
    public static func missingHash(storedIndex: UInt64, storedCount: UInt64? = nil) -> MerkleStorageError {
        var text = "missing stored hash \(storedIndex)"
        if storedIndex < StoredHashIndex.count(treeSize: StoredHashIndex.maxTreeSize) {
            let (level, n) = StoredHashIndex.split(storedIndex)
            let first = n << level
            text += " (level \(level), n \(n): leaves \(first)..<\(first + 1 << level))"
        }
        if let storedCount {
            text += "; the store holds \(storedCount) hashes"
        }
        text += ": the tree size asked for is larger than the stored tree, or the hash store is damaged"
        return MerkleStorageError(code: .missingHash, storedIndex: storedIndex, message: text)
    }

    /// A reader answered `requested` indexes with `returned` hashes: a bug in that `HashReader`.
    public static func wrongHashCount(requested: Int, returned: Int) -> MerkleStorageError {
        MerkleStorageError(
            code: .wrongHashCount, storedIndex: nil,
            message: "hash reader returned \(returned) hashes for \(requested) indexes: "
                + "the HashReader implementation is broken (it must return one hash per index, in order)")
    }
}

extension HashReader {
    public func readHashes(ofNodes nodes: [MerkleNode]) throws -> [SHA256Digest] {
        try readHashes(at: nodes.map(\.storedIndex))
    }

    /// Reads the hashes of `subtrees` in one call, checking the count.
    func readHashes(of subtrees: [Subtree]) throws -> [SHA256Digest] {
        let hashes = try readHashes(ofNodes: subtrees.map { MerkleNode(level: $0.level, n: $0.n) })
        guard hashes.count == subtrees.count else {
            throw MerkleStorageError.wrongHashCount(requested: subtrees.count, returned: hashes.count)
        }
        return hashes
    }
}
