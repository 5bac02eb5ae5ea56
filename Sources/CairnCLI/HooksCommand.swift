import ArgumentParser
import CairnAudit
import CairnCapture
import CairnClient
import CairnCommitCapture
import CairnHooks
import CairnJSON
import CairnLedger
import CairnRecords
import Foundation

struct HooksCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hooks",
        abstract: "Install, remove and check the capture hooks of coding agents in a repository.",
        discussion: prose(
            """
            `install` installs two halves of capture in a repository. The git hooks
            prepare-commit-msg, post-commit, post-rewrite and pre-push (in the directory git uses:
            core.hooksPath is respected) become small sh shims that call `cairn-capture git-hook
            HOOK` (the same as `cairn hooks run HOOK`, in the small executable); a
            hook already there is kept beside its shim as HOOK.cairn-chained and runs first, with the
            same arguments and input (a failing prepare-commit-msg or pre-push still stops git).
            --ledger DIR or --server URL sets where the records go (git config cairn.ledger or
            cairn.server). And each coding agent's own configuration in the repository gets
            `cairn-capture AGENT` (the small capture executable built beside `cairn`;
            specs/capture.md), merged with what is there: Claude Code's
            .claude/settings.local.json (UserPromptSubmit, PostToolUse of Write|Edit|MultiEdit|Bash,
            Stop, SessionStart, SessionEnd), Cursor's .cursor/hooks.json (beforeSubmitPrompt,
            afterFileEdit, afterTabFileEdit, afterShellExecution, stop), Gemini CLI's
            .gemini/settings.json (BeforeAgent, AfterTool of write_file|replace|run_shell_command,
            AfterAgent, SessionStart, SessionEnd) and GitHub Copilot CLI's .github/hooks/cairn.json, a
            file of Cairn's own (sessionStart, userPromptSubmitted, postToolUse, agentStop, sessionEnd,
            each `cairn-capture github-copilot --event NAME` under bash). Installing twice changes
            nothing. A configuration file that is not a JSON object is refused and left as it is.
            --no-git leaves git's hooks alone; --agents none leaves the agents' configurations alone.
            --redact-personal-data makes capture in the repository redact personal data too (e-mail
            addresses, phone numbers, payment cards, IBANs, US SSNs), not only secrets; see `cairn hooks
            install --help`.

            OpenAI Codex's hooks are not installed: its `notify` program is set in your own
            ~/.codex/config.toml, which `install` does not edit. To record each finished turn's
            prompt and last message, add this line to it (with the path of your cairn-capture):
              notify = ["/usr/local/bin/cairn-capture", "codex"]

            `uninstall` takes Cairn's hooks out again: a chained git hook is put back byte for byte,
            with its mode; an agent's file nobody changed since the install is put back byte for
            byte (or removed, if the install created it); a changed one keeps everything but Cairn's
            hooks. It leaves .git/cairn/ alone: the working log, the redaction key and the personal-data
            choice.

            `status` is a doctor: which git and agent hooks are installed and chained, the
            destination and whether it answers (the ledger opens; the server's spool), the records
            waiting in the outbox and the spool, the working log, the capture log, the redaction
            key and whether personal data is redacted.

            `run` is what the git hooks call; `flush` delivers the outbox by hand.

            EXAMPLES
              cairn hooks install --agents claude-code --repo ~/src/app --server https://cairn.example.com
              cairn hooks install --ledger cairn-ledger
              cairn hooks install --ledger cairn-ledger --redact-personal-data
              cairn hooks status --json
              cairn hooks uninstall
            """),
        subcommands: [HooksInstall.self, HooksUninstall.self, HooksStatus.self, HooksRun.self, HooksFlush.self]
    )
}

