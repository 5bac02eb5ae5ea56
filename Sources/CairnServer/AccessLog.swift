import CairnCrypto
import CairnJSON
import CairnLedger
import Foundation
import Logging

/// The access log: a second Merkle log, of the generic profile, in which every authenticated
/// read of record contents or blobs is recorded before its response is sent
/// (specs/http-api.md §6).
///
/// It lives in `<ledger>/access-log/` with origin `<origin>/access-log` and a signing key of its
/// own, and is created the first time the server starts on a ledger.
package final class AccessLog: Sendable {
    /// The directory name inside the main ledger.
    package static let directoryName = "access-log"
    /// The suffix appended to the main log's origin.
    package static let originSuffix = "/access-log"

    package let ledger: Ledger
    /// The access log's own ingest engine (a `Service` of `cairn serve`'s group).
    package let engine: IngestEngine

    /// Opens the access log of `main`, creating it (with a new key) if it does not exist yet.
    package static func openOrCreate(for main: Ledger) throws -> Ledger {
        let directory = Self.directory(of: main)
        if FileManager.default.fileExists(atPath: directory + "/data.mdb") {
            let ledger = try Ledger.open(at: directory)
            guard ledger.origin.sameBytes(as: main.origin + originSuffix) else {
                throw LedgerError(
                    .corrupt,
                    "\(directory) holds the log \(ledger.origin), not \(main.origin + originSuffix): "
                        + "not this ledger's access log")
            }
            return ledger
        }
        var options = Ledger.CreateOptions()
        options.profile = .generic
        options.maxEntryBytes = 64 << 10
        return try Ledger.create(at: directory, origin: main.origin + originSuffix, options: options)
    }

    /// `<ledger>/access-log`.
    package static func directory(of main: Ledger) -> String {
        (main.directory.hasSuffix("/") ? main.directory : main.directory + "/") + directoryName
    }

    package init(ledger: Ledger, configuration: IngestEngine.Configuration = IngestEngine.Configuration()) {
        self.ledger = ledger
        self.engine = IngestEngine(ledger: ledger, configuration: configuration)
    }

    /// Appends `access` and returns once it is durable. Waits for room rather than failing when
    /// the queue is full (the request timeout bounds the wait); any failure is thrown, and the
    /// caller must not send the content (fail closed).
    @discardableResult
    func record(_ access: AccessRecord) async throws -> AppendResult {
        let entry = try PreparedEntry.prepare(
            json: JSONWriter.compactBytes(access.json), maxEntryBytes: ledger.maxEntryBytes)
        return try await engine.append(entry, whenBusy: .wait)
    }

    /// Appends the record of an append and returns once it is durable (waiting for room, like
    /// reads' records).
    @discardableResult
    package func record(_ append: AppendAccessRecord) async throws -> AppendResult {
        let entry = try PreparedEntry.prepare(
            json: JSONWriter.compactBytes(append.json), maxEntryBytes: ledger.maxEntryBytes)
        return try await engine.append(entry, whenBusy: .wait)
    }

    /// Returns once everything queued to the access log so far is durable in it — the access-outbox rows of every
    /// append acknowledged before the call included (they are queued before the append is answered, and the
    /// writer commits in order). Reads of the access log call it first, so they see every such append.
    /// A stopped engine has nothing more to commit: the log is what it is.
    package func settle() async throws {
        guard engine.isAccepting else { return }
        try await engine.perform { _ in }
    }

    /// A random 128-bit id in hex.
    package static func makeID() -> String { CairnRequestContext.makeRequestID() }

    /// Commits what is queued and stops the engine, blocking the calling thread; later reads fail
    /// closed.
    package func shutdown() {
        engine.shutdown()
    }
}

