import CairnRecords
import CairnStorage
import DequeModule
import ServiceLifecycle
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Refusal to queue more records: the engine's bounded queue is full. Retry later.
public struct IngestBusyError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Records waiting when the submission was refused.
    public let queuedRecords: Int
    /// The queue's bound.
    public let limit: Int

    public var description: String {
        "ingest queue is full (\(queuedRecords) records waiting, limit \(limit)); retry later"
    }
}

/// The engine was shut down before the records could be committed.
public struct IngestShutdownError: Error, Sendable, Hashable, CustomStringConvertible {
    public var description: String { "the ingest engine is shut down" }
}

/// Group-commit ingest: the ledger's one write path, for any number of concurrent producers.
///
/// Thread-safe; call from any task. Records are prepared (parsed, validated, canonicalized,
/// hashed, large payloads split off) by the producers, in parallel, before they are submitted;
/// the payloads' blob files are written (durably, on the ledger I/O pool) before the records
/// enter the queue. One writer thread gathers whatever has been submitted while the previous
/// commit was in flight into the next batch and commits it as one durable LMDB transaction with
/// one signed checkpoint: the records, the metadata of their blobs, and blobs stored on their
/// own. Storage operations of sibling modules (tokens, cosignatures) run on the same thread, each
/// in a transaction of its own. Every producer is resumed only once its writes are durable. The
/// queue is bounded: when it is full, submitting fails fast with `IngestBusyError` (or waits, if
/// the producer asks to).
///
/// A failed commit stops the writer for good (`LedgerError.Code.writerFailed`): after a failed
/// fsync the process cannot know what reached the disk, so it must not acknowledge anything more
/// (PostgreSQL learnt this the hard way). LMDB's copy-on-write keeps the file consistent: restart
/// the process, and `cairn fsck` confirms it.
///
/// A swift-service-lifecycle `Service`: `run()` returns once graceful shutdown has drained the
/// queue, or throws when the writer failed, which brings its `ServiceGroup` down.
///
/// ```swift
/// let engine = IngestEngine(ledger: ledger)
/// let result = try await engine.append(try PreparedEntry.prepare(json: bytes, rules: ledger.recordRules()))
/// await engine.shutdownGracefully()
/// ```
public final class IngestEngine: Sendable {
    /// Tuning knobs; the defaults suit a 2-core machine with a few hundred producers.
    public struct Configuration: Sendable, Hashable {
        /// A batch closes once it holds this many records (submissions are never split, so a
        /// single large submission may exceed it).
        public var maxBatchRecords = 16_384
        /// …or this many bytes of entries.
        public var maxBatchBytes = 32 << 20
        /// After the first record of a batch arrives, wait at most this long for more before
        /// committing (only while the batch is below its limits). Zero commits at once.
        public var maxBatchDelay: Duration = .microseconds(500)
        /// Back-pressure: at most this many records may wait (not yet in a batch).
        public var maxQueuedRecords = 262_144
        /// …and at most this many bytes.
        public var maxQueuedBytes = 256 << 20
        /// Called on the writer thread after each successful commit, before its producers resume
        /// (keep it short: the next batch waits for it). For metrics.
        public var commitObserver: CommitObserver?
        /// Where the access-outbox rows of each commit go once durable (`cairn serve`'s access
        /// log), and whose delivered rows later commits delete (specs/storage.md, "The access
        /// outbox"). Without it, submissions' outbox rows are still written, and stay.
        package var outboxDelivery: OutboxDelivery?

        public init() {}
    }

    /// What one successful commit did, for `Configuration.commitObserver`.
    public struct CommitObservation: Sendable, Hashable {
        /// Records in the batch (appended, duplicate and rejected alike).
        public let records: Int
        /// Time spent inside the commit (the LMDB transaction, signing and fsync).
        public let duration: Duration
        /// The tree size after the commit.
        public let treeSize: UInt64
    }

