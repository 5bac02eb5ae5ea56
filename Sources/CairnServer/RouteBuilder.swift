import CairnJSON
import CairnLedger
import Hummingbird
import Logging
import NIOCore

/// Registers API routes on a router, each behind the `RequireRole` its access rule asks for,
/// and keeps the `RouteTable`.
final class RouteBuilder {
    typealias Context = CairnRequestContext
    typealias Handler = @Sendable (Request, Context) async throws -> Response

    let router: Router<Context>
    private(set) var table = RouteTable()

    init(router: Router<Context>) {
        self.router = router
    }

    func on(_ method: HTTPRequest.Method, _ path: String, access: RouteAccess, handler: @escaping Handler) {
        table.add(method, path, access: access)
        router.group().add(middleware: RequireRole(access: access)).on(RouterPath(path), method: method) {
            request, context in try await handler(request, context)
        }
    }

    func get(_ path: String, access: RouteAccess, handler: @escaping Handler) {
        on(.get, path, access: access, handler: handler)
    }

    func post(_ path: String, access: RouteAccess, handler: @escaping Handler) {
        on(.post, path, access: access, handler: handler)
    }

    /// Records a route registered by someone else's code (the tiles).
    func noteExternal(_ method: HTTPRequest.Method, _ path: String, access: RouteAccess) {
        table.add(method, path, access: access)
    }
}

/// What the routes share: the ledger, its engine, the access log, metrics and settings.
struct ServerServices: Sendable {
    let ledger: Ledger
    let engine: IngestEngine
    let accessLog: AccessLog
    let tokens: TokenStore
    let metrics: ServerMetrics
    let configuration: ServerConfiguration
    let logger: Logger
    /// Bounds the expensive reads running at once (`maxConcurrentExpensiveReads`).
    let expensiveReads: ReadGate

    init(
        ledger: Ledger, engine: IngestEngine, accessLog: AccessLog, tokens: TokenStore, metrics: ServerMetrics,
        configuration: ServerConfiguration, logger: Logger
    ) {
        self.ledger = ledger
        self.engine = engine
        self.accessLog = accessLog
        self.tokens = tokens
        self.metrics = metrics
        self.configuration = configuration
        self.logger = logger
        self.expensiveReads = ReadGate(limit: configuration.maxConcurrentExpensiveReads)
    }

    /// Runs an expensive read (a query, an access-log search) behind the gate.
    func expensiveRead<R: Sendable>(_ body: () async throws -> R) async throws -> R {
        try await expensiveReads.run(body)
    }

    /// Access rule of routes that need `role` and are never public.
    static func private_(_ role: TokenRole) -> RouteAccess { .role(role, allowAnonymous: false) }

    /// Access rule of the transparency reads: `read`, or anyone with `public_reads`.
    var publicRead: RouteAccess { .role(.read, allowAnonymous: configuration.publicReads) }

    /// Runs a read of record contents or blob bytes and records it in the access log before its
    /// response — success or error — is returned. If the access log cannot record it, the read
    /// fails with 503 and none of its content is sent (fail closed).
    func recordedRead(
        _ request: Request, _ context: Context, target: JSONValue, _ read: () async throws -> Response
    ) async throws -> Response {
        let outcome: Result<Response, any Error>
        do {
            outcome = .success(try await read())
        } catch {
            outcome = .failure(error)
        }
        guard let token = context.token else {
            // Content routes never admit anonymous requests; refuse rather than serve unrecorded.
            throw APIError(.unauthorized, "reads of record contents need a token")
        }
        let status: Int =
            switch outcome {
            case .success(let response): Int(response.status.code)
            case .failure(let error): Int(APIError.from(error).status.code)
            }
        let forwardedFor =
            context.peerAddress.map { configuration.trustedProxies.contains($0) } ?? false
            ? request.headers[.xForwardedFor] : nil
        let access = AccessRecord(
            at: Clock.now(), requestID: context.requestID, token: token, peer: context.peerAddress,
            forwardedFor: forwardedFor, method: request.method.rawValue,
            route: context.endpointPath ?? request.uri.path,
            target: target, status: status)
        do {
            try await accessLog.record(access)
        } catch let error as CancellationError {
            throw error
        } catch {
            logger.error(
                "access log failure: read refused",
                metadata: ["request_id": .string(context.requestID), "error": .string(String(describing: error))])
            throw APIError(
                .unavailable, "the access log could not record this read, so it is refused; retry later",
                retryAfter: 5)
        }
        return try outcome.get()
    }

