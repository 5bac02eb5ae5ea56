/// Why a request to a Cairn server did not append records.
///
/// A value type with a stable `kind` to switch on and a one-line `message` for people (like
/// swift-crypto's errors). The kind says what a caller should do next:
///
/// | kind | examples | what to do |
/// | --- | --- | --- |
/// | `.transient` | connection refused, timeout, cancelled, 429, 5xx | keep the records (spool), send them later |
/// | `.rejected` | 400, 413, 422 | never resend these records as they are; `problems` say which and why |
/// | `.unauthorized` | 401, 403 | stop: fix the token, then send again |
/// | `.protocolViolation` | 404, 415, 3xx, TLS failure, a huge or malformed answer | stop: wrong URL, or not Cairn |
/// | `.invalidArgument` | a malformed URL or token | fix the invocation |
package struct ClientError: Error, Sendable, Equatable, CustomStringConvertible {
    package enum Kind: String, Sendable, Equatable {
        /// The server could not be reached or could not take the records now; nothing was
        /// appended, or the outcome is unknown (a timeout): sending the same records again is safe.
        case transient
        /// The server refused the records themselves (syntax, size, schema, references); nothing
        /// of the request was appended. Resending them unchanged cannot succeed.
        case rejected
        /// The server refused the credentials (401) or their role (403).
        case unauthorized
        /// The server answered something the Cairn HTTP API does not (wrong URL, proxy page…).
        case protocolViolation
        /// The caller's input (URL, token) is unusable; nothing was sent.
        case invalidArgument
    }

    package let kind: Kind
    /// One line for people.
    package let message: String
    /// The HTTP status, when the server answered.
    package let status: Int?
    /// The server's stable error code (`"busy"`, `"invalid_record"`…), when it sent one.
    package let code: String?
    /// The defects the server located in the request, in input order.
    package let problems: [Problem]
    /// Seconds the server asked to wait before retrying (`Retry-After`), for 429 and 503.
    package let retryAfter: Double?

    package init(
        _ kind: Kind, _ message: String, status: Int? = nil, code: String? = nil, problems: [Problem] = [],
        retryAfter: Double? = nil
    ) {
        self.kind = kind
        self.message = message
        self.status = status
        self.code = code
        self.problems = problems
        self.retryAfter = retryAfter
    }

    /// Whether sending the same records again later may succeed.
    package var isTransient: Bool { kind == .transient }

    package var description: String { message }
}

/// One defect the server found in a request (specs/http-api.md §1.1).
package struct Problem: Sendable, Hashable, CustomStringConvertible {
    /// A stable code: a JSON parser code, `tooLarge`, a schema or reference check code.
    package let code: String
    /// One line for people.
    package let message: String
    /// The 1-based line of the request body.
    package let line: Int?
    /// The 1-based column of a JSON syntax defect.
    package let column: Int?
    /// The JSON path inside the record (`$.outputs[0].commit`).
    package let path: String?

    package init(code: String, message: String, line: Int? = nil, column: Int? = nil, path: String? = nil) {
        self.code = code
        self.message = message
        self.line = line
        self.column = column
        self.path = path
    }

    /// `$.path: message`, or the message alone.
    package var description: String { path.map { "\($0): \(message)" } ?? message }
}
