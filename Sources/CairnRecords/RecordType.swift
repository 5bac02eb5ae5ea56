/// The kinds of ledger entry defined by schema 1 (see `specs/record-schema.md`).
///
/// The raw value is the record's `"type"` member, exactly as written in JSON.
public enum RecordType: String, Sendable, CaseIterable {
    /// One AI-assisted change: who asked, with what prompt, which model, and which lines it produced.
    case checkpoint
    /// A person's review decision on a checkpoint.
    case review
    /// Test results for a checkpoint.
    case test
    /// A deployment of a checkpoint's commit to an environment.
    case deploy
    /// A rollback of a checkpoint's deployment.
    case rollback
    /// A history rewrite (rebase, squash, …) mapping an old commit id to a new one.
    case rewrite
    /// An RFC 7396 merge patch that corrects an earlier entry; the original stays in the log.
    case correction
    /// A note that a payload blob was erased; the referencing entries and their proofs stay valid.
    case erasure
    /// One call to a model provider's API as the provider logged it (model-side evidence), correlated with
    /// checkpoints by `request_id`.
    case modelCall = "model-call"
    /// The log's signing key was replaced: names the old and the new verifier key (vkey), with the old key's
    /// endorsement of the new one. Appended only by `cairn key rotate`, under a checkpoint signed by both keys
    /// (specs/key-rotation.md); the ledger refuses one sent any other way.
    case keyRotation = "key-rotation"
    /// The log was sealed: its final entry. Appended only by `cairn seal` (specs/sealing.md); the log refuses every
    /// append after it and stays readable and provable.
    case seal
    /// The first entry of a successor log: commits to its sealed predecessor's final checkpoint. Appended only by
    /// `cairn init --successor-of` (specs/sealing.md), as entry 0.
    case predecessor
    /// A legal hold placed or released (`action`): while placed, retention (`cairn retention apply`) erases no blob
    /// that a record in the hold's scope references (specs/retention.md).
    case legalHold = "legal-hold"

    /// The schema version this module validates: the only accepted value of `"schema"`.
    public static let schemaVersion = 1

    /// The record types that point at a checkpoint through a required `"subject"`.
    public var isLifecycle: Bool {
        switch self {
        case .review, .test, .deploy, .rollback: return true
        case .checkpoint, .rewrite, .correction, .erasure, .modelCall, .keyRotation, .seal, .predecessor, .legalHold:
            return false
        }
    }

    /// The type whose raw value equals `text` exactly (byte for byte, no Unicode normalization).
    init?(exactly text: String) {
        guard let match = Self.allCases.first(where: { exactlyEqual($0.rawValue, text) }) else { return nil }
        self = match
    }
}
