import CairnJSON
import CairnLedger
import CairnNote
import CairnRecords

/// What the caller knows beyond the ledger: the server's access log (health view), and the newest reports saved in
/// the ledger directory by commands that read a repository (`SavedReports`): the last fire drill (health view) and
/// the last missing-commit audit (gaps view).
public struct StatsContext: Sendable, Hashable {
    /// The access log's size and growth in the last 24 hours; nil when there is no server (the CLI).
    public var accessLog: AccessActivity?
    /// The last saved `cairn audit drill` report (specs/drill.md), when there is one.
    public var lastDrill: JSONValue?
    /// The last saved `cairn audit missing` result (specs/drill.md, "Saved missing-commit audits"), when there is one.
    public var lastMissingAudit: JSONValue?

    public struct AccessActivity: Sendable, Hashable {
        public var entries: UInt64
        public var lastDay: UInt64

        public init(entries: UInt64, lastDay: UInt64) {
            self.entries = entries
            self.lastDay = lastDay
        }
    }

    public init(accessLog: AccessActivity? = nil, lastDrill: JSONValue? = nil, lastMissingAudit: JSONValue? = nil) {
        self.accessLog = accessLog
        self.lastDrill = lastDrill
        self.lastMissingAudit = lastMissingAudit
    }
}

/// Why a view cannot be computed.
public struct StatsError: Error, Sendable, Hashable, CustomStringConvertible {
    public let message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}

/// Computes the stats views from a ledger snapshot's aggregates (`Ledger+Aggregates`, kept at append time): every
/// figure is a sum of stored counters, so a view costs the same on a ledger of any size; every count of checkpoints
/// carries the query (`StatsDrill`) that lists exactly the checkpoints it counts.
public enum StatsEngine {
    /// At most this many rows per ranked section (repositories, requesters, models…).
    public static let maxRows = 25

    /// The figures of `view` for `window`, read from `snapshot`. `now` (Unix ms) anchors the append rate.
    public static func document(
        _ view: StatsView, window: StatsWindow, in snapshot: LedgerSnapshot, now: Int64,
        context: StatsContext = StatsContext()
    ) throws -> StatsDocument {
        let status = try snapshot.aggregateStatus()
        guard status.isComplete else {
            throw StatsError(
                status.coveredSize > status.treeSize
                    ? "the ledger was created without stats aggregates: run `cairn fsck --rebuild-aggregates` once"
                    : "the ledger's aggregates cover \(status.coveredSize) of its \(status.treeSize) entries (it was "
                        + "created or appended to by an older cairn): run `cairn fsck --rebuild-aggregates` once")
        }
        let reader = Reader(
            snapshot: snapshot, window: window, sensitivePaths: status.sensitivePaths, coveredSize: status.coveredSize
        ) { dimension, scope, weeks in
            try snapshot.aggregateBuckets(dimension, scope: scope, weeks: weeks)
        }
        return StatsDocument(
            view: view, window: window, treeSize: snapshot.treeSize,
            sections: try reader.sections(view, now: now, context: context))
    }

    /// The figures of `view` for `window` from `table` (aggregates computed as of one tree size), for a report
    /// anyone can recompute: the health view, which describes the live ledger, has no sections here.
    public static func document(
        _ view: StatsView, window: StatsWindow, table: AggregateTable, in snapshot: LedgerSnapshot
    ) throws -> StatsDocument {
        let reader = Reader(
            snapshot: snapshot, window: window, sensitivePaths: table.sensitivePaths, coveredSize: table.treeSize
        ) { dimension, scope, weeks in
            table.buckets(dimension, scope: scope, weeks: weeks)
        }
        let sections = view == .health ? [] : try reader.sections(view, now: 0, context: StatsContext())
        return StatsDocument(view: view, window: window, treeSize: table.treeSize, sections: sections)
    }
}

/// Sums buckets for one window.
private struct Reader {
    typealias Field = AggregateCounters.Field

    typealias Source = (AggregateDimension, String?, ClosedRange<Int32>?) throws -> [AggregateBucket]

    let snapshot: LedgerSnapshot
    let window: StatsWindow
    let sensitivePaths: [String]
    let coveredSize: UInt64
    /// Where the buckets come from: the ledger's stored aggregates, or a table computed as of a tree size.
    let source: Source
    /// The weeks the window covers (nil: all, with undated buckets).
    let weeks: ClosedRange<Int32>?
    let scope: String

