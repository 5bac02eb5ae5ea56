import ArgumentParser
import CairnClient
import CairnJSON
import CairnRecords
import CairnStorage
import Foundation

/// The options of every command that talks to a Cairn server.
struct ServerOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Send to the Cairn server at this URL (default: $CAIRN_SERVER).", valueName: "url"))
    var server: String?

    @Option(
        help: ArgumentHelp(
            "The API token. Prefer --token-file or $CAIRN_TOKEN: command lines end up in shell history.",
            valueName: "token"))
    var token: String?

    @Option(
        help: ArgumentHelp(
            "Read the API token from the first line of this file (default: $CAIRN_TOKEN_FILE, which wins over "
                + "$CAIRN_TOKEN).", valueName: "file"))
    var tokenFile: String?

    @Option(
        help: ArgumentHelp(
            "The spool directory (default: $CAIRN_SPOOL, else $XDG_CACHE_HOME/cairn/spool, else ~/.cache/cairn/spool).",
            valueName: "dir"))
    var spool: String?

    @Option(help: ArgumentHelp("Seconds to wait for the server to connect and answer.", valueName: "seconds"))
    var timeout: Double = 30

    func validate() throws {
        if token != nil && tokenFile != nil { throw ValidationError("--token and --token-file exclude each other") }
        guard timeout > 0 && timeout.isFinite else { throw ValidationError("--timeout must be positive") }
    }

    static var environmentServer: String? {
        ProcessInfo.processInfo.environment["CAIRN_SERVER"].flatMap { $0.isEmpty ? nil : $0 }
    }

    var spoolDirectory: String { spool ?? Spool.defaultDirectory() }

    /// --server, else $CAIRN_SERVER; a usage error when neither is set.
    func requiredServer() throws -> ServerAddress {
        guard let url = server ?? Self.environmentServer else {
            throw CLIError(.usage, "no server: pass --server URL or set CAIRN_SERVER")
        }
        return try Self.address(url)
    }

    static func address(_ url: String) throws -> ServerAddress {
        do {
            return try ServerAddress(url)
        } catch {
            throw CLIError(.usage, error.message)
        }
    }

    /// The API token (`APIToken.resolve`: --token, --token-file, then the environment); `nil`
    /// when none is given.
    func resolvedToken() throws -> String? {
        do {
            return try APIToken.resolve(
                token: token, tokenFile: tokenFile, environment: ProcessInfo.processInfo.environment
            ) { file in try readInput(file, what: "token file") }
        } catch let error as ClientError {
            throw CLIError(.usage, error.message)
        }
    }

    /// Spool failures are storage errors (exit 74): the records were not kept.
    static func cliError(_ error: any Error) -> any Error {
        switch error {
        case let error as SpoolError: return CLIError(.ioError, "spool: \(error.message)")
        case let error as StorageError: return CLIError(.ioError, "spool: \(error.message)")
        case let error as ClientError:
            return CLIError(error.kind == .invalidArgument ? .usage : .software, error.message)
        default: return error
        }
    }

    /// Progress of a replay, on stderr.
    static func report(_ event: SubmitEvent) {
        switch event {
        case .deadLettered(let spooled, let problems, let error):
            let status = [error.status.map { "HTTP \($0)" }, error.code].compactMap { $0 }.joined(separator: " ")
            // Server replies and record problems are shown escaped: they are text from elsewhere.
            let reasons = DisplayText.escape(
                problems.isEmpty ? error.message : problems.map(\.description).joined(separator: "; "))
            Console.error(
                "warning: spooled record #\(spooled.sequence) (\(spooled.record.digest)) was refused"
                    + (status.isEmpty ? "" : " (\(status))")
                    + ": \(reasons); moved to the dead letters (cairn spool dead)")
        case .retrying(let seconds, let error):
            if Console.stderrIsTerminal {
                Console.error("\(DisplayText.escape(error.message)); retrying in \(formatSeconds(seconds))")
            }
        case .warning(let text):
            Console.error("warning: " + DisplayText.escape(text))
        case .appended, .rejected, .spooled, .flushed:
            break
        }
    }

    /// Exits with the status documented for `failure` (specs/spool.md §5). `spooled` records
    /// are in the spool: spooled now by an append, or left there by a stopped flush (`flush`).
    static func fail(
        _ failure: ClientError, spooled: Int, notSent: Int, spool: String?, flushed: FlushOutcome?,
        flush: Bool = false
    ) throws -> Never {
        let plural = spooled == 1 ? "" : "s"
        var kept = ""
        if flush {
            kept = "; \(spooled) record\(plural) stay in the spool"
        } else if spooled > 0 {
            kept = "; \(spooled) record\(plural) spooled in \(spool ?? "the spool")"
            if let flushed, flushed.failure != nil, flushed.remaining > 0 {
                kept += " behind \(flushed.remaining) older one\(flushed.remaining == 1 ? "" : "s")"
            }
        }
        switch failure.kind {
        case .transient:
            if spooled > 0 {
                throw CLIError(
                    .temporaryFailure,
                    "server unavailable: \(failure.message)\(kept); "
                        + (flush
                            ? "run the flush again later"
                            : "they are sent by the next `cairn append --server` or `cairn spool flush`"))
            }
            throw CLIError(
                .temporaryFailure,
                "server unavailable: \(failure.message)"
                    + (notSent > 0 ? "; \(notSent) record\(notSent == 1 ? "" : "s") not sent and not spooled" : ""))
        case .unauthorized:
            throw CLIError(
                .noPermission,
                "the server refused the token: \(failure.message)\(kept)"
                    + (spooled > 0 ? "; fix the token, then run `cairn spool flush`" : ""))
        case .protocolViolation:
            Console.error(
                "error: \(DisplayText.escape(failure.message))"
                    + (flush ? kept : "; the records were neither sent nor spooled"))
            throw ExitCode(protocolErrorStatus)
        case .invalidArgument:
            throw CLIError(.usage, failure.message)
        case .rejected:
            throw CLIError(.dataError, failure.message)
        }
    }

    /// EX_PROTOCOL (sysexits): the server answered something the Cairn HTTP API does not.
    static let protocolErrorStatus: Int32 = 76
}

