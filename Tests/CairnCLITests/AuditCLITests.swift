import CairnTestSupport
import Foundation
import Testing

/// `cairn audit` and `cairn report`, through the real binary.
@Suite("cairn audit and cairn report")
struct AuditCLITests {
    static func checkpoint(
        _ id: String, commit: String, at time: String = "2026-11-20T09:00:00Z", version: Bool = true
    )
        -> String
    {
        let model =
            version
            ? #"{"id":"claude-sonnet-4-5","version":"20250929","provider":"anthropic"}"#
            : #"{"id":"gpt-5-codex","release_date":"2025-09-15","provider":"openai"}"#
        return
            #"{"type":"checkpoint","schema":1,"id":"\#(id)","timestamp":"\#(time)","requested_by":"alice@example.com","#
            + #""tool_path":"ide","model":\#(model),"prompt":"Add retry","outputs":[{"repo":"payments","#
            + #""commit":"\#(commit)","path":"src/retry.ts","ranges":[[1,9]],"#
            + #""content_hash":"sha256:\#(String(repeating: "cd", count: 32))","contributor":"ai"}]}"#
    }

    static func review(_ subject: String, at time: String) -> String {
        #"{"type":"review","schema":1,"subject":"\#(subject)","reviewer":"bob@example.com","decision":"approved","at":"\#(time)"}"#
    }

    static func test(_ subject: String, at time: String) -> String {
        #"{"type":"test","schema":1,"subject":"\#(subject)","result":"passed","at":"\#(time)"}"#
    }

    static func deploy(_ subject: String, commit: String, at time: String) -> String {
        #"{"type":"deploy","schema":1,"subject":"\#(subject)","git_commit":"\#(commit)","branch":"main","#
            + #""environment":"production","at":"\#(time)"}"#
    }

    /// A provenance ledger with one fully documented change and one never reviewed.
    static func fixture() throws -> LedgerFixture {
        let f = try LedgerFixture(origin: "example.com/audit-cli", profile: "provenance")
        let a = String(repeating: "a", count: 40)
        let records = [
            checkpoint("cp-1", commit: a), review("cp-1", at: "2026-11-20T10:00:00Z"),
            test("cp-1", at: "2026-11-20T10:30:00Z"), deploy("cp-1", commit: a, at: "2026-11-20T11:00:00Z"),
            checkpoint("cp-2", commit: String(repeating: "b", count: 40), at: "2026-11-21T09:00:00Z"),
        ]
        try f.cli.ok("append", stdin: records.joined(separator: "\n") + "\n")
        return f
    }

    @Test("report writes report.csv and its manifest; verify accepts them, with and without the ledger")
    func reportAndVerify() throws {
        let f = try Self.fixture()
        // Default file names, in the working directory.
        let made = try CLI.exec(
            CLI.binary, ["report", "--format", "csv"], environment: ["CAIRN_LEDGER": f.cli.ledger],
            directory: f.dir.path)
        #expect(made.status == 0, "\(made.stderr)")
        #expect(made.text.hasPrefix("wrote report.csv (2 rows, "))
        let report = f.dir.file("report.csv")
        let csv = try String(contentsOfFile: report, encoding: .utf8)
        #expect(
            csv.hasPrefix("Date,Checkpoint,Requested by,Model,Evidence,Reviewer,Approval,Testing,Deployed,Status\r\n"))
        #expect(csv.contains(",deployed\r\n") && csv.hasSuffix(",in review\r\n"))
        let manifest = try String(contentsOfFile: report + ".manifest", encoding: .utf8)
        #expect(manifest.hasPrefix("cairn-report-manifest/v3\nformat csv\nsince -\nuntil -\nrows 2\n"))

        let alone = try f.cli.ok("report", "verify", report, "--vkey", f.vkeyFile)
        #expect(alone.text.hasPrefix("valid: \(report) is the csv report of example.com/audit-cli at tree size 5"))
        let recomputed = try f.cli.ok("report", "verify", report, "--vkey", f.vkey, "--ledger", f.cli.ledger)
        #expect(recomputed.text.hasSuffix("recomputed from the ledger: identical\n"))
        let json = parseJSONLine(try f.cli.ok("report", "verify", report, "--vkey", f.vkeyFile, "--json").text)
        #expect(json["valid"] as? Bool == true && json["rows"] as? Int == 2 && json["tree_size"] as? Int == 5)

        for format in ["json", "md"] {
            let out = f.dir.file("q4.\(format)")
            let result = try f.cli.ok(
                "report", "create", "--format", format, "--since", "2026-11-21", "--output", out, "--json")
            #expect(parseJSONLine(result.text)["rows"] as? Int == 1)
            let valid = try f.cli.ok(
                "report", "verify", out, "--manifest", out + ".manifest", "--vkey", f.vkeyFile, "--ledger",
                f.cli.ledger)
            #expect(valid.text.contains("since 2026-11-21T00:00:00Z, until the end"))
        }

