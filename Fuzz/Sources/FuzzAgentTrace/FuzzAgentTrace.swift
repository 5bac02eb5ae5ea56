// FuzzAgentTrace: Agent Trace records (https://github.com/cursor/agent-trace, 0.1.0) as
// `cairn import --format agent-trace FILE` reads them (CairnCommitCapture: `AgentTrace.records(in:)` — JSON Lines,
// one document, or arrays — then `AgentTrace.files(of:)` and `AgentTrace.checkpoints(from:line:repository:
// requestedBy:)`, specs/interop-formats.md), converted against a fixed fake repository: any revision of 7 to 40
// hex digits is a commit (padded with zeros), and every path has a 60-line file, except paths under `missing/`.
//
// Oracles:
// - no trap, whatever the bytes: what cannot be read or converted is an `ImportProblem` naming a line from 1;
// - every converted record is a JSON object of type `checkpoint` that canonicalizes (RFC 8785), and converting the
//   same trace again gives the same records. The records are also run through `RecordValidator` (the import checks
//   them like any record; an invalid one is refused there, not a crash).
import CairnCommitCapture
import CairnJSON
import CairnRecords
import FuzzKit

private let fileBytes: [UInt8] = Array((1...60).map { "line \($0)\n" }.joined().utf8)
private let repository = ImportRepository(
    name: "https://example.com/fuzz.git",
    commit: { revision in
        guard (7...40).contains(revision.count), revision.allSatisfy(\.isHexDigit) else { return nil }
        return revision + String(repeating: "0", count: 40 - revision.count)
    },
    file: { _, path in path.hasPrefix("missing/") ? nil : fileBytes })

private func convert(_ trace: JSONValue, line: Int) -> Result<[[UInt8]], ImportProblem> {
    do {
        let conversion = try AgentTrace.checkpoints(
            from: trace, line: line, repository: repository, requestedBy: "unknown")
        var out: [[UInt8]] = []
        for (at, record) in conversion.records {
            oracle(at >= 1, "a record at line \(at)")
            oracle(record["type"]?.stringValue == "checkpoint", "a record that is not a checkpoint")
            guard let bytes = try? JCS.canonicalize(record) else {
                oracle(false, "a converted record does not canonicalize")
                return .success([])
            }
            out.append(bytes)
            _ = try? RecordValidator.validate(record)
        }
        for note in conversion.notes { oracle(note.line >= 1, "a note at line \(note.line)") }
        return .success(out)
    } catch {
        return .failure(error)
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = bytes(data, size)
    for item in AgentTrace.records(in: input) {
        oracle(item.line >= 1, "a record at line \(item.line)")
        guard case .success(let trace) = item.result else { continue }
        _ = AgentTrace.files(of: trace)
        let first = convert(trace, line: item.line)
        let second = convert(trace, line: item.line)
        switch (first, second) {
        case (.success(let a), .success(let b)): oracle(a == b, "converting a trace twice gives other records")
        case (.failure(let a), .failure(let b)): oracle(a == b && a.line >= 1, "problems \(a) and \(b)")
        default: oracle(false, "converting a trace twice succeeded once")
        }
    }
    return 0
}

/// Records of every shape the spec shows, with a revision the fake repository has: JSON Lines, an array, a
/// BOM, human/mixed/unknown contributors, content hashes, related resources; and near misses.
private func seeds() -> [[UInt8]] {
    let revision = "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0"
    let full = """
        {"version":"0.1.0","id":"550e8400-e29b-41d4-a716-446655440000","timestamp":"2026-01-23T14:30:00Z",
         "vcs":{"type":"git","revision":"\(revision)"},"tool":{"name":"cursor","version":"2.4.0"},
         "files":[{"path":"src/utils/parser.ts","conversations":[{"url":"https://api.cursor.com/v1/conversations/12345",
           "contributor":{"type":"ai","model_id":"anthropic/claude-opus-4-5-20251101"},
           "ranges":[{"start_line":42,"end_line":54,"content_hash":"murmur3:9f2e8a1b"}],
           "related":[{"type":"session","url":"https://example.com/s/1"}]}]},
          {"path":"README.md","conversations":[{"contributor":{"type":"human"},"ranges":[{"start_line":1,"end_line":3}]},
           {"contributor":{"type":"mixed","model_id":"openai/gpt-4o"},"ranges":[{"start_line":5,"end_line":5}]}]}],
         "metadata":{"confidence":0.95}}
        """
    let minimal = """
        {"version":"0.1.0","id":"550e8400-e29b-41d4-a716-446655440001","timestamp":"2026-01-25T10:00:00+02:00",\
        "vcs":{"type":"git","revision":"abc1234"},"files":[{"path":"src/app.ts","conversations":[{"contributor":\
        {"type":"ai"},"ranges":[{"start_line":1,"end_line":50}]}]}]}
        """
    let oneLine = full.replacing("\n", with: "")
    return [
        full, minimal, "\(minimal)\n\n\(oneLine)\n", "[\(minimal),\(oneLine)]", "\u{FEFF}\(minimal)",
        minimal.replacing("src/app.ts", with: "missing/app.ts"),
        minimal.replacing("\"end_line\":50", with: "\"end_line\":61"),
        minimal.replacing("\"type\":\"git\"", with: "\"type\":\"jj\""),
        "\(minimal)\n{\"version\": 1,\n",
    ].map { Array($0.utf8) }
}

@_cdecl("FuzzAgentTrace_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    fuzzerMain(argc, argv, seeds: seeds) { fuzz($0, $1) }
}
