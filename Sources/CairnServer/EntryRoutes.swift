import CairnCrypto
import CairnJSON
import CairnLedger
import CairnMerkle
import Hummingbird

/// `POST /v1/entries` and `GET /v1/entries/{entry}` (specs/http-api.md §3.1, §4.1).
struct EntryRoutes {
    let services: ServerServices

    func register(on routes: RouteBuilder) {
        routes.post("/v1/entries", access: ServerServices.private_(.append), handler: append)
        routes.get("/v1/entries/{entry}", access: ServerServices.private_(.read)) { request, context in
            let parameters = try request.parameters(["raw"])
            let reference = try context.entryReference("entry")
            let raw = try parameters.bool("raw") ?? request.prefersOctetStream
            return try await services.recordedRead(request, context, target: ["entry": .string(reference.description)])
            {
                try await Self.entryResponse(services.ledger, reference, raw: raw)
            }
        }
    }

    /// One entry as JSON (`index`, `digest`, `leaf_hash`, `record`) or as its exact bytes.
    static func entryResponse(_ ledger: Ledger, _ reference: EntryReference, raw: Bool) async throws -> Response {
        let (index, bytes) = try await ledger.read { snapshot in
            let index = try snapshot.resolve(reference)
            return (index, try snapshot.entry(at: index))
        }
        if raw { return .bytes(bytes, contentType: MediaTypes.octetStream, cache: .noStore) }
        let record: JSONValue
        do {
            record = try JSONParser.parse(bytes)
        } catch {
            throw LedgerError(.corrupt, "entry \(index) is not valid JSON: \(error) (run `cairn fsck`)")
        }
        return .json(
            [
                "index": .uint(index), "digest": .string(SHA256.hash(bytes).description),
                "leaf_hash": .string(RFC6962.leafHash(bytes).base64), "record": record,
            ], cache: .noStore)
    }

    // MARK: - Append

    @Sendable func append(_ request: Request, _ context: CairnRequestContext) async throws -> Response {
        let parameters = try request.parameters(["strict"])
        let strict = try parameters.bool("strict") ?? false
        let format: EntrySubmission.Format
        switch MediaTypes.essence(request.headers[.contentType]) {
        case MediaTypes.json: format = .json
        case MediaTypes.ndjson, MediaTypes.jsonl: format = .ndjson
        case let other:
            throw APIError(
                .unsupportedMediaType,
                "Content-Type must be application/json (one record) or application/x-ndjson (one per line), got "
                    + (other ?? "none"))
        }
        let body =
            format == .ndjson
            ? try await request.collectLines(
                limit: services.configuration.maxBodyBytes, maxLines: services.configuration.maxRecordsPerRequest,
                what: "the body")
            : try await request.collectBody(limit: services.configuration.maxBodyBytes, what: "the body")
        let rules = services.ledger.recordRules(
            strictFields: strict, extractOver: services.configuration.extractOverBytes)
        let submission = try EntrySubmission.prepare(body, format: format, rules: rules)
        // Least privilege: an erasure destroys a blob's bytes for good, so it needs a role of its own.
        guard let token = context.token else { throw APIError(.unauthorized, "appends need a token") }
        if let erasure = submission.entries.firstIndex(where: { $0.facts?.type == .erasure }), !token.grants(.erase) {
            throw APIError(
                .forbidden,
                "line \(submission.lines[erasure]): an erasure record destroys a blob's bytes for good; token \(token.id) "
                    + "lacks the erase role (nothing was appended)",
                headers: [.wwwAuthenticate: #"Bearer realm="cairn", error="insufficient_scope""#])
        }
        // Releasing a legal hold lets retention erase what the hold kept: the same right.
        if let release = submission.entries.firstIndex(where: { $0.facts?.holdAction == "release" }),
            !token.grants(.erase)
        {
            throw APIError(
                .forbidden,
                "line \(submission.lines[release]): releasing a legal hold lets retention erase blobs it kept; token "
                    + "\(token.id) lacks the erase role (nothing was appended)",
                headers: [.wwwAuthenticate: #"Bearer realm="cairn", error="insufficient_scope""#])
        }
        let principal = Principal(
            kind: .token, id: token.id, name: token.name, mayCorrectOthers: token.grants(.correct))
        let atomic = submission.entries.count > 1
        // Fail closed: with the access log's writer stopped, an outbox row could not reach it before the next start.
        guard services.accessLog.engine.isAccepting else {
            throw APIError(
                .unavailable, "the access log cannot record appends now; nothing was appended", retryAfter: 5)
        }
        // Who appended what, provably: the append's access-log entry is written into the access outbox in the
        // records' own transaction, so it is durable before the append is acknowledged (specs/http-api.md §6), and
        // the server moves it into the access log right after the commit.
        let requestID = context.requestID
        let peer = context.peerAddress
        let outcomes: [AppendOutcome]
        do {
            outcomes = try await services.engine.append(
                contentsOf: submission.entries, atomic: atomic, whenBusy: .fail, as: principal,
                outboxRow: { outcomes in
                    try AppendAccessRecord.outboxRow(of: outcomes, by: principal, requestID: requestID, peer: peer)
                })
        } catch let rejection as AppendRejection {
            throw Self.rejected([(rejection, submission.lines[rejection.position])])
        } catch let busy as IngestBusyError {
            throw APIError(
                .busy, "the ingest queue is full (\(busy.queuedRecords) records waiting); retry later",
                retryAfter: services.configuration.busyRetryAfterSeconds)
        }
        // A single record shares its batch (no atomic transaction): a refusal comes back as an outcome.
        let rejections = outcomes.enumerated().compactMap { position, outcome -> (AppendRejection, Int)? in
            if case .rejected(let rejection) = outcome { return (rejection, submission.lines[position]) }
            return nil
        }
        guard rejections.isEmpty else { throw Self.rejected(rejections) }
        let results = outcomes.compactMap(\.result)
        services.metrics.recordAppends(results)
        return .json(
            .array(
                zip(submission.entries, outcomes).compactMap { entry, outcome -> JSONValue? in
                    guard let result = outcome.result else { return nil }
                    var receipt: JSONObject = [
                        "index": .uint(result.index), "digest": .string(result.digest.description),
                        "duplicate": .bool(result.duplicate),
                    ]
                    if let moved = PayloadExtraction.movedFields(of: entry) { receipt["moved_to_blobs"] = moved }
                    return .object(receipt)
                }))
    }

    static func rejected(_ rejections: [(rejection: AppendRejection, line: Int)]) -> APIError {
        let problems = rejections.flatMap { item in
            item.rejection.problems.map {
                APIProblem(code: $0.code, message: $0.message, line: item.line, path: $0.path)
            }
        }
        let first = problems.first.map { "line \($0.line ?? 0): \($0.path ?? "$"): \($0.message)" } ?? "refused"
        return APIError(.rejected, "the ledger refused a record (\(first)); nothing was appended", problems: problems)
    }
}
