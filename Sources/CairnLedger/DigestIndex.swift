import CairnCrypto
import CairnStorage
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The content index, SHA-256(entry) → leaf index, as a small log-structured merge tree.
///
/// A single B-tree keyed by digest costs one random page write per appended record (digests
/// are random): we measured 7.8 KB written per 256-byte record. Instead:
///
/// - Level 0 is a *log*: `digests.log` maps each recent leaf index to its digest and is only
///   ever appended to (`MDB_APPEND`), 40 bytes per record. The writer keeps the same pairs in a
///   hash map for O(1) duplicate checks; readers (another process, an older snapshot) keep their
///   own map of it (`ReaderCache`). It holds about `level0Capacity` entries, more while a sorted
///   level merges (at most `level0Capacity × fanout` more per such merge).
/// - When the log holds `level0Capacity` digests, a *merge* of the log (as it is then: leaf
///   indexes below a boundary) with level 1 into level 1's spare table starts. It is written
///   strictly in key order with `MDB_APPEND` (sequential, full pages), one slice at the end of
///   each commit, so that no single commit pays for the whole merge: 16 digests per record
///   appended, at least `level0Capacity / 32`. Until the last slice, lookups use the log and the
///   live level 1 as before; the last slice flips level 1 to the new table and removes the merged
///   part of the log.
/// - A sorted level that reaches its capacity (`level0Capacity × fanout^i`) is merged into the
///   next level's spare table the same way, in slices, paced to finish within `level0Capacity ×
///   fanout` appended records: both sources stay live until the last slice empties them and flips
///   the destination. One merge runs at a time, the lowest full level first (see `compact`).
///
/// A lookup checks the log, then each sorted level. Every digest is rewritten a few times, in
/// large sequential writes, instead of one random page per record. Layout: specs/storage.md.
struct DigestIndex: Sendable {
    static let defaultLevel0Capacity = 32_768
    /// Tests make merges frequent with a small capacity (it decides when merges happen, not the
    /// layout, so ledgers written with any capacity read the same).
    @TaskLocal static var level0CapacityOverride: Int?
    let level0Capacity: Int
    static let fanout = 10
    /// Sorted levels above the log. Capacity ≈ 32768 × 10^5 ≈ 3.3 billion records.
    static let levels = 5

    private let log: Table
    /// `sorted[i]` holds the two tables of level i + 1: one live, one spare.
    private let sorted: [(Table, Table)]
    private let meta: Table
    private static let stateKey = Array("digest_levels".utf8)
    /// The merge in progress (`MergeJob`).
    private static let mergeKey = Array("digest_merge".utf8)

    init(env: LMDBEnvironment, meta: Table) throws {
        log = try env.openTable("digests.log")
        sorted = try (1...Self.levels).map { level in
            (try env.openTable("digests.\(level).a"), try env.openTable("digests.\(level).b"))
        }
        self.meta = meta
        level0Capacity = Self.level0CapacityOverride ?? Self.defaultLevel0Capacity
    }

    // MARK: - Writer cache

    /// The writer's copy of the log as a hash map. Changes made inside a transaction stay
    /// pending until the transaction commits (`commit()`) and are dropped if it does not.
    final class WriterCache: @unchecked Sendable {
        /// The tree size the cache describes (committed state).
        fileprivate(set) var treeSize: UInt64
        fileprivate var committed: [SHA256Digest: UInt64]
        fileprivate var pending: [SHA256Digest: UInt64] = [:]
        /// Set by the commit that finishes a merge: its log entries below this leaf index are gone.
        fileprivate var pendingTrim: UInt64?
        /// The log entries below a merge's boundary, sorted by digest (the merge's first source).
        fileprivate var frozen: (boundary: UInt64, entries: [(SHA256Digest, UInt64)])?

        fileprivate init(treeSize: UInt64, committed: [SHA256Digest: UInt64]) {
            self.treeSize = treeSize
            self.committed = committed
        }

        fileprivate func lookup(_ digest: SHA256Digest) -> UInt64? {
            pending[digest] ?? committed[digest]
        }

