import CairnJSON
import CairnRecords
import Foundation
import Testing

/// `specs/record-schema.json` and `RecordValidator` must agree: every example and every valid variant
/// is accepted by both, every invalid mutation is rejected by both (checked with Python's `jsonschema`).
///
/// Skipped with a message when python3 cannot import `jsonschema` (`pip install jsonschema`); CI sets
/// CAIRN_REQUIRE_INTEROP=1, which turns the skip into a failure.
@Suite struct SchemaCrossCheckTests {
    /// One edit of an example: set the value at a path, or remove the member when `value` is nil.
    typealias Edit = (path: String, value: JSONValue?)

    /// An invalid record and the single issue our validator must report for it.
    struct Mutation {
        let name: String
        let record: JSONValue
        let expected: Found
    }

    static let hex64 = String(repeating: "ab", count: 32)
    /// The base64 key of the key-rotation example's new vkey (its key ID 99d82545 matches only its own name).
    static let vkeyTail = "Ae1JKMYo0cLG6ukDOJBZlWEpWSc6XGP5NjbBRhSshzfR"

    static func mutate(_ type: RecordType, _ edits: [Edit]) -> JSONValue {
        edits.reduce(try! example(type)) { $0.setting($1.path, to: $1.value) }
    }

    static func invalid(
        _ type: RecordType, _ path: String, _ value: JSONValue?, _ code: ValidationIssue.Code,
        at reported: String? = nil
    ) -> Mutation {
        let name = "\(type.rawValue) \(path) = \(value.map(\.description) ?? "(removed)")"
        return Mutation(name: name, record: mutate(type, [(path, value)]), expected: Found(reported ?? path, code))
    }

    /// The required members of each type, as the spec's tables list them.
    static let required: [RecordType: [String]] = [
        .checkpoint: ["type", "schema", "id", "timestamp", "requested_by", "tool_path", "model", "prompt", "outputs"],
        .review: ["type", "schema", "subject", "reviewer", "decision", "at"],
        .test: ["type", "schema", "subject", "result"],
        .deploy: ["type", "schema", "subject", "git_commit", "branch", "environment", "at"],
        .rollback: ["type", "schema", "subject", "at", "environment", "reason"],
        .rewrite: ["type", "schema", "old_commit", "new_commit", "kind", "at"],
        .correction: ["type", "schema", "corrects", "author", "reason", "patch"],
        .erasure: ["type", "schema", "blob", "reason", "at", "author"],
        .modelCall: ["type", "schema", "request_id", "provider", "timestamp", "model"],
        .keyRotation: ["type", "schema", "old_vkey", "new_vkey", "endorsement", "at", "author", "reason"],
        .seal: ["type", "schema", "origin", "at", "author", "reason"],
        .predecessor: ["type", "schema", "origin", "vkey", "checkpoint", "seal_entry", "seal_proof", "at", "author"],
        .legalHold: ["type", "schema", "hold", "action", "reason", "at", "author"],
    ]

    static let nestedRequired = [
        "$.model.id", "$.model.provider", "$.outputs[0].repo", "$.outputs[0].commit", "$.outputs[0].path",
        "$.outputs[0].ranges", "$.outputs[0].content_hash", "$.outputs[0].contributor", "$.raw_output.blob",
        "$.raw_output.size", "$.raw_output.media_type", "$.turns[0].role", "$.alternatives[0].approach",
        "$.alternatives[0].rejected_because", "$.reasoning[0].step", "$.reasoning[0].action",
        "$.reasoning[0].reasoning", "$.context.dlp_scan.result", "$.context.dlp_scan.tool",
    ]

