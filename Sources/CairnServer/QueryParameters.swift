import CairnCrypto
import CairnJSON
import CairnLedger
import CairnRecords

/// A request's query string, parsed strictly: percent-decoded (`+` is a space), each parameter
/// at most once, and only the ones a route knows (specs/http-api.md §1).
struct QueryParameters: Sendable {
    private(set) var values: [(name: String, value: String)] = []

    /// Parses `query` (the part after `?`), refusing malformed escapes, repeated and unknown
    /// parameters. Every problem is reported.
    init(_ query: String?, allowed: Set<String>) throws(APIError) {
        var problems: [APIProblem] = []
        var seen = Set<String>()
        for pair in (query ?? "").split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = Self.decode(parts[0]), let value = Self.decode(parts.count == 2 ? parts[1] : "") else {
                problems.append(
                    APIProblem(
                        code: "invalidValue", message: "malformed percent-encoding in \(String(pair).debugDescription)",
                        parameter: String(parts[0])))
                continue
            }
            guard allowed.contains(name) else {
                problems.append(
                    APIProblem(
                        code: "unknownParameter",
                        message: "unknown parameter; this route takes \(allowed.sorted().joined(separator: ", "))",
                        parameter: name))
                continue
            }
            guard seen.insert(name).inserted else {
                problems.append(APIProblem(code: "invalidValue", message: "given more than once", parameter: name))
                continue
            }
            values.append((name, value))
        }
        guard problems.isEmpty else {
            throw APIError(
                .invalidParameter,
                problems.count == 1
                    ? "\(problems[0].parameter ?? ""): \(problems[0].message)"
                    : "\(problems.count) problems with the query parameters", problems: problems)
        }
    }

    subscript(_ name: String) -> String? { values.first { $0.name == name }?.value }

    /// The parameters as a JSON object (for the access log).
    var json: JSONValue { .object(JSONObject(values.map { ($0.name, JSONValue.string($0.value)) })) }

    // MARK: - Typed values

    func string(_ name: String) throws(APIError) -> String? {
        guard let value = self[name] else { return nil }
        guard !value.isEmpty else { throw APIError.parameter(name, "must not be empty") }
        return value
    }

    func required(_ name: String) throws(APIError) -> String {
        guard let value = try string(name) else {
            throw APIError.parameter(name, "is required", code: "missingParameter")
        }
        return value
    }

    func uint64(_ name: String) throws(APIError) -> UInt64? {
        guard let value = self[name] else { return nil }
        guard let number = UInt64(value), value.first != "+", value.count <= 20 else {
            throw APIError.parameter(name, "expected a non-negative integer, got \(value.debugDescription)")
        }
        return number
    }

    func int(_ name: String, in range: ClosedRange<Int>) throws(APIError) -> Int? {
        guard let value = self[name] else { return nil }
        guard let number = Int(value), value.first != "+", range.contains(number) else {
            throw APIError.parameter(
                name,
                "expected an integer from \(range.lowerBound) to \(range.upperBound), got \(value.debugDescription)")
        }
        return number
    }

    func bool(_ name: String) throws(APIError) -> Bool? {
        guard let value = self[name] else { return nil }
        switch value {
        case "true", "1": return true
        case "false", "0": return false
        default: throw APIError.parameter(name, "expected true or false, got \(value.debugDescription)")
        }
    }

    /// An RFC 3339 UTC time or a date (midnight UTC), as ms since the epoch.
    func time(_ name: String) throws(APIError) -> Int64? {
        guard let value = self[name] else { return nil }
        if let ms = Timestamp.parse(value) { return ms }
        if value.count == 10, let ms = Timestamp.parse(value + "T00:00:00Z") { return ms }
        throw APIError.parameter(
            name,
            "expected an RFC 3339 UTC time (2026-11-20T09:00:00Z) or a date (2026-11-20), got \(value.debugDescription)"
        )
    }

    func entryReference(_ name: String) throws(APIError) -> EntryReference? {
        guard let value = self[name] else { return nil }
        guard let reference = EntryReference(value) else {
            throw APIError.parameter(
                name,
                "expected a leaf index (no leading zeros) or sha256:<64 lower-case hex digits>, got \(value.debugDescription)"
            )
        }
        return reference
    }

    // MARK: - Percent-decoding

    /// Decodes `%XX` escapes and `+`; nil for a malformed escape or invalid UTF-8.
    static func decode(_ text: Substring) -> String? {
        guard text.contains(where: { $0 == "%" || $0 == "+" }) else { return String(text) }
        var bytes: [UInt8] = []
        var utf8 = text.utf8.makeIterator()
        while let byte = utf8.next() {
            switch byte {
            case UInt8(ascii: "+"): bytes.append(0x20)
            case UInt8(ascii: "%"):
                guard let high = utf8.next().flatMap(hexValue), let low = utf8.next().flatMap(hexValue) else {
                    return nil
                }
                bytes.append(high << 4 | low)
            default: bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }

    /// Decodes a path segment (`%XX` only; `+` stays).
    static func decodePathSegment(_ text: Substring) -> String? {
        guard text.contains("%") else { return String(text) }
        return decode(Substring(text.replacingPlus()))
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

extension Substring {
    /// `+` as `%2B`, so that `decode` keeps it.
    fileprivate func replacingPlus() -> String {
        var out = ""
        for character in self { out += character == "+" ? "%2B" : String(character) }
        return out
    }
}

// MARK: - The record query

extension QueryParameters {
    /// The parameters of `GET /v1/query`.
    static let recordQueryNames: Set<String> = [
        "model", "requested_by", "reviewer", "tool_path", "repo", "commit", "path", "line", "lines", "work_item",
        "request_id", "since", "until", "unreviewed", "type", "limit", "model_version", "state",
    ]

    /// The `RecordQuery` these parameters describe (the filters of `cairn query`).
    func recordQuery(defaultLimit: Int, maxLimit: Int) throws(APIError) -> RecordQuery {
        var query = RecordQuery()
        if let type = try string("type") {
            guard let recordType = RecordType(rawValue: type) else {
                throw APIError.parameter(
                    "type",
                    "expected one of \(RecordType.allCases.map(\.rawValue).joined(separator: ", ")), got \(type.debugDescription)"
                )
            }
            query.type = recordType
        }
        query.model = try string("model")
        query.requestedBy = try string("requested_by")
        query.reviewer = try string("reviewer")
        query.toolPath = try string("tool_path")
        query.repo = try string("repo")
        query.commit = try string("commit")
        query.path = try string("path")
        query.workItem = try string("work_item")
        query.requestID = try string("request_id")
        query.unreviewed = try bool("unreviewed") ?? false
        query.modelVersion = try string("model_version")
        if let state = try string("state") {
            guard let condition = CheckpointCondition(rawValue: state) else {
                throw APIError.parameter(
                    "state",
                    "expected one of \(CheckpointCondition.allCases.map(\.rawValue).joined(separator: ", ")), got "
                        + state.debugDescription)
            }
            query.state = condition
        }
        query.limit = try int("limit", in: 1...maxLimit) ?? defaultLimit
        let line = self["line"]
        let lines = self["lines"]
        if line != nil && lines != nil {
            throw APIError.parameter("lines", "give either line or lines, not both")
        }
        if (line != nil || lines != nil) && query.path == nil {
            throw APIError.parameter(line != nil ? "line" : "lines", "needs a path parameter", code: "missingParameter")
        }
        if let line {
            guard let n = UInt32(line), line.first != "+", n >= 1 else {
                throw APIError.parameter("line", "expected a line number 1…4294967295, got \(line.debugDescription)")
            }
            query.lines = n...n
        }
        if let lines {
            let parts = lines.split(separator: "-", omittingEmptySubsequences: false)
            guard parts.count == 2, let a = UInt32(parts[0]), let b = UInt32(parts[1]), a >= 1, a <= b,
                parts.allSatisfy({ $0.first != "+" })
            else {
                throw APIError.parameter("lines", "expected A-B with 1 ≤ A ≤ B, got \(lines.debugDescription)")
            }
            query.lines = a...b
        }
        query.since = try time("since")
        query.until = try time("until")
        do {
            try query.validate()
        } catch {
            throw APIError.parameter(
                error.parameter == "lines" && line != nil ? "line" : error.parameter, error.message)
        }
        return query
    }
}
