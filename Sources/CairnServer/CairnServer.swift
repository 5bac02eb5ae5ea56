import CairnJSON
import CairnLedger
import CairnMerkle
import CairnWitness
import Hummingbird
import Logging
import Metrics
import NIOCore
import ServiceLifecycle
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `cairn serve`: the HTTP write/query API over one ledger (specs/http-api.md).
///
/// Owns the ledger's group-commit `IngestEngine` (the only writer while it runs: records, blobs,
/// tokens and cosignatures), the access log and its engine, the token store and the metrics.
/// Build it, then `run()` it (until SIGTERM or SIGINT), or hand `makeApplication()` to
/// HummingbirdTesting. Handlers never block the cooperative pool: reads go through the
/// ledger's snapshot door (its I/O pool), writes through the engines.
///
/// ```swift
/// let server = try CairnServer(ledger: try Ledger.open(at: dir), configuration: ServerConfiguration())
/// try await server.run()   // returns after a graceful shutdown; engines are drained and stopped
/// ```
package final class CairnServer: Sendable {
    package typealias Context = CairnRequestContext

    package let configuration: ServerConfiguration
    package let ledger: Ledger
    package let engine: IngestEngine
    package let accessLog: AccessLog
    /// Moves appends' access entries from the main ledger's outbox into the access log.
    package let accessOutbox: AccessOutbox
    package let tokens: TokenStore
    package let metrics: ServerMetrics
    package let logger: Logger
    /// Every route, with its method and access rule.
    package let routeTable: RouteTable
    let responder: RouterResponder<Context>

    /// Prepares the server: opens (creating on first use) the access log and starts both ingest
    /// engines. Nothing listens until `run()`.
    ///
    /// `logListing`, given by `MultiLogServer`, answers `GET /v1/logs` (the logs of its directory).
    package init(
        ledger: Ledger, configuration: ServerConfiguration, logger: Logger = Logger(label: "cairn.serve"),
        metrics: ServerMetrics = ServerMetrics(), logListing: (@Sendable () async throws -> JSONValue)? = nil
    ) throws {
        try configuration.validate()
        self.configuration = configuration
        self.ledger = ledger
        self.logger = logger
        self.metrics = metrics
        var accessIngest = configuration.accessLogIngest
        accessIngest.commitObserver = .init { [metrics] observation in
            metrics.setAccessLogTreeSize(observation.treeSize)
        }
        let accessLedger = try AccessLog.openOrCreate(for: ledger)
        accessLog = AccessLog(ledger: accessLedger, configuration: accessIngest)
        accessOutbox = AccessOutbox(main: ledger, accessLog: accessLog, logger: logger)
        var ingest = configuration.ingest
        ingest.commitObserver = .init { [metrics] observation in metrics.observeMainCommit(observation) }
        ingest.outboxDelivery = accessOutbox.delivery
        engine = IngestEngine(ledger: ledger, configuration: ingest)
        tokens = TokenStore(ledger: ledger)
        metrics.setTreeSize(try ledger.read { $0.treeSize })
        metrics.setAccessLogTreeSize(try accessLedger.read { $0.treeSize })
        let services = ServerServices(
            ledger: ledger, engine: engine, accessLog: accessLog, tokens: tokens, metrics: metrics,
            configuration: configuration, logger: logger)
        (responder, routeTable) = Self.makeResponder(services, logListing: logListing)
    }

    /// The router: middleware (outermost first) — request log and error rendering, request
    /// timeout, authentication, rate limit — then each route behind its `RequireRole`.
    static func makeResponder(
        _ services: ServerServices, logListing: (@Sendable () async throws -> JSONValue)? = nil
    ) -> (RouterResponder<Context>, RouteTable) {
        let router = Router(context: Context.self)
        let builder = RouteBuilder(router: router)
        // The table is complete before any request arrives; the middleware reads it through a box.
        let table = RouteTableBox()
        // The dashboard's security headers go on every /ui/ response, errors of the middleware below included.
        router.add(middleware: DashboardSecurityHeaders())
        router.add(middleware: RequestLogMiddleware(metrics: services.metrics, routes: table, logger: services.logger))
        router.add(middleware: RequestTimeoutMiddleware(timeout: services.configuration.requestTimeout))
        router.add(middleware: AuthenticationMiddleware(tokens: services.tokens))
        if let limit = services.configuration.rateLimit {
            router.add(
                middleware: RateLimitMiddleware(
                    limiter: RateLimiter(limit: limit), trustedProxies: Set(services.configuration.trustedProxies)))
        }
        EntryRoutes(services: services).register(on: builder)
        RecordRoutes(services: services).register(on: builder)
        StatsRoutes(services: services).register(on: builder)
        BlobRoutes(services: services).register(on: builder)
        ProofRoutes(
            ledger: services.ledger, checkpointPath: "/checkpoint", proofPrefix: "/v1/proof",
            access: services.publicRead
        ).register(on: builder)
        // The key history (specs/key-rotation.md §3): how a verifier who pinned an older vkey reaches the current one.
        builder.get("/v1/key-history", access: services.publicRead) { request, _ in
            _ = try request.parameters([])
            return .json(try await services.ledger.read { try $0.keyHistory() }.json, cache: .noCache)
        }
        AccessLogRoutes(services: services).register(on: builder)
        OperationsRoutes(services: services).register(on: builder)
        if let logListing {
            // The logs of the directory this server is one of (MultiLogServer): metadata as public as checkpoints.
            builder.get("/v1/logs", access: services.publicRead) { request, _ in
                _ = try request.parameters([])
                return .json(try await logListing(), cache: .noStore)
            }
        }
        // Entry bundles are record contents: never public, and every read is in the access log.
        let tiles = TileRoutes(ledger: services.ledger)
        builder.get("/tile/entries/**", access: ServerServices.private_(.read)) { request, context in
            let path = String(request.uri.path.dropFirst())
            // A path that names no bundle reads nothing: refused before the read is recorded.
            if case .failure(let error) = Result(catching: { () throws(TilePathError) in try TileResource(path: path) }),
                error.code != .outOfRange
            {
                var response = TileRoutes.error(.badRequest, error.message)
                response.headers[.cacheControl] = CachePolicy.noStore.headerValue
                return response
            }
            return try await services.recordedRead(request, context, target: ["tile": .string(path)]) {
                var response = await tiles.response(forPath: path)
                response.headers[.cacheControl] = CachePolicy.noStore.headerValue
                return response
            }
        }
        // The hash tiles register on the router itself; their access rule is applied by path.
        router.add(middleware: RequireRole(access: services.publicRead, under: "/tile/"))
        tiles.register(on: router)
        builder.noteExternal(.get, "/tile/**", access: services.publicRead)
        // The dashboard (HTML for browsers, sessions instead of tokens): not an API route, so not in the table.
        DashboardRoutes(services: services).register(on: router)
        table.set(builder.table)
        return (router.buildResponder(), builder.table)
    }

    /// The Hummingbird application (HTTP/1.1, idle timeout, bind address from the configuration).
    package func makeApplication(
        onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
    ) -> Application<RouterResponder<Context>> {
        Self.application(
            responder: responder, configuration: configuration, maxConnections: effectiveMaxConnections,
            logger: logger, onServerRunning: onServerRunning)
    }

    /// An application serving `responder` as the configuration says (address, idle timeout, HTTP/1.1 protocol
    /// errors answered, at most `maxConnections` connections).
    static func application<Responder: HTTPResponder>(
        responder: Responder, configuration: ServerConfiguration, maxConnections: Int, logger: Logger,
        onServerRunning: @escaping @Sendable (any Channel) async -> Void
    ) -> Application<Responder> where Responder.Context == Context {
        let address: BindAddress =
            switch configuration.listen {
            case .tcp(let host, let port): .hostname(host, port: port)
            case .unix(let path): .unixDomainSocket(path: path)
            }
        return Application(
            responder: responder,
            server: .http1(
                configuration: .init(
                    additionalChannelHandlers: [ProtocolErrorResponder()], idleTimeout: .init(configuration.idleTimeout)
                )),
            configuration: ApplicationConfiguration(
                address: address, serverName: "cairn",
                availableConnectionsDelegate: .maximum(maxConnections, logger: logger)),
            onServerRunning: onServerRunning,
            logger: logger)
    }

    /// The connection cap: the configured one, or one derived from the descriptor limit that
    /// leaves room for everything else the process opens (the ledger, blobs, logs, threads).
    package var effectiveMaxConnections: Int {
        if let configured = configuration.maxConnections { return configured }
        return Self.connectionsFitting(descriptorLimit: Self.descriptorLimit())
    }

    /// Connections that fit under a descriptor limit, keeping 256 descriptors (and a tenth of the
    /// limit) for the rest of the process.
    static func connectionsFitting(descriptorLimit: Int) -> Int {
        max(16, min(16_384, descriptorLimit - max(256, descriptorLimit / 10)))
    }

    /// The soft limit on open descriptors.
    static func descriptorLimit() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
        return limit.rlim_cur >= rlim_t(Int32.max) ? 1 << 20 : Int(clamping: limit.rlim_cur)
    }

    /// Raises the soft descriptor limit to the hard one (`cairn serve` does this at start).
    /// Returns the new soft limit.
    @discardableResult
    package static func raiseDescriptorLimit() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return descriptorLimit() }
        if limit.rlim_cur < limit.rlim_max {
            limit.rlim_cur = limit.rlim_max
            _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        }
        return descriptorLimit()
    }

    /// First reconciles the access log with the ledger (``AccessLogReconciliation``). Then serves
    /// until SIGTERM or SIGINT, and shuts down gracefully in a declared order, as one
    /// `ServiceGroup` (services stop in the reverse of the order they are listed in):
    ///
    /// 1. the HTTP server stops accepting connections and lets in-flight requests finish
    ///    (appends waiting for their commit get their response);
    /// 2. the witness coordinator stops;
    /// 3. the access log's engine drains and commits (reads in flight were recorded by then);
    /// 4. the ledger's engine drains and commits; then `run()` returns.
    ///
    /// If an engine's writer fails (a failed commit), the group shuts down and `run()` throws:
    /// a server that can no longer make records durable must not keep answering.
    package func run(onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }) async throws {
        try await reconcileAccessLog()
        let group = ServiceGroup(
            configuration: .init(
                services: try backgroundServices() + [
                    .init(
                        service: makeApplication(onServerRunning: onServerRunning),
                        successTerminationBehavior: .gracefullyShutdownGroup,
                        failureTerminationBehavior: .gracefullyShutdownGroup)
                ], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        deleteDeliveredOutboxRows()
    }

    /// Once both engines have stopped: deletes the access-outbox rows the access log holds, so a clean stop
    /// leaves none (one left behind would be moved again at the next start, as a duplicate).
    func deleteDeliveredOutboxRows() {
        // After a failed commit nothing more is written to the ledger (IngestEngine): the next start moves the rows
        // again instead.
        guard engine.failure == nil else { return }
        do {
            try accessOutbox.deleteDelivered()
        } catch {
            logger.warning(
                "could not delete the access-outbox rows the access log holds; the next start moves them again",
                metadata: ["error": .string(String(describing: error))])
        }
    }

    /// Appends' access entries that a stopped process left in the access outbox are moved into the access log,
    /// then entries a crash left without their access-log record get one (``AccessLogReconciliation``): before
    /// anything listens.
    package func reconcileAccessLog() async throws {
        let moved = try await accessOutbox.moveLeftovers(through: engine)
        if moved > 0 {
            logger.info(
                "access outbox: appends a previous run acknowledged are now in the access log",
                metadata: ["rows": .stringConvertible(moved)])
        }
        let reconciled = try await AccessLogReconciliation(main: ledger, accessLog: accessLog).run()
        logger.log(
            level: reconciled.unrecordedEntries > 0 ? .warning : .debug,
            reconciled.unrecordedEntries > 0
                ? "access log reconciled: entries appended without an access-log record are now recorded"
                : "access log reconciled",
            metadata: [
                "from": .stringConvertible(reconciled.from), "through": .stringConvertible(reconciled.through),
                "unrecorded_entries": .stringConvertible(reconciled.unrecordedEntries),
                "runs": .stringConvertible(reconciled.runs),
                "access_entries_read": .stringConvertible(reconciled.accessEntriesRead),
            ])
    }

    /// The services that run beside the listener, in start order: both engines, then the witness coordinator and
    /// the tile publisher (when configured). A group stops them in reverse order: the main engine before the access
    /// log's, which then commits the access-outbox rows of the main engine's last commits.
    func backgroundServices() throws -> [ServiceGroupConfiguration.ServiceConfiguration] {
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: accessLog.engine, failureTerminationBehavior: .gracefullyShutdownGroup),
            .init(service: engine, failureTerminationBehavior: .gracefullyShutdownGroup),
        ]
        if !configuration.witnesses.isEmpty {
            services.append(.init(service: makeWitnessService()))
        }
        if let publishing = configuration.publishTiles {
            let client = try publishing.client(environment: TilePublisherService.processEnvironment)
            services.append(
                .init(
                    service: TilePublisherService(
                        ledger: ledger, client: client, publishing: publishing,
                        logger: Logger(label: "cairn.publish-tiles"))))
        }
        return services
    }

    /// Commits whatever is queued and stops both engines, blocking the calling thread: for tests
    /// and tools that used the server without `run()` (which stops them itself).
    package func shutdown() {
        engine.shutdown()
        accessLog.shutdown()
        deleteDeliveredOutboxRows()
    }
}

