import CairnAudit
import CairnCrypto
import CairnJSON
import CairnRecords
import Foundation
import Testing

@testable import CairnLedger

/// The integrity checks of `audit completeness`: self-review, records dated before their checkpoint,
/// and claims dated after the ledger appended them (specs/audit-policy.md §1).
@Suite("audit completeness: self-review and claimed times")
struct AuditIntegrityTests {
    /// Far ahead of any clock this test runs on, and within the years Cairn accepts.
    static let future = "2999-01-01T00:00:00Z"

    /// One ledger with each integrity problem once, and near misses that must not be flagged.
    static func makeLedger() throws -> TestLedger {
        let t = try TestLedger()
        let day = "2026-11-20T"
        try t.append(
            Records.checkpoint("cp-a", at: day + "09:00:00Z"),  // 0: requested by alice@example.com
            Records.checkpoint("cp-b", at: day + "09:00:00Z", requestedBy: "zo\u{EB}@example.com"),  // 1: NFC
            Records.checkpoint("cp-c", at: day + "09:00:00Z"),  // 2
            Records.checkpoint("cp-d", at: future),  // 3: dated in the future
            Records.review("cp-a", "alice@example.com", "approved", at: day + "10:00:00Z"),  // 4: self-review
            Records.review("cp-a", "Alice@example.com", "approved", at: day + "10:00:00Z"),  // 5: another spelling
            Records.review("cp-b", "zoe\u{308}@example.com", "approved", at: day + "10:00:00Z"),  // 6: NFD, other bytes
            Records.review("cp-c", "bob@example.com", "approved", at: day + "08:00:00Z"),  // 7: before cp-c
            Records.test("cp-c", "passed", at: day + "08:30:00Z"),  // 8: before cp-c
            Records.deploy("cp-c", at: day + "11:00:00Z"),  // 9: fine
            Records.rollback("cp-c", at: day + "08:50:00Z"),  // 10: before cp-c
            Records.review("cp-d", "bob@example.com", "approved", at: "2999-01-01T01:00:00Z"),  // 11: future
            Records.test("cp-a", "passed")  // 12: no `at`: nothing to check
        )
        try t.append(
            Records.correction(
                of: try t.digest(0), reason: "the work item was missing from the record", patch: ["work_item": "PAY-1"],
                at: "2999-01-02T00:00:00Z")  // 13: future
        )
        return t
    }

