import CairnCrypto
import CairnTestSupport
import Foundation
import Testing

/// Issue 12 item 4: `cairn attest` records a developer's declaration of AI use for a commit as a checkpoint of
/// grade `attested`.
@Suite struct AttestCommandTests {
    static let environment = ["GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1"]

    /// A repository with two commits (the second changes a.txt, adds c.txt and a binary file) and an empty ledger.
    struct World {
        let repo: TemporaryDirectory
        let ledger: String

        init() throws {
            repo = try TemporaryDirectory.gitRepository("attest")
            ledger = repo.path + "-ledger"
            try git(["config", "user.email", "erin@example.com"])
            try git(["config", "commit.gpgsign", "false"])
            try repo.write("a.txt", "one\ntwo\n")
            try git(["add", "a.txt"])
            try git(["commit", "-q", "-m", "one"])
            try repo.write("a.txt", "one\nTWO\nthree\nfour\n")
            try repo.write("c.txt", "x\n")
            try repo.write("d.bin", [0, 1, 2, 0])
            try git(["add", "a.txt", "c.txt", "d.bin"])
            try git(["commit", "-q", "-m", "two"])
            let initialized = try CLI.exec(CLI.binary, ["init", "--ledger", ledger, "--origin", "example.com/attest"])
            #expect(initialized.status == 0, "\(initialized.stderr)")
        }

        @discardableResult
        func git(_ args: [String]) throws -> CLI.Output {
            let out = try CLI.exec("/usr/bin/env", ["git"] + args, environment: environment, directory: repo.path)
            #expect(out.status == 0, "git \(args): \(out.stderr)")
            return out
        }

        /// `cairn ARGS` in the repository, standard input an empty pipe (not a terminal).
        func cairn(_ args: [String]) throws -> CLI.Output {
            try CLI.exec(CLI.binary, args, stdin: [], environment: environment, directory: repo.path)
        }

        func cleanUp() { try? FileManager.default.removeItem(atPath: ledger) }
    }

    @Test("An attested commit: a checkpoint of grade attested, mixed ranges of the added lines, blame shows it")
    func attest() throws {
        let world = try World()
        defer { world.cleanUp() }
        let out = try world.cairn([
            "attest", "--tool", "claude-code,cursor", "--model", "claude-sonnet-4-5-20250929", "--ai-share", "40",
            "--no-sensitive", "--ledger", world.ledger, "--json",
        ])
        #expect(out.status == 0, "\(out.stderr)")
        let record = parseJSONLine(out.text)
        let head = try world.git(["rev-parse", "HEAD"]).text.trimmingCharacters(in: .whitespacesAndNewlines)
        let id = try #require(record["id"] as? String)
        #expect(id.hasPrefix("attest-\(head)-") && id.count == "attest-".count + 40 + 13, "\(id)")
        #expect(record["tool_path"] as? String == "agent")
        #expect(record["prompt"] as? String == "(attested after the fact: no prompt was captured)")
        #expect((record["model"] as? [String: Any])?["provider"] as? String == "anthropic")
        let capture = try #require(record["x_capture"] as? [String: Any])
        #expect(capture["grade"] as? String == "attested")
        #expect(capture["tools"] as? [String] == ["claude-code", "cursor"])
        #expect(capture["ai_share"] as? Int == 40)
        #expect(capture["sensitive_paths"] as? Bool == false)
        #expect(capture["attested_by"] as? String == "erin@example.com")
        #expect(capture["model_unknown"] == nil)

        // Outputs: a.txt lines 2-4 and c.txt line 1, mixed; the binary file is left out.
        let outputs = try #require(record["outputs"] as? [[String: Any]])
        #expect(outputs.map { $0["path"] as? String } == ["a.txt", "c.txt"])
        #expect(outputs.allSatisfy { $0["contributor"] as? String == "mixed" && $0["commit"] as? String == head })
        #expect(outputs.first?["ranges"] as? [[Int]] == [[2, 4]])
        #expect(outputs.last?["ranges"] as? [[Int]] == [[1, 1]])
        let blob = try CLI.exec("/usr/bin/env", ["git", "cat-file", "blob", "HEAD:a.txt"], directory: world.repo.path)
        #expect(outputs.first?["content_hash"] as? String == SHA256.hash(blob.stdout).description)

        // The ledger holds it.
        let shown = try CLI.exec(CLI.binary, ["get", "0", "--ledger", world.ledger])
        #expect(shown.status == 0 && shown.text.contains(id), "\(shown.text) \(shown.stderr)")
        #expect(try CommitDeliveryTests.treeSize(world.ledger) == 1)
        #expect(
            ((try? String(contentsOfFile: world.repo.file(".git/cairn/outbox.jsonl"), encoding: .utf8)) ?? "") == "")

