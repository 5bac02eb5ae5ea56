import ArgumentParser
import CairnJSON
import CairnLedger
import CairnTileExport

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export the log as static files.",
        subcommands: [ExportTilesCommand.self, ExportInTotoCommand.self, ExportAgentTraceCommand.self]
    )
}

struct ExportTilesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tiles",
        abstract: "Write the log as C2SP tlog-tiles static files, for any web server, CDN or object store.",
        discussion: prose(
            """
            Writes, under DIR (created if missing):

              checkpoint                    the current signed checkpoint
              tile/<L>/<N>[.p/<W>]          hash tiles: 256 × 32-byte tree hashes of Merkle level 8·L
              tile/entries/<N>[.p/<W>]      entry bundles: (uint16 big-endian length, entry bytes) × up to 256

            exactly as https://c2sp.org/tlog-tiles names them (N in 3-digit groups: 1234067 is
            x001/x234/067), so serving DIR as the log's URL prefix gives the world the same read API as
            `cairn serve`: anyone can check the checkpoint, recompute any root and any inclusion or
            consistency proof, and fetch every entry, without trusting the server.

            Incremental: the checkpoint left in DIR by the previous export says what exists, and only
            tiles added since are written. An existing file is never rewritten (full tiles never change;
            a partial tile's path includes its width). Files appear atomically (temporary file, fsync,
            rename) and `checkpoint` is replaced last, so a server publishing DIR meanwhile never
            serves a checkpoint whose tiles are missing. Partial tiles of tiles that have since become
            full are deleted. Nothing is written outside DIR, and symbolic links inside it are refused.
            DIR must be empty or hold an earlier export of this ledger.

            Bundles need entries of at most 65,535 bytes (the format's uint16 length). A bundle holding a
            larger entry is not written; it is reported on stderr and in --json, and the entry stays
            readable with `cairn get`. Hash tiles are always complete, so proofs are unaffected.

            Publishing DIR (nginx, S3, cache headers): docs/publishing-tiles.md.

            EXAMPLES
              cairn export tiles /srv/www/log
              cairn export tiles /srv/www/log --json
              aws s3 sync /srv/www/log s3://bucket/log   # see docs/publishing-tiles.md for headers
            """)
    )

    @OptionGroup var location: LedgerLocation

    @Argument(help: ArgumentHelp("The export directory.", valueName: "dir"))
    var directory: String

    @Flag(help: "Check every tile, not only those added since the previous export, and write any that are missing.")
    var rescan = false

    @Flag(help: "Print a JSON object with what was written.")
    var json = false

    func run() throws {
        try runReportingErrors {
            let ledger = try location.open(readOnly: true)
            var options = TileExportOptions()
            options.rescan = rescan
            let summary = try TileExporter.export(ledger, to: directory, options: options)
            for skipped in summary.unservableBundles {
                Console.error("warning: \(skipped.path) not written: \(skipped.reason)")
            }
            if json {
                var object: JSONObject = [
                    "directory": .string(directory),
                    "tree_size": .uint(summary.treeSize),
                    "previous_size": summary.previousSize.map { .uint($0) } ?? .null,
                    "tiles_written": .uint(UInt64(summary.tilesWritten)),
                    "partial_tiles_written": .uint(UInt64(summary.partialTilesWritten)),
                    "tiles_skipped": .uint(UInt64(summary.tilesSkipped)),
                    "entry_bundles_written": .uint(UInt64(summary.bundlesWritten)),
                    "partial_entry_bundles_written": .uint(UInt64(summary.partialBundlesWritten)),
                    "entry_bundles_skipped": .uint(UInt64(summary.bundlesSkipped)),
                    "stale_partials_removed": .uint(UInt64(summary.stalePartialsRemoved)),
                    "checkpoint_written": .bool(summary.checkpointWritten),
                    "files_written": .uint(UInt64(summary.filesWritten)),
                    "bytes_written": .uint(summary.bytesWritten),
                    "seconds": .number((summary.seconds * 1000).rounded() / 1000),
                ]
                object["unservable_entry_bundles"] = .array(
                    summary.unservableBundles.map { .object(["path": .string($0.path), "reason": .string($0.reason)]) })
                printJSON(.object(object))
            } else {
                let previous = summary.previousSize.map { " (previous export: size \($0))" } ?? ""
                Console.line(
                    "exported tree size \(summary.treeSize)\(previous) to \(directory): "
                        + "\(summary.tilesWritten + summary.partialTilesWritten) hash tiles and "
                        + "\(summary.bundlesWritten + summary.partialBundlesWritten) entry bundles written, "
                        + "\(summary.tilesSkipped + summary.bundlesSkipped) already present, "
                        + "\(summary.stalePartialsRemoved) stale partials removed, checkpoint "
                        + (summary.checkpointWritten ? "updated" : "unchanged")
                        + " (\(String(format: "%.2f", summary.seconds)) s)")
            }
        }
    }
}
