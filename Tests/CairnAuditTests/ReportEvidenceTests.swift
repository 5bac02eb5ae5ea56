import CairnAudit
import CairnCrypto
import CairnJSON
import CairnLedger
import CairnNote
import CairnRecords
import CairnTestSupport
import Foundation
import Testing

/// Report version 3: the Evidence column (each checkpoint's evidence grade, from its effective
/// record), and reports of versions 1 and 2, frozen as the cairn before version 3 wrote them, that
/// must keep verifying byte for byte (specs/report-manifest.md §1.1 and §7).
@Suite("report: the Evidence column of version 3; frozen reports of versions 1 and 2")
struct ReportEvidenceTests {
    /// A checkpoint whose `x_capture` claims `grade` (none when nil).
    static func checkpoint(_ id: String, at time: String, grade: JSONValue?) -> JSONValue {
        var object = Records.checkpoint(id, at: time).objectValue!
        if let grade { object["x_capture"] = ["grade": grade, "agent": "claude-code", "tier": "light"] }
        return .object(object)
    }

    /// Six checkpoints of different grades — one without `x_capture`, one with a grade name in the
    /// wrong case — and, at index 7, a correction that raises cp-raised from `inferred` to `import`.
    static func makeLedger() throws -> TestLedger {
        let t = try TestLedger()
        try t.append(
            checkpoint("cp-hook", at: "2026-11-20T09:00:00Z", grade: "hook"),  // 0
            checkpoint("cp-attested", at: "2026-11-21T09:00:00Z", grade: "attested"),  // 1
            checkpoint("cp-none", at: "2026-11-22T09:00:00Z", grade: nil),  // 2
            checkpoint("cp-raised", at: "2026-11-23T09:00:00Z", grade: "inferred"),  // 3
            checkpoint("cp-miscased", at: "2026-11-24T09:00:00Z", grade: "Hook"),  // 4: not a grade name
            checkpoint("cp-trailer", at: "2026-11-25T09:00:00Z", grade: "trailer"),  // 5
            Records.review("cp-hook", "bob@example.com", "approved", at: "2026-11-20T10:00:00Z")  // 6
        )
        try t.append(
            Records.correction(
                of: try t.digest(3), reason: "the importer recorded the wrong evidence grade",
                patch: ["x_capture": ["grade": "import"]])  // 7
        )
        return t
    }

    static let csv =
        "Date,Checkpoint,Requested by,Model,Evidence,Reviewer,Approval,Testing,Deployed,Status\r\n"
        + "2026-11-20T09:00:00Z,cp-hook,alice@example.com,claude-sonnet-4-5 20250929,hook,bob@example.com,"
        + "approved 2026-11-20T10:00:00Z,none,none,approved\r\n"
        + "2026-11-21T09:00:00Z,cp-attested,alice@example.com,claude-sonnet-4-5 20250929,attested,"
        + "none,none,none,none,in review\r\n"
        + "2026-11-22T09:00:00Z,cp-none,alice@example.com,claude-sonnet-4-5 20250929,unknown,"
        + "none,none,none,none,in review\r\n"
        + "2026-11-23T09:00:00Z,cp-raised,alice@example.com,claude-sonnet-4-5 20250929,import,"
        + "none,none,none,none,in review\r\n"
        + "2026-11-24T09:00:00Z,cp-miscased,alice@example.com,claude-sonnet-4-5 20250929,unknown,"
        + "none,none,none,none,in review\r\n"
        + "2026-11-25T09:00:00Z,cp-trailer,alice@example.com,claude-sonnet-4-5 20250929,trailer,"
        + "none,none,none,none,in review\r\n"

    static let markdown =
        "| Date | Checkpoint | Requested by | Model | Evidence | Reviewer | Approval | Testing | Deployed | Status |\n"
        + "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n"
        + "| 2026-11-20T09:00:00Z | cp-hook | alice@example.com | claude-sonnet-4-5 20250929 | hook | bob@example.com | "
        + "approved 2026-11-20T10:00:00Z | none | none | approved |\n"
        + "| 2026-11-21T09:00:00Z | cp-attested | alice@example.com | claude-sonnet-4-5 20250929 | attested | "
        + "none | none | none | none | in review |\n"
        + "| 2026-11-22T09:00:00Z | cp-none | alice@example.com | claude-sonnet-4-5 20250929 | unknown | "
        + "none | none | none | none | in review |\n"
        + "| 2026-11-23T09:00:00Z | cp-raised | alice@example.com | claude-sonnet-4-5 20250929 | import | "
        + "none | none | none | none | in review |\n"
        + "| 2026-11-24T09:00:00Z | cp-miscased | alice@example.com | claude-sonnet-4-5 20250929 | unknown | "
        + "none | none | none | none | in review |\n"
        + "| 2026-11-25T09:00:00Z | cp-trailer | alice@example.com | claude-sonnet-4-5 20250929 | trailer | "
        + "none | none | none | none | in review |\n"

