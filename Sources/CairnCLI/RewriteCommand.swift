import ArgumentParser
import CairnAudit
import CairnCapture
import CairnCommitCapture
import CairnJSON
import CairnLedger
import CairnRecords
import Foundation

struct RewriteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rewrite",
        abstract: "Record history rewrites that ran no hook (server-side squash and rebase merges).",
        subcommands: [RewriteDetect.self]
    )
}

struct RewriteDetect: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "detect",
        abstract: "Find commits of a range that replace commits with checkpoints, and record the rewrites.",
        discussion: prose(
            """
            Run it in CI after a merge (`cairn rewrite detect --range $BEFORE..$AFTER`). For each
            commit of the range (merges excepted), it looks up the ledger's checkpoints for the files
            the commit changed. A checkpoint's commit that is not an ancestor of the new commit is
            replaced by it when their patches are the same (git patch-id: a rebase merge), or when
            the new commit holds the checkpoint's file with its lines (the same content hash, or at
            least 80 % of the lines the checkpoint covers: a squash merge). Each replacement becomes a
            `rewrite` record (kind rebase or squash), printed as one JSON line, then put in the
            repository's outbox and delivered like the hooks' records (to the ledger of --ledger or
            git config cairn.ledger, or to cairn.server's spool). Checkpoints already known under the
            new commit are skipped, so running it twice records nothing new. It never fails a build
            for what it finds.

            The ledger to read is --ledger, else git config cairn.ledger, else $CAIRN_LEDGER, else
            ./cairn-ledger; the records go to the repository's destination (git config cairn.ledger
            or cairn.server), else to that same ledger.

            EXAMPLES
              cairn rewrite detect --range origin/main..HEAD
              cairn rewrite detect --range HEAD~1..HEAD --dry-run
            """)
    )

    @Option(help: ArgumentHelp("The commits to examine (A..B).", valueName: "range"))
    var range: String

    @Option(help: ArgumentHelp("The repository (default: the one around the current directory).", valueName: "dir"))
    var repo: String?

    @Option(
        help: ArgumentHelp("The ledger to read and append to (default: git config cairn.ledger).", valueName: "dir"))
    var ledger: String?

    @Flag(help: "Print the records without recording them.")
    var dryRun = false

    func run() async throws {
        try await runReportingErrors {
            let directory = repo ?? FileManager.default.currentDirectoryPath
            guard let repository = CaptureRepository.containing(directory) else {
                throw CLIError(.notFound, "\(DisplayText.escape(directory)) is not inside a git repository")
            }
            let facts = GitFacts(root: repository.root)
            var config = facts.settings()
            if let ledger { config["cairn.ledger"] = ledger }
            let ledgerDirectory = config["cairn.ledger"] ?? LedgerLocation.defaultDirectory
            // Without a destination of the repository's own, the records go to the ledger they were found in (a CI
            // runner's outbox is gone with the runner).
            if config["cairn.ledger"] == nil && config["cairn.server"] == nil {
                config["cairn.ledger"] = ledgerDirectory
            }
            let settings = CommitRecorder.Settings(config: config, root: repository.root)
            // The read-only ledger is closed before the records are delivered to it.
            let records = try await Self.detect(
                range: range, facts: facts, settings: settings, ledgerDirectory: ledgerDirectory)
            for record in records { printJSON(record) }
            guard !dryRun, !records.isEmpty else { return }
            var bytes: [UInt8] = []
            for record in records { bytes += JSONWriter.compactBytes(record) + [UInt8(ascii: "\n")] }
            do {
                try LockedLines.append(bytes, to: repository.cairnDirectory + "/" + CommitHooks.outboxFileName)
            } catch let error as CaptureError {
                throw CLIError(.ioError, error.message)
            }
            let outcome = try await CommitDelivery(repository: repository, config: config).deliver(detachFlush: true)
            if Console.stderrIsTerminal {
                Console.error(
                    "\(records.count) rewrite record(s); delivered \(outcome.delivered), waiting \(outcome.waiting)")
            }
        }
    }

    private static func detect(
        range: String, facts: GitFacts, settings: CommitRecorder.Settings, ledgerDirectory: String
    ) async throws -> [JSONValue] {
        var options = Ledger.OpenOptions()
        options.readOnly = true
        let store = try LedgerLocation.open(ledgerDirectory, options: options)
        let now = Timestamp.format(Int64(Date().timeIntervalSince1970 * 1000))
        return try await store.read { snapshot in
            try RewriteDetector(facts: facts).detect(range: range, repo: settings.repo, at: now) { path, new in
                var query = RecordQuery()
                query.path = path
                return try snapshot.query(query).flatMap { match in
                    let known = try snapshot.rewriteChain(checkpoint: match.index, to: new) != nil
                    return match.facts.outputs.filter { $0.path == path }.map {
                        (BlameCandidate.Output($0), known)
                    }
                }
            }
        }
    }
}
