import ArgumentParser
import CairnInsight
import CairnJSON
import CairnLedger
import CairnRecords
import Foundation

/// `cairn stats`: the dashboard's figures on the command line, from the aggregates the ledger keeps at append time.
struct StatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Show the governance figures: AI share, sensitive paths, review, gaps, cost, health.",
        discussion: prose(
            """
            Prints one view of the figures the dashboard (`cairn serve`, /ui/) shows, read from
            aggregates the ledger keeps up to date with every append and correction — so a view costs
            the same on a ledger of millions of records. Without VIEW: the overview. Views:
            \(StatsView.allCases.map(\.rawValue).joined(separator: ", ")) (docs/dashboard.md says what
            each answers).

            --since/--until bound the window by the records' own timestamps (RFC 3339 UTC or a date;
            --until exclusive). Aggregates are kept per week (Monday to Monday, UTC), so a bound inside a
            week counts that whole week; the drill-down queries (--json "drill") name the exact weeks.
            --repo restricts every figure to one repository's outputs.

            Every count of changes in --json comes with "drill": the `GET /v1/query` parameters that list
            exactly the checkpoints it counts (`cairn query` takes the same filters as options:
            --state, --model-version...). Reads never write: stats opens the ledger read-only.

            A ledger created by an older cairn has no aggregates yet: `cairn fsck --rebuild-aggregates`
            builds them once (and --sensitive-paths changes which paths count as sensitive).

            EXIT STATUS
              0   the view was printed
              64  usage error: an unknown view, a bad time
              66  no ledger at the given path
              70  internal error, or aggregates that do not cover the ledger (run fsck --rebuild-aggregates)
              74  I/O error reading the ledger or writing the output

            EXAMPLES
              cairn stats
              cairn stats gaps --since 2026-11-01
              cairn stats models --json
              cairn stats sensitive --repo payments/client
            """)
    )

    @Argument(
        help: ArgumentHelp(
            "The view: \(StatsView.allCases.map(\.rawValue).joined(separator: ", ")) (default overview).",
            valueName: "view"))
    var view: String?

    @OptionGroup var location: LedgerLocation

    @Option(help: ArgumentHelp("From this time (inclusive; its whole week counts).", valueName: "time"))
    var since: String?
    @Option(help: ArgumentHelp("Before this time (exclusive; its whole week counts).", valueName: "time"))
    var until: String?
    @Option(help: ArgumentHelp("Only this repository's outputs.", valueName: "repo")) var repo: String?
    @Flag(help: "Print the view as JSON (specs/http-api.md, \"GET /v1/stats/{view}\").") var json = false

    func validate() throws {
        if let view, StatsView(rawValue: view) == nil {
            throw ValidationError(
                "VIEW must be one of \(StatsView.allCases.map(\.rawValue).joined(separator: ", ")); got \(view)")
        }
    }

    func run() throws {
        try runReportingErrors {
            let view = view.flatMap(StatsView.init(rawValue:)) ?? .overview
            var window = StatsWindow(repo: repo)
            window.since = try since.map { try parseTime($0, option: "--since") }
            window.until = try until.map { try parseTime($0, option: "--until") }
            if let since = window.since, let until = window.until, since >= until {
                throw CLIError(.usage, "--until must be after --since")
            }
            let ledger = try location.open(readOnly: true)
            var context = StatsContext()
            if view == .health || view == .gaps {
                do {
                    (context.lastDrill, context.lastMissingAudit) = try SavedReports.context(
                        ledgerDirectory: ledger.directory)
                } catch {
                    throw CLIError(.ioError, "\(error)")
                }
            }
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            let document: StatsDocument
            do {
                document = try ledger.read { snapshot in
                    try StatsEngine.document(view, window: window, in: snapshot, now: now, context: context)
                }
            } catch let error as StatsError {
                throw CLIError(.software, error.message)
            }
            if json {
                printJSON(document.json)
            } else {
                printText(document)
            }
        }
    }

    private func printText(_ document: StatsDocument) {
        Console.line(document.title + " — " + document.question)
        var window: [String] = []
        if let since = document.window.since { window.append("from " + Timestamp.format(since)) }
        if let until = document.window.until { window.append("until " + Timestamp.format(until)) }
        if let repo = document.window.repo { window.append("repository " + DisplayText.escape(repo)) }
        Console.line(
            "Window: " + (window.isEmpty ? "all time" : window.joined(separator: ", ")) + "; tree size "
                + String(document.treeSize))
        for section in document.sections {
            Console.line("")
            Console.line("## " + DisplayText.escape(section.title))
            if let note = section.note { Console.line(DisplayText.escape(note)) }
            var rows: [[String]] = [[""] + section.columns.map(\.title)]
            for row in section.rows {
                rows.append(
                    [DisplayText.escape(row.label)]
                        + zip(row.cells, section.columns).map { cell, column in
                            DisplayText.escape(cell.formatted(column.unit))
                        })
            }
            if section.rows.isEmpty {
                Console.line("(nothing in this window)")
            } else {
                printColumns(rows)
            }
        }
    }
}
