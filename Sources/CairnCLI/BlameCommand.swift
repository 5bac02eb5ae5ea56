import ArgumentParser
import CairnAudit
import CairnCapture
import CairnCommitCapture
import CairnJSON
import CairnLedger
import CairnProofs
import CairnRecords
import Foundation

struct BlameCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "blame",
        abstract: "Show, per line of a file, the AI change that produced it — following rebases, squashes and amends.",
        discussion: prose(
            """
            Runs git blame on FILE at --rev (default HEAD) and, for each line, finds the checkpoint
            whose output produced it: a checkpoint naming the line's commit, or an older commit that
            `rewrite` records (from the post-rewrite hook, `cherry-pick -x` or `cairn rewrite detect`)
            carry to it. When the checkpoint names another commit, the line is followed to it by
            diffing the file's two versions (or by their content hash, when equal). Each line shows
            who wrote it (ai, mixed: an agent's line edited by a person, human), the model, the
            session, the requester, the evidence grade (hook, trailer, import, inferred, attested),
            reviewers, tests and deploys. A line no checkpoint explains shows `-`.

            The ledger is --ledger, else the repository's `cairn.ledger` (git config), else
            $CAIRN_LEDGER, else ./cairn-ledger. With --logs DIR, every log of a log directory
            (`cairn logs`: the shards of a log over time) is searched, and each line names the log
            of its checkpoint; a rewrite is followed within the shard that holds the checkpoint.
            Blame is a read: it never signs or stores anything.

            --prove LINE writes one JSON bundle to standard output: the checkpoint record, the
            rewrite records leading to the line's commit, and a C2SP tlog-proof of each to the
            ledger's latest signed checkpoint. `cairn verify bundle FILE --vkey V` checks it
            offline (specs/capture.md, "Line bundles").

            EXIT STATUS
              0   done (with --prove: the bundle was written)
              1   with --prove: no checkpoint explains the line
              64  usage error (a line number beyond the file)
              66  no such repository, file, revision or ledger
              70  internal error (a bug in cairn: please report it)
              74  the ledger cannot be read, or the output cannot be written

            EXAMPLES
              cairn blame src/app.py
              cairn blame src/app.py --rev HEAD~1 --json
              cairn blame src/app.py --prove 12 > line12.json
            """)
    )

    @Argument(help: ArgumentHelp("The file, relative to the current directory.", valueName: "file"))
    var file: String

    @Option(help: ArgumentHelp("The revision to blame (default: HEAD).", valueName: "rev"))
    var rev: String = "HEAD"

    @Option(
        help: ArgumentHelp(
            "The ledger directory (default: git config cairn.ledger, else $CAIRN_LEDGER).", valueName: "dir"))
    var ledger: String?

    @Option(
        help: ArgumentHelp(
            "Search every log of this log directory (`cairn logs`) instead of one ledger.", valueName: "dir"))
    var logs: String?

    @Flag(help: "Print one JSON object per line.")
    var json = false

    @Option(help: ArgumentHelp("Write the proof bundle of this line (1-based) to standard output.", valueName: "line"))
    var prove: Int?

    func run() throws {
        try runReportingErrors {
            let current = FileManager.default.currentDirectoryPath
            let absolute = file.hasPrefix("/") ? file : current + "/" + file
            let directory = (absolute as NSString).deletingLastPathComponent
            guard
                let repository = CaptureRepository.containing(
                    FileManager.default.fileExists(atPath: directory) ? directory : current)
            else {
                throw CLIError(.notFound, "\(DisplayText.escape(file)) is not inside a git repository")
            }
            let path = repository.relativePath(absolute, cwd: nil)
            let facts = GitFacts(root: repository.root)
            let config = facts.settings()
            let stores = try openStores(config: config)
            let blame = Blame(facts: facts)
            let lines: [Blame.Line]
            do {
                lines = try blame.lines(path: path, revision: rev) { commit, commitPath in
                    try stores.flatMap { store in
                        try store.ledger.read { snapshot in
                            try Self.candidates(snapshot, commit: commit, path: commitPath).map { candidate in
                                var candidate = candidate
                                candidate.log = store.name
                                return candidate
                            }
                        }
                    }
                }
            } catch let error as CaptureError {
                throw CLIError(.notFound, error.message)
            }
            if let prove {
                guard prove >= 1, prove <= lines.count else {
                    throw CLIError(.usage, "--prove \(prove): \(path) has \(lines.count) lines at \(rev)")
                }
                let line = lines[prove - 1]
                guard let attribution = line.attribution,
                    let store = stores.first(where: { $0.name == attribution.candidate.log })
                else {
                    throw CLIError(
                        .verificationFailed, "no checkpoint explains line \(prove) of \(DisplayText.escape(path))")
                }
                try store.ledger.read { snapshot in
                    var entries: [(role: String, entry: [UInt8], proof: String)] = []
                    let size = snapshot.treeSize
                    for (role, index) in [("checkpoint", attribution.candidate.index)]
                        + attribution.candidate.rewrites.map({ ("rewrite", $0) })
                    {
                        let proof = try snapshot.inclusionProof(index: index, size: size)
                        let text = TlogProof(index: proof.index, hashes: proof.hashes, checkpoint: proof.checkpoint)
                            .serialized
                        entries.append((role, try snapshot.entry(at: index), text))
                    }
                    let bundle = LineBundle(
                        repo: config["remote.origin.url"], path: line.commitPath, commit: line.commit,
                        line: line.commitLine, outputCommit: attribution.outputCommit,
                        outputLine: attribution.outputLine, contributor: attribution.contributor, entries: entries)
                    Console.line(JSONWriter.pretty(bundle.json))
                }
                return
            }
            for line in lines { emit(line) }
        }
    }

    /// The ledgers to search: every log of --logs, else the one ledger (named nil).
    private func openStores(config: [String: String]) throws -> [(name: String?, ledger: Ledger)] {
        var options = Ledger.OpenOptions()
        options.readOnly = true
        guard let logs else {
            let directoryOfLedger = ledger ?? config["cairn.ledger"] ?? LedgerLocation.defaultDirectory
            return [(nil, try LedgerLocation.open(directoryOfLedger, options: options))]
        }
        guard ledger == nil else { throw CLIError.logsWithLedger }
        return try openLogDirectory(logs).map { ($0.name, $0.ledger) }
    }

    private func emit(_ line: Blame.Line) {
        let attribution = line.attribution
        let candidate = attribution?.candidate
        if json {
            var members: [(String, JSONValue)] = [
                ("line", .number(Double(line.number))), ("commit", .string(line.commit)),
                ("contributor", attribution.map { .string($0.contributor) } ?? .null),
            ]
            if let attribution, let candidate {
                if let log = candidate.log { members.append(("log", .string(log))) }
                members += [
                    ("checkpoint", .string(candidate.id)), ("index", .uint(candidate.index)),
                    ("model", candidate.model.map { .string($0) } ?? .null),
                    ("session", candidate.session.map { .string($0) } ?? .null),
                    ("requested_by", candidate.requester.map { .string($0) } ?? .null),
                    ("grade", .string(candidate.grade)),
                    ("output_commit", .string(attribution.outputCommit)),
                    ("output_line", .number(Double(attribution.outputLine))),
                    ("mapping", .string(attribution.mapping)),
                    ("rewrites", .array(candidate.rewrites.map { .uint($0) })),
                    ("reviewers", .array(candidate.reviewers.map { .string($0) })),
                    ("tests", .array(candidate.tests.map { .string($0) })),
                    ("deploys", .array(candidate.deploys.map { .string($0) })),
                ]
            }
            members.append(("text", .string(line.text)))
            Console.line(DisplayText.escapeJSON(JSONWriter.compact(.object(JSONObject(members)))))
            return
        }
        let who: String
        if let attribution, let candidate {
            // A person's line in a file an agent changed: the checkpoint recorded it, no model wrote it.
            let model = attribution.contributor == "human" ? "-" : candidate.model ?? "?"
            var parts = [
                attribution.contributor, model, candidate.session ?? "-", candidate.requester ?? "-", candidate.grade,
            ]
            if !candidate.reviewers.isEmpty { parts.append("reviewed:" + candidate.reviewers.joined(separator: ",")) }
            if !candidate.tests.isEmpty { parts.append("tests:" + candidate.tests.joined(separator: ",")) }
            if !candidate.deploys.isEmpty { parts.append("deployed:" + candidate.deploys.joined(separator: ",")) }
            if let log = candidate.log { parts.append("log:" + log) }
            who = parts.joined(separator: " ")
        } else {
            who = "-"
        }
        Console.line(
            DisplayText.escape("\(line.commit.prefix(8)) \(line.number): [\(who)]") + " "
                + DisplayText.escape(line.text))
    }

    /// The checkpoints known under `commit` (directly or through rewrites) with outputs for `path`.
    static func candidates(_ snapshot: LedgerSnapshot, commit: String, path: String) throws -> [BlameCandidate] {
        var query = RecordQuery()
        query.commit = commit
        query.path = path
        return try snapshot.query(query).map { match in
            let outputs = match.facts.outputs.filter { $0.path == path }.map(BlameCandidate.Output.init)
            let view = try snapshot.view(match.index)
            var reviewers: [String] = []
            var tests: [String] = []
            var deploys: [String] = []
            for item in view.history {
                switch item.type {
                case .review:
                    let who = item.record["reviewer"]?.stringValue ?? "?"
                    reviewers.append(who + (item.record["decision"]?.stringValue.map { "(\($0))" } ?? ""))
                case .test:
                    tests.append(item.record["result"]?.stringValue ?? "?")
                case .deploy:
                    deploys.append(item.record["environment"]?.stringValue ?? "?")
                default:
                    break
                }
            }
            return BlameCandidate(
                index: match.index, id: match.facts.id ?? "", model: match.facts.modelID,
                session: match.facts.sessionID,
                requester: match.facts.requestedBy,
                grade: match.record["x_capture"]?["grade"]?.stringValue ?? "unknown", outputs: outputs,
                rewrites: try snapshot.rewriteChain(checkpoint: match.index, to: commit) ?? [],
                reviewers: reviewers, tests: tests, deploys: deploys)
        }
    }
}
