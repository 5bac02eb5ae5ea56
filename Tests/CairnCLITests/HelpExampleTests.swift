import CairnCrypto
import CairnTestSupport
import Foundation
import Testing

/// Every example in every `--help` runs (issue 10 §2 item 8): the indented lines of each
/// command's EXAMPLE, EXAMPLES and QUICK START sections are taken from `cairn
/// --experimental-dump-help` (the help texts, unwrapped) and run with bash, in the order of the
/// command tree, in one scratch directory prepared for them — a provenance ledger holding
/// examples/records.jsonl, the files the examples name, a git repository — and each must exit 0.
///
/// Abbreviated values are expanded, since a reader would type the whole value: `sha256:1802…0cb1`
/// is the one entry or blob of the prepared ledger whose address starts and ends so, a token id
/// `tok_…` is the id of the token the token examples created, and absolute paths (`/srv/www/log`)
/// are moved into the scratch directory.
@Suite("Every example in every --help runs")
struct HelpExampleTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The examples that are not run, and why. Keep this list short.
    static let notRun: [String: String] = [
        "cairn append --server https://cairn.example.com --token-file ~/.config/cairn/token records.jsonl":
            "needs a Cairn server at that URL",
        "cairn spool flush --server https://cairn.example.com --token-file ~/.config/cairn/token":
            "needs a Cairn server at that URL",
        "cairn serve --ledger /var/lib/cairn/ledger": "a server runs until it is stopped (ServeCLITests run it)",
        "cairn serve --config /etc/cairn/server.json --listen 127.0.0.1:9000 --public-reads":
            "a server runs until it is stopped (ServeCLITests run it)",
        "cairn serve --logs /var/lib/cairn/logs --listen 127.0.0.1:9000":
            "a server runs until it is stopped (LogsCLITests run one over a log directory)",
        "cairn serve --mirror /srv/cairn-mirror --listen 127.0.0.1:9100":
            "a server runs until it is stopped (MirrorCLITests run one over a mirror)",
        "cairn witness serve --dir ./w1 --listen 127.0.0.1:7380 --log \"$(cat ledger/ledger.vkey)\"":
            "a witness runs until it is stopped (WitnessCLITests run it)",
        "cairn witness serve --dir ./w1 --listen 127.0.0.1:7380 --log ledger/ledger.vkey":
            "a witness runs until it is stopped (WitnessCLITests run it)",
        "cairn witness cosign --policy witnesses.policy": "needs running witnesses (WitnessCLITests run it)",
        "cairn witness cosign --policy witnesses.policy && cairn checkpoint > cosigned.checkpoint":
            "needs running witnesses (WitnessCLITests run it)",
        "cairn export tiles --to s3://bucket/log": "needs an S3 bucket (ObjectStoreExportTests run it against moto)",
        "cairn export tiles --to s3://tiles/log --endpoint http://127.0.0.1:9000 --json":
            "needs an S3-compatible store (ObjectStoreExportTests run it against moto)",
        "cairn mirror https://log.example.com/cairn/ /srv/mirror --vkey ledger.vkey --once":
            "needs a log at that URL (MirrorCLITests run it against one)",
        "cairn mirror https://log.example.com/cairn/ /srv/mirror --once --json":
            "needs a log at that URL (MirrorCLITests run it against one)",
        "cairn mirror https://log.example.com/cairn/ /srv/mirror --interval 300":
            "needs a log at that URL, and runs until stopped (MirrorCLITests run it against one)",
        "cairn monitor https://log.example.com/cairn/ --vkey ledger.vkey --state monitor.json --once":
            "needs a log at that URL (MirrorCLITests run it against one)",
        "cairn monitor https://log.example.com/cairn/ --state monitor.json --once --json":
            "needs a log at that URL (MirrorCLITests run it against one)",
        "cairn monitor https://log.example.com/cairn/ --state monitor.json --witness-vkey witness.vkey --max-age 3600 --interval 300 --json":
            "needs a log at that URL, and runs until stopped (MirrorCLITests run it against one)",
        "cairn get 0 --ledger ./ledger-2027 > link.json && cairn verify successor --vkey ./cairn-ledger/ledger.vkey link.json":
            "needs a sealed ledger's successor, which `cairn seal`'s examples make later (and run this line on)",
        "cairn verify successor --vkey ./cairn-ledger/ledger.vkey --json link.json":
            "needs a sealed ledger's successor, which `cairn seal`'s examples make later (SealCLITests run it)",
        "cairn import --format agent-trace --repo ~/src/app .agent-trace/traces.jsonl":
            "needs Agent Trace records of the repository's files (InteropFormatCLITests run it)",
        "cairn import --format git-ai --repo ~/src/app --json":
            "needs a repository with git-ai notes (InteropFormatCLITests run it)",
    ]

    /// Examples about a repository whose commits the capture hooks recorded: CommitCaptureEndToEndTests runs blame,
    /// --prove and verify bundle on one.
    static let needCapturedRepository = [
        "cairn blame src/app.py", "cairn blame src/app.py --rev HEAD~1 --json",
        "cairn blame src/app.py --prove 12 > line12.json", "cairn verify bundle --vkey ledger.vkey line12.json",
    ]

    /// Commands none of whose examples is run, and why.
    static let notRunCommands: [String: String] = [
        "cairn bench ingest": "a benchmark takes minutes (docs/performance.md records its runs)",
        "cairn bench proofs": "a benchmark takes minutes (docs/performance.md records its runs)",
    ]

    struct Example {
        /// `cairn`, `cairn append`, `cairn blob put`…
        let command: String
        let line: String
    }

    /// The example lines of every command, in the order of the command tree.
    static func examples() throws -> [Example] {
        let dump = try CLI.exec(CLI.binary, ["--experimental-dump-help"])
        let tool = try JSONSerialization.jsonObject(with: Data(dump.stdout)) as? [String: Any]
        var found: [Example] = []
        func walk(_ command: [String: Any], _ path: String) {
            var section: Substring?
            for line in (command["discussion"] as? String ?? "").split(
                separator: "\n", omittingEmptySubsequences: false)
            {
                if !line.isEmpty && !line.hasPrefix(" ") {
                    let heading = line.allSatisfy { $0.isUppercase || $0 == " " }
                    section = heading ? line : nil
                } else if line.isEmpty {
                    section = nil
                } else if let section, ["EXAMPLE", "EXAMPLES", "QUICK START"].contains(section) {
                    let text = line.trimmingCharacters(in: .whitespaces)
                    if !text.hasPrefix("#") { found.append(Example(command: path, line: text)) }
                }
            }
            for sub in command["subcommands"] as? [[String: Any]] ?? [] {
                walk(sub, path + " " + (sub["commandName"] as? String ?? "?"))
            }
        }
        walk(tool?["command"] as? [String: Any] ?? [:], "cairn")
        return found
    }

    /// A scratch directory with `cairn` on the PATH and a HOME of its own.
    struct Scratch {
        let dir: TemporaryDirectory
        var path: String { dir.path }

        init() throws {
            dir = try TemporaryDirectory()
            try FileManager.default.createDirectory(atPath: dir.file("bin"), withIntermediateDirectories: true)
            try FileManager.default.createSymbolicLink(atPath: dir.file("bin/cairn"), withDestinationPath: CLI.binary)
            try FileManager.default.createDirectory(atPath: dir.file("home/src"), withIntermediateDirectories: true)
        }

        /// Runs `script` with bash in the scratch directory.
        @discardableResult
        func bash(_ script: String) throws -> CLI.Output {
            try CLI.exec(
                "/bin/bash", ["-c", "set -o pipefail\n" + script],
                environment: [
                    "PATH": dir.file("bin") + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"),
                    "HOME": dir.file("home"), "CAIRN_LEDGER": "", "CAIRN_SERVER": "", "CAIRN_TOKEN": "",
                    "CAIRN_TOKEN_FILE": "", "CAIRN_SPOOL": "", "XDG_CACHE_HOME": "", "COLUMNS": "120",
                ],
                directory: path)
        }

        /// Runs `script`, failing the fixture when it fails.
        @discardableResult
        func setUp(_ script: String) throws -> String {
            let out = try bash(script)
            guard out.status == 0 else {
                throw LedgerFixture.FixtureError(message: "set-up `\(script)` failed: \(out.stderr)")
            }
            return out.text
        }
    }

    /// A checkpoint of `commit` and its approving review, as two JSON Lines.
    static func reviewedCheckpoint(commit: String, day: Int) -> String {
        let id = UUID().uuidString.lowercased()
        let hash = SHA256.hash(Array(id.utf8)).description
        return #"{"type":"checkpoint","schema":1,"id":"\#(id)","timestamp":"2026-11-\#(day)T09:00:00Z","#
            + #""requested_by":"alice@example.com","tool_path":"ide","model":{"id":"claude-sonnet-4-5","#
            + #""version":"20250929","provider":"anthropic"},"prompt":"Change \#(id)","outputs":[{"#
            + #""repo":"git@example.com:payments/client.git","commit":"\#(commit)","path":"src/\#(id).ts","#
            + #""ranges":[[1,10]],"content_hash":"\#(hash)","contributor":"ai"}]}"# + "\n"
            + #"{"type":"review","schema":1,"subject":"\#(id)","reviewer":"bob@example.com","#
            + #""decision":"approved","at":"2026-11-\#(day)T10:00:00Z"}"# + "\n"
    }

    static func randomCommit() -> String {
        SHA256.hash(Array(UUID().uuidString.utf8)).hex.prefix(40).lowercased()
    }

    /// The prepared world: returns the addresses an abbreviation may stand for.
    static func prepare(_ s: Scratch) throws -> [String] {
        let examples = repository.appendingPathComponent("examples").path
        try s.setUp(
            """
            cp '\(examples)/records.jsonl' records.jsonl
            cp '\(examples)/blobs/raw-output.diff' change.diff
            cairn init --origin example.com/ai-provenance > /dev/null
            cp cairn-ledger/ledger.vkey ledger.vkey
            """)
        let appended = try s.setUp("cairn append records.jsonl")
        // The examples name this blob by its plain address (sha256:f9ad…cd37): store it unsalted.
        try s.setUp("cairn blob put --unsalted --media-type 'text/x-diff; charset=utf-8' change.diff > /dev/null")
        try s.setUp("cairn checkpoint > old.checkpoint && cp old.checkpoint yesterday.checkpoint")
        // The default audit policy tolerates nothing: give the checkpoint that names its model by
        // release date only its version, so that `cairn audit completeness` passes.
        let codex = try s.setUp("cairn query --model gpt-5-codex --json | jq -r '.[0].digest'")
            .trimmingCharacters(in: .whitespacesAndNewlines)
        try s.setUp(
            #"""
            echo '{"type":"correction","schema":1,"corrects":"\#(codex)","author":"carol@example.com","reason":"The agent logged the exact model version; recorded here.","patch":{"model":{"version":"gpt-5-codex-2025-09-15"}},"at":"2026-11-21T16:00:00Z"}' | cairn append > /dev/null
            """#)
        // A repository whose two commits (tags v1.4.0 and v1.5.0; origin/main at the first) are
        // covered by reviewed checkpoints, for `cairn audit missing`; ~/src/app is the same one.
        let commits = try s.setUp(
            """
            git init -q -b main . && git config user.name Dana && git config user.email dana@example.com
            git config commit.gpgsign false
            printf 'a\\n' > a.txt && git add a.txt && git commit -q -m one && git tag v1.4.0
            git update-ref refs/remotes/origin/main HEAD
            printf 'b\\n' > b.txt && git add b.txt && git commit -q -m two && git tag v1.5.0
            ln -s "$PWD" home/src/app
            git rev-list HEAD
            """
        ).split(separator: "\n").map(String.init)
        _ = try s.dir.write(
            "repository.jsonl", commits.enumerated().map { reviewedCheckpoint(commit: $1, day: 22 + $0) }.joined())
        try s.setUp("cairn append repository.jsonl > /dev/null")
        func records(_ count: Int) -> String {
            (0..<count).map { _ in reviewedCheckpoint(commit: randomCommit(), day: 23) }.joined()
        }
        _ = try s.dir.write("more.jsonl", records(2))
        _ = try s.dir.write("export.jsonl", records(2))
        _ = try s.dir.write("export-2026-11.jsonl", records(20))
        _ = try s.dir.write("big.jsonl", records(50))
        _ = try s.dir.write(
            "review.json",
            """
            {
              "type": "review", "schema": 1, "subject": "0f8e7a52-3c1d-4d7e-9a41-7f1c2b6e5d01",
              "reviewer": "dana@example.com", "decision": "approved", "at": "2026-11-20T11:30:00Z"
            }
            """)
        // Provider request logs for `cairn import --format provider-log` (specs/interop-formats.md §5).
        _ = try s.dir.write(
            "anthropic-requests.jsonl",
            #"{"request_id":"req_011CVp3sR9mJ5","id":"msg_01XF","model":"claude-sonnet-4-5-20250929","#
                + #""usage":{"input_tokens":48213,"output_tokens":3904},"timestamp":"2026-11-20T09:14:01.870Z"}"# + "\n"
        )
        _ = try s.dir.write(
            "openai-requests.jsonl",
            #"{"x-request-id":"req_6f1c0e2b","id":"chatcmpl-B9MB","created":1795166400,"model":"gpt-5-2025-08-07","#
                + #""usage":{"prompt_tokens":1920,"completion_tokens":410}}"# + "\n")
        _ = try s.dir.write(
            "gateway.jsonl",
            #"{"meta":{"rid":"gw-7f3a"},"vendor":"mistral","model":"mistral-large-2411","#
                + #""timestamp":"2026-11-20T10:00:00+01:00"}"# + "\n")
        _ = try s.dir.write("witnesses.policy", "log " + (try s.setUp("cat ledger.vkey")) + "quorum none\n")
        _ = try s.dir.write("audit-policy.json", #"{"format": "cairn-audit-policy/v1"}"# + "\n")
        let entries = appended.split(separator: "\n").compactMap { parseJSONLine(String($0))["digest"] as? String }
        let blob = SHA256.hash(Array(try Data(contentsOf: URL(fileURLWithPath: s.dir.file("change.diff"))))).description
        return entries + [blob]
    }

    /// `line` as it is run: abbreviations expanded, absolute paths moved into the scratch directory.
    static func expand(_ line: String, addresses: [String], scratch: Scratch) throws -> String {
        var text = line
        for root in ["/srv/", "/var/lib/", "/etc/"] {
            text = text.replacingOccurrences(of: " " + root, with: " " + scratch.path + root)
        }
        // sha256:<hex>…<hex>
        while let ellipsis = text.range(of: "…"),
            let start = text[..<ellipsis.lowerBound].range(of: "sha256:", options: .backwards)
        {
            let head = String(text[start.upperBound..<ellipsis.lowerBound])
            let tail = String(text[ellipsis.upperBound...].prefix { $0.isHexDigit })
            let matches = Set(addresses.filter { $0.hasPrefix("sha256:" + head) && $0.hasSuffix(tail) })
            guard matches.count == 1, let address = matches.first else {
                throw LedgerFixture.FixtureError(
                    message:
                        "\(line): sha256:\(head)…\(tail) stands for \(matches.count) addresses of the example ledger")
            }
            let end = text.index(ellipsis.upperBound, offsetBy: tail.count)
            text.replaceSubrange(start.lowerBound..<end, with: address)
        }
        if let token = text.range(of: #"tok_[0-9a-f]{16}"#, options: .regularExpression) {
            let list = try scratch.setUp("cairn token list --json")
            let tokens = (try JSONSerialization.jsonObject(with: Data(list.utf8)) as? [[String: Any]]) ?? []
            guard let id = tokens.last(where: { $0["revoked"] == nil || $0["revoked"] is NSNull })?["id"] as? String
            else { throw LedgerFixture.FixtureError(message: "\(line): no token to stand for \(text[token])") }
            text.replaceSubrange(token, with: id)
        }
        return text
    }

    @Test("The QUICK START of `cairn --help` runs as written, in an empty directory")
    func quickStart() throws {
        let all = try Self.examples()
        let quickStart = all.filter { $0.command == "cairn" }
        #expect(quickStart.count >= 5)
        #expect(quickStart.first?.line.hasPrefix("cairn init") == true)
        let s = try Scratch()
        for example in quickStart {
            let out = try s.bash(example.line)
            #expect(out.status == 0, "`\(example.line)` exited \(out.status): \(out.stderr)")
        }
    }

    @Test("Every example of every subcommand's --help runs, in order, against a ledger prepared for them")
    func commandExamples() throws {
        guard (try? CLI.exec("/usr/bin/env", ["jq", "--version"]))?.status == 0,
            (try? CLI.exec("/usr/bin/env", ["openssl", "version"]))?.status == 0
        else {
            Issue.record("the examples need jq and openssl")
            return
        }
        let all = try Self.examples().filter { $0.command != "cairn" }
        #expect(all.count >= 60, "only \(all.count) examples found: is the extraction broken?")
        let s = try Scratch()
        let addresses = try Self.prepare(s)
        var ran = 0
        var skipped: Set<String> = []
        for example in all {
            if Self.notRun[example.line] != nil || Self.notRunCommands[example.command] != nil
                || Self.needCapturedRepository.contains(example.line)
            {
                skipped.insert(example.line)
                continue
            }
            // An auditor's copy of the ledger, made as docs/auditors-guide.md says, after the report.
            if example.line.contains("--ledger ./ledger-copy") {
                try s.setUp(
                    "rm -rf ledger-copy && mkdir ledger-copy && cp cairn-ledger/data.mdb cairn-ledger/ledger.vkey ledger-copy/"
                )
            }
            let line = try Self.expand(example.line, addresses: addresses, scratch: s)
            let out = try s.bash(line)
            #expect(out.status == 0, "\(example.command): `\(line)` exited \(out.status): \(out.stderr)")
            ran += 1
        }
        // The list of examples not run stays true: each entry names an example that exists.
        for line in Array(Self.notRun.keys) + Self.needCapturedRepository {
            #expect(skipped.contains(line), "notRun names no example: \(line)")
        }
        // Every example not on one of the lists ran (an example may appear under two commands).
        let listed = all.filter {
            Self.notRun[$0.line] != nil || Self.notRunCommands[$0.command] != nil
                || Self.needCapturedRepository.contains($0.line)
        }
        #expect(ran == all.count - listed.count && listed.count <= Self.notRun.count + 12)
        #expect(try s.bash("cairn fsck").status == 0)
    }
}
