import ArgumentParser
import CairnCrypto
import CairnJSON
import CairnLedger
import CairnServer
import CairnStorage
import DequeModule
import Foundation

struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Bulk-load a JSON Lines file through the group-commit engine, resumably.",
        discussion: prose(
            """
            Streams FILE (one JSON object per line), prepares records on every core — parse,
            validate, canonicalize, hash — while the writer commits earlier ones in large durable
            batches. Memory stays bounded whatever the file's size.

            Unlike `cairn append`, an import commits as it goes: if it stops (an invalid record,
            Ctrl-C, a crash), everything before that point is in the ledger. Progress is kept in
            FILE.cairn-import; running the same command again resumes after the last committed
            record (content addressing makes the overlap harmless anyway). --restart ignores it.
            With --skip-invalid, invalid records are reported (FILE:LINE: reason) and skipped;
            otherwise the import stops at the first one with exit status 65.

            A progress bar with records/s is shown on a terminal; otherwise a plain progress line
            every few seconds. The summary (records, duplicates, rate) goes to stderr, or to stdout
            as JSON with --json.

            OTHER FORMATS
            --format agent-trace reads Agent Trace records (JSON or JSON Lines) from FILE; --format
            git-ai reads the git-ai authorship notes (refs/notes/ai) of the repository, and takes no
            FILE. Both turn them into checkpoint records of evidence grade `import`, with content
            hashes read from the repository (--repo, default: the one around the current directory),
            and append them in one transaction: nothing when a record cannot be imported (each is
            reported as FILE:LINE: reason), the others with --skip-invalid. Ids derive from the
            source, so importing again appends nothing. The ledger is --ledger, else the
            repository's `cairn.ledger` (git config), else $CAIRN_LEDGER, else ./cairn-ledger. The
            mapping: specs/interop-formats.md.

            PROVIDER LOGS
            --format provider-log reads a model provider's request log from FILE (JSON Lines, one API
            call per line, as the provider, a gateway or the client logged it) into `model-call`
            records of evidence grade `import`: the request id, the provider, the time, the model that
            served the call, the token usage, the HTTP status. Checkpoints with the same request_id are
            the client's side of the call: `cairn query --request-id ID` shows both, and flags a
            checkpoint whose model differs from the one the provider served. --provider says how lines
            are laid out: anthropic (request_id, id, model, usage.input_tokens/output_tokens,
            timestamp or created_at), openai (x-request-id or request_id, else id; created; usage
            with prompt/completion or input/output tokens) or generic (the default: members named like
            the record's fields). --map FIELD=PATH reads a field from another member (a.b, a[0].b,
            headers["x-request-id"]); the fields are request_id, provider, model, timestamp,
            response_id, status, input_tokens, output_tokens, cost_usd, prompt and output. Prompts and
            outputs are left out unless --include-payloads is given; they are then redacted first
            (specs/redaction.md) with the redaction key of the repository around the current
            directory or --repo, the key capture uses. As for the other formats, the whole log is
            checked before anything is appended, in one transaction: a line that does not map is
            reported as FILE:LINE: field (at path): what was expected, with exit status 65, and
            nothing is imported (with --skip-invalid, the other lines are); a record depends only on
            its line and the options, so importing a log again appends nothing. The mapping, and
            which member wins when several are present: specs/interop-formats.md §5.

            EXAMPLES
              cairn import export-2026-11.jsonl
              cairn import --skip-invalid --json big.jsonl > summary.json
              cairn import --format agent-trace --repo ~/src/app .agent-trace/traces.jsonl
              cairn import --format git-ai --repo ~/src/app --json
              cairn import --format provider-log --provider anthropic anthropic-requests.jsonl
              cairn import --format provider-log --provider openai --json openai-requests.jsonl
              cairn import --format provider-log --map request_id=meta.rid --map provider=vendor gateway.jsonl
            """)
    )

    @OptionGroup var location: LedgerLocation

    @Argument(
        help: ArgumentHelp(
            "The JSON Lines file (--format agent-trace: the Agent Trace records; provider-log: the request log).",
            valueName: "file"))
    var file: String?

    @OptionGroup(title: "Importing other formats") var interop: InteropImportOptions

    @Flag(help: "Skip invalid records (reporting each on stderr) instead of stopping at the first.")
    var skipInvalid = false

    @Flag(help: "Start from the beginning even if FILE.cairn-import says part was imported.")
    var restart = false

    @Option(help: ArgumentHelp("Move checkpoint payloads over this many bytes to blobs; 0 never.", valueName: "bytes"))
    var extractOver: Int = 16384

    @Option(help: ArgumentHelp("Records per prepared chunk.", valueName: "n"))
    var chunkSize: Int = 2048

    @Flag(help: "Print the summary as JSON on stdout.")
    var json = false

    func validate() throws {
        guard chunkSize > 0 else { throw ValidationError("--chunk-size must be positive") }
        try interop.validate(file: file)
    }

    func run() async throws {
        if interop.format == .providerLog {
            try await ProviderLogImport(
                options: interop, location: location, file: file ?? "-", skipInvalid: skipInvalid, json: json
            ).run()
            return
        }
        if interop.isForeign {
            try await InteropImport(
                options: interop, location: location, file: file, skipInvalid: skipInvalid, extractOver: extractOver,
                json: json
            ).run()
            return
        }
        let file = self.file ?? ""
        try await runReportingErrors {
            let ledger = try location.open()
            let input = try InputFile.open(file, what: "input file")
            let fileSize = input.regularFileSize ?? 0
            let progressFile = ImportProgressFile(path: file + ".cairn-import")
            var start = ImportProgressFile.State(
                origin: ledger.origin, fileSize: fileSize, offset: 0, line: 1, records: 0, lastDigest: nil)
            if !restart, let saved = progressFile.load(),
                let resumed = try saved.resumable(in: ledger, fileSize: fileSize)
            {
                start = resumed
                Console.error("resuming \(file) at line \(resumed.line) (\(resumed.records) records already imported)")
            }

            let preparer = RecordPreparer(rules: ledger.recordRules(extractOver: extractOver))
            var reader = try LineChunkReader(
                input: input, offset: start.offset, line: start.line, linesPerChunk: chunkSize)
            let engine = IngestEngine(ledger: ledger, configuration: .bulk)
            defer { engine.shutdown() }
            // A submission in flight keeps where its chunk ends, not the chunk: its texts slice the chunk's whole
            // buffer (~0.5 MB per 2,048 lines), which would stay allocated until the commit.
            var pipeline = BulkPipeline<(ChunkEnd, [InputRecord])>(engine: engine)
            let display = ProgressDisplay(totalBytes: fileSize, startBytes: start.offset)
            var summary = ImportSummary(records: start.records)
            var state = start

            // Preparation runs ahead on all cores; submissions enter the engine in file order;
            // a few stay in flight so the writer never waits for the next batch.
            let lookahead = max(2, ProcessInfo.processInfo.activeProcessorCount)
            var preparing = Deque<Task<(LineChunkReader.Chunk, [InputRecord]), Never>>()
            var exhausted = false
            // Who appended each committed chunk goes to the access log as the import proceeds.
            let accessLog = AccessLog(ledger: try AccessLog.openOrCreate(for: ledger))
            defer { accessLog.shutdown() }
            var unrecorded: [AppendAccessRecord] = []
            func recordAccess() async throws {
                for record in unrecorded where record.count > 0 { try await accessLog.record(record) }
                unrecorded.removeAll()
            }

            func finish(_ done: [((ChunkEnd, [InputRecord]), [AppendOutcome])]) throws {
                for ((chunk, records), outcomes) in done {
                    unrecorded.append(AppendAccessRecord.of(outcomes, by: .currentUser, via: "cairn import"))
                    var lastDigest = state.lastDigest
                    let prepared = records.filter { (try? $0.result.get()) != nil }
                    for outcome in outcomes {
                        switch outcome {
                        case .appended(let result):
                            if result.duplicate { summary.duplicates += 1 } else { summary.appended += 1 }
                            lastDigest = result.digest.description
                        case .rejected(let rejection):
                            let record = prepared[rejection.position]
                            summary.skipped += 1
                            Console.error(
                                "skipped \(record.source):\(record.line): "
                                    + rejection.problems.map(\.description).joined(separator: "; "))
                        }
                    }
                    summary.records += records.count
                    state = .init(
                        origin: state.origin, fileSize: fileSize, offset: chunk.endOffset, line: chunk.nextLine,
                        records: summary.records, lastDigest: lastDigest)
                    try progressFile.save(state)
                    display.update(bytes: chunk.endOffset, records: summary.records)
                }
            }

            while true {
                while !exhausted && preparing.count < lookahead {
                    guard let chunk = try reader.next() else {
                        exhausted = true
                        break
                    }
                    let source = file
                    preparing.append(
                        Task.detached { (chunk, chunk.texts.map { preparer.prepare($0, source: source) }) })
                }
                guard let next = preparing.popFirst() else { break }
                let (chunk, records) = await next.value
                let invalid = records.filter { !$0.errorLines.isEmpty }
                if !invalid.isEmpty {
                    if skipInvalid {
                        for record in invalid { Console.error("skipped " + record.errorLines.joined(separator: "; ")) }
                        summary.skipped += invalid.count
                    } else {
                        // Commit everything before the bad record, then stop there.
                        for task in preparing { task.cancel() }
                        let first = invalid[0]
                        let before = records.prefix { $0.line < first.line }.compactMap { try? $0.result.get() }
                        try finish(try await pipeline.finish())
                        if !before.isEmpty {
                            let outcomes = try await engine.append(contentsOf: before, whenBusy: .wait)
                            unrecorded.append(AppendAccessRecord.of(outcomes, by: .currentUser, via: "cairn import"))
                            summary.records += before.count
                            summary.appended += before.count
                        }
                        try await recordAccess()
                        display.finish()
                        for line in first.errorLines.dropLast() { Console.error("error: " + line) }
                        throw CLIError(
                            .dataError,
                            (first.errorLines.last ?? "\(file):\(first.line): invalid record")
                                + " (import stopped here; the \(summary.records) records before it are in the ledger)")
                    }
                }
                let entries = records.compactMap { try? $0.result.get() }
                try finish(
                    try await pipeline.submit(
                        entries, context: (ChunkEnd(endOffset: chunk.endOffset, nextLine: chunk.nextLine), records)))
                try await recordAccess()
            }
            try finish(try await pipeline.finish())
            try await recordAccess()
            display.finish()
            try progressFile.remove()
            summary.seconds = display.elapsed
            summary.treeSize = try await ledger.read { $0.treeSize }
            summary.batches = engine.statistics.batches
            if json {
                printJSON(summary.json)
            } else {
                Console.error(summary.text(file: file))
            }
            // --skip-invalid: the valid records are in; the input did not arrive whole.
            if summary.skipped > 0 {
                throw CLIError(
                    .dataError,
                    "\(summary.skipped) invalid record\(summary.skipped == 1 ? " was" : "s were") skipped (listed above)"
                )
            }
        }
    }
}

