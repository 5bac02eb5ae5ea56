import CairnTestSupport
import Foundation
import Synchronization
import Testing

/// `cairn capture AGENT` as an agent's hook runs it: payload on stdin, silent, always exit 0.
@Suite struct CaptureCommandTests {
    func capture(_ args: [String], stdin: String, in directory: String) throws -> CLI.Output {
        try CLI.exec(CLI.binary, ["capture"] + args, stdin: Array(stdin.utf8), directory: directory)
    }

    @Test("A prompt is recorded silently (nothing on stdout: Claude Code would show it to the model), exit 0")
    func records() throws {
        let repo = try TemporaryDirectory.gitRepository("capture-cli")
        let payload =
            #"{"hook_event_name":"UserPromptSubmit","session_id":"s1","cwd":"\#(repo.path)","prompt":"add tests"}"#
        let out = try capture(["claude-code"], stdin: payload, in: repo.path)
        #expect(out.status == 0 && out.stdout.isEmpty && out.stderr.isEmpty, "\(out.stderr)")
        let log = try String(contentsOfFile: repo.path + "/.git/cairn/working-log.jsonl", encoding: .utf8)
        #expect(log.contains(#""event":"prompt""#) && log.contains(#""prompt":"add tests""#))
        let json = try capture(["claude-code", "--json"], stdin: payload, in: repo.path)
        #expect(json.status == 0)
        #expect(parseJSONLine(json.text)["recorded"] as? Int == 1)
    }