/// `cairn append`'s options for appending to a server.
struct RemoteAppendOptions: ParsableArguments {
    @OptionGroup var connection: ServerOptions

    @Flag(help: "When the server is unavailable, fail (exit 75) instead of spooling the records.")
    var noSpool = false
}

func formatSeconds(_ seconds: Double) -> String {
    if seconds < 10 { return String(format: "%.1f s", seconds) }
    let total = Int(seconds.rounded())
    if total < 3600 { return "\(total / 60)m \(total % 60)s" }
    if total < 86400 { return "\(total / 3600)h \(total % 3600 / 60)m" }
    return "\(total / 86400)d \(total % 86400 / 3600)h"
}

struct SpoolCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "spool",
        abstract: "Inspect and flush the client spool of `cairn append --server`.",
        discussion: prose(
            """
            When `cairn append --server URL` cannot reach the server (connection refused,
            timeout, 5xx, 429 after retries) or the server refuses the token, the records are
            written, durably, to the spool: an LMDB environment in --spool (default $CAIRN_SPOOL,
            else $XDG_CACHE_HOME/cairn/spool, else ~/.cache/cairn/spool). The next append to the same
            server sends them first; `cairn spool flush` sends them now. A record leaves the spool
            only once the server acknowledged it durable, so a crash or kill at any point leads at
            worst to resending it, which the server answers with "duplicate":true: every record
            reaches the ledger exactly once. Records the server refuses (400, 413, 422) are moved
            to the dead letters (`cairn spool dead`). The format is specified in specs/spool.md.

            EXAMPLES
              cairn spool status
              cairn spool flush --server https://cairn.example.com --token-file ~/.config/cairn/token
              cairn spool dead --json
            """),
        subcommands: [SpoolStatusCommand.self, SpoolFlushCommand.self, SpoolDeadCommand.self]
    )
}

