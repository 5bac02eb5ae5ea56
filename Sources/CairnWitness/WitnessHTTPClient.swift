import CairnHTTP

/// The log side's HTTP client for add-checkpoint requests, over Cairn's one HTTP client
/// (`CairnHTTPClient.shared`, whose pool keeps connections to a witness alive between requests).
/// Its rules are that client's: a redirect is returned as a response (the coordinator treats a
/// 3xx as a refusal, specs/witness.md §2.1), `timeout` bounds each request from connecting to the
/// last byte of the answer, cancelling the coordinator's task aborts the request in flight, and an
/// answer beyond `maxResponseBytes` is abandoned while it streams in.
package final class WitnessHTTPClient: Sendable {
    package struct Response: Sendable {
        package let status: Int
        package let contentType: String?
        package let body: [UInt8]
    }

    /// The largest response accepted: a few cosignature lines, or an error message.
    static let maxResponseBytes = 64 * 1024

    private let timeout: Duration
    private let http: CairnHTTPClient

    package init(timeout: Duration, http: CairnHTTPClient = .shared) {
        self.timeout = timeout
        self.http = http
    }

    /// `<prefix>/add-checkpoint` for a witness's submission prefix, if the prefix is an absolute
    /// http(s) URL (without user information, query or fragment).
    package static func addCheckpointURL(prefix: String) -> HTTPURL? {
        guard let base = try? HTTPURL(prefix), !base.isUnixSocket else { return nil }
        return base.appending(path: "/add-checkpoint")
    }

    /// POSTs `body` to `url`. Throws on transport failure, timeout, cancellation or an oversized answer.
    package func post(_ url: HTTPURL, body: [UInt8]) async throws(HTTPError) -> Response {
        let response = try await http.send(
            HTTPRequest(
                method: .post, url: url, headers: [("Content-Type", "text/plain; charset=utf-8")], body: body),
            timeout: timeout, maxResponseBytes: Self.maxResponseBytes)
        return Response(status: response.status, contentType: response.header("Content-Type"), body: response.body)
    }
}
