// FuzzRecord: record validation (CairnRecords: `RecordValidator`, `RecordFacts`, `Timestamp`) on any JSON
// the strict parser accepts.
//
// Oracles, under each of the four validator option sets:
// - `RecordFacts` (validate, then extract with the validator's guarantees) succeeds exactly when the
//   validator finds no issue, and never traps on a valid record;
// - validation does not depend on formatting or member order: the canonical form of the input has the same
//   issues (compared as a set of path + code);
// - a record valid with strict fields is valid without, and one valid without control characters is valid
//   when they are accepted;
// - read from its tape (`JSONTape`, the ingest and read path) the record has exactly the same issues, in the same
//   order, and the same facts, as read from its value tree.
// And: a timestamp `parse` accepts formats back to a text that parses to the same instant.
import CairnJSON
import CairnRecords
import FuzzKit

private let optionSets: [RecordValidator.Options] = [
    .init(), .init(strictFields: true), .stored, .init(strictFields: true, acceptsControlCharacters: true),
]

private struct Found: Hashable {
    let path: String
    let code: ValidationIssue.Code
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = bytes(data, size)
    checkTimestamp(input)
    guard let record = try? JSONParser.parse(input) else { return 0 }
    let canonical = try? JSONParser.parse(JCS.canonicalize(json: input))
    var found: [[ValidationIssue]] = []
    let tape = try? JSONTape(parsing: input)
    oracle(tape != nil, "the parser accepted a record the tape refuses")
    if let tape {
        oracle(RecordFacts(stored: tape.root) == RecordFacts(stored: record), "the tape gives other stored facts")
    }
    for options in optionSets {
        let issues = RecordValidator.issues(in: record, options: options)
        found.append(issues)
        if let tape {
            oracle(RecordValidator.issues(in: tape.root, options: options) == issues, "the tape has other issues")
            let fromTape = Result { () throws(RecordValidationError) in try RecordFacts(tape.root, options: options) }
            let fromValue = Result { () throws(RecordValidationError) in try RecordFacts(record, options: options) }
            oracle(fromTape == fromValue, "the tape gives other facts")
        }
        let facts = Result { () throws(RecordValidationError) in try RecordFacts(record, options: options) }
        switch facts {
        case .success: oracle(issues.isEmpty, "RecordFacts accepted a record with issues: \(issues)")
        case .failure(let error): oracle(error.issues == issues, "RecordFacts and the validator disagree")
        }
        if let canonical {
            let again = RecordValidator.issues(in: canonical, options: options)
            oracle(
                Set(issues.map { Found(path: $0.path, code: $0.code) })
                    == Set(again.map { Found(path: $0.path, code: $0.code) }),
                "the canonical form has other issues: \(issues) / \(again)")
        }
    }
    // Strict mode may report an unknown field instead of the issues inside it, so compare validity only.
    let valid = found.map(\.isEmpty)
    oracle((!valid[1] || valid[0]) && (!valid[3] || valid[2]), "valid with strict fields, invalid without: \(found)")
    oracle(
        (!valid[0] || valid[2]) && (!valid[1] || valid[3]), "accepting control characters refused a record: \(found)")
    return 0
}

private func checkTimestamp(_ input: [UInt8]) {
    guard input.count <= 40, let text = String(validating: input, as: UTF8.self),
        let instant = Timestamp.parse(text)
    else { return }
    let formatted = Timestamp.format(instant)
    oracle(
        Timestamp.parse(formatted) == instant, "timestamp \(text) formats as \(formatted), which reads back differently"
    )
}

private func seeds() -> [[UInt8]] {
    [
        "2026-11-20T09:14:03Z", "2026-11-20T09:14:03.123456+01:30", "0000-01-01T00:00:00Z",
        #"{"type":"review","schema":1,"subject":"sha256:6b86b273ff34fce19d6b804eff5a3f5747ada4eaa22f1d49c01e52ddb7875b4b","reviewer":"bob@example.com","decision":"approved","at":"2026-11-20T10:00:00Z"}"#,
    ].map { Array($0.utf8) }
}

@_cdecl("FuzzRecord_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    fuzzerMain(argc, argv, seeds: seeds) { fuzz($0, $1) }
}
