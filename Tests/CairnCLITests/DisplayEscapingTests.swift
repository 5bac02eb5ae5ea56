import CairnJSON
import CairnLedger
import CairnRecords
import CairnTestSupport
import Foundation
import Testing

/// Issue 10 §2.5: record text never reaches a terminal raw, and issue 10 §2.6: the audit flags
/// self-review and implausible claimed times — through the real `cairn` binary.
@Suite("Escaped output and audit integrity, through the binary")
struct DisplayEscapingTests {
    /// The reviewer of the issue: printed raw, it erases the line and prints another name.
    static let forged = "mallory\u{1B}[2K\rbob@example.com"
    /// How Cairn shows it (specs/record-schema.md §11).
    static let shown = #"mallory\u{1B}[2K\u{0D}bob@example.com"#

    /// The characters of `bytes` that must not reach a terminal: everything `DisplayText` escapes,
    /// except the output's own line feeds and tabs (and, for CSV, its CRLF line ends).
    static func dangerous(_ bytes: [UInt8], crlf: Bool = false) -> [String] {
        let scalars = Array(String(decoding: bytes, as: UTF8.self).unicodeScalars)
        var found: [String] = []
        for (i, scalar) in scalars.enumerated() where DisplayText.needsEscaping(scalar) {
            if scalar == "\n" || scalar == "\t" { continue }
            if crlf && scalar == "\r" && i + 1 < scalars.count && scalars[i + 1] == "\n" { continue }
            found.append("U+" + String(scalar.value, radix: 16, uppercase: true) + " at \(i)")
        }
        return found
    }

    /// A provenance ledger holding records with control and bidirectional characters in names and
    /// free text, as a ledger written before the schema refused control characters in names holds.
    static func legacyLedger() throws -> LedgerFixture {
        let f = try LedgerFixture(origin: "example.com/escape", profile: "provenance")
        let commit = String(repeating: "a", count: 40)
        let records: [JSONValue] = [
            [
                "type": "checkpoint", "schema": 1, "id": "cp-1", "timestamp": "2026-11-20T09:00:00Z",
                "requested_by": "alice@example.com", "tool_path": "ide",
                "model": ["id": "claude-sonnet-4-5", "version": "20250929\u{202E}", "provider": "anthropic"],
                "prompt": "Add retry\u{1B}[31m", "work_item": "PAY-1\u{9B}2J",
                "outputs": [
                    [
                        "repo": "payments", "commit": .string(commit), "path": "src/retry.ts", "ranges": [[1, 9]],
                        "content_hash": .string("sha256:" + String(repeating: "cd", count: 32)), "contributor": "ai",
                    ]
                ],
            ],
            [
                "type": "review", "schema": 1, "subject": "cp-1", "reviewer": .string(forged), "decision": "approved",
                "at": "2026-11-20T12:00:00Z",
            ],
            [
                "type": "deploy", "schema": 1, "subject": "cp-1", "git_commit": .string(commit), "branch": "main",
                "environment": "production\u{2028}", "at": "2026-11-20T11:00:00Z",
            ],
            [
                "type": "rollback", "schema": 1, "subject": "cp-1", "environment": "production",
                "at": "2026-11-20T13:00:00Z", "reason": "all good\r\u{1B}[2Kreverted by mallory",
            ],
        ]
        let ledger = try Ledger.open(at: f.cli.ledger)
        _ = try ledger.append(
            try records.map {
                PreparedEntry(canonicalBytes: try JCS.canonicalize($0), facts: try RecordFacts($0, options: .stored))
            })
        return f
    }

