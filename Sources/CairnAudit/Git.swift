import Foundation

/// One commit as `cairn audit missing` sees it.
public struct GitCommit: Sendable, Hashable {
    /// The full object id (40 hex digits, or 64 in a SHA-256 repository).
    public let id: String
    /// The parents' object ids; more than one for a merge.
    public let parents: [String]
    /// The author's name.
    public let author: String
    /// The author date, RFC 3339 in UTC (`2026-11-20T09:14:03Z`).
    public let authorDate: String
    /// The first line of the message.
    public let subject: String
    /// The values of the message's `Cairn-Checkpoint:` trailers (key matched without regard to
    /// case, as git does), in message order.
    public let checkpointTrailers: [String]

    public init(
        id: String, parents: [String], author: String, authorDate: String, subject: String,
        checkpointTrailers: [String]
    ) {
        self.id = id
        self.parents = parents
        self.author = author
        self.authorDate = authorDate
        self.subject = subject
        self.checkpointTrailers = checkpointTrailers
    }

    /// True when the commit has more than one parent.
    public var isMerge: Bool { parents.count > 1 }
}

/// A git repository read through the `git` command-line program (never by parsing `.git`
/// ourselves), so that packs, worktrees, alternates, replace refs and SHA-256 repositories all
/// behave exactly as in the user's own git.
public struct GitRepository: Sendable {
    /// The trailer key that links a commit to its checkpoint.
    public static let checkpointTrailerKey = "Cairn-Checkpoint"

    /// The directory given (a work tree, a subdirectory of one, or a bare repository).
    public let path: String
    /// The `git` executable used.
    public let git: String

    /// Opens the repository at `path`, checking that git recognizes it.
    ///
    /// - Parameter git: the git executable; default: the first `git` on `PATH`.
    public init(path: String, git: String? = nil) throws(AuditError) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw AuditError(.notARepository, "no directory \(path) (pass the repository with --repo)")
        }
        guard let executable = git ?? Self.findOnPath("git") else {
            throw AuditError(.gitUnavailable, "git is not installed or not on PATH; install git to audit a repository")
        }
        self.path = path
        self.git = executable
        let probe = try run(["rev-parse", "--git-dir"])
        guard probe.status == 0 else {
            throw AuditError(.notARepository, "\(path) is not a git repository: \(probe.firstErrorLine)")
        }
    }

    /// The commits of `range`, newest first, as `git log` lists them.
    ///
    /// - Parameters:
    ///   - range: any revision range git accepts (`A..B`, `A...B`, `main`, `HEAD~20..`); default:
    ///     all of HEAD's history. In a repository without commits, the default range is empty.
    ///   - includeMerges: whether merge commits are listed.
    public func commits(range: String? = nil, includeMerges: Bool = true) throws(AuditError) -> [GitCommit] {
        let revision: String
        if let range {
            guard !range.isEmpty, !range.hasPrefix("-"), !range.contains(where: \.isNewline) else {
                throw AuditError(
                    .invalidRange,
                    "\(range.debugDescription) is not a revision range (expected A..B, A...B or a revision)")
            }
            revision = range
        } else {
            guard try run(["rev-parse", "--quiet", "--verify", "HEAD^{commit}"]).status == 0 else { return [] }
            revision = "HEAD"
        }
        // One line per commit; fields separated by NUL, which no field can contain. %s folds the
        // subject onto one line and `unfold` does the same for trailer values, so a newline only
        // ever ends a commit. Trailers come last: there may be any number of them.
        let format =
            "%H%x00%P%x00%ad%x00%an%x00%s%x00%(trailers:key=\(Self.checkpointTrailerKey),valueonly,unfold,separator=%x00)"
        var arguments = [
            "log", "--no-show-signature", "--no-color", "--date=format-local:%Y-%m-%dT%H:%M:%SZ",
            "--format=" + format,
        ]
        if !includeMerges { arguments.append("--no-merges") }
        arguments += ["--end-of-options", revision, "--"]
        let output = try run(arguments)
        guard output.status == 0 else {
            throw AuditError(.invalidRange, "git cannot list \(revision): \(output.firstErrorLine)")
        }
        var commits: [GitCommit] = []
        for line in output.stdout.split(separator: UInt8(ascii: "\n")) {
            let fields = line.split(separator: 0, omittingEmptySubsequences: false).map {
                String(decoding: $0, as: UTF8.self)
            }
            guard fields.count >= 6, !fields[0].isEmpty else {
                throw AuditError(
                    .gitFailed,
                    "git log printed an unexpected line: \(String(decoding: line.prefix(80), as: UTF8.self))")
            }
            commits.append(
                GitCommit(
                    id: fields[0], parents: fields[1].split(separator: " ").map(String.init), author: fields[3],
                    authorDate: fields[2], subject: fields[4],
                    checkpointTrailers: fields[5...].map { $0.trimmingCharacters(in: .whitespaces) }.filter {
                        !$0.isEmpty
                    }))
        }
        return commits
    }

    // MARK: - Running git

    struct Output {
        let status: Int32
        let stdout: [UInt8]
        let stderr: [UInt8]

        var firstErrorLine: String {
            let text = String(decoding: stderr, as: UTF8.self)
            let line = text.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
            return line.isEmpty ? "git exited with status \(status)" : line
        }
    }

    func run(_ arguments: [String]) throws(AuditError) -> Output {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: git)
        process.arguments = ["-C", path] + arguments
        var environment = ProcessInfo.processInfo.environment
        environment["LC_ALL"] = "C"
        environment["TZ"] = "UTC"
        environment["GIT_TERMINAL_PROMPT"] = "0"
        environment["GIT_OPTIONAL_LOCKS"] = "0"
        environment["GIT_PAGER"] = "cat"
        process.environment = environment
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw AuditError(.gitUnavailable, "cannot run \(git): \(error.localizedDescription)")
        }
        // Drain stderr on another thread so that a chatty git never blocks on a full pipe.
        let errorBox = ErrorBox()
        let thread = Thread {
            errorBox.bytes = Array(stderr.fileHandleForReading.readDataToEndOfFile())
            errorBox.done.signal()
        }
        thread.start()
        let out = Array(stdout.fileHandleForReading.readDataToEndOfFile())
        process.waitUntilExit()
        errorBox.done.wait()
        return Output(status: process.terminationStatus, stdout: out, stderr: errorBox.bytes)
    }

    private final class ErrorBox: @unchecked Sendable {
        var bytes: [UInt8] = []
        let done = DispatchSemaphore(value: 0)
    }

    static func findOnPath(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in path.split(separator: ":") where !directory.isEmpty {
            let candidate = directory + "/" + name
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}
