import CairnCrypto
import CairnJSON
import CairnLedger
import CairnTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The bad-input matrix of issue 10 §3, CLI half: one row per bad invocation of the built `cairn`
/// binary — malformed and invalid records, references the ledger does not hold, bad arguments,
/// missing or unreadable files, standard streams that fail, output paths that are not files,
/// damaged data files, bad proofs, checkpoints and keys. Each row states the exit status and the
/// words the message must contain to name the problem (the field, line, file, option or value),
/// and every row must leave the ledger as it found it: the same size, root, latest checkpoint and
/// access log, and `fsck` passing. The HTTP half is `CairnServerTests/BadRequestMatrixTests`.
///
/// The rows share one ledger, prepared once (that every row leaves it unchanged is the point);
/// they run one at a time so that a row that does change it is the only one to fail.
@Suite("Bad-input matrix: cairn", .serialized)
struct BadInputMatrixTests {
    @Test("A bad invocation exits with its status, names the problem and leaves the ledger unchanged", arguments: rows)
    func row(_ row: CLIRow) async throws {
        // The processes, the ledger reads and fsck block: they run off the cooperative pool.
        let world = try await offThePool { try MatrixWorld.shared.get() }
        let invocation = try row.invocation(world)
        switch row.ledger {
        case .shared:
            let (before, out, after, fsckLeaves) = try await offThePool {
                let before = try LedgerFingerprint.of(directory: world.cli.ledger)
                let out = try Self.run(invocation, world.cli)
                let after = try LedgerFingerprint.of(directory: world.cli.ledger)
                var options = Ledger.OpenOptions()
                options.readOnly = true
                let report = try Ledger.open(at: world.cli.ledger, options: options).fsck()
                return (before, out, after, report.leaves)
            }
            check(row, invocation, out)
            #expect(after == before, "the ledger changed: \(before) → \(after)")
            #expect(fsckLeaves == after.size)
        case .damaged(let damage):
            let (out, damaged, after) = try await offThePool {
                // A copy of the ledger whose data.mdb is damaged: the shared one stays intact.
                let copy = try TemporaryDirectory("matrix-damaged")
                for name in ["signing-key.pem", "ledger.vkey"] {
                    try FileManager.default.copyItem(atPath: world.cli.ledger + "/" + name, toPath: copy.file(name))
                }
                let original = Array(try Data(contentsOf: URL(fileURLWithPath: world.cli.ledger + "/data.mdb")))
                let damaged = damage.apply(to: original)
                try Data(damaged).write(to: URL(fileURLWithPath: copy.file("data.mdb")))
                let out = try Self.run(invocation, CLI(ledger: copy.path))
                return (out, damaged, Array(try Data(contentsOf: URL(fileURLWithPath: copy.file("data.mdb")))))
            }
            check(row, invocation, out)
            #expect(after == damaged, "the damaged data.mdb was written to (\(damaged.count) → \(after.count) bytes)")
        }
    }

    /// Runs an invocation with `cli` (blocking).
    static func run(_ invocation: Invocation, _ cli: CLI) throws -> CLI.Output {
        try cli.run(
            invocation.args, stdin: invocation.stdin, environment: invocation.environment,
            stdinFile: invocation.stdinFile, closeStdin: invocation.closeStdin, stdout: invocation.stdout)
    }

    /// Checks the row's exit status and message.
    func check(_ row: CLIRow, _ invocation: Invocation, _ out: CLI.Output) {
        let command = "cairn " + invocation.args.joined(separator: " ")
        #expect(out.status != 132 && out.status != 134 && out.status != 139, "\(command) crashed: \(out.stderr)")
        #expect(!out.stderr.contains("Fatal error"), "\(command): \(out.stderr)")
        expecting(row.knownIssue) {
            #expect(out.status == row.status, "\(command): exit \(out.status), expected \(row.status): \(out.stderr)")
            #expect(!row.mentions.isEmpty)
            for fragment in row.mentions {
                #expect(
                    out.stderr.contains(fragment), "\(command): the message should mention \(fragment): \(out.stderr)")
            }
            if case .pipe = invocation.stdout {
                #expect(out.stdout.count == 0, "\(command) printed: \(out.text)")
            }
        }
    }
}

/// Runs `checks`; for a row marked with a known issue — behaviour that is wrong today and being
/// fixed — their failures are recorded as that known issue, and the test fails when they all pass,
/// so that the marker goes with the fix.
func expecting(_ knownIssue: String?, _ checks: () -> Void) {
    guard let knownIssue else { return checks() }
    withKnownIssue(Comment(rawValue: knownIssue)) { checks() }
}

// MARK: - Rows

/// One row of the matrix.
struct CLIRow: Sendable, CustomTestStringConvertible {
    /// Which ledger the row runs against.
    enum Target: Sendable {
        /// The suite's ledger (checked unchanged afterwards).
        case shared
        /// A copy whose data.mdb is damaged (checked unwritten afterwards).
        case damaged(Damage)
    }

    enum Damage: Sendable {
        /// Cut at 8192 bytes, as an interrupted copy leaves it.
        case truncated
        case empty
        /// Bytes that are no LMDB file.
        case garbage

