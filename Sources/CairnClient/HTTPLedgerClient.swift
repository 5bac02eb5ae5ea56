import CairnJSON
import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// What the server answered for one appended record: its leaf index, its content address and
/// whether the same canonical record was already in the log.
public struct AppendReceipt: Sendable, Hashable {
    public let index: UInt64
    /// `sha256:` + 64 lowercase hex digits.
    public let digest: String
    public let duplicate: Bool

    public init(index: UInt64, digest: String, duplicate: Bool) {
        self.index = index
        self.digest = digest
        self.duplicate = duplicate
    }

    /// `{"index":N,"digest":"sha256:…","duplicate":false}`, the line `cairn append` prints.
    public var json: JSONValue {
        .object(["index": .number(Double(index)), "digest": .string(digest), "duplicate": .bool(duplicate)])
    }
}

/// Appends records to a Cairn server over HTTP (`POST /v1/entries`, specs/http-api.md §3.1).
///
/// Thread-safe. One call is one HTTP request, sent once: retrying, batching and spooling are the
/// `Submitter`'s job. Every failure is a `ClientError` whose `kind` says whether a retry can help.
///
/// ```swift
/// let client = HTTPLedgerClient(server: try ServerAddress("http://127.0.0.1:8080"), token: token)
/// let receipts = try await client.append([Array(#"{"a":1}"#.utf8)])
/// ```
public final class HTTPLedgerClient: @unchecked Sendable {
    public let server: ServerAddress
    private let token: String?
    private let session: URLSession
    /// Seconds to wait for a connection and for the answer to one request.
    public let timeout: Double

    /// - Parameters:
    ///   - token: sent as `Authorization: Bearer <token>`; `nil` sends no credentials.
    ///   - timeout: seconds to wait for a connection and for the whole response.
    public init(server: ServerAddress, token: String?, timeout: Double = 30) {
        self.server = server
        self.token = token
        self.timeout = timeout
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeout
        configuration.timeoutIntervalForResource = timeout
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        configuration.urlCache = nil
        configuration.httpCookieStorage = nil
        configuration.httpShouldSetCookies = false
        // 3xx is a protocol error (specs/spool.md §4): never follow it with the records and the token.
        session = URLSession(configuration: configuration, delegate: RefuseRedirects(), delegateQueue: nil)
    }

    deinit {
        session.finishTasksAndInvalidate()
    }

