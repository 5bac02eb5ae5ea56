import CairnJSON
import CairnRecords

/// The insight views: each answers one governance question (docs/dashboard.md, specs/http-api.md "Stats").
public enum StatsView: String, CaseIterable, Sendable, Hashable {
    /// The headline figures of every other view.
    case overview
    /// Share of changed lines (and AI commits) with AI involvement over time, per repository.
    case aiShare = "ai-share"
    /// Repositories with the highest AI share in sensitive paths.
    case sensitive
    /// Requesters whose AI share or attestation rate differs markedly from their peers' (z-scores).
    case requesters
    /// Model versions most often modified or rejected in review; acceptance by model and tool path.
    case models
    /// Unreviewed, untested and undeployed AI changes.
    case gaps
    /// Cost and tokens by work item, requester and model.
    case cost
    /// Ledger health: size, append rate, last checkpoint and its witnesses, access-log activity, last drill.
    case health

    /// The view's title, as the dashboard shows it.
    public var title: String {
        switch self {
        case .overview: "Overview"
        case .aiShare: "AI share"
        case .sensitive: "Sensitive paths"
        case .requesters: "Requesters"
        case .models: "Models and review"
        case .gaps: "Gaps"
        case .cost: "Cost and tokens"
        case .health: "Ledger health"
        }
    }

    /// The governance question the view answers.
    public var question: String {
        switch self {
        case .overview: "How much of our change is AI-assisted, and is it reviewed, tested and deployed with evidence?"
        case .aiShare: "What share of changed lines and commits involves AI, over time and per repository?"
        case .sensitive: "Which repositories have the highest AI share in sensitive paths?"
        case .requesters: "Whose AI share or attestation rate differs markedly from their peers'?"
        case .models: "Which model versions' output is most often changed or rejected in review?"
        case .gaps: "Which AI changes are unreviewed, untested or undeployed?"
        case .cost: "What did AI changes cost, by work item, requester and model?"
        case .health: "Is the ledger healthy: growing, signed, witnessed and read?"
        }
    }
}

/// The period and repository a view covers.
public struct StatsWindow: Sendable, Hashable {
    /// Unix milliseconds, inclusive; nil: from the beginning. Aggregates are kept per week (weeks start on
    /// Monday, 00:00 UTC), so a bound inside a week counts that whole week: `effectiveSince` says which.
    public var since: Int64?
    /// Unix milliseconds, exclusive; nil: up to now.
    public var until: Int64?
    /// Only changes to this repository (an output's `repo`, spelled exactly).
    public var repo: String?

    public init(since: Int64? = nil, until: Int64? = nil, repo: String? = nil) {
        self.since = since
        self.until = until
        self.repo = repo
    }
}

/// What a figure measures, for formatting.
public enum StatsUnit: String, Sendable, Hashable {
    case count
    /// A fraction from 0 to 1, shown as a percentage.
    case fraction
    case milliseconds
    case usd
    /// A standard score (how many standard deviations from the peers' mean).
    case score
    case text
    /// Unix milliseconds.
    case time
}

/// One view's figures: sections of tables and charts, each figure with the records behind it.
public struct StatsDocument: Sendable, Hashable {
    public var view: StatsView
    public var window: StatsWindow
    /// The tree size of the snapshot the figures were read from.
    public var treeSize: UInt64
    public var sections: [StatsSection]

    public init(view: StatsView, window: StatsWindow, treeSize: UInt64, sections: [StatsSection]) {
        self.view = view
        self.window = window
        self.treeSize = treeSize
        self.sections = sections
    }

    public var title: String { view.title }
    public var question: String { view.question }
}

/// A table of figures, optionally drawn as a chart.
public struct StatsSection: Sendable, Hashable {
    /// Stable within the view (`by-repo`), for scripts and the dashboard's `data-stat` attributes.
    public var id: String
    public var title: String
    /// How to read the figures (the statistic used, what is counted), or nil.
    public var note: String?
    public var columns: [StatsColumn]
    public var rows: [StatsRow]
    public var chart: StatsChart?

    public init(
        id: String, title: String, note: String? = nil, columns: [StatsColumn], rows: [StatsRow],
        chart: StatsChart? = nil
    ) {
        self.id = id
        self.title = title
        self.note = note
        self.columns = columns
        self.rows = rows
        self.chart = chart
    }
}

public struct StatsColumn: Sendable, Hashable {
    /// Stable within the section (`ai_lines`).
    public var id: String
    public var title: String
    public var unit: StatsUnit

    public init(id: String, title: String, unit: StatsUnit) {
        self.id = id
        self.title = title
        self.unit = unit
    }
}

public struct StatsRow: Sendable, Hashable {
    /// Stable within the section: the value the row is about (a repository, a model version, a week).
    public var id: String
    /// What the dashboard shows for it (untrusted text from records: escape it).
    public var label: String
    /// One per column.
    public var cells: [StatsCell]

