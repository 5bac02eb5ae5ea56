import CairnJSON
import Testing

/// Every rejection class of `JSONParser`, with its exact code and position.
@Suite struct ParserRejectionTests {
    // MARK: invalidUTF8

    struct BadUTF8: Sendable, CustomTestStringConvertible {
        let name: String
        let bytes: [UInt8]
        let offset: Int
        let detail: String
        var testDescription: String { name }
    }

    static let badUTF8: [BadUTF8] = {
        let prefix = Array(#"["a", ""#.utf8)  // 7 bytes; the bad sequence starts at offset 7
        let suffix = Array(#""]"#.utf8)
        func inString(_ name: String, _ bad: [UInt8], _ detail: String) -> BadUTF8 {
            BadUTF8(name: name, bytes: prefix + bad + suffix, offset: 7, detail: detail)
        }
        return [
            inString("overlong 2-byte", [0xC0, 0xAF], "overlong"),
            inString("overlong 3-byte", [0xE0, 0x80, 0xAF], "overlong 3-byte"),
            inString("overlong 4-byte", [0xF0, 0x80, 0x80, 0xAF], "overlong 4-byte"),
            inString("UTF-8-encoded surrogate", [0xED, 0xA0, 0x80], "surrogate"),
            inString("above U+10FFFF", [0xF4, 0x90, 0x80, 0x80], "above U+10FFFF"),
            inString("byte never in UTF-8", [0xF5, 0x80, 0x80, 0x80], "never occurs"),
            inString("stray continuation byte", [0x80], "continuation byte 0x80 without a lead byte"),
            inString("truncated sequence", [0xE2, 0x82], "truncated sequence, lead byte 0xE2 needs 2"),
            BadUTF8(name: "truncated at end of input", bytes: [0x22, 0xE2, 0x82], offset: 1, detail: "input ends"),
            BadUTF8(name: "outside a string", bytes: [0x5B, 0xFF, 0x5D], offset: 1, detail: "0xFF"),
        ]
    }()

    @Test(arguments: badUTF8)
    func invalidUTF8IsRejectedAtTheStartOfTheBadSequence(_ example: BadUTF8) {
        expectRejection(
            example.bytes, .invalidUTF8, line: 1, column: example.offset + 1, offset: example.offset,
            detailContains: example.detail
        )
    }

    @Test func invalidUTF8ColumnCountsPrecedingCharactersAsScalars() {
        // `"é😂` then 0xFF: the bad byte is at offset 7 but in column 4 (quote, é, 😂, bad byte).
        let bytes: [UInt8] = Array("\"é😂".utf8) + [0xFF, 0x22]
        expectRejection(bytes, .invalidUTF8, line: 1, column: 4, offset: 7)
    }

    // MARK: byteOrderMark

    @Test func byteOrderMarkIsRejected() {
        expectRejection(
            [0xEF, 0xBB, 0xBF] + Array("{}".utf8), .byteOrderMark, line: 1, column: 1, offset: 0,
            detailContains: "byte order mark")
    }

    // MARK: unexpectedEnd

    @Test(arguments: [
        ("", 1, 1, "expected a JSON value, found end of input"),
        ("  \n ", 2, 2, "expected a JSON value"),
        ("{\n  \"a\": [1,\n    2", 3, 6, "expected ',' or ']' after array element, found end of input"),
        ("{\"a\":\n\"abc", 2, 5, "unterminated string (opened at line 2, column 1)"),
        ("tru", 1, 4, "expected 'true'"),
        ("-", 1, 2, "expected a digit after '-'"),
        ("[1,", 1, 4, "expected a JSON value"),
        ("{\"a\"", 1, 5, "expected ':' after object key"),
        ("\"\\u12", 1, 6, "four hex digits"),
    ])
    func truncatedInputIsUnexpectedEnd(text: String, line: Int, column: Int, detail: String) {
        expectRejection(
            text, .unexpectedEnd, line: line, column: column, offset: text.utf8.count, detailContains: detail)
    }

    // MARK: unexpectedCharacter

    @Test(arguments: [
        ("{\"a\": 1 // c\n}", 1, 9, "comments are not allowed"),
        ("/* x */ 1", 1, 1, "comments are not allowed"),
        ("[1, 2,]", 1, 7, "trailing commas are not allowed"),
        ("{\"a\": 1,\n}", 2, 1, "trailing commas are not allowed"),
        ("['a']", 1, 2, "double quotes"),
        ("{'a': 1}", 1, 2, "keys must be in double quotes"),
        ("{a: 1}", 1, 2, "object keys must be double-quoted strings"),
        ("[NaN]", 1, 2, "NaN and Infinity are not JSON numbers"),
        ("[Infinity]", 1, 2, "NaN and Infinity are not JSON numbers"),
        ("+1", 1, 1, "must not start with '+'"),
        (".5", 1, 1, "must start with a digit"),
        ("True", 1, 1, "lowercase"),
        ("nul!", 1, 4, "expected 'null', found '!'"),
        ("{\"a\" 1}", 1, 6, "expected ':' after object key, found '1'"),
        ("[1 2]", 1, 4, "expected ',' or ']' after array element, found '2'"),
        ("[1,\u{C}2]", 1, 4, "found U+000C (only space, tab, line feed and carriage return"),
        ("[\u{A0}1]", 1, 2, "found U+00A0 (only space, tab, line feed and carriage return"),
    ])
    func grammarViolationsAreUnexpectedCharacters(text: String, line: Int, column: Int, detail: String) {
        expectRejection(text, .unexpectedCharacter, line: line, column: column, detailContains: detail)
    }

    // MARK: trailingData

    @Test(arguments: [
        ("{\"a\": 1}\n  x", 2, 3),
        ("[] []", 1, 4),
        ("1 2", 1, 3),
        ("{}}", 1, 3),
    ])
    func dataAfterTheValueIsTrailingData(text: String, line: Int, column: Int) {
        expectRejection(text, .trailingData, line: line, column: column, detailContains: "after the JSON value")
    }

    // MARK: duplicateKey

    @Test func duplicateKeyIsRejectedAtTheSecondOccurrence() {
        let text = "{\n  \"id\": 1,\n  \"name\": \"x\",\n  \"id\": 2\n}"
        expectRejection(text, .duplicateKey, line: 4, column: 3, offset: 30, detailContains: #"duplicate key "id""#)
        #expect(parseError(text)?.description == #"line 4, column 3: duplicate key "id""#)
    }

    @Test func duplicateKeysAreComparedAfterUnescaping() {
        expectRejection(#"{"a": 1, "\u0061": 2}"#, .duplicateKey, line: 1, column: 10, detailContains: #""a""#)
        expectRejection(#"{"😂": 1, "\ud83d\ude02": 2}"#, .duplicateKey, line: 1, column: 10)
    }

    @Test func duplicateKeysAreFoundInLargeObjects() {
        let members = (0..<40).map { #""k\#($0)": \#($0)"# }.joined(separator: ", ")
        let text = "{" + members + #", "k33": 0}"#
        #expect(parseError(text)?.code == .duplicateKey)
        #expect(parseError(text)?.detail == #"duplicate key "k33""#)
    }

    @Test func duplicateKeyMessagesEscapeControlCharactersToStayOnOneLine() {
        let error = parseError(#"{"a\nb": 1, "a\nb": 2}"#)
        #expect(error?.detail == #"duplicate key "a\nb""#)
    }

    // MARK: invalidEscape

    @Test(arguments: [
        (#"["\x"]"#, 3, "backslash followed by 'x'"),
        (#""\u12G4""#, 2, "four hex digits, found 'G'"),
        (#""\U0041""#, 2, "backslash followed by 'U'"),
        (#""\'""#, 2, "backslash followed by '''"),
        (#""\uD800\u00G0""#, 8, "four hex digits, found 'G'"),
    ])
    func invalidEscapesAreRejectedAtTheirBackslash(text: String, column: Int, detail: String) {
        expectRejection(text, .invalidEscape, line: 1, column: column, detailContains: detail)
    }

    // MARK: loneSurrogate

    @Test(arguments: [
        (#""\uD800""#, "lone high surrogate \\uD800"),
        (#""\uDC00""#, "lone low surrogate \\uDC00"),
        (#""\uD800\uD800""#, "is followed by \\uD800"),
        (#""\uD800x""#, "lone high surrogate"),
        (#""\ud83d\n""#, "lone high surrogate \\uD83D"),
    ])
    func loneSurrogateEscapesAreRejected(text: String, detail: String) {
        expectRejection(text, .loneSurrogate, line: 1, column: 2, offset: 1, detailContains: detail)
    }

    @Test func loneSurrogatePositionOnALaterLine() {
        expectRejection("[\n\"ok\",\n\"\\ud83d\"]", .loneSurrogate, line: 3, column: 2, offset: 9)
    }

    // MARK: controlCharacterInString

    @Test(arguments: [
        ("\"a\tb\"", 3, "U+0009 must be escaped in a string (write \\t)"),
        ("{\"a\": \"x\ny\"}", 9, "U+000A must be escaped in a string (write \\n)"),
        ("\"\u{0}\"", 2, "U+0000 must be escaped in a string (write \\u0000)"),
        ("\"\u{1F}\"", 2, "(write \\u001f)"),
    ])
    func rawControlCharactersInStringsAreRejected(text: String, column: Int, detail: String) {
        expectRejection(text, .controlCharacterInString, line: 1, column: column, detailContains: detail)
    }

    // MARK: invalidNumber

    @Test(arguments: [
        ("01", 1, "leading zeros"),
        ("[-01]", 2, "leading zeros"),
        ("[1.]", 4, "expected a digit after '.', found ']'"),
        ("[1.e5]", 4, "expected a digit after '.', found 'e'"),
        ("[1e]", 4, "expected a digit in the exponent"),
        ("[1e+]", 5, "expected a digit in the exponent"),
        ("[-]", 3, "expected a digit after '-', found ']'"),
        ("-Infinity", 2, "expected a digit after '-', found 'I'"),
    ])
    func malformedNumbersAreInvalidNumbers(text: String, column: Int, detail: String) {
        expectRejection(text, .invalidNumber, line: 1, column: column, detailContains: detail)
    }

    // MARK: numberOutOfRange

    @Test(arguments: [
        ("[1e400]", "too large"),
        ("[-1e400]", "too large"),
        ("[1.7976931348623159e308]", "too large"),
        ("[1e-400]", "would become zero"),
        ("[4.9e-325]", "would become zero"),
        ("[-0." + String(repeating: "0", count: 400) + "1]", "would become zero"),
    ])
    func numbersThatOverflowOrUnderflowAreOutOfRange(text: String, detail: String) {
        expectRejection(text, .numberOutOfRange, line: 1, column: 2, offset: 1, detailContains: detail)
    }

    // MARK: impreciseInteger

    @Test(arguments: ["9007199254740992", "-9007199254740992", "12345678901234567890123", "18446744073709551616"])
    func integerLiteralsBeyondTwoToThe53MinusOneAreImprecise(text: String) {
        expectRejection(text, .impreciseInteger, line: 1, column: 1, offset: 0, detailContains: "9007199254740991")
    }

    @Test func impreciseIntegerPositionOnALaterLine() {
        expectRejection("{\"n\":\n -9007199254740993}", .impreciseInteger, line: 2, column: 2, offset: 7)
    }

    @Test(arguments: ["1.5e17", "9007199254740992.0", "-1e20", "999999999999999999999e-1"])
    func nonIntegerLiteralsWhoseCanonicalFormIsAnImpreciseIntegerAreRejected(text: String) {
        expectRejection(text, .impreciseInteger, line: 1, column: 1, detailContains: "would be canonicalized")
    }

    // MARK: tooDeep

    @Test func nestingBeyondMaxDepthIsTooDeep() {
        let text = String(repeating: "[", count: 257) + String(repeating: "]", count: 257)
        expectRejection(text, .tooDeep, line: 1, column: 257, offset: 256, detailContains: "limit of 256")
    }

    @Test func customMaxDepthIsEnforcedForArraysAndObjects() {
        let options = JSONParser.Options(maxDepth: 2)
        expectRejection(#"{"a":[[1]]}"#, .tooDeep, line: 1, column: 7, detailContains: "limit of 2", options: options)
        expectRejection("[]", .tooDeep, line: 1, column: 1, options: JSONParser.Options(maxDepth: 0))
        #expect(parseError("1", options: JSONParser.Options(maxDepth: 0)) == nil)
    }

    // MARK: Messages

    @Test func descriptionIsOneLineNamingLineAndColumn() throws {
        let error = try #require(parseError("{\n  \"a\": 1,\n  \"b\": [1, 2,, 3]\n}"))
        #expect(error.description == "line 3, column 14: expected a JSON value, found ','")
        #expect(!error.description.hasSuffix("."))
        for code in JSONParseError.Code.allCases { #expect(!code.rawValue.isEmpty) }
    }
}