    init(
        snapshot: LedgerSnapshot, window: StatsWindow, sensitivePaths: [String], coveredSize: UInt64,
        source: @escaping Source
    ) {
        self.snapshot = snapshot
        self.window = window
        self.sensitivePaths = sensitivePaths
        self.coveredSize = coveredSize
        self.source = source
        self.scope = window.repo ?? ""
        if window.since == nil && window.until == nil {
            weeks = nil
        } else {
            let first = window.since.map(AggregateWeek.week(ofMilliseconds:)) ?? Int32.min + 1
            let last = window.until.map { AggregateWeek.week(ofMilliseconds: $0 - 1) } ?? Int32.max
            weeks = first <= last ? first...last : nil
        }
    }

    func sections(_ view: StatsView, now: Int64, context: StatsContext) throws -> [StatsSection] {
        switch view {
        case .overview: try overview()
        case .aiShare: try aiShare()
        case .sensitive: try sensitive()
        case .requesters: try requesters()
        case .models: try models()
        case .gaps: try gaps(context)
        case .cost: try cost()
        case .health: try self.health(now: now, context: context)
        }
    }

    // MARK: Sums

    /// Counters per value of `dimension` in the window and scope.
    func totals(
        _ dimension: AggregateDimension, scope: String? = nil
    ) throws -> [(value: String, counters: AggregateCounters)] {
        var sums: [String: AggregateCounters] = [:]
        var order: [String] = []
        for bucket in try source(dimension, scope ?? self.scope, weeks) {
            if sums[bucket.value] == nil { order.append(bucket.value) }
            sums[bucket.value, default: AggregateCounters()] =
                sums[bucket.value, default: AggregateCounters()]
                + bucket.counters
        }
        return order.map { ($0, sums[$0]!) }
    }

    func total() throws -> AggregateCounters {
        try totals(.all).first?.counters ?? AggregateCounters()
    }

    /// Counters per repository (every scope but the all-repositories one), in the window.
    func perRepository() throws -> [(repo: String, counters: AggregateCounters)] {
        var sums: [String: AggregateCounters] = [:]
        var order: [String] = []
        for bucket in try source(.all, nil, weeks) where !bucket.scope.isEmpty {
            if let repo = window.repo, !repo.utf8.elementsEqual(bucket.scope.utf8) { continue }
            if sums[bucket.scope] == nil { order.append(bucket.scope) }
            sums[bucket.scope, default: AggregateCounters()] =
                sums[bucket.scope, default: AggregateCounters()]
                + bucket.counters
        }
        return order.map { ($0, sums[$0]!) }
    }

    /// Counters per week of the window (every week from the first to the last with data, zeros between).
    func perWeek() throws -> [(week: Int32, counters: AggregateCounters)] {
        var sums: [Int32: AggregateCounters] = [:]
        for bucket in try source(.all, scope, weeks) {
            guard let week = bucket.week else { continue }
            sums[week, default: AggregateCounters()] = sums[week, default: AggregateCounters()] + bucket.counters
        }
        guard let first = sums.keys.min(), let last = sums.keys.max() else { return [] }
        return (first...last).map { ($0, sums[$0] ?? AggregateCounters()) }
    }

    // MARK: Drill-downs

    /// The query parameters of the window: the repository, and the whole weeks the figures count.
    var windowParameters: [StatsDrill.Parameter] {
        var parameters: [StatsDrill.Parameter] = []
        if let repo = window.repo { parameters.append(.init("repo", repo)) }
        if let weeks {
            if weeks.lowerBound > Int32.min + 1 {
                parameters.append(.init("since", Timestamp.format(AggregateWeek.start(of: weeks.lowerBound))))
            }
            if weeks.upperBound < Int32.max {
                parameters.append(.init("until", Timestamp.format(AggregateWeek.start(of: weeks.upperBound + 1))))
            }
        }
        return parameters
    }

