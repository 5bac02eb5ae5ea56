import CairnCrypto
import CairnStorage
import CairnTestSupport
import Foundation
import Testing

@testable import CairnLedger

/// Merges of sorted levels into the next, written in slices like the log's (specs/storage.md, "Content index"),
/// with a level-0 capacity of 8: level 1 holds 80 digests, level 2 800, level 3 8,000, so ~10,000 records cascade
/// through three sorted levels in a few hundred commits.
@Suite("Content index: merges of every level in slices")
struct DigestIndexCascadeTests {
    static let capacity = 8

    static func digest(_ i: Int) -> SHA256Digest { DigestIndexMergeTests.digest(i) }

    static func job(_ ledger: Ledger) throws -> DigestIndex.MergeJob? {
        try ledger.env.read { try ledger.tables.digests.mergeInProgress($0) }
    }

    static func rawState(_ ledger: Ledger) throws -> [UInt8]? {
        try ledger.env.read { try $0.value(ledger.tables.meta, key: Array("digest_merge".utf8)) }
    }

    /// Every record below `size` is found at its index in `snapshot`, and those from `size` to `end` are not.
    static func expectIndexed(_ snapshot: LedgerSnapshot, size: Int, end: Int, _ when: String) throws {
        for i in 0..<end {
            let found = try snapshot.index(of: digest(i))
            if found != (i < size ? UInt64(i) : nil) {
                Issue.record("entry \(i): \(found.map(String.init) ?? "missing") \(when)")
                return
            }
        }
    }