    /// A callback after each commit; equal only to itself (so `Configuration` stays `Hashable`).
    public struct CommitObserver: Sendable, Hashable {
        private final class Box: Sendable {
            let body: @Sendable (CommitObservation) -> Void
            init(_ body: @escaping @Sendable (CommitObservation) -> Void) { self.body = body }
        }
        private let box: Box

        public init(_ body: @escaping @Sendable (CommitObservation) -> Void) { box = Box(body) }

        func callAsFunction(_ observation: CommitObservation) { box.body(observation) }

        public static func == (lhs: Self, rhs: Self) -> Bool { lhs.box === rhs.box }
        public func hash(into hasher: inout Hasher) { hasher.combine(ObjectIdentifier(box)) }
    }

    /// What to do when the queue is full.
    public enum BusyPolicy: Sendable {
        /// Throw `IngestBusyError` at once (servers: turn it into 429/503 with Retry-After).
        case fail
        /// Wait for room (bulk imports that own the producer side).
        case wait
    }

    /// Counters since the engine started.
    public struct Statistics: Sendable, Hashable {
        public var batches: UInt64 = 0
        public var records: UInt64 = 0
        public var appended: UInt64 = 0
        public var duplicates: UInt64 = 0
        /// Records refused by the ledger's checks (for an atomic submission: the refused record).
        public var rejected: UInt64 = 0
        public var bytes: UInt64 = 0
        public var largestBatch: Int = 0
        public var busyRefusals: UInt64 = 0
        /// Total time spent inside commits, in nanoseconds.
        public var commitNanoseconds: UInt64 = 0
    }

    /// The ledger this engine writes to.
    public let ledger: Ledger
    public let configuration: Configuration

    private let lock = ConditionLock()
    private let state: UnsafeState
    private let stats = Mutex(Statistics())
    private let thread: WriterThread
    /// Tasks waiting for the writer to finish (graceful shutdown, `run()`).
    private let finishWaiters = Mutex<FinishWaiters>(FinishWaiters())

    private struct FinishWaiters {
        var finished = false
        var continuations: [CheckedContinuation<Void, Never>] = []
    }

    /// Starts the writer thread.
    public init(ledger: Ledger, configuration: Configuration = Configuration()) {
        self.ledger = ledger
        self.configuration = configuration
        self.state = UnsafeState()
        self.thread = WriterThread()
        thread.start(self)
    }

    /// The engine's counters.
    public var statistics: Statistics { stats.withLock { $0 } }

    /// Records waiting for a batch right now.
    public var queuedRecords: Int { lock.withLock { state.queuedRecords } }

    /// The failure that stopped the writer, if one did.
    public var failure: LedgerError? { lock.withLock { state.failure } }

    /// Whether submissions are still taken: not shut down, and the writer has not failed.
    package var isAccepting: Bool { lock.withLock { !state.closed && state.failure == nil } }

    // MARK: - Submitting records

    /// Appends one record and returns once it is durable; `principal` is recorded as its appender.
    public func append(
        _ entry: PreparedEntry, whenBusy policy: BusyPolicy = .fail, as principal: Principal = .currentUser
    ) async throws -> AppendResult {
        let outcomes = try await append(contentsOf: [entry], atomic: false, whenBusy: policy, as: principal)
        switch outcomes[0] {
        case .appended(let result): return result
        case .rejected(let rejection): throw rejection
        }
    }

    /// Appends `entries` in order and returns once all are durable, with one outcome per entry.
    ///
    /// The entries share a batch (one transaction, one fsync) with other producers' records. With
    /// `atomic`, they are all committed in the same transaction and a rejected record refuses them
    /// all (the rejection is thrown, its `position` counting from the first of `entries`) without
    /// holding back the rest of the batch; otherwise a rejected record is reported in its outcome.
    /// The blob files of the entries' payloads are written first, on the ledger I/O pool; a
    /// storage failure there is thrown as a `LedgerError` and nothing is queued. `principal` is
    /// recorded as the appender of every entry appended (see `Principal`).
    public func append(
        contentsOf entries: [PreparedEntry], atomic: Bool = false, whenBusy policy: BusyPolicy = .fail,
        as principal: Principal = .currentUser
    ) async throws -> [AppendOutcome] {
        try await append(contentsOf: entries, atomic: atomic, whenBusy: policy, as: principal, outboxRow: nil)
    }

