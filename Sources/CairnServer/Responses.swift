import CairnJSON
import Foundation
import Hummingbird
import NIOCore

/// Media types the API speaks.
enum MediaTypes {
    static let json = "application/json"
    static let ndjson = "application/x-ndjson"
    static let jsonl = "application/jsonl"
    static let octetStream = "application/octet-stream"
    static let text = "text/plain; charset=utf-8"
    static let prometheus = "text/plain; version=0.0.4; charset=utf-8"

    /// The media type of a `Content-Type` value without parameters, lowercased: `application/json`.
    static func essence(_ contentType: String?) -> String? {
        guard let contentType else { return nil }
        // The common exact spellings without Foundation's trimming and case mapping.
        if contentType == json || contentType == ndjson { return contentType }
        let main = contentType.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false)[0]
        let trimmed = main.trimmingCharacters(in: .whitespaces).lowercased()
        return trimmed.isEmpty ? nil : trimmed
    }
}

/// How a response may be cached (specs/http-api.md §1).
enum CachePolicy {
    /// Record contents and blob bytes: never stored by a shared cache, so every read reaches the
    /// access log.
    case noStore
    /// Checkpoints and proofs: revalidate.
    case noCache

    var headerValue: String {
        switch self {
        case .noStore: "no-store"
        case .noCache: "no-cache"
        }
    }
}

extension Response {
    /// A JSON response: the value's compact serialization.
    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok, cache: CachePolicy? = nil) -> Response {
        bytes(JSONWriter.compactBytes(value), contentType: MediaTypes.json, status: status, cache: cache)
    }

    /// A text response (checkpoints, proofs, metrics).
    static func text(
        _ text: String, contentType: String = MediaTypes.text, status: HTTPResponse.Status = .ok,
        cache: CachePolicy? = .noCache
    ) -> Response {
        bytes(Array(text.utf8), contentType: contentType, status: status, cache: cache)
    }

    /// Raw bytes with a content type.
    static func bytes(
        _ bytes: [UInt8], contentType: String, status: HTTPResponse.Status = .ok, cache: CachePolicy? = nil
    ) -> Response {
        var headers: HTTPFields = [.contentType: contentType]
        if let cache { headers[.cacheControl] = cache.headerValue }
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
