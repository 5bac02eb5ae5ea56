// FuzzJSON: the strict JSON parser and RFC 8785 canonicalization (CairnJSON).
//
// Oracles, for every input the parser accepts:
// - the streaming canonicalizer (`JCS.canonicalize(json:)`, the ingest path) and the value canonicalizer
//   (`JSONParser.parse` then `JCS.canonicalize(_:)`) agree byte for byte, and accept exactly the same inputs;
// - canonicalization is idempotent: the canonical bytes parse again, are `isCanonical`, and canonicalize to
//   themselves, and parse to the same value;
// - the compact writer's output parses to the same canonical bytes;
// - the tape (`JSONTape`, what records are validated and read from) accepts exactly the same inputs with the same
//   errors, holds the same value, and `JSONTape.parseAndCanonicalize` gives the same canonical bytes.
// And for the first 8 bytes read as an IEEE-754 double: the ES6 number text round-trips to the same double.
import CairnJSON
import FuzzKit

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = bytes(data, size)
    checkNumber(input)
    let streamed = Result { () throws(JSONParseError) in try JCS.canonicalize(json: input) }
    let parsed = Result { () throws(JSONParseError) in try JSONParser.parse(input) }
    checkTape(input, parsed: parsed, streamed: streamed)
    switch (streamed, parsed) {
    case (.success(let canonical), .success(let value)):
        guard let fromValue = try? JCS.canonicalize(value) else {
            oracle(false, "the streaming canonicalizer accepted a value the value canonicalizer refuses")
            return 0
        }
        oracle(fromValue == canonical, "streaming and value canonicalization differ")
        oracle(JCS.isCanonical(json: canonical), "canonical bytes are not canonical")
        guard let reparsed = try? JSONParser.parse(canonical) else {
            oracle(false, "canonical bytes do not parse")
            return 0
        }
        oracle((try? JCS.canonicalize(reparsed)) == canonical, "canonical bytes re-canonicalize differently")
        oracle(reparsed == value, "canonical bytes parse to another value")  // -0 == 0 as numbers
        let compact = Array(JSONWriter.compact(value).utf8)
        oracle((try? JCS.canonicalize(json: compact)) == canonical, "the compact writer's output changes the value")
    case (.failure(let a), .failure(let b)):
        oracle(a == b, "the two parsers report different errors: \(a) / \(b)")
    default:
        oracle(false, "the streaming and value parsers disagree on acceptance")
    }
    return 0
}

private func checkTape(
    _ input: [UInt8], parsed: Result<JSONValue, JSONParseError>, streamed: Result<[UInt8], JSONParseError>
) {
    let tape = Result { () throws(JSONParseError) in try JSONTape(parsing: input) }
    let both = input.withUnsafeBytes { raw in
        Result { () throws(JSONParseError) in try JSONTape.parseAndCanonicalize(json: raw) }
    }
    switch (tape, both, parsed, streamed) {
    case (.success(let tape), .success(let both), .success(let value), .success(let canonical)):
        oracle(tape.root.jsonValue == value, "the tape holds another value than the parser's")
        oracle(both.tape.root.jsonValue == value, "parseAndCanonicalize's tape holds another value")
        oracle(both.canonical == canonical, "parseAndCanonicalize's canonical bytes differ")
    case (.failure(let a), .failure(let b), .failure(let c), _):
        oracle(a == c && b == c, "the tape reports another error: \(a) / \(b) / \(c)")
    default:
        oracle(false, "the tape and the parser disagree on acceptance")
    }
}

private func checkNumber(_ input: [UInt8]) {
    guard input.count >= 8 else { return }
    var bits: UInt64 = 0
    for byte in input.prefix(8) { bits = bits << 8 | UInt64(byte) }
    let x = Double(bitPattern: bits)
    guard x.isFinite else { return }
    let text = JCS.serialize(number: x)
    oracle(Double(text) == x, "ES6 text \(text) of \(x) does not read back")
    let reparsed = try? JSONParser.parse(text, options: JSONParser.Options(rejectImpreciseIntegers: false))
    oracle(reparsed == .number(x), "ES6 text \(text) does not parse as JSON to \(x)")
}

private func seeds() -> [[UInt8]] {
    [
        #"{"b":1.50,"a":[true,null,"\u00e9\ud83d\ude00"],"":{"x":-0,"y":1e21,"z":5e-324}}"#,
        #"[1.7976931348623157e308,-1e-7,123456789012345680000,0.1,"\u0000\u001f\"\\\/"]"#,
        #"{"\ud800\udc00":1,"\u0080":2,"a":3,"A":4}"#,
        "  \n[[[[[[[[[[{}]]]]]]]]]]\t",
    ].map { Array($0.utf8) }
}

@_cdecl("FuzzJSON_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    fuzzerMain(argc, argv, seeds: seeds) { fuzz($0, $1) }
}
