// FuzzNDJSON: an `application/x-ndjson` body of `POST /v1/entries`, prepared as the server's handler does
// (`EntrySubmission.prepare` in CairnServer, internal, follows exactly these public steps): split with
// `JSONLines.lines`, skip blank lines (`JSONLines.isBlank`), then `PreparedEntry.prepare(json:rules:)` per
// line. Each body is prepared under two rule sets: the provenance profile (schema validation, facts, payload
// extraction over 64 bytes) and the generic profile with a 512-byte entry limit.
//
// Oracles:
// - the lines cover the body: ranges in bounds, in order, without LF, numbered by the LFs before them;
// - a prepared entry is canonical JSON within the size limit, its digest and leaf hash are those of its bytes,
//   its payloads hash to their digests and are referenced by the record's facts, and a provenance entry's bytes
//   are a valid stored record;
// - preparation is idempotent: preparing an entry's bytes again gives the same bytes and no payloads;
// - a refusal for invalid JSON has a 1-based line and column.
import CairnCrypto
import CairnJSON
import CairnLedger
import CairnMerkle
import CairnRecords
import FuzzKit

private let ruleSets = [
    RecordRules(profile: .provenance, maxEntryBytes: 1 << 20, extractOver: 64),
    RecordRules(profile: .generic, maxEntryBytes: 512),
]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let body = bytes(data, size)
    let lines = JSONLines.lines(body)
    checkLines(lines, of: body)
    let texts = lines.filter { !JSONLines.isBlank(body[$0.range]) }
    for rules in ruleSets {
        for line in texts {
            let result = body[line.range].withUnsafeBytes { raw in
                Result { () throws(RecordError) in try PreparedEntry.prepare(json: raw, rules: rules) }
            }
            switch result {
            case .success(let entry): check(entry, rules: rules)
            case .failure(let error):
                if let parse = error.parseError {
                    oracle(
                        parse.line >= 1 && parse.column >= 1, "parse error at line \(parse.line) col \(parse.column)")
                }
            }
        }
    }
    return 0
}

private func checkLines(_ lines: [JSONLines.Line], of body: [UInt8]) {
    var start = 0
    var newlines = 0
    for line in lines {
        oracle(line.range.lowerBound >= start && line.range.upperBound <= body.count, "line range out of order")
        oracle(!body[line.range].contains(0x0A), "a line contains LF")
        newlines += body[start..<line.range.lowerBound].count(where: { $0 == 0x0A })
        oracle(line.number == newlines + 1, "line \(line.number) follows \(newlines) LFs")
        start = line.range.upperBound
    }
    let total = body.count(where: { $0 == 0x0A })
    oracle(lines.count == total + (body.last == 0x0A || body.isEmpty ? 0 : 1), "\(lines.count) lines, \(total) LFs")
}

private func check(_ entry: PreparedEntry, rules: RecordRules) {
    oracle(entry.bytes.count <= rules.maxEntryBytes, "entry of \(entry.bytes.count) bytes over the limit")
    oracle(JCS.isCanonical(json: entry.bytes), "a prepared entry is not canonical JSON")
    oracle(entry.bytes.first == UInt8(ascii: "{"), "a prepared entry is not an object")
    oracle(entry.digest == SHA256.hash(entry.bytes), "the entry digest is not the SHA-256 of its bytes")
    oracle(entry.leafHash == RFC6962.leafHash(entry.bytes), "the leaf hash is not RFC 6962's")
    for payload in entry.payloads {
        oracle(payload.digest == SHA256.hash(payload.bytes), "a payload digest is not its bytes' SHA-256")
        oracle(
            entry.facts?.blobReferences.contains(payload.digest) == true,
            "payload \(payload.digest) is not referenced by the record")
    }
    if rules.profile == .provenance {
        oracle(entry.facts != nil, "a provenance entry has no facts")
        let stored = try? JSONParser.parse(entry.bytes)
        oracle(
            stored.map { RecordValidator.issues(in: $0, options: .stored).isEmpty } == true,
            "a prepared provenance entry is not a valid stored record")
    }
    let again = try? PreparedEntry.prepare(json: entry.bytes, rules: rules)
    oracle(again?.bytes == entry.bytes, "preparing a prepared entry changes it")
    oracle(again?.payloads.isEmpty == true, "preparing a prepared entry extracts payloads again")
}

private func seeds() -> [[UInt8]] {
    let long = String(repeating: "retry with backoff ", count: 8)
    let checkpoint =
        #"{"type":"checkpoint","schema":1,"id":"0f8e7a52-3c1d-4d7e-9a41-7f1c2b6e5d01","timestamp":"2026-11-20T09:14:03Z","requested_by":"alice@example.com","tool_path":"ide","model":{"id":"m","provider":"p"},"prompt":""#
        + long + #"","outputs":[]}"#
    return [
        Array((checkpoint + "\r\n\n  \n{\"a\":1}\n[1]\n{").utf8),
        Array("{\"x\":\"\\u00e9\"}\n{\"x\":1e400}\n\n".utf8),
    ]
}

@_cdecl("FuzzNDJSON_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    fuzzerMain(argc, argv, seeds: seeds) { fuzz($0, $1) }
}
