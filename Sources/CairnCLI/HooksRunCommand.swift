import ArgumentParser
import CairnAudit
import CairnCapture
import CairnCommitCapture
import CairnJSON
import CairnRecords
import Foundation

/// `cairn hooks run HOOK [ARG...]`: what the git hook shims call (specs/capture.md, "At commit").
struct HooksRun: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run one git hook's capture step (called by the hooks `cairn hooks install` writes).",
        discussion: prose(
            """
            prepare-commit-msg FILE [SOURCE [COMMIT]] adds a `Cairn-Checkpoint: <id>` trailer to the
            message for each agent session whose edits are staged. post-commit turns the working log
            into checkpoint records of the new commit (lines classified ai, mixed or human) and
            post-rewrite (amend or rebase, old and new commits on standard input) into `rewrite`
            records; both put them in the repository's outbox, then deliver it to the destination
            in git config (cairn.ledger: appended at once; cairn.server: into the spool, sent by a
            detached `cairn spool flush`). pre-push delivers the outbox. Nothing waits on the
            network.

            A hook must never break git: failures are reported on standard error and in
            <git dir>/cairn/capture.log, and the exit status is 0. Set CAIRN_HOOKS_DISABLE=1 to
            skip Cairn in the hooks.

            EXAMPLES
              cairn hooks run post-commit
            """)
    )

    @Argument(help: ArgumentHelp("prepare-commit-msg, post-commit, post-rewrite or pre-push.", valueName: "hook"))
    var hook: String

    @Argument(parsing: .captureForPassthrough, help: ArgumentHelp("The hook's own arguments.", valueName: "arg"))
    var arguments: [String] = []

    func run() async throws {
        let status = GitHookMain.run(hook: hook, arguments: arguments, cairn: GitHookMain.cairnBesideThisExecutable())
        Console.flush()
        if status != 0 { throw ExitCode(status) }
    }
}

/// `cairn hooks flush`: deliver the outbox now.
struct HooksFlush: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flush",
        abstract: "Deliver the records waiting in the repository's outbox to its ledger or server's spool.",
        discussion: prose(
            """
            The git hooks start `cairn hooks flush --quiet` in the background after each commit; run
            it by hand for records left waiting (no destination configured yet, the ledger
            unreachable). One delivery runs at a time (a lock in the git directory). With a server
            destination, the records go into the spool; `cairn spool flush --server URL` sends them.

            EXAMPLES
              cairn hooks flush --json
            """)
    )

    @Option(help: ArgumentHelp("The repository (default: the one around the current directory).", valueName: "dir"))
    var repo: String?

    @Flag(help: "Print the result as JSON.")
    var json = false

    @Flag(help: "Print nothing (the hooks' detached delivery); problems still go to the capture log.")
    var quiet = false

    func run() async throws {
        try await runReportingErrors {
            let directory = repo ?? FileManager.default.currentDirectoryPath
            guard let repository = CaptureRepository.containing(directory) else {
                throw CLIError(.notFound, "\(DisplayText.escape(directory)) is not inside a git repository")
            }
            let delivery = CommitDelivery(
                repository: repository, config: GitFacts(root: repository.root).settings())
            let outcome: CommitDelivery.Outcome
            do {
                outcome = try await delivery.deliver(detachFlush: quiet)
            } catch {
                if quiet { CaptureLog.append((error as? CLIError)?.message ?? "\(error)", agent: "cairn hooks flush") }
                throw error
            }
            if quiet { return }
            if json {
                printJSON(
                    .object(
                        JSONObject([
                            ("delivered", .number(Double(outcome.delivered))),
                            ("rejected", .number(Double(outcome.rejected))),
                            ("waiting", .number(Double(outcome.waiting))),
                        ])))
            } else {
                Console.line(
                    "delivered \(outcome.delivered), refused \(outcome.rejected), waiting \(outcome.waiting)")
            }
            if outcome.waiting > 0 {
                throw CLIError(
                    .temporaryFailure, "no destination: run `cairn hooks install --ledger DIR` or `--server URL` first")
            }
        }
    }
}
