import CairnCrypto
import CairnLedger
import CairnRecords

/// One problem found by the completeness audit.
public struct Finding: Sendable, Hashable {
    public let kind: FindingKind
    /// The entry the finding is about: the checkpoint, the deploy or the correction.
    public let index: UInt64
    /// That entry's content address.
    public let digest: SHA256Digest
    /// The checkpoint concerned (the checkpoint itself, or the one deployed); nil for corrections.
    public let checkpoint: UInt64?
    /// One line saying what is wrong, naming the checkpoint id, people and times involved.
    public let explanation: String

    public init(kind: FindingKind, index: UInt64, digest: SHA256Digest, checkpoint: UInt64?, explanation: String) {
        self.kind = kind
        self.index = index
        self.digest = digest
        self.checkpoint = checkpoint
        self.explanation = explanation
    }
}

/// What `CompletenessAudit.run` examined and how many findings of each kind it reported.
public struct CompletenessSummary: Sendable, Hashable {
    /// The tree size the audit read the ledger at.
    public let treeSize: UInt64
    /// How many checkpoints, deploys (of those checkpoints, in the policy's environments) and
    /// corrections were examined.
    public let checkpoints: UInt64
    public let deploys: UInt64
    public let corrections: UInt64
    /// The number of findings of each kind (every kind is present).
    public let counts: [FindingKind: Int]
    /// The policy applied.
    public let policy: AuditPolicy

    /// The number of findings of `kind`.
    public func count(_ kind: FindingKind) -> Int { counts[kind] ?? 0 }

    /// The kinds with more findings than the policy tolerates.
    public var exceeded: [FindingKind] {
        FindingKind.allCases.filter { kind in policy.tolerance(for: kind).map { count(kind) > $0 } ?? false }
    }

    /// True when no kind exceeds the policy.
    public var passed: Bool { exceeded.isEmpty }
}

/// The summary with every finding, sorted by entry index, then kind.
public struct CompletenessResult: Sendable, Hashable {
    public let summary: CompletenessSummary
    public let findings: [Finding]

    public var treeSize: UInt64 { summary.treeSize }
    public var checkpoints: UInt64 { summary.checkpoints }
    public var deploys: UInt64 { summary.deploys }
    public var corrections: UInt64 { summary.corrections }
    public var policy: AuditPolicy { summary.policy }
    public func count(_ kind: FindingKind) -> Int { summary.count(kind) }
    public var exceeded: [FindingKind] { summary.exceeded }
    public var passed: Bool { summary.passed }
}

/// The audit checklist, run over effective records as of one tree size:
///
/// - `unreviewed_checkpoint`: a checkpoint that no review names (any decision);
/// - `approval_after_deploy`: a deploy whose `at` is before the checkpoint's first approving
///   review (the earliest `approved` review by `at`), or of a checkpoint with no approval at all;
/// - `deploy_without_tests`: a deploy with no `passed` test of the checkpoint before it (a test
///   with `at` counts when `at` ≤ the deploy's `at`; one without, when it was appended earlier);
/// - `missing_model_version`: a checkpoint whose `model` has `release_date` but no `version`;
/// - `short_correction_reason`: a correction whose `reason`, trimmed of white space, has fewer
///   characters (extended grapheme clusters) than the policy's minimum.
///
/// Checkpoints are chosen by their `timestamp` in `[since, until)`; their deploys are checked
/// whenever they happened. Corrections are chosen by their `at` (a correction without `at` is
/// examined only when no window is given).
public struct CompletenessAudit: Sendable {
    public var policy: AuditPolicy
    public var since: Int64?
    public var until: Int64?
    /// The tree size to audit as of; nil: the current size.
    public var asOf: UInt64?

    public init(policy: AuditPolicy = .strict, since: Int64? = nil, until: Int64? = nil, asOf: UInt64? = nil) {
        self.policy = policy
        self.since = since
        self.until = until
        self.asOf = asOf
    }

    /// Runs the checklist and returns every finding, sorted by entry index, then kind. Memory
    /// grows with the number of findings; use `run(on:_:)` to stream them.
    public func run(on ledger: Ledger) throws -> CompletenessResult {
        var findings: [Finding] = []
        let summary = try run(on: ledger) { findings.append($0) }
        findings.sort { ($0.index, $0.kind) < ($1.index, $1.kind) }
        return CompletenessResult(summary: summary, findings: findings)
    }

    /// Runs the checklist, passing each finding to `report` as it is found: the findings about
    /// checkpoints in log order, then those about deploys in log order, then those about
    /// corrections in log order. Memory stays bounded, except for the deploy findings, which are
    /// held until the checkpoint scan ends (their content addresses are looked up afterwards).
    ///
    /// Reads through one snapshot of the ledger; do not read the ledger again from `report`
    /// (it runs inside that snapshot's read transaction).
    public func run(on ledger: Ledger, _ report: (Finding) throws -> Void) throws -> CompletenessSummary {
        try ledger.read { snapshot in try run(on: snapshot, report) }
    }