    func drill(
        _ dimension: AggregateDimension? = nil, value: String = "", repo: String? = nil, week: Int32? = nil,
        state: String? = nil
    ) -> StatsDrill {
        var parameters = windowParameters
        if let repo { parameters.removeAll { $0.name == "repo" }; parameters.append(.init("repo", repo)) }
        if let week {
            parameters.removeAll { $0.name == "since" || $0.name == "until" }
            parameters.append(.init("since", Timestamp.format(AggregateWeek.start(of: week))))
            parameters.append(.init("until", Timestamp.format(AggregateWeek.start(of: week + 1))))
        }
        switch dimension {
        case .model?:
            let (id, version) = Self.splitModel(value)
            parameters.append(.init("model", id))
            if !version.isEmpty { parameters.append(.init("model_version", version)) }
        case .toolPath?: parameters.append(.init("tool_path", value))
        case .requester?: parameters.append(.init("requested_by", value))
        case .workItem?: parameters.append(.init("work_item", value))
        case .reviewer?: parameters.append(.init("reviewer", value))
        case .all?, .type?, nil: break
        }
        if let state { parameters.append(.init("state", state)) }
        return StatsDrill(parameters)
    }

    /// The first `StatsEngine.maxRows` of `items`, by `keys` descending (compared in order), then by name (bytes,
    /// ascending): a total order, so the same figures always list the same rows in the same order.
    static func ranked<T>(_ items: [T], name: (T) -> String, by keys: (T) -> [Double]) -> [T] {
        let keyed = items.map { (item: $0, keys: keys($0), name: Array(name($0).utf8)) }
        let sorted = keyed.sorted { a, b in
            for (x, y) in zip(a.keys, b.keys) where x != y { return x > y }
            return a.name.lexicographicallyPrecedes(b.name)
        }
        return sorted.prefix(StatsEngine.maxRows).map(\.item)
    }

    static func splitModel(_ value: String) -> (id: String, version: String) {
        guard let separator = value.firstIndex(of: AggregateDimension.modelSeparator) else { return (value, "") }
        return (String(value[..<separator]), String(value[value.index(after: separator)...]))
    }

    static func modelLabel(_ value: String) -> String {
        let (id, version) = splitModel(value)
        return version.isEmpty ? id : "\(id) \(version)"
    }

    // MARK: Cells

    static func count(_ value: Int64, drill: StatsDrill? = nil) -> StatsCell {
        StatsCell(value: Double(value), drill: value > 0 ? drill : nil)
    }

    static func fraction(_ part: Int64, of whole: Int64) -> StatsCell {
        StatsCell(value: whole > 0 ? Double(part) / Double(whole) : nil)
    }

    static func usd(_ micro: Int64) -> StatsCell { StatsCell(value: Double(micro) / 1e6) }

    static func aiLines(_ c: AggregateCounters) -> Int64 { c[.aiLines] + c[.mixedLines] }

    static func label(week: Int32) -> String { String(Timestamp.format(AggregateWeek.start(of: week)).prefix(10)) }

    static let column = StatsColumn.init(id:title:unit:)

    // MARK: Views

    func overview() throws -> [StatsSection] {
        let c = try total()
        let columns = [
            Self.column("checkpoints", "AI changes", .count),
            Self.column("ai_commits", "AI commits", .count),
            Self.column("ai_line_share", "AI share of lines", .fraction),
            Self.column("reviewed_share", "Reviewed", .fraction),
            Self.column("unreviewed", "Unreviewed", .count),
            Self.column("untested", "Untested", .count),
            Self.column("undeployed", "Undeployed", .count),
            Self.column("sensitive", "In sensitive paths", .count),
            Self.column("corrected", "Corrected", .count),
            Self.column("cost_usd", "Cost (USD)", .usd),
        ]
        let row = StatsRow(
            id: "all", label: window.repo ?? "All repositories",
            cells: [
                Self.count(c[.checkpoints], drill: drill()),
                Self.count(c[.aiCommits]),
                Self.fraction(Self.aiLines(c), of: c[.lines]),
                Self.fraction(c[.reviewed], of: c[.checkpoints]),
                Self.count(c[.checkpoints] - c[.reviewed], drill: drill(state: "unreviewed")),
                Self.count(c[.checkpoints] - c[.tested], drill: drill(state: "untested")),
                Self.count(c[.checkpoints] - c[.deployed], drill: drill(state: "undeployed")),
                Self.count(c[.sensitiveCheckpoints], drill: drill(state: "sensitive")),
                Self.count(c[.corrected], drill: drill(state: "corrected")),
                Self.usd(c[.costMicroUSD]),
            ])
        let weekly = try perWeek()
        let trend = StatsSection(
            id: "by-week", title: "AI changes per week",
            note: "Checkpoints by the week of their timestamp (weeks start on Monday, UTC), and how many are reviewed.",
            columns: [
                Self.column("checkpoints", "AI changes", .count), Self.column("reviewed", "Reviewed", .count),
            ],
            rows: weekly.map { week, c in
                StatsRow(
                    id: Self.label(week: week), label: Self.label(week: week),
                    cells: [
                        Self.count(c[.checkpoints], drill: drill(week: week)),
                        Self.count(c[.reviewed], drill: drill(week: week, state: "reviewed")),
                    ])
            },
            chart: StatsChart(
                kind: .line, unit: .count, labels: weekly.map { Self.label(week: $0.week) },
                series: [
                    .init(name: "AI changes", values: weekly.map { Double($0.counters[.checkpoints]) }),
                    .init(name: "Reviewed", values: weekly.map { Double($0.counters[.reviewed]) }),
                ]))
        return [
            StatsSection(
                id: "headline", title: "At a glance",
                note: "Every figure counts checkpoints (AI-assisted changes) whose timestamp is in the window.",
                columns: columns, rows: [row]),
            trend,
        ]
    }

