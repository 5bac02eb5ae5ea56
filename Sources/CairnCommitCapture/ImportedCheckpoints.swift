import CairnCrypto
import CairnJSON
import CairnRecords

/// What the importers of foreign provenance formats (Agent Trace records, git-ai authorship notes) share: the
/// problem type, the repository lookups, deterministic ids, timestamps, models and outputs of the checkpoint records
/// they make (specs/interop-formats.md).

/// A reason an input, or one record of it, cannot be imported: `line` is 1-based in the input (the file, or the
/// note), `message` says what was expected and quotes what was found.
package struct ImportProblem: Error, Sendable, Equatable, CustomStringConvertible {
    package let line: Int
    package let message: String

    package init(line: Int, _ message: String) {
        self.line = line
        self.message = message
    }

    package var description: String { "line \(line): \(message)" }
}

/// A record made by an importer, or the reason it could not be made, with the input line it comes from.
package struct ImportedRecord: Sendable {
    package let line: Int
    package let result: Result<JSONValue, ImportProblem>

    package init(line: Int, result: Result<JSONValue, ImportProblem>) {
        self.line = line
        self.result = result
    }
}

/// What a conversion produced from one source record (a trace record, a note): checkpoint records, each with the
/// input line it comes from, and notes about claims it could not carry over (shown to the user; not errors).
package struct ImportConversion: Sendable {
    package var records: [(line: Int, record: JSONValue)] = []
    package var notes: [ImportProblem] = []

    package init() {}
}

/// The repository the imported claims are about: how outputs name it, and its commits and files.
package struct ImportRepository: Sendable {
    /// How outputs name the repository (`remote.origin.url`, else the working tree's path: as the hooks do).
    package var name: String
    /// The full commit id a revision names, nil when the repository has no such commit.
    package var commit: @Sendable (String) -> String?
    /// The bytes of `path` at `commit`, nil when there is no such file.
    package var file: @Sendable (_ commit: String, _ path: String) -> [UInt8]?

    package init(
        name: String, commit: @escaping @Sendable (String) -> String?,
        file: @escaping @Sendable (_ commit: String, _ path: String) -> [UInt8]?
    ) {
        self.name = name
        self.commit = commit
        self.file = file
    }
}

