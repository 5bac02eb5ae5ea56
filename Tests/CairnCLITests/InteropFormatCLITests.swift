import CairnTestSupport
import Foundation
import Testing

/// Issue 12 item 8, acceptance 4: `cairn import --format agent-trace|git-ai` and `cairn export agent-trace`, in real
/// git repositories built for the vectors (Tests/Vectors/capture/agent-trace, …/git-ai-authorship): the records
/// import with content hashes from git, a second import appends nothing, a record that cannot be imported stops the
/// import naming its line, and the export validates against the Agent Trace JSON Schema (Python `jsonschema`,
/// Draft 2020-12 with its format checker; skipped when it is missing unless CAIRN_REQUIRE_INTEROP=1).
@Suite struct InteropFormatCLITests {
    static let vectors = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Vectors/capture")
    static let schema = vectors.appendingPathComponent("agent-trace/trace-record.schema.json").path

    /// A repository and a ledger beside it.
    final class World {
        let root: TemporaryDirectory
        let repo: String
        let ledger: String
        /// git without the user's or the system's configuration; the ledger only through --ledger.
        let environment = [
            "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1", "CAIRN_LEDGER": "", "GIT_EDITOR": "true",
        ]

        init() throws {
            root = try TemporaryDirectory("interop")
            repo = root.path + "/repo"
            ledger = root.path + "/ledger"
            try git(["init", "-q", "-b", "main", repo], in: root.path)
            try git(["config", "user.email", "ada@example.com"])
            try git(["config", "user.name", "Ada"])
            try git(["config", "commit.gpgsign", "false"])
            let out = try cairn(["init", "--origin", "example.com/interop", "--ledger", ledger])
            #expect(out.status == 0, "\(out.stderr)")
        }

        @discardableResult
        func git(_ args: [String], in directory: String? = nil, stdin: String? = nil) throws -> CLI.Output {
            let out = try CLI.exec(
                "/usr/bin/env", ["git"] + args, stdin: stdin.map { Array($0.utf8) }, environment: environment,
                directory: directory ?? repo)
            #expect(out.status == 0, "git \(args): \(out.stderr)")
            return out
        }

        func cairn(_ args: [String], stdin: String? = nil) throws -> CLI.Output {
            try CLI.exec(
                CLI.binary, args, stdin: stdin.map { Array($0.utf8) }, environment: environment, directory: repo)
        }

        /// Writes files of `lines` numbered lines each and commits them; returns the commit.
        @discardableResult
        func commit(_ files: [String: Int], message: String) throws -> String {
            for (path, lines) in files {
                let url = URL(fileURLWithPath: repo + "/" + path)
                try FileManager.default.createDirectory(
                    at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try (1...lines).map { "\(path): line \($0)\n" }.joined().write(
                    to: url, atomically: true, encoding: .utf8)
            }
            try git(["add", "-A"])
            try git(["commit", "-q", "-m", message])
            return try git(["rev-parse", "HEAD"]).text.trimmingCharacters(in: .whitespacesAndNewlines)
        }

        /// `cairn import … --json`, its summary.
        func importing(
            _ args: [String], status: Int32 = 0, sourceLocation: SourceLocation = #_sourceLocation
        ) throws
            -> [String: Any]
        {
            let out = try cairn(["import", "--ledger", ledger, "--json"] + args)
            #expect(out.status == status, "\(args): \(out.stderr)", sourceLocation: sourceLocation)
            return parseJSONLine(out.text)
        }

        func treeSize() throws -> Int {
            let out = try cairn(["checkpoint", "--ledger", ledger])
            return Int(out.text.split(separator: "\n").dropFirst().first ?? "") ?? -1
        }
    }