    /// `append(contentsOf:atomic:whenBusy:as:)`, also writing the row `outboxRow` makes from the
    /// outcomes into the access outbox, in the records' own transaction (specs/storage.md, "The
    /// access outbox"): when this returns, the row is as durable as the records.
    package func append(
        contentsOf entries: [PreparedEntry], atomic: Bool = false, whenBusy policy: BusyPolicy = .fail,
        as principal: Principal = .currentUser, outboxRow: OutboxRowBuilder?
    ) async throws -> [AppendOutcome] {
        guard !entries.isEmpty else { return [] }
        if entries.contains(where: { !$0.payloads.isEmpty }) {
            let ledger = self.ledger
            try await LedgerIO.run { try ledger.blobStore.writePayloads(of: entries) }
        }
        let completion = try await submit(
            .records(entries, atomic: atomic, principal: principal, outboxRow: outboxRow), policy: policy)
        guard case .records(let outcomes) = completion else { preconditionFailure("records answered otherwise") }
        return outcomes
    }

    /// Queues `entries` (in order, behind everything queued before) without waiting for the
    /// commit, and returns a handle to await their outcomes. This lets one producer keep several
    /// submissions in flight while it prepares the next ones (bulk import). With `.fail`, a full
    /// queue throws `IngestBusyError`; with `.wait`, the submission waits in line for room —
    /// the caller bounds its memory by awaiting older handles. Blocks while it writes the blob
    /// files of the entries' payloads: call it from a thread of your own.
    public func enqueue(
        contentsOf entries: [PreparedEntry], atomic: Bool = false, whenBusy policy: BusyPolicy = .fail,
        as principal: Principal = .currentUser
    ) throws -> PendingAppend {
        if entries.contains(where: { !$0.payloads.isEmpty }) {
            try ledger.blobStore.writePayloads(of: entries)
        }
        let pending = PendingAppend()
        try enqueue(.records(entries, atomic: atomic, principal: principal, outboxRow: nil), policy: policy, id: nil) {
            result in
            pending.fulfil(
                result.map { completion in
                    guard case .records(let outcomes) = completion else { return [] }
                    return outcomes
                })
        }
        return pending
    }

    // MARK: - Blobs and storage operations

    /// Stores blobs that no record brings along (`cairn blob put`, `POST /v1/blobs`): writes
    /// their files durably, then commits their metadata with the next batch. Returns the stored
    /// metadata of each (an existing blob's, if it was already stored). With `salted` (the
    /// default) each payload gets a new random salt, so storing the same bytes twice stores two
    /// blobs; without, its address is the plain SHA-256 of its bytes, which anyone holding them
    /// can compute (for content that is not secret), and the same bytes are stored once. The salt
    /// given is ignored. Refuses unsalted content that was erased (`.blobErased`).
    public func store(
        _ payloads: [BlobPayload], salted: Bool = true, whenBusy policy: BusyPolicy = .fail
    ) async throws -> [BlobMetadata] {
        guard !payloads.isEmpty else { return [] }
        let ledger = self.ledger
        let payloads = try await LedgerIO.run {
            // A sealed log would refuse the commit: do not leave the files behind (Ledger+Seal).
            try ledger.env.read { try ledger.refuseIfSealed($0) }
            let salted = payloads.map { $0.salted(salted ? BlobCommitment.randomSalt() : []) }
            try ledger.blobStore.write(salted, refusingErased: true)
            return salted
        }
        let completion = try await submit(.blobs(payloads.map(\.metadata)), policy: policy)
        guard case .blobs(let stored) = completion else { preconditionFailure("blobs answered otherwise") }
        return stored
    }

