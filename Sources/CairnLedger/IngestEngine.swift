import DequeModule
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

/// Group-commit ingest: the ledger's write path for many concurrent producers.
///
/// Thread-safe; call from any task. Records are prepared (parsed, validated, canonicalized,
/// hashed) by the producers, in parallel, before they are submitted; one writer thread gathers
/// whatever has been submitted while the previous commit was in flight into the next batch and
/// commits it as one durable LMDB transaction with one signed checkpoint. Every producer is
/// resumed only once its records are durable. The queue is bounded: when it is full, submitting
/// fails fast with `IngestBusyError` (or waits, if the producer asks to).
///
/// ```swift
/// let engine = IngestEngine(ledger: ledger)
/// let result = try await engine.append(try PreparedEntry.prepare(json: bytes, rules: ledger.recordRules()))
/// engine.shutdown()
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

    /// Starts the writer thread.
    public init(ledger: Ledger, configuration: Configuration = Configuration()) {
        self.ledger = ledger
        self.configuration = configuration
        self.state = UnsafeState()
        let thread = WriterThread(engine: self)
        thread.start()
    }

    /// The engine's counters.
    public var statistics: Statistics { stats.withLock { $0 } }

    /// Records waiting for a batch right now.
    public var queuedRecords: Int { lock.withLock { state.queuedRecords } }

    // MARK: - Submitting

    /// Appends one record and returns once it is durable.
    public func append(_ entry: PreparedEntry, whenBusy policy: BusyPolicy = .fail) async throws -> AppendResult {
        let outcomes = try await submit([entry], atomic: false, policy: policy)
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
    public func append(
        contentsOf entries: [PreparedEntry], atomic: Bool = false, whenBusy policy: BusyPolicy = .fail
    ) async throws -> [AppendOutcome] {
        guard !entries.isEmpty else { return [] }
        return try await submit(entries, atomic: atomic, policy: policy)
    }

    /// Stops accepting records, commits what is queued, and stops the writer thread. Waiting
    /// producers are resumed with their results; later submissions fail with
    /// `IngestShutdownError`. Returns once the writer has finished.
    public func shutdown() {
        lock.withLock {
            state.closed = true
            lock.broadcast()
        }
        lock.withLock {
            while !state.writerFinished { lock.wait() }
        }
    }

    /// Queues `entries` (in order, behind everything queued before) without waiting for the
    /// commit, and returns a handle to await their outcomes. This lets one producer keep several
    /// submissions in flight while it prepares the next ones (bulk import). With `.fail`, a full
    /// queue throws `IngestBusyError`; with `.wait`, the submission waits in line for room —
    /// the caller bounds its memory by awaiting older handles.
    public func enqueue(
        contentsOf entries: [PreparedEntry], atomic: Bool = false, whenBusy policy: BusyPolicy = .fail
    ) throws -> PendingAppend {
        let pending = PendingAppend()
        try enqueue(entries, atomic: atomic, policy: policy, id: nil) { pending.fulfil($0) }
        return pending
    }

    private func submit(
        _ entries: [PreparedEntry], atomic: Bool, policy: BusyPolicy
    ) async throws
        -> [AppendOutcome]
    {
        let id = lock.withLock { () -> UInt64 in
            state.nextID += 1
            return state.nextID
        }
        defer {
            // A cancellation that raced with completion may have left a marker behind.
            lock.withLock { _ = state.cancelledBeforeEnqueue.remove(id) }
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<[AppendOutcome], Error>) in
                do {
                    try enqueue(entries, atomic: atomic, policy: policy, id: id) { continuation.resume(with: $0) }
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
        _ entries: [PreparedEntry], atomic: Bool, policy: BusyPolicy, id: UInt64?,
        complete: @escaping @Sendable (Result<[AppendOutcome], Error>) -> Void
    ) throws {
        let bytes = entries.reduce(0) { $0 + $1.bytes.count }
        try lock.withLock {
            let id =
                id
                ?? {
                    state.nextID += 1
                    return state.nextID
                }()
            if state.cancelledBeforeEnqueue.remove(id) != nil { throw CancellationError() }
            if state.closed { throw IngestShutdownError() }
            let item = Item(id: id, entries: entries, bytes: bytes, atomic: atomic, complete: complete)
            // Nobody overtakes a producer already waiting for room: order is first come, first served.
            if state.waitingForRoom.isEmpty && state.hasRoom(for: entries.count, bytes: bytes, configuration) {
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
    }

    /// Blocks until there is work; returns the next batch, or nil once closed and drained.
    private func nextBatch() -> [Item]? {
        lock.lock()
        defer { lock.unlock() }
        while state.queue.isEmpty {
            if state.closed {
                // Producers waiting for room can no longer be served.
                for item in state.waitingForRoom { item.complete(.failure(IngestShutdownError())) }
                state.waitingForRoom.removeAll()
                return nil
            }
            lock.wait()
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
        while let next = state.queue.first,
            batch.isEmpty
                || (records + next.entries.count <= configuration.maxBatchRecords
                    && bytes + next.bytes <= configuration.maxBatchBytes)
        {
            let item = state.dequeue()
            records += item.entries.count
            bytes += item.bytes
            batch.append(item)
        }
        if batch.isEmpty { batch.append(state.dequeue()) }
        admitWaitingProducers()
        return batch
    }

    /// Moves producers that were waiting for room into the queue, in order, while they fit.
    private func admitWaitingProducers() {
        while let next = state.waitingForRoom.first,
            state.hasRoom(for: next.entries.count, bytes: next.bytes, configuration)
        {
            state.enqueue(state.waitingForRoom.removeFirst())
        }
    }

    private func commit(_ batch: [Item]) {
        var batch = batch
        while !batch.isEmpty {
            // Each atomic submission is a group that a rejection refuses as a whole: the
            // transaction is abandoned, the group is answered with the rejection, and the others
            // are committed again without it. (Rejections are rare: only provenance references.)
            var groups: [Range<Int>] = []
            var groupItems: [Int] = []
            var offset = 0
            for (position, item) in batch.enumerated() {
                if item.atomic {
                    groups.append(offset..<(offset + item.entries.count))
                    groupItems.append(position)
                }
                offset += item.entries.count
            }
            let entries = batch.count == 1 ? batch[0].entries : batch.flatMap(\.entries)
            let started = ConditionLock.now()
            do {
                let commit = try ledger.append(entries, rejecting: .skipRecord, atomicGroups: groups)
                completeCommitted(batch, entries: entries, commit: commit, nanoseconds: ConditionLock.now() - started)
            } catch let refused as AtomicGroupRejection {
                let item = batch.remove(at: groupItems[refused.group])
                let rejection = refused.rejection
                item.complete(
                    .failure(
                        AppendRejection(
                            position: rejection.position - groups[refused.group].lowerBound, digest: rejection.digest,
                            problems: rejection.problems)))
                stats.withLock { $0.rejected += 1 }
                lock.withLock { state.removeInFlight([item]) }
                continue
            } catch {
                for item in batch { item.complete(.failure(error)) }
            }
            break
        }
        lock.withLock { state.removeInFlight(batch) }
    }

    private func completeCommitted(_ batch: [Item], entries: [PreparedEntry], commit: CommitResult, nanoseconds: UInt64)
    {
        // Before the producers resume, so that what they see next (metrics) includes this commit.
        configuration.commitObserver?(
            CommitObservation(
                records: entries.count, duration: .nanoseconds(Int64(nanoseconds)), treeSize: commit.treeSize))
        var offset = 0
        for item in batch {
            let outcomes = Array(commit.outcomes[offset..<(offset + item.entries.count)])
            offset += item.entries.count
            item.complete(.success(outcomes))
        }
        stats.withLock { s in
            s.batches += 1
            s.records += UInt64(entries.count)
            s.bytes += UInt64(entries.reduce(0) { $0 + $1.bytes.count })
            s.largestBatch = max(s.largestBatch, entries.count)
            s.commitNanoseconds += nanoseconds
            for outcome in commit.outcomes {
                switch outcome {
                case .appended(let r) where r.duplicate: s.duplicates += 1
                case .appended: s.appended += 1
                case .rejected: s.rejected += 1
                }
            }
        }
    }

    // MARK: - State

    fileprivate struct Item {
        let id: UInt64
        let entries: [PreparedEntry]
        let bytes: Int
        let atomic: Bool
        /// Called exactly once, by whoever removes the item: the writer, a cancellation or shutdown.
        let complete: @Sendable (Result<[AppendOutcome], Error>) -> Void
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

        /// An empty queue always takes a submission, however large.
        func hasRoom(for records: Int, bytes: Int, _ configuration: Configuration) -> Bool {
            queuedRecords == 0
                || (queuedRecords + records <= configuration.maxQueuedRecords
                    && queuedBytes + bytes <= configuration.maxQueuedBytes)
        }

        func enqueue(_ item: Item) {
            queue.append(item)
            queuedRecords += item.entries.count
            queuedBytes += item.bytes
        }

        func dequeue() -> Item {
            let item = queue.removeFirst()
            queuedRecords -= item.entries.count
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
                queuedRecords -= item.entries.count
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

    private final class WriterThread: @unchecked Sendable {
        let engine: IngestEngine
        init(engine: IngestEngine) { self.engine = engine }

        func start() {
            var thread = pthread_t()
            let box = Unmanaged.passRetained(self).toOpaque()
            let rc = pthread_create(
                &thread, nil,
                { raw in
                    let writer = Unmanaged<WriterThread>.fromOpaque(raw!).takeRetainedValue()
                    writer.engine.writerLoop()
                    return nil
                }, box)
            precondition(rc == 0, "cannot start the ingest writer thread: \(rc)")
            pthread_detach(thread)
        }
    }
}

/// The outcomes of a submission queued with `IngestEngine.enqueue`, available once durable.
public final class PendingAppend: Sendable {
    private enum State {
        case waiting([CheckedContinuation<[AppendOutcome], Error>])
        case done(Result<[AppendOutcome], Error>)
    }

    private let state = Mutex<State>(.waiting([]))

    init() {}

    /// Waits for the outcomes (one per entry, in order).
    public func outcomes() async throws -> [AppendOutcome] {
        try await withCheckedThrowingContinuation { continuation in
            let ready: Result<[AppendOutcome], Error>? = state.withLock { state in
                switch state {
                case .done(let result): return result
                case .waiting(var waiters):
                    waiters.append(continuation)
                    state = .waiting(waiters)
                    return nil
                }
            }
            if let ready { continuation.resume(with: ready) }
        }
    }

    /// The outcomes if the submission has completed, without waiting.
    public var completedOutcomes: Result<[AppendOutcome], Error>? {
        state.withLock { state in
            if case .done(let result) = state { return result }
            return nil
        }
    }

    fileprivate func fulfil(_ result: Result<[AppendOutcome], Error>) {
        let waiters = state.withLock { state -> [CheckedContinuation<[AppendOutcome], Error>] in
            guard case .waiting(let waiters) = state else { return [] }
            state = .done(result)
            return waiters
        }
        for waiter in waiters { waiter.resume(with: result) }
    }
}
