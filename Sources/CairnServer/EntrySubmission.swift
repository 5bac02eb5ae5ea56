import CairnJSON
import CairnLedger
import CairnRecords

/// The records of one `POST /v1/entries` body, prepared (parsed, validated, canonicalized,
/// hashed) and ready for the ingest engine, each with the body line it starts on.
struct EntrySubmission: Sendable {
    /// How the body holds records.
    enum Format: Sendable {
        /// `application/json`: exactly one record (a JSON document; it may span lines).
        case json
        /// `application/x-ndjson`: one record per line; blank lines are ignored.
        case ndjson
    }

    let entries: [PreparedEntry]
    /// The 1-based body line of each entry.
    let lines: [Int]

    /// Prepares every record of `body` (pure: no I/O). Throws an `APIError` listing every problem
    /// of every record when any is refused (specs/http-api.md §3.1: 400 before 413 before 422).
    /// With `rules.extractOver`, large checkpoint payloads are split off into the entries'
    /// `payloads` (the ingest engine stores them), as `cairn append` does.
    static func prepare(_ body: [UInt8], format: Format, rules: RecordRules) throws(APIError) -> EntrySubmission {
        let texts: [(line: Int, bytes: ArraySlice<UInt8>)]
        switch format {
        case .json:
            guard !isBlank(body[...]) else { throw APIError(.emptyBody, "the body holds no record") }
            texts = [(1, body[...])]
        case .ndjson:
            texts = lines(body).filter { !isBlank($0.bytes) }
            guard !texts.isEmpty else { throw APIError(.emptyBody, "the body holds no record") }
        }
        var entries: [PreparedEntry] = []
        entries.reserveCapacity(texts.count)
        var problems: [APIProblem] = []
        var worst: APIError.Kind?
        func note(_ kind: APIError.Kind) {
            let rank: [APIError.Kind: Int] = [.invalidJSON: 0, .tooLarge: 1, .invalidRecord: 2]
            if worst.map({ rank[kind]! < rank[$0]! }) ?? true { worst = kind }
        }
        var invalid = 0
        for text in texts {
            let result = text.bytes.withUnsafeBytes { raw in
                Result { () throws(RecordError) in try PreparedEntry.prepare(json: raw, rules: rules) }
            }
            switch result {
            case .success(let entry):
                entries.append(entry)
            case .failure(let error):
                invalid += 1
                let found = problemsOf(error, line: text.line, format: format)
                problems += found.problems
                note(found.kind)
            }
        }
        if let worst {
            let first = problems.first.map { ($0.line.map { "line \($0): " } ?? "") + $0.message } ?? ""
            let count = texts.count == 1 ? "the record was" : "\(invalid) of \(texts.count) records were"
            throw APIError(worst, "\(count) refused (\(first)); nothing was appended", problems: problems)
        }
        return EntrySubmission(entries: entries, lines: texts.map(\.line))
    }

    /// The problems of one refused record and the class of its refusal.
    static func problemsOf(
        _ error: RecordError, line: Int, format: Format
    ) -> (kind: APIError.Kind, problems: [APIProblem]) {
        switch error.code {
        case .invalidJSON:
            if let parse = error.parseError {
                // An ndjson record was parsed alone: its line 1 is the body's `line`.
                let bodyLine = format == .ndjson ? line + parse.line - 1 : parse.line
                return (
                    .invalidJSON,
                    [
                        APIProblem(
                            code: parse.code.rawValue, message: parse.detail, line: bodyLine, column: parse.column)
                    ]
                )
            }
            return (.invalidJSON, [APIProblem(code: "invalidJSON", message: error.message, line: line)])
        case .notAnObject:
            return (.invalidJSON, [APIProblem(code: "notAnObject", message: error.message, line: line)])
        case .tooLarge:
            return (.tooLarge, [APIProblem(code: "tooLarge", message: error.message, line: line)])
        case .schemaViolation:
            let issues = error.issues.map {
                APIProblem(code: $0.code.rawValue, message: $0.message, line: line, path: $0.path)
            }
            return (
                .invalidRecord,
                issues.isEmpty ? [APIProblem(code: "schemaViolation", message: error.message, line: line)] : issues
            )
        }
    }

    /// Lines split on LF (a CR before the LF is dropped), numbered from 1 (`JSONLines`, shared
    /// with the CLI).
    static func lines(_ bytes: [UInt8]) -> [(line: Int, bytes: ArraySlice<UInt8>)] {
        JSONLines.lines(bytes).map { ($0.number, bytes[$0.range]) }
    }

    static func isBlank(_ bytes: ArraySlice<UInt8>) -> Bool { JSONLines.isBlank(bytes) }
}
