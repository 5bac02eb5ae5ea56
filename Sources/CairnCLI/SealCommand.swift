import ArgumentParser
import CairnJSON
import CairnLedger
import CairnNote
import CairnProofs
import CairnRecords

struct SealCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "seal",
        abstract: "Seal the log: append its final entry and print its final checkpoint.",
        discussion: prose(
            """
            Appends a seal record (specs/sealing.md) as the log's last entry, in a commit of its own
            that also marks the log sealed, and prints the final checkpoint (the signed note of the
            size that ends with the seal) on standard output. From then on every append is refused,
            from the CLI (exit status 77) and over HTTP (410 Gone, code "gone"), with a message that
            says the log is sealed; reading, proving, verifying, exporting tiles, backing up and
            collecting witness cosignatures of the final checkpoint go on as before. Nothing unseals
            a log.

            Sealing is how a log is cut into time shards (a log per year, as CT logs and Rekor do):
            seal it, then start its successor with `cairn init --successor-of`, whose first entry
            commits to this final checkpoint. A running `cairn serve` may keep serving the sealed
            log: its appends are refused from the seal's commit on. Publish the final checkpoint (and
            have witnesses cosign it): it is the last state auditors will ever need for this log.

            EXAMPLES
              cairn seal --reason "2026 shard closed" --author ops@example.com
              cairn init --successor-of ./cairn-ledger --origin example.com/cairn-2027 --ledger ./ledger-2027
              cairn get 0 --ledger ./ledger-2027 > link.json && cairn verify successor --vkey cairn-ledger/ledger.vkey link.json
              cairn seal --ledger ./ledger-2027 --reason "test shard" --json

            EXIT STATUS
              0   sealed: the final checkpoint is printed
              64  usage error: a blank reason, a malformed --at
              66  no such ledger
              70  internal error (a bug in cairn: please report it)
              74  the ledger cannot be read or written
              77  the log is already sealed, or the signing key is missing or unreadable
            """)
    )

    @OptionGroup var location: LedgerLocation

    @Option(help: ArgumentHelp("Why the log is sealed (the record's reason).", valueName: "text"))
    var reason: String

    @Option(
        help: ArgumentHelp(
            "Who seals it (the record's author; default: the login name of the user running cairn).",
            valueName: "name"))
    var author: String?

    @Option(
        help: ArgumentHelp(
            "The record's time, RFC 3339 UTC such as 2026-12-31T23:59:59Z (default: now).", valueName: "time"))
    var at: String?

    @Flag(help: "Print a JSON object describing the seal instead of the bare checkpoint.")
    var json = false

    func validate() throws {
        guard !TextFormatsCheck.isBlank(reason) else { throw ValidationError("--reason must not be blank") }
    }

    func run() throws {
        try runReportingErrors {
            let ledger = try location.open()
            let state = try ledger.seal(
                SealOptions(reason: reason, author: author ?? Principal.currentUser.name, at: at ?? Timestamps.now()))
            if json {
                printJSON(.object(sealDetails(state, origin: ledger.origin)))
            } else {
                Console.write(state.checkpoint.serialized)
                Console.error(
                    "sealed \(ledger.origin) at size \(state.checkpoint.checkpoint.size) (entry \(state.entryIndex) is "
                        + "the seal); it refuses every append from now on: start its successor with "
                        + "`cairn init --successor-of \(location.directory) --origin NEW-ORIGIN --ledger NEW-DIR`")
            }
        }
    }
}

/// The JSON description of a seal (`cairn seal --json`, `cairn logs list --json`).
func sealDetails(_ state: LedgerSealState, origin: String) -> JSONObject {
    [
        "origin": .string(origin), "entry_index": .uint(state.entryIndex),
        "size": .uint(state.checkpoint.checkpoint.size),
        "root_hash": .string(state.checkpoint.checkpoint.rootHash.base64),
        "checkpoint": .string(state.checkpoint.serialized), "at": .string(state.seal.at),
        "author": .string(state.seal.author), "reason": .string(state.seal.reason),
    ]
}

struct VerifySuccessor: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "successor",
        abstract: "Verify a successor log's link to its sealed predecessor.",
        discussion: prose(
            """
            FILE is a successor log's first entry (`cairn get 0`): a predecessor record
            (specs/sealing.md) carrying the predecessor's final checkpoint, its last entry (the seal
            record) and that entry's inclusion proof. With --vkey, the key you trust for the
            predecessor, this checks that the checkpoint verifies for the record's origin, that the
            seal entry is canonical JSON sealing that origin, and that the proof makes it the last
            entry of the checkpoint's tree: the predecessor ended there and nothing was appended
            after. Prints the predecessor's final size and root, against which its earlier
            checkpoints are checked with `cairn verify consistency`.

            That the entry is the successor's entry 0 is checked as for any entry: `cairn prove 0`
            on the successor and `cairn verify inclusion` with the successor's vkey.

            EXAMPLES
              cairn get 0 --ledger ./ledger-2027 > link.json && cairn verify successor --vkey ./cairn-ledger/ledger.vkey link.json
              cairn verify successor --vkey ./cairn-ledger/ledger.vkey --json link.json

            EXIT STATUS
              0   the link holds
              1   it does not (code badLink, or malformed for a file that is not a predecessor record)
              64  usage error (a malformed --vkey)
              66  no such file
              70  internal error (a bug in cairn: please report it)
              74  the file cannot be read
            """)
    )

    @Option(
        help: ArgumentHelp(
            "The predecessor log's verifier key: the vkey text (name+id+key) or a file holding it.", valueName: "vkey"))
    var vkey: String

    @Flag(help: "Print a JSON object with \"valid\" and the details or the reason.")
    var json = false

    @Argument(help: ArgumentHelp("The successor's entry 0 (- for stdin).", valueName: "file"))
    var file: String

    func run() throws {
        try reportVerification(json: json) {
            let key = try VerifyOptions.verifierKey(vkey)
            let record: PredecessorRecord
            let link: PredecessorRecord.Link
            let bytes = try readInput(file, what: "entry file")
            do throws(SuccessionError) {
                record = try PredecessorRecord(entry: bytes)
                link = try record.verify(with: key)
            } catch {
                throw ProofError(error.code == .invalidRecord ? .malformed : .badLink, error.message)
            }
            let final = link.checkpoint
            return (
                "\(file) links to \(final.origin), sealed at size \(final.size) (root \(final.rootHash.base64)) by "
                    + "\(link.seal.author) at \(link.seal.at): \(link.seal.reason)",
                [
                    "predecessor": .object(checkpointDetails(final)),
                    "checkpoint": .string(record.checkpoint),
                    "seal": .object([
                        "entry_index": .uint(final.size - 1), "at": .string(link.seal.at),
                        "author": .string(link.seal.author), "reason": .string(link.seal.reason),
                    ]),
                ]
            )
        }
    }
}
