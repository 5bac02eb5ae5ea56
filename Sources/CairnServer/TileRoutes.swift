// C2SP tlog-tiles read routes (https://c2sp.org/tlog-tiles; Cairn's normative description: specs/tiles.md).
//
// FOR THE SERVER (wiring, owned by `cairn serve`):
//
//     let router = Router(context: YourContext.self)
//     TileRoutes(ledger: ledger).register(on: router)      // GET /tile/<L>/<N>[.p/<W>], GET /tile/entries/<N>[.p/<W>]
//     router.get("/checkpoint") { _, _ in TileRoutes.checkpointResponse(try await ledger.read { try $0.checkpoint() }) }
//
// - `register(on:)` adds `GET /tile/**` (one recursive route; the raw request path is parsed strictly, so a
//   non-canonical spelling is a 400, never a second name for a tile). It checks no token: the caller applies the
//   access rules (`cairn serve` makes hash tiles public with `public_reads`, and serves `/tile/entries/…` — record
//   contents — itself, through `response(forPath:)`, with a `read` token and an access-log entry).
//   Register it on the router itself (not on a `group`): the log's URL prefix is the server root.
// - `/checkpoint` stays the server's: `TileRoutes.checkpointResponse(_:)` builds the response the spec asks for
//   (`text/plain; charset=utf-8`, `Cache-Control: no-cache`); use it, or set the same headers yourself.
// - Requests are answered from ledger snapshots on the ledger I/O pool (one per request, ≤ 256 reads); they never
//   block appends or the cooperative pool.

import CairnLedger
import CairnMerkle
import CairnNote
import Hummingbird

/// The C2SP tlog-tiles read API: hash tiles and entry bundles straight from the ledger's stored hashes and leaves.
///
/// `Sendable`; holds only the ledger. Statuses:
///
/// | request | status | `Cache-Control` |
/// | --- | --- | --- |
/// | a tile or bundle the tree holds (full or partial, including a partial of a tile that is now full) | 200, `application/octet-stream` | `public, max-age=31536000, immutable` |
/// | a well-formed path beyond the current tree (or beyond any tree) | 404 | `no-store` |
/// | a path that is not a canonical tile path | 400 | `no-store` |
/// | a bundle holding an entry longer than 65,535 bytes | 501 | `no-store` |
package struct TileRoutes: Sendable {
    /// `Cache-Control` of tiles and bundles: their bytes never change (see specs/tiles.md, section 6).
    package static let immutableCacheControl = "public, max-age=31536000, immutable"
    /// `Cache-Control` of `/checkpoint`: mutable, so caches must revalidate it on every use.
    package static let checkpointCacheControl = "no-cache"
    /// `Cache-Control` of errors: a 404 for a tile that does not exist yet must not outlive its growth.
    package static let errorCacheControl = "no-store"

    let ledger: Ledger

    package init(ledger: Ledger) {
        self.ledger = ledger
    }

    /// Registers `GET /tile/**` on `router`.
    package func register<Context: RequestContext>(on router: Router<Context>) {
        router.get("/tile/**") { request, context -> Response in
            // The raw path, not the router's split components: the router drops empty components, and a tile has
            // exactly one spelling.
            let path = request.uri.path
            guard path.hasPrefix("/tile/") else {
                return Self.error(.badRequest, "not a tile path: \(path)")
            }
            return await self.response(forPath: String(path.dropFirst()))
        }
    }

    /// The response to `GET /<path>` for a path relative to the log prefix, such as `tile/0/x001/234.p/7`.
    package func response(forPath path: String) async -> Response {
        let resource: TileResource
        do {
            resource = try TileResource(path: path)
        } catch {
            return Self.error(error.code == .outOfRange ? .notFound : .badRequest, error.message)
        }
        let bytes: [UInt8]
        do {
            bytes = try await ledger.read { try $0.tileData(resource) }
        } catch let error as LedgerError {
            switch error.code {
            case .sizeOutOfRange: return Self.error(.notFound, error.message)
            case .entryTooLarge: return Self.error(.notImplemented, error.message)
            default: return Self.error(.internalServerError, "cannot read \(resource.path): \(error)")
            }
        } catch {
            return Self.error(.internalServerError, "cannot read \(resource.path): \(error)")
        }
        var headers = HTTPFields()
        headers[.contentType] = "application/octet-stream"
        headers[.cacheControl] = Self.immutableCacheControl
        headers[.contentLength] = String(bytes.count)
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// The `/checkpoint` response: the signed checkpoint note, `text/plain; charset=utf-8`, `Cache-Control:
    /// no-cache`.
    package static func checkpointResponse(_ checkpoint: SignedCheckpoint) -> Response {
        let bytes = Array(checkpoint.serialized.utf8)
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; charset=utf-8"
        headers[.cacheControl] = checkpointCacheControl
        headers[.contentLength] = String(bytes.count)
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    static func error(_ status: HTTPResponse.Status, _ message: String) -> Response {
        let bytes = Array((message + "\n").utf8)
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; charset=utf-8"
        headers[.cacheControl] = errorCacheControl
        headers[.contentLength] = String(bytes.count)
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
