import CairnCrypto
import CairnInsight
import CairnJSON
import CairnLedger
import CairnNote
import CairnRecords
import Foundation

// `cairn audit drill` (issue 13 item 5): test the trail by using it. A few random recent commits are
// walked through everything the ledger should hold about them — the checkpoint, its review, tests and
// deploys, an inclusion proof checked as an auditor checks one, witness cosignatures — and every step
// that comes up empty is a gap. The report's JSON form is specified in specs/drill.md.

/// A step of the trail a drill walks, in the order it walks them.
public enum DrillStep: String, Sendable, Hashable, CaseIterable, Comparable {
    /// A checkpoint names the commit (directly, or through `rewrite` records).
    case checkpoint
    /// A review approved the checkpoint.
    case review
    /// A test of the checkpoint passed.
    case test
    /// The checkpoint was deployed (and perhaps rolled back).
    case deploy
    /// The checkpoint and the entries about it have inclusion proofs that verify with the log's key.
    case proof
    /// A checkpoint of the log that covers the entry carries witness cosignatures.
    case witness

    /// The position of the step in the walk.
    var order: Int {
        switch self {
        case .checkpoint: 0
        case .review: 1
        case .test: 2
        case .deploy: 3
        case .proof: 4
        case .witness: 5
        }
    }

    public static func < (a: DrillStep, b: DrillStep) -> Bool { a.order < b.order }

    /// The steps a caller may leave out (`--skip`): all but `checkpoint`, which every other step needs.
    public static let skippable: [DrillStep] = [.review, .test, .deploy, .proof, .witness]
}

/// What a step found.
public enum DrillStatus: String, Sendable, Hashable {
    /// The trail holds what the step looks for.
    case ok
    /// It does not: the step's `gap` says which kind of hole.
    case gap
    /// The step does not apply (no checkpoint to review, or the step was skipped).
    case notApplicable = "not_applicable"
}

/// The kinds of gap a drill reports; their raw values are the keys of `gaps_by_kind`.
public enum DrillGap: String, Sendable, Hashable, CaseIterable {
    /// No checkpoint names the commit, directly or through `rewrite` records.
    case noProvenance = "no_provenance"
    /// No review names the checkpoint.
    case unreviewed
    /// Reviews name the checkpoint, but none approved it.
    case notApproved = "not_approved"
    /// No test names the checkpoint.
    case untested
    /// Tests name the checkpoint, but none passed.
    case testsFailed = "tests_failed"
    /// No deploy names the checkpoint.
    case undeployed
    /// An inclusion proof could not be made or did not verify.
    case proofFailed = "proof_failed"
    /// No checkpoint of the log that covers the entry carries a witness cosignature.
    case unwitnessed
}

/// One step's outcome: a status, the gap when there is one, a one-line reason and the entries it rests on.
public struct DrillStepResult: Sendable, Hashable {
    public let step: DrillStep
    public let status: DrillStatus
    /// The kind of gap when `status` is `.gap`, else nil.
    public let gap: DrillGap?
    /// One line for people. Text taken from records is escaped with `DisplayText.escape`.
    public let reason: String
    /// The leaf indexes of the entries the step looked at (reviews, tests, deploys…), in log order.
    public let entries: [UInt64]

    init(_ step: DrillStep, _ status: DrillStatus, gap: DrillGap? = nil, _ reason: String, entries: [UInt64] = []) {
        self.step = step
        self.status = status
        self.gap = gap
        self.reason = reason
        self.entries = entries
    }

    static func ok(_ step: DrillStep, _ reason: String, entries: [UInt64] = []) -> DrillStepResult {
        DrillStepResult(step, .ok, reason, entries: entries)
    }

    static func gap(_ step: DrillStep, _ gap: DrillGap, _ reason: String, entries: [UInt64] = []) -> DrillStepResult {
        DrillStepResult(step, .gap, gap: gap, reason, entries: entries)
    }

    static func notApplicable(_ step: DrillStep, _ reason: String) -> DrillStepResult {
        DrillStepResult(step, .notApplicable, reason)
    }
}

