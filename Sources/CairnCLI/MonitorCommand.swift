import ArgumentParser
import CairnJSON
import CairnMirror
import CairnNote
import CairnRecords
import Foundation

struct MonitorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "monitor",
        abstract: "Watch a log's checkpoint and alert on forks, rollbacks, split views, bad signatures and staleness.",
        discussion: prose(
            """
            Fetches URL/checkpoint each round — from a `cairn serve`, a static `cairn export tiles` copy or any
            C2SP tlog-tiles log — and reports one event per finding: a line of text, or with --json a JSON
            object {"at", "event", "size", "detail", …} per line. The events:

              ok             signed by the log's key, consistent with the last checkpoint seen, and fresh
              inconsistent   does not extend the last checkpoint seen: Cairn's consistency proof
                             (/v1/proof/consistency) or the one computed from the log's tiles fails, the
                             tiles do not match the checkpoint, or two checkpoints of one size differ
              rollback       smaller than the last checkpoint seen
              split_view     two checkpoints of one size with different roots, one of them cosigned by a
                             --witness-vkey witness: the witnesses saw another tree than this monitor
              bad_signature  malformed, not signed by the log's key, or a witness cosignature that fails
              stale          with --max-age: the newest --witness-vkey cosignature on the checkpoint is
                             older than that (or there is none), or no good checkpoint (reachable, signed,
                             consistent) has been had for that long
              unreachable    the checkpoint, or what the consistency check needs, cannot be fetched

            Alerts carry the notes involved (checkpoint, previous) as evidence. A log that does not grow is
            not stale: freshness comes from witnesses, which cosign a checkpoint again when they are asked
            (C2SP tlog-witness), so without --witness-vkey only unreachability makes a log stale.

            --state FILE keeps what was seen between runs (the last checkpoint, the roots seen at each size,
            counters per event, the pinned key): needed with --once, which does one round and exits. Without
            --once a round runs every --interval seconds (default 60) until stopped. The server has its own
            Prometheus metrics; the monitor's counters are the "counters" of the state file and of the last
            JSON line of a --once run ({"event":"summary",…}). Formats: specs/mirror.md.

            EXIT STATUS
              0   (--once) ok
              1   (--once) an alert: inconsistent, rollback, split_view, bad_signature or stale
              64  usage error: bad arguments, no --vkey (and none pinned in --state), a --vkey that is not
                  the one pinned in --state
              66  no such --vkey, --witness-vkey or --token-file file
              70  internal error (a bug in cairn: please report it)
              74  (--once) the log is unreachable (and nothing alerts), or the state file cannot be read or
                  written

            EXAMPLES
              cairn monitor https://log.example.com/cairn/ --vkey ledger.vkey --state monitor.json --once
              cairn monitor https://log.example.com/cairn/ --state monitor.json --once --json
              cairn monitor https://log.example.com/cairn/ --state monitor.json --witness-vkey witness.vkey --max-age 3600 --interval 300 --json
            """)
    )

    @Argument(help: ArgumentHelp("The log's URL prefix (http, https or unix:/path).", valueName: "url"))
    var url: String

    @OptionGroup var log: LogOptions

    @Option(
        help: ArgumentHelp(
            "A witness's cosignature verifier key, or a file of them (repeatable): their cosignatures count.",
            valueName: "vkey"))
    var witnessVkey: [String] = []

    @Option(help: ArgumentHelp("Keep what was seen in this file between runs.", valueName: "file"))
    var state: String?

    @Option(help: ArgumentHelp("Seconds after which a checkpoint is stale (see above).", valueName: "seconds"))
    var maxAge: Int64?

    @Flag(help: "Do one round and exit with its status.")
    var once = false

    @Option(help: ArgumentHelp("Seconds between rounds when not --once (default 60).", valueName: "seconds"))
    var interval: Double?

    @Flag(help: "Print events as JSON lines.")
    var json = false

    func validate() throws {
        try log.validate()
        try validateRounds(once: once, interval: interval)
        if let maxAge, maxAge <= 0 { throw ValidationError("--max-age must be positive") }
    }

    func run() async throws {
        try await runReportingErrors {
            let source = try log.source(url)
            var witnesses: [NoteVerifierKey] = []
            for value in witnessVkey {
                for key in try verifierKeys(value, option: "--witness-vkey") {
                    guard key.type == NoteVerifierKey.cosignatureV1Type else {
                        throw CLIError(
                            .usage,
                            "--witness-vkey \(value): \(key.nameAndID) is not a cosignature/v1 key (type 0x04; "
                                + "`cairn witness init` prints one)")
                    }
                    witnesses.append(key)
                }
            }
            let given = try log.key()
            let loaded: MonitorState?
            do throws(MirrorError) {
                loaded = try state.flatMap { (path) throws(MirrorError) in try MonitorState.load(path) }
            } catch {
                throw mirrorFailure(error)
            }
            let key: NoteVerifierKey
            if let loaded {
                let pinned: NoteVerifierKey
                do throws(NoteError) {
                    pinned = try NoteVerifierKey(parsing: loaded.vkey)
                } catch {
                    throw CLIError(.ioError, "\(state!): the pinned vkey: \(error.message)")
                }
                if let given, given != pinned {
                    throw CLIError(
                        .usage,
                        "\(state!) follows the log of key \(pinned.nameAndID), not \(given.nameAndID): use another "
                            + "--state file for another log")
                }
                key = pinned
            } else if let given {
                key = given
            } else {
                throw CLIError(
                    .usage,
                    "give the log's verifier key with --vkey" + (state == nil ? "" : " (\(state!) does not exist yet)"))
            }
            var configuration = MonitorConfiguration(key: key, origin: log.origin ?? loaded?.origin)
            configuration.witnesses = witnesses
            configuration.maxAge = maxAge
            if let loaded, loaded.origin != configuration.origin {
                throw CLIError(.usage, "\(state!) follows origin \"\(loaded.origin)\", not \"\(configuration.origin)\"")
            }
            var initial =
                loaded
                ?? MonitorState(
                    url: source.description, vkey: key.description, origin: configuration.origin,
                    startedAt: currentTime())
            initial.url = source.description
            let monitor = Monitor(source: source, configuration: configuration, state: initial)

            while true {
                let events = await monitor.round()
                for event in events { report(event) }
                if let state {
                    do throws(MirrorError) {
                        try monitor.state.save(state)
                    } catch {
                        throw CLIError(.ioError, "\(state): \(error.message)")
                    }
                }
                if once {
                    let status: ExitStatus? =
                        events.contains(where: \.kind.isAlert)
                        ? .verificationFailed : events.contains(where: { $0.kind == .unreachable }) ? .ioError : nil
                    if json { summary(events, monitor: monitor, status: status) }
                    Console.flush()
                    if let status { throw ExitCode(status.rawValue) }
                    return
                }
                Console.flush()
                try await Task.sleep(for: .milliseconds(Int64((interval ?? 60) * 1000)))
            }
        }
    }

    private func report(_ event: MonitorEvent) {
        if json {
            printJSON(.object(event.json))
        } else {
            let size = event.size.map { " size \($0)" } ?? ""
            Console.line(DisplayText.escape("\(rfc3339(event.at)) \(event.kind.rawValue)\(size): \(event.detail)"))
        }
    }

    /// The last line of a --once --json run: the counters (the monitor's metrics) and the exit status.
    private func summary(_ events: [MonitorEvent], monitor: Monitor, status: ExitStatus?) {
        let alerts = events.filter(\.kind.isAlert).map(\.kind.rawValue)
        let counters = monitor.state.counters.sorted { $0.key < $1.key }.map { ($0.key, JSONValue.uint($0.value)) }
        printJSON(
            .object([
                "at": .string(rfc3339(events.last?.at ?? currentTime())),
                "event": "summary",
                "size": events.compactMap(\.size).last.map { .uint($0) } ?? .null,
                "detail": .string(
                    alerts.isEmpty
                        ? (status == nil ? "ok" : "unreachable")
                        : "\(alerts.count) alert\(alerts.count == 1 ? "" : "s"): " + alerts.joined(separator: ", ")),
                "counters": .object(JSONObject(counters)),
                "exit_status": .number(Double(status?.rawValue ?? 0)),
            ]))
    }
}