    @Test("Captures racing in a new repository share one redaction key: every event recorded, equal tags")
    func concurrentFirstCaptures() throws {
        let repo = try TemporaryDirectory.gitRepository("capture-race")
        let tool = URL(fileURLWithPath: CLI.binary).deletingLastPathComponent().appendingPathComponent("cairn-capture")
            .path
        let token = "gh" + "p_" + String(repeating: "R4c3", count: 9)
        let payload = #"{"hook_event_name":"UserPromptSubmit","cwd":"\#(repo.path)","prompt":"use \#(token)"}"#
        let statuses = Mutex<[Int32]>([])
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            let out = try? CLI.exec(tool, ["claude-code"], stdin: Array(payload.utf8), directory: repo.path)
            statuses.withLock { $0.append(out.map { $0.stderr.isEmpty ? $0.status : -1 } ?? -2) }
        }
        #expect(statuses.withLock { $0 } == Array(repeating: 0, count: 8))
        let lines = try String(contentsOfFile: repo.path + "/.git/cairn/working-log.jsonl", encoding: .utf8)
            .split(separator: "\n").map { parseJSONLine(String($0)) }
        #expect(lines.count == 8)
        let prompts = Set(lines.compactMap { $0["prompt"] as? String })
        #expect(prompts.count == 1 && prompts.first?.contains(token) == false)
    }

    @Test("A transcript path given as ~/… is read from $HOME for the model")
    func transcriptUnderHome() throws {
        let repo = try TemporaryDirectory.gitRepository("capture-home")
        let home = try TemporaryDirectory("capture-home-dir")
        try home.write(
            ".claude/t.jsonl", #"{"type":"assistant","message":{"model":"claude-opus-4-6","role":"assistant"}}"# + "\n")
        let payload =
            #"{"hook_event_name":"Stop","cwd":"\#(repo.path)","transcript_path":"~/.claude/t.jsonl"}"#
        let out = try CLI.exec(
            CLI.binary, ["capture", "claude-code"], stdin: Array(payload.utf8), environment: ["HOME": home.path],
            directory: repo.path)
        #expect(out.status == 0 && out.stderr.isEmpty, "\(out.stderr)")
        let log = try String(contentsOfFile: repo.path + "/.git/cairn/working-log.jsonl", encoding: .utf8)
        #expect(log.contains(#""model":"claude-opus-4-6""#), "\(log)")
    }

    @Test("A payload larger than a pipe's buffer arrives whole (several reads)")
    func largePayload() throws {
        let repo = try TemporaryDirectory.gitRepository("capture-cli")
        let prompt = String(repeating: "a long prompt ", count: 20_000)  // 280 KB
        let payload = #"{"hook_event_name":"UserPromptSubmit","cwd":"\#(repo.path)","prompt":"\#(prompt)"}"#
        let out = try capture(["claude-code"], stdin: payload, in: repo.path)
        #expect(out.status == 0 && out.stderr.isEmpty, "\(out.stderr)")
        let log = try String(contentsOfFile: repo.path + "/.git/cairn/working-log.jsonl", encoding: .utf8)
        #expect(log.contains(#""prompt":"\#(prompt)""#))
    }

    @Test("Garbage, a foreign payload, an unknown agent, an unwritable log: exit 0, a message, and capture.log")
    func neverFails() throws {
        let repo = try TemporaryDirectory.gitRepository("capture-cli")
        for (args, stdin) in [
            (["claude-code"], "not json"), (["claude-code"], #"{"prompt":"x"}"#),
            (["no-such-agent"], #"{"hook_event_name":"Stop"}"#),
        ] {
            let out = try capture(args, stdin: stdin, in: repo.path)
            #expect(out.status == 0 && out.stdout.isEmpty, "\(args) \(stdin)")
            #expect(out.stderr.hasPrefix("cairn capture: "), "\(out.stderr)")
        }
        let captureLog = try String(contentsOfFile: repo.path + "/.git/cairn/capture.log", encoding: .utf8)
        #expect(captureLog.split(separator: "\n").count == 3)
        #expect(captureLog.contains("unknown agent no-such-agent"))
        // The working log cannot be written (a directory stands in its way): still exit 0.
        try FileManager.default.createDirectory(
            atPath: repo.path + "/.git/cairn/working-log.jsonl", withIntermediateDirectories: true)
        let payload = #"{"hook_event_name":"Stop","cwd":"\#(repo.path)"}"#
        let out = try capture(["claude-code"], stdin: payload, in: repo.path)
        #expect(out.status == 0 && out.stderr.contains("cannot open"), "\(out.stderr)")
    }

    @Test("cairn-capture, the small executable hooks run: the same capture, usage on stderr, always exit 0")
    func lightweightExecutable() throws {
        let tool = URL(fileURLWithPath: CLI.binary).deletingLastPathComponent().appendingPathComponent("cairn-capture")
            .path
        let repo = try TemporaryDirectory.gitRepository("capture-cli")
        let payload = #"{"hook_event_name":"UserPromptSubmit","session_id":"s1","cwd":"\#(repo.path)","prompt":"hi"}"#
        let out = try CLI.exec(tool, ["claude-code"], stdin: Array(payload.utf8), directory: repo.path)
        #expect(out.status == 0 && out.stdout.isEmpty && out.stderr.isEmpty, "\(out.stderr)")
        let json = try CLI.exec(tool, ["claude-code", "--json"], stdin: Array(payload.utf8), directory: repo.path)
        #expect(parseJSONLine(json.text)["recorded"] as? Int == 1)
        let log = try String(contentsOfFile: repo.path + "/.git/cairn/working-log.jsonl", encoding: .utf8)
        #expect(log.split(separator: "\n").count == 2)
        let usage = try CLI.exec(tool, [], stdin: [], directory: repo.path)
        #expect(usage.status == 0 && usage.stdout.isEmpty && usage.stderr.hasPrefix("usage: cairn-capture AGENT"))
        let help = try CLI.exec(tool, ["--help"], stdin: [], directory: repo.path)
        #expect(help.status == 0 && help.text.contains("claude-code, cursor"))
    }

    @Test("Copilot CLI's --event and Codex's notify argument, through cairn-capture and cairn capture")
    func eventAndArgument() throws {
        let tool = URL(fileURLWithPath: CLI.binary).deletingLastPathComponent().appendingPathComponent("cairn-capture")
            .path
        let repo = try TemporaryDirectory.gitRepository("capture-cli-events")
        // A stale $PWD (its parent changed directory): the payload without a directory goes where the process is.
        let elsewhere = try TemporaryDirectory("capture-cli-elsewhere")
        let copilot =
            #"{"timestamp":1704614400000,"cwd":"\#(repo.path)","toolName":"create","toolArgs":{"path":"src/a.py","file_text":"print(1)\n"},"toolResult":{"resultType":"success"}}"#
        let notify =
            #"{"type":"agent-turn-complete","turn-id":"12345","input-messages":["Rename foo"],"last-assistant-message":"Done."}"#
        for program in [[tool], [CLI.binary, "capture"]] {
            let edit = try CLI.exec(
                program[0], Array(program.dropFirst()) + ["github-copilot", "--event", "postToolUse"],
                stdin: Array(copilot.utf8), directory: repo.path)
            #expect(edit.status == 0 && edit.stdout.isEmpty && edit.stderr.isEmpty, "\(edit.stderr)")
            // The payload given as an argument is the one recorded: standard input is not read.
            let turn = try CLI.exec(
                program[0], Array(program.dropFirst()) + ["codex", notify, "--json"], stdin: Array("not json".utf8),
                environment: ["PWD": elsewhere.path], directory: repo.path)
            #expect(turn.status == 0 && turn.stderr.isEmpty, "\(turn.stderr)")
            #expect(parseJSONLine(turn.text)["recorded"] as? Int == 2, "\(turn.text)")
        }
        let lines = try String(contentsOfFile: repo.path + "/.git/cairn/working-log.jsonl", encoding: .utf8)
            .split(separator: "\n").map { parseJSONLine(String($0)) }
        #expect(lines.map { $0["event"] as? String } == ["edit", "prompt", "stop", "edit", "prompt", "stop"])
        #expect(lines[0]["hook"] as? String == "postToolUse" && lines[0]["tool"] as? String == "create")
        #expect(lines[0]["session"] == nil)
        #expect((lines[0]["edits"] as? [[String: Any]])?.first?["file"] as? String == "src/a.py")
        #expect(lines[1]["prompt"] as? String == "Rename foo" && lines[2]["message"] as? String == "Done.")
        #expect(lines[1]["hook"] as? String == "agent-turn-complete")
        #expect(try FileManager.default.contentsOfDirectory(atPath: elsewhere.path).isEmpty)
        // A malformed command line is a usage message, still exit 0.
        let usage = try CLI.exec(tool, ["github-copilot", "--event"], stdin: [], directory: repo.path)
        #expect(usage.status == 0 && usage.stderr.hasPrefix("usage: cairn-capture AGENT"))
    }

    @Test("Outside a repository: nothing written anywhere, exit 0, silent")
    func outside() throws {
        let directory = try TemporaryDirectory("capture-outside")
        let payload = #"{"hook_event_name":"Stop","cwd":"\#(directory.path)"}"#
        let out = try capture(["claude-code", "--json"], stdin: payload, in: directory.path)
        #expect(out.status == 0 && out.stderr.isEmpty)
        #expect((parseJSONLine(out.text)["skipped"] as? String)?.contains("not inside a git repository") == true)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty)
    }
}
