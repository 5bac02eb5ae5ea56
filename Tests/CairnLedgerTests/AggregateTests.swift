import CairnCrypto
import CairnJSON
import CairnLedger
import CairnRecords
import CairnTestSupport
import Foundation
import Testing

/// The stats aggregates (Ledger+Aggregates): kept in the append transaction, they must always equal a recomputation
/// from the log, whatever order of appends and corrections produced it.
@Suite struct AggregateTests {
    typealias Field = AggregateCounters.Field

    private func totals(
        _ ledger: Ledger, _ dimension: AggregateDimension, scope: String = ""
    ) throws -> [String: AggregateCounters] {
        var sums: [String: AggregateCounters] = [:]
        for bucket in try ledger.read({ try $0.aggregateBuckets(dimension, scope: scope) }) {
            sums[bucket.value] = (sums[bucket.value] ?? AggregateCounters()) + bucket.counters
        }
        return sums
    }

    @Test func countsFollowAppendsReviewsAndCorrections() throws {
        let f = try ProvenanceFixture()
        let repo = "git@example.com:pay/client.git"
        try f.append(
            checkpoint(
                id: "c1", path: "src/auth/login.ts", ranges: [[1, 10], [5, 14]],
                extra: ["cost": ["input_tokens": 100, "output_tokens": 20, "usd": 0.25]]),
            checkpoint(id: "c2", model: "gpt-5", commit: String(repeating: "b", count: 40), ranges: [[1, 5]]),
            checkpoint(id: "c3", commit: String(repeating: "b", count: 40), ranges: [[7, 7]]))
        var all = try totals(f.ledger, .all)[""]!
        #expect(all[.checkpoints] == 3)
        #expect(all[.lines] == 14 + 5 + 1)  // overlapping ranges count once
        #expect(all[.aiLines] == 20)
        #expect(all[.sensitiveLines] == 14)  // src/auth/ matches "*auth*"
        #expect(all[.sensitiveCheckpoints] == 1)
        #expect(all[.aiCommits] == 2)  // aaaa… and bbbb…, the second counted once
        #expect(all[.costMicroUSD] == 250_000)
        #expect(all[.inputTokens] == 100)
        #expect(try totals(f.ledger, .all, scope: repo)[""]?[.checkpoints] == 3)

        try f.append(
            review("c1", decision: "changes_requested"), review("c1", by: "carol@example.com", decision: "approved"),
            review("c2", decision: "rejected"),
            lifecycle("test", "c1", at: "2026-11-20T11:00:00Z", ["result": "failed"]),
            lifecycle("test", "c1", at: "2026-11-20T12:00:00Z", ["result": "passed"]),
            lifecycle(
                "deploy", "c1", at: "2026-11-21T09:00:00Z",
                ["git_commit": .string(String(repeating: "a", count: 40)), "branch": "main", "environment": "prod"]))
        all = try totals(f.ledger, .all)[""]!
        #expect(all[.reviewed] == 2)
        #expect(all[.approved] == 1)  // c1: the latest review approved
        #expect(all[.rejected] == 1)
        #expect(all[.revised] == 1)
        #expect(all[.tested] == 1 && all[.testsPassed] == 1 && all[.testsFailed] == 0)
        #expect(all[.deployed] == 1)
        #expect(all[.reviewLatencyCount] == 2 && all[.reviewLatencyMs] == 2 * 3_600_000)
        let reviewers = try totals(f.ledger, .reviewer)
        #expect(reviewers["bob@example.com"]?[.checkpoints] == 2)
        #expect(reviewers["bob@example.com"]?[.rejected] == 1)
        #expect(reviewers["bob@example.com"]?[.changesRequested] == 1)
        #expect(reviewers["carol@example.com"]?[.approved] == 1)
        #expect(try f.ledger.read { try $0.aggregatesMatchLog() } == true)

        // Correcting the model of c2 moves it between model buckets; correcting the review's decision moves c2's
        // review counters; correcting c3's commit makes it count a commit of its own.
        let c2 = try #require(try f.ledger.read { try $0.query(RecordQuery.with { $0.model = "gpt-5" }) }.first)
        try f.append(
            correction(
                of: c2.digest, patch: ["model": ["id": "claude-opus-4", "version": "1", "provider": "anthropic"]]))
        let reviewOfC2 = try #require(
            try f.ledger.read {
                try $0.query(
                    RecordQuery.with {
                        $0.type = .review; $0.reviewer = "bob@example.com"
                    })
            }
            .first { $0.facts.decision == "rejected" })
        try f.append(correction(of: reviewOfC2.digest, patch: ["decision": "approved"]))
        let c3 = try #require(
            try f.ledger.read { try $0.query(RecordQuery.with { $0.commit = String(repeating: "b", count: 40) }) }.last)
        #expect(c3.facts.id == "c3")
        var outputs = try #require(c3.record["outputs"]?.arrayValue)
        var output = try #require(outputs[0].objectValue)
        output["commit"] = .string(String(repeating: "d", count: 40))
        outputs[0] = .object(output)
        try f.append(correction(of: c3.digest, patch: ["outputs": .array(outputs)]))

        let models = try totals(f.ledger, .model)
        #expect(models["gpt-5\u{1F}20250929"] == nil)  // an emptied bucket is deleted
        #expect(models["claude-opus-4\u{1F}1"]?[.checkpoints] == 1)
        #expect(models["claude-opus-4\u{1F}1"]?[.approved] == 1)
        all = try totals(f.ledger, .all)[""]!
        #expect(all[.rejected] == 0 && all[.approved] == 2)
        #expect(all[.aiCommits] == 3)
        #expect(all[.corrected] == 2)  // c2 and c3 (a corrected review does not count its checkpoint)
        #expect(try f.ledger.read { try $0.aggregatesMatchLog() } == true)
        #expect(try totals(f.ledger, .type)["correction"]?[.entries] == 3)
    }

    /// Random appends, reviews, tests, deploys and corrections (of checkpoints, of reviews, of corrections), in
    /// random batches: after every commit the stored aggregates equal a recomputation from the log.
    @Test func incrementalEqualsRecomputedUnderRandomHistories() throws {
        var random = SeededGenerator(seed: 13)
        let f = try ProvenanceFixture()
        let repos = ["r/one", "r/two", "r/three"]
        let models = ["m-a", "m-b"]
        let people = ["p1", "p2", "p3", "p4"]
        var checkpoints: [String] = []
        var corrections: [SHA256Digest] = []
        var reviews: [SHA256Digest] = []
        var earlier: (size: UInt64, buckets: [AggregateBucket])?
        func allBuckets() throws -> [AggregateBucket] {
            try AggregateDimension.allCases.flatMap { d in try f.ledger.read { try $0.aggregateBuckets(d, scope: nil) }
            }
        }
        for round in 0..<40 {
            if round == 20 { earlier = (try f.ledger.read { $0.treeSize }, try allBuckets()) }
            var batch: [JSONValue] = []
            for n in 0..<Int.random(in: 1...6, using: &random) {
                let id = "cp-\(round)-\(n)"
                let day = 1 + Int.random(in: 0..<60, using: &random)
                let time = Timestamp.format(Timestamp.parse("2026-09-01T00:00:00Z")! + Int64(day) * 86_400_000)
                var extra: JSONObject = [:]
                if Bool.random(using: &random) {
                    extra["cost"] = ["usd": .number(Double(Int.random(in: 1...999, using: &random)) / 100)]
                }
                if Int.random(in: 0..<5, using: &random) == 0 { extra["x_capture"] = ["grade": "attested"] }
                batch.append(
                    checkpoint(
                        id: id, at: time, by: people.randomElement(using: &random)!,
                        model: models.randomElement(using: &random)!, repo: repos.randomElement(using: &random)!,
                        commit: String(repeating: "0123456789abcdef".randomElement(using: &random)!, count: 40),
                        path: ["src/auth/a.ts", "src/b.ts", "infra/c.tf"].randomElement(using: &random)!,
                        ranges: [[1, Int.random(in: 1...50, using: &random)]],
                        workItem: Bool.random(using: &random) ? "W-\(Int.random(in: 1...3, using: &random))" : nil,
                        extra: extra))
                checkpoints.append(id)
            }
            if let subject = checkpoints.randomElement(using: &random), Bool.random(using: &random) {
                batch.append(
                    review(
                        subject, by: people.randomElement(using: &random)!,
                        decision: ["approved", "changes_requested", "rejected"].randomElement(using: &random)!))
            }
            if let subject = checkpoints.randomElement(using: &random), Bool.random(using: &random) {
                batch.append(
                    lifecycle(
                        "test", subject, at: "2026-11-01T00:00:00Z",
                        ["result": .string(["passed", "failed", "partial"].randomElement(using: &random)!)]))
            }
            if let subject = checkpoints.randomElement(using: &random), Int.random(in: 0..<3, using: &random) == 0 {
                batch.append(
                    lifecycle(
                        "rollback", subject, at: "2026-11-02T00:00:00Z", ["environment": "prod", "reason": "slow"]))
            }
            let results = try f.ledger.append(try batch.map(f.prepare)).results
            for (record, result) in zip(batch, results) where record["type"]?.stringValue == "review" {
                reviews.append(result.digest)
            }
            // A correction of a checkpoint (its model, time or outputs), of a review, or of a correction.
            switch Int.random(in: 0..<4, using: &random) {
            case 0:
                let id = checkpoints.randomElement(using: &random)!
                let target = try #require(
                    try f.ledger.read { try $0.query(RecordQuery.with { $0.repo = nil }) }.first { $0.facts.id == id })
                let patch: JSONObject =
                    Bool.random(using: &random)
                    ? [
                        "model": [
                            "id": .string(models.randomElement(using: &random)!), "version": "2", "provider": "x",
                        ]
                    ]
                    : [
                        "timestamp": "2026-10-15T08:00:00Z",
                        "requested_by": .string(people.randomElement(using: &random)!),
                    ]
                corrections.append(try f.append(correction(of: target.digest, patch: patch))[0].digest)
            case 1:
                if let target = reviews.randomElement(using: &random) {
                    corrections.append(
                        try f.append(
                            correction(
                                of: target,
                                patch: ["decision": .string(["approved", "rejected"].randomElement(using: &random)!)]))[
                                0
                            ].digest)
                }
            case 2:
                if let target = corrections.randomElement(using: &random) {
                    try f.append(
                        correction(of: target, reason: "correct the correction", patch: ["reason": "a better reason"]))
                }
            default:
                break
            }
            #expect(try f.ledger.read { try $0.aggregatesMatchLog() } == true, "round \(round)")
        }
        let report = try f.ledger.rebuildAggregates()
        #expect(report.differed == false)

        // Computed from the log as of a size (what a report recomputes): now, and as the ledger stood at round 20.
        func table(_ size: UInt64?) throws -> [AggregateBucket] {
            let table = try f.ledger.read { try $0.aggregateTable(asOf: size) }
            return AggregateDimension.allCases.flatMap { table.buckets($0, scope: nil) }
        }
        #expect(try table(nil) == allBuckets())
        let (size, buckets) = try #require(earlier)
        #expect(try table(size) == buckets)
    }

    @Test func rebuildWithOtherSensitivePaths() throws {
        let f = try ProvenanceFixture()
        try f.append(checkpoint(id: "c1"))
        #expect(try f.ledger.read { try $0.aggregateStatus() }.isComplete)
        let report = try f.ledger.rebuildAggregates(sensitivePaths: ["src/*"])
        #expect(report.differed == nil)  // new globs: no comparison
        #expect(try f.ledger.read { try $0.aggregateStatus() }.sensitivePaths == ["src/*"])
        #expect(try totals(f.ledger, .all)[""]?[.sensitiveCheckpoints] == 1)
        try f.append(checkpoint(id: "c2", commit: String(repeating: "e", count: 40), path: "lib/x.ts"))
        #expect(try totals(f.ledger, .all)[""]?[.sensitiveCheckpoints] == 1)
        #expect(try f.ledger.read { try $0.aggregatesMatchLog() } == true)
    }

    /// Records prepared while the ledger counted other sensitive paths (their contributions computed with those)
    /// are counted with the paths the ledger has when they are appended: the writer computes them again.
    @Test func recordsPreparedWithOlderSensitivePathsCountWithTheCurrentOnes() throws {
        let f = try ProvenanceFixture()
        let staleRules = f.ledger.recordRules()
        #expect(staleRules.sensitivePaths == Ledger.defaultSensitivePaths)
        let stale = try PreparedEntry.prepare(
            json: Array(JSONWriter.compact(checkpoint(id: "c1", path: "lib/x.ts")).utf8), rules: staleRules)
        try f.ledger.rebuildAggregates(sensitivePaths: ["lib/*"])
        #expect(f.ledger.recordRules().sensitivePaths == ["lib/*"])
        _ = try f.ledger.append([stale])
        #expect(try totals(f.ledger, .all)[""]?[.sensitiveCheckpoints] == 1)
        #expect(try f.ledger.read { try $0.aggregatesMatchLog() } == true)
        // And prepared with the current paths: the same counts as the writer computing them.
        try f.append(checkpoint(id: "c2", commit: String(repeating: "e", count: 40), path: "lib/y.ts"))
        #expect(try totals(f.ledger, .all)[""]?[.sensitiveCheckpoints] == 2)
        #expect(try f.ledger.read { try $0.aggregatesMatchLog() } == true)
    }

    @Test func weeksStartOnMondayUTC() {
        let monday = Timestamp.parse("2026-11-30T00:00:00Z")!
        let week = AggregateWeek.week(ofMilliseconds: monday)
        #expect(AggregateWeek.start(of: week) == monday)
        #expect(AggregateWeek.week(ofMilliseconds: monday - 1) == week - 1)
        #expect(AggregateWeek.week(ofMilliseconds: monday + 7 * 86_400_000 - 1) == week)
        #expect(AggregateWeek.week(ofMilliseconds: 0) == 0)
        #expect(AggregateWeek.start(of: 0) == -3 * 86_400_000)  // Monday 1969-12-29
        #expect(AggregateWeek.week(ofMilliseconds: -1) == 0)
        #expect(AggregateWeek.week(ofMilliseconds: -4 * 86_400_000) == -1)
    }

    @Test func drillDownStatesSelectWhatCountersCount() throws {
        let f = try ProvenanceFixture()
        try f.append(
            checkpoint(id: "c1", path: "src/auth/x.ts"),
            checkpoint(id: "c2", commit: String(repeating: "b", count: 40)),
            checkpoint(id: "c3", commit: String(repeating: "c", count: 40)))
        try f.append(review("c1", decision: "approved"), review("c2", decision: "rejected"))
        let all = try totals(f.ledger, .all)[""]!
        for condition in CheckpointCondition.allCases {
            let rows = try f.ledger.read { try $0.query(RecordQuery.with { $0.state = condition }) }
            let expected: Int64 =
                switch condition {
                case .reviewed: all[.reviewed]
                case .unreviewedYet: all[.checkpoints] - all[.reviewed]
                case .approved: all[.approved]
                case .rejected: all[.rejected]
                case .sensitive: all[.sensitiveCheckpoints]
                case .untested: all[.checkpoints] - all[.tested]
                case .undeployed: all[.checkpoints] - all[.deployed]
                default: -1
                }
            if expected >= 0 { #expect(Int64(rows.count) == expected, "\(condition)") }
        }
    }
}

extension RecordQuery {
    static func with(_ body: (inout RecordQuery) -> Void) -> RecordQuery {
        var query = RecordQuery()
        body(&query)
        return query
    }
}