    static var mutations: [Mutation] {
        var all: [Mutation] = []
        for type in RecordType.allCases {
            for name in required[type]! { all.append(invalid(type, "$." + name, nil, .missingField)) }
        }
        for path in nestedRequired { all.append(invalid(.checkpoint, path, nil, .missingField)) }
        all.append(invalid(.test, "$.unit.passed", nil, .missingField))
        all += ["$.model.id", "$.source.format", "$.output.blob"].map { invalid(.modelCall, $0, nil, .missingField) }
        all += [
            // Wrong JSON types.
            invalid(.checkpoint, "$.type", 5, .wrongType),
            invalid(.checkpoint, "$.schema", "1", .wrongType),
            invalid(.checkpoint, "$.schema", true, .wrongType),
            invalid(.checkpoint, "$.id", 5, .wrongType),
            invalid(.checkpoint, "$.timestamp", 1_795_166_043, .wrongType),
            invalid(.checkpoint, "$.requested_by", [], .wrongType),
            invalid(.checkpoint, "$.tool_path", true, .wrongType),
            invalid(.checkpoint, "$.model", "claude", .wrongType),
            invalid(.checkpoint, "$.prompt", 5, .wrongType),
            invalid(.checkpoint, "$.outputs", [:], .wrongType),
            invalid(.checkpoint, "$.session_id", 1, .wrongType),
            invalid(.checkpoint, "$.turns", "hello", .wrongType),
            invalid(.checkpoint, "$.turns[0]", "hello", .wrongType),
            invalid(.checkpoint, "$.raw_output", 5, .wrongType),
            invalid(.checkpoint, "$.constraints", "none", .wrongType),
            invalid(.checkpoint, "$.constraints[0]", 1, .wrongType),
            invalid(.checkpoint, "$.alternatives", [:], .wrongType),
            invalid(.checkpoint, "$.cost", "free", .wrongType),
            invalid(.checkpoint, "$.cost.usd", "0.2", .wrongType),
            invalid(.checkpoint, "$.context.files", "a.ts", .wrongType),
            invalid(.checkpoint, "$.risk", "low", .wrongType),
            invalid(.checkpoint, "$.model.version", 20_250_929, .wrongType),
            invalid(.review, "$.feedback", "ok", .wrongType),
            invalid(.test, "$.coverage", "87%", .wrongType),
            invalid(.test, "$.unit", 42, .wrongType),
            invalid(.deploy, "$.branch", 1, .wrongType),
            invalid(.correction, "$.patch", ["work_item"], .wrongType),
            invalid(.erasure, "$.author", nil as JSONValue, .wrongType),
            // Enumerations.
            invalid(.checkpoint, "$.type", "note", .unknownType),
            invalid(.checkpoint, "$.tool_path", "IDE", .invalidValue),
            invalid(.checkpoint, "$.outputs[0].contributor", "bot", .invalidValue),
            invalid(.checkpoint, "$.context.dlp_scan.result", "dirty", .invalidValue),
            invalid(.checkpoint, "$.risk.security", "none", .invalidValue),
            invalid(.review, "$.decision", "lgtm", .invalidValue),
            invalid(.test, "$.result", "ok", .invalidValue),
            invalid(.rewrite, "$.kind", "merge", .invalidValue),
            invalid(.review, "$.schema", 2, .unsupportedSchema),
            // Digests.
            invalid(.checkpoint, "$.outputs[0].content_hash", .string("sha256:" + hex64.uppercased()), .invalidDigest),
            invalid(.checkpoint, "$.raw_output.blob", "sha256:1234", .invalidDigest),
            invalid(.review, "$.subject", "sha256:abc", .invalidDigest),
            invalid(.correction, "$.corrects", .string(hex64), .invalidDigest),
            invalid(.erasure, "$.blob", .string("sha512:" + hex64), .invalidDigest),
            // Commits.
            invalid(.checkpoint, "$.outputs[0].commit", "xyz", .invalidCommit),
            invalid(.deploy, "$.git_commit", "main", .invalidCommit),
            invalid(.rewrite, "$.old_commit", .string(String(hex64.prefix(39))), .invalidCommit),
            invalid(.rewrite, "$.new_commit", .string(String(hex64.prefix(40)).uppercased()), .invalidCommit),
            invalid(.rewrite, "$.new_commit", .string(String(hex64.prefix(40)) + "\n"), .invalidCommit),
            // Timestamps and dates.
            invalid(.checkpoint, "$.timestamp", "2026-11-20T09:14:03+01:00", .invalidTimestamp),
            invalid(.checkpoint, "$.timestamp", "2026-02-30T09:14:03Z", .invalidTimestamp),
            invalid(.checkpoint, "$.timestamp", "2100-02-29T09:14:03Z", .invalidTimestamp),
            invalid(.checkpoint, "$.timestamp", "2016-12-31T23:59:60Z", .invalidTimestamp),
            invalid(.checkpoint, "$.timestamp", "2026-11-20T09:14:03z", .invalidTimestamp),
            invalid(.checkpoint, "$.timestamp", "2026-11-20T09:14:03Z\n", .invalidTimestamp),
            invalid(.checkpoint, "$.timestamp", "2026-11-20 09:14:03Z", .invalidTimestamp),
            invalid(.checkpoint, "$.timestamp", "2026-11-20T09:14Z", .invalidTimestamp),
            invalid(.checkpoint, "$.timestamp", "2026-11-20T09:14:03.1234567890Z", .invalidTimestamp),
            invalid(.review, "$.at", "2026-11-20T24:00:00Z", .invalidTimestamp),
            invalid(.checkpoint, "$.model.release_date", "2025-02-29", .invalidDate),
            invalid(.checkpoint, "$.model.release_date", "2025-9-29", .invalidDate),
            // Outputs, ranges and paths.
            invalid(.checkpoint, "$.outputs", [], .emptyArray),
            invalid(.checkpoint, "$.outputs[0].ranges", [], .emptyArray),
            invalid(.checkpoint, "$.outputs[0].ranges[0]", [0, 5], .invalidValue, at: "$.outputs[0].ranges[0][0]"),
            invalid(.checkpoint, "$.outputs[0].ranges[0]", [1], .invalidRange),
            invalid(.checkpoint, "$.outputs[0].ranges[0]", [1, 2, 3], .invalidRange),
            invalid(.checkpoint, "$.outputs[0].ranges[0]", [1.5, 2], .wrongType, at: "$.outputs[0].ranges[0][0]"),
            invalid(.checkpoint, "$.outputs[0].ranges[0]", "1-5", .wrongType),
            invalid(.checkpoint, "$.outputs[0].ranges[0][1]", 4_294_967_296, .invalidValue),
            invalid(.checkpoint, "$.outputs[0].path", "/src/retry.ts", .invalidPath),
            invalid(.checkpoint, "$.outputs[0].path", "src/../retry.ts", .invalidPath),
            invalid(.checkpoint, "$.outputs[0].path", "src//retry.ts", .invalidPath),
            invalid(.checkpoint, "$.outputs[0].path", "src/", .invalidPath),
            invalid(.checkpoint, "$.outputs[0].path", "./retry.ts", .invalidPath),
            invalid(.checkpoint, "$.outputs[0].path", "retry.ts\n", .invalidPath),
            // Other strings.
            invalid(.checkpoint, "$.requested_by", "", .emptyString),
            invalid(.checkpoint, "$.prompt", "", .emptyString),
            invalid(.checkpoint, "$.outputs[0].path", "", .emptyString),
            invalid(.rollback, "$.reason", " \t\n\u{3000}", .emptyString),
            invalid(.correction, "$.reason", "   ", .emptyString),
            invalid(.checkpoint, "$.id", .string("sha256:" + hex64), .invalidValue),
            invalid(.checkpoint, "$.raw_output.media_type", "text", .invalidMediaType),
            invalid(.checkpoint, "$.raw_output.media_type", "text/plain;", .invalidMediaType),
            // Numbers.
            invalid(.checkpoint, "$.cost.input_tokens", -1, .invalidValue),
            invalid(.checkpoint, "$.cost.output_tokens", 1.5, .wrongType),
            invalid(.checkpoint, "$.cost.input_tokens", 1e300, .invalidValue),
            invalid(.checkpoint, "$.cost.usd", -0.5, .invalidValue),
            invalid(.checkpoint, "$.raw_output.size", -1, .invalidValue),
            invalid(.checkpoint, "$.reasoning[0].step", 0, .invalidValue),
            invalid(.test, "$.coverage", 1.5, .invalidValue),
            invalid(.test, "$.integration.skipped", -2, .invalidValue),
            // Groups of which one member is required.
            Mutation(
                name: "model without version and release_date",
                record: mutate(.checkpoint, [("$.model.version", nil), ("$.model.release_date", nil)]),
                expected: Found("$.model", .missingField)),
            invalid(.checkpoint, "$.cost", [:], .missingField),
            invalid(.checkpoint, "$.risk", ["overall": "low"], .missingField),
            invalid(.checkpoint, "$.context", [:], .missingField),
            // Blob references.
            invalid(.checkpoint, "$.raw_output.encoding", "gzip", .unknownField),
            invalid(
                .checkpoint, "$.prompt", ["blob": .string("sha256:" + hex64), "size": 1], .missingField,
                at: "$.prompt.media_type"),
            invalid(
                .review, "$.attachment", ["blob": "sha256:1", "size": 1, "media_type": "text/plain"], .invalidDigest,
                at: "$.attachment.blob"),
            // Control characters (C0 and DEL) in identifiers and people (specs/record-schema.md §2).
            invalid(.review, "$.reviewer", "mallory\u{1B}[2K\rbob@example.com", .controlCharacter),
            invalid(.checkpoint, "$.id", "cp\u{0}1", .controlCharacter),
            invalid(.checkpoint, "$.requested_by", "alice@example.com\n", .controlCharacter),
            invalid(.checkpoint, "$.session_id", "sess\t1", .controlCharacter),
            invalid(.checkpoint, "$.request_id", "req\u{7F}", .controlCharacter),
            invalid(.checkpoint, "$.work_item", "PAY-\u{1F}1423", .controlCharacter),
            invalid(.checkpoint, "$.agent_role", "\u{8}implementer", .controlCharacter),
            invalid(.checkpoint, "$.model.id", "claude\u{1B}[31m", .controlCharacter),
            invalid(.checkpoint, "$.model.version", "2025\r0929", .controlCharacter),
            invalid(.checkpoint, "$.model.provider", "anthropic\u{7F}", .controlCharacter),
            invalid(.checkpoint, "$.outputs[0].repo", "git@example.com:a\nb.git", .controlCharacter),
            invalid(.checkpoint, "$.turns[0].role", "user\u{0}", .controlCharacter),
            invalid(.checkpoint, "$.context.dlp_scan.tool", "gitleaks\u{1B}", .controlCharacter),
            invalid(.checkpoint, "$.outputs[0].path", "src/retry\u{7F}.ts", .invalidPath),
            invalid(.review, "$.subject", "checkpoint\u{1B}7", .controlCharacter),
            invalid(.test, "$.subject", "checkpoint\n7", .controlCharacter),
            invalid(.deploy, "$.branch", "main\u{1B}", .controlCharacter),
            invalid(.deploy, "$.environment", "prod\tuction", .controlCharacter),
            invalid(.rollback, "$.environment", "\rproduction", .controlCharacter),
            invalid(.rewrite, "$.repo", "payments\u{0}", .controlCharacter),
            invalid(.correction, "$.author", "alice\u{1B}[2K", .controlCharacter),
            invalid(.erasure, "$.author", "security\u{7F}", .controlCharacter),
            // Model calls.
            invalid(.modelCall, "$.request_id", 7, .wrongType),
            invalid(.modelCall, "$.request_id", "", .emptyString),
            invalid(.modelCall, "$.request_id", "req\n1", .controlCharacter),
            invalid(.modelCall, "$.provider", "anthropic\u{1B}", .controlCharacter),
            invalid(.modelCall, "$.model", "claude", .wrongType),
            invalid(.modelCall, "$.model.id", "claude\u{7F}", .controlCharacter),
            invalid(.modelCall, "$.model.release_date", "2025-09-31", .invalidDate),
            invalid(.modelCall, "$.timestamp", "2026-11-20T10:14:01+01:00", .invalidTimestamp),
            invalid(.modelCall, "$.timestamp", 1_795_166_041, .wrongType),
            invalid(.modelCall, "$.status", 99, .invalidValue),
            invalid(.modelCall, "$.status", 600, .invalidValue),
            invalid(.modelCall, "$.status", 200.5, .wrongType),
            invalid(.modelCall, "$.status", "200", .wrongType),
            invalid(.modelCall, "$.usage", [:], .missingField),
            invalid(.modelCall, "$.usage.input_tokens", -1, .invalidValue),
            invalid(.modelCall, "$.usage.output_tokens", "3904", .wrongType),
            invalid(.modelCall, "$.cost", [:], .missingField),
            invalid(.modelCall, "$.cost.usd", -0.01, .invalidValue),
            invalid(.modelCall, "$.prompt", "", .emptyString),
            invalid(.modelCall, "$.output", 5, .wrongType),
            invalid(.modelCall, "$.output.blob", "sha256:12", .invalidDigest),
            invalid(.modelCall, "$.source", "gateway", .wrongType),
            invalid(.modelCall, "$.source.line_hash", "9b89", .invalidDigest),
            invalid(.modelCall, "$.source.log", "a\tb", .controlCharacter),
            invalid(.modelCall, "$.response_id", "", .emptyString),
            // Correction patches.
            invalid(.correction, "$.patch", [:], .invalidValue),
            invalid(.correction, "$.patch.type", "review", .immutableField),
            invalid(.correction, "$.patch.schema", 2, .immutableField),
            invalid(.correction, "$.patch.corrects", .null, .immutableField),
            // Key rotations: vkeys and the endorsement.
            invalid(.keyRotation, "$.old_vkey", 5, .wrongType),
            invalid(.keyRotation, "$.new_vkey", "", .emptyString),
            invalid(.keyRotation, "$.new_vkey", "example.com/cairn-demo+99d82545", .invalidValue),
            invalid(.keyRotation, "$.new_vkey", .string("example.com/cairn-demo+99D82545+" + vkeyTail), .invalidValue),
            invalid(.keyRotation, "$.new_vkey", .string("example demo+99d82545+" + vkeyTail), .invalidValue),
            invalid(.keyRotation, "$.new_vkey", .string("example.com/cairn-demo+99d82545+\(vkeyTail)="), .invalidValue),
            invalid(
                .keyRotation, "$.new_vkey", .string("example.com/cairn-demo+99d82545+B\(vkeyTail.dropFirst())"),
                .invalidValue),
            invalid(.keyRotation, "$.endorsement", "O4xu", .invalidValue),
            invalid(.keyRotation, "$.endorsement", .string(String(repeating: "A", count: 86) + "Ag=="), .invalidValue),
            invalid(.keyRotation, "$.endorsement", .string(String(repeating: "A", count: 88)), .invalidValue),
            invalid(.keyRotation, "$.reason", " \n", .emptyString),
            invalid(.keyRotation, "$.author", "ops\u{1B}", .controlCharacter),
            invalid(.keyRotation, "$.at", "2026-12-01", .invalidTimestamp),
            invalid(.keyRotation, "$.revoked_from_size", -1, .invalidValue),
            invalid(.keyRotation, "$.revoked_from_size", "4", .wrongType),
            invalid(.seal, "$.origin", "", .emptyString),
            invalid(.seal, "$.reason", " ", .emptyString),
            invalid(.seal, "$.at", "2026-12-31", .invalidTimestamp),
            invalid(.predecessor, "$.vkey", "example.com/cairn-2026", .invalidValue),
            invalid(.predecessor, "$.checkpoint", "", .emptyString),
            invalid(.predecessor, "$.seal_proof", "10otHyrx", .wrongType),
            invalid(.predecessor, "$.seal_proof[0]", 5, .wrongType),
            // Legal holds: the action, the scope.
            invalid(.legalHold, "$.action", "lift", .invalidValue),
            invalid(.legalHold, "$.action", 1, .wrongType),
            invalid(.legalHold, "$.hold", "LIT\n1", .controlCharacter),
            invalid(.legalHold, "$.subject", "sha256:12", .invalidDigest),
            invalid(.legalHold, "$.repository", "", .emptyString),
            invalid(.legalHold, "$.from", "2026-01-01", .invalidTimestamp),
            invalid(.legalHold, "$.until", "2026-01-01T00:00:00+01:00", .invalidTimestamp),
            invalid(.legalHold, "$.reason", "  ", .emptyString),
            Mutation(
                name: "legal-hold placed without a scope", record: mutate(.legalHold, [("$.subject", nil)]),
                expected: Found("$", .missingField)),
            Mutation(
                name: "legal-hold release naming a subject", record: mutate(.legalHold, [("$.action", "release")]),
                expected: Found("$.subject", .invalidValue)),
            Mutation(
                name: "legal-hold release naming a time range",
                record: mutate(
                    .legalHold, [("$.action", "release"), ("$.subject", nil), ("$.until", "2027-01-01T00:00:00Z")]),
                expected: Found("$.until", .invalidValue)),
        ]
        return all
    }

