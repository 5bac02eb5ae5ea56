import ArgumentParser
import CairnLedger
import CairnRecords
import Foundation

struct RestoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Restore a backup into a new ledger directory, checking it on the way.",
        discussion: prose(
            """
            Restores the backup in SRC (written by `cairn backup`) into DIR, which must not exist
            or be empty: a ledger is never restored over another.

            Before anything is copied, SRC/backup.manifest must be signed by the key given with
            --vkey (by default SRC's own ledger.vkey) and SRC must hold nothing the manifest does
            not list. Every listed file is then copied, its size and SHA-256 checked as it is
            read, and synced, and so is every directory created; a file that does not match
            stops the restore and removes what was copied. Finally each restored log (the
            ledger, its access log) is checked with `cairn fsck` and must have the manifest's
            tree size and root hash.

            A backup taken without --include-key restores without signing keys: the restored
            ledger can be read, proved, served for reads and checked, but appending needs its
            key back (put signing-key.pem, mode 0600, into DIR, and the access log's into
            DIR/access-log).

            EXAMPLES
              cairn restore backups/cairn restored-ledger --vkey ledger.vkey
              cairn fsck --ledger restored-ledger

            EXIT STATUS
              0   restored and checked
              1   the backup is invalid (nothing is left in DIR), or the restored ledger fails
                  fsck (DIR is left for inspection: do not use it); the reason is on stderr
              64  usage error (for example a malformed --vkey)
              66  no such backup directory or --vkey file
              70  internal error (a bug in cairn: please report it)
              73  DIR exists and is not an empty directory
              74  a file cannot be read, written or synced (a full disk, an I/O error)
              141 standard output is a pipe whose reader has exited (no message)
            """)
    )

    @Argument(help: ArgumentHelp("The backup directory.", valueName: "src"))
    var src: String

    @Argument(help: ArgumentHelp("The new ledger directory (must not exist, or be empty).", valueName: "dir"))
    var dir: String

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
            let restored = try checkingBackup(json: json) { () throws(BackupError) in
                try LedgerBackup.restore(from: src, to: dir, key: key)
            }
            reportBackupValid(restored, what: "restored \(src) into \(dir)", json: json)
            if !restored.manifest.signingKeysIncluded {
                Console.error(
                    "note: the backup holds no signing keys: put signing-key.pem (mode 0600) into "
                        + "\(DisplayText.escape(dir))"
                        + (restored.manifest.logs.count > 1 ? " and each log directory in it" : "")
                        + " before appending")
            }
        }
    }
}