    /// Runs `operation` on the writer thread in a durable write transaction of its own, between
    /// batches, and returns its result once committed. For sibling modules that keep state in the
    /// ledger's environment (the server's tokens, witnesses' cosignatures): the ledger has one
    /// writer, and this is its door. `operation` must only change state through the transaction,
    /// and may run more than once (if the map has to grow).
    package func perform<R: Sendable>(
        _ operation: @escaping @Sendable (WriteTransaction) throws -> R, whenBusy policy: BusyPolicy = .wait
    ) async throws -> R {
        let box = Mutex<R?>(nil)
        _ = try await submit(
            .operation { txn in
                let result = try operation(txn)
                box.withLock { $0 = result }
            }, policy: policy)
        guard let result = box.withLock({ $0 }) else { preconditionFailure("operation completed without a result") }
        return result
    }

    // MARK: - Lifecycle

    /// Stops accepting work, commits what is queued, and stops the writer thread. Waiting
    /// producers are resumed with their results; later submissions fail with
    /// `IngestShutdownError`. Returns once the writer thread has exited. Blocks the calling
    /// thread: from Swift concurrency, call `shutdownGracefully()`.
    public func shutdown() {
        beginShutdown()
        thread.join()
    }

    /// `shutdown()` for Swift concurrency: suspends (rather than blocks) until the writer has
    /// drained the queue and exited.
    public func shutdownGracefully() async {
        beginShutdown()
        await waitForWriter()
        thread.join()  // the writer has left its loop: this only reaps the thread
    }

    private func beginShutdown() {
        lock.withLock {
            state.closed = true
            lock.broadcast()
        }
    }

