import CairnCrypto
import CairnNote
import CairnStorage

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A log kept inside a ledger's directory and backed up with it, in a directory of the same name (the server's
/// access log, `access-log`).
public struct BackupSubLedger: Sendable {
    /// Its directory inside the ledger's, and inside the backup: one path segment.
    public let directory: String
    public let ledger: Ledger

    public init(directory: String, ledger: Ledger) {
        self.directory = directory
        self.ledger = ledger
    }
}

/// How to take a backup.
public struct BackupOptions: Sendable {
    /// Copy the logs' signing keys too (mode 0600). Off by default: a backup without them can be verified and
    /// restored, and the restored ledger read, proved and checked; appending needs the key put back.
    public var includeSigningKeys = false
    /// The logs kept inside the ledger's directory (the access log), each backed up with its own copy.
    public var subLedgers: [BackupSubLedger] = []
    /// The time written as the manifest's `created`, in Unix milliseconds (tests fix it).
    public var now: @Sendable () -> Int64 = { LedgerBackup.currentTimeMilliseconds() }

    public init() {}
}

/// What one backup wrote.
public struct BackupReport: Sendable {
    /// The signed manifest, as written.
    public let manifest: BackupManifest
    /// Where it was written.
    public let manifestPath: String
    /// Blobs copied from the ledger, and blobs already in the backup whose bytes were checked and kept.
    public let blobsCopied: Int
    public let blobsKept: Int
    /// Files removed from the backup: blobs erased since the previous backup, a signing key no longer included,
    /// configuration or saved reports deleted from the ledger.
    public let filesRemoved: Int
    /// Bytes written to the backup (the copies of the logs, new blobs, small files).
    public let bytesWritten: UInt64
    /// LMDB snapshots taken: more than one per log when a blob was erased while it was being copied.
    public let snapshots: Int
}

/// What a verified backup holds.
public struct BackupVerification: Sendable {
    /// The manifest, signed by `signer`.
    public let manifest: BackupManifest
    /// The key whose signature on the manifest verified.
    public let signer: NoteVerifierKey
    /// Whether that key was taken from the backup's own `ledger.vkey` (no key given): proves the backup is whole
    /// and consistent, not that it is of the log you trust.
    public let keyFromBackup: Bool
    /// The `fsck` of each log's copy, in the manifest's order.
    public let fsck: [FsckReport]
    /// Bytes read and hashed.
    public let bytesHashed: UInt64
}

/// Online backups of a ledger (`cairn backup`), their verification and restores; the format is specified in
/// specs/backup.md.
///
/// A backup directory is a ledger directory — `data.mdb`, `ledger.vkey`, `blobs/…`, the access log in
/// `access-log/`, `server.json` and `drills/` when the ledger has them, the signing keys only when asked — plus
/// `backup.manifest`, a signed note that lists every file with its size and SHA-256 and each log's tree size and
/// root hash. It can be opened read-only as it is (`cairn fsck --ledger DEST`), and is restored by copying.
///
/// Taking a backup never stops appends: each log is copied by LMDB's hot backup in one read transaction
/// (`LMDBEnvironment.copyCompacted`), then the blobs that copy lists are copied — only those not already in the
/// backup, whose bytes are checked instead. The previous manifest is removed first and the new one written last,
/// after every file and directory is synced, so a backup that fails midway (a full disk, a crash) has no manifest
/// and never verifies. Blobs erased since the previous backup are removed from it (overwritten with zeros).
public enum LedgerBackup {
    /// The manifest's file name in a backup.
    public static let manifestFileName = "backup.manifest"
    /// The marker that says a directory holds backups of one log: `cairn-backup ORIGIN` and a newline.
    public static let markerFileName = ".cairn-backup"
    /// Where the logs' copies are made before they are moved into place (removed at the end).
    static let stagingDirectoryName = ".cairn-staging"
    /// LMDB's data file.
    public static let dataFileName = "data.mdb"
    /// LMDB's lock file, which opening a copy creates: never part of a backup.
    static let lockFileName = "lock.mdb"
    /// Files of the ledger directory backed up when present: the server's configuration.
    public static let configurationFiles = ["server.json"]
    /// Directories of the ledger directory whose files are backed up when present: saved fire drills.
    public static let savedFileDirectories = ["drills"]
    /// How many times a log is copied again when a blob it lists vanishes while the backup runs (erased).
    static let snapshotAttempts = 4
    /// The largest manifest read (a million blobs take about 140 MB).
    static let maxManifestBytes = 1 << 30

    // MARK: - Backup

