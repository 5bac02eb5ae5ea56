import CairnJSON

/// A retention policy (specs/retention.md): which payload blobs of which record types are erased how long after
/// the record's own time.
///
/// ```json
/// {"format": "cairn-retention/1",
///  "rules": [{"name": "prompts-3y", "record_type": "checkpoint", "payload": "prompt", "erase_after": "P3Y"}]}
/// ```
///
/// `RetentionPolicy(parsing:)` is strict: an unknown member, a duplicate rule name, two rules for the same record
/// type and payload, or a bad duration is an error naming the line and the member.
public struct RetentionPolicy: Sendable, Hashable {
    /// The value of `format`.
    public static let formatName = "cairn-retention/1"

    /// The payload fields retention may erase, per record type: the fields that may hold a blob reference
    /// (specs/record-schema.md §3). A checkpoint's `turns` covers the whole turn list and each turn's `content`.
    public static let payloads: [(type: RecordType, fields: [String])] = [
        (.checkpoint, ["prompt", "turns", "raw_output"]),
        (.modelCall, ["prompt", "output"]),
    ]

    /// One rule: erase the blobs in `payload` of records of `recordType` once they are `eraseAfter` old.
    public struct Rule: Sendable, Hashable {
        public let name: String
        public let recordType: RecordType
        public let payload: String
        public let eraseAfter: RetentionPeriod
        /// The line of the policy file where the rule starts.
        public let line: Int

        public init(name: String, recordType: RecordType, payload: String, eraseAfter: RetentionPeriod, line: Int) {
            self.name = name
            self.recordType = recordType
            self.payload = payload
            self.eraseAfter = eraseAfter
            self.line = line
        }
    }

    /// The rules, in the file's order.
    public let rules: [Rule]

    public init(rules: [Rule]) {
        self.rules = rules
    }

    /// The rule for `payload` of records of `type`, if any (a policy has at most one).
    public func rule(for type: RecordType, payload: String) -> Rule? {
        rules.first { $0.recordType == type && exactlyEqual($0.payload, payload) }
    }

