import CairnCrypto
import CairnJSON
import CairnRecords
import CairnStorage

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Aggregates (specs/storage.md, "Aggregates"): counters per week of the figures the stats views show, kept in the
// append transaction like the query indexes, so a dashboard view reads a few hundred keys instead of the log.
//
// The unit is the checkpoint. A checkpoint's *contribution* — one counter vector per (dimension, value, repository
// scope, week) — is a pure function of its *state*: its effective facts, the reviews, tests, deploys and rollbacks
// that name it (effective too), and whether it was corrected. Whenever an append or a correction changes a
// checkpoint's state, its old contribution is subtracted and the new one added; so the stored counters are always
// the sum of every checkpoint's contribution in its current state, which is exactly what a rebuild from the log
// computes (`rebuildAggregates`; `cairn fsck` compares the two). A bucket whose counters all reach zero is deleted.
//
// Two figures are not per checkpoint: entries per type (each entry counts once, in the week of its own time) and
// distinct AI commits (a commit counts once, in the repository and week of the first checkpoint that names it).
//
// Like the request-id index, the aggregates carry a watermark, `meta/aggregates_size`: they are kept only while it
// equals the tree size at the start of a commit. A ledger created before aggregates (or appended to by an older cairn)
// has them built by `cairn fsck --rebuild-aggregates`.

extension LedgerLayout.TableName {
    /// Provenance profile: aggregate key (dimension ‖ scope ‖ value ‖ week) → counters (specs/storage.md).
    static let aggregates = "aggregates"
}

/// What an aggregate bucket is counted by.
public enum AggregateDimension: UInt8, CaseIterable, Sendable, Hashable {
    /// Everything (the value is empty).
    case all = 0x61  // "a"
    /// A checkpoint's model: `model.id`, U+001F, `model.version` (else `model.release_date`).
    case model = 0x6d  // "m"
    /// A checkpoint's `tool_path`.
    case toolPath = 0x6b  // "k"
    /// A checkpoint's `requested_by`.
    case requester = 0x71  // "q"
    /// A checkpoint's `work_item`.
    case workItem = 0x77  // "w"
    /// A reviewer of a checkpoint: the checkpoint counted with that reviewer's own decisions.
    case reviewer = 0x72  // "r"
    /// An entry's record type (`entries`, and tokens and cost for model calls); scope always all repositories.
    case type = 0x79  // "y"

    /// The separator between a model's id and its version in a `model` value (a C0 control character, which
    /// identifiers cannot contain).
    public static let modelSeparator: Character = "\u{1F}"
}

/// The counters of one bucket, in a fixed order (stored as big-endian 64-bit integers; fields added later read as 0
/// from older values).
public struct AggregateCounters: Sendable, Hashable {
    public enum Field: Int, CaseIterable, Sendable {
        /// Checkpoints (for the `reviewer` dimension: checkpoints that reviewer reviewed).
        case checkpoints
        /// Changed lines (outputs' ranges, overlaps counted once per output).
        case lines
        /// Lines whose `contributor` is `ai`, `mixed`, `human`.
        case aiLines, mixedLines, humanLines
        /// Lines in sensitive paths, and of those the ones with AI involvement (`ai` or `mixed`).
        case sensitiveLines, sensitiveAILines
        /// Checkpoints touching a sensitive path.
        case sensitiveCheckpoints
        /// Distinct commits, counted in the week and repository of the first checkpoint naming them (`all` only).
        case aiCommits
        /// Tokens and cost (micro-dollars) the checkpoints (or model calls) say they cost.
        case inputTokens, outputTokens, costMicroUSD
        /// Checkpoints with at least one review; by the latest review's decision; with any `changes_requested`.
        case reviewed, approved, changesRequested, rejected, revised
        /// Sum and count of the time from a checkpoint's `timestamp` to its first review's `at`.
        case reviewLatencyMs, reviewLatencyCount
        /// Checkpoints with at least one test; by the latest test's result.
        case tested, testsPassed, testsFailed
        /// Checkpoints with at least one deploy; with at least one rollback.
        case deployed, rolledBack
        /// Checkpoints corrected at least once.
        case corrected
        /// Checkpoints whose evidence grade is `attested` (a developer's declaration).
        case attested
        /// Entries (the `type` dimension).
        case entries

        /// The name in JSON (`changes_requested`).
        public var name: String {
            switch self {
            case .checkpoints: "checkpoints"
            case .lines: "lines"
            case .aiLines: "ai_lines"
            case .mixedLines: "mixed_lines"
            case .humanLines: "human_lines"
            case .sensitiveLines: "sensitive_lines"
            case .sensitiveAILines: "sensitive_ai_lines"
            case .sensitiveCheckpoints: "sensitive_checkpoints"
            case .aiCommits: "ai_commits"
            case .inputTokens: "input_tokens"
            case .outputTokens: "output_tokens"
            case .costMicroUSD: "cost_micro_usd"
            case .reviewed: "reviewed"
            case .approved: "approved"
            case .changesRequested: "changes_requested"
            case .rejected: "rejected"
            case .revised: "revised"
            case .reviewLatencyMs: "review_latency_ms"
            case .reviewLatencyCount: "review_latency_count"
            case .tested: "tested"
            case .testsPassed: "tests_passed"
            case .testsFailed: "tests_failed"
            case .deployed: "deployed"
            case .rolledBack: "rolled_back"
            case .corrected: "corrected"
            case .attested: "attested"
            case .entries: "entries"
            }
        }
    }