    /// Backs `ledger` (and `options.subLedgers`) up into `destination`, which must be missing, empty, or a backup
    /// of the same log, while appends go on. Needs the ledger open for writing (the manifest is signed with its
    /// key, which is checked first).
    public static func backup(
        _ ledger: Ledger, to destination: String, options: BackupOptions = BackupOptions()
    ) throws(BackupError) -> BackupReport {
        let dest = trimmed(destination)
        do {
            _ = try ledger.loadSigner()
        } catch let error as LedgerError {
            throw BackupError(.signingKeyUnavailable, "the manifest is signed with the ledger's key: \(error.message)")
        } catch {
            throw BackupError(.signingKeyUnavailable, "the manifest is signed with the ledger's key: \(error)")
        }
        try prepareDestination(dest, origin: ledger.origin)
        let manifestPath = dest + "/" + manifestFileName
        // From here on the destination has no manifest until the new one is complete.
        try io("removing the previous manifest \(manifestPath)") { () throws(FileError) in
            try DurableFiles.remove(manifestPath, synced: true)
        }
        try removeTree(dest + "/" + stagingDirectoryName)
        var work = Work()
        var logs: [BackupManifest.Log] = []
        let all = [BackupSubLedger(directory: BackupManifest.mainDirectory, ledger: ledger)] + options.subLedgers
        for (position, sub) in all.enumerated() {
            guard
                sub.directory == BackupManifest.mainDirectory
                    || (BackupManifest.isValidPath(sub.directory) && !sub.directory.contains("/"))
            else {
                throw BackupError(.io, "cannot back up a log in the directory \(sub.directory.debugDescription)")
            }
            logs.append(
                try backupLog(
                    sub.ledger, directory: sub.directory, position: position, into: dest,
                    includeKey: options.includeSigningKeys, work: &work))
        }
        try backupSavedFiles(of: ledger, into: dest, work: &work)
        try removeTree(dest + "/" + stagingDirectoryName)
        for directory in work.directoriesToSync.sorted(by: { $0.utf8.count > $1.utf8.count }) {
            try io("syncing \(directory)") { () throws(FileError) in try DurableFiles.syncDirectory(directory) }
        }
        let manifest = try BackupManifest(
            origin: ledger.origin, created: options.now(), signingKeysIncluded: options.includeSigningKeys, logs: logs,
            files: work.files)
        let note: SignedNote
        do {
            note = try ledger.sign(noteText: manifest.text)
        } catch let error as LedgerError where error.code == .signingKeyUnavailable {
            throw BackupError(.signingKeyUnavailable, error.message)
        } catch {
            throw BackupError(.io, "cannot sign the manifest: \(error)")
        }
        try io("writing the manifest") { () throws(FileError) in
            try DurableFiles.replace(manifestPath, contents: Array(note.serialized.utf8), mode: 0o644)
        }
        return BackupReport(
            manifest: manifest, manifestPath: manifestPath, blobsCopied: work.blobsCopied, blobsKept: work.blobsKept,
            filesRemoved: work.filesRemoved, bytesWritten: work.bytesWritten, snapshots: work.snapshots)
    }

    /// What a backup has done so far.
    struct Work {
        var files: [BackupManifest.File] = []
        var blobsCopied = 0
        var blobsKept = 0
        var filesRemoved = 0
        var bytesWritten: UInt64 = 0
        var snapshots = 0
        /// Directories whose entries changed: synced before the manifest is written.
        var directoriesToSync: Set<String> = []
    }

    /// Creates `dest`, or accepts it when it is empty or holds a backup of the same log (the marker says so).
    static func prepareDestination(_ dest: String, origin: String) throws(BackupError) {
        let marker = dest + "/" + markerFileName
        let markerText = "cairn-backup \(origin)\n"
        switch DurableFiles.kind(of: dest) {
        case .missing:
            try io("creating the backup directory") { () throws(FileError) in
                try DurableFiles.createDirectories(dest, mode: 0o750)
            }
        case .directory:
            if let existing = try? DurableFiles.read(marker, limit: 4096) {
                guard existing == Array(markerText.utf8) else {
                    let found = String(decoding: existing, as: UTF8.self).trimmingTrailingNewlines()
                    throw BackupError(
                        .destinationUnusable,
                        "\(dest) holds backups of another log (\(marker) says \(found.debugDescription)); choose "
                            + "another directory")
                }
                return
            }
            let first: String?
            do {
                first = try DurableFiles.firstEntry(ofDirectory: dest)
            } catch {
                throw BackupError(.io, "cannot list \(dest): \(error.message)")
            }
            if let first {
                throw BackupError(
                    .destinationUnusable,
                    "\(dest) is not empty (found \(first)) and is not a Cairn backup directory: back up into a new or "
                        + "empty directory, or one an earlier `cairn backup` of this ledger wrote")
            }
        default:
            throw BackupError(.destinationUnusable, "\(dest) exists and is not a directory")
        }
        try io("writing the marker \(marker)") { () throws(FileError) in
            try DurableFiles.replace(marker, contents: Array(markerText.utf8), mode: 0o644)
        }
    }

