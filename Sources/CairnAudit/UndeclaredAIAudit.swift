import CairnLedger

/// A sign in a commit message that an AI tool took part: a co-author trailer naming a known assistant, an
/// `Assisted-by:` or `Generated-by:` trailer, or another tool's transcript trailer (`Entire-Checkpoint:`).
public struct AIMarker: Sendable, Hashable {
    /// The trailer as it appears (`Co-Authored-By: Claude Opus 4.6 <noreply@anthropic.com>`).
    public let trailer: String
    /// The tool it names (`claude`, `cursor`, `codex`, `copilot`, `gemini`, …) or the trailer's key for the generic
    /// ones (`assisted-by`, `generated-by`, `entire-checkpoint`).
    public let tool: String

    /// Co-author names and addresses of coding assistants, lowercased, and the tool each means.
    static let coauthors: [(needle: String, tool: String)] = [
        ("noreply@anthropic.com", "claude"), ("claude", "claude"), ("cursoragent@cursor.com", "cursor"),
        ("cursor", "cursor"), ("noreply@openai.com", "codex"), ("codex", "codex"), ("chatgpt", "codex"),
        ("copilot", "copilot"), ("gemini", "gemini"), ("google-labs-jules", "jules"), ("devin", "devin"),
        ("aider", "aider"), ("windsurf", "windsurf"), ("amazon q", "amazon-q"), ("opencode", "opencode"),
    ]

    /// The AI markers among a commit message's trailers (`Key: value` lines of its last paragraph, keys compared
    /// without regard to case, as git does).
    public static func markers(inTrailers trailers: [String]) -> [AIMarker] {
        var found: [AIMarker] = []
        for trailer in trailers {
            guard let colon = trailer.firstIndex(of: ":") else { continue }
            let key = trailer[..<colon].trimmingWhitespace().lowercased()
            let value = trailer[trailer.index(after: colon)...].trimmingWhitespace().lowercased()
            switch key {
            case "co-authored-by":
                if let match = coauthors.first(where: { value.contains($0.needle) }) {
                    found.append(AIMarker(trailer: trailer, tool: match.tool))
                }
            case "assisted-by", "generated-by", "ai-assisted-by", "entire-checkpoint":
                found.append(AIMarker(trailer: trailer, tool: key))
            default:
                break
            }
        }
        return found
    }
}

/// A commit that declares AI involvement without a checkpoint covering it.
public struct UndeclaredCommit: Sendable, Hashable {
    public let commit: GitCommit
    public let markers: [AIMarker]
}

public struct UndeclaredAIResult: Sendable, Hashable {
    public let treeSize: UInt64
    public let commitsExamined: Int
    /// Commits with at least one AI marker.
    public let commitsWithMarkers: Int
    /// Those of them no checkpoint covers, newest first.
    public let listed: [UndeclaredCommit]
}

/// `cairn audit undeclared`: in CI, the commits whose messages show AI involvement (co-author trailers of coding
/// assistants, `Assisted-by:`, `Generated-by:`, an agent transcript's trailer) but that no checkpoint covers —
/// changes made without Cairn's hooks, for follow-up. A checkpoint covers a commit as for `cairn audit missing`:
/// one of its outputs names it, directly or through `rewrite` records.
public struct UndeclaredAIAudit: Sendable {
    public var range: String?
    public var includeMerges: Bool

    public init(range: String? = nil, includeMerges: Bool = true) {
        self.range = range
        self.includeMerges = includeMerges
    }

    public func run(repository: GitRepository, ledger: Ledger) throws -> UndeclaredAIResult {
        let commits = try repository.commitsWithTrailers(range: range, includeMerges: includeMerges)
        return try ledger.read { snapshot in
            var listed: [UndeclaredCommit] = []
            var withMarkers = 0
            for (commit, trailers) in commits {
                let markers = AIMarker.markers(inTrailers: trailers)
                guard !markers.isEmpty else { continue }
                withMarkers += 1
                var query = RecordQuery()
                query.commit = commit.id
                query.limit = 1
                if try snapshot.query(query).isEmpty {
                    listed.append(UndeclaredCommit(commit: commit, markers: markers))
                }
            }
            return UndeclaredAIResult(
                treeSize: snapshot.treeSize, commitsExamined: commits.count, commitsWithMarkers: withMarkers,
                listed: listed)
        }
    }
}

extension GitRepository {
    /// The commits of `range` (as `commits(range:includeMerges:)`) with every trailer of each message.
    public func commitsWithTrailers(range: String?, includeMerges: Bool) throws(AuditError) -> [(GitCommit, [String])] {
        let commits = try self.commits(range: range, includeMerges: includeMerges)
        guard !commits.isEmpty else { return [] }
        // One `git log` for the trailers: the commit id, then its trailers separated by 0x1F, then a NUL.
        var arguments = [
            "log", "--no-show-signature", "--no-color", "--format=%H%x1f%(trailers:unfold,separator=%x1f)%x00",
        ]
        if !includeMerges { arguments.append("--no-merges") }
        arguments += ["--end-of-options", range ?? "HEAD", "--"]
        let output = try run(arguments)
        guard output.status == 0 else {
            throw AuditError(.invalidRange, "git cannot list trailers: \(output.firstErrorLine)")
        }
        var trailers: [String: [String]] = [:]
        for record in output.stdout.split(separator: 0) {
            let fields = record.split(separator: 0x1F, omittingEmptySubsequences: false).map {
                String(decoding: $0, as: UTF8.self).trimmingWhitespace()
            }
            guard let id = fields.first, !id.isEmpty else { continue }
            trailers[id] = fields.dropFirst().filter { !$0.isEmpty }
        }
        return commits.map { ($0, trailers[$0.id] ?? []) }
    }
}

extension StringProtocol {
    /// Without leading and trailing spaces, tabs and line breaks.
    func trimmingWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        return String(self[first...last])
    }
}
