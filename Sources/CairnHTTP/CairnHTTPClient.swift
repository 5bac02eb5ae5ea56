import AsyncHTTPClient
import NIOCore
import NIOHTTP1

/// One HTTP request: method, URL, headers and an optional body, sent once.
package struct HTTPRequest: Sendable {
    package enum Method: String, Sendable, Hashable {
        case get = "GET"
        case post = "POST"
        case put = "PUT"
        case head = "HEAD"
        case delete = "DELETE"
    }

    package var method: Method
    package var url: HTTPURL
    /// Sent as given, in order. `User-Agent` is the client's (``CairnHTTPClient/userAgent``).
    package var headers: [(name: String, value: String)]
    package var body: [UInt8]?

    package init(
        method: Method, url: HTTPURL, headers: [(name: String, value: String)] = [], body: [UInt8]? = nil
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }
}

/// A complete answer: its status (any, 3xx included), headers and whole body.
package struct HTTPResponse: Sendable {
    package let status: Int
    /// In the order received.
    package let headers: [(name: String, value: String)]
    package let body: [UInt8]

    package init(status: Int, headers: [(name: String, value: String)], body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The first value of the header `name` (case-insensitive), if present.
    package func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }
}

/// Cairn's one outgoing HTTP client (AsyncHTTPClient), used by the client spool
/// (`cairn append --server`), the witness coordinator and whatever later fetches over HTTP. It
/// states the rules once:
///
/// - **No redirects.** A 3xx is returned as a response: a bearer token or a record body is never
///   sent to a host the caller did not name.
/// - **Timeouts.** A connect timeout (``Configuration/connectTimeout``, 10 s), and a deadline per
///   request (`timeout` of ``send(_:timeout:maxResponseBytes:)``) covering everything: connecting,
///   sending, and receiving the whole body. A failed connection attempt is not retried, so a
///   server that is down is reported at once.
/// - **Cancellation.** Cancelling the calling task aborts the request (the connection is closed)
///   and `send` throws `.cancelled` promptly.
/// - **A response size limit**, enforced while the body streams in: a larger answer is abandoned
///   as soon as it passes the limit (at once when its `Content-Length` says so), never buffered whole.
/// - `User-Agent: cairn/<version>`; `http://`, `https://` and Unix sockets (``HTTPURL``); TLS with
///   AsyncHTTPClient's defaults (certificates verified against the system's trust roots); no
///   proxy (environment variables such as `https_proxy` are not read); no cookies, no cache, no
///   automatic decompression.
///
/// **Lifetime.** One `HTTPClient` per process: ``shared``, on NIO's singleton event loop group, made
/// on first use and never shut down (like `HTTPClient.shared`; the process's exit ends it). Its idle
/// connections are closed after ``Configuration/idleTimeout``. An owner that needs another
/// configuration (tests, for example) makes its own with ``init(configuration:)`` and must call
/// ``shutdown()`` when done: AsyncHTTPClient stops a debug build whose client is released running.
///
/// ```swift
/// let url = try HTTPURL("http://127.0.0.1:8080").appending(path: "/v1/entries")
/// let response = try await CairnHTTPClient.shared.send(
///     HTTPRequest(method: .post, url: url, headers: [("Content-Type", "application/json")], body: body),
///     timeout: .seconds(30), maxResponseBytes: 1 << 20)
/// ```
package final class CairnHTTPClient: Sendable {
    package struct Configuration: Sendable, Hashable {
        /// How long establishing a connection (TCP, then TLS) may take. A request's own deadline
        /// still applies when it is shorter.
        package var connectTimeout: Duration = .seconds(10)
        /// How long an unused connection stays open for reuse. Shorter than servers' idle timeouts
        /// (Cairn's is 60 s), so that a request is not sent on a connection the server is closing.
        package var idleTimeout: Duration = .seconds(5)

        package init() {}
    }

    /// Cairn's version, as `cairn --version` prints it.
    package static let version = "0.1.0"
    /// `cairn/<version>`, sent with every request.
    package static let userAgent = "cairn/" + version

    /// The process-wide client (see the type's "Lifetime").
    package static let shared = CairnHTTPClient(configuration: Configuration(), shared: true)

    package let configuration: Configuration
    private let client: HTTPClient
    private let isShared: Bool

    /// A client of its own: call ``shutdown()`` once it is no longer needed.
    package convenience init(configuration: Configuration = Configuration()) {
        self.init(configuration: configuration, shared: false)
    }

    private init(configuration: Configuration, shared: Bool) {
        self.configuration = configuration
        self.isShared = shared
        var settings = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: TimeAmount(configuration.connectTimeout)),
            connectionPool: .init(idleTimeout: TimeAmount(configuration.idleTimeout)),
            proxy: nil,
            decompression: .disabled)
        // Report a refused connection now rather than retrying with backoff until the connect
        // timeout: the spool's answer to a server that is down is to keep the records, at once.
        settings.connectionPool.retryConnectionEstablishment = false
        client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: settings)
    }

    /// Closes this client's connections. Required for a client made with ``init(configuration:)``
    /// (once, after its last request); does nothing for ``shared``.
    package func shutdown() async throws {
        guard !isShared else { return }
        try await client.shutdown()
    }

    /// Sends `request` once and returns the complete answer, whatever its status.
    ///
    /// The exchange runs on NIO's event loops, which also keep its deadline and its size limit: the
    /// outcome is decided there, so a caller whose task resumes late (a busy cooperative pool)
    /// still gets the answer that arrived in time, not a timeout.
    ///
    /// - Parameters:
    ///   - timeout: the deadline for the whole exchange: connecting, sending, and receiving the body.
    ///   - maxResponseBytes: the largest body accepted (at most 4 GiB); a larger one throws
    ///     `.responseTooLarge`.
    /// - Throws: `HTTPError` (see its kinds); `.cancelled` when the calling task is cancelled.
    package func send(
        _ request: HTTPRequest, timeout: Duration, maxResponseBytes: Int
    ) async throws(HTTPError) -> HTTPResponse {
        let limit = min(max(0, maxResponseBytes), Int(exactly: UInt32.max) ?? Int(Int32.max))
        do {
            let prepared = try Self.prepare(request)
            // Refuses a Content-Length over the limit before reading, and otherwise stops (and
            // abandons the request) as soon as the body passes it.
            let accumulator = ResponseAccumulator(request: prepared, maxBodySize: limit)
            let task = client.execute(
                request: prepared, delegate: accumulator, deadline: NIODeadline.now() + TimeAmount(timeout))
            let response = try await withTaskCancellationHandler {
                try await task.futureResult.get()
            } onCancel: {
                task.cancel()
            }
            var body: [UInt8] = []
            if let buffer = response.body { body = Array(buffer.readableBytesView) }
            return HTTPResponse(
                status: Int(response.status.code), headers: response.headers.map { (name: $0.name, value: $0.value) },
                body: body)
        } catch {
            throw Self.classify(error, timeout: timeout, limit: limit, cancelled: Task.isCancelled)
        }
    }

    private static func prepare(_ request: HTTPRequest) throws -> HTTPClient.Request {
        guard let url = request.url.clientURL else {
            throw HTTPError(.invalidURL, "cannot make a request URL of \(request.url)")
        }
        var headers = HTTPHeaders()
        for (name, value) in request.headers where name.lowercased() != "user-agent" {
            headers.add(name: name, value: value)
        }
        headers.replaceOrAdd(name: "User-Agent", value: userAgent)
        return try HTTPClient.Request(
            url: url, method: HTTPMethod(rawValue: request.method.rawValue), headers: headers,
            body: request.body.map { .bytes($0) })
    }

    /// Maps whatever AsyncHTTPClient, NIO or NIOSSL threw onto an `HTTPError`.
    static func classify(_ error: any Error, timeout: Duration, limit: Int, cancelled: Bool) -> HTTPError {
        if cancelled { return HTTPError(.cancelled, "the request was cancelled") }
        if error is ResponseAccumulator.ResponseTooBigError || error is NIOTooManyBytesError {
            return HTTPError(.responseTooLarge, "the answer is larger than \(limit) bytes, the most accepted")
        }
        return ErrorClassification.classify(error, timeout: timeout)
    }

    /// `30 s`, `1.5 s`, `250 ms`.
    static func seconds(_ duration: Duration) -> String {
        let (whole, fraction) = duration.components
        if whole == 0 { return "\(fraction / 1_000_000_000_000_000) ms" }
        if fraction == 0 { return "\(whole) s" }
        let value = Double(whole) + Double(fraction) / 1e18
        return "\((value * 1000).rounded() / 1000) s"
    }
}
