import CairnCrypto
import CairnJSON
import CairnNote
import CairnRecords

/// The in-toto Statement of a checkpoint record (specs/in-toto.md §2): what `cairn export in-toto` signs and the
/// dashboard's proof bundles carry, and what `cairn verify in-toto` checks a statement against.
public enum InTotoStatement {
    public static let statementType = "https://in-toto.io/Statement/v1"
    public static let predicateType = "https://cairn.dev/provenance/checkpoint/v1"

    /// Why a record has no statement (it is not a checkpoint with outputs that make subjects).
    public struct Failure: Error, CustomStringConvertible {
        public let message: String
        init(_ message: String) { self.message = message }
        public var description: String { message }
    }

    /// The statement of the checkpoint record `view`, whose inclusion proof (a C2SP tlog-proof, `proofText`) leads
    /// to `checkpoint`.
    public static func make(
        view: RecordView, checkpoint: Checkpoint, proofText: String
    ) throws(Failure) -> JSONValue {
        let corrections = view.history.filter { $0.type == .correction }
        var entry: JSONObject = ["index": .uint(view.index), "digest": .string(view.digest.description)]
        if let appendedAt = view.appendedAt { entry["appended_at"] = .string(Timestamp.format(appendedAt)) }
        var predicate: JSONObject = [
            "checkpoint": view.effective,
            "entry": .object(entry),
            "corrections": .array(
                corrections.map { .object(["index": .uint($0.index), "digest": .string($0.digest.description)]) }),
        ]
        if !corrections.isEmpty { predicate["original"] = view.original }
        predicate["log"] = .object([
            "origin": .string(checkpoint.origin),
            "tree_size": .uint(checkpoint.size),
            "root_hash": .string(checkpoint.rootHash.base64),
            "inclusion_proof": .string(proofText),
        ])
        return .object([
            "_type": .string(statementType),
            "subject": .array(try subjects(of: view.effective)),
            "predicateType": .string(predicateType),
            "predicate": .object(predicate),
        ])
    }

    /// The subjects of a checkpoint record: one per distinct commit (repository, commit), named
    /// by the commit id with digest `gitCommit`, then one per distinct file (repository, commit,
    /// path, content hash), named `<commit>:<path>` with digest `sha256`; each with
    /// `annotations.repo`. In the order of the record's outputs.
    public static func subjects(of record: JSONValue) throws(Failure) -> [JSONValue] {
        guard let outputs = record["outputs"]?.arrayValue, !outputs.isEmpty else {
            throw Failure("the record has no outputs")
        }
        var commits: [JSONValue] = []
        var files: [JSONValue] = []
        var seenCommits: Set<[String]> = []
        var seenFiles: Set<[String]> = []
        for (i, output) in outputs.enumerated() {
            func field(_ name: String) throws(Failure) -> String {
                guard let value = output[name]?.stringValue, !value.isEmpty else {
                    throw Failure("$.outputs[\(i)].\(name) is missing or not a string")
                }
                return value
            }
            let repo = try field("repo")
            let commit = try field("commit")
            let path = try field("path")
            let contentHash = try field("content_hash")
            guard let digest = SHA256Digest(address: contentHash) else {
                throw Failure("$.outputs[\(i)].content_hash is not sha256:<64 lower-case hex digits>")
            }
            let annotations: JSONValue = .object(["repo": .string(repo)])
            if seenCommits.insert([repo, commit]).inserted {
                commits.append(
                    .object([
                        "name": .string(commit), "digest": .object(["gitCommit": .string(commit)]),
                        "annotations": annotations,
                    ]))
            }
            if seenFiles.insert([repo, commit, path, digest.hex]).inserted {
                files.append(
                    .object([
                        "name": .string(commit + ":" + path), "digest": .object(["sha256": .string(digest.hex)]),
                        "annotations": annotations,
                    ]))
            }
        }
        return commits + files
    }
}
