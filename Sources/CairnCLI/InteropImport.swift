import ArgumentParser
import CairnCapture
import CairnCommitCapture
import CairnJSON
import CairnLedger
import CairnRecords
import Foundation

/// What `cairn import` reads.
enum ImportFormat: String, CaseIterable, ExpressibleByArgument, Sendable {
    /// Cairn records, one JSON object per line (the default).
    case jsonl
    /// Agent Trace records, JSON or JSON Lines.
    case agentTrace = "agent-trace"
    /// git-ai authorship notes (`refs/notes/ai`) of a repository.
    case gitAI = "git-ai"
    /// A model provider's request log (JSON Lines): `model-call` records.
    case providerLog = "provider-log"
}

/// The options of `cairn import` for other provenance formats (specs/interop-formats.md).
struct InteropImportOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "What to import: jsonl (Cairn records, the default), agent-trace (Agent Trace records in FILE, JSON or "
                + "JSON Lines), git-ai (the git-ai notes of --repo; no FILE) or provider-log (a model provider's "
                + "request log in FILE, JSON Lines).",
            valueName: "format"))
    var format: ImportFormat = .jsonl

    @Option(
        help: ArgumentHelp(
            "agent-trace, git-ai: the git repository the records are about; provider-log --include-payloads: the one "
                + "whose redaction key is used (default: the one around the current directory).",
            valueName: "dir"))
    var repo: String?

    @Option(
        help: ArgumentHelp(
            "agent-trace, git-ai: requested_by of records whose source does not say who asked (default: unknown).",
            valueName: "id"))
    var requestedBy: String?

    @Option(
        help: ArgumentHelp(
            "provider-log: how lines are laid out, anthropic, openai or generic (the default).", valueName: "provider"))
    var provider: ProviderLog.Format?

    @Option(
        help: ArgumentHelp(
            "provider-log: read FIELD from PATH in each line (repeatable), e.g. request_id=meta.rid.",
            valueName: "field=path"))
    var map: [String] = []

    @Option(help: ArgumentHelp("provider-log: a name for the log, kept as source.log.", valueName: "name"))
    var log: String?

    @Flag(help: "provider-log: keep prompts and outputs (redacted); by default they are left out.")
    var includePayloads = false

    var isForeign: Bool { format != .jsonl }

    /// `--map` as fields and paths.
    func mapping() throws(ValidationError) -> [ProviderLog.Field: ProviderLog.Path] {
        var mapping: [ProviderLog.Field: ProviderLog.Path] = [:]
        let names = ProviderLog.Field.allCases.map(\.rawValue).joined(separator: ", ")
        for given in map {
            guard let equals = given.firstIndex(of: "=") else {
                throw ValidationError("--map takes FIELD=PATH (FIELD one of \(names)), got \(given.debugDescription)")
            }
            let name = String(given[..<equals])
            let text = String(given[given.index(after: equals)...])
            guard let field = ProviderLog.Field(rawValue: name) else {
                throw ValidationError("--map: unknown field \(name.debugDescription); the fields are \(names)")
            }
            guard let path = ProviderLog.Path(text) else {
                throw ValidationError(
                    "--map \(name): \(text.debugDescription) is not a path (member names joined by dots, [n] for an "
                        + "array element, [\"name\"] for any name: usage.input_tokens, choices[0].message, "
                        + "headers[\"x-request-id\"])")
            }
            guard mapping.updateValue(path, forKey: field) == nil else {
                throw ValidationError("--map \(name) is given twice")
            }
        }
        return mapping
    }

    func validate(file: String?) throws {
        if format != .providerLog && (provider != nil || !map.isEmpty || log != nil || includePayloads) {
            throw ValidationError("--provider, --map, --log and --include-payloads apply to --format provider-log")
        }
        switch format {
        case .jsonl:
            guard file != nil else { throw ValidationError("Missing expected argument '<file>'") }
            if repo != nil || requestedBy != nil {
                throw ValidationError(
                    "--repo and --requested-by apply to --format agent-trace, git-ai and provider-log")
            }
        case .agentTrace:
            guard file != nil else {
                throw ValidationError("--format agent-trace needs the FILE of Agent Trace records")
            }
        case .gitAI:
            if file != nil {
                throw ValidationError("--format git-ai reads the notes of --repo and takes no FILE")
            }
        case .providerLog:
            guard file != nil else {
                throw ValidationError("--format provider-log needs the FILE of the log (- for standard input)")
            }
            if requestedBy != nil { throw ValidationError("--requested-by does not apply to --format provider-log") }
            if repo != nil && !includePayloads {
                throw ValidationError("--format provider-log: --repo applies to --include-payloads")
            }
            _ = try mapping()
            if let log, log.isEmpty || log.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) {
                throw ValidationError("--log must be a non-empty name without control characters")
            }
        }
        if let requestedBy {
            guard !requestedBy.isEmpty,
                !requestedBy.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f })
            else {
                throw ValidationError("--requested-by must be a non-empty name without control characters")
            }
        }
    }
}

