import CairnJSON
import Testing

/// RFC 8785 §3.2 serialization rules, one test per rule.
@Suite struct JCSRuleTests {
    @Test func whitespaceIsRemoved() throws {
        #expect(try canonical(" {\n\t\"a\" :\r\n [ 1 , 2 ] } ") == #"{"a":[1,2]}"#)
    }

    @Test func literalsAreWrittenAsIs() throws {
        #expect(try canonical("[null, true, false]") == "[null,true,false]")
    }

    @Test func arraysKeepTheirOrder() throws {
        #expect(try canonical(#"[3, "b", 1, "a", [2, 1]]"#) == #"[3,"b",1,"a",[2,1]]"#)
    }

    @Test func membersAreSortedRecursivelyIncludingInsideArrays() throws {
        #expect(
            try canonical(#"{"b": [{"z": 1, "y": 2}], "a": {"d": 1, "c": 2}}"#)
                == #"{"a":{"c":2,"d":1},"b":[{"y":2,"z":1}]}"#)
    }

    @Test func keysSortByUTF16CodeUnitsNotByScalarsOrUTF8() throws {
        // U+1F602 is D83D DE02 in UTF-16, which sorts before U+FF61 (and U+E000), although its scalar
        // value and its UTF-8 bytes (F0 ...) sort after them.
        let value: JSONValue = ["\u{FF61}": 1, "\u{1F602}": 2, "\u{E000}": 3, "\u{D7FF}": 4, "z": 5]
        let text = String(decoding: try JCS.canonicalize(value), as: UTF8.self)
        #expect(text == #"{"z":5,"\#u{D7FF}":4,"\#u{1F602}":2,"\#u{E000}":3,"\#u{FF61}":1}"#)
    }

    @Test func keysSortByCodeUnitsWithoutLocaleOrNormalization() throws {
        // "e\u{301}" (e + combining acute) and "\u{E9}" are different keys, ordered by code units:
        // "e" is a prefix of the others so it comes first; "ea" (0x61) precedes "e\u{301}" (0x0301).
        let value: JSONValue = ["\u{E9}": 1, "e\u{301}": 2, "e": 3, "E": 4, "ea": 5]
        let text = String(decoding: try JCS.canonicalize(value), as: UTF8.self)
        #expect(text == "{\"E\":4,\"e\":3,\"ea\":5,\"e\u{301}\":2,\"\u{E9}\":1}")
    }

    @Test func keysSortByTheirUnescapedValueNotByTheirEscapedText() throws {
        // "\u0001" is written as the six bytes \u0001 (backslash 0x5C), but sorts by U+0001, before "A".
        #expect(
            try canonical(#"{"b": 1, "A": 2, "\u0061": 3, "\u0001": 4, "\n": 5}"#)
                == #"{"\u0001":4,"\n":5,"A":2,"a":3,"b":1}"#)
    }

    @Test func largeObjectsAreSortedLikeSmallOnes() throws {
        let keys = (0..<200).map { "k\(($0 * 7919) % 200)" }
        let text = "{" + keys.enumerated().map { #""\#($1)": \#($0)"# }.joined(separator: ", ") + "}"
        let value = try JSONParser.parse(text)
        let streamed = try JCS.canonicalize(json: Array(text.utf8))
        #expect(streamed == (try JCS.canonicalize(value)))
        let sortedKeys = try #require(JSONParser.parse(streamed).objectValue?.keys)
        #expect(sortedKeys == keys.sorted { $0.utf16.lexicographicallyPrecedes($1.utf16) })
    }

    @Test func stringsEscapeOnlyQuoteBackslashAndControlCharacters() throws {
        let value: JSONValue = .string("\"\\/\u{7F}\u{80}\u{2028}\u{2029}é😂<>&'")
        let text = String(decoding: try JCS.canonicalize(value), as: UTF8.self)
        #expect(text == "\"\\\"\\\\/\u{7F}\u{80}\u{2028}\u{2029}é😂<>&'\"")
    }

    @Test func controlCharactersUseShortFormsOrLowercaseU00xx() throws {
        var scalars = String.UnicodeScalarView()
        for v in 0..<0x20 { scalars.append(Unicode.Scalar(UInt8(v))) }
        let text = String(decoding: try JCS.canonicalize(.string(String(scalars))), as: UTF8.self)
        let expected =
            #""\u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007\b\t\n\u000b\f\r\u000e\u000f"#
            + #"\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001a\u001b\u001c\u001d\u001e\u001f""#
        #expect(text == expected)
    }

    @Test func escapedInputIsWrittenAsLiteralUTF8() throws {
        #expect(try canonical(#""\u00e9\u20AC\ud83d\ude02\/\u0041""#) == "\"é€😂/A\"")
    }

    @Test func unicodeIsNotNormalized() throws {
        #expect(try canonical(#""A\u030a""#) == "\"A\u{30A}\"")
        #expect(try canonical(#""A\u030a""#).utf8.count == 5)
    }

    @Test func numbersUseES6Formatting() throws {
        #expect(
            try canonical("[1.0, 1e2, 1E+2, 0.5e1, 100e-2, 1e21, 1e-6, 1e-7, 123456789e-15, -1.5E-10]")
                == "[1,100,100,5,1,1e+21,0.000001,1e-7,1.23456789e-7,-1.5e-10]")
        // Integers in [2^53, 10^21) are written in full; the default parser options reject them as input.
        let lenient = JSONParser.Options(rejectImpreciseIntegers: false)
        #expect(try canonical("[1e20, 2e16]", options: lenient) == "[100000000000000000000,20000000000000000]")
    }

    @Test func negativeZeroIsWrittenAsZero() throws {
        #expect(try canonical("[-0, -0.0, -0e5]") == "[0,0,0]")
        #expect(JCS.serialize(number: -0.0) == "0")
    }

    @Test func nonFiniteNumbersAreErrorsNamingTheirPath() {
        let value: JSONValue = ["ok": 1, "metrics": [1, .number(.nan)]]
        #expect(
            throws: JCSError(
                code: .nonFiniteNumber, path: #"$["metrics"][1]"#,
                detail: #"number at $["metrics"][1] is NaN; JSON and RFC 8785 have no NaN or Infinity"#
            )
        ) {
            try JCS.canonicalize(value)
        }
        #expect(throws: JCSError.self) { try JCS.canonicalize(.number(-.infinity)) }
    }

    @Test func isCanonicalAcceptsOnlyExactCanonicalBytes() {
        #expect(JCS.isCanonical(json: Array(#"{"a":1,"b":[true,"x"]}"#.utf8)))
        #expect(!JCS.isCanonical(json: Array(#"{"b":1,"a":1}"#.utf8)))
        #expect(!JCS.isCanonical(json: Array(#"{"a": 1}"#.utf8)))
        #expect(!JCS.isCanonical(json: Array(#"{"a":1.0}"#.utf8)))
        #expect(!JCS.isCanonical(json: Array(#"{"a":"\u0041"}"#.utf8)))
        #expect(!JCS.isCanonical(json: Array(#"{"a":1"#.utf8)))
    }

    /// The worked example of specs/canonical-json.md §5 (its SHA-256 is in the spec).
    @Test func specWorkedExampleCanonicalizesAsDocumented() throws {
        let input = #"""
            {
              "subject": "pkg:swift/cairn@1.0.0",
              "kind": "build",
              "size": 1.5E3,
              "ratio": 0.10,
              "note": "caf\u00e9 \ud83d\ude00\t",
              "tags": ["release", "signed"],
              "\u20ac": null,
              "ok": true
            }
            """#
        let leaf = try JCS.canonicalize(json: Array(input.utf8))
        let expected =
            #"{"kind":"build","note":"café 😀\t","ok":true,"ratio":0.1,"size":1500,"#
            + #""subject":"pkg:swift/cairn@1.0.0","tags":["release","signed"],"€":null}"#
        #expect(leaf == Array(expected.utf8))
        #expect(leaf.count == 145)
    }

    @Test func canonicalizingParsedTextAndTheValueGiveTheSameBytes() throws {
        let text = #"{"z": [1, 2.5, "x"], "a": {"k": null}}"#
        let value = try JSONParser.parse(text)
        #expect(try JCS.canonicalize(value) == JCS.canonicalize(json: Array(text.utf8)))
    }
}
