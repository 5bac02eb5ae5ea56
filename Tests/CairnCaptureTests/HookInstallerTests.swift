import CairnCapture
import CairnHooks
import CairnJSON
import CairnTestSupport
import Foundation
import Testing

/// `cairn hooks install|uninstall|status` for agents' configurations, in real repositories.
@Suite struct HookInstallerTests {
    /// The built `cairn-capture`, found beside the test bundle.
    static let captureTool: String = {
        var directory = URL(
            fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
                ?? CommandLine.arguments[0]
        ).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: directory.appendingPathComponent("cairn-capture").path),
            directory.path != "/"
        {
            directory = directory.deletingLastPathComponent()
        }
        return directory.appendingPathComponent("cairn-capture").path
    }()

    func installer() throws -> (TemporaryDirectory, HookInstaller) {
        let repo = try TemporaryDirectory.gitRepository("hooks")
        let repository = try #require(CaptureRepository.containing(repo.path))
        return (repo, HookInstaller(repository: repository, captureCommand: Self.captureTool))
    }

    static let agentTraceSettings = """
        {
          "permissions": {"allow": ["Bash(npm test)"]},
          "hooks": {
            "PostToolUse": [
              {"matcher": "Write|Edit", "hooks": [{"type": "command", "command": "bun run trace-hook.ts"}]}
            ]
          }
        }

        """

    @Test(
        "Install creates each agent's configuration; the registered command captures; installing twice changes nothing")
    func installAndCapture() throws {
        let (repo, installer) = try installer()
        for config in AgentHookConfigs.all {
            #expect(try installer.install(config) == .installed)
            let bytes = try Data(contentsOf: URL(fileURLWithPath: installer.configPath(config)))
            #expect(try installer.install(config) == .alreadyInstalled)
            #expect(try Data(contentsOf: URL(fileURLWithPath: installer.configPath(config))) == bytes)
            #expect(installer.status(config).installed)
        }
        // Run the command Claude Code would run for a prompt, as its hook runner does (through the shell).
        let settings = try JSONParser.parse(
            Array(try Data(contentsOf: URL(fileURLWithPath: repo.path + "/.claude/settings.local.json"))))
        let command = try #require(settings["hooks"]?["UserPromptSubmit"]?[0]?["hooks"]?[0]?["command"]?.stringValue)
        #expect(command == "\(Self.captureTool) claude-code")
        let payload = #"{"hook_event_name":"UserPromptSubmit","cwd":"\#(repo.path)","prompt":"hello"}"#
        let run = try ProcessRunner.run("/bin/sh", ["-c", command], stdin: Array(payload.utf8))
        #expect(run.status == 0 && run.stdout.isEmpty, "\(run.output)")
        let log = try String(contentsOfFile: repo.path + "/.git/cairn/working-log.jsonl", encoding: .utf8)
        #expect(log.contains(#""prompt":"hello""#))
        // Gemini CLI's settings have Claude Code's shape, with its own events.
        let gemini = try JSONParser.parse(
            Array(try Data(contentsOf: URL(fileURLWithPath: repo.path + "/.gemini/settings.json"))))
        #expect(gemini["hooks"]?["AfterTool"]?[0]?["matcher"] == .string("write_file|replace|run_shell_command"))
        #expect(
            gemini["hooks"]?["BeforeAgent"]?[0]?["hooks"]?[0]?["command"] == .string("\(Self.captureTool) gemini-cli"))
        // Cursor's events are registered too.
        let cursor = try JSONParser.parse(
            Array(try Data(contentsOf: URL(fileURLWithPath: repo.path + "/.cursor/hooks.json"))))
        #expect(cursor["version"] == .number(1))
        #expect(
            cursor["hooks"]?["afterFileEdit"] == .array([.object(["command": .string("\(Self.captureTool) cursor")])]))
    }

    @Test("Install merges with existing settings; uninstall of an unchanged file restores it byte for byte")
    func mergeAndRestore() throws {
        let (repo, installer) = try installer()
        try FileManager.default.createDirectory(atPath: repo.path + "/.claude", withIntermediateDirectories: true)
        let path = repo.path + "/.claude/settings.local.json"
        try Self.agentTraceSettings.write(toFile: path, atomically: true, encoding: .utf8)
        let config = try #require(AgentHookConfigs.named("claude-code"))
        #expect(try installer.install(config) == .installed)
        let merged = try JSONParser.parse(Array(try Data(contentsOf: URL(fileURLWithPath: path))))
        #expect(merged["permissions"] == .object(["allow": .array([.string("Bash(npm test)")])]))
        let postToolUse = try #require(merged["hooks"]?["PostToolUse"]?.arrayValue)
        #expect(postToolUse.count == 2)
        #expect(postToolUse[0]["hooks"]?[0]?["command"] == .string("bun run trace-hook.ts"))
        #expect(try installer.uninstall(config) == .restored)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == Self.agentTraceSettings)
        // A file the install created is removed, with the directory it made.
        let cursor = try #require(AgentHookConfigs.named("cursor"))
        #expect(try installer.install(cursor) == .installed)
        #expect(try installer.uninstall(cursor) == .restored)
        #expect(!FileManager.default.fileExists(atPath: repo.path + "/.cursor"))
        #expect(try installer.uninstall(cursor) == .notInstalled)
    }

    @Test("A file changed since install keeps the change; only Cairn's hooks are taken out")
    func uninstallChanged() throws {
        let (repo, installer) = try installer()
        let config = try #require(AgentHookConfigs.named("claude-code"))
        _ = try installer.install(config)
        let path = repo.path + "/.claude/settings.local.json"
        var settings = try #require(
            try JSONParser.parse(Array(try Data(contentsOf: URL(fileURLWithPath: path)))).objectValue)
        settings["model"] = .string("opus")
        try Data(JSONWriter.prettyBytes(.object(settings))).write(to: URL(fileURLWithPath: path))
        #expect(try installer.uninstall(config) == .removed)
        let after = try JSONParser.parse(Array(try Data(contentsOf: URL(fileURLWithPath: path))))
        #expect(after == .object(["model": .string("opus")]))
        #expect(!installer.status(config).installed)
    }

    @Test("A configuration that is not a JSON object is refused and left untouched")
    func refusesBrokenConfiguration() throws {
        let (repo, installer) = try installer()
        try FileManager.default.createDirectory(atPath: repo.path + "/.cursor", withIntermediateDirectories: true)
        for text in ["{ not json", "[1, 2]"] {
            let path = try repo.write(".cursor/hooks.json", text)
            let config = try #require(AgentHookConfigs.named("cursor"))
            #expect(throws: HookInstaller.HooksError.self) { try installer.install(config) }
            #expect(try String(contentsOfFile: path, encoding: .utf8) == text)
        }
    }

    @Test("Cairn's commands are recognized wherever cairn-capture is installed, and nobody else's")
    func recognizesOurs() {
        #expect(HookInstaller.isOurs("/usr/local/bin/cairn-capture claude-code"))
        #expect(HookInstaller.isOurs("'/opt/my tools/cairn-capture' cursor"))
        #expect(HookInstaller.isOurs("cairn capture claude-code"))
        #expect(!HookInstaller.isOurs("bun run trace-hook.ts"))
        #expect(!HookInstaller.isOurs("git-ai checkpoint claude"))
        #expect(!HookInstaller.isOurs("cairn-capture"))
        // Copilot CLI's commands end with the event's name.
        #expect(HookInstaller.isOurs("/usr/local/bin/cairn-capture github-copilot --event postToolUse"))
        #expect(HookInstaller.isOurs("'/opt/my tools/cairn-capture' github-copilot --event agentStop"))
        #expect(HookInstaller.isOurs("cairn capture github-copilot --event sessionStart"))
        #expect(!HookInstaller.isOurs("my-logger --event postToolUse"))
        #expect(!HookInstaller.isOurs("cairn-capture --event postToolUse"))
    }

    static let copilotVectors = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Vectors/capture/github-copilot/cli")

    @Test("Copilot CLI: Cairn's own .github/hooks/cairn.json, in the documented shape; its commands capture")
    func copilotFile() throws {
        let (repo, installer) = try installer()
        let config = try #require(AgentHookConfigs.named("github-copilot"))
        try repo.write(".github/workflows/ci.yml", "on: push\n")
        #expect(try installer.install(config) == .installed)
        #expect(try installer.install(config) == .alreadyInstalled)
        let path = repo.path + "/.github/hooks/cairn.json"
        #expect(installer.configPath(config) == path)
        let file = try JSONParser.parse(Array(try Data(contentsOf: URL(fileURLWithPath: path))))
        let hooks = try #require(file["hooks"]?.objectValue)
        #expect(file["version"] == .number(1))
        #expect(
            hooks.map(\.key) == ["sessionStart", "userPromptSubmitted", "postToolUse", "agentStop", "sessionEnd"])
        for (event, value) in hooks {
            #expect(
                value
                    == .array([
                        .object([
                            "type": .string("command"),
                            "bash": .string("\(Self.captureTool) github-copilot --event \(event)"),
                        ])
                    ]))
        }
        // The documented configuration has the same version, and its entries the same members (and more).
        let documented = try JSONParser.parse(
            Array(
                try Data(
                    contentsOf: Self.copilotVectors.appendingPathComponent("hooks.json.command-hook.cli-docs.json"))))
        #expect(documented["version"] == file["version"])
        let entry = try #require(documented["hooks"]?["preToolUse"]?[0]?.objectValue)
        #expect(entry["type"] == .string("command") && entry["bash"]?.stringValue != nil)
        #expect(installer.status(config).installed && installer.status(config).commands.count == 5)

        // Copilot CLI runs the bash command with the payload on standard input.
        let command = try #require(hooks["postToolUse"]?[0]?["bash"]?.stringValue)
        let payload = #"{"timestamp":1,"cwd":"\#(repo.path)","toolName":"bash","toolArgs":"{\"command\":\"make\"}"}"#
        let run = try ProcessRunner.run("/bin/bash", ["-c", command], stdin: Array(payload.utf8))
        #expect(run.status == 0 && run.output.isEmpty, "\(run.output)")
        let log = try String(contentsOfFile: repo.path + "/.git/cairn/working-log.jsonl", encoding: .utf8)
        #expect(log.contains(#""event":"tool","hook":"postToolUse""#) && log.contains(#""command":"make""#), "\(log)")

        // Uninstall removes the file and the directory it made, and nothing else of .github.
        #expect(try installer.uninstall(config) == .restored)
        #expect(!FileManager.default.fileExists(atPath: repo.path + "/.github/hooks"))
        #expect(try String(contentsOfFile: repo.path + "/.github/workflows/ci.yml", encoding: .utf8) == "on: push\n")
        // With no .github at all, none is left behind.
        try FileManager.default.removeItem(atPath: repo.path + "/.github")
        #expect(try installer.install(config) == .installed)
        #expect(try installer.uninstall(config) == .restored)
        #expect(!FileManager.default.fileExists(atPath: repo.path + "/.github"))
    }

    @Test("Copilot CLI: a .github/hooks/cairn.json that was there is merged, then put back byte for byte")
    func copilotRestore() throws {
        let (repo, installer) = try installer()
        let config = try #require(AgentHookConfigs.named("github-copilot"))
        let original = #"{"version": 1, "hooks": {"postToolUse": [{"type": "command", "bash": "./lint.sh"}]}}"# + "\n"
        let path = try repo.write(".github/hooks/cairn.json", original)
        #expect(try installer.install(config) == .installed)
        let merged = try JSONParser.parse(Array(try Data(contentsOf: URL(fileURLWithPath: path))))
        #expect(merged["hooks"]?["postToolUse"]?.arrayValue?.count == 2)
        #expect(merged["hooks"]?["postToolUse"]?[0]?["bash"] == .string("./lint.sh"))
        #expect(try installer.uninstall(config) == .restored)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == original)
        // Changed since: only Cairn's commands go.
        #expect(try installer.install(config) == .installed)
        var changed = try #require(
            try JSONParser.parse(Array(try Data(contentsOf: URL(fileURLWithPath: path)))).objectValue)
        changed["disableAllHooks"] = .bool(false)
        try Data(JSONWriter.prettyBytes(.object(changed))).write(to: URL(fileURLWithPath: path))
        #expect(try installer.uninstall(config) == .removed)
        let after = try JSONParser.parse(Array(try Data(contentsOf: URL(fileURLWithPath: path))))
        #expect(
            after["hooks"]
                == .object([
                    "postToolUse": .array([.object(["type": .string("command"), "bash": .string("./lint.sh")])])
                ]))
        #expect(after["disableAllHooks"] == .bool(false))
    }
}
