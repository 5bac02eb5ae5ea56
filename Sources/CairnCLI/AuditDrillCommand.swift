import ArgumentParser
import CairnAudit
import CairnJSON
import CairnLedger
import CairnNote
import CairnProofs
import CairnRecords
import CairnStorage
import Foundation

struct AuditDrill: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drill",
        abstract: "Walk random recent commits through the trail and report the gaps (a fire drill).",
        discussion: prose(
            """
            Tests the trail by using it, as an incident responder or an auditor would. Picks
            --count random commits among HEAD's recent ones (the last 100 by default; --last N,
            --since TIME; merge commits are skipped) and, for each one, looks for:

              checkpoint  a checkpoint naming the commit, directly or through rewrite
                          records; none is a no_provenance gap, shown with the commit's
                          AI markers (Co-authored-by: an assistant, Assisted-by:, …) and
                          Cairn-Checkpoint: trailers, and the other steps do not apply

            and then, for each checkpoint naming it (effective records, corrections applied):

              review      an approving review (gaps: unreviewed, not_approved)
              test        a passed test (gaps: untested, tests_failed)
              deploy      a deploy; rollbacks are shown (gap: undeployed)
              proof       inclusion proofs of the checkpoint and of every review, test,
                          deploy, rollback and rewrite found, against the latest signed
                          checkpoint, verified as `cairn verify inclusion` verifies them,
                          with the ledger's verifier key or --vkey (gap: proof_failed)
              witness     cosignature lines on the latest checkpoint, or on a later one
                          of a size that covers the entry; counted, not verified: check
                          them with `cairn verify checkpoint --policy` (gap: unwitnessed)

            Each step is ok, a gap, or not applicable, with a one-line reason. --skip STEP
            (repeatable, or comma-separated) leaves out steps a team does not record — deploy
            for a library, witness for a log without witnesses: they are shown as not
            applicable and never count as gaps. The choice of commits is random; the seed is
            printed, and --seed N repeats a drill exactly on the same history and ledger.

            The ledger is opened read-only and never changed. --save also stores the report,
            in its JSON form, as drills/<UTC time>.json in the ledger directory (for example
            drills/20261207T160622.123Z.json; written to a temporary file, synced and renamed):
            the dashboard shows the newest one. The JSON form (--json, and saved drills) is
            specified in specs/drill.md: format, at, tree_size, commits_drilled, gaps,
            gaps_by_kind, and each commit's steps. Text from commits and records is shown
            escaped (control and bidirectional characters as \\u{1B}).

            EXAMPLES
              cairn audit drill --skip test,deploy,witness
              cairn audit drill --repo ~/src/app --seed 42 --skip test,deploy,witness --save
              cairn audit drill --last 20 --json > drill.json; jq .gaps_by_kind drill.json

            EXIT STATUS
              0   no gaps (or no commit to drill)
              1   at least one gap
              64  usage error (for example an unknown --skip step, a malformed --since)
              66  no such ledger or repository, or git is not installed
              70  internal error (a bug in cairn: please report it)
              73  --save cannot create the drill file (a read-only ledger directory, say)
              74  the ledger cannot be read, or the output or the drill file cannot be written
              141 standard output is a pipe whose reader has exited (no message)
            """)
    )

    @OptionGroup var location: LedgerLocation

    @Option(
        help: ArgumentHelp(
            "The git repository (a work tree or a bare repository).",
            valueName: "path"))
    var repo: String = "."

    @Option(help: ArgumentHelp("How many commits to drill.", valueName: "n"))
    var count: Int = 5

    @Option(
        help: ArgumentHelp(
            "Choose among HEAD's N newest non-merge commits (default: 100, or no limit with --since).",
            valueName: "n"))
    var last: Int?

    @Option(
        help: ArgumentHelp(
            "Choose among commits committed at or after this time (RFC 3339 UTC time, or YYYY-MM-DD).",
            valueName: "time"))
    var since: String?

    @Option(help: ArgumentHelp("Seed the random choice, to repeat a drill (0 to 2^53 - 1).", valueName: "n"))
    var seed: UInt64?

    @Option(
        help: ArgumentHelp(
            "Leave out a step: review, test, deploy, proof or witness (repeatable, or comma-separated).",
            valueName: "step"))
    var skip: [String] = []

    @Option(
        help: ArgumentHelp(
            "Verify proofs with this verifier key (the vkey text, or a file holding it) instead of the ledger's.",
            valueName: "vkey"))
    var vkey: String?

    @Flag(help: "Print the report as one JSON object (specs/drill.md).")
    var json = false

    @Flag(help: "Also store the report as drills/<UTC time>.json in the ledger directory.")
    var save = false

    func validate() throws {
        guard count >= 1 else { throw ValidationError("--count must be at least 1, got \(count)") }
        if let last, last < 1 { throw ValidationError("--last must be at least 1, got \(last)") }
        if let seed, seed > FireDrill.maxSeed {
            throw ValidationError("--seed must be at most \(FireDrill.maxSeed) (2^53 - 1), got \(seed)")
        }
    }

    /// The steps named by --skip.
    func skippedSteps() throws -> Set<DrillStep> {
        var steps: Set<DrillStep> = []
        for value in skip {
            for name in value.split(separator: ",", omittingEmptySubsequences: false) {
                let name = name.trimmingCharacters(in: .whitespaces)
                if name == DrillStep.checkpoint.rawValue {
                    throw CLIError(
                        .usage,
                        "--skip checkpoint: the checkpoint step cannot be skipped (every other "
                            + "step starts from it)")
                }
                guard let step = DrillStep(rawValue: name), DrillStep.skippable.contains(step) else {
                    throw CLIError(
                        .usage,
                        "--skip: unknown step \(name.debugDescription) (expected "
                            + DrillStep.skippable.map(\.rawValue).joined(separator: ", ") + ")")
                }
                steps.insert(step)
            }
        }
        return steps
    }

    /// The --vkey key: the vkey text, or the file holding it.
    func verifierKey() throws -> NoteVerifierKey? {
        guard let vkey else { return nil }
        if let key = try? NoteVerifierKey(parsing: vkey) { return key }
        guard FileManager.default.fileExists(atPath: vkey) else {
            if VerifyOptions.namesFile(vkey) {
                throw CLIError(.notFound, "--vkey \(vkey): no such file (and not a verifier key name+id+key either)")
            }
            do {
                _ = try NoteVerifierKey(parsing: vkey)
            } catch {
                throw CLIError(.usage, "--vkey is neither a verifier key nor an existing file: \(error.message)")
            }
            throw CLIError(.usage, "--vkey: unusable verifier key")
        }
        let text = String(decoding: try readInput(vkey, what: "vkey file"), as: UTF8.self)
        do {
            return try NoteVerifierKey(parsing: text.trimmingCharacters(in: .whitespacesAndNewlines))
        } catch {
            throw CLIError(.usage, "--vkey file \(vkey): \(error.message)")
        }
    }

    /// Checks an inclusion proof as `cairn verify inclusion` does: the proof file's text, parsed back, verified
    /// with only the key and the exact entry bytes.
    static let tlogProofCheck: FireDrill.ProofCheck = { proof, entry, key in
        let text = TlogProof(index: proof.index, hashes: proof.hashes, checkpoint: proof.checkpoint).serialized
        let parsed = try TlogProof(parsing: Array(text.utf8))
        guard parsed.index == proof.index else {
            throw ProofError(.malformed, "the proof file names index \(parsed.index), not \(proof.index)")
        }
        _ = try parsed.verify(entry: entry, logKey: key)
    }

    func run() throws {
        try runReportingErrors {
            let skipped = try skippedSteps()
            let sinceMS = try since.map { try parseTime($0, option: "--since") }
            let key = try verifierKey()
            let ledger = try location.open(readOnly: true)
            let drill = FireDrill(
                count: count, last: last, since: sinceMS, seed: seed, skip: skipped, verifierKey: key,
                checkProof: Self.tlogProofCheck)
            let now = Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))
            // Absolute, so that a saved report says which repository it drilled.
            let path = URL(fileURLWithPath: repo).standardizedFileURL.path
            let report = try mappingAuditErrors {
                try drill.run(repository: try GitRepository(path: path), ledger: ledger, now: now)
            }
            let saved = try save ? Self.save(report, ledgerDirectory: location.directory) : nil
            if json {
                printJSON(report.json)
                if let saved { Console.error("saved: " + DisplayText.escape(saved)) }
            } else {
                printText(report, saved: saved)
            }
            if report.gapCount > 0 { throw ExitCode(ExitStatus.verificationFailed.rawValue) }
        }
    }

    /// Stores `report` as drills/<UTC time>.json in the ledger directory (`saveReport`); returns the path.
    static func save(_ report: DrillReport, ledgerDirectory: String) throws -> String {
        try saveReport(
            report.json, at: report.at, in: FireDrill.savedDirectory, ledgerDirectory: ledgerDirectory, what: "drill")
    }

    private func printText(_ report: DrillReport, saved: String?) {
        let selection = report.selection
        var scope: [String] = []
        if let last = selection.last { scope.append("the last \(last) non-merge commits") }
        if let since = selection.since { scope.append("committed since \(Timestamp.format(since))") }
        if scope.isEmpty { scope.append("all non-merge commits") }
        let head =
            report.head.map { commit in
                "HEAD " + (report.branch.map { DisplayText.escape($0) + " at " } ?? "") + String(commit.prefix(12))
            } ?? "HEAD (no commits)"
        Console.line(
            "drill: \(report.commits.count) of \(selection.candidates) candidate commits "
                + "(\(scope.joined(separator: ", ")) "
                + "of \(head)), seed \(selection.seed); ledger \(DisplayText.escape(report.origin)) at tree size "
                + "\(report.treeSize)")
        for commit in report.commits {
            Console.line("")
            let subject =
                commit.commit.subject.count > 60 ? commit.commit.subject.prefix(59) + "…" : commit.commit.subject
            Console.line(
                [
                    String(commit.commit.id.prefix(12)), DisplayText.escape(commit.commit.authorDate),
                    DisplayText.escape(commit.commit.author), DisplayText.escape(String(subject)),
                ].joined(separator: "  "))
            Console.line("  " + line(commit.checkpointStep))
            for checkpoint in commit.checkpoints {
                let name = checkpoint.id.map { "checkpoint " + DisplayText.escape($0) } ?? checkpoint.digest.description
                let via =
                    checkpoint.rewrites.isEmpty
                    ? ""
                    : ", through rewrite entr\(checkpoint.rewrites.count == 1 ? "y" : "ies") "
                        + checkpoint.rewrites.map(String.init).joined(separator: ", ")
                Console.line("  entry \(checkpoint.index), \(name)\(via):")
                for step in checkpoint.steps { Console.line("    " + line(step)) }
            }
        }
        if !report.commits.isEmpty { Console.line("") }
        if let saved { Console.line("saved: " + DisplayText.escape(saved)) }
        let drilled = "\(report.commits.count) commit\(report.commits.count == 1 ? "" : "s") drilled"
        let gaps = report.gapCount
        if report.commits.isEmpty {
            Console.line("ok: no commit to drill (no non-merge commit of HEAD in the range)")
        } else if gaps == 0 {
            Console.line("ok: no gaps in \(drilled) (tree size \(report.treeSize))")
        } else {
            let byKind = report.gapsByKind
            let kinds = DrillGap.allCases.compactMap { kind in
                (byKind[kind] ?? 0) > 0 ? "\(kind.rawValue) \(byKind[kind] ?? 0)" : nil
            }
            Console.line(
                "gaps: \(gaps) in \(drilled) (\(kinds.joined(separator: ", "))); tree size \(report.treeSize)")
        }
    }

    /// One step as a line: the step, ok/GAP/n/a, the reason (escaped again: it quotes records).
    private func line(_ step: DrillStepResult) -> String {
        let status =
            switch step.status {
            case .ok: "ok "
            case .gap: "GAP"
            case .notApplicable: "n/a"
            }
        return step.step.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0) + "  " + status + "  "
            + DisplayText.escape(step.reason)
    }
}
