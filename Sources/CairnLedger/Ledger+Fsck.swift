import CairnCrypto
import CairnMerkle
import CairnNote
import CairnRecords
import CairnStorage

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What `fsck` checked.
public struct FsckReport: Sendable, Hashable {
    /// Leaves re-read and re-hashed.
    public let leaves: UInt64
    /// Stored tree hashes recomputed and compared.
    public let hashes: UInt64
    /// Signed checkpoints verified.
    public let checkpoints: UInt64
    /// The root of the current tree.
    public let rootHash: SHA256Digest
    /// Stored blobs whose bytes were re-hashed.
    public let blobs: UInt64
    /// Erased blobs confirmed gone.
    public let erasedBlobs: UInt64
    /// Stored blobs whose bytes were not read (`checkBlobBytes: false`: a copy without its
    /// `blobs/` directory).
    public let uncheckedBlobs: UInt64
    /// The storage format checked: 2 (stored tiles) or 1 (one key per tree hash, before `cairn migrate`).
    public let storageFormat: Int
    /// Whether the stats aggregates were recomputed from the log and found equal; false when they do not cover the
    /// ledger (not kept, or left behind by an older cairn: `cairn fsck --rebuild-aggregates`).
    public let aggregatesChecked: Bool
}

/// Progress of a long `fsck`: leaves checked so far out of the total.
public typealias FsckProgress = (_ checked: UInt64, _ total: UInt64) -> Void

extension Ledger {
    /// Checks the ledger's LMDB data file (`data.mdb`) against its meta pages without mapping
    /// it, so that `fsck` can diagnose an empty, foreign or truncated file (an interrupted copy)
    /// instead of failing to open it — or, for a truncated file, instead of the SIGBUS that
    /// mapping it would cause. Throws `.corrupt` with `StorageError`'s message, which names the
    /// file and the size it must have and has; a missing file is left to `open` to report.
    public static func checkDataFile(at directory: String) throws(LedgerError) {
        var isDirectory = false
        if FileSystem.exists(directory, isDirectory: &isDirectory), !isDirectory {
            throw LedgerError(.notALedger, "the ledger path \(directory) is a file, not a ledger directory")
        }
        do {
            _ = try LMDBDataFile.inspect(directory: directory)
        } catch  where [.emptyDataFile, .invalidDataFile, .truncatedDataFile].contains(error.code) {
            throw LedgerError(.corrupt, error.message)
        } catch {
            throw LedgerError(.storage, "cannot check the storage of \(directory): \(error.message)")
        }
    }

    /// Re-reads every leaf, recomputes every stored hash and every checkpoint's root, checks the
    /// content index, verifies every stored checkpoint's signature with the key that signed its size (both keys at a
    /// key rotation's size), and checks that recorded commit times never decrease, all in one read snapshot. Throws a
    /// `.corrupt` error naming the first inconsistency. Streams: memory stays flat whatever the ledger's size.
    ///
    /// With `checkBlobBytes: false` the blobs' bytes are not read (their metadata and erasures
    /// still are): for an auditor's copy of `data.mdb` without the `blobs/` directory.
    public func fsck(
        progressEvery: UInt64 = 100_000, checkBlobBytes: Bool = true, progress: FsckProgress? = nil
    ) throws(LedgerError) -> FsckReport {
        try LedgerError.wrapping {
            try fsckKeyFiles()
            return try env.read { txn in
                try fsck(txn, progressEvery: progressEvery, checkBlobBytes: checkBlobBytes, progress: progress)
            }
        }
    }

