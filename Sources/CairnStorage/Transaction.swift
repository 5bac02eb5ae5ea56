import CCairnLMDB

/// Read operations shared by read and write transactions.
///
/// Values are returned as buffers pointing into LMDB's memory map: they are valid only until the
/// transaction ends (and, in a write transaction, until the next write to the same table).
public protocol TransactionReading {
    /// The raw LMDB transaction.
    var txn: OpaquePointer { get }
}

extension TransactionReading {
    /// The value stored under `key`, or `nil`. The buffer is valid only inside the transaction.
    public func rawValue(_ table: Table, key: UnsafeRawBufferPointer) throws -> UnsafeRawBufferPointer? {
        var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        var v = MDB_val()
        let rc = mdb_get(txn, table.dbi, &k, &v)
        if rc == MDB_NOTFOUND { return nil }
        try check(rc, "reading from table \(table.name)")
        return UnsafeRawBufferPointer(start: v.mv_data, count: v.mv_size)
    }

    /// A copy of the value stored under `key`, or `nil`.
    public func value(_ table: Table, key: [UInt8]) throws -> [UInt8]? {
        try key.withUnsafeBytes { k throws in try rawValue(table, key: k).map { Array($0) } }
    }

    /// A copy of the value stored under the big-endian encoding of `key`, or `nil`.
    public func value(_ table: Table, key: UInt64) throws -> [UInt8]? {
        var be = key.bigEndian
        return try withUnsafeBytes(of: &be) { k throws in try rawValue(table, key: k).map { Array($0) } }
    }

    /// Calls `body` with the value stored under the big-endian encoding of `key` (or `nil`),
    /// without copying it.
    public func withValue<R>(
        _ table: Table, key: UInt64, _ body: (UnsafeRawBufferPointer?) throws -> R
    ) throws -> R {
        var be = key.bigEndian
        let raw = try withUnsafeBytes(of: &be) { k throws in try rawValue(table, key: k) }
        return try body(raw)
    }

    /// The number of entries in `table`.
    public func count(_ table: Table) throws -> Int {
        var stat = MDB_stat()
        try check(mdb_stat(txn, table.dbi, &stat), "mdb_stat on table \(table.name)")
        return stat.ms_entries
    }

    /// Opens a cursor over `table`, positioned nowhere; it is closed when `body` returns.
    public func withCursor<R>(_ table: Table, _ body: (Cursor) throws -> R) throws -> R {
        var cursor: OpaquePointer?
        try check(mdb_cursor_open(txn, table.dbi, &cursor), "opening cursor on table \(table.name)")
        guard let cursor else { throw StorageError.lmdb(MDB_PANIC, "mdb_cursor_open") }
        defer { mdb_cursor_close(cursor) }
        return try body(Cursor(cursor: cursor, table: table))
    }

    /// Opens `count` cursors over `table`, positioned nowhere; they are closed when `body` returns.
    public func withCursors<R>(_ table: Table, count: Int, _ body: ([Cursor]) throws -> R) throws -> R {
        var cursors: [Cursor] = []
        cursors.reserveCapacity(count)
        defer { for cursor in cursors { mdb_cursor_close(cursor.cursor) } }
        for _ in 0..<count {
            var cursor: OpaquePointer?
            try check(mdb_cursor_open(txn, table.dbi, &cursor), "opening cursor on table \(table.name)")
            guard let cursor else { throw StorageError.lmdb(MDB_PANIC, "mdb_cursor_open") }
            cursors.append(Cursor(cursor: cursor, table: table))
        }
        return try body(cursors)
    }

    func openTable(_ name: String, create: Bool) throws -> Table {
        var dbi: MDB_dbi = 0
        let rc = mdb_dbi_open(txn, name, create ? UInt32(MDB_CREATE) : 0, &dbi)
        if rc == MDB_NOTFOUND {
            throw StorageError(
                code: .lmdb, resultCode: .notFound,
                message: "table \(name) does not exist (is this a Cairn ledger, and is it initialized?)")
        }
        try check(rc, "opening table \(name)")
        return Table(dbi: dbi, name: name)
    }
}

/// A read-only snapshot. Valid only inside the `LMDBEnvironment.read` closure that received it.
public struct ReadTransaction: TransactionReading {
    public let txn: OpaquePointer
}

/// A write transaction. Valid only inside the `LMDBEnvironment.write` closure that received it,
/// on that closure's thread.
public struct WriteTransaction: TransactionReading {
    final class State {
        var hitMapFull = false
    }

