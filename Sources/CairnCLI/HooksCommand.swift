import ArgumentParser
import CairnCapture
import CairnHooks
import CairnJSON
import CairnRecords
import Foundation

struct HooksCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hooks",
        abstract: "Install, remove and check the capture hooks of coding agents in a repository.",
        discussion: prose(
            """
            `install` registers `cairn-capture AGENT` (the small capture executable built beside
            `cairn`; specs/capture.md) in each agent's own configuration in the repository, merged
            with what is there: Claude Code's .claude/settings.local.json (UserPromptSubmit,
            PostToolUse of Write|Edit|MultiEdit|Bash, Stop, SessionStart, SessionEnd), Cursor's
            .cursor/hooks.json (beforeSubmitPrompt, afterFileEdit, afterTabFileEdit,
            afterShellExecution, stop) and Gemini CLI's .gemini/settings.json (BeforeAgent, AfterTool
            of write_file|replace|run_shell_command, AfterAgent, SessionStart, SessionEnd). Installing
            twice changes nothing. A configuration file that is not a JSON object is refused and left
            as it is.

            `uninstall` takes Cairn's hooks out again: a file nobody changed since the install is
            put back byte for byte (or removed, if the install created it); a changed one keeps
            everything but Cairn's hooks.

            `status` shows, per agent, whether the hooks are installed, and the repository's working
            log, capture log and redaction key.

            The git hooks (trailers, commit records, rewrites) are not installed yet: the commit-time
            half of capture is still to be built (issue 12).

            EXAMPLES
              cairn hooks install
              cairn hooks install --agents claude-code --repo ~/src/app
              cairn hooks status --json
              cairn hooks uninstall
            """),
        subcommands: [HooksInstall.self, HooksUninstall.self, HooksStatus.self]
    )
}

struct HooksOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The repository (default: the one around the current directory).", valueName: "dir"))
    var repo: String?

    @Option(
        help: ArgumentHelp(
            "The agents, comma-separated, or all: \(AgentHookConfigs.all.map(\.agent).joined(separator: ", ")).",
            valueName: "list"))
    var agents: String = "all"

    @Flag(help: "Print the result as JSON.")
    var json = false

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
    static func captureCommand() -> String {
        let executable =
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let beside = URL(fileURLWithPath: executable).deletingLastPathComponent().appendingPathComponent(
            "cairn-capture"
        )
        .path
        guard FileManager.default.isExecutableFile(atPath: beside) else { return "cairn-capture" }
        let safe = beside.allSatisfy { $0.isLetter || $0.isNumber || "/._-+".contains($0) }
        return safe ? beside : "'" + beside.replacingOccurrences(of: "'", with: #"'\''"#) + "'"
    }

    /// Runs `change` for each selected agent, then reports what each did.
    func apply(
        _ change: (HookInstaller, AgentHookConfig) throws(HookInstaller.HooksError) -> HookInstaller.Change
    ) throws {
        try runReportingErrors {
            let installer = try installer()
            var changes: [(AgentHookConfig, HookInstaller.Change)] = []
            for config in try selected() {
                do {
                    changes.append((config, try change(installer, config)))
                } catch let error as HookInstaller.HooksError {
                    throw CLIError(.dataError, DisplayText.escape(error.message))
                }
            }
            report(installer, changes)
        }
    }

    func report(_ installer: HookInstaller, _ changes: [(AgentHookConfig, HookInstaller.Change)]) {
        if json {
            let items: [JSONValue] = changes.map { config, change in
                .object(
                    JSONObject([
                        ("agent", .string(config.agent)), ("file", .string(installer.configPath(config))),
                        ("result", .string(change.rawValue)),
                    ]))
            }
            Console.line(DisplayText.escapeJSON(JSONWriter.compact(.array(items))))
        } else {
            for (config, change) in changes {
                Console.line(
                    "\(config.agent): \(change.rawValue) (\(DisplayText.escape(installer.configPath(config))))")
            }
        }
    }
}

struct HooksInstall: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "install", abstract: "Register `cairn-capture` in the agents' configurations.")

    @OptionGroup var options: HooksOptions

    func run() throws {
        try options.apply { installer, config throws(HookInstaller.HooksError) in try installer.install(config) }
    }
}

struct HooksUninstall: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "uninstall", abstract: "Take Cairn's hooks out of the agents' configurations.")

    @OptionGroup var options: HooksOptions

    func run() throws {
        try options.apply { installer, config throws(HookInstaller.HooksError) in try installer.uninstall(config) }
    }
}

struct HooksStatus: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show which agents' hooks are installed, and the capture's files.")

    @OptionGroup var options: HooksOptions

    func run() throws {
        try runReportingErrors {
            let installer = try options.installer()
            let statuses = try options.selected().map { installer.status($0) }
            let cairn = installer.repository.cairnDirectory
            let log = FileManager.default.contents(atPath: cairn + "/" + WorkingLog.fileName).map { [UInt8]($0) }
            let events = log.map { $0.filter { $0 == UInt8(ascii: "\n") }.count } ?? 0
            let lastEvent = log.flatMap { bytes in
                bytes.split(separator: UInt8(ascii: "\n")).last.flatMap { try? JSONParser.parse(Array($0)) }?["at"]?
                    .stringValue
            }
            let failures =
                FileManager.default.contents(atPath: cairn + "/" + CaptureLog.fileName).map {
                    String(decoding: $0, as: UTF8.self).split(separator: "\n")
                } ?? []
            let hasKey = FileManager.default.fileExists(atPath: cairn + "/" + WorkingLog.keyFileName)
            if options.json {
                var object: [(String, JSONValue)] = [
                    ("repository", .string(installer.repository.root)),
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
                    ("working_log_events", .number(Double(events))),
                    ("capture_failures", .number(Double(failures.count))),
                    ("redaction_key", .bool(hasKey)),
                ]
                if let lastEvent { object.append(("last_event", .string(lastEvent))) }
                if let last = failures.last { object.append(("last_failure", .string(String(last)))) }
                Console.line(DisplayText.escapeJSON(JSONWriter.compact(.object(JSONObject(object)))))
                return
            }
            Console.line("repository: \(DisplayText.escape(installer.repository.root))")
            for status in statuses {
                let state = status.installed ? "installed (\(status.commands.count) hooks)" : "not installed"
                Console.line("  \(status.agent): \(state) in \(DisplayText.escape(status.file))")
            }
            Console.line("working log: \(events) events" + (lastEvent.map { ", last at \($0)" } ?? ""))
            Console.line(
                "capture failures: \(failures.count)"
                    + (failures.last.map { ", last: " + DisplayText.escape(String($0)) } ?? ""))
            Console.line("redaction key: " + (hasKey ? "present" : "not yet created (the first capture creates it)"))
        }
    }
}