    /// Records both must accept: variations the examples do not show.
    static var validVariants: [(String, JSONValue)] {
        let blob: JSONValue = ["blob": .string("sha256:" + hex64), "size": 0, "media_type": "text/plain"]
        let variants: [(String, RecordType, [Edit])] = [
            ("model with version only", .checkpoint, [("$.model.release_date", nil)]),
            ("model with release_date only", .checkpoint, [("$.model.version", nil)]),
            ("prompt as a blob", .checkpoint, [("$.prompt", blob)]),
            ("turns as a blob", .checkpoint, [("$.turns", blob)]),
            ("raw output inline and empty", .checkpoint, [("$.raw_output", "")]),
            ("SHA-256 commit", .checkpoint, [("$.outputs[0].commit", .string(hex64))]),
            ("nanosecond timestamp", .checkpoint, [("$.timestamp", "2026-11-20T09:14:03.123456789Z")]),
            (
                "leap day", .checkpoint,
                [("$.timestamp", "2028-02-29T23:59:59Z"), ("$.model.release_date", "2000-02-29")]
            ),
            (
                "unknown members", .checkpoint,
                [("$.x-team", "payments"), ("$.model.region", "eu"), ("$.cost.currency", "USD")]
            ),
            ("quoted media type parameter", .checkpoint, [("$.raw_output.media_type", #"text/plain; x="a;b""#)]),
            ("path with dots inside names", .checkpoint, [("$.outputs[0].path", "..config/.env.example")]),
            ("empty optional arrays", .checkpoint, [("$.constraints", []), ("$.turns", []), ("$.context.urls", [])]),
            (
                "minimal checkpoint", .checkpoint,
                [
                    ("$.session_id", nil), ("$.request_id", nil), ("$.work_item", nil), ("$.agent_role", nil),
                    ("$.turns", nil), ("$.raw_output", nil), ("$.constraints", nil), ("$.alternatives", nil),
                    ("$.reasoning", nil), ("$.cost", nil), ("$.context", nil), ("$.risk", nil),
                ]
            ),
            ("review by id without feedback", .review, [("$.subject", "checkpoint-7"), ("$.feedback", nil)]),
            (
                "minimal test", .test,
                [
                    ("$.unit", nil), ("$.integration", nil), ("$.coverage", nil), ("$.edge_cases", nil), ("$.at", nil),
                ]
            ),
            ("rewrite without repo and subject", .rewrite, [("$.repo", nil), ("$.subject", nil)]),
            (
                "correction without at, patch removing a member", .correction,
                [("$.at", nil), ("$.patch", ["work_item": nil])]
            ),
            ("blob-shaped extension", .review, [("$.attachment", blob)]),
            (
                "minimal model call", .modelCall,
                [
                    ("$.response_id", nil), ("$.status", nil), ("$.usage", nil), ("$.cost", nil), ("$.prompt", nil),
                    ("$.output", nil), ("$.source", nil), ("$.model.version", nil), ("$.model.release_date", nil),
                ]
            ),
            (
                "model call with one token count, inline output, a cost in tokens", .modelCall,
                [
                    ("$.usage.input_tokens", nil), ("$.output", ""), ("$.cost", ["output_tokens": 3]),
                    ("$.source.log", nil), ("$.source.line_hash", nil), ("$.x_capture", ["grade": "import"]),
                ]
            ),
            ("integer written as 1.0 and schema 1.0", .review, [("$.schema", 1.0)]),
            ("key rotation revoking the old key", .keyRotation, [("$.revoked_from_size", 4), ("$.x_ticket", "SEC-1")]),
            ("key rotation with a reason of two lines", .keyRotation, [("$.reason", "moved\nto the HSM")]),
            ("link to a predecessor of one entry (an empty proof)", .predecessor, [("$.seal_proof", .array([]))]),
            (
                "legal hold on a repository in a time range", .legalHold,
                [
                    ("$.subject", nil), ("$.repository", "git@example.com:payments/client.git"),
                    ("$.from", "2026-01-01T00:00:00Z"), ("$.until", "2026-12-31T23:59:59.999Z"),
                ]
            ),
            ("legal hold from a time on", .legalHold, [("$.subject", nil), ("$.from", "2026-01-01T00:00:00Z")]),
            (
                "legal hold of one instant", .legalHold,
                [("$.from", "2026-01-01T00:00:00Z"), ("$.until", "2026-01-01T00:00:00Z")]
            ),
            (
                "legal hold released", .legalHold,
                [("$.action", "release"), ("$.subject", nil), ("$.x_ticket", "LEGAL-7")]
            ),
            // Only C0 controls and DEL are refused, and only in identifiers and people.
            (
                "free text with line breaks, tabs and escapes", .rollback,
                [("$.reason", "first line\nsecond line\t\u{1B}[1m")]
            ),
            ("prompt with control characters", .checkpoint, [("$.prompt", "diff:\n\t-a\r\n\t+b\u{7F}")]),
            (
                "people with non-ASCII, C1 and bidirectional characters", .review,
                [("$.reviewer", "\u{202E}Zoë \u{85}\u{200F}"), ("$.feedback", ["line\none"])]
            ),
        ]
        return variants.map { ($0.0, mutate($0.1, $0.2)) }
    }

    /// Rules JSON Schema cannot state: rejected by Cairn, accepted by the JSON Schema (documented gaps).
    static var schemaGaps: [Mutation] {
        [
            invalid(.checkpoint, "$.outputs[0].ranges[0]", [58, 12], .invalidRange),
            Mutation(
                name: "legal-hold until before from",
                record: mutate(.legalHold, [("$.from", "2027-01-01T00:00:00Z"), ("$.until", "2026-12-31T23:59:59Z")]),
                expected: Found("$.until", .invalidValue)),
        ]
    }

    static let script = """
        import json, sys
        from jsonschema import Draft202012Validator
        schema = json.load(open(sys.argv[1], encoding='utf-8'))
        Draft202012Validator.check_schema(schema)
        validator = Draft202012Validator(schema)
        docs = json.load(open(sys.argv[2], encoding='utf-8'))
        results = []
        for doc in docs:
            errors = list(validator.iter_errors(doc))
            results.append(errors[0].message[:160] if errors else None)
        print(json.dumps(results))
        """

    static let pythonHasJSONSchema: Bool = (try? runPython(["-c", "import jsonschema"]))?.status == 0

    /// The first `jsonschema` error for each record, or nil when it accepts the record.
    static func jsonSchemaVerdicts(_ records: [JSONValue]) throws -> [String?] {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "cairn-schema-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let input = directory.appendingPathComponent("records.json")
        try Data(JSONWriter.compactBytes(.array(records))).write(to: input)
        let (status, output) = try runPython(["-c", script, jsonSchemaFile.path, input.path])
        try #require(status == 0, "python3 exited with status \(status)")
        let verdicts = try JSONParser.parse(output).arrayValue ?? []
        try #require(verdicts.count == records.count)
        return verdicts.map(\.stringValue)
    }

    @Test func theCorpusHoldsOverAHundredDistinctMutations() {
        // specs/record-schema.md §8 promises "more than a hundred".
        #expect(Self.mutations.count > 100)
        #expect(Set(Self.mutations.map(\.name)).count == Self.mutations.count, "mutation names must be unique")
    }

    @Test func ourValidatorReportsExactlyTheExpectedIssueForEveryMutation() {
        for mutation in Self.mutations + Self.schemaGaps {
            #expect(found(mutation.record) == [mutation.expected], "\(mutation.name)")
        }
        for (name, record) in Self.validVariants {
            #expect(found(record) == [], "\(name)")
        }
    }

    @Test func jsonSchemaAgreesWithOurValidator() throws {
        guard Self.pythonHasJSONSchema else {
            return skipInterop(
                "JSON Schema cross-check skipped: python3 cannot import jsonschema (pip install jsonschema)")
        }
        let examples = try RecordType.allCases.map { try example($0) }
        let mutations = Self.mutations
        let gaps = Self.schemaGaps
        let variants = Self.validVariants
        let verdicts = try Self.jsonSchemaVerdicts(
            examples + mutations.map(\.record) + gaps.map(\.record) + variants.map(\.1))
        var rest = verdicts[...]
        for (type, verdict) in zip(RecordType.allCases, rest.prefix(examples.count)) {
            #expect(verdict == nil, "jsonschema rejects examples/records/\(type.rawValue).json: \(verdict ?? "")")
        }
        rest = rest.dropFirst(examples.count)
        for (mutation, verdict) in zip(mutations, rest.prefix(mutations.count)) {
            #expect(verdict != nil, "jsonschema accepts the invalid record: \(mutation.name)")
        }
        rest = rest.dropFirst(mutations.count)
        for (gap, verdict) in zip(gaps, rest.prefix(gaps.count)) {
            #expect(verdict == nil, "jsonschema now rejects \(gap.name): move it from schemaGaps to mutations")
        }
        rest = rest.dropFirst(gaps.count)
        for ((name, _), verdict) in zip(variants, rest) {
            #expect(verdict == nil, "jsonschema rejects the valid variant \(name): \(verdict ?? "")")
        }
    }
}
