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