        func apply(to bytes: [UInt8]) -> [UInt8] {
            switch self {
            case .truncated: Array(bytes.prefix(8192))
            case .empty: []
            case .garbage: (0..<20_000).map { UInt8(truncatingIfNeeded: ($0 &* 2_654_435_761) >> 13) }
            }
        }
    }

    let name: String
    let status: Int32
    /// Words the message on standard error must contain.
    let mentions: [String]
    var ledger: Target = .shared
    /// Why the row fails today, while the fix is under way (see `expecting`).
    var knownIssue: String?
    let invocation: @Sendable (MatrixWorld) throws -> Invocation

    var testDescription: String { "\(name) → \(status)" }

    /// The same row, marked as failing today for `reason` (see `expecting`).
    func failingToday(_ reason: String) -> CLIRow {
        var row = self
        row.knownIssue = reason
        return row
    }
}

/// How a row runs `cairn`.
struct Invocation: Sendable {
    var args: [String]
    var stdin: [UInt8]?
    var stdinFile: String?
    var closeStdin = false
    var stdout: CLI.Target = .pipe
    var environment: [String: String] = [:]

    init(
        _ args: [String], stdin: String? = nil, stdinFile: String? = nil, closeStdin: Bool = false,
        stdout: CLI.Target = .pipe, environment: [String: String] = [:]
    ) {
        self.args = args
        self.stdin = stdin.map { Array($0.utf8) }
        self.stdinFile = stdinFile
        self.closeStdin = closeStdin
        self.stdout = stdout
        self.environment = environment
    }
}

extension CLIRow {
    /// A row whose arguments need nothing from the world.
    static func args(_ name: String, _ status: Int32, _ mentions: [String], _ args: String...) -> CLIRow {
        CLIRow(name: name, status: status, mentions: mentions) { _ in Invocation(args) }
    }

    /// A row whose arguments name the world's files.
    static func with(
        _ name: String, _ status: Int32, _ mentions: [String], ledger: Target = .shared,
        _ invocation: @escaping @Sendable (MatrixWorld) throws -> Invocation
    ) -> CLIRow {
        CLIRow(name: name, status: status, mentions: mentions, ledger: ledger, invocation: invocation)
    }

    /// `cairn append [flags]` with `input` on standard input.
    static func append(
        _ name: String, _ input: String, status: Int32 = 65, _ mentions: [String], flags: [String] = []
    ) -> CLIRow {
        CLIRow(name: name, status: status, mentions: mentions) { _ in Invocation(["append"] + flags, stdin: input) }
    }
}

/// Records for the rows (examples/records.jsonl is in the ledger).
enum Records {
    static let checkpointID = "0f8e7a52-3c1d-4d7e-9a41-7f1c2b6e5d01"
    static let zeros = "sha256:" + String(repeating: "0", count: 64)
    static let ones = "sha256:" + String(repeating: "1", count: 64)

    static func review(
        subject: String = checkpointID, reviewer: String = "bob@example.com", decision: String = "approved",
        at: String = "2026-11-20T10:02:41Z", schema: String = "1", extra: String = ""
    ) -> String {
        #"{"type":"review","schema":\#(schema),"subject":"\#(subject)","reviewer":"\#(reviewer)","decision":"\#(decision)","at":"\#(at)"\#(extra)}"#
    }

    static func correction(of target: String, patch: String, reason: String = "fixing it") -> String {
        #"{"type":"correction","schema":1,"corrects":"\#(target)","author":"alice@example.com","reason":"\#(reason)","patch":\#(patch)}"#
    }

    static func erasure(of blob: String) -> String {
        #"{"type":"erasure","schema":1,"blob":"\#(blob)","reason":"leaked","at":"2026-11-22T08:00:00Z","author":"sec@example.com"}"#
    }

    static func checkpoint(id: String, prompt: String = #""prompt""#) -> String {
        #"{"type":"checkpoint","schema":1,"id":"\#(id)","timestamp":"2026-11-20T09:14:03Z","requested_by":"eve@example.com","tool_path":"ide","model":{"id":"m","version":"1","provider":"p"},"prompt":\#(prompt),"outputs":[{"repo":"r","commit":"9fceb02d0ae598e95dc970b74767f19372d61af8","path":"a.ts","ranges":[[1,2]],"content_hash":"sha256:6b86b273ff34fce19d6b804eff5a3f5747ada4eaa22f1d49c01e52ddb7875b4b","contributor":"ai"}]}"#
    }

    static let deploy =
        #"{"type":"deploy","schema":1,"subject":"0f8e7a52-3c1d-4d7e-9a41-7f1c2b6e5d01","git_commit":"HEAD","branch":"main","environment":"production","at":"2026-11-21T18:00:00Z"}"#
}

extension BadInputMatrixTests {
    static let rows: [CLIRow] = usage + data + notFound + streams + outputs + verification + damaged

    /// An index is decimal without a sign or leading zeros, an address 64 lowercase hex digits
    /// (specs/http-api.md §1, the same references as the CLI's). Today `get 01` prints entry 1
    /// and upper-case hex names the same entry as lower-case; the lead is making both invalid.

    // MARK: Arguments (64, 73)

