import CairnCrypto
import CairnJSON
import CairnRecords

/// A model provider's request log (JSON Lines) to `model-call` records (specs/interop-formats.md §5,
/// specs/record-schema.md): `cairn import provider-log`. The records are the provider's side of each call — which
/// model served it, when, how many tokens — and correlate with client-side checkpoints by `request_id`.
///
/// Pure: the same line under the same options always gives the same record (nothing of the file's name or the line's
/// position is kept), so importing a log again appends nothing. Never traps, whatever the bytes.
package enum ProviderLog {
    /// How the log's entries are laid out: which members give which field (the field mapping).
    package enum Format: String, CaseIterable, Sendable {
        /// Anthropic Messages API responses, as logged by a gateway or the client: `request_id`, `id` (`msg_…`),
        /// `model`, `usage.input_tokens`/`output_tokens`, `timestamp`/`created_at`.
        case anthropic
        /// OpenAI Chat Completions or Responses API objects: `x-request-id`/`request_id`, else `id` (`chatcmpl-…`,
        /// `resp_…`), `created` (Unix seconds), `model`, `usage.prompt_tokens`/`input_tokens`, ….
        case openai
        /// Any layout, given with `--map`; unmapped fields are read from the members named like the record's.
        case generic
    }

    /// The fields a log entry gives, by the names `--map` uses.
    package enum Field: String, CaseIterable, Sendable {
        case requestID = "request_id"
        case provider
        case model
        case timestamp
        case responseID = "response_id"
        case status
        case inputTokens = "input_tokens"
        case outputTokens = "output_tokens"
        case costUSD = "cost_usd"
        case prompt
        case output
    }

    /// A path to a member of a log entry: `a.b`, `$.a.b`, `a[0].b`, `headers["x-request-id"]`.
    package struct Path: Sendable, Hashable, CustomStringConvertible {
        package enum Component: Sendable, Hashable {
            case key(String)
            case index(Int)
        }

        package let components: [Component]

        package init(_ components: [Component]) {
            self.components = components
        }

        /// Parses `text`: an optional `$`, then member names separated by `.` (a name holds no `.`, `[` or `"`),
        /// `[n]` for an array element, `["name"]` (a JSON string) for any member name. Nil when malformed or empty.
        package init?(_ text: String) {
            // Parsed by Unicode scalars, not Characters: a combining mark after `"` or `[` would otherwise merge with
            // it into one Character and hide the delimiter (found by FuzzProviderLog).
            var components: [Component] = []
            var rest = Substring(text).unicodeScalars
            if rest.first == "$" { rest = rest.dropFirst() }
            while !rest.isEmpty {
                if rest.starts(with: "[\"".unicodeScalars) {
                    // `["name"]`: a JSON string, up to its closing quote (escaped quotes skipped), then `]`.
                    let body = rest.dropFirst()
                    var end = body.index(after: body.startIndex)
                    var escaped = false
                    while end < body.endIndex, escaped || body[end] != "\"" {
                        escaped = !escaped && body[end] == "\\"
                        end = body.index(after: end)
                    }
                    guard end < body.endIndex, body[body.index(after: end)...].starts(with: "]".unicodeScalars),
                        let name = (try? JSONParser.parse(String(Substring(body[...end]))))?.stringValue
                    else { return nil }
                    components.append(.key(name))
                    rest = body[body.index(end, offsetBy: 2)...]
                } else if rest.first == "[" {
                    let digits = rest.dropFirst().prefix { ("0"..."9").contains($0) }
                    guard !digits.isEmpty, digits.count <= 9, rest.dropFirst(1 + digits.count).first == "]",
                        let index = Int(String(Substring(digits)))
                    else { return nil }
                    components.append(.index(index))
                    rest = rest.dropFirst(2 + digits.count)
                } else {
                    if rest.first == "." {
                        rest = rest.dropFirst()
                    } else if !components.isEmpty {
                        return nil
                    }
                    let name = rest.prefix { $0 != "." && $0 != "[" && $0 != "]" && $0 != "\"" }
                    guard !name.isEmpty else { return nil }
                    components.append(.key(String(Substring(name))))
                    rest = rest.dropFirst(name.count)
                }
            }
            guard !components.isEmpty else { return nil }
            self.components = components
        }

        /// The value at this path in `value`, nil when a member or element is missing (or `null`).
        package func value(in value: JSONValue) -> JSONValue? {
            var current = value
            for component in components {
                switch component {
                case .key(let key): guard let next = current[key] else { return nil }; current = next
                case .index(let index): guard let next = current[index] else { return nil }; current = next
                }
            }
            return current.isNull ? nil : current
        }

        /// `a.b[0]`, with `["…"]` for names that need it.
        package var description: String {
            var text = ""
            for component in components {
                switch component {
                case .key(let key):
                    // By scalars, as `init?` reads it: a plain name has none of `.[]"$` and no white space.
                    let plain =
                        !key.isEmpty
                        && !key.unicodeScalars.contains {
                            ".[]\"$".unicodeScalars.contains($0) || $0.properties.isWhitespace
                        }
                    if plain {
                        text += (text.isEmpty ? "" : ".") + key
                    } else {
                        text += "[" + JSONWriter.compact(.string(key)) + "]"
                    }
                case .index(let index): text += "[\(index)]"
                }
            }
            return text
        }
    }

    /// How a log is read.
    package struct Options: Sendable {
        package var format: Format
        /// Paths given with `--map`: each replaces the format's own paths for its field.
        package var map: [Field: Path]
        /// A name for the log, kept as `source.log` (nil: none).
        package var logName: String?
        /// Whether prompts and outputs are kept (after `redact`); otherwise they are left out.
        package var includePayloads: Bool
        /// Applied to every prompt and output kept (secrets out: `Redactor`).
        package var redact: @Sendable (String) -> String

        package init(
            format: Format, map: [Field: Path] = [:], logName: String? = nil, includePayloads: Bool = false,
            redact: @escaping @Sendable (String) -> String = { $0 }
        ) {
            self.format = format
            self.map = map
            self.logName = logName
            self.includePayloads = includePayloads
            self.redact = redact
        }
    }

    /// The provider a format names (`provider` is read from the entry only for `generic`, or when mapped).
    static func provider(of format: Format) -> String? {
        switch format {
        case .anthropic: return "anthropic"
        case .openai: return "openai"
        case .generic: return nil
        }
    }

    /// The paths a format reads a field from, in order: the first one present (not missing, not `null`) wins.
    package static func paths(_ field: Field, format: Format) -> [Path] {
        func p(_ texts: String...) -> [Path] { texts.compactMap(Path.init) }
        switch (format, field) {
        case (.anthropic, .requestID): return p("request_id", "request-id", #"headers["request-id"]"#)
        case (.openai, .requestID):
            return p("x-request-id", "request_id", "_request_id", #"headers["x-request-id"]"#, "response.id", "id")
        case (.generic, .requestID): return p("request_id")
        case (.anthropic, .provider), (.openai, .provider): return []
        case (.generic, .provider): return p("provider")
        case (.anthropic, .model), (.openai, .model): return p("response.model", "model")
        case (.generic, .model): return p("model")
        case (.anthropic, .timestamp): return p("timestamp", "created_at", "response.created_at")
        case (.openai, .timestamp):
            return p("timestamp", "response.created", "created", "response.created_at", "created_at")
        case (.generic, .timestamp): return p("timestamp")
        case (.anthropic, .responseID), (.openai, .responseID): return p("response.id", "id")
        case (.generic, .responseID): return p("response_id")
        case (.anthropic, .status), (.openai, .status): return p("status_code", "status")
        case (.generic, .status): return p("status")
        case (.anthropic, .inputTokens): return p("response.usage.input_tokens", "usage.input_tokens")
        case (.openai, .inputTokens):
            return p(
                "response.usage.input_tokens", "usage.input_tokens", "response.usage.prompt_tokens",
                "usage.prompt_tokens")
        case (.generic, .inputTokens): return p("usage.input_tokens")
        case (.anthropic, .outputTokens): return p("response.usage.output_tokens", "usage.output_tokens")
        case (.openai, .outputTokens):
            return p(
                "response.usage.output_tokens", "usage.output_tokens", "response.usage.completion_tokens",
                "usage.completion_tokens")
        case (.generic, .outputTokens): return p("usage.output_tokens")
        case (.anthropic, .costUSD), (.openai, .costUSD): return p("cost.usd", "cost_usd")
        case (.generic, .costUSD): return p("cost.usd")
        case (.anthropic, .prompt): return p("prompt", "request.messages", "messages")
        case (.openai, .prompt): return p("prompt", "request.messages", "request.input", "messages", "input")
        case (.generic, .prompt): return p("prompt")
        case (.anthropic, .output): return p("response.content", "content")
        case (.openai, .output): return p("response.choices", "response.output", "choices", "output")
        case (.generic, .output): return p("output")
        }
    }

    /// The largest Unix time in seconds a timestamp may be (9999-12-31T23:59:59Z): a larger number is most likely
    /// in milliseconds, and is refused rather than misread.
    static let maxUnixSeconds = 253_402_300_799.0

    // MARK: - Reading

    /// The non-blank lines of a log, each with its 1-based number (blank lines counted) and its bytes without the
    /// line end (a CR before the LF is not part of the line; a UTF-8 byte order mark before the first is dropped).
    package static func lines(in input: [UInt8]) -> [(line: Int, bytes: [UInt8])] {
        var bytes = input
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.replaceSubrange(0..<3, with: [0x20, 0x20, 0x20]) }
        return JSONLines.lines(bytes).filter { !JSONLines.isBlank(bytes[$0.range]) }.map {
            ($0.number, Array(bytes[$0.range]))
        }
    }

    /// The `model-call` record of one log line (its bytes, without the line end), or why there is none: the line
    /// and the field, and what was expected. The record is valid (specs/record-schema.md); nothing of the line is in
    /// it but what the mapping reads, and its `source.line_hash` (SHA-256 of the line without surrounding
    /// whitespace).
    package static func record(
        line bytes: [UInt8], number line: Int, options: Options
    ) throws(ImportProblem)
        -> JSONValue
    {
        let entry: JSONValue
        do {
            entry = try JSONParser.parse(bytes)
        } catch {
            throw ImportProblem(line: line, "column \(error.column): \(error.detail)")
        }
        guard case .object = entry else {
            throw ImportProblem(line: line, "expected a JSON object (one log entry per line), found \(entry.kindName)")
        }
        let reader = EntryReader(entry: entry, line: line, options: options)

        var members: [(String, JSONValue)] = [("type", .string(RecordType.modelCall.rawValue)), ("schema", 1)]
        let requestID = try reader.identifier(.requestID)
        members.append(("request_id", .string(requestID.value)))
        if let fixed = options.map[.provider] == nil ? provider(of: options.format) : nil {
            members.append(("provider", .string(fixed)))
        } else {
            members.append(("provider", .string(try reader.identifier(.provider).value)))
        }
        members.append(("timestamp", .string(try reader.timestamp())))
        members.append(("model", .object(["id": .string(try reader.identifier(.model).value)])))
        // The response's own id, unless it is what the request id was read from (OpenAI without a request id).
        if let responseID = try reader.optionalIdentifier(.responseID), responseID.path != requestID.path {
            members.append(("response_id", .string(responseID.value)))
        }
        if let status = try reader.status() { members.append(("status", .number(Double(status)))) }
        var usage: [(String, JSONValue)] = []
        if let tokens = try reader.count(.inputTokens) { usage.append(("input_tokens", .number(Double(tokens)))) }
        if let tokens = try reader.count(.outputTokens) { usage.append(("output_tokens", .number(Double(tokens)))) }
        if !usage.isEmpty { members.append(("usage", .object(JSONObject(usage)))) }
        if let usd = try reader.amount(.costUSD) { members.append(("cost", .object(["usd": .number(usd)]))) }
        var omitted = false
        for field in [Field.prompt, .output] {
            guard let text = reader.payload(field) else { continue }
            if options.includePayloads {
                let redacted = options.redact(text)
                if !redacted.isEmpty { members.append((field.rawValue, .string(redacted))) }
            } else {
                omitted = true
            }
        }
        var source: [(String, JSONValue)] = [("format", .string(options.format.rawValue))]
        if let log = options.logName { source.append(("log", .string(log))) }
        source.append(("line_hash", .string(SHA256.hash(trimmed(bytes)).description)))
        members.append(("source", .object(JSONObject(source))))
        var capture: [(String, JSONValue)] = [("grade", "import"), ("source", "provider-log")]
        if omitted { capture.append(("payloads_omitted", true)) }
        members.append(("x_capture", .object(JSONObject(capture))))

        let record = JSONValue.object(JSONObject(members))
        // A backstop: every field was checked above, so the schema finds nothing (the fuzzer checks this).
        if let issue = RecordValidator.issues(in: record).first {
            throw ImportProblem(line: line, "the record would be invalid: \(issue.path): \(issue.message)")
        }
        return record
    }

    /// `bytes` without JSON whitespace at either end.
    static func trimmed(_ bytes: [UInt8]) -> ArraySlice<UInt8> {
        func blank(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0d || byte == 0x0a }
        var slice = bytes[...]
        while let first = slice.first, blank(first) { slice = slice.dropFirst() }
        while let last = slice.last, blank(last) { slice = slice.dropLast() }
        return slice
    }
}

/// Reads the fields of one log entry through the mapping, with messages that name the line, the field, the path and
/// what was expected.
private struct EntryReader {
    let entry: JSONValue
    let line: Int
    let options: ProviderLog.Options

    /// The paths of `field`: the mapped one, or the format's.
    func paths(_ field: ProviderLog.Field) -> [ProviderLog.Path] {
        options.map[field].map { [$0] } ?? ProviderLog.paths(field, format: options.format)
    }

    /// The first value present at one of `field`'s paths, with that path.
    func find(_ field: ProviderLog.Field) -> (path: ProviderLog.Path, value: JSONValue)? {
        for path in paths(field) {
            if let value = path.value(in: entry) { return (path, value) }
        }
        return nil
    }

    /// Where a field was looked for, for messages.
    func looked(_ field: ProviderLog.Field) -> String {
        let list = paths(field).map(\.description)
        let places =
            list.count <= 1 ? (list.first ?? "?") : list.dropLast().joined(separator: ", ") + " or " + list.last!
        let hint =
            options.map[field] == nil
            ? " (or give its place with --map \(field.rawValue)=PATH)" : " (given with --map \(field.rawValue)=…)"
        return places + hint
    }

    func problem(_ message: String) -> ImportProblem { ImportProblem(line: line, message) }

    func wrong(
        _ field: ProviderLog.Field, _ path: ProviderLog.Path, expected: String, found value: JSONValue
    )
        -> ImportProblem
    {
        problem("\(field.rawValue) (at \(path)): expected \(expected), found \(ImportedCheckpoints.brief(value))")
    }

    /// A required identifier: a non-empty string without control characters.
    func identifier(_ field: ProviderLog.Field) throws(ImportProblem) -> (path: ProviderLog.Path, value: String) {
        guard let found = try optionalIdentifier(field) else {
            throw problem("no \(field.rawValue): expected a string at \(looked(field))")
        }
        return found
    }

    func optionalIdentifier(
        _ field: ProviderLog.Field
    ) throws(ImportProblem) -> (path: ProviderLog.Path, value: String)? {
        guard let (path, value) = find(field) else { return nil }
        let expected = "a non-empty string without control characters"
        guard let text = value.stringValue, !text.isEmpty else {
            throw wrong(field, path, expected: expected, found: value)
        }
        guard !text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) else {
            throw wrong(field, path, expected: expected, found: value)
        }
        return (path, text)
    }

    /// The time of the call: an RFC 3339 date-time in any offset (made UTC, kept to the millisecond), or a number of
    /// Unix seconds.
    func timestamp() throws(ImportProblem) -> String {
        guard let (path, value) = find(.timestamp) else {
            throw problem("no timestamp: expected a time at \(looked(.timestamp))")
        }
        let expected = "an RFC 3339 date-time (2026-11-20T09:14:03Z, any offset) or a number of Unix seconds"
        switch value {
        case .string(let text):
            guard let utc = ImportedCheckpoints.timestamp(text) else {
                throw wrong(.timestamp, path, expected: expected, found: value)
            }
            return utc
        case .number(let seconds):
            guard seconds >= 0, seconds <= ProviderLog.maxUnixSeconds else {
                throw wrong(
                    .timestamp, path,
                    expected: expected + " (from 0 to \(Int(ProviderLog.maxUnixSeconds)); "
                        + "milliseconds are not read as seconds)", found: value)
            }
            return Timestamp.format(Int64((seconds * 1000).rounded(.down)))
        default:
            throw wrong(.timestamp, path, expected: expected, found: value)
        }
    }

    /// The HTTP status: the first path holding a number (a string there, such as the Responses API's
    /// `"status": "completed"`, is not an HTTP status and is passed over), unless the path was mapped.
    func status() throws(ImportProblem) -> Int? {
        let expected = "an HTTP status, an integer from 100 to 599"
        for path in paths(.status) {
            guard let value = path.value(in: entry) else { continue }
            guard case .number = value else {
                if options.map[.status] != nil { throw wrong(.status, path, expected: expected, found: value) }
                continue
            }
            guard let status = value.intValue, (100...599).contains(status) else {
                throw wrong(.status, path, expected: expected, found: value)
            }
            return status
        }
        return nil
    }

    /// A token count: an integer from 0 to 2^53 − 1.
    func count(_ field: ProviderLog.Field) throws(ImportProblem) -> Int? {
        guard let (path, value) = find(field) else { return nil }
        guard let count = value.nonNegativeIntValue else {
            throw wrong(field, path, expected: "a token count, an integer ≥ 0", found: value)
        }
        return count
    }

    /// An amount of money: a finite number ≥ 0.
    func amount(_ field: ProviderLog.Field) throws(ImportProblem) -> Double? {
        guard let (path, value) = find(field) else { return nil }
        guard let amount = value.numberValue, amount >= 0, amount.isFinite else {
            throw wrong(field, path, expected: "an amount in US dollars, a number ≥ 0", found: value)
        }
        return amount
    }

    /// A prompt or output: a string as it is, any other value as its compact JSON text; nil when absent or empty.
    func payload(_ field: ProviderLog.Field) -> String? {
        guard let (_, value) = find(field) else { return nil }
        let text = value.stringValue ?? JSONWriter.compact(value)
        return text.isEmpty ? nil : text
    }
}