    /// Backs one log up into `dest/directory` and returns its tree size and root, as read from its copy.
    private static func backupLog(
        _ log: Ledger, directory: String, position: Int, into dest: String, includeKey: Bool, work: inout Work
    ) throws(BackupError) -> BackupManifest.Log {
        let main = directory == BackupManifest.mainDirectory
        let target = main ? dest : dest + "/" + directory
        let prefix = main ? "" : directory + "/"
        try io("creating \(target)") { () throws(FileError) in try DurableFiles.createDirectories(target, mode: 0o750) }
        work.directoriesToSync.insert(target)

        var attempt = 0
        var copy: CopiedLog
        var blobs: BlobBackup
        var staging: String
        while true {
            attempt += 1
            work.snapshots += 1
            staging = dest + "/" + stagingDirectoryName + "/\(position)-\(attempt)"
            try io("creating \(staging)") { () throws(FileError) in
                try DurableFiles.createDirectories(staging, mode: 0o750)
            }
            let stagedData = staging + "/" + dataFileName
            do {
                work.bytesWritten += try log.env.copyCompacted(toNewFile: stagedData, mode: 0o640)
            } catch let error as FileError {
                throw BackupError(.io, "cannot copy the log \(log.directory): \(error.message)")
            } catch {
                throw BackupError(.io, "cannot copy the log \(log.directory): \(error)")
            }
            copy = try inspectCopy(at: staging, of: log)
            blobs = try backupBlobs(copy.blobs, of: log, into: target, prefix: prefix, work: &work)
            guard let vanished = blobs.vanished else { break }
            guard attempt < snapshotAttempts else {
                let path = log.blobStore.path(for: vanished)
                if isErased(vanished, in: log) || FileSystem.fileExists(path) {
                    throw BackupError(
                        .io,
                        "blob \(vanished) changed while it was being copied (\(snapshotAttempts) times: it is being "
                            + "erased?); take the backup again")
                }
                throw BackupError(
                    .sourceCorrupt,
                    "the bytes of blob \(vanished) are missing from \(path), and the ledger does not record their "
                        + "erasure: run `cairn fsck --ledger \(log.directory)`")
            }
            // A blob was erased after the copy was taken: take another, which records the erasure.
            try removeTree(staging)
            usleep(UInt32(50_000 * attempt))
        }
        work.blobsCopied += blobs.copied
        work.blobsKept += blobs.kept
        work.files += blobs.files

        // The copy into place, replacing the previous one (and its stale LMDB lock file).
        let dataPath = target + "/" + dataFileName
        try io("moving the copy into place") { () throws(FileError) in
            try DurableFiles.remove(target + "/" + lockFileName, synced: false)
            try DurableFiles.rename(staging + "/" + dataFileName, to: dataPath)
        }
        try work.files.append(hashedFile(dataPath, as: prefix + dataFileName))

        // The verifier key, from the copy (what fsck checks it against).
        let vkey = Array((copy.verifierKey.description + "\n").utf8)
        try writeFile(target + "/" + LedgerLayout.verifierKeyFile, vkey, mode: 0o644, as: prefix, work: &work)

        let keyPath = target + "/" + LedgerLayout.signingKeyFile
        if includeKey {
            let pem: [UInt8]
            do {
                _ = try log.loadSigningKey()
                pem = try DurableFiles.read(Ledger.path(log.directory, LedgerLayout.signingKeyFile))
            } catch let error as LedgerError {
                throw BackupError(.signingKeyUnavailable, "--include-key: \(error.message)")
            } catch {
                throw BackupError(.signingKeyUnavailable, "--include-key: \(error)")
            }
            try writeFile(keyPath, pem, mode: 0o600, as: prefix, work: &work)
        } else if DurableFiles.kind(of: keyPath, followingSymbolicLinks: false) != .missing {
            // A key an earlier backup included: gone, overwritten, since this one does not include it.
            try io("removing \(keyPath)") { () throws(FileError) in try DurableFiles.removeDurably(keyPath) }
            work.filesRemoved += 1
        }
        // The keys earlier rotations retired (specs/key-rotation.md) go with the signing key: they can still sign
        // for the sizes they signed, so they are as secret as it is.
        let retired = includeKey ? Ledger.retiredSigningKeyFiles(in: log.directory) : []
        for name in retired {
            let pem: [UInt8]
            do {
                pem = try DurableFiles.read(Ledger.path(log.directory, name))
            } catch {
                throw BackupError(.signingKeyUnavailable, "--include-key: \(error.message)")
            }
            try writeFile(target + "/" + name, pem, mode: 0o600, as: prefix, work: &work)
        }
        for name in Ledger.retiredSigningKeyFiles(in: target) where !retired.contains(name) {
            let path = target + "/" + name
            try io("removing \(path)") { () throws(FileError) in try DurableFiles.removeDurably(path) }
            work.filesRemoved += 1
        }
        try pruneBlobs(in: target, keeping: Set(blobs.files.map(\.path)), prefix: prefix, work: &work)
        try removeTemporaryFiles(in: target)
        return BackupManifest.Log(directory: directory, treeSize: copy.treeSize, rootHash: copy.rootHash)
    }

    /// What a log's copy holds, read from the copy itself.
    struct CopiedLog {
        let treeSize: UInt64
        let rootHash: SHA256Digest
        let verifierKey: NoteVerifierKey
        /// The blobs whose bytes the copy says are stored: address and file size.
        let blobs: [(digest: SHA256Digest, fileSize: Int)]
    }

