import CairnJSON
import HTTPTypes
import NIOCore
import NIOHTTP1
import NIOHTTPTypes

/// Answers a request that is not valid HTTP/1.1 (a garbled request line or header, detected by
/// the parser before any route sees it) with the API's JSON error body and a request id, like
/// every other error (specs/http-api.md §1.1), then closes the connection. Errors inside a
/// request (a malformed chunked body) are left to the routes, which answer them 400 themselves.
///
/// One per connection (Hummingbird's `additionalChannelHandlers`); runs on its event loop.
final class ProtocolErrorResponder: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    /// Whether a request's head arrived and its response is not finished.
    private var inRequest = false
    private var answered = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head = unwrapInboundIn(data) { inRequest = true }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { inRequest = false }
        context.write(data, promise: promise)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard error is HTTPParserError, !inRequest, !answered else {
            context.fireErrorCaught(error)
            return
        }
        answered = true
        let requestID = CairnRequestContext.makeRequestID()
        let body = JSONWriter.compactBytes(
            APIError(
                .badRequest,
                "the request is not valid HTTP/1.1: "
                    + ((error as? HTTPParserError)?.explanation ?? "\(error)") + "; the connection is closed"
            ).body)
        var head = HTTPResponse(status: .badRequest)
        head.headerFields[.contentType] = MediaTypes.json
        head.headerFields[.contentLength] = String(body.count)
        head.headerFields[.connection] = "close"
        head.headerFields[.cairnRequestID] = requestID
        head.headerFields[.xContentTypeOptions] = "nosniff"
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(ByteBuffer(bytes: body))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in context.close(promise: nil) }
    }
}

extension HTTPParserError {
    /// What a client can act on, rather than the parser's own name for the fault.
    var explanation: String {
        switch self {
        case .invalidChunkSize:
            "a chunk size is not a hexadecimal number (Transfer-Encoding: chunked)"
        case .strictModeAssertion, .trailingGarbage, .lfExpected:
            "the body does not follow its framing (a chunk longer than its size, or bytes where a line end belongs)"
        case .invalidContentLength:
            "the Content-Length is not a number"
        case .unexpectedContentLength:
            "a Content-Length where none may be (for example together with Transfer-Encoding)"
        case .invalidEOFState, .closedConnection:
            "the connection closed before the request was complete"
        case .headerOverflow:
            "the headers are too large"
        case .invalidVersion, .invalidMethod, .invalidURL, .invalidPath, .invalidConstant:
            "the request line is not METHOD PATH HTTP/1.1"
        case .invalidHeaderToken, .invalidCharactersUsed:
            "a header name or value holds characters HTTP does not allow"
        default:
            "its framing is ambiguous or malformed (the request line, Content-Length or Transfer-Encoding)"
        }
    }
}
