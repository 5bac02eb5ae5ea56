import CairnJSON
import CairnLedger
import HTTPTypes
import Hummingbird
import Logging
import Metrics
import NIOCore
import ServiceLifecycle

/// `cairn serve --logs DIR`: several logs behind one listener (specs/sealing.md §7, specs/http-api.md §8).
///
/// Each log is a full `CairnServer` — its own ingest engine, access log, tokens and metrics — served under
/// `/logs/{name}/`, where its API, checkpoint and tiles are exactly those of a single-log server. Requests outside
/// `/logs/` go to the **default log** (the one current log: open, with no successor), so clients keep one URL when a
/// shard is sealed and succeeded. `GET /v1/logs` lists the logs, and `GET /v1/query?logs=all` runs a query on
/// every log and merges the matches, each naming its log.
package final class MultiLogServer: Sendable {
    package typealias Context = CairnRequestContext

    /// One served log.
    package struct Log: Sendable {
        package let name: String
        package let server: CairnServer
    }

    package let logs: [Log]
    package let defaultLog: Log?
    package let configuration: ServerConfiguration
    let logger: Logger

    /// Builds a server per log. `defaultName` names the log of the unprefixed routes (nil: none, and those routes
    /// answer 404 naming the logs). `listing` is the body of `GET /v1/logs`.
    package init(
        logs named: [(name: String, ledger: Ledger)], defaultName: String?, configuration: ServerConfiguration,
        listing: @escaping @Sendable () async throws -> JSONValue, logger: Logger = Logger(label: "cairn.serve"),
        metrics: ServerMetrics = ServerMetrics()
    ) throws {
        guard configuration.publishTiles == nil else {
            // One prefix for several logs would interleave their tiles and checkpoints.
            throw ConfigurationError(
                "publish_tiles names one object-storage prefix: it cannot be used with several logs (publish each "
                    + "log with `cairn export tiles --to`, or serve it on its own)")
        }
        self.configuration = configuration
        self.logger = logger
        var logs: [Log] = []
        for (name, ledger) in named {
            // The default log's metrics are the process's (swift-metrics is bootstrapped with them).
            let server = try CairnServer(
                ledger: ledger, configuration: configuration, logger: logger.with(log: name),
                metrics: name == defaultName ? metrics : ServerMetrics(), logListing: listing)
            logs.append(Log(name: name, server: server))
        }
        self.logs = logs
        defaultLog = logs.first { $0.name == defaultName }
    }

    /// The Hummingbird application: one listener, the dispatcher as responder.
    package func makeApplication(
        onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
    ) -> Application<LogDispatcher> {
        CairnServer.application(
            responder: dispatcher, configuration: configuration,
            maxConnections: logs.first?.server.effectiveMaxConnections ?? 16, logger: logger,
            onServerRunning: onServerRunning)
    }

    /// The responder that routes each request to its log.
    package var dispatcher: LogDispatcher {
        LogDispatcher(
            logs: logs.map { ($0.name, $0.server.responder, $0.server.ledger.profile == .provenance) },
            defaultLog: defaultLog.map { ($0.name, $0.server.responder) })
    }

    /// Reconciles every log's access log, then serves until SIGTERM or SIGINT; on shutdown the listener stops
    /// first, then every log's engines drain and commit (as `CairnServer.run`).
    package func run(onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }) async throws {
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
        for log in logs {
            try await log.server.reconcileAccessLog()
            services += try log.server.backgroundServices()
        }
        services.append(
            .init(
                service: makeApplication(onServerRunning: onServerRunning),
                successTerminationBehavior: .gracefullyShutdownGroup,
                failureTerminationBehavior: .gracefullyShutdownGroup))
        let group = ServiceGroup(
            configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        for log in logs { log.server.deleteDeliveredOutboxRows() }
    }

    /// Stops every log's engines (for tests that did not `run()`).
    package func shutdown() {
        for log in logs { log.server.shutdown() }
    }
}

extension MultiLogServer {
    /// `cairn serve --logs`: as `CairnServer.serveProcess`, for several logs. `onListening` gets the address.
    package static func serveProcess(
        logs: [(name: String, ledger: Ledger)], defaultName: String?, configuration: ServerConfiguration,
        listing: @escaping @Sendable () async throws -> JSONValue, onListening: @escaping @Sendable (String) -> Void
    ) async throws {
        defer { LogSink.drainStandardError() }
        let (logger, metrics, descriptors) = CairnServer.bootstrapProcess(configuration)
        let server = try MultiLogServer(
            logs: logs, defaultName: defaultName, configuration: configuration, listing: listing, logger: logger,
            metrics: metrics)
        try await server.run { channel in
            let address = channel.localAddress.map(CairnServer.describe) ?? configuration.listen.description
            onListening(address)
            logger.info(
                "listening",
                metadata: [
                    "address": .string(address), "logs": .string(logs.map(\.name).joined(separator: ",")),
                    "default_log": .string(defaultName ?? "-"), "descriptors": .stringConvertible(descriptors),
                    "public_reads": .stringConvertible(configuration.publicReads),
                ])
        }
        logger.info("stopped")
    }
}

