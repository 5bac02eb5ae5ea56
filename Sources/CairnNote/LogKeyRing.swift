/// The keys a log signs its checkpoints with over its life, each with the tree sizes it signs (specs/key-rotation.md).
///
/// A log whose key was never rotated has one key, for every size. After a rotation at size `F` (the checkpoint of
/// size `F` commits the `key-rotation` entry and is signed by both keys), the old key signs the sizes up to `F` and
/// the new key the sizes from `F` on. A rotation that declares the old key compromised revokes it from a size `N`
/// (`N ≤ F`): its signatures count only for the sizes below `N`.
///
/// A ring is what a verifier trusts: built from one pinned vkey (``init(single:)``), or by verifying a key history
/// from a pinned vkey (`KeyHistory.verify(pinned:)` in CairnLedger).
public struct LogKeyRing: Sendable, Hashable {
    /// One key and the tree sizes whose checkpoints it may sign.
    public struct Member: Sendable, Hashable {
        /// The log key (type 0x01).
        public let key: NoteVerifierKey
        /// The first tree size it signs.
        public let firstSize: UInt64
        /// The last tree size it signs; nil for the current key, which signs every size from `firstSize` on.
        public let lastSize: UInt64?
        /// When a rotation revoked this key (a compromise): the first size its signature no longer counts for.
        /// Already applied to `lastSize`.
        public let revokedFromSize: UInt64?

        public init(key: NoteVerifierKey, firstSize: UInt64, lastSize: UInt64?, revokedFromSize: UInt64? = nil) {
            self.key = key
            self.firstSize = firstSize
            self.lastSize = lastSize
            self.revokedFromSize = revokedFromSize
        }

        /// Whether the key's signature counts for a checkpoint of tree size `size`.
        public func signs(size: UInt64) -> Bool {
            size >= firstSize && lastSize.map { size <= $0 } ?? true
        }

        /// `sizes 0–41`, `sizes from 42`, or `no size (revoked from 0)`, for messages.
        public var sizesText: String {
            if let lastSize, lastSize < firstSize {
                return "no size" + (revokedFromSize.map { " (revoked from size \($0))" } ?? "")
            }
            let range =
                lastSize.map { $0 == firstSize ? "size \($0)" : "sizes \(firstSize)–\($0)" }
                ?? "sizes from \(firstSize)"
            return range + (revokedFromSize.map { " (revoked from size \($0))" } ?? "")
        }
    }

    /// A key of the history that the ring does not trust, and why (for messages).
    public struct Untrusted: Sendable, Hashable {
        public let key: NoteVerifierKey
        public let reason: String

        public init(key: NoteVerifierKey, reason: String) {
            self.key = key
            self.reason = reason
        }
    }

    /// The trusted keys, oldest first.
    public let members: [Member]
    /// Keys the history names that are not trusted (a rotation past a revoked key cannot be followed).
    public let untrusted: [Untrusted]

    /// A ring of one key, for every tree size: a log whose key was never rotated, or a verifier without a history.
    public init(single key: NoteVerifierKey) {
        self.init(members: [Member(key: key, firstSize: 0, lastSize: nil)], untrusted: [])
    }

    public init(members: [Member], untrusted: [Untrusted] = []) {
        self.members = members
        self.untrusted = untrusted
    }

    /// The members whose signatures count for tree size `size`.
    public func members(forSize size: UInt64) -> [Member] {
        members.filter { $0.signs(size: size) }
    }

    /// Verifies the log's signature on `signed` for its tree size, and returns the checkpoint and the keys whose
    /// signature counted.
    ///
    /// - The origin must be `origin`, or the first key's name (Cairn names the log key after the origin):
    ///   `originMismatch`.
    /// - Every signature line by a key of the ring must verify (`badSignature`), whatever size the key signs.
    /// - At least one key valid for the checkpoint's size must have signed it (`unknownKey`, naming which keys
    ///   signed it and which sizes they sign).
    @discardableResult
    public func verify(
        _ signed: SignedCheckpoint, origin: String? = nil
    ) throws(NoteError) -> (checkpoint: Checkpoint, keys: [NoteVerifierKey]) {
        guard let first = members.first else {
            throw NoteError(.unknownKey, "no key is trusted for this log (the key ring is empty)")
        }
        let checkpoint = signed.checkpoint
        let expected = origin ?? first.key.name
        guard checkpoint.origin.sameBytes(as: expected) else {
            throw NoteError(
                .originMismatch,
                "line 1: the checkpoint origin \"\(NoteSyntax.escaped(checkpoint.origin))\" is not the "
                    + "expected origin \"\(NoteSyntax.escaped(expected))\"; check that the log key belongs to this log")
        }
        var counted: [NoteVerifierKey] = []
        var signedOutOfRange: [Member] = []
        for member in members where signed.note.signatures.contains(where: { $0.names(member.key) }) {
            try signed.verify(logKey: member.key, origin: expected)
            if member.signs(size: checkpoint.size) {
                if !counted.contains(member.key) { counted.append(member.key) }
            } else {
                signedOutOfRange.append(member)
            }
        }
        guard counted.isEmpty else { return (checkpoint, counted) }
        let size = checkpoint.size
        if let member = signedOutOfRange.first {
            throw NoteError(
                .unknownKey,
                "the checkpoint of size \(size) is signed by \(member.key.nameAndID), which signs this log's "
                    + "\(member.sizesText) only; no key valid at size \(size) signed it")
        }
        if let other = untrusted.first(where: { key in signed.note.signatures.contains { $0.names(key.key) } }) {
            throw NoteError(
                .unknownKey,
                "the checkpoint of size \(size) is signed by \(other.key.nameAndID), which is not trusted: "
                    + other.reason)
        }
        let keys = members.map { "\($0.key.nameAndID) (\($0.sizesText))" }.joined(separator: ", ")
        throw NoteError(
            .unknownKey,
            "the checkpoint of size \(size) has no signature from a key of the log valid at that size (keys: \(keys); "
                + "signed by: \(signed.note.signerList))")
    }
}
