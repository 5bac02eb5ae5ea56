import CairnJSON
import CairnLedger
import CairnServer
import CairnTestSupport
import Foundation
import Testing

/// `GET /v1/stats[/{view}]` (specs/http-api.md §4.7).
@Suite("Stats")
struct StatsRoutesTests {
    @Test("every view answers read and audit tokens, counts match the records, and each read is access-logged")
    func views() async throws {
        let fixture = try await ServerFixture(profile: .provenance)
        try await fixture.live { client in
            // examples/records.jsonl: two checkpoints; the first reviewed (approved), tested and deployed, the
            // second reviewed with changes requested.
            try await client.append(ServerFixture.provenanceRecords)
            try await fixture.server.accessLog.settle()  // the append's own entry, moved just after its answer
            let accessBefore = try fixture.server.accessLog.ledger.treeSize()
            let overview = try await client.get("/v1/stats", as: "read")
            #expect(overview.code == 200, "\(overview.text)")
            #expect(overview.json["view"]?.stringValue == "overview")
            let headline = try #require(overview.json["sections"]?[0]?["rows"]?[0]?["cells"]?.arrayValue)
            let columns = try #require(overview.json["sections"]?[0]?["columns"]?.arrayValue).compactMap {
                $0["id"]?.stringValue
            }
            func figure(_ column: String) -> Double? { headline[columns.firstIndex(of: column)!]["value"]?.numberValue }
            #expect(figure("checkpoints") == 2)
            #expect(figure("unreviewed") == 0)
            #expect(figure("untested") == 1)
            #expect(figure("undeployed") == 1)
            // The drill-down of "untested" lists exactly the untested checkpoint.
            let drill = try #require(headline[columns.firstIndex(of: "untested")!]["drill"]?.stringValue)
            let listed = try await client.get("/v1/query?" + drill, as: "read")
            #expect(listed.json["count"]?.intValue == 1, "\(drill): \(listed.text)")
            #expect(listed.json["matches"]?[0]?["record"]?["id"]?.stringValue == "5b2d9c10-8a6f-4f3e-b1d2-0c4e7a9f3b22")

            for view in ["overview", "ai-share", "sensitive", "requesters", "models", "gaps", "cost", "health"] {
                let reply = try await client.get("/v1/stats/\(view)?since=2026-11-01&until=2026-12-01", as: "audit")
                #expect(reply.code == 200, "\(view): \(reply.text)")
                #expect(reply.json["view"]?.stringValue == view)
                #expect(reply.json["window"]?["since"]?.stringValue == "2026-11-01T00:00:00Z")
            }
            let models = try await client.get("/v1/stats/models", as: "read")
            let rows = try #require(models.json["sections"]?[0]?["rows"]?.arrayValue)
            #expect(Set(rows.compactMap { $0["label"]?.stringValue }).count == 2)
            let health = try await client.get("/v1/stats/health", as: "read")
            let healthRows = try #require(health.json["sections"]?[0]?["rows"]?.arrayValue)
            #expect(
                healthRows.first { $0["id"]?.stringValue == "tree_size" }?["cells"]?[0]?["value"]?.numberValue
                    == Double(ServerFixture.provenanceRecords.count))
            #expect(healthRows.contains { $0["id"]?.stringValue == "access_log" })
            // Every stats read (1 + 8 + 1 + 1, and the drill-down query) is in the access log.
            #expect(try fixture.server.accessLog.ledger.treeSize() == accessBefore + 12)
            let logged = try JSONParser.parse(try fixture.server.accessLog.ledger.entry(at: accessBefore))
            #expect(logged["target"]?["stats"]?["view"]?.stringValue == "overview", "\(logged)")

            // Roles: append-only and metrics tokens are refused; no token is 401.
            #expect(try await client.get("/v1/stats", as: "append").code == 403)
            #expect(try await client.get("/v1/stats/gaps", as: "metrics").code == 403)
            #expect(try await client.get("/v1/stats", as: nil).code == 401)
            // Errors.
            let unknown = try await client.get("/v1/stats/everything", as: "read")
            #expect(unknown.code == 404 && unknown.error == "not_found")
            for (uri, parameter) in [
                ("/v1/stats?since=yesterday", "since"), ("/v1/stats?colour=blue", "colour"),
                ("/v1/stats/gaps?since=2026-12-01&until=2026-11-01", "until"), ("/v1/stats?repo=", "repo"),
            ] {
                let reply = try await client.get(uri, as: "read")
                #expect(reply.code == 400, "\(uri): \(reply.text)")
                #expect(reply.problems.first?["parameter"]?.stringValue == parameter, "\(uri): \(reply.text)")
            }
        }
    }
}