/// Moves the main ledger's access outbox into the access log (specs/storage.md, "The access outbox").
///
/// An HTTP append's `append` entry is written into the outbox in the records' own transaction, so
/// the request is acknowledged after one durable commit. After each such commit the main engine's
/// writer hands the rows to `delivery`, which queues them, byte for byte, to the access log's
/// engine before the commit's producers resume; once the access log has committed them, their
/// keys go back to the main engine, whose next commit deletes them. Rows of a process that
/// stopped in between are moved by `moveLeftovers` at the next start.
package final class AccessOutbox: Sendable {
    let delivery: OutboxDelivery
    private let main: Ledger
    private let accessLog: AccessLog

    init(main: Ledger, accessLog: AccessLog, logger: Logger) {
        self.main = main
        self.accessLog = accessLog
        delivery = OutboxDelivery { [accessLog, logger] rows, delivery in
            // The rows were built canonical by `AppendAccessRecord.outboxRow`: only their hashes are computed here.
            let entries = rows.map { PreparedEntry(canonicalBytes: $0.bytes) }
            let keys = rows.map(\.key)
            do {
                // `.wait` never blocks: a full queue parks the submission in line.
                let pending = try accessLog.engine.enqueue(contentsOf: entries, whenBusy: .wait)
                pending.whenComplete { result in
                    // A failure leaves the rows in the outbox, for the next start to move.
                    if case .success = result { delivery.markDelivered(keys) }
                }
            } catch {
                logger.error(
                    "access log failure: appends stay in the access outbox until the next start",
                    metadata: ["rows": .stringConvertible(rows.count), "error": .string(String(describing: error))])
            }
        }
    }

    /// Moves every row a previous process left in the outbox into the access log (one commit;
    /// a row the access log already holds is a duplicate and adds nothing), then deletes them
    /// through `engine` in a durable transaction. Returns how many rows were moved. Runs at
    /// start-up, before reconciliation, while nothing else appends.
    package func moveLeftovers(through engine: IngestEngine) async throws -> Int {
        var moved = 0
        let maxEntryBytes = accessLog.ledger.maxEntryBytes
        while true {
            let rows = try await main.read { try $0.outboxRows(limit: 4096) }
            guard !rows.isEmpty else { return moved }
            let entries = try rows.map { row in
                do {
                    return try PreparedEntry.prepare(json: row.bytes, maxEntryBytes: maxEntryBytes)
                } catch {
                    throw LedgerError(
                        .corrupt, "access_outbox row \(row.key) is not an access-log entry (\(error)): run `cairn fsck`"
                    )
                }
            }
            let outcomes = try await accessLog.engine.append(contentsOf: entries, whenBusy: .wait)
            if let position = outcomes.firstIndex(where: { $0.result == nil }) {
                throw LedgerError(.corrupt, "the access log refused access_outbox row \(rows[position].key)")
            }
            let keys = rows.map(\.key)
            let main = self.main
            try await engine.perform { txn in try main.deleteOutboxRows(keys, in: txn) }
            moved += rows.count
        }
    }

    /// Deletes the rows the access log holds, once both engines have stopped (so nothing else
    /// writes). Best effort: a row left behind is moved again at the next start, as a duplicate.
    func deleteDelivered() throws {
        try main.deleteOutboxRows(delivery.takeDelivered())
    }
}

