// FuzzProviderLog: model providers' request logs as `cairn import --format provider-log FILE` reads them
// (CairnCommitCapture: `ProviderLog.lines(in:)`, then `ProviderLog.record(line:number:options:)` for each line, under
// each layout — anthropic, openai, generic — with and without `--map` paths and `--include-payloads`;
// specs/interop-formats.md §5), and `--map` paths (`ProviderLog.Path`).
//
// Oracles:
// - no trap, whatever the bytes: a line that cannot be read or mapped is an `ImportProblem` naming that line;
// - lines are numbered from 1, in increasing order, and hold no LF;
// - every record made is a valid `model-call` record (the schema finds nothing), canonicalizes (RFC 8785), has
//   `source.line_hash` = SHA-256 of the line without surrounding whitespace, and its `x_capture.grade` is `import`;
//   converting the same line again gives the same record, or the same problem;
// - a path that parses prints (`description`) to a text that parses to the same path.
import CairnCommitCapture
import CairnCrypto
import CairnJSON
import CairnRecords
import FuzzKit

private let mapped: [ProviderLog.Field: ProviderLog.Path] = [
    .requestID: ProviderLog.Path("meta.rid")!, .provider: ProviderLog.Path("vendor")!,
    .model: ProviderLog.Path(#"served["model"]"#)!, .timestamp: ProviderLog.Path("ts")!,
    .inputTokens: ProviderLog.Path("tokens[0]")!, .status: ProviderLog.Path("code")!,
]

private let optionSets: [ProviderLog.Options] =
    ProviderLog.Format.allCases.map { ProviderLog.Options(format: $0) }
    + [
        ProviderLog.Options(format: .generic, map: mapped, logName: "fuzz"),
        ProviderLog.Options(
            format: .openai, includePayloads: true, redact: { $0.replacing("secret", with: "[REDACTED]") }),
    ]

private func convert(_ line: [UInt8], _ number: Int, _ options: ProviderLog.Options) -> Result<JSONValue, ImportProblem>
{
    do {
        return .success(try ProviderLog.record(line: line, number: number, options: options))
    } catch {
        return .failure(error)
    }
}

private func trimmed(_ bytes: [UInt8]) -> ArraySlice<UInt8> {
    var slice = bytes[...]
    while let first = slice.first, [0x20, 0x09, 0x0d, 0x0a].contains(first) { slice = slice.dropFirst() }
    while let last = slice.last, [0x20, 0x09, 0x0d, 0x0a].contains(last) { slice = slice.dropLast() }
    return slice
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = bytes(data, size)
    var previous = 0
    for (number, line) in ProviderLog.lines(in: input) {
        oracle(number > previous, "line \(number) after line \(previous)")
        oracle(!line.contains(0x0a), "line \(number) holds a line feed")
        previous = number
        for options in optionSets {
            let first = convert(line, number, options)
            let second = convert(line, number, options)
            switch (first, second) {
            case (.success(let record), .success(let again)):
                oracle(record == again, "converting line \(number) twice gives other records")
                oracle(record["type"]?.stringValue == "model-call", "a record that is not a model call")
                let issues = RecordValidator.issues(in: record)
                oracle(issues.isEmpty, "an invalid record: \(issues.map(\.description))")
                oracle((try? JCS.canonicalize(record)) != nil, "a record that does not canonicalize")
                oracle(
                    record["source"]?["line_hash"]?.stringValue == SHA256.hash(trimmed(line)).description,
                    "source.line_hash is not the line's SHA-256")
                oracle(record["x_capture"]?["grade"]?.stringValue == "import", "a grade other than import")
                if !options.includePayloads {
                    oracle(
                        record["prompt"] == nil && record["output"] == nil, "a payload kept without --include-payloads")
                }
            case (.failure(let a), .failure(let b)):
                oracle(a == b, "problems \(a) and \(b)")
                oracle(a.line == number, "a problem at line \(a.line) for line \(number)")
            default:
                oracle(false, "converting line \(number) twice succeeded once")
            }
        }
    }
    // The first line, as a --map path.
    let text = String(decoding: input.prefix { $0 != 0x0a }.prefix(256), as: UTF8.self)
    if let path = ProviderLog.Path(text) {
        oracle(!path.components.isEmpty, "an empty path from \(text.debugDescription)")
        let printed = path.description
        oracle(ProviderLog.Path(printed) == path, "\(text.debugDescription) prints as \(printed.debugDescription)")
    }
    return 0
}

/// Log lines of every layout the spec shows, and near misses.
private func seeds() -> [[UInt8]] {
    let anthropic = #"""
        {"request_id":"req_011CVp3sR9mJ5","id":"msg_01XFDUDYJgAACzvnptvVoYEL","type":"message","model":"claude-sonnet-4-5-20250929","usage":{"input_tokens":48213,"output_tokens":3904},"timestamp":"2026-11-20T09:14:01.870Z","status":200}
        """#
    let envelope = #"""
        {"request-id":"req_2","model":"claude-sonnet-4-5","response":{"id":"msg_2","model":"claude-sonnet-4-5-20250929","usage":{"output_tokens":3},"content":[{"type":"text","text":"a secret"}]},"created_at":"2026-11-20T10:14:01+01:00","messages":[{"role":"user","content":"hi"}]}
        """#
    let openai = #"""
        {"x-request-id":"req_6f1c0e2b9a7d4c35","id":"chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT","object":"chat.completion","created":1795166400,"model":"gpt-5-2025-08-07","choices":[{"index":0,"message":{"role":"assistant","content":"ok"}}],"usage":{"prompt_tokens":1920,"completion_tokens":410,"total_tokens":2330}}
        """#
    let responses = #"""
        {"id":"resp_1","created_at":1795166400.25,"status":"completed","model":"gpt-4o","usage":{"input_tokens":5,"output_tokens":6},"cost":{"usd":0.01}}
        """#
    let mappedLine = #"""
        {"meta":{"rid":"gw-7f3a"},"vendor":"mistral","served":{"model":"mistral-large-2411"},"ts":"2026-11-20T10:00:00+01:00","tokens":[12,40],"code":201}
        """#
    let generic = #"""
        {"request_id":"r","provider":"p","model":"m","timestamp":1795166400,"usage":{"input_tokens":1},"status":200,"prompt":"x","output":"y"}
        """#
    return [
        anthropic, envelope, openai, responses, mappedLine, generic,
        [anthropic, openai, responses, mappedLine].joined(separator: "\r\n") + "\r\n",
        "\u{FEFF}" + anthropic + "\n\n" + generic,
        anthropic.replacing("\"status\":200", with: "\"status\":700"),
        openai.replacing("1795166400", with: "1795166400000"),
        responses.replacing("\"id\":\"resp_1\",", with: ""),
        "[1,2]\n{\"request_id\":\n", #"headers["x-request-id"].a[0]"#, "$.usage.input_tokens",
    ].map { Array($0.utf8) }
}

@_cdecl("FuzzProviderLog_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    fuzzerMain(argc, argv, seeds: seeds) { fuzz($0, $1) }
}