/// A checkpoint that names a drilled commit, with its steps (review, test, deploy, proof, witness).
public struct DrilledCheckpoint: Sendable, Hashable {
    /// The checkpoint's leaf index and content address.
    public let index: UInt64
    public let digest: SHA256Digest
    /// Its `id` (effective record), if it has one.
    public let id: String?
    /// The `rewrite` entries that carry the checkpoint's commit to the drilled one, oldest first (empty when the
    /// checkpoint names the commit itself).
    public let rewrites: [UInt64]
    public let steps: [DrillStepResult]
}

/// A drilled commit: the `checkpoint` step and, for each checkpoint that names it, the other steps.
public struct DrilledCommit: Sendable, Hashable {
    public let commit: GitCommit
    /// The signs of AI involvement in its message (as `cairn audit undeclared` finds them).
    public let aiMarkers: [AIMarker]
    /// Whether a checkpoint names the commit: a `no_provenance` gap when none does.
    public let checkpointStep: DrillStepResult
    /// The checkpoints that name it, in log order; empty for a `no_provenance` commit.
    public let checkpoints: [DrilledCheckpoint]

    /// Every step result: the checkpoint step, then each checkpoint's steps.
    public var allSteps: [DrillStepResult] { [checkpointStep] + checkpoints.flatMap(\.steps) }

    /// The number of gaps found for this commit.
    public var gapCount: Int { allSteps.count { $0.status == .gap } }
}

/// How the commits were chosen, so that a drill can be repeated (`--seed`).
public struct DrillSelection: Sendable, Hashable {
    /// At most this many of HEAD's newest non-merge commits were candidates (nil: no limit).
    public let last: Int?
    /// Only commits committed at or after this time (milliseconds since the epoch) were candidates.
    public let since: Int64?
    /// How many commits were asked for.
    public let count: Int
    /// The seed of the choice.
    public let seed: UInt64
    /// How many candidates there were.
    public let candidates: Int
    /// The steps left out.
    public let skipped: [DrillStep]
}

/// The result of a drill (specs/drill.md).
public struct DrillReport: Sendable, Hashable {
    /// The `format` member of the JSON form.
    public static let format = "cairn-drill/v1"

    /// When the drill ran (milliseconds since the epoch).
    public let at: Int64
    /// The ledger's origin and the tree size of the snapshot the drill read.
    public let origin: String
    public let treeSize: UInt64
    /// The repository as given, and its HEAD (nil in a repository without commits) and branch (nil when detached).
    public let repository: String
    public let head: String?
    public let branch: String?
    public let selection: DrillSelection
    /// The drilled commits, newest first (git's order).
    public let commits: [DrilledCommit]

    /// The total number of gaps.
    public var gapCount: Int { commits.reduce(0) { $0 + $1.gapCount } }

    /// The number of gaps of each kind; every kind is present.
    public var gapsByKind: [DrillGap: Int] {
        var counts = Dictionary(uniqueKeysWithValues: DrillGap.allCases.map { ($0, 0) })
        for commit in commits {
            for step in commit.allSteps { if let gap = step.gap { counts[gap, default: 0] += 1 } }
        }
        return counts
    }
}

/// A fire drill: picks `count` random commits among HEAD's recent non-merge commits and walks each through the
/// trail, reporting every gap.
///
/// For each commit:
/// - `checkpoint`: the checkpoints whose outputs name the commit, directly or through `rewrite` records
///   (`RecordQuery.commit`); none is a `no_provenance` gap, reported with the commit's AI markers and
///   `Cairn-Checkpoint:` trailers, and the other steps do not apply.
///
/// Then, for each of those checkpoints (effective records, corrections applied):
/// - `review`: ok when a review approved it; `unreviewed` when none names it, `not_approved` when none approved;
/// - `test`: ok when a test passed; `untested` when none names it, `tests_failed` when none passed;
/// - `deploy`: ok when a deploy names it (rollbacks are listed in the reason); `undeployed` otherwise;
/// - `proof`: an inclusion proof of the checkpoint, and of every review, test, deploy, rollback and rewrite the
///   steps above looked at, against the snapshot's latest signed checkpoint, checked by `checkProof` with the
///   verifier key — the log's own, or the one given — as an auditor checks a proof file; `proof_failed`
///   otherwise;
/// - `witness`: ok when the latest signed checkpoint, or else a later-published checkpoint of a size that covers
///   the checkpoint entry, carries cosignature lines (signature lines by other keys than the log's); the lines are
///   counted, not verified (that needs the witnesses' keys: `cairn verify checkpoint --policy`); `unwitnessed`
///   otherwise.
///
/// A skipped step is `not_applicable`, never a gap.
public struct FireDrill: Sendable {
    /// Checks an inclusion proof of `entry` (the exact leaf bytes) with only the log's verifier key, as an auditor
    /// would check the proof file and `cairn get --raw` output they were given; throws when it does not verify (the
    /// error's description is the reason). CairnAudit does not depend on CairnProofs: the caller supplies it (the
    /// CLI: `TlogProof(parsing:)` of the serialized proof, then `verify(entry:logKey:)`).
    public typealias ProofCheck =
        @Sendable (_ proof: InclusionProof, _ entry: [UInt8], _ key: NoteVerifierKey) throws
        -> Void