    static let usage: [CLIRow] = [
        .args("no subcommand", 64, ["missing subcommand", "append"]),
        .args("prove without a subcommand", 64, ["missing subcommand", "inclusion"], "prove"),
        .args("verify without a subcommand", 64, ["missing subcommand", "consistency"], "verify"),
        .args("an unknown subcommand", 64, ["frobnicate"], "frobnicate"),
        .args("an unknown option", 64, ["--bogus"], "get", "1", "--bogus"),
        .args("a missing argument", 64, ["<entry>"], "get"),
        .args("a negative index", 64, ["-1", "non-negative"], "get", "-1"),
        .args("an index with a leading zero", 64, ["01"], "get", "01"),
        .args(
            "a malformed content address", 64, ["sha256:xyz", "sha256:<64 lower-case hex digits>"], "get", "sha256:xyz"),
        .args(
            "a content address of 63 hex digits", 64, ["sha256:" + String(repeating: "a", count: 63)], "get",
            "sha256:" + String(repeating: "a", count: 63)),
        .args(
            "an upper-case content address", 64, ["sha256:2FC4"], "get",
            "sha256:2FC4C998650FB946ECB5B95800CB0AB8CAA37FE68A8386D9D6B47FA8661F292D"
        ),
        .args("--raw with --json", 64, ["--raw", "--json"], "get", "1", "--raw", "--json"),
        .args("query --line 0", 64, ["--line", "got 0"], "query", "--path", "src/retry.ts", "--line", "0"),
        .args(
            "query --since after --until", 64, ["--until", "empty"], "query", "--since", "2026-12-01", "--until",
            "2026-11-01"),
        .args("query --tool-path in the wrong case", 64, ["--tool-path", "\"IDE\""], "query", "--tool-path", "IDE"),
        .args(
            "query by a short commit id", 64, ["--commit", "9fceb02", "full git commit id"], "query", "--commit",
            "9fceb02"),
        .args("query --since that is not a time", 64, ["--since", "yesterday"], "query", "--since", "yesterday"),
        .args("query --line without --path", 64, ["--line", "--path"], "query", "--line", "5"),
        .args("query --type unknown", 64, ["--type", "bogus"], "query", "--type", "bogus"),
        .args("query --limit 0", 64, ["--limit", "got 0"], "query", "--limit", "0"),
        .args("query --limit negative", 64, ["--limit", "-1"], "query", "--limit", "-1"),
        .args("query --lines reversed", 64, ["--lines", "5-3"], "query", "--path", "src/retry.ts", "--lines", "5-3"),
        .args("append --format unknown", 64, ["--format", "yaml"], "append", "--format", "yaml"),
        .args("append --max-errors negative", 64, ["--max-errors", "-1"], "append", "--max-errors", "-1"),
        .args("append --token without --server", 64, ["--token", "--server"], "append", "--token", "secret"),
        .with("prove with --size and --checkpoint", 64, ["--size", "--checkpoint"]) { w in
            Invocation(["prove", "inclusion", "1", "--size", "7", "--checkpoint", w.checkpointFile])
        },
        .args("prove consistency without --old", 64, ["--old"], "prove", "consistency"),
        .args(
            "prove inclusion --size negative", 64, ["-1", "non-negative"], "prove", "inclusion", "0", "--size", "-1"),
        .with("blob put with a malformed media type", 64, ["--media-type", "nonsense"]) { w in
            Invocation(["blob", "put", "--media-type", "nonsense", w.payloadFile])
        },
        .args("blob get of a malformed address", 64, ["sha256:xyz"], "blob", "get", "sha256:xyz"),
        .with("blob erase with a blank reason", 64, ["--reason"]) { w in
            Invocation(["blob", "erase", w.blob, "--reason", "  "])
        },
        .with("verify with a malformed --vkey", 64, ["--vkey", "neither a verifier key nor an existing file"]) { w in
            Invocation(["verify", "checkpoint", "--vkey", "not-a-key", w.checkpointFile])
        },
        .with("verify without --vkey or --policy", 64, ["--vkey", "--policy"]) { w in
            Invocation(["verify", "checkpoint", w.checkpointFile])
        },
        .with("verify with a --vkey file holding no key", 64, ["junk.vkey", "key ID"]) { w in
            Invocation(["verify", "checkpoint", "--vkey", w.junkVkeyFile, w.checkpointFile])
        },
        .with("verify with a malformed --policy", 64, ["--policy", "line 1", "garbage"]) { w in
            Invocation(["verify", "checkpoint", "--policy", w.garbageFile, w.checkpointFile])
        },
        .args(
            "token create with an unknown role", 64, ["--role", "bogus"], "token", "create", "--role", "bogus",
            "--name", "x"),
        .args("token create without a role", 64, ["--role"], "token", "create", "--name", "x"),
        .args("serve --listen malformed", 64, ["listen", "bogus"], "serve", "--listen", "bogus"),
        .args("serve --max-body-bytes negative", 64, ["--max-body-bytes", "-5"], "serve", "--max-body-bytes", "-5"),
        .with("an erasure without --allow-erasure", 64, ["<stdin>:1", "--allow-erasure"]) { w in
            Invocation(["append"], stdin: Records.erasure(of: w.blob))
        },
        .with("init over an existing ledger", 73, ["not empty"]) { w in
            Invocation(["init", "--origin", "example.com/other", "--ledger", w.cli.ledger])
        },
    ]