    /// The key files beside the log (specs/storage.md): `ledger.vkey`, which auditors take the
    /// key from, must hold this ledger's verifier key and be writable by its owner only; the
    /// signing key, when present (an auditor's copy has none), must be the key of that verifier
    /// key and be accessible by its owner only (0600: whoever can read it can sign for the log,
    /// whoever can write it can stop the log from signing).
    func fsckKeyFiles() throws {
        try fsckKeyRotationFiles()
        let vkeyPath = Ledger.path(directory, LedgerLayout.verifierKeyFile)
        if let mode = Self.fileMode(vkeyPath) {
            if mode & 0o022 != 0 {
                throw LedgerError(
                    .corrupt,
                    "\(vkeyPath) is writable by group or others (mode \(Self.octal(mode))): anyone could replace the "
                        + "key auditors check against; make it 0644")
            }
            let text: String
            do {
                text = String(decoding: try FileSystem.readFile(vkeyPath), as: UTF8.self)
            } catch {
                throw LedgerError(.storage, "cannot read \(vkeyPath): \(error)")
            }
            var found = Substring(text)
            while let last = found.last, last.isWhitespace { found.removeLast() }
            guard found == verifierKey.description else {
                throw LedgerError(
                    .corrupt,
                    "\(vkeyPath) holds \(found.debugDescription), not this ledger's verifier key \(verifierKey)")
            }
        }
        let keyPath = Ledger.path(directory, LedgerLayout.signingKeyFile)
        guard let mode = Self.fileMode(keyPath) else { return }
        if mode & 0o077 != 0 {
            throw LedgerError(
                .corrupt,
                "\(keyPath) is accessible by group or others (mode \(Self.octal(mode))): whoever can read it can sign "
                    + "checkpoints for this log; make it 0600 (chmod 600)")
        }
        let pem: [UInt8]
        do {
            pem = try FileSystem.readFile(keyPath)
        } catch {
            // Not ours to read (fsck run by an auditor's account): its mode was checked above.
            return
        }
        let derived: NoteVerifierKey
        do {
            let key = try Ed25519PrivateKey(pemRepresentation: String(decoding: pem, as: UTF8.self))
            derived = try NoteSigner(name: origin, privateKey: key).verifierKey
        } catch {
            throw LedgerError(.corrupt, "\(keyPath) is not a usable Ed25519 signing key: \(error)")
        }
        guard derived == verifierKey else {
            throw LedgerError(
                .corrupt,
                "\(keyPath) is the key of \(derived), not of this ledger's verifier key \(verifierKey): checkpoints "
                    + "signed with it would not verify")
        }
    }

    /// The permission bits of the file at `path`, or nil when there is none.
    private static func fileMode(_ path: String) -> mode_t? {
        var status = stat()
        guard stat(path, &status) == 0 else { return nil }
        return status.st_mode & 0o7777
    }

    private static func octal(_ mode: mode_t) -> String {
        let digits = String(mode, radix: 8)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }

