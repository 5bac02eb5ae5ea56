import CairnCrypto
import CairnMerkle
import CairnNote
import CairnStorage
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A Cairn ledger: an append-only RFC 6962 Merkle log of canonical JSON records in one LMDB
/// environment, with a C2SP signed checkpoint for every committed size.
///
/// Thread-safe. The core is small: create or open a ledger, read it through one door
/// (`read { snapshot in … }`, async on the ledger I/O pool or synchronous), write it through its
/// ingest engine (`IngestEngine`: records, blobs, and sibling modules' storage operations), and
/// check it (`fsck`). Several processes may open the same ledger: a `cairn prove` can run while
/// another process appends (LMDB's write lock serializes writers across processes).
///
/// ```swift
/// let ledger = try Ledger.create(at: "/tmp/ledger", origin: "example.com/cairn")
/// let engine = IngestEngine(ledger: ledger)
/// let result = try await engine.append(try PreparedEntry.prepare(json: Array(#"{"a":1}"#.utf8), maxEntryBytes: 1 << 20))
/// let proof = try await ledger.read { try $0.inclusionProof(index: result.index) }
/// await engine.shutdownGracefully()
/// ```
public final class Ledger: Sendable {
    /// Options for creating a ledger.
    public struct CreateOptions: Sendable {
        /// The largest canonical entry accepted, in bytes.
        public var maxEntryBytes: Int = 1 << 20
        /// Which records the ledger accepts.
        public var profile: LedgerProfile = .provenance
        /// An existing signing key to use instead of generating one.
        public var signingKey: Ed25519PrivateKey?
        /// Storage options (map size…).
        public var storage = LMDBEnvironment.Options()
        /// Keep the stats aggregates with every commit (Ledger+Aggregates). False creates a ledger without them
        /// (what `cairn bench ingest --no-aggregates` measures against) until `cairn fsck --rebuild-aggregates`.
        public var keepsAggregates = true

        public init() {}
    }

    /// Options for opening an existing ledger.
    public struct OpenOptions: Sendable {
        /// Open without write access (no appends, no new checkpoints).
        public var readOnly = false
        /// Storage options (map size…); `readOnly` above overrides the storage flag.
        public var storage = LMDBEnvironment.Options()

        public init() {}
    }

    /// The ledger directory.
    public let directory: String
    /// The log origin: first line of every checkpoint and the signing key's name.
    public let origin: String
    /// The key auditors verify new checkpoints with: the log's current key (`meta/vkey`). After a key rotation
    /// (`rotateSigningKey`, specs/key-rotation.md) it is the new key; the earlier ones are in the key history.
    public var verifierKey: NoteVerifierKey { currentKey.withLock { $0 } }
    /// The largest canonical entry accepted, in bytes.
    public let maxEntryBytes: Int
    /// Which records the ledger accepts.
    public let profile: LedgerProfile
    /// Whether the ledger was opened read-only.
    public let isReadOnly: Bool

    let env: LMDBEnvironment
    let tables: Tables
    // The writer's in-memory state: the right edge of the tree and the content index's log as a
    // hash map. Checked against the stored size in every write transaction, since another
    // process may have appended since.
    let writer: Mutex<WriterState?>
    // The digest cache of the commit in progress (set only while `writer` is held), so that
    // lookups made inside the write transaction see it.
    let activeDigestCache = Mutex<DigestIndex.WriterCache?>(nil)
    // Whether the ledger is known to be in format 2 (stored tiles). Set once seen, never cleared:
    // a migration only ever moves a ledger from format 1 to 2.
    let knownTiled: Atomic<Bool>

    struct WriterState {
        let tiles: TileState
        let digests: DigestIndex.WriterCache
        var frontier: MerkleFrontier { tiles.builder.frontier }
    }

    /// The writer's tile builder, mutated in place by each commit (a value copy would copy its 130 KB of partial
    /// tiles per commit). A commit that fails leaves it ahead of the stored tree; the next write transaction
    /// sees the sizes differ and reloads it from storage (`writerState`).
    final class TileState: @unchecked Sendable {
        // Only touched under the `writer` lock.
        var builder: StoredTileBuilder

