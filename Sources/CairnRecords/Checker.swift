import CairnJSON

/// Walks a value against the schema tables and collects every issue, in document order.
///
/// Paths are kept as a stack of components and turned into text only when an issue is reported, so a
/// valid record costs no string building. Within an object, issues about its members come first (in the
/// order the members appear), then missing required members (in table order), then "at least one of"
/// groups.
struct Checker {
    let strictFields: Bool
    let acceptsControlCharacters: Bool
    private(set) var issues: [ValidationIssue] = []
    private var path: [RecordPath.Component] = []

    init(strictFields: Bool, acceptsControlCharacters: Bool = false) {
        self.strictFields = strictFields
        self.acceptsControlCharacters = acceptsControlCharacters
        path.reserveCapacity(8)
    }

    // MARK: - Records

    /// Checks a whole record: dispatches on `type`, unless `type` is unknown or `schema` is a number
    /// other than 1, in which case only those two members are checked.
    mutating func checkRecord(_ record: JSONValue) {
        guard case .object(let object) = record else {
            report(.wrongType, "expected a record (a JSON object), found " + describe(record))
            return
        }
        let type = object["type"]?.stringValue.flatMap { RecordType(exactly: $0) }
        let schema = object["schema"]?.numberValue
        if let type, schema == nil || schema == Double(RecordType.schemaVersion) {
            check(object, RecordSchemas.shape(of: type))
            if type == .legalHold { checkLegalHold(object) }
        } else {
            check(object, RecordSchemas.common, reportsUnknownFields: false)
        }
    }

    // MARK: - Rules

    mutating func check(_ value: JSONValue, _ rule: Rule) {
        switch rule {
        case .text(let format):
            guard case .string(let text) = value else { return wrongType(rule, value) }
            if let problem = TextFormats.problem(
                with: text, as: format, acceptsControlCharacters: acceptsControlCharacters)
            {
                report(problem.code, problem.message)
            }
        case .enumeration(let allowed):
            guard case .string(let text) = value else { return wrongType(rule, value) }
            if !allowed.contains(where: { exactlyEqual($0, text) }) {
                let list = allowed.map { "\"\($0)\"" }.joined(separator: ", ")
                report(.invalidValue, "expected one of \(list), found \(describe(value))")
            }
        case .integer(let min, let max):
            guard case .number(let number) = value, number.rounded(.towardZero) == number else {
                return wrongType(rule, value)
            }
            if number < min || number > max {
                report(.invalidValue, "expected an integer \(bounds(min, max)), found \(describe(value))")
            }
        case .number(let min, let max):
            guard case .number(let number) = value else { return wrongType(rule, value) }
            if !(number >= min && number <= max) {
                report(.invalidValue, "expected a number \(bounds(min, max)), found \(describe(value))")
            }
        case .array(let elementRule, let nonEmpty):
            guard case .array(let elements) = value else { return wrongType(rule, value) }
            if nonEmpty && elements.isEmpty { report(.emptyArray, "expected at least one element, found []") }
            for (index, element) in elements.enumerated() {
                inside(.index(index)) { $0.check(element, elementRule) }
            }
        case .object(let shape):
            guard case .object(let object) = value else { return wrongType(rule, value) }
            check(object, shape)
        case .orBlob(let payloadRule):
            if case .object(let object) = value {
                check(object, RecordSchemas.blobReference)
            } else if payloadRule.admitsKind(of: value) {
                check(value, payloadRule)
            } else {
                wrongType(rule, value)
            }
        case .lineRange:
            checkLineRange(value)
        case .patch:
            checkPatch(value)
        case .recordType:
            guard case .string(let text) = value else { return wrongType(rule, value) }
            if RecordType(exactly: text) == nil {
                let list = RecordType.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")
                report(.unknownType, "expected one of \(list), found \(describe(value))")
            }
        case .schemaVersion:
            guard case .number(let number) = value else { return wrongType(rule, value) }
            if number != Double(RecordType.schemaVersion) {
                report(
                    .unsupportedSchema,
                    "schema \(describe(value)) is not supported (this validator implements schema 1)")
            }
        }
    }

    /// Checks the members of `object` against `shape`; unknown members are reported when the shape is
    /// closed, or with `strictFields` (unless `reportsUnknownFields` is false), and otherwise searched
    /// for blob references.
    mutating func check(_ object: JSONObject, _ shape: Shape, reportsUnknownFields: Bool = true) {
        var seen: UInt64 = 0
        for (key, value) in object {
            if let position = shape.position(of: key) {
                seen |= 1 << UInt64(position)
                inside(.key(key)) { $0.check(value, shape.fields[position].rule) }
            } else if shape.isClosed {
                inside(.key(key)) {
                    $0.report(.unknownField, "unknown field (a blob reference has exactly blob, size and media_type)")
                }
            } else if strictFields && reportsUnknownFields {
                inside(.key(key)) { $0.report(.unknownField, "unknown field (strictFields is on)") }
            } else {
                inside(.key(key)) { $0.checkFreeForm(value) }
            }
        }
        for (position, field) in shape.fields.enumerated() where field.isRequired {
            guard seen & (1 << UInt64(position)) == 0 else { continue }
            inside(.key(field.name)) { $0.report(.missingField, "required field is missing") }
        }
        for group in shape.atLeastOneOf where !group.contains(where: { object[$0] != nil }) {
            let names = group.map { "\"\($0)\"" }.joined(separator: " or ")
            report(.missingField, "expected at least one of \(names)")
        }
    }