    func shareColumns() -> [StatsColumn] {
        [
            Self.column("lines", "Changed lines", .count),
            Self.column("ai_lines", "AI lines", .count),
            Self.column("ai_line_share", "AI share", .fraction),
            Self.column("ai_commits", "AI commits", .count),
            Self.column("checkpoints", "AI changes", .count),
        ]
    }

    func shareCells(_ c: AggregateCounters, drill: StatsDrill) -> [StatsCell] {
        [
            Self.count(c[.lines], drill: drill),
            Self.count(Self.aiLines(c), drill: drill),
            Self.fraction(Self.aiLines(c), of: c[.lines]),
            Self.count(c[.aiCommits]),
            Self.count(c[.checkpoints], drill: drill),
        ]
    }

    func aiShare() throws -> [StatsSection] {
        let weekly = try perWeek()
        let note =
            "AI lines are the lines of recorded changes whose contributor is `ai` or `mixed`, out of every line the "
            + "ledger's records name (lines a person wrote in the same change are `human`). AI commits are distinct "
            + "commits a checkpoint names, counted in the week of the first one."
        let byWeek = StatsSection(
            id: "by-week", title: "Share of changed lines with AI involvement, per week", note: note,
            columns: shareColumns(),
            rows: weekly.map { week, c in
                StatsRow(
                    id: Self.label(week: week), label: Self.label(week: week),
                    cells: shareCells(c, drill: drill(week: week)))
            },
            chart: StatsChart(
                kind: .line, unit: .fraction, labels: weekly.map { Self.label(week: $0.week) },
                series: [
                    .init(
                        name: "AI share of lines",
                        values: weekly.map {
                            $0.counters[.lines] > 0
                                ? Double(Self.aiLines($0.counters)) / Double($0.counters[.lines]) : nil
                        })
                ]))
        let repos = Self.ranked(try perRepository(), name: \.repo) { [Double($0.counters[.lines])] }
        let byRepo = StatsSection(
            id: "by-repo", title: "Per repository", columns: shareColumns(),
            rows: repos.map { repo, c in
                StatsRow(id: repo, label: repo, cells: shareCells(c, drill: drill(repo: repo)))
            },
            chart: StatsChart(
                kind: .bar, unit: .fraction, labels: repos.map(\.repo),
                series: [
                    .init(
                        name: "AI share of lines",
                        values: repos.map {
                            $0.counters[.lines] > 0
                                ? Double(Self.aiLines($0.counters)) / Double($0.counters[.lines]) : nil
                        })
                ]))
        return [byWeek, byRepo]
    }