    public private(set) var values: [Int64]

    public init() {
        values = Array(repeating: 0, count: Field.allCases.count)
    }

    public subscript(field: Field) -> Int64 {
        get { values[field.rawValue] }
        set { values[field.rawValue] = newValue }
    }

    public var isZero: Bool { values.allSatisfy { $0 == 0 } }

    /// Adds `other` times `sign` (wrapping: counters never approach the limits).
    mutating func add(_ other: AggregateCounters, sign: Int64 = 1) {
        for i in values.indices { values[i] &+= other.values[i] &* sign }
    }

    public static func + (lhs: AggregateCounters, rhs: AggregateCounters) -> AggregateCounters {
        var sum = lhs
        sum.add(rhs)
        return sum
    }

    var bytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(values.count * 8)
        for value in values { withUnsafeBytes(of: UInt64(bitPattern: value).bigEndian) { out += $0 } }
        return out
    }

    init(bytes: UnsafeRawBufferPointer) {
        self.init()
        for i in 0..<min(values.count, bytes.count / 8) {
            values[i] = Int64(bitPattern: readUInt64(bytes, at: i * 8))
        }
    }
}

/// A bucket's key (specs/storage.md, "Aggregates"), hashed as one run of bytes: `[UInt8]`'s own hashing feeds the
/// hasher a byte at a time, which showed up in the writer's profile.
struct AggregateKey: Hashable, Comparable, Sendable {
    let bytes: [UInt8]

    func hash(into hasher: inout Hasher) {
        bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
    }

    /// Byte order (what LMDB sorts by). `memcmp`: the generic `lexicographicallyPrecedes` was 5 % of the writer's
    /// time when each commit sorts its buckets.
    static func < (a: AggregateKey, b: AggregateKey) -> Bool {
        a.bytes.withUnsafeBytes { x in
            b.bytes.withUnsafeBytes { y in
                let common = min(x.count, y.count)
                let order = common == 0 ? 0 : memcmp(x.baseAddress!, y.baseAddress!, common)
                return order < 0 || (order == 0 && x.count < y.count)
            }
        }
    }
}

/// One stored bucket.
public struct AggregateBucket: Sendable, Hashable {
    public let dimension: AggregateDimension
    /// The repository the counters are restricted to; empty: every repository.
    public let scope: String
    /// The dimension's value (empty for `all`).
    public let value: String
    /// The week (`AggregateWeek`); nil for entries without a time of their own.
    public let week: Int32?
    public let counters: AggregateCounters
}

/// Weeks as aggregates count them: Monday 00:00 UTC to the next Monday, numbered from the week of 1970-01-01
/// (week 0 began on Monday 1969-12-29).
public enum AggregateWeek {
    static let dayMilliseconds: Int64 = 86_400_000

    /// The week holding `milliseconds` (Unix time).
    public static func week(ofMilliseconds milliseconds: Int64) -> Int32 {
        let days = floorDivide(milliseconds, dayMilliseconds)
        return Int32(clamping: floorDivide(days + 3, 7))
    }

    /// When `week` begins (Unix milliseconds).
    public static func start(of week: Int32) -> Int64 {
        (Int64(week) * 7 - 3) * dayMilliseconds
    }

    private static func floorDivide(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }
}

/// The state of the aggregates of a snapshot.
public struct AggregateStatus: Sendable, Hashable {
    /// The aggregates count every entry below this size.
    public let coveredSize: UInt64
    public let treeSize: UInt64
    /// The globs that make a path sensitive (`fnmatch` without flags: `*` crosses `/`).
    public let sensitivePaths: [String]

    public var isComplete: Bool { coveredSize == treeSize }
}

/// What `Ledger.rebuildAggregates` did.
public struct AggregateRebuildReport: Sendable, Hashable {
    public let treeSize: UInt64
    /// Buckets written.
    public let buckets: Int
    /// Whether the stored aggregates (complete before the rebuild) differed from the rebuilt ones; nil when they
    /// were not complete.
    public let differed: Bool?
    public let sensitivePaths: [String]
}

/// A checkpoint condition for drill-downs (`RecordQuery.state`): the checkpoints a counter counts.
public enum CheckpointCondition: String, CaseIterable, Sendable, Hashable {
    case reviewed, unreviewedYet = "unreviewed", approved
    case changesRequested = "changes_requested"
    case rejected, revised, tested, untested
    case testsPassed = "tests_passed"
    case testsFailed = "tests_failed"
    case deployed, undeployed
    case rolledBack = "rolled_back"
    case corrected, attested, sensitive