    /// Parses a policy file's bytes.
    ///
    /// - Throws: `RetentionPolicyError` naming the line and the member at fault.
    public init(parsing bytes: [UInt8]) throws(RetentionPolicyError) {
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes)
        } catch {
            throw RetentionPolicyError(line: error.line, path: "$", "not JSON: column \(error.column): \(error.detail)")
        }
        let lines = JSONLineMap(bytes)
        func fail(_ path: String, _ message: String) -> RetentionPolicyError {
            RetentionPolicyError(line: lines.line(of: path), path: path, message)
        }
        guard let object = value.objectValue else {
            throw fail("$", "expected a JSON object, found \(describe(value))")
        }
        for key in object.keys where key != "format" && key != "rules" {
            throw fail(JSONLineMap.path("$", key: key), "unknown member (known: format, rules)")
        }
        guard let format = object["format"] else {
            throw fail("$", "\"format\" is missing: expected \"format\": \"\(Self.formatName)\"")
        }
        guard format.stringValue == Self.formatName else {
            throw fail("$.format", "expected \"\(Self.formatName)\", found \(describe(format))")
        }
        guard let rulesValue = object["rules"] else { throw fail("$", "\"rules\" is missing: expected an array") }
        guard let list = rulesValue.arrayValue else {
            throw fail("$.rules", "expected an array of rules, found \(describe(rulesValue))")
        }
        var rules: [Rule] = []
        for (index, item) in list.enumerated() {
            let path = "$.rules[\(index)]"
            guard let rule = item.objectValue else {
                throw fail(path, "expected a rule (an object), found \(describe(item))")
            }
            let known = ["name", "record_type", "payload", "erase_after"]
            for key in rule.keys where !known.contains(key) {
                throw fail(
                    JSONLineMap.path(path, key: key), "unknown member (known: \(known.joined(separator: ", ")))")
            }
            func text(_ key: String) throws(RetentionPolicyError) -> String {
                guard let member = rule[key] else { throw fail(path, "\"\(key)\" is missing") }
                guard let text = member.stringValue, !text.isEmpty else {
                    throw fail("\(path).\(key)", "expected a non-empty string, found \(describe(member))")
                }
                return text
            }
            let name = try text("name")
            if let problem = TextFormats.problem(with: name, as: .identifier, acceptsControlCharacters: false) {
                throw fail("\(path).name", problem.message)
            }
            if let earlier = rules.first(where: { exactlyEqual($0.name, name) }) {
                throw fail("\(path).name", "rule \(describe(.string(name))) is already defined on line \(earlier.line)")
            }
            let typeName = try text("record_type")
            let allowed = Self.payloads.map(\.type.rawValue)
            guard let entry = Self.payloads.first(where: { exactlyEqual($0.type.rawValue, typeName) }) else {
                throw fail(
                    "\(path).record_type",
                    "expected one of \(allowed.map { "\"\($0)\"" }.joined(separator: ", ")) (the record types with "
                        + "payload blobs), found \(describe(.string(typeName)))")
            }
            let payload = try text("payload")
            guard entry.fields.contains(where: { exactlyEqual($0, payload) }) else {
                throw fail(
                    "\(path).payload",
                    "a \(typeName) has no payload \(describe(.string(payload))); expected one of "
                        + entry.fields.map { "\"\($0)\"" }.joined(separator: ", "))
            }
            let periodText = try text("erase_after")
            guard let period = RetentionPeriod(periodText) else {
                throw fail(
                    "\(path).erase_after",
                    "expected an ISO 8601 period of years, months and days such as \"P3Y\", \"P18M\", \"P90D\" or "
                        + "\"P1Y6M\", found \(describe(.string(periodText)))")
            }
            let line = lines.line(of: path)
            if let earlier = rules.first(where: { $0.recordType == entry.type && exactlyEqual($0.payload, payload) }) {
                throw fail(
                    path,
                    "rule \(describe(.string(name))) names \(typeName) \(payload) again: rule "
                        + "\(describe(.string(earlier.name))) on line \(earlier.line) already does (one rule per payload)"
                )
            }
            rules.append(Rule(name: name, recordType: entry.type, payload: payload, eraseAfter: period, line: line))
        }
        self.init(rules: rules)
    }
}

/// A problem in a retention policy file: its line (1-based), the JSON path of the member, and what is wrong.
public struct RetentionPolicyError: Error, Sendable, Hashable, CustomStringConvertible {
    public let line: Int
    public let path: String
    public let message: String

    public init(line: Int, path: String, _ message: String) {
        self.line = line
        self.path = path
        self.message = message
    }

    /// `line L: $.rules[0].erase_after: message`.
    public var description: String { "line \(line): \(path): \(message)" }
}

/// A retention period: ISO 8601 `P` followed by years (`Y`), months (`M`) and days (`D`), at least one, in that
/// order, each a decimal number without a leading zero (`P3Y`, `P18M`, `P1Y6M`, `P90D`, `P0D`). No weeks and no
/// time part: a record's age is counted on the UTC calendar (`Timestamp.adding`).
public struct RetentionPeriod: Sendable, Hashable, CustomStringConvertible {
    public let years: Int
    public let months: Int
    public let days: Int
    /// The period as written.
    public let description: String

    public init?(_ text: String) {
        var bytes = Array(text.utf8)[...]
        guard bytes.first == UInt8(ascii: "P"), bytes.count >= 3, bytes.count <= 24 else { return nil }
        bytes = bytes.dropFirst()
        var values: [UInt8: Int] = [:]
        var order = 0
        let designators: [UInt8] = [UInt8(ascii: "Y"), UInt8(ascii: "M"), UInt8(ascii: "D")]
        while !bytes.isEmpty {
            let digits = bytes.prefix(while: { $0 >= 0x30 && $0 <= 0x39 })
            guard !digits.isEmpty, digits.count <= 7, digits.count == 1 || digits.first != 0x30 else { return nil }
            bytes = bytes.dropFirst(digits.count)
            guard let designator = bytes.first, let position = designators.firstIndex(of: designator),
                position >= order
            else { return nil }
            bytes = bytes.dropFirst()
            order = position + 1
            values[designator] = digits.reduce(0) { $0 * 10 + Int($1 - 0x30) }
        }
        years = values[UInt8(ascii: "Y")] ?? 0
        months = values[UInt8(ascii: "M")] ?? 0
        days = values[UInt8(ascii: "D")] ?? 0
        guard years <= 10_000, months <= 120_000, days <= 3_660_000 else { return nil }
        description = text
    }

