import CairnAudit
import CairnCrypto
import CairnJSON
import CairnLedger
import CairnRecords
import CairnTestSupport
import Testing

@Suite("audit completeness: the checklist and the policy")
struct CompletenessAuditTests {
    /// One ledger with exactly one way of failing each check (and a few ways of passing).
    static func makeLedger() throws -> TestLedger {
        let t = try TestLedger()
        let day = "2026-11-20T"
        try t.append(
            Records.checkpoint("cp-good", at: day + "09:00:00Z"),  // 0
            Records.checkpoint("cp-unreviewed", at: day + "09:00:00Z"),  // 1
            Records.checkpoint("cp-early", at: day + "09:00:00Z"),  // 2
            Records.checkpoint("cp-never", at: day + "09:00:00Z"),  // 3
            Records.checkpoint("cp-untested", at: day + "09:00:00Z"),  // 4
            Records.checkpoint("cp-release", at: "2026-12-01T09:00:00Z", version: nil, releaseDate: "2025-09-15"),  // 5
            Records.review("cp-good", "bob@example.com", "approved", at: day + "10:00:00Z"),  // 6
            Records.review("cp-early", "bob@example.com", "approved", at: day + "12:00:00Z"),  // 7
            Records.review("cp-never", "dave@example.com", "changes_requested", at: day + "10:00:00Z"),  // 8
            Records.review("cp-untested", "bob@example.com", "approved", at: day + "10:00:00Z"),  // 9
            Records.review("cp-release", "bob@example.com", "approved", at: "2026-12-01T10:00:00Z"),  // 10
            Records.test("cp-good", "passed", at: day + "10:30:00Z"),  // 11
            Records.test("cp-early", "passed", at: day + "10:30:00Z"),  // 12
            Records.test("cp-never", "passed"),  // 13: no `at`, appended before the deploy: counts
            Records.test("cp-untested", "failed", at: day + "10:30:00Z"),  // 14
            Records.deploy("cp-good", at: day + "11:00:00Z"),  // 15: fine
            Records.deploy("cp-early", at: day + "11:00:00Z"),  // 16: before the approval at 12:00
            Records.deploy("cp-never", at: day + "11:00:00Z"),  // 17: never approved
            Records.deploy("cp-untested", at: day + "11:00:00Z"),  // 18: no passed test before it
            Records.deploy("cp-untested", to: "staging", at: day + "09:30:00Z"),  // 19: before approval and tests
            Records.test("cp-untested", "passed", at: day + "12:00:00Z"),  // 20: after the deploys
            Records.test("cp-untested", "passed")  // 21: no `at`, appended after the deploys
        )
        try t.append(
            // 22: a reason too short to mean anything
            Records.correction(of: try t.digest(0), reason: "typo", patch: ["requested_by": "alice.b@example.com"]),
            Records.correction(
                of: try t.digest(1), reason: "requested_by named the bot account instead of the person",
                patch: ["requested_by": "carol@example.com"])  // 23
        )
        return t
    }