    /// Whether a checkpoint whose contribution (in the query's repository scope) is `counters` satisfies it.
    func holds(for counters: AggregateCounters) -> Bool {
        switch self {
        case .reviewed: counters[.reviewed] > 0
        case .unreviewedYet: counters[.reviewed] == 0
        case .approved: counters[.approved] > 0
        case .changesRequested: counters[.changesRequested] > 0
        case .rejected: counters[.rejected] > 0
        case .revised: counters[.revised] > 0
        case .tested: counters[.tested] > 0
        case .untested: counters[.tested] == 0
        case .testsPassed: counters[.testsPassed] > 0
        case .testsFailed: counters[.testsFailed] > 0
        case .deployed: counters[.deployed] > 0
        case .undeployed: counters[.deployed] == 0
        case .rolledBack: counters[.rolledBack] > 0
        case .corrected: counters[.corrected] > 0
        case .attested: counters[.attested] > 0
        case .sensitive: counters[.sensitiveCheckpoints] > 0
        }
    }
}

/// A checkpoint and what names it: the input of its contribution.
struct CheckpointState {
    let index: UInt64
    let facts: RecordFacts
    /// Reviews, tests, deploys and rollbacks naming the checkpoint, in log order, with their effective facts.
    var lifecycle: [(index: UInt64, facts: RecordFacts)]
    let corrected: Bool
}

/// Signed counter changes gathered over one write transaction and written once at its end.
final class AggregateDeltas {
    private(set) var deltas: [AggregateKey: AggregateCounters] = [:]
    let sensitivePaths: [String]

    init(sensitivePaths: [String]) {
        self.sensitivePaths = sensitivePaths
    }

    func add(_ contributions: [(key: AggregateKey, counters: AggregateCounters)], sign: Int64 = 1) {
        for (key, counters) in contributions {
            deltas[key, default: AggregateCounters()].add(counters, sign: sign)
        }
    }

    func subtract(_ contributions: [(key: AggregateKey, counters: AggregateCounters)]) {
        add(contributions, sign: -1)
    }
}

extension Ledger {
    /// `meta` key of the aggregates' watermark (big-endian u64).
    static let aggregatesSizeKey = Array("aggregates_size".utf8)
    /// `meta` key of the sensitive-path globs (a JSON array of strings).
    static let sensitivePathsKey = Array("sensitive_paths".utf8)

    /// The globs a ledger counts as sensitive until `cairn fsck --rebuild-aggregates --sensitive-paths` sets others.
    public static let defaultSensitivePaths = [
        "*auth*", "*security*", "*crypto*", "*secret*", "*password*", "*payment*", "*billing*", "*migrations/*",
        ".github/workflows/*", "*infra/*", "*terraform/*", "*.tf", "*Dockerfile*",
    ]

    // MARK: - Keys

    static func aggregateKey(
        _ dimension: AggregateDimension, scope: String, value: String, week: Int32?
    ) -> AggregateKey {
        var key: [UInt8] = []
        key.reserveCapacity(1 + 4 + scope.utf8.count + value.utf8.count + 4)
        key.append(dimension.rawValue)
        func string(_ text: String) {
            let count = text.utf8.count
            if count > 200 {
                let hashed = "sha256:" + SHA256.hash(utf8: text).hex
                key.append(UInt8(hashed.utf8.count >> 8))
                key.append(UInt8(hashed.utf8.count & 0xff))
                key.append(contentsOf: hashed.utf8)
            } else {
                key.append(UInt8(count >> 8))
                key.append(UInt8(count & 0xff))
                key.append(contentsOf: text.utf8)
            }
        }
        string(scope)
        string(value)
        let biased = UInt32(bitPattern: week ?? Int32.min) ^ 0x8000_0000
        withUnsafeBytes(of: biased.bigEndian) { key.append(contentsOf: $0) }
        return AggregateKey(bytes: key)
    }

    static func decodeAggregateKey(
        _ key: UnsafeRawBufferPointer
    ) -> (dimension: AggregateDimension, scope: String, value: String, week: Int32?)? {
        guard key.count >= 1 + 2 + 2 + 4, let dimension = AggregateDimension(rawValue: key[0]) else { return nil }
        var offset = 1
        func string() -> String? {
            guard offset + 2 <= key.count else { return nil }
            let count = Int(key[offset]) << 8 | Int(key[offset + 1])
            offset += 2
            guard offset + count <= key.count else { return nil }
            defer { offset += count }
            return String(decoding: UnsafeRawBufferPointer(rebasing: key[offset..<offset + count]), as: UTF8.self)
        }
        guard let scope = string(), let value = string(), offset + 4 == key.count else { return nil }
        let biased = readUInt32(key, at: offset) ^ 0x8000_0000
        let week = Int32(bitPattern: biased)
        return (dimension, scope, value, week == Int32.min ? nil : week)
    }

    // MARK: - Contributions

