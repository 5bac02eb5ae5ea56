import ArgumentParser
import CairnClient
import CairnJSON
import CairnMirror
import CairnNote
import CairnRecords
import Foundation

struct MirrorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mirror",
        abstract: "Follow a C2SP tlog-tiles log into a directory, verifying every checkpoint, tile and entry.",
        discussion: prose(
            """
            Follows the log published at URL — a `cairn serve`, a `cairn export tiles` directory behind any web
            server, or any other C2SP tlog-tiles log (https://c2sp.org/tlog-tiles) — into DIR. Each round:

            1. It fetches URL/checkpoint and verifies its signature with the log's key.
            2. It checks that the checkpoint extends the one DIR already serves: never smaller, and the root
            of the older size, recomputed from the new tree's tiles (RFC 6962), is the older checkpoint's.
            3. It fetches the hash tiles and entry bundles grown since, URL/tile/<L>/<N>[.p/<W>] and
            URL/tile/entries/<N>[.p/<W>], and authenticates each against the signed root before writing it:
            the partial tiles recompute the root, every full tile hashes to its entry in the tile above it,
            every entry hashes to its leaf hash.
            4. It writes them, then the checkpoint, durably (temporary file, fsync, rename; the tiles before
            the checkpoint that needs them), and deletes the partial tiles that are now full.

            DIR then holds exactly what `cairn export tiles` writes — checkpoint, tile/…, tile/entries/… —
            which any static web server can serve read-only (docs/publishing-tiles.md gives the headers),
            plus the mirror's own .cairn-mirror/: state.json (the checkpoint served, and the one being
            installed), log.vkey (the pinned key) and evidence/. Formats: specs/mirror.md.

            Trust on first use is explicit: the first run needs --vkey (a verifier key, or a file holding
            one); it is pinned in DIR/.cairn-mirror/log.vkey, and later runs use it (a different --vkey is
            refused). A checkpoint that does not verify, a tile or entry that does not match it, a checkpoint
            smaller than the one served (rollback) or one that does not extend it (a fork) is refused: DIR
            keeps serving the last verified checkpoint, and for a rollback or a fork both signed checkpoints
            are saved in DIR/.cairn-mirror/evidence/. A mirror stopped at any point (a kill, a crash) resumes
            where it was: the tiles already written are authenticated again instead of fetched.

            The token (for a `cairn serve` without public reads, and for its entry bundles, which need the
            read role) is the first given of --token, --token-file, $CAIRN_TOKEN_FILE and $CAIRN_TOKEN.
            With --once it does one round; otherwise one every --interval seconds (default 60), until
            stopped, reporting a failed round and trying again at the next.

            EXIT STATUS
              0   the round succeeded: DIR serves the log's checkpoint, verified (--once)
              1   verification failed: a bad signature, a tile or entry that does not match the checkpoint,
                  a rollback or a fork (evidence in DIR/.cairn-mirror/evidence/); DIR is unchanged
              64  usage error: bad arguments, an unusable URL, no --vkey for a new mirror
              66  no such --vkey or --token-file file
              70  internal error (a bug in cairn: please report it)
              73  DIR holds something else: a mirror of another log (another key or origin), or files that
                  are not a mirror's
              74  the log cannot be reached or does not serve a resource its checkpoint implies (timeout,
                  refused connection, 404, 5xx), or DIR cannot be read, written or locked (another mirror
                  runs on it)
              77  the log refused the token or wants one (401, 403)

            EXAMPLES
              cairn mirror https://log.example.com/cairn/ /srv/mirror --vkey ledger.vkey --once
              cairn mirror https://log.example.com/cairn/ /srv/mirror --once --json
              cairn mirror https://log.example.com/cairn/ /srv/mirror --interval 300
            """)
    )

    @Argument(help: ArgumentHelp("The log's URL prefix (http, https or unix:/path).", valueName: "url"))
    var url: String

    @Argument(help: ArgumentHelp("The mirror directory (created if missing).", valueName: "dir"))
    var directory: String

    @OptionGroup var log: LogOptions

    @Flag(help: "Do one round and exit.")
    var once = false

    @Option(help: ArgumentHelp("Seconds between rounds when not --once (default 60).", valueName: "seconds"))
    var interval: Double?

    @Flag(help: "Print one JSON object per round.")
    var json = false

    func validate() throws {
        try log.validate()
        try validateRounds(once: once, interval: interval)
    }

    func run() async throws {
        try await runReportingErrors {
            let source = try log.source(url)
            let key = try log.key()
            let mirror: Mirror
            do throws(MirrorError) {
                mirror = try Mirror(directory: directory, source: source, vkey: key, origin: log.origin)
            } catch {
                throw mirrorFailure(error)
            }
            defer { mirror.close() }
            while true {
                do throws(MirrorError) {
                    let summary = try await mirror.round()
                    report(summary)
                    if once { return }
                } catch {
                    // A failed round: with --once that is the answer; otherwise say so and try again later,
                    // unless waiting cannot help.
                    if once || [.usage, .otherLog, .invalidState, .storage].contains(error.code) {
                        if json { printFailure(error) }
                        throw mirrorFailure(error)
                    }
                    if json {
                        printFailure(error)
                    } else {
                        Console.error("error: " + DisplayText.escape(error.message))
                    }
                }
                Console.flush()
                try await Task.sleep(for: .milliseconds(Int64((interval ?? 60) * 1000)))
            }
        }
    }

    private func report(_ summary: MirrorSummary) {
        for skipped in summary.unservableBundles {
            Console.error("warning: \(skipped.path) not mirrored: the log does not serve it (\(skipped.reason))")
        }
        if json {
            printJSON(.object(summary.json))
            return
        }
        if summary.previousSize == summary.treeSize {
            Console.line(
                DisplayText.escape(
                    "\(summary.directory) is up to date with \(summary.url) at size \(summary.treeSize)"
                        + (summary.checkpointUpdated ? " (checkpoint updated: new cosignatures)" : "")))
            return
        }
        let previous = summary.previousSize.map { " (previous size \($0))" } ?? ""
        var parts: [String] = []
        if !summary.consistentWith.isEmpty {
            parts.append("consistent with size " + summary.consistentWith.map(String.init).joined(separator: " and "))
        }
        parts.append(
            "\(summary.tilesFetched) tiles and \(summary.bundlesFetched) entry bundles fetched"
                + (summary.tilesReused + summary.bundlesReused > 0
                    ? ", \(summary.tilesReused + summary.bundlesReused) reused from an interrupted round" : ""))
        parts.append("\(summary.filesWritten) files written")
        parts.append("checkpoint " + (summary.checkpointUpdated ? "updated" : "unchanged"))
        Console.line(
            DisplayText.escape(
                "mirrored size \(summary.treeSize)\(previous) of \(summary.url) into \(summary.directory): "
                    + parts.joined(separator: ", ") + " (\(String(format: "%.2f", summary.seconds)) s)"))
    }

    private func printFailure(_ error: MirrorError) {
        printJSON(
            .object([
                "ok": false, "error": .string(error.code.rawValue), "message": .string(error.message),
                "evidence": error.evidence.map { .string($0) } ?? .null,
            ]))
    }
}