        /// The transaction committed at `treeSize`.
        func commit(treeSize: UInt64) {
            committed.merge(pending) { $1 }
            if let boundary = pendingTrim {
                committed = committed.filter { $0.value >= boundary }
                frozen = nil
            }
            pending.removeAll(keepingCapacity: true)
            pendingTrim = nil
            self.treeSize = treeSize
        }

        /// The transaction did not commit.
        func rollback() {
            pending.removeAll(keepingCapacity: true)
            pendingTrim = nil
            // It may have been computed from this transaction's entries.
            frozen = nil
        }
    }

    /// Whether `cache` still describes the log of `txn`: another writer (another process, or another `Ledger` of
    /// this one) may have finished a merge in a commit that appended nothing, which leaves the tree size alone but
    /// empties the log below the merge's boundary. The cache holds exactly the log's entries, so their counts differ.
    func isCurrent(_ cache: WriterCache, in txn: some TransactionReading) throws -> Bool {
        try txn.count(log) == cache.committed.count
    }

    /// A cache of the log as committed in `txn`'s snapshot.
    func makeWriterCache(_ txn: some TransactionReading, treeSize: UInt64) throws -> WriterCache {
        var map: [SHA256Digest: UInt64] = [:]
        map.reserveCapacity(2 * level0Capacity)
        try forEachInLog(txn) { index, digest in map[digest] = index }
        return WriterCache(treeSize: treeSize, committed: map)
    }

    /// Readers' shared copy of the log as a hash map, extended incrementally as the log grows,
    /// so that a lookup outside the writer costs a hash probe, not a scan of the log. Thread-safe.
    final class ReaderCache: Sendable {
        private struct State {
            /// The log's first leaf index when the map was started (a merge empties the log).
            var first: UInt64?
            /// Leaf indexes below this are in the map.
            var next: UInt64 = 0
            var map: [SHA256Digest: UInt64] = [:]
        }

        private let state = Mutex(State())

        init() {}

        /// The leaf index of `digest` if it is in `txn`'s log.
        fileprivate func lookup(_ digest: SHA256Digest, in txn: some TransactionReading, log: Table) throws -> UInt64? {
            // The snapshot's log: its first key, and one past its last.
            let bounds: (UInt64, UInt64)? = try txn.withCursor(log) { cursor in
                guard let first = try cursor.first(), let last = try cursor.last(),
                    let low = BigEndianKey.decode(first.key), let high = BigEndianKey.decode(last.key)
                else { return nil }
                return (low, high + 1)
            }
            guard let (first, end) = bounds else { return nil }
            return try state.withLock { state in
                if state.first != first {
                    state = State(first: first, next: first, map: [:])
                }
                if state.next < end {
                    try txn.forEach(log, prefix: [], from: BigEndianKey.bytes(state.next)) { key, value in
                        if let index = BigEndianKey.decode(key), let digest = SHA256Digest(bytes: value) {
                            state.map[digest] = index
                        }
                        return true
                    }
                    state.next = end
                }
                // A newer snapshot may have filled the map further: ignore what this one cannot see.
                guard let index = state.map[digest], index < end else { return nil }
                return index
            }
        }
    }

    // MARK: - Reading

    /// For each sorted level: whether its live table is `b`.
    private func liveSelectors(_ txn: some TransactionReading) throws -> [Bool] {
        let raw = try txn.value(meta, key: Self.stateKey) ?? []
        return (0..<Self.levels).map { $0 < raw.count && raw[$0] == 1 }
    }

    private func liveSortedTables(_ txn: some TransactionReading) throws -> [Table] {
        let selectors = try liveSelectors(txn)
        return sorted.enumerated().map { selectors[$0.offset] ? $0.element.1 : $0.element.0 }
    }