    /// Opens the copy in `staging` read-only and reads its tree size and root, checks the signed checkpoint of
    /// that size against them, and lists its blobs.
    private static func inspectCopy(at staging: String, of log: Ledger) throws(BackupError) -> CopiedLog {
        do {
            var options = Ledger.OpenOptions()
            options.readOnly = true
            let copy = try Ledger.open(at: staging, options: options)
            guard copy.origin.sameBytes(as: log.origin), copy.verifierKey == log.verifierKey else {
                throw BackupError(.sourceCorrupt, "the copy of \(log.directory) names another log (\(copy.origin))")
            }
            return try copy.read { snapshot -> CopiedLog in
                let size = snapshot.treeSize
                let root = try snapshot.rootHash(size: size)
                let checkpoint = try snapshot.checkpoint(size: size)
                let verified: Checkpoint
                do {
                    verified = try checkpoint.verify(logKey: copy.verifierKey)
                } catch {
                    throw BackupError(
                        .sourceCorrupt,
                        "the checkpoint of size \(size) in \(log.directory) does not verify: \(error); run `cairn fsck`"
                    )
                }
                guard verified.size == size, verified.rootHash == root else {
                    throw BackupError(
                        .sourceCorrupt,
                        "the checkpoint of size \(size) in \(log.directory) has root \(verified.rootHash.base64), its "
                            + "tree \(root.base64): run `cairn fsck --ledger \(log.directory)`")
                }
                var blobs: [(SHA256Digest, Int)] = []
                try snapshot.txn.forEach(copy.tables.blobs, prefix: []) { key, value in
                    guard let digest = SHA256Digest(bytes: key) else {
                        throw LedgerError(.corrupt, "blob table key \(Hex.encode(key)) is not a SHA-256 digest")
                    }
                    let metadata = try BlobMetadata(digest: digest, decoding: Array(value))
                    if metadata.erasure == nil { blobs.append((digest, metadata.fileSize)) }
                    return true
                }
                return CopiedLog(treeSize: size, rootHash: root, verifierKey: copy.verifierKey, blobs: blobs)
            }
        } catch let error as BackupError {
            throw error
        } catch let error as LedgerError where error.code == .corrupt || error.code == .notALedger {
            throw BackupError(.sourceCorrupt, "the copy of \(log.directory) is unusable: \(error.message)")
        } catch let error as LedgerError {
            throw BackupError(.io, "cannot read the copy of \(log.directory): \(error.message)")
        } catch {
            throw BackupError(.io, "cannot read the copy of \(log.directory): \(error)")
        }
    }

    /// The blobs of one log in the backup.
    struct BlobBackup {
        var files: [BackupManifest.File] = []
        var copied = 0
        var kept = 0
        /// A blob the copy lists whose bytes could not be copied as they should be (gone, or changing): erased
        /// after the copy was taken, most likely.
        var vanished: SHA256Digest?
    }

    /// Copies the blobs the copy lists that the backup lacks (or holds damaged), checking every byte copied or
    /// kept against its address.
    private static func backupBlobs(
        _ blobs: [(digest: SHA256Digest, fileSize: Int)], of log: Ledger, into target: String, prefix: String,
        work: inout Work
    ) throws(BackupError) -> BlobBackup {
        var result = BlobBackup()
        for (digest, fileSize) in blobs {
            let hex = digest.hex
            let relative = LedgerLayout.blobDirectory + "/" + hex.prefix(2) + "/" + hex.dropFirst(2)
            let destination = target + "/" + relative
            let entry = BackupManifest.File(path: prefix + relative, size: UInt64(fileSize), sha256: digest)
            if DurableFiles.kind(of: destination, followingSymbolicLinks: false) == .regular,
                DurableFiles.size(of: destination) == UInt64(fileSize),
                (try? hash(destination))?.digest == digest
            {
                result.kept += 1
                result.files.append(entry)
                continue
            }
            let directory = DurableFiles.parentDirectory(of: destination)
            try io("creating \(directory)") { () throws(FileError) in
                try DurableFiles.createDirectories(directory, mode: 0o750)
            }
            work.directoriesToSync.insert(directory)
            let source = log.blobStore.path(for: digest)
            var hasher = SHA256Hasher()
            let copied: UInt64
            do {
                copied = try DurableFiles.copy(from: source, to: destination, mode: 0o640, replacing: true) {
                    hasher.update($0)
                }
            } catch  where error.path == source && error.code == .notFound {
                result.vanished = digest
                return result
            } catch {
                throw BackupError(.io, "cannot back up blob \(digest): \(error.message)")
            }
            work.bytesWritten += copied
            guard copied == UInt64(fileSize), hasher.finalize() == digest else {
                try io("removing \(destination)") { () throws(FileError) in
                    try DurableFiles.removeDurably(destination)
                }
                if isErased(digest, in: log) || !FileSystem.fileExists(source) {
                    result.vanished = digest
                    return result
                }
                throw BackupError(
                    .sourceCorrupt,
                    "blob \(digest) is damaged in the ledger: \(source) does not hash to its address: run "
                        + "`cairn fsck --ledger \(log.directory)`")
            }
            result.copied += 1
            result.files.append(entry)
        }
        return result
    }