    @Test("Each problem is a finding of its own kind, on the entry that makes the claim")
    func eachKind() throws {
        let t = try Self.makeLedger()
        let result = try CompletenessAudit().run(on: t.ledger)
        let found = result.findings.map { "\($0.index) \($0.kind.rawValue) \($0.checkpoint.map(String.init) ?? "-")" }
        #expect(
            found == [
                "3 dated_after_append 3",
                "4 self_review 0",
                "7 dated_before_subject 2",
                "8 dated_before_subject 2",
                "10 dated_before_subject 2",
                "11 dated_after_append 3",
                "13 dated_after_append -",
            ])
        #expect(result.withoutAppendTime == 0)
        #expect(!result.passed)
        #expect(result.exceeded == [.selfReview, .datedBeforeSubject, .datedAfterAppend])
        for finding in result.findings {
            #expect(finding.digest == SHA256.hash(try t.ledger.entry(at: finding.index)))
        }
        let explanations = Dictionary(grouping: result.findings, by: \.index).mapValues { $0[0].explanation }
        #expect(
            explanations[4]
                == "review of checkpoint cp-a (approved at 2026-11-20T10:00:00Z) is by alice@example.com, "
                + "who requested the change")
        #expect(
            explanations[7]
                == "review of checkpoint cp-c is dated 2026-11-20T08:00:00Z, before the checkpoint itself "
                + "(2026-11-20T09:00:00Z)")
        #expect(
            explanations[10]?.hasPrefix("rollback of checkpoint cp-c is dated 2026-11-20T08:50:00Z, before") == true)
        let appended = try #require(try t.ledger.view(3).appendedAt)
        #expect(
            explanations[3]?.hasPrefix(
                "checkpoint cp-d is dated 2999-01-01T00:00:00Z, ")
                == true)
        #expect(
            explanations[3]?.hasSuffix(
                "after the ledger appended it at \(Timestamp.format(appended)) (the policy allows 300 s of clock skew)")
                == true)
        #expect(explanations[13]?.hasPrefix("correction by erin@example.com is dated 2999-01-02T00:00:00Z, ") == true)

        // Streamed in the documented order: checkpoints, the entries about them, then corrections.
        var streamed: [UInt64] = []
        _ = try CompletenessAudit().run(on: t.ledger) { streamed.append($0.index) }
        #expect(streamed == [3, 4, 7, 8, 10, 11, 13])
    }

    @Test("The clock skew comes from the policy, and a large one tolerates the future")
    func skew() throws {
        let t = try Self.makeLedger()
        let lenient = try AuditPolicy(
            json: Array(#"{"format":"cairn-audit-policy/v1","max_clock_skew_seconds":100000000000}"#.utf8),
            source: "lenient.json")
        #expect(lenient.maxClockSkewSeconds == 100_000_000_000)
        #expect(try CompletenessAudit(policy: lenient).run(on: t.ledger).count(.datedAfterAppend) == 0)
        // Larger than any duration in milliseconds: no finding, no overflow.
        var huge = AuditPolicy.strict
        huge.maxClockSkewSeconds = .max
        #expect(try CompletenessAudit(policy: huge).run(on: t.ledger).count(.datedAfterAppend) == 0)
        #expect(AuditPolicy.strict.maxClockSkewSeconds == 300)
        // Any count JSON can hold exactly is accepted (once refused above 10^15), up to 2^53 - 1.
        for count in [1_000_000_000_000_001, 9_007_199_254_740_991] {
            let policy = try AuditPolicy(
                json: Array(
                    #"{"format":"cairn-audit-policy/v1","max_clock_skew_seconds":\#(count),"max_findings":{"self_review":\#(count)}}"#
                        .utf8),
                source: "big.json")
            #expect(policy.maxClockSkewSeconds == count)
            #expect(try CompletenessAudit(policy: policy).run(on: t.ledger).count(.datedAfterAppend) == 0)
        }
        do {
            _ = try AuditPolicy(
                json: Array(#"{"format":"cairn-audit-policy/v1","max_clock_skew_seconds":-1}"#.utf8), source: "p")
            Issue.record("accepted a negative skew")
        } catch {
            #expect(error.message.contains("\"max_clock_skew_seconds\" must be a non-negative integer"))
        }
    }

    @Test("A well-dated set with independent reviewers passes every check")
    func cleanSetPasses() throws {
        let t = try TestLedger()
        try t.append(
            Records.checkpoint("cp-1", at: "2026-11-20T09:00:00Z"),
            Records.review("cp-1", "bob@example.com", "approved", at: "2026-11-20T10:00:00Z"),
            Records.test("cp-1", "passed", at: "2026-11-20T10:30:00Z"),
            Records.deploy("cp-1", at: "2026-11-20T11:00:00Z"),
            Records.rollback("cp-1", at: "2026-11-20T12:00:00Z")
        )
        try t.append(
            Records.correction(
                of: try t.digest(0), reason: "the work item was missing from the record", patch: ["work_item": "PAY-1"])
        )
        let result = try CompletenessAudit().run(on: t.ledger)
        #expect(result.findings.isEmpty, "\(result.findings.map(\.explanation))")
        #expect(result.passed)
        #expect(result.withoutAppendTime == 0)
    }

    @Test("Entries without an append time are counted, not checked")
    func withoutAppendTime() throws {
        let t = try Self.makeLedger()
        // As a ledger written by an older cairn: no commit times.
        try t.ledger.env.write { txn in try txn.removeAll(try #require(t.ledger.tables.commitTimes)) }
        let result = try CompletenessAudit().run(on: t.ledger)
        #expect(result.count(.datedAfterAppend) == 0)
        // 4 checkpoints, 8 of their entries with `at` (test 12 has none), 1 correction.
        #expect(result.withoutAppendTime == 13)
        #expect(result.count(.selfReview) == 1 && result.count(.datedBeforeSubject) == 3)
    }

    @Test("A damaged commit time cannot make the audit overflow")
    func damagedCommitTime() throws {
        let t = try TestLedger()
        try t.append(
            Records.checkpoint("cp-old", at: "0000-01-01T00:00:00Z"),
            Records.review("cp-old", "bob@example.com", "approved", at: "0000-01-01T01:00:00Z"))
        try t.ledger.env.write { txn in
            // Int64.max milliseconds, big-endian.
            try txn.put(
                try #require(t.ledger.tables.commitTimes), key: 2,
                value: [0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF])
        }
        let result = try CompletenessAudit().run(on: t.ledger)
        #expect(result.count(.datedAfterAppend) == 0)
        #expect(result.withoutAppendTime == 0)
    }

    @Test("Explanations show record text escaped, even from entries appended before names were checked")
    func escapedExplanations() throws {
        let t = try TestLedger()
        let forged = "mallory\u{1B}[2K\rbob@example.com\u{202E}"
        // Appended as an older cairn would have accepted them (the schema now refuses the name).
        let records = [
            Records.checkpoint("cp-x\u{9B}", at: "2026-11-20T09:00:00Z", requestedBy: forged),
            Records.review("cp-x\u{9B}", forged, "approved", at: "2026-11-20T08:00:00Z"),
        ]
        #expect(throws: RecordValidationError.self) { try RecordFacts(records[1]) }
        _ = try t.ledger.append(
            try records.map {
                PreparedEntry(canonicalBytes: try JCS.canonicalize($0), facts: try RecordFacts($0, options: .stored))
            })
        let result = try CompletenessAudit().run(on: t.ledger)
        #expect(result.findings.map(\.kind) == [.selfReview, .datedBeforeSubject])
        let shown = #"mallory\u{1B}[2K\u{0D}bob@example.com\u{202E}"#
        #expect(result.findings[0].explanation.contains("is by \(shown), who requested"))
        #expect(result.findings[1].explanation.hasPrefix(#"review of checkpoint cp-x\u{9B} is dated"#))
        for finding in result.findings {
            #expect(!finding.explanation.unicodeScalars.contains(where: DisplayText.needsEscaping), "\(finding)")
        }
    }
}
