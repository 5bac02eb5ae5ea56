import CairnJSON
import CairnLedger
import CairnRecords
import Hummingbird

/// `GET /v1/records/{record}` and `GET /v1/query` (specs/http-api.md §4.2, §4.3).
struct RecordRoutes {
    let services: ServerServices

    func register(on routes: RouteBuilder) {
        routes.get("/v1/records/{record}", access: ServerServices.private_(.read)) { request, context in
            let parameters = try request.parameters(["history"])
            let history = try parameters.bool("history") ?? false
            let reference = try context.pathParameter("record")
            return try await services.recordedRead(request, context, target: ["record": .string(reference)]) {
                let view = try services.ledger.view(try services.ledger.resolve(recordReference: reference))
                return .json(Self.viewJSON(view, history: history), cache: .noStore)
            }
        }
        routes.get("/v1/query", access: ServerServices.private_(.read)) { request, context in
            let parameters = try request.parameters(QueryParameters.recordQueryNames)
            let query = try parameters.recordQuery(
                defaultLimit: services.configuration.defaultQueryResults,
                maxLimit: services.configuration.maxQueryResults)
            return try await services.recordedRead(request, context, target: ["query": parameters.json]) {
                let matches = try services.ledger.query(query)
                return .json(
                    ["count": .int(matches.count), "matches": .array(matches.map(Self.matchJSON))], cache: .noStore)
            }
        }
    }

    /// As `cairn show --json`.
    static func viewJSON(_ view: RecordView, history: Bool) -> JSONValue {
        var object: JSONObject = [
            "index": .uint(view.index), "digest": .string(view.digest.description),
            "corrected": .bool(view.isCorrected), "record": view.effective,
        ]
        if view.isCorrected { object["original"] = view.original }
        if history {
            object["history"] = .array(
                view.history.map { item in
                    [
                        "index": .uint(item.index), "digest": .string(item.digest.description),
                        "type": .string(item.type.rawValue), "record": item.record,
                    ]
                })
        }
        return .object(object)
    }

    /// As a row of `cairn query --json`.
    static func matchJSON(_ match: QueryMatch) -> JSONValue {
        var object: JSONObject = [
            "index": .uint(match.index), "digest": .string(match.digest.description),
            "type": .string(match.facts.type.rawValue),
        ]
        if let checkpoint = match.checkpoint, checkpoint != match.index { object["checkpoint"] = .uint(checkpoint) }
        if match.facts.type == .checkpoint {
            object["reviews"] = .array(
                match.reviews.map {
                    ["index": .uint($0.index), "reviewer": .string($0.reviewer), "decision": .string($0.decision)]
                })
        }
        object["record"] = match.record
        return .object(object)
    }
}
