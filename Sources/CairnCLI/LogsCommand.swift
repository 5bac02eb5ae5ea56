import ArgumentParser
import CairnJSON
import CairnLedger
import CairnLogDirectory
import CairnRecords
import Foundation

struct LogsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logs",
        abstract: "Keep a directory of logs (shards): add them, list them, find the current one.",
        discussion: prose(
            """
            A log directory holds several ledgers — the shards of one log over time (a log per year,
            each sealed and succeeded, `cairn seal`), or logs of several organisations — listed in
            its logs.json (specs/sealing.md §6). Everything but each log's name and path is read
            from the ledgers themselves: origins, keys, sizes, seals and the links between shards.
            `cairn serve --logs DIR` serves them all behind one API, and `cairn query --logs DIR`
            searches them all.

            The directory is --dir, else $CAIRN_LOGS.
            """),
        subcommands: [LogsAdd.self, LogsList.self, LogsCurrent.self]
    )
}

/// The --dir option of the logs commands.
struct LogDirectoryLocation: ParsableArguments {
    @Option(help: ArgumentHelp("The log directory (default: $CAIRN_LOGS).", valueName: "dir"))
    var dir: String?

    var directory: String {
        get throws {
            if let dir { return dir }
            if let env = ProcessInfo.processInfo.environment["CAIRN_LOGS"], !env.isEmpty { return env }
            throw CLIError(.usage, "no log directory: pass --dir DIR or set CAIRN_LOGS")
        }
    }

    /// Every log's status (`LogDirectory.statuses`), read from its ledger.
    func statuses() throws -> [LogDirectory.Status] {
        do {
            return try LogDirectory.load(try directory).statuses()
        } catch let error as LogDirectoryError {
            throw CLIError(error)
        }
    }
}

extension CLIError {
    /// The exit status of a log directory failure.
    init(_ error: LogDirectoryError) {
        if let ledgerError = error.ledgerError {
            self.init(CLIError(ledgerError).status, error.message)
            return
        }
        let status: ExitStatus =
            switch error.code {
            case .notFound: .notFound
            case .malformed: .dataError
            case .invalidName, .duplicate: .usage
            case .ledger, .io: .ioError
            }
        self.init(status, error.message)
    }
}

struct LogsAdd: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Add a ledger to a log directory.",
        discussion: prose(
            """
            Registers LEDGER under NAME (default: the ledger directory's last path component) in the
            directory's logs.json, creating it if needed. The name is the path segment under which
            `cairn serve --logs` serves the log (/logs/NAME/…): 1 to 64 letters, digits, '.', '_'
            or '-'. The ledger must open, and neither the name, the ledger nor its origin may be
            registered already. A ledger inside the directory is stored by its relative path, so
            the directory can be moved or restored elsewhere as a whole.

            EXAMPLES
              cairn init --origin example.com/cairn-2026 --ledger ./logs/2026 && cairn logs add ./logs/2026 --dir ./logs
              cairn logs add ./logs/2026 --name shard-2026 --dir ./other-logs --json

            EXIT STATUS
              0   added
              64  usage error: an invalid name, a name, ledger or origin already registered
              65  the directory's logs.json is malformed
              66  no such ledger
              70  internal error (a bug in cairn: please report it)
              74  logs.json or the ledger cannot be read or written
            """)
    )

    @OptionGroup var location: LogDirectoryLocation

    @Argument(help: ArgumentHelp("The ledger directory to add.", valueName: "ledger"))
    var ledger: String

    @Option(help: ArgumentHelp("The log's name in the directory.", valueName: "name"))
    var name: String?

    @Flag(help: "Print the added log as a JSON object.")
    var json = false

    func run() throws {
        try runReportingErrors {
            var listing: LogDirectory
            do {
                listing = try LogDirectory.loadOrEmpty(try location.directory)
                let trimmed = ledger.hasSuffix("/") ? String(ledger.dropLast()) : ledger
                let entry = try listing.add(
                    ledger: ledger, name: name ?? String(trimmed.split(separator: "/").last ?? Substring(trimmed)))
                try listing.save()
                if json {
                    printJSON(.object(["name": .string(entry.name), "path": .string(entry.path)]))
                } else {
                    Console.error("added \(entry.name) (\(entry.path)) to \(listing.filePath)")
                }
            } catch let error as LogDirectoryError {
                throw CLIError(error)
            }
        }
    }
}

