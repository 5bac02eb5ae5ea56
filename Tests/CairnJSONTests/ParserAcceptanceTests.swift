import CairnJSON
import Testing

/// What `JSONParser` accepts, and the values it produces.
@Suite struct ParserAcceptanceTests {
    @Test func anyValueMayBeTheTopLevelValue() throws {
        #expect(try JSONParser.parse("null") == .null)
        #expect(try JSONParser.parse(" true ") == .bool(true))
        #expect(try JSONParser.parse("-12.5") == .number(-12.5))
        #expect(try JSONParser.parse(#""x""#) == .string("x"))
        #expect(try JSONParser.parse("[]") == .array([]))
        #expect(try JSONParser.parse("{}") == .object(JSONObject()))
    }

    @Test func theFourJSONWhitespaceCharactersAreAllowedAroundTokens() throws {
        let value = try JSONParser.parse(" \t\r\n{ \t\r\n\"a\" \t\r\n: \t\r\n[ 1 \t\r\n, 2 ] } \n")
        #expect(value == ["a": [1, 2]])
    }

    @Test func allInputFormsGiveTheSameValue() throws {
        let text = #"{"k": [1, "two", null]}"#
        let bytes = Array(text.utf8)
        let fromRaw = try bytes.withUnsafeBytes { raw in try JSONParser.parse(raw) }
        #expect(try JSONParser.parse(text) == fromRaw)
        #expect(try JSONParser.parse(bytes) == fromRaw)
    }

    @Test func emptyContainersMayNestAnywhere() throws {
        let value = try JSONParser.parse(#"[{}, [], [{}], {"a": {}, "b": []}]"#)
        #expect(value == [[:], [], [[:]], ["a": [:], "b": []]])
        #expect(try canonical(#"[{}, [], [{}], {"b": [], "a": {}}]"#) == #"[{},[],[{}],{"a":{},"b":[]}]"#)
    }

    @Test func objectsKeepInputOrder() throws {
        let value = try JSONParser.parse(#"{"z": 1, "a": 2, "m": 3}"#)
        #expect(value.objectValue?.keys == ["z", "a", "m"])
    }

    @Test func keysThatAreCanonicallyEquivalentButDifferentAreNotDuplicates() throws {
        // Swift's String == would call these equal; JSON does not.
        let value = try JSONParser.parse(#"{"\u00e9": 1, "e\u0301": 2}"#)
        #expect(value.objectValue?.count == 2)
        #expect(value["\u{E9}"] == 1)
        #expect(value["e\u{301}"] == 2)
    }

    @Test func largeObjectsAreParsedAndIndexed() throws {
        let members = (0..<300).map { #""key\#($0)": \#($0)"# }.joined(separator: ",")
        let value = try JSONParser.parse("{" + members + "}")
        #expect(value.objectValue?.count == 300)
        #expect(value["key0"] == 0)
        #expect(value["key299"] == 299)
        #expect(value["key300"] == nil)
    }

    @Test func nestingUpToMaxDepthIsAccepted() throws {
        let text = String(repeating: "[", count: 256) + String(repeating: "]", count: 256)
        _ = try JSONParser.parse(text)
        let deep = String(repeating: "[", count: 5_000) + String(repeating: "]", count: 5_000)
        #expect(parseError(deep, options: JSONParser.Options(maxDepth: 5_000)) == nil)
    }

    @Test func escapesAreDecoded() throws {
        let value = try JSONParser.parse(#""\"\\\/\b\f\n\r\t\u0000\u00e9\u20AC\uD83D\uDE02x""#)
        #expect(value == .string("\"\\/\u{8}\u{C}\n\r\t\u{0}é€😂x"))
    }

    @Test func multiByteUTF8IsAcceptedInStrings() throws {
        let text = "\"é € 😂 \u{10FFFF} \u{E000} \u{7F}\""
        #expect(try JSONParser.parse(text) == .string(String(text.dropFirst().dropLast())))
    }

    @Test func stringsOfEveryLengthAroundTheEightByteScanAreRead() throws {
        // Exercises the word-at-a-time scan with the closing quote, an escape, or non-ASCII at each position.
        for length in 0..<40 {
            let plain = String(repeating: "a", count: length)
            #expect(try JSONParser.parse("\"\(plain)\"") == .string(plain))
            #expect(try JSONParser.parse("\"\(plain)\\n\(plain)\"") == .string(plain + "\n" + plain))
            #expect(try JSONParser.parse("\"\(plain)é\(plain)\"") == .string(plain + "é" + plain))
            expectRejection("\"\(plain)\u{1}\"", .controlCharacterInString, line: 1, column: length + 2)
        }
    }

    @Test(arguments: [
        "0", "-0", "1", "-1", "0.1", "0.30000000000000004", "1e23", "8.98846567431158e307", "2.2250738585072011e-308",
        "2.2250738585072014e-308", "5e-324", "3e-324", "1.7976931348623157e308", "9007199254740991",
        "-9007199254740991", "123456789012345.678", "3.14159265358979323846264338327950288",
        "1.00000000000000011102230246251565404236316680908203125",
        "1.00000000000000011102230246251565404236316680908203126", "0.000000000000000000000000000001",
        "1234567890123456789e-30", "1E+2", "1e-0", "100e-2", "0.0e0",
    ])
    func numbersParseToTheNearestDouble(text: String) throws {
        #expect(try JSONParser.parse(text) == .number(Double(text)!))
    }

    @Test func negativeZeroIsKept() throws {
        let value = try #require(JSONParser.parse("-0").numberValue)
        #expect(value == 0 && value.sign == .minus)
    }

    @Test func impreciseIntegersRoundToNearestWhenAllowed() throws {
        let options = JSONParser.Options(rejectImpreciseIntegers: false)
        #expect(try JSONParser.parse("9007199254740993", options: options) == .number(9_007_199_254_740_992))
        #expect(try JSONParser.parse("1.5e17", options: options) == .number(1.5e17))
        #expect(try canonical("[18446744073709551616]", options: options) == "[18446744073709552000]")
    }

    @Test func largeNumbersThatAreNotPrintedAsIntegersAreAccepted() throws {
        #expect(try JSONParser.parse("1e21") == .number(1e21))
        #expect(try JSONParser.parse("-1.5e300") == .number(-1.5e300))
        #expect(try JSONParser.parse("123456789012345678901234567890.5") == .number(1.2345678901234568e29))
    }

    @Test func randomLiteralsMatchTheStandardLibraryConversion() throws {
        var generator = CorpusGenerator(seed: 7, allowImpreciseIntegers: true)
        let options = JSONParser.Options(rejectImpreciseIntegers: false)
        for _ in 0..<5000 {
            let text = generator.chance(0.5) ? generator.randomLiteral() : generator.numberSpelling(generator.double())
            #expect(try JSONParser.parse(text, options: options) == .number(Double(text)!), "\(text)")
        }
    }
}
