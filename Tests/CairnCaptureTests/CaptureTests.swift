import CairnCapture
import CairnJSON
import CairnRedaction
import CairnTestSupport
import Foundation
import Testing

/// `Capture.run`: agents' hook payloads (Tests/Vectors/capture) into a real repository's working log.
@Suite struct CaptureTests {
    static let vectors = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Vectors/capture")

    static func payload(_ agent: String, _ name: String) throws -> JSONValue {
        try JSONParser.parse(Array(Data(contentsOf: vectors.appendingPathComponent("\(agent)/\(name)"))))
    }

    /// `payload` with its working directory moved into `directory`.
    static func moved(_ payload: JSONValue, into directory: String, agent: String) -> JSONValue {
        guard var object = payload.objectValue else { return payload }
        if agent == "cursor" {
            object["workspace_roots"] = .array([.string(directory)])
        } else {
            object["cwd"] = .string(directory)
        }
        return .object(object)
    }

    static func lines(_ log: String) throws -> [JSONValue] {
        try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").map {
            try JSONParser.parse(String($0))
        }
    }

    func capture(_ agent: String, _ payload: JSONValue, environment: [String: String] = [:]) throws -> Capture.Outcome {
        try Capture.run(
            agent: agent, payload: JSONWriter.compactBytes(payload), environment: environment, now: 1_795_166_043_120)
    }

    @Test("Every agent's hook payloads each become one working-log line, in order, with their event and hook")
    func everyVector() throws {
        let repo = try TemporaryDirectory.gitRepository("capture")
        var expected: [(String, String)] = []
        #expect(
            AgentAdapters.all.map { $0.name } == ["claude-code", "cursor", "gemini-cli", "codex", "github-copilot"])
        for agent in AgentAdapters.all.map({ $0.name }) {
            let names = try FileManager.default.contentsOfDirectory(
                atPath: Self.vectors.appendingPathComponent(agent).path
            ).filter { $0.hasSuffix(".json") }.sorted()
            #expect(!names.isEmpty)
            for name in names {
                let payload = Self.moved(try Self.payload(agent, name), into: repo.path, agent: agent)
                let outcome = try capture(agent, payload)
                guard case .recorded(1, let log, _) = outcome else {
                    Issue.record("\(agent)/\(name): \(outcome)")
                    continue
                }
                #expect(log == repo.path + "/.git/cairn/working-log.jsonl")
                expected.append((agent, (payload["hook_event_name"] ?? payload["hookEventName"])?.stringValue ?? "?"))
            }
        }
        let lines = try Self.lines(repo.path + "/.git/cairn/working-log.jsonl")
        #expect(lines.map { $0["agent"]?.stringValue ?? "" } == expected.map(\.0))
        #expect(lines.map { $0["hook"]?.stringValue ?? "" } == expected.map(\.1))
        for line in lines {
            #expect(line["v"] == .number(1) && line["grade"] == .string("hook"))
            #expect(line["at"] == .string("2026-11-20T09:14:03.120Z"))
        }
    }

    @Test("Claude Code: prompts, writes, edits, shell commands, stops and the session's model, normalized")
    func claudeCodeEvents() throws {
        let repo = try TemporaryDirectory.gitRepository("capture")
        func line(_ name: String, _ change: (inout [String: JSONValue]) -> Void = { _ in }) throws -> JSONValue {
            var object = try #require(
                Self.moved(try Self.payload("claude-code", name), into: repo.path, agent: "").objectValue)
            var members = Dictionary(uniqueKeysWithValues: object.map { ($0.key, $0.value) })
            change(&members)
            object = JSONObject(members.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
            _ = try capture("claude-code", .object(object))
            return try #require(try Self.lines(repo.path + "/.git/cairn/working-log.jsonl").last)
        }
        let prompt = try line("UserPromptSubmit.json")
        #expect(prompt["event"] == .string("prompt"))
        #expect(prompt["prompt"] == .string("Write a function to calculate the factorial of a number"))
        #expect(prompt["session"] == .string("abc123"))

        let write = try line("PostToolUse.Write.json") {
            $0["tool_input"] = .object([
                "file_path": .string(repo.path + "/src/f.txt"), "content": .string("file content"),
            ])
        }
        #expect(write["event"] == .string("edit") && write["tool"] == .string("Write"))
        #expect(
            write["edits"] == .array([.object(["file": .string("src/f.txt"), "content": .string("file content")])]))

        let edit = try line("PostToolUse.Edit.git-ai-test.json") {
            $0["tool_input"] = .object([
                "file_path": .string(repo.path + "/README.md"), "old_string": .string("# Testing Git"),
                "new_string": .string("# Testing Git Repository"),
            ])
        }
        #expect(
            edit["edits"]
                == .array([
                    .object([
                        "file": .string("README.md"), "old": .string("# Testing Git"),
                        "new": .string("# Testing Git Repository"),
                    ])
                ]))

        let bash = try line("PostToolUse.Bash.ASSEMBLED-from-schema.json")
        #expect(bash["event"] == .string("tool") && bash["tool"] == .string("Bash") && bash["command"] != nil)

        let stop = try line("Stop.json")
        #expect(stop["event"] == .string("stop"))
        #expect(stop["message"] == .string("I've completed the refactoring. Here's a summary..."))

        let start = try line("SessionStart.json")
        #expect(start["event"] == .string("session-start") && start["model"] == .string("claude-sonnet-5"))

        // No model in the payload: the last one the transcript names, even when it is not on the last line.
        let transcript = Self.vectors.appendingPathComponent("claude-code/git-ai__claude-model-not-last.jsonl").path
        let fromTranscript = try line("UserPromptSubmit.json") { $0["transcript_path"] = .string(transcript) }
        #expect(fromTranscript["model"] == .string("claude-opus-4-6"))
    }

    @Test("Gemini CLI, Codex and Copilot: edits, commands, turns and the model from each one's transcript")
    func otherAgents() throws {
        let repo = try TemporaryDirectory.gitRepository("capture-agents")
        func line(_ agent: String, _ payload: JSONValue) throws -> JSONValue {
            _ = try capture(agent, Self.moved(payload, into: repo.path, agent: agent))
            return try #require(try Self.lines(repo.path + "/.git/cairn/working-log.jsonl").last)
        }
        let geminiTranscript = Self.vectors.appendingPathComponent("gemini-cli/git-ai__gemini-session-simple.jsonl")
            .path
        let replace = try line(
            "gemini-cli",
            .object([
                "hook_event_name": .string("AfterTool"), "session_id": .string("g1"), "tool_name": .string("replace"),
                "tool_input": .object([
                    "file_path": .string(repo.path + "/index.ts"), "old_string": .string("a"),
                    "new_string": .string("b"),
                ]),
                "transcript_path": .string(geminiTranscript),
            ]))
        #expect(replace["event"] == .string("edit") && replace["model"] == .string("gemini-2.5-flash"))
        #expect(
            replace["edits"]
                == .array([.object(["file": .string("index.ts"), "old": .string("a"), "new": .string("b")])]))

        var codex = try #require(try Self.payload("codex", "PostToolUse.apply_patch.git-ai-test.json").objectValue)
        codex["transcript_path"] = .string(
            Self.vectors.appendingPathComponent("codex/git-ai__codex-session-simple.jsonl").path)
        let patch = try line("codex", .object(codex))
        #expect(patch["tool"] == .string("apply_patch") && patch["model"] == .string("gpt-5-codex"))
        #expect(patch["prompt"] == .string("Refactor src/main.rs") && patch["message"] == .string("Done."))
        let bash = try line("codex", try Self.payload("codex", "PostToolUse.Bash.git-ai-test.json"))
        #expect(bash["event"] == .string("tool") && bash["command"]?.stringValue?.hasPrefix("perl -0pi") == true)

        let copilot = try line(
            "github-copilot",
            .object([
                "hookEventName": .string("PostToolUse"), "sessionId": .string("c1"),
                "toolName": .string("copilot_createFile"),
                "toolInput": .object(["filePath": .string(repo.path + "/src/a.ts"), "content": .string("x")]),
                "model": .string("copilot/claude-sonnet-4"),
            ]))
        #expect(copilot["event"] == .string("edit") && copilot["model"] == .string("copilot/claude-sonnet-4"))
        #expect(copilot["edits"] == .array([.object(["file": .string("src/a.ts"), "content": .string("x")])]))
        #expect(throws: CaptureError.self) { try capture("github-copilot", .object(["cwd": .string(repo.path)])) }
    }

    @Test("Copilot CLI: payloads without an event name, named by --event; toolArgs as an object or a JSON string")
    func copilotCLI() throws {
        let repo = try TemporaryDirectory.gitRepository("capture-copilot-cli")
        let log = repo.path + "/.git/cairn/working-log.jsonl"
        func line(_ event: String?, _ payload: JSONValue) throws -> JSONValue {
            let outcome = try Capture.run(
                agent: "github-copilot", event: event,
                payload: JSONWriter.compactBytes(Self.moved(payload, into: repo.path, agent: "github-copilot")),
                environment: [:], now: 1_795_166_043_120)
            guard case .recorded(1, _, _) = outcome else { throw CaptureError("\(outcome)") }
            return try #require(try Self.lines(log).last)
        }
        // The documented sessionStart input: no session id, the initial prompt kept as the prompt.
        let start = try line(
            "sessionStart", try Self.payload("github-copilot", "cli/sessionStart.input.hooks-configuration-docs.json"))
        #expect(start["event"] == .string("session-start") && start["hook"] == .string("sessionStart"))
        #expect(start["prompt"] == .string("Create a new feature") && start["session"] == nil)
        #expect(start["cwd"] == .string(repo.path))

        let prompt = try line(
            "userPromptSubmitted", .object(["timestamp": .number(1), "prompt": .string("add a test")]))
        #expect(prompt["event"] == .string("prompt") && prompt["prompt"] == .string("add a test"))

        // A create, its arguments as a JSON string.
        let create = try line(
            "postToolUse",
            .object([
                "toolName": .string("create"),
                "toolArgs": .string(#"{"path":"\#(repo.path)/src/a.py","file_text":"print(1)\n"}"#),
                "toolResult": .object(["resultType": .string("success")]),
            ]))
        #expect(create["event"] == .string("edit") && create["tool"] == .string("create"))
        #expect(create["edits"] == .array([.object(["file": .string("src/a.py"), "content": .string("print(1)\n")])]))

        // An edit, its arguments as an object.
        let edit = try line(
            "postToolUse",
            .object([
                "toolName": .string("edit"),
                "toolArgs": .object([
                    "path": .string(repo.path + "/src/a.py"), "old_str": .string("1"), "new_str": .string("2"),
                ]),
            ]))
        #expect(
            edit["edits"]
                == .array([.object(["file": .string("src/a.py"), "old": .string("1"), "new": .string("2")])]))

        let bash = try line(
            "postToolUse", .object(["toolName": .string("bash"), "toolArgs": .object(["command": .string("ls")])]))
        #expect(bash["event"] == .string("tool") && bash["command"] == .string("ls") && bash["edits"] == nil)

        // A failed write changed nothing worth attributing.
        let failed = try line(
            "postToolUse",
            .object([
                "toolName": .string("create"),
                "toolArgs": .object(["path": .string("b.py"), "file_text": .string("x")]),
                "toolResult": .object(["resultType": .string("failure")]),
            ]))
        #expect(failed["event"] == .string("tool") && failed["edits"] == nil)

        for (hook, kind) in [
            ("agentStop", "stop"), ("sessionEnd", "session-end"), ("errorOccurred", "other"), ("preToolUse", "other"),
        ] {
            let event = try line(hook, .object(["timestamp": .number(1)]))
            #expect(event["event"] == .string(kind) && event["hook"] == .string(hook))
        }

        // The payload's own event name wins (VS Code's payloads); none at all is refused.
        let vscode = try line("postToolUse", .object(["hookEventName": .string("Stop"), "sessionId": .string("v")]))
        #expect(vscode["event"] == .string("stop") && vscode["hook"] == .string("Stop"))
        #expect(throws: CaptureError.self) { try line(nil, .object(["prompt": .string("x")])) }

        // Other agents: --event stands in for a missing hook_event_name.
        _ = try Capture.run(
            agent: "claude-code", event: "UserPromptSubmit",
            payload: Array(#"{"cwd":"\#(repo.path)","prompt":"p"}"#.utf8), environment: [:], now: 0)
        #expect(try Self.lines(log).last?["event"] == .string("prompt"))
    }

    @Test("Codex notify: agent-turn-complete becomes the turn's prompt and stop, in the current directory's repository")
    func codexNotify() throws {
        let repo = try TemporaryDirectory.gitRepository("capture-codex-notify")
        let payload = try Self.payload("codex", "notify/notify-agent-turn-complete.docs.json")
        let outcome = try capture("codex", payload, environment: ["PWD": repo.path])
        guard case .recorded(2, _, _) = outcome else {
            Issue.record("\(outcome)")
            return
        }
        let lines = try Self.lines(repo.path + "/.git/cairn/working-log.jsonl")
        #expect(lines.map { $0["event"] } == [.string("prompt"), .string("stop")])
        #expect(lines.map { $0["hook"] } == [.string("agent-turn-complete"), .string("agent-turn-complete")])
        #expect(lines[0]["prompt"] == .string("Rename `foo` to `bar` and update the callsites."))
        #expect(lines[1]["message"] == .string("Rename complete and verified `cargo build` succeeds."))
        #expect(lines.allSatisfy { $0["cwd"] == .string(repo.path) && $0["session"] == nil })
        // Several input messages are joined by line feeds; another type is kept as `other`.
        let two = try CodexAdapter.events(
            from: .object([
                "type": .string("agent-turn-complete"), "input-messages": .array([.string("a"), .string("b")]),
            ]), environment: ["PWD": "/w"])
        #expect(two.map(\.prompt) == ["a\nb", nil] && two.map(\.cwd) == ["/w", "/w"])
        let other = try CodexAdapter.events(from: .object(["type": .string("approval-requested")]), environment: [:])
        #expect(other.map(\.kind) == [.other] && other.map(\.hook) == ["approval-requested"])
    }

    @Test("Secrets in prompts, commands and edits are redacted before the working log is written")
    func redaction() throws {
        let repo = try TemporaryDirectory.gitRepository("capture")
        let token = "gh" + "p_" + String(repeating: "Q1w2E3", count: 6)
        let payload: JSONValue = .object([
            "hook_event_name": .string("PostToolUse"), "session_id": .string("s"), "cwd": .string(repo.path),
            "tool_name": .string("Write"),
            "tool_input": .object([
                "file_path": .string(repo.path + "/deploy.sh"),
                "content": .string("export GITHUB_TOKEN=\(token)\ngit push\n"),
            ]),
        ])
        guard case .recorded(1, let log, let redactions) = try capture("claude-code", payload) else {
            Issue.record("not recorded")
            return
        }
        #expect(redactions.map(\.kind) == [.githubToken])
        let text = try String(contentsOfFile: log, encoding: .utf8)
        #expect(!text.contains(token))
        #expect(text.contains(redactions[0].placeholder))
        let line = try #require(try Self.lines(log).first)
        #expect(
            line["redactions"]
                == .array([.object(["kind": .string("github-token"), "tag": .string(redactions[0].tag)])]))
        // The key lives with the repository, private, and keeps tags stable across captures.
        let keyFile = repo.path + "/.git/cairn/redaction.key"
        let attributes = try FileManager.default.attributesOfItem(atPath: keyFile)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        guard case .recorded(_, _, let again) = try capture("claude-code", payload) else { return }
        #expect(again == redactions)
    }

    @Test("Outside a repository nothing is written; unknown agents and foreign payloads are errors, not traps")
    func refusals() throws {
        let outside = try TemporaryDirectory("no-repo")
        let payload: JSONValue = .object([
            "hook_event_name": .string("UserPromptSubmit"), "cwd": .string(outside.path), "prompt": .string("hi"),
        ])
        #expect(try capture("claude-code", payload) == .skipped("\(outside.path) is not inside a git repository"))
        #expect(!FileManager.default.fileExists(atPath: outside.path + "/.git"))
        #expect(throws: CaptureError.self) { try capture("vim", payload) }
        #expect(throws: CaptureError.self) { try capture("claude-code", .object(["prompt": .string("no event")])) }
        #expect(throws: CaptureError.self) {
            try Capture.run(agent: "claude-code", payload: Array("not json".utf8), environment: [:], now: 0)
        }
    }

    @Test("A worktree's .git file leads to its own git directory; paths outside the tree stay as given")
    func worktreeAndPaths() throws {
        let repo = try TemporaryDirectory.gitRepository("capture")
        let other = try TemporaryDirectory("worktree")
        try "gitdir: \(repo.path)/.git/worktrees/w\n".write(
            toFile: other.path + "/.git", atomically: true, encoding: .utf8)
        let found = try #require(CaptureRepository.containing(other.path + "/."))
        #expect(found.root == other.path && found.gitDirectory == repo.path + "/.git/worktrees/w")
        #expect(found.relativePath(other.path + "/a/b.swift", cwd: nil) == "a/b.swift")
        #expect(found.relativePath("c.swift", cwd: other.path + "/a") == "a/c.swift")
        #expect(found.relativePath("/etc/hosts", cwd: nil) == "/etc/hosts")
    }
}