    /// When a record dated `milliseconds` is this old; nil when that is after year 9999.
    public func end(from milliseconds: Int64) -> Int64? {
        Timestamp.adding(years: years, months: months, days: days, to: milliseconds)
    }
}

/// The line on which each value of a valid JSON text starts, by JSON path (`$`, `$.rules[0]`, `$.rules[0].name`,
/// `$["odd key"]`): for error messages. Made from bytes `JSONParser` accepted; on anything else it gives line 1.
struct JSONLineMap {
    private var lines: [String: Int] = [:]

    init(_ bytes: [UInt8]) {
        var walker = Walker(bytes: bytes)
        walker.skipSpace()
        walker.value(path: "$", depth: 0)
        lines = walker.lines
    }

    /// The line of the value at `path`, or of the nearest enclosing value the map knows; 1 if none.
    func line(of path: String) -> Int {
        var path = Substring(path)
        while true {
            if let line = lines[String(path)] { return line }
            guard let cut = path.lastIndex(where: { $0 == "." || $0 == "[" }), cut > path.startIndex else { return 1 }
            path = path[..<cut]
        }
    }

    /// `parent.key` for identifier-like keys, `parent["key"]` otherwise (as record paths are written).
    static func path(_ parent: String, key: String) -> String {
        let isPlain =
            key.utf8.first.map { !(0x30...0x39).contains($0) } ?? false
            && key.utf8.allSatisfy {
                ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7a) || (0x30...0x39).contains($0) || $0 == 0x5f
            }
        return isPlain ? "\(parent).\(key)" : "\(parent)[\(JSONWriter.compact(.string(key)))]"
    }

    private struct Walker {
        let bytes: [UInt8]
        var position = 0
        var line = 1
        var lines: [String: Int] = [:]

        /// Skips whitespace, counting lines as `JSONParser` does: LF, CR LF and a lone CR each end one.
        mutating func skipSpace() {
            while position < bytes.count, [0x20, 0x09, 0x0a, 0x0d].contains(bytes[position]) {
                let byte = bytes[position]
                position += 1
                if byte == 0x0a || (byte == 0x0d && (position >= bytes.count || bytes[position] != 0x0a)) { line += 1 }
            }
        }

        /// Skips a string; returns its text (decoded) when it can.
        mutating func string() -> String? {
            let start = position
            position += 1
            while position < bytes.count, bytes[position] != 0x22 {
                if bytes[position] == 0x5c { position += 1 }
                position += 1
            }
            position = min(position + 1, bytes.count)
            return (try? JSONParser.parse(Array(bytes[start..<position])))?.stringValue
        }

        mutating func value(path: String, depth: Int) {
            guard position < bytes.count, depth < 512 else { return }
            lines[path] = line
            switch bytes[position] {
            case 0x7b:  // {
                position += 1
                skipSpace()
                while position < bytes.count, bytes[position] == 0x22 {
                    let key = string() ?? ""
                    skipSpace()
                    position += 1  // :
                    skipSpace()
                    value(path: JSONLineMap.path(path, key: key), depth: depth + 1)
                    skipSpace()
                    guard position < bytes.count, bytes[position] == 0x2c else { break }
                    position += 1
                    skipSpace()
                }
                position += 1  // }
            case 0x5b:  // [
                position += 1
                skipSpace()
                var index = 0
                while position < bytes.count, bytes[position] != 0x5d {
                    value(path: "\(path)[\(index)]", depth: depth + 1)
                    index += 1
                    skipSpace()
                    guard position < bytes.count, bytes[position] == 0x2c else { break }
                    position += 1
                    skipSpace()
                }
                position += 1  // ]
            case 0x22:
                _ = string()
            default:
                while position < bytes.count, !",]} \t\r\n".utf8.contains(bytes[position]) { position += 1 }
            }
        }
    }
}