    /// The largest seed: 2^53 − 1, the largest integer a JSON number keeps exactly (the report records the seed).
    public static let maxSeed: UInt64 = 9_007_199_254_740_991
    /// The default number of candidates when neither `last` nor `since` is given.
    public static let defaultLast = 100
    /// The directory, inside the ledger directory, where saved drills go.
    public static let savedDirectory = SavedReports.drillDirectory
    /// At most this many tree sizes are looked at, from the newest down, for a cosigned checkpoint.
    static let maxCheckpointsScanned: UInt64 = 1_000_000

    /// How many commits to drill.
    public var count: Int
    /// Candidates: at most this many of HEAD's newest non-merge commits; nil: `defaultLast` without `since`,
    /// no limit with it.
    public var last: Int?
    /// Candidates: only commits whose committer date is at or after this time (ms since the epoch), as
    /// `git log --since` selects them.
    public var since: Int64?
    /// The seed of the random choice, at most `maxSeed`; nil: a random one (reported, so the drill can be repeated).
    public var seed: UInt64?
    /// Steps not checked (reported as not applicable); `.checkpoint` cannot be skipped and is ignored here.
    public var skip: Set<DrillStep>
    /// The key proofs are checked with; nil: the ledger's own verifier key.
    public var verifierKey: NoteVerifierKey?
    /// How proofs are checked (see `ProofCheck`).
    public var checkProof: ProofCheck

    public init(
        count: Int = 5, last: Int? = nil, since: Int64? = nil, seed: UInt64? = nil, skip: Set<DrillStep> = [],
        verifierKey: NoteVerifierKey? = nil, checkProof: @escaping ProofCheck
    ) {
        self.count = count
        self.last = last
        self.since = since
        self.seed = seed
        self.skip = skip
        self.verifierKey = verifierKey
        self.checkProof = checkProof
    }

    /// The candidate limit in effect: `last`, else `defaultLast` when no `since` is given.
    public var effectiveLast: Int? { last ?? (since == nil ? Self.defaultLast : nil) }

    /// Lists the candidates with git, picks the commits, and walks them through one snapshot of `ledger`.
    ///
    /// - Parameter now: the time the drill runs (ms since the epoch), the report's `at`.
    public func run(repository: GitRepository, ledger: Ledger, now: Int64) throws -> DrillReport {
        guard count >= 1 else {
            throw AuditError(.invalidArgument, "the number of commits to drill must be at least 1, got \(count)")
        }
        if let last, last < 1 {
            throw AuditError(.invalidArgument, "the number of recent commits must be at least 1, got \(last)")
        }
        if let seed, seed > Self.maxSeed {
            throw AuditError(
                .invalidArgument,
                "the seed must be at most \(Self.maxSeed) (2^53 − 1, so that the report keeps it exactly), got \(seed)")
        }
        let candidates = try repository.drillCandidates(last: effectiveLast, since: since)
        let head = try repository.head()
        let seed = self.seed ?? UInt64.random(in: 0...999_999_999)
        let chosen = Self.choose(count, from: candidates.count, seed: seed).map { candidates[$0] }
        return try ledger.read { snapshot in
            try walk(
                chosen, snapshot: snapshot, at: now, repository: repository.path, head: head,
                selection: DrillSelection(
                    last: effectiveLast, since: since, count: count, seed: seed, candidates: candidates.count,
                    skipped: skip.filter { $0 != .checkpoint }.sorted()))
        }
    }