    func sensitive() throws -> [StatsSection] {
        let repos = Self.ranked(try perRepository().filter { $0.counters[.sensitiveLines] > 0 }, name: \.repo) {
            [
                Double($0.counters[.sensitiveAILines]) / Double($0.counters[.sensitiveLines]),
                Double($0.counters[.sensitiveLines]),
            ]
        }
        let columns = [
            Self.column("sensitive_lines", "Lines in sensitive paths", .count),
            Self.column("sensitive_ai_lines", "AI lines there", .count),
            Self.column("sensitive_ai_share", "AI share there", .fraction),
            Self.column("sensitive_checkpoints", "AI changes there", .count),
        ]
        return [
            StatsSection(
                id: "by-repo", title: "Repositories by AI share in sensitive paths",
                note: "A path is sensitive when it matches one of the ledger's globs (fnmatch, `*` crosses `/`): "
                    + sensitivePaths.joined(separator: " ")
                    + ". Change them with `cairn fsck --rebuild-aggregates --sensitive-paths`.",
                columns: columns,
                rows: repos.map { repo, c in
                    let drill = drill(repo: repo, state: "sensitive")
                    return StatsRow(
                        id: repo, label: repo,
                        cells: [
                            Self.count(c[.sensitiveLines], drill: drill),
                            Self.count(c[.sensitiveAILines], drill: drill),
                            Self.fraction(c[.sensitiveAILines], of: c[.sensitiveLines]),
                            Self.count(c[.sensitiveCheckpoints], drill: drill),
                        ])
                },
                chart: StatsChart(
                    kind: .bar, unit: .fraction, labels: repos.map(\.repo),
                    series: [
                        .init(
                            name: "AI share in sensitive paths",
                            values: repos.map {
                                Double($0.counters[.sensitiveAILines]) / Double($0.counters[.sensitiveLines])
                            })
                    ]))
        ]
    }

    /// Standard scores of `values` (population standard deviation); nil where undefined (fewer than 3 peers, or
    /// no spread).
    static func zScores(_ values: [Double?]) -> [Double?] {
        let known = values.compactMap { $0 }
        guard known.count >= 3 else { return values.map { _ in nil } }
        let mean = known.reduce(0, +) / Double(known.count)
        let variance = known.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(known.count)
        guard variance > 0 else { return values.map { _ in nil } }
        let deviation = variance.squareRoot()
        return values.map { $0.map { ($0 - mean) / deviation } }
    }

    func requesters() throws -> [StatsSection] {
        let rows = try totals(.requester)
        let share: [Double?] = rows.map {
            $0.counters[.lines] > 0 ? Double(Self.aiLines($0.counters)) / Double($0.counters[.lines]) : nil
        }
        let attested: [Double?] = rows.map {
            $0.counters[.checkpoints] > 0 ? Double($0.counters[.attested]) / Double($0.counters[.checkpoints]) : nil
        }
        let shareZ = Self.zScores(share)
        let attestedZ = Self.zScores(attested)
        let ranked = Self.ranked(Array(rows.indices), name: { rows[$0].value }) {
            [max(abs(shareZ[$0] ?? 0), abs(attestedZ[$0] ?? 0)), Double(rows[$0].counters[.checkpoints])]
        }
        return [
            StatsSection(
                id: "by-requester", title: "Requesters compared with their peers",
                note: "z = (value − mean) ÷ standard deviation over the \(rows.count) requesters in the window "
                    + "(population; shown when there are at least 3 and they differ). A large |z| is a question to "
                    + "ask, not a verdict. Attested: changes declared with `cairn attest` rather than captured by a hook.",
                columns: [
                    Self.column("checkpoints", "AI changes", .count),
                    Self.column("ai_line_share", "AI share of lines", .fraction),
                    Self.column("ai_line_share_z", "z (AI share)", .score),
                    Self.column("attested_share", "Attested", .fraction),
                    Self.column("attested_share_z", "z (attested)", .score),
                    Self.column("unreviewed", "Unreviewed", .count),
                ],
                rows: ranked.map { i in
                    let (value, c) = rows[i]
                    return StatsRow(
                        id: value, label: value,
                        cells: [
                            Self.count(c[.checkpoints], drill: drill(.requester, value: value)),
                            StatsCell(value: share[i]),
                            StatsCell(value: shareZ[i]),
                            StatsCell(value: attested[i]),
                            StatsCell(value: attestedZ[i]),
                            Self.count(
                                c[.checkpoints] - c[.reviewed],
                                drill: drill(.requester, value: value, state: "unreviewed")),
                        ])
                })
        ]
    }

