// Schema 1, as tables: one `Shape` per record type. `specs/record-schema.md` describes the same
// fields for people and `specs/record-schema.json` for JSON Schema validators; the tests keep the
// three in step.

enum RecordSchemas {
    /// The shape of a record of `type`.
    static func shape(of type: RecordType) -> Shape {
        switch type {
        case .checkpoint: return checkpoint
        case .review: return review
        case .test: return test
        case .deploy: return deploy
        case .rollback: return rollback
        case .rewrite: return rewrite
        case .correction: return correction
        case .erasure: return erasure
        case .modelCall: return modelCall
        case .keyRotation: return keyRotation
        case .seal: return seal
        case .predecessor: return predecessor
        case .legalHold: return legalHold
        }
    }

    /// The members every record has; the whole shape of a record whose `type` is unknown.
    static let common = Shape([
        .required("type", .recordType),
        .required("schema", .schemaVersion),
    ])

    // MARK: - Building blocks

    /// 2^53 − 1: the largest integer every JSON implementation holds exactly (RFC 7493 §2.2).
    static let maxInteger: Double = 9_007_199_254_740_991
    static let count = Rule.integer(min: 0, max: maxInteger)
    static let lineNumber = Rule.integer(min: 1, max: 4_294_967_295)
    static let nonEmpty = Rule.text(.nonEmpty)
    /// Identifiers and people: no C0 control character, no DEL (`controlCharacter`).
    static let identifier = Rule.text(.identifier)
    static let nonBlank = Rule.text(.nonBlank)
    static let timestamp = Rule.text(.timestamp)
    static let digest = Rule.text(.digest)
    static let commit = Rule.text(.commit)
    static let subject = Rule.text(.subject)
    static let strings = Rule.array(nonEmpty, nonEmpty: false)

    /// `{"blob": "sha256:…", "size": n, "media_type": "type/subtype"}`, nothing more.
    static let blobReference = Shape(
        [
            .required("blob", digest),
            .required("size", count),
            .required("media_type", .text(.mediaType)),
        ], isClosed: true)

    /// Members a correction patch may not name, with the message reported when it does.
    static let immutableMembers: [(name: String, reason: String)] = [
        ("type", "a correction cannot change the kind of record (\"type\"); append a new record instead"),
        ("schema", "a correction cannot change \"schema\""),
        ("corrects", "a correction cannot change which entry a correction corrects (\"corrects\")"),
    ]

    /// A record type's shape: `type`, `schema`, then its own fields.
    private static func record(_ fields: [Field], atLeastOneOf: [[String]] = []) -> Shape {
        Shape(common.fields + fields, atLeastOneOf: atLeastOneOf)
    }

    // MARK: - checkpoint

    static let checkpoint = record([
        .required("id", .text(.checkpointID)),
        .required("timestamp", timestamp),
        .required("requested_by", identifier),
        .required("tool_path", .oneOf("ide", "cli", "ci", "chat", "agent")),
        .required("model", .object(model)),
        .required("prompt", .orBlob(nonEmpty)),
        .required("outputs", .array(.object(output), nonEmpty: true)),
        .optional("session_id", identifier),
        .optional("request_id", identifier),
        .optional("work_item", identifier),
        .optional("agent_role", identifier),
        .optional("turns", .orBlob(.array(.object(turn), nonEmpty: false))),
        .optional("raw_output", .orBlob(.text(.any))),
        .optional("constraints", strings),
        .optional("alternatives", .array(.object(alternative), nonEmpty: false)),
        .optional("reasoning", .array(.object(reasoningStep), nonEmpty: false)),
        .optional("cost", .object(cost)),
        .optional("context", .object(context)),
        .optional("risk", .object(risk)),
    ])

    static let model = Shape(
        [
            .required("id", identifier),
            .optional("version", identifier),
            .optional("release_date", .text(.date)),
            .required("provider", identifier),
        ], atLeastOneOf: [["version", "release_date"]])

    static let output = Shape([
        .required("repo", identifier),
        .required("commit", commit),
        .required("path", .text(.repositoryPath)),
        .required("ranges", .array(.lineRange, nonEmpty: true)),
        .required("content_hash", digest),
        .required("contributor", .oneOf("ai", "human", "mixed")),
    ])

    static let turn = Shape([
        .required("role", identifier),
        .optional("content", .orBlob(.text(.any))),
        .optional("at", timestamp),
    ])

    static let alternative = Shape([
        .required("approach", nonEmpty),
        .required("rejected_because", nonEmpty),
    ])

    static let reasoningStep = Shape([
        .required("step", lineNumber),
        .required("action", nonEmpty),
        .required("reasoning", nonEmpty),
    ])

    static let cost = Shape(
        [
            .optional("input_tokens", count),
            .optional("output_tokens", count),
            .optional("usd", .number(min: 0, max: .infinity)),
        ], atLeastOneOf: [["input_tokens", "output_tokens", "usd"]])

    static let context = Shape(
        [
            .optional("files", strings),
            .optional("urls", strings),
            .optional("dlp_scan", .object(dlpScan)),
        ], atLeastOneOf: [["files", "urls", "dlp_scan"]])

    static let dlpScan = Shape([
        .required("result", .oneOf("clean", "redacted", "blocked")),
        .required("tool", identifier),
        .optional("at", timestamp),
    ])

