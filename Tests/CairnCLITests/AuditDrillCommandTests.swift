import CairnTestSupport
import Foundation
import Testing

/// `cairn audit drill` (issue 13 item 5), through the real binary: exit statuses, the JSON form, `--save`.
@Suite("cairn audit drill")
struct AuditDrillCommandTests {
    /// A git repository of three commits — one fully documented, one with an unreviewed checkpoint, one with none
    /// (its subject carries an escape sequence) — and a provenance ledger recording them.
    struct World {
        let repo: TemporaryDirectory
        let fixture: LedgerFixture
        let documented, unreviewed, unrecorded: String

        init() throws {
            repo = try TemporaryDirectory.gitRepository("drill")
            fixture = try LedgerFixture(origin: "example.com/drill-cli", profile: "provenance")
            var ids: [String] = []
            for (n, subject) in ["Add retry", "Add cache", "Tidy \u{1B}[2Khello"].enumerated() {
                try repo.write("f\(n).txt", "\(n)\n")
                try Self.git(repo, ["add", "f\(n).txt"])
                try Self.git(repo, ["commit", "-q", "-m", subject])
                ids.append(try Self.git(repo, ["rev-parse", "HEAD"]))
            }
            documented = ids[0]
            unreviewed = ids[1]
            unrecorded = ids[2]
            let records = [
                AuditCLITests.checkpoint("cp-1", commit: documented),
                AuditCLITests.review("cp-1", at: "2026-11-20T10:00:00Z"),
                AuditCLITests.test("cp-1", at: "2026-11-20T10:30:00Z"),
                AuditCLITests.deploy("cp-1", commit: documented, at: "2026-11-20T11:00:00Z"),
                AuditCLITests.checkpoint("cp-2", commit: unreviewed, at: "2026-11-21T09:00:00Z"),
            ]
            try fixture.cli.ok("append", stdin: records.joined(separator: "\n") + "\n")
        }

        @discardableResult
        static func git(_ repo: TemporaryDirectory, _ args: [String]) throws -> String {
            let out = try CLI.exec(
                "/usr/bin/env", ["git", "-c", "user.name=Dana", "-c", "user.email=dana@example.com"] + args,
                environment: ["GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1"], directory: repo.path)
            guard out.status == 0 else {
                throw LedgerFixture.FixtureError(message: "git \(args): \(out.stderr)")
            }
            return out.text.trimmingCharacters(in: .whitespacesAndNewlines)
        }

        func drill(_ args: [String], directory: String? = nil) throws -> CLI.Output {
            try CLI.exec(
                CLI.binary, ["audit", "drill"] + args, environment: ["CAIRN_LEDGER": fixture.cli.ledger],
                directory: directory)
        }
    }

    /// The names and kinds of everything in `directory`, recursively, but LMDB's lock file.
    static func listing(_ directory: String) throws -> [String] {
        let enumerator = FileManager.default.enumerator(atPath: directory)
        var names: [String] = []
        while let name = enumerator?.nextObject() as? String {
            if name != "lock.mdb" { names.append(name) }
        }
        return names.sorted()
    }

    @Test("Exit 1 with gaps, 0 without; the text names each step and escapes commit text")
    func exitStatusesAndText() throws {
        let w = try World()
        let gaps = try w.drill(["--repo", w.repo.path, "--count", "3", "--seed", "1"])
        #expect(gaps.status == 1, "\(gaps.stderr)")
        let text = gaps.text
        #expect(text.hasPrefix("drill: 3 of 3 candidate commits (the last 100 non-merge commits of HEAD "))
        #expect(text.contains("seed 1; ledger example.com/drill-cli at tree size 5"))
        #expect(text.contains("  checkpoint  GAP  no checkpoint names this commit"))
        #expect(text.contains("    review      GAP  no review names checkpoint cp-2"))
        #expect(text.contains("    review      ok   approved by bob@example.com at 2026-11-20T10:00:00Z (entry 1)"))
        #expect(text.contains("    proof       ok   entries 0, 1, 2, 3 proved against the signed checkpoint of size 5"))
        #expect(text.contains("    witness     GAP  no checkpoint covering entry 0 carries a witness cosignature"))
        // The subject's escape sequence is shown, not obeyed.
        #expect(text.contains("Tidy \\u{1B}[2Khello") && !gaps.stdout.contains(0x1B))
        #expect(
            gaps.lines.last
                == "gaps: 6 in 3 commits drilled (no_provenance 1, unreviewed 1, untested 1, undeployed 1, "
                + "unwitnessed 2); tree size 5")