        init(_ builder: StoredTileBuilder) {
            self.builder = builder
        }
    }
    let signer: Mutex<NoteSigner?>
    // The current verifier key, replaced by a key rotation of this process (`Ledger+KeyRotation`).
    let currentKey: Mutex<NoteVerifierKey>
    // Parsed stored checkpoints by tree size, with the bytes they were parsed from, so proofs do
    // not re-parse the same signed note. A stored note can gain witness cosignatures, so a cached
    // parse is used only while the stored bytes are unchanged.
    let checkpointCache = Mutex<[UInt64: (bytes: [UInt8], parsed: SignedCheckpoint)]>([:])
    // The sensitive-path globs `recordRules` hands to preparation, and when they were read (monotonic ns): read
    // again at most once a second, since an HTTP server asks for rules on every request. A stale copy costs only
    // the writer recomputing contributions (`PreparedEntry.initialContributions`).
    let sensitivePathsCache = Mutex<(globs: [String], readAt: UInt64)?>(nil)
    // Readers' hash map of the content index's log (see DigestIndex.ReaderCache).
    let digestReaders = DigestIndex.ReaderCache()
    /// The right edge (suffix folds) of the largest tree size a proof was asked for at a snapshot's own
    /// size: proofs against the latest checkpoint reuse it instead of re-reading and re-folding it. A tree's
    /// hashes at a size never change, so it never goes stale; a larger size replaces it.
    let rightEdgeCache = Mutex<MerkleRightEdge?>(nil)

    struct Tables: Sendable {
        let leaves: Table
        let digests: DigestIndex
        let hashes: Table?
        let tiles: Table?
        let checkpoints: Table
        let meta: Table
        let ids: Table
        let refs: Table
        let effective: Table
        let index: Table
        let blobs: Table
        let tokens: Table?
        let appenders: Table?
        let commitTimes: Table?
        let aggregates: Table?
        let accessOutbox: Table?

        init(env: LMDBEnvironment) throws {
            leaves = try env.openTable(LedgerLayout.TableName.leaves)
            hashes = try env.openTableIfPresent(LedgerLayout.TableName.hashes)
            tiles = try Ledger.openOptionalTable(env, LedgerLayout.TableName.tiles)
            checkpoints = try env.openTable(LedgerLayout.TableName.checkpoints)
            meta = try env.openTable(LedgerLayout.TableName.meta)
            digests = try DigestIndex(env: env, meta: meta)
            ids = try env.openTable(LedgerLayout.TableName.ids)
            refs = try env.openTable(LedgerLayout.TableName.refs)
            effective = try env.openTable(LedgerLayout.TableName.effective)
            index = try env.openTable(LedgerLayout.TableName.index)
            blobs = try env.openTable(LedgerLayout.TableName.blobs)
            tokens = try Ledger.openOptionalTable(env, LedgerLayout.TableName.tokens)
            appenders = try Ledger.openOptionalTable(env, LedgerLayout.TableName.appenders)
            commitTimes = try Ledger.openOptionalTable(env, LedgerLayout.TableName.commitTimes)
            aggregates = try Ledger.openOptionalTable(env, LedgerLayout.TableName.aggregates)
            accessOutbox = try Ledger.openOptionalTable(env, LedgerLayout.TableName.accessOutbox)
        }
    }

    /// The server's token table (kept in this environment so that tokens are backed up, copied
    /// and locked with the ledger); nil in a read-only ledger that never had one.
    package var tokensTable: Table? { tables.tokens }

    /// Opens a table that a ledger may lack: nil when the ledger is open read-only and was never
    /// opened for writing since the table was introduced.
    static func openOptionalTable(_ env: LMDBEnvironment, _ name: String) throws -> Table? {
        do {
            return try env.openTable(name)
        } catch let error as StorageError where env.options.readOnly && error.resultCode == .notFound {
            return nil
        }
    }

    private init(
        directory: String, env: LMDBEnvironment, tables: Tables, origin: String, verifierKey: NoteVerifierKey,
        maxEntryBytes: Int, profile: LedgerProfile, readOnly: Bool, signer: NoteSigner?, tiled: Bool
    ) {
        self.knownTiled = Atomic(tiled)
        self.directory = directory
        self.env = env
        self.tables = tables
        self.origin = origin
        self.currentKey = Mutex(verifierKey)
        self.maxEntryBytes = maxEntryBytes
        self.profile = profile
        self.isReadOnly = readOnly
        self.writer = Mutex(nil)
        self.signer = Mutex(signer)
    }

    // MARK: - Create

    /// Creates a new ledger in `directory` (which must not exist, or be empty): generates the
    /// signing key, writes the verifier key file, and signs the checkpoint of the empty tree.
    public static func create(
        at directory: String, origin: String, options: CreateOptions = CreateOptions()
    ) throws(LedgerError) -> Ledger {
        try LedgerError.wrapping(fallback: .storage) { try makeLedger(at: directory, origin: origin, options: options) }
    }