    @Test("The forged reviewer is shown escaped by show, query, audit and the md and csv reports")
    func forgedReviewer() throws {
        let f = try Self.legacyLedger()
        let outputs: [(String, [String])] = [
            ("show --history", ["show", "cp-1", "--history"]),
            ("query", ["query"]),
            ("query --type review", ["query", "--type", "review"]),
            ("query --type rollback", ["query", "--type", "rollback"]),
            ("audit completeness", ["audit", "completeness"]),
            ("show --json", ["show", "cp-1", "--history", "--json"]),
            ("query --json", ["query", "--type", "review", "--json"]),
            ("audit completeness --json", ["audit", "completeness", "--json"]),
            ("get", ["get", "1"]),
        ]
        for (name, arguments) in outputs {
            let out = try f.cli.run(arguments)
            #expect(out.status == 0 || (name.hasPrefix("audit") && out.status == 1), "\(name): \(out.stderr)")
            #expect(Self.dangerous(out.stdout) == [], "\(name) printed raw control characters:\n\(out.text)")
            #expect(Self.dangerous(Array(out.stderr.utf8)) == [], "\(name) stderr")
            if !name.hasSuffix("--json") && name != "get" && name != "query --type rollback" {
                #expect(out.text.contains(Self.shown), "\(name) does not show the reviewer escaped:\n\(out.text)")
            }
        }
        let history = try f.cli.ok("show", "cp-1", "--history").text
        #expect(history.contains(#"all good\u{0D}\u{1B}[2Kreverted by mallory"#))
        #expect(history.contains(#""version": "20250929\u202e""#))
        let rollback = try f.cli.ok("query", "--type", "rollback").text
        #expect(rollback.contains("production"))
        // JSON output keeps the exact value: a JSON parser reads the forged name back.
        let json = try f.cli.ok("show", "cp-1", "--history", "--json")
        let parsed = try JSONParser.parse(json.stdout)
        #expect(parsed["history"]?[0]?["record"]?["reviewer"] == .string(Self.forged))
        #expect(parsed["history"]?[1]?["record"]?["environment"] == .string("production\u{2028}"))
        #expect(json.text.contains(#""environment":"production\u2028""#))

        for format in ["md", "csv"] {
            let manifest = f.dir.file("report.\(format).manifest")
            let out = try f.cli.ok("report", "--format", format, "--output", "-", "--manifest", manifest)
            #expect(Self.dangerous(out.stdout, crlf: format == "csv") == [], "\(format):\n\(out.text)")
            #expect(
                out.text.contains(format == "md" ? Self.shown.replacingOccurrences(of: "\\", with: "\\\\") : Self.shown)
            )
            // One line per row: no line break from a record got through (CSV lines end in CRLF).
            #expect(out.stdout.filter { $0 == UInt8(ascii: "\n") }.count == (format == "md" ? 3 : 2))
            let report = try f.dir.write("report.\(format)", out.stdout)
            let verified = try f.cli.ok(
                "report", "verify", report, "--manifest", manifest, "--vkey", f.vkeyFile, "--ledger", f.cli.ledger)
            #expect(verified.text.hasSuffix("recomputed from the ledger: identical\n"))
        }
    }

    @Test("Appending a control character in a name is refused, naming the field and the position")
    func refusedOnAppend() throws {
        let f = try LedgerFixture(origin: "example.com/escape", profile: "provenance")
        let record =
            #"{"type":"review","schema":1,"subject":"cp-1","reviewer":"mallory\u001b[2K\rbob@example.com","#
            + #""decision":"approved","at":"2026-11-20T12:00:00Z"}"#
        let out = try f.cli.run("append", stdin: record + "\n")
        #expect(out.status == 65)
        #expect(
            out.stderr.contains(
                #"<stdin>:1: $.reviewer: expected no control character (U+0000–U+001F, U+007F) in an identifier or "#
                    + #"a name, found U+001B at position 8 of "mallory\u001b[2K\rbob@example.com""#), "\(out.stderr)")
        #expect(Self.dangerous(Array(out.stderr.utf8)) == [])
        #expect(try f.cli.ok("checkpoint").text.split(separator: "\n")[1] == "0")
    }

    @Test("Messages that quote a file name, and the audit missing table that quotes git, are escaped")
    func messagesAndGit() throws {
        let f = try LedgerFixture(origin: "example.com/escape", profile: "provenance")
        let missing = try f.cli.run("append", f.dir.file("records\u{1B}[2K\r.jsonl"))
        #expect(missing.status == 66)
        #expect(Self.dangerous(Array(missing.stderr.utf8)) == [], "\(missing.stderr)")
        #expect(missing.stderr.contains(#"records\u{1B}[2K\u{0D}.jsonl"#), "\(missing.stderr)")

        let repo = try TemporaryDirectory()
        func git(_ args: String...) throws {
            let out = try CLI.exec("/usr/bin/env", ["git", "-C", repo.path] + args)
            guard out.status == 0 else { throw LedgerFixture.FixtureError(message: "git \(args): \(out.stderr)") }
        }
        try git("init", "-q", "-b", "main")
        try git("config", "user.name", "Eve\u{202E}evE")
        try git("config", "user.email", "eve@example.com")
        try Data("a\n".utf8).write(to: URL(fileURLWithPath: repo.file("a.txt")))
        try git("add", "a.txt")
        try git("commit", "-q", "-m", "Add a\u{1B}[2K\rAll commits covered\n\nCairn-Checkpoint: cp-\u{1B}[1m")
        let out = try f.cli.run("audit", "missing", "--repo", repo.path)
        #expect(out.status == 1)
        #expect(Self.dangerous(out.stdout) == [], "\(out.text)")
        #expect(out.text.contains(#"Add a\u{1B}[2K\u{0D}All commits covered"#), "\(out.text)")
        #expect(out.text.contains(#"Eve\u{202E}evE"#), "\(out.text)")
        #expect(out.text.contains(#"Cairn-Checkpoint: cp-\u{1B}[1m names no record"#), "\(out.text)")
    }

    @Test("show and query give the time the ledger appended each entry")
    func appendedAt() throws {
        let f = try LedgerFixture(origin: "example.com/escape", profile: "provenance")
        try f.cli.ok(
            "append", stdin: AuditCLITests.checkpoint("cp-1", commit: String(repeating: "a", count: 40)) + "\n")
        let json = try JSONParser.parse(try f.cli.ok("show", "cp-1", "--json").stdout)
        let appended = try #require(json["appended_at"]?.stringValue)
        #expect(Timestamp.parse(appended) != nil)
        let text = try f.cli.ok("show", "cp-1").text
        #expect(text.hasPrefix("# entry 0  sha256:"))
        #expect(text.split(separator: "\n")[0].hasSuffix("  appended \(appended)"))
        let match = try JSONParser.parse(try f.cli.ok("query", "--json").stdout)
        #expect(match[0]?["appended_at"] == .string(appended))
    }

    @Test("audit completeness flags self-review, records dated before their checkpoint and claims from the future")
    func integrityFindings() throws {
        let f = try LedgerFixture(origin: "example.com/escape", profile: "provenance")
        let a = String(repeating: "a", count: 40)
        let records = [
            AuditCLITests.checkpoint("cp-1", commit: a),  // 0: requested by alice@example.com, 09:00
            #"{"type":"review","schema":1,"subject":"cp-1","reviewer":"alice@example.com","decision":"approved","#
                + #""at":"2026-11-20T08:00:00Z"}"#,  // 1: self-review, dated before cp-1
            AuditCLITests.checkpoint("cp-2", commit: a, at: "2999-01-01T00:00:00Z"),  // 2: from the future
            AuditCLITests.review("cp-2", at: "2999-01-01T01:00:00Z"),  // 3: from the future
        ]
        try f.cli.ok("append", stdin: records.joined(separator: "\n") + "\n")
        let out = try f.cli.run("audit", "completeness", "--json")
        #expect(out.status == 1)
        let report = try JSONParser.parse(out.stdout)
        let kinds = (report["findings"]?.arrayValue ?? []).map {
            "\($0["index"]?.intValue ?? -1) \($0["kind"]?.stringValue ?? "")"
        }
        #expect(kinds == ["2 dated_after_append", "1 self_review", "1 dated_before_subject", "3 dated_after_append"])
        #expect(report["max_clock_skew_seconds"] == 300)
        #expect(report["examined"]?["without_append_time"] == 0)
        #expect(report["summary"]?["self_review"]?["exceeded"] == true)

        let table = try f.cli.run("audit", "completeness")
        #expect(table.status == 1)
        let lines = table.lines
        #expect(
            lines.contains {
                $0.hasPrefix("1 ") && $0.contains(" self_review ")
                    && $0.hasSuffix(
                        "review of checkpoint cp-1 (approved at 2026-11-20T08:00:00Z) is by alice@example.com, "
                            + "who requested the change")
            }, "\(table.text)")
        #expect(lines.contains { $0.hasPrefix("dated_before_subject ") && $0.hasSuffix(" EXCEEDED") })

        // A skew of ten thousand years forgives the future; the other findings stay.
        let lenient = try JSONParser.parse(
            try f.cli.run("audit", "completeness", "--json", "--max-clock-skew", "315360000000").stdout)
        #expect(lenient["summary"]?["dated_after_append"]?["found"] == 0)
        #expect(lenient["summary"]?["self_review"]?["found"] == 1)
        let policy = try f.dir.write(
            "policy.json",
            #"{"format":"cairn-audit-policy/v1","max_findings":{"self_review":1,"dated_before_subject":1},"#
                + #""max_clock_skew_seconds":315360000000}"#)
        try f.cli.ok("audit", "completeness", "--policy", policy)

        // A well-dated change reviewed by someone else passes the strict default policy.
        let clean = try LedgerFixture(origin: "example.com/escape", profile: "provenance")
        let cleanRecords = [
            AuditCLITests.checkpoint("cp-1", commit: a), AuditCLITests.review("cp-1", at: "2026-11-20T10:00:00Z"),
            AuditCLITests.test("cp-1", at: "2026-11-20T10:30:00Z"),
            AuditCLITests.deploy("cp-1", commit: a, at: "2026-11-20T11:00:00Z"),
        ]
        try clean.cli.ok("append", stdin: cleanRecords.joined(separator: "\n") + "\n")
        let passed = try clean.cli.ok("audit", "completeness")
        #expect(
            passed.text.contains("passed: within the policy (1 checkpoint, 1 deploy, 0 corrections at tree size 4)"))
        #expect(!passed.text.contains("note:"))
    }
}
