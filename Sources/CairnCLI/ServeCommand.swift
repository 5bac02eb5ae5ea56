import ArgumentParser
import CairnJSON
import CairnLedger
import CairnLogDirectory
import CairnServer
import CairnStorage
import Foundation
import NIOCore

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the ledger over HTTP: append, read, query, prove (specs/http-api.md).",
        discussion: prose(
            """
            Runs the HTTP/1.1 API of specs/http-api.md over the ledger: appends go through the
            group-commit ingest engine and are answered once durable; reads of record contents and
            blobs are recorded in the access log (<ledger>/access-log, created on first start)
            before they are answered. Clients authenticate with tokens from `cairn token create`.

            Settings come from flags, then the JSON file given with --config (specs/server-config.md),
            then defaults. The server listens on 127.0.0.1:8080 by default: put a TLS-terminating
            reverse proxy in front of it (docs/operators-guide.md). Once listening it prints
            `listening on http://HOST:PORT` on standard output; logs (one line per request) go to
            standard error. SIGTERM or SIGINT stops it gracefully: no new connections, in-flight
            requests complete, queued appends are committed.

            One server per ledger: at start it takes an advisory lock on serve.lock in the ledger
            directory (and in its access log's), held until it exits, so a second `cairn serve` on
            the same ledger is refused with exit status 75, naming the process that serves it.
            Local commands that write (append, import, token, blob) may run beside a server: each
            writer picks up what the other committed (docs/operators-guide.md).

            With --logs DIR, serves every log of a log directory (`cairn logs`, specs/sealing.md
            §6): each under /logs/NAME/ (its API, checkpoint and tiles as a single-log server
            serves them), and the current log — the one open log with no successor — also
            without the prefix, so that clients keep their URL when a shard is sealed and
            succeeded. GET /v1/logs lists the logs; GET /v1/query?logs=all searches them all.
            Each log keeps its own tokens, access log, engine and serve.lock.

            With --mirror DIR, serves a mirror directory (`cairn mirror`, or a `cairn export tiles`
            copy) read-only: GET /checkpoint and GET /tile/… as the log served them (same bytes and
            cache headers; a partial tile whose full tile replaced it is cut from the full one),
            nothing else, no tokens. Run `cairn mirror … --interval` beside it to keep it current.

            EXAMPLES
              cairn token create --role append --name ci
              cairn serve --ledger /var/lib/cairn/ledger
              cairn serve --logs /var/lib/cairn/logs --listen 127.0.0.1:9000
              cairn serve --mirror /srv/cairn-mirror --listen 127.0.0.1:9100
              cairn serve --config /etc/cairn/server.json --listen 127.0.0.1:9000 --public-reads

            EXIT STATUS
              0   stopped by SIGTERM or SIGINT, after a graceful shutdown
              64  usage error, or an invalid configuration file
              66  no such ledger
              70  internal error (a bug in cairn: please report it), or the ledger is in storage
                  format 1 (run `cairn migrate`)
              74  the address is in use or cannot be listened on, or the ledger cannot be read or
                  written
              75  another cairn serve is serving this ledger (or its access log)
              77  the address needs privileges, or the serve lock cannot be opened
            """)
    )

    @OptionGroup var location: LedgerLocation

    @Option(help: ArgumentHelp("A JSON configuration file (specs/server-config.md).", valueName: "file"))
    var config: String?

    @Option(
        help: ArgumentHelp(
            "Serve every log of this log directory (`cairn logs`) instead of one ledger.", valueName: "dir"))
    var logs: String?

    @Option(
        help: ArgumentHelp(
            "Serve this mirror directory (`cairn mirror`, `cairn export tiles`) read-only: /checkpoint and /tile/….",
            valueName: "dir"))
    var mirror: String?

    @Option(help: ArgumentHelp("HOST:PORT, [IPv6]:PORT or unix:/path (default 127.0.0.1:8080).", valueName: "address"))
    var listen: String?

    @Flag(help: "Serve /checkpoint, tiles and proofs without a token.")
    var publicReads = false

    @Flag(help: "Serve /metrics without a token.")
    var publicMetrics = false

    @Option(help: ArgumentHelp("Largest request body in bytes (default 8 MiB).", valueName: "bytes"))
    var maxBodyBytes: Int?

    @Option(help: ArgumentHelp("Largest blob upload in bytes (default 32 MiB).", valueName: "bytes"))
    var maxBlobBytes: Int?

    @Option(help: ArgumentHelp("Requests per second per token (default 50); 0 turns the limit off.", valueName: "n"))
    var rateLimit: Double?

    @Option(help: ArgumentHelp("Burst of the rate limit (default 100).", valueName: "n"))
    var rateBurst: Int?

    @Option(help: ArgumentHelp("Seconds before a request is answered 503 timeout (default 30).", valueName: "s"))
    var requestTimeout: Double?

    @Option(help: ArgumentHelp("Seconds before an idle connection is closed (default 60).", valueName: "s"))
    var idleTimeout: Double?

    @Option(help: ArgumentHelp("Records the ingest queue holds before answering 503 busy.", valueName: "n"))
    var maxQueuedRecords: Int?

    @Option(
        help: ArgumentHelp(
            "Move checkpoint payloads over this many bytes to blobs before appending (default 16384); 0 never.",
            valueName: "bytes"))
    var extractOver: Int?

    @Option(help: ArgumentHelp("trace, debug, info, notice, warning, error or critical.", valueName: "level"))
    var logLevel: String?

    @Option(
        help: ArgumentHelp(
            "Publish the tiles to an S3-compatible store as the log grows (see publish_tiles in specs/server-config.md).",
            valueName: "s3://bucket/prefix"))
    var publishTiles: String?

    @Option(help: ArgumentHelp("json (one object per line) or text.", valueName: "format"))
    var logFormat: String?

    func settings() throws -> ServerConfiguration {
        var settings = ServerConfiguration()
        do {
            if let config { try settings.apply(configurationFile: try readInput(config, what: "configuration file")) }
            if let listen { settings.listen = try .init(parsing: listen) }
        } catch let error as ConfigurationError {
            throw CLIError(.usage, (config.map { "\($0): " } ?? "") + error.message)
        }
        if publicReads { settings.publicReads = true }
        if publicMetrics { settings.publicMetrics = true }
        if let maxBodyBytes { settings.maxBodyBytes = maxBodyBytes }
        if let maxBlobBytes { settings.maxBlobBytes = maxBlobBytes }
        if let rateLimit {
            settings.rateLimit =
                rateLimit == 0
                ? nil : .init(requestsPerSecond: rateLimit, burst: rateBurst ?? settings.rateLimit?.burst ?? 100)
        } else if let rateBurst, let current = settings.rateLimit {
            settings.rateLimit = .init(requestsPerSecond: current.requestsPerSecond, burst: rateBurst)
        }
        do {
            if let requestTimeout {
                settings.requestTimeout = try ServerConfiguration.timeout(requestTimeout, "--request-timeout")
            }
            if let idleTimeout { settings.idleTimeout = try ServerConfiguration.timeout(idleTimeout, "--idle-timeout") }
        } catch {
            throw CLIError(.usage, error.message)
        }
        if let publishTiles {
            let current = settings.publishTiles
            var publishing = ServerConfiguration.TilePublishing(destination: publishTiles)
            publishing.endpoint = current?.endpoint
            publishing.region = current?.region
            publishing.interval = current?.interval ?? publishing.interval
            publishing.maxBackoff = current?.maxBackoff ?? publishing.maxBackoff
            settings.publishTiles = publishing
        }
        if let publishing = settings.publishTiles {
            // Checked now, so that a bad location or missing credentials stop the server before it listens.
            do {
                _ = try publishing.client(environment: ProcessInfo.processInfo.environment)
            } catch {
                throw CLIError(.usage, error.message)
            }
        }
        if let maxQueuedRecords { settings.ingest.maxQueuedRecords = maxQueuedRecords }
        if let extractOver { settings.extractOverBytes = extractOver }
        if let logLevel {
            do {
                try settings.setLogLevel(logLevel)
            } catch {
                throw CLIError(.usage, "--log-level: " + error.message)
            }
        }
        if let logFormat {
            guard let format = ServerConfiguration.LogFormat(rawValue: logFormat) else {
                throw CLIError(.usage, "--log-format must be json or text")
            }
            settings.logFormat = format
        }
        do {
            try settings.validate()
        } catch {
            throw CLIError(.usage, error.message)
        }
        return settings
    }

    func run() async throws {
        if let mirror {
            guard location.ledger == nil, logs == nil else {
                throw CLIError(
                    .usage, "--mirror serves a mirror directory: it cannot be combined with --ledger or --logs")
            }
            try await runReportingErrors {
                guard FileManager.default.fileExists(atPath: mirror + "/checkpoint") else {
                    throw CLIError(
                        .notFound,
                        "\(mirror) holds no checkpoint: not a mirror (run `cairn mirror URL \(mirror)` first)")
                }
                do {
                    try await DirectoryTileServer(directory: mirror).serve(configuration: try settings()) { address in
                        Console.line("listening on \(address)")
                        Console.flush()
                    }
                } catch let error as IOError {
                    throw listenFailure(error, address: try settings().listen.description)
                }
            }
            return
        }
        if let logs {
            guard location.ledger == nil else {
                throw CLIError(
                    .usage, "--logs serves the ledgers of a log directory: it cannot be combined with --ledger")
            }
            try await runReportingErrors { try await serveLogs(logs) }
            return
        }
        try await runReportingErrors {
            let settings = try settings()
            let directory = location.ledger ?? settings.ledger ?? location.directory
            let ledger = try LedgerLocation.open(directory)
            // One server per ledger: held until the process ends (ServeLock).
            let locks = try ServeLock.acquire(ledger: directory)
            defer { withExtendedLifetime(locks) {} }
            // A format 1 ledger would answer every append with an error: refuse it up front.
            guard try await ledger.read({ $0.storageFormat }) == LedgerLayout.formatVersion else {
                throw CLIError(
                    .software,
                    "the ledger at \(directory) is in storage format \(LedgerLayout.perHashFormatVersion), which this "
                        + "cairn does not append to: run `cairn migrate --ledger \(directory)` once, then start the "
                        + "server again")
            }
            do {
                try await CairnServer.serveProcess(ledger: ledger, configuration: settings) { address in
                    Console.line("listening on \(address)")
                    Console.flush()
                }
            } catch let error as IOError {
                throw listenFailure(error, address: settings.listen.description)
            }
        }
    }
}