struct LogsList: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the logs of a directory, with their state and the links between shards.",
        discussion: prose(
            """
            One line per log, in the order they were added: its name, origin, tree size, state
            (open, current, or sealed at a size) and the log it succeeds. Links between shards are
            checked: a successor's entry 0 must verify with its predecessor's key and name the
            predecessor's final checkpoint; a broken link is shown, and makes the exit status 1.
            With --json, an array of objects (name, path, origin, vkey, size, root_hash, current,
            sealed, predecessor, successor, link_problem).

            EXAMPLES
              cairn logs list --dir ./logs
              cairn logs list --dir ./logs --json

            EXIT STATUS
              0   listed; every link holds
              1   a link between shards does not hold (listed)
              64  usage error (no --dir and no $CAIRN_LOGS)
              65  logs.json is malformed
              66  no log directory, or a registered ledger is missing
              70  internal error (a bug in cairn: please report it)
              74  logs.json or a ledger cannot be read
            """)
    )

    @OptionGroup var location: LogDirectoryLocation

    @Flag(help: "Print a JSON array.")
    var json = false

    func run() throws {
        try runReportingErrors {
            let statuses = try location.statuses()
            if json {
                printJSON(.array(statuses.map { .object(logDetails($0)) }))
            } else {
                var rows = [["NAME", "ORIGIN", "SIZE", "STATE", "SUCCEEDS"]]
                for status in statuses {
                    let state =
                        status.seal.map { "sealed at \($0.checkpoint.checkpoint.size)" }
                        ?? (status.isCurrent ? "current" : "open")
                    let succeeds =
                        status.predecessor.map { link in
                            (status.predecessorName ?? link.origin)
                                + (status.linkProblem.map { " (LINK BROKEN: \($0))" } ?? "")
                        } ?? "-"
                    rows.append([status.entry.name, status.origin, String(status.treeSize), state, succeeds])
                }
                // Origins and link problems come from the ledgers: shown escaped.
                printColumns(rows.map { $0.map { DisplayText.escape($0) } })
            }
            if statuses.contains(where: { $0.linkProblem != nil }) {
                throw ExitCode(ExitStatus.verificationFailed.rawValue)
            }
        }
    }
}

struct LogsCurrent: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "current",
        abstract: "Print the ledger directory of each current log: open, with no successor.",
        discussion: prose(
            """
            Prints the path of each current log of the directory, one per line: a log that is not
            sealed and has no successor in the directory — where appends go. A directory of one
            chain of shards has one; of several organisations, one per chain. Scripts use it as
            `CAIRN_LEDGER=$(cairn logs current --dir DIR)` (with several, pass --origin-prefix).

            EXAMPLES
              cairn logs current --dir ./logs
              cairn logs current --dir ./logs --origin-prefix example.com/cairn- --json

            EXIT STATUS
              0   printed
              64  usage error (no --dir and no $CAIRN_LOGS)
              65  logs.json is malformed
              66  no log directory, no current log, or a registered ledger is missing
              70  internal error (a bug in cairn: please report it)
              74  logs.json or a ledger cannot be read
            """)
    )

    @OptionGroup var location: LogDirectoryLocation

    @Option(help: ArgumentHelp("Only logs whose origin starts with this.", valueName: "prefix"))
    var originPrefix: String?

    @Flag(help: "Print a JSON array of the current logs (as `cairn logs list --json`).")
    var json = false

    func run() throws {
        try runReportingErrors {
            let statuses = try location.statuses()
            let current = statuses.filter { status in
                status.isCurrent && (originPrefix.map { status.origin.utf8.starts(with: $0.utf8) } ?? true)
            }
            guard !current.isEmpty else {
                throw CLIError(
                    .notFound,
                    "no current log in \(try location.directory)"
                        + (originPrefix.map { " with an origin starting \($0)" } ?? "")
                        + ": every log is sealed or succeeded (start a successor with `cairn init --successor-of`)")
            }
            if json {
                printJSON(.array(current.map { .object(logDetails($0)) }))
            } else {
                for status in current { Console.line(status.path) }
            }
        }
    }
}

/// The JSON description of a log of a directory (`cairn logs list --json`).
func logDetails(_ status: LogDirectory.Status) -> JSONObject {
    var object: JSONObject = [
        "name": .string(status.entry.name), "path": .string(status.path), "origin": .string(status.origin),
        "vkey": .string(status.vkey.description), "size": .uint(status.treeSize),
        "root_hash": .string(status.checkpoint.checkpoint.rootHash.base64), "current": .bool(status.isCurrent),
        "sealed": status.seal.map { .object(sealDetails($0, origin: status.origin)) } ?? .null,
        "successor": status.successorName.map { .string($0) } ?? .null,
        "link_problem": status.linkProblem.map { .string($0) } ?? .null,
    ]
    object["predecessor"] =
        status.predecessor.map { link in
            .object([
                "origin": .string(link.origin), "vkey": .string(link.vkey.description),
                "name": status.predecessorName.map { .string($0) } ?? .null,
            ])
        } ?? .null
    return object
}