    func reviewColumns() -> [StatsColumn] {
        [
            Self.column("checkpoints", "AI changes", .count),
            Self.column("reviewed", "Reviewed", .count),
            Self.column("approved", "Approved", .count),
            Self.column("acceptance", "Acceptance", .fraction),
            Self.column("revised", "Changes requested", .count),
            Self.column("rejected", "Rejected", .count),
            Self.column("changed_or_rejected", "Changed or rejected", .fraction),
            Self.column("review_latency", "Mean time to review", .milliseconds),
        ]
    }

    func reviewCells(_ c: AggregateCounters, _ dimension: AggregateDimension, _ value: String) -> [StatsCell] {
        [
            Self.count(c[.checkpoints], drill: drill(dimension, value: value)),
            Self.count(c[.reviewed], drill: drill(dimension, value: value, state: "reviewed")),
            Self.count(c[.approved], drill: drill(dimension, value: value, state: "approved")),
            Self.fraction(c[.approved], of: c[.reviewed]),
            Self.count(c[.revised], drill: drill(dimension, value: value, state: "revised")),
            Self.count(c[.rejected], drill: drill(dimension, value: value, state: "rejected")),
            Self.fraction(c[.reviewed] - c[.approved], of: c[.reviewed]),
            StatsCell(
                value: c[.reviewLatencyCount] > 0 ? Double(c[.reviewLatencyMs]) / Double(c[.reviewLatencyCount]) : nil),
        ]
    }

    func models() throws -> [StatsSection] {
        func rate(_ c: AggregateCounters) -> Double {
            c[.reviewed] > 0 ? Double(c[.reviewed] - c[.approved]) / Double(c[.reviewed]) : -1
        }
        let models = Self.ranked(try totals(.model), name: \.value) {
            [rate($0.counters), Double($0.counters[.checkpoints])]
        }
        let tools = try totals(.toolPath).sorted { $0.value < $1.value }
        let note =
            "Acceptance: reviewed changes whose latest review approved them. Changed or rejected: reviewed changes "
            + "whose latest review did not approve them (changes requested, or rejected). Changes requested counts "
            + "any review that asked for changes, even if a later one approved."
        return [
            StatsSection(
                id: "by-model", title: "Model versions, most often changed or rejected first", note: note,
                columns: reviewColumns(),
                rows: models.map { value, c in
                    StatsRow(id: value, label: Self.modelLabel(value), cells: reviewCells(c, .model, value))
                },
                chart: StatsChart(
                    kind: .bar, unit: .fraction, labels: models.map { Self.modelLabel($0.value) },
                    series: [
                        .init(
                            name: "Acceptance",
                            values: models.map {
                                $0.counters[.reviewed] > 0
                                    ? Double($0.counters[.approved]) / Double($0.counters[.reviewed]) : nil
                            })
                    ])),
            StatsSection(
                id: "by-tool-path", title: "Acceptance by tool path", columns: reviewColumns(),
                rows: tools.map { value, c in StatsRow(id: value, label: value, cells: reviewCells(c, .toolPath, value))
                }),
        ]
    }