    public init(id: String, label: String, cells: [StatsCell]) {
        self.id = id
        self.label = label
        self.cells = cells
    }
}

/// One figure.
public struct StatsCell: Sendable, Hashable {
    /// The number (nil for a text cell, or when the figure is undefined, e.g. a share of nothing).
    public var value: Double?
    /// For `text` columns.
    public var text: String?
    /// The records the figure counts, as a query; nil when it counts none or no query selects them.
    public var drill: StatsDrill?

    public init(value: Double?, text: String? = nil, drill: StatsDrill? = nil) {
        self.value = value
        self.text = text
        self.drill = drill
    }

    public static func text(_ text: String) -> StatsCell { StatsCell(value: nil, text: text) }
}

/// The checkpoints behind a figure: `GET /v1/query` parameters (specs/http-api.md §4.3), in order.
public struct StatsDrill: Sendable, Hashable {
    public var parameters: [Parameter]

    public struct Parameter: Sendable, Hashable {
        public var name: String
        public var value: String

        public init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
    }

    public init(_ parameters: [Parameter]) {
        self.parameters = parameters
    }

    /// `name=value&…`, percent-encoded (RFC 3986 unreserved characters kept).
    public var queryString: String {
        parameters.map { "\(Self.percentEncode($0.name))=\(Self.percentEncode($0.value))" }.joined(separator: "&")
    }

    static func percentEncode(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = Array("0123456789ABCDEF".utf8)
                out += "%" + String(decoding: [hex[Int(byte >> 4)], hex[Int(byte & 0xf)]], as: UTF8.self)
            }
        }
        return out
    }
}

/// A chart of a section's figures over labelled points (weeks, or rows).
public struct StatsChart: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable {
        /// One line per series over the labels (time).
        case line
        /// One bar per label, per series side by side.
        case bar
    }

    public var kind: Kind
    public var unit: StatsUnit
    /// The x-axis labels (`2026-11-30` for a week).
    public var labels: [String]
    public var series: [Series]

    public struct Series: Sendable, Hashable {
        public var name: String
        /// One per label; nil where undefined.
        public var values: [Double?]

        public init(name: String, values: [Double?]) {
            self.name = name
            self.values = values
        }
    }

    public init(kind: Kind, unit: StatsUnit, labels: [String], series: [Series]) {
        self.kind = kind
        self.unit = unit
        self.labels = labels
        self.series = series
    }
}

extension StatsCell {
    /// The figure as text for people: counts with thousands separators, fractions as percentages, dollars with
    /// cents, durations in the largest fitting unit, scores signed with two decimals; "–" when undefined.
    public func formatted(_ unit: StatsUnit) -> String {
        if let text, value == nil || unit == .text { return text }
        guard let value, value.isFinite else { return "–" }
        switch unit {
        case .count: return Self.grouped(value)
        case .fraction: return Self.decimal(value * 100, places: 1) + " %"
        case .usd: return "$" + Self.decimal(value, places: 2)
        case .score: return (value >= 0 ? "+" : "−") + Self.decimal(abs(value), places: 2)
        case .milliseconds:
            let seconds = value / 1000
            if seconds < 60 { return Self.decimal(seconds, places: 1) + " s" }
            if seconds < 3600 { return Self.decimal(seconds / 60, places: 1) + " min" }
            if seconds < 86_400 { return Self.decimal(seconds / 3600, places: 1) + " h" }
            return Self.decimal(seconds / 86_400, places: 1) + " d"
        case .time:
            guard let ms = Int64(exactly: value.rounded()) else { return "–" }
            return Timestamp.format(ms)
        case .text: return text ?? Self.grouped(value)
        }
    }

    /// `value` rounded to `places` decimals, without locale (a point, no grouping).
    static func decimal(_ value: Double, places: Int) -> String {
        var scale = 1.0
        for _ in 0..<places { scale *= 10 }
        let scaled = (abs(value) * scale).rounded()
        guard scaled < 9e15 else { return String(value) }
        let whole = Int64(scaled) / Int64(scale)
        let fraction = Int64(scaled) % Int64(scale)
        var text = (value < 0 && scaled > 0 ? "-" : "") + grouped(Double(whole))
        if places > 0 {
            let digits = String(fraction)
            text += "." + String(repeating: "0", count: places - digits.count) + digits
        }
        return text
    }

    /// An integer with a thin space every three digits (`12 345`).
    static func grouped(_ value: Double) -> String {
        guard abs(value) < 9e15 else { return String(value) }
        let integer = Int64(value.rounded())
        let digits = Array(String(integer.magnitude))
        var out = integer < 0 ? "-" : ""
        for (i, digit) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out += "\u{2009}" }
            out.append(digit)
        }
        return out
    }
}
