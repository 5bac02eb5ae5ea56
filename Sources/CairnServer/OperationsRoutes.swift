import CairnLedger
import Hummingbird

/// `GET /healthz` and `GET /metrics` (specs/http-api.md §5).
struct OperationsRoutes {
    let services: ServerServices

    func register(on routes: RouteBuilder) {
        routes.get("/healthz", access: .open) { request, _ in
            _ = try request.parameters([])
            return .json(["status": "ok", "tree_size": .uint(try services.ledger.treeSize())], cache: .noStore)
        }
        let metricsAccess = RouteAccess.role(.metrics, allowAnonymous: services.configuration.publicMetrics)
        routes.get("/metrics", access: metricsAccess) { request, _ in
            _ = try request.parameters([])
            services.metrics.setTreeSize(try services.ledger.treeSize())
            services.metrics.setAccessLogTreeSize(try services.accessLog.ledger.treeSize())
            services.metrics.setQueuedRecords(services.engine.queuedRecords)
            return .bytes(services.metrics.exposition(), contentType: MediaTypes.prometheus, cache: .noStore)
        }
    }
}
