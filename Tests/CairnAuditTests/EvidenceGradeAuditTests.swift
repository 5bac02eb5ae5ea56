import CairnCrypto
import CairnJSON
import CairnLedger
import CairnRecords
import CairnTestSupport
import Testing

@testable import CairnAudit

/// Evidence grades, the policy's `sensitive_paths` and `min_evidence_grade`, and the
/// `weak_evidence_on_sensitive_path` check (specs/audit-policy.md §1, "Evidence grades", and §2).
@Suite("audit completeness: evidence grades on sensitive paths")
struct EvidenceGradeAuditTests {
    /// The kinds every policy checks: the summary of a policy without the evidence members lists
    /// exactly these, as it did before the evidence check existed.
    static let classicKinds = [
        "unreviewed_checkpoint", "approval_after_deploy", "deploy_without_tests", "missing_model_version",
        "short_correction_reason", "self_review", "dated_before_subject", "dated_after_append",
    ]

    /// A checkpoint (reviewed separately) with these output paths and, when `grade` is given, an
    /// `x_capture` member claiming it.
    static func checkpoint(
        _ id: String, paths: [String], grade: JSONValue?, at time: String = "2026-11-20T09:00:00Z"
    ) -> JSONValue {
        var object = Records.checkpoint(id, at: time).objectValue!
        let output = object["outputs"]![0]!.objectValue!
        object["outputs"] = .array(
            paths.map { path in
                var copy = output
                copy["path"] = .string(path)
                return .object(copy)
            })
        if let grade { object["x_capture"] = ["grade": grade, "agent": "claude-code", "tier": "light"] }
        return .object(object)
    }

    /// Checkpoints of grades hook, import and unknown touching sensitive and other paths, all
    /// reviewed (so that, without the evidence members, the audit has nothing to say), and a
    /// correction that raises one checkpoint's grade.
    static func makeLedger() throws -> TestLedger {
        let t = try TestLedger()
        let ids = [
            "cp-hook-auth", "cp-import-auth", "cp-unknown-auth", "cp-unknown-plain", "cp-hook-plain", "cp-miscased",
            "cp-december",
        ]
        try t.append(
            checkpoint("cp-hook-auth", paths: ["src/auth/login.ts"], grade: "hook"),  // 0
            // 1: `*` crosses `/`
            checkpoint("cp-import-auth", paths: ["src/auth/oauth/token.ts"], grade: "import"),
            // 2: appended by hand; two sensitive paths (one twice), one not
            checkpoint(
                "cp-unknown-auth", paths: ["src/retry.ts", "src/auth/login.ts", "db/001.sql", "src/auth/login.ts"],
                grade: nil),
            checkpoint("cp-unknown-plain", paths: ["src/retry.ts"], grade: nil),  // 3: nothing sensitive
            checkpoint("cp-hook-plain", paths: ["README.md"], grade: "hook"),  // 4
            // 5: not a grade name (grades are compared exactly); a leading `.` is not special
            checkpoint("cp-miscased", paths: [".github/workflows/release.yml"], grade: "Hook"),
            // 6: outside the window of the scope test
            checkpoint("cp-december", paths: ["src/auth/session.ts"], grade: nil, at: "2026-12-01T09:00:00Z")
        )
        try t.append(ids.map { Records.review($0, "bob@example.com", "approved", at: "2026-12-01T10:00:00Z") })  // 7–13
        try t.append(
            // 14: the capture of cp-miscased, corrected after the fact
            Records.correction(
                of: try t.digest(5), reason: "the importer misspelled the evidence grade",
                patch: ["x_capture": ["grade": "import"]])
        )
        return t
    }

