import CairnCrypto

/// A Merkle proof that does not verify, or a proof request that names no proof.
///
/// Thrown by `MerkleVerifier` (typed) and by `MerkleTree` for bad arguments.
public struct MerkleProofError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A stable identifier of the failure; the raw value is suitable for machine-readable output.
    public enum Code: String, Sendable, Equatable, CaseIterable {
        /// The leaf index is not below the tree size (every index is out of range for the empty tree).
        case indexOutOfRange
        /// The proof has the wrong number of hashes for its index and size(s): it is for another tree position.
        case wrongProofLength
        /// The hashes the proof computes differ from the root hash(es) given.
        case rootMismatch
        /// The tree sizes name no proof: old size 0, old size above new size, or a size above 2^63 − 1.
        case invalidSizes
    }

    /// What failed.
    public let code: Code
    /// One line saying what is wrong and what to check.
    public let message: String

    /// Creates an error; prefer the static factories, which word the message consistently.
    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    /// The message.
    public var description: String { message }

    static func indexOutOfRange(index: UInt64, treeSize: UInt64) -> MerkleProofError {
        let reason = treeSize == 0 ? "the empty tree has no leaves" : "leaf indexes run from 0 to \(treeSize - 1)"
        return MerkleProofError(
            code: .indexOutOfRange,
            message: "leaf index \(index) is out of range for a tree of size \(treeSize): \(reason)")
    }

    static func invalidSizes(oldSize: UInt64, newSize: UInt64) -> MerkleProofError {
        let reason =
            oldSize == 0
            ? "every tree extends the empty tree, so there is nothing to prove; skip the check for an empty old tree"
            : "the old size must not exceed the new size; check the order of the two tree sizes"
        return MerkleProofError(
            code: .invalidSizes, message: "no consistency proof from size \(oldSize) to size \(newSize): \(reason)")
    }

    static func treeTooLarge(_ treeSize: UInt64) -> MerkleProofError {
        MerkleProofError(
            code: .invalidSizes,
            message: "tree size \(treeSize) exceeds the largest supported size \(StoredHashIndex.maxTreeSize)")
    }

    static func wrongProofLength(
        _ what: String, expected: Int, actual: Int, madeFor other: String
    ) -> MerkleProofError {
        MerkleProofError(
            code: .wrongProofLength,
            message: "\(what) must have \(expected) hashes, got \(actual): the proof was made for \(other)")
    }

    static func rootMismatch(_ message: String) -> MerkleProofError {
        MerkleProofError(code: .rootMismatch, message: message)
    }
}