    /// The leaf index of `digest`, if the ledger holds it. With the writer's cache the log costs
    /// a hash lookup; without it, a scan of the (bounded) log.
    func lookup(
        _ txn: some TransactionReading, _ digest: SHA256Digest, cache: WriterCache? = nil,
        readers: ReaderCache? = nil
    ) throws -> UInt64? {
        if let cache {
            if let index = cache.lookup(digest) { return index }
        } else if let readers {
            if let index = try readers.lookup(digest, in: txn, log: log) { return index }
        } else {
            var found: UInt64?
            try digest.withUnsafeBytes { wanted in
                try txn.forEach(log, prefix: []) { key, value in
                    guard value.count == 32, memcmp(value.baseAddress!, wanted.baseAddress!, 32) == 0 else {
                        return true
                    }
                    found = BigEndianKey.decode(key)
                    return false
                }
            }
            if let found { return found }
        }
        return try digest.withUnsafeBytes { key in
            for table in try liveSortedTables(txn) {
                if let raw = try txn.rawValue(table, key: key) {
                    guard let index = BigEndianKey.decode(raw) else {
                        throw LedgerError(.corrupt, "content index entry for \(digest) in \(table.name) is malformed")
                    }
                    return index
                }
            }
            return nil
        }
    }

    /// The number of digests indexed.
    func count(_ txn: some TransactionReading) throws -> UInt64 {
        try ([log] + liveSortedTables(txn)).reduce(0) { $0 + UInt64(try txn.count($1)) }
    }

    /// Calls `body` with every (leaf index, digest) of the log, in index order.
    func forEachInLog(_ txn: some TransactionReading, _ body: (UInt64, SHA256Digest) throws -> Void) throws {
        try txn.forEach(log, prefix: []) { key, value in
            guard let index = BigEndianKey.decode(key), let digest = SHA256Digest(bytes: value) else {
                throw LedgerError(.corrupt, "content index log holds a malformed entry")
            }
            try body(index, digest)
            return true
        }
    }

    // MARK: - Writing

    /// Calls `body` with an appender for the log (see `insert`).
    func withLogAppender<R>(_ txn: WriteTransaction, _ body: (Appender) throws -> R) throws -> R {
        try txn.withAppender(log, body)
    }

    /// Adds a digest known to be absent, for the leaf about to be appended at `index`.
    func insert(_ digest: SHA256Digest, index: UInt64, log: Appender, cache: WriterCache) throws {
        try digest.withUnsafeBytes { try log.append(index, $0) }
        cache.pending[digest] = index
    }

    // MARK: - Merging

    /// A merge in progress, as `meta/digest_merge` records it.
    struct MergeJob: Equatable {
        /// 0: the log's entries below `boundary` merge with level 1; i ≥ 1: level i's live table
        /// merges with level i + 1's.
        var level: Int
        /// Level 0 only: the tree size of the commit that started the merge.
        var boundary: UInt64 = 0
        /// The last digest written into the destination's spare table, nil before the first.
        var after: SHA256Digest?

        /// Level 0 keeps the layout every earlier version wrote: the 8-byte boundary, then the last
        /// digest (8 or 40 bytes). A higher level is one byte, its number, then the last digest
        /// (1 or 33 bytes). The lengths differ, so either is read unambiguously.
        var encoded: [UInt8] {
            (level == 0 ? BigEndianKey.bytes(boundary) : [UInt8(level)]) + (after?.bytes ?? [])
        }

        init(level: Int, boundary: UInt64 = 0, after: SHA256Digest? = nil) {
            self.level = level
            self.boundary = boundary
            self.after = after
        }

        init(decoding raw: [UInt8]) throws {
            switch raw.count {
            case 8, 40:
                level = 0
                boundary = raw.withUnsafeBytes { BigEndianKey.decode(UnsafeRawBufferPointer(rebasing: $0[0..<8])) } ?? 0
                after = raw.count == 40 ? SHA256Digest(bytes: raw[8...]) : nil
            case 1, 33:
                level = Int(raw[0])
                after = raw.count == 33 ? SHA256Digest(bytes: raw[1...]) : nil
                guard (1..<DigestIndex.levels).contains(level) else {
                    throw LedgerError(.corrupt, "meta/digest_merge names level \(level), which has no level above")
                }
            default:
                throw LedgerError(.corrupt, "meta/digest_merge is malformed (\(raw.count) bytes)")
            }
        }
    }