struct HooksOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The repository (default: the one around the current directory).", valueName: "dir"))
    var repo: String?

    @Option(
        help: ArgumentHelp(
            "The agents, comma-separated, all or none: \(AgentHookConfigs.all.map(\.agent).joined(separator: ", ")).",
            valueName: "list"))
    var agents: String = "all"

    @Flag(
        inversion: .prefixedNo, help: "Include git's hooks (prepare-commit-msg, post-commit, post-rewrite, pre-push).")
    var git = true

    @Flag(help: "Print the result as JSON.")
    var json = false

    /// The git shims run `cairn-capture git-hook` (it starts in a few milliseconds), else `cairn hooks run`.
    func gitInstaller(_ repository: CaptureRepository) -> GitHookInstaller {
        let capture = Self.executable(named: "cairn-capture", fallback: "")
        let command =
            capture.isEmpty ? Self.executable(named: "cairn", fallback: "cairn") + " hooks run" : capture + " git-hook"
        return GitHookInstaller(repository: repository, hookCommand: command)
    }

    func installer() throws -> HookInstaller {
        let directory = repo ?? FileManager.default.currentDirectoryPath
        guard FileManager.default.fileExists(atPath: directory) else {
            throw CLIError(.notFound, "no such directory: \(DisplayText.escape(directory))")
        }
        guard let repository = CaptureRepository.containing(directory) else {
            throw CLIError(
                .notFound, "\(DisplayText.escape(directory)) is not inside a git repository (run `git init` first)")
        }
        return HookInstaller(repository: repository, captureCommand: Self.captureCommand())
    }

    func selected() throws -> [AgentHookConfig] {
        if agents == "all" { return AgentHookConfigs.all }
        if agents == "none" { return [] }
        return try agents.split(separator: ",").map { name in
            guard let config = AgentHookConfigs.named(String(name)) else {
                let known = AgentHookConfigs.all.map(\.agent).joined(separator: ", ")
                throw CLIError(
                    .usage, "unknown agent \(DisplayText.escape(String(name))) in --agents (known: \(known), or all)")
            }
            return config
        }
    }

    /// `cairn-capture` beside this `cairn`, by absolute path (quoted for the shell when needed), else by name.
    static func captureCommand() -> String { executable(named: "cairn-capture", fallback: "cairn-capture") }

    /// The executable `name` in this `cairn`'s directory, by absolute path quoted for the shell when needed, or
    /// `fallback` when there is none.
    static func executable(named name: String, fallback: String) -> String {
        let executable =
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let beside = URL(fileURLWithPath: executable).deletingLastPathComponent().appendingPathComponent(name).path
        guard FileManager.default.isExecutableFile(atPath: beside) else { return fallback }
        let safe = beside.allSatisfy { $0.isLetter || $0.isNumber || "/._-+".contains($0) }
        return safe ? beside : "'" + beside.replacingOccurrences(of: "'", with: #"'\''"#) + "'"
    }

    /// Runs `redaction` on the repository's redaction choice (when given: it is recorded before any hook can capture),
    /// `gitChange` on git's hooks (unless --no-git) and `change` for each selected agent, then reports what each did.
    func apply(
        redaction: ((HookInstaller) throws(HookInstaller.HooksError) -> HookInstaller.Change)? = nil,
        git gitChange: (GitHookInstaller) throws(HookInstaller.HooksError) -> [(
            hook: String, change: HookInstaller.Change
        )],
        _ change: (HookInstaller, AgentHookConfig) throws(HookInstaller.HooksError) -> HookInstaller.Change
    ) throws {
        try runReportingErrors {
            let installer = try installer()
            var changes: [(name: String, file: String, change: HookInstaller.Change)] = []
            do {
                if let redaction {
                    changes.append(
                        ("personal-data", RedactionSettings.path(installer.repository), try redaction(installer)))
                }
                if git {
                    let gitInstaller = gitInstaller(installer.repository)
                    let directory = try gitInstaller.hooksDirectory
                    for item in try gitChange(gitInstaller) {
                        changes.append(("git " + item.hook, directory + "/" + item.hook, item.change))
                    }
                }
                for config in try selected() {
                    changes.append((config.agent, installer.configPath(config), try change(installer, config)))
                }
            } catch let error as HookInstaller.HooksError {
                for item in changes { reportLine(item) }
                throw CLIError(.dataError, DisplayText.escape(error.message))
            }
            report(changes)
        }
    }

    private func reportLine(_ item: (name: String, file: String, change: HookInstaller.Change)) {
        Console.line("\(item.name): \(item.change.rawValue) (\(DisplayText.escape(item.file)))")
    }

    func report(_ changes: [(name: String, file: String, change: HookInstaller.Change)]) {
        if json {
            let items: [JSONValue] = changes.map { item in
                .object(
                    JSONObject([
                        ("hook", .string(item.name)), ("file", .string(item.file)),
                        ("result", .string(item.change.rawValue)),
                    ]))
            }
            Console.line(DisplayText.escapeJSON(JSONWriter.compact(.array(items))))
        } else {
            for item in changes { reportLine(item) }
        }
    }
}