    public let txn: OpaquePointer
    let state = State()

    init(txn: OpaquePointer) {
        self.txn = txn
    }

    /// How `put` treats an existing key.
    public struct PutMode: Sendable {
        let flags: UInt32
        /// Insert or replace.
        public static let upsert = PutMode(flags: 0)
        /// Insert only; fail with `.keyExists` if the key is present.
        public static let noOverwrite = PutMode(flags: UInt32(MDB_NOOVERWRITE))
        /// Insert a key greater than every key in the table (fast sequential load); fails with
        /// `.keyExists` if it is not.
        public static let append = PutMode(flags: UInt32(MDB_APPEND))
    }

    /// Stores `value` under `key`.
    public func put(
        _ table: Table, key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, mode: PutMode = .upsert
    ) throws {
        var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        var v = MDB_val(mv_size: value.count, mv_data: UnsafeMutableRawPointer(mutating: value.baseAddress))
        let rc = mdb_put(txn, table.dbi, &k, &v, mode.flags)
        if rc == MDB_MAP_FULL { state.hitMapFull = true }
        if rc == MDB_BAD_VALSIZE {
            throw StorageError(
                code: .tooLarge, message: "key of \(key.count) bytes is too large for LMDB table \(table.name)")
        }
        try check(rc, "writing to table \(table.name)")
    }

    /// Stores `value` under `key`.
    public func put(_ table: Table, key: [UInt8], value: [UInt8], mode: PutMode = .upsert) throws {
        try key.withUnsafeBytes { k throws in
            try value.withUnsafeBytes { v throws in try put(table, key: k, value: v, mode: mode) }
        }
    }

    /// Stores `value` under the big-endian encoding of `key`.
    public func put(
        _ table: Table, key: UInt64, value: UnsafeRawBufferPointer, mode: PutMode = .upsert
    ) throws {
        var be = key.bigEndian
        try withUnsafeBytes(of: &be) { k throws in try put(table, key: k, value: value, mode: mode) }
    }

    /// Stores `value` under the big-endian encoding of `key`.
    public func put(_ table: Table, key: UInt64, value: [UInt8], mode: PutMode = .upsert) throws {
        try value.withUnsafeBytes { v throws in try put(table, key: key, value: v, mode: mode) }
    }

    /// Stores `value` under `key` unless the key exists; returns a copy of the existing value
    /// if it does (one B-tree descent instead of a lookup followed by an insert).
    public func insertIfAbsent(
        _ table: Table, key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer
    ) throws -> [UInt8]? {
        var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        var v = MDB_val(mv_size: value.count, mv_data: UnsafeMutableRawPointer(mutating: value.baseAddress))
        let rc = mdb_put(txn, table.dbi, &k, &v, UInt32(MDB_NOOVERWRITE))
        if rc == MDB_KEYEXIST {
            // LMDB points `v` at the existing value.
            return Array(UnsafeRawBufferPointer(start: v.mv_data, count: v.mv_size))
        }
        if rc == MDB_MAP_FULL { state.hitMapFull = true }
        try check(rc, "writing to table \(table.name)")
        return nil
    }

    /// Deletes `key`; returns whether it was present.
    @discardableResult
    public func delete(_ table: Table, key: [UInt8]) throws -> Bool {
        try key.withUnsafeBytes { kb throws in
            var k = MDB_val(mv_size: kb.count, mv_data: UnsafeMutableRawPointer(mutating: kb.baseAddress))
            let rc = mdb_del(txn, table.dbi, &k, nil)
            if rc == MDB_NOTFOUND { return false }
            try check(rc, "deleting from table \(table.name)")
            return true
        }
    }

    /// Deletes the entries of `table` whose 8-byte big-endian key is below `bound`; returns how many.
    @discardableResult
    public func removeAll(_ table: Table, below bound: UInt64) throws -> Int {
        try withCursor(table) { cursor in
            var removed = 0
            while let (key, _) = try cursor.first(), let value = BigEndianKey.decode(key), value < bound {
                let rc = mdb_cursor_del(cursor.cursor, 0)
                if rc == MDB_MAP_FULL { state.hitMapFull = true }
                try check(rc, "deleting from table \(table.name)")
                removed += 1
            }
            return removed
        }
    }

    /// Deletes every entry of `table`, keeping the table.
    public func removeAll(_ table: Table) throws {
        try check(mdb_drop(txn, table.dbi, 0), "emptying table \(table.name)")
    }
}

