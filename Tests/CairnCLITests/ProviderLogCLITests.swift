import CairnTestSupport
import Foundation
import Testing

/// Issue 12 item 7, model-side logs: `cairn import --format provider-log` reads Anthropic-style, OpenAI-style and
/// mapped logs into `model-call` records, and `cairn query --request-id` shows each checkpoint with the model calls
/// of its request id, flagging a model that differs (specs/interop-formats.md §5).
@Suite struct ProviderLogCLITests {
    /// A checkpoint with a request id, as one JSON line.
    static func checkpoint(_ id: String, requestID: String, model: String, provider: String) -> String {
        #"{"type":"checkpoint","schema":1,"id":"\#(id)","timestamp":"2026-11-20T09:14:03Z","#
            + #""requested_by":"alice@example.com","tool_path":"agent","model":{"id":"\#(model)","#
            + #""version":"1","provider":"\#(provider)"},"prompt":"Add retries","request_id":"\#(requestID)","#
            + #""outputs":[{"repo":"git@example.com:pay/client.git","commit":"9fceb02d0ae598e95dc970b74767f19372d61af8","#
            + #""path":"src/\#(id).ts","ranges":[[1,9]],"content_hash":"sha256:"#
            + String(repeating: "c", count: 64) + #"","contributor":"ai"}]}"#
    }

    static let anthropicLog =
        [
            #"{"request_id":"req_011CVp3sR9mJ5","id":"msg_01XF","type":"message","model":"claude-sonnet-4-5-20250929","usage":{"input_tokens":48213,"output_tokens":3904},"timestamp":"2026-11-20T09:14:01.870Z","status":200}"#,
            #"{"request_id":"req_unclaimed","id":"msg_02AB","model":"claude-sonnet-4-5-20250929","usage":{"input_tokens":10,"output_tokens":5},"created_at":"2026-11-20T09:30:00Z"}"#,
        ].joined(separator: "\n") + "\n"

    static let openAILog =
        #"{"x-request-id":"req_6f1c0e2b","id":"chatcmpl-B9MB","object":"chat.completion","created":1795166400,"model":"gpt-5-2025-08-07","usage":{"prompt_tokens":1920,"completion_tokens":410,"total_tokens":2330}}"#
        + "\n"

    /// A provenance ledger holding two checkpoints with request ids (entries 0 and 1).
    static func fixture() throws -> LedgerFixture {
        let f = try LedgerFixture(profile: "provenance")
        let checkpoints = try f.dir.write(
            "checkpoints.jsonl",
            [
                checkpoint(
                    "cp-a", requestID: "req_011CVp3sR9mJ5", model: "claude-sonnet-4-5-20250929", provider: "anthropic"),
                checkpoint("cp-o", requestID: "req_6f1c0e2b", model: "gpt-5", provider: "openai"),
            ].joined(separator: "\n") + "\n")
        try f.cli.ok("append", checkpoints)
        return f
    }

    static func ok(_ f: LedgerFixture, _ args: [String], sourceLocation: SourceLocation = #_sourceLocation) throws {
        let out = try f.cli.run(args)
        #expect(out.status == 0, "cairn \(args): \(out.stderr)", sourceLocation: sourceLocation)
    }

    static func json(_ out: CLI.Output) -> [[String: Any]] {
        (try? JSONSerialization.jsonObject(with: Data(out.stdout))) as? [[String: Any]] ?? []
    }

    @Test("Anthropic and OpenAI logs correlate with checkpoints by request id; a differing model is flagged")
    func correlate() throws {
        let f = try Self.fixture()
        let anthropic = try f.dir.write("anthropic.jsonl", Self.anthropicLog)
        let openai = try f.dir.write("openai.jsonl", Self.openAILog)
        let first = parseJSONLine(
            try f.cli.ok("import", "--format", "provider-log", "--provider", "anthropic", "--json", anthropic).text)
        #expect(
            first["appended"] as? Int == 2 && first["records"] as? Int == 2
                && first["format"] as? String == "provider-log")
        let second = parseJSONLine(
            try f.cli.ok("import", "--format", "provider-log", "--provider", "openai", "--json", openai).text)
        #expect(second["appended"] as? Int == 1 && second["tree_size"] as? Int == 5)

