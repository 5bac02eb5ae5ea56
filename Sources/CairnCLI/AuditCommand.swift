import ArgumentParser
import CairnAudit
import CairnInsight
import CairnJSON
import CairnLedger
import CairnLogDirectory
import CairnRecords
import Foundation

struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Audit a repository against the ledger, and the ledger against the audit checklist.",
        discussion: prose(
            """
              cairn audit missing       commits of a git repository with no checkpoint
              cairn audit completeness  reviews, approvals, tests, model versions and
                                        correction reasons, against a policy
              cairn audit undeclared    commits that look AI-made but declare no AI
              cairn audit drill         a fire drill: random recent commits walked through
                                        the whole trail (checkpoint, review, test, deploy,
                                        proof, witnesses), reporting every gap

            Each exits 0 when nothing is wrong and 1 when something is: use them as CI
            gates. See docs/auditors-guide.md, specs/audit-policy.md and specs/drill.md.
            """),
        subcommands: [AuditMissing.self, AuditCompleteness.self, AuditUndeclared.self, AuditDrill.self]
    )
}

extension CLIError {
    /// Maps an audit error onto an exit status.
    init(audit error: AuditError) {
        let status: ExitStatus =
            switch error.code {
            case .gitUnavailable, .notARepository: .notFound
            case .invalidRange, .invalidArgument: .usage
            case .gitFailed: .software
            case .invalidPolicy: .dataError
            case .io: .ioError
            }
        self.init(status, error.message)
    }
}

/// Runs `body`, turning an `AuditError` into a `CLIError` with the right exit status.
func mappingAuditErrors<R>(_ body: () throws -> R) throws -> R {
    do {
        return try body()
    } catch let error as AuditError {
        throw CLIError(audit: error)
    }
}