extension CairnServer {
    /// What `cairn serve` does: bootstraps swift-log (structured lines on stderr) and
    /// swift-metrics (into the server's registry) for the whole process — so call it once per
    /// process — then serves until SIGTERM/SIGINT. `onListening` gets `http://HOST:PORT` (or
    /// `unix:PATH`) once the socket is bound.
    package static func serveProcess(
        ledger: Ledger, configuration: ServerConfiguration, onListening: @escaping @Sendable (String) -> Void
    ) async throws {
        // Log lines are written by a thread of their own; let them all out before the process exits.
        defer { LogSink.drainStandardError() }
        let (logger, metrics, descriptors) = bootstrapProcess(configuration)
        let server = try CairnServer(ledger: ledger, configuration: configuration, logger: logger, metrics: metrics)
        try await server.run { channel in
            let address = channel.localAddress.map(describe) ?? configuration.listen.description
            onListening(address)
            let size = (try? await ledger.read { $0.treeSize }) ?? 0
            logger.info(
                "listening",
                metadata: [
                    "address": .string(address), "ledger": .string(ledger.directory),
                    "tree_size": .stringConvertible(size), "descriptors": .stringConvertible(descriptors),
                    "max_connections": .stringConvertible(server.effectiveMaxConnections),
                    "public_reads": .stringConvertible(configuration.publicReads),
                ])
        }
        let size = (try? await ledger.read { $0.treeSize }) ?? 0
        logger.info("stopped", metadata: ["tree_size": .stringConvertible(size)])
    }

