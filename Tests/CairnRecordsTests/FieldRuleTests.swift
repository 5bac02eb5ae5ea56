import CairnJSON
import CairnRecords
import Testing

/// One test per field rule of schema 1, each with the exact path and code reported.
@Suite struct FieldRuleTests {
    /// The issues of the checkpoint example with the value at `path` replaced (nil removes it).
    func checkpoint(_ path: String, _ value: JSONValue?) throws -> [Found] {
        found(try example(.checkpoint).setting(path, to: value))
    }

    /// The messages of the checkpoint example with the value at `path` replaced.
    func messages(_ path: String, _ value: JSONValue?) throws -> [String] {
        RecordValidator.issues(in: try example(.checkpoint).setting(path, to: value)).map(\.description)
    }

    @Test func wrongTypesNameWhatWasExpectedAndWhatWasFound() throws {
        #expect(try messages("$.requested_by", 5) == ["$.requested_by: expected a string, found 5"])
        #expect(try messages("$.outputs", [:]) == ["$.outputs: expected an array, found an object"])
        #expect(try messages("$.model", "claude") == [#"$.model: expected an object, found "claude""#])
        #expect(try messages("$.cost.usd", "0.2") == [#"$.cost.usd: expected a number, found "0.2""#])
        #expect(try messages("$.prompt", 5) == ["$.prompt: expected a string or a blob reference, found 5"])
        #expect(
            try messages("$.turns", "hi") == [#"$.turns: expected an array or a blob reference, found "hi""#])
        #expect(try messages("$.work_item", nil) == [])
        #expect(try messages("$.work_item", .null) == ["$.work_item: expected a string, found null"])
    }

    @Test func requiredStringsMustNotBeEmpty() throws {
        #expect(try checkpoint("$.requested_by", "") == [Found("$.requested_by", .emptyString)])
        #expect(try checkpoint("$.model.id", "") == [Found("$.model.id", .emptyString)])
        #expect(try checkpoint("$.prompt", "") == [Found("$.prompt", .emptyString)])
        #expect(try checkpoint("$.constraints[1]", "") == [Found("$.constraints[1]", .emptyString)])
        // raw_output and turn content are verbatim text: empty is allowed.
        #expect(try checkpoint("$.raw_output", "") == [])
    }

    @Test func enumerationsAreExactAndCaseSensitive() throws {
        #expect(
            try messages("$.tool_path", "IDE") == [
                #"$.tool_path: expected one of "ide", "cli", "ci", "chat", "agent", found "IDE""#
            ])
        #expect(try checkpoint("$.outputs[1].contributor", "bot") == [Found("$.outputs[1].contributor", .invalidValue)])
        #expect(try checkpoint("$.risk.compliance", "severe") == [Found("$.risk.compliance", .invalidValue)])
        #expect(
            found(try example(.review).setting("$.decision", to: "lgtm")) == [Found("$.decision", .invalidValue)])
    }

    @Test func timestampsAreRFC3339InUTC() throws {
        #expect(
            try messages("$.timestamp", "2026-11-20T09:14:03+01:00") == [
                #"$.timestamp: expected an RFC 3339 UTC timestamp such as "2026-11-20T09:14:03Z", "#
                    + #"found "2026-11-20T09:14:03+01:00": the offset must be Z (UTC), not +01:00"#
            ])
        #expect(try checkpoint("$.timestamp", "2026-02-30T00:00:00Z") == [Found("$.timestamp", .invalidTimestamp)])
        #expect(try checkpoint("$.turns[0].at", "yesterday") == [Found("$.turns[0].at", .invalidTimestamp)])
        #expect(try checkpoint("$.timestamp", "2026-11-20T09:14:03.123456789Z") == [])
    }

    @Test func releaseDatesAreRealCalendarDates() throws {
        #expect(
            try messages("$.model.release_date", "2025-02-29") == [
                #"$.model.release_date: expected a date YYYY-MM-DD, found "2025-02-29": 2025-02-29 is not a date"#
            ])
        #expect(try checkpoint("$.model.release_date", "2025-9-29") == [Found("$.model.release_date", .invalidDate)])
        #expect(
            try checkpoint("$.model.release_date", "2025-09-29T00:00:00Z")
                == [Found("$.model.release_date", .invalidDate)])
        #expect(try checkpoint("$.model.release_date", "2024-02-29") == [])
    }

    @Test func aModelNeedsAVersionOrAReleaseDate() throws {
        let record = try example(.checkpoint).removing("$.model.version").removing("$.model.release_date")
        #expect(
            RecordValidator.issues(in: record).map(\.description) == [
                #"$.model: expected at least one of "version" or "release_date""#
            ])
        #expect(found(record.setting("$.model.version", to: "2025-09")) == [])
        #expect(found(record.setting("$.model.release_date", to: "2025-09-29")) == [])
    }

    @Test func digestsAreSHA256InLowercaseHex() throws {
        let hash = "$.outputs[0].content_hash"
        let hex = String(repeating: "ab", count: 32)
        for bad in [
            "sha256:" + hex.uppercased(), hex, "sha256:" + hex.dropLast(), "sha512:" + hex, "sha256:" + hex + "0",
        ] {
            #expect(try checkpoint(hash, .string(bad)) == [Found(hash, .invalidDigest)], "\(bad)")
        }
        #expect(try checkpoint(hash, .string("sha256:" + hex)) == [])
    }

    @Test func commitsAreGitObjectIdsOf40Or64LowercaseHexDigits() throws {
        #expect(
            try messages("$.outputs[0].commit", "xyz") == [
                #"$.outputs[0].commit: expected 40 or 64 lowercase hex digits (a git object id), found "xyz""#
            ])
        let sha1 = String(repeating: "a1", count: 20)
        for bad in [sha1.uppercased(), String(sha1.dropLast()), sha1 + "0", String(repeating: "0", count: 63)] {
            #expect(
                try checkpoint("$.outputs[0].commit", .string(bad)) == [Found("$.outputs[0].commit", .invalidCommit)])
        }
        #expect(try checkpoint("$.outputs[0].commit", .string(String(repeating: "c3", count: 32))) == [])
        #expect(
            found(try example(.deploy).setting("$.git_commit", to: "main")) == [Found("$.git_commit", .invalidCommit)])
    }

    @Test func outputPathsAreRepositoryRelative() throws {
        let path = "$.outputs[0].path"
        #expect(
            try messages(path, "/src/retry.ts") == [
                #"$.outputs[0].path: expected a repository-relative path, found "/src/retry.ts": it starts with "/""#
            ])
        for bad in ["src/../etc/passwd", "..", "src//retry.ts", "src/", "./src/retry.ts", "src/.", "a\nb", "a\u{0}"] {
            #expect(try checkpoint(path, .string(bad)) == [Found(path, .invalidPath)], "\(bad)")
        }
        #expect(try checkpoint(path, "") == [Found(path, .emptyString)])
        for good in ["retry.ts", "src/.hidden/a", "..a/b", "a../b", "a b/c d.ts", "dir\\file", "é/ü.swift"] {
            #expect(try checkpoint(path, .string(good)) == [], "\(good)")
        }
    }

    @Test func aCheckpointHasAtLeastOneOutput() throws {
        #expect(try messages("$.outputs", []) == ["$.outputs: expected at least one element, found []"])
    }

    @Test func rangesAreOneBasedInclusiveLinePairs() throws {
        let ranges = "$.outputs[0].ranges"
        #expect(try checkpoint(ranges, [[12, 58], [0, 3]]) == [Found("$.outputs[0].ranges[1][0]", .invalidValue)])
        #expect(
            try messages(ranges, [[58, 12]]) == ["$.outputs[0].ranges[0]: start 58 is after end 12"])
        #expect(try checkpoint(ranges, [[1, 2, 3]]) == [Found("$.outputs[0].ranges[0]", .invalidRange)])
        #expect(try checkpoint(ranges, [[7]]) == [Found("$.outputs[0].ranges[0]", .invalidRange)])
        #expect(try checkpoint(ranges, [[1.5, 2]]) == [Found("$.outputs[0].ranges[0][0]", .wrongType)])
        #expect(try checkpoint(ranges, [["1", 2]]) == [Found("$.outputs[0].ranges[0][0]", .wrongType)])
        #expect(try checkpoint(ranges, ["1-5"]) == [Found("$.outputs[0].ranges[0]", .wrongType)])
        #expect(try checkpoint(ranges, []) == [Found(ranges, .emptyArray)])
        #expect(
            try checkpoint(ranges, [[1, 4_294_967_296]]) == [Found("$.outputs[0].ranges[0][1]", .invalidValue)])
        #expect(try checkpoint(ranges, [[7, 7], [1, 4_294_967_295], [3, 5], [4, 9]]) == [])
    }

    @Test func countsAreNonNegativeIntegers() throws {
        #expect(
            try messages("$.cost.input_tokens", -1) == ["$.cost.input_tokens: expected an integer ≥ 0, found -1"])
        #expect(try checkpoint("$.cost.output_tokens", 1.5) == [Found("$.cost.output_tokens", .wrongType)])
        #expect(try checkpoint("$.raw_output.size", -3) == [Found("$.raw_output.size", .invalidValue)])
        #expect(try checkpoint("$.cost.input_tokens", 1e300) == [Found("$.cost.input_tokens", .invalidValue)])
        #expect(try checkpoint("$.cost.usd", -0.01) == [Found("$.cost.usd", .invalidValue)])
        let test = try example(.test)
        #expect(found(test.setting("$.unit.skipped", to: -1)) == [Found("$.unit.skipped", .invalidValue)])
        #expect(found(test.removing("$.integration.failed")) == [Found("$.integration.failed", .missingField)])
    }

    @Test func reasoningStepsAreNumberedFromOne() throws {
        #expect(
            try messages("$.reasoning[0].step", 0) == [
                "$.reasoning[0].step: expected an integer from 1 to 4294967295, found 0"
            ])
        #expect(try checkpoint("$.reasoning[1].action", nil) == [Found("$.reasoning[1].action", .missingField)])
    }

    @Test func coverageIsAFractionFromZeroToOne() throws {
        let test = try example(.test)
        #expect(
            RecordValidator.issues(in: test.setting("$.coverage", to: 87)).map(\.description) == [
                "$.coverage: expected a number from 0 to 1, found 87"
            ])
        #expect(found(test.setting("$.coverage", to: 0)) == [])
        #expect(found(test.setting("$.coverage", to: 1)) == [])
    }

    @Test func reasonsMustContainMoreThanWhitespace() throws {
        let correction = try example(.correction)
        #expect(found(correction.setting("$.reason", to: " \t\n")) == [Found("$.reason", .emptyString)])
        #expect(found(correction.setting("$.reason", to: "\u{3000}\u{A0}")) == [Found("$.reason", .emptyString)])
        #expect(found(try example(.rollback).setting("$.reason", to: "")) == [Found("$.reason", .emptyString)])
        #expect(found(try example(.erasure).setting("$.reason", to: " x ")) == [])
    }

    @Test func subjectsAreContentAddressesOrCheckpointIds() throws {
        let review = try example(.review)
        #expect(found(review.setting("$.subject", to: "sha256:abc")) == [Found("$.subject", .invalidDigest)])
        #expect(found(review.setting("$.subject", to: "")) == [Found("$.subject", .emptyString)])
        #expect(found(review.setting("$.subject", to: "PAY-1423/checkpoint-7")) == [])
        #expect(found(review.setting("$.subject", to: "SHA256:not-an-address")) == [])
        let rewrite = try example(.rewrite)
        #expect(found(rewrite.removing("$.subject")) == [])
        #expect(found(rewrite.setting("$.subject", to: 7)) == [Found("$.subject", .wrongType)])
    }

    @Test func checkpointIdsCannotLookLikeAddresses() throws {
        let address = "sha256:" + String(repeating: "0", count: 64)
        #expect(try checkpoint("$.id", .string(address)) == [Found("$.id", .invalidValue)])
        #expect(try checkpoint("$.id", "") == [Found("$.id", .emptyString)])
    }

    @Test func mediaTypesAreTypeSlashSubtypeWithOptionalParameters() throws {
        let mediaType = "$.raw_output.media_type"
        for good in [
            "text/plain", "application/vnd.api+json", "text/plain; charset=utf-8", "text/plain;charset=UTF-8",
            #"multipart/form-data; boundary="a b\"c""#, "text/x-diff; charset=utf-8; format=flowed",
        ] {
            #expect(try checkpoint(mediaType, .string(good)) == [], "\(good)")
        }
        for bad in [
            "text", "text/", "/plain", "text/plain;", "text/plain; charset", "text/plain; charset=",
            "text /plain", "text/plain ", "tëxt/plain", #"text/plain; a="unterminated"#, "*/*",
        ] {
            #expect(try checkpoint(mediaType, .string(bad)) == [Found(mediaType, .invalidMediaType)], "\(bad)")
        }
    }

    @Test func payloadsAreInlineOrBlobReferences() throws {
        let blob = json(#"{"blob":"sha256:\#(String(repeating: "1", count: 64))","size":0,"media_type":"text/plain"}"#)
        #expect(try checkpoint("$.prompt", blob) == [])
        #expect(try checkpoint("$.turns", blob) == [])
        #expect(try checkpoint("$.turns[0].content", blob) == [])
        #expect(try checkpoint("$.raw_output", "diff --git a/src/retry.ts b/src/retry.ts") == [])
        #expect(try checkpoint("$.raw_output.size", nil) == [Found("$.raw_output.size", .missingField)])
        #expect(
            try checkpoint("$.prompt", ["text": "hi"]) == [
                Found("$.prompt.text", .unknownField), Found("$.prompt.blob", .missingField),
                Found("$.prompt.size", .missingField), Found("$.prompt.media_type", .missingField),
            ])
    }

    @Test func turnsNeedARole() throws {
        #expect(try checkpoint("$.turns[0].role", nil) == [Found("$.turns[0].role", .missingField)])
        #expect(try checkpoint("$.turns[1]", "assistant") == [Found("$.turns[1]", .wrongType)])
        #expect(try checkpoint("$.turns[1].tool_calls", [["name": "read_file"]]) == [])
    }

    @Test func optionalGroupsNeedAtLeastOneKnownMember() throws {
        #expect(try checkpoint("$.cost", [:]) == [Found("$.cost", .missingField)])
        #expect(try checkpoint("$.risk", ["overall": "low"]) == [Found("$.risk", .missingField)])
        #expect(try checkpoint("$.context", [:]) == [Found("$.context", .missingField)])
        #expect(try checkpoint("$.cost", ["usd": 0]) == [])
    }

    @Test func aDLPScanNamesItsResultAndTool() throws {
        #expect(
            try checkpoint("$.context.dlp_scan.result", "dirty") == [Found("$.context.dlp_scan.result", .invalidValue)])
        #expect(try checkpoint("$.context.dlp_scan.tool", nil) == [Found("$.context.dlp_scan.tool", .missingField)])
        #expect(try checkpoint("$.context.dlp_scan.at", nil) == [])
    }

    @Test func aCorrectionPatchIsANonEmptyObject() throws {
        let correction = try example(.correction)
        #expect(found(correction.setting("$.patch", to: [1])) == [Found("$.patch", .wrongType)])
        #expect(found(correction.setting("$.patch", to: [:])) == [Found("$.patch", .invalidValue)])
        #expect(found(correction.setting("$.patch", to: ["work_item": nil])) == [])
    }

    @Test func aCorrectionPatchMayNotNameTypeSchemaOrCorrects() throws {
        let correction = try example(.correction)
        #expect(
            RecordValidator.issues(in: correction.setting("$.patch.type", to: "review")).map(\.description) == [
                #"$.patch.type: a correction cannot change the kind of record ("type"); append a new record instead"#
            ])
        #expect(found(correction.setting("$.patch.schema", to: 1)) == [Found("$.patch.schema", .immutableField)])
        #expect(
            found(correction.setting("$.patch.corrects", to: .null)) == [Found("$.patch.corrects", .immutableField)])
        #expect(found(correction.setting("$.patch.corrects", to: "x")) == [Found("$.patch.corrects", .immutableField)])
    }
}
