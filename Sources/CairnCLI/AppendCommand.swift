import ArgumentParser
import CairnClient
import CairnJSON
import CairnLedger
import CairnRecords
import Foundation

struct AppendCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "append",
        abstract: "Append JSON records to the ledger.",
        discussion: prose(
            """
            Reads JSON objects from each FILE (standard input when none is given, or for -): either
            one object per file, or JSON Lines (one object per line, blank lines ignored). With the
            default --format auto, an input whose first non-blank line is a complete JSON value is
            read as JSON Lines, otherwise as one JSON document. The records must follow the
            ledger's profile: provenance records (specs/record-schema.md) by default, any JSON
            object in a ledger created with --profile generic.

            Each object is canonicalized with RFC 8785 (JCS); the canonical bytes are the leaf, and
            sha256 of them is the record's content address. For every record, one JSON line is
            printed, in input order:

              {"index":12,"digest":"sha256:…","duplicate":false}

            A record whose canonical form is already in the ledger is not appended again: its line
            shows the existing index and "duplicate":true. Retrying an append is therefore safe.

            Input is checked completely before anything is written. Not JSON, invalid UTF-8,
            duplicate keys, numbers that cannot be represented exactly (integers beyond 2^53 - 1,
            overflow, underflow), a non-object value or a record over the ledger's size limit
            rejects the whole invocation: every problem is listed as FILE:LINE[:COLUMN]: reason
            and the exit status is 65. With --skip-invalid, bad records are reported as
            "skipped FILE:LINE…" on stderr and the rest are appended; the exit status is then 65
            all the same, with a summary line (appended N, skipped M), because the input did not
            arrive whole. An input without any record is also 65 ("no records in the input"):
            appending nothing is almost always a mistake upstream.

            All records of one invocation are committed in one durable LMDB transaction, followed
            by a new signed checkpoint (see `cairn checkpoint`).

            APPENDING TO A SERVER
            With --server URL (or $CAIRN_SERVER, when neither --ledger nor $CAIRN_LEDGER is given)
            the records are sent to
            a `cairn serve` (POST /v1/entries) instead of a local ledger, with the token of the first
            given of --token, --token-file, $CAIRN_TOKEN_FILE and $CAIRN_TOKEN (a token file named in
            the environment wins over a token in it). Input is read and checked the same way
            (JSON syntax, one object per record, canonical form); the schema is checked by the
            server, whose problems are reported as FILE:LINE: $.path: reason. The output is the same
            line per record. Records already spooled for that server are sent first, so that a
            server receives records in the order they were appended.

            When the server is unavailable (connection refused, timeout, 5xx, 429 after retries)
            or refuses the token, the records are written to the durable spool (--spool, default
            $CAIRN_SPOOL or ~/.cache/cairn/spool) before cairn exits; their lines read
            {"digest":"sha256:…","spooled":true}. They are sent by the next append to that server
            or by `cairn spool flush`, exactly once (see `cairn spool --help`, specs/spool.md).
            --extract-over applies to local ledgers; a server moves large payloads to blobs itself
            (its ingest.extract_over_bytes), and the digest it returns is that of the stored record.

            EXIT STATUS
              0   all appended (or already present)
              64  usage error
              65  invalid input, nothing appended; an input without records; with --skip-invalid,
                  some records skipped (the others were appended); with --server, records the
                  server refused (never spooled)
              66  no such ledger, input file or token file
              70  internal error (a bug in cairn: please report it)
              74  the ledger or an input cannot be read or written; with --server, the spool
                  cannot be written (the records were not kept); or standard output cannot be
                  written, after the records were committed (appending them again is a no-op)
              75  the ingest queue is full; with --server, the server is unavailable: the
                  records are in the spool (with --no-spool: not sent, not spooled)
              76  with --server, the URL does not answer like a Cairn server (nothing spooled)
              77  the signing key is missing, unreadable or does not match the ledger; with
                  --server, the token was refused (the records are in the spool)
              141 standard output is a pipe whose reader has exited (no message)

            EXAMPLES
              cairn append records.jsonl more.jsonl
              cairn append < review.json          # standard input; one object may span lines
              cairn append --skip-invalid < export.jsonl
              cairn append --server https://cairn.example.com --token-file ~/.config/cairn/token records.jsonl
            """)
    )

    @OptionGroup var location: LedgerLocation

    @Argument(help: ArgumentHelp("Input files; - or none for standard input.", valueName: "file"))
    var files: [String] = []

    @Option(help: "How inputs hold records: auto, jsonl or json.")
    var format: String = "auto"

    @Flag(help: "Skip invalid records (reporting each on stderr) instead of rejecting the whole input.")
    var skipInvalid = false

    @Flag(help: "Reject fields the record schema does not define (by default they are kept).")
    var strictFields = false

    @Option(
        help: ArgumentHelp(
            "Move checkpoint payloads (prompt, raw_output, turns) larger than this many bytes to blobs; 0 never.",
            valueName: "bytes"))
    var extractOver: Int = 16384

    @Option(help: ArgumentHelp("Print at most this many input errors.", valueName: "n"))
    var maxErrors: Int = 20

    @Flag(
        help:
            "Allow erasure records: appending one destroys the bytes of the blob it names, for good (without this flag they are refused)."
    )
    var allowErasure = false

    @OptionGroup(title: "Appending to a server") var remote: RemoteAppendOptions

    func validate() throws {
        guard RecordFormat(rawValue: format) != nil else {
            throw ValidationError("--format must be one of auto, jsonl, json; got \(format)")
        }
        if remote.connection.server != nil && location.ledger != nil {
            throw ValidationError("--server and --ledger exclude each other")
        }
        try remote.connection.validate()
        let connection = remote.connection
        if connection.server == nil && location.ledger == nil && ServerOptions.environmentServer != nil,
            let ledger = ProcessInfo.processInfo.environment["CAIRN_LEDGER"], !ledger.isEmpty
        {
            throw ValidationError(
                "CAIRN_SERVER and CAIRN_LEDGER are both set: pass --server URL or --ledger DIR to choose")
        }
        let toServer = connection.server != nil || (location.ledger == nil && ServerOptions.environmentServer != nil)
        if !toServer
            && (connection.token != nil || connection.tokenFile != nil || connection.spool != nil || remote.noSpool)
        {
            throw ValidationError("--token, --token-file, --spool and --no-spool need --server (or $CAIRN_SERVER)")
        }
    }

    func run() async throws {
        if let server = remote.connection.server ?? (location.ledger == nil ? ServerOptions.environmentServer : nil) {
            try await runReportingErrors { try await appendToServer(server) }
            return
        }
        try await runReportingErrors {
            let ledger = try location.open()
            let recordFormat = RecordFormat(rawValue: format)!
            let preparer = RecordPreparer(
                rules: ledger.recordRules(strictFields: strictFields, extractOver: extractOver))
            var records: [InputRecord] = []
            for file in files.isEmpty ? ["-"] : files {
                let bytes = try readInput(file, what: "input file")
                let source = file == "-" ? "<stdin>" : file
                records += await preparer.prepareAll(
                    RecordSplitter.texts(in: bytes, format: recordFormat), source: source)
            }
            guard !records.isEmpty else { throw Self.emptyInput }
            let invalid = records.filter { !$0.errorLines.isEmpty }
            if !invalid.isEmpty {
                if skipInvalid {
                    for record in invalid { Console.error("skipped " + record.errorLines.joined(separator: "; ")) }
                } else if invalid.count == 1 && invalid[0].errorLines.count == 1 {
                    throw CLIError(.dataError, invalid[0].errorLines[0] + " (nothing was appended)")
                } else {
                    let lines = invalid.flatMap(\.errorLines)
                    for line in lines.prefix(maxErrors) { Console.error("error: " + line) }
                    if lines.count > maxErrors { Console.error("error: … and \(lines.count - maxErrors) more") }
                    throw CLIError(
                        .dataError,
                        "\(invalid.count) invalid record\(invalid.count == 1 ? "" : "s"); nothing was appended"
                            + (invalid.count > 1 ? " (use --skip-invalid to append the valid ones)" : ""))
                }
            }
            let entries = records.compactMap { try? $0.result.get() }
            guard !entries.isEmpty else { throw Self.allSkipped(invalid.count) }
            // Destroying data needs a deliberate flag.
            if !allowErasure, let erasure = records.first(where: { (try? $0.result.get())?.facts?.type == .erasure }) {
                throw CLIError(
                    .usage,
                    "\(erasure.source):\(erasure.line): an erasure record destroys a blob's bytes for good; pass "
                        + "--allow-erasure to append it (or use `cairn blob erase`); nothing was appended")
            }
            // One submission through the ingest engine, committed as one transaction of its own.
            let engine = IngestEngine(ledger: ledger)
            defer { engine.shutdown() }
            let outcomes: [AppendOutcome]
            do {
                outcomes = try await engine.append(contentsOf: entries, atomic: true, whenBusy: .wait)
            } catch let rejection as AppendRejection {
                let record = records.filter { (try? $0.result.get()) != nil }[rejection.position]
                for problem in rejection.problems.dropLast() {
                    Console.error(DisplayText.escape("error: \(record.source):\(record.line): \(problem)"))
                }
                throw CLIError(
                    .dataError,
                    "\(record.source):\(record.line): \(rejection.problems.last.map(\.description) ?? "rejected")"
                        + " (nothing was appended)")
            }
            try await recordLocalAppend(ledger, outcomes, via: "cairn append")
            let results = outcomes.compactMap(\.result)
            for (entry, outcome) in zip(entries, outcomes) {
                guard let result = outcome.result else { continue }
                var receipt: JSONObject = [
                    "index": .uint(result.index),
                    "digest": .string(result.digest.description),
                    "duplicate": .bool(result.duplicate),
                ]
                // The stored record is not the text submitted: say which payloads are in which blobs
                // (`cairn verify inclusion --entry <submitted file>` recognises the stored form).
                if let moved = PayloadExtraction.movedFields(of: entry) { receipt["moved_to_blobs"] = moved }
                printJSON(.object(receipt))
            }
            let added = results.filter { !$0.duplicate }.count
            let summary =
                "appended \(added) record\(added == 1 ? "" : "s"), \(results.count - added) duplicate; "
                + "tree size \(try await ledger.read { $0.treeSize })"
            if !invalid.isEmpty { throw Self.someSkipped(invalid.count, summary: summary) }
            if Console.stderrIsTerminal { Console.error(summary) }
        }
    }

    /// An input without a single record (exit status 65): appending nothing is almost always a
    /// mistake upstream — an empty export, a failed generator — that a script should hear about.
    static let emptyInput = CLIError(.dataError, "no records in the input; nothing was appended")

    /// --skip-invalid and every record was invalid (exit status 65).
    static func allSkipped(_ count: Int) -> CLIError {
        CLIError(
            .dataError,
            "\(count == 1 ? "the only record was" : "all \(count) records were") invalid; nothing was appended")
    }

    /// --skip-invalid dropped records (exit status 65): the valid ones are in the ledger, but the
    /// input did not arrive whole, and a script must not take that for success.
    static func someSkipped(_ count: Int, summary: String) -> CLIError {
        CLIError(.dataError, "\(summary); skipped \(count) invalid record\(count == 1 ? "" : "s") (listed above)")
    }
}

