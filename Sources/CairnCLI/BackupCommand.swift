import ArgumentParser
import CairnJSON
import CairnLedger
import CairnNote
import CairnRecords
import CairnServer
import Foundation

struct BackupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Take an online backup of the ledger with a signed manifest, or verify one.",
        discussion: prose(
            """
              cairn backup [create] DEST [--include-key]   back the ledger up into DEST
              cairn backup verify DEST [--vkey VKEY]       check a backup
              cairn restore SRC DIR                        restore one into a new ledger directory

            See `cairn backup create --help`, docs/operators-guide.md ("Backups") and
            specs/backup.md.
            """),
        subcommands: [BackupCreate.self, BackupVerify.self],
        defaultSubcommand: BackupCreate.self
    )
}

struct BackupCreate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Back the ledger up into DEST while appends continue, with a signed manifest.",
        discussion: prose(
            """
            Copies the ledger into the directory DEST without stopping it: appends, reads and a
            running `cairn serve` go on meanwhile. DEST becomes a ledger directory of its own
            (it can be checked in place with `cairn fsck --ledger DEST`) holding:

            - data.mdb: a consistent, compacted copy of the LMDB environment, made by LMDB's
            hot backup (mdb_env_copyfd2 with MDB_CP_COMPACT) in one read transaction: the
            log exactly as one commit left it;
            - blobs/: the payload files that copy lists. Only blobs DEST lacks are copied;
            those it holds are re-hashed and kept, and blobs erased since the previous backup
            are removed from it (overwritten with zeros), so erasures reach backups too;
            - ledger.vkey, and the access log (access-log/, a copy of its own) when the ledger
            has one; server.json and the saved fire drills (drills/) when the ledger
            directory holds them;
            - the signing keys (signing-key.pem, mode 0600) only with --include-key; store such a
            backup as you store the key;
            - backup.manifest: a signed note (C2SP signed-note, signed with the ledger's key) that
            lists every file with its size and SHA-256, and each log's tree size and root
            hash, read from its copy (format: specs/backup.md).

            DEST must be new, empty, or a backup of the same ledger: backing up into it again is
            incremental. The old manifest is removed first and the new one written last, once
            every file and directory is synced; so a backup that fails midway (a full disk, a
            crash) leaves DEST without a manifest, which `cairn backup verify` reports as
            incomplete: run the backup again. Check every backup with `cairn backup verify`, and
            copy DEST off the machine (docs/operators-guide.md has the procedure).

            Signing the manifest needs the ledger's signing key (exit status 77 without it),
            whether or not --include-key is given.

            EXAMPLES
              cairn backup backups/cairn
              cairn backup backups/cairn --include-key --json

            EXIT STATUS
              0   the backup is complete: DEST holds the files and the signed manifest
              1   the ledger failed a check while it was copied (a blob's file does not hash to
                  its address, a checkpoint does not verify): run `cairn fsck`
              64  usage error
              66  no such ledger
              70  internal error (a bug in cairn: please report it)
              73  DEST is a file, a non-empty directory that is not a backup, or the backup of
                  another log
              74  a file cannot be read, written or synced (a full disk, an I/O error): DEST has
                  no manifest; run the backup again once the cause is fixed
              77  the signing key is missing, unreadable or does not match the ledger
              141 standard output is a pipe whose reader has exited (no message)
            """)
    )

    @OptionGroup var location: LedgerLocation

    @Argument(
        help: ArgumentHelp("The backup directory: new, empty, or an earlier backup of this ledger.", valueName: "dest"))
    var dest: String

    @Flag(help: "Also copy the signing keys (mode 0600): the backup can then sign, and must be kept as secret.")
    var includeKey = false

    @Flag(help: "Print a JSON object describing the backup.")
    var json = false

    func run() throws {
        try runReportingErrors {
            let started = BackupTiming.now()
            let ledger = try location.open()
            var options = BackupOptions()
            options.includeSigningKeys = includeKey
            let accessLog = AccessLog.directory(of: ledger)
            if FileManager.default.fileExists(atPath: accessLog + "/data.mdb") {
                var open = Ledger.OpenOptions()
                open.readOnly = true
                options.subLedgers = [
                    BackupSubLedger(
                        directory: AccessLog.directoryName, ledger: try Ledger.open(at: accessLog, options: open))
                ]
            }
            let report = try mappingBackupErrors { () throws(BackupError) in
                try LedgerBackup.backup(ledger, to: dest, options: options)
            }
            let seconds = BackupTiming.now() - started
            let manifest = report.manifest
            if json {
                printJSON(
                    .object([
                        "dest": .string(dest), "manifest": .string(report.manifestPath),
                        "origin": .string(manifest.origin), "created": .string(Timestamp.format(manifest.created)),
                        "tree_size": .uint(manifest.main.treeSize), "root_hash": .string(manifest.main.rootHash.base64),
                        "logs": .array(manifest.logs.map(\.json)), "files": .int(manifest.files.count),
                        "bytes": .uint(manifest.totalBytes), "bytes_written": .uint(report.bytesWritten),
                        "blobs_copied": .int(report.blobsCopied), "blobs_kept": .int(report.blobsKept),
                        "files_removed": .int(report.filesRemoved), "signing_keys": .bool(manifest.signingKeysIncluded),
                        "snapshots": .int(report.snapshots), "seconds": .number(seconds.rounded(toPlaces: 3)),
                    ]))
            } else {
                Console.line(
                    "backed up \(DisplayText.escape(manifest.origin)) at tree size \(manifest.main.treeSize) (root "
                        + "\(manifest.main.rootHash.base64))" + manifest.otherLogsSummary + " into "
                        + "\(DisplayText.escape(dest)): \(manifest.files.count) files, \(manifest.totalBytes) bytes "
                        + "(\(report.bytesWritten) written); blobs: \(report.blobsCopied) copied, \(report.blobsKept) "
                        + "kept; \(report.filesRemoved) files removed; signing keys "
                        + "\(manifest.signingKeysIncluded ? "included" : "not included"); "
                        + "\(String(format: "%.1f", seconds)) s")
            }
        }
    }
}

