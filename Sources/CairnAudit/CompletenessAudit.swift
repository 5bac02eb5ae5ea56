import CairnCrypto
import CairnJSON
import CairnLedger
import CairnRecords

/// One problem found by the completeness audit.
public struct Finding: Sendable, Hashable {
    public let kind: FindingKind
    /// The entry the finding is about: the checkpoint, the review, test, deploy or rollback, or the
    /// correction.
    public let index: UInt64
    /// That entry's content address.
    public let digest: SHA256Digest
    /// The checkpoint concerned (the checkpoint itself, or the one reviewed, tested, deployed or
    /// rolled back); nil for corrections.
    public let checkpoint: UInt64?
    /// One line saying what is wrong, naming the checkpoint id, people and times involved. Text taken
    /// from records is escaped with `DisplayText.escape`, so the line is safe to print.
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
    /// The number of findings of each kind the policy checks (`AuditPolicy.checkedKinds`: every
    /// kind is present, except `weak_evidence_on_sensitive_path` when that check did not run).
    public let counts: [FindingKind: Int]
    /// The policy applied.
    public let policy: AuditPolicy
    /// How many examined entries with a claimed time have no append time in the ledger (committed
    /// by a cairn that did not record commit times), so could not be checked for `dated_after_append`.
    public let withoutAppendTime: UInt64

    /// The number of findings of `kind`.
    public func count(_ kind: FindingKind) -> Int { counts[kind] ?? 0 }

