import CairnJSON
import CairnLedger

/// How an input file holds records.
enum RecordFormat: String, CaseIterable, Sendable {
    /// One JSON object per line (blank lines are ignored).
    case jsonl
    /// The whole file is one JSON object (may span lines).
    case json
    /// `jsonl` if the first non-blank line is a complete JSON value on its own, else `json`.
    case auto
}

/// One record read from an input, with where it came from.
struct InputRecord {
    let source: String
    let line: Int
    let result: Result<PreparedEntry, RecordError>

    /// `file:line: message` (with the column when the parser knows it).
    var errorText: String? {
        guard case .failure(let error) = result else { return nil }
        if let parse = error.parseError {
            // For a JSON Lines record the parser saw only that line; its line is always 1.
            let line = self.line + parse.line - 1
            return "\(source):\(line):\(parse.column): \(parse.detail)"
        }
        return "\(source):\(line): \(error.message)"
    }
}

/// Splits input bytes into records and prepares each (parse, canonicalize, hash, size check).
enum RecordSplitter {
    static func records(
        in bytes: [UInt8], source: String, format: RecordFormat, maxEntryBytes: Int
    ) -> [InputRecord] {
        let lines = splitLines(bytes)
        let resolved: RecordFormat
        switch format {
        case .auto:
            if let first = lines.first(where: { !isBlank(bytes[$0.range]) }) {
                let alone = bytes[first.range].withUnsafeBytes { (try? JSONParser.parse($0)) != nil }
                resolved = alone ? .jsonl : .json
            } else {
                return []
            }
        default:
            resolved = format
        }
        if resolved == .json {
            guard let first = lines.first(where: { !isBlank(bytes[$0.range]) }) else {
                return [
                    InputRecord(source: source, line: 1, result: .failure(RecordError(.invalidJSON, "input is empty")))
                ]
            }
            let result = Result { () throws(RecordError) in
                try PreparedEntry.prepare(json: bytes, maxEntryBytes: maxEntryBytes)
            }
            // Whole-document errors carry the document's own line numbers.
            return [InputRecord(source: source, line: result.isParseError ? 1 : first.number, result: result)]
        }
        var out: [InputRecord] = []
        out.reserveCapacity(lines.count)
        for line in lines where !isBlank(bytes[line.range]) {
            let result = bytes[line.range].withUnsafeBytes { raw in
                Result { () throws(RecordError) in try PreparedEntry.prepare(json: raw, maxEntryBytes: maxEntryBytes) }
            }
            out.append(InputRecord(source: source, line: line.number, result: result))
        }
        return out
    }

    struct Line {
        let number: Int
        let range: Range<Int>
    }

    /// Lines split on LF; a CR before the LF is dropped.
    static func splitLines(_ bytes: [UInt8]) -> [Line] {
        var lines: [Line] = []
        var start = 0
        var number = 1
        bytes.withUnsafeBufferPointer { buf in
            for i in 0..<buf.count where buf[i] == UInt8(ascii: "\n") {
                let end = i > start && buf[i - 1] == UInt8(ascii: "\r") ? i - 1 : i
                lines.append(Line(number: number, range: start..<end))
                start = i + 1
                number += 1
            }
            if start < buf.count { lines.append(Line(number: number, range: start..<buf.count)) }
        }
        return lines
    }

    static func isBlank(_ bytes: ArraySlice<UInt8>) -> Bool {
        bytes.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0d || $0 == 0x0a }
    }
}

extension Result where Failure == RecordError {
    var isParseError: Bool {
        if case .failure(let error) = self { return error.parseError != nil }
        return false
    }
}
