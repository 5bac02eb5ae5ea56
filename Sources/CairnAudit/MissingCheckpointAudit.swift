import CairnCrypto
import CairnLedger
import CairnRecords

/// Why `cairn audit missing` lists a commit.
public enum MissingProblem: Sendable, Hashable {
    /// No checkpoint covers the commit: none names it in its outputs, directly or through a
    /// `rewrite` record.
    case noCheckpoint
    /// A `Cairn-Checkpoint:` trailer names no entry of the ledger (no checkpoint has that id, or
    /// no entry has that address).
    case unknownRecord(trailer: String)
    /// A trailer names an entry that is not a checkpoint.
    case notACheckpoint(trailer: String, index: UInt64, type: String)
    /// A trailer names a checkpoint that does not cover the commit; `coveredBy` lists the
    /// checkpoints that do (possibly none).
    case notCovering(trailer: String, index: UInt64, coveredBy: [UInt64])

    /// A stable name: `no_checkpoint`, `unknown_record`, `not_a_checkpoint` or `not_covering`.
    public var kind: String {
        switch self {
        case .noCheckpoint: "no_checkpoint"
        case .unknownRecord: "unknown_record"
        case .notACheckpoint: "not_a_checkpoint"
        case .notCovering: "not_covering"
        }
    }

    /// One line for people (the trailer escaped with `DisplayText.escape`).
    public var explanation: String {
        switch self {
        case .noCheckpoint:
            return "no checkpoint covers this commit"
        case .unknownRecord(let trailer):
            return "Cairn-Checkpoint: \(DisplayText.escape(trailer)) names no record in the ledger"
        case .notACheckpoint(let trailer, let index, let type):
            return "Cairn-Checkpoint: \(DisplayText.escape(trailer)) names entry \(index), a \(type) record, "
                + "not a checkpoint"
        case .notCovering(let rawTrailer, let index, let coveredBy):
            let trailer = DisplayText.escape(rawTrailer)
            let others =
                coveredBy.isEmpty
                ? "no checkpoint covers it"
                : "it is covered by entr\(coveredBy.count == 1 ? "y" : "ies") "
                    + coveredBy.map(String.init).joined(separator: ", ")
            return "Cairn-Checkpoint: \(trailer) names checkpoint \(index), whose outputs do not include this commit "
                + "(nor a rewrite of one); \(others)"
        }
    }
}

/// A commit listed by the audit, with every problem found.
public struct MissingCommit: Sendable, Hashable {
    public let commit: GitCommit
    public let problems: [MissingProblem]
}

/// What the audit examined and found.
public struct MissingCheckpointResult: Sendable, Hashable {
    /// The ledger's tree size when the audit started.
    public let treeSize: UInt64
    /// The commits in the range.
    public let commitsExamined: Int
    /// The commits in the range that carry a `Cairn-Checkpoint:` trailer.
    public let commitsWithTrailers: Int
    /// The listed commits, newest first (git's order).
    public let listed: [MissingCommit]
}

/// Finds the commits of a git range that the ledger does not account for.
///
/// - Default mode: lists every commit that no checkpoint covers. A checkpoint covers a commit
///   when one of its outputs names the commit, or names a commit that `rewrite` records map
///   (in one or more steps) to it. A listed commit's trailers are checked too, and their
///   problems added to its entry.
/// - `aiOnly`: examines only commits carrying at least one `Cairn-Checkpoint:` trailer (the
///   commits that declare AI involvement), and lists those with at least one trailer that does
///   not resolve to a checkpoint covering the commit: a value naming no record, naming an entry
///   that is not a checkpoint, or naming a checkpoint that does not cover the commit. Commits
///   without the trailer are not examined.
///
/// A trailer value is a checkpoint `id`, or `sha256:` and the 64 hex digits of a checkpoint's
/// content address. It is never read as a leaf index.
public struct MissingCheckpointAudit: Sendable {
    /// A git revision range; nil: all of HEAD's history.
    public var range: String?
    public var aiOnly: Bool
    public var includeMerges: Bool

    public init(range: String? = nil, aiOnly: Bool = false, includeMerges: Bool = true) {
        self.range = range
        self.aiOnly = aiOnly
        self.includeMerges = includeMerges
    }