/// Totals of one import.
struct ImportSummary {
    var records = 0
    var appended = 0
    var duplicates = 0
    var skipped = 0
    var batches: UInt64 = 0
    var seconds = 0.0
    var treeSize: UInt64 = 0

    var json: JSONValue {
        .object([
            "records": .number(Double(records)), "appended": .number(Double(appended)),
            "duplicates": .number(Double(duplicates)), "skipped": .number(Double(skipped)),
            "batches": .uint(batches), "seconds": .number((seconds * 1000).rounded() / 1000),
            "records_per_second": .number(seconds > 0 ? (Double(records) / seconds).rounded() : 0),
            "tree_size": .uint(treeSize),
        ])
    }

    func text(file: String) -> String {
        let rate = seconds > 0 ? Int(Double(records) / seconds) : 0
        return "imported \(file): \(appended) appended, \(duplicates) duplicate, \(skipped) skipped "
            + "in \(String(format: "%.1f", seconds)) s (\(rate) records/s, \(batches) commits); tree size \(treeSize)"
    }
}

/// FILE.cairn-import: how far an import got, written after every durable chunk.
struct ImportProgressFile {
    struct State {
        let origin: String
        let fileSize: UInt64
        let offset: UInt64
        let line: Int
        let records: Int
        let lastDigest: String?

