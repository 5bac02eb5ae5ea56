import Foundation

/// The base URL of a Cairn server (`cairn serve`), normalized so that one server has one spelling.
///
/// A value type, safe to share between threads. Normalization lowercases the scheme and host,
/// drops a default port (80 for `http`, 443 for `https`) and trailing slashes; the spool keys its
/// records by this text, so `HTTP://Ledger.example.com:80/` and `http://ledger.example.com` are
/// the same target.
///
/// ```swift
/// let server = try ServerAddress("https://cairn.example.com/")
/// server.description        // "https://cairn.example.com"
/// server.entriesURL         // https://cairn.example.com/v1/entries
/// ```
public struct ServerAddress: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The normalized URL text: `scheme://host[:port][/path]`, without a trailing slash.
    public let description: String

    /// The longest accepted URL, in UTF-8 bytes (the spool uses it inside LMDB keys).
    public static let maxLength = 400

    /// Parses and normalizes a server URL: `http` or `https`, a host, an optional port and path,
    /// no query, fragment or user information.
    public init(_ text: String) throws(ClientError) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard let components = URLComponents(string: trimmed), let scheme = components.scheme?.lowercased(),
            scheme == "http" || scheme == "https"
        else {
            throw ClientError(.invalidArgument, "server URL must start with http:// or https://, got \"\(text)\"")
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
        var normalized = scheme + "://" + host.lowercased()
        if let port = components.port, !(scheme == "http" && port == 80), !(scheme == "https" && port == 443) {
            normalized += ":\(port)"
        }
        var path = components.percentEncodedPath
        while path.hasSuffix("/") { path.removeLast() }
        normalized += path
        guard normalized.utf8.count <= Self.maxLength else {
            throw ClientError(.invalidArgument, "server URL is longer than \(Self.maxLength) bytes")
        }
        description = normalized
    }

    /// A stored, already normalized address (as read back from the spool).
    init(normalized: String) {
        description = normalized
    }

    /// `POST` here to append records (specs/http-api.md §3.1).
    public var entriesURL: URL { URL(string: description + "/v1/entries")! }

    public static func < (lhs: ServerAddress, rhs: ServerAddress) -> Bool { lhs.description < rhs.description }
}