        // To stdout, with the manifest in a file.
        let piped = try f.cli.run("report", "--format", "json", "--output", "-", "--manifest", f.dir.file("p.manifest"))
        #expect(piped.status == 0)
        let rows = try JSONSerialization.jsonObject(with: Data(piped.stdout)) as? [[String: Any]]
        #expect(rows?.count == 2 && rows?.first?["checkpoint"] as? String == "cp-1")
        let saved = try f.dir.write("p.json", piped.stdout)
        try f.cli.ok("report", "verify", saved, "--manifest", f.dir.file("p.manifest"), "--vkey", f.vkeyFile)
    }

    @Test("verify rejects a changed report, a changed manifest and another key with exit 1 and one line")
    func verifyRejects() throws {
        let f = try Self.fixture()
        let report = f.dir.file("r.csv")
        try f.cli.ok("report", "--output", report)
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: report)))
        let manifest = try String(contentsOfFile: report + ".manifest", encoding: .utf8)

        var changed = bytes
        changed[changed.count - 3] ^= 0x01  // one byte of "in review"
        let tampered = try f.dir.write("t.csv", changed)
        _ = try f.dir.write("t.csv.manifest", manifest)
        let bad = try f.cli.run("report", "verify", tampered, "--vkey", f.vkeyFile)
        #expect(bad.status == 1)
        #expect(bad.stderr.hasPrefix("invalid: the report does not match the manifest: it has \(bytes.count) bytes"))
        #expect(bad.stderr.split(separator: "\n").count == 1)

        let edited = try f.dir.write("m.manifest", manifest.replacingOccurrences(of: "rows 2", with: "rows 3"))
        let badManifest = try f.cli.run("report", "verify", report, "--manifest", edited, "--vkey", f.vkeyFile)
        #expect(badManifest.status == 1)
        #expect(badManifest.stderr.contains("does not verify: the manifest was changed after signing"))

        let other = try LedgerFixture(origin: "example.com/audit-cli", profile: "provenance")
        let wrongKey = try f.cli.run("report", "verify", report, "--vkey", other.vkeyFile, "--json")
        #expect(wrongKey.status == 1)
        let reason = parseJSONLine(wrongKey.text)
        #expect(reason["valid"] as? Bool == false && reason["code"] as? String == "wrongKey")

        #expect(try f.cli.run("report", "verify", f.dir.file("none.csv"), "--vkey", f.vkeyFile).status == 66)
        #expect(try f.cli.run("report", "verify", report, "--vkey", "not-a-key").status == 64)
        #expect(try f.cli.run("report", "--format", "xlsx").status == 64)
        #expect(try f.cli.run("report", "--output", "-").status == 64)
        #expect(try f.cli.run("report", "--since", "2026-12-01", "--until", "2026-11-01").status == 64)
    }

    @Test("a report verifies against the ledger after a later correction of one of its checkpoints")
    func reportSurvivesCorrections() throws {
        let f = try Self.fixture()
        let report = f.dir.file("r.md")
        try f.cli.ok("report", "--format", "md", "--output", report)
        let digest = try f.cli.ok("get", "0", "--json").text
        let address = try #require(parseJSONLine(digest)["digest"] as? String)
        try f.cli.ok(
            "append",
            stdin: #"{"type":"correction","schema":1,"corrects":"\#(address)","author":"erin@example.com","#
                + #""reason":"the request came from carol, not alice","patch":{"requested_by":"carol@example.com"}}"#)
        let now = f.dir.file("now.md")
        try f.cli.ok("report", "--format", "md", "--output", now)
        #expect(try String(contentsOfFile: now, encoding: .utf8).contains("carol@example.com"))
        #expect(try !String(contentsOfFile: report, encoding: .utf8).contains("carol@example.com"))
        let valid = try f.cli.ok("report", "verify", report, "--vkey", f.vkeyFile, "--ledger", f.cli.ledger)
        #expect(valid.text.contains("at tree size 5") && valid.text.contains("identical"))
    }

    @Test("report shows each checkpoint's evidence grade, corrections applied; verify catches a changed grade")
    func reportEvidence() throws {
        let f = try LedgerFixture(origin: "example.com/audit-cli", profile: "provenance")
        func graded(_ id: String, _ digit: String, _ grade: String?) -> String {
            let record = Self.checkpoint(id, commit: String(repeating: digit, count: 40))
            guard let grade else { return record }
            return String(record.dropLast()) + #","x_capture":{"grade":"\#(grade)","agent":"claude-code"}}"#
        }
        let records = [
            graded("cp-hook", "a", "hook"), graded("cp-attested", "b", "attested"), graded("cp-none", "c", nil),
            graded("cp-raised", "d", "inferred"),
        ]
        let appended = try f.cli.ok("append", stdin: records.joined(separator: "\n") + "\n")
        let raised = try #require(parseJSONLine(String(appended.lines[3]))["digest"] as? String)
        try f.cli.ok(
            "append",
            stdin: #"{"type":"correction","schema":1,"corrects":"\#(raised)","author":"erin@example.com","#
                + #""reason":"the importer recorded the wrong evidence grade","patch":{"x_capture":{"grade":"import"}}}"#
        )

        let grades = ["hook", "attested", "unknown", "import"]
        let csv = try f.cli.ok("report", "--format", "csv", "--output", "-", "--manifest", f.dir.file("c.manifest"))
        let csvRows = csv.text.components(separatedBy: "\r\n").dropLast()
        #expect(
            csvRows.first == "Date,Checkpoint,Requested by,Model,Evidence,Reviewer,Approval,Testing,Deployed,Status")
        #expect(csvRows.dropFirst().map { $0.split(separator: ",")[4] } == grades.map { Substring($0) })
        let md = try f.cli.ok("report", "--format", "md", "--output", "-", "--manifest", f.dir.file("m.manifest"))
        #expect(md.lines.dropFirst(2).map { $0.components(separatedBy: " | ")[4] } == grades)
        let json = try f.cli.ok("report", "--format", "json", "--output", "-", "--manifest", f.dir.file("j.manifest"))
        let rows = try JSONSerialization.jsonObject(with: Data(json.stdout)) as? [[String: Any]]
        #expect(rows?.map { $0["evidence"] as? String ?? "" } == grades)

        // Saved, the csv report verifies; with cp-attested's grade raised to hook it does not.
        let report = try f.dir.write("r.csv", csv.stdout)
        let valid = try f.cli.ok(
            "report", "verify", report, "--manifest", f.dir.file("c.manifest"), "--vkey", f.vkeyFile, "--ledger",
            f.cli.ledger)
        #expect(valid.text.hasSuffix("recomputed from the ledger: identical\n"))
        let forged = try f.dir.write("f.csv", csv.text.replacingOccurrences(of: ",attested,", with: ",hook,"))
        let invalid = try f.cli.run(
            "report", "verify", forged, "--manifest", f.dir.file("c.manifest"), "--vkey", f.vkeyFile)
        #expect(invalid.status == 1)
        #expect(invalid.stderr.hasPrefix("invalid: the report does not match the manifest"))
    }

    @Test("audit completeness fails under the default policy and passes under a permissive one")
    func completeness() throws {
        let f = try Self.fixture()
        let strict = try f.cli.run("audit", "completeness")
        #expect(strict.status == 1)
        #expect(strict.lines[0] == "INDEX  KIND                     EXPLANATION")
        #expect(
            strict.lines[1]
                == "4      unreviewed_checkpoint    checkpoint cp-2, requested by alice@example.com at "
                + "2026-11-21T09:00:00Z, has no review")
        #expect(strict.text.contains("EXCEEDED"))
        #expect(
            strict.text.contains("failed: 1 kind of finding over the policy (2 checkpoints, 1 deploy, 0 corrections"))

        let json = parseJSONLine(try f.cli.run("audit", "completeness", "--json").text)
        let findings = json["findings"] as? [[String: Any]] ?? []
        #expect(findings.count == 1)
        #expect(findings.first?["kind"] as? String == "unreviewed_checkpoint")
        #expect(findings.first?["index"] as? Int == 4)
        #expect((findings.first?["digest"] as? String)?.hasPrefix("sha256:") == true)
        #expect(json["passed"] as? Bool == false)

        let policy = try f.dir.write(
            "policy.json", #"{"format":"cairn-audit-policy/v1","max_findings":{"unreviewed_checkpoint":1}}"#)
        let relaxed = try f.cli.run("audit", "completeness", "--policy", policy)
        #expect(relaxed.status == 0, "\(relaxed.stderr)")
        #expect(relaxed.text.contains("passed: within the policy"))
        // As of size 4, cp-2 did not exist yet.
        #expect(try f.cli.run("audit", "completeness", "--size", "4").status == 0)

        let broken = try f.dir.write("broken.json", #"{"format":"cairn-audit-policy/v1","max_findings":{"typo":0}}"#)
        let refused = try f.cli.run("audit", "completeness", "--policy", broken)
        #expect(refused.status == 65)
        #expect(refused.stderr.hasPrefix("error: policy \(broken): max_findings: unknown finding kind \"typo\""))
        #expect(try f.cli.run("audit", "completeness", "--policy", f.dir.file("none.json")).status == 66)
        #expect(try f.cli.run("audit", "completeness", "--size", "99").status == 66)
    }

    @Test("audit missing reads a real repository: uncovered commits and wrong trailers, exit 1; covered, exit 0")
    func missing() throws {
        let f = try LedgerFixture(origin: "example.com/audit-cli", profile: "provenance")
        let repo = try TemporaryDirectory()
        func git(_ args: String...) throws -> String {
            let out = try CLI.exec(
                "/usr/bin/env", ["git", "-C", repo.path] + args,
                environment: ["GIT_AUTHOR_DATE": "2026-11-20T09:00:00Z", "GIT_COMMITTER_DATE": "2026-11-20T09:00:00Z"])
            guard out.status == 0 else { throw LedgerFixture.FixtureError(message: "git \(args): \(out.stderr)") }
            return out.text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        _ = try git("init", "-q", "-b", "main")
        _ = try git("config", "user.name", "Dana")
        _ = try git("config", "user.email", "dana@example.com")
        try Data("a\n".utf8).write(to: URL(fileURLWithPath: repo.file("a.txt")))
        _ = try git("add", "a.txt")
        _ = try git("commit", "-q", "-m", "Add a\n\nCairn-Checkpoint: cp-1")
        let first = try git("rev-parse", "HEAD")
        try Data("b\n".utf8).write(to: URL(fileURLWithPath: repo.file("b.txt")))
        _ = try git("add", "b.txt")
        _ = try git("commit", "-q", "-m", "Add b\n\nCairn-Checkpoint: cp-404")
        let second = try git("rev-parse", "HEAD")
        try f.cli.ok("append", stdin: Self.checkpoint("cp-1", commit: first))

        let all = try f.cli.run("audit", "missing", "--repo", repo.path)
        #expect(all.status == 1)
        #expect(all.lines.count == 4)  // header, the commit, its trailer problem, the summary
        #expect(all.lines[0] == "COMMIT        DATE                  AUTHOR  SUBJECT  PROBLEM")
        #expect(
            all.lines[1]
                == "\(second.prefix(12))  2026-11-20T09:00:00Z  Dana    Add b    no checkpoint covers this commit")
        #expect(
            all.lines[2] == String(repeating: " ", count: 53) + "Cairn-Checkpoint: cp-404 names no record in the ledger"
        )
        #expect(all.lines[3] == "missing: 1 of 2 commits in HEAD have no checkpoint (ledger size 1)")

        let json = parseJSONLine(try f.cli.run("audit", "missing", "--repo", repo.path, "--ai-only", "--json").text)
        let missing = json["missing"] as? [[String: Any]] ?? []
        #expect(json["mode"] as? String == "ai-only" && json["commits_with_trailers"] as? Int == 2)
        #expect(missing.count == 1 && missing.first?["commit"] as? String == second)
        let problems = missing.first?["problems"] as? [[String: Any]] ?? []
        #expect(problems.map { $0["kind"] as? String } == ["unknown_record"])
        #expect(problems.first?["trailer"] as? String == "cp-404")

        let covered = try f.cli.run("audit", "missing", "--repo", repo.path, "--range", first)
        #expect(covered.status == 0, "\(covered.stderr)")
        #expect(covered.text == "ok: no commit in \(first) lacks a checkpoint (1 examined, ledger size 1)\n")

        let badRange = try f.cli.run("audit", "missing", "--repo", repo.path, "--range", "nope..HEAD")
        #expect(badRange.status == 64)
        #expect(badRange.stderr.hasPrefix("error: git cannot list nope..HEAD: fatal: "))
        #expect(try f.cli.run("audit", "missing", "--repo", f.dir.path).status == 66)
    }
}

