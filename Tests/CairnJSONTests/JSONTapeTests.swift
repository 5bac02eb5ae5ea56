import CairnJSON
import Testing

/// `JSONTape`: the same acceptance, errors, values and canonical bytes as `JSONParser` and `JCS`.
@Suite struct JSONTapeTests {
    @Test func readsMembersElementsAndScalars() throws {
        let tape = try JSONTape(
            parsing: Array(#"{"id":"r1","tags":["a",{"k":[1,2]},"c"],"n":-2.5,"t":true,"f":false,"z":null,"":{}}"#.utf8)
        )
        let root = tape.root
        #expect(root.kind == .object)
        #expect(root.count == 7)
        #expect(root["id"]?.stringValue == "r1")
        #expect(root["tags"]?.count == 3)
        #expect(root["tags"]?[1]?["k"]?[1]?.intValue == 2)
        #expect(root["tags"]?[2]?.stringValue == "c")
        #expect(root["tags"]?[3] == nil)
        #expect(root["tags"]?[-1] == nil)
        #expect(root["n"]?.numberValue == -2.5)
        #expect(root["n"]?.intValue == nil)
        #expect(root["t"]?.boolValue == true)
        #expect(root["f"]?.boolValue == false)
        #expect(root["z"]?.kind == .null)
        #expect(root[""]?.kind == .object)
        #expect(root[""]?.count == 0)
        #expect(root["missing"] == nil)
        #expect(root["id"]?["x"] == nil)
        var keys: [String] = []
        root.forEachMember { key, _ in keys.append(String(decoding: key, as: UTF8.self)) }
        #expect(keys == ["id", "tags", "n", "t", "f", "z", ""])
    }

    @Test func keysAreComparedExactlyAfterUnescaping() throws {
        // "é" precomposed and decomposed are two keys; an escaped key is found by its unescaped bytes.
        let tape = try JSONTape(parsing: Array(#"{"\u00e9":1,"e\u0301":2,"a\"b":3}"#.utf8))
        #expect(tape.root["\u{E9}"]?.intValue == 1)
        #expect(tape.root["e\u{301}"]?.intValue == 2)
        #expect(tape.root["a\"b"]?.intValue == 3)
    }

    @Test func holdsTheParsersValueOverARandomCorpus() throws {
        var generator = CorpusGenerator(seed: 2026_12_07, allowImpreciseIntegers: false)
        for _ in 0..<2_000 {
            let value = generator.value()
            let text = Array(generator.messyText(value).utf8)
            let parsed = try JSONParser.parse(text)
            let tape = try JSONTape(parsing: text)
            #expect(tape.root.jsonValue == parsed)
            #expect(tape.root.kind == parsed.kind)
            #expect(tape.root.count == parsed.count)
            let both = try text.withUnsafeBytes { try JSONTape.parseAndCanonicalize(json: $0) }
            #expect(both.canonical == (try JCS.canonicalize(json: text)))
            #expect(both.tape.root.jsonValue == parsed)
        }
    }

    @Test(arguments: [
        #"{"a":1,"a":2}"#, #"[1,]"#, "", "  ", #"{"a":"\ud800"}"#, "[1e400]", "9007199254740993", #"{"a":1"#,
        "\u{FEFF}[]",
        "[[[[", "nul", #"{"a" 1}"#,
    ])
    func refusesWhatTheParserRefusesWithTheSameError(_ text: String) {
        let bytes = Array(text.utf8)
        let expected = parseError(bytes)
        #expect(expected != nil)
        #expect(throws: expected!) { try JSONTape(parsing: bytes) }
        #expect(throws: expected!) { try bytes.withUnsafeBytes { try JSONTape.parseAndCanonicalize(json: $0) } }
    }

    @Test func honoursTheParsersOptions() throws {
        let deep = Array(String(repeating: "[", count: 5).utf8) + Array(String(repeating: "]", count: 5).utf8)
        #expect(throws: JSONParseError.self) { try JSONTape(parsing: deep, options: .init(maxDepth: 4)) }
        #expect(try JSONTape(parsing: deep, options: .init(maxDepth: 5)).root.count == 1)
        let big = Array("9007199254740993".utf8)
        #expect(try JSONTape(parsing: big, options: .init(rejectImpreciseIntegers: false)).root.numberValue != nil)
    }
}