    // MARK: Records (65)

    static let data: [CLIRow] = [
        .append("not JSON", "hello\n", ["<stdin>:1:1", "expected a JSON value"]),
        .append("truncated JSON", #"{"type":"review","schema":1"#, ["<stdin>:1:", "end of input"]),
        CLIRow(name: "invalid UTF-8", status: 65, mentions: ["<stdin>:1:7", "UTF-8", "0xFF"]) { _ in
            var invocation = Invocation(["append"])
            invocation.stdin = Array(#"{"a":""#.utf8) + [0xFF] + Array(#""}"#.utf8)
            return invocation
        },
        .append("duplicate keys", #"{"type":"review","type":"test"}"#, ["<stdin>:1:", "duplicate key", "\"type\""]),
        .append("a JSON value that is not an object", "[1,2,3]\n", ["<stdin>:1", "expected a JSON object", "array"]),
        .append("an integer beyond 2^53 - 1", #"{"n":9007199254740993}"#, ["<stdin>:1:6", "9007199254740993"]),
        .with("arrays nested 10,000 deep", 65, ["deep.json:1:257", "nested deeper than the limit of 256"]) { w in
            Invocation(["append", w.deepFile])
        },
        .with("a record over the ledger's entry limit", 65, ["big.json:1", "over the ledger's limit of 65536 bytes"]) {
            w in Invocation(["append", w.bigFile])
        },
        .append(
            "a review without its reviewer",
            Records.review().replacingOccurrences(of: #""reviewer":"bob@example.com","#, with: ""),
            ["<stdin>:1", "$.reviewer", "required field is missing"]),
        .append("schema as a string", Records.review(schema: #""1""#), ["$.schema", "expected a number", "\"1\""]),
        .append(
            "a control character in a reviewer's name", Records.review(reviewer: #"mallory\u001b[2K\rbob@example.com"#),
            ["$.reviewer", "control character", "U+001B"]),
        .append("a deploy of commit HEAD", Records.deploy, ["$.git_commit", "\"HEAD\"", "40 or 64 lowercase hex"]),
        .append(
            "a timestamp with a numeric offset", Records.review(at: "2026-11-20T10:02:41+00:00"),
            ["$.at", "2026-11-20T10:02:41+00:00"]),
        .append(
            "a timestamp on February 30", Records.review(at: "2026-02-30T10:02:41Z"), ["$.at", "2026-02-30T10:02:41Z"]),
        .append("an unknown record type", #"{"type":"bogus","schema":1}"#, ["$.type", "\"bogus\""]),
        .append("an unsupported schema", Records.review(schema: "2"), ["$.schema", "schema 2"]),
        .append(
            "an unknown field with --strict-fields", Records.review(extra: #","x_extra":1"#),
            ["$.x_extra", "unknown field"],
            flags: ["--strict-fields"]),
        .append(
            "a review of an unknown checkpoint", Records.review(subject: "no-such-checkpoint"),
            ["$.subject", "no-such-checkpoint"]),
        .append(
            "a correction of an unknown entry", Records.correction(of: Records.zeros, patch: #"{"x_note":1}"#),
            ["$.corrects", "no entry \(Records.zeros)"]),
        .with("a correction whose patch changes the type", 65, ["$.patch.type"]) { w in
            Invocation(["append"], stdin: Records.correction(of: w.checkpointDigest, patch: #"{"type":"review"}"#))
        },
        .with("a correction that makes its target invalid", 65, ["$.patch.decision", "would be invalid", "\"maybe\""]) {
            w in
            Invocation(["append"], stdin: Records.correction(of: w.reviewDigest, patch: #"{"decision":"maybe"}"#))
        },
        .with("a correction chain deeper than 16", 65, ["$.corrects", "correct the original record instead"]) { w in
            Invocation(["append"], stdin: Records.correction(of: w.lastCorrection, patch: #"{"reason":"once more"}"#))
        },
        .append(
            "a second checkpoint with a used id", Records.checkpoint(id: Records.checkpointID),
            ["$.id", Records.checkpointID, "already used by entry 1"]),
        .append(
            "a checkpoint whose prompt is an unknown blob",
            Records.checkpoint(
                id: "matrix-unknown-blob", prompt: #"{"blob":"\#(Records.ones)","size":5,"media_type":"text/plain"}"#),
            [Records.ones, "not in the blob store"]),
        .append(
            "an erasure of an unknown blob", Records.erasure(of: Records.ones), ["$.blob", Records.ones],
            flags: ["--allow-erasure"]),
        .with("an erasure of an erased blob", 65, ["$.blob", "already erased by entry 0"]) { w in
            Invocation(["append", "--allow-erasure"], stdin: Records.erasure(of: w.erasedBlob))
        },
        .append("no records at all", "", ["no records in the input"]),
        .append("only blank lines", "\n\n  \n", ["no records in the input"]),
        .append(
            "--skip-invalid with nothing valid", "nope\n[1]\n",
            ["skipped <stdin>:1", "skipped <stdin>:2", "all 2 records"],
            flags: ["--skip-invalid", "--format", "jsonl"]),
        .append(
            "a valid record followed by an invalid one",
            Records.review(reviewer: "zed@example.com") + "\n" + #"{"type":"review","schema":1}"#,
            ["<stdin>:2", "$.reviewer", "nothing was appended"]),
        .with("import of a file whose first line is not JSON", 65, ["trunc.json:1:", "end of input"]) { w in
            Invocation(["import", w.truncatedFile])
        },
        .with("verify inclusion of an entry file that is not JSON", 65, ["payload.txt", "not JSON", "--raw-entry"]) {
            w in
            Invocation(["verify", "inclusion", "--vkey", w.vkeyFile, "--proof", w.proofFile, "--entry", w.payloadFile])
        },
        .with(
            "prove against a --checkpoint file that is not a checkpoint", 65,
            ["garbage.txt", "not a signed checkpoint"]
        ) {
            w in Invocation(["prove", "inclusion", "1", "--checkpoint", w.garbageFile])
        },
    ]

    // MARK: Not found (66)

    static let notFound: [CLIRow] = [
        .with("append of a missing file", 66, ["missing.jsonl", "no such file"]) { w in
            Invocation(["append", w.missingFile])
        },
        .with("append of a directory", 66, ["a-directory", "is a directory"]) { w in
            Invocation(["append", w.directory])
        },
        .with("append of a socket (cannot be opened)", 66, ["socket", "cannot open"]) { w in
            Invocation(["append", w.socket])
        },
        .with("import of a directory", 66, ["a-directory", "is a directory"]) { w in
            Invocation(["import", w.directory])
        },
        .args("get of an index beyond the log", 66, ["99999", "the log has"], "get", "99999"),
        .args("get of an unknown content address", 66, [Records.zeros], "get", Records.zeros),
        .args("show of an unknown checkpoint id", 66, ["no-such-id"], "show", "no-such-id"),
        .args("blob get of an unknown blob", 66, [Records.zeros, "no blob"], "blob", "get", Records.zeros),
        .with("blob get of an erased blob", 66, ["was erased", "by entry 0", "leaked"]) { w in
            Invocation(["blob", "get", w.erasedBlob])
        },
        .args("blob info of an unknown blob", 66, [Records.zeros], "blob", "info", Records.zeros),
        .args(
            "blob erase of an unknown blob", 66, [Records.ones, "no blob"], "blob", "erase", Records.ones, "--reason",
            "x"),
        .args(
            "prove --size beyond the tree", 66, ["999", "beyond the current size"], "prove", "inclusion", "0", "--size",
            "999"),
        .args(
            "prove --size without a published checkpoint", 66,
            ["tree size 10", "nearest published sizes are 7 and 23"],
            "prove", "inclusion", "0", "--size", "10"),
        .args(
            "prove inclusion of an index beyond --size", 66, ["index 9", "size 7"], "prove", "inclusion", "9", "--size",
            "7"),
        .args("prove consistency from beyond the tree", 66, ["old size 999"], "prove", "consistency", "--old", "999"),
        .with("verify with a missing --vkey file", 66, ["missing.vkey", "no such file"]) { w in
            Invocation(["verify", "checkpoint", "--vkey", w.directory + "/missing.vkey", w.checkpointFile])
        },
        .with("verify with a missing proof file", 66, ["missing.proof", "no such file"]) { w in
            Invocation([
                "verify", "inclusion", "--vkey", w.vkeyFile, "--proof", w.directory + "/missing.proof", "--entry",
                w.entryFile,
            ])
        },
        .with("verify with a missing --policy file", 66, ["missing.policy", "no such file"]) { w in
            Invocation(["verify", "checkpoint", "--policy", w.directory + "/missing.policy", w.checkpointFile])
        },
        .with("a ledger that does not exist", 66, ["nothing-here", "cairn init"]) { w in
            Invocation(["checkpoint"], environment: ["CAIRN_LEDGER": w.directory + "/nothing-here"])
        },
        .with("a ledger path that is a file", 66, ["payload.txt", "is a file, not a ledger directory"]) { w in
            Invocation(["get", "0"], environment: ["CAIRN_LEDGER": w.payloadFile])
        },
        .args("token revoke of an unknown token", 66, ["tok_nope"], "token", "revoke", "tok_nope"),
        .with("serve with a missing configuration file", 66, ["missing.json", "no such file"]) { w in
            Invocation(["serve", "--config", w.directory + "/missing.json"])
        },
    ]

    // MARK: Standard streams (74)

    static let streams: [CLIRow] = [
        .with("append with a directory as standard input", 74, ["standard input", "is a directory"]) { w in
            Invocation(["append"], stdinFile: w.directory)
        },
        .with("verify checkpoint - with a directory as standard input", 74, ["standard input", "is a directory"]) { w in
            Invocation(["verify", "checkpoint", "--vkey", w.vkeyFile, "-"], stdinFile: w.directory)
        },
        .args("blob put - with standard input closed", 74, ["standard input", "closed"], "blob", "put", "-")
            .closingStdin(),
        .args("get --raw to a full device", 74, ["standard output", "No space left"], "get", "1", "--raw")
            .toFullDevice(),
        .args("checkpoint to a full device", 74, ["standard output", "No space left"], "checkpoint").toFullDevice(),
        .args("prove inclusion to a full device", 74, ["standard output", "No space left"], "prove", "inclusion", "1")
            .toFullDevice(),
        .args("query --json to a full device", 74, ["standard output", "No space left"], "query", "--json")
            .toFullDevice(),
        .with("blob get to a full device", 74, ["standard output", "No space left"]) { w in
            Invocation(["blob", "get", w.blob], stdout: .file("/dev/full"))
        },
        .with("a valid verify to a full device", 74, ["standard output", "No space left"]) { w in
            Invocation(["verify", "checkpoint", "--vkey", w.vkeyFile, w.checkpointFile], stdout: .file("/dev/full"))
        },
    ]

    // MARK: Output paths (73)

    static let outputs: [CLIRow] = [
        .with("prove -o a directory", 73, ["a-directory", "is a directory, not a regular file"]) { w in
            Invocation(["prove", "inclusion", "1", "-o", w.directory])
        },
        .with("prove -o a FIFO", 73, ["fifo", "FIFO"]) { w in Invocation(["prove", "inclusion", "1", "-o", w.fifo]) },
        .args(
            "prove consistency -o a character device", 73, ["/dev/null", "character device"], "prove", "consistency",
            "--old", "1", "-o", "/dev/null"),
        .with("blob get -o a directory", 73, ["a-directory", "is a directory"]) { w in
            Invocation(["blob", "get", w.blob, "-o", w.directory])
        },
        .with("report -o a directory", 73, ["a-directory", "is a directory"]) { w in
            Invocation(["report", "-o", w.directory])
        },
        .with("report --manifest a FIFO", 73, ["fifo", "FIFO"]) { w in
            Invocation(["report", "-o", w.unusedPath, "--manifest", w.fifo])
        },
    ]

    // MARK: Verification (1)

    static let verification: [CLIRow] = [
        .with("verify inclusion of another entry", 1, ["invalid:", "root mismatch"]) { w in
            Invocation([
                "verify", "inclusion", "--vkey", w.vkeyFile, "--proof", w.proofFile, "--entry", w.otherEntryFile,
            ])
        },
        .with("verify inclusion with a malformed hash line", 1, ["invalid:", "line 3", "not base64!"]) { w in
            Invocation(["verify", "inclusion", "--vkey", w.vkeyFile, "--proof", w.badProofFile, "--entry", w.entryFile])
        },
        .with("verify inclusion with an empty proof file", 1, ["invalid:", "tlog-proof"]) { w in
            Invocation(["verify", "inclusion", "--vkey", w.vkeyFile, "--proof", w.emptyFile, "--entry", w.entryFile])
        },
        .with("verify checkpoint of a checkpoint whose size was changed", 1, ["invalid:", "bad signature"]) { w in
            Invocation(["verify", "checkpoint", "--vkey", w.vkeyFile, w.tamperedCheckpointFile])
        },
        .with("verify checkpoint with another log's key", 1, ["invalid:", "origin", "example.com/cairn-other"]) { w in
            Invocation(["verify", "checkpoint", "--vkey", w.otherVkey, w.checkpointFile])
        },
        .with("verify checkpoint of a file that is no signed note", 1, ["invalid:", "blank line"]) { w in
            Invocation(["verify", "checkpoint", "--vkey", w.vkeyFile, w.garbageFile])
        },
        .with("verify consistency against an old checkpoint that is garbage", 1, ["invalid:", "old checkpoint"]) { w in
            Invocation([
                "verify", "consistency", "--vkey", w.vkeyFile, "--old", w.garbageFile, "--proof", w.consistencyFile,
            ])
        },
        .with("verify consistency against the wrong old checkpoint", 1, ["invalid:", "size 1", "size 24"]) { w in
            Invocation([
                "verify", "consistency", "--vkey", w.vkeyFile, "--old", w.checkpointFile, "--proof", w.consistencyFile,
            ])
        },
        .with("verify consistency of a proof that is garbage", 1, ["invalid:", "line 1", "old <decimal>"]) { w in
            Invocation([
                "verify", "consistency", "--vkey", w.vkeyFile, "--old", w.oldCheckpointFile, "--proof", w.garbageFile,
            ])
        },
        // A held checkpoint the ledger refuses as not its own fails verification (it was 64, a
        // usage error, like a misspelled option).
        .with("prove against another log's checkpoint", 1, ["--checkpoint", "other.checkpoint", "origin"]) { w in
            Invocation(["prove", "inclusion", "1", "--checkpoint", w.otherCheckpointFile])
        },
        .with("prove against a checkpoint whose size was changed", 1, ["--checkpoint", "tampered", "signature"]) { w in
            Invocation(["prove", "consistency", "--old", "1", "--checkpoint", w.tamperedCheckpointFile])
        },
        .with("prove against a checkpoint of a fork", 1, ["--checkpoint", "fork.checkpoint", "fork of the log"]) { w in
            Invocation(["prove", "inclusion", "0", "--checkpoint", w.forkCheckpointFile])
        },
    ]

    // MARK: Damaged data.mdb (1 for fsck, 74 for the rest)

    static let damaged: [CLIRow] = [
        .with(
            "fsck of a truncated data.mdb", 1, ["data.mdb", "is truncated", "but it has 8192"],
            ledger: .damaged(.truncated)
        ) {
            _ in Invocation(["fsck"])
        },
        .with("checkpoint of a truncated data.mdb", 74, ["data.mdb", "is truncated"], ledger: .damaged(.truncated)) {
            _ in
            Invocation(["checkpoint"])
        },
        .with("append to a truncated data.mdb", 74, ["data.mdb", "is truncated"], ledger: .damaged(.truncated)) { _ in
            Invocation(["append"], stdin: Records.review(reviewer: "late@example.com"))
        },
        .with("fsck of an empty data.mdb", 1, ["data.mdb", "is empty (0 bytes)"], ledger: .damaged(.empty)) { _ in
            Invocation(["fsck"])
        },
        .with("get from an empty data.mdb", 74, ["data.mdb", "is empty"], ledger: .damaged(.empty)) { _ in
            Invocation(["get", "0"])
        },
        .with(
            "fsck of a data.mdb that is garbage", 1, ["data.mdb", "not an LMDB data file"], ledger: .damaged(.garbage)
        ) {
            _ in Invocation(["fsck"])
        },
        .with(
            "query of a data.mdb that is garbage", 74, ["data.mdb", "not an LMDB data file"], ledger: .damaged(.garbage)
        ) {
            _ in Invocation(["query"])
        },
    ]
}

extension CLIRow {
    /// The same row with standard input closed.
    func closingStdin() -> CLIRow {
        let base = invocation
        return CLIRow(name: name, status: status, mentions: mentions, ledger: ledger) { world in
            var invocation = try base(world)
            invocation.closeStdin = true
            return invocation
        }
    }

    /// The same row with standard output on /dev/full (every write fails with ENOSPC).
    func toFullDevice() -> CLIRow {
        let base = invocation
        return CLIRow(name: name, status: status, mentions: mentions, ledger: ledger) { world in
            var invocation = try base(world)
            invocation.stdout = .file("/dev/full")
            return invocation
        }
    }
}

// MARK: - The world

/// The suite's ledger and files, prepared once: a provenance ledger (entry limit 64 KiB) holding an
/// erasure (entry 0), examples/records.jsonl (entries 1-6) and a chain of 16 corrections, each of
/// the one before (entries 7-22, one append, so sizes 8-22 have no checkpoint), then one more
/// review (entry 23: size 24); a live blob and an erased one; proofs, checkpoints and keys (this
/// log's, another log's, a tampered one, one of a fork signed with this log's key); and paths
/// that are a directory, a FIFO, a socket, or nothing.
final class MatrixWorld: Sendable {
    /// Created once and removed when the test process exits.
    static let root: String = {
        let path = NSTemporaryDirectory() + "cairn-matrix-" + UUID().uuidString
        atexit { try? FileManager.default.removeItem(atPath: MatrixWorld.root) }
        return path
    }()

    static let shared = Result { try MatrixWorld() }

    let cli: CLI
    let vkeyFile: String
    let blob: String
    let erasedBlob: String
    /// Entry 1, the first checkpoint of examples/records.jsonl.
    let checkpointDigest: String
    /// Entry 2, a review of it.
    let reviewDigest: String
    /// Entry 22, the 16th correction of the chain.
    let lastCorrection: String

    let directory: String
    let fifo: String
    let socket: String
    let missingFile: String
    /// A path nothing is written to (a row that writes there fails anyway).
    let unusedPath: String
    let payloadFile: String
    let garbageFile: String
    let emptyFile: String
    let truncatedFile: String
    let deepFile: String
    let bigFile: String
    let junkVkeyFile: String
    let otherVkey: String
    let otherCheckpointFile: String
    let forkCheckpointFile: String
    /// The checkpoint of size 24.
    let checkpointFile: String
    let tamperedCheckpointFile: String
    /// The checkpoint of size 1.
    let oldCheckpointFile: String
    /// The inclusion proof of entry 1 at size 24, and entries 1 and 2.
    let proofFile: String
    let badProofFile: String
    let entryFile: String
    let otherEntryFile: String
    /// The consistency proof from size 1 to 24.
    let consistencyFile: String

    struct SetupError: Error, CustomStringConvertible {
        let description: String
    }

    private init() throws {
        let root = Self.root
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        func path(_ name: String) -> String { root + "/" + name }
        func write(_ name: String, _ bytes: [UInt8]) throws -> String {
            try Data(bytes).write(to: URL(fileURLWithPath: path(name)))
            return path(name)
        }
        func write(_ name: String, _ text: String) throws -> String { try write(name, Array(text.utf8)) }

        let main = CLI(ledger: path("ledger"))
        cli = main
        @discardableResult
        func ok(_ args: [String], _ target: CLI? = nil, stdin: String? = nil) throws -> CLI.Output {
            let out = try (target ?? main).run(args, stdin: stdin.map { Array($0.utf8) })
            guard out.status == 0 else {
                throw SetupError(description: "cairn \(args.joined(separator: " ")): \(out.status) \(out.stderr)")
            }
            return out
        }
        func field(_ out: CLI.Output, _ name: String, line: Int = 0) -> String {
            out.lines.indices.contains(line) ? parseJSONLine(out.lines[line])[name] as? String ?? "" : ""
        }

        let origin = "example.com/cairn-matrix"
        try ok(["init", "--origin", origin, "--profile", "provenance", "--max-entry-bytes", "65536"])
        vkeyFile = main.ledger + "/ledger.vkey"
        payloadFile = try write("payload.txt", "payload\n")
        blob = field(try ok(["blob", "put", "--media-type", "text/plain", payloadFile]), "blob")
        let secret = try write("secret.txt", "a secret\n")
        erasedBlob = field(try ok(["blob", "put", "--media-type", "text/plain", secret]), "blob")
        try ok(["blob", "erase", erasedBlob, "--reason", "leaked", "--author", "sec@example.com"])
        oldCheckpointFile = try write("old.checkpoint", try ok(["checkpoint"]).stdout)

        let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("examples/records.jsonl").path
        let appended = try ok(["append", examples])
        checkpointDigest = field(appended, "digest", line: 0)
        reviewDigest = field(appended, "digest", line: 1)

        // 16 corrections, each of the one before; the digests are computed ahead (canonical
        // form, SHA-256) so that the chain is one append.
        var target = checkpointDigest
        var chain: [String] = []
        for link in 1...16 {
            let record = Records.correction(
                of: target, patch: link == 1 ? #"{"work_item":"PAY-1"}"# : #"{"reason":"amended \#(link)"}"#,
                reason: "fix \(link)")
            chain.append(record)
            target = SHA256.hash(try JCS.canonicalize(json: Array(record.utf8))).description
        }
        let chained = try ok(["append"], stdin: chain.joined(separator: "\n"))
        lastCorrection = field(chained, "digest", line: 15)
        guard lastCorrection == target else { throw SetupError(description: "the correction chain: \(chained.text)") }
        try ok(["append"], stdin: Records.review(reviewer: "carol@example.com", decision: "changes_requested"))

        checkpointFile = try write("checkpoint.txt", try ok(["checkpoint"]).stdout)
        let text = try ok(["checkpoint"]).text
        tamperedCheckpointFile = try write(
            "tampered.checkpoint", text.replacingOccurrences(of: "\n24\n", with: "\n25\n"))
        let proof = try ok(["prove", "inclusion", "1"]).text
        proofFile = try write("entry1.tlog-proof", proof)
        var proofLines = proof.components(separatedBy: "\n")
        proofLines[2] = "not base64!"
        badProofFile = try write("bad.tlog-proof", proofLines.joined(separator: "\n"))
        entryFile = try write("entry1.json", try ok(["get", "1", "--raw"]).stdout)
        otherEntryFile = try write("entry2.json", try ok(["get", "2", "--raw"]).stdout)
        consistencyFile = try write("consistency.txt", try ok(["prove", "consistency", "--old", "1"]).stdout)

        // Another log, and a fork of this one: its key and origin, another entry 0.
        let other = CLI(ledger: path("other"))
        otherVkey = try ok(["init", "--origin", "example.com/cairn-other", "--profile", "generic"], other).text
            .trimmingCharacters(in: .whitespacesAndNewlines)
        try ok(["append"], other, stdin: #"{"type":"note","text":"other"}"#)
        otherCheckpointFile = try write("other.checkpoint", try ok(["checkpoint"], other).stdout)
        let fork = CLI(ledger: path("fork"))
        try ok(["init", "--origin", origin, "--signing-key", main.ledger + "/signing-key.pem"], fork)
        try ok(["append"], fork, stdin: Records.checkpoint(id: "fork-checkpoint"))
        forkCheckpointFile = try write("fork.checkpoint", try ok(["checkpoint"], fork).stdout)

        directory = path("a-directory")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
        fifo = path("fifo")
        guard mkfifo(fifo, 0o600) == 0 else { throw SetupError(description: "mkfifo: \(errno)") }
        socket = path("socket")
        try bindSocket(at: socket)
        missingFile = path("missing.jsonl")
        unusedPath = path("never-written.csv")
        garbageFile = try write("garbage.txt", "garbage\n")
        emptyFile = try write("empty.tlog-proof", "")
        truncatedFile = try write("trunc.json", "{\"a\": [1, 2\n")
        deepFile = try write("deep.json", String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000))
        bigFile = try write(
            "big.json",
            Records.review(reviewer: "big@example.com", extra: #","x_pad":"\#(String(repeating: "x", count: 70_000))""#)
        )
        junkVkeyFile = try write("junk.vkey", "junk+junk+junk\n")
    }

}

/// Leaves a Unix-domain socket at `path`: a file that exists but that open(2) cannot open.
private func bindSocket(at path: String) throws {
    typealias SetupError = MatrixWorld.SetupError
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw SetupError(description: "socket: \(errno)") }
    defer { close(fd) }
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    let bytes = Array(path.utf8)
    guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
        throw SetupError(description: "socket path too long: \(path)")
    }
    withUnsafeMutableBytes(of: &address.sun_path) { raw in
        for (i, byte) in bytes.enumerated() { raw[i] = byte }
        raw[bytes.count] = 0
    }
    let status = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
        }
    }
    guard status == 0 else { throw SetupError(description: "bind \(path): \(errno)") }
}
