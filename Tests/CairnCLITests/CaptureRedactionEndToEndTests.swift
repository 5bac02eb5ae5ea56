import CairnTestSupport
import Foundation
import Testing

/// Issue 12, acceptance 5: secrets an agent sees or writes never reach the working log, the outbox, the ledger
/// (entries, indexes, blobs: every byte of its directory) or the spool; innocent look-alikes arrive unchanged.
@Suite struct CaptureRedactionEndToEndTests {
    /// Every file under `directory`, whole.
    static func files(under directory: String) -> [(String, Data)] {
        guard let walker = FileManager.default.enumerator(atPath: directory) else { return [] }
        var out: [(String, Data)] = []
        for case let name as String in walker {
            let path = directory + "/" + name
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue,
                let data = FileManager.default.contents(atPath: path)
            else { continue }
            out.append((path, data))
        }
        return out
    }

    /// Feeds one session's prompts (every corpus secret and look-alike), its last message (the look-alikes) and a
    /// write of a file holding both, then commits it with the hooks: a full record (turns and raw output).
    static func captureAndCommit(_ repo: TemporaryDirectory, installArgs: [String]) throws {
        let environment = ["GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1"]
        func git(_ args: [String]) throws {
            let out = try CLI.exec("/usr/bin/env", ["git"] + args, environment: environment, directory: repo.path)
            #expect(out.status == 0, "git \(args): \(out.stderr)")
        }
        try git(["config", "user.email", "carol@example.com"])
        try git(["config", "cairn.fullRecordLines", "1"])
        let install = try CLI.exec(
            CLI.binary, ["hooks", "install", "--agents", "none"] + installArgs, environment: environment,
            directory: repo.path)
        #expect(install.status == 0, "\(install.stderr)")
        func feed(_ payload: [String: Any]) throws {
            var payload = payload
            payload["session_id"] = "redaction-1"
            payload["cwd"] = repo.path
            let bytes = try JSONSerialization.data(withJSONObject: payload)
            let out = try CLI.exec(CLI.binary, ["capture", "claude-code"], stdin: [UInt8](bytes), directory: repo.path)
            #expect(out.status == 0 && out.stderr.isEmpty, "\(out.stderr)")
        }
        for (_, text, _) in RedactionCorpus.secrets() {
            try feed(["hook_event_name": "UserPromptSubmit", "prompt": "use this: \(text)"])
        }
        try feed(["hook_event_name": "UserPromptSubmit", "prompt": RedactionCorpus.lookAlikes.joined(separator: "\n")])
        let content = (RedactionCorpus.lookAlikes + RedactionCorpus.secrets().map(\.1)).joined(separator: "\n") + "\n"
        try feed([
            "hook_event_name": "PostToolUse", "tool_name": "Write", "model": "claude-sonnet-4-5-20250929",
            "tool_input": ["file_path": repo.path + "/config.txt", "content": content],
        ])
        try feed([
            "hook_event_name": "Stop", "last_assistant_message": RedactionCorpus.lookAlikes.joined(separator: "\n"),
        ])
        _ = try repo.write("config.txt", content)
        try git(["add", "config.txt"])
        try git(["commit", "-q", "-m", "config"])
    }

    /// No secret of the corpus is anywhere in `files`.
    static func expectNoSecret(in files: [(String, Data)], sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(!files.isEmpty, sourceLocation: sourceLocation)
        for (name, _, secret) in RedactionCorpus.secrets() {
            // PEM blocks are checked line by line: their base64 body is what must not survive.
            let needles = secret.split(separator: "\n").filter { $0.count >= 16 }.map { Data($0.utf8) }
            for (path, data) in files {
                for needle in needles where !needle.isEmpty {
                    #expect(data.range(of: needle) == nil, "\(name) found in \(path)", sourceLocation: sourceLocation)
                }
            }
        }
    }

    @Test("Secrets are gone from the working log, the outbox and every byte of the ledger; look-alikes arrive whole")
    func ledger() throws {
        let repo = try TemporaryDirectory.gitRepository("redaction-e2e")
        let ledger = try TemporaryDirectory("redaction-ledger")
        let initialized = try CLI.exec(
            CLI.binary, ["init", "--ledger", ledger.path + "/l", "--origin", "example.com/redaction"])
        #expect(initialized.status == 0, "\(initialized.stderr)")
        try Self.captureAndCommit(repo, installArgs: ["--ledger", ledger.path + "/l"])
        #expect(try CLI.exec(CLI.binary, ["hooks", "flush"], directory: repo.path).status == 0)
        Self.expectNoSecret(in: Self.files(under: ledger.path) + Self.files(under: repo.path + "/.git/cairn"))

        let query = try CLI.exec(CLI.binary, ["query", "--ledger", ledger.path + "/l", "--jsonl"])
        #expect(query.status == 0 && query.lines.count == 1, "\(query.text) \(query.stderr)")
        let record = try #require(parseJSONLine(query.lines.first ?? "")["record"] as? [String: Any])
        #expect((record["x_capture"] as? [String: Any])?["tier"] as? String == "full")
        let turns = try #require(record["turns"] as? [[String: Any]])
        let lookAlikes = RedactionCorpus.lookAlikes.joined(separator: "\n")
        #expect(turns.contains { $0["role"] as? String == "assistant" && $0["content"] as? String == lookAlikes })
        #expect(turns.contains { $0["role"] as? String == "user" && $0["content"] as? String == lookAlikes })
        let secretTurns = turns.filter { ($0["content"] as? String)?.hasPrefix("use this: ") == true }
        #expect(secretTurns.count == RedactionCorpus.secrets().count)
        #expect(secretTurns.allSatisfy { ($0["content"] as? String)?.contains("[REDACTED:") == true })
        let raw = try #require(record["raw_output"] as? String)
        for text in RedactionCorpus.lookAlikes where !text.contains("\n") {
            #expect(raw.contains(text), "look-alike damaged in raw_output: \(text)")
        }
    }

    @Test("With a server destination, the spool holds no secret either")
    func spool() throws {
        let repo = try TemporaryDirectory.gitRepository("redaction-spool")
        let spool = try TemporaryDirectory("redaction-spool-dir")
        let closed = try SpoolTests.PortReservation()
        let configured = try CLI.exec(
            "/usr/bin/env", ["git", "config", "cairn.spool", spool.path], directory: repo.path)
        #expect(configured.status == 0)
        try Self.captureAndCommit(repo, installArgs: ["--server", closed.url])
        // The detached delivery takes the record from the outbox to the spool.
        try pollBlocking("the record in the spool") {
            ((try? String(contentsOfFile: repo.path + "/.git/cairn/outbox.jsonl", encoding: .utf8)) ?? "x").isEmpty
        }
        let spooled = Self.files(under: spool.path)
        #expect(spooled.contains { $0.0.hasSuffix("data.mdb") }, "the record was spooled")
        Self.expectNoSecret(in: spooled + Self.files(under: repo.path + "/.git/cairn"))
    }
}