    /// The positions (ascending) of `count` of `total` candidates, chosen at random by `seed`: the same arguments
    /// always give the same positions, on every platform (a partial Fisher–Yates shuffle driven by SplitMix64,
    /// with unbiased bounded draws). All of them when `count >= total`.
    public static func choose(_ count: Int, from total: Int, seed: UInt64) -> [Int] {
        guard total > 0, count > 0 else { return [] }
        guard count < total else { return Array(0..<total) }
        var generator = SplitMix64(seed: seed)
        var positions = Array(0..<total)
        for i in 0..<count {
            let j = i + Int(generator.next(below: UInt64(total - i)))
            positions.swapAt(i, j)
        }
        return positions[0..<count].sorted()
    }

    // MARK: - Walking the trail

    func walk(
        _ commits: [(GitCommit, [String])], snapshot: LedgerSnapshot, at: Int64, repository: String, head: Head,
        selection: DrillSelection
    ) throws -> DrillReport {
        let key = verifierKey ?? snapshot.ledger.verifierKey
        var witnesses = CosignedCheckpoints(snapshot: snapshot, logKey: snapshot.ledger.verifierKey)
        var drilled: [DrilledCommit] = []
        for (commit, trailers) in commits {
            let markers = AIMarker.markers(inTrailers: trailers)
            var query = RecordQuery()
            query.commit = commit.id
            let matches = try snapshot.query(query)
            guard !matches.isEmpty else {
                drilled.append(
                    DrilledCommit(
                        commit: commit, aiMarkers: markers,
                        checkpointStep: .gap(
                            .checkpoint, .noProvenance, Self.noProvenanceReason(commit: commit, markers: markers)),
                        checkpoints: []))
                continue
            }
            var checkpoints: [DrilledCheckpoint] = []
            var viaRewrites = 0
            for match in matches {
                let rewrites = try snapshot.rewriteChain(checkpoint: match.index, to: commit.id) ?? []
                if !rewrites.isEmpty { viaRewrites += 1 }
                checkpoints.append(
                    try drill(
                        checkpoint: match.index, digest: match.digest, rewrites: rewrites, snapshot: snapshot,
                        key: key, witnesses: &witnesses))
            }
            let names = matches.map { "\($0.index)" }.joined(separator: ", ")
            let plural = matches.count == 1 ? "checkpoint names" : "checkpoints name"
            var reason = "\(matches.count) \(plural) this commit (entr\(matches.count == 1 ? "y" : "ies") \(names))"
            if viaRewrites > 0 {
                reason +=
                    viaRewrites == matches.count ? ", through rewrite records" : ", \(viaRewrites) through rewrites"
            }
            drilled.append(
                DrilledCommit(
                    commit: commit, aiMarkers: markers,
                    checkpointStep: .ok(.checkpoint, reason, entries: matches.map(\.index)), checkpoints: checkpoints))
        }
        return DrillReport(
            at: at, origin: snapshot.ledger.origin, treeSize: snapshot.treeSize, repository: repository,
            head: head.commit, branch: head.branch, selection: selection, commits: drilled)
    }

    static func noProvenanceReason(commit: GitCommit, markers: [AIMarker]) -> String {
        var reason = "no checkpoint names this commit, directly or through rewrite records"
        if markers.isEmpty {
            reason += "; its message shows no sign of AI involvement"
        } else {
            reason += "; its message shows AI involvement: " + markers.map { show($0.trailer) }.joined(separator: "; ")
        }
        if !commit.checkpointTrailers.isEmpty {
            reason +=
                "; it carries Cairn-Checkpoint: " + commit.checkpointTrailers.map { show($0) }.joined(separator: ", ")
                + ", yet no checkpoint covers it (`cairn audit missing --ai-only` says why)"
        }
        return reason
    }