    public func run(repository: GitRepository, ledger: Ledger) throws -> MissingCheckpointResult {
        try run(repository: repository, ledgers: [ledger])
    }

    /// The audit over several logs (the shards of a log directory, `cairn audit missing --logs`): a commit is
    /// covered when any log covers it, and a trailer is right when, in some log, it names a checkpoint covering the
    /// commit (a wrong trailer is reported with the most specific problem any log found). `treeSize` is the sum of
    /// the logs' sizes.
    public func run(repository: GitRepository, ledgers: [Ledger]) throws -> MissingCheckpointResult {
        let commits = try repository.commits(range: range, includeMerges: includeMerges)
        return try Self.withSnapshots(ledgers[...], []) { snapshots in try run(commits: commits, snapshots: snapshots) }
    }

    /// Calls `body` with a read snapshot of each ledger, all open at once.
    private static func withSnapshots<R>(
        _ ledgers: ArraySlice<Ledger>, _ taken: [LedgerSnapshot], _ body: ([LedgerSnapshot]) throws -> R
    ) throws -> R {
        guard let first = ledgers.first else { return try body(taken) }
        return try first.read { snapshot in try withSnapshots(ledgers.dropFirst(), taken + [snapshot], body) }
    }

    func run(commits: [GitCommit], snapshots: [LedgerSnapshot]) throws -> MissingCheckpointResult {
        var listed: [MissingCommit] = []
        var withTrailers = 0
        for commit in commits {
            if !commit.checkpointTrailers.isEmpty { withTrailers += 1 }
            if aiOnly && commit.checkpointTrailers.isEmpty { continue }
            var query = RecordQuery()
            query.commit = commit.id
            let covering = try snapshots.map { try $0.query(query).map(\.index) }
            if !aiOnly && covering.contains(where: { !$0.isEmpty }) { continue }
            var problems: [MissingProblem] = aiOnly ? [] : [.noCheckpoint]
            trailers: for trailer in commit.checkpointTrailers {
                var found: [MissingProblem] = []
                for (snapshot, covered) in zip(snapshots, covering) {
                    guard let problem = try check(trailer: trailer, covering: covered, ledger: snapshot) else {
                        continue trailers
                    }
                    found.append(problem)
                }
                let specific = found.first {
                    if case .unknownRecord = $0 { return false }
                    return true
                }
                if let problem = specific ?? found.first { problems.append(problem) }
            }
            if !problems.isEmpty { listed.append(MissingCommit(commit: commit, problems: problems)) }
        }
        return MissingCheckpointResult(
            treeSize: snapshots.reduce(0) { $0 + $1.treeSize }, commitsExamined: commits.count,
            commitsWithTrailers: withTrailers, listed: listed)
    }

    /// The problem with one trailer value, or nil when it names a checkpoint in `covering`.
    func check(trailer: String, covering: [UInt64], ledger: LedgerSnapshot) throws -> MissingProblem? {
        let index: UInt64
        if trailer.hasPrefix("sha256:") {
            guard let reference = EntryReference(trailer), case .digest(let digest) = reference,
                let found = try ledger.index(of: digest)
            else { return .unknownRecord(trailer: trailer) }
            index = found
        } else {
            switch Result(catching: { () throws(LedgerError) in try ledger.resolve(recordReference: trailer) }) {
            case .success(let found): index = found
            case .failure(let error) where error.code == .entryNotFound: return .unknownRecord(trailer: trailer)
            case .failure(let error): throw error
            }
        }
        let record = try ledger.view(index).effective
        // `resolve` falls back to a leaf index for a number that is no checkpoint's id.
        if !trailer.hasPrefix("sha256:") && record["id"]?.stringValue != trailer {
            return .unknownRecord(trailer: trailer)
        }
        let type = record["type"]?.stringValue ?? "?"
        guard type == RecordType.checkpoint.rawValue else {
            return .notACheckpoint(trailer: trailer, index: index, type: type)
        }
        return covering.contains(index) ? nil : .notCovering(trailer: trailer, index: index, coveredBy: covering)
    }
}