    static let risk = Shape(
        [
            .optional("security", riskLevel),
            .optional("operational", riskLevel),
            .optional("compliance", riskLevel),
        ], atLeastOneOf: [["security", "operational", "compliance"]])

    static let riskLevel = Rule.oneOf("low", "medium", "high", "critical")

    // MARK: - Lifecycle records

    static let review = record([
        .required("subject", subject),
        .required("reviewer", identifier),
        .required("decision", .oneOf("approved", "changes_requested", "rejected")),
        .required("at", timestamp),
        .optional("feedback", strings),
    ])

    static let test = record([
        .required("subject", subject),
        .required("result", .oneOf("passed", "failed", "partial")),
        .optional("unit", .object(testCounts)),
        .optional("integration", .object(testCounts)),
        .optional("coverage", .number(min: 0, max: 1)),
        .optional("edge_cases", strings),
        .optional("at", timestamp),
    ])

    static let testCounts = Shape([
        .required("passed", count),
        .required("failed", count),
        .required("skipped", count),
    ])

    static let deploy = record([
        .required("subject", subject),
        .required("git_commit", commit),
        .required("branch", identifier),
        .required("environment", identifier),
        .required("at", timestamp),
    ])

    static let rollback = record([
        .required("subject", subject),
        .required("at", timestamp),
        .required("environment", identifier),
        .required("reason", nonBlank),
    ])

    static let rewrite = record([
        .required("old_commit", commit),
        .required("new_commit", commit),
        .required("kind", .oneOf("rebase", "squash", "amend", "cherry_pick", "other")),
        .required("at", timestamp),
        .optional("repo", identifier),
        .optional("subject", subject),
    ])

    // MARK: - Corrections and erasures

    static let correction = record([
        .required("corrects", digest),
        .required("author", identifier),
        .required("reason", nonBlank),
        .required("patch", .patch),
        .optional("at", timestamp),
    ])

    static let erasure = record([
        .required("blob", digest),
        .required("reason", nonBlank),
        .required("at", timestamp),
        .required("author", identifier),
    ])

    // MARK: - Model-side evidence

    static let modelCall = record([
        .required("request_id", identifier),
        .required("provider", identifier),
        .required("timestamp", timestamp),
        .required("model", .object(servedModel)),
        .optional("response_id", identifier),
        .optional("status", .integer(min: 100, max: 599)),
        .optional("usage", .object(usage)),
        .optional("cost", .object(cost)),
        .optional("prompt", .orBlob(nonEmpty)),
        .optional("output", .orBlob(.text(.any))),
        .optional("source", .object(logSource)),
    ])

    /// The model a provider's log says served a call: its exact id; a version or release date only when the
    /// log gives one (a provider's log rarely does, and the importer does not invent them).
    static let servedModel = Shape([
        .required("id", identifier),
        .optional("version", identifier),
        .optional("release_date", .text(.date)),
    ])

    static let usage = Shape(
        [
            .optional("input_tokens", count),
            .optional("output_tokens", count),
        ], atLeastOneOf: [["input_tokens", "output_tokens"]])

    /// Which log line a model call was read from: the log's format, a name for the log, the line's SHA-256.
    static let logSource = Shape([
        .required("format", identifier),
        .optional("log", identifier),
        .optional("line_hash", digest),
    ])

    // MARK: - The log's own records

    /// A rotation of the log's signing key (specs/key-rotation.md). Whether `new_vkey` has `old_vkey`'s name, and
    /// whether the endorsement verifies, is checked by the ledger and by verifiers of the key history.
    static let keyRotation = record([
        .required("old_vkey", .text(.verifierKey)),
        .required("new_vkey", .text(.verifierKey)),
        .required("endorsement", .text(.ed25519Signature)),
        .required("at", timestamp),
        .required("author", identifier),
        .required("reason", nonBlank),
        .optional("revoked_from_size", count),
    ])
    /// The log's final entry (specs/sealing.md): the log that `origin` names refuses every append after it.
    static let seal = record([
        .required("origin", identifier),
        .required("at", timestamp),
        .required("author", identifier),
        .required("reason", nonBlank),
    ])

    /// A successor log's first entry (specs/sealing.md): its sealed predecessor's final checkpoint, the seal entry
    /// that checkpoint ends with, and that entry's inclusion proof. Whether the checkpoint verifies with `vkey` and
    /// the proof with the checkpoint is checked by the ledger and by verifiers of the link, not by the schema.
    static let predecessor = record([
        .required("origin", identifier),
        .required("vkey", .text(.verifierKey)),
        .required("checkpoint", nonEmpty),
        .required("seal_entry", nonEmpty),
        .required("seal_proof", .array(nonEmpty, nonEmpty: false)),
        .required("at", timestamp),
        .required("author", identifier),
    ])

    // MARK: - Retention

    /// A legal hold placed on, or released from, a scope (specs/retention.md). A placed hold names at least one
    /// of `subject`, `repository`, `from` and `until`; a release names only the hold (`Checker.checkLegalHold`).
    static let legalHold = record([
        .required("hold", identifier),
        .required("action", .oneOf("place", "release")),
        .required("reason", nonBlank),
        .required("at", timestamp),
        .required("author", identifier),
        .optional("subject", subject),
        .optional("repository", identifier),
        .optional("from", timestamp),
        .optional("until", timestamp),
    ])

    /// The members of a legal hold that say what it holds.
    static let legalHoldScope = ["subject", "repository", "from", "until"]
}