    /// The model value of a checkpoint's facts.
    static func modelValue(_ facts: RecordFacts) -> String? {
        guard let id = facts.modelID else { return nil }
        return id + String(AggregateDimension.modelSeparator) + (facts.modelVersion ?? facts.modelReleaseDate ?? "")
    }

    /// The counters of a checkpoint in `state` restricted to `scope` (a repository, or "" for all).
    static func counters(
        of state: CheckpointState, scope: String, sensitivePaths: [String]
    ) -> AggregateCounters {
        counters(of: state, scope: scope, sensitiveOutputs: sensitiveOutputs(state.facts, sensitivePaths))
    }

    /// Which of a checkpoint's outputs are on a sensitive path (in output order).
    static func sensitiveOutputs(_ facts: RecordFacts, _ sensitivePaths: [String]) -> [Bool] {
        // `withCString` lends each string's bytes (on the stack for short ones); passing the strings to `fnmatch`
        // directly made a heap copy of both for every glob (a third of a checkpoint's contributions in the profile).
        facts.outputs.map { output in
            output.path.withCString { path in
                sensitivePaths.contains { glob in glob.withCString { fnmatch($0, path, 0) == 0 } }
            }
        }
    }

    static func counters(
        of state: CheckpointState, scope: String, sensitiveOutputs: [Bool]
    ) -> AggregateCounters {
        var c = AggregateCounters()
        let facts = state.facts
        c[.checkpoints] = 1
        var sensitive = false
        for (position, output) in facts.outputs.enumerated() where scope.isEmpty || sameBytes(output.repo, scope) {
            let lines = Self.lineCount(output.ranges)
            c[.lines] += lines
            let ai = output.contributor == "ai" || output.contributor == "mixed"
            switch output.contributor {
            case "ai": c[.aiLines] += lines
            case "mixed": c[.mixedLines] += lines
            default: c[.humanLines] += lines
            }
            if sensitiveOutputs[position] {
                sensitive = true
                c[.sensitiveLines] += lines
                if ai { c[.sensitiveAILines] += lines }
            }
        }
        if sensitive { c[.sensitiveCheckpoints] = 1 }
        if let cost = facts.cost { add(cost, to: &c) }
        let reviews = state.lifecycle.filter { $0.facts.type == .review }
        addReviews(reviews.map(\.facts), checkpoint: facts, to: &c)
        let tests = state.lifecycle.filter { $0.facts.type == .test }
        if let latest = tests.last {
            c[.tested] = 1
            switch latest.facts.testResult {
            case "passed": c[.testsPassed] = 1
            case "failed": c[.testsFailed] = 1
            default: break
            }
        }
        if state.lifecycle.contains(where: { $0.facts.type == .deploy }) { c[.deployed] = 1 }
        if state.lifecycle.contains(where: { $0.facts.type == .rollback }) { c[.rolledBack] = 1 }
        if state.corrected { c[.corrected] = 1 }
        if facts.evidenceGrade == "attested" { c[.attested] = 1 }
        return c
    }

    private static func addReviews(_ reviews: [RecordFacts], checkpoint: RecordFacts, to c: inout AggregateCounters) {
        guard let latest = reviews.last else { return }
        c[.reviewed] = 1
        switch latest.decision {
        case "approved": c[.approved] = 1
        case "changes_requested": c[.changesRequested] = 1
        case "rejected": c[.rejected] = 1
        default: break
        }
        if reviews.contains(where: { $0.decision == "changes_requested" }) { c[.revised] = 1 }
        if let produced = checkpoint.timestamp, let first = reviews.compactMap(\.timestamp).min() {
            c[.reviewLatencyMs] = max(0, first &- produced)
            c[.reviewLatencyCount] = 1
        }
    }

    static func add(_ cost: CostFacts, to c: inout AggregateCounters) {
        c[.inputTokens] &+= max(0, cost.inputTokens ?? 0)
        c[.outputTokens] &+= max(0, cost.outputTokens ?? 0)
        if let usd = cost.usd, usd.isFinite, usd >= 0, usd < 9e12 { c[.costMicroUSD] &+= Int64((usd * 1e6).rounded()) }
    }

    /// Lines covered by `ranges` (overlapping ranges counted once).
    static func lineCount(_ ranges: [LineRange]) -> Int64 {
        var total: Int64 = 0
        var covered: (start: Int64, end: Int64)?
        for range in ranges.sorted(by: { $0.start < $1.start }) where range.end >= range.start {
            let start = Int64(range.start)
            let end = Int64(range.end)
            if let current = covered, start <= current.end + 1 {
                covered = (current.start, max(current.end, end))
            } else {
                if let current = covered { total += current.end - current.start + 1 }
                covered = (start, end)
            }
        }
        if let current = covered { total += current.end - current.start + 1 }
        return total
    }

