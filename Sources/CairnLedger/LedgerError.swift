import CairnStorage

/// An error from the ledger engine, with a stable code and a one-line message a user can act on.
///
/// Every ledger I/O failure surfaces as this one type: storage errors (LMDB, files) are wrapped
/// once, where they cross into the ledger's API (`Ledger.read`, the ingest engine, `create`,
/// `open`, `fsck`), keeping the storage error in `storage` for callers that must tell a full
/// disk from a failing one.
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
        /// No signed checkpoint was published for that tree size. Reads never sign: proofs are
        /// given for published sizes, or against a checkpoint the caller supplies.
        case checkpointNotPublished
        /// The signing key is missing, unreadable, or does not match the ledger's verifier key.
        case signingKeyUnavailable
        /// The ledger was opened read-only and cannot write.
        case readOnly
        /// Stored data contradicts itself (see `cairn fsck`).
        case corrupt
        /// LMDB or the file system failed (see `storage` for the cause).
        case storage
        /// A caller-supplied value is unusable (a media type, a reason…).
        case invalidArgument
        /// The blob's bytes were erased (the message says when, why and by which entry).
        case blobErased
        /// An entry is too large for the format asked for (an entry bundle holds entries of at
        /// most 65,535 bytes).
        case entryTooLarge
        /// The ledger's writer stopped after a storage failure it cannot recover from in this
        /// process (for example a failed fsync): restart the process, then run `cairn fsck`.
        case writerFailed
        /// The log is sealed (specs/sealing.md): it takes no more entries.
        case sealed
    }

    public let code: Code
    public let message: String
    /// The storage failure behind a `.storage` or `.writerFailed` error, when there was one.
    public let storage: StorageError?

    public init(_ code: Code, _ message: String, storage: StorageError? = nil) {
        self.code = code
        self.message = message
        self.storage = storage
    }

    public var description: String { message }

    /// Wraps a storage failure: the one place where storage errors become ledger errors.
    init(wrapping error: StorageError, while operation: String? = nil) {
        self.init(.storage, operation.map { "\($0): \(error.message)" } ?? error.message, storage: error)
    }

    /// Runs `body`, turning any error that is not a `LedgerError` into one: `StorageError`s into
    /// `.storage`, anything else into `fallback` (by default `.corrupt`: in a read, an error that
    /// is neither the ledger's nor the storage's means stored bytes that no longer parse).
    static func wrapping<R>(fallback: Code = .corrupt, _ body: () throws -> R) throws(LedgerError) -> R {
        do {
            return try body()
        } catch let error as LedgerError {
            throw error
        } catch let error as StorageError {
            throw LedgerError(wrapping: error)
        } catch {
            throw LedgerError(fallback, fallback == .corrupt ? "\(error) (run `cairn fsck`)" : "\(error)")
        }
    }
}
