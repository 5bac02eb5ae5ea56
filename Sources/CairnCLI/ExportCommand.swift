import ArgumentParser
import CairnHTTP
import CairnJSON
import CairnLedger
import CairnObjectStore
import CairnTileExport
import Foundation

struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export the log as static files.",
        subcommands: [ExportTilesCommand.self, ExportInTotoCommand.self, ExportAgentTraceCommand.self]
    )
}

struct ExportTilesCommand: AsyncParsableCommand {
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

            OBJECT STORAGE
            With --to s3://BUCKET/PREFIX instead of DIR, the same files (same bytes, same paths under
            PREFIX) are uploaded to AWS S3 or any S3-compatible store (MinIO, Ceph, R2, …): every tile
            and entry bundle the checkpoint needs first, `checkpoint` last. Each object carries its
            SHA-256 (x-amz-meta-sha256); one already there with the same digest is not uploaded again,
            so a run is idempotent and an interrupted run is completed by running it again. Tiles are
            sent with `Cache-Control: public, max-age=31536000, immutable`, the checkpoint with
            `no-cache` (specs/tiles.md). Credentials: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
            AWS_SESSION_TOKEN. --endpoint (or AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL) selects an
            S3-compatible store, addressed path-style (ENDPOINT/BUCKET/KEY); without it, AWS
            (https://BUCKET.s3.REGION.amazonaws.com). Region: --region, else AWS_REGION, else
            us-east-1. Each request must complete within --timeout seconds (default 60); throttling,
            5xx and connection failures are retried twice. Progress goes to stderr.

            EXAMPLES
              cairn export tiles /srv/www/log
              cairn export tiles /srv/www/log --json
              cairn export tiles --to s3://bucket/log
              cairn export tiles --to s3://tiles/log --endpoint http://127.0.0.1:9000 --json

            EXIT STATUS
              0   the tiles and the checkpoint are published (bundles with an entry over 65,535 bytes
                  excepted: they are reported on stderr and in --json)
              64  usage error: bad arguments, an unusable s3:// location, endpoint or region, no
                  credentials in the environment
              66  no ledger at --ledger
              70  internal error (a bug in cairn: please report it)
              73  DIR or the bucket's PREFIX holds another log's export, or a larger tree
              74  DIR cannot be written, or the object store failed (an HTTP error, with S3's code and
                  message, a refused connection, a timeout); run again to resume
              75  the object store is throttling or unavailable (5xx, SlowDown); run again later
              77  the object store refused the credentials (401, 403)
            """)
    )

    @OptionGroup var location: LedgerLocation

    @Argument(help: ArgumentHelp("The export directory.", valueName: "dir"))
    var directory: String?

    @Option(
        name: .customLong("to"),
        help: ArgumentHelp("Upload to an S3-compatible object store instead of DIR.", valueName: "s3://bucket/prefix"))
    var destination: String?

    @Option(
        help: ArgumentHelp(
            "The S3-compatible store's URL (path-style addressing); default: AWS.", valueName: "url"))
    var endpoint: String?

    @Option(help: ArgumentHelp("The S3 region (default: $AWS_REGION, else us-east-1).", valueName: "region"))
    var region: String?

    @Option(help: ArgumentHelp("Seconds each object store request may take (default 60).", valueName: "s"))
    var timeout: Double?

    @Flag(help: "Check every tile, not only those added since the previous export, and write any that are missing.")
    var rescan = false

    @Flag(help: "Print a JSON object with what was written.")
    var json = false

    func validate() throws {
        guard (directory == nil) != (destination == nil) else {
            throw ValidationError("give either DIR or --to s3://BUCKET/PREFIX (exactly one)")
        }
        if destination == nil && (endpoint != nil || region != nil || timeout != nil) {
            throw ValidationError("--endpoint, --region and --timeout go with --to s3://BUCKET/PREFIX")
        }
        if let timeout, !(timeout > 0 && timeout <= 86_400) {
            throw ValidationError("--timeout: expected seconds in (0, 86400], got \(timeout)")
        }
    }

    func run() async throws {
        if let destination {
            try await runReportingErrors { try await upload(to: destination) }
            return
        }
        guard let directory else { return }
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

extension ExportTilesCommand {
    /// `--to s3://…`: `TileUploader` with the location, endpoint, region and credentials of the options and the
    /// environment.
    func upload(to destination: String) async throws {
        let environment = ProcessInfo.processInfo.environment
        func nonEmpty(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        let target = try S3Location(destination)
        var endpointURL: HTTPURL?
        if let text = endpoint ?? nonEmpty("AWS_ENDPOINT_URL_S3") ?? nonEmpty("AWS_ENDPOINT_URL") {
            do {
                endpointURL = try HTTPURL(text)
            } catch {
                throw CLIError(.usage, "--endpoint: \(error.message)")
            }
        }
        let credentials = try S3Credentials.fromEnvironment(environment)
        var configuration = S3Client.Configuration(
            location: target, endpoint: endpointURL, region: region ?? nonEmpty("AWS_REGION") ?? "us-east-1",
            credentials: credentials)
        if let timeout { configuration.timeout = .milliseconds(Int64((timeout * 1000).rounded(.up))) }
        let client = try S3Client(configuration)
        let ledger = try location.open(readOnly: true)
        var lastReport = ContinuousClock.now
        let summary = try await TileUploader.upload(ledger, to: client, rescan: rescan) { progress in
            let now = ContinuousClock.now
            guard progress.done == progress.total || now - lastReport >= .seconds(1) else { return }
            lastReport = now
            Console.error(
                "\(target): \(progress.done)/\(progress.total) objects, \(progress.uploaded) uploaded "
                    + "(\(progress.bytes) bytes), \(progress.skipped) already there")
        }
        for skipped in summary.unservableBundles {
            Console.error("warning: \(skipped.path) not uploaded: \(skipped.reason)")
        }
        for warning in summary.warnings { Console.error("warning: " + warning) }
        if json {
            var object: JSONObject = [
                "destination": .string(target.description),
                "tree_size": .uint(summary.treeSize),
                "previous_size": summary.previousSize.map { .uint($0) } ?? .null,
                "uploaded": .uint(UInt64(summary.uploaded)),
                "skipped": .uint(UInt64(summary.skipped)),
                "bytes": .uint(summary.bytesUploaded),
                "checkpoint_uploaded": .bool(summary.checkpointUploaded),
                "stale_partials_deleted": .uint(UInt64(summary.stalePartialsDeleted)),
                "seconds": .number((summary.seconds * 1000).rounded() / 1000),
            ]
            object["unservable_entry_bundles"] = .array(
                summary.unservableBundles.map { .object(["path": .string($0.path), "reason": .string($0.reason)]) })
            printJSON(.object(object))
        } else {
            let previous = summary.previousSize.map { " (previous: size \($0))" } ?? ""
            Console.line(
                "published tree size \(summary.treeSize)\(previous) to \(target): \(summary.uploaded) objects "
                    + "uploaded (\(summary.bytesUploaded) bytes), \(summary.skipped) already there, "
                    + "\(summary.stalePartialsDeleted) stale partials deleted, checkpoint "
                    + (summary.checkpointUploaded ? "updated" : "unchanged")
                    + " (\(String(format: "%.2f", summary.seconds)) s)")
        }
    }
}