    /// Bootstraps swift-log (structured lines on stderr) and swift-metrics (into the returned metrics' registry) for
    /// the process, raises the descriptor limit, and warns about a non-loopback address.
    static func bootstrapProcess(_ configuration: ServerConfiguration) -> (Logger, ServerMetrics, Int) {
        let format = configuration.logFormat
        let level = configuration.logLevel
        LoggingSystem.bootstrap { label in StructuredLogHandler(label: label, format: format, level: level) }
        let logger = Logger(label: "cairn.serve")
        let metrics = ServerMetrics()
        MetricsSystem.bootstrap(metrics.metricsFactory)
        let descriptors = raiseDescriptorLimit()
        if !configuration.listen.isLoopback {
            logger.warning(
                "listening on a non-loopback address: terminate TLS in front of this server",
                metadata: ["listen": .string(configuration.listen.description)])
        }
        return (logger, metrics, descriptors)
    }

    /// `http://127.0.0.1:8080`, `http://[::1]:8080` or `unix:/run/cairn.sock`.
    static func describe(_ address: SocketAddress) -> String {
        switch address {
        case .v4: "http://\(address.ipAddress ?? "0.0.0.0"):\(address.port ?? 0)"
        case .v6: "http://[\(address.ipAddress ?? "::")]:\(address.port ?? 0)"
        case .unixDomainSocket: "unix:\(address.pathname ?? "")"
        }
    }
}

/// A `RouteTable` handed to middleware before the routes exist, filled in once they do.
final class RouteTableBox: Sendable {
    private let box = Mutex<RouteTable>(RouteTable())
    func set(_ table: RouteTable) { box.withLock { $0 = table } }
    func methods(matching path: String) -> Set<HTTPRequest.Method> { box.withLock { $0.methods(matching: path) } }
}

extension CairnServer {
    /// The witness coordinator of the configured witnesses, as a service that stops with the
    /// server.
    func makeWitnessService() -> any Service {
        let endpoints = configuration.witnesses.map { WitnessEndpoint(name: $0.name, vkey: $0.vkey, url: $0.url) }
        return WitnessService(
            coordinator: WitnessCoordinator(
                engine: engine, witnesses: endpoints, logger: Logger(label: "cairn.witness")))
    }
}

/// Runs a `WitnessCoordinator` until graceful shutdown (or cancellation).
struct WitnessService: Service {
    let coordinator: WitnessCoordinator

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await coordinator.run()
        }
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
