import ArgumentParser
import CairnJSON
import CairnLedger
import CairnRecords
import Foundation

struct FsckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fsck",
        abstract: "Check the ledger's integrity end to end.",
        discussion: prose(
            """
            Re-reads every leaf, recomputes every stored tree hash and the root, checks that the
            content index maps every entry's sha256 to its leaf, verifies the signature, origin,
            size and root of every stored checkpoint, checks that the recorded commit times never
            decrease, re-hashes every stored blob and checks that erased blobs are gone, all in one
            consistent snapshot (appends may
            continue meanwhile). Stops at the first inconsistency and names it. Exit status 0 only
            when everything holds; 1 when an inconsistency is found.

            First, before the storage is opened, data.mdb is checked against its LMDB meta pages:
            an empty file, a file that is not an LMDB data file, or one shorter than its newest
            meta page says (an interrupted copy) is reported with the size it must have and the
            size it has (exit 1). Other commands refuse such a ledger with exit status 74.

            The stats aggregates (`cairn stats`, the dashboard) are recomputed from the log and
            compared with the stored ones. --rebuild-aggregates replaces them with that recomputation
            instead (the one fsck operation that writes; it needs the ledger's write lock and may
            run beside a server): for a ledger created or appended to by an older cairn, or with
            --sensitive-paths to change which paths count as sensitive (comma-separated fnmatch
            globs, `*` crossing `/`). The log, its proofs and checkpoints are not touched.

            With --no-blobs the blobs' bytes are not read (their metadata and erasures still are):
            for a copy of data.mdb without the blobs/ directory, such as an auditor may get.

            Progress is shown on stderr when it is a terminal, or always with --progress.
            """)
    )

    @OptionGroup var location: LedgerLocation

    @Flag(help: "Show progress on stderr even when it is not a terminal.")
    var progress = false

    @Flag(help: "Print a JSON object with the counts and root, or the problem.")
    var json = false

    @Flag(help: "Do not read the blobs' bytes (a copy of the ledger without its blobs/ directory).")
    var noBlobs = false

    @Flag(help: "Rebuild the stats aggregates from the log instead of checking the ledger.")
    var rebuildAggregates = false

    @Option(
        help: ArgumentHelp(
            "With --rebuild-aggregates: the globs of sensitive paths, comma-separated (replaces the ledger's).",
            valueName: "globs"))
    var sensitivePaths: String?

    func validate() throws {
        if sensitivePaths != nil && !rebuildAggregates {
            throw ValidationError("--sensitive-paths needs --rebuild-aggregates")
        }
        if let sensitivePaths, globs(sensitivePaths).isEmpty {
            throw ValidationError("--sensitive-paths needs at least one glob")
        }
    }

    private func globs(_ text: String) -> [String] {
        text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    func run() throws {
        if rebuildAggregates {
            try runReportingErrors {
                let ledger = try location.open()
                let report = try ledger.rebuildAggregates(sensitivePaths: sensitivePaths.map(globs))
                if json {
                    printJSON(
                        .object([
                            "ok": true,
                            "tree_size": .uint(report.treeSize),
                            "buckets": .int(report.buckets),
                            "differed": report.differed.map(JSONValue.bool) ?? .null,
                            "sensitive_paths": .array(report.sensitivePaths.map(JSONValue.string)),
                        ]))
                } else {
                    let before: String =
                        switch report.differed {
                        case true?: " (the stored ones differed)"
                        case false?: " (the stored ones were already equal)"
                        case nil: ""
                        }
                    Console.line(
                        "ok: aggregates rebuilt from \(report.treeSize) entries into \(report.buckets) buckets\(before); "
                            + "sensitive paths: " + DisplayText.escape(report.sensitivePaths.joined(separator: ", ")))
                }
            }
            return
        }
        try runReportingErrors {
            let showProgress = progress || Console.stderrIsTerminal
            let terminal = Console.stderrIsTerminal
            let report: FsckReport
            do {
                // Inside: a ledger whose files are damaged may fail to open (`.corrupt`), and that
                // is fsck's finding (exit 1), not an error of fsck's.
                try Ledger.checkDataFile(at: location.directory)
                let ledger = try location.open(readOnly: true)
                report = try ledger.fsck(progressEvery: 100_000, checkBlobBytes: !noBlobs) { checked, total in
                    guard showProgress, total > 0 else { return }
                    let percent = Double(checked) / Double(total) * 100
                    let text = "fsck: \(checked)/\(total) leaves (\(String(format: "%.1f", percent))%)"
                    if terminal {
                        Console.errorInline(text)
                    } else {
                        Console.error(text)
                    }
                }
                if terminal && showProgress { Console.errorInline("") }
            } catch let error as LedgerError where error.code == .corrupt {
                if terminal && showProgress { Console.errorInline("") }
                if json {
                    printJSON(.object(["ok": false, "problem": .string(error.message)]))
                }
                throw CLIError(.verificationFailed, "fsck: " + error.message)
            }
            if json {
                printJSON(
                    .object([
                        "ok": true,
                        "leaves": .uint(report.leaves),
                        "hashes": .uint(report.hashes),
                        "checkpoints": .uint(report.checkpoints),
                        "blobs": .uint(report.blobs),
                        "erased_blobs": .uint(report.erasedBlobs),
                        "unchecked_blobs": .uint(report.uncheckedBlobs),
                        "root_hash": .string(report.rootHash.base64),
                        "storage_format": .int(report.storageFormat),
                        "aggregates_checked": .bool(report.aggregatesChecked),
                    ]))
            } else {
                var blobs =
                    report.blobs + report.erasedBlobs == 0
                    ? "" : ", \(report.blobs) blobs (\(report.erasedBlobs) erased)"
                if report.uncheckedBlobs > 0 { blobs += ", \(report.uncheckedBlobs) blobs not read (--no-blobs)" }
                if !report.aggregatesChecked {
                    blobs += "; stats aggregates not kept: run `cairn fsck --rebuild-aggregates`"
                }
                if report.storageFormat == LedgerLayout.perHashFormatVersion {
                    blobs += "; storage format 1: run `cairn migrate` before appending"
                }
                Console.line(
                    "ok: \(report.leaves) leaves, \(report.hashes) tree hashes and \(report.checkpoints) signed "
                        + "checkpoints verified\(blobs); root \(report.rootHash.base64)")
            }
        }
    }
}
