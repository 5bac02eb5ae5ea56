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
///   hash map for O(1) duplicate checks; readers (another process, an older snapshot) scan the
///   log, which is bounded by `level0Capacity`.
/// - When the log holds `level0Capacity` digests, they are sorted in memory and merged with
///   level 1 into level 1's spare table, written strictly in key order with `MDB_APPEND`
///   (sequential, full pages); the log is emptied. A level that outgrows its capacity
///   (`level0Capacity × fanout^i`) is merged into the next the same way.
///
/// A lookup checks the log, then each sorted level. Every digest is rewritten a few times, in
/// large sequential writes, instead of one random page per record. Layout: specs/storage.md.
struct DigestIndex: Sendable {
    static let level0Capacity = 32_768
    static let fanout = 10
    /// Sorted levels above the log. Capacity ≈ 32768 × 10^5 ≈ 3.3 billion records.
    static let levels = 5

    private let log: Table
    /// `sorted[i]` holds the two tables of level i + 1: one live, one spare.
    private let sorted: [(Table, Table)]
    private let meta: Table
    private static let stateKey = Array("digest_levels".utf8)

    init(env: LMDBEnvironment, meta: Table) throws {
        log = try env.openTable("digests.log")
        sorted = try (1...Self.levels).map { level in
            (try env.openTable("digests.\(level).a"), try env.openTable("digests.\(level).b"))
        }
        self.meta = meta
    }

    // MARK: - Writer cache

    /// The writer's copy of the log as a hash map. Changes made inside a transaction stay
    /// pending until the transaction commits (`commit()`) and are dropped if it does not.
    final class WriterCache: @unchecked Sendable {
        /// The tree size the cache describes (committed state).
        fileprivate(set) var treeSize: UInt64
        fileprivate var committed: [SHA256Digest: UInt64]
        fileprivate var pending: [SHA256Digest: UInt64] = [:]
        fileprivate var pendingCompaction = false

        fileprivate init(treeSize: UInt64, committed: [SHA256Digest: UInt64]) {
            self.treeSize = treeSize
            self.committed = committed
        }

        fileprivate func lookup(_ digest: SHA256Digest) -> UInt64? {
            pending[digest] ?? committed[digest]
        }

        /// The transaction committed at `treeSize`.
        func commit(treeSize: UInt64) {
            if pendingCompaction {
                committed.removeAll(keepingCapacity: true)
            } else {
                committed.merge(pending) { $1 }
            }
            pending.removeAll(keepingCapacity: true)
            pendingCompaction = false
            self.treeSize = treeSize
        }

        /// The transaction did not commit.
        func rollback() {
            pending.removeAll(keepingCapacity: true)
            pendingCompaction = false
        }
    }

    /// A cache of the log as committed in `txn`'s snapshot.
    func makeWriterCache(_ txn: some TransactionReading, treeSize: UInt64) throws -> WriterCache {
        var map: [SHA256Digest: UInt64] = [:]
        map.reserveCapacity(Self.level0Capacity)
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

    /// Merges a full log into the sorted levels, and full levels upwards. Call at the end of a
    /// commit, in its transaction.
    func compact(_ txn: WriteTransaction, cache: WriterCache) throws {
        guard try txn.count(log) >= Self.level0Capacity else { return }
        var entries: [(SHA256Digest, UInt64)] = []
        entries.reserveCapacity(try txn.count(log))
        try forEachInLog(txn) { index, digest in entries.append((digest, index)) }
        entries.sort { $0.0 < $1.0 }
        var selectors = try liveSelectors(txn)
        var incoming: Source = .memory(entries)
        var capacity = Self.level0Capacity
        for level in 0..<Self.levels {
            let (a, b) = sorted[level]
            let live = selectors[level] ? b : a
            let spare = selectors[level] ? a : b
            try merge(txn, incoming, live, into: spare)
            if case .table(let table) = incoming { try txn.removeAll(table) }
            try txn.removeAll(live)
            selectors[level].toggle()
            capacity *= Self.fanout
            guard try txn.count(spare) >= capacity, level + 1 < Self.levels else { break }
            incoming = .table(spare)
        }
        try txn.removeAll(log)
        try txn.put(meta, key: Self.stateKey, value: selectors.map { $0 ? 1 : 0 })
        cache.pendingCompaction = true
    }

    private enum Source {
        case memory([(SHA256Digest, UInt64)])
        case table(Table)
    }

    /// Writes the union of a sorted source and a sorted table into an empty table, in key order.
    private func merge(_ txn: WriteTransaction, _ first: Source, _ second: Table, into output: Table) throws {
        func decode(_ entry: Cursor.Entry?) throws -> (SHA256Digest, UInt64)? {
            guard let entry else { return nil }
            guard let digest = SHA256Digest(bytes: entry.key), let index = BigEndianKey.decode(entry.value) else {
                throw LedgerError(.corrupt, "content index holds a malformed entry")
            }
            return (digest, index)
        }
        func write(_ entry: (SHA256Digest, UInt64)) throws {
            try entry.0.withUnsafeBytes { key in
                try BigEndianKey.withBytes(entry.1) { try txn.put(output, key: key, value: $0, mode: .append) }
            }
        }
        // Entries are copied out of LMDB before writing: values it hands out are only valid
        // until the transaction writes again.
        try txn.withCursor(second) { b in
            var y = try decode(try b.first())
            func drainUpTo(_ digest: SHA256Digest?) throws {
                while let right = y, digest == nil || right.0 < digest! {
                    try write(right)
                    y = try decode(try b.next())
                }
            }
            switch first {
            case .memory(let entries):
                for entry in entries {
                    try drainUpTo(entry.0)
                    try write(entry)
                }
            case .table(let table):
                try txn.withCursor(table) { a in
                    var x = try decode(try a.first())
                    while let left = x {
                        try drainUpTo(left.0)
                        try write(left)
                        x = try decode(try a.next())
                    }
                }
            }
            try drainUpTo(nil)
        }
    }
}
