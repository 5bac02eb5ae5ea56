/// An error from the ledger engine, with a stable code and a one-line message a user can act on.
public struct LedgerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong, for callers that map errors to exit codes or HTTP statuses.
    public enum Code: String, Sendable, Equatable {
        /// The directory is not a Cairn ledger (or its initialization never finished).
        case notALedger
        /// `create` was asked to use a directory that already holds something.
        case alreadyExists
        /// The ledger was written by a newer or unknown storage format version.
        case unsupportedFormat
        /// An origin or key name breaks the C2SP naming rules.
        case invalidOrigin
        /// No entry has that index or content address.
        case entryNotFound
        /// A tree size or index is beyond the current tree (or otherwise impossible).
        case sizeOutOfRange
        /// The signing key is missing, unreadable, or does not match the ledger's verifier key.
        case signingKeyUnavailable
        /// The ledger was opened read-only and cannot write.
        case readOnly
        /// Stored data contradicts itself (see `cairn fsck`).
        case corrupt
        /// LMDB or the file system failed.
        case storage
        /// A caller-supplied value is unusable (a media type, a reason…).
        case invalidArgument
        /// The blob's bytes were erased (the message says when, why and by which entry).
        case blobErased
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