extension AuditCLITests {
    /// The worked example of specs/report-manifest.md, reproduced byte for byte.
    @Suite("specs/report-manifest.md worked example")
    struct ReportManifestSpecTests {
        static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()

        @Test("The records, report, SHA-256 and manifest in the spec are what cairn writes")
        func workedExample() throws {
            let spec = try String(
                contentsOf: Self.repository.appendingPathComponent("specs/report-manifest.md"), encoding: .utf8)
            let dir = try TemporaryDirectory()
            let key = try dir.write(
                "key.pem",
                "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIAEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEB\n-----END PRIVATE KEY-----\n"
            )
            let cli = CLI(ledger: dir.file("ledger"))
            let vkey = try cli.ok("init", "--origin", "example.com/ai-provenance", "--signing-key", key).text
            #expect(spec.contains("# " + vkey))
            // The records are the spec's own: take the code block after "with `records.jsonl` holding".
            let after = try #require(spec.range(of: "with `records.jsonl` holding these six records"))
            let block = spec[after.upperBound...].components(separatedBy: "```\n")[1]
            #expect(block.split(separator: "\n").count == 6)
            let records = try dir.write("records.jsonl", block)
            try cli.ok("append", records)
            let report = dir.file("report.csv")
            try cli.ok(
                "report", "--format", "csv", "--since", "2026-11-01", "--until", "2026-12-01", "--output", report)
            let bytes = try Data(contentsOf: URL(fileURLWithPath: report))
            let text = String(decoding: bytes, as: UTF8.self)
            #expect(text.hasSuffix("\r\n"))
            #expect(spec.contains("```\n" + text.replacingOccurrences(of: "\r\n", with: "\n") + "```\n"))
            #expect(spec.contains("each ending in CRLF (\(bytes.count) bytes)"))
            let sha = try CLI.exec("/usr/bin/env", ["sha256sum", report]).text.prefix(64)
            #expect(spec.contains("Its SHA-256 is `\(sha)`"))
            let manifest = try String(contentsOfFile: report + ".manifest", encoding: .utf8)
            #expect(spec.contains("```\n" + manifest + "```\n"), "specs/report-manifest.md does not show:\n\(manifest)")
            let valid = try cli.ok(
                "report", "verify", report, "--vkey", vkey.trimmingCharacters(in: .newlines), "--ledger", cli.ledger)
            #expect(spec.contains("\n" + valid.text.replacingOccurrences(of: report, with: "report.csv") + "```\n"))
        }
    }

