/// An error from an audit or a report, with a stable code and a one-line message a user can act on.
public struct AuditError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong, for callers that map errors to exit statuses.
    public enum Code: String, Sendable, Equatable, CaseIterable {
        /// The `git` program could not be run (not installed, or not on `PATH`).
        case gitUnavailable
        /// The directory does not exist or is not inside a git work tree or repository.
        case notARepository
        /// Git refused the revision range (an unknown commit or branch, a malformed range).
        case invalidRange
        /// Git failed for another reason (its message is included).
        case gitFailed
        /// The audit policy file is not valid (its path and the problem are in the message).
        case invalidPolicy
        /// A caller-supplied value is unusable (an empty time window, an unknown format…).
        case invalidArgument
        /// Reading or writing a file failed.
        case io
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