    /// Removes from `target/blobs` every file the backup no longer holds: blobs erased since the previous backup
    /// (overwritten with zeros, as the ledger erases them) and what an interrupted backup left.
    private static func pruneBlobs(
        in target: String, keeping: Set<String>, prefix: String, work: inout Work
    ) throws(BackupError) {
        let blobs = target + "/" + LedgerLayout.blobDirectory
        guard DurableFiles.kind(of: blobs, followingSymbolicLinks: false) == .directory else { return }
        for shard in try list(blobs) {
            let shardPath = blobs + "/" + shard
            guard DurableFiles.kind(of: shardPath, followingSymbolicLinks: false) == .directory else {
                try removeFile(shardPath, work: &work)
                continue
            }
            var remaining = 0
            for name in try list(shardPath) {
                let relative = prefix + LedgerLayout.blobDirectory + "/" + shard + "/" + name
                if keeping.contains(relative) {
                    remaining += 1
                } else {
                    try removeFile(shardPath + "/" + name, work: &work)
                }
            }
            if remaining == 0 {
                try io("removing \(shardPath)") { () throws(FileError) in
                    try DurableFiles.removeEmptyDirectory(shardPath)
                }
                work.directoriesToSync.insert(blobs)
            }
        }
    }

    /// The server's configuration and the saved fire drills of the main ledger's directory, mirrored.
    private static func backupSavedFiles(of ledger: Ledger, into dest: String, work: inout Work) throws(BackupError) {
        for name in configurationFiles {
            let source = Ledger.path(ledger.directory, name)
            let target = dest + "/" + name
            if DurableFiles.kind(of: source, followingSymbolicLinks: false) == .regular {
                try copySmallFile(source, to: target, as: name, work: &work)
            } else if DurableFiles.kind(of: target, followingSymbolicLinks: false) != .missing {
                try removeFile(target, work: &work)
            }
        }
        for name in savedFileDirectories {
            let source = Ledger.path(ledger.directory, name)
            let target = dest + "/" + name
            var kept: Set<String> = []
            if DurableFiles.kind(of: source, followingSymbolicLinks: false) == .directory {
                for file in try list(source)
                where BackupManifest.isValidPath(file)
                    && DurableFiles.kind(of: source + "/" + file, followingSymbolicLinks: false) == .regular
                {
                    try io("creating \(target)") { () throws(FileError) in
                        try DurableFiles.createDirectories(target, mode: 0o750)
                    }
                    try copySmallFile(source + "/" + file, to: target + "/" + file, as: name + "/" + file, work: &work)
                    kept.insert(file)
                }
            }
            if DurableFiles.kind(of: target, followingSymbolicLinks: false) == .directory {
                for file in try list(target) where !kept.contains(file) {
                    try removeFile(target + "/" + file, work: &work)
                }
            }
        }
    }

    /// Copies a small file of the ledger directory (keeping its permission bits) and lists it.
    private static func copySmallFile(
        _ source: String, to target: String, as path: String, work: inout Work
    ) throws(BackupError) {
        var status = stat()
        let mode = lstat(source, &status) == 0 ? status.st_mode & 0o777 : 0o640
        var hasher = SHA256Hasher()
        let size = try io("backing up \(source)") { () throws(FileError) in
            try DurableFiles.copy(from: source, to: target, mode: mode, replacing: true) { hasher.update($0) }
        }
        work.bytesWritten += size
        work.files.append(BackupManifest.File(path: path, size: size, sha256: hasher.finalize()))
        work.directoriesToSync.insert(DurableFiles.parentDirectory(of: target))
    }

    /// Writes `bytes` to `path` (atomically replacing it) with `mode`, and lists it.
    private static func writeFile(
        _ path: String, _ bytes: [UInt8], mode: mode_t, as prefix: String, work: inout Work
    ) throws(BackupError) {
        try io("writing \(path)") { () throws(FileError) in
            try DurableFiles.replace(path, contents: bytes, mode: mode, synced: true)
        }
        work.bytesWritten += UInt64(bytes.count)
        let name = path.split(separator: "/").last.map(String.init) ?? path
        work.files.append(
            BackupManifest.File(path: prefix + name, size: UInt64(bytes.count), sha256: SHA256.hash(bytes)))
    }

    /// Removes the temporary files (`.NAME.tmp-…`) a backup killed while it replaced a file of `directory` left.
    private static func removeTemporaryFiles(in directory: String) throws(BackupError) {
        for name in try list(directory) where name.hasPrefix(".") && name.contains(".tmp-") {
            let path = directory + "/" + name
            guard DurableFiles.kind(of: path, followingSymbolicLinks: false) == .regular else { continue }
            try io("removing \(path)") { () throws(FileError) in try DurableFiles.removeDurably(path) }
        }
    }

    /// Removes a file of the backup (overwritten with zeros first: it may be an erased blob or a key).
    private static func removeFile(_ path: String, work: inout Work) throws(BackupError) {
        try io("removing \(path)") { () throws(FileError) in try DurableFiles.removeDurably(path) }
        work.filesRemoved += 1
    }

    // MARK: - Verifying

    /// Checks the backup in `directory`: its manifest is a signed note by `key` (default: the backup's own
    /// `ledger.vkey`), every file it lists has its size and SHA-256 and nothing else is there, and each log's
    /// copy passes `fsck` (read-only) and has the manifest's tree size and root. Throws the first failure.
    public static func verify(
        backup directory: String, key: NoteVerifierKey? = nil
    ) throws(BackupError)
        -> BackupVerification
    {
        let source = trimmed(directory)
        let (manifest, signer, fromBackup) = try readManifest(source, key: key)
        try checkListing(source, manifest)
        let hashed = try checkFiles(source, manifest)
        let reports = try checkLogs(source, manifest, signer: signer, what: "the copy")
        return BackupVerification(
            manifest: manifest, signer: signer, keyFromBackup: fromBackup, fsck: reports, bytesHashed: hashed)
    }

