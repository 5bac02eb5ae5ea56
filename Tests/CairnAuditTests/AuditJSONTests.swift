import CairnCrypto
import CairnJSON
import CairnLedger
import CairnNote
import CairnRecords
import CairnTestSupport
import Foundation
import Testing

@testable import CairnAudit

@Suite("audit and report verification results as JSON")
struct AuditJSONTests {
    @Test("audit missing: the document, with each kind of problem and its own fields")
    func missing() throws {
        let commit = GitCommit(
            id: String(repeating: "c", count: 40), parents: [], author: "Alice", authorDate: "2026-11-20T09:00:00Z",
            subject: "Add retry", checkpointTrailers: ["cp-x", "sha256:ab"])
        let problems: [MissingProblem] = [
            .noCheckpoint, .unknownRecord(trailer: "cp-x"), .notACheckpoint(trailer: "cp-r", index: 4, type: "review"),
            .notCovering(trailer: "cp-a", index: 2, coveredBy: [7, 9]),
        ]
        let result = MissingCheckpointResult(
            treeSize: 12, commitsExamined: 5, commitsWithTrailers: 1,
            listed: [MissingCommit(commit: commit, problems: problems)])

        let all = try #require(MissingCheckpointAudit().json(result).objectValue)
        #expect(
            all.map(\.key) == ["range", "mode", "tree_size", "commits_examined", "commits_with_trailers", "missing"])
        #expect(all["range"] == "HEAD" && all["mode"] == "all")
        #expect(all["tree_size"]?.intValue == 12 && all["commits_examined"]?.intValue == 5)
        let aiOnly = try #require(MissingCheckpointAudit(range: "v1..v2", aiOnly: true).json(result).objectValue)
        #expect(aiOnly["range"] == "v1..v2" && aiOnly["mode"] == "ai-only")

        let listed = try #require(all["missing"]?[0]?.objectValue)
        #expect(listed.map(\.key) == ["commit", "date", "author", "subject", "trailers", "problems"])
        #expect(listed["trailers"] == ["cp-x", "sha256:ab"])
        let shown = try #require(listed["problems"]?.arrayValue)
        #expect(shown.map { $0["kind"]?.stringValue } == problems.map(\.kind))
        #expect(shown.map { $0["explanation"]?.stringValue } == problems.map(\.explanation))
        #expect(shown[0].objectValue?.count == 2)
        #expect(shown[1]["trailer"] == "cp-x")
        #expect(shown[2]["index"]?.intValue == 4 && shown[2]["type"] == "review")
        #expect(shown[3]["covered_by"] == [7, 9])
    }

    @Test("audit completeness: findings, and the summary with every kind, its limit and the examined counts")
    func completeness() throws {
        let t = try TestLedger()
        try t.append(
            Records.checkpoint("cp-a", at: "2026-11-20T09:00:00Z"),
            Records.checkpoint("cp-b", at: "2026-11-20T09:00:00Z"),
            Records.review("cp-b", "bob@example.com", "approved", at: "2026-11-20T10:00:00Z"))
        var policy = AuditPolicy.strict
        policy.maxClockSkewSeconds = 42
        var findings: [Finding] = []
        let summary = try CompletenessAudit(policy: policy).run(on: t.ledger) { findings.append($0) }

        let finding = try #require(findings.first(where: { $0.kind == .unreviewedCheckpoint })?.json.objectValue)
        #expect(finding.map(\.key) == ["kind", "index", "digest", "checkpoint", "explanation"])
        #expect(finding["kind"] == "unreviewed_checkpoint" && finding["index"]?.intValue == 0)
        #expect(finding["digest"]?.stringValue == (try t.digest(0)).description)
        // A finding about a correction has no checkpoint.
        let correction = Finding(
            kind: .shortCorrectionReason, index: 3, digest: try t.digest(0), checkpoint: nil, explanation: "short")
        #expect(correction.json.objectValue?.map(\.key) == ["kind", "index", "digest", "explanation"])

        let json = try #require(summary.json.objectValue)
        #expect(json.map(\.key) == ["examined", "max_clock_skew_seconds", "summary", "passed"])
        #expect(json["examined"] == ["checkpoints": 2, "deploys": 0, "corrections": 0, "without_append_time": 0])
        #expect(json["max_clock_skew_seconds"]?.intValue == 42)
        #expect(json["passed"] == .bool(false))
        let kinds = try #require(json["summary"]?.objectValue)
        // Every kind the policy checks: all but weak_evidence_on_sensitive_path, which needs the
        // policy's sensitive_paths and min_evidence_grade (EvidenceGradeAuditTests).
        #expect(kinds.map(\.key) == policy.checkedKinds.map(\.rawValue))
        #expect(kinds.map(\.key) == FindingKind.allCases.dropLast().map(\.rawValue))
        #expect(kinds["unreviewed_checkpoint"] == ["found": 1, "allowed": 0, "exceeded": true])
        #expect(kinds["self_review"] == ["found": 0, "allowed": 0, "exceeded": false])
    }

    @Test("report verify: what a valid manifest states, and why an invalid one failed")
    func reportVerification() throws {
        let t = try TestLedger()
        try t.append(Records.checkpoint("cp-a", at: "2026-11-20T09:00:00Z"))
        var bytes: [UInt8] = []
        let query = try ReportQuery(format: .csv, since: Timestamp.parse("2026-11-01T00:00:00Z"))
        let signed = try ComplianceReport.produce(query, ledger: t.ledger) { bytes += $0 }
        let manifest = Array(signed.note.serialized.utf8)
        let verification = try ReportVerifier.verify(
            report: ReportBytes(bytes), manifest: manifest, key: t.ledger.verifierKey, ledger: t.ledger)
        let json = try #require(verification.json.objectValue)
        #expect(
            json.map(\.key) == [
                "valid", "format", "version", "since", "until", "rows", "bytes", "sha256", "origin", "tree_size",
                "root_hash", "recomputed",
            ])
        #expect(json["valid"] == .bool(true) && json["format"] == "csv" && json["version"]?.intValue == 3)
        #expect(json["since"] == "2026-11-01T00:00:00Z" && json["until"] == .null)
        #expect(json["rows"]?.intValue == 1 && json["bytes"]?.intValue == bytes.count)
        #expect(json["sha256"]?.stringValue == SHA256.hash(bytes).hex)
        #expect(json["origin"] == "example.com/audit-test" && json["tree_size"]?.intValue == 1)
        #expect(json["recomputed"] == .bool(true))

        let failure = ReportVerificationError(.reportMismatch, "the report does not match the manifest")
        #expect(
            failure.json
                == .object([
                    "valid": false, "code": "reportMismatch", "reason": "the report does not match the manifest",
                ]))
    }
}