    /// What a legal hold's table cannot say: a placed hold names its scope (at least one of `subject`,
    /// `repository`, `from`, `until`), a release names only the hold, and `from` is not after `until`.
    private mutating func checkLegalHold(_ object: JSONObject) {
        let scope = RecordSchemas.legalHoldScope
        switch object["action"]?.stringValue {
        case "place"?:
            if !scope.contains(where: { object[$0] != nil }) {
                let names = scope.map { "\"\($0)\"" }.joined(separator: " or ")
                report(.missingField, "expected at least one of \(names): the scope a placed hold holds")
            }
        case "release"?:
            for (key, _) in object where scope.contains(where: { exactlyEqual($0, key) }) {
                inside(.key(key)) {
                    $0.report(
                        .invalidValue, "a release names only the hold; its scope is the one the hold was placed on")
                }
            }
        default:
            break
        }
        if let from = object["from"]?.stringValue.flatMap(Timestamp.parse),
            let until = object["until"]?.stringValue.flatMap(Timestamp.parse), from > until
        {
            inside(.key("until")) {
                $0.report(.invalidValue, "expected a time not before \"from\", found \(describe(object["until"]!))")
            }
        }
    }

    /// Extension values are free, except that an object whose members are exactly `blob`, `size` and
    /// `media_type` is a blob reference wherever it appears, and must be a valid one.
    mutating func checkFreeForm(_ value: JSONValue) {
        switch value {
        case .object(let object):
            if BlobReference.hasShape(object) {
                check(object, RecordSchemas.blobReference)
            } else {
                for (key, member) in object { inside(.key(key)) { $0.checkFreeForm(member) } }
            }
        case .array(let elements):
            for (index, element) in elements.enumerated() { inside(.index(index)) { $0.checkFreeForm(element) } }
        case .null, .bool, .number, .string:
            break
        }
    }

    private mutating func checkLineRange(_ value: JSONValue) {
        guard case .array(let bounds) = value else { return wrongType(.lineRange, value) }
        guard bounds.count == 2 else {
            return report(.invalidRange, "expected [start, end], found an array of \(bounds.count) elements")
        }
        let lineRule = RecordSchemas.lineNumber
        inside(.index(0)) { $0.check(bounds[0], lineRule) }
        inside(.index(1)) { $0.check(bounds[1], lineRule) }
        if let start = bounds[0].numberValue, let end = bounds[1].numberValue, start > end {
            report(.invalidRange, "start \(describe(bounds[0])) is after end \(describe(bounds[1]))")
        }
    }

    private mutating func checkPatch(_ value: JSONValue) {
        guard case .object(let patch) = value else { return wrongType(.patch, value) }
        if patch.isEmpty { report(.invalidValue, "expected a non-empty merge patch (an empty one corrects nothing)") }
        for (key, member) in patch {
            inside(.key(key)) { checker in
                if let reason = RecordSchemas.immutableMembers.first(where: { exactlyEqual($0.name, key) })?.reason {
                    checker.report(.immutableField, reason)
                } else {
                    checker.checkFreeForm(member)
                }
            }
        }
    }

    // MARK: - Reporting

    mutating func report(_ code: ValidationIssue.Code, _ message: String) {
        issues.append(ValidationIssue(location: RecordPath(components: path), code: code, message: message))
    }

    private mutating func wrongType(_ rule: Rule, _ value: JSONValue) {
        report(.wrongType, "expected \(rule.expectation), found \(describe(value))")
    }

    /// Runs `body` with `component` pushed on the path.
    private mutating func inside(_ component: RecordPath.Component, _ body: (inout Checker) -> Void) {
        path.append(component)
        body(&self)
        path.removeLast()
    }

    private func bounds(_ min: Double, _ max: Double) -> String {
        let low = JCS.serialize(number: min)
        if max >= RecordSchemas.maxInteger { return "≥ \(low)" }
        return "from \(low) to \(JCS.serialize(number: max))"
    }
}

extension Rule {
    /// True when `value` has the JSON type this rule expects (the rule may still reject its content).
    func admitsKind(of value: JSONValue) -> Bool {
        switch (self, value) {
        case (.text, .string), (.enumeration, .string), (.recordType, .string): return true
        case (.integer, .number), (.number, .number), (.schemaVersion, .number): return true
        case (.array, .array), (.lineRange, .array): return true
        case (.object, .object), (.patch, .object): return true
        case (.orBlob(let rule), _): return value.objectValue != nil || rule.admitsKind(of: value)
        default: return false
        }
    }
}
