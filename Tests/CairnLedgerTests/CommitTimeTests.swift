import CairnCrypto
import CairnJSON
import CairnRecords
import CairnStorage
import Foundation
import Testing

@testable import CairnLedger

/// The `commit_times` table (specs/storage.md, "Commit times"): the log's own time of each commit,
/// written in the commit's transaction, shown as `appended_at`, checked by fsck.
@Suite("Ledger commit times")
struct CommitTimeTests {
    /// Unix milliseconds now, to bracket the times the ledger records (never compared exactly).
    static func now() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    /// The stored commit times, as (tree size, milliseconds).
    static func stored(_ ledger: Ledger) throws -> [(UInt64, UInt64)] {
        try ledger.env.read { txn in
            var rows: [(UInt64, UInt64)] = []
            try txn.forEach(try #require(ledger.tables.commitTimes), prefix: []) { key, value in
                rows.append((BigEndianKey.decode(key) ?? 0, BigEndianKey.decode(value) ?? 0))
                return true
            }
            return rows
        }
    }

    static func put(_ ledger: Ledger, size: UInt64, milliseconds: UInt64) throws {
        try ledger.env.write { txn in
            try txn.put(try #require(ledger.tables.commitTimes), key: size, value: BigEndianKey.bytes(milliseconds))
        }
    }

    @Test("Every commit records its time under its new tree size; views give each entry its commit's time")
    func eachCommitIsTimed() throws {
        let f = try ProvenanceFixture()
        let before = Self.now()
        try f.append(checkpoint(id: "cp-1"), review("cp-1"))  // one commit
        try f.append(review("cp-1", by: "carol@example.com"))
        let after = Self.now()
        let rows = try Self.stored(f.ledger)
        #expect(rows.map(\.0) == [2, 3])
        #expect(rows.allSatisfy { Int64($0.1) >= before - 1 && Int64($0.1) <= after + 1 })
        #expect(rows[0].1 <= rows[1].1)

        let view = try f.ledger.view(0)
        #expect(view.appendedAt == Int64(rows[0].1))
        #expect(view.history.map(\.appendedAt) == [Int64(rows[0].1), Int64(rows[1].1)])
        let json = view.json(history: true)
        #expect(json["appended_at"] == .string(Timestamp.format(Int64(rows[0].1))))
        #expect(json["history"]?[1]?["appended_at"] == .string(Timestamp.format(Int64(rows[1].1))))
        let matches = try f.ledger.query(RecordQuery())
        #expect(matches.map(\.appendedAt) == [Int64(rows[0].1)])
        #expect(matches[0].json["appended_at"] == .string(Timestamp.format(Int64(rows[0].1))))
        var scanned: [Int64?] = []
        _ = try f.ledger.read { snapshot in
            try snapshot.scan(type: .checkpoint) { entry in
                scanned = [entry.appendedAt] + entry.references.map(\.appendedAt)
                return true
            }
        }
        #expect(scanned == [Int64(rows[0].1), Int64(rows[0].1), Int64(rows[1].1)])
        _ = try f.ledger.fsck()
    }

    @Test("A clock stepped back never makes commit times decrease")
    func clockSteppedBack() throws {
        let f = try ProvenanceFixture()
        try f.append(checkpoint(id: "cp-1"))
        // The last commit claims the year 2200: the next one cannot be earlier.
        let future: UInt64 = 7_258_118_400_000
        try Self.put(f.ledger, size: 1, milliseconds: future)
        try f.append(checkpoint(id: "cp-2"))
        #expect(try Self.stored(f.ledger).map(\.1) == [future, future])
        _ = try f.ledger.fsck()
    }

    @Test("Entries committed before the table existed have no append time, and are not given a later one")
    func olderEntriesHaveNoTime() throws {
        let f = try ProvenanceFixture()
        try f.append(checkpoint(id: "cp-1"), review("cp-1"))
        // As an older cairn left it: the table is there (created at open) but empty.
        try f.ledger.env.write { txn in try txn.removeAll(try #require(f.ledger.tables.commitTimes)) }
        try f.append(review("cp-1", by: "carol@example.com"))
        let rows = try Self.stored(f.ledger)
        #expect(rows.map(\.0) == [2, 3])
        #expect(rows[0].1 == Ledger.unknownCommitTime)
        let view = try f.ledger.view(0)
        #expect(view.appendedAt == nil)
        #expect(view.history.map(\.appendedAt) == [nil, Int64(rows[1].1)])
        #expect(view.json(history: true)["appended_at"] == nil)
        _ = try f.ledger.fsck()

        // Likewise when an older cairn appended after a newer one: those entries are unknown too.
        try f.ledger.env.write { txn in
            try txn.removeAll(try #require(f.ledger.tables.commitTimes))
            try txn.put(try #require(f.ledger.tables.commitTimes), key: 1, value: BigEndianKey.bytes(1_000))
        }
        try f.append(review("cp-1", by: "dave@example.com"))
        #expect(try Self.stored(f.ledger).map(\.0) == [1, 3, 4])
        #expect(try f.ledger.view(0).history.map(\.appendedAt).prefix(2) == [nil, nil])
        #expect(try f.ledger.view(0).appendedAt == 1_000)
        _ = try f.ledger.fsck()
    }

    @Test("fsck refuses commit times that decrease, or that name a size beyond the tree")
    func fsckChecksCommitTimes() throws {
        let f = try ProvenanceFixture()
        try f.append(checkpoint(id: "cp-1"))
        try f.append(checkpoint(id: "cp-2"))
        let rows = try Self.stored(f.ledger)
        try Self.put(f.ledger, size: 1, milliseconds: rows[1].1 + 60_000)
        let error = #expect(throws: LedgerError.self) { try f.ledger.fsck() }
        #expect(error?.code == .corrupt)
        #expect(error?.message.contains("commit times decrease: tree size 1") == true)
        try Self.put(f.ledger, size: 1, milliseconds: rows[0].1)
        _ = try f.ledger.fsck()
        try Self.put(f.ledger, size: 9, milliseconds: rows[1].1)
        #expect(throws: LedgerError.self) { try f.ledger.fsck() }
    }

    @Test("A read-only open of a ledger shows the recorded times")
    func readOnly() throws {
        let f = try ProvenanceFixture()
        try f.append(checkpoint(id: "cp-1"))
        var options = Ledger.OpenOptions()
        options.readOnly = true
        let copy = try Ledger.open(at: f.dir.path, options: options)
        #expect(try copy.view(0).appendedAt == f.ledger.view(0).appendedAt)
        #expect(try copy.view(0).appendedAt != nil)
    }
}
