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
        do {
            try await runHook()
        } catch {
            let message = (error as? CLIError)?.message ?? "\(error)"
            Console.error("cairn hooks run \(DisplayText.escape(hook)): \(DisplayText.escape(message))")
            CaptureLog.append(message, agent: "git \(hook)")
        }
        Console.flush()
    }

    private func runHook() async throws {
        guard let repository = CaptureRepository.containing(FileManager.default.currentDirectoryPath) else {
            throw CLIError(.notFound, "not inside a git repository")
        }
        let hooks: CommitHooks
        do {
            hooks = try CommitHooks(repository: repository)
        } catch {
            throw CLIError(.ioError, error.message)
        }
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        do {
            switch hook {
            case "prepare-commit-msg":
                guard let file = arguments.first else { throw CLIError(.usage, "prepare-commit-msg needs the FILE") }
                // A merge's or a squash's message is git's; the commit it makes is still new work.
                try hooks.prepareCommitMessage(messageFile: file)
                return
            case "post-commit":
                try hooks.postCommit(now: now)
            case "post-rewrite":
                let input = FileHandle.standardInput.readDataToEndOfFile()
                try hooks.postRewrite(how: arguments.first ?? "rebase", input: [UInt8](input), now: now)
            case "pre-push":
                _ = FileHandle.standardInput.readDataToEndOfFile()
            default:
                throw CLIError(
                    .usage,
                    "unknown hook \(DisplayText.escape(hook)) (known: prepare-commit-msg, post-commit, post-rewrite, "
                        + "pre-push)")
            }
        } catch let error as CaptureError {
            throw CLIError(.ioError, error.message)
        }
        let delivery = CommitDelivery(repository: repository, config: hooks.facts.settings())
        let outcome = try await delivery.deliver(detachFlush: true)
        if outcome.waiting > 0 {
            Console.error(
                "cairn: \(outcome.waiting) record\(outcome.waiting == 1 ? "" : "s") wait in the outbox: no destination; "
                    + "run `cairn hooks install --ledger DIR` or `--server URL`")
        }
        if outcome.rejected > 0 {
            Console.error(
                "cairn: \(outcome.rejected) record\(outcome.rejected == 1 ? " was" : "s were") refused; see "
                    + DisplayText.escape(delivery.rejectedPath))
        }
    }
}

/// `cairn hooks flush`: deliver the outbox now.
struct HooksFlush: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flush",
        abstract: "Deliver the records waiting in the repository's outbox to its ledger or server's spool.",
        discussion: prose(
            """
            The commit hooks deliver their records themselves; this is for records left waiting (no
            destination configured yet, the ledger unreachable). With a server destination, the
            records go into the spool; `cairn spool flush --server URL` sends them.

            EXAMPLES
              cairn hooks flush --json
            """)
    )

    @Option(help: ArgumentHelp("The repository (default: the one around the current directory).", valueName: "dir"))
    var repo: String?

    @Flag(help: "Print the result as JSON.")
    var json = false

    func run() async throws {
        try await runReportingErrors {
            let directory = repo ?? FileManager.default.currentDirectoryPath
            guard let repository = CaptureRepository.containing(directory) else {
                throw CLIError(.notFound, "\(DisplayText.escape(directory)) is not inside a git repository")
            }
            let facts: GitFacts
            do {
                facts = GitFacts(try GitRepository(path: repository.root))
            } catch {
                throw CLIError(.notFound, "\(error)")
            }
            let delivery = CommitDelivery(repository: repository, config: facts.settings())
            let outcome = try await delivery.deliver(detachFlush: false)
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