/// `cairn import --format agent-trace|git-ai`: the foreign records are converted into checkpoint records of evidence
/// grade `import`, checked like any record, and appended in one transaction (nothing on an error; with
/// --skip-invalid, the others). Ids derive from the source, so a second import appends nothing.
struct InteropImport {
    let options: InteropImportOptions
    let location: LedgerLocation
    let file: String?
    let skipInvalid: Bool
    let extractOver: Int
    let json: Bool

    /// One converted record, or why there is none, with where it comes from (`FILE:LINE`, or the note's).
    struct Item {
        let source: String
        let line: Int
        let result: Result<JSONValue, ImportProblem>
    }

    func run() async throws {
        try await runReportingErrors {
            let directory = options.repo ?? FileManager.default.currentDirectoryPath
            guard let repository = CaptureRepository.containing(directory) else {
                throw CLIError(
                    .notFound,
                    "\(directory) is not inside a git repository: an import reads the files its records name at their "
                        + "commits (pass --repo DIR)")
            }
            let git = InteropGit(root: repository.root)
            let name = git.repositoryName(root: repository.root)
            let requestedBy = options.requestedBy ?? "unknown"
            let what: String
            let items: [Item]
            let notes: [String]
            let sources: Int
            do {
                switch options.format {
                case .agentTrace:
                    let path = file ?? "-"
                    what = path == "-" ? "<stdin>" : path
                    (items, notes, sources) = try agentTrace(
                        readInput(path, what: "input file"), source: what, git: git, name: name,
                        requestedBy: requestedBy)
                    guard sources > 0 else { throw AppendCommand.emptyInput }
                case .gitAI:
                    what = "refs/notes/ai"
                    guard let found = try git.notes(ref: "refs/notes/ai") else {
                        throw CLIError(
                            .notFound,
                            "the repository has no git-ai notes (no refs/notes/ai); git does not fetch notes by "
                                + "default: git fetch origin 'refs/notes/ai:refs/notes/ai'")
                    }
                    (items, notes, sources) = try gitAI(found, git: git, name: name, requestedBy: requestedBy)
                case .jsonl, .providerLog:
                    preconditionFailure("JSON Lines and provider-log imports are not InteropImport's")
                }
            } catch let error as CaptureError {
                throw CLIError(.ioError, error.message)
            }
            for note in notes { Console.error(DisplayText.escape("note: " + note)) }

            let ledgerDirectory = location.ledger ?? git.settings()["cairn.ledger"] ?? LedgerLocation.defaultDirectory
            let ledger = try LedgerLocation.open(ledgerDirectory)
            let preparer = RecordPreparer(rules: ledger.recordRules(extractOver: extractOver))
            var records: [InputRecord] = []
            var invalid: [String] = []
            for item in items {
                switch item.result {
                case .success(let value):
                    let record = preparer.prepare(
                        RecordText(line: item.line, bytes: JSONWriter.compactBytes(value)[...], isDocument: false),
                        source: item.source)
                    if record.errorLines.isEmpty { records.append(record) } else { invalid += record.errorLines }
                case .failure(let problem):
                    invalid.append(DisplayText.escape("\(item.source):\(item.line): \(problem.message)"))
                }
            }
            let (outcomes, skipped) = try await importAtomically(
                records, invalid: invalid, skipInvalid: skipInvalid, noun: "records", into: ledger)
            let results = outcomes.compactMap(\.result)
            let appended = results.filter { !$0.duplicate }.count
            let treeSize = try await ledger.read { $0.treeSize }
            let format = options.format.rawValue
            if json {
                printJSON(
                    .object(
                        JSONObject([
                            ("format", .string(format)), ("sources", .number(Double(sources))),
                            ("records", .number(Double(results.count + skipped))),
                            ("appended", .number(Double(appended))),
                            ("duplicates", .number(Double(results.count - appended))),
                            ("skipped", .number(Double(skipped))), ("tree_size", .uint(treeSize)),
                        ])))
            } else {
                let unit = options.format == .gitAI ? "note" : "trace record"
                Console.error(
                    DisplayText.escape(
                        "imported \(what) (\(format)): \(sources) \(unit)\(sources == 1 ? "" : "s"), "
                            + "\(results.count + skipped) checkpoint\(results.count + skipped == 1 ? "" : "s"): "
                            + "\(appended) appended, \(results.count - appended) duplicate, \(skipped) skipped; "
                            + "tree size \(treeSize)"))
            }
            try failIfSkipped(skipped, noun: "record")
        }
    }