/// One append recorded in the access log (specs/http-api.md §6): who appended which entries,
/// so that the principal of every entry is provable, not only stored.
package struct AppendAccessRecord: Sendable {
    package var at: String
    /// A random 128-bit id in hex (the request id over HTTP), which keeps every entry unique.
    package var requestID: String
    package var principal: Principal
    package var peer: String?
    /// The entries appended: the first index and how many (one submission's new entries are
    /// consecutive), and SHA-256 of their 32-byte content addresses in order.
    package var first: UInt64?
    package var count: Int
    package var digestsSHA256: SHA256Digest
    package var duplicates: Int
    /// Where the duplicates are, as (first index, count) runs — a retry of a submission whose
    /// first attempt committed but was never acknowledged (the process died between the commit
    /// and this record) names its entries here; nil beyond `maxDuplicateRuns` runs.
    package var duplicateRuns: [(first: UInt64, count: Int)]?
    /// SHA-256 of the duplicates' 32-byte content addresses, in submission order.
    package var duplicatesSHA256: SHA256Digest
    /// More runs than this are summarized by `duplicatesSHA256` alone (an entry of the access
    /// log must stay small).
    package static let maxDuplicateRuns = 256
    /// `POST /v1/entries` or the local command (`cairn append`, `cairn import`).
    package var via: String

    /// The record of one submission's outcomes, or nil when nothing was appended.
    package static func of(
        _ outcomes: [AppendOutcome], by principal: Principal, via: String, requestID: String = AccessLog.makeID(),
        peer: String? = nil, at: String = Clock.now()
    ) -> AppendAccessRecord {
        let results = outcomes.compactMap(\.result)
        let appended = results.filter { !$0.duplicate }
        let duplicates = results.filter(\.duplicate)
        var hasher = SHA256Hasher()
        for result in appended { result.digest.withUnsafeBytes { hasher.update($0) } }
        var duplicateHasher = SHA256Hasher()
        var runs: [(first: UInt64, count: Int)] = []
        for result in duplicates {
            result.digest.withUnsafeBytes { duplicateHasher.update($0) }
            if let last = runs.last, last.first &+ UInt64(last.count) == result.index {
                runs[runs.count - 1].count += 1
            } else {
                runs.append((result.index, 1))
            }
        }
        return AppendAccessRecord(
            at: at, requestID: requestID, principal: principal, peer: peer, first: appended.first?.index,
            count: appended.count, digestsSHA256: hasher.finalize(), duplicates: duplicates.count,
            duplicateRuns: runs.count <= maxDuplicateRuns ? runs : nil, duplicatesSHA256: duplicateHasher.finalize(),
            via: via)
    }

    /// The canonical bytes of the access-outbox row of an HTTP submission with `outcomes`, or nil
    /// (no row) when a record was refused or nothing was appended or found — the request then
    /// fails and is not acknowledged. Runs on the main engine's writer thread, inside the commit;
    /// a throw abandons the commit (nothing of the batch is acknowledged).
    package static func outboxRow(
        of outcomes: [AppendOutcome], by principal: Principal, requestID: String, peer: String?
    ) throws(JCSError) -> [UInt8]? {
        guard !outcomes.isEmpty, outcomes.allSatisfy({ $0.result != nil }) else { return nil }
        let record = of(outcomes, by: principal, via: "POST /v1/entries", requestID: requestID, peer: peer)
        // Canonical now, so the row's bytes are the access-log entry's, whoever moves it.
        return try JCS.canonicalize(record.json)
    }

    var json: JSONValue {
        var object: JSONObject = [
            "type": "append", "schema": 1, "at": .string(at), "request_id": .string(requestID),
            "via": .string(via), "count": .int(count), "duplicates": .int(duplicates),
            "entries_sha256": .string(digestsSHA256.hex),
        ]
        object[principal.kind == .token ? "token" : "local"] = .object([
            "id": .string(principal.id), "name": .string(principal.name),
        ])
        if let first { object["first"] = .uint(first) }
        if duplicates > 0 {
            object["duplicates_sha256"] = .string(duplicatesSHA256.hex)
            if let duplicateRuns {
                object["duplicate_runs"] = .array(duplicateRuns.map { .array([.uint($0.first), .int($0.count)]) })
            }
        }
        if let peer { object["peer"] = .string(peer) }
        return .object(object)
    }
}

/// One access-log entry (specs/http-api.md §6).
struct AccessRecord: Sendable {
    var at: String
    var requestID: String
    var token: APIToken
    var peer: String?
    var forwardedFor: String?
    var method: String
    var route: String
    var target: JSONValue
    var status: Int

    var json: JSONValue {
        var object: JSONObject = [
            "type": "access", "schema": 1, "at": .string(at), "request_id": .string(requestID),
            "token": .object(["id": .string(token.id), "name": .string(token.name)]),
            "method": .string(method), "route": .string(route), "target": target, "status": .int(status),
        ]
        if let peer { object["peer"] = .string(peer) }
        if let forwardedFor { object["forwarded_for"] = .string(forwardedFor) }
        return .object(object)
    }
}

/// RFC 3339 UTC timestamps with milliseconds.
package enum Clock {
    package static func now() -> String { format(Date()) }

    static func format(_ date: Date) -> String {
        let ms = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        return formatMilliseconds(ms)
    }

    static func formatMilliseconds(_ ms: Int64) -> String {
        var seconds = ms / 1000
        var millis = ms % 1000
        if millis < 0 {
            millis += 1000
            seconds -= 1
        }
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(millis), 3))Z"
    }
}