/// What a socket error while starting a server means, for `cairn serve` and `cairn witness serve`
/// ("bind(descriptor:ptr:bytes:): Address already in use) (errno: 98)" said it to nobody).
func listenFailure(_ error: IOError, address: String) -> CLIError {
    switch error.errnoCode {
    case EADDRINUSE:
        CLIError(
            .ioError,
            "cannot listen on \(address): the address is already in use (by another server, or another "
                + "cairn serve); stop it or choose another address with --listen")
    case EACCES:
        CLIError(
            .noPermission,
            "cannot listen on \(address): permission denied (ports below 1024 need privileges; "
                + "choose another with --listen)")
    case EADDRNOTAVAIL:
        CLIError(.usage, "cannot listen on \(address): no network interface of this machine has that address")
    default:
        CLIError(.ioError, "cannot listen on \(address): \(String(cString: strerror(error.errnoCode)))")
    }
}

extension ServeCommand {
    /// `cairn serve --logs DIR`: every log of the directory behind one listener (MultiLogServer).
    func serveLogs(_ directory: String) async throws {
        let settings = try settings()
        let listing: LogDirectory
        do {
            listing = try LogDirectory.load(directory)
        } catch {
            throw CLIError(error)
        }
        guard !listing.entries.isEmpty else { throw CLIError(.notFound, "the log directory \(directory) has no logs") }
        var ledgers: [(name: String, ledger: Ledger)] = []
        var locks: [LockFile] = []
        defer { withExtendedLifetime(locks) {} }
        var seen: [String: String] = [:]
        for entry in listing.entries {
            let path = listing.ledgerPath(entry)
            // One process must not open a ledger twice (LMDB): a ledger listed under two paths is refused.
            let real = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
            if let other = seen.updateValue(entry.name, forKey: real) {
                throw CLIError(
                    .usage, "the logs \(other) and \(entry.name) of \(directory) are the same ledger (\(real))")
            }
            let ledger = try LedgerLocation.open(path)
            locks += try ServeLock.acquire(ledger: path)
            guard try await ledger.read({ $0.storageFormat }) == LedgerLayout.formatVersion else {
                throw CLIError(
                    .software,
                    "the log \(entry.name) (\(path)) is in storage format \(LedgerLayout.perHashFormatVersion): run "
                        + "`cairn migrate --ledger \(path)` once, then start the server again")
            }
            ledgers.append((entry.name, ledger))
        }
        let opened = ledgers
        let current = try Self.statuses(listing, opened).filter(\.isCurrent)
        let defaultName = current.count == 1 ? current[0].entry.name : nil
        let body: @Sendable () async throws -> JSONValue = {
            let logs: [JSONValue] = try Self.statuses(listing, opened).map { status in
                var object = logDetails(status)
                object["path"] = nil  // the server's file system is not the client's business
                object["url"] = .string("/logs/\(status.entry.name)/")
                object["default"] = .bool(status.entry.name == defaultName)
                return .object(object)
            }
            return .object(["logs": .array(logs)])
        }
        do {
            try await MultiLogServer.serveProcess(
                logs: ledgers, defaultName: defaultName, configuration: settings, listing: body
            ) { address in
                Console.line("listening on \(address)")
                Console.flush()
            }
        } catch let error as IOError {
            throw listenFailure(error, address: settings.listen.description)
        } catch let error as ConfigurationError {
            throw CLIError(.usage, error.message)
        }
    }

    /// The statuses of the logs of `listing`, read from the ledgers the server holds.
    static func statuses(
        _ listing: LogDirectory, _ ledgers: [(name: String, ledger: Ledger)]
    ) throws -> [LogDirectory.Status] {
        do {
            return try listing.statuses { (entry: LogDirectory.Entry) throws(LogDirectoryError) -> Ledger in
                guard let ledger = ledgers.first(where: { $0.name == entry.name })?.ledger else {
                    throw LogDirectoryError(.notFound, "log \(entry.name) is not served")
                }
                return ledger
            }
        } catch {
            throw CLIError(error)
        }
    }
}
