import CairnInsight
import CairnJSON
import CairnLedger
import CairnProofs
import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// The dashboard, `/ui/` (docs/dashboard.md): server-rendered HTML pages of the stats views, the records behind
/// each figure, each record with its history and proof bundle, and the access log for auditors. Browsers sign in
/// with an API token (`POST /ui/sign-in`) and then carry only a session cookie (`DashboardSessions`).
///
/// - anyone: `GET /ui/sign-in`, `POST /ui/sign-in`, `POST /ui/sign-out`, `GET /ui/style.css`;
/// - `read` (or `audit`, `admin`): `GET /ui/`, `GET /ui/<view>` (every `StatsView`), `GET /ui/records?…` (the
///   parameters of `GET /v1/query`), `GET /ui/records/{index}` and its `/proof` and `/entry` downloads;
/// - `audit` (or `admin`): `GET /ui/admin/access-log`.
///
/// The pages are not part of the JSON API: they are not in the `RouteTable` (which is the API's, held to
/// specs/openapi.yaml), and their errors are HTML pages, not JSON bodies. Reads of views and records are recorded in
/// the access log like the API's (`recordedRead`); the access-log page, like `GET /v1/access-log/…`, is not.
struct DashboardRoutes {
    typealias Context = CairnRequestContext

    let services: ServerServices
    let sessions: DashboardSessions

    /// The Content-Security-Policy of every dashboard response: nothing but this origin's stylesheet, forms
    /// posted to this origin, no framing; no scripts at all.
    static let contentSecurityPolicy =
        "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; "
        + "base-uri 'none'"
    static let htmlType = "text/html; charset=utf-8"
    /// The most access-log entries the admin page lists.
    static let accessLogPageSize = 100
    /// The largest sign-in form accepted.
    static let maxFormBytes = 4096

    init(services: ServerServices, sessions: DashboardSessions = DashboardSessions()) {
        self.services = services
        self.sessions = sessions
    }

    /// Whether `path` is the dashboard's.
    static func isDashboard(_ path: String) -> Bool { path == "/ui" || path.hasPrefix("/ui/") }

    /// Adds the dashboard's middleware (sessions, HTML errors) and routes to `router`. Its security headers are
    /// `DashboardSecurityHeaders`, which goes outside every other middleware.
    func register(on router: Router<Context>) {
        router.add(middleware: DashboardMiddleware(services: services, sessions: sessions))
        router.get("/ui/style.css") { _, _ in
            Response.bytes(
                Array(DashboardHTML.stylesheet.utf8), contentType: "text/css; charset=utf-8", cache: .noStore)
        }
        router.get("/ui/sign-in") { request, _ in
            let parameters = try request.parameters(["next"])
            return Self.html(DashboardHTML.signInPage(next: Self.safeNext(parameters["next"])))
        }
        router.post("/ui/sign-in") { request, context in try await signIn(request, context) }
        router.post("/ui/sign-out") { request, context in try signOut(request, context) }
        router.get("/ui") { request, context in try await viewPage(.overview, request, context) }
        for view in StatsView.allCases {
            router.get(RouterPath("/ui/" + view.rawValue)) { request, context in
                try await viewPage(view, request, context)
            }
        }
        router.get("/ui/records") { request, context in try await recordsPage(request, context) }
        router.get("/ui/records/{index}") { request, context in try await recordPage(request, context) }
        router.get("/ui/records/{index}/proof") { request, context in try await download(.proof, request, context) }
        router.get("/ui/records/{index}/entry") { request, context in try await download(.entry, request, context) }
        router.get("/ui/admin/access-log") { request, context in try await accessLogPage(request, context) }
    }

    // MARK: - Sign-in