    /// The shell blocks of docs/platform-guide.md, run as written in a sandbox against the real binary: the ledger,
    /// the scratch-repository trial, `cairn hooks install` with a ledger, an agent's session captured at commit
    /// (light and full records, redaction), amend, `rebase -i` squash, a server-side squash merge with
    /// `cairn rewrite detect`, blame and its proof bundle, queries, reviews, the CI records script, the gates, a
    /// correction; then a `cairn serve` on a free port: the token, `cairn hooks install --server` with delivery
    /// through the spool, the CI script against the server, the doctor and flush commands, and uninstall.
    @Suite("docs/platform-guide.md runs")
    struct PlatformGuideTests {
        static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()

        /// The fenced code blocks of a Markdown text: (language, body).
        static func blocks(_ markdown: String) -> [(String, String)] {
            var result: [(String, String)] = []
            var current: (String, [Substring])?
            for line in markdown.split(separator: "\n", omittingEmptySubsequences: false) {
                if line.hasPrefix("```") {
                    if let (language, lines) = current {
                        result.append((language, lines.joined(separator: "\n") + "\n"))
                        current = nil
                    } else {
                        current = (String(line.dropFirst(3)), [])
                    }
                } else if current != nil {
                    current!.1.append(line)
                }
            }
            return result
        }