    @Test("Each kind of finding is found, with its entry, content address, checkpoint and explanation")
    func eachKind() throws {
        let t = try Self.makeLedger()
        let result = try CompletenessAudit().run(on: t.ledger)
        #expect(result.treeSize == 24)
        #expect(result.checkpoints == 6)
        #expect(result.deploys == 5)
        #expect(result.corrections == 2)
        let found = result.findings.map { "\($0.index) \($0.kind.rawValue) \($0.checkpoint.map(String.init) ?? "-")" }
        #expect(
            found == [
                "1 unreviewed_checkpoint 1",
                "5 missing_model_version 5",
                "16 approval_after_deploy 2",
                "17 approval_after_deploy 3",
                "18 deploy_without_tests 4",
                "19 approval_after_deploy 4",
                "19 deploy_without_tests 4",
                "22 short_correction_reason -",
            ])
        for finding in result.findings {
            #expect(finding.digest == SHA256.hash(try t.ledger.entry(at: finding.index)))
            #expect(!finding.explanation.contains("\n"))
        }
        let explanations = result.findings.map(\.explanation)
        #expect(
            explanations[0]
                == "checkpoint cp-unreviewed, requested by carol@example.com at 2026-11-20T09:00:00Z, has no review")
        #expect(
            explanations[1]
                == "checkpoint cp-release names model claude-sonnet-4-5 only by its release date 2025-09-15, not an exact model.version"
        )
        #expect(
            explanations[2]
                == "deploy of checkpoint cp-early to production at 2026-11-20T11:00:00Z precedes its first approval, by bob@example.com at 2026-11-20T12:00:00Z"
        )
        #expect(
            explanations[3]
                == "deploy of checkpoint cp-never to production at 2026-11-20T11:00:00Z has no approving review (reviews: changes requested)"
        )
        #expect(
            explanations[4]
                == "deploy of checkpoint cp-untested to production at 2026-11-20T11:00:00Z had no passed test before it (its passed tests all came after it)"
        )
        #expect(explanations[7].contains("\"typo\" (4 characters; the policy requires at least 10)"))
        #expect(!result.passed)
        #expect(
            result.exceeded == [
                .unreviewedCheckpoint, .approvalAfterDeploy, .deployWithoutTests, .missingModelVersion,
                .shortCorrectionReason,
            ])

        // Streamed: checkpoint findings, then deploy findings, then corrections, each in log order.
        var streamed: [Finding] = []
        let summary = try CompletenessAudit().run(on: t.ledger) { streamed.append($0) }
        #expect(streamed.map(\.index) == [1, 5, 16, 17, 18, 19, 19, 22])
        #expect(Set(streamed) == Set(result.findings))
        #expect(summary == result.summary)
        #expect(
            summary.counts == [
                .unreviewedCheckpoint: 1, .approvalAfterDeploy: 3, .deployWithoutTests: 2, .missingModelVersion: 1,
                .shortCorrectionReason: 1, .selfReview: 0, .datedBeforeSubject: 0, .datedAfterAppend: 0,
            ])
        #expect(summary.withoutAppendTime == 0)
    }

    @Test("A permissive policy passes the same ledger; limits are compared per kind")
    func policies() throws {
        let t = try Self.makeLedger()
        let permissive = try AuditPolicy(
            json: Array(
                """
                {"format": "cairn-audit-policy/v1",
                 "max_findings": {"unreviewed_checkpoint": null, "approval_after_deploy": null,
                                  "deploy_without_tests": null, "missing_model_version": null,
                                  "short_correction_reason": null}}
                """.utf8), source: "permissive.json")
        let relaxed = try CompletenessAudit(policy: permissive).run(on: t.ledger)
        #expect(relaxed.passed)
        #expect(relaxed.findings.count == 8)  // still listed

        let exact = try AuditPolicy(
            json: Array(
                """
                {"format": "cairn-audit-policy/v1",
                 "max_findings": {"unreviewed_checkpoint": 1, "approval_after_deploy": 2,
                                  "deploy_without_tests": 2, "missing_model_version": 1},
                 "min_correction_reason_length": 4}
                """.utf8), source: "exact.json")
        let result = try CompletenessAudit(policy: exact).run(on: t.ledger)
        #expect(result.count(.approvalAfterDeploy) == 3)
        #expect(result.count(.shortCorrectionReason) == 0)  // "typo" has 4 characters
        #expect(result.exceeded == [.approvalAfterDeploy])
    }

    @Test("deploy_environments limits the deploy checks; the time window and tree size limit what is read")
    func scope() throws {
        let t = try Self.makeLedger()
        let production = try AuditPolicy(
            json: Array(#"{"format":"cairn-audit-policy/v1","deploy_environments":["production"]}"#.utf8),
            source: "p.json")
        let result = try CompletenessAudit(policy: production).run(on: t.ledger)
        #expect(result.deploys == 4)
        #expect(!result.findings.contains { $0.index == 19 })

        // The window [Nov 20, Dec 1) leaves out cp-release; corrections are chosen by their `at`.
        let windowed = try CompletenessAudit(
            since: Timestamp.parse("2026-11-20T00:00:00Z"), until: Timestamp.parse("2026-12-01T00:00:00Z")
        ).run(on: t.ledger)
        #expect(windowed.checkpoints == 5)
        #expect(windowed.count(.missingModelVersion) == 0)
        #expect(windowed.count(.shortCorrectionReason) == 1)

        // As of size 22 the corrections did not exist, and cp-good's requester was still alice.
        let before = try CompletenessAudit(asOf: 22).run(on: t.ledger)
        #expect(before.treeSize == 22)
        #expect(before.corrections == 0)
        #expect(before.count(.shortCorrectionReason) == 0)
        #expect(before.findings.first?.explanation.contains("requested by alice@example.com") == true)
    }

    @Test("Policy files are parsed strictly, with the file and the problem in one line")
    func policyErrors() throws {
        let cases: [(String, String)] = [
            ("[]", "expected a JSON object"),
            (#"{"max_findings":{}}"#, "\"format\" must be \"cairn-audit-policy/v1\""),
            (
                #"{"format":"cairn-audit-policy/v1","max_findings":{"unreviewed":0}}"#,
                "unknown finding kind \"unreviewed\""
            ),
            (#"{"format":"cairn-audit-policy/v1","max_findings":{"deploy_without_tests":-1}}"#, "non-negative integer"),
            (
                #"{"format":"cairn-audit-policy/v1","max_findings":{"deploy_without_tests":1.5}}"#,
                "non-negative integer"
            ),
            (#"{"format":"cairn-audit-policy/v1","tolerance":3}"#, "unknown member \"tolerance\""),
            (#"{"format":"cairn-audit-policy/v1","deploy_environments":[]}"#, "non-empty array"),
            ("{", "not JSON"),
        ]
        for (text, expected) in cases {
            do {
                _ = try AuditPolicy(json: Array(text.utf8), source: "policy.json")
                Issue.record("accepted \(text)")
            } catch {
                #expect(error.code == .invalidPolicy)
                #expect(error.message.hasPrefix("policy policy.json: "), "\(error.message)")
                #expect(error.message.contains(expected), "\(text): \(error.message)")
            }
        }
        let defaults = try AuditPolicy(json: Array(#"{"format":"cairn-audit-policy/v1"}"#.utf8), source: "p")
        #expect(defaults == .strict)
        #expect(FindingKind.allCases.allSatisfy { defaults.tolerance(for: $0) == 0 })
    }
}
