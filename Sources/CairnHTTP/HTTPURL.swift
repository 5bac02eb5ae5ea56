import AsyncHTTPClient
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Where a request goes: an `http://` or `https://` URL, or a Unix socket (`unix:/run/cairn.sock`,
/// as `cairn serve --listen unix:PATH` binds) with a request path.
///
/// A value type, checked when made, so that a request cannot fail on a malformed URL after it was
/// accepted. The rules: scheme `http`, `https` or `unix` (any case); a host for http(s); no user
/// information (credentials travel in headers, never in URLs, which end up in logs), no query or
/// fragment in a base URL (use ``appending(path:query:)``); a Unix socket path absolute, without
/// NUL bytes and short enough for `sockaddr_un`.
///
/// ```swift
/// let base = try HTTPURL("https://cairn.example/ledger")
/// base.appending(path: "/v1/entries").description       // "https://cairn.example/ledger/v1/entries"
/// let local = try HTTPURL("unix:/run/cairn.sock")
/// local.appending(path: "/v1/entries").description      // "unix:/run/cairn.sock:/v1/entries"
/// ```
package struct HTTPURL: Sendable, Hashable, CustomStringConvertible {
    enum Target: Sendable, Hashable {
        /// `scheme://authority` (host in brackets for IPv6, port if given).
        case web(scheme: String, authority: String)
        case unix(socketPath: String)
    }

    let target: Target
    /// The percent-encoded path, starting with `/` (or empty for an http(s) URL without one), and
    /// the query if one was appended.
    let pathAndQuery: String

    /// The longest Unix socket path `sockaddr_un` holds (107 bytes on Linux, 103 on macOS).
    package static let maxSocketPathLength: Int = MemoryLayout.size(ofValue: sockaddr_un().sun_path) - 1

    /// Parses `http://HOST[:PORT][/PATH]`, `https://…` or `unix:/ABSOLUTE/PATH` (see the type's rules).
    package init(_ text: String) throws(HTTPError) {
        if text.count >= 5, text.prefix(5).lowercased() == "unix:" {
            self = try HTTPURL(unixSocket: String(text.dropFirst(5)))
            return
        }
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
            scheme == "http" || scheme == "https"
        else {
            throw HTTPError(
                .invalidURL, "expected an http://, https:// or unix:/path URL, got \(String(reflecting: text))")
        }
        guard let host = components.percentEncodedHost, !host.isEmpty else {
            throw HTTPError(.invalidURL, "the URL \(String(reflecting: text)) has no host")
        }
        guard components.user == nil, components.password == nil else {
            throw HTTPError(
                .invalidURL,
                "the URL \(String(reflecting: text)) has user information; credentials belong in a token, not a URL")
        }
        guard components.query == nil, components.fragment == nil else {
            throw HTTPError(.invalidURL, "the URL \(String(reflecting: text)) must not have a query or fragment")
        }
        var authority = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        if let port = components.port {
            guard (0...65535).contains(port) else {
                throw HTTPError(.invalidURL, "the URL \(String(reflecting: text)) has port \(port), beyond 65535")
            }
            authority += ":\(port)"
        }
        self = HTTPURL(target: .web(scheme: scheme, authority: authority), pathAndQuery: components.percentEncodedPath)
    }

    /// A Unix socket at `path`, requests going to `/` until ``appending(path:query:)``.
    package init(unixSocket path: String) throws(HTTPError) {
        guard path.hasPrefix("/") else {
            throw HTTPError(
                .invalidURL, "a Unix socket path must be absolute (unix:/path), got \(String(reflecting: path))")
        }
        guard !path.utf8.contains(0) else {
            throw HTTPError(.invalidURL, "a Unix socket path must not contain NUL bytes")
        }
        guard path.utf8.count <= Self.maxSocketPathLength else {
            throw HTTPError(
                .invalidURL,
                "the Unix socket path is \(path.utf8.count) bytes long; the system allows at most "
                    + "\(Self.maxSocketPathLength)")
        }
        target = .unix(socketPath: path)
        pathAndQuery = ""
    }

    /// This URL with `path` (which should start with `/`, percent-encoded as needed) after its own
    /// path, trailing slashes of the base dropped, and `query` (already encoded) if given:
    /// `https://w.example/wit/` + `/add-checkpoint` is `https://w.example/wit/add-checkpoint`.
    package func appending(path: String, query: String? = nil) -> HTTPURL {
        var base = pathAndQuery
        if let mark = base.firstIndex(of: "?") { base = String(base[..<mark]) }
        while base.hasSuffix("/") { base.removeLast() }
        var joined = base + (path.hasPrefix("/") || path.isEmpty ? path : "/" + path)
        if let query { joined += "?" + query }
        return HTTPURL(target: target, pathAndQuery: joined)
    }

    private init(target: Target, pathAndQuery: String) {
        self.target = target
        self.pathAndQuery = pathAndQuery
    }

    /// The `Host` a request to this URL names: the authority without a default port (80 for http, 443 for
    /// https), as HTTP clients send it and as AWS Signature Version 4 signs it; `nil` for a Unix socket.
    package var host: String? {
        guard case .web(let scheme, let authority) = target else { return nil }
        for (name, port) in [("http", ":80"), ("https", ":443")] where scheme == name && authority.hasSuffix(port) {
            return String(authority.dropLast(port.count))
        }
        return authority
    }

    /// The percent-encoded path (and query, if one was appended) of this URL; empty for a bare `http://host`.
    package var encodedPathAndQuery: String { pathAndQuery }

    /// Whether requests go to a Unix socket.
    package var isUnixSocket: Bool {
        if case .unix = target { return true }
        return false
    }

    /// The URL as people write it; for a Unix socket `unix:PATH`, followed by `:` and the request
    /// path when there is one (nginx's spelling).
    package var description: String {
        switch target {
        case .web(let scheme, let authority): scheme + "://" + authority + pathAndQuery
        case .unix(let socketPath): "unix:" + socketPath + (pathAndQuery.isEmpty ? "" : ":" + pathAndQuery)
        }
    }

    /// The URL text AsyncHTTPClient takes: the same for http(s), `http+unix://<encoded socket path>/path`
    /// for a Unix socket.
    var clientURL: String? {
        let uri = pathAndQuery.isEmpty ? "/" : pathAndQuery
        switch target {
        case .web(let scheme, let authority):
            return scheme + "://" + authority + uri
        case .unix(let socketPath):
            return URL(httpURLWithSocketPath: socketPath, uri: uri)?.absoluteString
        }
    }
}