    /// Tests: a slice fails (as a storage error would) after writing this many digests, so that
    /// its transaction is aborted halfway through a merge.
    @TaskLocal static var sliceFaultAfter: Int?

    /// The number of digests sorted level `level` (1…`levels`) holds when full: `level0Capacity × fanout^level`.
    func capacity(ofLevel level: Int) -> Int {
        (0..<level).reduce(level0Capacity) { capacity, _ in capacity * Self.fanout }
    }

    /// Continues the merge in progress, or starts the next one, and writes a bounded slice of it.
    /// Call at the end of every commit, in its transaction, with the tree size it commits and how
    /// many records it appended.
    ///
    /// One merge runs at a time, and each is written in slices: a commit writes at most
    /// `pace × appended` digests (at least `level0Capacity / 32`), where the pace is 16 for the
    /// log's merge and, for a sorted level's, enough to finish it within `level0Capacity ×
    /// fanout` appended records. When a merge finishes with budget left, the next one starts in
    /// the same commit. The lowest full sorted level merges first; the log's merge waits behind
    /// them, and the log meanwhile grows by at most `level0Capacity × fanout` per higher merge —
    /// the price of never rewriting a whole level in one commit. The spare table being written is
    /// never read, and the sources stay live until the last slice, so a lookup sees each digest in
    /// exactly one live place in every committed state.
    func compact(_ txn: WriteTransaction, cache: WriterCache, treeSize: UInt64, appended: Int) throws {
        var selectors = try liveSelectors(txn)
        let stored = try mergeInProgress(txn)
        var job = stored
        var written = 0
        var mergedLog = false
        while true {
            if job == nil {
                // A second merge of the log in one commit would need the log as trimmed by the first.
                job = try nextJob(txn, selectors: selectors, treeSize: treeSize, includingLog: !mergedLog)
            }
            guard var current = job else { break }
            let limit = try budget(current, txn, selectors: selectors, appended: appended)
            guard written < limit else {
                // Not started after all if this commit has no budget left for it.
                if current != stored && current.after == nil { job = nil }
                break
            }
            let slice = try mergeSlice(
                txn, current, selectors: selectors, cache: cache, treeSize: treeSize,
                budget: limit - written)
            written += slice.written
            guard slice.finished else {
                current.after = slice.last ?? current.after
                job = current
                break
            }
            try finish(txn, current, selectors: &selectors, cache: cache)
            if current.level == 0 { mergedLog = true }
            job = nil
        }
        if job != stored {
            if let job {
                try txn.put(meta, key: Self.mergeKey, value: job.encoded)
            } else {
                _ = try txn.delete(meta, key: Self.mergeKey)
            }
        }
        if selectors != (try liveSelectors(txn)) {
            try txn.put(meta, key: Self.stateKey, value: selectors.map { $0 ? 1 : 0 })
        }
    }

    /// The merge in progress, if any.
    func mergeInProgress(_ txn: some TransactionReading) throws -> MergeJob? {
        try txn.value(meta, key: Self.mergeKey).map(MergeJob.init(decoding:))
    }

    /// The merge to start now, if any: the lowest full sorted level, else the log once it holds
    /// `level0Capacity` digests.
    private func nextJob(
        _ txn: WriteTransaction, selectors: [Bool], treeSize: UInt64, includingLog: Bool
    ) throws -> MergeJob? {
        // The top level has nowhere to go (it holds level0Capacity × 10^5 ≈ 3.3 billion digests at the default).
        for level in 1..<Self.levels where try txn.count(liveTable(level, selectors)) >= capacity(ofLevel: level) {
            return MergeJob(level: level)
        }
        guard includingLog, try txn.count(log) >= level0Capacity else { return nil }
        return MergeJob(level: 0, boundary: treeSize)
    }

