import ArgumentParser
import CairnJSON
import CairnLedger
import CairnNote
import CairnProofs

struct ProveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prove",
        abstract: "Issue inclusion and consistency proofs.",
        subcommands: [ProveInclusion.self, ProveConsistency.self]
    )
}

struct ProveInclusion: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inclusion",
        abstract: "Prove that a record is in the log (C2SP tlog-proof).",
        discussion: prose(
            """
            Prints a c2sp.org/tlog-proof@v1 proof that the entry (by leaf index or content address)
            is in the tree of the current size, of --size N (a size with a published checkpoint: every
            append publishes one for the size it commits), or of the checkpoint in --checkpoint FILE
            (one of this log's, held by you). Proving is a read: it never signs or stores anything,
            so a read-only copy of the ledger without its signing key answers every proof:

              c2sp.org/tlog-proof@v1
              index <n>
              <base64 hash, one per line, from the leaf's sibling up>

              <signed checkpoint>

            Anyone holding the ledger's vkey can check it offline, with the entry bytes
            (`cairn get N --raw`).

            EXAMPLE
              cairn prove inclusion 3 > p.tlog-proof && cairn get 3 --raw > entry.json
              cairn verify inclusion --vkey ledger.vkey --proof p.tlog-proof --entry entry.json
            """)
    )

    @OptionGroup var location: LedgerLocation

    @Argument(help: ArgumentHelp("A leaf index or sha256:<64 hex digits>.", valueName: "entry"))
    var entry: String

    @Option(
        help: ArgumentHelp(
            "The tree size to prove against (default: current); it must have a published checkpoint.",
            valueName: "n"))
    var size: UInt64?

    @Option(
        help: ArgumentHelp(
            "Prove against this signed checkpoint of the log (a file, - for stdin) instead of a published size "
                + "(another log's, a badly signed or a forked one: exit 1).",
            valueName: "file"))
    var checkpoint: String?

    @Option(
        name: [.short, .long],
        help: ArgumentHelp(
            "Write the proof to this file: a new file, or a regular file, which is overwritten (others: exit 73).",
            valueName: "file"))
    var output: String?

    @Flag(help: "Print a JSON object (index, tree_size, leaf_hash, proof, checkpoint, tlog_proof).")
    var json = false

    func validate() throws {
        if size != nil && checkpoint != nil { throw ValidationError("--size and --checkpoint cannot be combined") }
    }

    func run() throws {
        try runReportingErrors {
            let reference = try parseReference(entry)
            // A read: never signs, so it works on a read-only copy without the signing key.
            let ledger = try location.open(readOnly: true)
            let held = try checkpoint.map { try readCheckpointFile($0) }
            let proof = try againstHeldCheckpoint(checkpoint) {
                try ledger.read { snapshot in
                    let index = try snapshot.resolve(reference)
                    if let held { return try snapshot.inclusionProof(index: index, in: held) }
                    return try snapshot.inclusionProof(index: index, size: size)
                }
            }
            let text = TlogProof(index: proof.index, hashes: proof.hashes, checkpoint: proof.checkpoint).serialized
            if json {
                printJSON(
                    .object([
                        "index": .uint(proof.index),
                        "tree_size": .uint(proof.checkpoint.checkpoint.size),
                        "leaf_hash": .string(proof.leafHash.base64),
                        "proof": .array(proof.hashes.map { .string($0.base64) }),
                        "checkpoint": .string(proof.checkpoint.serialized),
                        "tlog_proof": .string(text),
                    ]))
            } else {
                try emit(text, to: output)
            }
        }
    }
}

struct ProveConsistency: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "consistency",
        abstract: "Prove that the log only grew between two sizes (C2SP tlog-witness body).",
        discussion: prose(
            """
            Prints the body of a C2SP tlog-witness add-checkpoint request: the old size, the RFC 9162
            consistency proof from it to the current size (or --size M, a size with a published
            checkpoint, or the checkpoint in --checkpoint FILE), and the signed checkpoint of the new
            size. It can be posted to a witness unchanged:

              old <n>
              <base64 hash, one per line>

              <signed checkpoint of the new size>

            Check it offline against the old checkpoint you kept (here, one of size 6).

            EXAMPLE
              cairn prove consistency --old 6 > p.txt
              cairn verify consistency --vkey ledger.vkey --old old.checkpoint --proof p.txt
            """)
    )

    @OptionGroup var location: LedgerLocation

    @Option(help: ArgumentHelp("The older tree size.", valueName: "n"))
    var old: UInt64

    @Option(
        help: ArgumentHelp(
            "The newer tree size (default: current); it must have a published checkpoint.", valueName: "m"))
    var size: UInt64?

    @Option(
        help: ArgumentHelp(
            "Prove up to this signed checkpoint of the log (a file, - for stdin) instead of a published size "
                + "(another log's, a badly signed or a forked one: exit 1).",
            valueName: "file"))
    var checkpoint: String?

    @Option(
        name: [.short, .long],
        help: ArgumentHelp(
            "Write the proof to this file: a new file, or a regular file, which is overwritten (others: exit 73).",
            valueName: "file"))
    var output: String?

    @Flag(help: "Print a JSON object (old, size, proof, checkpoint, body).")
    var json = false

    func validate() throws {
        if size != nil && checkpoint != nil { throw ValidationError("--size and --checkpoint cannot be combined") }
    }

    func run() throws {
        try runReportingErrors {
            // A read: never signs, so it works on a read-only copy without the signing key.
            let ledger = try location.open(readOnly: true)
            let held = try checkpoint.map { try readCheckpointFile($0) }
            let proof = try againstHeldCheckpoint(checkpoint) {
                try ledger.read { snapshot in
                    if let held { return try snapshot.consistencyProof(oldSize: old, to: held) }
                    return try snapshot.consistencyProof(oldSize: old, size: size)
                }
            }
            let text = ConsistencyProofRequest(
                oldSize: proof.oldSize, hashes: proof.hashes, checkpoint: proof.checkpoint
            ).serialized
            if json {
                printJSON(
                    .object([
                        "old": .uint(proof.oldSize),
                        "size": .uint(proof.checkpoint.checkpoint.size),
                        "proof": .array(proof.hashes.map { .string($0.base64) }),
                        "checkpoint": .string(proof.checkpoint.serialized),
                        "body": .string(text),
                    ]))
            } else {
                try emit(text, to: output)
            }
        }
    }
}

/// Runs `body`, which proves against the checkpoint in the file `path` when one is given. A
/// well-formed checkpoint the ledger refuses as not its own — another log's, badly signed, or
/// signed by this log's key over another root (a fork) — fails verification: exit status 1, as
/// the root help's table says for an invalid signature or an inconsistency, naming the file. It
/// is not a usage error (64): the option was given right; what the file holds is what fails.
func againstHeldCheckpoint<Value>(_ path: String?, _ body: () throws -> Value) throws -> Value {
    do {
        return try body()
    } catch let error as LedgerError where error.code == .invalidArgument {
        guard let path else { throw error }
        throw CLIError(.verificationFailed, "--checkpoint \(path): \(error.message)")
    }
}

/// A signed checkpoint read from a file (or stdin for "-"), for `--checkpoint`.
func readCheckpointFile(_ path: String) throws -> SignedCheckpoint {
    let bytes = try readInput(path, what: "checkpoint file")
    do {
        return try SignedCheckpoint(parsing: bytes)
    } catch {
        throw CLIError(.dataError, "\(path) is not a signed checkpoint: \(error)")
    }
}