    /// The manifest of the backup in `directory`, its signature verified.
    static func readManifest(
        _ directory: String, key: NoteVerifierKey?
    ) throws(BackupError) -> (BackupManifest, NoteVerifierKey, Bool) {
        switch DurableFiles.kind(of: directory) {
        case .directory: break
        case .missing: throw BackupError(.notFound, "no backup at \(directory): no such directory")
        default: throw BackupError(.notFound, "\(directory) is not a directory, so not a backup")
        }
        let path = directory + "/" + manifestFileName
        let bytes: [UInt8]
        do {
            bytes = try DurableFiles.read(path, limit: maxManifestBytes + 1)
        } catch  where error.code == .notFound {
            throw BackupError(
                .manifestMissing,
                "\(path) is missing: the backup is incomplete (interrupted, or it failed) or \(directory) is not a "
                    + "Cairn backup; take the backup again")
        } catch {
            throw BackupError(.io, "cannot read the manifest: \(error.message)")
        }
        guard bytes.count <= maxManifestBytes else {
            throw BackupError(.malformedManifest, "\(path) is larger than \(maxManifestBytes) bytes: not a manifest")
        }
        let note: SignedNote
        do {
            note = try SignedNote(parsing: bytes)
        } catch {
            throw BackupError(.malformedManifest, "\(path) is not a signed note: \(error.message)")
        }
        var trusted = key
        if trusted == nil {
            let vkeyPath = directory + "/" + LedgerLayout.verifierKeyFile
            let text: [UInt8]
            do {
                text = try DurableFiles.read(vkeyPath, limit: 4096)
            } catch  where error.code == .notFound {
                throw BackupError(
                    .fileMissing,
                    "\(vkeyPath) is missing, so the manifest cannot be checked: give the log's key with --vkey")
            } catch {
                throw BackupError(.io, "cannot read \(vkeyPath): \(error.message)")
            }
            do {
                trusted = try NoteVerifierKey(parsing: String(decoding: text, as: UTF8.self).trimmingTrailingNewlines())
            } catch {
                throw BackupError(.fileMismatch, "\(vkeyPath) does not hold a verifier key: \(error.message)")
            }
        }
        guard let trusted else { throw BackupError(.wrongKey, "no key to check the manifest with") }
        do {
            try note.verify(with: [trusted])
        } catch  where error.code == .badSignature {
            throw BackupError(
                .badSignature,
                "the manifest's signature by \(trusted.nameAndID) does not verify: \(path) was changed after it was "
                    + "signed")
        } catch {
            throw BackupError(.wrongKey, "\(path) is not signed by \(trusted.nameAndID): \(error.message)")
        }
        let manifest = try BackupManifest(parsing: note.text)
        guard manifest.origin.sameBytes(as: trusted.name) else {
            throw BackupError(
                .wrongKey,
                "the manifest is the backup of \(manifest.origin), not of \(trusted.name), whose key signed it")
        }
        return (manifest, trusted, key == nil)
    }

    /// Everything in the backup is listed in the manifest — besides the manifest itself, the marker, and the lock
    /// file opening a log's copy creates — and no listed path is a directory.
    static func checkListing(_ directory: String, _ manifest: BackupManifest) throws(BackupError) {
        let listed = Set(manifest.files.map(\.path))
        var directories: Set<String> = []
        for path in listed {
            var parts = path.split(separator: "/").dropLast()
            while !parts.isEmpty {
                directories.insert(parts.joined(separator: "/"))
                parts = parts.dropLast()
            }
        }
        var ignored: Set<String> = [manifestFileName, markerFileName]
        for log in manifest.logs { ignored.insert(log.path(lockFileName)) }
        func walk(_ relative: String, depth: Int) throws(BackupError) {
            let absolute = relative.isEmpty ? directory : directory + "/" + relative
            for name in try list(absolute) {
                let path = relative.isEmpty ? name : relative + "/" + name
                if listed.contains(path) || ignored.contains(path) { continue }
                let kind = DurableFiles.kind(of: directory + "/" + path, followingSymbolicLinks: false)
                if kind == .directory && depth < 9 {
                    if directories.contains(path) {
                        try walk(path, depth: depth + 1)
                        continue
                    }
                    if try list(directory + "/" + path).isEmpty { continue }
                }
                throw BackupError(
                    .unlistedFile,
                    "\(directory)/\(path) is not in the manifest (added after the backup, or left by an interrupted "
                        + "one): remove it, or take the backup again")
            }
        }
        try walk("", depth: 0)
    }

