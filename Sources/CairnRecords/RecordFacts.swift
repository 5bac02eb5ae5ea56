import CairnCrypto
import CairnJSON

/// Everything the ledger needs to index and cross-check a record, extracted from a valid record.
///
/// Members that do not apply to the record's type are nil (or empty). Extract facts from the
/// *effective* record (`Corrections.effective`) to index what the ledger currently says.
///
/// ```swift
/// let facts = try RecordFacts(record)   // examples/records/checkpoint.json
/// facts.type            // .checkpoint
/// facts.commits         // ["9fceb02d0ae598e95dc970b74767f19372d61af8"]
/// facts.timestamp       // 1795166043120 (2026-11-20T09:14:03.120Z)
/// ```
public struct RecordFacts: Sendable, Hashable {
    /// The record's type.
    public let type: RecordType
    /// A checkpoint's `id`.
    public let id: String?
    /// What a review, test, deploy or rollback is about; a rewrite's or legal hold's `subject` when it has one.
    public let subject: SubjectReference?
    /// The entry a correction corrects.
    public let corrects: SHA256Digest?
    /// The blob an erasure erased.
    public let erasedBlob: SHA256Digest?
    /// Every blob reference anywhere in the record (payload fields, turns, extension fields,
    /// correction patches), deduplicated and sorted. An erasure's `blob` is in `erasedBlob`, not here.
    public let blobReferences: [SHA256Digest]
    /// Milliseconds since 1970-01-01T00:00:00Z: a checkpoint's or model call's `timestamp`, otherwise the
    /// record's `at` (nil for a test or correction without one).
    public let timestamp: Int64?
    /// A checkpoint's or model call's `model.id`.
    public let modelID: String?
    /// A checkpoint's or model call's `model.version`.
    public let modelVersion: String?
    /// A checkpoint's or model call's `model.release_date` (`YYYY-MM-DD`).
    public let modelReleaseDate: String?
    /// A checkpoint's `model.provider`; a model call's `provider`.
    public let provider: String?
    /// A checkpoint's `requested_by`.
    public let requestedBy: String?
    /// A checkpoint's `tool_path`: `ide`, `cli`, `ci`, `chat` or `agent`.
    public let toolPath: String?
    /// A checkpoint's `work_item`.
    public let workItem: String?
    /// A checkpoint's `session_id`.
    public let sessionID: String?
    /// A checkpoint's or model call's `request_id`: the provider's request id, which correlates the two.
    public let requestID: String?
    /// A checkpoint's `agent_role`.
    public let agentRole: String?
    /// A review's `reviewer`.
    public let reviewer: String?
    /// A review's `decision`: `approved`, `changes_requested` or `rejected`.
    public let decision: String?
    /// A test's `result`: `passed`, `failed` or `partial`.
    public let testResult: String?
    /// A deploy's or rollback's `environment`.
    public let environment: String?
    /// A correction's, erasure's, key rotation's or legal hold's `author`.
    public let author: String?
    /// A checkpoint's outputs, in order.
    public let outputs: [OutputFacts]
    /// Every commit id the record names, in document order without repeats: the outputs' commits, a
    /// deploy's `git_commit`, a rewrite's `old_commit` and `new_commit`.
    public let commits: [String]
    /// A rewrite's old and new commit ids.
    public let rewrite: RewriteFacts?
    /// A checkpoint's `cost`; a model call's `usage` tokens and `cost.usd`.
    public let cost: CostFacts?
    /// A legal hold's `hold` id.
    public let holdID: String?
    /// A legal hold's `action`: `place` or `release`.
    public let holdAction: String?
    /// A checkpoint's evidence grade, `x_capture.grade` (specs/capture.md), when it has one.
    public let evidenceGrade: String?

    /// Validates `record` (with `options`), then extracts its facts.
    ///
    /// - Throws: `RecordValidationError` when the record is not valid.
    public init(_ record: JSONValue, options: RecordValidator.Options = .init()) throws(RecordValidationError) {
        try RecordValidator.validate(view: record, options: options)
        self.init(storedView: record)
    }

    /// Validates the record a tape holds (with `options`), then extracts its facts: exactly what `init(_:options:)`
    /// gives for its value tree, without building one.
    ///
    /// - Throws: `RecordValidationError` when the record is not valid.
    public init(_ record: JSONTape.Value, options: RecordValidator.Options = .init()) throws(RecordValidationError) {
        self = try record.withBorrowed { (view) throws(RecordValidationError) in
            try RecordValidator.validate(view: view, options: options)
            return RecordFacts(storedView: view)
        }
    }

    /// Extracts the facts of a record a ledger stored, without validating it again: it was validated when it
    /// was appended (an effective record, when its correction was), and its bytes are covered by the log
    /// (`cairn fsck` recomputes every leaf), so a read need not pay for a second validation — nor refuse a
    /// record an older, more lenient validator accepted.
    ///
    /// Never traps, whatever `record` is: a member that is missing or of another kind gives no fact.
    public init(stored record: JSONValue) {
        self.init(storedView: record)
    }

    /// `init(stored:)` for the record a tape holds: the same facts, without a value tree.
    public init(stored record: JSONTape.Value) {
        self = record.withBorrowed { RecordFacts(storedView: $0) }
    }

