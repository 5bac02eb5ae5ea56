import CairnCapture
import CairnCrypto
import CairnRecords

/// A checkpoint that may explain lines of a commit: what `cairn blame` asks the ledger for each commit git blame
/// names (checkpoints whose outputs name the commit, directly or through `rewrite` records).
package struct BlameCandidate: Sendable, Equatable {
    package struct Output: Sendable, Equatable {
        package let commit: String
        package let ranges: [ClosedRange<Int>]
        package let contributor: String
        package let contentHash: String

        package init(commit: String, ranges: [ClosedRange<Int>], contributor: String, contentHash: String) {
            self.commit = commit
            self.ranges = ranges
            self.contributor = contributor
            self.contentHash = contentHash
        }

        /// A stored record's output.
        package init(_ output: OutputFacts) {
            self.init(
                commit: output.commit, ranges: output.ranges.map { Int($0.start)...Int($0.end) },
                contributor: output.contributor, contentHash: output.contentHash.description)
        }
    }

    package let index: UInt64
    package let id: String
    package let model: String?
    package let session: String?
    package let requester: String?
    /// How the record was captured (`hook`, `trailer`, `import`, `inferred`, `attested`); `unknown` when it does
    /// not say.
    package let grade: String
    /// The checkpoint's outputs for the blamed path.
    package let outputs: [Output]
    /// The `rewrite` entries from the outputs' commit to the blamed commit, oldest first.
    package let rewrites: [UInt64]
    package let reviewers: [String]
    package let tests: [String]
    package let deploys: [String]
    /// The log of a log directory the checkpoint is in (`cairn blame --logs`); nil for a single ledger.
    package var log: String?

    package init(
        index: UInt64, id: String, model: String?, session: String?, requester: String?, grade: String,
        outputs: [Output], rewrites: [UInt64], reviewers: [String] = [], tests: [String] = [], deploys: [String] = []
    ) {
        self.index = index
        self.id = id
        self.model = model
        self.session = session
        self.requester = requester
        self.grade = grade
        self.outputs = outputs
        self.rewrites = rewrites
        self.reviewers = reviewers
        self.tests = tests
        self.deploys = deploys
    }
}

