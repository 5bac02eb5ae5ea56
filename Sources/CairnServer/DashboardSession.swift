import HTTPTypes
import Hummingbird
import Synchronization

/// The dashboard's sign-in sessions: a table in the server's memory from a random session id (32 bytes from the
/// system's secure generator, base64url: all the browser's cookie holds) to the token it was opened with.
///
/// The table keeps the token's secret, never the browser: every request re-authenticates the secret through the
/// `TokenStore`, exactly as a `Bearer` header would be, so a revoked token ends its sessions at once (within the
/// store's refresh interval when revoked by another process). Sessions end on sign-out, after `lifetime` from
/// sign-in, and when the server stops (the table is not stored anywhere). No token ever appears in a URL or a
/// cookie.
///
/// Thread-safe.
final class DashboardSessions: Sendable {
    /// The cookie's name.
    static let cookieName = "cairn_session"
    /// How long a session lasts from sign-in.
    static let defaultLifetime: Duration = .seconds(8 * 3600)
    /// Sessions kept at most; beyond it the oldest goes (sessions are opened only with a valid token).
    static let defaultCapacity = 10_000

    struct Session: Sendable {
        let secret: String
        let tokenID: String
        let expires: ContinuousClock.Instant
    }

    let lifetime: Duration
    let capacity: Int
    private let table = Mutex<[String: Session]>([:])

    init(lifetime: Duration = DashboardSessions.defaultLifetime, capacity: Int = DashboardSessions.defaultCapacity) {
        self.lifetime = lifetime
        self.capacity = max(1, capacity)
    }

    /// Opens a session for a token (by its secret, already authenticated) and returns its id.
    func open(secret: String, tokenID: String) -> String {
        var generator = SystemRandomNumberGenerator()  // getrandom(2) / arc4random: cryptographically secure
        let id = TokenStore.base64URL((0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
        let now = ContinuousClock.now
        let session = Session(secret: secret, tokenID: tokenID, expires: now.advanced(by: lifetime))
        table.withLock { sessions in
            if sessions.count >= capacity {
                sessions = sessions.filter { $0.value.expires > now }
                if sessions.count >= capacity, let oldest = sessions.min(by: { $0.value.expires < $1.value.expires }) {
                    sessions[oldest.key] = nil
                }
            }
            sessions[id] = session
        }
        return id
    }

    /// The live session `id` names; nil (and the session forgotten) when it is unknown or has expired.
    func session(_ id: String) -> Session? {
        let now = ContinuousClock.now
        return table.withLock { sessions in
            guard let session = sessions[id] else { return nil }
            guard session.expires > now else {
                sessions[id] = nil
                return nil
            }
            return session
        }
    }

    /// Ends a session.
    func close(_ id: String) {
        _ = table.withLock { $0.removeValue(forKey: id) }
    }

    /// How many sessions the table holds (expired ones included until they are looked up or evicted).
    var count: Int { table.withLock { $0.count } }

    // MARK: - The cookie

    /// The session id in the request's `Cookie` headers; nil when there is none, or it is not 43 base64url
    /// characters (what `open` makes).
    static func sessionID(in request: Request) -> String? {
        for header in request.headers[values: .cookie] {
            for pair in header.split(separator: ";") {
                let trimmed = pair.trimmingSpaces
                guard trimmed.hasPrefix(cookieName + "=") else { continue }
                let value = trimmed.dropFirst(cookieName.count + 1)
                guard value.utf8.count == 43,
                    value.utf8.allSatisfy({ byte in
                        (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
                            || byte == 0x2D || byte == 0x5F
                    })
                else { return nil }
                return String(value)
            }
        }
        return nil
    }

    /// The `Set-Cookie` value of a session: HttpOnly, SameSite=Strict, Path=/ui, Max-Age of the lifetime, and
    /// Secure when the browser reached the server over HTTPS.
    func cookie(_ id: String, secure: Bool) -> String {
        let seconds = lifetime.components.seconds
        return "\(Self.cookieName)=\(id); Path=/ui; Max-Age=\(seconds); HttpOnly; SameSite=Strict"
            + (secure ? "; Secure" : "")
    }

    /// The `Set-Cookie` value that deletes the session cookie.
    static func expiredCookie(secure: Bool) -> String {
        "\(cookieName)=; Path=/ui; Max-Age=0; HttpOnly; SameSite=Strict" + (secure ? "; Secure" : "")
    }
}

/// The dashboard's defence against cross-site request forgery, beside the SameSite=Strict cookie: a POST whose
/// `Origin` header is present must name the host the request was sent to (`Host`), and one whose
/// `Sec-Fetch-Site` header is present must be `same-origin` (or `none`, typed by the user).
enum DashboardOrigin {
    static let secFetchSite = HTTPField.Name("Sec-Fetch-Site")!
    static let host = HTTPField.Name("Host")!
    static let forwardedProto = HTTPField.Name("X-Forwarded-Proto")!

    /// Nil when the request may change state; otherwise why it is refused.
    static func refusal(_ request: Request) -> String? {
        if let site = request.headers[secFetchSite]?.lowercased(), site != "same-origin", site != "none" {
            return "the form was sent from another site (Sec-Fetch-Site: \(site))"
        }
        guard let origin = request.headers[.origin] else { return nil }
        guard let authority = request.head.authority ?? request.headers[host] else {
            return "the request names no host to compare its Origin with"
        }
        guard let originAuthority = Self.authority(ofOrigin: origin),
            Self.normalize(originAuthority.host, scheme: originAuthority.scheme)
                == Self.normalize(authority, scheme: originAuthority.scheme)
        else {
            return "the form was sent from another origin (Origin: \(origin), Host: \(authority))"
        }
        return nil
    }

    /// `(scheme, host[:port])` of an `Origin` value such as `https://cairn.example.com`; nil for `null` and
    /// anything else that is not a serialized origin.
    static func authority(ofOrigin origin: String) -> (scheme: String, host: String)? {
        let parts = origin.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, parts[1].hasPrefix("//") else { return nil }
        let scheme = parts[0].lowercased()
        let host = parts[1].dropFirst(2)
        guard scheme == "http" || scheme == "https", !host.isEmpty, !host.contains("/") else { return nil }
        return (scheme, String(host))
    }

    /// A host[:port], lowercased, without the scheme's default port.
    static func normalize(_ authority: String, scheme: String) -> String {
        let lowered = authority.lowercased()
        let defaultPort = scheme == "https" ? ":443" : ":80"
        return lowered.hasSuffix(defaultPort) ? String(lowered.dropLast(defaultPort.count)) : lowered
    }

    /// Whether the browser reached the server over HTTPS: its `Origin` says so, or a trusted proxy's
    /// `X-Forwarded-Proto` does.
    static func isHTTPS(_ request: Request, _ context: CairnRequestContext, trustedProxies: [String]) -> Bool {
        if request.headers[.origin]?.lowercased().hasPrefix("https://") == true { return true }
        guard let peer = context.peerAddress, trustedProxies.contains(peer) else { return false }
        return request.headers[forwardedProto]?.lowercased() == "https"
    }
}