    /// Validates JSON Lines against the Agent Trace schema with Python `jsonschema` (Draft 2020-12, format checker
    /// on); false when it is not installed (the caller skips, unless CAIRN_REQUIRE_INTEROP=1 makes that a failure).
    static func validate(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> Bool {
        guard (try? CLI.exec("/usr/bin/env", ["python3", "-c", "import jsonschema"]))?.status == 0 else {
            if ProcessInfo.processInfo.environment["CAIRN_REQUIRE_INTEROP"] == "1" {
                Issue.record(
                    "python3 with jsonschema is required when CAIRN_REQUIRE_INTEROP=1", sourceLocation: sourceLocation)
            } else {
                print("Agent Trace schema validation skipped: python3 with jsonschema is not installed")
            }
            return false
        }
        let script = """
            import json, sys, jsonschema
            schema = json.load(open(sys.argv[1]))
            validator = jsonschema.Draft202012Validator(
                schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
            count = 0
            for number, line in enumerate(sys.stdin, 1):
                if not line.strip():
                    continue
                errors = sorted(validator.iter_errors(json.loads(line)), key=str)
                for error in errors:
                    print(f"line {number}: {list(error.absolute_path)}: {error.message}", file=sys.stderr)
                if errors:
                    sys.exit(1)
                count += 1
            print(f"valid {count}")
            """
        let out = try CLI.exec("/usr/bin/env", ["python3", "-c", script, schema], stdin: Array(text.utf8))
        let lines = text.split(separator: "\n").count
        #expect(out.status == 0, "\(out.stderr)", sourceLocation: sourceLocation)
        #expect(out.text == "valid \(lines)\n", "\(out.text)", sourceLocation: sourceLocation)
        // The validator is not a no-op: a record with a bad id and timestamp fails.
        let bad = try CLI.exec(
            "/usr/bin/env", ["python3", "-c", script, schema],
            stdin: Array(#"{"version":"0.1.0","id":"x","timestamp":"yesterday","files":[]}"#.utf8))
        #expect(
            bad.status == 1 && bad.stderr.contains("is not a 'uuid'"), "\(bad.stderr)", sourceLocation: sourceLocation)
        return true
    }

    /// The vector at `path`, with its revision set to `commit` (and a vcs added when it has none), as one line.
    static func trace(_ path: String, commit: String) throws -> [String: Any] {
        var object = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: vectors.appendingPathComponent(path)))
                as? [String: Any])
        object["vcs"] = ["type": "git", "revision": commit]
        return object
    }

