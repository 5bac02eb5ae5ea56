import CairnInsight
import CairnJSON
import CairnRecords

/// The compliance report's file formats. Each is specified byte for byte in
/// specs/report-manifest.md ("Report formats"), so that anyone can recompute a report.
public enum ReportFormat: String, Sendable, Hashable, CaseIterable {
    /// RFC 4180 CSV: CRLF line ends, a header row, control characters escaped (from version 2),
    /// formula-injection defense.
    case csv
    /// A JSON array of row objects, one canonical (RFC 8785) object per line.
    case json
    /// A GitHub-flavored Markdown table.
    case md
    /// One self-contained HTML page: the insight views' figures as of the report's tree size, then the rows as a
    /// table (specs/report-manifest.md §2.4). From version 3.
    case html

    /// The file name extension (and the value of the manifest's `format` line).
    public var fileExtension: String { rawValue }

    /// The bytes written before the first row under the rules of report `version`.
    func header(version: Int) -> [UInt8] {
        let columns = ReportRow.columnTitles(version: version)
        switch self {
        case .csv: return Array((columns.map { CSV.cell($0, version: version) }.joined(separator: ",") + "\r\n").utf8)
        case .json: return Array("[".utf8)
        case .md:
            let titles = "| " + columns.joined(separator: " | ") + " |\n"
            let rule = "|" + String(repeating: " --- |", count: columns.count) + "\n"
            return Array((titles + rule).utf8)
        case .html:
            // After the views (written by `ComplianceReport.write`, which needs the ledger for them).
            return Array(
                ("<section class=\"report-rows\" id=\"checkpoints\"><h1>Checkpoints</h1><table class=\"rows\"><thead><tr>"
                    + columns.map { "<th scope=\"col\">\(HTMLText.escape($0))</th>" }.joined()
                    + "</tr></thead><tbody>\n").utf8)
        }
    }

    /// The bytes of one row under the rules of report `version`; `first` tells whether it is the
    /// first row.
    func row(_ row: ReportRow, first: Bool, version: Int) throws -> [UInt8] {
        switch self {
        case .csv:
            let cells = row.cells(version: version).map { CSV.cell($0, version: version) }
            return Array((cells.joined(separator: ",") + "\r\n").utf8)
        case .json:
            return Array((first ? "\n" : ",\n").utf8) + (try JCS.canonicalize(row.jsonValue(version: version)))
        case .md:
            let cells = row.cells(version: version).map { Markdown.cell($0, version: version) }
            return Array(("| " + cells.joined(separator: " | ") + " |\n").utf8)
        case .html:
            // Escaped for display, then for HTML (`HTMLText.escape` does both): a cell can neither hide text nor
            // inject markup.
            let cells = row.cells(version: version).map { "<td>" + HTMLText.escape($0) + "</td>" }
            return Array(("<tr data-index=\"\(row.index)\">" + cells.joined() + "</tr>\n").utf8)
        }
    }

    /// The bytes written after the last row; `empty` tells whether there were none.
    func footer(empty: Bool) -> [UInt8] {
        switch self {
        case .csv, .md: return []
        case .json: return Array((empty ? "]\n" : "\n]\n").utf8)
        case .html: return Array(("</tbody></table></section>" + ComplianceReport.htmlPageEnd).utf8)
        }
    }
}

extension ReportRow {
    /// The row as a JSON object of report `version`: the columns in snake_case (`evidence` from
    /// version 3), plus `index` and `digest`.
    public func jsonValue(version: Int = ReportManifest.currentVersion) -> JSONValue {
        var object: JSONObject = [
            "date": .string(date), "checkpoint": .string(checkpoint), "requested_by": .string(requestedBy),
            "model": .string(model), "reviewer": .string(reviewer), "approval": .string(approval),
            "testing": .string(testing), "deployed": .string(deployed), "status": .string(status.rawValue),
            "index": .number(Double(index)), "digest": .string(digest.description),
        ]
        if version >= Self.evidenceVersion { object["evidence"] = .string(evidence.rawValue) }
        return .object(object)
    }
}

/// RFC 4180 cells with a defense against formula injection.
public enum CSV {
    /// A cell as written: from report version 2, control and bidirectional characters are first
    /// written visibly escaped (`DisplayText.escape`: ESC is `\u{1B}`), so that a report shown on a
    /// terminal or in an editor cannot hide or forge text; then a value starting with `=`, `+`,
    /// `-`, `@`, TAB or CR gets a leading `'` so that spreadsheet programs show it as text instead of
    /// evaluating it (OWASP "CSV Injection"); then a value containing `,`, `"`, CR or LF is enclosed
    /// in double quotes, with each `"` doubled.
    public static func cell(_ value: String, version: Int = ReportManifest.currentVersion) -> String {
        var text = version >= 2 ? DisplayText.escape(value) : value
        if let first = text.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first) {
            text = "'" + text
        }
        guard text.unicodeScalars.contains(where: { $0 == "," || $0 == "\"" || $0 == "\r" || $0 == "\n" }) else {
            return text
        }
        var quoted = "\""
        for character in text.unicodeScalars {
            if character == "\"" { quoted += "\"" }
            quoted.unicodeScalars.append(character)
        }
        return quoted + "\""
    }
}

/// Markdown table cells.
public enum Markdown {
    /// A cell as written: from report version 2, control and bidirectional characters are first
    /// written visibly escaped (`DisplayText.escape`: ESC is `\u{1B}`); then `\` and `|` are escaped
    /// with a backslash (so a value cannot end its cell), `&`, `<` and `>` become `&amp;`, `&lt;` and
    /// `&gt;` (so a value cannot inject HTML), and CR, LF and TAB (left only by version 1) become
    /// spaces (a table row is one line).
    public static func cell(_ value: String, version: Int = ReportManifest.currentVersion) -> String {
        let text = version >= 2 ? DisplayText.escape(value) : value
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "|": out += "\\|"
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\r", "\n", "\t": out += " "
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