    private func waitForWriter() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let finished = finishWaiters.withLock { waiters -> Bool in
                if waiters.finished { return true }
                waiters.continuations.append(continuation)
                return false
            }
            if finished { continuation.resume() }
        }
    }

    // MARK: - Queue

    private func submit(_ work: Work, policy: BusyPolicy) async throws -> Completion {
        let id = lock.withLock { () -> UInt64 in
            state.nextID += 1
            return state.nextID
        }
        defer {
            // A cancellation that raced with completion may have left a marker behind.
            lock.withLock { _ = state.cancelledBeforeEnqueue.remove(id) }
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Completion, Error>) in
                do {
                    try enqueue(work, policy: policy, id: id) { continuation.resume(with: $0) }
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        } onCancel: {
            // Only a submission that no batch has taken yet can be withdrawn; once taken, it is
            // committed (or not) with its batch and its producer learns the result.
            lock.withLock {
                if let item = state.remove(id: id) {
                    item.complete(.failure(CancellationError()))
                    lock.broadcast()
                } else if !state.isKnown(id: id) {
                    state.cancelledBeforeEnqueue.insert(id)
                }
            }
        }
    }

    private func enqueue(
        _ work: Work, policy: BusyPolicy, id: UInt64?,
        complete: @escaping @Sendable (Result<Completion, Error>) -> Void
    ) throws {
        try lock.withLock {
            let id =
                id
                ?? {
                    state.nextID += 1
                    return state.nextID
                }()
            if state.cancelledBeforeEnqueue.remove(id) != nil { throw CancellationError() }
            if let failure = state.failure { throw failure }
            if state.closed { throw IngestShutdownError() }
            let item = Item(id: id, work: work, complete: complete)
            // Nobody overtakes a producer already waiting for room: order is first come, first served.
            if state.waitingForRoom.isEmpty
                && state.hasRoom(for: item.records, bytes: item.bytes, configuration)
            {
                state.enqueue(item)
                lock.broadcast()
            } else if policy == .wait {
                state.waitingForRoom.append(item)
            } else {
                stats.withLock { $0.busyRefusals += 1 }
                throw IngestBusyError(queuedRecords: state.queuedRecords, limit: configuration.maxQueuedRecords)
            }
        }
    }

    // MARK: - The writer

    fileprivate func writerLoop() {
        while let batch = nextBatch() {
            commit(batch)
        }
        lock.withLock {
            state.writerFinished = true
            lock.broadcast()
        }
        let waiters = finishWaiters.withLock { waiters -> [CheckedContinuation<Void, Never>] in
            waiters.finished = true
            defer { waiters.continuations.removeAll() }
            return waiters.continuations
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Blocks until there is work; returns the next batch, or nil once closed and drained (or
    /// failed). An operation is always a batch of its own.
    private func nextBatch() -> [Item]? {
        lock.lock()
        defer { lock.unlock() }
        while state.queue.isEmpty || state.failure != nil {
            if let failure = state.failure {
                // The writer is gone for good: nothing queued or waiting can be committed.
                for item in state.queue { item.complete(.failure(failure)) }
                for item in state.waitingForRoom { item.complete(.failure(failure)) }
                state.queue.removeAll()
                state.waitingForRoom.removeAll()
                state.queuedRecords = 0
                state.queuedBytes = 0
                return nil
            }
            if state.closed {
                // Producers waiting for room can no longer be served.
                for item in state.waitingForRoom { item.complete(.failure(IngestShutdownError())) }
                state.waitingForRoom.removeAll()
                return nil
            }
            lock.wait()
        }
        if case .operation = state.queue.first?.work {
            let item = state.dequeue()
            admitWaitingProducers()
            return [item]
        }
        // Linger briefly for more records, unless the batch is already full.
        if configuration.maxBatchDelay > .zero && !state.closed {
            let (seconds, attoseconds) = configuration.maxBatchDelay.components
            let deadline = ConditionLock.now() + UInt64(seconds) * 1_000_000_000 + UInt64(attoseconds / 1_000_000_000)
            while state.queuedRecords < configuration.maxBatchRecords && state.queuedBytes < configuration.maxBatchBytes
                && !state.closed && ConditionLock.now() < deadline
            {
                lock.wait(untilNanoseconds: deadline)
            }
        }
        var batch: [Item] = []
        var records = 0
        var bytes = 0
        while let next = state.queue.first, !next.isOperation,
            batch.isEmpty
                || (records + next.records <= configuration.maxBatchRecords
                    && bytes + next.bytes <= configuration.maxBatchBytes)
        {
            let item = state.dequeue()
            records += item.records
            bytes += item.bytes
            batch.append(item)
        }
        admitWaitingProducers()
        return batch
    }

    /// Moves producers that were waiting for room into the queue, in order, while they fit.
    private func admitWaitingProducers() {
        while let next = state.waitingForRoom.first, state.hasRoom(for: next.records, bytes: next.bytes, configuration)
        {
            state.enqueue(state.waitingForRoom.removeFirst())
        }
    }

    private func commit(_ batch: [Item]) {
        if batch.count == 1, case .operation(let operation) = batch[0].work {
            do {
                try ledger.performWrite(operation)
                batch[0].complete(.success(.done))
            } catch {
                batch[0].complete(.failure(fail(error)))
            }
            lock.withLock { state.removeInFlight(batch) }
            return
        }
        var batch = batch
        // Rows the access log holds: deleted by this commit (given back if it does not happen).
        let delivered = configuration.outboxDelivery?.takeDelivered() ?? []
        var committed = false
        defer { if !committed { configuration.outboxDelivery?.giveBack(delivered) } }
        while !batch.isEmpty {
            // Each atomic submission is a group that a rejection refuses as a whole: the
            // transaction is abandoned, the group is answered with the rejection, and the others
            // are committed again without it. (Rejections are rare: only provenance references.)
            var groups: [Range<Int>] = []
            var groupItems: [Int] = []
            var entries: [PreparedEntry] = []
            var principals: [Principal] = []
            var blobs: [BlobMetadata] = []
            var outbox = OutboxBatch()
            outbox.deletions = delivered
            for (position, item) in batch.enumerated() {
                switch item.work {
                case .records(let itemEntries, let atomic, let principal, let outboxRow):
                    if atomic {
                        groups.append(entries.count..<(entries.count + itemEntries.count))
                        groupItems.append(position)
                    }
                    if let outboxRow {
                        outbox.rows.append((entries.count..<(entries.count + itemEntries.count), outboxRow))
                    }
                    entries += itemEntries
                    principals += repeatElement(principal, count: itemEntries.count)
                case .blobs(let metadata):
                    blobs += metadata
                case .operation:
                    preconditionFailure("an operation inside a batch")
                }
            }
            let started = ConditionLock.now()
            do {
                let commit = try ledger.append(
                    entries, principals: principals, blobs: blobs, rejecting: .skipRecord, atomicGroups: groups,
                    outbox: outbox)
                committed = true
                completeCommitted(batch, commit: commit, nanoseconds: ConditionLock.now() - started)
            } catch let refused as AtomicGroupRejection {
                let item = batch.remove(at: groupItems[refused.group])
                let rejection = refused.rejection
                if case .records(let refusedEntries, _, _, _) = item.work {
                    // Best effort: a file left behind is unreferenced garbage, never read.
                    try? ledger.blobStore.discardPayloads(of: refusedEntries)
                }
                item.complete(
                    .failure(
                        AppendRejection(
                            position: rejection.position - groups[refused.group].lowerBound, digest: rejection.digest,
                            problems: rejection.problems)))
                stats.withLock { $0.rejected += 1 }
                lock.withLock { state.removeInFlight([item]) }
                continue
            } catch {
                let failure = fail(error)
                for item in batch { item.complete(.failure(failure)) }
            }
            break
        }
        lock.withLock { state.removeInFlight(batch) }
    }

    /// Classifies a failed commit: a failure of the commit itself (the write or fsync of LMDB's
    /// pages) stops the writer for good; anything else fails this batch only. Returns the error
    /// to give the producers.
    private func fail(_ error: any Error) -> any Error {
        let storage = (error as? StorageError) ?? (error as? LedgerError)?.storage
        guard let storage, storage.code == .commitFailed else {
            if let storage, !(error is LedgerError) { return LedgerError(wrapping: storage) }
            return error
        }
        let failure = LedgerError(
            .writerFailed,
            "the ledger's storage failed to commit (\(storage.message)); the writer has stopped and acknowledges "
                + "nothing more: restart the process, then run `cairn fsck`",
            storage: storage)
        lock.withLock {
            if state.failure == nil { state.failure = failure }
            lock.broadcast()
        }
        return failure
    }

    private func completeCommitted(_ batch: [Item], commit: CommitResult, nanoseconds: UInt64) {
        // Before the producers resume: an acknowledged append's access entry is queued ahead of
        // anything its client does next.
        if !commit.outboxRows.isEmpty { configuration.outboxDelivery?.deliver(commit.outboxRows) }
        // Before the producers resume, so that what they see next (metrics) includes this commit.
        configuration.commitObserver?(
            CommitObservation(
                records: commit.outcomes.count, duration: .nanoseconds(Int64(nanoseconds)),
                treeSize: commit.treeSize))
        // Statistics first: a producer that sees its outcome also sees the commit counted.
        var bytes = 0
        for item in batch { if case .records = item.work { bytes += item.bytes } }
        stats.withLock { s in
            s.batches += 1
            s.records += UInt64(commit.outcomes.count)
            s.bytes += UInt64(bytes)
            s.largestBatch = max(s.largestBatch, commit.outcomes.count)
            s.commitNanoseconds += nanoseconds
            for outcome in commit.outcomes {
                switch outcome {
                case .appended(let r) where r.duplicate: s.duplicates += 1
                case .appended: s.appended += 1
                case .rejected: s.rejected += 1
                }
            }
        }
        var offset = 0
        var blobOffset = 0
        for item in batch {
            switch item.work {
            case .records(let entries, _, _, _):
                let outcomes = Array(commit.outcomes[offset..<(offset + entries.count)])
                offset += entries.count
                item.complete(.success(.records(outcomes)))
            case .blobs(let metadata):
                let stored = Array(commit.storedBlobs[blobOffset..<(blobOffset + metadata.count)])
                blobOffset += metadata.count
                item.complete(.success(.blobs(stored)))
            case .operation:
                break
            }
        }
    }

    // MARK: - State

    /// What a submission asks the writer to do.
    fileprivate enum Work: Sendable {
        case records([PreparedEntry], atomic: Bool, principal: Principal, outboxRow: OutboxRowBuilder?)
        case blobs([BlobMetadata])
        case operation(@Sendable (WriteTransaction) throws -> Void)
    }

    /// What the writer answers.
    fileprivate enum Completion: Sendable {
        case records([AppendOutcome])
        case blobs([BlobMetadata])
        case done
    }

    fileprivate struct Item {
        let id: UInt64
        let work: Work
        /// Records it counts for in the queue's bounds (an operation or a blob counts as one).
        let records: Int
        let bytes: Int
        /// Called exactly once, by whoever removes the item: the writer, a cancellation or shutdown.
        let complete: @Sendable (Result<Completion, Error>) -> Void

        init(id: UInt64, work: Work, complete: @escaping @Sendable (Result<Completion, Error>) -> Void) {
            self.id = id
            self.work = work
            self.complete = complete
            switch work {
            case .records(let entries, _, _, _):
                records = entries.count
                bytes = entries.reduce(0) { $0 + $1.bytes.count }
            case .blobs(let metadata):
                records = metadata.count
                bytes = 0
            case .operation:
                records = 1
                bytes = 0
            }
        }

        var isOperation: Bool {
            if case .operation = work { return true }
            return false
        }
    }

    /// Guarded by `lock`.
    private final class UnsafeState: @unchecked Sendable {
        var queue = Deque<Item>()
        var queuedRecords = 0
        var queuedBytes = 0
        var waitingForRoom = Deque<Item>()
        var inFlight = Set<UInt64>()
        var cancelledBeforeEnqueue = Set<UInt64>()
        var nextID: UInt64 = 0
        var closed = false
        var writerFinished = false
        /// Set once a commit failed: the writer stops and refuses everything.
        var failure: LedgerError?

        /// An empty queue always takes a submission, however large.
        func hasRoom(for records: Int, bytes: Int, _ configuration: Configuration) -> Bool {
            queuedRecords == 0
                || (queuedRecords + records <= configuration.maxQueuedRecords
                    && queuedBytes + bytes <= configuration.maxQueuedBytes)
        }

        func enqueue(_ item: Item) {
            queue.append(item)
            queuedRecords += item.records
            queuedBytes += item.bytes
        }

        func dequeue() -> Item {
            let item = queue.removeFirst()
            queuedRecords -= item.records
            queuedBytes -= item.bytes
            inFlight.insert(item.id)
            return item
        }

        func removeInFlight(_ items: [Item]) {
            for item in items { inFlight.remove(item.id) }
        }

        /// Withdraws a queued or waiting item.
        func remove(id: UInt64) -> Item? {
            if let i = queue.firstIndex(where: { $0.id == id }) {
                let item = queue.remove(at: i)
                queuedRecords -= item.records
                queuedBytes -= item.bytes
                return item
            }
            if let i = waitingForRoom.firstIndex(where: { $0.id == id }) {
                return waitingForRoom.remove(at: i)
            }
            return nil
        }

        /// Whether the submission is queued, waiting for room, or in a batch being committed.
        func isKnown(id: UInt64) -> Bool {
            inFlight.contains(id) || queue.contains { $0.id == id } || waitingForRoom.contains { $0.id == id }
        }
    }

    /// The writer's OS thread (LMDB write transactions belong to one thread). Joinable: shutdown
    /// returns only after the thread has let go of everything it held, so nothing of the engine
    /// is torn down on it while the process exits.
    private final class WriterThread: @unchecked Sendable {
        private enum Phase {
            case notStarted
            case running(pthread_t)
            /// One caller is in pthread_join; the others wait for it to finish (but the writer
            /// itself, which would wait for its own exit, returns).
            case joining(pthread_t)
            case exited
            /// Shut down from the writer itself, which exits on its own.
            case detached
        }

        private let lock = ConditionLock()
        private var phase = Phase.notStarted  // guarded by `lock`

        func start(_ engine: IngestEngine) {
            let box = Unmanaged.passRetained(engine).toOpaque()
            var thread = pthread_t()
            // The lock is held until the phase is set, so a join racing with the start waits.
            lock.lock()
            defer { lock.unlock() }
            let rc = pthread_create(
                &thread, nil,
                { raw in
                    // Released before the thread exits, so a join sees the engine let go.
                    let engine = Unmanaged<IngestEngine>.fromOpaque(raw!).takeRetainedValue()
                    engine.writerLoop()
                    return nil
                }, box)
            precondition(rc == 0, "cannot start the ingest writer thread: \(rc)")
            phase = .running(thread)
        }

        /// Waits for the thread to exit. Every caller waits, not only the first: `shutdown()`
        /// and a `Service.run()` that both join return only once the thread has exited.
        func join() {
            lock.lock()
            while true {
                switch phase {
                case .running(let thread):
                    if pthread_equal(thread, pthread_self()) != 0 {
                        // Called on the writer itself (a commit observer shutting its engine down):
                        // it exits on its own; detach so its resources are reclaimed.
                        phase = .detached
                        lock.unlock()
                        pthread_detach(thread)
                        return
                    }
                    phase = .joining(thread)
                    lock.unlock()
                    pthread_join(thread, nil)
                    lock.withLock {
                        phase = .exited
                        lock.broadcast()
                    }
                    return
                case .joining(let thread):
                    if pthread_equal(thread, pthread_self()) != 0 {
                        lock.unlock()
                        return
                    }
                    lock.wait()
                case .notStarted, .exited, .detached:
                    lock.unlock()
                    return
                }
            }
        }
    }
}

extension IngestEngine: Service {
    /// Runs until graceful shutdown (or cancellation), then drains the queue and stops the
    /// writer. Throws the writer's failure if it stopped on one, at once — so a `ServiceGroup`
    /// holding this engine shuts everything down rather than serve without a writer.
    public func run() async throws {
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                await self.waitForWriter()
            } onGracefulShutdown: {
                self.beginShutdown()
            }
        } onCancel: {
            self.beginShutdown()
        }
        thread.join()
        if let failure { throw failure }
    }
}

