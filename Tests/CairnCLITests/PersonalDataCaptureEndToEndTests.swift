import CairnTestSupport
import Foundation
import Testing

/// Issue 12 item 9's optional personal-data pass, end to end: `cairn hooks install --redact-personal-data` in a real
/// repository, prompts, an edit and a last message with an e-mail address and a card number fed to `cairn-capture`,
/// a commit: neither value is in the working log, the outbox or any byte of the ledger. Without the flag they are
/// kept (the pass is optional); the secret beside them is redacted either way.
@Suite struct PersonalDataCaptureEndToEndTests {
    static let email = "ana.lima@quillmail.io"
    /// A Luhn-valid Visa number (generated, split so that no scanner flags the source).
    static let card = "4539" + " 1488 0343 6467"
    static let token = "gh" + "p_" + String(repeating: "Zx9Qw2", count: 6)
    static let environment = ["GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1"]

    struct Run {
        let workingLog: String
        let cairnFiles: [(String, Data)]
        let ledgerFiles: [(String, Data)]
        let record: [String: Any]
    }

    /// One repository with a ledger, installed with `installArgs`; one Claude Code session captured through
    /// `cairn-capture`, committed and delivered.
    static func captureAndCommit(installArgs: [String]) throws -> Run {
        let root = try TemporaryDirectory("personal-data-e2e")
        let repo = root.path + "/repo"
        let ledger = root.path + "/ledger"
        func git(_ args: [String]) throws {
            let out = try CLI.exec("/usr/bin/env", ["git"] + args, environment: environment, directory: repo)
            #expect(out.status == 0, "git \(args): \(out.stderr)")
        }
        #expect(try CLI.exec("/usr/bin/env", ["git", "init", "-q", repo], environment: environment).status == 0)
        try git(["config", "user.email", "carol@example.com"])
        try git(["config", "cairn.fullRecordLines", "1"])
        let initialized = try CLI.exec(CLI.binary, ["init", "--ledger", ledger, "--origin", "example.com/pii"])
        #expect(initialized.status == 0, "\(initialized.stderr)")
        let install = try CLI.exec(
            CLI.binary, ["hooks", "install", "--agents", "none", "--ledger", ledger] + installArgs,
            environment: environment, directory: repo)
        #expect(install.status == 0, "\(install.stderr)")

        let capture = URL(fileURLWithPath: CLI.binary).deletingLastPathComponent().appendingPathComponent(
            "cairn-capture"
        ).path
        func feed(_ payload: [String: Any]) throws {
            var payload = payload
            payload["session_id"] = "pii-1"
            payload["cwd"] = repo
            let bytes = try JSONSerialization.data(withJSONObject: payload)
            let out = try CLI.exec(capture, ["claude-code"], stdin: [UInt8](bytes), directory: repo)
            #expect(out.status == 0 && out.stderr.isEmpty, "\(out.stderr)")
        }
        try feed([
            "hook_event_name": "UserPromptSubmit",
            "prompt": "Bill \(email) on card \(card); deploy with \(token)",
        ])
        let content = "customers = [\n    \"\(email)\",\n]\nretries = 3\ntimeout = 30\n"
        try feed([
            "hook_event_name": "PostToolUse", "tool_name": "Write", "model": "claude-sonnet-4-5-20250929",
            "tool_input": ["file_path": repo + "/billing.py", "content": content],
        ])
        try feed(["hook_event_name": "Stop", "last_assistant_message": "Charged \(card) for \(email)."])
        let workingLog = (try? String(contentsOfFile: repo + "/.git/cairn/working-log.jsonl", encoding: .utf8)) ?? ""

        try content.write(toFile: repo + "/billing.py", atomically: true, encoding: .utf8)
        try git(["add", "billing.py"])
        try git(["commit", "-q", "-m", "Billing"])
        let flush = try CLI.exec(CLI.binary, ["hooks", "flush"], environment: environment, directory: repo)
        #expect(flush.status == 0, "\(flush.stderr)")
        let query = try CLI.exec(CLI.binary, ["query", "--ledger", ledger, "--jsonl"])
        #expect(query.status == 0 && query.lines.count == 1, "\(query.text) \(query.stderr)")
        let record = parseJSONLine(query.lines.first ?? "")["record"] as? [String: Any] ?? [:]
        return Run(
            workingLog: workingLog,
            cairnFiles: CaptureRedactionEndToEndTests.files(under: repo + "/.git/cairn"),
            ledgerFiles: CaptureRedactionEndToEndTests.files(under: ledger), record: record)
    }

    static func found(_ text: String, in files: [(String, Data)]) -> [String] {
        files.filter { $0.1.range(of: Data(text.utf8)) != nil }.map(\.0)
    }

    @Test("--redact-personal-data: no e-mail address or card number in the working log, the outbox or the ledger")
    func redacted() throws {
        let run = try Self.captureAndCommit(installArgs: ["--redact-personal-data"])
        #expect(run.workingLog.contains("[REDACTED:email:") && run.workingLog.contains("[REDACTED:payment-card:"))
        #expect(run.workingLog.contains("[REDACTED:github-token:"))
        for value in [Self.email, Self.card, Self.token] {
            #expect(!run.workingLog.contains(value), "\(value) in the working log")
            #expect(
                Self.found(value, in: run.cairnFiles).isEmpty, "\(value) in \(Self.found(value, in: run.cairnFiles))")
            #expect(
                Self.found(value, in: run.ledgerFiles).isEmpty, "\(value) in \(Self.found(value, in: run.ledgerFiles))")
        }
        #expect(run.cairnFiles.contains { $0.0.hasSuffix("/redaction.json") })
        let prompt = run.record["prompt"] as? String ?? ""
        #expect(
            prompt.hasPrefix("Bill [REDACTED:email:") && prompt.contains("on card [REDACTED:payment-card:"), "\(prompt)"
        )
        #expect((run.record["raw_output"] as? String ?? "").contains("[REDACTED:email:"))
        let turns = run.record["turns"] as? [[String: Any]] ?? []
        #expect(turns.contains { ($0["content"] as? String)?.hasPrefix("Charged [REDACTED:payment-card:") == true })
    }

    @Test("Without the flag, personal data is kept and the secret is still redacted")
    func keptByDefault() throws {
        let run = try Self.captureAndCommit(installArgs: [])
        #expect(run.workingLog.contains(Self.email) && run.workingLog.contains(Self.card))
        #expect(
            !Self.found(Self.email, in: run.ledgerFiles).isEmpty && !Self.found(Self.card, in: run.ledgerFiles).isEmpty)
        #expect(
            Self.found(Self.token, in: run.cairnFiles + run.ledgerFiles).isEmpty && !run.workingLog.contains(Self.token)
        )
        let prompt = run.record["prompt"] as? String ?? ""
        #expect(prompt.hasPrefix("Bill \(Self.email) on card \(Self.card); deploy with [REDACTED:github-token:"))
        #expect(!run.cairnFiles.contains { $0.0.hasSuffix("/redaction.json") })
    }
}