    /// How many digests this commit may write for `job` in all (see `compact`).
    private func budget(_ job: MergeJob, _ txn: WriteTransaction, selectors: [Bool], appended: Int) throws -> Int {
        var pace = 16
        if job.level > 0 {
            let total = try txn.count(liveTable(job.level, selectors)) + txn.count(liveTable(job.level + 1, selectors))
            let horizon = level0Capacity * Self.fanout
            pace = max(pace, (total + horizon - 1) / horizon)
        }
        return max(max(1, level0Capacity / 32), pace * appended)
    }

    /// Level `level`'s (1…`levels`) live table, and its spare.
    private func liveTable(_ level: Int, _ selectors: [Bool]) -> Table {
        selectors[level - 1] ? sorted[level - 1].1 : sorted[level - 1].0
    }

    private func spareTable(_ level: Int, _ selectors: [Bool]) -> Table {
        selectors[level - 1] ? sorted[level - 1].0 : sorted[level - 1].1
    }

    /// The last slice's bookkeeping, in its transaction: the destination's spare table becomes
    /// live, and the sources (the old destination, and the merged log entries or the lower level)
    /// are emptied, so that each digest stays in exactly one live place.
    private func finish(_ txn: WriteTransaction, _ job: MergeJob, selectors: inout [Bool], cache: WriterCache) throws {
        try txn.removeAll(liveTable(job.level + 1, selectors))
        if job.level == 0 {
            try txn.removeAll(log, below: job.boundary)
            cache.pendingTrim = job.boundary
        } else {
            try txn.removeAll(liveTable(job.level, selectors))
        }
        selectors[job.level].toggle()
    }

    /// The log entries below `boundary`, sorted by digest: the writer's copy, or read again after
    /// a restart or a failed transaction.
    private func frozenEntries(
        _ txn: WriteTransaction, cache: WriterCache, boundary: UInt64
    ) throws -> [(SHA256Digest, UInt64)] {
        if let frozen = cache.frozen, frozen.boundary == boundary { return frozen.entries }
        var entries: [(SHA256Digest, UInt64)] = []
        try forEachInLog(txn) { index, digest in
            if index < boundary { entries.append((digest, index)) }
        }
        entries.sort { $0.0 < $1.0 }
        cache.frozen = (boundary, entries)
        return entries
    }

    /// Writes the next digests (at most `budget`) of `job`'s two sorted sources that follow
    /// `job.after` into the destination's spare table, in key order with `MDB_APPEND`.
    private func mergeSlice(
        _ txn: WriteTransaction, _ job: MergeJob, selectors: [Bool], cache: WriterCache, treeSize: UInt64,
        budget: Int
    ) throws -> (written: Int, last: SHA256Digest?, finished: Bool) {
        let live = liveTable(job.level + 1, selectors)
        let spare = spareTable(job.level + 1, selectors)
        return try txn.withCursor(live) { liveCursor in
            let second = Self.run(liveCursor, after: job.after)
            if job.level > 0 {
                return try txn.withCursor(liveTable(job.level, selectors)) { sourceCursor in
                    try write(txn, Self.run(sourceCursor, after: job.after), second, into: spare, budget: budget)
                }
            }
            // A merge of the log that starts in this commit sorts the log as the cache has it now.
            if cache.frozen?.boundary != job.boundary && job.boundary == treeSize && job.after == nil {
                let entries = cache.committed.map { ($0.key, $0.value) } + cache.pending.map { ($0.key, $0.value) }
                cache.frozen = (treeSize, entries.sorted { $0.0 < $1.0 })
            }
            let frozen = try frozenEntries(txn, cache: cache, boundary: job.boundary)
            // First frozen entry after `after` (binary search).
            var i = 0
            if let after = job.after {
                var high = frozen.count
                while i < high {
                    let mid = (i + high) / 2
                    if frozen[mid].0 <= after { i = mid + 1 } else { high = mid }
                }
            }
            let first = {
                defer { i += 1 }
                return i < frozen.count ? frozen[i] : nil
            }
            return try write(txn, first, second, into: spare, budget: budget)
        }
    }

