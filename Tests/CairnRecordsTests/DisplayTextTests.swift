import CairnJSON
import CairnRecords
import Testing

/// `DisplayText`: record text made safe to show on a terminal (specs/record-schema.md §11).
@Suite struct DisplayTextTests {
    @Test func textWithoutDangerousCharactersIsUnchanged() {
        for text in ["", "alice@example.com", "Zoë Martín", "a\\u{1B}b (typed, not an ESC)", "日本語", "emoji 🧪 ok"] {
            #expect(DisplayText.escape(text) == text)
        }
    }

    @Test func theForgedReviewerIsShownOnOneLineWithItsEscapesVisible() {
        let forged = "mallory\u{1B}[2K\rbob@example.com"
        #expect(DisplayText.escape(forged) == #"mallory\u{1B}[2K\u{0D}bob@example.com"#)
    }

    @Test func everyC0ControlDeleteAndC1ControlIsEscapedWithAtLeastTwoHexDigits() {
        for value in UInt32(0)...0x9F where value < 0x20 || value >= 0x7F {
            let scalar = Unicode.Scalar(value)!
            let hex = String(value, radix: 16, uppercase: true)
            let expected = "\\u{" + (hex.count < 2 ? "0" + hex : hex) + "}"
            #expect(DisplayText.escape(String(Character(scalar))) == expected, "U+\(hex)")
            #expect(DisplayText.needsEscaping(scalar))
        }
        #expect(DisplayText.escape("\t\n\r\u{0}") == #"\u{09}\u{0A}\u{0D}\u{00}"#)
        // Printable ASCII and the first character after the C1 block are left alone.
        for value in UInt32(0x20)...0x7E { #expect(!DisplayText.needsEscaping(Unicode.Scalar(value)!)) }
        #expect(DisplayText.escape("\u{A0}é") == "\u{A0}é")
    }

    @Test func bidirectionalControlsMarksAndSeparatorsAreEscaped() {
        let escaped: [UInt32] = [
            0x061C, 0x200E, 0x200F, 0x2028, 0x2029, 0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068,
            0x2069,
        ]
        for value in escaped {
            let scalar = Unicode.Scalar(value)!
            #expect(
                DisplayText.escape("a\(Character(scalar))b") == "a\\u{\(String(value, radix: 16, uppercase: true))}b")
        }
        // Their neighbours are ordinary characters.
        for value: UInt32 in [0x061B, 0x200D, 0x2027, 0x202F, 0x2065, 0x206A] {
            #expect(!DisplayText.needsEscaping(Unicode.Scalar(value)!), "U+\(String(value, radix: 16))")
        }
        // "Trojan Source": an override that makes txt.exe read as exe.txt.
        #expect(DisplayText.escape("invoice\u{202E}txt.exe") == #"invoice\u{202E}txt.exe"#)
    }

    @Test func escapingIsIdempotentAndLeavesNoDangerousCharacter() {
        let nasty = "\u{1B}]8;;http://evil\u{7}link\u{1B}]8;;\u{7}\u{9B}31m\u{2028}\u{2066}x\u{2069}\u{7F}"
        let once = DisplayText.escape(nasty)
        #expect(!once.unicodeScalars.contains(where: DisplayText.needsEscaping))
        #expect(DisplayText.escape(once) == once)
        // Combining marks after an escaped character stay (the scalars, not the graphemes, are escaped).
        #expect(DisplayText.escape("\u{1B}\u{301}") == "\\u{1B}\u{301}")
    }

    @Test func jsonTextKeepsItsValueAndLosesItsDangerousCharacters() throws {
        let value: JSONValue = [
            "reviewer": .string("mallory\u{1B}[2K\rbob\u{202E}\u{2028}\u{85}\u{7F}"), "n": 1,
            "nested": ["\u{2066}x\u{2069}"],
        ]
        for text in [JSONWriter.compact(value), JSONWriter.pretty(value)] {
            let escaped = DisplayText.escapeJSON(text)
            #expect(!escaped.unicodeScalars.contains { $0.value >= 0x7F && DisplayText.needsEscaping($0) })
            // Only JSON's own whitespace remains of the C0 range, outside strings.
            #expect(!escaped.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" })
            #expect(try JSONParser.parse(escaped) == value)
            #expect(escaped.contains(#"\u202e\u2028\u0085\u007f"#))
        }
        #expect(DisplayText.escapeJSON(#"{"a":"plain"}"#) == #"{"a":"plain"}"#)
    }

