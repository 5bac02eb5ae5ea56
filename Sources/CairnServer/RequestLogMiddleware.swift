import CairnLedger
import CairnStorage
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1

/// The outermost middleware: turns every error into the API's JSON error response, sets
/// `Cairn-Request-Id`, counts the request in the metrics and writes one log line for it
/// (method, path without the query string, status, duration, token id — never a token or any
/// record content).
struct RequestLogMiddleware: RouterMiddleware {
    typealias Context = CairnRequestContext

    let metrics: ServerMetrics
    let routes: RouteTableBox
    let logger: Logger

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let start = ContinuousClock.now
        var response: Response
        var failure: APIError?
        do {
            response = try await next(request, context)
        } catch {
            var apiError = APIError.from(error)
            if apiError.kind == .notFound, context.endpointPath == nil || context.endpointPath == "NotFound" {
                let allowed = routes.methods(matching: request.uri.path)
                if !allowed.isEmpty && !allowed.contains(request.method) {
                    apiError = APIError(
                        .methodNotAllowed, "\(request.method) is not allowed on \(request.uri.path)",
                        headers: [.allow: allowed.map(\.rawValue).sorted().joined(separator: ", ")])
                } else if allowed.isEmpty {
                    apiError = APIError(.notFound, "no route \(request.uri.path) (see specs/http-api.md)")
                }
            }
            if apiError.kind == .internalError {
                logger.error(
                    "internal error",
                    metadata: ["request_id": .string(context.requestID), "error": .string(String(describing: error))])
                apiError = APIError(
                    .internalError,
                    "internal error; the server log has the details under request id \(context.requestID)")
            }
            failure = apiError
            response = apiError.response()
        }
        response.headers[.cairnRequestID] = context.requestID
        // Browsers must take the declared type for what it is (blobs carry their uploader's).
        response.headers[.xContentTypeOptions] = "nosniff"
        let duration = start.duration(to: .now)
        let route = context.endpointPath.flatMap { $0 == "NotFound" ? nil : $0 } ?? "unmatched"
        let status = Int(response.status.code)
        metrics.recordRequest(route: route, method: request.method.rawValue, status: status, duration: duration)
        if let failure { metrics.recordError(failure.kind) }
        var metadata: Logger.Metadata = [
            "request_id": .string(context.requestID),
            "method": .string(request.method.rawValue),
            "path": .string(request.uri.path),
            "route": .string(route),
            "status": .stringConvertible(status),
            "duration_ms": .stringConvertible(Self.milliseconds(duration)),
            "token": .string(context.annotations.tokenID ?? "-"),
            "peer": .string(context.peerAddress ?? "-"),
        ]
        if let failure { metadata["error"] = .string(failure.kind.rawValue) }
        logger.log(level: status >= 500 ? .warning : .info, "request", metadata: metadata)
        return response
    }

    /// Milliseconds, rounded to microseconds.
    static func milliseconds(_ duration: Duration) -> Double {
        let ms = Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) * 1e-15
        return (ms * 1000).rounded() / 1000
    }
}

extension APIError {
    /// The API error for anything a route or middleware threw.
    static func from(_ error: any Error) -> APIError {
        switch error {
        case let error as APIError:
            return error
        case let error as LedgerError:
            return APIError(error)
        case is NIOTooManyBytesError:
            return APIError(.tooLarge, "the request body is over the server's limit")
        case let error as HTTPParserError:
            // A malformed chunked body, or a client that went away before sending all of it.
            return APIError(.badRequest, "the request is not valid HTTP/1.1: \(error.explanation)")
        case let error as HTTPError:
            return APIError(status: error.status, message: error.body ?? error.status.reasonPhrase)
        case let error as any HTTPResponseError:
            return APIError(status: error.status, message: error.status.reasonPhrase)
        case is IngestShutdownError:
            return APIError(.unavailable, "the server is shutting down; retry against its successor", retryAfter: 5)
        default:
            return APIError(.internalError, String(describing: error))
        }
    }

    init(status: HTTPResponse.Status, message: String) {
        let kind = Kind.allCases.first { $0.status == status } ?? .internalError
        self.init(kind, message)
    }
}

/// Answers 503 `timeout` when a request takes longer than `timeout`; the handler is cancelled
/// (an append not yet taken into a batch is withdrawn; one already committing completes, so
/// the client must retry, which is safe).
///
/// The handler runs in a child task (`async let`) registered with one `DeadlineWheel` shared by
/// all requests: a connection's own task serves its next request too, so it must never be the
/// one cancelled.
struct RequestTimeoutMiddleware: RouterMiddleware {
    typealias Context = CairnRequestContext

    let wheel: DeadlineWheel

    init(timeout: Duration) {
        wheel = DeadlineWheel(timeout: timeout)
    }

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        try await withoutActuallyEscaping(next) { next in
            // The child is awaited before this scope ends, and `next` runs once, in that child.
            let handler = UncheckedSendable(next)
            async let response = wheel.run { try await handler.value(request, context) }
            do {
                return try await response
            } catch is DeadlineWheel.Expired {
                throw APIError(
                    .timeout, "the request took longer than \(wheel.timeout); if it was a write, retry it",
                    retryAfter: 1)
            }
        }
    }
}

/// A value moved between tasks where the compiler cannot see that only one uses it at a time.
struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