    private func fsck(
        _ txn: ReadTransaction, progressEvery: UInt64, checkBlobBytes: Bool, progress: FsckProgress?
    ) throws -> FsckReport {
        let size = try storedTreeSize(txn)
        let leafCount = UInt64(try txn.count(tables.leaves))
        guard leafCount == size else {
            throw LedgerError(
                .corrupt, "the leaves table holds \(leafCount) entries but the stored tree size is \(size)")
        }
        let digestCount = try tables.digests.count(txn)
        guard digestCount == size else {
            throw LedgerError(.corrupt, "the content index holds \(digestCount) entries for \(size) leaves")
        }
        try tables.digests.checkMergeState(txn, treeSize: size)
        let tiled = try isTiled(txn)
        try fsckHashTableSizes(txn, treeSize: size, tiled: tiled)
        // Which key signed each size: one, or both at a key rotation's size (Ledger+KeyRotation).
        let keys = try fsckKeySchedule(txn, treeSize: size)

        // The content index's log, checked leaf by leaf; older leaves are looked up in the
        // sorted levels (a scan of the log per leaf would be quadratic).
        var logged: [UInt64: SHA256Digest] = [:]
        try tables.digests.forEachInLog(txn) { index, digest in logged[index] = digest }
        let cache = try tables.digests.makeWriterCache(txn, treeSize: size)
        var frontier = MerkleFrontier()
        var tiles = StoredTileBuilder()
        var checkedCheckpoints: UInt64 = 0
        var storedIndex: UInt64 = 0

        return try txn.withCursor(tables.leaves) { leaves in
            try withPerHashCursor(txn, tiled: tiled) { hashes in
                try txn.withCursor(tables.checkpoints) { checkpoints in
                    var nextCheckpoint = try checkpoints.first().map(decodeCheckpointEntry)
                    // Checkpoints at size 0 come before any leaf.
                    func verifyCheckpoints(upTo treeSize: UInt64) throws {
                        while let (cpSize, bytes) = nextCheckpoint, cpSize <= treeSize {
                            guard cpSize == treeSize else {
                                throw LedgerError(.corrupt, "checkpoint for size \(cpSize) is out of order")
                            }
                            try verifyStoredCheckpoint(bytes, size: cpSize, root: frontier.root, keys: keys)
                            checkedCheckpoints += 1
                            nextCheckpoint = try checkpoints.next().map(decodeCheckpointEntry)
                        }
                    }
                    try verifyCheckpoints(upTo: 0)

                    var entry = try leaves.first()
                    var index: UInt64 = 0
                    while let (key, value) = entry {
                        guard BigEndianKey.decode(key) == index else {
                            throw LedgerError(
                                .corrupt,
                                "leaf keys are not contiguous: expected index \(index), found key \(Hex.encode(key))")
                        }
                        let digest = SHA256.hash(value)
                        let leafHash = RFC6962.leafHash(value)
                        let indexed =
                            logged[index] == digest ? index : try tables.digests.lookup(txn, digest, cache: cache)
                        guard indexed == index else {
                            throw LedgerError(
                                .corrupt,
                                "content index does not map \(digest) to leaf \(index) "
                                    + (indexed.map { "(maps it to \($0))" } ?? "(entry missing)"))
                        }
                        if tiled {
                            try tiles.append(leafHash: leafHash) { level, tileIndex, tile in
                                try fsckStoredTile(txn, level: level, index: tileIndex, expected: tile, after: index)
                            }
                            storedIndex += UInt64(1 + (~index).trailingZeroBitCount)
                            frontier = tiles.frontier
                        }
                        for expected in tiled ? [] : frontier.append(leafHash: leafHash) {
                            guard let hashes, let (hKey, hValue) = try hashes.next(storedIndex == 0),
                                BigEndianKey.decode(hKey) == storedIndex
                            else {
                                throw LedgerError(.corrupt, "stored hash \(storedIndex) is missing")
                            }
                            guard SHA256Digest(bytes: hValue) == expected else {
                                let (level, n) = StoredHashIndex.split(storedIndex)
                                throw LedgerError(
                                    .corrupt,
                                    "stored hash \(storedIndex) (level \(level), node \(n), after leaf \(index)) is "
                                        + "\(Hex.encode(hValue)), recomputed \(expected.hex)")
                            }
                            storedIndex += 1
                        }
                        index += 1
                        try verifyCheckpoints(upTo: index)
                        if let progress, index % progressEvery == 0 { progress(index, size) }
                        entry = try leaves.next()
                    }
                    if let (cpSize, _) = nextCheckpoint {
                        throw LedgerError(
                            .corrupt, "a checkpoint exists for size \(cpSize), beyond the tree size \(size)")
                    }
                    progress?(index, size)
                    if tiled {
                        try tiles.forEachPartialTile { level, tileIndex, tile in
                            try fsckStoredTile(txn, level: level, index: tileIndex, expected: tile, after: index)
                        }
                    }
                    _ = try fsckCommitTimes(txn, treeSize: size)
                    try fsckSuccession(txn, treeSize: size)
                    let (blobs, erased, unchecked) = try fsckBlobs(txn, checkBytes: checkBlobBytes)
                    let aggregatesChecked = try fsckAggregates(txn, treeSize: size)
                    return FsckReport(
                        leaves: index, hashes: storedIndex, checkpoints: checkedCheckpoints, rootHash: frontier.root,
                        blobs: blobs, erasedBlobs: erased, uncheckedBlobs: unchecked,
                        storageFormat: tiled ? LedgerLayout.formatVersion : LedgerLayout.perHashFormatVersion,
                        aggregatesChecked: aggregatesChecked)
                }
            }
        }
    }