struct BackupVerify: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check a backup: its signed manifest, every file, and each log's copy.",
        discussion: prose(
            """
            Checks, in this order, and stops at the first failure:

            1. DEST/backup.manifest is a signed note, signed by the key given with --vkey (by
            default the backup's own ledger.vkey, which proves the backup whole and
            consistent, but not that it is of the log you trust: give --vkey for that);
            2. it is a cairn-backup-manifest/v1 (specs/backup.md) of the log the key names;
            3. every file it lists is in DEST, a regular file with the listed size and SHA-256,
            and DEST holds nothing it does not list (besides the manifest, the marker
            .cairn-backup, and the lock.mdb files opening a copy creates);
            4. each log's copy (the ledger, its access log) passes `cairn fsck`, opened read-only
            where it lies, blobs included;
            5. each copy has the tree size and root hash the manifest gives.

            Prints "valid: …" (exit 0), or "invalid: <reason>" on stderr (exit 1), for example:
              invalid: DEST/backup.manifest is missing: the backup is incomplete …
              invalid: DEST/blobs/9f/86d0… does not have the SHA-256 the manifest gives …
              invalid: the manifest's signature by example.com/log+1a2b3c4d does not verify …

            EXAMPLES
              cairn backup verify backups/cairn --vkey ledger.vkey
              cairn backup verify backups/cairn --json

            EXIT STATUS
              0   valid
              1   invalid (the reason is on stderr, or in "reason" with --json)
              64  usage error (for example a malformed --vkey)
              66  no such backup directory or --vkey file
              70  internal error (a bug in cairn: please report it)
              74  a file of the backup cannot be read, or the result cannot be written
              141 standard output is a pipe whose reader has exited (no message)
            """)
    )

    @Argument(help: ArgumentHelp("The backup directory.", valueName: "dest"))
    var dest: String

    @Option(
        help: ArgumentHelp(
            "The log's verifier key, or a file holding it (default: the backup's own ledger.vkey).",
            valueName: "vkey"))
    var vkey: String?

    @Flag(help: "Print a JSON object with \"valid\" and the details or the reason.")
    var json = false

    func run() throws {
        try runReportingErrors {
            let key = try vkey.map(parseBackupVerifierKey)
            let verification = try checkingBackup(json: json) { () throws(BackupError) in
                try LedgerBackup.verify(backup: dest, key: key)
            }
            reportBackupValid(verification, what: "valid: backup \(dest)", json: json)
        }
    }
}

/// Runs a backup check (`backup verify`, `restore`): a failed verification is reported ("invalid: …" or JSON) with
/// exit status 1, any other failure becomes the command's error.
func checkingBackup(
    json: Bool, _ body: () throws(BackupError) -> BackupVerification
) throws -> BackupVerification {
    do throws(BackupError) {
        return try body()
    } catch  where error.isVerificationFailure {
        reportBackupInvalid(error, json: json)
        throw ExitCode(ExitStatus.verificationFailed.rawValue)
    } catch {
        throw CLIError(error)
    }
}

