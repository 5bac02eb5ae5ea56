import CairnAudit
import CairnCrypto
import CairnJSON
import CairnLedger
import CairnNote
import CairnRecords
import CairnTestSupport
import Foundation
import Testing

@Suite("report: rows, formats, manifest, verification, reproducibility")
struct ReportTests {
    /// Six checkpoints, one for each status, with cells that need escaping.
    static func makeLedger(signingKey: Ed25519PrivateKey? = nil) throws -> TestLedger {
        let t = try TestLedger(signingKey: signingKey)
        try t.append(
            Records.checkpoint("cp-a", at: "2026-11-20T09:00:00Z"),  // 0
            Records.checkpoint(
                "cp-b", at: "2026-11-21T09:00:00Z", requestedBy: #"=HYPERLINK("http://evil")"#, version: nil,
                releaseDate: "2025-09-15", model: "gpt-5-codex"),  // 1
            Records.checkpoint("cp-c", at: "2026-11-22T09:00:00Z", requestedBy: "carol, the lead"),  // 2
            Records.checkpoint("cp-d", at: "2026-11-23T09:00:00Z", requestedBy: #"x|y\z <b>"#),  // 3
            Records.checkpoint("cp-e", at: "2026-11-24T09:00:00Z"),  // 4
            Records.checkpoint("cp-f", at: "2026-11-25T09:00:00Z", requestedBy: "-2+3"),  // 5
            Records.review("cp-a", "bob@example.com", "approved", at: "2026-11-20T10:00:00Z"),  // 6
            Records.test("cp-a", "passed", at: "2026-11-20T10:30:00Z", coverage: 0.87),  // 7
            Records.deploy("cp-a", at: "2026-11-20T11:00:00Z"),  // 8
            Records.review("cp-b", "dave@example.com", "rejected", at: "2026-11-21T10:00:00Z"),  // 9
            Records.test("cp-b", "failed"),  // 10
            Records.review("cp-c", "bob@example.com", "approved", at: "2026-11-22T10:00:00Z"),  // 11
            // Appended later but dated earlier: the latest review is bob's approval.
            Records.review("cp-c", "dave@example.com", "changes_requested", at: "2026-11-22T09:30:00Z"),  // 12
            Records.test("cp-c", "partial", at: "2026-11-22T10:15:00Z", coverage: 0.875),  // 13
            Records.deploy("cp-c", to: "staging", at: "2026-11-22T11:00:00Z"),  // 14
            Records.rollback("cp-c", in: "staging", at: "2026-11-22T12:00:00Z"),  // 15
            Records.review("cp-e", "bob@example.com", "approved", at: "2026-11-24T10:00:00Z"),  // 16
            Records.deploy("cp-e", to: "staging", at: "2026-11-24T10:30:00Z"),  // 17
            Records.rollback("cp-e", in: "staging", at: "2026-11-24T10:45:00Z"),  // 18
            Records.deploy("cp-e", to: "staging", at: "2026-11-24T11:00:00Z"),  // 19
            Records.review("cp-f", "dave@example.com", "changes_requested", at: "2026-11-25T10:00:00Z"),  // 20
            Records.checkpoint("cp-g", at: "2026-11-26T09:00:00Z"),  // 21
            Records.review("cp-g", "bob@example.com", "approved", at: "2026-11-26T10:00:00Z")  // 22
        )
        return t
    }

    /// The csv report of version 3, the current one: Evidence after Model (these records do not say how they were
    /// captured).
    static let csv =
        "Date,Checkpoint,Requested by,Model,Evidence,Reviewer,Approval,Testing,Deployed,Status\r\n"
        + "2026-11-20T09:00:00Z,cp-a,alice@example.com,claude-sonnet-4-5 20250929,unknown,bob@example.com,"
        + "approved 2026-11-20T10:00:00Z,\"passed, coverage 87%\",production 2026-11-20T11:00:00Z,deployed\r\n"
        + #"2026-11-21T09:00:00Z,cp-b,"'=HYPERLINK(""http://evil"")",gpt-5-codex (released 2025-09-15),unknown,"#
        + "dave@example.com,rejected 2026-11-21T10:00:00Z,failed,none,rejected\r\n"
        + "2026-11-22T09:00:00Z,cp-c,\"carol, the lead\",claude-sonnet-4-5 20250929,unknown,"
        + "\"bob@example.com, dave@example.com\","
        + "approved 2026-11-22T10:00:00Z,\"partial, coverage 87.5%\",staging 2026-11-22T11:00:00Z,rolled back\r\n"
        + #"2026-11-23T09:00:00Z,cp-d,x|y\z <b>,claude-sonnet-4-5 20250929,unknown,none,none,none,none,in review"#
        + "\r\n"
        + "2026-11-24T09:00:00Z,cp-e,alice@example.com,claude-sonnet-4-5 20250929,unknown,bob@example.com,"
        + "approved 2026-11-24T10:00:00Z,none,staging 2026-11-24T10:30:00Z; staging 2026-11-24T11:00:00Z,deployed\r\n"
        + "2026-11-25T09:00:00Z,cp-f,'-2+3,claude-sonnet-4-5 20250929,unknown,dave@example.com,"
        + "changes requested 2026-11-25T10:00:00Z,none,none,changes requested\r\n"
        + "2026-11-26T09:00:00Z,cp-g,alice@example.com,claude-sonnet-4-5 20250929,unknown,bob@example.com,"
        + "approved 2026-11-26T10:00:00Z,none,none,approved\r\n"

    /// The md report of version 3.
    static let markdown =
        "| Date | Checkpoint | Requested by | Model | Evidence | Reviewer | Approval | Testing | Deployed | Status |\n"
        + "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n"
        + "| 2026-11-20T09:00:00Z | cp-a | alice@example.com | claude-sonnet-4-5 20250929 | unknown | bob@example.com | "
        + "approved 2026-11-20T10:00:00Z | passed, coverage 87% | production 2026-11-20T11:00:00Z | deployed |\n"
        + #"| 2026-11-21T09:00:00Z | cp-b | =HYPERLINK("http://evil") | gpt-5-codex (released 2025-09-15) | unknown | "#
        + "dave@example.com | rejected 2026-11-21T10:00:00Z | failed | none | rejected |\n"
        + "| 2026-11-22T09:00:00Z | cp-c | carol, the lead | claude-sonnet-4-5 20250929 | unknown | "
        + "bob@example.com, dave@example.com | "
        + "approved 2026-11-22T10:00:00Z | partial, coverage 87.5% | staging 2026-11-22T11:00:00Z | rolled back |\n"
        + #"| 2026-11-23T09:00:00Z | cp-d | x\|y\\z &lt;b&gt; | claude-sonnet-4-5 20250929 | unknown | "#
        + "none | none | none | none | in review |\n"
        + "| 2026-11-24T09:00:00Z | cp-e | alice@example.com | claude-sonnet-4-5 20250929 | unknown | bob@example.com | "
        + "approved 2026-11-24T10:00:00Z | none | staging 2026-11-24T10:30:00Z; staging 2026-11-24T11:00:00Z | deployed |\n"
        + "| 2026-11-25T09:00:00Z | cp-f | -2+3 | claude-sonnet-4-5 20250929 | unknown | dave@example.com | "
        + "changes requested 2026-11-25T10:00:00Z | none | none | changes requested |\n"
        + "| 2026-11-26T09:00:00Z | cp-g | alice@example.com | claude-sonnet-4-5 20250929 | unknown | bob@example.com | "
        + "approved 2026-11-26T10:00:00Z | none | none | approved |\n"

    /// The csv report of version 2 (nine columns, no Evidence): kept byte for byte, because reports made with
    /// it must keep recomputing.
    static let csvVersion2 =
        "Date,Checkpoint,Requested by,Model,Reviewer,Approval,Testing,Deployed,Status\r\n"
        + "2026-11-20T09:00:00Z,cp-a,alice@example.com,claude-sonnet-4-5 20250929,bob@example.com,"
        + "approved 2026-11-20T10:00:00Z,\"passed, coverage 87%\",production 2026-11-20T11:00:00Z,deployed\r\n"
        + #"2026-11-21T09:00:00Z,cp-b,"'=HYPERLINK(""http://evil"")",gpt-5-codex (released 2025-09-15),"#
        + "dave@example.com,rejected 2026-11-21T10:00:00Z,failed,none,rejected\r\n"
        + "2026-11-22T09:00:00Z,cp-c,\"carol, the lead\",claude-sonnet-4-5 20250929,\"bob@example.com, dave@example.com\","
        + "approved 2026-11-22T10:00:00Z,\"partial, coverage 87.5%\",staging 2026-11-22T11:00:00Z,rolled back\r\n"
        + #"2026-11-23T09:00:00Z,cp-d,x|y\z <b>,claude-sonnet-4-5 20250929,none,none,none,none,in review"# + "\r\n"
        + "2026-11-24T09:00:00Z,cp-e,alice@example.com,claude-sonnet-4-5 20250929,bob@example.com,"
        + "approved 2026-11-24T10:00:00Z,none,staging 2026-11-24T10:30:00Z; staging 2026-11-24T11:00:00Z,deployed\r\n"
        + "2026-11-25T09:00:00Z,cp-f,'-2+3,claude-sonnet-4-5 20250929,dave@example.com,"
        + "changes requested 2026-11-25T10:00:00Z,none,none,changes requested\r\n"
        + "2026-11-26T09:00:00Z,cp-g,alice@example.com,claude-sonnet-4-5 20250929,bob@example.com,"
        + "approved 2026-11-26T10:00:00Z,none,none,approved\r\n"

    /// The md report of version 2.
    static let markdownVersion2 =
        "| Date | Checkpoint | Requested by | Model | Reviewer | Approval | Testing | Deployed | Status |\n"
        + "| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n"
        + "| 2026-11-20T09:00:00Z | cp-a | alice@example.com | claude-sonnet-4-5 20250929 | bob@example.com | "
        + "approved 2026-11-20T10:00:00Z | passed, coverage 87% | production 2026-11-20T11:00:00Z | deployed |\n"
        + #"| 2026-11-21T09:00:00Z | cp-b | =HYPERLINK("http://evil") | gpt-5-codex (released 2025-09-15) | "#
        + "dave@example.com | rejected 2026-11-21T10:00:00Z | failed | none | rejected |\n"
        + "| 2026-11-22T09:00:00Z | cp-c | carol, the lead | claude-sonnet-4-5 20250929 | bob@example.com, dave@example.com | "
        + "approved 2026-11-22T10:00:00Z | partial, coverage 87.5% | staging 2026-11-22T11:00:00Z | rolled back |\n"
        + #"| 2026-11-23T09:00:00Z | cp-d | x\|y\\z &lt;b&gt; | claude-sonnet-4-5 20250929 | none | none | none | none | in review |"#
        + "\n"
        + "| 2026-11-24T09:00:00Z | cp-e | alice@example.com | claude-sonnet-4-5 20250929 | bob@example.com | "
        + "approved 2026-11-24T10:00:00Z | none | staging 2026-11-24T10:30:00Z; staging 2026-11-24T11:00:00Z | deployed |\n"
        + "| 2026-11-25T09:00:00Z | cp-f | -2+3 | claude-sonnet-4-5 20250929 | dave@example.com | "
        + "changes requested 2026-11-25T10:00:00Z | none | none | changes requested |\n"
        + "| 2026-11-26T09:00:00Z | cp-g | alice@example.com | claude-sonnet-4-5 20250929 | bob@example.com | "
        + "approved 2026-11-26T10:00:00Z | none | none | approved |\n"

    static func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    @Test("CSV and Markdown reports are exactly as specified, one row per checkpoint in log order")
    func csvAndMarkdown() throws {
        let t = try Self.makeLedger()
        let size = try t.ledger.treeSize()
        #expect(ReportManifest.currentVersion == 3)
        #expect(
            Self.text(try ComplianceReport.render(try ReportQuery(format: .csv), ledger: t.ledger, asOf: size))
                == Self.csv)
        #expect(
            Self.text(try ComplianceReport.render(try ReportQuery(format: .md), ledger: t.ledger, asOf: size))
                == Self.markdown)
        // Version 2 is written as it always was: nine columns, no Evidence.
        #expect(
            Self.text(
                try ComplianceReport.render(try ReportQuery(format: .csv, version: 2), ledger: t.ledger, asOf: size))
                == Self.csvVersion2)
        #expect(
            Self.text(
                try ComplianceReport.render(try ReportQuery(format: .md, version: 2), ledger: t.ledger, asOf: size))
                == Self.markdownVersion2)
    }

    @Test("The JSON report is an array of canonical row objects with index and digest, one per line")
    func json() throws {
        let t = try Self.makeLedger()
        let bytes = try ComplianceReport.render(try ReportQuery(format: .json), ledger: t.ledger, asOf: 23)
        let text = Self.text(bytes)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 10)  // "[", seven rows, "]", and the empty piece after the last newline
        #expect(lines.first == "[" && lines[8] == "]" && lines[9] == "")
        #expect(
            lines[1]
                == #"{"approval":"approved 2026-11-20T10:00:00Z","checkpoint":"cp-a","date":"2026-11-20T09:00:00Z","#
                + #""deployed":"production 2026-11-20T11:00:00Z","digest":"\#(try t.digest(0))","evidence":"unknown","#
                + #""index":0,"model":"claude-sonnet-4-5 20250929","requested_by":"alice@example.com","#
                + #""reviewer":"bob@example.com","status":"deployed","testing":"passed, coverage 87%"},"#)
        for line in lines[1...7] {
            let object = Array((line.hasSuffix(",") ? line.dropLast() : line).utf8)
            #expect(try JCS.canonicalize(try JSONParser.parse(object)) == object)
        }
        let rows = try #require(try JSONParser.parse(bytes).arrayValue)
        #expect(
            rows.map { $0["status"]?.stringValue ?? "" } == [
                "deployed", "rejected", "rolled back", "in review", "deployed", "changes requested", "approved",
            ])
        #expect(Set(rows.map { $0["status"]?.stringValue ?? "" }) == Set(ReportStatus.allCases.map(\.rawValue)))
        #expect(rows.map { $0["index"]?.intValue ?? -1 } == [0, 1, 2, 3, 4, 5, 21])
        #expect(rows[1]["requested_by"]?.stringValue == #"=HYPERLINK("http://evil")"#)  // no CSV defense in JSON
        #expect(rows.allSatisfy { $0["evidence"]?.stringValue == "unknown" })
        // Version 2 rows have no `evidence` member; the rest is the same.
        let version2 = try JSONParser.parse(
            try ComplianceReport.render(try ReportQuery(format: .json, version: 2), ledger: t.ledger, asOf: 23))
        let rows2 = try #require(version2.arrayValue)
        #expect(rows2.count == 7)
        for (row, row2) in zip(rows, rows2) {
            var object = try #require(row.objectValue)
            object["evidence"] = nil
            #expect(row2 == .object(object))
        }
        // The columns carry the same text as in the CSV report.
        let csvRows = Self.csv.split(separator: "\r\n").dropFirst()
        #expect(rows[0]["testing"]?.stringValue == "passed, coverage 87%")
        #expect(csvRows.first?.contains("\"passed, coverage 87%\"") == true)
        let empty = try TestLedger()
        #expect(
            Self.text(try ComplianceReport.render(try ReportQuery(format: .json), ledger: empty.ledger, asOf: 0))
                == "[]\n")
    }

    @Test("CSV cells follow RFC 4180 and defuse formulas; Markdown cells cannot break the table")
    func escaping() {
        #expect(CSV.cell("plain text") == "plain text")
        #expect(CSV.cell("a,b") == "\"a,b\"")
        #expect(CSV.cell("say \"hi\"") == "\"say \"\"hi\"\"\"")
        #expect(CSV.cell("=1+1") == "'=1+1")
        #expect(CSV.cell("+1") == "'+1")
        #expect(CSV.cell("-1") == "'-1")
        #expect(CSV.cell("@SUM(A1)") == "'@SUM(A1)")
        #expect(CSV.cell("=A1,B1") == "\"'=A1,B1\"")
        #expect(CSV.cell("=HYPERLINK(\"http://x\")") == "\"'=HYPERLINK(\"\"http://x\"\")\"")
        #expect(CSV.cell("a=b") == "a=b")
        #expect(CSV.cell("") == "")
        #expect(Markdown.cell("a|b") == #"a\|b"#)
        #expect(Markdown.cell(#"a\|b"#) == #"a\\\|b"#)
        #expect(Markdown.cell("<script>&") == "&lt;script&gt;&amp;")
        // From version 2 (3 is the current one): control and bidirectional characters are escaped visibly
        // before anything else, so no cell holds a raw ESC, CR, LF, TAB or U+202E.
        #expect(CSV.cell("two\nlines") == #"two\u{0A}lines"#)
        #expect(CSV.cell("\tx") == #"\u{09}x"#)
        #expect(CSV.cell("\r=1+1") == #"\u{0D}=1+1"#)
        #expect(CSV.cell("mallory\u{1B}[2K\rbob") == #"mallory\u{1B}[2K\u{0D}bob"#)
        #expect(CSV.cell("=1\u{202E}") == #"'=1\u{202E}"#)
        #expect(CSV.cell("a,\u{9B}b") == #""a,\u{9B}b""#)
        #expect(Markdown.cell("two\r\nlines\tx") == #"two\\u{0D}\\u{0A}lines\\u{09}x"#)
        #expect(Markdown.cell("\u{2066}x|\u{1B}") == #"\\u{2066}x\|\\u{1B}"#)
        // Version 1, kept for reports made with it: cells as they are.
        #expect(CSV.cell("two\nlines", version: 1) == "\"two\nlines\"")
        #expect(CSV.cell("cr\rhere", version: 1) == "\"cr\rhere\"")
        #expect(CSV.cell("\tx", version: 1) == "'\tx")
        #expect(CSV.cell("\u{1B}x", version: 1) == "\u{1B}x")
        #expect(Markdown.cell("two\r\nlines\tx", version: 1) == "two  lines x")
        #expect(Markdown.cell("\u{1B}x", version: 1) == "\u{1B}x")
    }

    @Test(
        "Versions 2 and 3 escape control and bidirectional characters in csv and md; version 1 reports still verify")
    func versions() throws {
        let t = try TestLedger()
        try t.append(
            Records.checkpoint("cp-rtl", at: "2026-11-20T09:00:00Z", requestedBy: "eve\u{202E}moc.elpmaxe@"),
            Records.review("cp-rtl", "mallory\u{9B}2K\u{2028}bob@example.com", "approved", at: "2026-11-20T10:00:00Z"))
        for format in [ReportFormat.csv, .md] {
            var latest: [UInt8] = []
            let v3 = try ComplianceReport.produce(try ReportQuery(format: format), ledger: t.ledger) { latest += $0 }
            #expect(v3.note.text.hasPrefix("cairn-report-manifest/v3\n"))
            var current: [UInt8] = []
            let v2 = try ComplianceReport.produce(try ReportQuery(format: format, version: 2), ledger: t.ledger) {
                current += $0
            }
            #expect(v2.note.text.hasPrefix("cairn-report-manifest/v2\n"))
            // Markdown doubles the backslash of the escape (it renders as one).
            let slash = format == .md ? #"\\"# : #"\"#
            for text in [Self.text(latest), Self.text(current)] {
                #expect(!text.unicodeScalars.contains { $0.value >= 0x7F && DisplayText.needsEscaping($0) })
                #expect(text.contains(#"eve"# + slash + #"u{202E}moc.elpmaxe@"#))
                #expect(text.contains(#"mallory"# + slash + #"u{9B}2K"# + slash + #"u{2028}bob@example.com"#))
            }
            // Version 3 differs from version 2 by the Evidence column alone.
            let evidence = format == .md ? ["Evidence | ", "unknown | ", "--- | "] : ["Evidence,", "unknown,"]
            #expect(evidence.reduce(Self.text(latest)) { $0.replacingFirst($1, with: "") } == Self.text(current))

            var old: [UInt8] = []
            let v1 = try ComplianceReport.produce(try ReportQuery(format: format, version: 1), ledger: t.ledger) {
                old += $0
            }
            #expect(v1.note.text.hasPrefix("cairn-report-manifest/v1\n"))
            #expect(try ReportManifest(parsing: v1.note.text).query.version == 1)
            #expect(Self.text(old).contains("eve\u{202E}moc.elpmaxe@"))
            #expect(old != current)
            // Each recomputes with the rules its manifest names.
            for (bytes, note) in [(latest, v3.note), (current, v2.note), (old, v1.note)] {
                let verified = try ReportVerifier.verify(
                    report: ReportBytes(bytes), manifest: Array(note.serialized.utf8), key: t.ledger.verifierKey,
                    ledger: t.ledger)
                #expect(verified.recomputed)
            }
        }
        #expect(throws: AuditError.self) { try ReportQuery(format: .csv, version: 4) }
        #expect(throws: AuditError.self) { try ReportQuery(format: .csv, version: 0) }
    }

    @Test("The html report is one offline page: the views' figures as of its size, then the rows, every value escaped")
    func html() throws {
        let t = try Self.makeLedger()
        let page = Self.text(try ComplianceReport.render(try ReportQuery(format: .html), ledger: t.ledger, asOf: 23))
        #expect(page.hasPrefix("<!DOCTYPE html>"))
        #expect(page.hasSuffix("</tbody></table></section></main></body></html>\n"))
        // Every view but health, then one row per checkpoint.
        for title in ["Overview", "AI share", "Sensitive paths", "Requesters", "Models and review", "Gaps"] {
            #expect(page.contains(">\(title)</h1>"), "\(title)")
        }
        #expect(!page.contains("Ledger health"))
        #expect(page.components(separatedBy: "<tr data-index=").count - 1 == 7)
        // Nothing executes or loads: no script, no source, no link out; hostile cells are inert text.
        #expect(!page.contains("<script") && !page.contains("src=") && !page.contains("href=\"http"))
        #expect(page.contains("x|y\\z &lt;b&gt;") && !page.contains("<b>"))
        #expect(page.contains("=HYPERLINK(&quot;http://evil&quot;)"))
        // The overview counts the seven checkpoints; three have no review... as the rows say.
        #expect(page.contains("data-stat=\"overview/headline/all/checkpoints\" data-value=\"7\""))
        #expect(throws: AuditError.self) {
            try ComplianceReport.render(try ReportQuery(format: .html, version: 2), ledger: t.ledger, asOf: 23)
        }
    }

    @Test("The time window selects checkpoints by timestamp, since inclusive and until exclusive")
    func timeWindow() throws {
        let t = try Self.makeLedger()
        let query = try ReportQuery(
            format: .csv, since: Timestamp.parse("2026-11-21T09:00:00Z"), until: Timestamp.parse("2026-11-23T09:00:00Z")
        )
        let rows = Self.text(try ComplianceReport.render(query, ledger: t.ledger, asOf: 23)).split(separator: "\r\n")
        #expect(rows.count == 3)
        #expect(rows[1].hasPrefix("2026-11-21T09:00:00Z,cp-b,"))
        #expect(rows[2].hasPrefix("2026-11-22T09:00:00Z,cp-c,"))
        #expect(throws: AuditError.self) { try ReportQuery(format: .csv, since: 5, until: 5) }
    }

    @Test("A signed report verifies with the vkey alone and against the ledger; its manifest is exactly as specified")
    func produceAndVerify() throws {
        let t = try Self.makeLedger()
        for format in ReportFormat.allCases {
            var bytes: [UInt8] = []
            let query = try ReportQuery(format: format, since: Timestamp.parse("2026-11-01T00:00:00Z"))
            let signed = try ComplianceReport.produce(query, ledger: t.ledger) { bytes += $0 }
            #expect(signed.summary.rows == 7)
            #expect(signed.summary.byteCount == UInt64(bytes.count))
            #expect(signed.summary.sha256 == SHA256.hash(bytes))
            let checkpoint = try t.ledger.checkpoint(size: 23)
            #expect(
                signed.note.text
                    == "cairn-report-manifest/v3\nformat \(format.rawValue)\nsince 2026-11-01T00:00:00Z\nuntil -\nrows 7\n"
                    + "bytes \(bytes.count)\nsha256 \(SHA256.hash(bytes).hex)\n\n" + checkpoint.serialized)
            #expect(signed.note.signatures.count == 1)
            #expect(try ReportManifest(parsing: signed.note.text) == signed.manifest)
            // The manifest, as written to a file, is a signed note whose only signature is the ledger's.
            let file = Array(signed.note.serialized.utf8)
            #expect(try SignedNote(parsing: file).verify(with: [t.ledger.verifierKey]) == [t.ledger.verifierKey])

            let alone = try ReportVerifier.verify(report: ReportBytes(bytes), manifest: file, key: t.ledger.verifierKey)
            #expect(!alone.recomputed)
            #expect(alone.manifest.treeSize == 23)
            let withLedger = try ReportVerifier.verify(
                report: ReportBytes(bytes), manifest: file, key: t.ledger.verifierKey, ledger: t.ledger)
            #expect(withLedger.recomputed)
        }
    }

    @Test("A changed report, a changed manifest, another key and a foreign checkpoint are each rejected")
    func rejections() throws {
        let t = try Self.makeLedger()
        var bytes: [UInt8] = []
        let signed = try ComplianceReport.produce(try ReportQuery(format: .csv), ledger: t.ledger) { bytes += $0 }
        let manifest = Array(signed.note.serialized.utf8)
        let key = t.ledger.verifierKey

        func failure(
            _ report: [UInt8], _ manifest: [UInt8], key: NoteVerifierKey, ledger: Ledger? = nil
        )
            -> ReportVerificationError?
        {
            do {
                _ = try ReportVerifier.verify(report: ReportBytes(report), manifest: manifest, key: key, ledger: ledger)
                return nil
            } catch let error as ReportVerificationError {
                #expect(!error.message.contains("\n"))
                return error
            } catch {
                Issue.record("unexpected error \(error)")
                return nil
            }
        }

        // One byte of the report changed: the first "@" becomes "A".
        var tampered = bytes
        let position = try #require(bytes.firstIndex(of: UInt8(ascii: "@")))
        tampered[position] = UInt8(ascii: "A")
        let changed = try #require(failure(tampered, manifest, key: key))
        #expect(changed.code == .reportMismatch)
        #expect(changed.message.hasPrefix("the report does not match the manifest"))
        // One byte more.
        #expect(failure(bytes + [0x0a], manifest, key: key)?.code == .reportMismatch)

        // One byte of the manifest's text changed: "rows 7" → "rows 8".
        let edited = Array(Self.text(manifest).replacingFirst("rows 7", with: "rows 8").utf8)
        #expect(edited != manifest)
        let badSignature = try #require(failure(bytes, edited, key: key))
        #expect(badSignature.code == .badSignature)
        #expect(badSignature.message.contains("was changed after signing"))

        // Verified with another ledger's key (same origin, other key).
        let other = try TestLedger()
        let wrong = try #require(failure(bytes, manifest, key: other.ledger.verifierKey))
        #expect(wrong.code == .wrongKey)
        #expect(wrong.message.contains("is not signed by \(other.ledger.verifierKey.nameAndID)"))

        // The same manifest text signed by the other key: still the wrong key for this vkey.
        let resigned = Array(try other.ledger.sign(noteText: signed.note.text).serialized.utf8)
        #expect(failure(bytes, resigned, key: key)?.code == .wrongKey)
        // …and for the other key the manifest verifies but its checkpoint does not.
        #expect(failure(bytes, resigned, key: other.ledger.verifierKey)?.code == .badCheckpoint)

        // Not a signed note, not a manifest.
        #expect(failure(bytes, Array("hello\n".utf8), key: key)?.code == .malformedManifest)
        let checkpointNote = Array(try t.ledger.checkpoint().serialized.utf8)
        #expect(failure(bytes, checkpointNote, key: key)?.code == .malformedManifest)
    }

    @Test("A report computed at size N recomputes byte for byte after later records and corrections")
    func reproducibleAsOfSize() throws {
        let t = try Self.makeLedger()
        var reports: [(ReportQuery, [UInt8], SignedReport)] = []
        for format in ReportFormat.allCases {
            let query = try ReportQuery(format: format)
            var bytes: [UInt8] = []
            let signed = try ComplianceReport.produce(query, ledger: t.ledger) { bytes += $0 }
            #expect(signed.summary.treeSize == 23)
            reports.append((query, bytes, signed))
        }

        // Later: a new checkpoint, a review and a deploy of old ones, and a correction of cp-a.
        try t.append(
            Records.checkpoint("cp-h", at: "2026-11-27T09:00:00Z"),
            Records.review("cp-d", "bob@example.com", "approved", at: "2026-11-27T10:00:00Z"),
            Records.deploy("cp-f", at: "2026-11-27T11:00:00Z"))
        try t.append(
            Records.correction(
                of: try t.digest(0), reason: "the request came from the on-call engineer, not alice",
                patch: ["requested_by": "oncall@example.com"]))
        #expect(try t.ledger.treeSize() == 27)

        for (query, bytes, signed) in reports {
            let later = try ComplianceReport.render(query, ledger: t.ledger, asOf: 27)
            #expect(later != bytes)
            #expect(Self.text(later).contains("oncall@example.com"))
            #expect(Self.text(later).contains("cp-h"))
            #expect(try ComplianceReport.render(query, ledger: t.ledger, asOf: 23) == bytes)
            let verified = try ReportVerifier.verify(
                report: ReportBytes(bytes), manifest: Array(signed.note.serialized.utf8), key: t.ledger.verifierKey,
                ledger: t.ledger)
            #expect(verified.recomputed)
        }
        #expect(Self.text(reports[0].1) == Self.csv)
    }

    @Test("Recomputation catches a signed manifest whose report the ledger does not produce, and a different log")
    func recomputationMismatches() throws {
        let t = try Self.makeLedger()
        let query = try ReportQuery(format: .md)
        var bytes = try ComplianceReport.render(query, ledger: t.ledger, asOf: 23)
        let offset = try #require(bytes.firstIndex(of: UInt8(ascii: "@")))
        bytes[offset] = UInt8(ascii: "#")
        // A manifest honestly signed over these (wrong) bytes: the signature and hash check out…
        let manifest = ReportManifest(
            query: query, rows: 7, byteCount: UInt64(bytes.count), sha256: SHA256.hash(bytes),
            checkpoint: try t.ledger.checkpoint(size: 23))
        let note = Array(try t.ledger.sign(noteText: manifest.text).serialized.utf8)
        #expect(
            try !ReportVerifier.verify(report: ReportBytes(bytes), manifest: note, key: t.ledger.verifierKey).recomputed
        )
        // …but the ledger says otherwise, at the first changed byte.
        do {
            _ = try ReportVerifier.verify(
                report: ReportBytes(bytes), manifest: note, key: t.ledger.verifierKey, ledger: t.ledger)
            Issue.record("a report the ledger does not produce was accepted")
        } catch let error as ReportVerificationError {
            #expect(error.code == .recomputedMismatch)
            let line = Self.text(Array(bytes[..<offset])).split(separator: "\n", omittingEmptySubsequences: false).count
            #expect(error.message.hasSuffix("gives different bytes from byte \(offset) (line \(line)) on"))
        }

        // Another ledger with the same key and origin but other records: not the log of the checkpoint.
        var good: [UInt8] = []
        let signed = try ComplianceReport.produce(query, ledger: t.ledger) { good += $0 }
        let key = try Ed25519PrivateKey.generate()
        let a = try Self.makeLedger(signingKey: key)
        let b = try TestLedger(signingKey: key)
        try b.append((0..<30).map { Records.checkpoint("other-\($0)") })
        var fromA: [UInt8] = []
        let signedA = try ComplianceReport.produce(query, ledger: a.ledger) { fromA += $0 }
        #expect(a.ledger.verifierKey == b.ledger.verifierKey)
        do {
            _ = try ReportVerifier.verify(
                report: ReportBytes(fromA), manifest: Array(signedA.note.serialized.utf8), key: a.ledger.verifierKey,
                ledger: b.ledger)
            Issue.record("a ledger with another root was accepted")
        } catch let error as ReportVerificationError {
            #expect(error.code == .ledgerMismatch)
        }
        // A ledger smaller than the manifest's size cannot recompute it.
        let small = try TestLedger()
        #expect(throws: LedgerError.self) {
            try ReportVerifier.verify(
                report: ReportBytes(good), manifest: Array(signed.note.serialized.utf8), key: t.ledger.verifierKey,
                ledger: small.ledger)
        }
    }

    @Test("Reports stream in bounded pieces: 3000 checkpoints never build the table in memory")
    func streaming() throws {
        let t = try TestLedger()
        for batch in 0..<6 {
            try t.append(
                (0..<500).map { i in
                    Records.checkpoint("cp-\(batch)-\(i)", requestedBy: "person-\(i)@example.com")
                })
        }
        var chunks: [Int] = []
        var all: [UInt8] = []
        let summary = try ComplianceReport.write(try ReportQuery(format: .csv), ledger: t.ledger, asOf: 3000) { chunk in
            chunks.append(chunk.count)
            all += chunk
        }
        #expect(summary.rows == 3000)
        #expect(summary.byteCount == UInt64(all.count))
        #expect(summary.sha256 == SHA256.hash(all))
        #expect(chunks.count >= 3)
        // A piece is flushed as soon as it reaches 64 KiB, so none exceeds 64 KiB plus one row.
        #expect(chunks.allSatisfy { $0 < 65_536 + 512 })
        #expect(all == (try ComplianceReport.render(try ReportQuery(format: .csv), ledger: t.ledger, asOf: 3000)))
    }

    @Test("Manifest texts are parsed strictly, naming the line at fault")
    func manifestParsing() throws {
        let t = try TestLedger()
        let checkpoint = try t.ledger.checkpoint()
        let good = ReportManifest(
            query: try ReportQuery(format: .csv, until: Timestamp.parse("2026-12-01T00:00:00Z")), rows: 0,
            byteCount: 78, sha256: SHA256.hash([UInt8]()), checkpoint: checkpoint)
        #expect(try ReportManifest(parsing: good.text) == good)
        #expect(good.text.hasPrefix("cairn-report-manifest/v3\nformat csv\nsince -\nuntil 2026-12-01T00:00:00Z\n"))
        let cases: [(String, String, String)] = [
            ("cairn-report-manifest/v3\n", "cairn-report-manifest/v4\n", "line 1:"),
            ("cairn-report-manifest/v3\n", "cairn-report-manifest/v0\n", "line 1:"),
            ("format csv\n", "format xlsx\n", "line 2: format must be csv, json or md"),
            ("format csv\n", "fmt csv\n", "line 2: expected \"format <value>\""),
            ("since -\n", "since 2026-11-01\n", "line 3: since must be -"),
            ("until 2026-12-01T00:00:00Z\n", "until 2026-12-01T00:00:00.000Z\n", "line 4: until must be -"),
            ("rows 0\n", "rows 00\n", "line 5: rows must be a decimal number"),
            ("bytes 78\n", "bytes -78\n", "line 6: bytes must be a decimal number"),
            ("sha256 e3b0", "sha256 E3B0", "line 7: sha256 must be 64 lowercase hex digits"),
            ("\n\nexample.com", "\nx\nexample.com", "line 8: expected an empty line"),
        ]
        for (from, to, expected) in cases {
            let text = good.text.replacingFirst(from, with: to)
            #expect(text != good.text, "\(from) not found")
            do {
                _ = try ReportManifest(parsing: text)
                Issue.record("accepted a manifest with \(to.debugDescription)")
            } catch {
                #expect(error.message.hasPrefix(expected), "\(to): \(error.message)")
            }
        }
        // The ledger refuses to sign checkpoint-shaped text, so a manifest can never pass for a tree head.
        #expect(throws: LedgerError.self) { try t.ledger.sign(noteText: checkpoint.checkpoint.text) }
        #expect((try? Checkpoint(parsing: good.text)) == nil)
    }
}

extension String {
    func replacingFirst(_ target: String, with replacement: String) -> String {
        guard let range = range(of: target) else { return self }
        var copy = self
        copy.replaceSubrange(range, with: replacement)
        return copy
    }
}