extension Logger {
    /// The logger with the log's name in every line's metadata.
    func with(log name: String) -> Logger {
        var logger = self
        logger[metadataKey: "log"] = .string(name)
        return logger
    }
}

/// Routes a request to its log: `/logs/{name}/…` to that log's router with the prefix removed, anything else to
/// the default log's router; `GET /v1/query?logs=all` to every log's, merging their matches.
package struct LogDispatcher: HTTPResponder {
    package typealias Context = CairnRequestContext

    /// Each log, and whether it can be queried (a provenance ledger; a generic one holds no records to query).
    let logs: [(name: String, responder: RouterResponder<Context>, queryable: Bool)]
    let defaultLog: (name: String, responder: RouterResponder<Context>)?

    package func respond(to request: Request, context: Context) async throws -> Response {
        let path = request.uri.path
        if path.hasPrefix("/logs/") {
            let rest = path.dropFirst("/logs/".count)
            let name = rest.prefix { $0 != "/" }
            guard let log = logs.first(where: { $0.name.utf8.elementsEqual(name.utf8) }) else {
                return Self.notFound("no log named \(String(name).debugDescription) here; GET /v1/logs lists them")
            }
            let inner = rest.dropFirst(name.count)
            return try await log.responder.respond(
                to: Self.rewriting(request, path: inner.isEmpty ? "/" : String(inner)), context: context)
        }
        if request.method == .get, path == "/v1/query", Self.spansLogs(request) {
            return try await queryEveryLog(request, context: context)
        }
        guard let defaultLog else {
            return Self.notFound(
                "this server has several current logs (or none): address one as /logs/{name}/…; GET /logs/"
                    + "{name}/v1/logs lists them")
        }
        return try await defaultLog.responder.respond(to: request, context: context)
    }

    /// Whether the query string says `logs=all`.
    static func spansLogs(_ request: Request) -> Bool {
        request.uri.queryParameters.getAll("logs").contains("all")
    }

    /// `request` with another path (its query string kept, `logs=` removed).
    static func rewriting(_ request: Request, path: String, droppingLogs: Bool = false) -> Request {
        var head = request.head
        var query = request.uri.query ?? ""
        if droppingLogs {
            query = query.split(separator: "&").filter { !$0.hasPrefix("logs=") }.joined(separator: "&")
        }
        head.path = query.isEmpty ? path : path + "?" + query
        return Request(head: head, body: request.body)
    }

    /// Runs the query on every log, in the directory's order, and merges the matches, each with `"log"`: the
    /// first error answers for all (a token unknown to one log, a bad parameter). `limit` applies to the whole.
    func queryEveryLog(_ request: Request, context: Context) async throws -> Response {
        let limit = request.uri.queryParameters.get("limit").flatMap { Int($0) } ?? 1000
        var matches: [JSONValue] = []
        for log in logs where log.queryable {
            let response = try await log.responder.respond(
                to: Self.rewriting(request, path: "/v1/query", droppingLogs: true), context: context)
            guard response.status == .ok else { return response }
            let collector = BufferCollector()
            try await response.body.write(collector)
            guard let value = try? JSONParser.parse(Array(collector.buffer.readableBytesView)),
                let rows = value["matches"]?.arrayValue
            else {
                return APIError(.internalError, "log \(log.name) answered the query unreadably").response()
            }
            for row in rows where matches.count < limit {
                guard case .object(var object) = row else { continue }
                object["log"] = .string(log.name)
                matches.append(.object(object))
            }
        }
        return .json(["count": .int(matches.count), "matches": .array(matches)], cache: .noStore)
    }

    static func notFound(_ message: String) -> Response {
        APIError.notFound(message).response()
    }
}

/// Collects a response body's bytes.
final class BufferCollector: ResponseBodyWriter, @unchecked Sendable {
    var buffer = ByteBuffer()

    func write(_ buffer: ByteBuffer) async throws {
        var copy = buffer
        self.buffer.writeBuffer(&copy)
    }

    func finish(_ trailingHeaders: HTTPFields?) async throws {}
}