        /// The guide's blocks the scenario runs, by name: how each is recognized.
        static let named: [(name: String, matches: @Sendable (String, String) -> Bool)] = [
            ("init", { $1.contains("cairn init --origin example.com/ai-provenance") }),
            ("token-dev", { $1.contains("cairn token create --role append --name dev-laptops") }),
            ("token-file", { $1.contains("install -D -m 600 /dev/null ~/.config/cairn-token") }),
            ("install-ledger", { $1.hasPrefix("cd ~/src/payments-client\ncairn hooks install --ledger") }),
            ("install-server", { $1.hasPrefix("cairn hooks install --server ") }),
            ("install-all", { $1.hasPrefix("for repo in ~/src/*/") }),
            ("status", { language, body in language == "sh" && body == "cairn hooks status\n" }),
            ("try", { $1.contains("scratch-ledger") }),
            ("uninstall", { language, body in language == "sh" && body == "cairn hooks uninstall\n" }),
            ("sensitive", { $1.hasPrefix("git config cairn.sensitivePaths") }),
            ("personal-data", { $1.hasPrefix("cairn hooks install --redact-personal-data") }),
            ("waiting", { $1.hasPrefix("cairn hooks status --json") }),
            ("detect", { $1.hasPrefix("cairn rewrite detect --range") }),
            ("blame", { language, body in language == "sh" && body == "cairn blame src/retry.py\n" }),
            ("blame-json", { $1.hasPrefix("cairn blame src/retry.py --json") }),
            ("prove", { $1.contains("--prove 4 > line4.json") }),
            ("query", { $1.hasPrefix("cairn query --path") }),
            ("review", { $1.contains(#"type: "review""#) }),
            ("cairn-ci-record", { $1.contains("# cairn-ci-record test RANGE") }),
            ("ci-example", { $1.hasPrefix("cairn-ci-record test origin/main..HEAD") }),
            ("policy", { language, _ in language == "json" }),
            ("gates", { $1.contains("cairn audit completeness --policy audit-policy.json") }),
            ("ci-append-remote", { $1.contains("# ci-append-remote FILE") }),
            ("correction", { $1.contains(#"type: "correction""#) }),
        ]

        /// Shell blocks of the guide the scenario does not run: a fragment of the block, and why. (None today: every
        /// block runs, the server at cairn.example.com being a `cairn serve` on a free port of 127.0.0.1.)
        static let skippedBlocks: [String: String] = [:]

        /// The scenario: each `run NAME` runs a block of the guide as written, with the sandbox's ledger and server in
        /// place of /srv/cairn/ledger and https://cairn.example.com.
        static let scenario = #"""
            set -euo pipefail
            blocks=$1 work=$2
            unset CAIRN_LEDGER CAIRN_SERVER CAIRN_TOKEN CAIRN_TOKEN_FILE CAIRN_SPOOL XDG_CACHE_HOME CAIRN_HOOKS_DISABLE
            export GIT_CONFIG_GLOBAL=$HOME/.gitconfig GIT_CONFIG_NOSYSTEM=1 TMPDIR=$work/tmp
            bin=$work/bin
            mkdir -p "$bin" "$HOME/src" "$TMPDIR"
            ln -s "$CAIRN" "$bin/cairn"
            ln -s "$(dirname "$CAIRN")/cairn-capture" "$bin/cairn-capture"
            for tool in cairn-ci-record ci-append-remote; do
                cp "$blocks/$tool" "$bin/$tool" && chmod +x "$bin/$tool"
            done
            export PATH=$bin:$PATH
            fail() { echo "GUIDE-FAIL: $*" >&2; exit 1; }
            git config --global user.name Dana
            git config --global user.email dana@example.com
            git config --global commit.gpgsign false
            git config --global init.defaultBranch main
            server=https://cairn.example.com
            block() {
                sed -e "s|/srv/cairn/ledger|$work/ledger|g" -e "s|https://cairn.example.com|$server|g" "$blocks/$1"
            }
            run() { block "$1" > "$work/$1.sh"; bash -e "$work/$1.sh"; }

            # A Claude Code session, as its hooks report it.
            session_start() {
                jq -nc --arg cwd "$PWD" --arg s "$1" --arg m "$2" \
                    '{hook_event_name: "SessionStart", session_id: $s, cwd: $cwd, model: $m}' \
                    | cairn-capture claude-code
            }
            prompt() {
                jq -nc --arg cwd "$PWD" --arg s "$1" --arg p "$2" \
                    '{hook_event_name: "UserPromptSubmit", session_id: $s, cwd: $cwd, prompt: $p}' \
                    | cairn-capture claude-code
            }
            agent_writes() {  # SESSION FILE CONTENT: the agent writes FILE
                mkdir -p "$(dirname "$2")" && printf %s "$3" > "$2"
                jq -nc --arg cwd "$PWD" --arg s "$1" --arg f "$PWD/$2" --arg c "$3" \
                    '{hook_event_name: "PostToolUse", session_id: $s, cwd: $cwd, tool_name: "Write",
                      tool_input: {file_path: $f, content: $c}}' | cairn-capture claude-code
            }
            # A commit whose records are in the ledger when it returns (the hooks may deliver in the background).
            commit() { git commit -q "$@" && cairn hooks flush > /dev/null; }
            sonnet=claude-sonnet-4-5-20250929

            # §1.1: the ledger.
            source <(block init) > "$work/vkey"
            [ "$CAIRN_LEDGER" = "$work/ledger" ] || fail "init: CAIRN_LEDGER=$CAIRN_LEDGER"
            grep -q '^example.com/ai-provenance+' "$work/vkey" || fail "vkey: $(cat "$work/vkey")"

            # §1.4: the trial in a scratch repository, with a scratch ledger.
            run try > "$work/try.txt"
            grep -q "^[0-9a-f]\{8\} 1: \[ai $sonnet try-1 dana@example.com hook\] print(\"hello\")$" "$work/try.txt" \
                || fail "try: $(cat "$work/try.txt")"

            # §1.2: a team's repository, installed with the ledger.
            git init -q "$HOME/src/payments-client"
            cd "$HOME/src/payments-client"
            git remote add origin git@example.com:payments/client.git
            printf '# client\n' > README.md && git add README.md && git commit -q -m "Initial import"
            git update-ref refs/remotes/origin/main HEAD
            run install-ledger > "$work/install.txt"
            for hook in prepare-commit-msg post-commit post-rewrite pre-push; do
                grep -q "^git $hook: installed" "$work/install.txt" || fail "install: $(cat "$work/install.txt")"
            done
            grep -q '^claude-code: installed' "$work/install.txt" || fail "install: $(cat "$work/install.txt")"
            [ "$(git config cairn.ledger)" = "$work/ledger" ] || fail "cairn.ledger"
            run status > "$work/status.txt"
            grep -q '^destination: ledger opens' "$work/status.txt" || fail "status: $(cat "$work/status.txt")"
            grep -q '^  claude-code: installed (5 hooks)' "$work/status.txt" || fail "status: $(cat "$work/status.txt")"
            run sensitive
            [ "$(git config cairn.fullRecordLines)" = 100 ] || fail "cairn.fullRecordLines"
            run personal-data
            cairn hooks status | grep -q '^personal data: redacted' || fail "personal data: $(cairn hooks status)"

            # §2: an agent's session writes a file, with a secret in the prompt; Dana edits one line and adds one.
            session_start s-1 $sonnet
            prompt s-1 "Add a retry helper for ana@quillmail.io; the staging key is sk_live_4eC39HqLyjWDarjtT1zdp7dc"
            retry=$'import time\n\ndef retry(fn, attempts=5):\n    for i in range(attempts):\n        try:\n'
            retry+=$'            return fn()\n        except OSError:\n            time.sleep(2 ** i)\n'
            retry+=$'    return fn()\n'
            agent_writes s-1 src/retry.py "$retry"
            sed -i 's/attempts=5/attempts=3/' src/retry.py && echo "# retries: see README" >> src/retry.py
            git add src && commit -m "Add retry helper"
            id1=$(git log -1 --format='%(trailers:key=Cairn-Checkpoint,valueonly)' | head -n 1)
            [ -n "$id1" ] || fail "no Cairn-Checkpoint trailer: $(git log -1 --format=%B)"
            cairn show "$id1" --json > "$work/cp1.json"
            jq -e --arg m $sonnet '.record.model.id == $m and .record.x_capture.tier == "light"
                and (.record.prompt | contains("[REDACTED:stripe-key:") and (contains("sk_live_4eC") | not)
                    and contains("[REDACTED:email:") and (contains("quillmail") | not))' \
                "$work/cp1.json" > /dev/null || fail "checkpoint: $(cat "$work/cp1.json")"
            contributors=$(cairn blame src/retry.py --json | jq -sc 'map(.contributor)')
            [ "$contributors" = '["ai","ai","mixed","ai","ai","ai","ai","ai","ai","human"]' ] \
                || fail "blame: $contributors"
            # §3: an amend is followed.
            echo "    # attempts: 1, 2, 4 seconds apart" >> src/retry.py && commit -a --amend --no-edit
            rewrites=$(cairn query --type rewrite --json | jq -c 'map(.record.kind)')
            [ "$rewrites" = '["amend"]' ] || fail "amend: $rewrites, $(cairn hooks status)"
            cairn blame src/retry.py --json \
                | jq -se --arg m $sonnet '.[0].model == $m and (.[0].rewrites | length) == 1' \
                > /dev/null || fail "blame after amend: $(cairn blame src/retry.py)"

            # §2.1: a change to a sensitive path gets a full record.
            session_start s-2 claude-opus-4-1-20250805
            prompt s-2 "Add refunds"
            agent_writes s-2 src/payments/refund.py $'def refund(charge):\n    return charge.refund()\n'
            git add src && commit -m "Refunds"
            cairn query --path src/payments/refund.py --json \
                | jq -e '.[0].record | .x_capture.tier == "full" and (.raw_output | contains("def refund"))
                    and .turns[0].content == "Add refunds"' > /dev/null || fail "full record"

            # §3: two agent commits squashed by an interactive rebase.
            for f in a b; do
                session_start "s-$f" $sonnet
                agent_writes "s-$f" "src/$f.py" "$f = 1"$'\n'
                git add src && commit -m "$f"
            done
            ida=$(git log -1 --skip 1 --format='%(trailers:key=Cairn-Checkpoint,valueonly)' | head -n 1)
            GIT_SEQUENCE_EDITOR="sed -i '2s/^pick/squash/'" GIT_EDITOR=true git rebase -q -i HEAD~2 > /dev/null
            cairn hooks flush > /dev/null
            [ "$(cairn query --commit "$(git rev-parse HEAD)" --json | jq length)" = 2 ] || fail "squash"
            cairn query --type rewrite --json | jq -e 'map(.record.kind) | index("squash")' > /dev/null \
                || fail "no squash"

            # §3: a squash merge on the server, in a clone without hooks (as CI has it), then `cairn rewrite detect`.
            git checkout -q -b feature
            session_start s-3 $sonnet
            agent_writes s-3 src/queue.py $'class Queue:\n    def __init__(self):\n        self.items = []\n'
            git add src && commit -m "Queue"
            echo "queue" > CHANGES && git add CHANGES && commit -m "Changes"
            git checkout -q main
            git clone -q "$PWD" "$work/ci"
            (
                cd "$work/ci"
                BEFORE=$(git rev-parse HEAD)
                git merge -q --squash origin/feature > /dev/null && git commit -q -m "Queue (#12)"
                AFTER=$(git rev-parse HEAD)
                export BEFORE AFTER
                run detect > "$work/detect.txt"
                [ "$(grep -c '"kind":"squash"' "$work/detect.txt")" = 1 ] || fail "detect: $(cat "$work/detect.txt")"
                [ -z "$(cat .git/cairn/outbox.jsonl 2>/dev/null)" ] || fail "detect left records in the outbox"
                run detect > "$work/detect-again.txt"
                [ ! -s "$work/detect-again.txt" ] || fail "detect again: $(cat "$work/detect-again.txt")"
                cairn blame src/queue.py --json | jq -se --arg m $sonnet 'all(.model == $m and .contributor == "ai")' \
                    > /dev/null || fail "blame after the squash merge: $(cairn blame src/queue.py)"
            )

            # §4: blame, its proof bundle, queries.
            run blame > "$work/blame.txt"
            grep -q "^[0-9a-f]\{8\} 4: \[ai $sonnet s-1 dana@example.com hook\]     for i in range(attempts):$" \
                "$work/blame.txt" || fail "blame: $(cat "$work/blame.txt")"
            run blame-json > "$work/blame-json.txt"
            grep -q "^3 mixed $sonnet$" "$work/blame-json.txt" || fail "blame --json: $(cat "$work/blame-json.txt")"
            cp "$work/ledger/ledger.vkey" ledger.vkey
            run prove > "$work/prove.txt"
            valid="^valid: line 4 of src/retry.py at [0-9a-f]\{12\}: ai, checkpoint $id1, model $sonnet, session s-1,"
            grep -q "$valid grade hook, 1 rewrite; proven in example.com/ai-provenance at size " \
                "$work/prove.txt" || fail "verify bundle: $(cat "$work/prove.txt")"
            run query > "$work/query.txt" || fail "query: $(cat "$work/query.txt")"

            # §5: a review, the CI records (a retried job adds nothing), the gates.
            CHECKPOINT_ID=$id1 REVIEWER=bob@example.com run review > /dev/null
            export CI_PIPELINE_ID=42
            run ci-example > "$work/ci-1.txt"
            run ci-example > "$work/ci-2.txt"   # a retried job
            [ "$(grep -c '"duplicate":false' "$work/ci-1.txt")" = 8 ] || fail "CI records: $(cat "$work/ci-1.txt")"
            [ "$(grep -c '"duplicate":true' "$work/ci-2.txt")" = 8 ] \
                || fail "CI records retried: $(cat "$work/ci-2.txt")"
            [ "$(cairn query --type deploy --json | jq length)" = 4 ] || fail "deploys"
            [ "$(cairn query --type test --json | jq 'map(.record.coverage) | unique')" = "$(jq -n '[0.87]')" ] \
                || fail "tests"
            cp "$blocks/policy" audit-policy.json
            set +e
            run gates > "$work/gates.txt" 2>&1
            gates=$?
            set -e
            # Three checkpoints were deployed without an approval: the completeness gate must fail, and only it.
            [ $gates = 1 ] || fail "gates exited $gates: $(cat "$work/gates.txt")"
            grep -q "^ok: every Cairn-Checkpoint trailer in origin/main..HEAD" "$work/gates.txt" \
                && grep -q "approval_after_deploy    3  *0  *EXCEEDED" "$work/gates.txt" \
                || fail "gates: $(cat "$work/gates.txt")"

            # §6: a correction.
            CHECKPOINT_ID=$ida run correction > "$work/history.txt"
            [ "$(cairn show "$ida" --json | jq -r .record.requested_by)" = alice@example.com ] || fail "correction"
            grep -q "ticket PLAT-118" "$work/history.txt" || fail "history: $(cat "$work/history.txt")"

            # §1.1 with a server: `cairn serve` on a free port stands in for https://cairn.example.com. (The tokens
            # are made first: a running server takes up to a second to see new ones.)
            run token-dev > "$work/token" 2> /dev/null
            cairn token create --role append --role read --name ci > "$work/ci-token" 2> /dev/null
            cairn serve --listen 127.0.0.1:0 > "$work/serve.out" 2> "$work/serve.log" &
            serve=$!
            trap 'kill $serve 2> /dev/null || true' EXIT
            for _ in $(seq 1 200); do grep -q '^listening on ' "$work/serve.out" && break; sleep 0.05; done
            server=$(sed -n 's/^listening on //p' "$work/serve.out")
            [ -n "$server" ] || fail "cairn serve: $(cat "$work/serve.log")"
            EDITOR="cp $work/token" source <(block token-file)
            [ "$(cat ~/.config/cairn-token)" = "$(cat "$work/token")" ] || fail "token file"
            [ "$(stat -c %a ~/.config/cairn-token)" = 600 ] || fail "token file mode"

            # §1.2 with a server: the commit's record goes through the spool, sent by a detached flush.
            git init -q "$HOME/src/billing"
            cd "$HOME/src/billing"
            echo "# billing" > README.md && git add README.md && git commit -q -m "Initial import"
            run install-server > /dev/null
            [ "$(git config cairn.server)" = "$server" ] && [ -z "$(git config cairn.ledger)" ] || fail "cairn.server"
            session_start s-9 $sonnet
            agent_writes s-9 invoice.py $'def total(lines):\n    return sum(lines)\n'
            git add invoice.py && git commit -q -m "Invoice totals"
            for _ in $(seq 1 200); do
                [ "$(cairn query --path invoice.py --json | jq length)" = 1 ] && break
                sleep 0.05
            done
            [ "$(cairn query --path invoice.py --json | jq length)" = 1 ] \
                || fail "server delivery: $(cairn hooks status)"
            run waiting > "$work/waiting.txt" || fail "waiting: $(cat "$work/waiting.txt")"
            grep -q '"outbox_records": 0' "$work/waiting.txt" && grep -q '^waiting: 0 records' "$work/waiting.txt" \
                || fail "waiting: $(cat "$work/waiting.txt")"
            cairn hooks status | grep -q ': 0 waiting' || fail "spool: $(cairn hooks status)"

            # §5.2 and §5.4 against the server: checkpoints read with GET /v1/query, records sent by ci-append-remote.
            cd "$HOME/src/payments-client"
            (
                export CAIRN_SERVER=$server CAIRN_TOKEN_FILE=$work/ci-token CI_PIPELINE_ID=43
                unset CAIRN_LEDGER
                cairn-ci-record test origin/main..HEAD failed > "$work/ci-server.txt"
            )
            [ "$(grep -c '"duplicate":false' "$work/ci-server.txt")" = 4 ] \
                || fail "CI via server: $(cat "$work/ci-server.txt")"
            [ "$(cairn query --type test --json | jq 'map(select(.record.result == "failed")) | length')" = 4 ] \
                || fail "failed tests"

            # §1.2: every clone, then §1.4: uninstall.
            run install-all > /dev/null
            [ "$(git config cairn.server)" = "$server" ] || fail "install-all"
            run uninstall > "$work/uninstall.txt"
            [ -z "$(ls .git/hooks | grep -v '\.sample$' || true)" ] || fail "hooks left: $(ls .git/hooks)"
            [ ! -e .claude ] && [ ! -e .cursor ] && [ ! -e .gemini ] \
                || fail "agents' files left: $(cat "$work/uninstall.txt")"
            echo GUIDE-OK
            """#

        @Test("The guide's set-up, capture, rewrites, blame, CI scripts and gates work end to end")
        func guideRuns() throws {
            for tool in ["jq", "curl"] {
                guard (try? CLI.exec("/usr/bin/env", [tool, "--version"]))?.status == 0 else {
                    print("skipping: \(tool) is not installed")
                    return
                }
            }
            let guide = try String(
                contentsOf: Self.repository.appendingPathComponent("docs/platform-guide.md"), encoding: .utf8)
            let blocks = Self.blocks(guide)
            let dir = try TemporaryDirectory()
            for (name, matches) in Self.named {
                let found = blocks.filter(matches)
                #expect(found.count == 1, "\(found.count) blocks for \(name)")
                if let body = found.first?.1 { _ = try dir.write("blocks/" + name, body) }
            }
            let script = try dir.write("scenario.sh", Self.scenario)
            let out = try CLI.exec(
                "/bin/bash", [script, dir.file("blocks"), dir.path],
                environment: ["CAIRN": CLI.binary, "HOME": dir.file("home")])
            #expect(out.status == 0 && out.text.hasSuffix("GUIDE-OK\n"), "\(out.text)\n\(out.stderr)")
        }

        @Test("Every shell block of the guide is run by the scenario, or skipped with a reason")
        func everyBlockRuns() throws {
            let guide = try String(
                contentsOf: Self.repository.appendingPathComponent("docs/platform-guide.md"), encoding: .utf8)
            for (language, body) in Self.blocks(guide) where ["sh", "bash"].contains(language) {
                let runs = Self.named.contains { $0.matches(language, body) }
                let skipped = Self.skippedBlocks.keys.contains { body.contains($0) }
                #expect(runs || skipped, "a \(language) block no test runs:\n\(body)")
            }
            for fragment in Self.skippedBlocks.keys {
                #expect(guide.contains(fragment), "skippedBlocks names \(fragment), which the guide no longer has")
            }
        }
    }
}
