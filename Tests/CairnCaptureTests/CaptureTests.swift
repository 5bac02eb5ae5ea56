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