    /// Every listed file is a regular file with the manifest's size (all checked first: cheap) and SHA-256.
    /// Returns the bytes hashed.
    static func checkFiles(_ directory: String, _ manifest: BackupManifest) throws(BackupError) -> UInt64 {
        for file in manifest.files {
            let path = directory + "/" + file.path
            switch DurableFiles.kind(of: path, followingSymbolicLinks: false) {
            case .regular: break
            case .missing: throw BackupError(.fileMissing, "\(path) is missing (the manifest lists it)")
            case let kind: throw BackupError(.fileMismatch, "\(path) is \(kind), not a regular file")
            }
            guard let size = DurableFiles.size(of: path), size == file.size else {
                throw BackupError(
                    .fileMismatch,
                    "\(path) has \(DurableFiles.size(of: path).map(String.init) ?? "an unknown number of") bytes; the "
                        + "manifest says \(file.size): it was changed or cut short after the backup")
            }
        }
        var total: UInt64 = 0
        for file in manifest.files {
            let path = directory + "/" + file.path
            let found: (digest: SHA256Digest, size: UInt64)
            do {
                found = try hash(path)
            } catch {
                throw BackupError(.io, "cannot read \(path): \(error.message)")
            }
            total += found.size
            guard found.size == file.size, found.digest == file.sha256 else {
                throw BackupError(
                    .fileMismatch,
                    "\(path) does not have the SHA-256 the manifest gives (it has \(found.digest.hex), the manifest "
                        + "\(file.sha256.hex)): it was changed or damaged after the backup")
            }
        }
        return total
    }

    /// Each log's copy, opened read-only where it lies, passes `fsck` and has the manifest's tree size and root;
    /// the main one is of the log whose key signed the manifest.
    static func checkLogs(
        _ directory: String, _ manifest: BackupManifest, signer: NoteVerifierKey, what: String
    ) throws(BackupError) -> [FsckReport] {
        var reports: [FsckReport] = []
        for log in manifest.logs {
            let path = log.directory == BackupManifest.mainDirectory ? directory : directory + "/" + log.directory
            let report: FsckReport
            do {
                try Ledger.checkDataFile(at: path)
                var options = Ledger.OpenOptions()
                options.readOnly = true
                let copy = try Ledger.open(at: path, options: options)
                if log.directory == BackupManifest.mainDirectory {
                    guard copy.verifierKey == signer else {
                        throw BackupError(
                            .copyInconsistent,
                            "\(what) in \(path) is the log of \(copy.verifierKey.nameAndID), not of "
                                + "\(signer.nameAndID), whose key signed the manifest")
                    }
                }
                report = try copy.fsck()
            } catch let error as BackupError {
                throw error
            } catch let error as LedgerError where [.corrupt, .notALedger, .unsupportedFormat].contains(error.code) {
                throw BackupError(.copyInconsistent, "\(what) in \(path) fails fsck: \(error.message)")
            } catch let error as LedgerError {
                throw BackupError(.io, "cannot check \(what) in \(path): \(error.message)")
            } catch {
                throw BackupError(.io, "cannot check \(what) in \(path): \(error)")
            }
            guard report.leaves == log.treeSize, report.rootHash == log.rootHash else {
                throw BackupError(
                    .rootMismatch,
                    "\(what) in \(path) has \(report.leaves) entries with root \(report.rootHash.base64); the manifest "
                        + "says \(log.treeSize) with root \(log.rootHash.base64)")
            }
            reports.append(report)
        }
        return reports
    }

    // MARK: - Restoring

