import CairnCapture
import CairnCrypto

/// What the commit hooks ask git, each in one `git` run (a hook's cost is mostly processes started), through
/// `Subprocess` (no Foundation: the hooks start in milliseconds). git inherits the environment: inside a hook,
/// `GIT_INDEX_FILE` names the index being committed.
package struct GitFacts: Sendable {
    /// The working tree's root.
    package let root: String

    package init(root: String) { self.root = root }

    static let environment: [String: String?] = [
        "LC_ALL": "C", "GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0", "GIT_PAGER": "cat",
    ]

    /// `git -C root ARGUMENTS`, whatever its exit status.
    package func attempt(_ arguments: [String], input: [UInt8]? = nil) throws(CaptureError) -> Subprocess.Output {
        try Subprocess.run(["git", "-C", root] + arguments, environment: Self.environment, input: input)
    }

    /// `git -C root ARGUMENTS`; a non-zero exit status is an error naming git's first line of complaint.
    package func run(_ arguments: [String], input: [UInt8]? = nil) throws(CaptureError) -> Subprocess.Output {
        let output = try attempt(arguments, input: input)
        guard output.status == 0 else {
            throw CaptureError("git \(arguments.first ?? "") failed: \(output.firstErrorLine)")
        }
        return output
    }

    // MARK: - Configuration

    /// The settings the hooks read, from one `git config --get-regexp`: `cairn.*`, `user.name`, `user.email`,
    /// `remote.origin.url` (keys lowercased, as git reports them).
    package func settings() -> [String: String] {
        guard
            let output = try? attempt([
                "config", "-z", "--get-regexp", #"^(cairn\..*|user\.name|user\.email|remote\.origin\.url)$"#,
            ]), output.status == 0
        else { return [:] }
        var settings: [String: String] = [:]
        for item in output.stdout.split(separator: 0) {
            let text = String(decoding: item, as: UTF8.self)
            guard let newline = text.firstIndex(of: "\n") else {
                settings[text] = "true"
                continue
            }
            settings[String(text[..<newline])] = String(text[text.index(after: newline)...])
        }
        return settings
    }

    // MARK: - Commits

    package struct Commit: Sendable, Equatable {
        package let id: String
        package let parents: [String]
        package let message: String
    }

    /// The commit `revision` names.
    package func commit(_ revision: String) throws(CaptureError) -> Commit {
        try commitAndChanges(revision, paths: false).commit
    }

    /// The commit `revision` names and the paths it changed against its first parent (every path of a root
    /// commit; nothing for a merge), from one `git diff-tree`.
    package func commitAndChanges(
        _ revision: String, paths: Bool = true
    ) throws(CaptureError) -> (
        commit: Commit, changed: [String]
    ) {
        let arguments = [
            "diff-tree", "-r", "--root", "-z", "--no-renames", paths ? "--name-only" : "-s",
            "--format=%H%x00%P%x00%B%x00", revision,
        ]
        let output = try run(arguments).stdout
        let fields = output.split(separator: 0, omittingEmptySubsequences: false).map {
            String(decoding: $0, as: UTF8.self)
        }
        guard fields.count >= 3, fields[0].count >= 40 else { throw CaptureError("git diff-tree printed no commit") }
        let commit = Commit(
            id: fields[0], parents: fields[1].split(separator: " ").map(String.init), message: fields[2])
        // After the message's NUL: a line feed, then the paths, each ended by a NUL.
        let changed = fields.dropFirst(3).map { $0.hasPrefix("\n") ? String($0.dropFirst()) : $0 }.filter {
            !$0.isEmpty
        }
        return (commit, paths ? changed : [])
    }

    /// The paths `commit` changed against its first parent (every path of a root commit).
    package func changedPaths(_ commit: Commit) throws(CaptureError) -> [String] {
        try commitAndChanges(commit.id).changed
    }

    /// The staged paths (for `prepare-commit-msg`).
    package func stagedPaths() throws(CaptureError) -> [String] {
        try run(["diff", "--cached", "--name-only", "-z", "--no-renames"]).stdout.split(separator: 0).map {
            String(decoding: $0, as: UTF8.self)
        }
    }

    /// The bytes of each `revision:path` (nil when there is no such file), from one `git cat-file --batch`.
    package func blobs(_ specs: [String]) throws(CaptureError) -> [[UInt8]?] {
        guard !specs.isEmpty else { return [] }
        let input = specs.map { $0 + "\n" }.joined()
        let out = try run(["cat-file", "--batch"], input: Array(input.utf8)).stdout
        var results: [[UInt8]?] = []
        var index = 0
        for _ in specs {
            guard let newline = out[index...].firstIndex(of: UInt8(ascii: "\n")) else {
                throw CaptureError("git cat-file stopped early")
            }
            let header = String(decoding: out[index..<newline], as: UTF8.self).split(separator: " ")
            index = newline + 1
            guard header.count == 3, header[1] == "blob", let size = Int(header[2]), index + size <= out.count else {
                results.append(nil)
                if header.count == 3, let size = Int(header[2]) { index = min(out.count, index + size + 1) }
                continue
            }
            results.append(Array(out[index..<index + size]))
            index += size + 1
        }
        return results
    }

    /// Whether `commit` is an object this repository has.
    package func hasCommit(_ commit: String) -> Bool {
        (try? attempt(["cat-file", "-e", commit + "^{commit}"]))?.status == 0
    }

    /// `git patch-id --stable` of each commit (nil for one git gives none, e.g. an empty change).
    package func patchIDs(_ commits: [String]) throws(CaptureError) -> [String: String] {
        guard !commits.isEmpty else { return [:] }
        var patch: [UInt8] = []
        for commit in commits {
            patch += try run(["show", "--no-color", "--no-ext-diff", "--format=commit %H", commit]).stdout
        }
        var ids: [String: String] = [:]
        for line in try run(["patch-id", "--stable"], input: patch).text.split(separator: "\n") {
            let words = line.split(separator: " ")
            if words.count == 2 { ids[String(words[1])] = String(words[0]) }
        }
        return ids
    }
}

extension SHA256Digest {
    /// `sha256:<hex>` of `bytes`.
    static func address(of bytes: [UInt8]) -> String { SHA256.hash(bytes).description }
}