    /// Every bucket a checkpoint in `state` counts in, with its counters there.
    static func contributions(
        of state: CheckpointState, sensitivePaths: [String]
    ) -> [(key: AggregateKey, counters: AggregateCounters)] {
        let facts = state.facts
        let week = facts.timestamp.map(AggregateWeek.week(ofMilliseconds:))
        var scopes = [""]
        for output in facts.outputs where !scopes.contains(where: { sameBytes($0, output.repo) }) {
            scopes.append(output.repo)
        }
        var out: [(key: AggregateKey, counters: AggregateCounters)] = []
        let reviews = state.lifecycle.filter { $0.facts.type == .review }.map(\.facts)
        var reviewers: [String] = []
        for review in reviews {
            if let reviewer = review.reviewer, !reviewers.contains(where: { sameBytes($0, reviewer) }) {
                reviewers.append(reviewer)
            }
        }
        let sensitive = sensitiveOutputs(facts, sensitivePaths)
        for scope in scopes {
            let counters = counters(of: state, scope: scope, sensitiveOutputs: sensitive)
            let dimensions: [(AggregateDimension, String?)] = [
                (.all, ""), (.model, modelValue(facts)), (.toolPath, facts.toolPath), (.requester, facts.requestedBy),
                (.workItem, facts.workItem),
            ]
            for case (let dimension, let value?) in dimensions {
                out.append((aggregateKey(dimension, scope: scope, value: value, week: week), counters))
            }
            for reviewer in reviewers {
                // The checkpoint as this reviewer saw it: their own decisions only.
                var byReviewer = counters
                for field in [AggregateCounters.Field.reviewed, .approved, .changesRequested, .rejected, .revised] {
                    byReviewer[field] = 0
                }
                byReviewer[.reviewLatencyMs] = 0
                byReviewer[.reviewLatencyCount] = 0
                addReviews(
                    reviews.filter { $0.reviewer.map { sameBytes($0, reviewer) } ?? false }, checkpoint: facts,
                    to: &byReviewer)
                out.append((aggregateKey(.reviewer, scope: scope, value: reviewer, week: week), byReviewer))
            }
        }
        return out
    }

    /// What a new entry adds: its `type` bucket and, for a checkpoint, its own buckets as nothing names it yet
    /// (pure: computed while records are prepared, see `PreparedEntry.initialContributions`).
    static func initialContributions(
        _ facts: RecordFacts, _ sensitivePaths: [String]
    ) -> [(key: AggregateKey, counters: AggregateCounters)] {
        var items = entryContributions(facts)
        if facts.type == .checkpoint {
            // The index takes no part in a contribution.
            let state = CheckpointState(index: 0, facts: facts, lifecycle: [], corrected: false)
            items += contributions(of: state, sensitivePaths: sensitivePaths)
        }
        return items
    }

    /// What an entry counts in the `type` dimension.
    static func entryContributions(_ facts: RecordFacts) -> [(key: AggregateKey, counters: AggregateCounters)] {
        var counters = AggregateCounters()
        counters[.entries] = 1
        if facts.type == .modelCall, let cost = facts.cost { add(cost, to: &counters) }
        let week = facts.timestamp.map(AggregateWeek.week(ofMilliseconds:))
        return [(aggregateKey(.type, scope: "", value: facts.type.rawValue, week: week), counters)]
    }

    /// Where commit `commit` counts as an AI commit: the week and repository of the first checkpoint naming it
    /// among its outputs (nothing when none does).
    func commitContributions(
        _ txn: some TransactionReading, commit: String
    ) throws -> [(key: AggregateKey, counters: AggregateCounters)] {
        let prefix = IndexKey(.commit, commit).bytes
        var first: UInt64?
        try txn.forEach(tables.index, prefix: prefix) { key, _ in
            first = readUInt64(key, at: prefix.count)
            return false
        }
        guard let first else { return [] }
        return Self.commitContributions(commit: commit, firstCheckpoint: try facts(txn, first))
    }

    static func commitContributions(
        commit: String, firstCheckpoint facts: RecordFacts
    ) -> [(key: AggregateKey, counters: AggregateCounters)] {
        guard let output = facts.outputs.first(where: { sameBytes($0.commit, commit) }) else { return [] }
        var counters = AggregateCounters()
        counters[.aiCommits] = 1
        let week = facts.timestamp.map(AggregateWeek.week(ofMilliseconds:))
        return [
            (aggregateKey(.all, scope: "", value: "", week: week), counters),
            (aggregateKey(.all, scope: output.repo, value: "", week: week), counters),
        ]
    }

    /// Distinct output commits of a checkpoint's facts.
    static func outputCommits(_ facts: RecordFacts) -> [String] {
        var commits: [String] = []
        for output in facts.outputs where !commits.contains(where: { sameBytes($0, output.commit) }) {
            commits.append(output.commit)
        }
        return commits
    }