    private static func makeLedger(at directory: String, origin: String, options: CreateOptions) throws -> Ledger {
        try validateOrigin(origin)
        guard options.maxEntryBytes > 0 else {
            throw LedgerError(.invalidArgument, "maximum entry size must be positive, got \(options.maxEntryBytes)")
        }
        try FileSystem.createEmptyDirectory(directory)
        let key = try options.signingKey ?? Ed25519PrivateKey.generate()
        let signer = try NoteSigner(name: origin, privateKey: key)
        try FileSystem.writeNewFile(
            path(directory, LedgerLayout.signingKeyFile), contents: Array(key.pemRepresentation.utf8), mode: 0o600)

        let env = try openEnvironment(directory, options: options.storage)
        let tables = try Tables(env: env)
        let empty = Checkpoint(origin: origin, size: 0, rootHash: RFC6962.emptyRoot)
        let signed = try SignedCheckpoint.sign(empty, with: signer)
        try env.write { txn in
            guard try txn.count(tables.meta) == 0 else {
                throw LedgerError(.alreadyExists, "\(directory) already holds a ledger")
            }
            try txn.put(
                tables.meta, key: Array(LedgerLayout.MetaKey.format.utf8),
                value: Array(String(LedgerLayout.formatVersion).utf8))
            try txn.put(tables.meta, key: Array(LedgerLayout.MetaKey.origin.utf8), value: Array(origin.utf8))
            try txn.put(
                tables.meta, key: Array(LedgerLayout.MetaKey.verifierKey.utf8),
                value: Array(signer.verifierKey.description.utf8))
            try txn.put(
                tables.meta, key: Array(LedgerLayout.MetaKey.maxEntryBytes.utf8),
                value: Array(String(options.maxEntryBytes).utf8))
            try txn.put(
                tables.meta, key: Array(LedgerLayout.MetaKey.profile.utf8), value: Array(options.profile.rawValue.utf8))
            try txn.put(tables.meta, key: Array(LedgerLayout.MetaKey.treeSize.utf8), value: BigEndianKey.bytes(0))
            if !options.keepsAggregates {
                // A watermark no commit starts at: the aggregates are never kept (Ledger+Aggregates).
                try txn.put(tables.meta, key: Ledger.aggregatesSizeKey, value: BigEndianKey.bytes(UInt64.max))
            }
            try txn.put(tables.checkpoints, key: 0, value: Array(signed.serialized.utf8), mode: .append)
        }
        try FileSystem.writeNewFile(
            path(directory, LedgerLayout.verifierKeyFile),
            contents: Array((signer.verifierKey.description + "\n").utf8),
            mode: 0o644)
        return Ledger(
            directory: directory, env: env, tables: tables, origin: origin, verifierKey: signer.verifierKey,
            maxEntryBytes: options.maxEntryBytes, profile: options.profile, readOnly: false, signer: signer,
            tiled: true)
    }

    // MARK: - Open

    /// Opens an existing ledger. The signing key is loaded (and checked against the stored
    /// verifier key) on first use, so read-only tools work without access to it.
    public static func open(at directory: String, options: OpenOptions = OpenOptions()) throws(LedgerError) -> Ledger {
        try LedgerError.wrapping(fallback: .storage) { try openLedger(at: directory, options: options) }
    }

