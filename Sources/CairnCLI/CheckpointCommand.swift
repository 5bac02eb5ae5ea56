import ArgumentParser
import CairnJSON
import CairnLedger
import CairnNote

struct CheckpointCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checkpoint",
        abstract: "Print the signed checkpoint (tree head) of the ledger.",
        discussion: prose(
            """
            Prints the C2SP tlog-checkpoint signed note for the current tree size, or for an earlier
            size with --size:

              <origin>
              <tree size>
              <base64 root hash>

              — <origin> <base64(key id || Ed25519 signature)>

            Every committed size has a stored checkpoint. An intermediate size that never was a
            commit boundary gets a checkpoint signed on request (and recorded in the ledger).
            Verify a checkpoint with `cairn verify checkpoint --vkey VKEY FILE`.
            """)
    )

    @OptionGroup var location: LedgerLocation

    @Option(help: ArgumentHelp("The tree size (default: the current size).", valueName: "n"))
    var size: UInt64?

    @Flag(help: "Print a JSON object with origin, size, root hash and the note.")
    var json = false

    func run() throws {
        try runReportingErrors {
            // A read: never signs, so it works on a read-only copy without the signing key.
            let ledger = try location.open(readOnly: true)
            let signed = try ledger.read { try $0.checkpoint(size: size) }
            if json {
                printJSON(checkpointJSON(signed))
            } else {
                Console.write(signed.serialized)
            }
        }
    }
}

func checkpointJSON(_ signed: SignedCheckpoint) -> JSONValue {
    .object([
        "origin": .string(signed.checkpoint.origin),
        "size": .uint(signed.checkpoint.size),
        "root_hash": .string(signed.checkpoint.rootHash.base64),
        "root_hash_hex": .string(signed.checkpoint.rootHash.hex),
        "note": .string(signed.serialized),
    ])
}
