import CairnCrypto
import CairnJSON
import CairnLedger
import HTTPTypes
import Hummingbird

extension HTTPField.Name {
    /// The salt of a salted blob, in hex, on `GET /v1/blobs/{digest}`.
    static let cairnBlobSalt = HTTPField.Name("Cairn-Blob-Salt")!
}

/// `POST /v1/blobs` and `GET /v1/blobs/{digest}` (specs/http-api.md §3.2, §4.4).
struct BlobRoutes {
    let services: ServerServices

    func register(on routes: RouteBuilder) {
        routes.post("/v1/blobs", access: ServerServices.private_(.append)) { request, _ in
            _ = try request.parameters([])
            guard let mediaType = request.headers[.contentType], MediaTypes.essence(mediaType) != nil else {
                throw APIError(.unsupportedMediaType, "Content-Type is required: it is stored as the blob's media type")
            }
            let bytes = try await request.collectBody(limit: services.configuration.maxBlobBytes, what: "the blob")
            let payload = BlobPayload(bytes: bytes, mediaType: mediaType)
            guard BlobPayload.isValidMediaType(mediaType) else {
                throw APIError(
                    .unsupportedMediaType, "media type \(mediaType.debugDescription) is not of the form type/subtype")
            }
            // Salted (a new random salt), so never refused as erased content: nothing recognises it.
            let stored: [BlobMetadata]
            do {
                stored = try await services.engine.store([payload], salted: true)
            } catch let busy as IngestBusyError {
                throw APIError(
                    .busy, "the ingest queue is full (\(busy.queuedRecords) records waiting); retry later",
                    retryAfter: services.configuration.busyRetryAfterSeconds)
            }
            return .json(Self.json(stored[0]))
        }
        routes.get("/v1/blobs/{digest}", access: ServerServices.private_(.read)) { request, context in
            _ = try request.parameters([])
            let text = try context.pathParameter("digest")
            guard let reference = EntryReference(text), case .digest(let digest) = reference else {
                throw APIError.parameter(
                    "digest", "expected sha256:<64 lower-case hex digits>, got \(text.debugDescription)")
            }
            return try await services.recordedRead(request, context, target: ["blob": .string(digest.description)]) {
                let (metadata, contents) = try await services.ledger.read {
                    snapshot -> (BlobMetadata, (salt: [UInt8], bytes: [UInt8])?) in
                    guard let metadata = try snapshot.blobMetadata(digest) else {
                        throw APIError.notFound("no blob \(digest) in this ledger")
                    }
                    if metadata.erasure != nil { return (metadata, nil) }
                    let (_, salt, bytes) = try snapshot.blobContents(digest)
                    return (metadata, (salt, bytes))
                }
                guard let (salt, bytes) = contents else {
                    let erasure = metadata.erasure!
                    throw APIError(
                        .gone,
                        "blob \(digest) was erased at \(erasure.at) by entry \(erasure.entry): \(erasure.reason)",
                        extra: ["erasure": Self.erasureJSON(erasure)])
                }
                // A blob is served with the media type its uploader gave, never as a page: no
                // sniffing (everywhere), no scripts or requests, and as a download.
                var response = Response.bytes(bytes, contentType: metadata.mediaType, cache: .noStore)
                response.headers[.contentSecurityPolicy] = "default-src 'none'; sandbox"
                response.headers[.contentDisposition] = "attachment"
                // What an auditor needs to check the bytes against a salted address.
                if !salt.isEmpty { response.headers[.cairnBlobSalt] = Hex.encode(salt) }
                return response
            }
        }
    }

    /// `{"blob": "sha256:…", "size": N, "media_type": "…"}`.
    static func json(_ metadata: BlobMetadata) -> JSONValue {
        [
            "blob": .string(metadata.digest.description), "size": .int(metadata.size),
            "media_type": .string(metadata.mediaType),
        ]
    }

    static func erasureJSON(_ erasure: BlobMetadata.Erasure) -> JSONValue {
        var object: JSONObject = [
            "entry": .uint(erasure.entry), "at": .string(erasure.at), "reason": .string(erasure.reason),
        ]
        if let author = erasure.author { object["author"] = .string(author) }
        return .object(object)
    }
}