struct SpoolStatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show what waits in the spool: records, oldest age, servers, last errors, dead letters.",
        discussion: prose(
            """
            JSON (--json): {"spool":DIR,"exists":BOOL,"records":N,"bytes":N,"oldest":TIME|null,
            "oldest_age_seconds":S|null,"dead_letters":N,"servers":[{"server":URL,"records":N,
            "bytes":N,"oldest":TIME|null,"oldest_age_seconds":S|null,"last_error":TEXT|null,
            "last_error_at":TIME|null,"last_sent_at":TIME|null}]}, times in RFC 3339 UTC.
            A server's last error is the last failure to reach it; it is cleared once the server
            acknowledges records again (a successful flush or append of spooled records).
            A spool directory that does not exist is reported as empty (it is not created).
            """))

    @Option(
        help: ArgumentHelp("The spool directory (default: $CAIRN_SPOOL, else ~/.cache/cairn/spool).", valueName: "dir"))
    var spool: String?

    @Flag(help: "Print JSON.")
    var json = false

    func run() async throws {
        try runReportingErrors {
            let directory = spool ?? Spool.defaultDirectory()
            let status: SpoolStatus
            do {
                status = try Spool.status(directory: directory)
            } catch {
                throw ServerOptions.cliError(error)
            }
            let now = Date()
            if json {
                printJSON(status.json(now: now))
                return
            }
            Console.line("spool: \(DisplayText.escape(status.directory))\(status.exists ? "" : " (not created yet)")")
            var waiting = "waiting: \(status.records) record\(status.records == 1 ? "" : "s")"
            if let oldest = status.oldest {
                waiting +=
                    " (\(status.bytes) bytes), oldest spooled \(RFC3339.format(oldest))"
                    + " (\(formatSeconds(now.timeIntervalSince(oldest))) ago)"
            }
            Console.line(waiting)
            for server in status.servers {
                var line =
                    "  \(DisplayText.escape(server.server.description)): \(server.records) "
                    + "record\(server.records == 1 ? "" : "s")"
                if let oldest = server.oldest { line += ", oldest \(formatSeconds(now.timeIntervalSince(oldest))) ago" }
                if let error = server.lastError, let at = server.lastErrorAt {
                    line += "; last error \(RFC3339.format(at)): \(DisplayText.escape(error))"
                }
                if let sent = server.lastSentAt { line += "; last sent \(RFC3339.format(sent))" }
                Console.line(line)
            }
            Console.line("dead letters: \(status.deadLetters)" + (status.deadLetters > 0 ? " (cairn spool dead)" : ""))
        }
    }
}

struct SpoolFlushCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flush",
        abstract: "Send the spooled records of a server, oldest first.",
        discussion: prose(
            """
            Replays the records spooled for --server (or $CAIRN_SERVER) in the order they were
            spooled, in requests of at most --batch-size records. Each record leaves the spool once
            the server acknowledged it durable; one JSON line is printed per record:

              {"sequence":12,"index":41,"digest":"sha256:…","duplicate":false}
              {"sequence":13,"digest":"sha256:…","dead_letter":true,"error":"invalid_record","problems":[…]}

            A record the server refuses (400, 413, 422) is moved to the dead letters and the
            replay goes on. The replay stops at the first failure that is not about a record —
            server unavailable, token refused, not a Cairn server — leaving the rest in the spool.
            Only one replay runs at a time per spool (others wait for it).

            EXIT STATUS
              0   every record of the server was sent (or was already in the ledger)
              64  usage error: no --server (or $CAIRN_SERVER), a bad URL, an unusable token
              65  all were handled, but some were refused and moved to the dead letters
              66  the token file does not exist
              70  internal error (a bug in cairn: please report it)
              74  the spool cannot be read or written, or the output cannot be written (the
                  records sent so far are out of the spool)
              75  the server is unavailable: the replay stopped, the rest stay spooled
              76  the URL does not answer like a Cairn server
              77  the server refused the token
              141 standard output is a pipe whose reader has exited (no message)
            """))

    @OptionGroup var remote: ServerOptions

    @Option(help: ArgumentHelp("Records per request at most.", valueName: "n"))
    var batchSize: Int = 1000

    func validate() throws {
        guard batchSize > 0 else { throw ValidationError("--batch-size must be positive") }
        try remote.validate()
    }

    func run() async throws {
        try await runReportingErrors {
            let server = try remote.requiredServer()
            let token = try remote.resolvedToken()
            let directory = remote.spoolDirectory
            var policy = SubmitPolicy()
            policy.maxRecordsPerRequest = batchSize
            let submitter = Submitter(
                client: HTTPLedgerClient(server: server, token: token, timeout: remote.timeout),
                spoolDirectory: directory, policy: policy)
            let outcome: FlushOutcome
            do {
                outcome = try await submitter.flush { event in
                    if let line = event.flushJSON {
                        printJSON(line)
                        Console.flush()
                    }
                    ServerOptions.report(event)
                }
            } catch {
                throw ServerOptions.cliError(error)
            }
            if let failure = outcome.failure {
                Console.error("sent \(outcome.sent) spooled record\(outcome.sent == 1 ? "" : "s") before stopping")
                try ServerOptions.fail(
                    failure, spooled: outcome.remaining, notSent: 0, spool: directory, flushed: nil, flush: true)
            }
            if Console.stderrIsTerminal || outcome.deadLettered > 0 {
                Console.error(
                    "sent \(outcome.sent) spooled record\(outcome.sent == 1 ? "" : "s") to \(server) "
                        + "(\(outcome.duplicates) already in the ledger); \(outcome.deadLettered) moved to the dead letters; "
                        + "\(outcome.remaining) waiting")
            }
            if outcome.deadLettered > 0 { throw ExitCode(ExitStatus.dataError.rawValue) }
        }
    }

}