    typealias Context = CairnRequestContext
}

extension Request {
    /// The body of an ndjson request, refusing more than `limit` bytes and more than `maxLines`
    /// lines, both checked while the body streams in: a request of millions of tiny records is
    /// refused after its first `maxLines` lines, before anything of it is parsed.
    func collectLines(limit: Int, maxLines: Int, what: String) async throws -> [UInt8] {
        if let length = headers[.contentLength].flatMap(Int.init), length > limit {
            throw APIError(.tooLarge, "\(what) of \(length) bytes is over the server's limit of \(limit) bytes")
        }
        var bytes: [UInt8] = []
        var lines = 0
        for try await buffer in body {
            guard bytes.count + buffer.readableBytes <= limit else {
                throw APIError(.tooLarge, "\(what) is over the server's limit of \(limit) bytes")
            }
            buffer.withUnsafeReadableBytes { raw in
                for byte in raw where byte == UInt8(ascii: "\n") { lines += 1 }
                bytes.append(contentsOf: raw)
            }
            guard lines <= maxLines else {
                throw APIError(
                    .tooLarge,
                    "\(what) has more than \(maxLines) lines: one request holds at most \(maxLines) records "
                        + "(limits.max_records_per_request); split it")
            }
        }
        return bytes
    }

    /// The body, refusing more than `limit` bytes (by `Content-Length` before reading anything).
    func collectBody(limit: Int, what: String) async throws -> [UInt8] {
        if let length = headers[.contentLength].flatMap(Int.init), length > limit {
            throw APIError(.tooLarge, "\(what) of \(length) bytes is over the server's limit of \(limit) bytes")
        }
        do {
            let buffer = try await body.collect(upTo: limit)
            return Array(buffer.readableBytesView)
        } catch is NIOTooManyBytesError {
            throw APIError(.tooLarge, "\(what) is over the server's limit of \(limit) bytes")
        }
    }

    /// The query string, parsed against the parameters a route takes.
    func parameters(_ allowed: Set<String>) throws(APIError) -> QueryParameters {
        try QueryParameters(uri.query, allowed: allowed)
    }

    /// Whether the client prefers the exact entry bytes (`Accept: application/octet-stream`).
    var prefersOctetStream: Bool {
        guard let accept = headers[.accept] else { return false }
        var best: (type: String, q: Double)?
        for item in accept.split(separator: ",") {
            let parts = item.split(separator: ";").map { $0.trimmingSpaces }
            guard let type = parts.first?.lowercased() else { continue }
            var q = 1.0
            for parameter in parts.dropFirst() where parameter.hasPrefix("q=") {
                q = Double(parameter.dropFirst(2)) ?? 0
            }
            let normalized =
                type == MediaTypes.json || type == "*/*" || type == "application/*" ? MediaTypes.json : type
            guard normalized == MediaTypes.json || normalized == MediaTypes.octetStream, q > 0 else { continue }
            if best == nil || q > best!.q || (q == best!.q && normalized == MediaTypes.json) {
                best = (normalized, q)
            }
        }
        return best?.type == MediaTypes.octetStream
    }
}

extension CairnRequestContext {
    /// A path parameter, percent-decoded.
    func pathParameter(_ name: String) throws(APIError) -> String {
        guard let raw = parameters.get(name), let value = QueryParameters.decodePathSegment(raw[...]) else {
            throw APIError.parameter(name, "malformed path segment")
        }
        return value
    }

    /// A path parameter that names an entry.
    func entryReference(_ name: String) throws(APIError) -> EntryReference {
        let text = try pathParameter(name)
        guard let reference = EntryReference(text) else {
            throw APIError.parameter(
                name,
                "expected a leaf index (no leading zeros) or sha256:<64 lower-case hex digits>, got \(text.debugDescription)"
            )
        }
        return reference
    }
}