        // Blame: a.txt's lines 2-4 are mixed and attested, line 1 is unexplained.
        let blame = try world.cairn(["blame", "a.txt", "--json", "--ledger", world.ledger])
        #expect(blame.status == 0, "\(blame.stderr)")
        let lines = blame.lines.map(parseJSONLine)
        #expect(lines.count == 4, "\(blame.text)")
        for line in lines.dropFirst() {
            #expect(line["grade"] as? String == "attested", "\(line)")
            #expect(line["contributor"] as? String == "mixed", "\(line)")
            #expect(line["checkpoint"] as? String == id, "\(line)")
        }
        #expect(lines.first?["contributor"] is NSNull || lines.first?["contributor"] == nil, "\(lines.first ?? [:])")

        // The same attestation again: the same id, nothing new stored.
        let again = try world.cairn([
            "attest", "--tool", "cursor,claude-code", "--model", "claude-sonnet-4-5-20250929", "--ai-share", "40%",
            "--no-sensitive", "--ledger", world.ledger,
        ])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.text == id + "\n")
        #expect(again.stderr.contains("already in the ledger"), "\(again.stderr)")
        #expect(try CommitDeliveryTests.treeSize(world.ledger) == 1)
        #expect(!FileManager.default.fileExists(atPath: world.repo.file(".git/cairn/outbox-rejected.jsonl")))
    }

    @Test("Bad input: --ai-share out of range, no --tool without a terminal, unknown revision, no repository")
    func badInput() throws {
        let world = try World()
        defer { world.cleanUp() }
        let share = try world.cairn(["attest", "--tool", "codex", "--ai-share", "120", "--ledger", world.ledger])
        #expect(share.status == 64, "\(share.stderr)")
        #expect(share.stderr.hasPrefix("error: --ai-share 120:"), "\(share.stderr)")
        let noTool = try world.cairn(["attest", "--ledger", world.ledger])
        #expect(noTool.status == 64, "\(noTool.stderr)")
        #expect(noTool.stderr.contains("--tool is required"), "\(noTool.stderr)")
        let revision = try world.cairn(["attest", "--tool", "codex", "--commit", "no-such-rev", "--dry-run"])
        #expect(revision.status == 66, "\(revision.stderr)")
        #expect(revision.stderr.contains("no commit no-such-rev"), "\(revision.stderr)")
        let outside = try TemporaryDirectory("attest-outside")
        let notRepo = try CLI.exec(
            CLI.binary, ["attest", "--tool", "codex", "--repo", outside.path], stdin: [], environment: Self.environment)
        #expect(notRepo.status == 66, "\(notRepo.stderr)")
        #expect(notRepo.stderr.contains("is not inside a git repository"), "\(notRepo.stderr)")
        // A commit adding no lines (a deletion only).
        try world.git(["rm", "-q", "c.txt"])
        try world.git(["commit", "-q", "-m", "three"])
        let empty = try world.cairn(["attest", "--tool", "codex", "--dry-run"])
        #expect(empty.status == 65, "\(empty.stderr)")
        #expect(empty.stderr.contains("adds no lines"), "\(empty.stderr)")
        #expect(try CommitDeliveryTests.treeSize(world.ledger) == 0)
    }

    @Test("--dry-run prints the record and stores nothing; without --model the model is unknown")
    func dryRun() throws {
        let world = try World()
        defer { world.cleanUp() }
        try world.git(["config", "cairn.sensitivePaths", "c.*"])
        let out = try world.cairn([
            "attest", "--tool", "github-copilot", "--dry-run", "--json", "--ledger", world.ledger,
        ])
        #expect(out.status == 0, "\(out.stderr)")
        let record = parseJSONLine(out.text)
        let capture = record["x_capture"] as? [String: Any] ?? [:]
        #expect(capture["model_unknown"] as? Bool == true)
        #expect(capture["sensitive_paths"] as? Bool == true, "c.txt matches cairn.sensitivePaths")
        #expect(capture["ai_share"] == nil)
        #expect((record["model"] as? [String: Any])?["id"] as? String == "unknown")
        #expect(try CommitDeliveryTests.treeSize(world.ledger) == 0)
        #expect(!FileManager.default.fileExists(atPath: world.repo.file(".git/cairn/outbox.jsonl")))
        // The root commit: every line is added.
        let root = try world.cairn(["attest", "--tool", "codex", "--commit", "HEAD~1", "--dry-run", "--json"])
        #expect(root.status == 0, "\(root.stderr)")
        let outputs = parseJSONLine(root.text)["outputs"] as? [[String: Any]] ?? []
        #expect(outputs.count == 1 && outputs.first?["ranges"] as? [[Int]] == [[1, 2]], "\(outputs)")
    }
}