    /// Restores the backup in `source` into the new directory `target` (missing, or empty): checks the manifest's
    /// signature (by `key`, default the backup's own `ledger.vkey`) and that nothing unlisted is there, copies
    /// every listed file — checking its size and SHA-256 as it is copied, and syncing files and directories —
    /// and then runs `fsck` on each restored log and compares its tree size and root with the manifest's. Any
    /// failure before that check removes what was copied.
    public static func restore(
        from source: String, to target: String, key: NoteVerifierKey? = nil
    ) throws(BackupError) -> BackupVerification {
        let source = trimmed(source)
        let target = trimmed(target)
        switch DurableFiles.kind(of: target) {
        case .missing: break
        case .directory:
            let first: String?
            do {
                first = try DurableFiles.firstEntry(ofDirectory: target)
            } catch {
                throw BackupError(.io, "cannot list \(target): \(error.message)")
            }
            if let first {
                throw BackupError(
                    .targetNotEmpty,
                    "\(target) is not empty (found \(first)): restore into a new or empty directory (a ledger is "
                        + "never restored over another)")
            }
        default:
            throw BackupError(.targetNotEmpty, "\(target) exists and is not a directory")
        }
        let (manifest, signer, fromBackup) = try readManifest(source, key: key)
        try checkListing(source, manifest)
        let createdTarget = DurableFiles.kind(of: target) == .missing
        try io("creating \(target)") { () throws(FileError) in
            try DurableFiles.createEmptyDirectory(target, mode: 0o750)
        }
        var created: [String] = []
        var createdDirectories: [String] = []
        var touched: Set<String> = [target]
        var total: UInt64 = 0
        do throws(BackupError) {
            for file in manifest.files {
                let from = source + "/" + file.path
                let to = target + "/" + file.path
                let parent = DurableFiles.parentDirectory(of: to)
                createdDirectories += try io("creating \(parent)") { () throws(FileError) in
                    try DurableFiles.createDirectories(parent, mode: 0o750)
                }
                touched.insert(parent)
                var hasher = SHA256Hasher()
                let size: UInt64
                do {
                    size = try DurableFiles.copy(from: from, to: to, mode: restoredMode(file.path)) {
                        hasher.update($0)
                    }
                } catch  where error.path == from && error.code == .notFound {
                    throw BackupError(.fileMissing, "\(from) is missing (the manifest lists it)")
                } catch  where error.path == from && error.code == .notRegularFile {
                    throw BackupError(.fileMismatch, "\(from) is not a regular file: \(error.reason)")
                } catch {
                    throw BackupError(.io, "cannot restore \(file.path): \(error.message)")
                }
                created.append(to)
                total += size
                let digest = hasher.finalize()
                guard size == file.size, digest == file.sha256 else {
                    throw BackupError(
                        .fileMismatch,
                        "\(from) does not have the size and SHA-256 the manifest gives (\(size) bytes, \(digest.hex); "
                            + "the manifest: \(file.size), \(file.sha256.hex)): it was changed or damaged after the "
                            + "backup")
                }
            }
            for directory in touched.sorted(by: { $0.utf8.count > $1.utf8.count }) {
                try io("syncing \(directory)") { () throws(FileError) in try DurableFiles.syncDirectory(directory) }
            }
            try io("syncing \(DurableFiles.parentDirectory(of: target))") { () throws(FileError) in
                try DurableFiles.syncParentDirectory(of: target)
            }
        } catch {
            for path in created.reversed() { _ = try? DurableFiles.remove(path, synced: false) }
            for directory in createdDirectories.reversed() { _ = try? DurableFiles.removeEmptyDirectory(directory) }
            if createdTarget { _ = try? DurableFiles.removeEmptyDirectory(target) }
            throw error
        }
        let reports = try checkLogs(target, manifest, signer: signer, what: "the restored ledger")
        return BackupVerification(
            manifest: manifest, signer: signer, keyFromBackup: fromBackup, fsck: reports, bytesHashed: total)
    }

    /// The mode a restored file gets: 0600 for signing keys, 0644 for verifier keys, 0640 for the rest.
    static func restoredMode(_ path: String) -> mode_t {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        switch name {
        case LedgerLayout.signingKeyFile: return 0o600
        case LedgerLayout.verifierKeyFile: return 0o644
        case _ where Ledger.isRetiredSigningKeyFile(name): return 0o600
        default: return 0o640
        }
    }

    // MARK: - Helpers

    /// Whether the live ledger now records the erasure of `digest`.
    static func isErased(_ digest: SHA256Digest, in log: Ledger) -> Bool {
        ((try? log.read { snapshot in try snapshot.blobMetadata(digest) }) ?? nil)?.erasure != nil
    }

    /// Runs a file-layer operation, turning its failure into a `BackupError` (`.io`) that says what was being done.
    @discardableResult
    static func io<R>(_ what: String, _ body: () throws(FileError) -> R) throws(BackupError) -> R {
        do {
            return try body()
        } catch {
            throw BackupError(.io, "\(what): \(error.message)")
        }
    }

    /// The SHA-256 and length of the file at `path`, streamed.
    static func hash(_ path: String) throws(FileError) -> (digest: SHA256Digest, size: UInt64) {
        var hasher = SHA256Hasher()
        let size = try DurableFiles.forEachChunk(of: path) { hasher.update($0) }
        return (hasher.finalize(), size)
    }

    /// The manifest entry of the file at `path` (hashed now).
    static func hashedFile(_ path: String, as relative: String) throws(BackupError) -> BackupManifest.File {
        let (digest, size) = try io("reading back \(path)") { () throws(FileError) in try hash(path) }
        return BackupManifest.File(path: relative, size: size, sha256: digest)
    }

    /// The entries of a directory, as a `BackupError`.
    static func list(_ directory: String) throws(BackupError) -> [String] {
        try io("listing \(directory)") { () throws(FileError) in try DurableFiles.entries(ofDirectory: directory) }
    }

    /// Removes the staging tree (two levels of directories holding copies and LMDB lock files).
    static func removeTree(_ path: String) throws(BackupError) {
        guard DurableFiles.kind(of: path, followingSymbolicLinks: false) == .directory else { return }
        for name in try list(path) {
            let child = path + "/" + name
            if DurableFiles.kind(of: child, followingSymbolicLinks: false) == .directory {
                try removeTree(child)
            } else {
                try io("removing \(child)") { () throws(FileError) in try DurableFiles.remove(child, synced: false) }
            }
        }
        try io("removing \(path)") { () throws(FileError) in try DurableFiles.removeEmptyDirectory(path) }
    }

    /// `path` without trailing slashes.
    static func trimmed(_ path: String) -> String {
        var result = Substring(path)
        while result.count > 1 && result.hasSuffix("/") { result.removeLast() }
        return String(result)
    }

    /// The current time in Unix milliseconds.
    package static func currentTimeMilliseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
    }
}

extension String {
    fileprivate func trimmingTrailingNewlines() -> String {
        var result = Substring(self)
        while let last = result.last, last == "\n" || last == "\r" || last == " " { result.removeLast() }
        return String(result)
    }
}
