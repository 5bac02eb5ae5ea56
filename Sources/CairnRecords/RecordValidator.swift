import CairnJSON

/// Validates records against schema 1 (`specs/record-schema.md`): stateless, callable from any thread.
///
/// Strict by default: an unknown `type`, a missing required member, a value of the wrong JSON type, a
/// bad timestamp, digest, commit id, path or line range are all problems, each reported with its JSON
/// path; every problem is listed, not just the first. Members the schema does not define are kept
/// (the schema is extensible) unless `Options.strictFields` is on.
///
/// ```swift
/// let issues = RecordValidator.issues(in: try JSONParser.parse(#"{"type":"review","schema":1}"#))
/// issues.map(\.description)
/// // ["$.subject: required field is missing", "$.reviewer: required field is missing",
/// //  "$.decision: required field is missing", "$.at: required field is missing"]
/// ```
public struct RecordValidator {
    /// Validation policies: a `Sendable` value type.
    public struct Options: Sendable {
        /// Report every member the schema does not define as `unknownField`, with its path. Default:
        /// false (unknown members are kept, and only searched for blob references).
        public var strictFields = false
        /// Accept C0 control characters and DEL in identifier and person fields (and DEL in
        /// repository paths), which schema 1 accepted before it refused them (`controlCharacter`).
        /// Only for reading records already in a ledger, so that older entries still read; never
        /// for admitting new ones. Default: false.
        public var acceptsControlCharacters = false

        /// Creates options; every parameter defaults to the value documented on its property.
        public init(strictFields: Bool = false, acceptsControlCharacters: Bool = false) {
            self.strictFields = strictFields
            self.acceptsControlCharacters = acceptsControlCharacters
        }

        /// The options for records read back from a ledger: control characters in identifiers are
        /// accepted, since entries appended before they were refused must stay readable.
        public static let stored = Options(acceptsControlCharacters: true)
    }

    /// Every problem in `record`, in document order (see `specs/record-schema.md`, "Errors"); empty when
    /// the record is valid.
    public static func issues(in record: JSONValue, options: Options = .init()) -> [ValidationIssue] {
        issues(view: record, options: options)
    }

    /// Every problem in the record a tape holds: exactly those `issues(in:)` finds in its value tree.
    public static func issues(in record: JSONTape.Value, options: Options = .init()) -> [ValidationIssue] {
        record.withBorrowed { issues(view: $0, options: options) }
    }

    // Generic over where the record is held; the public entry points are concrete so that callers in other
    // modules run a specialized validator, not one dispatching through the protocol's witness table.
    static func issues<V: JSONView>(view record: V, options: Options) -> [ValidationIssue] {
        var checker = Checker(
            strictFields: options.strictFields, acceptsControlCharacters: options.acceptsControlCharacters)
        checker.checkRecord(record)
        return checker.issues
    }

    /// Returns when `record` is valid.
    ///
    /// - Throws: `RecordValidationError` with every problem, in document order.
    public static func validate(_ record: JSONValue, options: Options = .init()) throws(RecordValidationError) {
        try validate(view: record, options: options)
    }

    /// Returns when the record a tape holds is valid (exactly when its value tree is).
    ///
    /// - Throws: `RecordValidationError` with every problem, in document order.
    public static func validate(_ record: JSONTape.Value, options: Options = .init()) throws(RecordValidationError) {
        try record.withBorrowed { (view) throws(RecordValidationError) in try validate(view: view, options: options) }
    }

    static func validate<V: JSONView>(view record: V, options: Options) throws(RecordValidationError) {
        let found = issues(view: record, options: options)
        guard found.isEmpty else { throw RecordValidationError(issues: found) }
    }
}
