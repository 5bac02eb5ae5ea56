import CairnTestSupport
import Foundation
import Testing

/// `cairn audit undeclared` (issue 12 item 4): commits whose messages show an AI tool took part — the trailers real
/// repositories carry (Tests/Vectors/capture/git-trailers) — but that no checkpoint covers.
@Suite struct AuditUndeclaredTests {
    /// The trailer lines of the collected vector, e.g. `Co-Authored-By: Claude Opus 4.6 <noreply@anthropic.com>`.
    static func realTrailers() throws -> [String] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Vectors/capture/git-trailers/trailer-examples.from-real-commits.tsv")
        return try String(contentsOf: url, encoding: .utf8).split(separator: "\n").dropFirst().compactMap {
            $0.split(separator: "\t").last.map(String.init)
        }
    }

    @Test("Every real AI trailer is flagged unless a checkpoint covers its commit; people's co-authors are not")
    func flagsUndeclaredCommits() throws {
        let repo = try TemporaryDirectory.gitRepository("undeclared")
        let fixture = try LedgerFixture(profile: "provenance")
        let environment = ["GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1"]
        func git(_ args: [String]) throws -> String {
            let out = try CLI.exec(
                "/usr/bin/env", ["git", "-c", "user.name=Dana", "-c", "user.email=dana@example.com"] + args,
                environment: environment, directory: repo.path)
            #expect(out.status == 0, "git \(args): \(out.stderr)")
            return out.text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        var messages = try Self.realTrailers().map { "change\n\nBody.\n\n\($0)\n" }
        #expect(messages.count >= 10)
        messages += [
            "by hand\n\nCo-authored-by: Bob <bob@example.com>\n",
            "kernel style\n\nassisted-by: Cursor:cursor-grok-4.5\n",
            "generated\n\nGenerated-by: some-agent 1.0\n",
            "plain commit\n",
        ]
        var commits: [String] = []
        for (n, message) in messages.enumerated() {
            _ = try repo.write("f\(n).txt", "\(n)\n")
            _ = try git(["add", "f\(n).txt"])
            _ = try git(["commit", "-q", "-m", message])
            commits.append(try git(["rev-parse", "HEAD"]))
        }
        // A checkpoint covers the first commit (the vector's first row, a Claude co-author).
        let checkpoint =
            #"{"type":"checkpoint","schema":1,"id":"cp-undeclared","timestamp":"2026-12-01T10:00:00Z","requested_by":"dana@example.com","tool_path":"agent","model":{"id":"claude-opus-4-6","version":"4.6","provider":"anthropic"},"prompt":"p","outputs":[{"repo":"r","commit":"\#(commits[0])","path":"f0.txt","ranges":[[1,1]],"content_hash":"sha256:\#(String(repeating: "0", count: 64))","contributor":"ai"}]}"#
        #expect(try fixture.cli.run(["append"], stdin: Array(checkpoint.utf8)).status == 0)

        let out = try fixture.cli.run(["audit", "undeclared", "--repo", repo.path, "--json"])
        #expect(out.status == 0, "never blocking: \(out.stderr)")
        let object = parseJSONLine(out.text)
        let listed = try #require(object["undeclared"] as? [[String: Any]])
        let listedCommits = Set(listed.compactMap { $0["commit"] as? String })
        let realCount = messages.count - 4
        // Every real trailer's commit but the covered one, plus Assisted-by and Generated-by.
        #expect(listed.count == realCount - 1 + 2, "\(listed.map { $0["markers"] ?? "" })")
        #expect(!listedCommits.contains(commits[0]))
        for n in 1..<realCount { #expect(listedCommits.contains(commits[n]), "row \(n): \(messages[n])") }
        #expect(listedCommits.contains(commits[realCount + 1]) && listedCommits.contains(commits[realCount + 2]))
        #expect(!listedCommits.contains(commits[realCount]) && !listedCommits.contains(commits[realCount + 3]))
        #expect(object["commits_with_markers"] as? Int == realCount + 2)
        let tools = Set(
            listed.flatMap { ($0["markers"] as? [[String: Any]] ?? []).compactMap { $0["tool"] as? String } })
        #expect(tools.isSuperset(of: ["claude", "cursor", "codex", "copilot", "entire-checkpoint", "assisted-by"]))

        let strict = try fixture.cli.run(["audit", "undeclared", "--repo", repo.path, "--strict"])
        #expect(strict.status == 1 && strict.text.contains("undeclared: \(listed.count) of"), "\(strict.text)")
    }
}
