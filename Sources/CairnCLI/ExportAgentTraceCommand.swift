import ArgumentParser
import CairnCapture
import CairnCommitCapture
import CairnCrypto
import CairnJSON
import CairnLedger
import CairnRecords
import Foundation

struct ExportAgentTraceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent-trace",
        abstract: "Write the checkpoints of a commit as Agent Trace records (JSON Lines).",
        discussion: prose(
            """
            Prints one Agent Trace record (https://github.com/cursor/agent-trace, version 0.1.0) per
            checkpoint whose outputs name --commit, directly or through `rewrite` records (amends,
            rebases, squash merges), one JSON object per line: vcs git at the commit, the tool
            (the capturing agent), per file one conversation per contributor (ai, mixed, human) with
            the model as `provider/model` and the line ranges at the commit, and `metadata.dev.cairn`
            naming the checkpoint, its entry index and digest, and its evidence grade. The output
            validates against the Agent Trace JSON Schema; `cairn import --format agent-trace` reads
            it back.

            When the checkpoint names an older commit that rewrites carried to --commit, its ranges
            are followed to --commit as `cairn blame` follows lines (the same file, or the two
            versions diffed; a line changed since is left out), and `metadata.dev.cairn` says from
            which commit and how. The mapping: specs/interop-formats.md.

            --commit is any revision of the repository (--repo, default: the one around the current
            directory). The ledger is --ledger, else the repository's `cairn.ledger` (git config),
            else $CAIRN_LEDGER, else ./cairn-ledger. A commit no checkpoint names prints nothing
            (and says so on stderr).

            EXIT STATUS
              0   done (nothing printed when no checkpoint names the commit)
              64  usage error
              66  no such repository, commit or ledger
              70  internal error (a bug in cairn: please report it)
              74  the ledger or the repository cannot be read, or standard output cannot be written

            EXAMPLES
              cairn export agent-trace --repo ~/src/app --commit HEAD
              cairn export agent-trace --commit v1.4.0 > trace.jsonl
            """)
    )

    @Option(help: ArgumentHelp("The commit (any revision of the repository).", valueName: "rev"))
    var commit: String

    @Option(help: ArgumentHelp("The repository (default: the one around the current directory).", valueName: "dir"))
    var repo: String?

    @Option(
        help: ArgumentHelp(
            "The ledger directory (default: git config cairn.ledger, else $CAIRN_LEDGER, else ./cairn-ledger).",
            valueName: "dir"))
    var ledger: String?

    func run() throws {
        try runReportingErrors {
            let directory = repo ?? FileManager.default.currentDirectoryPath
            var git: InteropGit?
            if let repository = CaptureRepository.containing(directory) {
                git = InteropGit(root: repository.root)
            } else if repo != nil || !ImportedCheckpoints.isCommitID(commit) {
                throw CLIError(.notFound, "\(directory) is not inside a git repository (pass --repo DIR)")
            }
            let id = try resolve(commit, git: git)
            let directoryOfLedger = ledger ?? git?.settings()["cairn.ledger"] ?? LedgerLocation.defaultDirectory
            var options = Ledger.OpenOptions()
            options.readOnly = true
            let store = try LedgerLocation.open(directoryOfLedger, options: options)
            let records = try store.read { snapshot in try Self.records(snapshot, commit: id, git: git) }
            if records.isEmpty {
                Console.error("no checkpoint names commit \(id)")
            }
            for record in records { printJSON(record) }
        }
    }

    /// The full commit id `revision` names.
    private func resolve(_ revision: String, git: InteropGit?) throws -> String {
        guard let git else { return revision }
        guard !revision.isEmpty, !revision.hasPrefix("-"), !revision.contains(where: \.isNewline) else {
            throw CLIError(.usage, "--commit \(revision.debugDescription) is not a revision")
        }
        let output: Subprocess.Output
        do {
            output = try git.facts.attempt([
                "rev-parse", "--verify", "--quiet", "--end-of-options", revision + "^{commit}",
            ])
        } catch {
            throw CLIError(.notFound, error.message)
        }
        let id = output.text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard output.status == 0, ImportedCheckpoints.isCommitID(id) else {
            throw CLIError(.notFound, "--commit \(revision): no such commit in the repository")
        }
        return id
    }

    /// The Agent Trace records of `commit`, in log order.
    static func records(_ snapshot: LedgerSnapshot, commit: String, git: InteropGit?) throws -> [JSONValue] {
        var query = RecordQuery()
        query.commit = commit
        try query.validate()
        var records: [JSONValue] = []
        for match in try snapshot.query(query) {
            let chain = try snapshot.rewriteChain(checkpoint: match.index, to: commit) ?? []
            var outputCommit = commit
            if let first = chain.first {
                let rewrite = try JSONParser.parse(try snapshot.entry(at: first))
                outputCommit = rewrite["old_commit"]?.stringValue ?? commit
            }
            let outputs = match.facts.outputs.filter { $0.commit == outputCommit }
            var exported: [AgentTrace.ExportedOutput] = []
            var mappings: [String: String] = [:]
            if outputCommit == commit {
                exported = outputs.map {
                    AgentTrace.ExportedOutput(
                        path: $0.path, contributor: $0.contributor,
                        ranges: $0.ranges.map { Int($0.start)...Int($0.end) })
                }
            } else {
                // Carried here by rewrites: follow the lines from the output's commit to this one.
                var contents: [String: [UInt8]] = [:]
                if let git {
                    contents = try git.files(
                        outputs.flatMap { [(commit: commit, path: $0.path), (commit: outputCommit, path: $0.path)] })
                }
                for output in outputs {
                    let ranges = output.ranges.map { Int($0.start)...Int($0.end) }
                    let current = contents[commit + ":" + output.path]
                    let old = contents[outputCommit + ":" + output.path]
                    if git != nil && current == nil { continue }  // the file is gone at this commit
                    if let current, SHA256.hash(current) == output.contentHash {
                        mappings[output.path] = "content-hash"
                        exported.append(.init(path: output.path, contributor: output.contributor, ranges: ranges))
                    } else if let current, let old {
                        mappings[output.path] = "diff"
                        exported.append(
                            .init(
                                path: output.path, contributor: output.contributor,
                                ranges: AgentTrace.mapRanges(ranges, from: old, to: current)))
                    } else {
                        mappings[output.path] = "unchecked"
                        exported.append(.init(path: output.path, contributor: output.contributor, ranges: ranges))
                    }
                }
            }
            guard exported.contains(where: { !$0.ranges.isEmpty }) else { continue }
            records.append(
                AgentTrace.traceRecord(
                    checkpoint: match.record, commit: commit, outputs: exported, entry: match.index,
                    digest: match.digest.description,
                    rewrite: outputCommit == commit
                        ? nil : AgentTrace.Rewrite(outputCommit: outputCommit, mappings: mappings)))
        }
        return records
    }
}