    /// The kinds with more findings than the policy tolerates.
    public var exceeded: [FindingKind] {
        policy.checkedKinds.filter { kind in policy.tolerance(for: kind).map { count(kind) > $0 } ?? false }
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
    public var withoutAppendTime: UInt64 { summary.withoutAppendTime }
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
///   characters (extended grapheme clusters) than the policy's minimum;
/// - `self_review`: a review whose `reviewer` is, byte for byte, the checkpoint's `requested_by`;
/// - `dated_before_subject`: a review, test, deploy or rollback whose `at` is before the
///   checkpoint's `timestamp`;
/// - `dated_after_append`: a checkpoint, one of its reviews, tests, deploys or rollbacks, or a
///   correction, whose claimed time (`timestamp` or `at`) is more than the policy's clock skew after
///   the time the ledger appended it (entries without a recorded append time are counted in
///   `withoutAppendTime` instead);
/// - `weak_evidence_on_sensitive_path` (only when the policy sets `evidence`): a checkpoint with an
///   output whose `path` matches a sensitive glob and whose evidence grade (`x_capture.grade`,
///   `unknown` when absent) is below the policy's minimum.
///
/// Checkpoints are chosen by their `timestamp` in `[since, until)`; the entries about them are
/// checked whenever they happened. Corrections are chosen by their `at` (a correction without `at`
/// is examined only when no window is given).
public struct CompletenessAudit: Sendable {
    public var policy: AuditPolicy
    public var since: Int64?
    public var until: Int64?
    /// The tree size to audit as of; nil: the current size.
    public var asOf: UInt64?

    /// The entries about a checkpoint whose `at` is checked against the checkpoint's `timestamp`.
    static let lifecycleTypes: Set<RecordType> = [.review, .test, .deploy, .rollback]

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
    /// checkpoints in log order, then those about their reviews, tests, deploys and rollbacks in
    /// log order, then those about corrections in log order. Memory stays bounded, except for the
    /// findings about reviews, tests, deploys and rollbacks, which are held until the checkpoint
    /// scan ends (their content addresses are looked up afterwards).
    ///
    /// Reads through one snapshot of the ledger; do not read the ledger again from `report`
    /// (it runs inside that snapshot's read transaction).
    public func run(on ledger: Ledger, _ report: (Finding) throws -> Void) throws -> CompletenessSummary {
        try ledger.read { snapshot in try run(on: snapshot, report) }
    }

    /// `run(on:_:)` on a snapshot the caller holds.
    public func run(on snapshot: LedgerSnapshot, _ report: (Finding) throws -> Void) throws -> CompletenessSummary {
        let size = asOf ?? snapshot.treeSize
        var counts = Dictionary(uniqueKeysWithValues: policy.checkedKinds.map { ($0, 0) })
        func emit(_ finding: Finding) throws {
            counts[finding.kind, default: 0] += 1
            try report(finding)
        }
        // Findings about the entries that refer to a checkpoint need those entries' content
        // addresses, which the scan does not give; they are looked up after the scan, in the same
        // snapshot.
        var pending: [(kind: FindingKind, index: UInt64, checkpoint: UInt64, explanation: String)] = []
        var checkpoints: UInt64 = 0
        var deploys: UInt64 = 0
        var withoutAppendTime: UInt64 = 0
        /// Why an entry claiming `claimed` and appended at `appended` is `dated_after_append`, or nil.
        func datedAfterAppend(_ what: String, claimed: Int64?, appended: Int64?) -> String? {
            guard let claimed else { return nil }
            guard let appended else {
                withoutAppendTime += 1
                return nil
            }
            // Both come from storage: a damaged commit time must not overflow the arithmetic.
            let skew = Int64(clamping: policy.maxClockSkewSeconds).multipliedReportingOverflow(by: 1000)
            let ahead = claimed.subtractingReportingOverflow(appended)
            guard !skew.overflow, !ahead.overflow, ahead.partialValue > skew.partialValue else { return nil }
            return "\(what) is dated \(time(claimed)), \(duration(ahead.partialValue)) after the ledger appended it "
                + "at \(time(appended)) (the policy allows \(policy.maxClockSkewSeconds) s of clock skew)"
        }
        try snapshot.scan(type: .checkpoint, since: since, until: until, asOf: size) { entry in
            checkpoints += 1
            let name = "checkpoint \(show(entry.facts.id ?? entry.digest.description))"
            let requester = entry.facts.requestedBy
            let reviews = entry.references.filter { $0.type == .review }
            if reviews.isEmpty {
                try emit(
                    Finding(
                        kind: .unreviewedCheckpoint, index: entry.index, digest: entry.digest, checkpoint: entry.index,
                        explanation: "\(name), requested by \(show(requester)) at "
                            + "\(time(entry.facts.timestamp)), has no review"))
            }
            if entry.facts.modelVersion == nil {
                let model = show(entry.facts.modelID)
                let release =
                    entry.facts.modelReleaseDate.map { "only by its release date \(show($0))" } ?? "by no version"
                try emit(
                    Finding(
                        kind: .missingModelVersion, index: entry.index, digest: entry.digest, checkpoint: entry.index,
                        explanation: "\(name) names model \(model) \(release), not an exact model.version"))
            }
            if let why = datedAfterAppend(name, claimed: entry.facts.timestamp, appended: entry.appendedAt) {
                try emit(
                    Finding(
                        kind: .datedAfterAppend, index: entry.index, digest: entry.digest, checkpoint: entry.index,
                        explanation: why))
            }
            if let evidence = policy.evidence, let why = weakEvidence(name, entry.record, evidence) {
                try emit(
                    Finding(
                        kind: .weakEvidenceOnSensitivePath, index: entry.index, digest: entry.digest,
                        checkpoint: entry.index, explanation: why))
            }
            for reference in entry.references where Self.lifecycleTypes.contains(reference.type) {
                let what = "\(reference.type.rawValue) of \(name)"
                if reference.type == .review, let reviewer = reference.facts.reviewer, let requester,
                    reviewer.utf8.elementsEqual(requester.utf8)
                {
                    let decision = (reference.facts.decision ?? "?").replacingUnderscores()
                    pending.append(
                        (
                            .selfReview, reference.index, entry.index,
                            "\(what) (\(decision) at \(time(reference.facts.timestamp))) is by \(show(reviewer)), "
                                + "who requested the change"
                        ))
                }
                if let at = reference.facts.timestamp, let subjectTime = entry.facts.timestamp, at < subjectTime {
                    pending.append(
                        (
                            .datedBeforeSubject, reference.index, entry.index,
                            "\(what) is dated \(time(at)), before the checkpoint itself (\(time(subjectTime)))"
                        ))
                }
                if let why = datedAfterAppend(
                    what, claimed: reference.facts.timestamp, appended: reference.appendedAt)
                {
                    pending.append((.datedAfterAppend, reference.index, entry.index, why))
                }
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
                let what = "deploy of \(name) to \(show(deploy.facts.environment)) at \(time(deploy.facts.timestamp))"
                if let firstApproval {
                    if at < firstApproval.facts.timestamp ?? .max {
                        pending.append(
                            (
                                .approvalAfterDeploy, deploy.index, entry.index,
                                "\(what) precedes its first approval, by \(show(firstApproval.facts.reviewer)) at "
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

        for item in pending.sorted(by: { ($0.index, $0.kind) < ($1.index, $1.kind) }) {
            try emit(
                Finding(
                    kind: item.kind, index: item.index, digest: SHA256.hash(try snapshot.entry(at: item.index)),
                    checkpoint: item.checkpoint, explanation: item.explanation))
        }

        var corrections: UInt64 = 0
        try snapshot.scan(type: .correction, since: since, until: until, asOf: size) { entry in
            corrections += 1
            let reason = entry.record["reason"]?.stringValue ?? ""
            let trimmed = reason.trimmingWhitespace()
            let what = "correction by \(show(entry.facts.author))"
            if trimmed.count < policy.minCorrectionReasonLength {
                try emit(
                    Finding(
                        kind: .shortCorrectionReason, index: entry.index, digest: entry.digest, checkpoint: nil,
                        explanation: "\(what) gives the reason "
                            + "\(show(trimmed.debugDescription)) (\(trimmed.count) characters; the policy requires at "
                            + "least \(policy.minCorrectionReasonLength))"))
            }
            if let why = datedAfterAppend(what, claimed: entry.facts.timestamp, appended: entry.appendedAt) {
                try emit(
                    Finding(
                        kind: .datedAfterAppend, index: entry.index, digest: entry.digest, checkpoint: nil,
                        explanation: why))
            }
            return true
        }

        return CompletenessSummary(
            treeSize: size, checkpoints: checkpoints, deploys: deploys, corrections: corrections, counts: counts,
            policy: policy, withoutAppendTime: withoutAppendTime)
    }
}

/// Why checkpoint `record` (called `name`) is `weak_evidence_on_sensitive_path` under `evidence`, or
/// nil: its grade is below the minimum and at least one of its outputs' `path`s matches a sensitive
/// glob. The explanation names the first such path and its glob, and counts the other sensitive paths.
func weakEvidence(_ name: String, _ record: JSONValue, _ evidence: EvidenceRequirement) -> String? {
    let grade = EvidenceGrade(record: record)
    guard grade < evidence.minimumGrade else { return nil }
    var first: (path: String, glob: String)?
    var others: Set<String> = []
    for output in record["outputs"]?.arrayValue ?? [] {
        guard let path = output["path"]?.stringValue, path != first?.path,
            let glob = evidence.sensitiveGlob(matching: path)
        else { continue }
        if first == nil { first = (path, glob) } else { others.insert(path) }
    }
    guard let first else { return nil }
    var found = grade.rawValue
    if grade == .unknown {
        let claimed = record["x_capture"]?["grade"]
        found +=
            claimed.map { " (x_capture.grade is \(show($0.stringValue ?? $0.description)))" } ?? " (no x_capture.grade)"
    }
    let more = others.isEmpty ? "" : " (and \(others.count) other sensitive path\(others.count == 1 ? "" : "s"))"
    return "\(name) changes \(show(first.path)), which matches sensitive glob \(show(first.glob)), with evidence "
        + "grade \(found), below the policy's minimum \(evidence.minimumGrade.rawValue)\(more)"
}

func time(_ ms: Int64?) -> String {
    ms.map(Timestamp.format) ?? "an unknown time"
}

/// Record text as an explanation shows it: escaped for display (`DisplayText.escape`), `?` when absent.
func show(_ text: String?) -> String {
    text.map(DisplayText.escape) ?? "?"
}

/// A positive duration in milliseconds, in the largest whole unit that fits: `7 d`, `3 h`, `12 min`,
/// `301 s`, `250 ms`.
func duration(_ ms: Int64) -> String {
    let units: [(Int64, String)] = [(86_400_000, "d"), (3_600_000, "h"), (60_000, "min"), (1000, "s")]
    for (size, name) in units where ms >= size * 2 || (size == 1000 && ms >= size) {
        return "\(ms / size) \(name)"
    }
    return "\(ms) ms"
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
