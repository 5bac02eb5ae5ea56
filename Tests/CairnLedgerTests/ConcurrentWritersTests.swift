import CairnCrypto
import CairnStorage
import CairnTestSupport
import Testing

@testable import CairnLedger

/// Two writers on one ledger, as `cairn serve` and a `cairn append` beside it are: each `Ledger` object keeps its own
/// writer state (the tree's right edge, the content index's log as a hash map), which must follow the other's
/// commits. Two `Ledger` objects over the same directory in one process behave as two processes do (one LMDB write
/// lock, two writer states).
@Suite("Two writers on one ledger")
struct ConcurrentWritersTests {
    static func mergeInProgress(_ ledger: Ledger) throws -> Bool {
        try ledger.env.read { try $0.value(ledger.tables.meta, key: Array("digest_merge".utf8)) != nil }
    }

    @Test("A merge of the content index finished by the other writer's duplicate-only commit does not break the next")
    func mergeFinishedByDuplicateOnlyCommit() throws {
        try DigestIndex.$level0CapacityOverride.withValue(64) {
            let dir = try TemporaryDirectory()
            let server = try makeLedger(dir)
            let cli = try Ledger.open(at: dir.path)
            var next = 0
            // The server appends until a merge of the log into level 1 is in progress.
            while try !Self.mergeInProgress(server) {
                _ = try server.append(entries(next..<(next + 3), tag: "s"))
                next += 3
            }
            // The CLI sends a record the log already holds, again and again (a retry): each commit appends nothing,
            // leaves the tree size as it was, and continues the merge until it finishes.
            var retries = 0
            while try Self.mergeInProgress(server) {
                let again = try cli.append(entries(0..<1, tag: "s"))
                #expect(again.results.first?.duplicate == true)
                retries += 1
            }
            #expect(retries > 0)
            // The server goes on alone, past the point where the next merge starts and finishes.
            for _ in 0..<100 {
                _ = try server.append(entries(next..<(next + 3), tag: "s"))
                next += 3
            }
            for i in stride(from: 0, to: next, by: 7) {
                #expect(try server.index(of: DigestIndexMergeTests.digest(i)) == UInt64(i), "entry \(i)")
            }
            #expect(try server.fsck().leaves == UInt64(next))
        }
    }

    @Test("Two writers taking turns at random, with retries of old records, keep the log whole")
    func randomTurns() throws {
        try DigestIndex.$level0CapacityOverride.withValue(64) {
            let dir = try TemporaryDirectory()
            let writers = [try makeLedger(dir), try Ledger.open(at: dir.path)]
            var generator = SeededGenerator(seed: 6)
            var next = 0
            for _ in 0..<1_500 {
                let writer = writers[Int.random(in: 0...1, using: &generator)]
                let fresh = Int.random(in: 0...4, using: &generator)
                let old =
                    next > 0
                    ? (0..<Int.random(in: 0...2, using: &generator)).map { _ in
                        Int.random(in: 0..<next, using: &generator)
                    } : []
                let batch = entries(next..<(next + fresh), tag: "s") + old.flatMap { entries($0..<($0 + 1), tag: "s") }
                guard !batch.isEmpty else { continue }
                let result = try writer.append(batch)
                #expect(result.results.map(\.index) == (next..<(next + fresh)).map(UInt64.init) + old.map(UInt64.init))
                next += fresh
            }
            for i in 0..<next {
                #expect(try writers[i % 2].index(of: DigestIndexMergeTests.digest(i)) == UInt64(i), "entry \(i)")
            }
            #expect(try writers[0].fsck().leaves == UInt64(next))
        }
    }
}