        /// This state, if it describes the same input and the ledger really holds its last record.
        func resumable(in ledger: Ledger, fileSize: UInt64) throws -> State? {
            guard origin == ledger.origin, self.fileSize == fileSize, offset <= fileSize else { return nil }
            if let lastDigest, let digest = SHA256Digest(hex: lastDigest.dropFirst(7)) {
                guard try ledger.read({ try $0.index(of: digest) }) != nil else { return nil }
            }
            return self
        }
    }

    let path: String

    func load() -> State? {
        // A missing, unreadable or torn file means "start over": resuming is only an optimization
        // (content addressing makes re-imported records duplicates).
        guard let data = try? DurableFiles.readIfPresent(path), let value = try? JSONParser.parse(data),
            let origin = value["origin"]?.stringValue, let size = value["file_size"]?.numberValue,
            let offset = value["offset"]?.numberValue, let line = value["line"]?.intValue,
            let records = value["records"]?.intValue
        else { return nil }
        return State(
            origin: origin, fileSize: UInt64(size), offset: UInt64(offset), line: line, records: records,
            lastDigest: value["last_digest"]?.stringValue)
    }

    func save(_ state: State) throws {
        var object: JSONObject = [
            "origin": .string(state.origin), "file_size": .uint(state.fileSize), "offset": .uint(state.offset),
            "line": .number(Double(state.line)), "records": .number(Double(state.records)),
        ]
        if let digest = state.lastDigest { object["last_digest"] = .string(digest) }
        // Replaced atomically, so a reader never sees half a file, but not synced: a progress
        // file a crash rolls back only makes the next run resume earlier, and an fsync per chunk
        // would slow the import down.
        do {
            try DurableFiles.replace(
                path, contents: JSONWriter.compactBytes(.object(object)), mode: 0o644, synced: false)
        } catch {
            throw CLIError(.ioError, "cannot save the import's progress: \(error.message)")
        }
    }