/// `cairn blame`: for each line of a file at a revision, the checkpoint that produced it — following rewrites —
/// mapped back through the line's history with git's own blame (specs/capture.md, "Blame").
package struct Blame {
    package struct Line: Sendable, Equatable {
        /// 1-based, in the file at the blamed revision.
        package let number: Int
        package let text: String
        /// The commit git blame gives for the line, and the line's number and path in it.
        package let commit: String
        package let commitLine: Int
        package let commitPath: String
        package var attribution: Attribution?
    }

    package struct Attribution: Sendable, Equatable {
        package let candidate: BlameCandidate
        package let contributor: String
        /// The commit and line the checkpoint's output names.
        package let outputCommit: String
        package let outputLine: Int
        /// How the line was followed from the output's commit to the blamed one: `same` (the same commit),
        /// `diff` (the two versions of the file diffed), `content-hash` (identical files) or `unchecked` (the old
        /// commit is not in this repository: line numbers taken as they are).
        package let mapping: String
    }

    let facts: GitFacts

    package init(facts: GitFacts) { self.facts = facts }

    /// Blames `path` at `revision`; `candidates(commit, path)` lists the ledger's checkpoints for a commit.
    package func lines(
        path: String, revision: String, candidates: (String, String) throws -> [BlameCandidate]
    ) throws -> [Line] {
        let output = try facts.run(["blame", "--porcelain", revision, "--", path]).stdout
        var lines = Self.parsePorcelain(output)
        var byCommit: [String: [Int]] = [:]
        for (position, line) in lines.enumerated() { byCommit[line.commit, default: []].append(position) }
        for (commit, positions) in byCommit where !commit.allSatisfy({ $0 == "0" }) {
            var byPath: [String: [Int]] = [:]
            for position in positions { byPath[lines[position].commitPath, default: []].append(position) }
            for (commitPath, positions) in byPath {
                let found = try candidates(commit, commitPath).sorted { $0.index > $1.index }  // latest first
                guard !found.isEmpty else { continue }
                let mappers = try mappings(found, commit: commit, path: commitPath)
                for position in positions {
                    let line = lines[position]
                    // An agent's claim on the line (ai, mixed) wins over a record that saw a person's line there
                    // (an amend's checkpoint lists every line it did not write as human); then the latest.
                    search: for human in [false, true] {
                        for candidate in found {
                            for output in candidate.outputs where (output.contributor == "human") == human {
                                guard let mapper = mappers[output.commit],
                                    let mapped = mapper.map(line.commitLine),
                                    output.ranges.contains(where: { $0.contains(mapped) })
                                else { continue }
                                lines[position].attribution = Attribution(
                                    candidate: candidate, contributor: output.contributor, outputCommit: output.commit,
                                    outputLine: mapped, mapping: mapper.kind)
                                break search
                            }
                        }
                    }
                }
            }
        }
        return lines
    }

    /// How a line number of the blamed commit's file maps to the same line in an output's commit.
    struct Mapper {
        let kind: String
        let table: [Int?]?

        func map(_ line: Int) -> Int? {
            guard let table else { return line }
            guard line >= 1, line <= table.count else { return nil }
            return table[line - 1].map { $0 + 1 }
        }
    }

    private func mappings(_ candidates: [BlameCandidate], commit: String, path: String) throws -> [String: Mapper] {
        var commits: [String: String] = [:]  // output commit → its content hash for the path
        for candidate in candidates {
            for output in candidate.outputs { commits[output.commit] = output.contentHash }
        }
        var mappers: [String: Mapper] = [:]
        let others = commits.keys.filter { $0 != commit }.sorted()
        if commits[commit] != nil { mappers[commit] = Mapper(kind: "same", table: nil) }
        guard !others.isEmpty else { return mappers }
        let blobs = try facts.blobs(["\(commit):\(path)"] + others.map { "\($0):\(path)" })
        guard let current = blobs[0] else { return mappers }
        let currentLines = CommitRecorder.lines(current)
        let currentHash = SHA256.hash(current).description
        for (offset, other) in others.enumerated() {
            if commits[other] == currentHash {
                mappers[other] = Mapper(kind: "content-hash", table: nil)
            } else if let old = blobs[offset + 1] {
                let table = LineDiff.newToOld(
                    CommitRecorder.lines(old).map(LineAttribution.normalize),
                    currentLines.map(LineAttribution.normalize))
                mappers[other] = Mapper(kind: "diff", table: table)
            } else {
                mappers[other] = Mapper(kind: "unchecked", table: nil)
            }
        }
        return mappers
    }

    /// Parses `git blame --porcelain`.
    static func parsePorcelain(_ bytes: [UInt8]) -> [Line] {
        var lines: [Line] = []
        var paths: [String: String] = [:]  // commit → its filename, as porcelain gives it once per group
        var header: (commit: String, original: Int, final: Int)?
        for raw in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            if raw.first == UInt8(ascii: "\t") {
                guard let current = header else { continue }
                lines.append(
                    Line(
                        number: current.final, text: String(decoding: raw.dropFirst(), as: UTF8.self),
                        commit: current.commit, commitLine: current.original,
                        commitPath: paths[current.commit] ?? "", attribution: nil))
                header = nil
                continue
            }
            let text = String(decoding: raw, as: UTF8.self)
            let words = text.split(separator: " ")
            if header == nil, words.count >= 3, words[0].count >= 40, words[0].allSatisfy(\.isHexDigit),
                let original = Int(words[1]), let final = Int(words[2])
            {
                header = (String(words[0]), original, final)
            } else if let current = header, text.hasPrefix("filename ") {
                paths[current.commit] = String(text.dropFirst("filename ".count))
            }
        }
        return lines
    }
}