/// The outcomes of a submission queued with `IngestEngine.enqueue`, available once durable.
public final class PendingAppend: Sendable {
    package typealias Callback = @Sendable (Result<[AppendOutcome], Error>) -> Void

    private enum State {
        case waiting([Callback])
        case done(Result<[AppendOutcome], Error>)
    }

    private let state = Mutex<State>(.waiting([]))

    init() {}

    /// Waits for the outcomes (one per entry, in order).
    public func outcomes() async throws -> [AppendOutcome] {
        try await withCheckedThrowingContinuation { continuation in
            whenComplete { continuation.resume(with: $0) }
        }
    }

    /// The outcomes if the submission has completed, without waiting.
    public var completedOutcomes: Result<[AppendOutcome], Error>? {
        state.withLock { state in
            if case .done(let result) = state { return result }
            return nil
        }
    }

    /// Calls `body` with the outcomes once the submission has completed (at once if it has),
    /// without a task: on the thread that completes it (the engine's writer), so keep it short.
    package func whenComplete(_ body: @escaping Callback) {
        let ready: Result<[AppendOutcome], Error>? = state.withLock { state in
            switch state {
            case .done(let result): return result
            case .waiting(var callbacks):
                state = .waiting([])  // drop the enum's reference so the append does not copy
                callbacks.append(body)
                state = .waiting(callbacks)
                return nil
            }
        }
        if let ready { body(ready) }
    }

    fileprivate func fulfil(_ result: Result<[AppendOutcome], Error>) {
        let callbacks: [Callback] = state.withLock { state in
            guard case .waiting(let callbacks) = state else { return [] }
            state = .done(result)
            return callbacks
        }
        for callback in callbacks { callback(result) }
    }
}
