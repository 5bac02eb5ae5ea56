import CairnCapture
import CairnRecords

/// What the importers and the Agent Trace export ask git, in batches (one `git` run each, whatever the number of
/// commits and files): revisions to commit ids, files at commits, the notes of a ref, commit dates.
package struct InteropGit: Sendable {
    package let facts: GitFacts

    package init(root: String) { facts = GitFacts(root: root) }

    /// The full commit id of each revision that names a commit (others are left out). Revisions must be safe to put
    /// on a line of `git cat-file --batch-check` (`ImportedCheckpoints.isHexRevision`, or full ids).
    package func commits(_ revisions: [String]) throws(CaptureError) -> [String: String] {
        let unique = Array(Set(revisions.filter { !$0.isEmpty && !$0.contains(where: \.isNewline) })).sorted()
        guard !unique.isEmpty else { return [:] }
        let input = unique.map { $0 + "^{commit}\n" }.joined()
        let output = try facts.run(["cat-file", "--batch-check"], input: Array(input.utf8)).text
        var found: [String: String] = [:]
        for (revision, line) in zip(unique, output.split(separator: "\n", omittingEmptySubsequences: false)) {
            let words = line.split(separator: " ")
            if words.count == 3, words[1] == "commit", ImportedCheckpoints.isCommitID(String(words[0])) {
                found[revision] = String(words[0])
            }
        }
        return found
    }

    /// The bytes of each `(commit, path)` that exists, keyed `commit:path`.
    package func files(_ pairs: [(commit: String, path: String)]) throws(CaptureError) -> [String: [UInt8]] {
        let specs = Array(
            Set(pairs.filter { !$0.path.contains(where: \.isNewline) }.map { $0.commit + ":" + $0.path })
        ).sorted()
        var found: [String: [UInt8]] = [:]
        for (spec, bytes) in zip(specs, try facts.blobs(specs)) { found[spec] = bytes }
        return found
    }

    /// The notes of `ref` (`refs/notes/ai`): the annotated object and the note's text, in `git notes list` order;
    /// nil when the ref does not exist.
    package func notes(ref: String) throws(CaptureError) -> [(object: String, text: String)]? {
        guard (try? facts.attempt(["rev-parse", "--verify", "--quiet", ref]))?.status == 0 else { return nil }
        let list = try facts.run(["notes", "--ref=" + ref, "list"]).text
        var pairs: [(note: String, object: String)] = []
        for line in list.split(separator: "\n") {
            let words = line.split(separator: " ")
            if words.count == 2 { pairs.append((String(words[0]), String(words[1]))) }
        }
        let texts = try facts.blobs(pairs.map(\.note))
        return zip(pairs, texts).map { pair, bytes in
            (pair.object, String(decoding: bytes ?? [], as: UTF8.self))
        }
    }

    /// Each commit's committer date, as a record timestamp.
    package func commitDates(_ commits: [String]) throws(CaptureError) -> [String: String] {
        let unique = Array(Set(commits.filter(ImportedCheckpoints.isCommitID))).sorted()
        guard !unique.isEmpty else { return [:] }
        let input = unique.map { $0 + "\n" }.joined()
        let output = try facts.run(
            ["log", "--no-walk=unsorted", "--no-show-signature", "--stdin", "--format=%H %ct"],
            input: Array(input.utf8)
        ).text
        var dates: [String: String] = [:]
        for line in output.split(separator: "\n") {
            let words = line.split(separator: " ")
            if words.count == 2, let seconds = Int64(words[1]) {
                dates[String(words[0])] = Timestamp.format(seconds * 1000)
            }
        }
        return dates
    }

    /// How outputs name the repository: `remote.origin.url`, else the working tree's path (as the hooks do).
    package func repositoryName(root: String) -> String {
        CommitRecorder.Settings(config: facts.settings(), root: root).repo
    }

    /// The repository's git configuration the hooks read (`cairn.ledger`, …).
    package func settings() -> [String: String] { facts.settings() }
}
