import CairnCrypto
import CairnJSON
import CairnLedger
import CairnNote
import CairnRecords
import Hummingbird

/// The access log for the `audit` role: `GET /v1/access-log/…` (specs/http-api.md §6). These
/// reads are not themselves recorded.
struct AccessLogRoutes {
    let services: ServerServices
    /// Entries may be committed slightly out of `at` order (concurrent requests); the search for
    /// `since` starts this much earlier and the scan runs this much past `until`.
    static let reorderingMargin: Int64 = 5 * 60 * 1000

    func register(on routes: RouteBuilder) {
        let audit = ServerServices.private_(.audit)
        let ledger = services.accessLog.ledger
        ProofRoutes(
            ledger: ledger, checkpointPath: "/v1/access-log/checkpoint", proofPrefix: "/v1/access-log/proof",
            access: audit
        ).register(on: routes)
        routes.get("/v1/access-log/entries/{entry}", access: audit) { request, context in
            let parameters = try request.parameters(["raw"])
            let raw = try parameters.bool("raw") ?? request.prefersOctetStream
            let reference = try context.entryReference("entry")
            try await services.accessLog.settle()  // every append acknowledged so far is in it
            return try await EntryRoutes.entryResponse(ledger, reference, raw: raw)
        }
        routes.get("/v1/access-log/query", access: audit) { request, _ in
            let parameters = try request.parameters(["since", "until", "token", "limit"])
            let since = try parameters.time("since")
            let until = try parameters.time("until")
            let token = try parameters.string("token")
            let limit =
                try parameters.int("limit", in: 1...services.configuration.maxQueryResults)
                ?? services.configuration.defaultQueryResults
            // Appends' entries reach the access log just after they are acknowledged (§6): wait for those
            // acknowledged so far, so that the answer names every one of them.
            try await services.accessLog.settle()
            let matches = try await services.expensiveRead {
                try await ledger.read { snapshot in
                    try Self.query(snapshot, since: since, until: until, token: token, limit: limit)
                }
            }
            return .json(
                [
                    "count": .int(matches.count),
                    "matches": .array(
                        matches.map {
                            ["index": .uint($0.index), "digest": .string($0.digest.description), "record": $0.record]
                        }
                    ),
                ], cache: .noStore)
        }
    }

    struct Match: Sendable {
        let index: UInt64
        let digest: SHA256Digest
        let record: JSONValue
    }

    /// Whether an access-log entry concerns token `id`: a request it made, or an `unrecorded` run
    /// of entries it appended (names compared as bytes).
    static func names(_ record: JSONValue, token id: String) -> Bool {
        if record["token"]?["id"]?.stringValue?.sameBytes(as: id) == true { return true }
        return record["runs"]?.arrayValue?.contains { run in
            run["appended_by"]?["kind"]?.stringValue == "token"
                && run["appended_by"]?["id"]?.stringValue?.sameBytes(as: id) == true
        } ?? false
    }

    /// Entries with `since ≤ at < until` (ms) and the token id, in log order: a binary search for
    /// the start, then a forward scan.
    static func query(
        _ ledger: LedgerSnapshot, since: Int64?, until: Int64?, token: String?, limit: Int
    ) throws -> [Match] {
        let size = ledger.treeSize
        func read(_ index: UInt64) throws -> (bytes: [UInt8], record: JSONValue, at: Int64?) {
            let bytes = try ledger.entry(at: index)
            let record = try JSONParser.parse(bytes)
            return (bytes, record, record["at"]?.stringValue.flatMap(Timestamp.parse))
        }
        var start: UInt64 = 0
        if let since {
            let target = since - reorderingMargin
            var low: UInt64 = 0
            var high = size
            while low < high {
                let middle = low + (high - low) / 2
                if let at = try read(middle).at, at < target { low = middle + 1 } else { high = middle }
            }
            start = low
        }
        var matches: [Match] = []
        var index = start
        while index < size && matches.count < limit {
            let entry = try read(index)
            if let until, let at = entry.at, at >= until + reorderingMargin { break }
            let inTime =
                entry.at.map { at in at >= (since ?? .min) && at < (until ?? .max) } ?? (since == nil && until == nil)
            if inTime && (token.map { Self.names(entry.record, token: $0) } ?? true) {
                matches.append(Match(index: index, digest: SHA256.hash(entry.bytes), record: entry.record))
            }
            index += 1
        }
        return matches
    }
}
