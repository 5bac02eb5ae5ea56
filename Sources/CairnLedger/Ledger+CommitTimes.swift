import CairnCrypto
import CairnStorage

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// The log's own clock. A record's `timestamp` or `at` is what its producer claims; the ledger's
// time of each commit is what the log saw. Recording it, in the commit's transaction, lets an
// audit flag a claim dated far after the entry was actually appended (specs/storage.md,
// "Commit times"; specs/audit-policy.md, `dated_after_append`).

extension LedgerLayout.TableName {
    /// Big-endian uint64 tree size after a commit → big-endian uint64 Unix time of the commit in
    /// milliseconds, or `Ledger.unknownCommitTime` (all ones) for the entries below that size that
    /// were committed without a recorded time (by a cairn that predates the table).
    static let commitTimes = "commit_times"
}

extension Ledger {
    /// The value stored for a size whose entries have no known commit time.
    static let unknownCommitTime = UInt64.max

    /// Opens the commit-time table, creating it unless the ledger is opened read-only; nil for a
    /// read-only ledger created before the table existed (its entries then have no append time).

    /// Records, in the commit's write transaction, when the commit growing the tree from
    /// `startSize` to `newSize` was written: the system clock, or the previous commit's time if
    /// the clock reads earlier (it was stepped back), so that commit times never decrease.
    ///
    /// When the entries below `startSize` were committed without a recorded time (the ledger was
    /// written by an older cairn), `startSize` is first marked unknown, so that those entries are
    /// not attributed to this commit.
    func recordCommitTime(_ txn: WriteTransaction, from startSize: UInt64, to newSize: UInt64) throws {
        guard let table = tables.commitTimes else {
            throw LedgerError(.readOnly, "the ledger at \(directory) is open read-only")
        }
        let last = try txn.withCursor(table) { cursor in try cursor.last().map(Self.decodeCommitTime) }
        var previous: UInt64 = 0
        if let last, last.size >= startSize {
            if last.milliseconds != Self.unknownCommitTime { previous = last.milliseconds }
        } else if startSize > 0 {
            try txn.put(table, key: startSize, value: BigEndianKey.bytes(Self.unknownCommitTime))
        }
        try txn.put(table, key: newSize, value: BigEndianKey.bytes(max(Self.clockMilliseconds(), previous)))
    }

    /// When the entry at `index` was appended (Unix milliseconds): the time of the first commit
    /// whose tree size exceeds `index`. Nil when the ledger holds no time for it: the entry was
    /// committed by a cairn that did not record commit times.
    func appendedAt(_ txn: some TransactionReading, _ index: UInt64) throws -> Int64? {
        guard let table = tables.commitTimes, index < UInt64.max else { return nil }
        let found = try txn.withCursor(table) { cursor in
            try cursor.seek(atLeast: index + 1).map(Self.decodeCommitTime)
        }
        guard let found, found.milliseconds != Self.unknownCommitTime,
            let milliseconds = Int64(exactly: found.milliseconds)
        else { return nil }
        return milliseconds
    }

    /// Checks the commit-time table against a tree of `size` entries: every key is a size from 1 to
    /// `size`, every value 8 bytes, and the known times never decrease in tree-size order (markers
    /// of unknown times, left where an older cairn committed, are skipped). Returns the number of
    /// known commit times checked.
    func fsckCommitTimes(_ txn: some TransactionReading, treeSize size: UInt64) throws -> UInt64 {
        guard let table = tables.commitTimes else { return 0 }
        var checked: UInt64 = 0
        var previous: (size: UInt64, milliseconds: UInt64)?
        try txn.forEach(table, prefix: []) { key, value in
            guard let commitSize = BigEndianKey.decode(key), let milliseconds = BigEndianKey.decode(value) else {
                throw LedgerError(
                    .corrupt,
                    "commit time entry \(Hex.encode(key)) → \(Hex.encode(value)) is not two 8-byte big-endian numbers")
            }
            guard commitSize >= 1, commitSize <= size else {
                throw LedgerError(
                    .corrupt, "a commit time is recorded for tree size \(commitSize), outside 1...\(size)")
            }
            if milliseconds != Self.unknownCommitTime {
                if let previous, milliseconds < previous.milliseconds {
                    throw LedgerError(
                        .corrupt,
                        "commit times decrease: tree size \(previous.size) was committed at "
                            + "\(previous.milliseconds) ms, tree size \(commitSize) at \(milliseconds) ms")
                }
                previous = (commitSize, milliseconds)
                checked += 1
            }
            return true
        }
        return checked
    }

    static func decodeCommitTime(_ entry: Cursor.Entry) throws -> (size: UInt64, milliseconds: UInt64) {
        guard let size = BigEndianKey.decode(entry.key), let milliseconds = BigEndianKey.decode(entry.value) else {
            throw LedgerError(
                .corrupt, "commit time entry \(Hex.encode(entry.key)) is not two 8-byte big-endian numbers")
        }
        return (size, milliseconds)
    }

    /// The system clock (CLOCK_REALTIME) in Unix milliseconds; 0 if it reads before 1970.
    static func clockMilliseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        guard now.tv_sec >= 0 else { return 0 }
        return UInt64(now.tv_sec) &* 1000 &+ UInt64(now.tv_nsec / 1_000_000)
    }
}

extension LedgerSnapshot {
    /// How many of this snapshot's entries were committed at or after `milliseconds` (Unix time), by the ledger's
    /// own commit times; entries committed without a recorded time are not counted.
    public func entriesAppended(since milliseconds: Int64) throws(LedgerError) -> UInt64 {
        try run {
            guard let table = ledger.tables.commitTimes else { return 0 }
            return try txn.withCursor(table) { cursor in
                // Walk back from the newest commit to the last one before `milliseconds`.
                var entry = try cursor.last().map(Ledger.decodeCommitTime)
                var sizeBefore: UInt64 = 0
                while let (size, time) = entry {
                    if time == Ledger.unknownCommitTime || Int64(clamping: time) < milliseconds {
                        sizeBefore = size
                        break
                    }
                    entry = try cursor.previous().map(Ledger.decodeCommitTime)
                }
                return treeSize > sizeBefore ? treeSize - sizeBefore : 0
            }
        }
    }
}