    /// The state of checkpoint `index` as stored (its effective facts unless `facts` is given).
    func checkpointState(
        _ txn: some TransactionReading, _ index: UInt64, facts known: RecordFacts? = nil
    ) throws -> CheckpointState {
        let facts = try known ?? self.facts(txn, index)
        var lifecycle: [(UInt64, RecordFacts)] = []
        for source in try references(txn, to: index) where source.type.isLifecycle {
            lifecycle.append((source.index, try self.facts(txn, source.index)))
        }
        let corrected = try txn.value(tables.effective, key: index) != nil
        return CheckpointState(index: index, facts: facts, lifecycle: lifecycle, corrected: corrected)
    }

    // MARK: - Keeping them (inside the write transaction)

    /// The accumulator for a commit starting at `startSize`, or nil when the aggregates are not kept (generic
    /// profile, no table, or not covering the ledger).
    func aggregateDeltas(_ txn: WriteTransaction, startSize: UInt64) throws -> AggregateDeltas? {
        guard profile == .provenance, tables.aggregates != nil, try aggregateCoverage(txn) == startSize else {
            return nil
        }
        return AggregateDeltas(sensitivePaths: try sensitivePaths(txn))
    }

    /// Writes `deltas` and moves the watermark to `newSize`.
    func flush(_ deltas: AggregateDeltas, _ txn: WriteTransaction, newSize: UInt64) throws {
        guard let table = tables.aggregates else { return }
        for (key, delta) in deltas.deltas.sorted(by: { $0.key < $1.key }) where !delta.isZero {
            var counters =
                try txn.value(table, key: key.bytes).map { bytes in
                    bytes.withUnsafeBytes { AggregateCounters(bytes: $0) }
                } ?? AggregateCounters()
            counters.add(delta)
            if counters.isZero {
                _ = try txn.delete(table, key: key.bytes)
            } else {
                try txn.put(table, key: key.bytes, value: counters.bytes)
            }
        }
        try txn.put(tables.meta, key: Self.aggregatesSizeKey, value: BigEndianKey.bytes(newSize))
    }

    /// A state change of the checkpoints an entry's correction affects, begun before the change is written:
    /// subtracts their contributions now; `finish` adds the new ones.
    struct AggregateChange {
        let checkpoints: [UInt64]
        let commits: [String]
        let facts: RecordFacts
    }

    func beginAggregateChange(
        _ txn: WriteTransaction, index: UInt64, old: RecordFacts, new: RecordFacts, subjects: [UInt64],
        _ deltas: AggregateDeltas
    ) throws -> AggregateChange {
        deltas.subtract(Self.entryContributions(old))
        var checkpoints: [UInt64] = []
        var commits: [String] = []
        if old.type == .checkpoint {
            checkpoints = [index]
            commits = Self.outputCommits(old)
            for commit in Self.outputCommits(new) where !commits.contains(where: { sameBytes($0, commit) }) {
                commits.append(commit)
            }
        } else if old.type.isLifecycle || new.type.isLifecycle {
            for subject in subjects where !checkpoints.contains(subject) { checkpoints.append(subject) }
        }
        for checkpoint in checkpoints {
            deltas.subtract(
                Self.contributions(of: try checkpointState(txn, checkpoint), sensitivePaths: deltas.sensitivePaths))
        }
        for commit in commits { deltas.subtract(try commitContributions(txn, commit: commit)) }
        return AggregateChange(checkpoints: checkpoints, commits: commits, facts: new)
    }

    func finish(_ change: AggregateChange, _ txn: WriteTransaction, _ deltas: AggregateDeltas) throws {
        deltas.add(Self.entryContributions(change.facts))
        for checkpoint in change.checkpoints {
            deltas.add(
                Self.contributions(of: try checkpointState(txn, checkpoint), sensitivePaths: deltas.sensitivePaths))
        }
        for commit in change.commits { deltas.add(try commitContributions(txn, commit: commit)) }
    }

    // MARK: - Reading

    func aggregateCoverage(_ txn: some TransactionReading) throws -> UInt64 {
        guard let raw = try txn.value(tables.meta, key: Self.aggregatesSizeKey) else { return 0 }
        guard let size = raw.withUnsafeBytes({ BigEndianKey.decode($0) }) else {
            throw LedgerError(
                .corrupt, "meta/aggregates_size is not an 8-byte size (run `cairn fsck --rebuild-aggregates`)")
        }
        return size
    }

    func sensitivePaths(_ txn: some TransactionReading) throws -> [String] {
        guard let raw = try txn.value(tables.meta, key: Self.sensitivePathsKey) else {
            return Self.defaultSensitivePaths
        }
        guard let globs = (try? JSONParser.parse(raw))?.arrayValue?.compactMap(\.stringValue) else {
            throw LedgerError(
                .corrupt,
                "meta/sensitive_paths is not a JSON array of strings (set it again with "
                    + "`cairn fsck --rebuild-aggregates --sensitive-paths GLOBS`)")
        }
        return globs
    }

