import CairnHTTP
import Foundation

/// The base URL of a Cairn server (`cairn serve`), normalized so that one server has one spelling.
///
/// A value type, safe to share between threads. Normalization lowercases the scheme and host,
/// drops a default port (80 for `http`, 443 for `https`) and trailing slashes; the spool keys its
/// records by this text, so `HTTP://Ledger.example.com:80/` and `http://ledger.example.com` are
/// the same target. A server listening on a Unix socket (`cairn serve --listen unix:PATH`) is
/// `unix:PATH`.
///
/// ```swift
/// let server = try ServerAddress("https://cairn.example.com/")
/// server.description                    // "https://cairn.example.com"
/// try server.entriesURL().description   // "https://cairn.example.com/v1/entries"
/// try ServerAddress("unix:/run/cairn/cairn.sock").description  // "unix:/run/cairn/cairn.sock"
/// ```
package struct ServerAddress: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The normalized URL text: `scheme://host[:port][/path]` without a trailing slash, or `unix:PATH`.
    package let description: String
    /// `description` as a URL; `nil` only for a stored text that no longer parses.
    private let base: HTTPURL?

    /// The longest accepted URL, in UTF-8 bytes (the spool uses it inside LMDB keys).
    package static let maxLength = 400

    /// Parses and normalizes a server URL: `http` or `https`, a host, an optional port and path,
    /// no query, fragment or user information; or `unix:` and the absolute path of a Unix socket.
    package init(_ text: String) throws(ClientError) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.count >= 5, trimmed.prefix(5).lowercased() == "unix:" {
            let path = String(trimmed.dropFirst(5))
            do {
                base = try HTTPURL(unixSocket: path)
            } catch {
                throw ClientError(.invalidArgument, "server URL \"\(text)\": \(error.message)")
            }
            description = "unix:" + path
            return
        }
        guard let components = URLComponents(string: trimmed), let scheme = components.scheme?.lowercased(),
            scheme == "http" || scheme == "https"
        else {
            throw ClientError(
                .invalidArgument, "server URL must start with http://, https:// or unix:/, got \"\(text)\"")
        }
        guard let host = components.host, !host.isEmpty else {
            throw ClientError(.invalidArgument, "server URL \"\(text)\" has no host")
        }
        guard components.query == nil, components.fragment == nil, components.user == nil,
            components.password == nil
        else {
            throw ClientError(
                .invalidArgument, "server URL \"\(text)\" must not have a query, fragment or user information")
        }
        // An IPv6 literal keeps its brackets, whichever way URLComponents reports the host.
        let bracketed = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        var normalized = scheme + "://" + bracketed.lowercased()
        if let port = components.port, !(scheme == "http" && port == 80), !(scheme == "https" && port == 443) {
            normalized += ":\(port)"
        }
        var path = components.percentEncodedPath
        while path.hasSuffix("/") { path.removeLast() }
        normalized += path
        guard normalized.utf8.count <= Self.maxLength else {
            throw ClientError(.invalidArgument, "server URL is longer than \(Self.maxLength) bytes")
        }
        do {
            base = try HTTPURL(normalized)
        } catch {
            throw ClientError(.invalidArgument, "server URL \"\(text)\": \(error.message)")
        }
        description = normalized
    }

    /// A stored, already normalized address (as read back from the spool).
    init(normalized: String) {
        description = normalized
        base = try? HTTPURL(normalized)
    }

    /// `POST` here to append records (specs/http-api.md §3.1), with `?strict=true` for `strict`.
    package func entriesURL(strict: Bool = false) throws(ClientError) -> HTTPURL {
        guard let base else { throw ClientError(.invalidArgument, "\(description) is not a usable server URL") }
        return base.appending(path: "/v1/entries", query: strict ? "strict=true" : nil)
    }

    package static func == (lhs: ServerAddress, rhs: ServerAddress) -> Bool { lhs.description == rhs.description }

    package func hash(into hasher: inout Hasher) { hasher.combine(description) }

    package static func < (lhs: ServerAddress, rhs: ServerAddress) -> Bool { lhs.description < rhs.description }
}