struct AuditMissing: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "missing",
        abstract: "List commits of a git repository that no checkpoint covers.",
        discussion: prose(
            """
            Reads the commits of RANGE (default: all of HEAD's history) with the git
            program and looks each one up in the ledger. A checkpoint covers a commit when
            one of its outputs names the commit, or names a commit that rewrite records
            (rebase, squash, amend, cherry-pick) map to it, in one or more steps.

            By default, lists every commit that no checkpoint covers: in a repository
            where every change must be recorded, each listed commit is a gap. A listed
            commit that carries Cairn-Checkpoint: trailers also shows what is wrong with
            them.

            With --ai-only, examines only the commits whose message carries at least one
            Cairn-Checkpoint: trailer (those that declare AI involvement), and lists those
            with a trailer that does not resolve to a checkpoint covering the commit:
              unknown_record    the value is no checkpoint's id and no entry's address
              not_a_checkpoint  the value names an entry of another type
              not_covering      the value names a checkpoint whose outputs (and
                                their rewrites) do not include this commit
            Commits without the trailer are not examined in this mode. A trailer value is
            a checkpoint id or sha256:<64 hex> content address, never a leaf index.

            Output: a table for people (commit, date, author, subject, problem) and a
            summary line; --json prints one object with "missing": [{commit, date, author,
            subject, trailers, problems: [{kind, explanation, …}]}]. Problem kinds:
            no_checkpoint and the three above.

            EXAMPLES
              cairn audit missing --repo .
              cairn audit missing --repo ~/src/app --range origin/main..HEAD --no-merges
              cairn audit missing --repo . --range v1.4.0..v1.5.0 --ai-only --json
              cairn audit missing --repo . --no-merges --save

            With --logs DIR, every log of a log directory (`cairn logs`: the shards of a log over
            time) is searched: a commit is covered when any shard covers it, a trailer is right
            when it names a covering checkpoint in some shard, and the ledger size shown is the
            sum of the shards'.

            EXIT STATUS
              0   nothing listed
              1   at least one commit listed
              64  usage error (for example a range git does not know)
              66  no such ledger or repository, or git is not installed
              73  --save cannot create the file
              70  internal error (a bug in cairn: please report it)
              74  the ledger cannot be read, or the output cannot be written
              141 standard output is a pipe whose reader has exited (no message)
            """)
    )

    @OptionGroup var location: LedgerLocation

    @Option(help: ArgumentHelp("The git repository (a work tree or a bare repository).", valueName: "path"))
    var repo: String

    @Option(help: ArgumentHelp("A git revision range, e.g. A..B (default: all of HEAD's history).", valueName: "A..B"))
    var range: String?

    @Flag(help: "Examine only commits with a Cairn-Checkpoint: trailer, listing those whose trailer is wrong.")
    var aiOnly = false

    @Flag(help: "Skip merge commits.")
    var noMerges = false

    @Flag(help: "Print one JSON object.")
    var json = false

    @Flag(help: "Also keep the result in the ledger directory (audits/missing/), for the stats' gaps view.")
    var save = false

    @Option(
        help: ArgumentHelp(
            "Search every log of this log directory (`cairn logs`): a commit any shard covers is not missing.",
            valueName: "dir"))
    var logs: String?

    func validate() throws {
        guard logs == nil || !save else {
            throw ValidationError(
                "--save keeps the result in one ledger's directory: it cannot be combined with --logs")
        }
    }

    func run() throws {
        try runReportingErrors {
            let ledgers = try openLedgers(logs: logs, location: location)
            let ledger = ledgers[0]
            let audit = MissingCheckpointAudit(range: range, aiOnly: aiOnly, includeMerges: !noMerges)
            let result = try mappingAuditErrors {
                try audit.run(repository: try GitRepository(path: repo), ledgers: ledgers)
            }
            if save {
                let at = Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))
                var saved = audit.json(result).objectValue ?? [:]
                saved["format"] = "cairn-audit-missing/v1"
                saved["at"] = .string(Timestamp.format(at))
                saved["repo"] = .string(URL(fileURLWithPath: repo).standardizedFileURL.path)
                let path = try saveReport(
                    .object(saved), at: at, in: SavedReports.missingAuditDirectory,
                    ledgerDirectory: ledger.directory, what: "audit")
                if !json { Console.error("saved: " + DisplayText.escape(path)) }
            }
            if json {
                printJSON(audit.json(result))
            } else {
                printTable(result)
            }
            if !result.listed.isEmpty { throw ExitCode(ExitStatus.verificationFailed.rawValue) }
        }
    }

    private func printTable(_ result: MissingCheckpointResult) {
        let scope = DisplayText.escape(range ?? "HEAD")
        if !result.listed.isEmpty {
            var rows = [["COMMIT", "DATE", "AUTHOR", "SUBJECT", "PROBLEM"]]
            for item in result.listed {
                let subject =
                    item.commit.subject.count > 48 ? item.commit.subject.prefix(47) + "…" : item.commit.subject
                for (n, problem) in item.problems.enumerated() {
                    rows.append(
                        n == 0
                            ? [
                                String(item.commit.id.prefix(12)), DisplayText.escape(item.commit.authorDate),
                                DisplayText.escape(item.commit.author), DisplayText.escape(String(subject)),
                                DisplayText.escape(problem.explanation),
                            ]
                            : ["", "", "", "", DisplayText.escape(problem.explanation)])
                }
            }
            printColumns(rows)
        }
        let examined = aiOnly ? result.commitsWithTrailers : result.commitsExamined
        let size = "ledger size \(result.treeSize)"
        if result.listed.isEmpty {
            Console.line(
                aiOnly
                    ? "ok: every Cairn-Checkpoint trailer in \(scope) names a checkpoint that covers its commit "
                        + "(\(examined) commit\(examined == 1 ? "" : "s") with trailers, \(size))"
                    : "ok: no commit in \(scope) lacks a checkpoint (\(examined) examined, \(size))")
        } else {
            Console.line(
                aiOnly
                    ? "missing: \(result.listed.count) of \(examined) commits with a Cairn-Checkpoint trailer in \(scope) "
                        + "have a wrong trailer (\(size))"
                    : "missing: \(result.listed.count) of \(examined) commits in \(scope) have no checkpoint (\(size))")
        }
    }
}

