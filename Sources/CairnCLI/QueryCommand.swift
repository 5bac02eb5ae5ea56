import ArgumentParser
import CairnJSON
import CairnLedger
import CairnRecords
import Foundation

struct QueryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "query",
        abstract: "Find AI changes by model, person, reviewer, repository, commit, file and line, time…",
        discussion: prose(
            """
            Lists the checkpoints (AI-assisted changes) that match every filter given, from
            indexes kept up to date with each append — never by scanning the log. Each filter's
            index list is intersected with the others', led by the shortest, so a selective query,
            or a selective combination of broad filters (--model with --requested-by), answers as
            fast on a ledger of millions of records as on a small one. Filters apply to effective
            records (corrections applied).

            --type review|test|deploy|rollback|rewrite|correction|erasure|model-call lists entries of
            that type about the matching checkpoints instead (e.g. the deploys of changes made with a
            given model). --since/--until apply to the listed entries' own timestamps; they take
            RFC 3339 UTC timestamps or dates (2026-11-20 = midnight UTC); --since is inclusive,
            --until exclusive.

            MODEL CALLS
            --request-id ID lists the checkpoints whose request_id is ID: the client's side of an API
            call. Each checkpoint that has a request id comes with the model-call entries of the same
            request id — the provider's side, from its request log (`cairn import --format
            provider-log`): in the table the MODEL CALLS column (#index, and MISMATCH when a call's
            model is not the checkpoint's model.id, with a note on stderr); in --json/--jsonl
            "model_calls" ([{"index","provider","model","usage"?,"status"?}]) and "model_mismatch".
            --type model-call lists model calls: with --request-id alone, every call with that request
            id (a call no checkpoint names included); with other filters, the calls of the matching
            checkpoints' request ids. On a ledger written before the request-id index, --request-id
            also scans the entries the index does not cover, until `cairn migrate` indexes them.

            Output: a table for people (text from records shown with control, C1 and
            bidirectional characters escaped as \\u{1B}); --json (one array) or --jsonl (one
            object per line) for scripts; every row has the entry's index and content address,
            and the JSON objects the time the ledger appended the entry (appended_at, when known).

            EXAMPLES
              # Which AI changes touched line 42 of src/retry.ts, and who reviewed them?
              cairn query --path src/retry.ts --line 42
              cairn query --model claude-sonnet-4-5 --since 2026-11-01 --unreviewed
              cairn query --commit 9fceb02d0ae598e95dc970b74767f19372d61af8 --type deploy --jsonl
              # The client's checkpoint of an API call and the provider's log of it: do the models agree?
              cairn query --request-id req_011CVp3sR9mJ5 --json
              cairn query --type model-call --since 2026-11-01
              # Every shard of a log directory (`cairn logs`): rows name their log
              cairn init --origin example.com/q-2026 --ledger ./qlogs/2026 && cairn logs add ./qlogs/2026 --dir ./qlogs
              cairn query --logs ./qlogs --model claude-sonnet-4-5 --json
            """)
    )

    @OptionGroup var location: LedgerLocation

    @Option(
        help: ArgumentHelp(
            "Search every log of this log directory (`cairn logs`), in its order; each row names its log, and "
                + "--limit applies to all of them together.", valueName: "dir"))
    var logs: String?

    @Option(help: ArgumentHelp("The checkpoint's model.id.", valueName: "id")) var model: String?
    @Option(help: ArgumentHelp("Who requested the change.", valueName: "person")) var requestedBy: String?
    @Option(help: ArgumentHelp("A reviewer of the change (any decision).", valueName: "person")) var reviewer: String?
    @Option(help: ArgumentHelp("ide, cli, ci, chat or agent.", valueName: "path")) var toolPath: String?
    @Option(help: ArgumentHelp("An output repository.", valueName: "repo")) var repo: String?
    @Option(help: ArgumentHelp("An output commit (or one it was rewritten to).", valueName: "sha"))
    var commit: String?
    @Option(help: ArgumentHelp("An output file path.", valueName: "path")) var path: String?
    @Option(help: ArgumentHelp("With --path: a line the change touched.", valueName: "n")) var line: UInt32?
    @Option(help: ArgumentHelp("With --path: a line range (A-B) the change overlaps.", valueName: "a-b"))
    var lines: String?
    @Option(help: ArgumentHelp("The work item (ticket) id.", valueName: "id")) var workItem: String?
    @Option(
        name: .customLong("request-id"),
        help: ArgumentHelp("The provider's request id (request_id) of the API call.", valueName: "id"))
    var requestID: String?
    @Option(help: ArgumentHelp("From this time (inclusive).", valueName: "time")) var since: String?
    @Option(help: ArgumentHelp("Before this time (exclusive).", valueName: "time")) var until: String?
    @Flag(help: "Only changes that no review names yet.") var unreviewed = false
    @Option(
        name: .customLong("model-version"),
        help: ArgumentHelp("The model's version (model.version, else model.release_date).", valueName: "version"))
    var modelVersion: String?
    @Option(
        help: ArgumentHelp(
            "Only changes in this state: \(CheckpointCondition.allCases.map(\.rawValue).joined(separator: ", ")) "
                + "(what a `cairn stats` figure counts; with --repo, judged on that repository's files).",
            valueName: "state"))
    var state: String?
    @Option(help: ArgumentHelp("The entry type to list (default checkpoint).", valueName: "type"))
    var type: String = "checkpoint"
    @Option(help: ArgumentHelp("At most this many rows.", valueName: "n")) var limit: Int?
    @Flag(help: "Print a JSON array.") var json = false
    @Flag(help: "Print one JSON object per line.") var jsonl = false

    func validate() throws {
        if json && jsonl { throw ValidationError("--json and --jsonl cannot be combined") }
        if (line != nil || lines != nil) && path == nil { throw ValidationError("--line/--lines need --path") }
        if line != nil && lines != nil { throw ValidationError("use either --line or --lines") }
        if requestID == "" { throw ValidationError("--request-id must not be empty") }
        if let state, CheckpointCondition(rawValue: state) == nil {
            throw ValidationError(
                "--state must be one of \(CheckpointCondition.allCases.map(\.rawValue).joined(separator: ", ")); "
                    + "got \(state)")
        }
        if RecordType(rawValue: type) == nil {
            throw ValidationError(
                "--type must be one of \(RecordType.allCases.map(\.rawValue).joined(separator: ", ")); got \(type)")
        }
    }

    func buildQuery() throws -> RecordQuery {
        var query = RecordQuery()
        query.type = RecordType(rawValue: type)!
        query.model = model
        query.requestedBy = requestedBy
        query.reviewer = reviewer
        query.toolPath = toolPath
        query.repo = repo
        query.commit = commit
        query.path = path
        query.workItem = workItem
        query.requestID = requestID
        query.unreviewed = unreviewed
        query.modelVersion = modelVersion
        query.state = state.flatMap(CheckpointCondition.init(rawValue:))
        query.limit = limit
        if let line { query.lines = line...line }
        if let lines {
            let parts = lines.split(separator: "-")
            guard parts.count == 2, let a = UInt32(parts[0]), let b = UInt32(parts[1]), a <= b else {
                throw CLIError(.usage, "--lines must be A-B with A <= B, got \(lines)")
            }
            query.lines = a...b
        }
        query.since = try since.map { try parseTime($0, option: "--since") }
        query.until = try until.map { try parseTime($0, option: "--until") }
        do {
            try query.validate()
        } catch {
            let option = error.parameter == "lines" && line != nil ? "line" : error.parameter
            throw CLIError(.usage, "--\(option.replacingOccurrences(of: "_", with: "-")): \(error.message)")
        }
        return query
    }

    func run() throws {
        try runReportingErrors {
            let query = try buildQuery()
            let ledgers: [(name: String?, ledger: Ledger)]
            if let logs {
                guard location.ledger == nil else { throw CLIError.logsWithLedger }
                // Logs of the generic profile hold no provenance records to query: left out.
                ledgers = try openLogDirectory(logs).filter { $0.ledger.profile == .provenance }.map {
                    ($0.name, $0.ledger)
                }
            } else {
                ledgers = [(nil, try location.open(readOnly: true))]
            }
            var remaining = query.limit
            if json || jsonl {
                // Streamed: each match is printed as it is found, so a query of every record
                // needs no memory for its result. --json writes the same compact array as one line.
                var first = true
                for (name, ledger) in ledgers where remaining.map({ $0 > 0 }) ?? true {
                    var query = query
                    query.limit = remaining
                    // Rows of a log directory start with the log's name.
                    let prefix = name.map { Array(("{\"log\":" + JSONWriter.compact(.string($0)) + ",").utf8) }
                    try ledger.read { snapshot in
                        try snapshot.query(query) { match in
                            var bytes = match.jsonBytes
                            if let prefix, bytes.first == UInt8(ascii: "{") {
                                bytes.replaceSubrange(0..<1, with: prefix)
                            }
                            remaining = remaining.map { $0 - 1 }
                            // Escaping only ever concerns characters at or above DEL: plain ASCII goes out as it is.
                            if bytes.contains(where: { $0 >= 0x7F }) {
                                bytes = Array(DisplayText.escapeJSON(String(decoding: bytes, as: UTF8.self)).utf8)
                            }
                            if json {
                                Console.write(Array((first ? "[" : ",").utf8) + bytes)
                            } else {
                                bytes.append(UInt8(ascii: "\n"))
                                Console.write(bytes)
                            }
                            first = false
                            return true
                        }
                    }
                }
                if json { Console.line(first ? "[]" : "]") }
            } else {
                var matches: [(String?, QueryMatch)] = []
                for (name, ledger) in ledgers where remaining.map({ $0 > 0 }) ?? true {
                    var query = query
                    query.limit = remaining
                    let found = try ledger.read { try $0.query(query) }
                    remaining = remaining.map { $0 - found.count }
                    matches += found.map { (name, $0) }
                }
                printTable(matches, logs: logs != nil)
            }
        }
    }

    private func printTable(_ matches: [(log: String?, match: QueryMatch)], logs: Bool) {
        var rows: [[String]] = [
            (logs ? ["LOG"] : []) + [
                "INDEX", "TIME", "TYPE", "CHECKPOINT", "WHO", "MODEL / DETAIL", "GRADE", "REVIEWED BY", "MODEL CALLS",
                "DIGEST",
            ]
        ]
        var mismatches: [String] = []
        for (log, match) in matches {
            let f = match.facts
            let time = f.timestamp.map(Timestamp.format) ?? "-"
            let id = f.type == .checkpoint ? (f.id ?? "-") : match.checkpoint.map { "#\($0)" } ?? "-"
            let who = f.requestedBy ?? f.reviewer ?? match.record["author"]?.stringValue ?? f.provider ?? "-"
            let detail: String =
                switch f.type {
                case .checkpoint:
                    [f.modelID, f.modelVersion ?? f.modelReleaseDate].compactMap { $0 }.joined(separator: " ")
                case .review: f.decision ?? "-"
                case .test: f.testResult ?? "-"
                case .deploy, .rollback: f.environment ?? "-"
                case .rewrite: f.rewrite.map { "\($0.old.prefix(10)) → \($0.new.prefix(10))" } ?? "-"
                case .modelCall: [f.modelID, f.requestID].compactMap { $0 }.joined(separator: " ")
                default: match.record["reason"]?.stringValue ?? "-"
                }
            // How the claim was captured (specs/capture.md): hook, import, trailer, attested, inferred.
            // (A checkpoint's is among its facts: its row needs no parse of the record.)
            let grade =
                switch f.type {
                case .checkpoint: f.evidenceGrade ?? "-"
                case .modelCall: match.record["x_capture"]?["grade"]?.stringValue ?? "-"
                default: "-"
                }
            // The provider's side of the checkpoint's API call (model-call entries of its request id).
            var calls = "-"
            if let modelCalls = match.modelCalls {
                calls = modelCalls.isEmpty ? "none" : modelCalls.map { "#\($0.index)" }.joined(separator: ",")
                if match.modelMismatch {
                    calls += " MISMATCH"
                    for call in modelCalls where call.modelID != f.modelID {
                        mismatches.append(
                            "entry \(match.index): the checkpoint names model \(f.modelID ?? "?"), the provider's log "
                                + "(entry \(call.index), \(call.provider)) says \(call.modelID) served request "
                                + "\(f.requestID ?? "?")")
                    }
                }
            }
            let reviewed = match.reviews.map { "\($0.reviewer) (\($0.decision))" }.joined(separator: ", ")
            // Every cell is escaped: ids, people and reasons come from records.
            rows.append(
                (log.map { [$0] } ?? [])
                    + [
                        String(match.index), time, f.type.rawValue, id, who, detail, grade,
                        reviewed.isEmpty ? "-" : reviewed, calls,
                        String(match.digest.description.prefix(19)) + "…",
                    ].map(DisplayText.escape))
        }
        printColumns(rows)
        for mismatch in mismatches { Console.error(DisplayText.escape("note: model mismatch: " + mismatch)) }
        if Console.stderrIsTerminal { Console.error("\(matches.count) match\(matches.count == 1 ? "" : "es")") }
    }
}

/// Parses an RFC 3339 UTC timestamp or a YYYY-MM-DD date (midnight UTC) into ms since the epoch.
func parseTime(_ text: String, option: String) throws -> Int64 {
    if let ms = Timestamp.parse(text) { return ms }
    if text.count == 10, let ms = Timestamp.parse(text + "T00:00:00Z") { return ms }
    throw CLIError(
        .usage, "\(option) must be an RFC 3339 UTC time (2026-11-20T09:00:00Z) or a date (2026-11-20), got \(text)")
}
