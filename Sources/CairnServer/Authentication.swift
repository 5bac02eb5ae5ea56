import CairnLedger
import Hummingbird

/// Authenticates `Authorization: Bearer <token>` against the token store (by the token's
/// SHA-256, from memory) and puts the token in the context. A request without the header passes on
/// anonymous — the route's `RequireRole` decides whether that is enough — but a header that does
/// not name a live token is refused here with 401, on every route.
struct AuthenticationMiddleware: RouterMiddleware {
    typealias Context = CairnRequestContext

    let tokens: TokenStore

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard let header = request.headers[.authorization] else {
            return try await next(request, context)
        }
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            throw APIError(
                .unauthorized, "the Authorization header must be \"Bearer <token>\"",
                headers: [.wwwAuthenticate: #"Bearer realm="cairn", error="invalid_request""#])
        }
        let secret = parts[1].trimmingSpaces
        guard let token = try await tokens.authenticate(secret: String(secret)) else {
            throw APIError(
                .unauthorized, "the token is unknown or revoked",
                headers: [.wwwAuthenticate: #"Bearer realm="cairn", error="invalid_token""#])
        }
        var context = context
        context.token = token
        context.logger[metadataKey: "token"] = .string(token.id)
        context.annotations.tokenID = token.id
        return try await next(request, context)
    }
}

/// Who may call a route.
enum RouteAccess: Sendable, Hashable {
    /// Anyone (health checks).
    case open
    /// A token granting `role`; when `allowAnonymous`, also requests without a token.
    case role(TokenRole, allowAnonymous: Bool)

    /// The role, if any.
    var role: TokenRole? {
        if case .role(let role, _) = self { return role }
        return nil
    }
}

/// Refuses requests whose token does not grant the route's role: 401 without a token (unless
/// the route is public), 403 with a token of the wrong role.
struct RequireRole: RouterMiddleware {
    typealias Context = CairnRequestContext

    let access: RouteAccess
    /// Only requests whose path starts with this are checked (for routes registered by other
    /// code directly on the router); nil: all.
    var pathPrefix: String?

    init(access: RouteAccess, under pathPrefix: String? = nil) {
        self.access = access
        self.pathPrefix = pathPrefix
    }

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        if let pathPrefix, !request.uri.path.hasPrefix(pathPrefix) { return try await next(request, context) }
        guard case .role(let role, let allowAnonymous) = access else { return try await next(request, context) }
        guard let token = context.token else {
            if allowAnonymous { return try await next(request, context) }
            throw APIError(
                .unauthorized,
                "this route needs a token with the \(role.rawValue) role (Authorization: Bearer <token>)",
                headers: [.wwwAuthenticate: #"Bearer realm="cairn""#])
        }
        guard token.grants(role) else {
            throw APIError(
                .forbidden,
                "token \(token.id) (\(token.roles.map(\.rawValue).joined(separator: ", "))) lacks the \(role.rawValue) role",
                headers: [.wwwAuthenticate: #"Bearer realm="cairn", error="insufficient_scope""#])
        }
        return try await next(request, context)
    }
}

extension Substring {
    var trimmingSpaces: Substring {
        var s = self
        while s.first == " " || s.first == "\t" { s = s.dropFirst() }
        while s.last == " " || s.last == "\t" { s = s.dropLast() }
        return s
    }
}
