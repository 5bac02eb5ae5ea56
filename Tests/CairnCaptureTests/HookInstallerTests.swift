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
    }
}
