/// Why an HTTP exchange produced no response.
///
/// A value type with a stable `kind` (its `code` is the snake-case name) and a one-line `message`
/// for people. The message never names the URL: the caller knows which server it asked and
/// prefixes it (`http://ledger.example: connection refused`). An answer with any status, 3xx, 4xx
/// and 5xx included, is a response, not an error: the caller decides what a status means.
///
/// | kind | examples | has the server seen the request? |
/// | --- | --- | --- |
/// | `.invalidURL` | not http, https or `unix:`; no host; user information in the URL | no: nothing was sent |
/// | `.invalidRequest` | a header name or value with control characters | no |
/// | `.cannotConnect` | connection refused, host not found, no Unix socket at the path | no |
/// | `.timeout` | no connection within the connect timeout, no complete answer before the deadline | maybe |
/// | `.tls` | an untrusted or mismatched certificate, no common TLS version | no |
/// | `.cancelled` | the calling task was cancelled | maybe |
/// | `.responseTooLarge` | the answer's body exceeded the caller's limit | yes |
/// | `.connectionLost` | the connection closed or broke before the answer was complete | maybe |
/// | `.invalidResponse` | the answer is not valid HTTP | maybe |
package struct HTTPError: Error, Sendable, Hashable, CustomStringConvertible {
    package enum Kind: String, Sendable, Hashable, CaseIterable {
        case invalidURL = "invalid_url"
        case invalidRequest = "invalid_request"
        case cannotConnect = "cannot_connect"
        case timeout
        case tls
        case cancelled
        case responseTooLarge = "response_too_large"
        case connectionLost = "connection_lost"
        case invalidResponse = "invalid_response"
    }

    package let kind: Kind
    /// One line for people, without the URL.
    package let message: String

    package init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    /// The stable code: `cannot_connect`, `timeout`, `response_too_large`…
    package var code: String { kind.rawValue }

    package var description: String { message }
}