    func signIn(_ request: Request, _ context: Context) async throws -> Response {
        if let refusal = DashboardOrigin.refusal(request) {
            throw APIError(.forbidden, "Sign-in refused: \(refusal). Open the sign-in page of this server and retry.")
        }
        guard MediaTypes.essence(request.headers[.contentType]) == "application/x-www-form-urlencoded" else {
            throw APIError(
                .unsupportedMediaType, "The sign-in form must be sent as application/x-www-form-urlencoded.")
        }
        let body = try await request.collectBody(limit: Self.maxFormBytes, what: "the sign-in form")
        guard let text = String(validating: body, as: UTF8.self),
            let form = try? QueryParameters(text, allowed: ["token", "next"])
        else {
            return Self.html(
                DashboardHTML.signInPage(message: "The form could not be read; paste the token again."),
                status: .badRequest)
        }
        let next = Self.safeNext(form["next"])
        let secret = (form["token"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard !secret.isEmpty else {
            return Self.html(DashboardHTML.signInPage(message: "Paste an API token.", next: next), status: .badRequest)
        }
        guard let token = try await services.tokens.authenticate(secret: secret) else {
            var response = Self.html(
                DashboardHTML.signInPage(
                    message: "This token is unknown or revoked. Ask your Cairn operator for a token with the read "
                        + "or audit role.",
                    next: next),
                status: .unauthorized)
            response.headers[.wwwAuthenticate] = #"Bearer realm="cairn""#
            return response
        }
        context.annotations.tokenID = token.id
        guard token.grants(.read) else {
            return Self.html(
                DashboardHTML.signInPage(
                    message: "Token \(token.name) (\(token.id)) has the roles "
                        + "\(token.roles.map(\.rawValue).joined(separator: ", ")); the dashboard needs a token with "
                        + "the read or audit role.",
                    next: next),
                status: .forbidden)
        }
        if let old = DashboardSessions.sessionID(in: request) { sessions.close(old) }
        let id = sessions.open(secret: secret, tokenID: token.id)
        var response = Self.redirect(to: next ?? DashboardPaths.root)
        response.headers[.setCookie] = sessions.cookie(
            id, secure: DashboardOrigin.isHTTPS(request, context, trustedProxies: services.configuration.trustedProxies)
        )
        return response
    }

    func signOut(_ request: Request, _ context: Context) throws -> Response {
        if let refusal = DashboardOrigin.refusal(request) {
            throw APIError(.forbidden, "Sign-out refused: \(refusal).")
        }
        if let id = DashboardSessions.sessionID(in: request) { sessions.close(id) }
        var response = Self.redirect(to: DashboardPaths.signIn)
        response.headers[.setCookie] = DashboardSessions.expiredCookie(
            secure: DashboardOrigin.isHTTPS(request, context, trustedProxies: services.configuration.trustedProxies))
        return response
    }

    // MARK: - Pages

    func viewPage(_ view: StatsView, _ request: Request, _ context: Context) async throws -> Response {
        let token = try Self.require(.read, context)
        let (window, parameters) = try Self.window(request)
        // As GET /v1/stats records it: {"stats": {"view": …, parameter: value, …}}.
        var stats = JSONObject()
        stats["view"] = .string(view.rawValue)
        for (name, value) in parameters.objectValue ?? [:] { stats[name] = value }
        return try await services.recordedRead(request, context, target: .object(["stats": .object(stats)])) {
            // The API's figures, from the same code (the health view with the access log and the last drill).
            let document = try await services.expensiveRead { try await services.statsDocument(view, window: window) }
            return Self.html(DashboardHTML.statsPage(document, chrome: Self.chrome(token, window: window)))
        }
    }

    func recordsPage(_ request: Request, _ context: Context) async throws -> Response {
        let token = try Self.require(.read, context)
        // The parameters of GET /v1/query, parsed by the same code.
        let parameters = try request.parameters(QueryParameters.recordQueryNames)
        let query = try parameters.recordQuery(
            defaultLimit: services.configuration.defaultQueryResults, maxLimit: services.configuration.maxQueryResults)
        return try await services.recordedRead(request, context, target: ["query": parameters.json]) {
            let matches = try await services.expensiveRead {
                try await services.ledger.read { try $0.query(query) }
            }
            return Self.html(
                DashboardHTML.recordsPage(
                    filters: parameters.values, matches: matches,
                    limit: query.limit ?? services.configuration.defaultQueryResults,
                    chrome: Self.chrome(token)))
        }
    }

    func recordPage(_ request: Request, _ context: Context) async throws -> Response {
        let token = try Self.require(.read, context)
        _ = try request.parameters([])
        let reference = try context.pathParameter("index")
        return try await services.recordedRead(request, context, target: ["record": .string(reference)]) {
            let (view, size) = try await services.ledger.read { snapshot in
                (try snapshot.view(try snapshot.resolve(recordReference: reference)), snapshot.treeSize)
            }
            return Self.html(
                DashboardHTML.recordPage(
                    view, proof: DashboardProofBundle.format(for: view),
                    vkey: services.ledger.verifierKey.description, treeSize: size, chrome: Self.chrome(token)))
        }
    }

    enum Download: String {
        case proof
        case entry
    }

    /// A record's proof bundle, or its entry's bytes, as an attachment.
    func download(_ what: Download, _ request: Request, _ context: Context) async throws -> Response {
        _ = try Self.require(.read, context)
        _ = try request.parameters([])
        let reference = try context.pathParameter("index")
        let ledger = services.ledger
        let target: JSONValue = ["record": .string(reference), "download": .string(what.rawValue)]
        return try await services.recordedRead(request, context, target: target) {
            let (index, format, bytes) = try await ledger.read { snapshot -> (UInt64, DashboardProofFormat, [UInt8]) in
                let index = try snapshot.resolve(recordReference: reference)
                let view = try snapshot.view(index)
                let format = DashboardProofBundle.format(for: view)
                if what == .entry { return (index, format, try snapshot.entry(at: index)) }
                let inclusion = try snapshot.inclusionProof(index: index)
                let proof = TlogProof(
                    index: inclusion.index, hashes: inclusion.hashes, checkpoint: inclusion.checkpoint)
                return (index, format, try DashboardProofBundle.bytes(for: view, proof: proof, ledger: ledger))
            }
            let name: String
            let type: String
            switch (what, format) {
            case (.entry, _): (name, type) = (DashboardProofFormat.entryFileName(index: index), MediaTypes.json)
            case (.proof, .inToto): (name, type) = (format.fileName(index: index), MediaTypes.json)
            case (.proof, .tlogProof): (name, type) = (format.fileName(index: index), MediaTypes.text)
            }
            var response = Response.bytes(bytes, contentType: type, cache: .noStore)
            response.headers[.contentDisposition] = "attachment; filename=\"\(name)\""
            return response
        }
    }

    func accessLogPage(_ request: Request, _ context: Context) async throws -> Response {
        let token = try Self.require(.audit, context)
        _ = try request.parameters([])
        let limit = Self.accessLogPageSize
        try await services.accessLog.settle()  // with every append acknowledged so far (specs/http-api.md §6)
        let (entries, size) = try await services.expensiveRead {
            try await services.accessLog.ledger.read { snapshot -> ([DashboardAccessEntry], UInt64) in
                var entries: [DashboardAccessEntry] = []
                var index = snapshot.treeSize
                while index > 0 && entries.count < limit {
                    index -= 1
                    let record = (try? JSONParser.parse(try snapshot.entry(at: index))) ?? .null
                    entries.append(Self.accessEntry(index, record))
                }
                return (entries, snapshot.treeSize)
            }
        }
        return Self.html(DashboardHTML.accessLogPage(entries, logSize: size, chrome: Self.chrome(token)))
    }

    // MARK: - Helpers

    /// The signed-in token, if it grants `role`: 401 (a redirect to the sign-in page) without one, 403 with a
    /// token that lacks the role.
    static func require(_ role: TokenRole, _ context: Context) throws(APIError) -> APIToken {
        guard let token = context.token else {
            throw APIError(.unauthorized, "Sign in to see this page.")
        }
        guard token.grants(role) else {
            let roles = token.roles.map(\.rawValue).joined(separator: ", ")
            throw APIError(
                .forbidden,
                "Token \(token.name) (\(token.id)) has the roles \(roles); this page needs the \(role.rawValue) role.")
        }
        return token
    }

    static func chrome(_ token: APIToken, window: StatsWindow = StatsWindow()) -> DashboardChrome {
        DashboardChrome(signedInAs: "\(token.name) (\(token.id))", showsAdmin: token.grants(.audit), window: window)
    }

    /// The window of a view page: `since` and `until` (RFC 3339 UTC or a date), `repo`; empty fields (as the
    /// filter form sends them) count as absent. Also the parameters as given, for the access log.
    static func window(_ request: Request) throws(APIError) -> (StatsWindow, JSONValue) {
        let query = (request.uri.query ?? "").split(separator: "&").filter { pair in
            guard let equals = pair.firstIndex(of: "=") else { return false }
            return pair.index(after: equals) != pair.endIndex
        }.joined(separator: "&")
        let parameters = try QueryParameters(query, allowed: ["since", "until", "repo"])
        let window = StatsWindow(
            since: try parameters.time("since"), until: try parameters.time("until"),
            repo: try parameters.string("repo"))
        if let since = window.since, let until = window.until, since >= until {
            throw APIError.parameter("until", "must be later than since (the window is since ≤ t < until)")
        }
        return (window, parameters.json)
    }

    /// `next` if it is a dashboard page to return to after signing in (a path under /ui/ of printable ASCII, not
    /// the sign-in or sign-out page); nil otherwise, so that no link can send a signed-in browser elsewhere.
    static func safeNext(_ next: String?) -> String? {
        guard let next, next.utf8.count <= 2048, next == "/ui" || next.hasPrefix("/ui/"),
            next.utf8.allSatisfy({ (0x21...0x7E).contains($0) && $0 != UInt8(ascii: "\\") }),
            !next.contains("//"), !next.hasPrefix(DashboardPaths.signIn), !next.hasPrefix(DashboardPaths.signOut)
        else { return nil }
        // No dot segments, which a browser would resolve out of /ui/ (`.` may be written %2e).
        let path = next.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)[0]
        guard !path.lowercased().contains("%2e"),
            !path.split(separator: "/").contains(where: { $0 == "." || $0 == ".." })
        else { return nil }
        return next
    }

    /// An access-log entry as the admin page lists it.
    static func accessEntry(_ index: UInt64, _ record: JSONValue) -> DashboardAccessEntry {
        func who(_ value: JSONValue?) -> String {
            guard let value, let id = value["id"]?.stringValue else { return StatsFormat.missing }
            return "\(value["name"]?.stringValue ?? "") (\(id))"
        }
        let at = record["at"]?.stringValue ?? StatsFormat.missing
        switch record["type"]?.stringValue {
        case "access":
            return DashboardAccessEntry(
                index: index, at: at, principal: who(record["token"]),
                request: "\(record["method"]?.stringValue ?? "") \(record["route"]?.stringValue ?? "")",
                target: record["target"].map(JSONWriter.compact) ?? "",
                status: record["status"]?.intValue.map(String.init) ?? "")
        case "append":
            let count = record["count"]?.intValue ?? 0
            let first = record["first"]?.intValue.map { " from entry \($0)" } ?? ""
            return DashboardAccessEntry(
                index: index, at: at, principal: who(record["token"] ?? record["local"]),
                request: "append via \(record["via"]?.stringValue ?? "?")",
                target: "\(count) new entr\(count == 1 ? "y" : "ies")\(first)", status: "")
        default:
            return DashboardAccessEntry(
                index: index, at: at, principal: StatsFormat.missing,
                request: record["type"]?.stringValue ?? "entry", target: JSONWriter.compact(record), status: "")
        }
    }

    static func html(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        .bytes(Array(text.utf8), contentType: htmlType, status: status, cache: .noStore)
    }

    /// 303 See Other to a dashboard path.
    static func redirect(to location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location, .cacheControl: CachePolicy.noStore.headerValue])
    }

    /// The methods each dashboard path answers (for 405 with `Allow`); empty for a path that is not one.
    static func allowedMethods(_ path: String) -> [HTTPRequest.Method] {
        let parts = path.split(separator: "/")
        guard parts.first == "ui" else { return [] }
        switch parts.count {
        case 1: return [.get]
        case 2:
            if parts[1] == "sign-in" { return [.get, .post] }
            if parts[1] == "sign-out" { return [.post] }
            if parts[1] == "style.css" || parts[1] == "records" || StatsView(rawValue: String(parts[1])) != nil {
                return [.get]
            }
            return []
        case 3:
            return parts[1] == "records" || (parts[1] == "admin" && parts[2] == "access-log") ? [.get] : []
        case 4:
            return parts[1] == "records" && (parts[3] == "proof" || parts[3] == "entry") ? [.get] : []
        default:
            return []
        }
    }
}