/// "valid: …" or the JSON form, for `backup verify` and `restore`.
func reportBackupValid(_ verification: BackupVerification, what: String, json: Bool) {
    let manifest = verification.manifest
    if json {
        printJSON(
            .object([
                "valid": true, "origin": .string(manifest.origin),
                "created": .string(Timestamp.format(manifest.created)),
                "tree_size": .uint(manifest.main.treeSize), "root_hash": .string(manifest.main.rootHash.base64),
                "logs": .array(manifest.logs.map(\.json)), "files": .int(manifest.files.count),
                "bytes": .uint(manifest.totalBytes), "signing_keys": .bool(manifest.signingKeysIncluded),
                "signed_by": .string(verification.signer.description),
                "key_from_backup": .bool(verification.keyFromBackup),
            ]))
    } else {
        Console.line(
            DisplayText.escape(what) + ": \(DisplayText.escape(manifest.origin)) at tree size "
                + "\(manifest.main.treeSize) (root \(manifest.main.rootHash.base64))" + manifest.otherLogsSummary
                + ", taken \(Timestamp.format(manifest.created)): \(manifest.files.count) files and \(manifest.totalBytes) "
                + "bytes match the manifest, fsck clean; signed by \(DisplayText.escape(verification.signer.nameAndID))"
                + (verification.keyFromBackup ? " (the backup's own ledger.vkey: pass --vkey to check the key)" : ""))
    }
}

/// "invalid: REASON" on stderr, or the JSON form on stdout.
func reportBackupInvalid(_ error: BackupError, json: Bool) {
    if json {
        printJSON(.object(["valid": false, "code": .string(error.code.rawValue), "reason": .string(error.message)]))
    } else {
        Console.error("invalid: " + DisplayText.escape(error.message))
    }
}

/// A --vkey value: the key text, or a file holding it.
func parseBackupVerifierKey(_ value: String) throws -> NoteVerifierKey {
    if let key = try? NoteVerifierKey(parsing: value) { return key }
    guard FileManager.default.fileExists(atPath: value) else {
        if VerifyOptions.namesFile(value) {
            throw CLIError(.notFound, "--vkey \(value): no such file (and not a verifier key name+id+key either)")
        }
        throw CLIError(.usage, "--vkey \(value) is neither a verifier key (name+id+key) nor an existing file")
    }
    let text = String(decoding: try readInput(value, what: "vkey file"), as: UTF8.self)
    do {
        return try NoteVerifierKey(parsing: text.trimmingCharacters(in: .whitespacesAndNewlines))
    } catch {
        throw CLIError(.usage, "--vkey file \(value): \(error.message)")
    }
}

/// Runs a backup operation, turning a `BackupError` into the exit status its code calls for.
private func mappingBackupErrors<R>(_ body: () throws(BackupError) -> R) throws(CLIError) -> R {
    do {
        return try body()
    } catch {
        throw CLIError(error)
    }
}

extension CLIError {
    /// The exit status of a backup, verification or restore failure (see the commands' EXIT STATUS tables).
    init(_ error: BackupError) {
        let status: ExitStatus =
            switch error.code {
            case .notFound: .notFound
            case .destinationUnusable, .targetNotEmpty: .cannotCreate
            case .signingKeyUnavailable: .noPermission
            case .io: .ioError
            case .sourceCorrupt, .manifestMissing, .malformedManifest, .wrongKey, .badSignature, .fileMissing,
                .fileMismatch, .unlistedFile, .copyInconsistent, .rootMismatch:
                .verificationFailed
            }
        self.init(status, error.message)
    }
}

extension BackupManifest.Log {
    /// `{"directory": ".", "tree_size": N, "root_hash": "…"}`.
    var json: JSONValue {
        .object(["directory": .string(directory), "tree_size": .uint(treeSize), "root_hash": .string(rootHash.base64)])
    }
}

extension BackupManifest {
    /// " and access-log at tree size N", for each log but the main one.
    var otherLogsSummary: String {
        logs.dropFirst().map { " and \(DisplayText.escape($0.directory)) at tree size \($0.treeSize)" }.joined()
    }
}

/// Wall-clock seconds, for the time a backup took.
enum BackupTiming {
    static func now() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }
}

extension Double {
    fileprivate func rounded(toPlaces places: Int) -> Double {
        let scale = Foundation.pow(10, Double(places))
        return (self * scale).rounded() / scale
    }
}
