import CairnTestSupport
import Foundation
import Testing

/// Issue 12, acceptance 1 and 2: capture from agents' hooks to proven line attribution, in a real git repository,
/// through amend, an interactive rebase that reorders and squashes, and a squash merge.
@Suite struct CommitCaptureEndToEndTests {
    /// A repository with hooks installed, a ledger, and the agents' recorded payloads to feed.
    final class Scenario {
        let root: TemporaryDirectory
        let repo: String
        let ledger: String
        let capture: String
        /// git without the user's or the system's configuration.
        let environment = ["GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1", "GIT_EDITOR": "true"]

        init() throws {
            root = try TemporaryDirectory("commit-capture")
            repo = root.path + "/repo"
            ledger = root.path + "/ledger"
            capture =
                URL(fileURLWithPath: CLI.binary).deletingLastPathComponent().appendingPathComponent(
                    "cairn-capture"
                ).path
            try git(["init", "-q", "-b", "main", repo], in: root.path)
            try git(["config", "user.email", "alice@example.com"])
            try git(["config", "user.name", "Alice"])
        }

        @discardableResult
        func git(
            _ args: [String], in directory: String? = nil, environment extra: [String: String] = [:]
        ) throws
            -> CLI.Output
        {
            let out = try CLI.exec(
                "/usr/bin/env", ["git"] + args, environment: environment.merging(extra) { $1 },
                directory: directory ?? repo)
            #expect(out.status == 0, "git \(args): \(out.stderr)")
            return out
        }

        func cairn(_ args: [String]) throws -> CLI.Output {
            try CLI.exec(CLI.binary, args, environment: environment, directory: repo)
        }

        func write(_ name: String, _ text: String) throws {
            try text.write(toFile: repo + "/" + name, atomically: true, encoding: .utf8)
        }

        /// Feeds a recorded payload (../shared/vectors/capture, copied to Tests/Vectors/capture) to `cairn-capture`,
        /// with the repository's paths and the scenario's session, model and tool input put in.
        func feed(_ agent: String, vector: String, _ changes: [String: Any]) throws {
            let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent("Vectors/capture/\(agent)/\(vector)")
            var payload = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
            for (key, value) in changes { payload[key] = value }
            if payload["cwd"] != nil { payload["cwd"] = repo }
            if payload["workspace_roots"] != nil { payload["workspace_roots"] = [repo] }
            payload["transcript_path"] = nil
            let bytes = try JSONSerialization.data(withJSONObject: payload)
            let out = try CLI.exec(capture, [agent, "--json"], stdin: [UInt8](bytes), directory: repo)
            #expect(out.status == 0 && out.text.contains(#""recorded""#), "\(vector): \(out.text) \(out.stderr)")
        }

        /// `cairn blame FILE --json`, as [line: (contributor, model, session, grade)].
        func blame(_ file: String) throws -> [[String: Any]] {
            let out = try cairn(["blame", file, "--json"])
            #expect(out.status == 0, "\(out.stderr)")
            return out.lines.map { parseJSONLine($0) }
        }
    }

