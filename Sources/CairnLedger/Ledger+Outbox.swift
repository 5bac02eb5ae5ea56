import CairnStorage
import Synchronization

/// One row of the access outbox (specs/storage.md, "The access outbox"): an access-log entry
/// written in the same transaction as the records it names.
package struct OutboxRow: Sendable, Hashable {
    /// The row number (the table's key).
    package let key: UInt64
    /// The exact bytes the access log will hold (canonical JSON).
    package let bytes: [UInt8]

    package init(key: UInt64, bytes: [UInt8]) {
        self.key = key
        self.bytes = bytes
    }
}

/// Makes a submission's outbox row from its outcomes, inside the commit's transaction (on the
/// writer thread: keep it cheap). Nil writes no row; a throw abandons the transaction, and the
/// batch fails (a row that cannot be made must not let its records be acknowledged without it).
package typealias OutboxRowBuilder = @Sendable ([AppendOutcome]) throws -> [UInt8]?

/// What one commit does to the outbox: a row for each submission that asks for one, and the
/// deletion of rows already delivered.
package struct OutboxBatch {
    /// The submissions' entries (positions in the batch) and how to make their rows.
    var rows: [(entries: Range<Int>, build: OutboxRowBuilder)] = []
    /// Keys of rows the access log holds.
    var deletions: [UInt64] = []

    package init() {}

    var isEmpty: Bool { rows.isEmpty && deletions.isEmpty }
}

/// Where the ingest engine hands each commit's outbox rows once they are durable, and where the
/// keys of rows that reached their destination wait to be deleted by a later commit.
///
/// Equal only to itself (so that `IngestEngine.Configuration` stays `Hashable`).
package final class OutboxDelivery: Sendable, Hashable {
    private let deliverRows: @Sendable ([OutboxRow], OutboxDelivery) -> Void
    private let delivered = Mutex<[UInt64]>([])

    /// `deliver` is called on the writer thread after each commit that wrote rows, before any of
    /// its producers resumes, with the rows in key order and this delivery (to mark them
    /// delivered once their destination holds them). It must not block.
    package init(deliver: @escaping @Sendable (_ rows: [OutboxRow], _ delivery: OutboxDelivery) -> Void) {
        deliverRows = deliver
    }

    func deliver(_ rows: [OutboxRow]) { deliverRows(rows, self) }

    /// Rows the destination has made durable: the engine's next commit deletes them.
    package func markDelivered(_ keys: [UInt64]) {
        guard !keys.isEmpty else { return }
        delivered.withLock { $0 += keys }
    }

    /// Takes the keys to delete (the caller deletes them, or gives them back).
    package func takeDelivered() -> [UInt64] {
        delivered.withLock { keys in
            defer { keys.removeAll() }
            return keys
        }
    }

    /// Keys taken for a commit that did not happen.
    func giveBack(_ keys: [UInt64]) { markDelivered(keys) }

    package static func == (lhs: OutboxDelivery, rhs: OutboxDelivery) -> Bool { lhs === rhs }
    package func hash(into hasher: inout Hasher) { hasher.combine(ObjectIdentifier(self)) }
}

extension Ledger {
    /// Writes the batch's outbox rows (after its entries, so their outcomes are known) and deletes
    /// the delivered ones, inside the commit's transaction. Returns the rows written, in key order.
    func writeOutbox(_ batch: OutboxBatch, outcomes: [AppendOutcome], txn: WriteTransaction) throws -> [OutboxRow] {
        guard !batch.isEmpty else { return [] }
        guard let table = tables.accessOutbox else { throw LedgerError(.readOnly, "the ledger is open read-only") }
        // Numbered before the deletions, so a running server never reuses the key of a row it
        // still tracks; only an empty table starts again at 0.
        var next = try txn.withCursor(table) { cursor -> UInt64 in
            guard let (key, _) = try cursor.last(), let last = BigEndianKey.decode(key) else { return 0 }
            return last + 1
        }
        try deleteOutboxRows(batch.deletions, in: txn)
        var written: [OutboxRow] = []
        for row in batch.rows {
            guard let bytes = try row.build(Array(outcomes[row.entries])) else { continue }
            try txn.put(table, key: next, value: bytes, mode: .noOverwrite)
            written.append(OutboxRow(key: next, bytes: bytes))
            next += 1
        }
        return written
    }

    /// Deletes outbox rows in a transaction of its own: at start-up through the engine
    /// (`IngestEngine.perform`), and when the server stops after its writers have.
    package func deleteOutboxRows(_ keys: [UInt64], in txn: WriteTransaction) throws {
        guard !keys.isEmpty else { return }
        guard let table = tables.accessOutbox else { throw LedgerError(.readOnly, "the ledger is open read-only") }
        for key in keys { try txn.delete(table, key: BigEndianKey.bytes(key)) }
    }

    /// `deleteOutboxRows(_:in:)` in a durable transaction of its own, for when no engine writes
    /// (the server has stopped both).
    package func deleteOutboxRows(_ keys: [UInt64]) throws {
        guard !keys.isEmpty else { return }
        try performWrite { txn in try deleteOutboxRows(keys, in: txn) }
    }
}

extension LedgerSnapshot {
    /// Up to `limit` rows of the access outbox from key `start` on, in key order (none in a
    /// read-only ledger that never had the table).
    package func outboxRows(from start: UInt64 = 0, limit: Int = .max) throws -> [OutboxRow] {
        guard let table = ledger.tables.accessOutbox, limit > 0 else { return [] }
        return try txn.withCursor(table) { cursor in
            var rows: [OutboxRow] = []
            var entry = try cursor.seek(atLeast: start)
            while let (key, value) = entry, rows.count < limit {
                guard let number = BigEndianKey.decode(key) else {
                    throw LedgerError(.corrupt, "access_outbox holds a key of \(key.count) bytes, not 8")
                }
                rows.append(OutboxRow(key: number, bytes: Array(value)))
                entry = try cursor.next()
            }
            return rows
        }
    }
}