/// The dashboard's security headers, on every response under /ui/ whatever produced it (a page, a redirect, the
/// stylesheet, a download, or an error of the outer middleware such as a rate limit or a timeout). Registered
/// first, so that it wraps all other middleware.
struct DashboardSecurityHeaders: RouterMiddleware {
    typealias Context = CairnRequestContext

    static let referrerPolicy = HTTPField.Name("Referrer-Policy")!
    static let frameOptions = HTTPField.Name("X-Frame-Options")!
    static let openerPolicy = HTTPField.Name("Cross-Origin-Opener-Policy")!
    static let resourcePolicy = HTTPField.Name("Cross-Origin-Resource-Policy")!

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard DashboardRoutes.isDashboard(request.uri.path) else { return try await next(request, context) }
        var response = try await next(request, context)
        response.headers[.contentSecurityPolicy] = DashboardRoutes.contentSecurityPolicy
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[Self.referrerPolicy] = "same-origin"
        response.headers[.cacheControl] = CachePolicy.noStore.headerValue
        response.headers[Self.frameOptions] = "DENY"
        response.headers[Self.openerPolicy] = "same-origin"
        response.headers[Self.resourcePolicy] = "same-origin"
        return response
    }
}

/// The dashboard's own authentication and error pages, for requests under /ui/ only: resolves the session cookie
/// to its token (a request's `Authorization` header plays no part in the dashboard), and turns every error into an
/// HTML page — a redirect to the sign-in page for a request that needs a session it does not have.
struct DashboardMiddleware: RouterMiddleware {
    typealias Context = CairnRequestContext

