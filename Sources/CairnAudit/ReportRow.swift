import CairnCrypto
import CairnLedger
import CairnRecords

/// Where a checkpoint stands, as the report's Status column says it (specs/report-manifest.md,
/// "Status"). The first rule that applies wins.
public enum ReportStatus: String, Sendable, Hashable, CaseIterable {
    /// The latest deploy or rollback (by `at`, then log order) is a rollback.
    case rolledBack = "rolled back"
    /// Deployed at least once, and not rolled back since.
    case deployed
    /// Not deployed; the latest review (by `at`, then log order) rejected it.
    case rejected
    /// Not deployed; the latest review asked for changes.
    case changesRequested = "changes requested"
    /// Not deployed; the latest review approved it.
    case approved
    /// Not deployed and not reviewed yet.
    case inReview = "in review"
}

/// One row of the compliance report: one checkpoint and what the ledger says happened to it, as of
/// the tree size the report is computed at.
public struct ReportRow: Sendable, Hashable {
    /// The checkpoint's leaf index.
    public let index: UInt64
    /// The checkpoint's content address.
    public let digest: SHA256Digest
    /// The checkpoint's `timestamp`, RFC 3339 UTC.
    public let date: String
    /// The checkpoint's `id`.
    public let checkpoint: String
    /// `requested_by`.
    public let requestedBy: String
    /// `model.id` and `model.version`, or `model.id (released YYYY-MM-DD)` without a version.
    public let model: String
    /// How the checkpoint's claim was captured: the effective record's `x_capture.grade`, `unknown`
    /// when it has none (a column from report version 3).
    public let evidence: EvidenceGrade
    /// Every reviewer, in log order without repeats, separated by `, `; `none`.
    public let reviewer: String
    /// The latest review's decision and time (`approved 2026-11-20T10:02:41Z`); `none`.
    public let approval: String
    /// The latest test's result (`passed`, `failed`, `partial`), with its coverage when given; `none`.
    public let testing: String
    /// Every deploy as `environment at`, in log order, separated by `; `; `none`.
    public let deployed: String
    public let status: ReportStatus

    /// The first report version with the Evidence column (after Model).
    public static let evidenceVersion = 3

    /// The column titles of report `version`, in order: ten from version 3, nine before (without
    /// Evidence).
    public static func columnTitles(version: Int = ReportManifest.currentVersion) -> [String] {
        let evidence = version >= evidenceVersion ? ["Evidence"] : []
        return ["Date", "Checkpoint", "Requested by", "Model"] + evidence
            + ["Reviewer", "Approval", "Testing", "Deployed", "Status"]
    }

    /// The cells of report `version`, in column order (`columnTitles(version:)`).
    public func cells(version: Int = ReportManifest.currentVersion) -> [String] {
        let evidence = version >= Self.evidenceVersion ? [self.evidence.rawValue] : []
        return [date, checkpoint, requestedBy, model] + evidence
            + [reviewer, approval, testing, deployed, status.rawValue]
    }

    /// The row for a scanned checkpoint (its references are the reviews, tests, deploys and
    /// rollbacks that name it, as of the scan's tree size).
    public init(_ entry: ScannedEntry) {
        let facts = entry.facts
        index = entry.index
        digest = entry.digest
        date = facts.timestamp.map(Timestamp.format) ?? ""
        checkpoint = facts.id ?? entry.digest.description
        requestedBy = facts.requestedBy ?? ""
        model = Self.model(facts)
        evidence = EvidenceGrade(record: entry.record)

        let reviews = entry.references.filter { $0.type == .review }
        var reviewers: [String] = []
        for review in reviews {
            if let who = review.facts.reviewer, !reviewers.contains(who) { reviewers.append(who) }
        }
        reviewer = reviewers.isEmpty ? "none" : reviewers.joined(separator: ", ")
        let latestReview = Self.latest(reviews)
        approval =
            latestReview.map { review in
                let decision = (review.facts.decision ?? "").replacingUnderscores()
                return review.facts.timestamp.map { decision + " " + Timestamp.format($0) } ?? decision
            } ?? "none"

        // Tests may omit `at`: the latest test is the last appended.
        testing =
            entry.references.last(where: { $0.type == .test }).map { test in
                let result = test.facts.testResult ?? "?"
                guard let coverage = test.record["coverage"]?.numberValue else { return result }
                return result + ", coverage " + Self.percent(coverage)
            } ?? "none"

        let deploys = entry.references.filter { $0.type == .deploy }
        deployed =
            deploys.isEmpty
            ? "none"
            : deploys.map { deploy in
                let environment = deploy.facts.environment ?? "?"
                return deploy.facts.timestamp.map { environment + " " + Timestamp.format($0) } ?? environment
            }.joined(separator: "; ")

        let releases = entry.references.filter { $0.type == .deploy || $0.type == .rollback }
        if let last = Self.latest(releases) {
            status = last.type == .rollback ? .rolledBack : .deployed
        } else {
            switch latestReview?.facts.decision {
            case "approved": status = .approved
            case "changes_requested": status = .changesRequested
            case "rejected": status = .rejected
            default: status = .inReview
            }
        }
    }

    /// The reference with the greatest (`at`, log index); references without `at` sort first.
    static func latest(_ references: [ScannedEntry.Reference]) -> ScannedEntry.Reference? {
        references.max { a, b in
            (a.facts.timestamp ?? .min, a.index) < (b.facts.timestamp ?? .min, b.index)
        }
    }

    static func model(_ facts: RecordFacts) -> String {
        let id = facts.modelID ?? "?"
        if let version = facts.modelVersion { return id + " " + version }
        if let released = facts.modelReleaseDate { return id + " (released " + released + ")" }
        return id
    }

    /// `0.87` → `87%`, `0.875` → `87.5%` (at most one decimal, no trailing zero).
    static func percent(_ fraction: Double) -> String {
        let tenths = (fraction * 1000).rounded()
        let whole = Int(tenths) / 10
        let decimal = Int(tenths) % 10
        return decimal == 0 ? "\(whole)%" : "\(whole).\(decimal)%"
    }
}

extension String {
    /// `changes_requested` → `changes requested`.
    func replacingUnderscores() -> String {
        String(map { $0 == "_" ? " " : $0 })
    }
}
