import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The errors of AsyncHTTPClient, NIO and NIOSSL, sorted into `HTTPError` kinds. Kept in one
/// place so that every user of the client reports a refused connection, a timeout or a bad
/// certificate the same way.
enum ErrorClassification {
    static func classify(_ error: any Error, timeout: Duration) -> HTTPError {
        switch error {
        case let error as HTTPError:
            return error
        case is CancellationError:
            return HTTPError(.cancelled, "the request was cancelled")
        case let error as HTTPClientError:
            return classify(error, timeout: timeout)
        case let error as NIOConnectionError:
            if let dns = error.dnsAError ?? error.dnsAAAAError {
                return HTTPError(.cannotConnect, "cannot resolve host \(error.host) (\(dns))")
            }
            if let first = error.connectionErrors.first {
                return connectFailure(first.error)
            }
            return HTTPError(.cannotConnect, "cannot connect to \(error.host):\(error.port)")
        case let error as IOError:
            return ioFailure(error)
        case let error as ChannelError:
            switch error {
            case .connectTimeout:
                return HTTPError(.timeout, "no connection within the connect timeout")
            case .eof, .ioOnClosedChannel, .alreadyClosed, .inputClosed, .outputClosed:
                return HTTPError(.connectionLost, "the connection closed before the answer was complete")
            default:
                return HTTPError(.connectionLost, "connection failure (\(error))")
            }
        case let error as NIOSSLError:
            if case .uncleanShutdown = error {
                return HTTPError(.connectionLost, "the TLS connection closed before the answer was complete")
            }
            return HTTPError(.tls, "TLS failure: \(error)")
        case let error as NIOSSLExtraError:
            return HTTPError(.tls, "TLS failure: \(error)")
        case is HTTPParserError:
            return HTTPError(.invalidResponse, "the answer is not valid HTTP (\(error))")
        default:
            return HTTPError(.connectionLost, "request failed: \(String(describing: error))")
        }
    }

    private static func classify(_ error: HTTPClientError, timeout: Duration) -> HTTPError {
        switch error {
        case .invalidURL, .emptyHost, .emptyScheme, .missingSocketPath:
            return HTTPError(.invalidURL, "unusable URL (\(error.shortDescription))")
        case .connectTimeout:
            return HTTPError(.timeout, "no connection within the connect timeout")
        case .tlsHandshakeTimeout:
            return HTTPError(.timeout, "no TLS handshake within the connect timeout")
        case .deadlineExceeded, .readTimeout, .writeTimeout, .getConnectionFromPoolTimeout:
            return HTTPError(.timeout, "no complete answer within \(CairnHTTPClient.seconds(timeout))")
        case .cancelled:
            return HTTPError(.cancelled, "the request was cancelled")
        case .remoteConnectionClosed:
            return HTTPError(.connectionLost, "the server closed the connection before answering completely")
        case .bodyLengthMismatch, .identityCodingIncorrectlyPresent:
            return HTTPError(.invalidResponse, "the answer is not valid HTTP (\(error.shortDescription))")
        default:
            // The cases with associated values cannot be matched; their short descriptions are stable.
            switch error.shortDescription {
            case "Unsupported scheme":
                return HTTPError(.invalidURL, "unusable URL (\(error))")
            case "Invalid header field names", "Invalid header field values":
                return HTTPError(.invalidRequest, "a request header is not valid (\(error))")
            case "Server offered unsupported application protocol":
                return HTTPError(.tls, "TLS failure (\(error))")
            default:
                return HTTPError(.connectionLost, "request failed (\(error.shortDescription))")
            }
        }
    }

    /// A connection attempt that failed: refused, unreachable, no socket file…
    private static func connectFailure(_ error: any Error) -> HTTPError {
        if let error = error as? IOError { return ioFailure(error) }
        if let error = error as? ChannelError, case .connectTimeout = error {
            return HTTPError(.timeout, "no connection within the connect timeout")
        }
        return HTTPError(.cannotConnect, "cannot connect (\(error))")
    }

    private static func ioFailure(_ error: IOError) -> HTTPError {
        switch error.errnoCode {
        case ECONNREFUSED: return HTTPError(.cannotConnect, "connection refused")
        case ENOENT: return HTTPError(.cannotConnect, "no socket at this path")
        case EACCES, EPERM: return HTTPError(.cannotConnect, "permission denied to connect")
        case EHOSTUNREACH, ENETUNREACH, EHOSTDOWN, ENETDOWN, EADDRNOTAVAIL, ENOTSOCK:
            return HTTPError(.cannotConnect, "cannot connect (\(error))")
        case ETIMEDOUT: return HTTPError(.timeout, "the connection timed out")
        case ECONNRESET, EPIPE, ECONNABORTED:
            return HTTPError(.connectionLost, "the connection was reset before the answer was complete")
        default: return HTTPError(.connectionLost, "connection failure (\(error))")
        }
    }
}
