import CCairnLMDB

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A named LMDB database inside an environment ("table"). A plain handle: valid for the life of
/// the environment that opened it, safe to share between threads.
public struct Table: Sendable, Hashable {
    let dbi: MDB_dbi
    /// The table's name inside the environment.
    public let name: String
}

/// One LMDB environment: a directory holding `data.mdb` and `lock.mdb`, shared safely by every
/// process and thread that opens it.
///
/// Thread-safe. Read transactions may run on any thread at any time (the environment is opened
/// with `MDB_NOTLS`); write transactions are confined to the calling thread by construction:
/// `write(_:)` takes a synchronous closure, begins and commits on the caller's thread, and LMDB
/// serializes writers across processes. When the map is full, `write(_:)` grows the map and runs
/// the closure again, so the closure must not have side effects outside the transaction.
/// Do not begin a transaction inside another on the same thread: a resize waits for every
/// transaction of this process to end.
///
/// ```swift
/// let env = try LMDBEnvironment(directory: "/var/lib/cairn/ledger")
/// let leaves = try env.openTable("leaves")
/// try env.write { txn in try txn.put(leaves, key: [1], value: [42]) }
/// let v = try env.read { txn in txn.value(leaves, key: [1]) }
/// ```
public final class LMDBEnvironment: @unchecked Sendable {
    /// How to open an environment.
    public struct Options: Sendable {
        /// The initial map size in bytes; the map grows on demand (doubling, in steps of at most
        /// `maxGrowthStep`). Reserving address space costs no disk.
        public var initialMapSize: Int = 1 << 30
        /// The largest single growth step.
        public var maxGrowthStep: Int = 16 << 30
        /// Maximum number of named tables.
        public var maxTables: UInt32 = 32
        /// Maximum number of concurrent read transactions across all processes.
        public var maxReaders: UInt32 = 512
        /// Open without the ability to write (no write transactions; tables must exist).
        public var readOnly: Bool = false
        /// Skip the fsync at commit (`MDB_NOSYNC`). Off by default: commits are durable.
        /// Only for throwaway data such as benchmarks' baselines.
        public var unsafeNoSync: Bool = false
        /// Permissions of newly created files.
        public var fileMode: mode_t = 0o640

        public init() {}
    }

    let env: OpaquePointer
    /// The directory holding the environment.
    public let directory: String
    public let options: Options

    // LMDB allows mdb_env_set_mapsize only while this process has no active transaction.
    // Transactions hold this lock shared; resizing holds it exclusively.
    private let resizeLock = ReadWriteLock()

    /// Opens (creating if needed and not read-only) the environment in `directory`, which must exist.
    public init(directory: String, options: Options = Options()) throws {
        var env: OpaquePointer?
        try check(mdb_env_create(&env), "mdb_env_create")
        guard let env else { throw StorageError.lmdb(MDB_PANIC, "mdb_env_create") }
        var flags = UInt32(MDB_NOTLS)
        if options.readOnly { flags |= UInt32(MDB_RDONLY) }
        if options.unsafeNoSync { flags |= UInt32(MDB_NOSYNC) }
        do {
            try check(mdb_env_set_maxdbs(env, options.maxTables), "mdb_env_set_maxdbs")
            try check(mdb_env_set_maxreaders(env, options.maxReaders), "mdb_env_set_maxreaders")
            try check(mdb_env_set_mapsize(env, options.initialMapSize), "mdb_env_set_mapsize")
            try check(mdb_env_open(env, directory, flags, options.fileMode), "opening LMDB environment in \(directory)")
            // A process that died inside a read transaction leaves a stale reader slot behind;
            // clear those so they neither pin old pages nor exhaust the reader table.
            var dead: Int32 = 0
            _ = mdb_reader_check(env, &dead)
            // Adopt the map size of the file if another process grew it beyond our initial size.
            try check(mdb_env_set_mapsize(env, 0), "mdb_env_set_mapsize")
        } catch {
            mdb_env_close(env)
            throw error
        }
        self.env = env
        self.directory = directory
        self.options = options
    }

    deinit {
        mdb_env_close(env)
    }

    /// The current map size in bytes.
    public var mapSize: Int {
        var info = MDB_envinfo()
        mdb_env_info(env, &info)
        return info.me_mapsize
    }

    /// Opens (creating unless read-only) the named table. Do this once, at start-up.
    public func openTable(_ name: String) throws -> Table {
        if options.readOnly {
            // A handle opened in a read transaction survives only if that transaction commits.
            resizeLock.lockShared()
            defer { resizeLock.unlock() }
            var txn: OpaquePointer?
            try check(mdb_txn_begin(env, nil, UInt32(MDB_RDONLY), &txn), "beginning read transaction")
            guard let txn else { throw StorageError.lmdb(MDB_PANIC, "mdb_txn_begin") }
            do {
                let table = try ReadTransaction(txn: txn).openTable(name, create: false)
                try check(mdb_txn_commit(txn), "opening table \(name)")
                return table
            } catch {
                mdb_txn_abort(txn)
                throw error
            }
        }
        return try write { txn throws in try txn.openTable(name, create: true) }
    }