    /// The entries of a cursor's table after `after` (all of them if nil), one per call.
    private static func run(_ cursor: Cursor, after: SHA256Digest?) -> () throws -> (SHA256Digest, UInt64)? {
        var started = false
        return {
            guard !started else { return try decode(try cursor.next()) }
            started = true
            guard let after else { return try decode(try cursor.first()) }
            let entry = try after.withUnsafeBytes { try decode(try cursor.seek(atLeast: $0)) }
            return entry?.0 == after ? try decode(try cursor.next()) : entry
        }
    }

    /// Writes the union of two sorted runs into `output`, in key order, up to `budget` entries.
    /// Entries are copied out of LMDB before writing: values it hands out are only valid until
    /// the transaction writes again.
    private func write(
        _ txn: WriteTransaction, _ first: () throws -> (SHA256Digest, UInt64)?,
        _ second: () throws -> (SHA256Digest, UInt64)?, into output: Table, budget: Int
    ) throws -> (written: Int, last: SHA256Digest?, finished: Bool) {
        var x = try first()
        var y = try second()
        var written = 0
        var last: SHA256Digest?
        let faultAfter = Self.sliceFaultAfter
        while written < budget {
            let next: (SHA256Digest, UInt64)
            if let left = x, y == nil || left.0 < y!.0 {
                next = left
                x = try first()
            } else if let right = y {
                next = right
                y = try second()
            } else {
                break
            }
            if written == faultAfter {
                throw LedgerError(.storage, "injected fault in a content-index merge slice (tests)")
            }
            try Self.write(txn, next, into: output)
            written += 1
            last = next.0
        }
        return (written, last, x == nil && y == nil)
    }

    /// Checks (for `fsck`) that the spare tables are empty, except the one the merge in progress
    /// writes: that one holds a prefix, in key order, of its sources' union, ending at the digest
    /// `meta/digest_merge` names.
    func checkMergeState(_ txn: some TransactionReading, treeSize: UInt64) throws {
        let selectors = try liveSelectors(txn)
        let job = try mergeInProgress(txn)
        for level in 1...Self.levels {
            let spare = spareTable(level, selectors)
            guard let job, job.level + 1 == level else {
                guard try txn.count(spare) == 0 else {
                    throw LedgerError(.corrupt, "content index: \(spare.name) is a spare table but is not empty")
                }
                continue
            }
            let lastKey = try txn.withCursor(spare) { try $0.last().map { Array($0.key) } }
            guard lastKey == job.after?.bytes else {
                throw LedgerError(
                    .corrupt,
                    "content index: the merge in progress into \(spare.name) ends at "
                        + "\(lastKey.map(Hex.encode) ?? "nothing") but meta/digest_merge says "
                        + "\(job.after.map { "\($0)" } ?? "nothing")")
            }
            var sources = try txn.count(liveTable(level, selectors))
            if job.level > 0 {
                sources += try txn.count(liveTable(job.level, selectors))
            } else {
                guard job.boundary <= treeSize else {
                    throw LedgerError(.corrupt, "content index: the merge boundary \(job.boundary) is past the tree")
                }
                try forEachInLog(txn) { index, _ in if index < job.boundary { sources += 1 } }
            }
            guard try txn.count(spare) <= sources else {
                throw LedgerError(.corrupt, "content index: \(spare.name) holds more digests than its merge's sources")
            }
        }
    }

    private static func decode(_ entry: Cursor.Entry?) throws -> (SHA256Digest, UInt64)? {
        guard let entry else { return nil }
        guard let digest = SHA256Digest(bytes: entry.key), let index = BigEndianKey.decode(entry.value) else {
            throw LedgerError(.corrupt, "content index holds a malformed entry")
        }
        return (digest, index)
    }

    private static func write(_ txn: WriteTransaction, _ entry: (SHA256Digest, UInt64), into table: Table) throws {
        try entry.0.withUnsafeBytes { key in
            try BigEndianKey.withBytes(entry.1) { try txn.put(table, key: key, value: $0, mode: .append) }
        }
    }
}