    static func policy(_ members: String) throws(AuditError) -> AuditPolicy {
        try AuditPolicy(json: Array(#"{"format":"cairn-audit-policy/v1"\#(members)}"#.utf8), source: "policy.json")
    }

    static let sensitive = #","sensitive_paths":["src/auth/*","*.sql","*.yml"]"#

    @Test("Grades are declared strongest first and compare by strength; anything else is unknown")
    func grades() throws {
        #expect(
            EvidenceGrade.allCases.map(\.rawValue) == ["hook", "import", "trailer", "attested", "inferred", "unknown"])
        #expect(EvidenceGrade.allCases.sorted() == EvidenceGrade.allCases.reversed())
        #expect(EvidenceGrade.unknown < .inferred && .inferred < .attested && .attested < .trailer)
        #expect(EvidenceGrade.trailer < .import && EvidenceGrade.import < .hook)
        #expect(!(EvidenceGrade.hook < .hook))

        let grade = { (record: JSONValue) in EvidenceGrade(record: record) }
        #expect(grade(["type": "checkpoint"]) == .unknown)
        #expect(grade(["x_capture": "hook"]) == .unknown)
        #expect(grade(["x_capture": ["agent": "codex"]]) == .unknown)
        #expect(grade(["x_capture": ["grade": "Hook"]]) == .unknown)
        #expect(grade(["x_capture": ["grade": 1]]) == .unknown)
        #expect(grade(["x_capture": ["grade": "unknown"]]) == .unknown)
        #expect(grade(["x_capture": ["grade": "trailer"]]) == .trailer)
        #expect(grade(["x_capture": ["grade": "import", "source": "git-ai"]]) == .import)
    }

    @Test("A policy with both members: the globs in order, the grade, the kind checked last")
    func validPolicy() throws {
        let policy = try Self.policy(#","sensitive_paths":["src/auth/*","*.pem"],"min_evidence_grade":"import""#)
        #expect(policy.evidence == EvidenceRequirement(sensitivePaths: ["src/auth/*", "*.pem"], minimumGrade: .import))
        #expect(policy.checkedKinds == FindingKind.allCases)
        #expect(FindingKind.allCases.last == .weakEvidenceOnSensitivePath)
        #expect(policy.tolerance(for: .weakEvidenceOnSensitivePath) == 0)
        for grade in EvidenceGrade.allCases where grade != .unknown {
            let parsed = try Self.policy(#","sensitive_paths":["*"],"min_evidence_grade":"\#(grade.rawValue)""#)
            #expect(parsed.evidence?.minimumGrade == grade)
        }

        // Without them, the check is off and not listed; a tolerance for it is allowed and changes nothing.
        let plain = try Self.policy(#","max_findings":{"weak_evidence_on_sensitive_path":3}"#)
        #expect(plain.evidence == nil)
        #expect(plain.checkedKinds.map(\.rawValue) == Self.classicKinds)
        #expect(AuditPolicy.strict.checkedKinds.map(\.rawValue) == Self.classicKinds)
        #expect(!AuditPolicy.strict.checks(.weakEvidenceOnSensitivePath))
    }

    @Test("Globs follow fnmatch without FNM_PATHNAME: * crosses /, a leading dot is not special, whole paths")
    func globs() {
        let evidence = EvidenceRequirement(
            sensitivePaths: ["src/auth/*", "*.pem", "infra/[ab]?/main.tf", "docs/\\*"], minimumGrade: .hook)
        #expect(evidence.sensitiveGlob(matching: "src/auth/login.ts") == "src/auth/*")
        #expect(evidence.sensitiveGlob(matching: "src/auth/oauth/token.ts") == "src/auth/*")
        #expect(evidence.sensitiveGlob(matching: "deploy/keys/.server.pem") == "*.pem")
        #expect(evidence.sensitiveGlob(matching: "infra/a1/main.tf") == "infra/[ab]?/main.tf")
        #expect(evidence.sensitiveGlob(matching: "docs/*") == "docs/\\*")
        #expect(evidence.sensitiveGlob(matching: "docs/index.md") == nil)
        #expect(evidence.sensitiveGlob(matching: "src/auth") == nil)
        #expect(evidence.sensitiveGlob(matching: "lib/src/auth/x.ts") == nil)
        #expect(evidence.sensitiveGlob(matching: "SRC/AUTH/login.ts") == nil)
        #expect(evidence.sensitiveGlob(matching: "infra/c1/main.tf") == nil)
    }

    @Test("Invalid evidence members are refused, each naming the member")
    func invalidPolicies() throws {
        let cases: [(String, String)] = [
            (#","sensitive_paths":["src/*"]"#, #""sensitive_paths" needs "min_evidence_grade""#),
            (#","min_evidence_grade":"hook""#, #""min_evidence_grade" needs "sensitive_paths""#),
            (#","sensitive_paths":[],"min_evidence_grade":"hook""#, #""sensitive_paths" must be a non-empty array"#),
            (
                #","sensitive_paths":"src/*","min_evidence_grade":"hook""#,
                #""sensitive_paths" must be a non-empty array"#
            ),
            (#","sensitive_paths":null,"min_evidence_grade":"hook""#, #""sensitive_paths" must be a non-empty array"#),
            (
                #","sensitive_paths":["src/*",""],"min_evidence_grade":"hook""#,
                "sensitive_paths[1] must be a non-empty glob string"
            ),
            (
                #","sensitive_paths":[3],"min_evidence_grade":"hook""#,
                "sensitive_paths[0] must be a non-empty glob string"
            ),
            (
                #","sensitive_paths":["src/\u0000*"],"min_evidence_grade":"hook""#,
                "sensitive_paths[0] must be a non-empty glob string without NUL"
            ),
            (
                #","sensitive_paths":["*"],"min_evidence_grade":"unknown""#,
                #""min_evidence_grade" must be one of hook, import, trailer, attested, inferred"#
            ),
            (#","sensitive_paths":["*"],"min_evidence_grade":"Hook""#, #""min_evidence_grade" must be one of"#),
            (#","sensitive_paths":["*"],"min_evidence_grade":"best""#, #""min_evidence_grade" must be one of"#),
            (#","sensitive_paths":["*"],"min_evidence_grade":1"#, #""min_evidence_grade" must be one of"#),
            (#","sensitive_paths":["*"],"min_evidence_grade":null"#, #""min_evidence_grade" must be one of"#),
            (#","sensitive_path":["*"],"min_evidence_grade":"hook""#, #"unknown member "sensitive_path""#),
            (#","max_findings":{"weak_evidence":0}"#, #"unknown finding kind "weak_evidence""#),
        ]
        for (members, expected) in cases {
            do {
                _ = try Self.policy(members)
                Issue.record("accepted \(members)")
            } catch {
                #expect(error.code == .invalidPolicy)
                #expect(error.message.hasPrefix("policy policy.json: "), "\(error.message)")
                #expect(error.message.contains(expected), "\(members): \(error.message)")
                #expect(!error.message.contains("\n"))
            }
        }
    }

    @Test("A checkpoint below the minimum grade on a sensitive path is a finding that names path, glob and grades")
    func findings() throws {
        let t = try Self.makeLedger()
        let policy = try Self.policy(Self.sensitive + #","min_evidence_grade":"import""#)
        // As of size 14, before the correction of cp-miscased.
        let before = try CompletenessAudit(policy: policy, asOf: 14).run(on: t.ledger)
        #expect(
            before.findings.map { "\($0.index) \($0.kind.rawValue) \($0.checkpoint ?? 99)" } == [
                "2 weak_evidence_on_sensitive_path 2",
                "5 weak_evidence_on_sensitive_path 5",
                "6 weak_evidence_on_sensitive_path 6",
            ])
        for finding in before.findings {
            #expect(finding.digest == (try t.digest(finding.index)))
        }
        #expect(
            before.findings[0].explanation
                == "checkpoint cp-unknown-auth changes src/auth/login.ts, which matches sensitive glob src/auth/*, "
                + "with evidence grade unknown (no x_capture.grade), below the policy's minimum import "
                + "(and 1 other sensitive path)")
        #expect(
            before.findings[1].explanation
                == "checkpoint cp-miscased changes .github/workflows/release.yml, which matches sensitive glob *.yml, "
                + "with evidence grade unknown (x_capture.grade is Hook), below the policy's minimum import")
        #expect(before.count(.weakEvidenceOnSensitivePath) == 3)
        #expect(before.exceeded == [.weakEvidenceOnSensitivePath])
        #expect(before.summary.counts.count == FindingKind.allCases.count)

        // The effective record counts: the correction gave cp-miscased the grade import.
        let after = try CompletenessAudit(policy: policy).run(on: t.ledger)
        #expect(after.findings.map(\.index) == [2, 6])

        // A stricter minimum also catches the imported change; a looser one only the unknown ones.
        let hook = try Self.policy(Self.sensitive + #","min_evidence_grade":"hook""#)
        #expect(try CompletenessAudit(policy: hook).run(on: t.ledger).findings.map(\.index) == [1, 2, 5, 6])
        let inferred = try Self.policy(Self.sensitive + #","min_evidence_grade":"inferred""#)
        #expect(try CompletenessAudit(policy: inferred).run(on: t.ledger).findings.map(\.index) == [2, 6])
        let hookOnlyAuth = try Self.policy(#","sensitive_paths":["src/auth/*"],"min_evidence_grade":"hook""#)
        let imported = try CompletenessAudit(policy: hookOnlyAuth).run(on: t.ledger).findings
        #expect(
            imported.first?.explanation
                == "checkpoint cp-import-auth changes src/auth/oauth/token.ts, which matches sensitive glob src/auth/*, "
                + "with evidence grade import, below the policy's minimum hook")
    }

    @Test("Checkpoints are chosen by timestamp; the finding comes after the checkpoint's other findings")
    func scopeAndOrder() throws {
        let t = try Self.makeLedger()
        let policy = try Self.policy(Self.sensitive + #","min_evidence_grade":"import""#)
        let november = try CompletenessAudit(
            policy: policy, since: Timestamp.parse("2026-11-01T00:00:00Z"),
            until: Timestamp.parse("2026-12-01T00:00:00Z")
        ).run(on: t.ledger)
        #expect(november.checkpoints == 6)
        #expect(november.findings.map(\.index) == [2])

        // An unreviewed checkpoint with an old model on a sensitive path, appended by hand.
        let u = try TestLedger()
        var record = Records.checkpoint("cp-all", version: nil, releaseDate: "2025-09-15").objectValue!
        record["outputs"] = Self.checkpoint("x", paths: ["schema.sql"], grade: nil)["outputs"]
        try u.append(.object(record))
        var streamed: [FindingKind] = []
        let summary = try CompletenessAudit(policy: policy).run(on: u.ledger) { streamed.append($0.kind) }
        #expect(streamed == [.unreviewedCheckpoint, .missingModelVersion, .weakEvidenceOnSensitivePath])
        #expect(try CompletenessAudit(policy: policy).run(on: u.ledger).findings.map(\.kind) == streamed)
        #expect(summary.count(.weakEvidenceOnSensitivePath) == 1)
    }

    @Test("max_findings tolerates weak evidence like any other kind")
    func tolerance() throws {
        let t = try Self.makeLedger()
        func run(_ limit: String) throws -> CompletenessResult {
            let members =
                Self.sensitive
                + #","min_evidence_grade":"import","max_findings":{"weak_evidence_on_sensitive_path":\#(limit)}"#
            return try CompletenessAudit(policy: try Self.policy(members)).run(on: t.ledger)
        }
        let two = try run("2")
        #expect(two.count(.weakEvidenceOnSensitivePath) == 2)
        #expect(two.passed)
        let one = try run("1")
        #expect(!one.passed)
        #expect(one.exceeded == [.weakEvidenceOnSensitivePath])
        let json = try #require(one.summary.json.objectValue)
        #expect(json["summary"]?["weak_evidence_on_sensitive_path"] == ["found": 2, "allowed": 1, "exceeded": true])
        let any = try run("null")
        #expect(any.passed)
        #expect(any.findings.count == 2)  // still listed
        #expect(any.summary.json["summary"]?["weak_evidence_on_sensitive_path"]?["allowed"] == .null)
    }

    @Test("The JSON summary repeats the evidence members and lists the kind only when it is checked")
    func json() throws {
        let t = try Self.makeLedger()
        let policy = try Self.policy(Self.sensitive + #","min_evidence_grade":"import""#)
        let checked = try #require(try CompletenessAudit(policy: policy).run(on: t.ledger).summary.json.objectValue)
        #expect(
            checked.map(\.key) == [
                "examined", "max_clock_skew_seconds", "sensitive_paths", "min_evidence_grade", "summary", "passed",
            ])
        #expect(checked["sensitive_paths"] == ["src/auth/*", "*.sql", "*.yml"])
        #expect(checked["min_evidence_grade"] == "import")
        #expect(
            checked["summary"]?.objectValue?.map(\.key) == Self.classicKinds + ["weak_evidence_on_sensitive_path"])
        #expect(checked["summary"]?["weak_evidence_on_sensitive_path"] == ["found": 2, "allowed": 0, "exceeded": true])
    }

    @Test("Without the two members nothing changes: no finding, no count, no summary member")
    func absent() throws {
        let t = try Self.makeLedger()
        let policies = [
            AuditPolicy.strict, try Self.policy(#","max_findings":{"weak_evidence_on_sensitive_path":0}"#),
        ]
        for policy in policies {
            let result = try CompletenessAudit(policy: policy).run(on: t.ledger)
            #expect(result.findings.isEmpty)
            #expect(result.passed)
            #expect(result.checkpoints == 7)
            #expect(result.summary.counts.keys.sorted().map(\.rawValue) == Self.classicKinds)
            let json = try #require(result.summary.json.objectValue)
            #expect(json.map(\.key) == ["examined", "max_clock_skew_seconds", "summary", "passed"])
            #expect(json["summary"]?.objectValue?.map(\.key) == Self.classicKinds)
        }
        // The same ledger's checkpoints without the check have exactly the findings they had.
        let withCheck = try CompletenessAudit(
            policy: try Self.policy(Self.sensitive + #","min_evidence_grade":"hook""#)
        ).run(on: t.ledger)
        #expect(withCheck.findings.allSatisfy { $0.kind == .weakEvidenceOnSensitivePath })
    }
}
