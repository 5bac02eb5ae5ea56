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
///   own map of it (`ReaderCache`). It holds fewer than `2 × level0Capacity` entries plus one
///   commit's records.
/// - When the log holds `level0Capacity` digests, a *merge* of the log (as it is then: leaf
///   indexes below a boundary) with level 1 into level 1's spare table starts. It is written
///   strictly in key order with `MDB_APPEND` (sequential, full pages), one slice at the end of
///   each commit, so that no single commit pays for the whole merge: 16 digests per record
///   appended, at least `level0Capacity / 32`. That finishes it before the log has grown by
///   another `level0Capacity`; if it does not, the commit that doubles the log finishes it. Until
///   the last slice, lookups use the log and the live level 1 as before; the last slice flips
///   level 1 to the new table and removes the merged part of the log. A sorted level that
///   outgrows its capacity (`level0Capacity × fanout^i`) is then merged whole into the next
///   (rarely: every 327,680 records for level 1).
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
    /// The merge in progress: 8-byte big-endian boundary, then the last digest written, if any.
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

    /// Starts or continues the merge of the log into level 1 (and merges full levels upwards once
    /// it finishes). Call at the end of every commit, in its transaction, with the tree size it
    /// commits and how many records it appended.
    func compact(_ txn: WriteTransaction, cache: WriterCache, treeSize: UInt64, appended: Int) throws {
        let logCount = try txn.count(log)
        var job = try mergeInProgress(txn)
        if job == nil {
            guard logCount >= level0Capacity else { return }
            job = (boundary: treeSize, after: nil)
            let entries = (cache.committed.map { ($0.key, $0.value) } + cache.pending.map { ($0.key, $0.value) })
            cache.frozen = (treeSize, entries.sorted { $0.0 < $1.0 })
        }
        guard let (boundary, after) = job else { return }
        let frozen = try frozenEntries(txn, cache: cache, boundary: boundary)
        var selectors = try liveSelectors(txn)
        let live = selectors[0] ? sorted[0].1 : sorted[0].0
        let spare = selectors[0] ? sorted[0].0 : sorted[0].1
        let budget = logCount >= 2 * level0Capacity ? Int.max : max(level0Capacity / 32, 16 * appended)
        guard let last = try mergeSlice(txn, frozen, live, into: spare, after: after, budget: budget) else {
            // Finished: level 1 is the new table, the merged log entries go.
            try txn.removeAll(live)
            selectors[0].toggle()
            try txn.removeAll(log, below: boundary)
            _ = try txn.delete(meta, key: Self.mergeKey)
            cache.pendingTrim = boundary
            if try txn.count(spare) >= level0Capacity * Self.fanout {
                try cascade(txn, from: 1, selectors: &selectors)
            }
            try txn.put(meta, key: Self.stateKey, value: selectors.map { $0 ? 1 : 0 })
            return
        }
        try txn.put(meta, key: Self.mergeKey, value: BigEndianKey.bytes(boundary) + last.bytes)
    }

    /// The merge in progress, if any: its boundary and the last digest it wrote.
    private func mergeInProgress(_ txn: some TransactionReading) throws -> (boundary: UInt64, after: SHA256Digest?)? {
        guard let raw = try txn.value(meta, key: Self.mergeKey) else { return nil }
        guard raw.count == 8 || raw.count == 40,
            let boundary = raw.withUnsafeBytes({ BigEndianKey.decode(UnsafeRawBufferPointer(rebasing: $0[0..<8])) })
        else {
            throw LedgerError(.corrupt, "meta/digest_merge is malformed (\(raw.count) bytes)")
        }
        return (boundary, raw.count == 40 ? SHA256Digest(bytes: raw[8...]) : nil)
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

    /// Writes the next `budget` digests of the union of `frozen` and `live` that follow `after`
    /// into `spare`; returns the last one written, or nil once the union is exhausted.
    private func mergeSlice(
        _ txn: WriteTransaction, _ frozen: [(SHA256Digest, UInt64)], _ live: Table, into spare: Table,
        after: SHA256Digest?, budget: Int
    ) throws -> SHA256Digest? {
        // First frozen entry after `after` (binary search).
        var i = 0
        if let after {
            var high = frozen.count
            while i < high {
                let mid = (i + high) / 2
                if frozen[mid].0 <= after { i = mid + 1 } else { high = mid }
            }
        }
        return try txn.withCursor(live) { cursor in
            var y: (SHA256Digest, UInt64)?
            if let after {
                y = try after.withUnsafeBytes { try Self.decode(try cursor.seek(atLeast: $0)) }
                if y?.0 == after { y = try Self.decode(try cursor.next()) }
            } else {
                y = try Self.decode(try cursor.first())
            }
            var last: SHA256Digest?
            for _ in 0..<budget {
                let next: (SHA256Digest, UInt64)
                if i < frozen.count, y == nil || frozen[i].0 < y!.0 {
                    next = frozen[i]
                    i += 1
                } else if let right = y {
                    next = right
                    y = try Self.decode(try cursor.next())
                } else {
                    return nil
                }
                try Self.write(txn, next, into: spare)
                last = next.0
            }
            return i < frozen.count || y != nil ? last : nil
        }
    }

    /// Merges full sorted levels upwards from `level` (an index into `sorted`): each merge
    /// empties a level into the next one's spare table.
    private func cascade(_ txn: WriteTransaction, from level: Int, selectors: inout [Bool]) throws {
        precondition(level >= 1, "level 0 (the log) is merged in slices by compact")
        var capacity = level0Capacity * Self.fanout
        for _ in 0..<(level - 1) { capacity *= Self.fanout }
        for level in level..<Self.levels {
            let incoming = selectors[level - 1] ? sorted[level - 1].1 : sorted[level - 1].0
            let live = selectors[level] ? sorted[level].1 : sorted[level].0
            let spare = selectors[level] ? sorted[level].0 : sorted[level].1
            try merge(txn, incoming, live, into: spare)
            try txn.removeAll(incoming)
            try txn.removeAll(live)
            selectors[level].toggle()
            capacity *= Self.fanout
            guard try txn.count(spare) >= capacity else { break }
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

    /// Writes the union of two sorted tables into an empty table, in key order. Entries are
    /// copied out of LMDB before writing: values it hands out are only valid until the
    /// transaction writes again.
    private func merge(_ txn: WriteTransaction, _ first: Table, _ second: Table, into output: Table) throws {
        try txn.withCursor(first) { a in
            try txn.withCursor(second) { b in
                var x = try Self.decode(try a.first())
                var y = try Self.decode(try b.first())
                while x != nil || y != nil {
                    if let left = x, y == nil || left.0 < y!.0 {
                        try Self.write(txn, left, into: output)
                        x = try Self.decode(try a.next())
                    } else if let right = y {
                        try Self.write(txn, right, into: output)
                        y = try Self.decode(try b.next())
                    }
                }
            }
        }
    }
}