    /// Every checkpoint's contribution, every entry's and every AI commit's, summed: what the aggregates must hold.
    func computeAggregates(
        _ txn: some TransactionReading, treeSize: UInt64, sensitivePaths: [String]
    ) throws -> [AggregateKey: AggregateCounters] {
        let deltas = AggregateDeltas(sensitivePaths: sensitivePaths)
        for index in 0..<treeSize {
            let facts = try self.facts(txn, index)
            deltas.add(Self.entryContributions(facts))
            guard facts.type == .checkpoint else { continue }
            deltas.add(
                Self.contributions(of: try checkpointState(txn, index, facts: facts), sensitivePaths: sensitivePaths))
            for commit in Self.outputCommits(facts) {
                let prefix = IndexKey(.commit, commit).bytes
                var first: UInt64?
                try txn.forEach(tables.index, prefix: prefix) { key, _ in
                    first = readUInt64(key, at: prefix.count)
                    return false
                }
                if first == index { deltas.add(Self.commitContributions(commit: commit, firstCheckpoint: facts)) }
            }
        }
        return deltas.deltas.filter { !$0.value.isZero }
    }

    func storedAggregates(_ txn: some TransactionReading) throws -> [AggregateKey: AggregateCounters] {
        guard let table = tables.aggregates else { return [:] }
        var stored: [AggregateKey: AggregateCounters] = [:]
        try txn.forEach(table, prefix: []) { key, value in
            stored[AggregateKey(bytes: Array(key))] = AggregateCounters(bytes: value)
            return true
        }
        return stored
    }

    /// Recomputes the aggregates from the log and replaces the stored ones (with `sensitivePaths`, when given, as
    /// the new sensitive-path globs), in one write transaction; afterwards every commit keeps them.
    public func rebuildAggregates(
        sensitivePaths newGlobs: [String]? = nil
    ) throws(LedgerError) -> AggregateRebuildReport {
        guard profile == .provenance else {
            throw LedgerError(.invalidArgument, "aggregates need a ledger created with the provenance profile")
        }
        guard !isReadOnly, let table = tables.aggregates else {
            throw LedgerError(.readOnly, "the ledger at \(directory) is open read-only")
        }
        // Rules asked for from now on read the new globs (other processes' within a second, `recordRules`).
        defer { sensitivePathsCache.withLock { $0 = nil } }
        return try LedgerError.wrapping(fallback: .storage) {
            try writer.withLock { _ in
                try env.write { txn in
                    let size = try storedTreeSize(txn)
                    let globs = try newGlobs ?? sensitivePaths(txn)
                    let wasComplete = try aggregateCoverage(txn) == size && newGlobs == nil
                    let computed = try computeAggregates(txn, treeSize: size, sensitivePaths: globs)
                    let differed = wasComplete ? try storedAggregates(txn) != computed : nil
                    try txn.removeAll(table)
                    for (key, counters) in computed.sorted(by: { $0.key < $1.key }) {
                        try txn.put(table, key: key.bytes, value: counters.bytes)
                    }
                    if let newGlobs {
                        try txn.put(
                            tables.meta, key: Self.sensitivePathsKey,
                            value: JSONWriter.compactBytes(.array(newGlobs.map(JSONValue.string))))
                    }
                    try txn.put(tables.meta, key: Self.aggregatesSizeKey, value: BigEndianKey.bytes(size))
                    return AggregateRebuildReport(
                        treeSize: size, buckets: computed.count, differed: differed, sensitivePaths: globs)
                }
            }
        }
    }
}

extension LedgerSnapshot {
    /// How far the aggregates reach, and the sensitive-path globs they use.
    public func aggregateStatus() throws(LedgerError) -> AggregateStatus {
        try run {
            AggregateStatus(
                coveredSize: ledger.tables.aggregates == nil ? 0 : try ledger.aggregateCoverage(txn),
                treeSize: treeSize, sensitivePaths: try ledger.sensitivePaths(txn))
        }
    }

    /// The stored buckets of `dimension`, for one repository `scope` ("" for every repository together; nil for
    /// every scope), in key order. Weeks outside `weeks` (when given) and undated buckets (then) are left out.
    public func aggregateBuckets(
        _ dimension: AggregateDimension, scope: String?, weeks: ClosedRange<Int32>? = nil
    ) throws(LedgerError) -> [AggregateBucket] {
        try run {
            guard let table = ledger.tables.aggregates else { return [] }
            var prefix: [UInt8] = [dimension.rawValue]
            if let scope {
                // The scope's own length-prefixed bytes (a long scope is stored by its hash, like in the key).
                let key = Ledger.aggregateKey(dimension, scope: scope, value: "", week: nil).bytes
                let count = Int(key[1]) << 8 | Int(key[2])
                prefix = Array(key[0..<(3 + count)])
            }
            var out: [AggregateBucket] = []
            try txn.forEach(table, prefix: prefix) { key, value in
                guard let decoded = Ledger.decodeAggregateKey(key) else {
                    throw LedgerError(.corrupt, "aggregate key \(Hex.encode(key)) is malformed")
                }
                if let weeks {
                    guard let week = decoded.week, weeks.contains(week) else { return true }
                }
                out.append(
                    AggregateBucket(
                        dimension: decoded.dimension, scope: decoded.scope, value: decoded.value, week: decoded.week,
                        counters: AggregateCounters(bytes: value)))
                return true
            }
            return out
        }
    }

