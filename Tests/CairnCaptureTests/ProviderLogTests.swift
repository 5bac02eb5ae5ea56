import CairnCrypto
import CairnJSON
import CairnRecords
import Testing

@testable import CairnCommitCapture

/// Provider request logs to `model-call` records (specs/interop-formats.md §5): the field mapping of each layout and
/// which member wins, `--map` paths, the errors that name the line, the field and the path, and determinism.
@Suite struct ProviderLogTests {
    static func convert(
        _ line: String, _ format: ProviderLog.Format, map: [String: String] = [:], payloads: Bool = false
    ) throws(ImportProblem) -> JSONValue {
        var mapping: [ProviderLog.Field: ProviderLog.Path] = [:]
        for (field, path) in map { mapping[ProviderLog.Field(rawValue: field)!] = ProviderLog.Path(path)! }
        let options = ProviderLog.Options(
            format: format, map: mapping, includePayloads: payloads, redact: { $0.replacing("hunter2", with: "[R]") })
        return try ProviderLog.record(line: Array(line.utf8), number: 7, options: options)
    }

    static func problem(
        _ line: String, _ format: ProviderLog.Format, map: [String: String] = [:]
    ) -> String? {
        do {
            _ = try convert(line, format, map: map)
            return nil
        } catch {
            #expect(error.line == 7)
            return error.message
        }
    }