/// The options `cairn mirror` and `cairn monitor` share: the log's key and origin, the token, the timeout.
struct LogOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "The log's verifier key, or a file holding it (required the first time; then pinned).", valueName: "vkey"))
    var vkey: String?

    @Option(
        help: ArgumentHelp(
            "The checkpoints' origin, when the log's key is not named after it (default: the key's name).",
            valueName: "origin"))
    var origin: String?

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

    @Option(help: ArgumentHelp("Seconds each request may take (default 30).", valueName: "seconds"))
    var timeout: Double = 30

    func validate() throws {
        if token != nil && tokenFile != nil { throw ValidationError("--token and --token-file exclude each other") }
        guard timeout > 0 && timeout.isFinite else { throw ValidationError("--timeout must be positive") }
    }

    /// The log at `url`, with the token.
    func source(_ url: String) throws -> HTTPTileSource {
        let token: String?
        do {
            token = try APIToken.resolve(
                token: self.token, tokenFile: tokenFile, environment: ProcessInfo.processInfo.environment
            ) { file in try readInput(file, what: "token file") }
        } catch let error as ClientError {
            throw CLIError(.usage, error.message)
        }
        do {
            return try HTTPTileSource(url: url, token: token, timeout: timeout)
        } catch {
            throw CLIError(.usage, error.message)
        }
    }

    /// --vkey, parsed; nil when not given.
    func key() throws -> NoteVerifierKey? {
        guard let vkey else { return nil }
        let keys = try verifierKeys(vkey, option: "--vkey")
        guard keys.count == 1, let key = keys.first, key.type == NoteVerifierKey.ed25519Type else {
            throw CLIError(.usage, "--vkey \(vkey): expected one log verifier key (Ed25519, type 0x01)")
        }
        return key
    }
}

/// The verifier keys of an option's value: a vkey, or a file holding one per line (blank lines and `#` comments
/// ignored). A missing file is 66, a malformed key 64.
func verifierKeys(_ value: String, option: String) throws -> [NoteVerifierKey] {
    if let key = try? NoteVerifierKey(parsing: value) { return [key] }
    let looksLikeFile = !value.contains("+") && (value.contains("/") || value.contains("."))
    guard FileManager.default.fileExists(atPath: value) else {
        if looksLikeFile {
            throw CLIError(.notFound, "\(option) \(value): no such file (and not a verifier key name+id+key either)")
        }
        do {
            _ = try NoteVerifierKey(parsing: value)
        } catch {
            throw CLIError(.usage, "\(option) is neither a verifier key nor an existing file: \(error.message)")
        }
        throw CLIError(.usage, "\(option): unusable verifier key")
    }
    let text = String(decoding: try readInput(value, what: "vkey file"), as: UTF8.self)
    var keys: [NoteVerifierKey] = []
    for line in text.split(whereSeparator: \.isNewline) {
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty, !trimmed.hasPrefix("#") else { continue }
        do {
            keys.append(try NoteVerifierKey(parsing: trimmed))
        } catch {
            throw CLIError(.usage, "\(option) file \(value): \(error.message)")
        }
    }
    guard !keys.isEmpty else { throw CLIError(.usage, "\(option) file \(value) holds no verifier key") }
    return keys
}

/// --once and --interval exclude each other; an interval is at least a second.
func validateRounds(once: Bool, interval: Double?) throws {
    if once && interval != nil { throw ValidationError("--once and --interval exclude each other") }
    if let interval, !(interval >= 1 && interval <= 86_400 * 7) {
        throw ValidationError("--interval must be between 1 and 604800 seconds")
    }
}

/// Maps a mirror's error onto the exit statuses of `cairn mirror --help`.
func mirrorFailure(_ error: MirrorError) -> CLIError {
    let status: ExitStatus =
        switch error.code {
        case .badSignature, .tileMismatch, .inconsistent, .rollback: .verificationFailed
        case .unreachable, .unavailable, .storage, .invalidState: .ioError
        case .unauthorized: .noPermission
        case .otherLog: .cannotCreate
        case .usage: .usage
        }
    return CLIError(status, error.message)
}