    // MARK: - Agent Trace

    private func agentTrace(
        _ bytes: [UInt8], source: String, git: InteropGit, name: String, requestedBy: String
    ) throws(CaptureError) -> (items: [Item], notes: [String], sources: Int) {
        let traces = AgentTrace.records(in: bytes)
        // Every revision and file the records name, fetched in two git runs.
        var revisions: [String] = []
        for trace in traces {
            if let revision = (try? trace.result.get()).flatMap({ AgentTrace.files(of: $0).revision }),
                ImportedCheckpoints.isHexRevision(revision)
            {
                revisions.append(revision.lowercased())
            }
        }
        let commits = try git.commits(revisions)
        var wanted: [(commit: String, path: String)] = []
        for trace in traces {
            guard let value = try? trace.result.get() else { continue }
            let files = AgentTrace.files(of: value)
            guard let revision = files.revision?.lowercased(), let commit = commits[revision] else { continue }
            wanted += files.paths.map { (commit, $0) }
        }
        let contents = try git.files(wanted)
        let repository = ImportRepository(
            name: name, commit: { commits[$0] }, file: { commit, path in contents[commit + ":" + path] })
        var items: [Item] = []
        var notes: [String] = []
        for trace in traces {
            do {
                let conversion = try AgentTrace.checkpoints(
                    from: try trace.result.get(), line: trace.line, repository: repository, requestedBy: requestedBy)
                items += conversion.records.map { Item(source: source, line: $0.line, result: .success($0.record)) }
                notes += conversion.notes.map { "\(source):\($0.line): \($0.message)" }
                if conversion.records.isEmpty && conversion.notes.isEmpty {
                    notes.append("\(source):\(trace.line): nothing to import (the record names no lines)")
                }
            } catch {
                items.append(Item(source: source, line: error.line, result: .failure(error)))
            }
        }
        return (items, notes, traces.count)
    }

    // MARK: - git-ai