    /// The review, test, deploy, proof and witness steps of the checkpoint at `index`.
    func drill(
        checkpoint index: UInt64, digest: SHA256Digest, rewrites: [UInt64], snapshot: LedgerSnapshot,
        key: NoteVerifierKey, witnesses: inout CosignedCheckpoints
    ) throws -> DrilledCheckpoint {
        let view = try snapshot.view(index)
        let id = view.effective["id"]?.stringValue
        let name = "checkpoint \(show(id ?? digest.description))"
        func of(_ type: RecordType) -> [HistoryItem] { view.history.filter { $0.type == type } }
        let reviews = of(.review)
        let tests = of(.test)
        let deploys = of(.deploy)
        let rollbacks = of(.rollback)
        var steps: [DrillStepResult] = []
        steps.append(skip.contains(.review) ? skipped(.review) : Self.reviewStep(name, reviews))
        steps.append(skip.contains(.test) ? skipped(.test) : Self.testStep(name, tests))
        steps.append(skip.contains(.deploy) ? skipped(.deploy) : Self.deployStep(name, deploys, rollbacks))
        if skip.contains(.proof) {
            steps.append(skipped(.proof))
        } else {
            let trail = Set([index] + rewrites + (reviews + tests + deploys + rollbacks).map(\.index)).sorted()
            steps.append(proofStep(trail, snapshot: snapshot, key: key))
        }
        if skip.contains(.witness) {
            steps.append(skipped(.witness))
        } else {
            steps.append(try witnesses.step(entry: index))
        }
        return DrilledCheckpoint(index: index, digest: digest, id: id, rewrites: rewrites, steps: steps)
    }

    func skipped(_ step: DrillStep) -> DrillStepResult {
        .notApplicable(step, "not checked (--skip \(step.rawValue))")
    }

    static func reviewStep(_ name: String, _ reviews: [HistoryItem]) -> DrillStepResult {
        guard !reviews.isEmpty else { return .gap(.review, .unreviewed, "no review names \(name)") }
        let entries = reviews.map(\.index)
        let approvals = reviews.filter { $0.record["decision"]?.stringValue == "approved" }
        guard let first = approvals.first else {
            let decisions = reviews.map { review in
                "\(show(review.record["decision"]?.stringValue).replacingOccurrences(of: "_", with: " ")) by "
                    + "\(show(review.record["reviewer"]?.stringValue)) at \(recordTime(review.record["at"]))"
            }
            return .gap(
                .review, .notApproved, "\(name) was never approved: " + decisions.joined(separator: "; "),
                entries: entries)
        }
        var reason =
            "approved by \(show(first.record["reviewer"]?.stringValue)) at \(recordTime(first.record["at"])) (entry "
            + "\(first.index))"
        if reviews.count > 1 { reason += ", \(reviews.count) reviews in all" }
        return .ok(.review, reason, entries: entries)
    }

    static func testStep(_ name: String, _ tests: [HistoryItem]) -> DrillStepResult {
        guard !tests.isEmpty else { return .gap(.test, .untested, "no test names \(name)") }
        let entries = tests.map(\.index)
        let results = tests.map { show($0.record["result"]?.stringValue) }
        guard let passed = tests.first(where: { $0.record["result"]?.stringValue == "passed" }) else {
            return .gap(
                .test, .testsFailed,
                "no test of \(name) passed (\(tests.count) result\(tests.count == 1 ? "" : "s"): "
                    + results.joined(separator: ", ") + ")", entries: entries)
        }
        var reason = "passed"
        if let at = passed.record["at"] { reason += " at \(recordTime(at))" }
        reason += " (entry \(passed.index))"
        if tests.count > 1 { reason += ", \(tests.count) results in all: " + results.joined(separator: ", ") }
        return .ok(.test, reason, entries: entries)
    }

    static func deployStep(_ name: String, _ deploys: [HistoryItem], _ rollbacks: [HistoryItem]) -> DrillStepResult {
        let entries = (deploys + rollbacks).map(\.index).sorted()
        func place(_ item: HistoryItem) -> String {
            "\(show(item.record["environment"]?.stringValue)) at \(recordTime(item.record["at"])) (entry \(item.index))"
        }
        let rolledBack =
            rollbacks.isEmpty ? "" : "; rolled back in " + rollbacks.map(place).joined(separator: ", ")
        guard !deploys.isEmpty else {
            let note =
                rollbacks.isEmpty
                ? ": not deployed yet, or deployed without a record"
                : ", yet it was rolled back: the deploy "
                    + "was not recorded" + rolledBack
            return .gap(.deploy, .undeployed, "no deploy names \(name)\(note)", entries: entries)
        }
        return .ok(.deploy, "deployed to " + deploys.map(place).joined(separator: ", ") + rolledBack, entries: entries)
    }

