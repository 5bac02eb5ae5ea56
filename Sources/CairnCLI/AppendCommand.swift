import ArgumentParser
import CairnJSON
import CairnLedger

struct AppendCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "append",
        abstract: "Append JSON records to the ledger.",
        discussion: """
            Reads JSON objects from each FILE (standard input when none is given, or for -): either
            one object per file, or JSON Lines (one object per line, blank lines ignored). With the
            default --format auto, an input whose first non-blank line is a complete JSON value is
            read as JSON Lines, otherwise as one JSON document.

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
            "skipped FILE:LINE…" on stderr and the rest are appended.

            All records of one invocation are committed in one durable LMDB transaction, followed
            by a new signed checkpoint (see `cairn checkpoint`).

            EXAMPLES
              echo '{"type":"note","text":"hello"}' | cairn append
              cairn append records.jsonl more.jsonl
              cairn append --skip-invalid < export.jsonl
            """
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

    func validate() throws {
        guard RecordFormat(rawValue: format) != nil else {
            throw ValidationError("--format must be one of auto, jsonl, json; got \(format)")
        }
    }

    func run() async throws {
        try await runReportingErrors {
            let ledger = try location.open()
            let recordFormat = RecordFormat(rawValue: format)!
            let preparer = RecordPreparer(
                ledger: ledger, rules: ledger.recordRules(strictFields: strictFields), extractOver: extractOver)
            var records: [InputRecord] = []
            for file in files.isEmpty ? ["-"] : files {
                let bytes = try readInput(file, what: "input file")
                let source = file == "-" ? "<stdin>" : file
                records += await preparer.prepareAll(
                    RecordSplitter.texts(in: bytes, format: recordFormat), source: source)
            }
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
            guard !entries.isEmpty else {
                if Console.stderrIsTerminal { Console.error("no records to append") }
                return
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
                    Console.error("error: \(record.source):\(record.line): \(problem)")
                }
                throw CLIError(
                    .dataError,
                    "\(record.source):\(record.line): \(rejection.problems.last.map(\.description) ?? "rejected")"
                        + " (nothing was appended)")
            }
            let results = outcomes.compactMap(\.result)
            for result in results {
                printJSON(
                    .object([
                        "index": .uint(result.index),
                        "digest": .string(result.digest.description),
                        "duplicate": .bool(result.duplicate),
                    ]))
            }
            if Console.stderrIsTerminal {
                let added = results.filter { !$0.duplicate }.count
                Console.error(
                    "appended \(added) record\(added == 1 ? "" : "s"), \(results.count - added) duplicate; "
                        + "tree size \(try ledger.treeSize())")
            }
        }
    }
}