    /// Hooks installed beside a user's hook; Claude Code, Cursor and Gemini CLI payloads; commit, amend, rebase -i
    /// (reorder + squash), squash merge: blame names the model, session and grade of every line, and its bundles
    /// verify; a mutated bundle does not; uninstall puts the user's hook back byte for byte.
    @Test("Capture to proven blame: commit, amend, rebase -i, squash merge; hooks chained and restored")
    func endToEnd() throws {
        let s = try Scenario()
        // The user's own post-commit hook, which must keep running.
        let userHook = "#!/bin/sh\necho \"user hook $*\" >> \"$(git rev-parse --git-dir)/user-hook.log\"\n"
        let hookPath = s.repo + "/.git/hooks/post-commit"
        try userHook.write(toFile: hookPath, atomically: true, encoding: .utf8)
        chmod(hookPath, 0o750)
        try s.write("README.md", "# demo\n")
        try s.git(["add", "README.md"])
        try s.git(["commit", "-q", "-m", "base"])

        let initialized = try CLI.exec(CLI.binary, ["init", "--ledger", s.ledger, "--origin", "example.com/e2e"])
        #expect(initialized.status == 0, "\(initialized.stderr)")
        let install = try s.cairn(["hooks", "install", "--ledger", s.ledger, "--json"])
        #expect(install.status == 0, "\(install.stderr)")
        #expect(install.text.contains(#""hook":"git post-commit""#))

        // 1. Claude Code writes app.py; the person edits one line and adds one, then commits.
        let sonnet = "claude-sonnet-4-5-20250929"
        try s.feed("claude-code", vector: "SessionStart.json", ["session_id": "cc-1", "model": sonnet])
        try s.feed("claude-code", vector: "UserPromptSubmit.json", ["session_id": "cc-1", "prompt": "Greet by name"])
        let written =
            "import sys\ndef greet(name):\n    return \"Hello, \" + name\ndef main():\n"
            + "    print(greet(sys.argv[1]))\n"
        try s.feed(
            "claude-code", vector: "PostToolUse.Write.json",
            [
                "session_id": "cc-1",
                "tool_input": ["file_path": s.repo + "/app.py", "content": written],
            ])
        try s.write(
            "app.py", written.replacingOccurrences(of: "sys.argv[1]))", with: "sys.argv[1]).upper())") + "main()\n")
        try s.git(["add", "app.py"])
        try s.git(["commit", "-q", "-m", "app"])
        let message = try s.git(["log", "-1", "--format=%B"]).text
        #expect(message.contains("Cairn-Checkpoint: "), "\(message)")

        // 2. Cursor writes notes.md (commit); Gemini CLI writes util.ts, added with `commit --amend`.
        try s.feed(
            "cursor", vector: "postToolUse.Write.cursor-2.5.26.git-ai-test.json",
            [
                "conversation_id": "cursor-1", "model": "gpt-5",
                "tool_input": ["file_path": s.repo + "/notes.md", "content": "Notes\nby the agent\n"],
            ])
        try s.write("notes.md", "Notes\nby the agent\n")
        try s.git(["add", "notes.md"])
        try s.git(["commit", "-q", "-m", "notes"])
        try s.feed(
            "gemini-cli", vector: "AfterTool.git-ai-test.json",
            [
                "session_id": "gem-1", "model": "gemini-2.5-pro", "tool_name": "write_file",
                "tool_input": ["file_path": s.repo + "/util.ts", "content": "export const two = 2;\n"],
            ])
        try s.write("util.ts", "export const two = 2;\n")
        try s.git(["add", "util.ts"])
        try s.git(["commit", "-q", "--amend", "--no-edit"])

        // 3. A branch: an agent's function, a person's commit, another agent's file; then `rebase -i` moves the
        // person's commit first and squashes the third into the first.
        try s.git(["checkout", "-q", "-b", "feature"])
        try s.feed("claude-code", vector: "SessionStart.json", ["session_id": "cc-2", "model": sonnet])
        try s.feed(
            "claude-code", vector: "PostToolUse.Edit.git-ai-test.json",
            [
                "session_id": "cc-2",
                "tool_input": [
                    "file_path": s.repo + "/app.py", "old_string": "def main():",
                    "new_string": "def farewell(name):\n    return \"Bye, \" + name\ndef main():",
                ],
            ])
        let app = try String(contentsOfFile: s.repo + "/app.py", encoding: .utf8)
        try s.write(
            "app.py",
            app.replacingOccurrences(
                of: "def main():", with: "def farewell(name):\n    return \"Bye, \" + name\ndef main():"))
        try s.git(["commit", "-q", "-a", "-m", "F1 farewell"])
        try s.write("CHANGES", "farewell\n")
        try s.git(["add", "CHANGES"])
        try s.git(["commit", "-q", "-m", "F2 changes"])
        let opus = "claude-opus-4-1-20250805"
        try s.feed("claude-code", vector: "SessionStart.json", ["session_id": "cc-3", "model": opus])
        try s.feed(
            "claude-code", vector: "PostToolUse.Write.json",
            ["session_id": "cc-3", "tool_input": ["file_path": s.repo + "/lib.py", "content": "VERSION = 3\n"]])
        try s.write("lib.py", "VERSION = 3\n")
        try s.git(["add", "lib.py"])
        try s.git(["commit", "-q", "-m", "F3 lib"])
        let sequence = s.root.path + "/sequence.sh"
        try """
        #!/bin/sh
        grep -v '^#' "$1" | grep . > "$1.all"
        { grep 'F2 changes' "$1.all"; grep 'F1 farewell' "$1.all"; grep 'F3 lib' "$1.all" | sed 's/^pick/squash/'; } > "$1"
        """.write(toFile: sequence, atomically: true, encoding: .utf8)
        chmod(sequence, 0o755)
        try s.git(["rebase", "-q", "-i", "main"], environment: ["GIT_SEQUENCE_EDITOR": sequence])
        #expect(try s.git(["log", "--format=%s", "main..feature"]).lines.first?.hasPrefix("F1 farewell") == true)

        // 4. A squash merge into main (no hook knows what it replaced), then CI's `rewrite detect`.
        try s.git(["checkout", "-q", "main"])
        try s.git(["merge", "-q", "--squash", "feature"])
        try s.git(["commit", "-q", "-m", "feature (squashed)"])
        // The hooks deliver in the background; a flush by hand waits for them (one delivery at a time).
        #expect(try s.cairn(["hooks", "flush"]).status == 0)
        let detect = try s.cairn(["rewrite", "detect", "--range", "HEAD~1..HEAD"])
        #expect(detect.status == 0, "\(detect.stderr)")
        #expect(detect.lines.count == 2 && detect.text.contains(#""kind":"squash""#), "\(detect.text)")
        #expect(try s.cairn(["hooks", "flush"]).status == 0)
        #expect(try s.cairn(["rewrite", "detect", "--range", "HEAD~1..HEAD"]).lines.isEmpty)

        // Every line's model, session, grade and contributor.
        typealias Expected = (contributor: String, model: String?, session: String?)
        func check(_ file: String, _ expected: [Expected]) throws {
            let lines = try s.blame(file)
            #expect(lines.count == expected.count, "\(file): \(lines)")
            for (line, want) in zip(lines, expected) {
                let context = "\(file):\(line["line"] ?? "?") \(line)"
                #expect(line["contributor"] as? String == want.contributor, "\(context)")
                #expect(line["session"] as? String == want.session, "\(context)")
                if want.contributor != "human" { #expect(line["model"] as? String == want.model, "\(context)") }
                #expect(line["grade"] as? String == "hook", "\(context)")
            }
        }
        let cc1: Expected = ("ai", sonnet, "cc-1")
        let cc2: Expected = ("ai", sonnet, "cc-2")
        try check(
            "app.py", [cc1, cc1, cc1, cc2, cc2, cc1, ("mixed", sonnet, "cc-1"), ("human", nil, "cc-1")])
        try check("notes.md", [("ai", "gpt-5", "cursor-1"), ("ai", "gpt-5", "cursor-1")])
        try check("util.ts", [("ai", "gemini-2.5-pro", "gem-1")])
        try check("lib.py", [("ai", opus, "cc-3")])
        // `cairn query` shows how each claim was captured.
        let table = try s.cairn(["query", "--ledger", s.ledger, "--path", "lib.py"])
        #expect(table.lines.first?.contains(" GRADE ") == true, "\(table.text)")
        #expect(table.lines.count == 2 && table.lines[1].contains(" hook "), "\(table.text)")
        let readme = try s.blame("README.md")
        #expect(readme.count == 1 && readme[0]["contributor"] is NSNull)

        // Proofs: each bundle verifies offline with the vkey; a mutated one does not.
        let vkey = s.ledger + "/ledger.vkey"
        for (file, line, rewrites) in [("app.py", 4, 1), ("app.py", 7, 0), ("notes.md", 1, 1), ("lib.py", 1, 1)] {
            let bundle = try s.cairn(["blame", file, "--prove", String(line)])
            #expect(bundle.status == 0, "\(bundle.stderr)")
            let path = s.root.path + "/\(file)-\(line).json"
            try Data(bundle.stdout).write(to: URL(fileURLWithPath: path))
            let verified = try s.cairn(["verify", "bundle", "--vkey", vkey, path, "--json"])
            #expect(verified.status == 0, "\(file):\(line): \(verified.stderr)")
            let object = parseJSONLine(verified.text)
            #expect(object["valid"] as? Bool == true && object["rewrites"] as? Int == rewrites, "\(object)")
        }
        let original = try String(contentsOfFile: s.root.path + "/app.py-4.json", encoding: .utf8)
        let mutations = [
            original.replacingOccurrences(of: #""contributor": "ai""#, with: #""contributor": "human""#),
            original.replacingOccurrences(of: "claude-sonnet-4-5-20250929", with: "claude-opus-4-1-20250805"),
            original.replacingOccurrences(of: #""output_line": 4"#, with: #""output_line": 9"#),
        ]
        for (number, mutated) in mutations.enumerated() {
            #expect(mutated != original, "mutation \(number) changed nothing")
            let path = s.root.path + "/mutated-\(number).json"
            try mutated.write(toFile: path, atomically: true, encoding: .utf8)
            let verified = try s.cairn(["verify", "bundle", "--vkey", vkey, path])
            #expect(
                verified.status == 1 && verified.stderr.hasPrefix("invalid: "), "mutation \(number): \(verified.stderr)"
            )
        }

        // The user's hook ran at every commit; uninstall restores it exactly.
        let userLog = try String(contentsOfFile: s.repo + "/.git/user-hook.log", encoding: .utf8)
        #expect(userLog.split(separator: "\n").count >= 5, "\(userLog)")
        let uninstall = try s.cairn(["hooks", "uninstall"])
        #expect(uninstall.status == 0, "\(uninstall.stderr)")
        #expect(try String(contentsOfFile: hookPath, encoding: .utf8) == userHook)
        var status = stat()
        #expect(stat(hookPath, &status) == 0 && status.st_mode & 0o777 == 0o750)
        #expect(!FileManager.default.fileExists(atPath: s.repo + "/.git/hooks/prepare-commit-msg"))
    }
}
