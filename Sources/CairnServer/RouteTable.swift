import Hummingbird

/// The server's routes as templates (`/v1/entries/{entry}`), with their methods and access
/// rules: used to answer 405 with `Allow` for a known path with another method, and by the tests
/// that hold the server and its OpenAPI document to each other.
package struct RouteTable: Sendable {
    package struct Route: Sendable, Hashable {
        package let method: HTTPRequest.Method
        /// The path template, `{name}` for a captured segment, `**` for any rest.
        package let path: String
        /// The role required, or nil for a route anyone may call.
        package let role: String?
        /// Whether the route also answers requests without a token.
        package let allowsAnonymous: Bool

        var segments: [Substring] { path.split(separator: "/") }
    }

    package private(set) var routes: [Route] = []

    init() {}

    mutating func add(_ method: HTTPRequest.Method, _ path: String, access: RouteAccess) {
        let allowsAnonymous: Bool
        switch access {
        case .open: allowsAnonymous = true
        case .role(_, let anonymous): allowsAnonymous = anonymous
        }
        routes.append(Route(method: method, path: path, role: access.role?.rawValue, allowsAnonymous: allowsAnonymous))
    }

    /// The methods of the routes whose template matches `path`.
    func methods(matching path: String) -> Set<HTTPRequest.Method> {
        let segments = path.split(separator: "/")
        return Set(routes.filter { Self.matches($0.segments, segments) }.map(\.method))
    }

    static func matches(_ template: [Substring], _ path: [Substring]) -> Bool {
        var i = 0
        for part in template {
            if part == "**" { return i < path.count }
            guard i < path.count else { return false }
            if !(part.first == "{" && part.last == "}") && part != "*" && part != path[i] { return false }
            i += 1
        }
        return i == path.count
    }
}