// MARK: - Appending to a server (`--server`)

extension AppendCommand {
    /// Reads and checks the input like a local append (syntax, objects, canonical form; the
    /// schema is the server's), then submits it through the spooling `Submitter`.
    func appendToServer(_ url: String) async throws {
        let server = try ServerOptions.address(url)
        let token = try remote.connection.resolvedToken()
        let recordFormat = RecordFormat(rawValue: format)!
        var records: [InputRecord] = []
        for file in files.isEmpty ? ["-"] : files {
            let bytes = try readInput(file, what: "input file")
            let source = file == "-" ? "<stdin>" : file
            records += RecordSplitter.texts(in: bytes, format: recordFormat).map {
                Self.prepareForServer($0, source: source)
            }
        }
        guard !records.isEmpty else { throw Self.emptyInput }
        let invalid = records.filter { !$0.errorLines.isEmpty }
        if !invalid.isEmpty {
            if skipInvalid {
                for record in invalid { Console.error("skipped " + record.errorLines.joined(separator: "; ")) }
            } else {
                try reportInvalid(invalid.flatMap(\.errorLines), records: invalid.count, appended: 0)
            }
        }
        let valid = records.filter { (try? $0.result.get()) != nil }
        guard !valid.isEmpty else { throw Self.allSkipped(invalid.count) }
        var skipped = invalid.count
        let outgoing = valid.map { OutgoingRecord(try! $0.result.get(), strict: strictFields) }
        let spoolDirectory = remote.noSpool ? nil : remote.connection.spoolDirectory
        let submitter = Submitter(
            client: HTTPLedgerClient(server: server, token: token, timeout: remote.connection.timeout),
            spoolDirectory: spoolDirectory)

        var refusedLines: [String] = []
        var refusedRecords = 0
        let outcome: SubmitOutcome
        do {
            outcome = try await submitter.submit(outgoing, skipInvalid: skipInvalid) { event in
                switch event {
                case .appended(_, let receipt):
                    printJSON(receipt.json)
                case .spooled(let position, _, _):
                    printJSON(
                        .object(["digest": .string(outgoing[position].digest.description), "spooled": .bool(true)]))
                case .rejected(let position, let problems, let error):
                    let record = valid[position]
                    let lines =
                        problems.isEmpty
                        ? ["\(record.source):\(record.line): \(error.message)"]
                        : problems.map { "\(record.source):\(record.line): \($0)" }
                    if skipInvalid {
                        Console.error("skipped " + DisplayText.escape(lines.joined(separator: "; ")))
                        skipped += 1
                    } else {
                        refusedLines += lines
                        refusedRecords += 1
                    }
                case .flushed, .deadLettered, .retrying, .warning:
                    ServerOptions.report(event)
                }
            }
        } catch {
            throw ServerOptions.cliError(error)
        }
        Console.flush()
        if let failure = outcome.failure {
            if failure.kind == .rejected {
                if refusedLines.isEmpty {
                    refusedLines = failure.problems.isEmpty ? [failure.message] : failure.problems.map(\.description)
                    refusedRecords = max(1, refusedRecords)
                }
                try reportInvalid(refusedLines, records: refusedRecords, appended: outcome.appended)
            }
            try ServerOptions.fail(
                failure, spooled: outcome.spooled, notSent: outcome.notSent, spool: spoolDirectory,
                flushed: outcome.flushed)
        }
        let added = outcome.appended - outcome.duplicates
        var summary =
            "appended \(added) record\(added == 1 ? "" : "s"), \(outcome.duplicates) duplicate to \(server)"
        if let flushed = outcome.flushed, flushed.sent > 0 {
            summary += "; first sent \(flushed.sent) spooled record\(flushed.sent == 1 ? "" : "s")"
        }
        if skipped > 0 { throw Self.someSkipped(skipped, summary: summary) }
        if Console.stderrIsTerminal { Console.error(summary) }
    }