    @Test("Anthropic: request_id (never the message id), the served model, timestamp over created_at, usage")
    func anthropic() throws {
        let line = #"""
            {"request_id":"req_1","id":"msg_1","model":"claude-sonnet-4-5-20250929","usage":{"input_tokens":10,"output_tokens":20},"timestamp":"2026-11-20T10:14:01.870+01:00","created_at":"2020-01-01T00:00:00Z","status":200,"content":[{"type":"text","text":"hi"}]}
            """#
        let record = try Self.convert(line, .anthropic)
        #expect(record["type"] == "model-call" && record["provider"] == "anthropic")
        #expect(record["request_id"] == "req_1" && record["response_id"] == "msg_1")
        #expect(record["model"] == ["id": "claude-sonnet-4-5-20250929"])
        #expect(record["timestamp"] == "2026-11-20T09:14:01.870Z")
        #expect(record["usage"] == ["input_tokens": 10, "output_tokens": 20])
        #expect(record["status"] == 200)
        #expect(record["prompt"] == nil && record["output"] == nil)
        #expect(record["x_capture"] == ["grade": "import", "source": "provider-log", "payloads_omitted": true])
        #expect(
            record["source"]
                == ["format": "anthropic", "line_hash": .string(SHA256.hash(Array(line.utf8)).description)])
        #expect(RecordValidator.issues(in: record).isEmpty)
        // The same line, whatever surrounds it, is the same record.
        #expect(try Self.convert("  " + line + "\t", .anthropic) == record)

        // A gateway's envelope: the response's model wins over the one asked for.
        let envelope = #"""
            {"request-id":"req_2","model":"claude-sonnet-4-5","response":{"id":"msg_2","model":"claude-sonnet-4-5-20250929","usage":{"output_tokens":3}},"created_at":"2026-11-20T09:00:00Z"}
            """#
        let wrapped = try Self.convert(envelope, .anthropic)
        #expect(wrapped["request_id"] == "req_2" && wrapped["response_id"] == "msg_2")
        #expect(wrapped["model"]?["id"] == "claude-sonnet-4-5-20250929")
        #expect(wrapped["usage"] == ["output_tokens": 3])
        #expect(wrapped["x_capture"]?["payloads_omitted"] == nil)

        #expect(
            Self.problem(#"{"id":"msg_1","model":"m","timestamp":"2026-11-20T09:00:00Z"}"#, .anthropic)
                == "no request_id: expected a string at request_id, request-id or headers.request-id (or give its "
                + "place with --map request_id=PATH)")
    }

    @Test("OpenAI: x-request-id over request_id, else the response id; created; input over prompt tokens")
    func openai() throws {
        let chat = #"""
            {"x-request-id":"req_9","request_id":"other","id":"chatcmpl-1","created":1795166400,"model":"gpt-5-2025-08-07","usage":{"prompt_tokens":19,"completion_tokens":10}}
            """#
        let record = try Self.convert(chat, .openai)
        #expect(record["request_id"] == "req_9" && record["response_id"] == "chatcmpl-1")
        #expect(record["timestamp"] == "2026-11-20T09:20:00Z")
        #expect(record["usage"] == ["input_tokens": 19, "output_tokens": 10])

        // The Responses API: no request id, so the response id correlates; a string status is not an HTTP status.
        let responses = #"""
            {"id":"resp_1","created_at":1795166400.25,"status":"completed","model":"gpt-4o","usage":{"input_tokens":5,"prompt_tokens":99,"output_tokens":6}}
            """#
        let response = try Self.convert(responses, .openai)
        #expect(response["request_id"] == "resp_1" && response["response_id"] == nil)
        #expect(response["timestamp"] == "2026-11-20T09:20:00.250Z")
        #expect(response["status"] == nil)
        #expect(response["usage"] == ["input_tokens": 5, "output_tokens": 6])

        #expect(
            Self.problem(#"{"id":"r","model":"m","created":1795166400000}"#, .openai)?.hasPrefix(
                "timestamp (at created): expected an RFC 3339 date-time") == true)
        #expect(
            Self.problem(#"{"id":"r","model":"m","created":1,"status":700}"#, .openai)
                == "status (at status): expected an HTTP status, an integer from 100 to 599, found 700")
        #expect(
            Self.problem(#"{"id":"r","model":"m","created":1,"usage":{"prompt_tokens":-1}}"#, .openai)
                == "input_tokens (at usage.prompt_tokens): expected a token count, an integer ≥ 0, found -1")
    }

    @Test("generic and --map: any layout; the mapped path alone is read; a required field missing names the map")
    func generic() throws {
        let line = #"""
            {"meta":{"rid":"gw-1"},"vendor":"mistral","served":{"model":"mistral-large-2411"},"ts":"2026-11-20T10:00:00+01:00","tokens":{"in":12},"request_id":"ignored","cost":{"usd":0.5}}
            """#
        let map = [
            "request_id": "meta.rid", "provider": "$.vendor", "model": #"served["model"]"#, "timestamp": "ts",
            "input_tokens": "tokens.in",
        ]
        let record = try Self.convert(line, .generic, map: map)
        #expect(record["request_id"] == "gw-1" && record["provider"] == "mistral")
        #expect(record["model"]?["id"] == "mistral-large-2411" && record["timestamp"] == "2026-11-20T09:00:00Z")
        #expect(record["usage"] == ["input_tokens": 12] && record["cost"] == ["usd": 0.5])
        #expect(record["source"]?["format"] == "generic")
        #expect(
            Self.problem(line, .generic, map: map.merging(["provider": "nope"]) { $1 })
                == "no provider: expected a string at nope (given with --map provider=…)")
        // An anthropic log read through one mapped field keeps the rest of its layout.
        let anthropic = #"{"rid":"r-1","model":"claude","timestamp":"2026-11-20T09:00:00Z"}"#
        #expect(try Self.convert(anthropic, .anthropic, map: ["request_id": "rid"])["request_id"] == "r-1")
    }

    @Test("Paths: dots, [n], [\"name\"], an optional $; malformed ones are nil")
    func paths() {
        #expect(ProviderLog.Path("a.b[2].c")?.components == [.key("a"), .key("b"), .index(2), .key("c")])
        #expect(ProviderLog.Path("$.a")?.components == [.key("a")])
        #expect(ProviderLog.Path(#"headers["x.request-id"]"#)?.components == [.key("headers"), .key("x.request-id")])
        #expect(ProviderLog.Path(#"["a\"b"].c"#)?.components == [.key("a\"b"), .key("c")])
        #expect(ProviderLog.Path(#"headers["x.request-id"]"#)?.description == #"headers["x.request-id"]"#)
        for bad in ["", "$", ".", "a..b", "a.", "a[", "a[x]", "a]", #"a["b"#, #"a"b"#, "a[1]b"] {
            #expect(ProviderLog.Path(bad) == nil, "\(bad)")
        }
        // Combining marks after a delimiter (U+0711, U+0301) do not hide it: paths are read and printed by Unicode
        // scalars, and every path prints as text that reads back as itself (FuzzProviderLog found the first one).
        for text in [
            "\u{0711}\u{FFFD}G$%h*G$%i*", "[\"\u{0301}x\"]", "a[\u{0301}1]", "a.\u{0301}b", "\u{0301}", "a\"\u{0301}",
        ] {
            guard let path = ProviderLog.Path(text) else { continue }
            #expect(ProviderLog.Path(path.description) == path, "\(text.debugDescription) -> \(path.description)")
        }
        #expect(ProviderLog.Path("\u{0711}G$x")?.description == "[\"\u{0711}G$x\"]")
        #expect(ProviderLog.Path("[\"\u{0711}G$x\"]")?.components == [.key("\u{0711}G$x")])
        #expect(ProviderLog.Path("a\"\u{0301}") == nil)
    }

    @Test("Payloads: left out by default, kept redacted with --include-payloads; JSON values as their text")
    func payloads() throws {
        let line = #"""
            {"request_id":"r","model":"m","timestamp":"2026-11-20T09:00:00Z","messages":[{"role":"user","content":"pw hunter2"}],"content":"ok"}
            """#
        let kept = try Self.convert(line, .anthropic, payloads: true)
        #expect(kept["prompt"] == #"[{"role":"user","content":"pw [R]"}]"#)
        #expect(kept["output"] == "ok")
        #expect(kept["x_capture"]?["payloads_omitted"] == nil)
        let omitted = try Self.convert(line, .anthropic)
        #expect(omitted["prompt"] == nil && omitted["x_capture"]?["payloads_omitted"] == true)
    }

    @Test("Lines that are not JSON objects, and identifiers that are not identifiers, name the line")
    func malformed() {
        #expect(Self.problem("{\"request_id\":", .anthropic)?.hasPrefix("column ") == true)
        #expect(Self.problem("[1]", .anthropic) == "expected a JSON object (one log entry per line), found an array")
        #expect(
            Self.problem(#"{"request_id":"a\nb","model":"m","timestamp":"2026-11-20T09:00:00Z"}"#, .anthropic)
                == #"request_id (at request_id): expected a non-empty string without control characters, found "a\nb""#)
        #expect(
            Self.problem(#"{"request_id":"r","model":"m","timestamp":"yesterday"}"#, .generic, map: ["provider": "x"])
                == "no provider: expected a string at x (given with --map provider=…)")
        #expect(ProviderLog.lines(in: Array("\u{FEFF}{}\n\n  \r\n{\"a\":1}\r\n".utf8)).map(\.line) == [1, 4])
    }
}
