import CairnJSON
import CairnLedger
import CairnRecords

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

    /// `file:line[:column]: message` lines (one per schema problem), escaped for display: they
    /// quote file names and record content.
    var errorLines: [String] { unescapedErrorLines.map(DisplayText.escape) }

    private var unescapedErrorLines: [String] {
        guard case .failure(let error) = result else { return [] }
        if let parse = error.parseError {
            // For a JSON Lines record the parser saw only that line; its line is always 1.
            let line = self.line + parse.line - 1
            return ["\(source):\(line):\(parse.column): \(parse.detail)"]
        }
        if !error.issues.isEmpty {
            return error.issues.map { "\(source):\(line): \($0.path): \($0.message)" }
        }
        return ["\(source):\(line): \(error.message)"]
    }
}

/// A piece of input that should hold one record.
struct RecordText {
    let line: Int
    let bytes: ArraySlice<UInt8>
    /// Whether `line` is where the text starts (JSON Lines) rather than where the document starts.
    let isDocument: Bool
}

/// Splits input bytes into record texts.
enum RecordSplitter {
    static func texts(in bytes: [UInt8], format: RecordFormat) -> [RecordText] {
        let lines = splitLines(bytes)
        guard let first = lines.first(where: { !isBlank(bytes[$0.range]) }) else {
            return format == .json ? [RecordText(line: 1, bytes: [], isDocument: true)] : []
        }
        var resolved = format
        if format == .auto {
            let alone = bytes[first.range].withUnsafeBytes { (try? JSONParser.parse($0)) != nil }
            resolved = alone ? .jsonl : .json
        }
        if resolved == .json {
            return [RecordText(line: first.number, bytes: bytes[...], isDocument: true)]
        }
        return lines.filter { !isBlank(bytes[$0.range]) }.map {
            RecordText(line: $0.number, bytes: bytes[$0.range], isDocument: false)
        }
    }

    typealias Line = JSONLines.Line

    /// Lines split on LF; a CR before the LF is dropped (`JSONLines`, shared with the server).
    static func splitLines(_ bytes: [UInt8]) -> [Line] { JSONLines.lines(bytes) }

    static func isBlank(_ bytes: ArraySlice<UInt8>) -> Bool { JSONLines.isBlank(bytes) }
}

/// Turns record texts into prepared entries under a ledger's rules (which say whether large
/// payloads are split off into blobs: `RecordRules.extractOver`). Pure: the ingest engine
/// writes the payloads.
struct RecordPreparer {
    let rules: RecordRules

    func prepare(_ text: RecordText, source: String) -> InputRecord {
        let result = text.bytes.withUnsafeBytes { raw in
            Result { () throws(RecordError) -> PreparedEntry in try PreparedEntry.prepare(json: raw, rules: rules) }
        }
        // Whole-document parse errors carry the document's own line numbers.
        let line = text.isDocument && result.isParseError ? 1 : text.line
        return InputRecord(source: source, line: line, result: result)
    }
}

extension Result where Failure == RecordError {
    var isParseError: Bool {
        if case .failure(let error) = self { return error.parseError != nil }
        return false
    }
}

extension RecordPreparer {
    /// Prepares `texts` on all cores, keeping their order.
    func prepareAll(_ texts: [RecordText], source: String) async -> [InputRecord] {
        let chunk = 512
        guard texts.count > chunk else { return texts.map { prepare($0, source: source) } }
        return await withTaskGroup(of: (Int, [InputRecord]).self) { group in
            for start in stride(from: 0, to: texts.count, by: chunk) {
                let slice = texts[start..<min(start + chunk, texts.count)]
                group.addTask { (start, slice.map { prepare($0, source: source) }) }
            }
            var parts: [(Int, [InputRecord])] = []
            for await part in group { parts.append(part) }
            return parts.sorted { $0.0 < $1.0 }.flatMap(\.1)
        }
    }
}
