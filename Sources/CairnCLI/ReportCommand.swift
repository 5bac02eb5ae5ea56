import ArgumentParser
import CairnAudit
import CairnJSON
import CairnLedger
import CairnNote
import CairnRecords
import CairnStorage
import Foundation

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write the compliance report with a signed manifest, or verify one.",
        discussion: prose(
            """
              cairn report [create] --format csv|json|md|html …  write a report and manifest
              cairn report verify REPORT --vkey VKEY …      check them

            See `cairn report create --help`, docs/auditors-guide.md and
            specs/report-manifest.md.
            """),
        subcommands: [ReportCreate.self, ReportVerify.self],
        defaultSubcommand: ReportCreate.self
    )
}

struct ReportCreate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Write the compliance report and its signed manifest.",
        discussion: prose(
            """
            Writes one row per checkpoint whose timestamp is in [--since, --until), in log
            order, from effective records (corrections applied) as of the ledger's current
            size:

              Date | Checkpoint | Requested by | Model | Evidence | Reviewer |
              Approval | Testing | Deployed | Status

            Evidence is how the checkpoint's claim was captured, its x_capture.grade:
            hook, import, trailer, attested or inferred (strongest first), and unknown
            when the record does not say — the grade query, blame and audit show. Status
            is the first of these that applies: "rolled back" (the latest deploy or
            rollback is a rollback), "deployed", then the latest review's decision —
            "rejected", "changes requested", "approved" — and otherwise "in review". The
            cells are defined in specs/report-manifest.md; this cairn writes version 3 of
            its rules (the manifest's first line names the version).

            Formats: csv (RFC 4180, CRLF line ends; a cell starting with = + - @ TAB or CR
            gets a leading ' so spreadsheets do not run it as a formula), json (an array
            of row objects with index and digest, one canonical object per line), md (a
            Markdown table; | and \\ are escaped), html (one self-contained page that opens
            offline: the figures of the insight views — AI share, sensitive paths,
            requesters, models and review, gaps, cost — computed from the log as of the
            report's tree size, then the rows as a table; no script, no request, every
            value escaped). In csv, md and html, control, C1 and bidirectional characters
            from records are written as \\u{1B}-style escapes, so a report cannot hide or
            forge text on a screen; json has the exact values.

            Alongside the report (default report.<format>) it writes a manifest (default
            <report>.manifest): a signed note, signed by the ledger's key, that holds the
            report's SHA-256, length and row count, the query, and the signed checkpoint
            of the tree size the report was computed at. Anyone with the vkey can check it
            with `cairn report verify`, and anyone with a copy of the ledger can recompute
            the report byte for byte. Output files (--output, --manifest): a new path is
            written under a temporary name and renamed when complete; an existing regular
            file is overwritten in place; anything else (a directory, FIFO, device) is
            refused with exit status 73.

            The report is written as the ledger is scanned, so memory use does not grow
            with the number of checkpoints. Creating a report needs the ledger's signing
            key.

            EXAMPLES
              cairn report --format csv --since 2026-10-01 --until 2027-01-01
              cairn report --format md --output q4.md     # also writes q4.md.manifest
              cairn report --format html --since 2026-10-01 --output q4.html
              cairn report --format json --output - --manifest r.manifest | jq length

            EXIT STATUS
              0   written
              64  usage error
              66  no such ledger
              70  internal error (a bug in cairn: please report it)
              73  --output or --manifest names something other than a new or regular file
              74  the ledger cannot be read, the report or the manifest cannot be written, or
                  the summary line cannot be written
              77  the signing key is missing, unreadable or does not match the ledger
              141 standard output is a pipe whose reader has exited (no message)
            """)
    )

    @OptionGroup var location: LedgerLocation

    @Option(help: ArgumentHelp("csv, json, md or html.", valueName: "format"))
    var format: String = "csv"

    @Option(
        help: ArgumentHelp("Checkpoints from this time (inclusive): RFC 3339 UTC or YYYY-MM-DD.", valueName: "time"))
    var since: String?

    @Option(help: ArgumentHelp("Checkpoints before this time (exclusive).", valueName: "time"))
    var until: String?

    @Option(
        name: [.short, .long],
        help: ArgumentHelp(
            "The report file (default report.<format>; - for stdout); a new or regular file, which is overwritten.",
            valueName: "file"))
    var output: String?

    @Option(
        help: ArgumentHelp(
            "The manifest file (default <report>.manifest); a new or regular file, which is overwritten.",
            valueName: "file"))
    var manifest: String?

    @Flag(help: "Print a JSON object describing what was written.")
    var json = false

    func validate() throws {
        guard ReportFormat(rawValue: format) != nil else {
            throw ValidationError("--format must be csv, json, md or html; got \(format)")
        }
        if output == "-" && manifest == nil {
            throw ValidationError("--output - writes the report to stdout; give the manifest a file with --manifest")
        }
        if output == "-" && json {
            throw ValidationError("--json and --output - cannot be combined (both use stdout)")
        }
        if manifest == "-" { throw ValidationError("--manifest must be a file") }
    }

    func run() throws {
        try runReportingErrors {
            let reportFormat = ReportFormat(rawValue: format)!
            let query = try mappingAuditErrors {
                try ReportQuery(
                    format: reportFormat, since: try since.map { try parseTime($0, option: "--since") },
                    until: try until.map { try parseTime($0, option: "--until") })
            }
            let ledger = try location.open()
            let reportPath = output ?? "report.\(reportFormat.fileExtension)"
            let manifestPath = manifest ?? reportPath + ".manifest"

            // Both files are opened before anything is written, so a path that cannot be an
            // output (a FIFO, a device, a directory…) is refused with exit 73 before the other
            // file is touched. New files appear only at commit, complete.
            let reportFile = reportPath == "-" ? nil : try openOutputFile(reportPath)
            let manifestFile: OutputFile
            let signed: SignedReport
            do {
                manifestFile = try openOutputFile(manifestPath)
                do {
                    signed = try ComplianceReport.produce(query, ledger: ledger) { chunk in
                        if let reportFile { try reportFile.writeOrFail(chunk) } else { Console.write(chunk) }
                    }
                    Console.flush()
                    try manifestFile.writeOrFail(Array(signed.note.serialized.utf8))
                    try reportFile?.commitOrFail()
                    try manifestFile.commitOrFail()
                } catch {
                    manifestFile.discard()
                    throw error
                }
            } catch {
                reportFile?.discard()
                throw error
            }

            let summary = signed.summary
            if json {
                printJSON(
                    .object([
                        "report": .string(reportPath), "manifest": .string(manifestPath),
                        "format": .string(reportFormat.rawValue), "rows": .uint(summary.rows),
                        "bytes": .uint(summary.byteCount), "sha256": .string(summary.sha256.hex),
                        "tree_size": .uint(summary.treeSize),
                    ]))
            } else {
                let line =
                    "wrote \(reportPath == "-" ? "the report" : DisplayText.escape(reportPath)) "
                    + "(\(summary.rows) row\(summary.rows == 1 ? "" : "s"), "
                    + "\(summary.byteCount) bytes, sha256 \(summary.sha256.hex)) and \(DisplayText.escape(manifestPath)) "
                    + "(tree size \(summary.treeSize))"
                if reportPath == "-" { Console.error(line) } else { Console.line(line) }
            }
        }
    }
}