    static func line(_ object: [String: Any]) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
    }

    @Test("Agent Trace: the examples import with content hashes from git; again, nothing new; export validates")
    func agentTrace() throws {
        let w = try World()
        let commit = try w.commit(
            ["src/utils/parser.ts": 80, "src/utils/helpers.ts": 40, "src/app.ts": 60], message: "parser and app")
        let full = try Self.trace("agent-trace/example-full-record.json", commit: commit)
        let minimal = try Self.trace("agent-trace/example-minimal-record.json", commit: commit)
        let traces = w.root.path + "/traces.jsonl"
        try (try Self.line(full) + "\n" + Self.line(minimal) + "\n").write(
            toFile: traces, atomically: true, encoding: .utf8)

        let first = try w.importing(["--format", "agent-trace", "--repo", w.repo, traces])
        #expect(first["sources"] as? Int == 2 && first["appended"] as? Int == 3 && first["duplicates"] as? Int == 0)
        let size = try w.treeSize()
        #expect(size == 3)
        // Importing again appends nothing: the records are the same, so are their ids.
        let again = try w.importing(["--format", "agent-trace", "--repo", w.repo, traces])
        #expect(again["appended"] as? Int == 0 && again["duplicates"] as? Int == 3)
        // The full example as the pretty document it is, with the revision abbreviated: the same records.
        var pretty = try String(
            contentsOf: Self.vectors.appendingPathComponent("agent-trace/example-full-record.json"), encoding: .utf8)
        pretty = pretty.replacingOccurrences(
            of: "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0", with: String(commit.prefix(12)))
        try pretty.write(toFile: w.root.path + "/full.json", atomically: true, encoding: .utf8)
        let document = try w.importing(["--format", "agent-trace", "--repo", w.repo, w.root.path + "/full.json"])
        #expect(document["appended"] as? Int == 0 && document["duplicates"] as? Int == 2)
        #expect(try w.treeSize() == size)
        // The same claims with other content (another requester) reuse the ids: refused, nothing appended.
        let conflict = try w.cairn([
            "import", "--ledger", w.ledger, "--format", "agent-trace", "--requested-by", "ops@example.com", traces,
        ])
        #expect(conflict.status == 65)
        #expect(
            conflict.stderr.contains("traces.jsonl:1: $.id: checkpoint id") && conflict.stderr.contains("already used"),
            "\(conflict.stderr)")
        #expect(try w.treeSize() == size)

        // What cannot be imported stops the import, naming the file and line; nothing is appended.
        let vectorMinimal = Self.vectors.appendingPathComponent("agent-trace/example-minimal-record.json").path
        var refused = try w.cairn(["import", "--ledger", w.ledger, "--format", "agent-trace", vectorMinimal])
        #expect(refused.status == 65)
        #expect(
            refused.stderr.contains("example-minimal-record.json:1: vcs: the record names no revision")
                && refused.stderr.contains("nothing was imported"), "\(refused.stderr)")
        var beyond = full
        var files = try #require(beyond["files"] as? [[String: Any]])
        files[1]["path"] = "src/missing.ts"
        beyond["files"] = files
        try (try Self.line(minimal) + "\n\n" + Self.line(beyond) + "\n").write(
            toFile: w.root.path + "/bad.jsonl", atomically: true, encoding: .utf8)
        refused = try w.cairn(
            ["import", "--ledger", w.ledger, "--format", "agent-trace", "--repo", w.repo, w.root.path + "/bad.jsonl"])
        #expect(refused.status == 65)
        #expect(
            refused.stderr.contains("bad.jsonl:3: files[1].path: no file \"src/missing.ts\" at commit \(commit)"),
            "\(refused.stderr)")
        #expect(try w.treeSize() == size)
        // Usage: FILE is required for agent-trace, refused for git-ai; --repo needs a foreign format.
        #expect(try w.cairn(["import", "--ledger", w.ledger, "--format", "agent-trace"]).status == 64)
        #expect(try w.cairn(["import", "--ledger", w.ledger, "--format", "git-ai", traces]).status == 64)
        #expect(try w.cairn(["import", "--ledger", w.ledger, "--repo", w.repo, traces]).status == 64)
        #expect(try w.cairn(["import", "--ledger", w.ledger, "--format", "yaml", traces]).status == 64)
        // This repository has no git-ai notes: said so, with how to fetch them.
        let noNotes = try w.cairn(["import", "--ledger", w.ledger, "--format", "git-ai"])
        #expect(noNotes.status == 66 && noNotes.stderr.contains("refs/notes/ai:refs/notes/ai"), "\(noNotes.stderr)")

        // The records are checkpoints of grade `import`, with the file's SHA-256 at the commit.
        let query = try w.cairn(["query", "--ledger", w.ledger, "--commit", commit, "--json"])
        let matches = try #require(try JSONSerialization.jsonObject(with: Data(query.stdout)) as? [[String: Any]])
        #expect(matches.count == 3)
        let parser = try #require(
            matches.first {
                (($0["record"] as? [String: Any])?["outputs"] as? [[String: Any]])?.first?["path"] as? String
                    == "src/utils/parser.ts"
            }?["record"] as? [String: Any])
        let bytes = try Data(contentsOf: URL(fileURLWithPath: w.repo + "/src/utils/parser.ts"))
        let hash = try CLI.exec("/usr/bin/env", ["sha256sum", w.repo + "/src/utils/parser.ts"]).text.prefix(64)
        #expect(bytes.count > 0)
        #expect(((parser["outputs"] as? [[String: Any]])?.first?["content_hash"] as? String) == "sha256:" + hash)
        #expect((parser["x_capture"] as? [String: Any])?["grade"] as? String == "import")

        // Export: one Agent Trace record per checkpoint, valid against the schema; read back, the same claims.
        let export = try w.cairn(["export", "agent-trace", "--ledger", w.ledger, "--commit", "HEAD"])
        #expect(export.status == 0, "\(export.stderr)")
        #expect(export.lines.count == 3)
        for line in export.lines {
            let record = parseJSONLine(line)
            #expect(record["version"] as? String == "0.1.0")
            #expect((record["vcs"] as? [String: Any])?["revision"] as? String == commit)
            let cairn = (record["metadata"] as? [String: Any])?["dev.cairn"] as? [String: Any]
            #expect(
                cairn?["grade"] as? String == "import" && cairn?["checkpoint"] as? String == record["id"] as? String)
        }
        _ = try Self.validate(export.text)
        try export.text.write(toFile: w.root.path + "/exported.jsonl", atomically: true, encoding: .utf8)
        let back = try w.importing(["--format", "agent-trace", "--repo", w.repo, w.root.path + "/exported.jsonl"])
        #expect(back["sources"] as? Int == 3 && back["records"] as? Int == 3)
        // A commit no checkpoint names: nothing, and said so.
        let empty = try w.commit(["README.md": 1], message: "readme")
        let none = try w.cairn(["export", "agent-trace", "--ledger", w.ledger, "--commit", empty])
        #expect(none.status == 0 && none.text.isEmpty && none.stderr.contains("no checkpoint names commit"))
        #expect(try w.cairn(["export", "agent-trace", "--ledger", w.ledger, "--commit", "nope"]).status == 66)
    }

    @Test("git-ai: notes of every variant import (grade import, blame shows it); again, nothing new; export validates")
    func gitAI() throws {
        let w = try World()
        let notes = Self.vectors.appendingPathComponent("git-ai-authorship/notes")
        func note(_ name: String) throws -> String {
            try String(contentsOf: notes.appendingPathComponent(name + ".note"), encoding: .utf8)
        }
        let sessions = try w.commit(["src/main.rs": 60, "src/lib.rs": 60], message: "sessions")
        try w.git(["notes", "--ref=ai", "add", "-m", try note("spec-1.2.5-sessions-format"), sessions])
        let legacy = try w.commit(["docs/a.md": 3], message: "legacy")
        try w.git(["notes", "--ref=ai", "add", "-m", try note("spec-1.2.6-legacy-format"), legacy])
        let mixed = try w.commit(["docs/b.md": 3], message: "mixed")
        try w.git(["notes", "--ref=ai", "add", "-m", try note("spec-1.2.7-mixed-format"), mixed])
        let broken = try w.commit(["docs/c.md": 3], message: "broken note")
        try w.git(["notes", "--ref=ai", "add", "-m", "src/main.rs\n  s_0123456789abcd 10-5\n---\n{}", broken])

        // A malformed note stops the import, naming the note's line: nothing is appended.
        let refused = try w.cairn(["import", "--ledger", w.ledger, "--format", "git-ai", "--repo", w.repo])
        #expect(refused.status == 65)
        #expect(
            refused.stderr.contains("refs/notes/ai:\(broken):2: line range 10-5: start 10 is after end 5")
                && refused.stderr.contains("nothing was imported"), "\(refused.stderr)")
        #expect(try w.treeSize() == 0)
        // With --skip-invalid, the others are imported (and the exit status still says the input was not whole).
        let skipping = try w.importing(["--format", "git-ai", "--repo", w.repo, "--skip-invalid"], status: 65)
        #expect(
            skipping["sources"] as? Int == 4 && skipping["appended"] as? Int == 6 && skipping["skipped"] as? Int == 1)
        try w.git(["notes", "--ref=ai", "remove", broken])
        // From inside the repository, without --repo: nothing new.
        let again = try w.importing(["--format", "git-ai"])
        #expect(again["sources"] as? Int == 3 && again["appended"] as? Int == 0 && again["duplicates"] as? Int == 6)
        #expect(try w.treeSize() == 6)

        // Blame explains the notes' lines with the imported checkpoints.
        let blame = try w.cairn(["blame", "src/lib.rs", "--ledger", w.ledger, "--json"])
        #expect(blame.status == 0, "\(blame.stderr)")
        let line = parseJSONLine(blame.lines.first ?? "")
        #expect(line["grade"] as? String == "import" && line["contributor"] as? String == "ai")
        #expect(
            line["session"] as? String == "conv_abc123def456" && line["requested_by"] as? String == "dev@example.com")

        // Export of the mixed note's commit: its two sessions (the older notes name other commits).
        let export = try w.cairn(["export", "agent-trace", "--ledger", w.ledger, "--repo", w.repo, "--commit", mixed])
        #expect(export.status == 0 && export.lines.count == 2, "\(export.stderr)")
        _ = try Self.validate(export.text)

        // Amended (a line inserted at the top of src/lib.rs) and recorded as a rewrite: the export of the new commit
        // follows the checkpoints there, src/lib.rs's lines moved down by one.
        let text = try String(contentsOfFile: w.repo + "/src/lib.rs", encoding: .utf8)
        try ("// header\n" + text).write(toFile: w.repo + "/src/lib.rs", atomically: true, encoding: .utf8)
        try w.git(["commit", "-q", "-a", "--amend", "-m", "mixed, amended"])
        let amended = try w.git(["rev-parse", "HEAD"]).text.trimmingCharacters(in: .whitespacesAndNewlines)
        let rewrite =
            #"{"type":"rewrite","schema":1,"old_commit":"\#(mixed)","new_commit":"\#(amended)","kind":"amend","#
            + #""at":"2026-11-20T10:00:00Z","repo":"\#(w.repo)"}"#
        #expect(try w.cairn(["append", "--ledger", w.ledger], stdin: rewrite).status == 0)
        let carried = try w.cairn(["export", "agent-trace", "--ledger", w.ledger, "--commit", "HEAD"])
        #expect(carried.status == 0 && carried.lines.count == 2, "\(carried.stderr)")
        let records = carried.lines.map(parseJSONLine)
        let legacyRecord = try #require(
            records.first { (($0["files"] as? [[String: Any]])?.first?["path"] as? String) == "src/lib.rs" })
        let ranges =
            ((legacyRecord["files"] as? [[String: Any]])?.first?["conversations"] as? [[String: Any]])?.first?[
                "ranges"] as? [[String: Int]]
        #expect(ranges == [["start_line": 2, "end_line": 51]])
        let cairn = (legacyRecord["metadata"] as? [String: Any])?["dev.cairn"] as? [String: Any]
        #expect(cairn?["output_commit"] as? String == mixed)
        #expect((cairn?["mapping"] as? [String: String]) == ["src/lib.rs": "diff"])
        _ = try Self.validate(carried.text)
    }
}