    // Generic over where the record is held; the public initializers are concrete (see `RecordValidator`).
    init<V: JSONView>(storedView record: V) {
        // Every member is read through optionals: for a validated record they are all present and well formed.
        // (Members of anything but an object read as nil.)
        let object = record
        let type = RecordType(exactly: object["type"]?.stringValue ?? "") ?? .checkpoint
        func text(_ key: String) -> String? { object[key]?.stringValue }
        func digest(_ key: String) -> SHA256Digest? { text(key).flatMap { SHA256Digest(hex: $0.dropFirst(7)) } }
        let model = object["model"]

        self.type = type
        id = type == .checkpoint ? text("id") : nil
        subject =
            type.isLifecycle || type == .rewrite || type == .legalHold
            ? text("subject").flatMap { SubjectReference($0) } : nil
        corrects = type == .correction ? digest("corrects") : nil
        erasedBlob = type == .erasure ? digest("blob") : nil
        var blobs = Set<SHA256Digest>()
        BlobReference.collectDigests(view: record, into: &blobs)
        blobReferences = blobs.sorted()
        let isCheckpoint = type == .checkpoint
        let hasModel = isCheckpoint || type == .modelCall
        timestamp = text(hasModel ? "timestamp" : "at").flatMap { Timestamp.parse($0) }

        modelID = hasModel ? model?["id"]?.stringValue : nil
        modelVersion = hasModel ? model?["version"]?.stringValue : nil
        modelReleaseDate = hasModel ? model?["release_date"]?.stringValue : nil
        provider = isCheckpoint ? model?["provider"]?.stringValue : type == .modelCall ? text("provider") : nil
        requestedBy = isCheckpoint ? text("requested_by") : nil
        toolPath = isCheckpoint ? text("tool_path") : nil
        workItem = isCheckpoint ? text("work_item") : nil
        sessionID = isCheckpoint ? text("session_id") : nil
        requestID = hasModel ? text("request_id") : nil
        agentRole = isCheckpoint ? text("agent_role") : nil
        reviewer = type == .review ? text("reviewer") : nil
        decision = type == .review ? text("decision") : nil
        testResult = type == .test ? text("result") : nil
        environment = type == .deploy || type == .rollback ? text("environment") : nil
        author =
            switch type {
            case .correction, .erasure, .keyRotation, .seal, .predecessor, .legalHold: text("author")
            default: nil
            }

        var outputs: [OutputFacts] = []
        if isCheckpoint, let list = object["outputs"] {
            outputs.reserveCapacity(list.count)
            list.forEachElement { if let output = Self.output($0) { outputs.append(output) } }
        }
        self.outputs = outputs
        if type == .rewrite, let old = text("old_commit"), let new = text("new_commit"), let kind = text("kind") {
            rewrite = RewriteFacts(old: old, new: new, repo: text("repo"), kind: kind)
        } else {
            rewrite = nil
        }
        var commits: [String] = []
        func add(_ commit: String?) {
            if let commit, !commits.contains(where: { exactlyEqual($0, commit) }) { commits.append(commit) }
        }
        outputs.forEach { add($0.commit) }
        if type == .deploy { add(text("git_commit")) }
        add(rewrite?.old)
        add(rewrite?.new)
        self.commits = commits

        let cost = hasModel ? object["cost"] : nil
        let tokens = isCheckpoint ? cost : type == .modelCall ? object["usage"] : nil
        let costFacts = CostFacts(
            inputTokens: tokens?["input_tokens"]?.intValue.map(Int64.init),
            outputTokens: tokens?["output_tokens"]?.intValue.map(Int64.init),
            usd: cost?["usd"]?.numberValue)
        self.cost = costFacts.isEmpty ? nil : costFacts
        evidenceGrade = isCheckpoint ? object["x_capture"]?["grade"]?.stringValue : nil
        holdID = type == .legalHold ? text("hold") : nil
        holdAction = type == .legalHold ? text("action") : nil
    }

    private static func output<V: JSONView>(_ value: V) -> OutputFacts? {
        guard let repo = value["repo"]?.stringValue, let commit = value["commit"]?.stringValue,
            let path = value["path"]?.stringValue, let hash = value["content_hash"]?.stringValue,
            let contentHash = SHA256Digest(hex: hash.dropFirst(7)),
            let contributor = value["contributor"]?.stringValue
        else { return nil }
        var ranges: [LineRange] = []
        if let list = value["ranges"] {
            ranges.reserveCapacity(list.count)
            list.forEachElement { range in
                guard let start = range[0]?.intValue, let end = range[1]?.intValue,
                    let start32 = UInt32(exactly: start), let end32 = UInt32(exactly: end)
                else { return }
                if let range = LineRange(start: start32, end: end32) { ranges.append(range) }
            }
        }
        return OutputFacts(
            repo: repo, commit: commit, path: path, ranges: ranges, contentHash: contentHash, contributor: contributor)
    }
}

/// What a checkpoint or model call says it cost.
public struct CostFacts: Sendable, Hashable {
    public let inputTokens: Int64?
    public let outputTokens: Int64?
    /// US dollars.
    public let usd: Double?

    public init(inputTokens: Int64?, outputTokens: Int64?, usd: Double?) {
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.usd = usd
    }

    var isEmpty: Bool { inputTokens == nil && outputTokens == nil && usd == nil }
}
