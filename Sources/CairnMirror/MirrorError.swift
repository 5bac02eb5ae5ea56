/// Why a mirror round or a monitor's check could not complete.
///
/// A value type with a stable `code` (for programs and exit statuses) and a one-line `message` for people that
/// says what was wrong and, where there is one, what to do. Verification failures (`badSignature`, `tileMismatch`,
/// `inconsistent`, `rollback`) are findings about the log; the others are about getting there.
///
/// | code | meaning | `cairn mirror` exit status |
/// | --- | --- | --- |
/// | `badSignature` | the checkpoint is malformed or not signed by the log's key | 1 |
/// | `tileMismatch` | a tile or entry bundle does not match the signed checkpoint | 1 |
/// | `inconsistent` | the new checkpoint does not extend one the log signed before (a fork) | 1 |
/// | `rollback` | the log's checkpoint is smaller than one it signed before | 1 |
/// | `unreachable` | no answer: connection refused, timeout, TLS, a broken or oversized answer | 74 |
/// | `unavailable` | an answer, but not the resource: 404 for a tile the checkpoint implies, 5xx, a redirect | 74 |
/// | `unauthorized` | 401 or 403: the resource needs a token (with the `read` role for Cairn's entry bundles) | 77 |
/// | `storage` | the mirror directory cannot be read, written or locked | 74 |
/// | `invalidState` | the state file is not one this version writes | 74 |
/// | `otherLog` | the directory follows another log (another key or origin) | 73 |
/// | `usage` | the invocation cannot work: no key for a first run, an unusable URL | 64 |
package struct MirrorError: Error, Sendable, Equatable, CustomStringConvertible {
    package enum Code: String, Sendable, Equatable, CaseIterable {
        case badSignature = "bad_signature"
        case tileMismatch = "tile_mismatch"
        case inconsistent
        case rollback
        case unreachable
        case unavailable
        case unauthorized
        case storage
        case invalidState = "invalid_state"
        case otherLog = "other_log"
        case usage
    }

    package let code: Code
    package let message: String
    /// The evidence directory written for this failure (inconsistency, rollback), if any.
    package let evidence: String?

    package init(_ code: Code, _ message: String, evidence: String? = nil) {
        self.code = code
        self.message = message
        self.evidence = evidence
    }

    /// Whether the failure is a finding about the log (its signature, tiles or history), not a failure to reach or
    /// store it.
    package var isVerificationFailure: Bool {
        [.badSignature, .tileMismatch, .inconsistent, .rollback].contains(code)
    }

    /// This error with `evidence` attached, and the evidence's place named in the message.
    func with(evidence path: String) -> MirrorError {
        MirrorError(code, message + "; evidence saved in \(path)", evidence: path)
    }

    package var description: String { message }
}