struct HooksInstall: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "install", abstract: "Install git's capture hooks and register `cairn-capture` with the agents.",
        discussion: prose(
            """
            Capture always redacts secrets before anything is written (specs/redaction.md).
            --redact-personal-data also makes it redact personal data in this repository: e-mail
            addresses, international phone numbers (+ and 8 to 15 digits), payment card numbers (a known
            issuer's range and length, Luhn-checked), IBANs (the country's length, mod-97-checked) and US
            social security numbers (AAA-GG-SSSS), each replaced by [REDACTED:<kind>:<tag>] like a
            secret. The choice is the file .git/cairn/redaction.json, which every capture reads; it
            is reported as `personal-data` and shown by `cairn hooks status`. --no-redact-personal-data
            removes it (secrets only, the default); without either flag the repository's choice stays
            as it is, and `cairn hooks uninstall` leaves it alone. Text captured before the choice
            stays as it was written.

            EXAMPLES
              cairn hooks install --redact-personal-data --no-git --agents none
            """)
    )

    @OptionGroup var options: HooksOptions

    @Option(help: ArgumentHelp("Deliver the records to this local ledger (git config cairn.ledger).", valueName: "dir"))
    var ledger: String?

    @Option(
        help: ArgumentHelp(
            "Deliver the records to this server, through the spool (git config cairn.server).", valueName: "url"))
    var server: String?

    @Flag(
        inversion: .prefixedNo,
        help: ArgumentHelp(
            "Also redact e-mail addresses, phone numbers, payment cards, IBANs and US SSNs in what capture records "
                + "(<git dir>/cairn/redaction.json); --no-redact-personal-data: secrets only (the default). "
                + "Without either, the repository's choice stays."))
    var redactPersonalData: Bool?

    func validate() throws {
        if ledger != nil && server != nil { throw ValidationError("--ledger and --server cannot be combined") }
    }

    func run() throws {
        if let server { _ = try ServerOptions.address(server) }
        var redaction: ((HookInstaller) throws(HookInstaller.HooksError) -> HookInstaller.Change)?
        if let on = redactPersonalData {
            redaction = { (installer) throws(HookInstaller.HooksError) in try installer.setPersonalDataRedaction(on) }
        }
        try options.apply(
            redaction: redaction,
            git: { (installer) throws(HookInstaller.HooksError) in
                if ledger != nil || server != nil { try installer.setDestination(ledger: ledger, server: server) }
                return try installer.install()
            },
            { installer, config throws(HookInstaller.HooksError) in try installer.install(config) })
    }
}

struct HooksUninstall: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "uninstall", abstract: "Take Cairn's hooks out of the agents' configurations.")

    @OptionGroup var options: HooksOptions

    func run() throws {
        try options.apply(
            git: { (installer) throws(HookInstaller.HooksError) in try installer.uninstall() },
            { installer, config throws(HookInstaller.HooksError) in try installer.uninstall(config) })
    }
}