    let services: ServerServices
    let sessions: DashboardSessions

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard DashboardRoutes.isDashboard(request.uri.path) else { return try await next(request, context) }
        var context = context
        context.token = nil
        context.annotations.tokenID = nil
        do {
            if let id = DashboardSessions.sessionID(in: request), let session = sessions.session(id) {
                if let token = try await services.tokens.authenticate(secret: session.secret) {
                    context.token = token
                    context.logger[metadataKey: "token"] = .string(token.id)
                    context.annotations.tokenID = token.id
                } else {
                    sessions.close(id)  // the token was revoked: its sessions end with it
                }
            }
            return try await next(request, context)
        } catch let error as CancellationError {
            throw error
        } catch {
            return errorResponse(error, request, context)
        }
    }

    func errorResponse(_ error: any Error, _ request: Request, _ context: Context) -> Response {
        var apiError = APIError.from(error)
        let path = request.uri.path
        if apiError.kind == .unauthorized {
            // Whoever is not signed in is sent to sign in, and brought back to a page they asked for.
            var location = DashboardPaths.signIn
            if request.method == .get {
                let next = path + (request.uri.query.map { "?" + $0 } ?? "")
                if let safe = DashboardRoutes.safeNext(next) {
                    location += "?" + HTMLText.queryString([("next", safe)])
                }
            }
            return DashboardRoutes.redirect(to: location)
        }
        var headers = HTTPFields()
        if apiError.kind == .notFound, context.endpointPath == nil || context.endpointPath == "NotFound" {
            let allowed = DashboardRoutes.allowedMethods(path)
            if allowed.isEmpty {
                apiError = APIError(.notFound, "There is no dashboard page \(path).")
            } else if !allowed.contains(request.method) {
                apiError = APIError(.methodNotAllowed, "\(request.method) is not allowed on \(path).")
                headers[.allow] = allowed.map(\.rawValue).joined(separator: ", ")
            }
        }
        if apiError.kind == .internalError {
            services.logger.error(
                "internal error",
                metadata: ["request_id": .string(context.requestID), "error": .string(String(describing: error))])
            apiError = APIError(
                .internalError,
                "Internal error; the server log has the details under request id \(context.requestID).")
        }
        let chrome = context.token.map { DashboardRoutes.chrome($0) } ?? DashboardChrome()
        var message = apiError.message
        let details = apiError.problems.filter {
            $0.message != message && "\($0.parameter ?? ""): \($0.message)" != message
        }
        if !details.isEmpty {
            message +=
                " (" + details.map { ($0.parameter.map { "\($0): " } ?? "") + $0.message }.joined(separator: "; ")
                + ")"
        }
        var response = DashboardRoutes.html(
            DashboardHTML.errorPage(
                status: Int(apiError.status.code), title: Self.title(apiError), message: message, chrome: chrome),
            status: apiError.status)
        response.headers.append(contentsOf: headers)
        if let retryAfter = apiError.retryAfter { response.headers[.retryAfter] = String(retryAfter) }
        return response
    }

    static func title(_ error: APIError) -> String {
        switch error.kind {
        case .forbidden: "Not allowed"
        case .notFound: "Not found"
        case .invalidParameter, .badRequest: "Check the address"
        case .methodNotAllowed: "Method not allowed"
        case .gone: "Gone"
        case .busy, .unavailable, .timeout, .rateLimited: "Try again later"
        case .internalError: "Internal error"
        default: error.status.reasonPhrase
        }
    }
}