    private func gitAI(
        _ found: [(object: String, text: String)], git: InteropGit, name: String, requestedBy: String
    ) throws(CaptureError) -> (items: [Item], notes: [String], sources: Int) {
        let commits = try git.commits(found.map(\.object))
        let dates = try git.commitDates(Array(commits.values))
        var parsed: [(commit: String, source: String, note: Result<GitAINote, ImportProblem>)] = []
        var notes: [String] = []
        for (object, text) in found {
            guard let commit = commits[object] else {
                notes.append("refs/notes/ai: the note on \(object) was not imported: it is not on a commit")
                continue
            }
            parsed.append(
                (
                    commit, "refs/notes/ai:\(commit)",
                    Result { () throws(ImportProblem) -> GitAINote in try GitAINote.parse(text) }
                ))
        }
        var wanted: [(commit: String, path: String)] = []
        for item in parsed {
            guard case .success(let note) = item.note else { continue }
            wanted += note.files.compactMap { file in
                ImportedCheckpoints.repositoryPath(file.path).map { (item.commit, $0) }
            }
        }
        let contents = try git.files(wanted)
        let repository = ImportRepository(
            name: name, commit: { commits[$0] }, file: { commit, path in contents[commit + ":" + path] })
        var items: [Item] = []
        for item in parsed {
            do {
                let conversion = try item.note.get().checkpoints(
                    commit: item.commit, timestamp: dates[item.commit] ?? "1970-01-01T00:00:00Z",
                    repository: repository, requestedBy: requestedBy)
                items += conversion.records.map {
                    Item(source: item.source, line: $0.line, result: .success($0.record))
                }
                notes += conversion.notes.map { "\(item.source):\($0.line): \($0.message)" }
            } catch {
                items.append(Item(source: item.source, line: error.line, result: .failure(error)))
            }
        }
        return (items, notes, found.count)
    }
}

/// Reports what cannot be imported (`invalid`, one message each: fatal unless `skipInvalid`), then appends `records`
/// in one transaction: a record the ledger refuses fails the import, or with `skipInvalid` is left out and the rest
/// appended; records who appended them (`cairn import`). `noun` is what an invalid item is, plural ("records",
/// "lines"). Returns the outcomes and how many were skipped.
func importAtomically(
    _ records: [InputRecord], invalid: [String], skipInvalid: Bool, noun: String, into ledger: Ledger
) async throws -> (outcomes: [AppendOutcome], skipped: Int) {
    var records = records
    var skipped = invalid.count
    if !invalid.isEmpty {
        if skipInvalid {
            for line in invalid { Console.error("skipped " + line) }
        } else if invalid.count == 1 {
            throw CLIError(.dataError, invalid[0] + " (nothing was imported)")
        } else {
            for line in invalid.prefix(20) { Console.error("error: " + line) }
            if invalid.count > 20 { Console.error("error: … and \(invalid.count - 20) more") }
            throw CLIError(
                .dataError,
                "\(invalid.count) \(noun) cannot be imported; nothing was imported (use --skip-invalid to import the "
                    + "others)")
        }
    }
    var outcomes: [AppendOutcome] = []
    guard !records.isEmpty else { return (outcomes, skipped) }
    let engine = IngestEngine(ledger: ledger)
    defer { engine.shutdown() }
    while !records.isEmpty {
        do {
            outcomes = try await engine.append(
                contentsOf: records.compactMap { try? $0.result.get() }, atomic: true, whenBusy: .wait)
            break
        } catch let rejection as AppendRejection {
            let record = records.remove(at: rejection.position)
            let line = DisplayText.escape(
                "\(record.source):\(record.line): " + rejection.problems.map(\.description).joined(separator: "; "))
            guard skipInvalid else { throw CLIError(.dataError, line + " (nothing was imported)") }
            Console.error("skipped " + line)
            skipped += 1
        }
    }
    try await recordLocalAppend(ledger, outcomes, via: "cairn import")
    return (outcomes, skipped)
}

/// Ends an import that skipped `skipped` items (`noun`, singular) with exit status 65, after the summary.
func failIfSkipped(_ skipped: Int, noun: String) throws {
    guard skipped > 0 else { return }
    throw CLIError(
        .dataError,
        "\(skipped) \(noun)\(skipped == 1 ? " was" : "s were") skipped (listed above); the others were imported")
}
