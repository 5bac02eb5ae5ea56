import CairnInsight
import CairnJSON
import CairnLedger
import Foundation
import Hummingbird

/// `GET /v1/stats` and `GET /v1/stats/{view}` (specs/http-api.md §4.7): the insight views' figures, read from the
/// ledger's aggregates, each count with the query that lists what it counts. Role `read` (or `audit`); recorded in
/// the access log like every read of what records say.
struct StatsRoutes {
    let services: ServerServices

    static let parameterNames: Set<String> = ["since", "until", "repo"]

    func register(on routes: RouteBuilder) {
        routes.get("/v1/stats", access: ServerServices.private_(.read)) { request, context in
            try await respond(.overview, request, context)
        }
        routes.get("/v1/stats/{view}", access: ServerServices.private_(.read)) { request, context in
            let name = try context.pathParameter("view")
            guard let view = StatsView(rawValue: name) else {
                throw APIError(
                    .notFound,
                    "no stats view \(name.debugDescription): one of "
                        + StatsView.allCases.map(\.rawValue).joined(separator: ", "))
            }
            return try await respond(view, request, context)
        }
    }

    private func respond(_ view: StatsView, _ request: Request, _ context: CairnRequestContext) async throws -> Response
    {
        let parameters = try request.parameters(Self.parameterNames)
        let window = try Self.window(parameters)
        // {"stats": {"view": "gaps", "since": …}}: the view and the parameters as given.
        var stats = JSONObject()
        stats["view"] = .string(view.rawValue)
        for (name, value) in parameters.json.objectValue ?? [:] { stats[name] = value }
        return try await services.recordedRead(request, context, target: .object(["stats": .object(stats)])) {
            let document = try await services.statsDocument(view, window: window)
            return .json(document.json, cache: .noStore)
        }
    }

    /// The window the parameters describe: `since` (inclusive), `until` (exclusive), `repo`.
    static func window(_ parameters: QueryParameters) throws(APIError) -> StatsWindow {
        var window = StatsWindow()
        window.since = try parameters.time("since")
        window.until = try parameters.time("until")
        window.repo = try parameters.string("repo")
        if let since = window.since, let until = window.until, since >= until {
            throw APIError.parameter("until", "the window is empty: until (exclusive) must be after since (inclusive)")
        }
        return window
    }
}

extension ServerServices {
    /// One stats view, for the API and the dashboard: the figures of the ledger's aggregates, the access log's
    /// activity and the last saved fire drill for the health view.
    func statsDocument(_ view: StatsView, window: StatsWindow) async throws -> StatsDocument {
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        var context = StatsContext()
        if view == .health {
            context.accessLog = try await accessLog.ledger.read { snapshot in
                StatsContext.AccessActivity(
                    entries: snapshot.treeSize, lastDay: try snapshot.entriesAppended(since: now - 86_400_000))
            }
        }
        if view == .health || view == .gaps {
            do {
                (context.lastDrill, context.lastMissingAudit) = try SavedReports.context(
                    ledgerDirectory: ledger.directory)
            } catch {
                logger.warning("stats: \(error)")
            }
        }
        let known = context
        do {
            return try await ledger.read { snapshot in
                try StatsEngine.document(view, window: window, in: snapshot, now: now, context: known)
            }
        } catch let error as StatsError {
            throw APIError(.unavailable, error.message)
        }
    }
}
