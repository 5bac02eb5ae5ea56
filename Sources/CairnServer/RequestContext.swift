import CairnLedger
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Synchronization

/// What the server knows about one request while it is handled: who sent it (the token, once
/// `AuthenticationMiddleware` has run), from where, and its id.
package struct CairnRequestContext: RequestContext {
    package var coreContext: CoreRequestContextStorage
    /// The token that authenticated the request; nil for anonymous requests.
    package var token: APIToken?
    /// The TCP peer's IP address (an IPv4-mapped IPv6 address as plain IPv4), or `unix` for a
    /// connection on a Unix socket (the reverse proxy in front: list `unix` in
    /// `trusted_proxies` to believe its `X-Forwarded-For`); nil in in-process tests.
    package let peerAddress: String?
    /// A random 128-bit id in hex, sent back as `Cairn-Request-Id` and logged.
    package let requestID: String
    /// Shared by every copy of the context, so that outer middleware (the request log) sees what
    /// inner middleware learnt.
    let annotations = RequestAnnotations()

    package init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        peerAddress = Self.peer(remote: source.channel.remoteAddress, local: source.channel.localAddress)
        requestID = Self.makeRequestID()
    }

    static func peer(remote: SocketAddress?, local: SocketAddress?) -> String? {
        if let ip = remote?.ipAddress {
            // A dual-stack listener reports IPv4 clients as ::ffff:a.b.c.d.
            if ip.lowercased().hasPrefix("::ffff:"), ip.contains(".") { return String(ip.dropFirst(7)) }
            return ip
        }
        if case .unixDomainSocket = remote { return "unix" }
        if case .unixDomainSocket = local { return "unix" }
        return nil
    }

    /// Bodies are collected by the routes themselves, each with its own limit.
    package var maxUploadSize: Int { 0 }

    static func makeRequestID() -> String {
        var generator = SystemRandomNumberGenerator()
        let high = generator.next() as UInt64
        let low = generator.next() as UInt64
        func hex(_ value: UInt64) -> String {
            let digits = String(value, radix: 16)
            return String(repeating: "0", count: 16 - digits.count) + digits
        }
        return hex(high) + hex(low)
    }
}

extension HTTPField.Name {
    /// The response header carrying the request id.
    package static let cairnRequestID = HTTPField.Name("Cairn-Request-Id")!
    package static let xForwardedFor = HTTPField.Name("X-Forwarded-For")!
}

/// What inner middleware tells the request log about a request.
final class RequestAnnotations: Sendable {
    private let tokenIDBox = Mutex<String?>(nil)

    /// The id of the token that authenticated the request.
    var tokenID: String? {
        get { tokenIDBox.withLock { $0 } }
        set { tokenIDBox.withLock { $0 = newValue } }
    }
}