        // Without witnesses, the documented commit has no gap left; the other two still have theirs.
        let documented = try w.drill(["--repo", w.repo.path, "--last", "3", "--count", "3", "--skip", "witness"])
        #expect(documented.status == 1)
        #expect(
            documented.text.contains("    deploy      ok   deployed to production at 2026-11-20T11:00:00Z (entry 3)"))
        #expect(documented.text.contains("    witness     n/a  not checked (--skip witness)"))
        let only = try w.drill([
            "--repo", w.repo.path, "--count", "1", "--last", "3", "--skip", "witness", "--seed",
            try seed(picking: w.documented, in: w),
        ])
        #expect(only.status == 0, "\(only.text)\(only.stderr)")
        #expect(only.lines.last == "ok: no gaps in 1 commit drilled (tree size 5)")

        // Record text is escaped too: a right-to-left override in an environment name is shown, not obeyed.
        try w.fixture.cli.ok(
            "append",
            stdin: #"{"type":"rollback","schema":1,"subject":"cp-1","at":"2026-11-20T12:00:00Z","#
                + #""environment":"prod\u202eevil","reason":"p99 latency"}"# + "\n")
        let rolledBack = try w.drill(["--repo", w.repo.path, "--count", "3", "--seed", "1"])
        #expect(rolledBack.text.contains("; rolled back in prod\\u{202E}evil at 2026-11-20T12:00:00Z (entry 5)"))
        #expect(!rolledBack.text.unicodeScalars.contains("\u{202E}"))

        // The repository defaults to the current directory.
        let here = try w.drill(["--count", "3", "--seed", "1", "--json"], directory: w.repo.path)
        #expect(here.status == 1 && parseJSONLine(here.text)["commits_drilled"] as? Int == 3)
    }

    /// A seed whose drill of one commit (among the last three) picks `commit`.
    func seed(picking commit: String, in w: World) throws -> String {
        for seed in 0..<64 {
            let out = try w.drill(["--repo", w.repo.path, "--count", "1", "--last", "3", "--seed", "\(seed)", "--json"])
            let commits = parseJSONLine(out.text)["commits"] as? [[String: Any]]
            if commits?.first?["commit"] as? String == commit { return "\(seed)" }
        }
        throw LedgerFixture.FixtureError(message: "no seed below 64 picks \(commit)")
    }

    @Test("--json prints the report of specs/drill.md; --seed repeats the choice")
    func jsonShape() throws {
        let w = try World()
        let out = try w.drill(["--repo", w.repo.path, "--count", "2", "--seed", "11", "--skip", "deploy", "--json"])
        #expect(out.status == 1)
        #expect(out.lines.count == 1)
        let object = parseJSONLine(out.text)
        #expect(object["format"] as? String == "cairn-drill/v1")
        let at = try #require(object["at"] as? String)
        #expect(at.hasSuffix("Z") && at.count >= 20 && at.dropFirst(10).first == "T")
        #expect(object["tree_size"] as? Int == 5 && object["commits_drilled"] as? Int == 2)
        #expect(object["origin"] as? String == "example.com/drill-cli" && object["repo"] as? String == w.repo.path)
        let byKind = try #require(object["gaps_by_kind"] as? [String: Int])
        #expect(
            Set(byKind.keys) == [
                "no_provenance", "unreviewed", "not_approved", "untested", "tests_failed", "undeployed",
                "proof_failed", "unwitnessed",
            ])
        #expect(object["gaps"] as? Int == byKind.values.reduce(0, +))
        #expect(byKind["undeployed"] == 0)
        let selection = try #require(object["selection"] as? [String: Any])
        #expect(selection["seed"] as? Int == 11 && selection["count"] as? Int == 2)
        #expect(selection["skipped"] as? [String] == ["deploy"] && selection["candidates"] as? Int == 3)
        let commits = try #require(object["commits"] as? [[String: Any]])
        for commit in commits {
            let step = try #require(commit["checkpoint"] as? [String: Any])
            #expect(["ok", "gap"].contains(step["status"] as? String))
            for checkpoint in commit["checkpoints"] as? [[String: Any]] ?? [] {
                let steps = try #require(checkpoint["steps"] as? [[String: Any]])
                #expect(steps.compactMap { $0["step"] as? String } == ["review", "test", "deploy", "proof", "witness"])
                #expect(steps[2]["status"] as? String == "not_applicable")
            }
        }
        let again = try w.drill(["--repo", w.repo.path, "--count", "2", "--seed", "11", "--skip", "deploy", "--json"])
        let picked = { (text: String) in
            (parseJSONLine(text)["commits"] as? [[String: Any]])?.compactMap { $0["commit"] as? String }
        }
        #expect(picked(again.text) == picked(out.text))
        // --json alone saves nothing.
        #expect(!FileManager.default.fileExists(atPath: w.fixture.cli.ledger + "/drills"))
    }

    @Test("--save writes drills/<UTC time>.json atomically; nothing else in the ledger directory changes")
    func save() throws {
        let w = try World()
        let ledger = w.fixture.cli.ledger
        let before = try Data(contentsOf: URL(fileURLWithPath: ledger + "/data.mdb"))
        let listing = try Self.listing(ledger)
        let out = try w.drill(["--repo", w.repo.path, "--count", "3", "--save", "--json"])
        #expect(out.status == 1)
        let after = try Data(contentsOf: URL(fileURLWithPath: ledger + "/data.mdb"))
        #expect(before == after, "the drill changed data.mdb")
        let saved = try FileManager.default.contentsOfDirectory(atPath: ledger + "/drills")
        #expect(saved.count == 1)
        let name = try #require(saved.first)
        #expect(name.wholeMatch(of: try Regex(#"\d{8}T\d{6}\.\d{3}Z\.json"#)) != nil, "\(name)")
        #expect(try Self.listing(ledger) == (listing + ["drills", "drills/" + name]).sorted())
        #expect(out.stderr == "saved: \(ledger)/drills/\(name)\n")
        // The file holds the report printed (pretty-printed), and its name is its time.
        let file = try JSONSerialization.jsonObject(
            with: Data(contentsOf: URL(fileURLWithPath: ledger + "/drills/" + name)))
        let printed = try JSONSerialization.jsonObject(with: Data(out.stdout))
        #expect((file as? NSDictionary) == (printed as? NSDictionary))
        let at = try #require((file as? [String: Any])?["at"] as? String)
        let digits = at.filter(\.isNumber)
        #expect(name.filter(\.isNumber).hasPrefix(digits.prefix(14)))

        // In text mode the path is printed before the summary; a second save is a second file.
        let text = try w.drill(["--repo", w.repo.path, "--count", "1", "--save"])
        #expect(text.lines.dropLast().last?.hasPrefix("saved: \(ledger)/drills/") == true)
        #expect(try FileManager.default.contentsOfDirectory(atPath: ledger + "/drills").count == 2)
        #expect(try Data(contentsOf: URL(fileURLWithPath: ledger + "/data.mdb")) == before)
        // The ledger still checks out.
        try w.fixture.cli.ok("fsck")
    }

    @Test("A drills path that cannot be a directory is exit 73, and nothing is printed")
    func saveFails() throws {
        let w = try World()
        try Data("not a directory\n".utf8).write(to: URL(fileURLWithPath: w.fixture.cli.ledger + "/drills"))
        let out = try w.drill(["--repo", w.repo.path, "--save"])
        #expect(out.status == 73, "\(out.stderr)")
        #expect(out.stdout.isEmpty && out.stderr.hasPrefix("error: ") && out.stderr.contains("drills"))
    }

    @Test("Bad arguments are usage errors (64); a missing repository or ledger is 66")
    func badArguments() throws {
        let w = try World()
        let cases: [([String], Int32, String)] = [
            (
                ["--skip", "tests"], 64,
                #"--skip: unknown step "tests" (expected review, test, deploy, proof, witness)"#
            ),
            (["--skip", "test,checkpoint"], 64, "the checkpoint step cannot be skipped"),
            (["--count", "0"], 64, "--count must be at least 1"),
            (["--last", "-2"], 64, "--last: expected a non-negative integer"),
            (["--since", "last tuesday"], 64, "--since must be an RFC 3339 UTC time"),
            (["--seed", "9007199254740992"], 64, "--seed must be at most 9007199254740991"),
            (["--vkey", "no-such.vkey"], 66, "--vkey no-such.vkey: no such file"),
            (["--vkey", "not a key"], 64, "--vkey is neither a verifier key nor an existing file"),
        ]
        for (args, status, message) in cases {
            let out = try w.drill(["--repo", w.repo.path] + args)
            #expect(out.status == status, "\(args): \(out.stderr)")
            #expect(out.stderr.contains(message), "\(args): \(out.stderr)")
        }
        let noRepo = try w.drill(["--repo", w.fixture.dir.file("nowhere")])
        #expect(noRepo.status == 66 && noRepo.stderr.contains("no directory"))
        let notRepo = try w.drill(["--repo", w.fixture.dir.path])
        #expect(notRepo.status == 66 && notRepo.stderr.contains("is not a git repository"), "\(notRepo.stderr)")
        let noLedger = try CLI.exec(
            CLI.binary, ["audit", "drill", "--repo", w.repo.path, "--ledger", w.fixture.dir.file("none")])
        #expect(noLedger.status == 66, "\(noLedger.stderr)")
    }

    @Test("--vkey: proofs verified with another log's key fail (exit 1, proof_failed); the ledger's own vkey passes")
    func vkey() throws {
        let w = try World()
        let other = try LedgerFixture(origin: "example.com/another-log", profile: "provenance")
        let args = ["--repo", w.repo.path, "--count", "3", "--seed", "2", "--skip", "review,test,deploy,witness"]
        let wrong = try w.drill(args + ["--vkey", other.vkeyFile, "--json"])
        #expect(wrong.status == 1)
        let byKind = parseJSONLine(wrong.text)["gaps_by_kind"] as? [String: Int]
        #expect(byKind?["proof_failed"] == 2 && byKind?["no_provenance"] == 1)
        let commits = parseJSONLine(wrong.text)["commits"] as? [[String: Any]] ?? []
        let steps = commits.flatMap { $0["checkpoints"] as? [[String: Any]] ?? [] }.flatMap {
            $0["steps"] as? [[String: Any]] ?? []
        }
        let reasons = steps.filter { $0["step"] as? String == "proof" }.compactMap { $0["reason"] as? String }
        #expect(reasons.count == 2)
        #expect(reasons.allSatisfy { $0.contains("does not verify with example.com/another-log") }, "\(reasons)")
        for key in [w.fixture.vkeyFile, w.fixture.vkey] {
            let own = try w.drill(args + ["--vkey", key, "--json"])
            #expect((parseJSONLine(own.text)["gaps_by_kind"] as? [String: Int])?["proof_failed"] == 0)
        }
    }
}