    /// `run(on:_:)` on a snapshot the caller holds.
    public func run(on snapshot: LedgerSnapshot, _ report: (Finding) throws -> Void) throws -> CompletenessSummary {
        let size = asOf ?? snapshot.treeSize
        var counts = Dictionary(uniqueKeysWithValues: FindingKind.allCases.map { ($0, 0) })
        func emit(_ finding: Finding) throws {
            counts[finding.kind, default: 0] += 1
            try report(finding)
        }
        // Deploy findings need the deploy's content address, which the scan does not give; they
        // are looked up after the scan, in the same snapshot.
        var pending: [(kind: FindingKind, deploy: UInt64, checkpoint: UInt64, explanation: String)] = []
        var checkpoints: UInt64 = 0
        var deploys: UInt64 = 0
        try snapshot.scan(type: .checkpoint, since: since, until: until, asOf: size) { entry in
            checkpoints += 1
            let name = "checkpoint \(entry.facts.id ?? entry.digest.description)"
            let reviews = entry.references.filter { $0.type == .review }
            if reviews.isEmpty {
                try emit(
                    Finding(
                        kind: .unreviewedCheckpoint, index: entry.index, digest: entry.digest, checkpoint: entry.index,
                        explanation: "\(name), requested by \(entry.facts.requestedBy ?? "?") at "
                            + "\(time(entry.facts.timestamp)), has no review"))
            }
            if entry.facts.modelVersion == nil {
                let model = entry.facts.modelID ?? "?"
                let release = entry.facts.modelReleaseDate.map { "only by its release date \($0)" } ?? "by no version"
                try emit(
                    Finding(
                        kind: .missingModelVersion, index: entry.index, digest: entry.digest, checkpoint: entry.index,
                        explanation: "\(name) names model \(model) \(release), not an exact model.version"))
            }
            let approvals = reviews.filter { $0.facts.decision == "approved" }
            let firstApproval = approvals.min { a, b in
                (a.facts.timestamp ?? .max, a.index) < (b.facts.timestamp ?? .max, b.index)
            }
            let passedTests = entry.references.filter { $0.type == .test && $0.facts.testResult == "passed" }
            for deploy in entry.references
            where deploy.type == .deploy && policy.checks(environment: deploy.facts.environment) {
                deploys += 1
                let at = deploy.facts.timestamp ?? .max
                let what = "deploy of \(name) to \(deploy.facts.environment ?? "?") at \(time(deploy.facts.timestamp))"
                if let firstApproval {
                    if at < firstApproval.facts.timestamp ?? .max {
                        pending.append(
                            (
                                .approvalAfterDeploy, deploy.index, entry.index,
                                "\(what) precedes its first approval, by \(firstApproval.facts.reviewer ?? "?") at "
                                    + time(firstApproval.facts.timestamp)
                            ))
                    }
                } else {
                    let decisions = reviews.compactMap { $0.facts.decision?.replacingUnderscores() }
                    let reviewed = decisions.isEmpty ? "no review" : "reviews: " + decisions.joined(separator: ", ")
                    pending.append(
                        (
                            .approvalAfterDeploy, deploy.index, entry.index,
                            "\(what) has no approving review (\(reviewed))"
                        ))
                }
                let testedBefore = passedTests.contains { test in
                    test.facts.timestamp.map { $0 <= at } ?? (test.index < deploy.index)
                }
                if !testedBefore {
                    let detail =
                        passedTests.isEmpty
                        ? "the checkpoint has no passed test at all" : "its passed tests all came after it"
                    pending.append(
                        (
                            .deployWithoutTests, deploy.index, entry.index,
                            "\(what) had no passed test before it (\(detail))"
                        ))
                }
            }
            return true
        }

        for item in pending.sorted(by: { ($0.deploy, $0.kind) < ($1.deploy, $1.kind) }) {
            try emit(
                Finding(
                    kind: item.kind, index: item.deploy, digest: SHA256.hash(try snapshot.entry(at: item.deploy)),
                    checkpoint: item.checkpoint, explanation: item.explanation))
        }

        var corrections: UInt64 = 0
        try snapshot.scan(type: .correction, since: since, until: until, asOf: size) { entry in
            corrections += 1
            let reason = entry.record["reason"]?.stringValue ?? ""
            let trimmed = reason.trimmingWhitespace()
            if trimmed.count < policy.minCorrectionReasonLength {
                try emit(
                    Finding(
                        kind: .shortCorrectionReason, index: entry.index, digest: entry.digest, checkpoint: nil,
                        explanation: "correction by \(entry.facts.author ?? "?") gives the reason "
                            + "\(trimmed.debugDescription) (\(trimmed.count) characters; the policy requires at least "
                            + "\(policy.minCorrectionReasonLength))"))
            }
            return true
        }

        return CompletenessSummary(
            treeSize: size, checkpoints: checkpoints, deploys: deploys, corrections: corrections, counts: counts,
            policy: policy)
    }
}

func time(_ ms: Int64?) -> String {
    ms.map(Timestamp.format) ?? "an unknown time"
}

extension String {
    /// The string without leading and trailing Unicode white space.
    func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })!
        return String(scalars[first...last])
    }
}
