// FuzzRetentionPolicy: retention policy files as `cairn retention plan` and `apply` read them (CairnRecords:
// `RetentionPolicy(parsing:)`, `RetentionPeriod`, `Timestamp.adding`; specs/retention.md §1).
//
// Oracles:
// - no trap, whatever the bytes (the line map of error messages included);
// - an error names a line between 1 and the number of lines of the input, and a path starting with `$`;
// - a policy that parses has unique rule names, at most one rule per record type and payload, each payload one the
//   spec lists for its type, and each rule's line within the input;
// - a period that parses is written back as its input, and a due date is never before the record's time.
import CairnJSON
import CairnRecords
import FuzzKit

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = bytes(data, size)
    // Lines as JSONParser counts them: LF, CR LF and a lone CR each end one.
    let lineCount =
        1
        + input.indices.filter { i in
            input[i] == 0x0a || (input[i] == 0x0d && (i + 1 >= input.count || input[i + 1] != 0x0a))
        }.count
    if let text = String(validating: input, as: UTF8.self), let period = RetentionPeriod(text) {
        oracle(period.description == text, "a period is not written as read")
        for start in [Int64(0), -62_167_219_200_000, 1_795_166_043_120] {
            if let end = period.end(from: start) { oracle(end >= start, "a period moved \(start) backwards") }
        }
    }
    do {
        let policy = try RetentionPolicy(parsing: input)
        var seen: [String] = []
        for rule in policy.rules {
            oracle(!seen.contains { $0.utf8.elementsEqual(rule.name.utf8) }, "two rules named \(rule.name)")
            seen.append(rule.name)
            oracle(rule.line >= 1 && rule.line <= lineCount, "rule line \(rule.line) of \(lineCount)")
            let fields = RetentionPolicy.payloads.first { $0.type == rule.recordType }?.fields ?? []
            oracle(fields.contains(rule.payload), "payload \(rule.payload) of \(rule.recordType)")
            let same = policy.rules.filter { $0.recordType == rule.recordType && $0.payload == rule.payload }
            oracle(same.count == 1, "two rules for \(rule.recordType) \(rule.payload)")
        }
    } catch {
        oracle(error.line >= 1 && error.line <= lineCount, "error line \(error.line) of \(lineCount)")
        oracle(error.path.hasPrefix("$"), "error path \(error.path)")
    }
    return 0
}

/// Policies that parse, and near misses.
private func seeds() -> [[UInt8]] {
    func rule(_ name: String, _ type: String, _ payload: String, _ period: String) -> String {
        #"{"name":"\#(name)","record_type":"\#(type)","payload":"\#(payload)","erase_after":"\#(period)"}"#
    }
    let texts = [
        #"{"format":"cairn-retention/1","rules":[]}"#,
        "{\n  \"format\": \"cairn-retention/1\",\n  \"rules\": [\n    "
            + rule("prompts-3y", "checkpoint", "prompt", "P3Y")
            + ",\n    " + rule("calls", "model-call", "output", "P1Y6M") + "\n  ]\n}\n",
        #"{"format":"cairn-retention/1","rules":["# + rule("a", "checkpoint", "turns", "P0D") + ","
            + rule("a", "checkpoint", "raw_output", "P90D") + "]}",
        #"{"format":"cairn-retention/1","rules":[{"name":"x","record_type":"review","payload":"prompt"}]}"#,
        "P1Y2M3D", "P18M",
    ]
    return texts.map { Array($0.utf8) }
}

@_cdecl("FuzzRetentionPolicy_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    fuzzerMain(argc, argv, seeds: seeds) { fuzz($0, $1) }
}
