import CairnCrypto
import CairnStorage
import CairnTestSupport
import Testing

@testable import CairnLedger

/// The content index's merges, made frequent with a level-0 capacity of 64 (level 1 holds 640,
/// level 2 6,400): a merge spans several small commits, survives a restart halfway, and full
/// levels cascade — while every lookup path and duplicate check stays right.
@Suite("Content index: incremental merges")
struct DigestIndexMergeTests {
    static func digest(_ i: Int) -> SHA256Digest { SHA256.hash(Array("{\"s\":\(i)}".utf8)) }

    static func mergeInProgress(_ ledger: Ledger) throws -> Bool {
        try ledger.env.read { try $0.value(ledger.tables.meta, key: Array("digest_merge".utf8)) != nil }
    }

    @Test("Small commits: merges span commits, restarts resume them, lookups and duplicates hold throughout")
    func smallCommits() throws {
        try DigestIndex.$level0CapacityOverride.withValue(64) {
            let dir = try TemporaryDirectory()
            var ledger = try makeLedger(dir)
            var next = 0
            var commitsDuringMerges = 0
            var restarts = 0
            var generator = SystemRandomNumberGenerator()
            while next < 8_000 {
                let size = Int.random(in: 1...12, using: &generator)
                // Every batch also resubmits two earlier records, which must be found as duplicates.
                let old = next > 0 ? [Int.random(in: 0..<next), Int.random(in: 0..<next)] : []
                let batch = entries(next..<(next + size), tag: "s") + old.flatMap { entries($0..<($0 + 1), tag: "s") }
                let result = try ledger.append(batch, rejecting: .wholeBatch)
                #expect(result.results.map(\.duplicate) == Array(repeating: false, count: size) + old.map { _ in true })
                #expect(result.results.suffix(old.count).map(\.index) == old.map(UInt64.init))
                next += size
                if try Self.mergeInProgress(ledger) {
                    commitsDuringMerges += 1
                    // Halfway through some merges, start again from storage (the writer's copy is lost).
                    if commitsDuringMerges % 7 == 0 {
                        ledger = try Ledger.open(at: dir.path)
                        restarts += 1
                    }
                }
                // The reader path (another snapshot, no writer cache) for a few records.
                for i in [0, next / 3, next - 1] {
                    #expect(try ledger.index(of: Self.digest(i)) == UInt64(i), "entry \(i) after \(next) records")
                }
            }
            #expect(commitsDuringMerges > 100, "merges must span commits (\(commitsDuringMerges))")
            #expect(restarts > 5)
            #expect(try ledger.index(of: SHA256.hash(utf8: "absent")) == nil)
            for i in 0..<next {
                #expect(try ledger.index(of: Self.digest(i)) == UInt64(i), "entry \(i)")
            }
            let report = try ledger.fsck()
            #expect(report.leaves == UInt64(next))
        }
    }

    @Test("A batch that fills the log twice over finishes its merge in the same commit")
    func largeBatches() throws {
        try DigestIndex.$level0CapacityOverride.withValue(64) {
            let dir = try TemporaryDirectory()
            let ledger = try makeLedger(dir)
            _ = try ledger.append(entries(0..<100, tag: "s"))
            // 100 ≥ 64 started a merge; a budget of 16 × 100 finished it at once.
            #expect(try !Self.mergeInProgress(ledger))
            _ = try ledger.append(entries(100..<7_100, tag: "s"))
            #expect(try !Self.mergeInProgress(ledger))
            let again = try ledger.append(entries(7_090..<7_110, tag: "s"))
            #expect(
                again.results.map(\.duplicate) == Array(repeating: true, count: 10) + Array(repeating: false, count: 10)
            )
            #expect(try ledger.fsck().leaves == 7_110)
        }
    }
}