    @Test func validationMessagesQuoteValuesWithTheirDangerousCharactersEscaped() throws {
        var record = try example(.review)
        record = record.setting("$.reviewer", to: "mallory\u{1B}[2K\rbob@example.com")
        let issues = RecordValidator.issues(in: record)
        #expect(issues.count == 1)
        #expect(
            issues.first?.description
                == #"$.reviewer: expected no control character (U+0000–U+001F, U+007F) in an identifier or a name, "#
                + #"found U+001B at position 8 of "mallory\u001b[2K\rbob@example.com""#)
        // Characters the schema accepts in a name are still escaped in messages quoting them.
        let bidi = try example(.review).setting("$.decision", to: "ok\u{202E}")
        #expect(RecordValidator.issues(in: bidi).first?.message.contains(#"found "ok\u202e""#) == true)
    }
}

/// Schema 1 refuses C0 controls and DEL in identifier and person fields, except in records read
/// back from a ledger (`RecordValidator.Options.stored`).
@Suite struct ControlCharacterTests {
    @Test func thePositionCountsCodePointsFromOne() throws {
        let record = try example(.checkpoint).setting("$.requested_by", to: "zoë\u{7F}")
        let issue = try #require(RecordValidator.issues(in: record).first)
        #expect(issue.code == .controlCharacter)
        #expect(issue.path == "$.requested_by")
        #expect(issue.message.contains("found U+007F at position 4 of"))
    }

    @Test func everyIdentifierWithAControlCharacterIsReportedAtItsPath() throws {
        let record = try example(.checkpoint)
            .setting("$.model.id", to: "a\nb")
            .setting("$.outputs[0].repo", to: "\u{0}")
            .setting("$.work_item", to: "PAY\t1")
        #expect(
            found(record) == [
                Found("$.model.id", .controlCharacter), Found("$.outputs[0].repo", .controlCharacter),
                Found("$.work_item", .controlCharacter),
            ])
    }

    @Test func storedRecordsWithControlCharactersStillRead() throws {
        let legacy = try example(.review).setting("$.reviewer", to: "mallory\u{1B}[2K\rbob@example.com")
        #expect(throws: RecordValidationError.self) { try RecordFacts(legacy) }
        let facts = try RecordFacts(legacy, options: .stored)
        #expect(facts.reviewer == "mallory\u{1B}[2K\rbob@example.com")
        // DEL in a repository path, refused since, reads too; C0 in a path was always refused.
        let path = try example(.checkpoint).setting("$.outputs[0].path", to: "src/a\u{7F}.ts")
        #expect(found(path) == [Found("$.outputs[0].path", .invalidPath)])
        #expect(RecordValidator.issues(in: path, options: .stored).isEmpty)
        let c0 = try example(.checkpoint).setting("$.outputs[0].path", to: "src/a\u{7F}\u{1}.ts")
        #expect(RecordValidator.issues(in: c0, options: .stored).map(\.code) == [.invalidPath])
    }

    @Test func correctionsOfStoredRecordsFoldWithTheStoredOptions() throws {
        let legacy = try example(.review).setting("$.reviewer", to: "mallory\u{1B}")
        let correction: JSONValue = [
            "type": "correction", "schema": 1, "corrects": .string("sha256:" + String(repeating: "ab", count: 32)),
            "author": "alice@example.com", "reason": "the decision was recorded wrongly",
            "patch": ["decision": "rejected"],
        ]
        // Folding what a ledger holds works; admitting the same correction now asks for the name to be fixed.
        let folded = try Corrections.effective(original: legacy, corrections: [correction], options: .stored)
        #expect(folded["decision"] == "rejected")
        #expect(throws: RecordValidationError.self) {
            try Corrections.effective(original: legacy, corrections: [correction])
        }
        let fixing = correction.setting("$.patch.reviewer", to: "mallory@example.com")
        #expect(try Corrections.apply(fixing, to: legacy)["reviewer"] == "mallory@example.com")
    }
}
