import CairnTestSupport
import Foundation
import Testing

/// Issue 12, acceptance 3: the commit hooks never wait on an unreachable destination, and lose nothing — records
/// wait in the repository's outbox (no ledger yet) or the spool (server down) and arrive exactly once later.
@Suite struct CommitDeliveryTests {
    static let gitEnvironment = ["GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1"]

    /// A repository whose hooks are installed with `installArgs`, with one agent-written file committed and then
    /// amended (a checkpoint and a rewrite record).
    static func commitWithAgent(
        _ repo: TemporaryDirectory, installArgs: [String], environment: [String: String]
    ) throws {
        func git(_ args: [String]) throws {
            let out = try CLI.exec("/usr/bin/env", ["git"] + args, environment: environment, directory: repo.path)
            #expect(out.status == 0, "git \(args): \(out.stderr)")
        }
        try git(["config", "user.email", "bob@example.com"])
        let install = try CLI.exec(
            CLI.binary, ["hooks", "install", "--agents", "none"] + installArgs, environment: environment,
            directory: repo.path)
        #expect(install.status == 0, "\(install.stderr)")
        let payload =
            #"{"hook_event_name":"PostToolUse","session_id":"s-9","cwd":"\#(repo.path)","model":"claude-sonnet-4-5-20250929","tool_name":"Write","tool_input":{"file_path":"\#(repo.path)/a.txt","content":"one\ntwo\n"}}"#
        let captured = try CLI.exec(
            CLI.binary, ["capture", "claude-code"], stdin: Array(payload.utf8), directory: repo.path)
        #expect(captured.status == 0)
        _ = try repo.write("a.txt", "one\ntwo\n")
        try git(["add", "a.txt"])
        try git(["commit", "-q", "-m", "a"])
        try git(["commit", "-q", "--amend", "-m", "a, amended"])
    }

    static func treeSize(_ ledger: String) throws -> Int {
        let out = try CLI.exec(CLI.binary, ["checkpoint", "--ledger", ledger])
        #expect(out.status == 0, "\(out.stderr)")
        return out.lines.count > 1 ? Int(out.lines[1]) ?? -1 : -1
    }

    @Test("No ledger yet: the commit succeeds, records wait in the outbox, and arrive exactly once once it exists")
    func ledgerUnreachable() throws {
        let repo = try TemporaryDirectory.gitRepository("delivery-ledger")
        let ledger = repo.path + "-ledger"
        defer { try? FileManager.default.removeItem(atPath: ledger) }
        try Self.commitWithAgent(repo, installArgs: ["--ledger", ledger], environment: Self.gitEnvironment)
        let outbox = try String(contentsOfFile: repo.path + "/.git/cairn/outbox.jsonl", encoding: .utf8)
        #expect(outbox.split(separator: "\n").count == 2 && outbox.contains(#""type":"rewrite""#), "\(outbox)")
        let status = try CLI.exec(CLI.binary, ["hooks", "status", "--json", "--agents", "none"], directory: repo.path)
        let object = parseJSONLine(status.text)
        #expect(object["outbox_records"] as? Int == 2)
        #expect((object["destination"] as? String)?.contains("does not open") == true, "\(object)")

        let initialized = try CLI.exec(CLI.binary, ["init", "--ledger", ledger, "--origin", "example.com/delivery"])
        #expect(initialized.status == 0, "\(initialized.stderr)")
        let flush = try CLI.exec(CLI.binary, ["hooks", "flush", "--json"], directory: repo.path)
        #expect(
            flush.status == 0 && parseJSONLine(flush.text)["delivered"] as? Int == 2, "\(flush.text) \(flush.stderr)")
        #expect(try Self.treeSize(ledger) == 2)
        // Delivered twice (a crash between the ledger's commit and the outbox's update): stored once.
        let replay = try String(contentsOfFile: repo.path + "/.git/cairn/outbox.jsonl", encoding: .utf8)
        #expect(replay.isEmpty)
        try outbox.write(toFile: repo.path + "/.git/cairn/outbox.jsonl", atomically: true, encoding: .utf8)
        let again = try CLI.exec(CLI.binary, ["hooks", "flush", "--json"], directory: repo.path)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try Self.treeSize(ledger) == 2)
    }

    @Test("Server down: the commit does not wait, records wait in the spool, and arrive exactly once when it is up")
    func serverUnreachable() throws {
        let world = try SpoolTests.World()
        let repo = try TemporaryDirectory.gitRepository("delivery-server")
        var environment = world.environment.merging(Self.gitEnvironment) { $1 }
        environment["CAIRN_SPOOL"] = nil
        // The hooks' spool is the repository's choice (git config cairn.spool).
        let configured = try CLI.exec(
            "/usr/bin/env", ["git", "config", "cairn.spool", world.dir.file("spool")], environment: environment,
            directory: repo.path)
        #expect(configured.status == 0)
        try Self.commitWithAgent(repo, installArgs: ["--server", world.url], environment: environment)
        // The hooks' detached delivery moves both records from the outbox into the spool, then empties the outbox
        // (a step after the spool's: wait for both, or a loaded machine sees the outbox not yet emptied).
        func outboxEmpty() -> Bool {
            ((try? String(contentsOfFile: repo.path + "/.git/cairn/outbox.jsonl", encoding: .utf8)) ?? "") == ""
        }
        try pollBlocking("the checkpoint and the rewrite in the spool, the outbox empty") {
            world.spooled() == 2 && outboxEmpty()
        }
        #expect(world.spooled() == 2 && outboxEmpty())

        let server = try world.startServer()
        defer { server.stop() }
        let flush = try world.cairn(["spool", "flush", "--server", world.url])
        #expect(flush.status == 0, "\(flush.stderr) \(world.serverLog)")
        #expect(world.spooled() == 0)
        let again = try world.cairn(["spool", "flush", "--server", world.url])
        #expect(again.status == 0)
        server.stop()
        #expect(try Self.treeSize(world.fixture.cli.ledger) == 2)
    }
}
