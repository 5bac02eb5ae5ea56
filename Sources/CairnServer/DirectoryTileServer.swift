import CairnLedger
import CairnMerkle
import CairnStorage
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// `cairn serve --mirror DIR`: a log's C2SP tlog-tiles files served read-only from a directory — a mirror
/// (`cairn mirror`, specs/mirror.md) or a `cairn export tiles` copy — so that a mirror answers readers itself.
///
/// Only `GET /checkpoint` and `GET /tile/…` (canonical tile paths, parsed strictly: no other file of the directory,
/// and no path outside it, can be named) are served, with the headers of `TileRoutes`. A partial tile or bundle whose
/// file is gone because the full one replaced it is cut from the full one (a hash tile's first W hashes, a bundle's
/// first W entries), as a log serves it. No tokens: a mirror holds what its log published.
package struct DirectoryTileServer: Sendable {
    package let directory: String
    /// The largest file served (a full entry bundle of 256 entries of 64 KiB, and some).
    static let maxFileBytes = 256 * (Int(UInt16.max) + 2)

    package init(directory: String) {
        self.directory = directory
    }

    /// The router: `/checkpoint` and `/tile/**`, read-only.
    package func makeRouter() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.get("/checkpoint") { _, _ in
            guard let bytes = try? DurableFiles.readIfPresent(path("checkpoint")) else {
                return TileRoutes.error(.notFound, "this mirror holds no checkpoint yet")
            }
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; charset=utf-8"
            headers[.cacheControl] = TileRoutes.checkpointCacheControl
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
        }
        router.get("/tile/**") { request, _ in
            try await LedgerIO.run { response(forPath: String(request.uri.path.dropFirst())) }
        }
        return router
    }

    /// The response to `GET /<path>` for a tile or bundle path such as `tile/0/x001/234.p/7`.
    func response(forPath path: String) -> Response {
        let resource: TileResource
        do {
            resource = try TileResource(path: path)
        } catch {
            return TileRoutes.error(error.code == .outOfRange ? .notFound : .badRequest, error.message)
        }
        guard let bytes = read(resource) else {
            return TileRoutes.error(.notFound, "this mirror does not hold \(resource.path)")
        }
        var headers = HTTPFields()
        headers[.contentType] = "application/octet-stream"
        headers[.cacheControl] = TileRoutes.immutableCacheControl
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// The resource's bytes: its file, or the prefix of the full tile or bundle that replaced a partial one.
    func read(_ resource: TileResource) -> [UInt8]? {
        if let bytes = try? DurableFiles.readIfPresent(path(resource.path)) {
            return bytes.count <= Self.maxFileBytes ? bytes : nil
        }
        switch resource {
        case .hashes(let tile) where tile.isPartial:
            guard let full = MerkleTile(level: tile.level, index: tile.index),
                let bytes = try? DurableFiles.readIfPresent(path(full.path)), bytes.count == 256 * 32
            else { return nil }
            return Array(bytes.prefix(tile.width * 32))
        case .entries(let bundle) where bundle.isPartial:
            guard let full = MerkleEntryBundle(index: bundle.index),
                let bytes = try? DurableFiles.readIfPresent(path(full.path)), bytes.count <= Self.maxFileBytes,
                let entries = try? MerkleEntryBundle.decode(bytes), entries.count == MerkleEntryBundle.fullWidth
            else { return nil }
            return try? MerkleEntryBundle.encode(Array(entries.prefix(bundle.width)), firstIndex: bundle.index << 8)
        default:
            return nil
        }
    }

    private func path(_ relative: String) -> String {
        directory.hasSuffix("/") ? directory + relative : directory + "/" + relative
    }

    /// Serves until SIGTERM or SIGINT. `onListening` gets `http://HOST:PORT` once bound.
    package func serve(
        configuration: ServerConfiguration, onListening: @escaping @Sendable (String) -> Void
    ) async throws {
        defer { LogSink.drainStandardError() }
        let (logger, _, _) = CairnServer.bootstrapProcess(configuration)
        let address: BindAddress =
            switch configuration.listen {
            case .tcp(let host, let port): .hostname(host, port: port)
            case .unix(let path): .unixDomainSocket(path: path)
            }
        let application = Application(
            router: makeRouter(),
            configuration: ApplicationConfiguration(address: address, serverName: "cairn"),
            onServerRunning: { channel in
                let where_ = channel.localAddress.map(CairnServer.describe) ?? configuration.listen.description
                onListening(where_)
                logger.info(
                    "serving a mirror", metadata: ["address": .string(where_), "directory": .string(directory)])
            },
            logger: logger)
        let group = ServiceGroup(
            configuration: .init(services: [application], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}