        let claude = Self.json(try f.cli.ok("query", "--request-id", "req_011CVp3sR9mJ5", "--json"))
        #expect(claude.count == 1)
        #expect(claude.first?["index"] as? Int == 0 && claude.first?["model_mismatch"] as? Bool == false)
        let calls = claude.first?["model_calls"] as? [[String: Any]] ?? []
        #expect(calls.count == 1)
        #expect(calls.first?["index"] as? Int == 2 && calls.first?["provider"] as? String == "anthropic")
        #expect(
            calls.first?["model"] as? String == "claude-sonnet-4-5-20250929" && calls.first?["status"] as? Int == 200)
        #expect((calls.first?["usage"] as? [String: Any])?["output_tokens"] as? Int == 3904)

        // The client recorded the alias; the provider served a dated model.
        let gpt = Self.json(try f.cli.ok("query", "--request-id", "req_6f1c0e2b", "--json"))
        #expect(gpt.count == 1 && gpt.first?["model_mismatch"] as? Bool == true)
        #expect((gpt.first?["model_calls"] as? [[String: Any]])?.first?["model"] as? String == "gpt-5-2025-08-07")
        let table = try f.cli.ok("query", "--request-id", "req_6f1c0e2b")
        #expect(table.text.contains("MODEL CALLS") && table.text.contains("#4 MISMATCH"))
        #expect(table.stderr.contains("model mismatch: entry 1: the checkpoint names model gpt-5"))
        let jsonl = try f.cli.ok("query", "--jsonl")
        #expect(jsonl.lines.count == 2 && jsonl.lines.allSatisfy { $0.contains("\"model_calls\":[{") })

        // --type model-call: every call; with --request-id alone, a call no checkpoint names too.
        let allCalls = Self.json(try f.cli.ok("query", "--type", "model-call", "--json"))
        #expect(allCalls.map { $0["index"] as? Int } == [2, 3, 4])
        #expect(allCalls.allSatisfy { ($0["record"] as? [String: Any])?["x_capture"] as? [String: Any] != nil })
        let grade = (allCalls.first?["record"] as? [String: Any])?["x_capture"] as? [String: Any]
        #expect(grade?["grade"] as? String == "import")
        let unclaimed = Self.json(
            try f.cli.ok("query", "--type", "model-call", "--request-id", "req_unclaimed", "--json"))
        #expect(unclaimed.map { $0["index"] as? Int } == [3])
        #expect(Self.json(try f.cli.ok("query", "--request-id", "req_unclaimed", "--json")).isEmpty)
        let ofTheAgent = Self.json(try f.cli.ok("query", "--type", "model-call", "--tool-path", "agent", "--json"))
        #expect(ofTheAgent.map { $0["index"] as? Int } == [2, 4])

        // Importing the same logs again appends nothing.
        for (provider, file) in [("anthropic", anthropic), ("openai", openai)] {
            let again = parseJSONLine(
                try f.cli.ok("import", "--format", "provider-log", "--provider", provider, "--json", file).text)
            #expect(again["appended"] as? Int == 0 && again["duplicates"] as? Int == again["records"] as? Int)
            #expect(again["tree_size"] as? Int == 5)
        }
        try f.cli.ok("fsck")
    }

    @Test("A line that does not map names its line and field, exits 65, and nothing is imported")
    func badLines() throws {
        let f = try Self.fixture()
        let log = try f.dir.write(
            "bad.jsonl",
            Self.anthropicLog
                + #"{"id":"msg_03","model":"claude-sonnet-4-5-20250929","timestamp":"2026-11-20T09:40:00Z"}"# + "\n"
                + #"{"request_id":"req_4","model":5,"timestamp":"2026-11-20T09:40:00Z"}"# + "\n")
        let out = try f.cli.run("import", "--format", "provider-log", "--provider", "anthropic", log)
        #expect(out.status == 65)
        #expect(out.stderr.contains("bad.jsonl:3: no request_id: expected a string at request_id, request-id"))
        #expect(out.stderr.contains("bad.jsonl:4: model (at model): expected a non-empty string"))
        #expect(out.stderr.contains("nothing was imported"))
        #expect(try f.cli.ok("checkpoint").text.split(separator: "\n")[1] == "2")

        let one = try f.dir.write("one.jsonl", #"{"request_id":"r","model":"m","timestamp":"noon"}"# + "\n")
        let single = try f.cli.run("import", "--format", "provider-log", "--provider", "anthropic", one)
        #expect(single.status == 65)
        #expect(
            single.stderr.contains(
                "one.jsonl:1: timestamp (at timestamp): expected an RFC 3339 date-time (2026-11-20T09:14:03Z, any "
                    + "offset) or a number of Unix seconds, found \"noon\" (nothing was imported)"))

        // --skip-invalid imports the others, and still says that the input did not arrive whole.
        let skipping = try f.cli.run(
            "import", "--format", "provider-log", "--provider", "anthropic", "--skip-invalid", "--json", log)
        #expect(skipping.status == 65)
        #expect(parseJSONLine(skipping.text)["appended"] as? Int == 2)
        #expect(skipping.stderr.contains("skipped " + log + ":3: no request_id"))
        let empty = try f.dir.write("empty.jsonl", "\n\n")
        #expect(try f.cli.run("import", "--format", "provider-log", empty).status == 65)
    }

    @Test("Usage errors: an unknown --map field, a malformed path, provider-log options with another format")
    func usage() throws {
        let f = try Self.fixture()
        let log = try f.dir.write("a.jsonl", Self.anthropicLog)
        for args in [
            ["--map", "colour=a"], ["--map", "model=a..b"], ["--map", "model"],
            ["--map", "model=a", "--map", "model=b"],
            ["--provider", "google"], ["--log", ""], ["--requested-by", "x"], ["--repo", "."],
        ] {
            let out = try f.cli.run(["import", "--format", "provider-log"] + args + [log])
            #expect(out.status == 64, "\(args): \(out.stderr)")
        }
        #expect(try f.cli.run("import", "--provider", "openai", log).status == 64)
        #expect(try f.cli.run("import", "--format", "provider-log").status == 64)
    }

    @Test("A mapped layout, a log name, and payloads: left out, or kept redacted with the repository's key")
    func mappedAndPayloads() throws {
        let f = try Self.fixture()
        let secret = "AKIAIOSFODNN7EXAMPLE"
        let log = try f.dir.write(
            "gateway.jsonl",
            #"{"meta":{"rid":"req_6f1c0e2b"},"vendor":"openai","served":{"model":"gpt-5"},"ts":1795166400,"#
                + #""prompt":"deploy with \#(secret)","output":"done"}"# + "\n")
        let map = [
            "--map", "request_id=meta.rid", "--map", "provider=vendor", "--map", "model=served.model", "--map",
            "timestamp=ts",
        ]
        try Self.ok(f, ["import", "--format", "provider-log", "--log", "gw-eu", log] + map)
        let call = parseJSONLine(try f.cli.ok("get", "2").text)
        #expect((call["source"] as? [String: Any])?["log"] as? String == "gw-eu")
        #expect(call["prompt"] == nil && (call["x_capture"] as? [String: Any])?["payloads_omitted"] as? Bool == true)
        #expect(call["provider"] as? String == "openai" && call["timestamp"] as? String == "2026-11-20T09:20:00Z")
        // The correlation now has both calls; this one agrees with the checkpoint.
        let rows = Self.json(try f.cli.ok("query", "--request-id", "req_6f1c0e2b", "--json"))
        #expect((rows.first?["model_calls"] as? [[String: Any]])?.count == 1)
        #expect(rows.first?["model_mismatch"] as? Bool == false)

        // Outside a repository there is no redaction key: 66.
        let outside = try CLI.exec(
            CLI.binary, ["import", "--format", "provider-log", "--include-payloads", log] + map,
            environment: ["CAIRN_LEDGER": f.cli.ledger, "GIT_CEILING_DIRECTORIES": f.dir.path], directory: f.dir.path)
        #expect(outside.status == 66, "\(outside.stderr)")
        // In one, the prompt is kept with the secret redacted.
        let repo = f.dir.file("repo")
        let git = try CLI.exec("/usr/bin/env", ["git", "init", "-q", repo])
        #expect(git.status == 0)
        try Self.ok(f, ["import", "--format", "provider-log", "--include-payloads", "--repo", repo, log] + map)
        let kept = parseJSONLine(try f.cli.ok("get", "3").text)
        let prompt = kept["prompt"] as? String ?? ""
        #expect(prompt.hasPrefix("deploy with [REDACTED:aws-access-key-id:") && !prompt.contains(secret))
        #expect(kept["output"] as? String == "done")
        #expect(FileManager.default.fileExists(atPath: repo + "/.git/cairn/redaction.key"))
    }

    @Test("A correction of a checkpoint's request_id moves it to the other request's model calls")
    func correction() throws {
        let f = try Self.fixture()
        try f.cli.ok(
            "import", "--format", "provider-log", "--provider", "anthropic",
            try f.dir.write("a.jsonl", Self.anthropicLog))
        let digest = try #require(
            Self.json(try f.cli.ok("query", "--request-id", "req_6f1c0e2b", "--json")).first?["digest"] as? String)
        let correction =
            #"{"type":"correction","schema":1,"corrects":"\#(digest)","author":"alice@example.com","#
            + #""reason":"the agent logged the wrong request id","patch":{"request_id":"req_unclaimed"}}"#
        try f.cli.ok("append", stdin: correction + "\n")
        #expect(Self.json(try f.cli.ok("query", "--request-id", "req_6f1c0e2b", "--json")).isEmpty)
        let moved = Self.json(try f.cli.ok("query", "--request-id", "req_unclaimed", "--json"))
        #expect(moved.map { $0["index"] as? Int } == [1])
        #expect((moved.first?["model_calls"] as? [[String: Any]])?.map { $0["index"] as? Int } == [3])
        #expect(moved.first?["model_mismatch"] as? Bool == true)
    }

    @Test("cairn migrate completes the request-id index (a no-op on a ledger this cairn wrote)")
    func migrate() throws {
        let f = try Self.fixture()
        let out = parseJSONLine(try f.cli.ok("migrate", "--json").text)
        let index = out["request_index"] as? [String: Any]
        #expect(index?["covered_from"] as? Int == 2 && index?["keys_written"] as? Int == 0)
    }
}
