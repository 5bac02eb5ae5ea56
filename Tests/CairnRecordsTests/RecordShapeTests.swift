import CairnJSON
import CairnRecords
import Testing

/// Record-level rules: `type`, `schema`, required and unknown members, problem order, path syntax.
@Suite struct RecordShapeTests {
    @Test func aRecordMustBeAJSONObject() {
        let issues = RecordValidator.issues(in: json("[1]"))
        #expect(issues.map(\.description) == ["$: expected a record (a JSON object), found an array"])
    }

    @Test func typeIsRequired() {
        #expect(found(json(#"{"schema":1}"#)) == [Found("$.type", .missingField)])
    }

    @Test func anUnknownTypeIsReportedAndTheRestIsNotChecked() {
        let note = json(#"{"type":"note","schema":1,"text":5}"#)
        #expect(found(note) == [Found("$.type", .unknownType)])
        #expect(found(note, strict: true) == [Found("$.type", .unknownType)])
        #expect(
            RecordValidator.issues(in: note).first?.message
                == #"expected one of "checkpoint", "review", "test", "deploy", "rollback", "rewrite", "correction", "#
                + #""erasure", "model-call", "key-rotation", "seal", "predecessor", "legal-hold", found "note""#
        )
    }

    @Test func typeIsMatchedExactly() {
        for spelling in ["Review", "review ", "REVIEW", "re\u{200B}view"] {
            #expect(found(json(#"{"type":"\#(spelling)","schema":1}"#)) == [Found("$.type", .unknownType)])
        }
    }

    @Test func typeMustBeAString() {
        #expect(found(json(#"{"type":["review"],"schema":1}"#)) == [Found("$.type", .wrongType)])
    }

    @Test func schemaIsRequiredAndTheRestIsStillChecked() throws {
        let record = try example(.review).removing("$.schema").setting("$.decision", to: "ok")
        #expect(found(record) == [Found("$.decision", .invalidValue), Found("$.schema", .missingField)])
    }

    @Test func aSchemaOtherThanOneIsUnsupportedAndNothingElseIsChecked() throws {
        let record = json(#"{"type":"review","schema":2,"decision":5}"#)
        let issues = RecordValidator.issues(in: record)
        #expect(
            issues.map(\.description) == ["$.schema: schema 2 is not supported (this validator implements schema 1)"])
        #expect(found(json(#"{"type":"review","schema":1.5}"#)) == [Found("$.schema", .unsupportedSchema)])
    }

    @Test func schemaMustBeANumber() throws {
        let record = try example(.review).setting("$.schema", to: "1")
        #expect(found(record) == [Found("$.schema", .wrongType)])
        #expect(found(try example(.review).setting("$.schema", to: true)) == [Found("$.schema", .wrongType)])
    }

    @Test func missingRequiredFieldsAreReportedWhereTheyBelongInTableOrder() {
        let issues = RecordValidator.issues(in: json(#"{"type":"review","schema":1}"#))
        #expect(
            issues.map(\.description) == [
                "$.subject: required field is missing", "$.reviewer: required field is missing",
                "$.decision: required field is missing", "$.at: required field is missing",
            ])
    }

    @Test func everyProblemIsListedInDocumentOrder() throws {
        let record = try example(.checkpoint)
            .setting("$.timestamp", to: "2026-11-20 09:14:03Z")
            .removing("$.requested_by")
            .removing("$.model.provider")
            .setting("$.model.version", to: 20_250_929)
            .setting("$.outputs[0].commit", to: "xyz")
            .setting("$.outputs[1].ranges", to: [[1, 96], [0, 3]])
            .setting("$.risk.security", to: "none")
        #expect(
            found(record) == [
                Found("$.timestamp", .invalidTimestamp),
                Found("$.model.version", .wrongType),
                Found("$.model.provider", .missingField),
                Found("$.outputs[0].commit", .invalidCommit),
                Found("$.outputs[1].ranges[1][0]", .invalidValue),
                Found("$.risk.security", .invalidValue),
                Found("$.requested_by", .missingField),
            ])
        #expect(throws: RecordValidationError.self) { try RecordValidator.validate(record) }
    }