    /// Syntax, object and canonical form only: the client does not know the server's profile.
    static func prepareForServer(_ text: RecordText, source: String) -> InputRecord {
        let result = text.bytes.withUnsafeBytes { raw in
            Result { () throws(RecordError) -> PreparedEntry in
                try PreparedEntry.prepare(json: raw, maxEntryBytes: .max)
            }
        }
        let line = text.isDocument && result.isParseError ? 1 : text.line
        return InputRecord(source: source, line: line, result: result)
    }

    /// Reports invalid records as a local append does, and exits 65.
    private func reportInvalid(_ lines: [String], records: Int, appended: Int) throws -> Never {
        let outcome =
            appended == 0
            ? "nothing was appended"
            : "\(appended) earlier record\(appended == 1 ? " was" : "s were") appended, the rest were not"
        if records == 1 && lines.count == 1 {
            throw CLIError(.dataError, lines[0] + " (\(outcome))")
        }
        // The lines quote the server's replies and file names.
        for line in lines.prefix(maxErrors) { Console.error("error: " + DisplayText.escape(line)) }
        if lines.count > maxErrors { Console.error("error: … and \(lines.count - maxErrors) more") }
        throw CLIError(
            .dataError,
            "\(records) invalid record\(records == 1 ? "" : "s"); \(outcome)"
                + (records > 1 && appended == 0 ? " (use --skip-invalid to append the valid ones)" : ""))
    }
}
