/// Why a proof file was refused: malformed text, or a proof that does not verify.
///
/// `code` is stable (its raw value appears in `--json` output); `message` is one line for people.
public struct ProofError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable, Equatable, CaseIterable {
        /// The proof text does not follow its C2SP format; the message names the line.
        case malformed
        /// The checkpoint carries no signature from the given verifier key (other key, or other log).
        case wrongKey
        /// A signature by the given verifier key is present but does not verify.
        case badSignature
        /// The checkpoint's origin is not the verifier key's name.
        case originMismatch
        /// The proof's sizes contradict each other or the checkpoints (e.g. `old N` vs the old checkpoint).
        case sizeMismatch
        /// The entry index is not inside the checkpointed tree.
        case indexOutOfRange
        /// The proof has the wrong number of hashes for its index and size.
        case wrongProofLength
        /// The proof computes a root that differs from the checkpoint's root.
        case rootMismatch
        /// The checkpoint lacks the cosignatures a C2SP tlog-policy's quorum requires (see
        /// ``TlogPolicy``); the message names the unmet group.
        case quorumNotMet
        /// Every proof of a line bundle verifies, but its claim is not what its records say (another line, path
        /// or contributor; rewrites that do not lead to the claimed commit).
        case claimMismatch
        /// A blob disclosure's bytes and salt do not hash to its address, or the record does not
        /// reference the disclosed blob (`cairn verify disclosure`).
        case commitmentMismatch
        /// A key history (`--key-history`, specs/key-rotation.md) does not verify from the pinned vkey: a rotation
        /// is not signed by the previous or the new key, its entry is not in its checkpoint or does not name the
        /// new key, or the file is malformed.
        case badKeyHistory
        /// A successor log's `predecessor` record (specs/sealing.md) does not prove its link: the predecessor's final
        /// checkpoint does not verify with the given vkey, or its last entry is not the seal the record carries.
        case badLink
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }

    static func malformed(line: Int, _ what: String) -> ProofError {
        ProofError(.malformed, "line \(line): \(what)")
    }
}
