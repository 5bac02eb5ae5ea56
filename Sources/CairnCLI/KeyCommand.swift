import ArgumentParser
import CairnCrypto
import CairnJSON
import CairnLedger
import CairnNote
import CairnRecords
import CairnStorage

struct KeyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "key",
        abstract: "Rotate the log's signing key, and print its key history.",
        discussion: prose(
            """
            A log signs every checkpoint with its Ed25519 key. `cairn key rotate` replaces that key:
            it appends a key-rotation record naming the old and the new vkey, commits it under a
            checkpoint signed by both keys, and from then on signs with the new key alone. Every
            checkpoint and proof issued before still verifies with the old vkey.

            Verifiers who pinned the old vkey follow the chain with the key history (`cairn key
            history --json`): `cairn verify … --vkey OLD --key-history FILE` accepts a checkpoint
            signed by any key the chain validly reaches, for the tree sizes that key signs. The
            format is specified in specs/key-rotation.md; rotation and the procedure after a key
            compromise are in docs/operators-guide.md.
            """),
        subcommands: [KeyRotate.self, KeyHistoryCommand.self]
    )
}

struct KeyRotate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rotate",
        abstract: "Replace the log's signing key; print the new vkey.",
        discussion: prose(
            """
            Creates a new Ed25519 key (or takes --new-key), appends a key-rotation record that
            names the current vkey and the new one, endorsed by the current key, and commits it
            alone under a checkpoint signed by both keys. Then the new key becomes
            <dir>/signing-key.pem and its vkey <dir>/ledger.vkey; the old key is kept as
            <dir>/signing-key.<key ID>.pem.retired (mode 0600), or erased with --destroy-old. Every
            later checkpoint is signed by the new key alone. The new vkey is printed on standard
            output: publish it, and give the key history (`cairn key history --json`) to
            verifiers and the new vkey to your witnesses' operators (a witness accepts the log's
            checkpoints only from keys it knows).

            The ledger must not be served meanwhile: a running `cairn serve` (which holds
            serve.lock in the ledger directory) makes the command refuse, with exit status 75.
            Other processes that append with the old key are refused afterwards and must run again.

            After a key compromise, --revoke-from-size N declares the old key untrusted for tree
            sizes from N on (N at most the size of the rotation's checkpoint): pick N as the size
            after the last checkpoint your witnesses cosigned before the compromise. Verifiers
            then accept the old key only below N, and cannot follow the chain past this rotation
            from an older vkey: a compromised key cannot vouch for its successor, so they pin the
            new vkey you publish (docs/operators-guide.md §12).

            If the command is interrupted after the rotation is committed (a crash while the key
            files are replaced), run it again: it finishes that rotation, says so, and makes no
            new one. `cairn fsck` reports the unfinished state until then.

            EXAMPLES
              cairn key rotate --reason "yearly rotation" --author ops@example.com
              openssl genpkey -algorithm ed25519 -out next-key.pem && cairn key rotate --new-key next-key.pem --reason "key moved to the HSM host" --destroy-old --json

            EXIT STATUS
              0   rotated (or an interrupted rotation finished): the new vkey is printed
              64  usage error: a --new-key that is not an Ed25519 key, a key the log
                  already used, a blank reason, a --revoke-from-size beyond the
                  rotation's size
              66  no such ledger or key file
              70  internal error (a bug in cairn: please report it)
              74  the ledger or a key file cannot be read or written; if the rotation
                  was committed, the message says so: run the command again
              75  the ledger is being served (`cairn serve` holds serve.lock)
              77  the signing key is missing, unreadable or does not match the ledger
            """)
    )

    @OptionGroup var location: LedgerLocation

    @Option(help: ArgumentHelp("Why the key is replaced (the record's reason).", valueName: "text"))
    var reason: String

    @Option(
        help: ArgumentHelp(
            "Who replaces it (the record's author; default: the login name of the user running cairn).",
            valueName: "name"))
    var author: String?

    @Option(
        help: ArgumentHelp(
            "The record's time, RFC 3339 UTC such as 2026-12-01T10:00:00Z (default: now).", valueName: "time"))
    var at: String?

    @Option(
        help: ArgumentHelp(
            "Use this Ed25519 key (PKCS#8 PEM, e.g. from `openssl genpkey -algorithm ed25519`) instead of "
                + "generating one; it is copied into the ledger directory.", valueName: "pem-file"))
    var newKey: String?

    @Option(
        help: ArgumentHelp(
            "After a compromise: the old key's signatures count only for tree sizes below this one.",
            valueName: "size"))
    var revokeFromSize: UInt64?

    @Flag(help: "Erase the old key's file (overwritten with zeros) instead of keeping it as a .retired file.")
    var destroyOld = false

    @Flag(help: "Print a JSON object describing the rotation.")
    var json = false

    func validate() throws {
        guard !TextFormatsCheck.isBlank(reason) else { throw ValidationError("--reason must not be blank") }
    }

    func run() throws {
        try runReportingErrors {
            let directory = location.directory
            let ledger = try location.open()
            // A running server signs with the key in its memory: refuse while one serves this ledger (and keep a
            // server from starting meanwhile).
            let lock = try Self.serveLock(directory)
            defer { withExtendedLifetime(lock) {} }
            var options = KeyRotationOptions(
                reason: reason, author: author ?? Principal.currentUser.name, at: at ?? Timestamps.now())
            options.revokeFromSize = revokeFromSize
            options.destroyOldKey = destroyOld
            if let newKey {
                let pem = String(decoding: try readInput(newKey, what: "new key"), as: UTF8.self)
                do {
                    options.newKey = try Ed25519PrivateKey(pemRepresentation: pem)
                } catch {
                    throw CLIError(.usage, "--new-key \(newKey): \((error as? CryptoError)?.message ?? "\(error)")")
                }
            }
            let result = try ledger.rotateSigningKey(options)
            if json {
                printJSON(
                    .object([
                        "old_vkey": .string(result.oldKey.description), "new_vkey": .string(result.newKey.description),
                        "entry_index": .uint(result.entryIndex), "from_size": .uint(result.fromSize),
                        "retired_key_file": result.retiredKeyFile.map { .string($0) } ?? .null,
                        "resumed": .bool(result.resumed),
                        "revoked_from_size": revokeFromSize.map { .uint($0) } ?? .null,
                    ]))
            } else {
                Console.line(result.newKey.description)
                Console.error(
                    (result.resumed ? "finished the interrupted rotation" : "rotated")
                        + " the signing key of \(ledger.origin) from \(result.oldKey.nameAndID) to "
                        + "\(result.newKey.nameAndID): entry \(result.entryIndex), checkpoint of size \(result.fromSize) "
                        + "signed by both; "
                        + (result.retiredKeyFile.map { "the old key is kept in \($0)" } ?? "the old key file is gone")
                        + (result.resumed ? " (no new rotation was made)" : ""))
            }
        }
    }

    /// Takes the serve lock of the ledger for the rotation, or refuses because a server holds it.
    static func serveLock(_ directory: String) throws(CLIError) -> LockFile {
        let path = (directory.hasSuffix("/") ? directory : directory + "/") + ServeLock.fileName
        do {
            return try LockFile(path: path, mode: 0o644)
        } catch {
            switch error {
            case .held(_, let pid):
                throw CLIError(
                    .temporaryFailure,
                    "the ledger at \(directory) is being served by cairn serve ("
                        + (pid.map { "process \($0)" } ?? "a process") + " holds \(path)): it signs with the key "
                        + "in its memory, so stop it, rotate, and start it again")
            case .file(let failure):
                let status: ExitStatus = failure.code == .permission ? .noPermission : .ioError
                throw CLIError(status, "cannot take the serve lock of \(directory): \(failure.message)")
            }
        }
    }
}

