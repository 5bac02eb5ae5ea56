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
                let view = try await services.ledger.read { snapshot in
                    try snapshot.view(try snapshot.resolve(recordReference: reference))
                }
                return .json(view.json(history: history), cache: .noStore)
            }
        }
        routes.get("/v1/query", access: ServerServices.private_(.read)) { request, context in
            let parameters = try request.parameters(QueryParameters.recordQueryNames)
            let query = try parameters.recordQuery(
                defaultLimit: services.configuration.defaultQueryResults,
                maxLimit: services.configuration.maxQueryResults)
            return try await services.recordedRead(request, context, target: ["query": parameters.json]) {
                let matches = try await services.expensiveRead {
                    try await services.ledger.read { try $0.query(query) }
                }
                // {"count":N,"matches":[…]}, each row written from its record's stored bytes (QueryMatch.jsonBytes:
                // the same bytes as serializing the values).
                var body = Array(#"{"count":\#(matches.count),"matches":["#.utf8)
                for (position, match) in matches.enumerated() {
                    if position > 0 { body.append(UInt8(ascii: ",")) }
                    body += match.jsonBytes
                }
                body += Array("]}".utf8)
                return .bytes(body, contentType: MediaTypes.json, cache: .noStore)
            }
        }
    }
}
