import CairnCrypto

/// A source of stored hashes, addressed by `StoredHashIndex`.
///
/// Called synchronously on the caller's thread; conformers need not be `Sendable`. The LMDB storage implements it
/// over one read transaction; `InMemoryMerkleTree` implements it over an array.
public protocol HashReader {
    /// Returns the hashes at `indexes`, in the same order (an index may repeat). Throws if any is missing, for
    /// example a `MerkleStorageError` with code `.missingHash`.
    func readHashes(at indexes: [UInt64]) throws -> [SHA256Digest]
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
    /// Reads the hashes of `subtrees` in one call, checking the count.
    func readHashes(of subtrees: [Subtree]) throws -> [SHA256Digest] {
        let hashes = try readHashes(at: subtrees.map(\.storedIndex))
        guard hashes.count == subtrees.count else {
            throw MerkleStorageError.wrongHashCount(requested: subtrees.count, returned: hashes.count)
        }
        return hashes
    }
}
