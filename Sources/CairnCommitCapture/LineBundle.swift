import CairnJSON
import CairnNote
import CairnProofs

/// `cairn blame --prove LINE`: one JSON document proving which checkpoint produced a line — the checkpoint record,
/// the `rewrite` records that carry it to the blamed commit, and a C2SP tlog-proof of each, all to one signed
/// checkpoint — that `cairn verify bundle` checks offline with the log's verifier key (specs/capture.md,
/// "Line bundles").
package struct LineBundle: Sendable, Equatable {
    package static let format = "cairn-line-bundle/1"

    /// The line's claim.
    package var repo: String?
    package var path: String
    /// The commit git blame gives for the line, and the line's number in it.
    package var commit: String
    package var line: Int
    /// The commit and line the checkpoint's output names (the line in the checkpoint's own commit).
    package var outputCommit: String
    package var outputLine: Int
    package var contributor: String
    /// The checkpoint's record, then each rewrite's, as stored (canonical JSON), each with its tlog-proof text.
    package var entries: [(role: String, entry: [UInt8], proof: String)]

    package init(
        repo: String?, path: String, commit: String, line: Int, outputCommit: String, outputLine: Int,
        contributor: String, entries: [(role: String, entry: [UInt8], proof: String)]
    ) {
        self.repo = repo
        self.path = path
        self.commit = commit
        self.line = line
        self.outputCommit = outputCommit
        self.outputLine = outputLine
        self.contributor = contributor
        self.entries = entries
    }

    package static func == (a: LineBundle, b: LineBundle) -> Bool {
        a.json == b.json
    }

    package var json: JSONValue {
        var claim: [(String, JSONValue)] = []
        if let repo { claim.append(("repo", .string(repo))) }
        claim += [
            ("path", .string(path)), ("commit", .string(commit)), ("line", .number(Double(line))),
            ("output_commit", .string(outputCommit)), ("output_line", .number(Double(outputLine))),
            ("contributor", .string(contributor)),
        ]
        return .object(
            JSONObject([
                ("format", .string(Self.format)),
                ("claim", .object(JSONObject(claim))),
                (
                    "entries",
                    .array(
                        entries.map {
                            .object(
                                JSONObject([
                                    ("role", .string($0.role)),
                                    ("entry", .string(String(decoding: $0.entry, as: UTF8.self))),
                                    ("proof", .string($0.proof)),
                                ]))
                        })
                ),
            ]))
    }

    /// Parses a bundle; errors name the member.
    package init(parsing bytes: [UInt8]) throws(ProofError) {
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes)
        } catch {
            throw ProofError(.malformed, "the bundle is not JSON: \(error)")
        }
        guard value["format"]?.stringValue == Self.format else {
            throw ProofError(.malformed, "$.format: expected \"\(Self.format)\"")
        }
        guard let claim = value["claim"]?.objectValue else {
            throw ProofError(.malformed, "$.claim: missing or not an object")
        }
        func text(_ key: String) throws(ProofError) -> String {
            guard let value = claim[key]?.stringValue, !value.isEmpty else {
                throw ProofError(.malformed, "$.claim.\(key): missing or not a string")
            }
            return value
        }
        func number(_ key: String) throws(ProofError) -> Int {
            guard let value = claim[key]?.intValue, value >= 1 else {
                throw ProofError(.malformed, "$.claim.\(key): missing or not a line number")
            }
            return value
        }
        repo = claim["repo"]?.stringValue
        path = try text("path")
        commit = try text("commit")
        line = try number("line")
        outputCommit = try text("output_commit")
        outputLine = try number("output_line")
        contributor = try text("contributor")
        guard let items = value["entries"]?.arrayValue, !items.isEmpty else {
            throw ProofError(.malformed, "$.entries: missing or empty")
        }
        var entries: [(role: String, entry: [UInt8], proof: String)] = []
        for (position, item) in items.enumerated() {
            guard let role = item["role"]?.stringValue, let entry = item["entry"]?.stringValue,
                let proof = item["proof"]?.stringValue
            else {
                throw ProofError(.malformed, "$.entries[\(position)]: needs role, entry and proof strings")
            }
            entries.append((role, Array(entry.utf8), proof))
        }
        self.entries = entries
    }

    /// What a verified bundle shows.
    package struct Verified: Sendable, Equatable {
        package let checkpointID: String
        package let model: String
        package let session: String?
        package let requester: String?
        package let grade: String?
        package let rewrites: Int
        package let checkpoint: Checkpoint
    }

    /// Verifies every entry's proof with `key` (all to one checkpoint of the log), that the first entry is a
    /// checkpoint record whose output for the path at `output_commit` covers `output_line` with the claimed
    /// contributor, and that the rewrites lead from `output_commit` to `commit`, in order.
    package func verify(key: NoteVerifierKey) throws(ProofError) -> Verified {
        var signed: Checkpoint?
        var records: [JSONValue] = []
        for (position, item) in entries.enumerated() {
            let where_ = "$.entries[\(position)]"
            let proof: TlogProof
            do {
                proof = try TlogProof(parsing: Array(item.proof.utf8))
            } catch {
                throw ProofError(error.code, "\(where_).proof: \(error.message)")
            }
            let checkpoint: Checkpoint
            do {
                checkpoint = try proof.verify(entry: item.entry, logKey: key)
            } catch {
                throw ProofError(error.code, "\(where_): the entry is not proven in the log: \(error.message)")
            }
            if let signed, signed != checkpoint {
                throw ProofError(
                    .claimMismatch,
                    "\(where_): proven to another checkpoint than the first entry (size \(checkpoint.size))")
            }
            signed = checkpoint
            guard let record = try? JSONParser.parse(item.entry), record.objectValue != nil else {
                throw ProofError(.claimMismatch, "\(where_).entry: not a JSON object")
            }
            records.append(record)
        }
        guard let checkpoint = records.first, let signed else {
            throw ProofError(.malformed, "$.entries: missing or empty")
        }
        guard entries[0].role == "checkpoint", checkpoint["type"]?.stringValue == "checkpoint" else {
            throw ProofError(.claimMismatch, "$.entries[0]: not a checkpoint record")
        }
        let covers = (checkpoint["outputs"]?.arrayValue ?? []).contains { output in
            output["path"]?.stringValue == path && output["commit"]?.stringValue == outputCommit
                && output["contributor"]?.stringValue == contributor
                && (output["ranges"]?.arrayValue ?? []).contains { range in
                    guard let start = range[0]?.intValue, let end = range[1]?.intValue else { return false }
                    return start <= outputLine && outputLine <= end
                }
        }
        guard covers else {
            throw ProofError(
                .claimMismatch,
                "the checkpoint has no \(contributor) output for \(path) at \(outputCommit) covering line \(outputLine)"
            )
        }
        var current = outputCommit
        for (offset, rewrite) in records.dropFirst().enumerated() {
            let where_ = "$.entries[\(offset + 1)]"
            guard entries[offset + 1].role == "rewrite", rewrite["type"]?.stringValue == "rewrite" else {
                throw ProofError(.claimMismatch, "\(where_): not a rewrite record")
            }
            guard rewrite["old_commit"]?.stringValue == current, let new = rewrite["new_commit"]?.stringValue else {
                throw ProofError(.claimMismatch, "\(where_): its old_commit is not \(current), where the chain stands")
            }
            current = new
        }
        guard current == commit else {
            throw ProofError(.claimMismatch, "the rewrites lead to \(current), not to the claimed commit \(commit)")
        }
        return Verified(
            checkpointID: checkpoint["id"]?.stringValue ?? "", model: checkpoint["model"]?["id"]?.stringValue ?? "",
            session: checkpoint["session_id"]?.stringValue, requester: checkpoint["requested_by"]?.stringValue,
            grade: checkpoint["x_capture"]?["grade"]?.stringValue, rewrites: records.count - 1,
            checkpoint: signed)
    }
}
