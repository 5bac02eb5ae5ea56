import CairnJSON
import CairnLedger
import Hummingbird

/// One defect of a request's content: where it is and what is wrong (specs/http-api.md §1.1).
package struct APIProblem: Sendable, Hashable {
    /// A stable code: a JSON parser code, a schema code, a ledger reference code, or a parameter code.
    package var code: String
    package var message: String
    /// 1-based line of the request body.
    package var line: Int?
    /// 1-based column (Unicode scalars) of a JSON syntax error.
    package var column: Int?
    /// JSON path inside the record.
    package var path: String?
    /// The query or path parameter at fault.
    package var parameter: String?

    package init(
        code: String, message: String, line: Int? = nil, column: Int? = nil, path: String? = nil,
        parameter: String? = nil
    ) {
        self.code = code
        self.message = message
        self.line = line
        self.column = column
        self.path = path
        self.parameter = parameter
    }

    var json: JSONValue {
        var object: JSONObject = [:]
        if let line { object["line"] = .number(Double(line)) }
        if let column { object["column"] = .number(Double(column)) }
        if let path { object["path"] = .string(path) }
        if let parameter { object["parameter"] = .string(parameter) }
        object["code"] = .string(code)
        object["message"] = .string(message)
        return .object(object)
    }
}

/// An error the API reports to its client: a status, a stable `error` code, a message, and the
/// problems that explain it. Rendered as the JSON body of specs/http-api.md §1.1.
package struct APIError: Error, Sendable, HTTPResponseError, CustomStringConvertible {
    /// The stable `error` member.
    package enum Kind: String, Sendable, CaseIterable {
        case badRequest = "bad_request"
        case invalidJSON = "invalid_json"
        case emptyBody = "empty_body"
        case invalidParameter = "invalid_parameter"
        case unauthorized
        case forbidden
        case notFound = "not_found"
        case methodNotAllowed = "method_not_allowed"
        case gone
        case tooLarge = "too_large"
        case unsupportedMediaType = "unsupported_media_type"
        case invalidRecord = "invalid_record"
        case rejected
        case rateLimited = "rate_limited"
        case busy
        case unavailable
        case timeout
        case internalError = "internal"

        package var status: HTTPResponse.Status {
            switch self {
            case .badRequest, .invalidJSON, .emptyBody, .invalidParameter: .badRequest
            case .unauthorized: .unauthorized
            case .forbidden: .forbidden
            case .notFound: .notFound
            case .methodNotAllowed: .methodNotAllowed
            case .gone: .gone
            case .tooLarge: .contentTooLarge
            case .unsupportedMediaType: .unsupportedMediaType
            case .invalidRecord, .rejected: .unprocessableContent
            case .rateLimited: .tooManyRequests
            case .busy, .unavailable, .timeout: .serviceUnavailable
            case .internalError: .internalServerError
            }
        }
    }

    /// Problems listed in a body at most; the rest are counted in `omitted_problems`.
    package static let maxProblems = 100

    package let kind: Kind
    package let message: String
    package var problems: [APIProblem]
    /// Seconds, for 429 and 503 (also sent as `Retry-After`).
    package var retryAfter: Int?
    /// Extra headers (`WWW-Authenticate`, `Allow`).
    package var headers: HTTPFields
    /// Extra top-level members of the body (`erasure`).
    package var extra: JSONObject

    package init(
        _ kind: Kind, _ message: String, problems: [APIProblem] = [], retryAfter: Int? = nil,
        headers: HTTPFields = [:], extra: JSONObject = [:]
    ) {
        self.kind = kind
        self.message = message
        self.problems = problems
        self.retryAfter = retryAfter
        self.headers = headers
        self.extra = extra
    }

    package var status: HTTPResponse.Status { kind.status }

    package var description: String { "\(kind.rawValue): \(message)" }

    /// The JSON error body.
    package var body: JSONValue {
        var object = extra
        object["error"] = .string(kind.rawValue)
        object["message"] = .string(message)
        if !problems.isEmpty {
            object["problems"] = .array(problems.prefix(Self.maxProblems).map(\.json))
            if problems.count > Self.maxProblems {
                object["omitted_problems"] = .number(Double(problems.count - Self.maxProblems))
            }
        }
        if let retryAfter { object["retry_after"] = .number(Double(retryAfter)) }
        return .object(object)
    }

    package func response(from request: Request, context: some RequestContext) throws -> Response {
        response()
    }

    /// The response: the JSON body with `Content-Type`, `Retry-After` and the extra headers.
    package func response() -> Response {
        var response = Response.json(body, status: status)
        response.headers.append(contentsOf: headers)
        if let retryAfter { response.headers[.retryAfter] = String(retryAfter) }
        return response
    }

    // MARK: - Common errors

    static func parameter(_ name: String, _ message: String, code: String = "invalidValue") -> APIError {
        APIError(
            .invalidParameter, "\(name): \(message)",
            problems: [APIProblem(code: code, message: message, parameter: name)])
    }

    static func notFound(_ message: String) -> APIError { APIError(.notFound, message) }
}

extension APIError {
    /// Maps a ledger error onto the API's statuses.
    init(_ error: LedgerError) {
        switch error.code {
        case .entryNotFound: self.init(.notFound, error.message)
        case .sizeOutOfRange, .checkpointNotPublished: self.init(.invalidParameter, error.message)
        case .invalidArgument: self.init(.invalidParameter, error.message)
        case .blobErased: self.init(.gone, error.message)
        case .sealed: self.init(.gone, error.message)
        case .entryTooLarge: self.init(.tooLarge, error.message)
        case .readOnly, .signingKeyUnavailable:
            self.init(.unavailable, "the ledger cannot write: \(error.message)", retryAfter: 60)
        case .storage:
            // A storage failure is the server's, not the record's: the client keeps its records
            // and retries (the spool never dead-letters on a 503).
            self.init(.unavailable, "the ledger's storage failed: \(error.message)", retryAfter: 30)
        case .writerFailed:
            self.init(.unavailable, error.message, retryAfter: 60)
        case .notALedger, .alreadyExists, .unsupportedFormat, .invalidOrigin, .corrupt:
            self.init(.internalError, error.message)
        }
    }
}