struct KeyHistoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "Print the log's keys, or with --json its key history file for verifiers.",
        discussion: prose(
            """
            Without --json, prints one line per key the log has signed with, oldest first: the
            vkey, the tree sizes it signs, the key-rotation entry that introduced it, and a
            revocation if a later rotation declared it compromised.

            With --json, prints the key history file (format cairn-key-history/v1,
            specs/key-rotation.md): the log's first vkey and, for each rotation, the new vkey,
            the size from which it signs, the key-rotation entry, its inclusion proof, and the
            checkpoint signed by both keys that commits it. A verifier who pinned any vkey of the
            chain checks it with `cairn verify … --vkey VKEY --key-history FILE`, offline. The
            file only grows: a newer one verifies everything an older one did.

            Reads only: works on a read-only copy of the ledger, without the signing key.

            EXAMPLES
              cairn key history
              cairn key history --json > key-history.json
              cairn checkpoint > now.checkpoint && cairn verify checkpoint --vkey ledger.vkey --key-history key-history.json now.checkpoint

            EXIT STATUS
              0   printed
              64  usage error
              66  no such ledger
              70  internal error (a bug in cairn: please report it), or a key history
                  that disagrees with the log (run `cairn fsck`)
              74  the ledger cannot be read
            """)
    )

    @OptionGroup var location: LedgerLocation

    @Flag(help: "Print the key history file (JSON, specs/key-rotation.md) instead of the table.")
    var json = false

    func run() throws {
        try runReportingErrors {
            let ledger = try location.open(readOnly: true)
            if json {
                printJSON(try ledger.read { try $0.keyHistory() }.json)
                return
            }
            let keys = try ledger.read { try $0.signingKeys() }
            var rows = [["VKEY", "SIGNS", "ROTATION", "REVOKED"]]
            for (index, key) in keys.enumerated() {
                let next = index + 1 < keys.count ? keys[index + 1].fromSize : nil
                let sizes = next.map { "sizes \(key.fromSize)–\($0)" } ?? "sizes from \(key.fromSize) (current)"
                rows.append([
                    key.vkey.description, sizes, key.rotationEntry.map { "entry \($0)" } ?? "-",
                    key.revokedFromSize.map { "from size \($0)" } ?? "-",
                ])
            }
            printColumns(rows)
        }
    }
}

/// The blank-text rule of the record schema (a reason must hold a non-whitespace character), for options.
enum TextFormatsCheck {
    static func isBlank(_ text: String) -> Bool {
        text.unicodeScalars.allSatisfy { $0.properties.isWhitespace }
    }
}
