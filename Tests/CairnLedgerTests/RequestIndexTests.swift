import CairnCrypto
import CairnJSON
import CairnRecords
import CairnStorage
import CairnTestSupport
import Testing

@testable import CairnLedger

/// A `model-call` record: the provider's side of the API call `requestID`.
func modelCall(
    _ requestID: String, model: String = "claude-sonnet-4-5-20250929", provider: String = "anthropic",
    at time: String = "2026-11-20T08:59:58Z", inputTokens: Int = 1200
) -> JSONValue {
    [
        "type": "model-call", "schema": 1, "request_id": .string(requestID), "provider": .string(provider),
        "timestamp": .string(time), "model": ["id": .string(model)],
        "usage": ["input_tokens": .number(Double(inputTokens)), "output_tokens": 80],
    ]
}

/// The request-id index (tag `I`, specs/storage.md "Query indexes"): checkpoints and model calls correlated by the
/// provider's request id, kept right by corrections, and answered correctly on ledgers written before the index
/// (a scan of what its watermark does not cover) until `indexRequestIDs` completes it.
@Suite("Request-id index")
struct RequestIndexTests {
    static func rid(_ id: String) -> JSONObject { ["request_id": .string(id)] }

    /// Entry indexes under `I ‖ requestID`, as stored.
    static func keys(_ ledger: Ledger, _ requestID: String) throws -> [UInt64] {
        try ledger.env.read { txn in
            var found: [UInt64] = []
            let prefix = IndexKey(.requestID, requestID).bytes
            try txn.forEach(ledger.tables.index, prefix: prefix) { key, _ in
                found.append(readUInt64(key, at: prefix.count))
                return true
            }
            return found
        }
    }

    static func coverage(_ ledger: Ledger) throws -> UInt64 {
        try ledger.read { try $0.requestIndexCoverage }
    }

    /// Makes `ledger` look as a cairn from before the index left it: no `I` key, no watermark.
    static func forgetIndex(_ ledger: Ledger) throws {
        try ledger.env.write { txn in
            var doomed: [[UInt8]] = []
            try txn.forEach(ledger.tables.index, prefix: [IndexTag.requestID.rawValue]) { key, _ in
                doomed.append(Array(key))
                return true
            }
            for key in doomed { _ = try txn.delete(ledger.tables.index, key: key) }
            _ = try txn.delete(ledger.tables.meta, key: Ledger.requestIndexSizeKey)
        }
    }