    private static func openLedger(at directory: String, options: OpenOptions) throws -> Ledger {
        var isDirectory = false
        if FileSystem.exists(directory, isDirectory: &isDirectory), !isDirectory {
            throw LedgerError(.notALedger, "the ledger path \(directory) is a file, not a ledger directory")
        }
        guard FileSystem.exists(directory, isDirectory: &isDirectory), isDirectory else {
            throw LedgerError(.notALedger, "no ledger at \(directory) (run `cairn init` first, or pass --ledger)")
        }
        guard FileSystem.exists(path(directory, "data.mdb"), isDirectory: &isDirectory) else {
            throw LedgerError(.notALedger, "\(directory) is not a Cairn ledger (no data.mdb)")
        }
        var storage = options.storage
        storage.readOnly = options.readOnly
        let env = try openEnvironment(directory, options: storage)
        let tables: Tables
        do {
            tables = try Tables(env: env)
        } catch let error as StorageError where error.resultCode == .notFound {
            throw LedgerError(.notALedger, "\(directory) is not an initialized Cairn ledger: \(error.message)")
        }
        let meta: (format: String?, origin: String?, vkey: String?, max: String?, profile: String?) = try env.read {
            txn in
            func text(_ key: String) throws -> String? {
                try txn.value(tables.meta, key: Array(key.utf8)).map { String(decoding: $0, as: UTF8.self) }
            }
            return (
                try text(LedgerLayout.MetaKey.format), try text(LedgerLayout.MetaKey.origin),
                try text(LedgerLayout.MetaKey.verifierKey), try text(LedgerLayout.MetaKey.maxEntryBytes),
                try text(LedgerLayout.MetaKey.profile)
            )
        }
        guard let format = meta.format, let origin = meta.origin, let vkeyText = meta.vkey,
            let maxText = meta.max, let maxEntryBytes = Int(maxText)
        else {
            throw LedgerError(
                .notALedger,
                "\(directory) is not an initialized Cairn ledger (metadata missing; did `cairn init` finish?)")
        }
        guard let formatVersion = Int(format),
            formatVersion == LedgerLayout.formatVersion || formatVersion == LedgerLayout.perHashFormatVersion
        else {
            throw LedgerError(
                .unsupportedFormat,
                "\(directory) uses storage format \(format); this cairn reads formats "
                    + "\(LedgerLayout.perHashFormatVersion) and \(LedgerLayout.formatVersion) (a newer cairn wrote it?)"
            )
        }
        let tiled = formatVersion == LedgerLayout.formatVersion
        guard tiled ? tables.tiles != nil : tables.hashes != nil else {
            throw LedgerError(
                .corrupt,
                "\(directory) is in storage format \(format) but lacks its table of tree hashes "
                    + "(\(tiled ? LedgerLayout.TableName.tiles : LedgerLayout.TableName.hashes))")
        }
        guard let profile = LedgerProfile(rawValue: meta.profile ?? LedgerProfile.generic.rawValue) else {
            throw LedgerError(
                .unsupportedFormat,
                "\(directory) uses record profile \(meta.profile ?? ""), which this cairn does not know")
        }
        let vkey: NoteVerifierKey
        do {
            vkey = try NoteVerifierKey(parsing: vkeyText)
        } catch {
            throw LedgerError(.corrupt, "stored verifier key is malformed: \(error)")
        }
        return Ledger(
            directory: directory, env: env, tables: tables, origin: origin, verifierKey: vkey,
            maxEntryBytes: maxEntryBytes, profile: profile, readOnly: options.readOnly, signer: nil, tiled: tiled)
    }

    // MARK: - Helpers

    /// The rules records must meet to be appended to this ledger; with `extractOver`, checkpoint
    /// payloads larger than that many bytes are moved to blobs (see `PayloadExtraction`).
    ///
    /// The rules also carry the sensitive paths the ledger's aggregates count with (when it keeps them and they can
    /// be read), so that preparation computes each record's contribution to them off the writer's thread.
    public func recordRules(strictFields: Bool = false, extractOver: Int = 0) -> RecordRules {
        let extracting = profile == .provenance && extractOver > 0
        var paths: [String]?
        if profile == .provenance, tables.aggregates != nil {
            let now = ConditionLock.now()
            paths = sensitivePathsCache.withLock { cache in
                if let cache, now &- cache.readAt < 1_000_000_000 { return cache.globs }
                guard let globs = try? env.read({ txn in try sensitivePaths(txn) }) else { return nil }
                cache = (globs, now)
                return globs
            }
        }
        return RecordRules(
            profile: profile, maxEntryBytes: maxEntryBytes, strictFields: strictFields,
            extractOver: extracting ? extractOver : 0, blobSalting: extracting ? blobSalting : nil,
            sensitivePaths: paths)
    }

    /// The signer, loading `signing-key.pem` on first use and checking it matches the ledger.
    func loadSigner() throws -> NoteSigner {
        if isReadOnly {
            throw LedgerError(.readOnly, "the ledger at \(directory) is open read-only")
        }
        return try signer.withLock { cached in
            if let cached { return cached }
            let key = try loadSigningKey()
            let loaded: NoteSigner
            do {
                loaded = try NoteSigner(name: origin, privateKey: key)
            } catch {
                throw LedgerError(.signingKeyUnavailable, "signing key for \(origin) is unusable: \(error)")
            }
            cached = loaded
            return loaded
        }
    }

    static func validateOrigin(_ origin: String) throws {
        guard !origin.isEmpty else { throw LedgerError(.invalidOrigin, "origin must not be empty") }
        for scalar in origin.unicodeScalars {
            if scalar == "+" {
                throw LedgerError(.invalidOrigin, "origin must not contain '+' (C2SP key names cannot): \(origin)")
            }
            if scalar.properties.isWhitespace || scalar.value < 0x20 || scalar.value == 0x7f {
                throw LedgerError(
                    .invalidOrigin, "origin must not contain spaces or control characters: \(origin.debugDescription)")
            }
        }
    }

    static func path(_ directory: String, _ name: String) -> String {
        directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }

    private static func openEnvironment(_ directory: String, options: LMDBEnvironment.Options) throws -> LMDBEnvironment
    {
        do {
            return try LMDBEnvironment.shared(directory: directory, options: options)
        } catch let error as StorageError {
            throw LedgerError(.storage, "cannot open ledger storage in \(directory): \(error.message)")
        }
    }
}
