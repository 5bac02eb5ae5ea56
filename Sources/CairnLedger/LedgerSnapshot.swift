import CairnCrypto
import CairnMerkle
import CairnNote
import CairnStorage
import NIOPosix
import Synchronization

/// A consistent, read-only view of a ledger at one moment: one LMDB read transaction.
///
/// Not thread-safe, and valid only inside the `Ledger.read` closure that received it: every
/// method checks that the closure has not returned and traps otherwise (a programming error, as
/// using a closed file descriptor would be). Everything read through one snapshot belongs to the
/// same tree: a proof, its checkpoint and the entry it proves can never disagree, however many
/// appends commit meanwhile. Reads never write: no method signs or stores anything.
///
/// ```swift
/// let (entry, proof) = try await ledger.read { snapshot in
///     let index = try snapshot.resolve(.digest(digest))
///     return (try snapshot.entry(at: index), try snapshot.inclusionProof(index: index))
/// }
/// ```
public struct LedgerSnapshot {
    /// The ledger this is a snapshot of (its identity: origin, verifier key, profile…).
    public let ledger: Ledger
    /// The number of committed leaves in this snapshot.
    public let treeSize: UInt64

    let txn: ReadTransaction
    /// Whether the snapshot sees the ledger in format 2 (stored tiles).
    let isTiled: Bool
    private let lifetime: SnapshotLifetime

    fileprivate init(ledger: Ledger, txn: ReadTransaction, lifetime: SnapshotLifetime) throws(LedgerError) {
        self.ledger = ledger
        self.txn = txn
        self.lifetime = lifetime
        self.treeSize = try LedgerError.wrapping { try ledger.storedTreeSize(txn) }
        self.isTiled = try LedgerError.wrapping { try ledger.isTiled(txn) }
    }

    /// Runs one read, wrapping storage failures once; traps when the snapshot has expired.
    func run<R>(_ body: () throws -> R) throws(LedgerError) -> R {
        precondition(lifetime.isOpen, "a LedgerSnapshot was used after its Ledger.read closure returned")
        return try LedgerError.wrapping(body)
    }

    /// The raw transaction, for sibling modules that keep tables of their own in the ledger's
    /// environment (the server's token store). Valid only inside the `read` closure.
    package var transaction: ReadTransaction {
        precondition(lifetime.isOpen, "a LedgerSnapshot was used after its Ledger.read closure returned")
        return txn
    }
}

/// Whether a snapshot's closure is still running.
private final class SnapshotLifetime {
    var isOpen = true
}

// MARK: - The door

extension Ledger {
    /// Runs `body` with a snapshot of the ledger, on the calling thread, and returns its result.
    ///
    /// The synchronous twin of `read(_:) async`, for command-line tools and code already on a
    /// thread of its own; never call it from a Swift concurrency task that must not block (use
    /// the `async` version there). Do not call `read` inside `body`: nested transactions on one
    /// thread can deadlock, and the storage layer stops the process rather than hang.
    /// Storage failures are thrown as `LedgerError`; errors thrown by `body` pass through.
    public func read<R>(_ body: (LedgerSnapshot) throws -> R) throws -> R {
        do {
            return try env.read { txn in
                let lifetime = SnapshotLifetime()
                defer { lifetime.isOpen = false }
                return try body(try LedgerSnapshot(ledger: self, txn: txn, lifetime: lifetime))
            }
        } catch let error as StorageError {
            throw LedgerError(wrapping: error, while: "reading the ledger at \(directory)")
        }
    }

    /// Runs `body` with a snapshot of the ledger on the ledger I/O thread pool (never on the
    /// caller's executor: LMDB reads may touch the disk) and returns its result.
    ///
    /// This is how servers and other concurrent code read: one request, one snapshot.
    public func read<R: Sendable>(_ body: @escaping @Sendable (LedgerSnapshot) throws -> R) async throws -> R {
        try await LedgerIO.run { try self.read(body) }
    }
}

/// The small thread pool on which the ledger does blocking I/O for Swift concurrency callers:
/// snapshot reads, and the files of blobs. Shared by every ledger of the process (the threads
/// wait on the disk, not the CPU, so a handful serve any number of ledgers); started on first
/// use and never stopped.
package enum LedgerIO {
    /// Four threads: enough to keep a disk busy; reads beyond that wait in the pool's queue,
    /// which is the back-pressure expensive reads need.
    static let threadCount = 4

    private static let pool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: threadCount)
        pool.start()
        return pool
    }()

    /// Runs `body` on the pool and returns its result; cancelling the caller before the job
    /// starts withdraws it.
    package static func run<R: Sendable>(_ body: @escaping @Sendable () throws -> R) async throws -> R {
        try await pool.runIfActive(body)
    }
}