    /// Runs `body` in a read-only snapshot transaction and returns its result.
    ///
    /// Values handed out by the transaction point into the memory map and are valid only
    /// inside `body`; copy what you keep.
    public func read<R, E: Error>(_ body: (ReadTransaction) throws(E) -> R) throws -> R {
        while true {
            resizeLock.lockShared()
            var txn: OpaquePointer?
            let rc = mdb_txn_begin(env, nil, UInt32(MDB_RDONLY), &txn)
            if rc == MDB_MAP_RESIZED {
                resizeLock.unlock()
                try adoptGrownMap()
                continue
            }
            guard rc == MDB_SUCCESS, let txn else {
                resizeLock.unlock()
                throw StorageError.lmdb(rc, "beginning read transaction")
            }
            defer {
                mdb_txn_abort(txn)
                resizeLock.unlock()
            }
            return try body(ReadTransaction(txn: txn))
        }
    }

    /// Runs `body` in a write transaction and commits it durably; aborts if `body` throws.
    ///
    /// If the map fills up, the transaction is aborted, the map is grown and `body` runs again
    /// from the start, so `body` must only change state through the transaction (or state it
    /// recomputes on each run). Blocks while another process or thread holds the write lock.
    public func write<R, E: Error>(_ body: (WriteTransaction) throws(E) -> R) throws -> R {
        precondition(!options.readOnly, "write transaction on a read-only LMDB environment")
        while true {
            resizeLock.lockShared()
            var txnPointer: OpaquePointer?
            let rc = mdb_txn_begin(env, nil, 0, &txnPointer)
            if rc == MDB_MAP_RESIZED {
                resizeLock.unlock()
                try adoptGrownMap()
                continue
            }
            guard rc == MDB_SUCCESS, let txnPointer else {
                resizeLock.unlock()
                throw StorageError.lmdb(rc, "beginning write transaction")
            }
            let txn = WriteTransaction(txn: txnPointer)
            let result: R
            do {
                result = try body(txn)
            } catch {
                mdb_txn_abort(txnPointer)
                resizeLock.unlock()
                if txn.state.hitMapFull {
                    try grow()
                    continue
                }
                throw error
            }
            let commit = mdb_txn_commit(txnPointer)  // frees the transaction, success or not
            resizeLock.unlock()
            if commit == MDB_MAP_FULL {
                try grow()
                continue
            }
            guard commit == MDB_SUCCESS else {
                let code = LMDBResultCode(rawValue: commit)
                throw StorageError(
                    code: .commitFailed, resultCode: code,
                    message: "committing a write transaction in \(directory): \(code)")
            }
            return result
        }
    }

    /// Flushes the data to disk (only needed with `unsafeNoSync`).
    public func sync() throws {
        try check(mdb_env_sync(env, 1), "mdb_env_sync")
    }

    private func grow() throws {
        resizeLock.lockExclusive()
        defer { resizeLock.unlock() }
        let current = mapSize
        let next = current + min(current, options.maxGrowthStep)
        try check(mdb_env_set_mapsize(env, next), "growing LMDB map from \(current) to \(next) bytes")
    }

    private func adoptGrownMap() throws {
        resizeLock.lockExclusive()
        defer { resizeLock.unlock() }
        try check(mdb_env_set_mapsize(env, 0), "adopting LMDB map size grown by another process")
    }
}

/// A pthread read-write lock (LMDB's resize rule needs shared/exclusive semantics).
final class ReadWriteLock: @unchecked Sendable {
    private let lock: UnsafeMutablePointer<pthread_rwlock_t>

    init() {
        lock = .allocate(capacity: 1)
        lock.initialize(to: pthread_rwlock_t())
        #if os(Linux)
        // Prefer waiting writers (the resizer), so a steady stream of readers cannot starve it.
        var attr = pthread_rwlockattr_t()
        pthread_rwlockattr_init(&attr)
        pthread_rwlockattr_setkind_np(&attr, Int32(PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP))
        pthread_rwlock_init(lock, &attr)
        pthread_rwlockattr_destroy(&attr)
        #else
        pthread_rwlock_init(lock, nil)
        #endif
    }

    deinit {
        pthread_rwlock_destroy(lock)
        lock.deallocate()
    }

    func lockShared() { pthread_rwlock_rdlock(lock) }
    func lockExclusive() { pthread_rwlock_wrlock(lock) }
    func unlock() { pthread_rwlock_unlock(lock) }
}
