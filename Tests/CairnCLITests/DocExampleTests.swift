import CairnTestSupport
import Foundation
import Testing

/// The shell blocks of README.md and docs/*.md run as written (issue 10 §2 item 8): each document's
/// ```sh and ```bash blocks run in order, in one bash session, in a scratch directory set up the way
/// the document assumes (a ledger, the repository's examples/, the files it names), and every
/// command must succeed — or end with the status the document shows.
///
/// Blocks are transcripts: a line is run when its first word is something the shell can run (a
/// command on the PATH, a shell keyword or builtin, an assignment); other lines (`valid: …`,
/// `INDEX  TIME …`) are the output the document shows, and are not checked. What cannot run
/// offline — a server at a URL, a background server, a benchmark of hours, a cloud bucket — is
/// listed below with the reason, per document. docs/platform-guide.md has its own test
/// (`AuditCLITests.PlatformGuideTests`, and `SpoolTests.guideRetryScript`), which runs its hooks and
/// scripts in a git repository.
@Suite("The shell examples of README.md and docs/ run")
struct DocExampleTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// Programs replaced by a stand-in, and why.
    static let stubs: [(name: String, script: String, reason: String)] = [
        ("swift", "exit 0", "the test runs the cairn it was built with: no second build"),
        ("sudo", "exit 0", "installing system packages is the Makefile's job (`make deps`)"),
        ("pip", "exit 0", "no network in tests; the Python verifier's own test checks `cryptography`"),
    ]

    /// How a document's blocks are run.
    struct Document {
        let path: String
        /// Shell run first, in the scratch directory (the repository is in $REPO).
        var setUp = ""
        /// Shell run last: what the document's commands should have achieved.
        var check = ""
        /// Blocks not run: a fragment of the block, and why.
        var skippedBlocks: [String: String] = [:]
        /// Commands not run: the start of the line, and why.
        var skippedLines: [String: String] = [:]
        /// Commands the document shows ending with another status than 0.
        var statuses: [String: Int32] = [:]
        /// Placeholders of the document and what the test puts in their place.
        var substitutions: [String: String] = [:]
    }

    /// A checkpoint of commit `$1` and its approving review, appended (shell function).
    static let reviewedCheckpoint = #"""
        reviewed_checkpoint() {
            id=$(cat /proc/sys/kernel/random/uuid)
            printf '{"type":"checkpoint","schema":1,"id":"%s","timestamp":"2026-11-22T09:00:00Z","requested_by":"dana@example.com","tool_path":"cli","model":{"id":"claude-sonnet-4-5","version":"20250929","provider":"anthropic"},"prompt":"Release %s","outputs":[{"repo":"git@example.com:payments/client.git","commit":"%s","path":"src/release.ts","ranges":[[1,5]],"content_hash":"sha256:%s","contributor":"ai"}]}\n{"type":"review","schema":1,"subject":"%s","reviewer":"bob@example.com","decision":"approved","at":"2026-11-22T10:00:00Z"}\n' \
                "$id" "$1" "$1" "$(printf %s "$id" | sha256sum | cut -c1-64)" "$id" | cairn append > /dev/null
        }
        """#

    static let documents: [Document] = [
        Document(
            path: "README.md",
            setUp: "cp -R \"$REPO/examples\" examples",
            // The consistency demo proves that the log grew (it once proved size 6 to size 6).
            check: "cairn verify consistency --vkey my-ledger/ledger.vkey --old old.checkpoint --proof consistency.txt "
                + "--json | jq -e '.size > .old_size'",
            skippedBlocks: [
                "make demo": "builds cairn and runs this test suite itself",
                "cairn serve --public-reads &":
                    "starts a server on port 8080 in the background and posts to it at once (ServeCLITests run "
                    + "the server and its API)",
            ]),
        Document(
            path: "docs/quick-start.md",
            setUp: "cp -R \"$REPO/examples\" examples",
            check: "cairn verify consistency --vkey my-ledger/ledger.vkey --old today.checkpoint --proof grew.txt "
                + "--json | jq -e '.size > .old_size'",
            substitutions: [
                // The content address of the first record of examples/records.jsonl.
                "sha256:2fc4…": "sha256:2fc4c998650fb946ecb5b95800cb0ab8caa37fe68a8386d9d6b47fa8661f292d"
            ]),
        Document(
            path: "docs/auditors-guide.md",
            setUp: reviewedCheckpoint + #"""

                cp -R "$REPO/examples" examples && cp -R "$REPO/scripts" scripts
                export CAIRN_LEDGER=$PWD/ledger
                cairn init --origin example.com/ai-provenance > /dev/null && cp ledger/ledger.vkey ledger.vkey
                cairn append examples/records.jsonl > /dev/null
                cairn checkpoint > checkpoint-from-march.txt
                cairn prove inclusion 0 > proof.tlog-proof && cairn get 0 --raw > entry.json && cp entry.json entry.raw
                cairn checkpoint > cp.txt
                # The team's repository: v1.4.0..v1.5.0 is one commit, covered by a reviewed checkpoint.
                git init -q -b main ~/src/payments-client && cd ~/src/payments-client
                git config user.name Dana && git config user.email dana@example.com && git config commit.gpgsign false
                echo 1 > a && git add a && git commit -q -m one && git tag v1.4.0
                echo 2 > b && git add b && git commit -q -m two && git tag v1.5.0
                cd - > /dev/null && reviewed_checkpoint "$(git -C ~/src/payments-client rev-parse HEAD)"
                cairn prove consistency --old 6 > consistency.txt
                # A checkpoint from a tool that records the provider's request id, and the gateway's log of that call.
                printf '%s\n' '{"type":"checkpoint","schema":1,"id":"7d1e4b2a-9c3f-4e8d-b5a6-2f0c1e9d8a7b","timestamp":"2026-12-02T10:15:04Z","requested_by":"erin@example.com","tool_path":"agent","model":{"id":"claude-sonnet-4-5","version":"20250929","provider":"anthropic"},"prompt":"Cache exchange rates for an hour.","request_id":"req_011CWx4tT2nK8","outputs":[{"repo":"git@example.com:payments/client.git","commit":"3b18e512dba79e4c8300dd08aeb37f8e728b8dad","path":"src/rates.ts","ranges":[[1,48]],"content_hash":"sha256:d4735e3a265e16eee03f59718b9b5d03019c07d8b6c51f90da3a666eec13ab35","contributor":"ai"}]}' | cairn append > /dev/null
                mkdir gateway && printf '%s\n' '{"request_id":"req_011CWx4tT2nK8","id":"msg_01Q7ZkP2vH3mX9","type":"message","model":"claude-sonnet-4-5-20250929","usage":{"input_tokens":18211,"output_tokens":1442},"timestamp":"2026-12-02T10:15:01.204Z","status":200}' > gateway/anthropic-2026-12-02.jsonl
                """#,
            skippedBlocks: [
                "cairn verify inclusion --policy my-policy.txt":
                    "needs checkpoints cosigned by the policy's witnesses (WitnessCLITests verify with policies)"
            ],
            statuses: [
                // The guide shows the audit failing on the example ledger (a model named by date only).
                "cairn audit completeness": 1
            ],
            substitutions: ["'example.com/ai-provenance+1a2b3c4d+AZ…'": "\"$(cat ledger.vkey)\""]),
        Document(
            path: "docs/operators-guide.md",
            setUp: "cp -R \"$REPO/examples\" examples",
            skippedBlocks: [
                "curl -sS -H \"Authorization: Bearer $TOKEN\" -H 'Content-Type: application/x-ndjson'":
                    "needs the server of the block before it (ServeCLITests run the server and its API)",
                "sudo useradd": "creates a system user and a systemd service",
                "https://ledger.example.com": "needs the server at ledger.example.com",
            ],
            skippedLines: [
                "cairn serve ": "a server runs until it is stopped (ServeCLITests run it)",
                "systemctl stop cairn": "stops a system service",
            ],
            substitutions: [
                "/var/lib/cairn/ledger": "$PWD/var/lib/cairn/ledger",
                "tok_5d1e9c0b7a3f2e41": "\"$(cairn token list --json | jq -r '.[-1].id')\"",
            ]),
        Document(
            path: "docs/dashboard.md",
            // The files a browser downloads from a record's page (BrowserTests download the real ones).
            setUp: """
                cp -R "$REPO/examples" examples
                export CAIRN_LEDGER=$PWD/ledger
                cairn init --origin example.com/ai-provenance > /dev/null
                cairn append examples/records.jsonl > /dev/null
                cp ledger/ledger.vkey ledger.vkey
                cairn export in-toto 0 --output entry-0.intoto.json
                cairn prove inclusion 1 > entry-1.tlog-proof
                cairn get 1 --raw > entry-1.json
                """,
            skippedLines: ["cairn serve": "a server runs until it is stopped (BrowserTests and ServeCLITests run it)"]),
        Document(
            path: "docs/performance.md",
            skippedBlocks: [
                "/tmp/10m.jsonl": "imports 10 million records (hours in a debug build)",
                ".build/release/cairn bench": "benchmarks of minutes to hours, in a release build",
                "--threads 1 --directory /tmp/pb": "the format 1 / format 2 comparison: minutes, in a release build",
                "Benchmarks/HTTP/run.sh": "an HTTP load test of minutes",
                "swift package --allow-writing-to-directory": "the benchmark package builds and runs for minutes",
                "scripts/bench-compare.sh": "two release builds and a quarter of an hour of benchmarks",
                "--keep --directory /tmp/qb": "builds a 200,000-record ledger with a release build to time queries on",
                "--jsonl > rows.jsonl": "times a query of every row of a 1,000,000-record ledger, in a release build",
                "Benchmarks/issue-11-sitting.sh": "every benchmark of issue 11's table: minutes, in a release build",
                "Benchmarks/capture-latency.sh": "hundreds of timed process starts of a release build",
                "--json --no-aggregates": "two benchmarks of 1,000,000 records each, in a release build",
                "cairn stats cost --ledger /tmp/l1m": "times the views on a 1,000,000-entry ledger built for it",
            ]),
        Document(
            path: "docs/publishing-tiles.md",
            setUp: """
                export CAIRN_LEDGER=$PWD/ledger
                cairn init --origin example.com/tiles --profile generic > /dev/null
                for i in $(seq 1 300); do echo "{\\"n\\":$i}"; done | cairn append > /dev/null
                """,
            skippedBlocks: [
                "aws s3 sync": "needs an S3 bucket and its credentials",
                "--to s3://BUCKET/cairn":
                    "needs an S3 bucket and its credentials (ObjectStoreExportTests run the command against moto)",
                "rclone copy": "needs an rclone remote",
                "https://log.example.com/cairn/":
                    "needs the log published at log.example.com (ExportTilesTests read an export with an "
                    + "independent reader)",
            ],
            substitutions: ["/srv/cairn-tiles": "$PWD/srv/cairn-tiles"]),
        Document(
            path: "docs/reliability.md",
            skippedBlocks: [
                "make soak":
                    "soaks of seconds to hours that kill servers; CI runs `make soak-smoke` itself, after `make test`",
                "make sanitize-address":
                    "the whole suite again under a sanitizer, after a build of its own: runs of 15 to 40 minutes",
                "make fuzz-smoke": "builds the fuzzers (minutes) and runs each; `make fuzz-smoke` is its own target",
                "cd Fuzz && swift build": "an instrumented build of the fuzz package (minutes)",
                "LD_PRELOAD":
                    "reproduces the access-log gap (closed since by reconciliation; AccessLogReconciliationTests) "
                    + "with servers in the background and the fault shim",
            ]),
    ]

    /// A fenced block: its info string, first line number and lines.
    struct Block {
        let language: String
        let line: Int
        let lines: [Substring]
        var text: String { lines.joined(separator: "\n") }
    }

    static func blocks(_ markdown: String) -> [Block] {
        var result: [Block] = []
        var open: (language: String, line: Int, indent: Int, lines: [Substring])?
        for (number, line) in markdown.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let indent = line.prefix { $0 == " " }.count
            let trimmed = line.dropFirst(indent)
            if trimmed.hasPrefix("```") {
                if let block = open {
                    result.append(Block(language: block.language, line: block.line, lines: block.lines))
                    open = nil
                } else {
                    open = (String(trimmed.dropFirst(3)), number + 2, indent, [])
                }
            } else if let fence = open?.indent {
                open?.lines.append(line.dropFirst(min(indent, fence)))
            }
        }
        return result
    }

    /// One command: its lines (with `\` continuations) and where it starts in the document.
    struct Command {
        let line: Int
        let text: String
    }

    /// The commands of `block`: continuation lines joined to their command; output lines left out.
    static func commands(of block: Block, runnable: (String) -> Bool) -> [Command] {
        var commands: [Command] = []
        var continuing = false
        for (offset, line) in block.lines.enumerated() {
            let text = String(line)
            if continuing, let last = commands.popLast() {
                commands.append(Command(line: last.line, text: last.text + "\n" + text))
            } else {
                let first = text.trimmingCharacters(in: .whitespaces).split(separator: " ").first.map(String.init) ?? ""
                guard !first.isEmpty, !first.hasPrefix("#"), runnable(first) else {
                    continuing = false
                    continue
                }
                commands.append(Command(line: block.line + offset, text: text))
            }
            continuing = text.hasSuffix("\\")
        }
        return commands
    }

    /// Runs every runnable block of `document` in one bash session; returns what was skipped.
    func run(_ document: Document) throws -> [String] {
        let markdown = try String(
            contentsOf: Self.repository.appendingPathComponent(document.path), encoding: .utf8)
        let dir = try TemporaryDirectory()
        let bin = dir.file("bin")
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: dir.file("home/src"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: bin + "/cairn", withDestinationPath: CLI.binary)
        var notes: [String] = []
        for stub in Self.stubs {
            let path = try dir.write("bin/" + stub.name, "#!/bin/sh\n" + stub.script + "\n")
            chmod(path, 0o755)
        }
        var skippedLines = document.skippedLines
        let environment = [
            "PATH": bin + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"),
            "HOME": dir.file("home"), "REPO": Self.repository.path, "CAIRN_LEDGER": "", "CAIRN_SERVER": "",
            "CAIRN_TOKEN": "", "CAIRN_TOKEN_FILE": "", "CAIRN_SPOOL": "", "XDG_CACHE_HOME": "",
        ]
        func bash(_ script: String) throws -> CLI.Output {
            try CLI.exec("/bin/bash", ["-c", script], environment: environment, directory: dir.path)
        }
        if try bash("command -v mdb_copy").status != 0 {
            // The guide says a plain copy of data.mdb works too; that is what stands in for it.
            let path = try dir.write("bin/mdb_copy", "#!/bin/sh\ncp \"$1/data.mdb\" \"$2/\"\n")
            chmod(path, 0o755)
            notes.append("mdb_copy: lmdb-utils is not installed; a plain copy of data.mdb stands in")
        }
        if try bash("python3 -c 'import cryptography'").status != 0 {
            skippedLines["python3 scripts/verify_tlog_proof.py"] = "python3's cryptography is not installed"
        }

        // Which first words the shell can run (commands, keywords, builtins, assignments).
        let candidates = Self.blocks(markdown).filter { ["sh", "bash"].contains($0.language) }
        let words = Set(
            candidates.flatMap(\.lines).compactMap {
                $0.trimmingCharacters(in: .whitespaces).split(separator: " ").first.map(String.init)
            }
        ).filter { !$0.contains("'") && !$0.hasPrefix("#") }
        let known = try bash(
            words.map { "type -t -- '\($0)' > /dev/null 2>&1 && echo '\($0)'" }.joined(separator: "\n"))
        let runnable = Set(known.text.split(separator: "\n").map(String.init))
        let assignment = try Regex(#"^[A-Za-z_][A-Za-z0-9_]*="#)
        func isRunnable(_ word: String) -> Bool { runnable.contains(word) || word.contains(assignment) }

        var script = "set -eo pipefail\n" + document.setUp + "\n"
        var count = 0
        for block in candidates {
            if let (fragment, reason) = document.skippedBlocks.first(where: { block.text.contains($0.key) }) {
                notes.append("\(document.path):\(block.line): not run (\(fragment)…): \(reason)")
                continue
            }
            for command in Self.commands(of: block, runnable: isRunnable) {
                let trimmed = command.text.trimmingCharacters(in: .whitespaces)
                if let (start, reason) = skippedLines.first(where: { trimmed.hasPrefix($0.key) }) {
                    notes.append("\(document.path):\(command.line): `\(start)…` not run: \(reason)")
                    continue
                }
                var text = command.text
                for (placeholder, value) in document.substitutions {
                    text = text.replacingOccurrences(of: placeholder, with: value)
                }
                script += "echo 'DOC-LINE \(command.line)' >&2\n"
                if let status = document.statuses.first(where: { trimmed.hasPrefix($0.key) })?.value {
                    script += "set +e\n\(text)\ns=$?\nset -e\n"
                    script += "[ \"$s\" = \(status) ] || { echo \"DOC-STATUS $s, not \(status)\" >&2; exit 1; }\n"
                } else {
                    script += text + "\n"
                }
                count += 1
            }
        }
        script += "echo 'DOC-LINE check' >&2\n" + document.check + "\necho DOC-OK\n"
        let out = try bash(script)
        let last = out.stderr.split(separator: "\n").last { $0.hasPrefix("DOC-LINE ") }.map { $0.dropFirst(9) } ?? "?"
        #expect(
            out.status == 0 && out.text.hasSuffix("DOC-OK\n"),
            "\(document.path):\(last) failed (status \(out.status)):\n\(out.stderr.suffix(3000))")
        #expect(count > 0 || document.skippedBlocks.count == candidates.count, "\(document.path): nothing ran")
        return notes
    }

    @Test("The shell blocks of each document run", arguments: DocExampleTests.documents.map(\.path))
    func document(_ path: String) throws {
        let document = try #require(Self.documents.first { $0.path == path })
        let notes = try run(document)
        // Every skip entry still names something in the document.
        let markdown = try String(contentsOf: Self.repository.appendingPathComponent(path), encoding: .utf8)
        for fragment in Array(document.skippedBlocks.keys) + Array(document.skippedLines.keys)
            + Array(document.substitutions.keys)
        {
            #expect(markdown.contains(fragment.trimmingCharacters(in: .whitespaces)), "\(path): no \(fragment)")
        }
        for note in notes { print(note) }
    }

    @Test("Every document with shell blocks is tested here or by its own test")
    func everyDocument() throws {
        let docs = try FileManager.default.contentsOfDirectory(
            atPath: Self.repository.appendingPathComponent("docs").path
        )
        .filter { $0.hasSuffix(".md") }.map { "docs/" + $0 }
        let tested = Set(Self.documents.map(\.path) + ["docs/platform-guide.md"])
        for doc in docs + ["README.md"] {
            let markdown = try String(contentsOf: Self.repository.appendingPathComponent(doc), encoding: .utf8)
            if Self.blocks(markdown).contains(where: { ["sh", "bash"].contains($0.language) }) {
                #expect(tested.contains(doc), "\(doc) has shell blocks that no test runs")
            }
        }
    }
}