    /// When the aggregates cover the ledger, they must equal a recomputation from the log (Ledger+Aggregates).
    private func fsckAggregates(_ txn: ReadTransaction, treeSize size: UInt64) throws -> Bool {
        guard profile == .provenance, tables.aggregates != nil, try aggregateCoverage(txn) == size else { return false }
        let computed = try computeAggregates(txn, treeSize: size, sensitivePaths: try sensitivePaths(txn))
        let stored = try storedAggregates(txn)
        guard stored == computed else {
            let differing = Set(stored.keys).union(computed.keys).filter { stored[$0] != computed[$0] }.count
            throw LedgerError(
                .corrupt,
                "the stats aggregates differ from a recomputation from the log in \(differing) bucket(s): "
                    + "run `cairn fsck --rebuild-aggregates` to rebuild them")
        }
        return true
    }

    /// The table of tree hashes of the ledger's format must hold as many values as the tree needs: one per hash
    /// (format 1), or one per full or partial tile (format 2, whose `hashes` table, if any, is empty).
    private func fsckHashTableSizes(_ txn: ReadTransaction, treeSize size: UInt64, tiled: Bool) throws {
        if !tiled {
            guard let hashes = tables.hashes else { throw missingTable(LedgerLayout.TableName.hashes) }
            let expectedHashes = StoredHashIndex.count(treeSize: size)
            let hashCount = UInt64(try txn.count(hashes))
            guard hashCount == expectedHashes else {
                throw LedgerError(
                    .corrupt,
                    "the hashes table holds \(hashCount) hashes; a tree of \(size) leaves stores \(expectedHashes)")
            }
            return
        }
        guard let tileTable = tables.tiles else { throw missingTable(LedgerLayout.TableName.tiles) }
        if let hashes = tables.hashes, try txn.count(hashes) != 0 {
            throw LedgerError(
                .corrupt,
                "the ledger is in storage format \(LedgerLayout.formatVersion) but its format 1 hashes table is not "
                    + "empty (an interrupted migration cannot cause this)")
        }
        var expectedTiles: UInt64 = 0
        for level in 0..<StoredTile.rowCount {
            let (full, width) = StoredTile.tiles(treeSize: size, level: level)
            expectedTiles += full + (width > 0 ? 1 : 0)
        }
        let tileCount = UInt64(try txn.count(tileTable))
        guard tileCount == expectedTiles else {
            throw LedgerError(
                .corrupt,
                "the tiles table holds \(tileCount) tiles; a tree of \(size) leaves stores \(expectedTiles)")
        }
    }

    /// The stored tile (`level`, `index`) must be exactly `expected`, as recomputed from the leaves up to `after`.
    private func fsckStoredTile(
        _ txn: ReadTransaction, level: Int, index: UInt64, expected: UnsafeRawBufferPointer, after leaf: UInt64
    ) throws {
        let stored = try storedTile(txn, level: level, index: index)
        if let stored, stored.elementsEqual(expected) { return }
        let path = "stored tile \(level)/\(index)"
        guard let stored, stored.count == expected.count else {
            throw LedgerError(
                .corrupt,
                "the \(path) " + (stored.map { "is \($0.count) bytes" } ?? "is missing") + "; the leaves up to \(leaf) "
                    + "make it \(expected.count) bytes")
        }
        // Name the first hash that differs, by its Merkle coordinates.
        let width = StoredTile.width(hashCount: expected.count / SHA256Digest.byteCount) ?? 0
        var slot = 0
        while stored[slot * 32..<slot * 32 + 32].elementsEqual(expected[slot * 32..<slot * 32 + 32]) { slot += 1 }
        var row = 0
        while row + 1 < StoredTile.rowCount, StoredTile.rowOffset(width: width, row: row + 1) <= slot { row += 1 }
        let position = UInt64(slot - StoredTile.rowOffset(width: width, row: row))
        let mLevel = MerkleTile.height * level + row
        let n = index << UInt64(MerkleTile.height - row) + position
        throw LedgerError(
            .corrupt,
            "stored hash (level \(mLevel), node \(n)) in the \(path) is "
                + "\(Hex.encode(UnsafeRawBufferPointer(rebasing: stored[slot * 32..<slot * 32 + 32]))), recomputed "
                + "\(Hex.encode(UnsafeRawBufferPointer(rebasing: expected[slot * 32..<slot * 32 + 32]))) from the leaves "
                + "up to \(leaf)")
    }