    /// Runs `body` on a thread of its own and waits for it.
    static func onAnotherThread<R>(_ body: @escaping () throws -> R) throws -> R {
        nonisolated(unsafe) var result: Result<R, any Error>?
        nonisolated(unsafe) let work = body
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            result = Result { try work() }
            done.signal()
        }
        thread.start()
        done.wait()
        return try result!.get()
    }

    /// One batch: `size` new records and, once there are some, two earlier ones (which must be duplicates).
    static func batch(_ next: Int, _ size: Int, using generator: inout SeededGenerator) -> ([PreparedEntry], [Int]) {
        let old =
            next > 0 ? [Int.random(in: 0..<next, using: &generator), Int.random(in: 0..<next, using: &generator)] : []
        return (entries(next..<(next + size), tag: "s") + old.flatMap { entries($0..<($0 + 1), tag: "s") }, old)
    }

    @Test("Three levels cascade in slices; writer, another Ledger and an older snapshot find every record throughout")
    func cascade() throws {
        try DigestIndex.$level0CapacityOverride.withValue(Self.capacity) {
            let dir = try TemporaryDirectory()
            let writer = try makeLedger(dir)
            let reader = try Ledger.open(at: dir.path)
            var generator = SeededGenerator(seed: 11)
            var next = 0
            var levelsSeen: Set<Int> = []
            var commitsDuringHigherMerges = 0
            var commits = 0
            while next < 10_000 {
                let size = Int.random(in: 1...30, using: &generator)
                let (batch, old) = Self.batch(next, size, using: &generator)
                let before = try Self.job(writer)
                // The reader's snapshot taken before the commit keeps seeing the state before it.
                try reader.read { snapshot in
                    // On another thread: one thread may not hold a transaction of a ledger and begin another.
                    let (result, after) = try Self.onAnotherThread { (try writer.append(batch), try Self.job(writer)) }
                    #expect(
                        result.results.map(\.duplicate) == Array(repeating: false, count: size) + old.map { _ in true })
                    #expect(result.results.suffix(old.count).map(\.index) == old.map(UInt64.init))
                    if (before?.level ?? 0) > 0 || (after?.level ?? 0) > 0 {
                        try Self.expectIndexed(snapshot, size: next, end: next + size, "in the snapshot before commit")
                    }
                }
                next += size
                if let job = try Self.job(writer) {
                    levelsSeen.insert(job.level)
                    if job.level > 0 { commitsDuringHigherMerges += 1 }
                }
                // Another Ledger over the same directory (as another process would) sees the committed state.
                try reader.read { try Self.expectIndexed($0, size: next, end: next + 1, "after \(next) records") }
                commits += 1
                if commits % 20 == 0 {
                    #expect(try reader.fsck().leaves == UInt64(next))
                }
            }
            // A merge of level 3 into level 4 in progress means level 2's merges into level 3 filled it.
            #expect(levelsSeen == [0, 1, 2, 3], "merges in progress seen at levels \(levelsSeen.sorted())")
            #expect(commitsDuringHigherMerges > 50, "higher merges must span commits (\(commitsDuringHigherMerges))")
            #expect(try writer.fsck().leaves == UInt64(next))
            #expect(try writer.index(of: SHA256.hash(utf8: "absent")) == nil)
        }
    }

    @Test(
        "A slice that fails mid-merge aborts its commit; the writer, and a reopened ledger, resume and end consistent")
    func faultMidSlice() throws {
        try DigestIndex.$level0CapacityOverride.withValue(Self.capacity) {
            let dir = try TemporaryDirectory()
            var ledger = try makeLedger(dir)
            var generator = SeededGenerator(seed: 12)
            var next = 0
            var faults: Set<Int> = []
            while next < 9_000 {
                let size = Int.random(in: 1...30, using: &generator)
                let (batch, _) = Self.batch(next, size, using: &generator)
                // In the middle of a merge at each level, fail the next commit's slice after 3 digests.
                if let job = try Self.job(ledger), job.after != nil, !faults.contains(job.level) {
                    let state = try Self.rawState(ledger)
                    #expect(throws: LedgerError.self) {
                        try DigestIndex.$sliceFaultAfter.withValue(3) { _ = try ledger.append(batch) }
                    }
                    faults.insert(job.level)
                    // Nothing of the failed commit is visible: the merge state, the tree, the records.
                    #expect(try Self.rawState(ledger) == state)
                    #expect(try ledger.treeSize() == UInt64(next))
                    #expect(try ledger.index(of: Self.digest(next)) == nil)
                    #expect(try ledger.fsck().leaves == UInt64(next))
                    // Every other fault, start again from storage; otherwise the same writer goes on.
                    if faults.count % 2 == 0 { ledger = try Ledger.open(at: dir.path) }
                }
                _ = try ledger.append(batch)
                next += size
            }
            #expect(faults == [0, 1, 2, 3])
            try ledger.read { try Self.expectIndexed($0, size: next, end: next + 1, "at the end") }
            #expect(try ledger.fsck().leaves == UInt64(next))
        }
    }

    @Test("A ledger left mid-merge with the earlier 8- or 40-byte state opens and continues")
    func earlierStateFormat() throws {
        try DigestIndex.$level0CapacityOverride.withValue(64) {
            let dir = try TemporaryDirectory()
            var ledger = try makeLedger(dir)
            var next = 0
            // A merge of the log in progress, one slice written: the state is the boundary and the last digest.
            while try Self.job(ledger)?.after == nil {
                _ = try ledger.append(entries(next..<(next + 3), tag: "s"))
                next += 3
            }
            let raw = try #require(try Self.rawState(ledger))
            #expect(raw.count == 40)
            let job = try #require(try Self.job(ledger))
            #expect(job.level == 0 && raw == BigEndianKey.bytes(job.boundary) + job.after!.bytes)
            ledger = try Ledger.open(at: dir.path)
            while try Self.job(ledger) != nil {
                _ = try ledger.append(entries(next..<(next + 1), tag: "s"))
                next += 1
            }
            #expect(try ledger.fsck().leaves == UInt64(next))
            // A merge started but not yet written (8 bytes: its boundary alone), as an earlier build could leave it.
            try ledger.env.write { txn in
                try txn.put(
                    ledger.tables.meta, key: Array("digest_merge".utf8), value: BigEndianKey.bytes(UInt64(next)))
            }
            ledger = try Ledger.open(at: dir.path)
            #expect(try Self.job(ledger) == DigestIndex.MergeJob(level: 0, boundary: UInt64(next)))
            #expect(try ledger.fsck().leaves == UInt64(next))
            for _ in 0..<100 {
                _ = try ledger.append(entries(next..<(next + 3), tag: "s"))
                next += 3
            }
            try ledger.read { try Self.expectIndexed($0, size: next, end: next + 1, "at the end") }
            #expect(try ledger.fsck().leaves == UInt64(next))
        }
    }

    @Test("fsck refuses a merge state that does not match the spare table it describes")
    func fsckChecksMergeState() throws {
        try DigestIndex.$level0CapacityOverride.withValue(Self.capacity) {
            let dir = try TemporaryDirectory()
            let ledger = try makeLedger(dir)
            var next = 0
            while try (Self.job(ledger)?.level ?? 0) == 0 || Self.job(ledger)?.after == nil {
                _ = try ledger.append(entries(next..<(next + 1), tag: "s"))
                next += 1
            }
            #expect(try ledger.fsck().leaves == UInt64(next))
            var job = try #require(try Self.job(ledger))
            job.after = SHA256.hash(utf8: "elsewhere")
            try ledger.env.write { txn in
                try txn.put(ledger.tables.meta, key: Array("digest_merge".utf8), value: job.encoded)
            }
            #expect(throws: LedgerError.self) { try ledger.fsck() }
        }
    }
}