    /// Proves every entry of `trail` against the snapshot's latest signed checkpoint and checks each proof.
    func proofStep(_ trail: [UInt64], snapshot: LedgerSnapshot, key: NoteVerifierKey) -> DrillStepResult {
        for index in trail {
            do {
                let proof = try snapshot.inclusionProof(index: index)
                try checkProof(proof, try snapshot.entry(at: index), key)
            } catch {
                return .gap(
                    .proof, .proofFailed,
                    "the inclusion proof of entry \(index) against the checkpoint of size \(snapshot.treeSize) does "
                        + "not verify with \(show(key.nameAndID)): \(show(String(describing: error)))", entries: trail)
            }
        }
        let list = trail.map(String.init).joined(separator: ", ")
        return .ok(
            .proof,
            "entr\(trail.count == 1 ? "y" : "ies") \(list) proved against the signed checkpoint of size "
                + "\(snapshot.treeSize), verified with \(show(key.nameAndID))", entries: trail)
    }
}

/// The drilled repository's HEAD.
struct Head {
    var commit: String?
    var branch: String?
}

/// Finds the newest published checkpoint with cosignature lines, once per drill: from the snapshot's size down to
/// the lowest size a drilled entry needs, at most `FireDrill.maxCheckpointsScanned` sizes in all.
struct CosignedCheckpoints {
    let snapshot: LedgerSnapshot
    let logKey: NoteVerifierKey
    /// The sizes above this one have been looked at.
    var searchedDownTo: UInt64
    var scanned: UInt64 = 0
    /// The newest checkpoint with cosignatures, and its cosigners' names.
    var found: (size: UInt64, cosigners: [String])?

    init(snapshot: LedgerSnapshot, logKey: NoteVerifierKey) {
        self.snapshot = snapshot
        self.logKey = logKey
        searchedDownTo = snapshot.treeSize &+ 1
    }

    /// The names on the signature lines of `signed` that are not the log's own (by name: all its keys, old and new).
    func cosigners(_ signed: SignedCheckpoint) -> [String] {
        // Every key the log ever signed with has the log's name (a key rotation keeps the name, specs/key-rotation.md);
        // witnesses sign with names of their own.
        signed.note.signatures.filter { !$0.name.utf8.elementsEqual(logKey.name.utf8) }.map(\.name)
    }

    mutating func step(entry index: UInt64) throws -> DrillStepResult {
        let latest = snapshot.treeSize
        if found == nil {
            // Sizes index + 1 … latest cover the entry: look at those not yet seen, newest first.
            while searchedDownTo > index &+ 1 && searchedDownTo > 0 && scanned < FireDrill.maxCheckpointsScanned {
                searchedDownTo -= 1
                scanned += 1
                let size = searchedDownTo
                guard try snapshot.hasCheckpoint(size: size) else { continue }
                let names = cosigners(try snapshot.checkpoint(size: size))
                if !names.isEmpty {
                    found = (size, names)
                    break
                }
            }
        }
        if let found, found.size > index {
            let names = found.cosigners.map { show($0) }.joined(separator: ", ")
            let counted = "(counted, not verified: check them with `cairn verify checkpoint --policy`)"
            if found.size == latest {
                return .ok(.witness, "the latest checkpoint (size \(latest)) is cosigned by \(names) \(counted)")
            }
            return .ok(
                .witness,
                "the checkpoint of size \(found.size), which covers entry \(index), is cosigned by \(names) \(counted); "
                    + "the latest (size \(latest)) is not yet")
        }
        let limit =
            searchedDownTo > index &+ 1
            ? " (looked at the newest \(FireDrill.maxCheckpointsScanned) sizes only)" : ""
        return .gap(
            .witness, .unwitnessed,
            "no checkpoint covering entry \(index) carries a witness cosignature\(limit): the latest (size \(latest)) "
                + "is signed by the log alone")
    }
}

