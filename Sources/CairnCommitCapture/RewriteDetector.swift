import CairnCrypto
import CairnJSON

/// `cairn rewrite detect --range A..B`: finds the commits of a range that replace commits the ledger has
/// checkpoints for — a server-side squash or rebase merge, which runs no hook — and makes the `rewrite` records
/// (specs/capture.md, "Rewrites"). A commit of the range replaces an older commit O when O is not its ancestor and
/// either their patches are the same (`git patch-id`: a rebase) or the file the checkpoint names is in the new
/// commit with the checkpoint's lines (the same content hash, or at least `minimumShare` of the lines the
/// checkpoint's outputs cover found in the new version: a squash).
package struct RewriteDetector {
    /// A checkpoint output the ledger holds for a path, and whether the ledger already knows the checkpoint under
    /// the new commit.
    package typealias Output = (output: BlameCandidate.Output, known: Bool)

    package static let minimumShare = 0.8

    let facts: GitFacts

    package init(facts: GitFacts) { self.facts = facts }

    /// The `rewrite` records for `range`; `outputs(path, newCommit)` lists the ledger's outputs for a path.
    package func detect(
        range: String, repo: String, at: String, outputs: (String, String) throws -> [Output]
    ) throws -> [JSONValue] {
        let listed = try facts.run(["rev-list", "--reverse", "--no-merges", range, "--"]).text
        var records: [JSONValue] = []
        var patchIDs: [String: String?] = [:]
        func patchID(_ commit: String) throws -> String? {
            if let known = patchIDs[commit] { return known }
            let id = facts.hasCommit(commit) ? try facts.patchIDs([commit])[commit] : nil
            patchIDs[commit] = id
            return id
        }
        for new in listed.split(separator: "\n").map(String.init) {
            let commit = try facts.commit(new)
            var found: [String: String] = [:]  // old commit → kind
            for path in try facts.changedPaths(commit) {
                let candidates = try outputs(path, new).filter { output in
                    output.output.commit != new && !output.known && found[output.output.commit] == nil
                        && !isAncestor(output.output.commit, of: new)
                }
                guard !candidates.isEmpty else { continue }
                guard let current = try facts.blobs(["\(new):\(path)"]).first ?? nil else { continue }
                let currentHash = SHA256.hash(current).description
                let currentLines = Set(CommitRecorder.lines(current).map(LineAttribution.normalize))
                for (candidate, _) in candidates where found[candidate.commit] == nil {
                    if let old = try patchID(candidate.commit), old == (try patchID(new)) {
                        found[candidate.commit] = "rebase"
                    } else if candidate.contentHash == currentHash {
                        found[candidate.commit] = "squash"
                    } else if let oldBytes = try facts.blobs(["\(candidate.commit):\(path)"]).first ?? nil {
                        let oldLines = CommitRecorder.lines(oldBytes)
                        let covered = candidate.ranges.flatMap { range in
                            range.clamped(to: 1...max(1, oldLines.count)).map { oldLines[$0 - 1] }
                        }.map(LineAttribution.normalize).filter { !$0.isEmpty }
                        let present = covered.filter { currentLines.contains($0) }.count
                        if !covered.isEmpty, Double(present) >= Self.minimumShare * Double(covered.count) {
                            found[candidate.commit] = "squash"
                        }
                    }
                }
            }
            for (old, kind) in found.sorted(by: { $0.key < $1.key }) {
                records.append(RewriteRecords.record(old: old, new: new, kind: kind, at: at, repo: repo))
            }
        }
        return records
    }

    private func isAncestor(_ commit: String, of descendant: String) -> Bool {
        (try? facts.attempt(["merge-base", "--is-ancestor", commit, descendant]))?.status == 0
    }
}