    func gaps(_ context: StatsContext) throws -> [StatsSection] {
        let columns = [
            Self.column("checkpoints", "AI changes", .count),
            Self.column("unreviewed", "Unreviewed", .count),
            Self.column("untested", "Untested", .count),
            Self.column("undeployed", "Undeployed", .count),
            Self.column("tests_failed", "Latest test failed", .count),
            Self.column("rejected", "Rejected", .count),
            Self.column("rolled_back", "Rolled back", .count),
        ]
        func cells(_ c: AggregateCounters, repo: String?) -> [StatsCell] {
            [
                Self.count(c[.checkpoints], drill: drill(repo: repo)),
                Self.count(c[.checkpoints] - c[.reviewed], drill: drill(repo: repo, state: "unreviewed")),
                Self.count(c[.checkpoints] - c[.tested], drill: drill(repo: repo, state: "untested")),
                Self.count(c[.checkpoints] - c[.deployed], drill: drill(repo: repo, state: "undeployed")),
                Self.count(c[.testsFailed], drill: drill(repo: repo, state: "tests_failed")),
                Self.count(c[.rejected], drill: drill(repo: repo, state: "rejected")),
                Self.count(c[.rolledBack], drill: drill(repo: repo, state: "rolled_back")),
            ]
        }
        let total = try total()
        let repos = Self.ranked(try perRepository(), name: \.repo) {
            [Double($0.counters[.checkpoints] - $0.counters[.reviewed]), Double($0.counters[.checkpoints])]
        }
        var sections: [StatsSection] = []
        if let audit = context.lastMissingAudit {
            sections.append(Self.missingAuditSection(audit))
        }
        return [
            StatsSection(
                id: "by-repo", title: "AI changes without review, tests or deploy",
                note:
                    "Counts checkpoints no review, test or deploy record names yet. Commits with no provenance at all "
                    + "are found by `cairn audit missing`, which reads the repository (the ledger does not see them); "
                    + "its last run saved with --save is shown below.",
                columns: columns,
                rows: [StatsRow(id: "", label: "All repositories", cells: cells(total, repo: nil))]
                    + repos.map { repo, c in StatsRow(id: repo, label: repo, cells: cells(c, repo: repo)) },
                chart: StatsChart(
                    kind: .bar, unit: .count, labels: ["Unreviewed", "Untested", "Undeployed"],
                    series: [
                        .init(
                            name: "AI changes",
                            values: [
                                Double(total[.checkpoints] - total[.reviewed]),
                                Double(total[.checkpoints] - total[.tested]),
                                Double(total[.checkpoints] - total[.deployed]),
                            ])
                    ]))
        ] + sections
    }

    /// The last saved `cairn audit missing` run: the commits of a repository that no checkpoint covers. The ledger
    /// cannot count these itself (they are not in it); the figures are the audit's, as saved.
    static func missingAuditSection(_ audit: JSONValue) -> StatsSection {
        var described: [String] = []
        if let at = audit["at"]?.stringValue { described.append("run at " + at) }
        if let repo = audit["repo"]?.stringValue { described.append("on " + repo) }
        if let range = audit["range"]?.stringValue { described.append("range " + range) }
        if let size = audit["tree_size"]?.numberValue { described.append("against tree size \(Int64(size))") }
        let missing = audit["missing"]?.arrayValue ?? []
        return StatsSection(
            id: "commits-without-provenance", title: "Commits without provenance (last saved audit)",
            note: "From `cairn audit missing --save` (" + described.joined(separator: ", ")
                + "): commits of the repository that no checkpoint covers, which the ledger cannot see. Run it "
                + "again to refresh; `cairn audit missing --json` lists them.",
            columns: [Self.column("value", "Commits", .count)],
            rows: [
                StatsRow(
                    id: "examined", label: "Commits examined",
                    cells: [StatsCell(value: audit["commits_examined"]?.numberValue)]),
                StatsRow(
                    id: "without_provenance",
                    label: audit["mode"]?.stringValue == "ai-only"
                        ? "Commits declaring AI whose trailer does not resolve" : "Commits no checkpoint covers",
                    cells: [StatsCell(value: Double(missing.count))]),
            ])
    }

    func cost() throws -> [StatsSection] {
        let columns = [
            Self.column("checkpoints", "AI changes", .count),
            Self.column("input_tokens", "Input tokens", .count),
            Self.column("output_tokens", "Output tokens", .count),
            Self.column("cost_usd", "Cost (USD)", .usd),
        ]
        func section(_ id: String, _ title: String, _ dimension: AggregateDimension) throws -> StatsSection {
            let rows = Self.ranked(try totals(dimension), name: \.value) {
                [Double($0.counters[.costMicroUSD]), Double($0.counters[.inputTokens] + $0.counters[.outputTokens])]
            }
            return StatsSection(
                id: id, title: title, columns: columns,
                rows: rows.map { value, c in
                    StatsRow(
                        id: value, label: dimension == .model ? Self.modelLabel(value) : value,
                        cells: [
                            Self.count(c[.checkpoints], drill: drill(dimension, value: value)),
                            Self.count(c[.inputTokens]), Self.count(c[.outputTokens]), Self.usd(c[.costMicroUSD]),
                        ])
                })
        }
        let calls = try source(.type, "", weeks).filter {
            $0.value == RecordType.modelCall.rawValue
        }.reduce(AggregateCounters()) { $0 + $1.counters }
        return [
            try section("by-work-item", "By work item", .workItem),
            try section("by-requester", "By requester", .requester),
            try section("by-model", "By model version", .model),
            StatsSection(
                id: "model-calls", title: "Model calls from providers' logs",
                note:
                    "What `cairn import --format provider-log` recorded (all repositories): the provider's own count.",
                columns: [
                    Self.column("calls", "Calls", .count), Self.column("input_tokens", "Input tokens", .count),
                    Self.column("output_tokens", "Output tokens", .count), Self.column("cost_usd", "Cost (USD)", .usd),
                ],
                rows: [
                    StatsRow(
                        id: "all", label: "All providers",
                        cells: [
                            Self.count(calls[.entries]), Self.count(calls[.inputTokens]),
                            Self.count(calls[.outputTokens]), Self.usd(calls[.costMicroUSD]),
                        ])
                ]),
        ]
    }

