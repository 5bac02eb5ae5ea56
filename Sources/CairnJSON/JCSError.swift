/// Why `JCS.canonicalize(_:)` could not canonicalize a value: a `Sendable` value type.
///
/// Switch on `code`; show `description` to people.
public struct JCSError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The class of problem (`Sendable`). Raw values are stable.
    public enum Code: String, Sendable, CaseIterable {
        /// A number is NaN or ±infinity, which JSON cannot express (RFC 8785 §3.2.2.3).
        case nonFiniteNumber
    }

    /// The class of problem.
    public let code: Code
    /// Where the offending value is, as a JSONPath-like string, e.g. `$["metrics"][2]`.
    public let path: String
    /// What is wrong, in one line, e.g. `number at $["metrics"][2] is NaN; JSON and RFC 8785 have no NaN or Infinity`.
    public let detail: String

    /// Creates an error.
    public init(code: Code, path: String, detail: String) {
        self.code = code
        self.path = path
        self.detail = detail
    }

    /// The detail, one line, no trailing period.
    public var description: String { detail }
}
