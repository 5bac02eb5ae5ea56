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
    mutating func checkRecord<V: JSONView>(_ record: V) {
        guard record.kind == .object else {
            report(.wrongType, "expected a record (a JSON object), found " + describe(record))
            return
        }
        let object = record
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

    mutating func check<V: JSONView>(_ value: V, _ rule: Rule) {
        switch rule {
        case .text(let format):
            guard let text = value.stringValue else { return wrongType(rule, value) }
            if let problem = TextFormats.problem(
                with: text, as: format, acceptsControlCharacters: acceptsControlCharacters)
            {
                report(problem.code, problem.message)
            }
        case .enumeration(let allowed):
            guard let text = value.stringValue else { return wrongType(rule, value) }
            if !allowed.contains(where: { exactlyEqual($0, text) }) {
                let list = allowed.map { "\"\($0)\"" }.joined(separator: ", ")
                report(.invalidValue, "expected one of \(list), found \(describe(value))")
            }
        case .integer(let min, let max):
            guard let number = value.numberValue, number.rounded(.towardZero) == number else {
                return wrongType(rule, value)
            }
            if number < min || number > max {
                report(.invalidValue, "expected an integer \(bounds(min, max)), found \(describe(value))")
            }
        case .number(let min, let max):
            guard let number = value.numberValue else { return wrongType(rule, value) }
            if !(number >= min && number <= max) {
                report(.invalidValue, "expected a number \(bounds(min, max)), found \(describe(value))")
            }
        case .array(let elementRule, let nonEmpty):
            guard value.kind == .array else { return wrongType(rule, value) }
            if nonEmpty && value.count == 0 { report(.emptyArray, "expected at least one element, found []") }
            var index = 0
            value.forEachElement { element in
                inside(.index(index)) { $0.check(element, elementRule) }
                index += 1
            }
        case .object(let shape):
            guard value.kind == .object else { return wrongType(rule, value) }
            check(value, shape)
        case .orBlob(let payloadRule):
            if value.kind == .object {
                check(value, RecordSchemas.blobReference)
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
            guard let text = value.stringValue else { return wrongType(rule, value) }
            if RecordType(exactly: text) == nil {
                let list = RecordType.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")
                report(.unknownType, "expected one of \(list), found \(describe(value))")
            }
        case .schemaVersion:
            guard let number = value.numberValue else { return wrongType(rule, value) }
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
    mutating func check<V: JSONView>(_ object: V, _ shape: Shape, reportsUnknownFields: Bool = true) {
        var seen: UInt64 = 0
        object.forEachMember { keyBytes, value in
            if let position = shape.position(of: keyBytes) {
                seen |= 1 << UInt64(position)
                // The schema's own name: no string made for the key of a known member.
                inside(.key(shape.fields[position].name)) { $0.check(value, shape.fields[position].rule) }
                return
            }
            let key = String(decoding: keyBytes, as: UTF8.self)
            if shape.isClosed {
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
    private mutating func checkLegalHold<V: JSONView>(_ object: V) {
        let scope = RecordSchemas.legalHoldScope
        switch object["action"]?.stringValue {
        case "place"?:
            if !scope.contains(where: { object[$0] != nil }) {
                let names = scope.map { "\"\($0)\"" }.joined(separator: " or ")
                report(.missingField, "expected at least one of \(names): the scope a placed hold holds")
            }
        case "release"?:
            object.forEachMember { keyBytes, _ in
                let key = String(decoding: keyBytes, as: UTF8.self)
                guard scope.contains(where: { exactlyEqual($0, key) }) else { return }
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
    mutating func checkFreeForm<V: JSONView>(_ value: V) {
        switch value.kind {
        case .object:
            if BlobReference.hasShape(value) {
                check(value, RecordSchemas.blobReference)
            } else {
                value.forEachMember { key, member in
                    inside(.key(String(decoding: key, as: UTF8.self))) { $0.checkFreeForm(member) }
                }
            }
        case .array:
            var index = 0
            value.forEachElement { element in
                inside(.index(index)) { $0.checkFreeForm(element) }
                index += 1
            }
        case .null, .bool, .number, .string:
            break
        }
    }

    private mutating func checkLineRange<V: JSONView>(_ value: V) {
        guard value.kind == .array else { return wrongType(.lineRange, value) }
        guard value.count == 2, let first = value[0], let second = value[1] else {
            return report(.invalidRange, "expected [start, end], found an array of \(value.count) elements")
        }
        let lineRule = RecordSchemas.lineNumber
        inside(.index(0)) { $0.check(first, lineRule) }
        inside(.index(1)) { $0.check(second, lineRule) }
        if let start = first.numberValue, let end = second.numberValue, start > end {
            report(.invalidRange, "start \(describe(first)) is after end \(describe(second))")
        }
    }

    private mutating func checkPatch<V: JSONView>(_ value: V) {
        guard value.kind == .object else { return wrongType(.patch, value) }
        if value.count == 0 {
            report(.invalidValue, "expected a non-empty merge patch (an empty one corrects nothing)")
        }
        value.forEachMember { keyBytes, member in
            let key = String(decoding: keyBytes, as: UTF8.self)
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

    private mutating func wrongType<V: JSONView>(_ rule: Rule, _ value: V) {
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
    func admitsKind<V: JSONView>(of value: V) -> Bool {
        switch (self, value.kind) {
        case (.text, .string), (.enumeration, .string), (.recordType, .string): return true
        case (.integer, .number), (.number, .number), (.schemaVersion, .number): return true
        case (.array, .array), (.lineRange, .array): return true
        case (.object, .object), (.patch, .object): return true
        case (.orBlob(let rule), _): return value.kind == .object || rule.admitsKind(of: value)
        default: return false
        }
    }
}