struct AuditCompleteness: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "completeness",
        abstract: "Check the ledger against the audit checklist and a tolerance policy.",
        discussion: prose(
            """
            Runs the audit checklist over effective records (corrections applied) as of
            one tree size, and lists every finding with its kind, entry index, content
            address and a one-line explanation:

              unreviewed_checkpoint    a checkpoint that no review names
              approval_after_deploy    a deploy before the checkpoint's first
                                       approval, or of one never approved
              deploy_without_tests     a deploy with no passed test before it
              missing_model_version    a model with a release_date but no version
              short_correction_reason  a correction reason below the minimum
              self_review              a review by the person who requested the change
              dated_before_subject     a review, test, deploy or rollback dated before
                                       its checkpoint
              dated_after_append       an entry dated further after the time the
                                       ledger appended it than the clock skew allows
              weak_evidence_on_sensitive_path
                                       a checkpoint changing a sensitive path with an
                                       evidence grade below the policy's minimum

            The policy (--policy FILE, format in specs/audit-policy.md) says how many
            findings of each kind are tolerated, the minimum reason length, which deploy
            environments are checked, how far producers' clocks may run ahead of the
            ledger's (--max-clock-skew overrides it), and which paths are sensitive and
            the weakest evidence grade (hook > import > trailer > attested > inferred >
            unknown) accepted for them. Without --policy: zero tolerance for every kind,
            reasons of at least 10 characters, every environment, 300 seconds of clock
            skew, no sensitive path (weak_evidence_on_sensitive_path is not checked and
            not listed in the summary). Entries appended by a cairn that did not record
            commit times have no append time and are not checked for dated_after_append
            (the summary counts them).

            --since/--until (RFC 3339 UTC time, or YYYY-MM-DD for midnight UTC; --since
            inclusive, --until exclusive) choose checkpoints by their timestamp and
            corrections by their "at"; --size N audits the ledger as it stood at tree size
            N, so the result can be reproduced later.

            EXAMPLES
              cairn audit completeness
              cairn audit completeness --policy audit-policy.json --since 2026-10-01
              cairn audit completeness --json | jq '.findings[].explanation'

            EXIT STATUS
              0   no kind of finding exceeds the policy (all findings are still listed)
              1   at least one kind exceeds the policy
              64  usage error
              65  the policy file is malformed
              66  no such ledger, policy file or tree size
              70  internal error (a bug in cairn: please report it)
              74  the ledger or the policy file cannot be read, or the output cannot be written
              141 standard output is a pipe whose reader has exited (no message)
            """)
    )

    @OptionGroup var location: LedgerLocation

    @Option(help: ArgumentHelp("The audit policy (JSON, specs/audit-policy.md).", valueName: "file"))
    var policy: String?

    @Option(help: ArgumentHelp("Checkpoints from this time (inclusive).", valueName: "time")) var since: String?
    @Option(help: ArgumentHelp("Checkpoints before this time (exclusive).", valueName: "time")) var until: String?
    @Option(help: ArgumentHelp("Audit the ledger as of this tree size.", valueName: "n")) var size: UInt64?
    @Option(
        help: ArgumentHelp(
            "Seconds an entry may be dated after its append time (default: the policy's, else 300).",
            valueName: "seconds"))
    var maxClockSkew: UInt64?

    @Flag(help: "Print one JSON object with every finding and the per-kind summary.")
    var json = false

    func run() throws {
        try runReportingErrors {
            var policy = try mappingAuditErrors {
                guard let path = self.policy else { return AuditPolicy.strict }
                return try AuditPolicy(json: try readInput(path, what: "policy file"), source: path)
            }
            if let maxClockSkew { policy.maxClockSkewSeconds = Int(clamping: maxClockSkew) }
            let sinceMS = try since.map { try parseTime($0, option: "--since") }
            let untilMS = try until.map { try parseTime($0, option: "--until") }
            if let sinceMS, let untilMS, sinceMS >= untilMS {
                throw CLIError(.usage, "--since must be before --until")
            }
            let ledger = try location.open(readOnly: true)
            let treeSize = try size ?? ledger.read { $0.treeSize }
            let audit = CompletenessAudit(policy: policy, since: sinceMS, until: untilMS, asOf: treeSize)
            // Findings are printed as they are found, so memory does not grow with their number.
            let summary: CompletenessSummary
            if json {
                Console.write("{\"tree_size\":\(treeSize),\"findings\":[")
                var first = true
                summary = try audit.run(on: ledger) { finding in
                    Console.write((first ? "" : ",") + DisplayText.escapeJSON(JSONWriter.compact(finding.json)))
                    first = false
                }
                Console.line("]," + JSONWriter.compact(summary.json).dropFirst())
            } else {
                let width = max(5, String(treeSize).count)
                var first = true
                summary = try audit.run(on: ledger) { finding in
                    if first {
                        Console.line(row(["INDEX", "KIND", "EXPLANATION"], width, policy))
                        first = false
                    }
                    Console.line(
                        row([String(finding.index), finding.kind.rawValue, finding.explanation], width, policy))
                }
                if !first { Console.line("") }
                printSummary(summary)
            }
            if !summary.passed { throw ExitCode(ExitStatus.verificationFailed.rawValue) }
        }
    }

    /// A row of the findings table; the kind column is as wide as the longest kind `policy` checks.
    private func row(_ cells: [String], _ indexWidth: Int, _ policy: AuditPolicy) -> String {
        let kindWidth = policy.checkedKinds.map(\.rawValue.count).max() ?? 0
        return cells[0].padding(toLength: indexWidth, withPad: " ", startingAt: 0) + "  "
            + cells[1].padding(toLength: kindWidth, withPad: " ", startingAt: 0) + "  " + cells[2]
    }

    private func printSummary(_ result: CompletenessSummary) {
        var rows = [["KIND", "FOUND", "ALLOWED", "RESULT"]]
        for kind in result.policy.checkedKinds {
            let tolerance = result.policy.tolerance(for: kind)
            rows.append([
                kind.rawValue, String(result.count(kind)), tolerance.map(String.init) ?? "any",
                result.exceeded.contains(kind) ? "EXCEEDED" : "ok",
            ])
        }
        printColumns(rows)
        let examined =
            "\(result.checkpoints) checkpoint\(result.checkpoints == 1 ? "" : "s"), "
            + "\(result.deploys) deploy\(result.deploys == 1 ? "" : "s"), "
            + "\(result.corrections) correction\(result.corrections == 1 ? "" : "s") at tree size \(result.treeSize)"
        let exceeded = result.exceeded.count
        if result.withoutAppendTime > 0 {
            Console.line(
                "note: \(result.withoutAppendTime) entr\(result.withoutAppendTime == 1 ? "y has" : "ies have") "
                    + "no recorded append time (appended by an older cairn) and were not checked for "
                    + "dated_after_append")
        }
        Console.line(
            result.passed
                ? "passed: within the policy (\(examined))"
                : "failed: \(exceeded) kind\(exceeded == 1 ? "" : "s") of finding over the policy (\(examined))")
    }
}

/// The ledgers a read-only command searches: every log of --logs (in the directory's order), else the one ledger.
func openLedgers(logs: String?, location: LedgerLocation) throws -> [Ledger] {
    guard let logs else { return [try location.open(readOnly: true)] }
    guard location.ledger == nil else { throw CLIError.logsWithLedger }
    return try openLogDirectory(logs).map(\.ledger)
}

/// Every log of a log directory, opened read-only, with its name, in the directory's order.
func openLogDirectory(_ directory: String) throws -> [(name: String, ledger: Ledger)] {
    do {
        let listing = try LogDirectory.load(directory)
        guard !listing.entries.isEmpty else { throw CLIError(.notFound, "the log directory \(directory) has no logs") }
        return try listing.entries.map { entry throws(LogDirectoryError) in
            (entry.name, try LogDirectory.openLedger(listing.ledgerPath(entry)))
        }
    } catch let error as LogDirectoryError {
        throw CLIError(error)
    }
}

extension CLIError {
    /// --logs given with --ledger.
    static let logsWithLedger = CLIError(
        .usage, "--logs searches the ledgers of a log directory: it cannot be combined with --ledger")
}
