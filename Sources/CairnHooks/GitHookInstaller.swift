import CairnCapture
import Foundation

/// One git hook as `cairn hooks status` shows it.
package struct GitHookStatus: Sendable, Equatable {
    package let hook: String
    /// The hook file's absolute path (in the directory `core.hooksPath` names, if set).
    package let path: String
    /// Whether the file is Cairn's shim.
    package let installed: Bool
    /// Whether the hook that was there before is kept, executable, as `<hook>.cairn-chained` for the shim to run.
    package let chained: Bool
}

/// `cairn hooks install|uninstall|status` for git: each hook is a small POSIX sh shim that runs the hook which
/// was there before (kept beside it as `<hook>.cairn-chained`), then `cairn-capture git-hook HOOK "$@"`, whose failure
/// never fails the hook. Uninstall puts the earlier hooks back byte for byte. The ledger or server the hooks
/// send to is kept in the repository's own git configuration (`cairn.ledger`, `cairn.server`).
package struct GitHookInstaller {
    package typealias HooksError = HookInstaller.HooksError
    package typealias Change = HookInstaller.Change

    /// The hooks Cairn installs.
    package static let hooks = ["prepare-commit-msg", "post-commit", "post-rewrite", "pre-push"]
    /// The line that marks a hook file as Cairn's shim.
    package static let marker = "# cairn-hook v1"
    /// What the hook that was there before is renamed to, beside the shim: `<hook>.cairn-chained`.
    package static let chainedSuffix = ".cairn-chained"
    /// The hooks git feeds standard input to: the shim gives the same bytes to the chained hook and to cairn.
    static let stdinHooks: Set<String> = ["post-rewrite", "pre-push"]
    /// The hooks whose failure aborts git's command: a failing chained hook's status is the shim's, and cairn is
    /// then not run. (Git ignores the status of the others; cairn runs after them regardless.)
    static let abortingHooks: Set<String> = ["prepare-commit-msg", "pre-push"]

    package let repository: CaptureRepository
    /// The command the shims run, followed by the hook's name and arguments, already quoted for the shell:
    /// `/usr/local/bin/cairn-capture git-hook` (or `cairn hooks run`, the same step in the main binary).
    package let hookCommand: String

    package init(repository: CaptureRepository, hookCommand: String) {
        self.repository = repository
        self.hookCommand = hookCommand
    }

    /// The absolute directory git runs the repository's hooks from (`git rev-parse --git-path hooks`, which
    /// follows `core.hooksPath`, relative or absolute).
    package var hooksDirectory: String {
        get throws(HooksError) {
            let path = try Self.git(["rev-parse", "--git-path", "hooks"], in: repository.root)
            guard !path.isEmpty else {
                throw HooksError(message: "git rev-parse --git-path hooks printed nothing in \(repository.root)")
            }
            return Self.absolute(path, base: repository.root)
        }
    }

    /// The shim installed as `hook`, running `hookCommand`.
    package static func shim(hook: String, hookCommand: String) -> String {
        let chained = hook + chainedSuffix
        let cairn = "\(hookCommand) \(hook) \"$@\""
        let aborting = abortingHooks.contains(hook)
        // A failing chained hook aborts git's command: its status is the shim's, and cairn is not run.
        // Otherwise cairn runs regardless, and the chained hook's status is still the shim's.
        let runChained = aborting ? "|| exit $?" : "|| status=$?"
        var lines = [
            "#!/bin/sh",
            marker,
            "# Installed by `cairn hooks install`: hands git's \(hook) to Cairn, the provenance ledger,",
            "# through `cairn hooks run \(hook)` (run by cairn-capture). `cairn hooks uninstall` takes it out and puts back",
            "# the hook that was here before, kept meanwhile beside this file as \(chained).",
            "# The chained hook runs first, with the same arguments\(stdinHooks.contains(hook) ? " and input" : "");",
            "# cairn's own failures never fail the hook. CAIRN_HOOKS_DISABLE=1 skips cairn (not the chained hook).",
            "chained=\"$(dirname -- \"$0\")/\(chained)\"",
            "status=0",
        ]
        if stdinHooks.contains(hook) {
            lines += [
                "if [ -f \"$chained\" ] && [ -x \"$chained\" ]; then",
                "    if [ \"${CAIRN_HOOKS_DISABLE:-}\" = 1 ]; then",
                "        exec \"$chained\" \"$@\"",
                "    fi",
                "    # Both read git's input: keep a copy to give each the same bytes. Without one, cairn is skipped.",
                "    input=\"$(mktemp \"${TMPDIR:-/tmp}/cairn-hook.XXXXXX\")\" || exec \"$chained\" \"$@\"",
                "    trap 'rm -f \"$input\"' EXIT",
                "    trap 'exit 129' HUP",
                "    trap 'exit 130' INT",
                "    trap 'exit 143' TERM",
                "    if ! cat >\"$input\"; then",
                "        echo \"cairn hook: cannot keep \(hook)'s input in $input; the chained hook did not run\" >&2",
                "        echo \"(to run it without cairn: CAIRN_HOOKS_DISABLE=1)\" >&2",
                "        exit 1",
                "    fi",
                "    \"$chained\" \"$@\" <\"$input\" \(runChained)",
                "    \(cairn) <\"$input\" || true",
                "    exit $status",
                "fi",
            ]
        } else {
            lines += [
                "if [ -f \"$chained\" ] && [ -x \"$chained\" ]; then",
                "    \"$chained\" \"$@\" \(runChained)",
                "fi",
            ]
        }
        lines += [
            "if [ \"${CAIRN_HOOKS_DISABLE:-}\" != 1 ]; then",
            "    \(cairn) || true",
            "fi",
            "exit $status",
        ]
        return lines.joined(separator: "\n") + "\n"
    }

    // MARK: - Install

    /// Installs the shim of each hook, keeping a hook that was there as `<hook>.cairn-chained` for it to run.
    /// Checks every hook before changing any: a `.cairn-chained` file in the way refuses the whole install.
    package func install() throws(HooksError) -> [(hook: String, change: Change)] {
        let directory = try hooksDirectory
        var plans: [(hook: String, path: String, chain: Bool, shim: [UInt8])] = []
        var changes: [(hook: String, change: Change)] = []
        for hook in Self.hooks {
            let path = directory + "/" + hook
            let shim = Array(Self.shim(hook: hook, hookCommand: hookCommand).utf8)
            if Self.isShim(path) {
                // Ours already: rewritten only when it names another cairn (the executable moved).
                if Self.contents(path) == shim {
                    changes.append((hook, .alreadyInstalled))
                } else {
                    plans.append((hook, path, false, shim))
                }
                continue
            }
            let exists = Self.exists(path)
            if exists && Self.exists(path + Self.chainedSuffix) {
                throw HooksError(
                    message: """
                        cannot install the \(hook) hook: \(path) is not Cairn's, and \(path + Self.chainedSuffix) \
                        (where Cairn keeps the hook it chains) already exists; move one of them away and run again: \
                        nothing was changed
                        """)
            }
            plans.append((hook, path, exists, shim))
        }
        if !plans.isEmpty {
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            } catch {
                throw HooksError(
                    message: "cannot create the hooks directory \(directory): \(error.localizedDescription)")
            }
        }
        for plan in plans {
            let chained = plan.path + Self.chainedSuffix
            if plan.chain {
                // rename(2) keeps the file itself: its bytes, mode and owner (a symbolic link stays one).
                guard rename(plan.path, chained) == 0 else {
                    throw HooksError(
                        message: "cannot rename \(plan.path) to \(chained) to chain it: \(Self.lastError())")
                }
            }
            do {
                try Self.write(plan.shim, to: plan.path, mode: 0o755)
            } catch {
                if plan.chain && rename(chained, plan.path) != 0 {
                    throw HooksError(
                        message: """
                            \(error.message); the hook that was there is now \(chained), and moving it back failed \
                            (\(Self.lastError())): rename it to \(plan.path) by hand
                            """)
                }
                throw error
            }
            changes.append((plan.hook, .installed))
        }
        return Self.hooks.compactMap { hook in changes.first { $0.hook == hook } }
    }

    // MARK: - Uninstall

    /// Takes each shim out: puts back the hook it chained (the same file, renamed back), or removes it. A hook
    /// that is not Cairn's shim (replaced since, or never installed) is left alone.
    package func uninstall() throws(HooksError) -> [(hook: String, change: Change)] {
        let directory = try hooksDirectory
        var changes: [(hook: String, change: Change)] = []
        for hook in Self.hooks {
            let path = directory + "/" + hook
            let chained = path + Self.chainedSuffix
            guard Self.isShim(path) else {
                changes.append((hook, .notInstalled))
                continue
            }
            if Self.exists(chained) {
                guard rename(chained, path) == 0 else {
                    throw HooksError(message: "cannot rename \(chained) back to \(path): \(Self.lastError())")
                }
                changes.append((hook, .restored))
            } else {
                guard unlink(path) == 0 else {
                    throw HooksError(message: "cannot remove Cairn's hook \(path): \(Self.lastError())")
                }
                changes.append((hook, .removed))
            }
        }
        return changes
    }

    // MARK: - Status

    /// Each hook's state. When git cannot name the hooks directory, `<git dir>/hooks` is shown.
    package func status() -> [GitHookStatus] {
        let directory = (try? hooksDirectory) ?? repository.gitDirectory + "/hooks"
        return Self.hooks.map { hook in
            let path = directory + "/" + hook
            let chained = path + Self.chainedSuffix
            return GitHookStatus(
                hook: hook, path: path, installed: Self.isShim(path),
                chained: Self.isRegularFile(chained) && FileManager.default.isExecutableFile(atPath: chained))
        }
    }

    // MARK: - Destination

    /// Records where the hooks send: a ledger directory (made absolute against the current directory) as
    /// `cairn.ledger`, or a server URL as `cairn.server`, in the repository's own configuration, and unsets the
    /// other. Neither unsets both; both are refused.
    package func setDestination(ledger: String?, server: String?) throws(HooksError) {
        let root = repository.root
        switch (ledger, server) {
        case (.some, .some):
            throw HooksError(message: "give a ledger or a server for the hooks to send to, not both")
        case (let ledger?, nil):
            guard !ledger.isEmpty else { throw HooksError(message: "the ledger directory is empty") }
            let path = Self.absolute(ledger, base: FileManager.default.currentDirectoryPath)
            _ = try Self.git(["config", "--local", "--", "cairn.ledger", path], in: root)
            try unset("cairn.server")
        case (nil, let server?):
            guard !server.isEmpty else { throw HooksError(message: "the server URL is empty") }
            _ = try Self.git(["config", "--local", "--", "cairn.server", server], in: root)
            try unset("cairn.ledger")
        case (nil, nil):
            try unset("cairn.ledger")
            try unset("cairn.server")
        }
    }

    /// The ledger or server recorded for the hooks (nil when unset or unreadable).
    package func destination() -> (ledger: String?, server: String?) {
        func get(_ key: String) -> String? {
            guard let run = try? Self.runGit(["config", "--local", "--get", key], in: repository.root),
                run.status == 0
            else { return nil }
            return Self.dropNewline(run.stdout)
        }
        return (get("cairn.ledger"), get("cairn.server"))
    }

    private func unset(_ key: String) throws(HooksError) {
        let run = try Self.runGit(["config", "--local", "--unset-all", key], in: repository.root)
        // 5: it was not set.
        guard run.status == 0 || run.status == 5 else {
            throw HooksError(
                message: "git config --local --unset-all \(key) failed in \(repository.root): \(run.stderr)")
        }
    }

    // MARK: - git

    /// Runs `git -C directory args…` (no shell) and returns its standard output without the final newline;
    /// an exit status other than 0 is an error carrying git's message.
    @discardableResult
    package static func git(_ args: [String], in directory: String) throws(HooksError) -> String {
        let run = try runGit(args, in: directory)
        guard run.status == 0 else {
            let message = run.stderr.trimmingCharacters(in: .whitespacesAndNewlines)
            throw HooksError(
                message: "git \(args.joined(separator: " ")) failed in \(directory) (exit \(run.status)): \(message)")
        }
        return dropNewline(run.stdout)
    }

    /// Runs `git -C directory args…` and returns its exit status and output. Variables that point git at another
    /// repository (as git sets them for hooks) are left out: the repository is `directory`'s.
    static func runGit(
        _ args: [String], in directory: String
    ) throws(HooksError) -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git", "-C", directory] + args
        var environment = ProcessInfo.processInfo.environment
        for name in ["GIT_DIR", "GIT_WORK_TREE", "GIT_COMMON_DIR", "GIT_INDEX_FILE", "GIT_PREFIX"] {
            environment[name] = nil
        }
        process.environment = environment
        let output = Pipe()
        let errors = Pipe()
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = output
        process.standardError = errors
        do {
            try process.run()
        } catch {
            throw HooksError(message: "cannot run git (is it installed and on PATH?): \(error.localizedDescription)")
        }
        // git's messages here are short: reading stdout to its end first cannot fill stderr's pipe.
        let stdout = output.fileHandleForReading.readDataToEndOfFile()
        let stderr = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let status = process.terminationReason == .exit ? process.terminationStatus : 128 + process.terminationStatus
        return (status, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }

    // MARK: - Files

    /// Whether `path` is Cairn's shim: a file with the marker line.
    static func isShim(_ path: String) -> Bool {
        guard let bytes = contents(path) else { return false }
        return String(decoding: bytes, as: UTF8.self).split(separator: "\n").contains { $0 == marker }
    }

    static func contents(_ path: String) -> [UInt8]? {
        FileManager.default.contents(atPath: path).map { [UInt8]($0) }
    }

    /// Whether anything is at `path`, a dangling symbolic link included.
    static func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    static func isRegularFile(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
    }

    /// Writes `bytes` with `mode` to `path` through a temporary file and a rename.
    static func write(_ bytes: [UInt8], to path: String, mode: Int) throws(HooksError) {
        try HookInstaller.write(bytes, to: path, mode: mode)
    }

    static func absolute(_ path: String, base: String) -> String {
        let full = path.hasPrefix("/") ? path : (base.hasSuffix("/") ? base : base + "/") + path
        return URL(fileURLWithPath: full).standardized.path
    }

    static func dropNewline(_ text: String) -> String {
        text.hasSuffix("\n") ? String(text.dropLast()) : text
    }

    static func lastError() -> String { String(cString: strerror(errno)) }
}
