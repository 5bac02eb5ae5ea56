import CairnJSON
import Testing

/// `JSONWriter`: human and script output.
@Suite struct JSONWriterTests {
    static let sample: JSONValue = [
        "name": "cairn", "tags": ["a", "b"], "empty": [:], "none": [], "n": -1.5e-7, "ok": true, "x": nil,
    ]

    @Test func compactKeepsStoredOrderWithoutWhitespace() {
        #expect(
            JSONWriter.compact(Self.sample)
                == #"{"name":"cairn","tags":["a","b"],"empty":{},"none":[],"n":-1.5e-7,"ok":true,"x":null}"#)
    }

    @Test func prettyIndentsByTwoSpacesWithoutTrailingNewline() {
        let expected = """
            {
              "name": "cairn",
              "tags": [
                "a",
                "b"
              ],
              "empty": {},
              "none": [],
              "n": -1.5e-7,
              "ok": true,
              "x": null
            }
            """
        #expect(JSONWriter.pretty(Self.sample) == expected)
        #expect(JSONWriter.pretty(1) == "1")
        #expect(JSONWriter.prettyBytes(Self.sample) == Array(expected.utf8))
    }

    @Test func controlCharactersAreEscapedLikeJCS() {
        let value: JSONValue = ["k\u{1}": "tab\tnl\ncr\rff\u{C}bs\u{8}nul\u{0}us\u{1F}del\u{7F}q\"b\\"]
        let expected = #"{"k\u0001":"tab\tnl\ncr\rff\fbs\bnul\u0000us\u001f"# + "del\u{7F}" + #"q\"b\\"}"#
        #expect(JSONWriter.compact(value) == expected)
        #expect(!JSONWriter.pretty(value).contains("\t"))
    }

    @Test func nonFiniteNumbersAreWrittenAsNull() {
        #expect(JSONWriter.compact([.number(.nan), .number(.infinity)]) == "[null,null]")
    }

    @Test func prettyOutputParsesBackToAnEqualValue() throws {
        var generator = CorpusGenerator(seed: 42, allowImpreciseIntegers: false)
        for _ in 0..<300 {
            let value = generator.value()
            #expect(try JSONParser.parse(JSONWriter.pretty(value)) == value)
            #expect(try JSONParser.parse(JSONWriter.compactBytes(value)) == value)
        }
    }

    @Test("appendString and appendNumber write what compact writes for a string and a count")
    func memberWritersMatchCompact() {
        let strings = [
            "", "plain", "quote \" and \\ backslash", "tab\tnew\nline\u{01}\u{1F}", "del \u{7F} é 🚀 \u{202E}",
            String(repeating: "p", count: 300),
        ]
        for string in strings {
            var bytes: [UInt8] = [0x7B]
            JSONWriter.appendString(string, to: &bytes)
            #expect(bytes == [0x7B] + JSONWriter.compactBytes(.string(string)), "\(string.debugDescription)")
        }
        for number: UInt64 in [0, 7, 1 << 32, (1 << 53) - 1, 1 << 53, (1 << 53) + 1, 1 << 60, .max] {
            var bytes: [UInt8] = []
            JSONWriter.appendNumber(number, to: &bytes)
            #expect(bytes == JSONWriter.compactBytes(.uint(number)), "\(number)")
        }
    }
}
