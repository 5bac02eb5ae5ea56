import ArgumentParser
import CairnAudit
import CairnJSON
import CairnLedger
import CairnRecords

struct AuditUndeclared: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "undeclared",
        abstract: "List commits whose messages show AI involvement but that no checkpoint covers.",
        discussion: prose(
            """
            For CI, after changes land: reads the commits of --range with git and lists those whose
            message carries a sign of an AI tool — a Co-authored-by: trailer naming a coding
            assistant (Claude, noreply@anthropic.com, Cursor, Codex, noreply@openai.com, Copilot,
            Gemini, Devin, Aider, Windsurf, Jules, Amazon Q, OpenCode), an Assisted-by: or
            Generated-by: trailer, or another tool's transcript trailer (Entire-Checkpoint:) — and
            that no checkpoint covers (none names the commit, directly or through rewrite records):
            AI changes made without Cairn's hooks, to follow up with `cairn attest` or an import.
            Trailer keys are compared without regard to case, as git does.

            It never blocks: the exit status is 0 whatever it finds, unless --strict is given.
            Output: a table (commit, date, author, subject, markers) and a summary; --json prints
            {"undeclared": [{commit, date, author, subject, markers: [{trailer, tool}]}],
            "commits_examined", "commits_with_markers", "tree_size"}.

            EXAMPLES
              cairn audit undeclared --repo . --range origin/main..HEAD
              cairn audit undeclared --repo . --json

            EXIT STATUS
              0   done (with --strict: nothing listed)
              1   with --strict, at least one commit listed
              64  usage error (for example a range git does not know)
              66  no such ledger or repository, or git is not installed
              70  internal error (a bug in cairn: please report it)
              74  the ledger cannot be read, or the output cannot be written
            """)
    )

    @OptionGroup var location: LedgerLocation

    @Option(help: ArgumentHelp("The git repository (a work tree or a bare repository).", valueName: "path"))
    var repo: String

    @Option(help: ArgumentHelp("A git revision range, e.g. A..B (default: all of HEAD's history).", valueName: "A..B"))
    var range: String?

    @Flag(help: "Skip merge commits.")
    var noMerges = false

    @Flag(help: "Exit 1 when a commit is listed.")
    var strict = false

    @Flag(help: "Print one JSON object.")
    var json = false

    func run() throws {
        try runReportingErrors {
            let ledger = try location.open(readOnly: true)
            let audit = UndeclaredAIAudit(range: range, includeMerges: !noMerges)
            let result = try mappingAuditErrors {
                try audit.run(repository: try GitRepository(path: repo), ledger: ledger)
            }
            if json {
                printJSON(
                    .object(
                        JSONObject([
                            (
                                "undeclared",
                                .array(
                                    result.listed.map { item in
                                        .object(
                                            JSONObject([
                                                ("commit", .string(item.commit.id)),
                                                ("date", .string(item.commit.authorDate)),
                                                ("author", .string(item.commit.author)),
                                                ("subject", .string(item.commit.subject)),
                                                (
                                                    "markers",
                                                    .array(
                                                        item.markers.map {
                                                            .object(
                                                                JSONObject([
                                                                    ("trailer", .string($0.trailer)),
                                                                    ("tool", .string($0.tool)),
                                                                ]))
                                                        })
                                                ),
                                            ]))
                                    })
                            ),
                            ("commits_examined", .number(Double(result.commitsExamined))),
                            ("commits_with_markers", .number(Double(result.commitsWithMarkers))),
                            ("tree_size", .uint(result.treeSize)),
                        ])))
            } else {
                if !result.listed.isEmpty {
                    var rows = [["COMMIT", "DATE", "AUTHOR", "SUBJECT", "MARKERS"]]
                    for item in result.listed {
                        let subject =
                            item.commit.subject.count > 48 ? item.commit.subject.prefix(47) + "…" : item.commit.subject
                        rows.append([
                            String(item.commit.id.prefix(12)), DisplayText.escape(item.commit.authorDate),
                            DisplayText.escape(item.commit.author), DisplayText.escape(String(subject)),
                            DisplayText.escape(item.markers.map(\.trailer).joined(separator: "; ")),
                        ])
                    }
                    printColumns(rows)
                }
                let scope = DisplayText.escape(range ?? "HEAD")
                Console.line(
                    "\(result.listed.isEmpty ? "ok" : "undeclared"): \(result.listed.count) of "
                        + "\(result.commitsWithMarkers) commits with AI markers in \(scope) have no checkpoint "
                        + "(\(result.commitsExamined) examined, ledger size \(result.treeSize))")
            }
            if strict && !result.listed.isEmpty { throw ExitCode(ExitStatus.verificationFailed.rawValue) }
        }
    }
}