/// SplitMix64 (Steele, Lea and Flood, 2014): a tiny generator whose output is fixed by its seed on every platform,
/// unlike the standard library's, whose algorithms may change.
struct SplitMix64 {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform value in 0..<bound (bound > 0), without modulo bias: draws in the incomplete last block are redrawn.
    mutating func next(below bound: UInt64) -> UInt64 {
        let limit = UInt64.max - UInt64.max % bound
        while true {
            let value = next()
            if value < limit { return value % bound }
        }
    }
}

/// A record's time (`at`) as an explanation shows it.
private func recordTime(_ value: JSONValue?) -> String {
    guard let text = value?.stringValue else { return "an unknown time" }
    return Timestamp.parse(text).map(Timestamp.format) ?? show(text)
}

// MARK: - Git

extension GitRepository {
    /// HEAD's newest non-merge commits, newest first, each with every trailer of its message: at most `last` (nil:
    /// no limit), committed at or after `since` (ms since the epoch; as `git log --since` selects). Empty in a
    /// repository without commits.
    func drillCandidates(last: Int?, since: Int64?) throws(AuditError) -> [(GitCommit, [String])] {
        guard try run(["rev-parse", "--quiet", "--verify", "HEAD^{commit}"]).status == 0 else { return [] }
        // Fields separated by NUL; trailers (unfolded) by 0x1F; %s folds the subject onto one line, so a newline
        // only ever ends a commit.
        let format = "%H%x00%P%x00%ad%x00%an%x00%s%x00%(trailers:unfold,separator=%x1f)"
        var arguments = [
            "log", "--no-show-signature", "--no-color", "--no-merges", "--date=format-local:%Y-%m-%dT%H:%M:%SZ",
            "--format=" + format,
        ]
        if let last { arguments.append("--max-count=\(last)") }
        if let since { arguments.append("--since=@\(max(0, since / 1000))") }
        arguments += ["--end-of-options", "HEAD", "--"]
        let output = try run(arguments)
        guard output.status == 0 else {
            throw AuditError(.gitFailed, "git cannot list HEAD's commits: \(output.firstErrorLine)")
        }
        var commits: [(GitCommit, [String])] = []
        for line in output.stdout.split(separator: UInt8(ascii: "\n")) {
            let fields = line.split(separator: 0, omittingEmptySubsequences: false).map {
                String(decoding: $0, as: UTF8.self)
            }
            guard fields.count >= 6, !fields[0].isEmpty else {
                throw AuditError(
                    .gitFailed,
                    "git log printed an unexpected line: \(String(decoding: line.prefix(80), as: UTF8.self))")
            }
            let trailers = fields[5...].joined(separator: "\u{1F}").split(separator: "\u{1F}").map {
                $0.trimmingWhitespace()
            }.filter { !$0.isEmpty }
            // As git matches `key=`: the key without regard to case.
            let key = Self.checkpointTrailerKey.lowercased()
            let checkpointTrailers = trailers.compactMap { trailer -> String? in
                guard let colon = trailer.firstIndex(of: ":"),
                    trailer[..<colon].trimmingWhitespace().lowercased() == key
                else { return nil }
                let value = trailer[trailer.index(after: colon)...].trimmingWhitespace()
                return value.isEmpty ? nil : value
            }
            commits.append(
                (
                    GitCommit(
                        id: fields[0], parents: fields[1].split(separator: " ").map(String.init), author: fields[3],
                        authorDate: fields[2], subject: fields[4], checkpointTrailers: checkpointTrailers),
                    trailers
                ))
        }
        return commits
    }

    /// HEAD's commit id (nil without commits) and branch (nil when detached).
    func head() throws(AuditError) -> Head {
        let commit = try run(["rev-parse", "--quiet", "--verify", "HEAD^{commit}"])
        let branch = try run(["symbolic-ref", "--quiet", "--short", "HEAD"])
        func text(_ output: Output) -> String? {
            guard output.status == 0 else { return nil }
            let value = String(decoding: output.stdout, as: UTF8.self).trimmingWhitespace()
            return value.isEmpty ? nil : value
        }
        return Head(commit: text(commit), branch: text(branch))
    }
}

