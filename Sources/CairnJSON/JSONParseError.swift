/// Why `JSONParser` rejected a text, and where: a `Sendable` value type.
///
/// Switch on `code` (stable, also as its `rawValue`); show `description` to people.
///
/// Positions: `offset` is the 0-based byte offset of the first byte of the offending token, character,
/// escape sequence or UTF-8 sequence (at end of input it equals the input length). `line` is 1-based;
/// LF, CR LF and a lone CR each end a line. `column` is 1-based and counted in **Unicode scalars** from
/// the start of the line (a tab counts as one column, "é" as one, "😂" as one).
///
/// ```swift
/// do {
///     _ = try JSONParser.parse("{\"id\": 1,\n \"id\": 2}")
/// } catch {
///     error.code          // .duplicateKey
///     error.description   // line 2, column 2: duplicate key "id"
/// }
/// ```
public struct JSONParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The class of problem (`Sendable`). Raw values are stable and may be logged or matched by scripts.
    public enum Code: String, Sendable, CaseIterable {
        /// The bytes are not well-formed UTF-8 (stray continuation byte, overlong form, UTF-8-encoded
        /// surrogate, code point above U+10FFFF, truncated sequence, or a byte that never occurs in UTF-8).
        case invalidUTF8
        /// The text starts with a UTF-8 byte order mark (EF BB BF), which RFC 8259 §8.1 forbids.
        case byteOrderMark
        /// The input ended where more was required (empty input, unterminated string, container or number).
        case unexpectedEnd
        /// A character that the grammar does not allow here (comments, single quotes, `NaN`, trailing
        /// commas, a missing `,` or `:`, whitespace other than space, tab, LF, CR...).
        case unexpectedCharacter
        /// Something other than whitespace follows the complete JSON value.
        case trailingData
        /// An object has two members whose keys are equal after unescaping.
        case duplicateKey
        /// A backslash escape other than `\" \\ \/ \b \f \n \r \t \uXXXX`, or `\u` without four hex digits.
        case invalidEscape
        /// A `\u` escape for a UTF-16 surrogate that is not part of a high-then-low pair.
        case loneSurrogate
        /// A raw character U+0000...U+001F inside a string; it must be escaped.
        case controlCharacterInString
        /// A number that breaks the RFC 8259 grammar (leading zero, missing digits, bare `-`).
        case invalidNumber
        /// A number whose magnitude overflows to infinity or whose non-zero value underflows to zero.
        case numberOutOfRange
        /// An integer literal beyond ±(2^53 − 1), which a double cannot hold exactly (I-JSON, RFC 7493 §2.2).
        case impreciseInteger
        /// Arrays and objects are nested deeper than `JSONParser.Options.maxDepth`.
        case tooDeep
    }

    /// The class of problem.
    public let code: Code
    /// The 0-based byte offset of the problem.
    public let offset: Int
    /// The 1-based line of the problem.
    public let line: Int
    /// The 1-based column of the problem, counted in Unicode scalars.
    public let column: Int
    /// What is wrong, in one line, without position, e.g. `duplicate key "id"`.
    public let detail: String

    /// Creates an error; `JSONParser` computes the line and column from the input.
    public init(code: Code, offset: Int, line: Int, column: Int, detail: String) {
        self.code = code
        self.offset = offset
        self.line = line
        self.column = column
        self.detail = detail
    }

    /// One line: `line L, column C: detail`, with no trailing period.
    public var description: String { "line \(line), column \(column): \(detail)" }
}