/// A cursor over one table, valid only inside the `withCursor` closure that received it.
public struct Cursor {
    let cursor: OpaquePointer
    let table: Table

    /// A key/value pair pointing into the memory map (valid until the cursor moves or the
    /// transaction ends).
    public typealias Entry = (key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer)

    private func move(_ op: MDB_cursor_op, key: UnsafeRawBufferPointer? = nil) throws -> Entry? {
        var k = MDB_val(mv_size: key?.count ?? 0, mv_data: UnsafeMutableRawPointer(mutating: key?.baseAddress))
        var v = MDB_val()
        let rc = mdb_cursor_get(cursor, &k, &v, op)
        if rc == MDB_NOTFOUND { return nil }
        try check(rc, "moving cursor on table \(table.name)")
        return (
            UnsafeRawBufferPointer(start: k.mv_data, count: k.mv_size),
            UnsafeRawBufferPointer(start: v.mv_data, count: v.mv_size)
        )
    }

    /// The first entry, or `nil` if the table is empty.
    public func first() throws -> Entry? { try move(MDB_FIRST) }
    /// The last entry, or `nil` if the table is empty.
    public func last() throws -> Entry? { try move(MDB_LAST) }
    /// The next entry, or `nil` at the end.
    public func next() throws -> Entry? { try move(MDB_NEXT) }
    /// The previous entry, or `nil` at the start.
    public func previous() throws -> Entry? { try move(MDB_PREV) }

    /// The first entry whose key is greater than or equal to `key`.
    public func seek(atLeast key: UnsafeRawBufferPointer) throws -> Entry? {
        try move(MDB_SET_RANGE, key: key)
    }

    /// The first entry whose big-endian key is greater than or equal to `key`.
    public func seek(atLeast key: UInt64) throws -> Entry? {
        var be = key.bigEndian
        return try withUnsafeBytes(of: &be) { k throws in try move(MDB_SET_RANGE, key: k) }
    }
}

extension TransactionReading {
    /// Calls `body` for each entry whose key starts with `prefix`, in key order, until `body`
    /// returns `false`. Buffers are valid only during the call.
    public func forEach(
        _ table: Table, prefix: [UInt8], from start: [UInt8]? = nil,
        _ body: (_ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) throws -> Bool
    ) throws {
        try withCursor(table) { cursor in
            let first = start ?? prefix
            // LMDB refuses a zero-length key for a range seek: start at the first entry instead.
            var entry = try first.isEmpty ? cursor.first() : first.withUnsafeBytes { try cursor.seek(atLeast: $0) }
            while let (key, value) = entry, key.starts(with: prefix) {
                guard try body(key, value) else { return }
                entry = try cursor.next()
            }
        }
    }
}

/// Appends to one table through a long-lived cursor, for bulk loading with `MDB_APPEND`: each
/// append goes straight to the last page instead of searching the tree from the root.
/// Valid only inside the `withAppender` closure that received it.
public struct Appender {
    let cursor: OpaquePointer
    let table: Table
    let state: WriteTransaction.State

    /// Appends `value` under the big-endian encoding of `key`, which must be greater than every
    /// key in the table.
    public func append(_ key: UInt64, _ value: UnsafeRawBufferPointer) throws {
        var be = key.bigEndian
        try withUnsafeMutableBytes(of: &be) { keyBytes in
            var k = MDB_val(mv_size: 8, mv_data: keyBytes.baseAddress)
            var v = MDB_val(mv_size: value.count, mv_data: UnsafeMutableRawPointer(mutating: value.baseAddress))
            let rc = mdb_cursor_put(cursor, &k, &v, UInt32(MDB_APPEND))
            if rc == MDB_MAP_FULL { state.hitMapFull = true }
            try check(rc, "appending to table \(table.name)")
        }
    }
}

extension WriteTransaction {
    /// Calls `body` with an appender for `table` (see `Appender`).
    public func withAppender<R>(_ table: Table, _ body: (Appender) throws -> R) throws -> R {
        var cursor: OpaquePointer?
        try check(mdb_cursor_open(txn, table.dbi, &cursor), "opening cursor on table \(table.name)")
        guard let cursor else { throw StorageError.lmdb(MDB_PANIC, "mdb_cursor_open") }
        defer { mdb_cursor_close(cursor) }
        return try body(Appender(cursor: cursor, table: table, state: state))
    }
}
