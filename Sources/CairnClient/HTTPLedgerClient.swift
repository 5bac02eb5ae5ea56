import CairnHTTP
import CairnJSON
import Foundation

/// What the server answered for one appended record: its leaf index, its content address and
/// whether the same canonical record was already in the log.
package struct AppendReceipt: Sendable, Hashable {
    package let index: UInt64
    /// `sha256:` + 64 lowercase hex digits.
    package let digest: String
    package let duplicate: Bool

    package init(index: UInt64, digest: String, duplicate: Bool) {
        self.index = index
        self.digest = digest
        self.duplicate = duplicate
    }

    /// `{"index":N,"digest":"sha256:…","duplicate":false}`, the line `cairn append` prints.
    package var json: JSONValue {
        .object(["index": .number(Double(index)), "digest": .string(digest), "duplicate": .bool(duplicate)])
    }
}

/// Appends records to a Cairn server over HTTP (`POST /v1/entries`, specs/http-api.md §3.1).
///
/// Thread-safe. One call is one HTTP request, sent once: retrying, batching and spooling are the
/// `Submitter`'s job. Every failure is a `ClientError` whose `kind` says whether a retry can help.
/// The transport is Cairn's one HTTP client (`CairnHTTPClient`, specs/spool.md §4): redirects are
/// never followed (a 3xx is a protocol error, so the token and the records never go to another
/// host), `timeout` bounds the whole request, and cancelling the calling task cancels it.
///
/// ```swift
/// let client = HTTPLedgerClient(server: try ServerAddress("http://127.0.0.1:8080"), token: token)
/// let receipts = try await client.append([Array(#"{"a":1}"#.utf8)])
/// ```
package final class HTTPLedgerClient: Sendable {
    package let server: ServerAddress
    private let token: String?
    private let http: CairnHTTPClient
    /// Seconds the whole request may take: connecting (at most `CairnHTTPClient`'s connect
    /// timeout of it), sending, and reading the answer.
    package let timeout: Double

    /// The largest answer accepted. A Cairn server's answer to 1,000 records is a few hundred
    /// KiB, even when every record has problems; anything far larger is not a Cairn server.
    package static let maxResponseBytes = 16 << 20

    /// - Parameters:
    ///   - token: sent as `Authorization: Bearer <token>`; `nil` sends no credentials.
    ///   - timeout: seconds the whole request may take (a value that is not positive and finite
    ///     counts as 30).
    ///   - http: the HTTP client; the process's shared one unless a test brings its own.
    package init(server: ServerAddress, token: String?, timeout: Double = 30, http: CairnHTTPClient = .shared) {
        self.server = server
        self.token = token
        self.timeout = timeout.isFinite && timeout > 0 ? min(timeout, 86_400) : 30
        self.http = http
    }

    /// Checks that a token is usable in an `Authorization` header: visible ASCII, no spaces.
    package static func validate(token: String) throws(ClientError) {
        guard !token.isEmpty, token.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7f }) else {
            throw ClientError(.invalidArgument, "the token must be non-empty visible ASCII without spaces")
        }
    }

    /// Appends `records` (each one JSON object, ideally canonical, without newlines) in one
    /// request: `application/json` for one record, `application/x-ndjson` for several. Returns
    /// one receipt per record, in order, once the server has made them durable.
    ///
    /// All or nothing: when this throws, the server appended none of them — or, for a
    /// `.transient` timeout or cancellation, possibly all of them; sending them again is safe
    /// either way. No records: no request, no receipts.
    package func append(_ records: [[UInt8]], strict: Bool = false) async throws(ClientError) -> [AppendReceipt] {
        guard let first = records.first else { return [] }
        var headers: [(name: String, value: String)] = [("Accept", "application/json")]
        var body: [UInt8] = []
        if records.count == 1 {
            headers.append(("Content-Type", "application/json"))
            body = first
        } else {
            headers.append(("Content-Type", "application/x-ndjson"))
            body.reserveCapacity(records.reduce(0) { $0 + $1.count + 1 })
            for record in records {
                body += record
                body.append(0x0a)
            }
        }
        if let token { headers.append(("Authorization", "Bearer " + token)) }
        let request = HTTPRequest(
            method: .post, url: try server.entriesURL(strict: strict), headers: headers, body: body)

        let response: HTTPResponse
        do {
            response = try await http.send(
                request, timeout: .milliseconds(Int64(timeout * 1000)), maxResponseBytes: Self.maxResponseBytes)
        } catch {
            throw Self.transportError(error, server: server)
        }
        if response.status == 200 {
            return try Self.receipts(from: response.body, count: records.count, server: server)
        }
        throw Self.error(
            status: response.status, body: response.body, retryAfter: response.header("Retry-After"), server: server)
    }

    // MARK: - Interpreting answers

    /// Maps a transport failure onto a `ClientError` (specs/spool.md §4): a server that cannot be
    /// reached or did not answer in time is `.transient` (the records are kept and sent again);
    /// a TLS failure or an oversized answer is a `.protocolViolation` (wrong URL or not a Cairn
    /// server: waiting does not help); an unusable URL or header is the caller's `.invalidArgument`.
    static func transportError(_ error: HTTPError, server: ServerAddress) -> ClientError {
        let kind: ClientError.Kind
        switch error.kind {
        case .cannotConnect, .timeout, .connectionLost, .invalidResponse, .cancelled: kind = .transient
        case .tls, .responseTooLarge: kind = .protocolViolation
        case .invalidURL, .invalidRequest: kind = .invalidArgument
        }
        return ClientError(kind, "\(server): \(error.message)")
    }

    /// Parses a 200 answer: one receipt per record, in order.
    static func receipts(from data: [UInt8], count: Int, server: ServerAddress) throws(ClientError) -> [AppendReceipt] {
        func bad(_ why: String) -> ClientError {
            ClientError(.protocolViolation, "\(server): unexpected answer to POST /v1/entries: \(why)", status: 200)
        }
        let value: JSONValue
        do {
            value = try JSONParser.parse(data)
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

    /// Maps an error status, its JSON body (specs/http-api.md §1.1) and its `Retry-After` header
    /// onto a `ClientError`.
    static func error(status: Int, body: [UInt8], retryAfter header: String?, server: ServerAddress) -> ClientError {
        let parsed = try? JSONParser.parse(body)
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