struct HooksStatus: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show which hooks are installed, where records go, and what waits to be delivered.")

    @OptionGroup var options: HooksOptions

    func run() throws {
        try runReportingErrors {
            let installer = try options.installer()
            let repository = installer.repository
            let statuses = try options.selected().map { installer.status($0) }
            let gitInstaller = options.gitInstaller(repository)
            let gitStatuses = options.git ? gitInstaller.status() : []
            let cairn = repository.cairnDirectory
            let log = LockedLines.read(cairn + "/" + WorkingLog.fileName)
            let lastEvent = log.last.flatMap { try? JSONParser.parse($0) }?["at"]?.stringValue
            let failures = LockedLines.read(cairn + "/" + CaptureLog.fileName).map {
                String(decoding: $0, as: UTF8.self)
            }
            let hasKey = FileManager.default.fileExists(atPath: cairn + "/" + WorkingLog.keyFileName)
            let outbox = LockedLines.read(cairn + "/" + CommitHooks.outboxFileName).count
            let refused = LockedLines.read(cairn + "/outbox-rejected.jsonl").count
            let destination = gitInstaller.destination()
            // The doctor's answer for the destination: does it answer?
            var reachable: String
            var spoolWaiting: Int?
            if let ledger = destination.ledger {
                var openOptions = Ledger.OpenOptions()
                openOptions.readOnly = true
                do {
                    let size = try LedgerLocation.open(ledger, options: openOptions).read { $0.treeSize }
                    reachable = "ledger opens, \(size) entries"
                } catch {
                    reachable = "ledger does not open: \((error as? LedgerError)?.message ?? "\(error)")"
                }
            } else if let server = destination.server {
                let config = GitFacts(root: repository.root).settings()
                let spool = CommitDelivery.spoolDirectory(config: config)
                let status = try? Spool.status(directory: spool)
                let mine = status?.servers.first { $0.server.description == (try? ServerAddress(server))?.description }
                spoolWaiting = mine?.records ?? 0
                reachable =
                    "server records go through the spool \(spool): \(spoolWaiting ?? 0) waiting"
                    + (mine?.lastError.map { ", last error: \($0)" } ?? "")
            } else {
                reachable =
                    "no destination: records wait in the outbox (cairn hooks install --ledger DIR | --server URL)"
            }
            if options.json {
                var object: [(String, JSONValue)] = [
                    ("repository", .string(repository.root)),
                    (
                        "git_hooks",
                        .array(
                            gitStatuses.map {
                                .object(
                                    JSONObject([
                                        ("hook", .string($0.hook)), ("path", .string($0.path)),
                                        ("installed", .bool($0.installed)), ("chained", .bool($0.chained)),
                                    ]))
                            })
                    ),
                    (
                        "agents",
                        .array(
                            statuses.map {
                                .object(
                                    JSONObject([
                                        ("agent", .string($0.agent)), ("file", .string($0.file)),
                                        ("installed", .bool($0.installed)),
                                        ("commands", .array($0.commands.map { .string($0) })),
                                    ]))
                            })
                    ),
                    ("ledger", destination.ledger.map { .string($0) } ?? .null),
                    ("server", destination.server.map { .string($0) } ?? .null),
                    ("destination", .string(reachable)),
                    ("outbox_records", .number(Double(outbox))),
                    ("refused_records", .number(Double(refused))),
                    ("working_log_events", .number(Double(log.count))),
                    ("capture_failures", .number(Double(failures.count))),
                    ("redaction_key", .bool(hasKey)),
                    ("personal_data", .bool(installer.redactsPersonalData)),
                ]
                if let spoolWaiting { object.append(("spool_records", .number(Double(spoolWaiting)))) }
                if let lastEvent { object.append(("last_event", .string(lastEvent))) }
                if let last = failures.last { object.append(("last_failure", .string(last))) }
                Console.line(DisplayText.escapeJSON(JSONWriter.compact(.object(JSONObject(object)))))
                return
            }
            Console.line("repository: \(DisplayText.escape(repository.root))")
            for status in gitStatuses {
                let state =
                    status.installed
                    ? "installed" + (status.chained ? ", chained to the hook that was there" : "")
                    : "not installed"
                Console.line("  git \(status.hook): \(state) (\(DisplayText.escape(status.path)))")
            }
            for status in statuses {
                let state = status.installed ? "installed (\(status.commands.count) hooks)" : "not installed"
                Console.line("  \(status.agent): \(state) in \(DisplayText.escape(status.file))")
            }
            Console.line("destination: " + DisplayText.escape(reachable))
            Console.line("outbox: \(outbox) record\(outbox == 1 ? "" : "s") waiting, \(refused) refused")
            Console.line("working log: \(log.count) events" + (lastEvent.map { ", last at \($0)" } ?? ""))
            Console.line(
                "capture failures: \(failures.count)"
                    + (failures.last.map { ", last: " + DisplayText.escape($0) } ?? ""))
            Console.line("redaction key: " + (hasKey ? "present" : "not yet created (the first capture creates it)"))
            Console.line(
                "personal data: "
                    + (installer.redactsPersonalData
                        ? "redacted (\(DisplayText.escape(RedactionSettings.path(repository))))"
                        : "not redacted, secrets only (cairn hooks install --redact-personal-data)"))
        }
    }
}