    @Test func theErrorDescriptionJoinsEveryIssue() {
        do {
            try RecordValidator.validate(json(#"{"type":"erasure","schema":1,"blob":"sha256:00","reason":" "}"#))
            Issue.record("expected an error")
        } catch {
            #expect(error.codes == [.invalidDigest, .emptyString, .missingField, .missingField])
            #expect(
                error.description == #"$.blob: expected "sha256:" and 64 lowercase hex digits, found "sha256:00"; "#
                    + #"$.reason: expected text with at least one non-whitespace character, found " "; "#
                    + "$.at: required field is missing; $.author: required field is missing")
        }
    }

    @Test func unknownFieldsAreKeptByDefault() throws {
        let record = try example(.checkpoint)
            .setting("$.x-team", to: "payments")
            .setting("$.model.region", to: "eu-west-1")
            .setting("$.outputs[0].language", to: "typescript")
        #expect(found(record) == [])
        #expect(try RecordFacts(record).outputs.count == 2)
        #expect(try JSONParser.parse(JCS.canonicalize(record))["x-team"] == "payments")
    }

    @Test func strictFieldsReportsEveryUnknownFieldWithItsPath() throws {
        let record = try example(.checkpoint)
            .setting("$.x-team", to: "payments")
            .setting("$.model.region", to: "eu-west-1")
            .setting("$.outputs[0].language", to: "typescript")
            .setting("$.context.dlp_scan.rules", to: 312)
        #expect(
            found(record, strict: true) == [
                Found("$.model.region", .unknownField),
                Found("$.outputs[0].language", .unknownField),
                Found("$.context.dlp_scan.rules", .unknownField),
                Found(#"$["x-team"]"#, .unknownField),
            ])
        #expect(
            RecordValidator.issues(in: record, options: .init(strictFields: true)).first?.message
                == "unknown field (strictFields is on)")
    }

    @Test func keysThatAreNotIdentifiersAreQuotedInPaths() throws {
        let keys = ["x-team", "1st", "", "a b", "quote\"back\\slash", "line\nbreak\u{1}", "é", "_ok", "ok_2"]
        var object = try example(.review).objectValue!
        for key in keys { object[key] = 1 }
        let paths = found(.object(object), strict: true).map(\.path)
        #expect(
            paths == [
                #"$["x-team"]"#, #"$["1st"]"#, #"$[""]"#, #"$["a b"]"#, #"$["quote\"back\\slash"]"#,
                #"$["line\nbreak\u0001"]"#, #"$["é"]"#, "$._ok", "$.ok_2",
            ])
    }

    @Test func recordPathsRenderAsInMessages() {
        let path = RecordPath.root.appending("outputs").appending(0).appending("ranges").appending(1).appending(0)
        #expect(path.description == "$.outputs[0].ranges[1][0]")
        #expect(RecordPath.root.appending("a b").appending("x\"y").description == #"$["a b"]["x\"y"]"#)
        #expect(RecordPath.root.description == "$")
    }

    @Test func blobReferencesAreClosedEvenWithoutStrictFields() throws {
        let record = try example(.checkpoint).setting("$.raw_output.encoding", to: "gzip")
        #expect(found(record) == [Found("$.raw_output.encoding", .unknownField)])
    }

    @Test func aBlobShapedObjectAnywhereIsCheckedAsABlobReference() throws {
        let attachment = json(#"{"blob":"sha256:XYZ","size":-1,"media_type":"image"}"#)
        let record = try example(.review).setting("$.attachments", to: [["screenshot": attachment]])
        #expect(
            found(record) == [
                Found("$.attachments[0].screenshot.blob", .invalidDigest),
                Found("$.attachments[0].screenshot.size", .invalidValue),
                Found("$.attachments[0].screenshot.media_type", .invalidMediaType),
            ])
        // With a fourth member it is not a blob reference, just extension data.
        let notABlob = record.setting("$.attachments[0].screenshot.note", to: "x")
        #expect(found(notABlob) == [])
    }
}
