/// One problem found in a record: where it is, its class, and a one-line explanation.
///
/// `description` is `path: message`, for example
/// `$.outputs[0].commit: expected 40 or 64 lowercase hex digits (a git object id), found "xyz"`.
public struct ValidationIssue: Sendable, Hashable, CustomStringConvertible {
    /// The class of problem. Raw values are stable: scripts may match on them.
    public enum Code: String, Sendable, CaseIterable {
        /// A required member is absent (the path names where it should be), or an object lacks every
        /// member of a group of which at least one is required (the path names the object).
        case missingField
        /// A value has the wrong JSON type: a number where a string is expected, and so on.
        case wrongType
        /// A value has the right type but is not allowed: not one of an enumeration, out of range, …
        case invalidValue
        /// An empty string where a non-empty (or, for reasons, non-blank) one is required.
        case emptyString
        /// An empty array where at least one element is required (`outputs`, `ranges`).
        case emptyArray
        /// `type` is not one of the record types of schema 1.
        case unknownType
        /// `schema` is a number other than 1; nothing else in the record is checked.
        case unsupportedSchema
        /// A member the schema does not define, reported only with `strictFields`; blob references
        /// are always closed.
        case unknownField
        /// Not an RFC 3339 UTC timestamp (`YYYY-MM-DDThh:mm:ss[.fraction]Z`) naming a real instant.
        case invalidTimestamp
        /// Not a real calendar date written `YYYY-MM-DD`.
        case invalidDate
        /// Not a content address: `sha256:` and 64 lowercase hex digits.
        case invalidDigest
        /// Not a git object id: 40 or 64 lowercase hex digits.
        case invalidCommit
        /// Not a repository-relative path (`/`-separated, no leading `/`, no empty, `.` or `..` segment).
        case invalidPath
        /// A line range that is not `[start, end]` with `start ≤ end`.
        case invalidRange
        /// Not a media type `type/subtype` with optional parameters (RFC 6838, RFC 9110).
        case invalidMediaType
        /// A correction patch that names `type`, `schema` or `corrects`, which no correction may change.
        case immutableField
        /// A C0 control character (U+0000–U+001F: tab and line feed included) or DEL (U+007F) in an
        /// identifier or person field (an id, `requested_by`, `reviewer`, `author`, `model.id`, …); the
        /// message names the character and its position, counting code points from 1.
        case controlCharacter
    }

    /// Where the problem is, as JSON path text: `$.outputs[0].ranges[1][0]`, `$["x-team"]`.
    public let path: String
    /// The same location as structured steps.
    public let location: RecordPath
    /// The class of problem.
    public let code: Code
    /// What is wrong, one line, no trailing period, quoting the offending value where there is one.
    public let message: String

    /// Creates an issue at `location`.
    public init(location: RecordPath, code: Code, message: String) {
        self.path = location.description
        self.location = location
        self.code = code
        self.message = message
    }

    /// `path: message`.
    public var description: String { path + ": " + message }
}

/// A record failed validation: every problem found, in document order.
///
/// `description` joins the issues' descriptions with `"; "`.
public struct RecordValidationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The problems, in document order; never empty.
    public let issues: [ValidationIssue]
    /// For errors thrown by `Corrections.effective(original:corrections:)`: the position, in the
    /// `corrections` array, of the correction that could not be applied. Nil otherwise.
    public let correctionIndex: Int?

    /// Creates an error from its issues.
    public init(issues: [ValidationIssue], correctionIndex: Int? = nil) {
        self.issues = issues
        self.correctionIndex = correctionIndex
    }

    /// The issues' descriptions joined by `"; "`, after `correction N: ` when `correctionIndex` is set.
    public var description: String {
        let joined = issues.map(\.description).joined(separator: "; ")
        guard let correctionIndex else { return joined }
        return "correction \(correctionIndex): " + joined
    }

    /// The codes of the issues, in order: handy in tests and scripts.
    public var codes: [ValidationIssue.Code] { issues.map(\.code) }
}