    func health(now: Int64, context: StatsContext) throws -> [StatsSection] {
        let checkpoint = try snapshot.checkpoint()
        let cosigners = checkpoint.note.signatures.filter { $0.name != snapshot.ledger.origin }.map(\.name)
        var rows: [StatsRow] = [
            StatsRow(
                id: "tree_size", label: "Entries in the log", cells: [StatsCell(value: Double(snapshot.treeSize))]),
            StatsRow(
                id: "appended_day", label: "Appended in the last 24 hours",
                cells: [StatsCell(value: Double(try snapshot.entriesAppended(since: now - 86_400_000)))]),
            StatsRow(
                id: "appended_week", label: "Appended in the last 7 days",
                cells: [StatsCell(value: Double(try snapshot.entriesAppended(since: now - 7 * 86_400_000)))]),
            StatsRow(
                id: "checkpoint_size", label: "Latest signed checkpoint (tree size)",
                cells: [StatsCell(value: Double(checkpoint.checkpoint.size))]),
            StatsRow(
                id: "witnesses", label: "Witness cosignatures on it",
                cells: [
                    StatsCell(
                        value: Double(cosigners.count),
                        text: cosigners.isEmpty ? "none" : cosigners.joined(separator: ", "))
                ]),
            StatsRow(
                id: "aggregates", label: "Entries the aggregates cover",
                cells: [StatsCell(value: Double(coveredSize))]),
        ]
        if let access = context.accessLog {
            rows.append(
                StatsRow(
                    id: "access_log", label: "Access-log entries", cells: [StatsCell(value: Double(access.entries))]))
            rows.append(
                StatsRow(
                    id: "access_log_day", label: "Access-log entries in the last 24 hours",
                    cells: [StatsCell(value: Double(access.lastDay))]))
        }
        var sections = [
            StatsSection(
                id: "ledger", title: "The log",
                columns: [Self.column("value", "Value", .count)], rows: rows)
        ]
        let types = try totals(.type, scope: "").sorted { $0.value < $1.value }
        sections.append(
            StatsSection(
                id: "entries-by-type", title: "Entries by type in the window",
                note: "Each entry in the week of its own time (tests and corrections without `at` only when the window "
                    + "is unbounded).",
                columns: [Self.column("entries", "Entries", .count)],
                rows: types.map { value, c in
                    StatsRow(id: value, label: value, cells: [Self.count(c[.entries])])
                }))
        if let drill = context.lastDrill {
            let byKind = drill["gaps_by_kind"]?.objectValue.map { $0.members } ?? []
            sections.append(
                StatsSection(
                    id: "last-drill",
                    title: "Last fire drill" + (drill["at"]?.stringValue.map { " (\($0))" } ?? ""),
                    note: "From `cairn audit drill --save`: random recent commits walked through the trail.",
                    columns: [Self.column("value", "Value", .count)],
                    rows: [
                        StatsRow(
                            id: "commits_drilled", label: "Commits drilled",
                            cells: [StatsCell(value: drill["commits_drilled"]?.numberValue)]),
                        StatsRow(
                            id: "gaps", label: "Gaps found", cells: [StatsCell(value: drill["gaps"]?.numberValue)]),
                    ]
                        + byKind.map { kind, count in
                            StatsRow(
                                id: "gaps." + kind, label: "Gaps: " + kind, cells: [StatsCell(value: count.numberValue)]
                            )
                        }))
        }
        return sections
    }
}
