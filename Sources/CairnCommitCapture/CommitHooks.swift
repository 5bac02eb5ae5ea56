import CairnCapture
import CairnCrypto
import CairnJSON
import CairnRecords

/// The git hooks' work (specs/capture.md, "At commit"): `prepare-commit-msg` adds `Cairn-Checkpoint:` trailers,
/// `post-commit` turns the working log into checkpoint records, `post-rewrite` records rewrites. Records go to the
/// repository's outbox (`<git dir>/cairn/outbox.jsonl`, appended and synced) before anything is taken out of the
/// working log; delivering the outbox to a ledger or server is the caller's (`cairn hooks run`).
package struct CommitHooks {
    package static let trailerKey = "Cairn-Checkpoint"
    package static let outboxFileName = "outbox.jsonl"
    package static let pendingFileName = "pending-checkpoints.json"

    package let repository: CaptureRepository
    package let facts: GitFacts

    package init(repository: CaptureRepository) {
        self.repository = repository
        facts = GitFacts(root: repository.root)
    }

    package var outboxPath: String { repository.cairnDirectory + "/" + Self.outboxFileName }
    var pendingPath: String { repository.cairnDirectory + "/" + Self.pendingFileName }
    var log: WorkingLog { WorkingLog(repository: repository) }

    /// Whether a rebase or a merge is being replayed: its commits are not new work.
    package var replaying: Bool {
        ["rebase-merge", "rebase-apply"].contains { POSIX.exists(repository.gitDirectory + "/" + $0) }
    }

    // MARK: - prepare-commit-msg

    /// Adds a `Cairn-Checkpoint: <id>` trailer to the message in `messageFile` for each session whose edits are
    /// staged, and remembers the ids for `post-commit`. Returns the ids.
    @discardableResult
    package func prepareCommitMessage(messageFile: String) throws(CaptureError) -> [String] {
        guard !replaying else { return [] }
        let events = log.lines().enumerated().compactMap { WorkingEvent(line: $1, position: $0) }
        guard events.contains(where: { !$0.edits.isEmpty }) else { return [] }
        let staged = Set(try facts.stagedPaths())
        let sessions = CommitRecorder.sessions(editing: staged, in: events)
        guard !sessions.isEmpty else { return [] }
        var pending = loadPending()
        for session in sessions where pending[session] == nil { pending[session] = Self.newID() }
        try savePending(pending)
        let ids = sessions.compactMap { pending[$0] }
        var arguments = ["interpret-trailers", "--in-place", "--if-exists", "addIfDifferent"]
        for id in ids { arguments += ["--trailer", "\(Self.trailerKey): \(id)"] }
        _ = try facts.run(arguments + [messageFile])
        return ids
    }

    // MARK: - post-commit

    /// Turns the working log's sessions whose edits HEAD contains into checkpoint records, puts them in the outbox,
    /// and takes the consumed events out of the working log. Returns the records.
    @discardableResult
    package func postCommit(now: Int64) throws(CaptureError) -> [JSONValue] {
        guard !replaying else { return [] }
        let (commit, changedPaths) = try facts.commitAndChanges("HEAD")
        let settings = CommitRecorder.Settings(config: facts.settings(), root: repository.root)
        var records: [JSONValue] = []
        if let picked = Self.cherryPickedFrom(commit.message), picked != commit.id {
            records.append(
                RewriteRecords.record(
                    old: picked, new: commit.id, kind: "cherry_pick", at: Timestamp.format(now), repo: settings.repo))
        }
        let changed = Set(changedPaths)
        let pending = loadPending()
        let facts = self.facts
        let outbox = outboxPath
        var used: [String] = []
        if POSIX.exists(log.path) {
            records += try log.consume { (lines) throws(CaptureError) -> (keep: [[UInt8]], result: [JSONValue]) in
                let events = lines.enumerated().compactMap { WorkingEvent(line: $1, position: $0) }
                let edited = Set(events.flatMap { $0.edits.map(\.file) }).intersection(changed).sorted()
                guard !edited.isEmpty else { return (lines, []) }
                var specs: [String] = []
                for path in edited {
                    specs.append("\(commit.id):\(path)")
                    specs.append(commit.parents.first.map { "\($0):\(path)" } ?? "\(commit.id):\u{0}")
                }
                let blobs = try facts.blobs(specs)
                var files: [String: CommitRecorder.FileVersions] = [:]
                for (index, path) in edited.enumerated() {
                    guard let committed = blobs[2 * index] else { continue }  // deleted
                    files[path] = CommitRecorder.FileVersions(committed: committed, parent: blobs[2 * index + 1])
                }
                let plan = CommitRecorder.plan(
                    events: events, commit: commit.id, changed: changed, files: files, settings: settings,
                    ids: pending, newID: { Self.newID() })
                // Durable in the outbox before the events leave the working log.
                try Self.appendRecords(plan.records, to: outbox)
                used = plan.checkpoints.map(\.session)
                let keep = Set(plan.keep)
                let kept = lines.enumerated().filter { position, line in
                    keep.contains(position) || WorkingEvent(line: line, position: position) == nil
                }.map(\.element)
                return (kept, plan.records)
            }
        } else if !records.isEmpty {
            try Self.appendRecords(records, to: outbox)
        }
        if !used.isEmpty {
            var remaining = pending
            for session in used { remaining[session] = nil }
            try savePending(remaining)
        }
        return records
    }

    /// `(cherry picked from commit <id>)`, as `git cherry-pick -x` writes it.
    static func cherryPickedFrom(_ message: String) -> String? {
        for line in message.split(separator: "\n").reversed() {
            let text = line.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed()
                .map(String.init).joined()
            guard text.hasPrefix("(cherry picked from commit "), text.hasSuffix(")") else { continue }
            let id = text.dropFirst("(cherry picked from commit ".count).dropLast()
            if RewriteRecords.isObjectID(Substring(id.lowercased())) { return id.lowercased() }
        }
        return nil
    }

    // MARK: - post-rewrite

    /// `rewrite` records for git's `post-rewrite` input (`<old> <new> [<extra>]` lines; `how` is `amend` or
    /// `rebase`), put in the outbox. Several old commits rewritten to one new commit are a squash.
    @discardableResult
    package func postRewrite(how: String, input: [UInt8], now: Int64) throws(CaptureError) -> [JSONValue] {
        let settings = CommitRecorder.Settings(config: facts.settings(), root: repository.root)
        let records = RewriteRecords.fromPostRewrite(
            how: how, input: input, at: Timestamp.format(now), repo: settings.repo)
        try Self.appendRecords(records, to: outboxPath)
        return records
    }

    // MARK: - Files

    static func appendRecords(_ records: [JSONValue], to path: String) throws(CaptureError) {
        guard !records.isEmpty else { return }
        var bytes: [UInt8] = []
        for record in records { bytes += JSONWriter.compactBytes(record) + [UInt8(ascii: "\n")] }
        try LockedLines.append(bytes, to: path)
    }

    func loadPending() -> [String: String] {
        guard let bytes = LockedLines.read(pendingPath).first, let object = try? JSONParser.parse(bytes).objectValue
        else { return [:] }
        var pending: [String: String] = [:]
        for (key, value) in object { if let id = value.stringValue { pending[key] = id } }
        return pending
    }

    func savePending(_ pending: [String: String]) throws(CaptureError) {
        let object = JSONObject(pending.sorted { $0.key < $1.key }.map { ($0.key, JSONValue.string($0.value)) })
        _ = try LockedLines.consume(pendingPath) { _ in ([JSONWriter.compactBytes(.object(object))], ()) }
    }

    /// A random (version 4) UUID.
    static func newID() -> String {
        var generator = SystemRandomNumberGenerator()
        var bytes = (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }
        bytes[6] = bytes[6] & 0x0F | 0x40
        bytes[8] = bytes[8] & 0x3F | 0x80
        let hex = Hex.encode(bytes)
        let parts = [0..<8, 8..<12, 12..<16, 16..<20, 20..<32].map { range in
            String(
                hex[
                    hex.index(
                        hex.startIndex, offsetBy: range.lowerBound)..<hex.index(
                            hex.startIndex, offsetBy: range.upperBound)])
        }
        return parts.joined(separator: "-")
    }
}