    @Test("A checkpoint lists the model calls of its request id, flags a model that differs, and the watermark follows")
    func correlation() throws {
        let f = try ProvenanceFixture()
        try f.append(
            checkpoint(id: "cp-1", model: "claude-sonnet-4-5-20250929", extra: Self.rid("req_1")),
            checkpoint(id: "cp-2", model: "gpt-5", extra: Self.rid("req_2")),
            checkpoint(id: "cp-3"))
        try f.append(
            modelCall("req_1"), modelCall("req_2", model: "gpt-5-2025-08-07", provider: "openai"),
            modelCall("req_orphan"))
        #expect(try Self.coverage(f.ledger) == 6)
        #expect(try Self.keys(f.ledger, "req_1") == [0, 3])
        #expect(try Self.keys(f.ledger, "req_2") == [1, 4])

        let first = try f.ledger.query(
            {
                var q = RecordQuery(); q.requestID = "req_1"; return q
            }())
        #expect(first.map(\.index) == [0])
        #expect(first[0].modelCalls?.map(\.index) == [3])
        #expect(first[0].modelCalls?.first?.provider == "anthropic")
        #expect(first[0].modelMismatch == false)
        #expect(first[0].json["model_mismatch"] == false)
        #expect(first[0].json["model_calls"]?[0]?["usage"]?["input_tokens"] == 1200)

        let second = try f.ledger.query(
            {
                var q = RecordQuery(); q.requestID = "req_2"; return q
            }())
        #expect(second.map(\.index) == [1])
        #expect(second[0].modelMismatch)
        #expect(second[0].json["model_calls"]?[0]?["model"] == "gpt-5-2025-08-07")

        // A checkpoint's history lists the model calls of its request id (and nothing else's).
        #expect(try f.ledger.view(0).history.map(\.index) == [3])
        #expect(try f.ledger.view(0).history.map(\.type) == [.modelCall])
        #expect(try f.ledger.view(2).history.isEmpty)

        // A checkpoint without a request id has no correlation members; one with an id but no call, an empty list.
        let all = try f.ledger.query(RecordQuery())
        #expect(all.map(\.index) == [0, 1, 2])
        #expect(all[2].modelCalls == nil && all[2].json["model_calls"] == nil)
        #expect(try f.indexes { $0.requestID = "req_orphan" } == [])

        // Model calls: by request id alone (a call no checkpoint names included), or those of matching checkpoints.
        #expect(try f.indexes { $0.type = .modelCall } == [3, 4, 5])
        #expect(
            try f.indexes {
                $0.type = .modelCall; $0.requestID = "req_orphan"
            } == [5])
        let ofModel = try f.ledger.query(
            {
                var q = RecordQuery(); q.type = .modelCall; q.model = "gpt-5"; return q
            }())
        #expect(ofModel.map(\.index) == [4])
        #expect(ofModel[0].checkpoint == 1)
        #expect(
            try f.indexes {
                $0.type = .modelCall; $0.requestID = "req_2"; $0.model = "claude-sonnet-4-5"
            } == [])
        #expect(
            try f.indexes {
                $0.requestID = "req_1"; $0.requestedBy = "alice@example.com"
            } == [0])
        #expect(
            try f.indexes {
                $0.requestID = "req_1"; $0.requestedBy = "bob@example.com"
            } == [])
    }

    @Test("A correction of a checkpoint's request_id moves its key; of a model call's, too")
    func corrections() throws {
        let f = try ProvenanceFixture()
        try f.append(checkpoint(id: "cp-1", extra: Self.rid("req_old")), modelCall("req_new"))
        try f.append(correction(of: try f.digest(0), patch: ["request_id": "req_new"]))
        #expect(try Self.keys(f.ledger, "req_old") == [])
        #expect(try Self.keys(f.ledger, "req_new") == [0, 1])
        #expect(try f.indexes { $0.requestID = "req_old" } == [])
        let moved = try f.ledger.query(
            {
                var q = RecordQuery(); q.requestID = "req_new"; return q
            }())
        #expect(moved.map(\.index) == [0] && moved[0].modelCalls?.map(\.index) == [1])

        // Removing the request id removes the key; the model call's own correction moves its key.
        try f.append(correction(of: try f.digest(1), patch: ["request_id": "req_other"]))
        #expect(try Self.keys(f.ledger, "req_new") == [0])
        #expect(
            try f.ledger.query(
                {
                    var q = RecordQuery(); q.requestID = "req_new"; return q
                }())[0].modelCalls == [])
        try f.append(correction(of: try f.digest(0), patch: ["request_id": nil]))
        #expect(try Self.keys(f.ledger, "req_new") == [])
        #expect(try f.indexes { $0.requestID = "req_new" } == [])
        #expect(try f.ledger.query(RecordQuery())[0].modelCalls == nil)
    }

    @Test("A ledger written before the index answers by a scan, and indexRequestIDs completes it")
    func olderLedger() throws {
        let f = try ProvenanceFixture()
        try f.append(checkpoint(id: "cp-1", extra: Self.rid("req_1")), checkpoint(id: "cp-2", extra: Self.rid("req_2")))
        try f.append(checkpoint(id: "cp-3"))
        try Self.forgetIndex(f.ledger)
        #expect(try Self.coverage(f.ledger) == 0 && Self.keys(f.ledger, "req_1") == [])

        // This cairn appends to it: new entries get keys, the watermark stays behind, queries scan the rest.
        try f.append(modelCall("req_1"), checkpoint(id: "cp-4", extra: Self.rid("req_1")))
        #expect(try Self.coverage(f.ledger) == 0)
        #expect(try Self.keys(f.ledger, "req_1") == [3, 4])
        let found = try f.ledger.query(
            {
                var q = RecordQuery(); q.requestID = "req_1"; return q
            }())
        #expect(found.map(\.index) == [0, 4])
        #expect(found.allSatisfy { $0.modelCalls?.map(\.index) == [3] })
        #expect(try f.indexes { $0.requestID = "req_2" } == [1])
        #expect(
            try f.indexes {
                $0.requestID = "req_2"; $0.toolPath = "ide"
            } == [1])

        let report = try f.ledger.indexRequestIDs(chunkEntries: 2)
        #expect(report == RequestIndexReport(treeSize: 5, coveredFrom: 0, keysWritten: 3))
        #expect(try Self.coverage(f.ledger) == 5)
        #expect(try Self.keys(f.ledger, "req_1") == [0, 3, 4] && Self.keys(f.ledger, "req_2") == [1])
        #expect(try f.indexes { $0.requestID = "req_1" } == [0, 4])
        #expect(try f.ledger.indexRequestIDs().alreadyComplete)

        // From now on the watermark follows every commit.
        try f.append(checkpoint(id: "cp-5", extra: Self.rid("req_2")))
        #expect(try Self.coverage(f.ledger) == 6)
        #expect(try f.indexes { $0.requestID = "req_2" } == [1, 5])
    }

    @Test("A correction an older cairn appended (no key moved) is found by the scan; the stale key matches nothing")
    func staleKeys() throws {
        let f = try ProvenanceFixture()
        try f.append(checkpoint(id: "cp-1", extra: Self.rid("req_a")))
        try f.append(correction(of: try f.digest(0), patch: ["request_id": "req_b"]))
        // As an older cairn would have left it: the key of the original request id, the watermark before the correction.
        try f.ledger.env.write { txn in
            _ = try txn.delete(f.ledger.tables.index, key: IndexKey(.requestID, "req_b").appending(UInt64(0)).bytes)
            try txn.put(f.ledger.tables.index, key: IndexKey(.requestID, "req_a").appending(UInt64(0)).bytes, value: [])
            try txn.put(f.ledger.tables.meta, key: Ledger.requestIndexSizeKey, value: BigEndianKey.bytes(1))
        }
        #expect(try f.indexes { $0.requestID = "req_b" } == [0])
        #expect(try f.indexes { $0.requestID = "req_a" } == [])
        let report = try f.ledger.indexRequestIDs()
        #expect(report.coveredFrom == 1 && report.keysWritten == 1 && report.treeSize == 2)
        #expect(try Self.keys(f.ledger, "req_b") == [0])
        #expect(try f.indexes { $0.requestID = "req_b" } == [0])
        #expect(try f.indexes { $0.requestID = "req_a" } == [])
    }

    @Test("A generic ledger has no request-id index; indexRequestIDs leaves it alone")
    func generic() throws {
        let dir = try TemporaryDirectory()
        var options = Ledger.CreateOptions()
        options.profile = .generic
        let ledger = try Ledger.create(at: dir.path, origin: "example.com/generic", options: options)
        _ = try ledger.append([
            try PreparedEntry.prepare(json: Array(#"{"request_id":"x"}"#.utf8), rules: ledger.recordRules())
        ])
        #expect(try Self.coverage(ledger) == 0)
        #expect(try ledger.indexRequestIDs().alreadyComplete)
        #expect(try Self.coverage(ledger) == 0)
    }
}