// MARK: - JSON (specs/drill.md)

extension DrillReport {
    /// The report as specs/drill.md specifies it.
    public var json: JSONValue {
        var byKind = JSONObject()
        let counts = gapsByKind
        for kind in DrillGap.allCases { byKind[kind.rawValue] = .number(Double(counts[kind] ?? 0)) }
        return .object([
            "format": .string(Self.format), "at": .string(Timestamp.format(at)), "origin": .string(origin),
            "tree_size": .uint(treeSize), "repo": .string(repository), "head": head.map { .string($0) } ?? .null,
            "branch": branch.map { .string($0) } ?? .null,
            "selection": .object([
                "last": selection.last.map { .number(Double($0)) } ?? .null,
                "since": selection.since.map { .string(Timestamp.format($0)) } ?? .null,
                "count": .number(Double(selection.count)), "seed": .uint(selection.seed),
                "candidates": .number(Double(selection.candidates)),
                "skipped": .array(selection.skipped.map { .string($0.rawValue) }),
            ]),
            "commits_drilled": .number(Double(commits.count)),
            "commits_with_gaps": .number(Double(commits.count { $0.gapCount > 0 })),
            "gaps": .number(Double(gapCount)), "gaps_by_kind": .object(byKind),
            "commits": .array(commits.map(\.json)),
        ])
    }
}

extension DrilledCommit {
    var json: JSONValue {
        .object([
            "commit": .string(commit.id), "date": .string(commit.authorDate), "author": .string(commit.author),
            "subject": .string(commit.subject),
            "ai_markers": .array(
                aiMarkers.map { .object(["trailer": .string($0.trailer), "tool": .string($0.tool)]) }),
            "checkpoint_trailers": .array(commit.checkpointTrailers.map { .string($0) }),
            "gaps": .number(Double(gapCount)), "checkpoint": checkpointStep.json,
            "checkpoints": .array(
                checkpoints.map { checkpoint in
                    .object([
                        "index": .uint(checkpoint.index), "digest": .string(checkpoint.digest.description),
                        "id": checkpoint.id.map { .string($0) } ?? .null,
                        "rewrites": .array(checkpoint.rewrites.map { .uint($0) }),
                        "steps": .array(checkpoint.steps.map(\.json)),
                    ])
                }),
        ])
    }
}

extension DrillStepResult {
    var json: JSONValue {
        .object([
            "step": .string(step.rawValue), "status": .string(status.rawValue),
            "gap": gap.map { .string($0.rawValue) } ?? .null, "reason": .string(reason),
            "entries": .array(entries.map { .uint($0) }),
        ])
    }
}

// MARK: - Saved drills

extension FireDrill {
    /// The name a drill run at `at` (ms since the epoch) is saved under in `drills/`: the UTC time in the ISO 8601
    /// basic format with milliseconds, `20261207T160622.123Z.json`, so that names sort as times do and need no
    /// character that some file systems refuse (`:`).
    public static func savedFileName(at: Int64) -> String { SavedReports.fileName(at: at) }

    /// Whether `name` is the name of a saved drill (`YYYYMMDDTHHMMSS.mmmZ.json`); temporary files and anything
    /// else in `drills/` are not.
    public static func isSavedFileName(_ name: String) -> Bool { SavedReports.isSavedFileName(name) }

    /// The newest drill saved in `ledgerDirectory` (`cairn audit drill --save`), parsed; nil when none was saved.
    ///
    /// Saved drills are `drills/<YYYYMMDDTHHMMSS.mmmZ>.json` (UTC), written atomically, so the newest is the
    /// greatest such name; other names in `drills/` (temporary files of a save in progress) are ignored. A
    /// dashboard shows its `at`, `commits_drilled`, `gaps` and `gaps_by_kind` (specs/drill.md). Throws when the
    /// directory or the file cannot be read, or the file is not JSON.
    public static func latestSaved(ledgerDirectory: String) throws -> JSONValue? {
        do {
            return try SavedReports.latest(ledgerDirectory: ledgerDirectory, in: SavedReports.drillDirectory)
        } catch {
            throw AuditError(.io, error.message)
        }
    }
}