    /// Whether the stored aggregates equal a recomputation from the log (`cairn fsck`); nil when they do not cover
    /// the ledger. Reads every entry.
    public func aggregatesMatchLog() throws(LedgerError) -> Bool? {
        try run {
            guard ledger.tables.aggregates != nil, try ledger.aggregateCoverage(txn) == treeSize else { return nil }
            let computed = try ledger.computeAggregates(
                txn, treeSize: treeSize, sensitivePaths: try ledger.sensitivePaths(txn))
            return try ledger.storedAggregates(txn) == computed
        }
    }

    /// The counters checkpoint `index` contributes in repository `scope` ("" for all): what a drill-down's `state`
    /// is checked against.
    func checkpointCounters(_ index: UInt64, facts: RecordFacts, scope: String) throws -> AggregateCounters {
        let state = try ledger.checkpointState(txn, index, facts: facts)
        return Ledger.counters(of: state, scope: scope, sensitivePaths: try ledger.sensitivePaths(txn))
    }
}

/// Strings compared byte for byte (Swift's `==` uses canonical equivalence; keys and records compare bytes).
private func sameBytes(_ a: String, _ b: String) -> Bool {
    a.utf8.elementsEqual(b.utf8)
}

/// Aggregates computed from the log as it stood at one tree size (corrections and references below it only), in
/// memory: for a report that anyone can recompute later from the same ledger (`cairn report --format html`).
public struct AggregateTable: Sendable {
    /// The tree size the figures describe.
    public let treeSize: UInt64
    public let sensitivePaths: [String]
    private let counters: [AggregateKey: AggregateCounters]
    private let sortedKeys: [AggregateKey]

    init(treeSize: UInt64, sensitivePaths: [String], counters: [AggregateKey: AggregateCounters]) {
        self.treeSize = treeSize
        self.sensitivePaths = sensitivePaths
        self.counters = counters
        self.sortedKeys = counters.keys.sorted()
    }

    /// As `LedgerSnapshot.aggregateBuckets`: the buckets of `dimension` in `scope` ("" all repositories, nil every
    /// scope), in key order, within `weeks` when given.
    public func buckets(
        _ dimension: AggregateDimension, scope: String?, weeks: ClosedRange<Int32>? = nil
    ) -> [AggregateBucket] {
        var out: [AggregateBucket] = []
        for key in sortedKeys {
            guard
                let decoded = key.bytes.withUnsafeBytes({ Ledger.decodeAggregateKey($0) }),
                decoded.dimension == dimension
            else { continue }
            if let scope, !decoded.scope.utf8.elementsEqual(scope.utf8) { continue }
            if let weeks {
                guard let week = decoded.week, weeks.contains(week) else { continue }
            }
            out.append(
                AggregateBucket(
                    dimension: decoded.dimension, scope: decoded.scope, value: decoded.value, week: decoded.week,
                    counters: counters[key]!))
        }
        return out
    }
}

extension LedgerSnapshot {
    /// The aggregates as they would have stood at tree size `size` (default: this snapshot's), computed by scanning
    /// the log's entries below it, each with its corrections and references below it. The same call on the same
    /// ledger always gives the same table (with the same sensitive-path globs: the ledger's current ones).
    public func aggregateTable(asOf size: UInt64? = nil) throws(LedgerError) -> AggregateTable {
        let size = size ?? treeSize
        let globs = try run { try ledger.sensitivePaths(txn) }
        let deltas = AggregateDeltas(sensitivePaths: globs)
        var firstCheckpoint: [String: (index: UInt64, facts: RecordFacts)] = [:]
        do {
            for type in RecordType.allCases {
                try scan(type: type, asOf: size) { entry in
                    deltas.add(Ledger.entryContributions(entry.facts))
                    guard type == .checkpoint else { return true }
                    let state = CheckpointState(
                        index: entry.index, facts: entry.facts,
                        lifecycle: entry.references.filter { $0.type.isLifecycle }.map { ($0.index, $0.facts) },
                        corrected: entry.references.contains { $0.type == .correction })
                    deltas.add(Ledger.contributions(of: state, sensitivePaths: globs))
                    for commit in Ledger.outputCommits(entry.facts) where firstCheckpoint[commit] == nil {
                        firstCheckpoint[commit] = (entry.index, entry.facts)  // scans run in log order
                    }
                    return true
                }
            }
        } catch let error as LedgerError {
            throw error
        } catch {
            throw LedgerError(.storage, "\(error)")
        }
        for (commit, first) in firstCheckpoint {
            deltas.add(Ledger.commitContributions(commit: commit, firstCheckpoint: first.facts))
        }
        return AggregateTable(
            treeSize: size, sensitivePaths: globs, counters: deltas.deltas.filter { !$0.value.isZero })
    }
}