    /// Checks that a token is usable in an `Authorization` header: visible ASCII, no spaces.
    public static func validate(token: String) throws(ClientError) {
        guard !token.isEmpty, token.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7f }) else {
            throw ClientError(.invalidArgument, "the token must be non-empty visible ASCII without spaces")
        }
    }

    /// Appends `records` (each one JSON object, ideally canonical, without newlines) in one
    /// request: `application/json` for one record, `application/x-ndjson` for several. Returns
    /// one receipt per record, in order, once the server has made them durable.
    ///
    /// All or nothing: when this throws, the server appended none of them — or, for a
    /// `.transient` timeout, possibly all of them; sending them again is safe either way.
    public func append(_ records: [[UInt8]], strict: Bool = false) async throws(ClientError) -> [AppendReceipt] {
        precondition(!records.isEmpty, "append needs at least one record")
        var url = server.entriesURL
        if strict { url = URL(string: url.absoluteString + "?strict=true")! }
        var request = URLRequest(url: url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: timeout)
        request.httpMethod = "POST"
        var body: [UInt8] = []
        if records.count == 1 {
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            body = records[0]
        } else {
            request.setValue("application/x-ndjson", forHTTPHeaderField: "Content-Type")
            body.reserveCapacity(records.reduce(0) { $0 + $1.count + 1 })
            for record in records {
                body += record
                body.append(0x0a)
            }
        }
        request.setValue("application/json", forHTTPHeaderField: "Accept")
        request.setValue("cairn-client/1", forHTTPHeaderField: "User-Agent")
        if let token { request.setValue("Bearer " + token, forHTTPHeaderField: "Authorization") }
        request.httpBody = Data(body)

        let (data, response) = try await send(request)
        if response.statusCode == 200 {
            return try Self.receipts(from: data, count: records.count, server: server)
        }
        throw Self.error(status: response.statusCode, body: data, headers: response, server: server)
    }

    private func send(_ request: URLRequest) async throws(ClientError) -> (Data, HTTPURLResponse) {
        let result: Result<(Data, HTTPURLResponse), ClientError> = await withCheckedContinuation { continuation in
            let task = session.dataTask(with: request) { data, response, error in
                if let error {
                    continuation.resume(returning: .failure(Self.transportError(error, server: self.server)))
                } else if let http = response as? HTTPURLResponse {
                    continuation.resume(returning: .success((data ?? Data(), http)))
                } else {
                    continuation.resume(
                        returning: .failure(ClientError(.protocolViolation, "\(self.server): not an HTTP response")))
                }
            }
            task.resume()
        }
        return try result.get()
    }

    // MARK: - Interpreting answers

    /// Maps a URLSession failure onto a `ClientError`.
    static func transportError(_ error: any Error, server: ServerAddress) -> ClientError {
        guard let urlError = error as? URLError else {
            return ClientError(.transient, "\(server): \(error.localizedDescription)")
        }
        let reason: String
        var kind = ClientError.Kind.transient
        switch urlError.code {
        case .cannotConnectToHost: reason = "connection refused"
        case .timedOut: reason = "no answer within the timeout"
        case .cannotFindHost, .dnsLookupFailed: reason = "host not found"
        case .networkConnectionLost: reason = "connection lost"
        case .notConnectedToInternet: reason = "no network"
        case .badServerResponse: reason = "the connection closed without a valid HTTP response"
        case .secureConnectionFailed: reason = "TLS handshake failed"
        case .serverCertificateUntrusted, .serverCertificateHasBadDate, .serverCertificateNotYetValid,
            .serverCertificateHasUnknownRoot, .clientCertificateRejected, .clientCertificateRequired:
            kind = .protocolViolation
            reason = "TLS certificate problem (\(urlError.localizedDescription))"
        case .badURL, .unsupportedURL:
            kind = .invalidArgument
            reason = "unusable URL"
        case .userAuthenticationRequired:
            kind = .unauthorized
            reason = "authentication required"
        default:
            reason = "\(urlError.localizedDescription) (URLError \(urlError.code.rawValue))"
        }
        return ClientError(kind, "\(server): \(reason)")
    }

    /// Parses a 200 answer: one receipt per record, in order.
    static func receipts(from data: Data, count: Int, server: ServerAddress) throws(ClientError) -> [AppendReceipt] {
        func bad(_ why: String) -> ClientError {
            ClientError(.protocolViolation, "\(server): unexpected answer to POST /v1/entries: \(why)", status: 200)
        }
        let value: JSONValue
        do {
            value = try JSONParser.parse(Array(data))
        } catch {
            throw bad("not JSON (\(error))")
        }
        guard let items = value.arrayValue else { throw bad("expected a JSON array") }
        guard items.count == count else { throw bad("\(items.count) results for \(count) records") }
        var receipts: [AppendReceipt] = []
        receipts.reserveCapacity(count)
        for item in items {
            guard let number = item["index"]?.numberValue, number >= 0, number == number.rounded(),
                number < 9_007_199_254_740_992,
                let digest = item["digest"]?.stringValue, digest.hasPrefix("sha256:"),
                let duplicate = item["duplicate"]?.boolValue
            else { throw bad("malformed result \(JSONWriter.compact(item))") }
            receipts.append(AppendReceipt(index: UInt64(number), digest: digest, duplicate: duplicate))
        }
        return receipts
    }

    /// The error codes of specs/http-api.md §1.1 that refuse records rather than the request.
    static let recordErrorCodes: Set<String> = ["invalid_json", "too_large", "invalid_record", "rejected"]

    /// Maps an error status and its JSON body (specs/http-api.md §1.1) onto a `ClientError`.
    static func error(status: Int, body: Data, headers: HTTPURLResponse?, server: ServerAddress) -> ClientError {
        let parsed = try? JSONParser.parse(Array(body))
        let code = parsed?["error"]?.stringValue
        let serverMessage = parsed?["message"]?.stringValue
        var problems: [Problem] = []
        for item in parsed?["problems"]?.arrayValue ?? [] {
            problems.append(
                Problem(
                    code: item["code"]?.stringValue ?? "unknown",
                    message: item["message"]?.stringValue ?? JSONWriter.compact(item),
                    line: item["line"]?.intValue, column: item["column"]?.intValue,
                    path: item["path"]?.stringValue))
        }
        let header = headers?.value(forHTTPHeaderField: "Retry-After")
        let retryAfter = header.flatMap(parseRetryAfter) ?? parsed?["retry_after"]?.numberValue

        let kind: ClientError.Kind
        switch status {
        case 413: kind = .rejected
        // Only the API's record errors say the records are refused; any other 400/422 (a bad
        // parameter, a proxy's page) is about the request, and must not send records to the dead letters.
        case 400, 422: kind = code.map(Self.recordErrorCodes.contains) == true ? .rejected : .protocolViolation
        case 401, 403: kind = .unauthorized
        case 408, 429, 500...599: kind = .transient
        default: kind = .protocolViolation
        }
        var message = "\(server): HTTP \(status)"
        if let code { message += " \(code)" }
        if let serverMessage {
            message += ": \(serverMessage)"
        } else if parsed == nil, kind == .protocolViolation {
            message += " (not a Cairn API answer; is the URL right?)"
        }
        return ClientError(kind, message, status: status, code: code, problems: problems, retryAfter: retryAfter)
    }

    /// `Retry-After`: delta-seconds, or an HTTP-date (RFC 9110 §10.2.3); seconds from now.
    static func parseRetryAfter(_ text: String) -> Double? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let seconds = Double(trimmed), seconds.isFinite, seconds >= 0 { return seconds }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        guard let date = formatter.date(from: trimmed) else { return nil }
        return max(0, date.timeIntervalSinceNow)
    }
}

/// Hands every redirect back as the response instead of following it.
private final class RefuseRedirects: NSObject, URLSessionTaskDelegate, @unchecked Sendable {
    func urlSession(
        _ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
        newRequest request: URLRequest, completionHandler: @escaping (URLRequest?) -> Void
    ) {
        completionHandler(nil)
    }
}
