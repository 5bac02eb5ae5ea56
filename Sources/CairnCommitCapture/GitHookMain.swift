import CairnCapture
import CairnRecords

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One git hook's step, as the shims run it (`cairn-capture git-hook HOOK ARG...`, or `cairn hooks run`):
/// `prepare-commit-msg` adds trailers, `post-commit` and `post-rewrite` put records in the outbox, and every hook
/// that leaves records waiting starts a detached `cairn hooks flush` to deliver them — to a local ledger or into
/// the spool for a server — so that git never waits for a ledger's commit or the network (specs/capture.md, "Git
/// hooks").
package enum GitHookMain {
    package static let hooks = ["prepare-commit-msg", "post-commit", "post-rewrite", "pre-push"]

    /// Runs `hook` for the repository around the current directory. Never fails git: problems are reported on
    /// standard error and in the capture log, and the status is 0.
    ///
    /// - Parameter cairn: the `cairn` executable that delivers the outbox (`cairn hooks flush`).
    package static func run(hook: String, arguments: [String], cairn: String) -> Int32 {
        do {
            try runHook(hook, arguments: arguments, cairn: cairn)
        } catch {
            _ = CaptureMain.print("cairn hooks run \(hook): \(DisplayText.escape(error.message))\n", to: 2)
            CaptureLog.append(error.message, agent: "git \(hook)")
        }
        return 0
    }

    private static func runHook(_ hook: String, arguments: [String], cairn: String) throws(CaptureError) {
        guard hooks.contains(hook) else {
            throw CaptureError("unknown hook \(hook) (known: \(hooks.joined(separator: ", ")))")
        }
        guard let directory = POSIX.currentDirectory(), let repository = CaptureRepository.containing(directory)
        else {
            throw CaptureError("not inside a git repository")
        }
        let hooks = CommitHooks(repository: repository)
        let now = POSIX.nowMilliseconds()
        switch hook {
        case "prepare-commit-msg":
            guard let file = arguments.first else { throw CaptureError("prepare-commit-msg needs the message file") }
            try hooks.prepareCommitMessage(messageFile: file)
            return
        case "post-commit":
            try hooks.postCommit(now: now)
        case "post-rewrite":
            let input = POSIX.readAll(0, limit: 64 << 20) ?? []
            try hooks.postRewrite(how: arguments.first ?? "rebase", input: input, now: now)
        default:  // pre-push: git's input (the refs) is not needed
            _ = POSIX.readAll(0, limit: 64 << 20)
        }
        // Delivery, detached: the records are durable in the outbox already.
        if POSIX.kind(of: hooks.outboxPath).exists, !LockedLines.read(hooks.outboxPath).isEmpty {
            Subprocess.detach([cairn, "hooks", "flush", "--repo", repository.root, "--quiet"])
        }
    }

    /// `cairn` beside the running executable, else `cairn` from `PATH`.
    package static func cairnBesideThisExecutable() -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard count > 0 else { return "cairn" }
        let path = String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let beside = POSIX.parent(path) + "/cairn"
        return access(beside, X_OK) == 0 ? beside : "cairn"
    }
}