struct ReportVerify: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check a report against its signed manifest, and optionally against the ledger.",
        discussion: prose(
            """
            Checks, with only the vkey: that the manifest (default REPORT.manifest) is
            signed by the vkey; that it is a cairn-report-manifest/v3 (or v2 or v1, from
            an earlier cairn, recomputed with its own rules: nine columns, without
            Evidence); that the checkpoint inside it is signed by the vkey for the log the
            vkey names; and that REPORT has exactly the length and SHA-256 the manifest
            states.

            With --ledger DIR (a copy of the ledger, which may have grown since), it also
            checks that the ledger has the checkpoint's root hash at the checkpoint's
            size, and recomputes the report from the ledger as of that size with the
            manifest's query: the bytes must be identical. Records appended later —
            corrections included — do not change a report recomputed as of its size.

            Prints "valid: …" (exit 0), or "invalid: <reason>" on stderr (exit 1), for
            example:
              invalid: the report does not match the manifest: it has 613 bytes …
              invalid: the manifest's signature by example.com/log+1a2b3c4d does
                not verify: the manifest was changed after signing
              invalid: the manifest is not signed by example.com/log+1a2b3c4d …

            EXAMPLES
              cairn report verify report.csv --vkey ledger.vkey
              cairn report verify q4.md --vkey ledger.vkey --ledger ./ledger-copy

            EXIT STATUS
              0   valid
              1   invalid (the reason is on stderr, or in "reason" with --json)
              64  usage error (for example a malformed --vkey)
              66  no such report, manifest, vkey file or ledger, or the ledger is smaller
                  than the manifest's tree size
              70  internal error (a bug in cairn: please report it)
              74  a file or the ledger cannot be read, or the result cannot be written
              141 standard output is a pipe whose reader has exited (no message)
            """)
    )

    @OptionGroup var options: VerifyOptions

    @Argument(help: ArgumentHelp("The report file.", valueName: "report"))
    var report: String

    @Option(help: ArgumentHelp("The manifest (default REPORT.manifest).", valueName: "file"))
    var manifest: String?

    @Option(help: ArgumentHelp("A copy of the ledger to recompute the report from.", valueName: "dir"))
    var ledger: String?

    func run() throws {
        try runReportingErrors {
            let key = try options.verifierKey()
            let manifestPath = manifest ?? report + ".manifest"
            let manifestBytes = try readInput(manifestPath, what: "manifest")
            // Missing, a directory, unreadable: say so before the report is streamed.
            _ = try InputFile.open(report, what: "report")
            let source = try mappingAuditErrors { try ReportFile(path: report) }
            let opened: Ledger? = try ledger.map { directory in
                var openOptions = Ledger.OpenOptions()
                openOptions.readOnly = true
                return try LedgerLocation.open(directory, options: openOptions)
            }
            let verification: ReportVerification
            do {
                verification = try mappingAuditErrors {
                    try ReportVerifier.verify(report: source, manifest: manifestBytes, key: key, ledger: opened)
                }
            } catch let failure as ReportVerificationError {
                if options.json {
                    printJSON(failure.json)
                } else {
                    // The reason may quote the manifest (signer names, lines), which anyone can write.
                    Console.error("invalid: " + DisplayText.escape(failure.message))
                }
                throw ExitCode(ExitStatus.verificationFailed.rawValue)
            }
            let parsed = verification.manifest
            let checkpoint = parsed.checkpoint.checkpoint
            if options.json {
                printJSON(verification.json)
            } else {
                let window =
                    "since \(parsed.query.since.map(Timestamp.format) ?? "the start"), "
                    + "until \(parsed.query.until.map(Timestamp.format) ?? "the end")"
                Console.line(
                    "valid: \(DisplayText.escape(report)) is the \(parsed.query.format.rawValue) report of "
                        + "\(DisplayText.escape(checkpoint.origin)) at tree size "
                        + "\(checkpoint.size) (\(parsed.rows) row\(parsed.rows == 1 ? "" : "s"), \(window))"
                        + (verification.recomputed ? "; recomputed from the ledger: identical" : ""))
            }
        }
    }
}