    static func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    static func render(
        _ t: TestLedger, _ format: ReportFormat, version: Int = 3, asOf size: UInt64 = 8
    ) throws
        -> [UInt8]
    {
        try ComplianceReport.render(try ReportQuery(format: format, version: version), ledger: t.ledger, asOf: size)
    }

    @Test("Each row shows its checkpoint's effective evidence grade, in csv, json and md")
    func gradePerRow() throws {
        let t = try Self.makeLedger()
        #expect(Self.text(try Self.render(t, .csv)) == Self.csv)
        #expect(Self.text(try Self.render(t, .md)) == Self.markdown)
        // The default query writes version 3.
        #expect(
            try ComplianceReport.render(try ReportQuery(format: .csv), ledger: t.ledger, asOf: 8)
                == Array(Self.csv.utf8))

        let json = try Self.render(t, .json)
        let rows = try #require(try JSONParser.parse(json).arrayValue)
        #expect(
            rows.map { $0["evidence"]?.stringValue ?? "" } == [
                "hook", "attested", "unknown", "import", "unknown", "trailer",
            ])
        #expect(rows.map { $0["checkpoint"]?.stringValue ?? "" }[3] == "cp-raised")
        // One canonical object per line, `evidence` in its sorted place (after `digest`).
        let line = Self.text(json).split(separator: "\n")[1]
        #expect(
            line
                == #"{"approval":"approved 2026-11-20T10:00:00Z","checkpoint":"cp-hook","date":"2026-11-20T09:00:00Z","#
                + #""deployed":"none","digest":"\#(try t.digest(0))","evidence":"hook","index":0,"#
                + #""model":"claude-sonnet-4-5 20250929","requested_by":"alice@example.com","reviewer":"bob@example.com","#
                + #""status":"approved","testing":"none"},"#)

        // The row agrees with the grade the audit reads from the same effective record.
        try t.ledger.read { snapshot in
            try snapshot.scan(type: .checkpoint, asOf: 8) { entry in
                #expect(ReportRow(entry).evidence == EvidenceGrade(record: entry.record))
                return true
            }
        }
    }

    @Test("The grade is the one in force at the report's tree size: a later correction does not change the report")
    func gradeAsOfSize() throws {
        let t = try Self.makeLedger()
        // As of 7 the correction (entry 7) is not yet in the log: cp-raised is still `inferred`.
        let before = Self.text(try Self.render(t, .csv, asOf: 7))
        #expect(
            before.contains(
                "2026-11-23T09:00:00Z,cp-raised,alice@example.com,claude-sonnet-4-5 20250929,inferred,none,"))
        #expect(before == Self.csv.replacingFirst(",import,", with: ",inferred,"))
        let md = Self.text(try Self.render(t, .md, asOf: 7))
        #expect(md == Self.markdown.replacingFirst("| import |", with: "| inferred |"))

        // A second correction that removes the grade: unknown from then on, and not before.
        try t.append(
            Records.correction(
                of: try t.digest(1), reason: "nobody attested this change; the record was made by a script",
                patch: ["x_capture": ["grade": .null]]))
        let after = try #require(try JSONParser.parse(try Self.render(t, .json, asOf: 9)).arrayValue)
        #expect(after[1]["checkpoint"] == "cp-attested" && after[1]["evidence"] == "unknown")
        #expect(try Self.render(t, .csv, asOf: 8) == Array(Self.csv.utf8))
    }

    @Test("A version-3 report verifies; a changed evidence cell is caught by its hash and by recomputation")
    func tamperedEvidence() throws {
        let t = try Self.makeLedger()
        let key = t.ledger.verifierKey
        for format in ReportFormat.allCases {
            var bytes: [UInt8] = []
            let signed = try ComplianceReport.produce(try ReportQuery(format: format), ledger: t.ledger) {
                bytes += $0
            }
            #expect(signed.note.text.hasPrefix("cairn-report-manifest/v3\nformat \(format.rawValue)\n"))
            let manifest = Array(signed.note.serialized.utf8)
            let verified = try ReportVerifier.verify(
                report: ReportBytes(bytes), manifest: manifest, key: key, ledger: t.ledger)
            #expect(verified.recomputed && verified.manifest.query.version == 3)

            // cp-attested's grade raised to hook: one cell.
            let (original, forged): (String, String) =
                switch format {
                case .csv: (",attested,", ",hook,")
                case .json: (#""evidence":"attested""#, #""evidence":"hook""#)
                case .md: ("| attested |", "| hook |")
                case .html: ("<td>attested</td>", "<td>hook</td>")
                }
            let text = Self.text(bytes)
            #expect(text.contains(original))
            let changed = Array(text.replacingFirst(original, with: forged).utf8)
            do {
                _ = try ReportVerifier.verify(report: ReportBytes(changed), manifest: manifest, key: key)
                Issue.record("\(format): a report with a changed evidence cell matched its manifest")
            } catch let error as ReportVerificationError {
                #expect(error.code == .reportMismatch)
            }

            // The same forgery with a manifest honestly signed over it: only the ledger catches it, on
            // cp-attested's line (the second row).
            let lying = ReportManifest(
                query: signed.manifest.query, rows: 6, byteCount: UInt64(changed.count), sha256: SHA256.hash(changed),
                checkpoint: signed.manifest.checkpoint)
            let note = Array(try t.ledger.sign(noteText: lying.text).serialized.utf8)
            #expect(try !ReportVerifier.verify(report: ReportBytes(changed), manifest: note, key: key).recomputed)
            do {
                _ = try ReportVerifier.verify(report: ReportBytes(changed), manifest: note, key: key, ledger: t.ledger)
                Issue.record("\(format): the ledger recomputed a report with a changed evidence cell")
            } catch let error as ReportVerificationError {
                #expect(error.code == .recomputedMismatch)
                // The line of the row: one more than the line feeds before the first changed byte.
                let differs = bytes.indices.first { $0 >= changed.count || bytes[$0] != changed[$0] } ?? 0
                let htmlLine = 1 + bytes[..<differs].filter { $0 == 0x0A }.count
                let line = format == .md ? 4 : format == .html ? htmlLine : 3
                #expect(error.message.contains("(line \(line)) on"), "\(format): \(error.message)")
            }
        }
    }

    @Test("A version-3 report does not pass for version 2, nor a version-2 report for version 3")
    func versionsAreNotInterchangeable() throws {
        let t = try Self.makeLedger()
        let key = t.ledger.verifierKey
        let checkpoint = try t.ledger.checkpoint(size: 8)
        for (written, claimed) in [(3, 2), (2, 3)] {
            let bytes = try Self.render(t, .csv, version: written)
            let manifest = ReportManifest(
                query: try ReportQuery(format: .csv, version: claimed), rows: 6, byteCount: UInt64(bytes.count),
                sha256: SHA256.hash(bytes), checkpoint: checkpoint)
            let note = Array(try t.ledger.sign(noteText: manifest.text).serialized.utf8)
            do {
                _ = try ReportVerifier.verify(report: ReportBytes(bytes), manifest: note, key: key, ledger: t.ledger)
                Issue.record("a version-\(written) report verified as version \(claimed)")
            } catch let error as ReportVerificationError {
                #expect(error.code == .recomputedMismatch)
                #expect(error.message.contains("(line 1) on"))  // the header differs
            }
        }
    }

    // MARK: - Versions 1 and 2, as the cairn before version 3 wrote them

    /// Reports of version 2 over the graded ledger, as written before version 3 existed: nine
    /// columns, the grades nowhere (`x_capture` is not a cell of version 2).
    static let csvVersion2 =
        "Date,Checkpoint,Requested by,Model,Reviewer,Approval,Testing,Deployed,Status\r\n"
        + "2026-11-20T09:00:00Z,cp-hook,alice@example.com,claude-sonnet-4-5 20250929,bob@example.com,"
        + "approved 2026-11-20T10:00:00Z,none,none,approved\r\n"
        + "2026-11-21T09:00:00Z,cp-attested,alice@example.com,claude-sonnet-4-5 20250929,none,none,none,none,in review\r\n"
        + "2026-11-22T09:00:00Z,cp-none,alice@example.com,claude-sonnet-4-5 20250929,none,none,none,none,in review\r\n"
        + "2026-11-23T09:00:00Z,cp-raised,alice@example.com,claude-sonnet-4-5 20250929,none,none,none,none,in review\r\n"
        + "2026-11-24T09:00:00Z,cp-miscased,alice@example.com,claude-sonnet-4-5 20250929,none,none,none,none,in review\r\n"
        + "2026-11-25T09:00:00Z,cp-trailer,alice@example.com,claude-sonnet-4-5 20250929,none,none,none,none,in review\r\n"

    /// (format, length, SHA-256) of the version-2 reports of the graded ledger at size 8.
    static let version2Digests: [(ReportFormat, Int, String)] = [
        (.csv, 756, "edf37310f51f6a62b4c754f09a28b355a96b2af528506e12b594b95b29433149"),
        (.json, 1929, "30a6ba2964a410e7b24b945f1f72612e515061135f68c28bbacdfe3e44e8bf11"),
        (.md, 945, "4caaa443364f56ac935ce4ab9a758d506610e8491d72c81c49a11a71cc896baa"),
    ]

    @Test("Version 2 over graded records is byte for byte what the cairn before version 3 wrote, and verifies")
    func version2Unchanged() throws {
        let t = try Self.makeLedger()
        #expect(Self.text(try Self.render(t, .csv, version: 2)) == Self.csvVersion2)
        for (format, length, digest) in Self.version2Digests {
            let bytes = try Self.render(t, format, version: 2)
            #expect(bytes.count == length && SHA256.hash(bytes).hex == digest, "\(format)")
            #expect(!Self.text(bytes).contains("evidence") && !Self.text(bytes).contains("Evidence"))
            var produced: [UInt8] = []
            let signed = try ComplianceReport.produce(try ReportQuery(format: format, version: 2), ledger: t.ledger) {
                produced += $0
            }
            #expect(produced == bytes)
            #expect(signed.note.text.hasPrefix("cairn-report-manifest/v2\n"))
            let verified = try ReportVerifier.verify(
                report: ReportBytes(produced), manifest: Array(signed.note.serialized.utf8),
                key: t.ledger.verifierKey, ledger: t.ledger)
            #expect(verified.recomputed && verified.manifest.query.version == 2)
        }
    }

    /// The records of the worked example of specs/report-manifest.md §6 (entries 0 to 5).
    static let workedExampleRecords = [
        #"{"type":"checkpoint","schema":1,"id":"0f8e7a52-3c1d-4d7e-9a41-7f1c2b6e5d01","#
            + #""timestamp":"2026-11-20T09:14:03Z","requested_by":"alice@example.com","tool_path":"ide","#
            + #""model":{"id":"claude-sonnet-4-5","version":"20250929","provider":"anthropic"},"#
            + #""prompt":"Add retry with exponential backoff to the payment client","#
            + #""outputs":[{"repo":"git@example.com:payments/client.git","#
            + #""commit":"9fceb02d0ae598e95dc970b74767f19372d61af8","path":"src/retry.ts","ranges":[[12,58]],"#
            + #""content_hash":"sha256:6b86b273ff34fce19d6b804eff5a3f5747ada4eaa22f1d49c01e52ddb7875b4b","#
            + #""contributor":"ai"}]}"#,
        #"{"type":"review","schema":1,"subject":"0f8e7a52-3c1d-4d7e-9a41-7f1c2b6e5d01","#
            + #""reviewer":"bob@example.com","decision":"approved","at":"2026-11-20T10:02:41Z"}"#,
        #"{"type":"test","schema":1,"subject":"0f8e7a52-3c1d-4d7e-9a41-7f1c2b6e5d01","result":"passed","#
            + #""coverage":0.87,"at":"2026-11-20T10:30:00Z"}"#,
        #"{"type":"deploy","schema":1,"subject":"0f8e7a52-3c1d-4d7e-9a41-7f1c2b6e5d01","#
            + #""git_commit":"9fceb02d0ae598e95dc970b74767f19372d61af8","branch":"main","#
            + #""environment":"production","at":"2026-11-21T18:00:00Z"}"#,
        #"{"type":"checkpoint","schema":1,"id":"5b2d9c10-8a6f-4f3e-b1d2-0c4e7a9f3b22","#
            + #""timestamp":"2026-11-21T15:40:12Z","requested_by":"carol@example.com","tool_path":"agent","#
            + #""model":{"id":"gpt-5-codex","release_date":"2025-09-15","provider":"openai"},"#
            + #""prompt":"Migrate the ledger export job to the new queue API","#
            + #""outputs":[{"repo":"git@example.com:platform/jobs.git","#
            + #""commit":"3b18e512dba79e4c8300dd08aeb37f8e728b8dad","path":"jobs/export.py","#
            + #""ranges":[[1,40],[88,120]],"#
            + #""content_hash":"sha256:d4735e3a265e16eee03f59718b9b5d03019c07d8b6c51f90da3a666eec13ab35","#
            + #""contributor":"mixed"}]}"#,
        #"{"type":"review","schema":1,"subject":"5b2d9c10-8a6f-4f3e-b1d2-0c4e7a9f3b22","#
            + #""reviewer":"dave@example.com","decision":"changes_requested","at":"2026-11-22T08:30:00Z"}"#,
    ]

    /// The worked example's ledger: the example key of keys-and-notes.md §2 (seed: 32 bytes 0x01).
    static func workedExampleLedger() throws -> TestLedger {
        let t = try TestLedger(
            origin: "example.com/ai-provenance", signingKey: try Ed25519PrivateKey(seed: Array(repeating: 1, count: 32))
        )
        try t.append(try workedExampleRecords.map { try JSONParser.parse(Array($0.utf8)) })
        return t
    }

    /// The worked example's reports of versions 1 and 2 (the two write the same cells here: no
    /// character of these records needs escaping).
    static let workedExampleReports: [ReportFormat: String] = [
        .csv: "Date,Checkpoint,Requested by,Model,Reviewer,Approval,Testing,Deployed,Status\r\n"
            + "2026-11-20T09:14:03Z,0f8e7a52-3c1d-4d7e-9a41-7f1c2b6e5d01,alice@example.com,claude-sonnet-4-5 20250929,"
            + "bob@example.com,approved 2026-11-20T10:02:41Z,\"passed, coverage 87%\",production 2026-11-21T18:00:00Z,"
            + "deployed\r\n"
            + "2026-11-21T15:40:12Z,5b2d9c10-8a6f-4f3e-b1d2-0c4e7a9f3b22,carol@example.com,"
            + "gpt-5-codex (released 2025-09-15),dave@example.com,changes requested 2026-11-22T08:30:00Z,none,none,"
            + "changes requested\r\n",
        .json: "[\n"
            + #"{"approval":"approved 2026-11-20T10:02:41Z","checkpoint":"0f8e7a52-3c1d-4d7e-9a41-7f1c2b6e5d01","#
            + #""date":"2026-11-20T09:14:03Z","deployed":"production 2026-11-21T18:00:00Z","#
            + #""digest":"sha256:2fc4c998650fb946ecb5b95800cb0ab8caa37fe68a8386d9d6b47fa8661f292d","index":0,"#
            + #""model":"claude-sonnet-4-5 20250929","requested_by":"alice@example.com","reviewer":"bob@example.com","#
            + #""status":"deployed","testing":"passed, coverage 87%"},"# + "\n"
            + #"{"approval":"changes requested 2026-11-22T08:30:00Z","#
            + #""checkpoint":"5b2d9c10-8a6f-4f3e-b1d2-0c4e7a9f3b22","date":"2026-11-21T15:40:12Z","deployed":"none","#
            + #""digest":"sha256:288d115d80bd98153b71d35b98b1375f345a595e70d9a2d77f6942fcf943beae","index":4,"#
            + #""model":"gpt-5-codex (released 2025-09-15)","requested_by":"carol@example.com","#
            + #""reviewer":"dave@example.com","status":"changes requested","testing":"none"}"# + "\n]\n",
        .md: "| Date | Checkpoint | Requested by | Model | Reviewer | Approval | Testing | Deployed | Status |\n"
            + "| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n"
            + "| 2026-11-20T09:14:03Z | 0f8e7a52-3c1d-4d7e-9a41-7f1c2b6e5d01 | alice@example.com | "
            + "claude-sonnet-4-5 20250929 | bob@example.com | approved 2026-11-20T10:02:41Z | passed, coverage 87% | "
            + "production 2026-11-21T18:00:00Z | deployed |\n"
            + "| 2026-11-21T15:40:12Z | 5b2d9c10-8a6f-4f3e-b1d2-0c4e7a9f3b22 | carol@example.com | "
            + "gpt-5-codex (released 2025-09-15) | dave@example.com | changes requested 2026-11-22T08:30:00Z | none | "
            + "none | changes requested |\n",
    ]

    /// Manifests of the worked example's reports, as the cairn before version 3 signed them: version,
    /// format, length, SHA-256 and the manifest's own signature (the checkpoint is the same in all).
    static let workedExampleManifests: [(Int, ReportFormat, Int, String, String)] = [
        (
            1, .csv, 487, "0a48696e2843ec607202ea96db432c024532e76377ffc4db912affd2db40fc47",
            "kkYLJtNmoBhxAp9A5cyFwtJPrj7+pF2rzSSH32vhFVjsEzt46vDoNQcUkICPqnPepqsuV0wR4fL1mtu7D9aAMCq/GAk="
        ),
        (
            2, .csv, 487, "0a48696e2843ec607202ea96db432c024532e76377ffc4db912affd2db40fc47",
            "kkYLJir7vT3NIli4+hA04/Wac3JMBLBG90RSyXh8I+r6rG5EBoGjwofZ/fIJmmPlEoPy/75XpV3E987tFBpMECZVWAw="
        ),
        (
            2, .json, 826, "ac9600e1a1419854c9b50f1c00cc9080e9fe9408df291eabfb85e4706bee7b91",
            "kkYLJmzYtQOoghlBxM1ieBv3ip34mAxLukahdAITVnlcoACs6q/hAqCxJk48q3lVxMppiBXzgvceG7kmNogfMsemwwY="
        ),
        (
            2, .md, 598, "65f531778d2d35c7cb3c5b9f1aa3d971758476a500d66ae27b23190c5a183a13",
            "kkYLJvDhWzQ6E6cMLg00v/eBTCZxzLlNU93F7VWGnQzzE5dtSmpjKIZReDTRCnnR2rurdnfVmqT9C4GdwMALIv2GDQk="
        ),
        (
            1, .md, 598, "65f531778d2d35c7cb3c5b9f1aa3d971758476a500d66ae27b23190c5a183a13",
            "kkYLJnN9DW2khTh/scUwbPyP9/nfTxGz1Ky9IwReQCANO1G7lfpwiSiPuCyK1KAAnZLhl1H9udOyZ0qO687794FzJQ4="
        ),
    ]

    /// The signed checkpoint of size 6 embedded in every worked-example manifest.
    static let workedExampleCheckpoint =
        "example.com/ai-provenance\n6\nlNNp4ey+mFnCm1wJ/QrQavk/Mf5dHD/93jOjWs9r/Qs=\n\n"
        + "— example.com/ai-provenance "
        + "kkYLJsY9pl1wtOyjKNGnTCrWrlcY3rp+vfHfwiVkOTt8OAF3ECR6xPnGyBJWJ81tw138m2rMG4HsGWZjcLkzJ7m9CAs=\n"

    @Test("Worked-example reports of versions 1 and 2, signed before version 3, verify and recompute byte for byte")
    func frozenReportsVerify() throws {
        let t = try Self.workedExampleLedger()
        for (version, format, length, sha256, signature) in Self.workedExampleManifests {
            let report = Array(try #require(Self.workedExampleReports[format]).utf8)
            #expect(report.count == length && SHA256.hash(report).hex == sha256)
            let manifest =
                "cairn-report-manifest/v\(version)\nformat \(format.rawValue)\n"
                + "since 2026-11-01T00:00:00Z\nuntil 2026-12-01T00:00:00Z\nrows 2\nbytes \(length)\nsha256 \(sha256)\n\n"
                + Self.workedExampleCheckpoint + "\n— example.com/ai-provenance " + signature + "\n"
            let verified = try ReportVerifier.verify(
                report: ReportBytes(report), manifest: Array(manifest.utf8), key: t.ledger.verifierKey,
                ledger: t.ledger)
            #expect(verified.recomputed, "v\(version) \(format)")
            #expect(verified.manifest.query.version == version)
            // This cairn, asked for that version, writes and signs exactly the same files.
            var again: [UInt8] = []
            let signed = try ComplianceReport.produce(
                try ReportQuery(
                    format: format, since: Timestamp.parse("2026-11-01T00:00:00Z"),
                    until: Timestamp.parse("2026-12-01T00:00:00Z"), version: version), ledger: t.ledger
            ) { again += $0 }
            #expect(again == report, "v\(version) \(format)")
            #expect(signed.note.serialized == manifest, "v\(version) \(format)")
        }
    }
}