/// The pieces of an imported checkpoint record.
package enum ImportedCheckpoints {
    /// A UUID (RFC 9562 version 8: custom, here SHA-256 based) derived from `parts`: the same source claim gives the
    /// same id, so importing it again makes the same record, which the ledger stores once.
    package static func uuid(_ parts: [String]) -> String {
        var bytes = Array("cairn-import".utf8)
        for part in parts { bytes += [0] + Array(part.utf8) }
        var digest = SHA256.hash(bytes).bytes
        digest[6] = (digest[6] & 0x0f) | 0x80
        digest[8] = (digest[8] & 0x3f) | 0x80
        let hex = digest.prefix(16).map { byte in
            let digits = Array("0123456789abcdef")
            return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0f)]])
        }.joined()
        let characters = Array(hex)
        return [0..<8, 8..<12, 12..<16, 16..<20, 20..<32].map { String(characters[$0]) }.joined(separator: "-")
    }

    /// Whether `text` is a UUID in the 8-4-4-4-12 hexadecimal form.
    package static func isUUID(_ text: String) -> Bool {
        let groups = text.split(separator: "-", omittingEmptySubsequences: false)
        return groups.map(\.count) == [8, 4, 4, 4, 12] && groups.allSatisfy { $0.allSatisfy(\.isHexDigit) }
    }

    /// A git object id as the record schema wants it: 40 or 64 lowercase hex digits.
    package static func isCommitID(_ text: String) -> Bool {
        (text.utf8.count == 40 || text.utf8.count == 64)
            && text.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }

    /// A revision git can be asked about safely: 4 to 64 hex digits (either case).
    package static func isHexRevision(_ text: String) -> Bool {
        (4...64).contains(text.utf8.count) && text.allSatisfy(\.isHexDigit)
    }

    // MARK: - Timestamps

    /// An RFC 3339 date-time in any offset (`Z`, `z`, `+01:00`, `-0530`…; `T`, `t` or a space between date and time;
    /// any number of fractional digits), as Cairn's one spelling (UTC, `Z`, milliseconds): nil when it is not one.
    package static func timestamp(_ text: String) -> String? {
        let chars = Array(text.utf8)
        func number(_ range: Range<Int>) -> Int? {
            guard range.upperBound <= chars.count else { return nil }
            var value = 0
            for c in chars[range] {
                guard (0x30...0x39).contains(c) else { return nil }
                value = value * 10 + Int(c - 0x30)
            }
            return value
        }
        guard chars.count >= 20, chars[4] == UInt8(ascii: "-"), chars[7] == UInt8(ascii: "-"),
            [UInt8(ascii: "T"), UInt8(ascii: "t"), UInt8(ascii: " ")].contains(chars[10]),
            chars[13] == UInt8(ascii: ":"), chars[16] == UInt8(ascii: ":"),
            let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
            let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19)
        else { return nil }
        var index = 19
        var milliseconds = 0
        if index < chars.count, chars[index] == UInt8(ascii: ".") {
            index += 1
            let start = index
            while index < chars.count, (0x30...0x39).contains(chars[index]) { index += 1 }
            guard index > start else { return nil }
            let digits = chars[start..<min(index, start + 3)].map { Int($0 - 0x30) }
            milliseconds = digits.reduce(0) { $0 * 10 + $1 } * [100, 10, 1][digits.count - 1]
        }
        guard index < chars.count else { return nil }
        var offsetMinutes = 0
        switch chars[index] {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            guard index + 1 == chars.count else { return nil }
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            let sign = chars[index] == UInt8(ascii: "-") ? -1 : 1
            let rest = chars.count - index - 1
            let hours: Int?
            let minutes: Int?
            if rest == 5, chars[index + 3] == UInt8(ascii: ":") {
                (hours, minutes) = (number(index + 1..<index + 3), number(index + 4..<index + 6))
            } else if rest == 4 {
                (hours, minutes) = (number(index + 1..<index + 3), number(index + 3..<index + 5))
            } else {
                return nil
            }
            guard let hours, let minutes, hours < 24, minutes < 60 else { return nil }
            offsetMinutes = sign * (hours * 60 + minutes)
        default:
            return nil
        }
        // Validate the local date and time through Cairn's own parser, then apply the offset.
        func pad(_ value: Int, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        let local =
            "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(hour, 2)):\(pad(minute, 2)):\(pad(second, 2))Z"
        guard let base = Timestamp.parse(local) else { return nil }
        let instant = base + Int64(milliseconds) - Int64(offsetMinutes) * 60_000
        guard Timestamp.range.contains(instant) else { return nil }
        return Timestamp.format(instant)
    }

    // MARK: - Models and agents

    /// The checkpoint's `model` from a model id as a foreign format gives it: `provider/model` (models.dev, as Agent
    /// Trace uses) or a bare id (git-ai). `unknown` is true when the source names no model (nil, empty, `unknown`,
    /// `default`).
    package static func model(_ foreign: String?, agent: String) -> (model: JSONValue, unknown: Bool) {
        let trimmed = foreign.map { $0.trimmedOfWhitespace } ?? ""
        guard !trimmed.isEmpty, !["unknown", "default"].contains(trimmed.lowercased()) else {
            return (ModelNames.model(id: nil, agent: agent), true)
        }
        guard let slash = trimmed.firstIndex(of: "/"), slash != trimmed.startIndex,
            trimmed.index(after: slash) != trimmed.endIndex
        else {
            return (ModelNames.model(id: trimmed, agent: agent), false)
        }
        let provider = String(trimmed[..<slash])
        let id = String(trimmed[trimmed.index(after: slash)...])
        guard case .object(var object) = ModelNames.model(id: id, agent: agent) else {
            return (ModelNames.model(id: id, agent: agent), false)
        }
        object["provider"] = .string(provider)
        return (.object(object), false)
    }

    /// Cairn's agent name for a tool name of a foreign format (git-ai's `agent_id.tool`, Agent Trace's `tool.name`).
    package static func agent(_ tool: String?) -> String {
        guard let tool = tool?.trimmedOfWhitespace, !tool.isEmpty else { return "unknown" }
        switch tool.lowercased() {
        case "claude", "claude-code", "claude_code": return "claude-code"
        case "gemini", "gemini-cli": return "gemini-cli"
        case "copilot", "github-copilot": return "github-copilot"
        case "codex", "codex-cli": return "codex"
        default: return tool
        }
    }

    /// The e-mail address in `Name <address>`, else the text itself (trimmed); nil when empty.
    package static func person(_ text: String?) -> String? {
        guard let text = text?.trimmedOfWhitespace, !text.isEmpty else { return nil }
        if let open = text.lastIndex(of: "<"), let close = text.lastIndex(of: ">"), open < close {
            let address = text[text.index(after: open)..<close].trimmedOfWhitespace
            if !address.isEmpty { return address }
        }
        return text
    }

    // MARK: - Outputs

    /// Sorted ranges with overlapping and adjacent ones merged.
    package static func merged(_ ranges: [ClosedRange<Int>]) -> [ClosedRange<Int>] {
        var out: [ClosedRange<Int>] = []
        for range in ranges.sorted(by: { $0.lowerBound < $1.lowerBound }) {
            if let last = out.last, range.lowerBound <= last.upperBound + 1 {
                out[out.count - 1] = last.lowerBound...max(last.upperBound, range.upperBound)
            } else {
                out.append(range)
            }
        }
        return out
    }

    /// The number of lines of a file (a final line feed ends the last line).
    package static func lineCount(_ bytes: [UInt8]) -> Int { CommitRecorder.lines(bytes).count }

    /// One element of a checkpoint's `outputs`.
    package static func output(
        repo: String, commit: String, path: String, ranges: [ClosedRange<Int>], file: [UInt8], contributor: String
    ) -> JSONValue {
        .object(
            JSONObject([
                ("repo", .string(repo)), ("commit", .string(commit)), ("path", .string(path)),
                (
                    "ranges",
                    .array(
                        merged(ranges).map { .array([.number(Double($0.lowerBound)), .number(Double($0.upperBound))]) }
                    )
                ),
                ("content_hash", .string(SHA256.hash(file).description)), ("contributor", .string(contributor)),
            ]))
    }

    /// A repository-relative path as the record schema wants it, from a foreign one (`./` prefixes and a Windows
    /// separator tolerated); nil when it cannot be one (absolute, `..`, empty segments, control characters).
    package static func repositoryPath(_ path: String) -> String? {
        var text = path.replacingBackslashes
        while text.hasPrefix("./") { text.removeFirst(2) }
        guard !text.isEmpty, !text.hasPrefix("/"), !text.hasSuffix("/"),
            !text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f })
        else { return nil }
        let segments = text.split(separator: "/", omittingEmptySubsequences: false)
        guard segments.allSatisfy({ !$0.isEmpty && $0 != "." && $0 != ".." }) else { return nil }
        return text
    }

    /// `"text"` as JSON writes it, for quoting foreign values in messages.
    package static func quoted(_ text: String) -> String {
        let limited = text.count > 200 ? String(text.prefix(200)) + "…" : text
        return JSONWriter.compact(.string(limited))
    }

    /// A JSON value as found, for messages (at most 200 characters).
    package static func brief(_ value: JSONValue) -> String {
        let text = JSONWriter.compact(value)
        return text.count > 200 ? String(text.prefix(200)) + "…" : text
    }

    /// The `x_capture` member of an imported record.
    package static func capture(source: String, agent: String, extra: [(String, JSONValue)]) -> JSONValue {
        .object(
            JSONObject([("grade", .string("import")), ("source", .string(source)), ("agent", .string(agent))] + extra))
    }
}

extension StringProtocol {
    var trimmedOfWhitespace: String {
        var scalars = Substring(self).unicodeScalars[...]
        while let first = scalars.first, first.properties.isWhitespace { scalars.removeFirst() }
        while let last = scalars.last, last.properties.isWhitespace { scalars.removeLast() }
        return String(String.UnicodeScalarView(scalars))
    }

    var replacingBackslashes: String { String(map { $0 == "\\" ? "/" : $0 }) }
}