struct SpoolDeadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dead",
        abstract: "List, requeue or purge the records servers refused (the dead letters).",
        discussion: prose(
            """
            A spooled record the server refused (400, 413, 422: not JSON, too large, schema or
            reference problems) is kept here with the server's reason instead of blocking the
            queue. Fix the cause, then --requeue puts the records back at the end of the queue
            (e.g. a review whose checkpoint was missing), or --purge deletes them.
            JSON (--json): one object per line, {"sequence","server","spooled_at","refused_at",
            "status","error","message","problems","record"}.
            """))

    @Option(
        help: ArgumentHelp("The spool directory (default: $CAIRN_SPOOL, else ~/.cache/cairn/spool).", valueName: "dir"))
    var spool: String?

    @Option(help: ArgumentHelp("Only the dead letters of this server.", valueName: "url"))
    var server: String?

    @Flag(help: "Print JSON Lines.")
    var json = false

    @Flag(help: "Put the dead letters back at the end of the queue.")
    var requeue = false

    @Flag(help: "Delete the dead letters.")
    var purge = false

    func validate() throws {
        if requeue && purge { throw ValidationError("--requeue and --purge exclude each other") }
    }

    func run() async throws {
        try runReportingErrors {
            let directory = spool ?? Spool.defaultDirectory()
            let filter = try server.map(ServerOptions.address)
            do {
                guard let spool = try Spool.open(directory: directory, create: false) else {
                    if !json { Console.line("no dead letters (no spool in \(directory))") }
                    return
                }
                if requeue {
                    let n = try spool.requeueDeadLetters(server: filter)
                    Console.line("requeued \(n) record\(n == 1 ? "" : "s")")
                    return
                }
                if purge {
                    let n = try spool.purgeDeadLetters(server: filter)
                    Console.line("deleted \(n) dead letter\(n == 1 ? "" : "s")")
                    return
                }
                let letters = try spool.deadLetters(server: filter)
                for letter in letters {
                    if json {
                        printJSON(letter.json)
                    } else {
                        // The server's message, the problems and the record are shown escaped.
                        Console.line(
                            "#\(letter.sequence) \(letter.record.digest) for \(DisplayText.escape(letter.server.description)), "
                                + "refused \(RFC3339.format(letter.refusedAt)): \(DisplayText.escape(letter.message))")
                        for problem in letter.problems {
                            Console.line("    \(DisplayText.escape(problem.description))")
                        }
                        Console.line("    " + DisplayText.escapeJSON(JSONWriter.compact(letter.recordValue)))
                    }
                }
                if !json && letters.isEmpty { Console.line("no dead letters") }
            } catch {
                throw ServerOptions.cliError(error)
            }
        }
    }
}
