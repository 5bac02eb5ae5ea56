import ArgumentParser
import CairnJSON
import CairnLedger

struct MigrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Convert a ledger to the current storage format (format 2: hash tiles).",
        discussion: prose(
            """
            Ledgers written before storage format 2 keep one LMDB key per tree hash (format 1).
            This cairn reads, proves and checks them as they are, but appends only to format 2,
            which keeps the tree's hashes as tiles of 256 (specs/storage.md, "Formats and
            migration"). `cairn migrate` converts a ledger once, in place:

              cairn migrate --ledger ./ledger

            Only the table of tree hashes changes. Leaves, checkpoints, indexes and blobs are
            untouched, so every checkpoint and proof issued before stays valid, and the served
            tiles are byte-identical. The hashes are moved in durable steps of about a million
            leaves; each step records how far it got, so an interrupted migration (Ctrl-C, a crash,
            a full disk) leaves a format 1 ledger that works as before, and running the command
            again goes on from there. The last step checks the recomputed root against the
            published checkpoint before it switches the format.

            Appends wait while a step runs; stop `cairn serve` first on a large ledger. A ledger
            already in format 2 is left alone (exit 0). Run `cairn fsck` afterwards to check
            every tile against the leaves.

            It then completes the request-id index (specs/storage.md, "Query indexes") of a
            provenance ledger written before that index existed, or appended to by an older cairn:
            the request ids of the checkpoints it does not cover yet are indexed, in durable steps,
            so that `cairn query --request-id` no longer scans those entries. Queries are right
            either way; this only makes them fast. A ledger the index covers is left alone.

            Progress is shown on stderr when it is a terminal, or always with --progress.
            """)
    )

    @OptionGroup var location: LedgerLocation

    @Flag(help: "Show progress on stderr even when it is not a terminal.")
    var progress = false

    @Flag(help: "Print a JSON object with the tree size and what was done.")
    var json = false

    @Option(help: ArgumentHelp("Leaves moved per durable step (default 1048576).", valueName: "n"))
    var chunkLeaves: UInt64 = Ledger.migrationChunkLeaves

    func validate() throws {
        guard chunkLeaves > 0 else { throw ValidationError("--chunk-leaves must be at least 1") }
    }

    func run() throws {
        try runReportingErrors {
            let ledger = try location.open()
            let showProgress = progress || Console.stderrIsTerminal
            let terminal = Console.stderrIsTerminal
            let report = try ledger.migrate(chunkLeaves: chunkLeaves) { done, total in
                guard showProgress else { return }
                let text = "migrate: \(done)/\(total) leaves in hash tiles"
                if terminal { Console.errorInline(text) } else { Console.error(text) }
            }
            if terminal && showProgress && !report.alreadyMigrated { Console.errorInline("") }
            let requests = try ledger.indexRequestIDs { done, total in
                guard showProgress else { return }
                let text = "migrate: \(done)/\(total) entries in the request-id index"
                if terminal { Console.errorInline(text) } else { Console.error(text) }
            }
            if terminal && showProgress && !requests.alreadyComplete { Console.errorInline("") }
            if json {
                printJSON(
                    .object([
                        "storage_format": .int(LedgerLayout.formatVersion),
                        "tree_size": .uint(report.treeSize),
                        "already_migrated": .bool(report.alreadyMigrated),
                        "resumed_from": .uint(report.resumedFrom),
                        "request_index": .object([
                            "covered_from": .uint(requests.coveredFrom), "keys_written": .uint(requests.keysWritten),
                        ]),
                    ]))
                return
            }
            if report.alreadyMigrated {
                Console.line("already in storage format \(LedgerLayout.formatVersion): nothing to do")
            } else {
                let resumed = report.resumedFrom > 0 ? " (resumed at \(report.resumedFrom))" : ""
                Console.line(
                    "migrated \(report.treeSize) leaves to storage format \(LedgerLayout.formatVersion)\(resumed); "
                        + "run `cairn fsck` to check it")
            }
            if !requests.alreadyComplete {
                Console.line(
                    "indexed the request ids of entries \(requests.coveredFrom)…\(requests.treeSize - 1) "
                        + "(\(requests.keysWritten) key\(requests.keysWritten == 1 ? "" : "s"))")
            }
        }
    }
}