    func remove() throws {
        do {
            try DurableFiles.remove(path, synced: false)
        } catch {
            throw CLIError(.ioError, "cannot remove the import's progress file: \(error.message)")
        }
    }
}

/// Where a chunk of the input ends: the offset and line the import resumes at after it.
private struct ChunkEnd {
    let endOffset: UInt64
    let nextLine: Int
}

/// A progress bar on a terminal, or a plain line every few seconds otherwise.
final class ProgressDisplay: @unchecked Sendable {
    private let totalBytes: UInt64
    private let startBytes: UInt64
    private let started = Date()
    private var lastShown = Date.distantPast
    private let terminal = Console.stderrIsTerminal
    private var shown = false

    init(totalBytes: UInt64, startBytes: UInt64) {
        self.totalBytes = totalBytes
        self.startBytes = startBytes
    }

    var elapsed: Double { Date().timeIntervalSince(started) }

    func update(bytes: UInt64, records: Int) {
        let now = Date()
        guard now.timeIntervalSince(lastShown) >= (terminal ? 0.2 : 5) else { return }
        lastShown = now
        let fraction = totalBytes > 0 ? min(1, Double(bytes) / Double(totalBytes)) : 0
        // Standard input has no size (0): no fraction and no ETA, and never a negative byte count.
        let rate = Double(bytes &- min(startBytes, bytes)) / max(elapsed, 0.001)
        let eta = rate > 0 && totalBytes > bytes ? Double(totalBytes - bytes) / rate : 0
        let recordRate = Int(Double(records) / max(elapsed, 0.001))
        let percent = String(format: "%5.1f%%", fraction * 100)
        if terminal {
            let width = 30
            let filled = Int(fraction * Double(width))
            let bar = String(repeating: "#", count: filled) + String(repeating: " ", count: width - filled)
            Console.errorInline("[\(bar)] \(percent) \(records) records, \(recordRate) records/s, ETA \(Int(eta)) s")
            shown = true
        } else {
            Console.error("progress: \(percent) \(records) records, \(recordRate) records/s")
        }
    }

    func finish() {
        if terminal && shown { Console.errorInline("") }
    }
}
