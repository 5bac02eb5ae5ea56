import CCairnLMDB
import Synchronization

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
///
/// Never begin a transaction inside another on the same environment and thread: a map resize
/// waits for every transaction of this process to end, and LMDB's writer lock is not reentrant,
/// so nesting deadlocks sooner or later. It is caught at once instead: beginning a transaction
/// while the calling thread already has one open on this environment stops the process with a
/// precondition failure naming the environment (see `reentrancyViolation(beginning:)`).
///
/// Opening checks `data.mdb` against its meta pages first (`LMDBDataFile`): an empty, foreign or
/// truncated file is refused with a `StorageError` naming it, instead of being mapped (a
/// truncated file would kill the process with SIGBUS at the first read beyond its end).
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
        /// `maxGrowthStep`). Reserving address space costs no disk. The environment variable
        /// `CAIRN_LMDB_INITIAL_MAP_SIZE` (bytes) changes the default, so that tests can make a
        /// ledger's map grow with little data.
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

        public init() {
            if let raw = getenv("CAIRN_LMDB_INITIAL_MAP_SIZE"), let size = Int(String(cString: raw)), size > 0 {
                initialMapSize = size
            }
        }
    }

    let env: OpaquePointer
    /// The directory holding the environment.
    public let directory: String
    public let options: Options

    // LMDB allows mdb_env_set_mapsize only while this process has no active transaction.
    // Transactions hold this lock shared; resizing holds it exclusively.
    private let resizeLock = ReadWriteLock()

    /// Set when a map resize failed and left LMDB without a map: every later transaction fails
    /// with this message (LMDB would touch unmapped memory). Written under the exclusive resize
    /// lock.
    private let unusableReason = Mutex<String?>(nil)
    /// Whether `unusableReason` is set: the one check every transaction makes, without a lock.
    private let isUnusable = Atomic<Bool>(false)
    /// For tests: the error the next map resize fails with instead of resizing (what happens
    /// after is as for a real failure: the environment is marked unusable).
    package let resizeFault = Mutex<Int32?>(nil)
    /// The map size before the failed resize, for `mapSize` on an unusable environment.
    private let lastGoodMapSize = Atomic<Int>(0)

    /// Opens (creating if needed and not read-only) the environment in `directory`, which must exist.
    ///
    /// Throws `StorageError` with `.emptyDataFile`, `.invalidDataFile` or `.truncatedDataFile`
    /// for a damaged `data.mdb` (see `LMDBDataFile`); a missing one is created unless read-only.
    public init(directory: String, options: Options = Options()) throws {
        let dataPath = LMDBDataFile.path(inDirectory: directory)
        try Self.refuseEmptyDataFile(dataPath, directory: directory)
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
            let opened = mdb_env_open(env, directory, flags, options.fileMode)
            if opened != MDB_SUCCESS {
                // LMDB says only "MDB_INVALID" or "Bad file descriptor" about a damaged file: say
                // what is wrong with it when we can.
                _ = try LMDBDataFile.inspect(path: dataPath)
                throw StorageError.lmdb(opened, "opening LMDB environment in \(directory)")
            }
            // Before any page beyond the meta pages is read: a truncated file must not be mapped
            // and used. (Checked after mdb_env_open, which holds LMDB's lock while another
            // process creates the file, so a file being created is never seen half-written.)
            _ = try LMDBDataFile.inspect(path: dataPath)
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

    /// Refuses an existing, empty `data.mdb` before LMDB sees it: LMDB would initialize it as a
    /// new environment (losing the chance to notice an interrupted copy) or fail with "Bad file
    /// descriptor" when read-only. A file that is empty because another process is creating the
    /// environment right now is waited for: LMDB's creator holds an exclusive `fcntl` lock on the
    /// first byte of `lock.mdb` until the meta pages are written, so taking a shared lock on it
    /// waits exactly that long.
    private static func refuseEmptyDataFile(_ dataPath: String, directory: String) throws {
        guard DurableFiles.size(of: dataPath) == 0 else { return }
        let lockPath = directory.hasSuffix("/") ? directory + "lock.mdb" : directory + "/lock.mdb"
        let fd = open(lockPath, O_RDWR | O_CLOEXEC)
        if fd >= 0 {
            // This process has not opened the environment (the registry opens it once), so
            // closing this descriptor releases no lock of LMDB's.
            var lock = flock()
            lock.l_type = Int16(F_RDLCK)
            lock.l_whence = Int16(SEEK_SET)
            lock.l_start = 0
            lock.l_len = 1
            while fcntl(fd, F_SETLKW, &lock) != 0 && errno == EINTR {}
            close(fd)
        }
        guard DurableFiles.size(of: dataPath) == 0 else { return }
        _ = try LMDBDataFile.inspect(path: dataPath)  // throws .emptyDataFile
    }

    /// The current map size in bytes.
    public var mapSize: Int {
        if isUnusable.load(ordering: .acquiring) { return lastGoodMapSize.load(ordering: .relaxed) }
        return currentMapSize()
    }

    private func currentMapSize() -> Int {
        var info = MDB_envinfo()
        mdb_env_info(env, &info)
        return info.me_mapsize
    }

    // MARK: - One transaction per thread and environment

    /// Why beginning a `kind` transaction ("read" or "write") on the calling thread would
    /// deadlock, or `nil` if it would not: the thread already has a transaction open on this
    /// environment. `read` and `write` stop the process with this message; it is exposed so that
    /// tests can check the detection without dying.
    package func reentrancyViolation(beginning kind: String) -> String? {
        guard OpenTransactions.current.contains(ObjectIdentifier(self)) else { return nil }
        return "LMDB environment \(directory): a \(kind) transaction was begun on a thread that already has a "
            + "transaction open on this environment. That deadlocks (a map resize waits for every transaction "
            + "to end, and LMDB's writer lock is not reentrant): end the outer transaction first, or do the "
            + "inner work with the outer transaction."
    }

    /// Marks a transaction of this environment open on the calling thread, stopping the process
    /// if one already is.
    private func enterTransaction(_ kind: String) {
        if let violation = reentrancyViolation(beginning: kind) { preconditionFailure(violation) }
        OpenTransactions.current.insert(ObjectIdentifier(self))
    }

    private func leaveTransaction() {
        OpenTransactions.current.remove(ObjectIdentifier(self))
    }

    /// Throws if a failed resize left the environment without a map. Call holding the resize lock.
    private func checkUsable() throws {
        guard isUnusable.load(ordering: .acquiring) else { return }
        if let reason = unusableReason.withLock({ $0 }) {
            throw StorageError(code: .unusable, message: reason)
        }
    }

    /// Opens (creating unless read-only) the named table. Do this once, at start-up.
    public func openTable(_ name: String) throws -> Table {
        if options.readOnly {
            // A handle opened in a read transaction survives only if that transaction commits.
            enterTransaction("read")
            defer { leaveTransaction() }
            resizeLock.lockShared()
            defer { resizeLock.unlock() }
            try checkUsable()
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

    /// Opens the named table if it exists (never creating it); nil when it does not.
    public func openTableIfPresent(_ name: String) throws -> Table? {
        do {
            if options.readOnly { return try openTable(name) }
            return try write { txn throws in try txn.openTable(name, create: false) }
        } catch let error as StorageError where error.resultCode == .notFound {
            return nil
        }
    }

    /// Runs `body` in a read-only snapshot transaction and returns its result.
    ///
    /// Values handed out by the transaction point into the memory map and are valid only
    /// inside `body`; copy what you keep.
    public func read<R, E: Error>(_ body: (ReadTransaction) throws(E) -> R) throws -> R {
        enterTransaction("read")
        defer { leaveTransaction() }
        while true {
            resizeLock.lockShared()
            do {
                try checkUsable()
            } catch {
                resizeLock.unlock()
                throw error
            }
            var txn: OpaquePointer?
            let rc = mdb_txn_begin(env, nil, UInt32(MDB_RDONLY), &txn)
            if rc == MDB_MAP_RESIZED {
                resizeLock.unlock()
                try adoptGrownMap()
                continue
            }
            guard rc == MDB_SUCCESS, let txn else {
                resizeLock.unlock()
                throw StorageError.lmdb(rc, "beginning a read transaction on \(directory)")
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
        enterTransaction("write")
        defer { leaveTransaction() }
        while true {
            resizeLock.lockShared()
            do {
                try checkUsable()
            } catch {
                resizeLock.unlock()
                throw error
            }
            var txnPointer: OpaquePointer?
            let rc = mdb_txn_begin(env, nil, 0, &txnPointer)
            if rc == MDB_MAP_RESIZED {
                resizeLock.unlock()
                try adoptGrownMap()
                continue
            }
            guard rc == MDB_SUCCESS, let txnPointer else {
                resizeLock.unlock()
                throw StorageError.lmdb(rc, "beginning a write transaction on \(directory)")
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
                    message: "committing a write transaction to \(directory): \(code)\(spaceNote(commit))")
            }
            return result
        }
    }

    /// " (the file system … has N bytes free)" after an I/O failure on a full file system: LMDB
    /// reports a short write as EIO, which alone would hide the cause.
    private func spaceNote(_ rc: Int32) -> String {
        guard rc == EIO || rc == ENOSPC || rc == EDQUOT else { return "" }
        var fs = statvfs()
        guard statvfs(directory, &fs) == 0 else { return "" }
        let free = UInt64(fs.f_bavail) &* UInt64(fs.f_frsize)
        guard free < 4 << 20 else { return "" }
        return " (the file system holding it has \(free) bytes free)"
    }

    /// Flushes the data to disk (only needed with `unsafeNoSync`).
    public func sync() throws {
        try check(mdb_env_sync(env, 1), "mdb_env_sync")
    }

    /// Grows the map after `MDB_MAP_FULL`. The transaction that hit the limit was aborted, so a
    /// failure here loses nothing that was acknowledged; but LMDB unmaps the old map before it
    /// maps the new one, so after a failure the environment has no map and is marked unusable.
    private func grow() throws {
        resizeLock.lockExclusive()
        defer { resizeLock.unlock() }
        try checkUsable()
        let current = currentMapSize()
        let (sum, overflow) = current.addingReportingOverflow(min(current, options.maxGrowthStep))
        let next = overflow ? Int.max : sum
        let rc = resizeFault.withLock { $0.take() } ?? mdb_env_set_mapsize(env, next)
        guard rc == MDB_SUCCESS else {
            throw markUnusable(
                rc, current: current,
                "the LMDB map of \(directory) is full at \(current) bytes and cannot grow to \(next) bytes")
        }
    }

    private func adoptGrownMap() throws {
        resizeLock.lockExclusive()
        defer { resizeLock.unlock() }
        try checkUsable()
        let current = currentMapSize()
        let rc = mdb_env_set_mapsize(env, 0)
        guard rc == MDB_SUCCESS else {
            throw markUnusable(
                rc, current: current, "cannot map \(directory) at the size another process grew it to")
        }
    }

    /// Records that the environment lost its map; returns the error for the failed resize.
    private func markUnusable(_ rc: Int32, current: Int, _ what: String) -> StorageError {
        let reason = LMDBResultCode(rawValue: rc).description
        lastGoodMapSize.store(current, ordering: .relaxed)
        unusableReason.withLock {
            $0 =
                "the LMDB environment \(directory) is unusable since a map resize failed (\(reason)); "
                + "nothing committed was lost: restart the process"
        }
        isUnusable.store(true, ordering: .releasing)
        return StorageError(
            code: .lmdb, resultCode: LMDBResultCode(rawValue: rc),
            message: "\(what): \(reason); the transaction was not committed")
    }
}

/// The environments on which the calling thread has a transaction open: a thread-local list
/// (a thread rarely has more than one), kept in a `pthread` key whose destructor frees it.
enum OpenTransactions {
    final class Environments {
        private var open: [ObjectIdentifier] = []
        func contains(_ id: ObjectIdentifier) -> Bool { open.contains(id) }
        func insert(_ id: ObjectIdentifier) { open.append(id) }
        func remove(_ id: ObjectIdentifier) {
            if let i = open.lastIndex(of: id) { open.remove(at: i) }
        }
    }

    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        let rc = pthread_key_create(&key) { pointer in
            let pointer: UnsafeMutableRawPointer? = pointer
            if let pointer { Unmanaged<Environments>.fromOpaque(pointer).release() }
        }
        precondition(rc == 0, "pthread_key_create failed (\(rc)): too many thread-local keys")
        return key
    }()

    /// The calling thread's list, created on first use.
    static var current: Environments {
        if let pointer = pthread_getspecific(key) {
            return Unmanaged<Environments>.fromOpaque(pointer).takeUnretainedValue()
        }
        let environments = Environments()
        pthread_setspecific(key, Unmanaged.passRetained(environments).toOpaque())
        return environments
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
