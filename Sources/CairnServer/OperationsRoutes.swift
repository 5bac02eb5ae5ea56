import CairnLedger
import Hummingbird

/// `GET /healthz` and `GET /metrics` (specs/http-api.md §5).
struct OperationsRoutes {
    let services: ServerServices

    func register(on routes: RouteBuilder) {
        routes.get("/healthz", access: .open) { request, _ in
            _ = try request.parameters([])
            let size = try await services.ledger.read { $0.treeSize }
            return .json(["status": "ok", "tree_size": .uint(size)], cache: .noStore)
        }
        let metricsAccess = RouteAccess.role(.metrics, allowAnonymous: services.configuration.publicMetrics)
        routes.get("/metrics", access: metricsAccess) { request, _ in
            _ = try request.parameters([])
            services.metrics.setTreeSize(try await services.ledger.read { $0.treeSize })
            services.metrics.setAccessLogTreeSize(try await services.accessLog.ledger.read { $0.treeSize })
            services.metrics.setQueuedRecords(services.engine.queuedRecords)
            return .bytes(services.metrics.exposition(), contentType: MediaTypes.prometheus, cache: .noStore)
        }
    }
}