    /// Calls `body` with a cursor over the format 1 hashes table, or with nil in format 2.
    private func withPerHashCursor<R>(_ txn: ReadTransaction, tiled: Bool, _ body: (Cursor?) throws -> R) throws -> R {
        if tiled { return try body(nil) }
        guard let hashes = tables.hashes else { throw missingTable(LedgerLayout.TableName.hashes) }
        return try txn.withCursor(hashes) { try body($0) }
    }

    /// Every stored blob's bytes must hash to its address; every erased blob's bytes must be gone
    /// and its erasure entry must exist.
    private func fsckBlobs(_ txn: ReadTransaction, checkBytes: Bool) throws -> (UInt64, UInt64, UInt64) {
        var stored: UInt64 = 0
        var erased: UInt64 = 0
        var unchecked: UInt64 = 0
        try txn.forEach(tables.blobs, prefix: []) { key, value in
            guard let digest = SHA256Digest(bytes: key) else {
                throw LedgerError(.corrupt, "blob table key \(Hex.encode(key)) is not a SHA-256 digest")
            }
            let metadata = try BlobMetadata(digest: digest, decoding: Array(value))
            let path = blobStore.path(for: digest)
            if let erasure = metadata.erasure {
                guard !checkBytes || !FileSystem.fileExists(path) else {
                    throw LedgerError(
                        .corrupt,
                        "blob \(digest) was erased by entry \(erasure.entry) but its bytes are still at \(path); "
                            + "run `cairn blob erase \(digest) --reason …` to delete them")
                }
                guard try txn.value(tables.leaves, key: erasure.entry) != nil else {
                    throw LedgerError(
                        .corrupt, "blob \(digest) names erasure entry \(erasure.entry), which does not exist")
                }
                erased += 1
            } else if !checkBytes {
                unchecked += 1
            } else {
                guard let bytes = try? FileSystem.readFile(path) else {
                    throw LedgerError(.corrupt, "the bytes of blob \(digest) are missing from \(path)")
                }
                // A salted blob's file is its salt and then its bytes: either way the file hashes to the address.
                guard SHA256.hash(bytes) == digest else {
                    throw LedgerError(.corrupt, "blob \(digest) is corrupted: its file hashes to \(SHA256.hash(bytes))")
                }
                guard bytes.count == metadata.fileSize else {
                    throw LedgerError(
                        .corrupt,
                        "blob \(digest) has a \(bytes.count)-byte file; its metadata says \(metadata.size) bytes"
                            + (metadata.salted ? " after a \(BlobCommitment.saltByteCount)-byte salt" : ""))
                }
                stored += 1
            }
            return true
        }
        return (stored, erased, unchecked)
    }

    private func decodeCheckpointEntry(_ entry: Cursor.Entry) throws -> (UInt64, [UInt8]) {
        guard let size = BigEndianKey.decode(entry.key) else {
            throw LedgerError(.corrupt, "checkpoint key \(Hex.encode(entry.key)) is not an 8-byte tree size")
        }
        return (size, Array(entry.value))
    }

    private func verifyStoredCheckpoint(_ bytes: [UInt8], size: UInt64, root: SHA256Digest, keys: KeySchedule) throws {
        let signed = try parseStoredCheckpoint(bytes, size: size)
        let checkpoint = try verifyStoredSignatures(signed, size: size, schedule: keys)
        guard checkpoint.size == size else {
            throw LedgerError(.corrupt, "checkpoint stored under size \(size) says size \(checkpoint.size)")
        }
        guard checkpoint.origin.sameBytes(as: origin) else {
            throw LedgerError(.corrupt, "checkpoint for size \(size) has origin \(checkpoint.origin), not \(origin)")
        }
        guard checkpoint.rootHash == root else {
            throw LedgerError(
                .corrupt,
                "checkpoint for size \(size) has root \(checkpoint.rootHash.hex), recomputed \(root.hex)")
        }
    }
}

extension Cursor {
    /// `first()` when `isFirst`, else `next()`.
    fileprivate func next(_ isFirst: Bool) throws -> Entry? {
        isFirst ? try first() : try next()
    }
}
