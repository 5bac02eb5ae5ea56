import CairnAudit
import CairnCrypto
import CairnJSON
import CairnLedger
import CairnRecords
import CairnTestSupport
import Foundation
import Testing

/// A provenance ledger in a temporary directory, filled through the library API.
struct TestLedger {
    let dir: TemporaryDirectory
    let ledger: Ledger

    init(origin: String = "example.com/audit-test", signingKey: Ed25519PrivateKey? = nil) throws {
        dir = try TemporaryDirectory()
        var options = Ledger.CreateOptions()
        options.profile = .provenance
        options.signingKey = signingKey
        ledger = try Ledger.create(at: dir.file("ledger"), origin: origin, options: options)
    }

    /// Appends records in one batch; returns their indexes.
    @discardableResult
    func append(_ records: JSONValue...) throws -> [UInt64] {
        try append(records)
    }

    @discardableResult
    func append(_ records: [JSONValue]) throws -> [UInt64] {
        let rules = ledger.recordRules()
        let entries = try records.map { try PreparedEntry.prepare(record: $0, rules: rules) }
        return try ledger.append(entries).results.map(\.index)
    }

    func digest(_ index: UInt64) throws -> SHA256Digest {
        SHA256.hash(try ledger.entry(at: index))
    }
}

/// Record builders: valid schema-1 records with only what a test varies as parameters.
enum Records {
    static let hash = "sha256:" + String(repeating: "ab", count: 32)

    static func checkpoint(
        _ id: String, at time: String = "2026-11-20T09:00:00Z", commit: String = String(repeating: "a", count: 40),
        requestedBy: String = "alice@example.com", version: String? = "20250929", releaseDate: String? = nil,
        model: String = "claude-sonnet-4-5"
    ) -> JSONValue {
        var modelObject: JSONObject = ["id": .string(model), "provider": "anthropic"]
        if let version { modelObject["version"] = .string(version) }
        if let releaseDate { modelObject["release_date"] = .string(releaseDate) }
        return .object([
            "type": "checkpoint", "schema": 1, "id": .string(id), "timestamp": .string(time),
            "requested_by": .string(requestedBy), "tool_path": "ide", "model": .object(modelObject),
            "prompt": "Add retry with exponential backoff",
            "outputs": [
                [
                    "repo": "git@example.com:payments/client.git", "commit": .string(commit), "path": "src/retry.ts",
                    "ranges": [[12, 58]], "content_hash": .string(hash), "contributor": "ai",
                ]
            ],
        ])
    }

    static func review(_ subject: String, _ reviewer: String, _ decision: String, at time: String) -> JSONValue {
        [
            "type": "review", "schema": 1, "subject": .string(subject), "reviewer": .string(reviewer),
            "decision": .string(decision), "at": .string(time),
        ]
    }

    static func test(_ subject: String, _ result: String, at time: String? = nil, coverage: Double? = nil) -> JSONValue
    {
        var object: JSONObject = ["type": "test", "schema": 1, "subject": .string(subject), "result": .string(result)]
        if let time { object["at"] = .string(time) }
        if let coverage { object["coverage"] = .number(coverage) }
        return .object(object)
    }

    static func deploy(
        _ subject: String, to environment: String = "production", at time: String,
        commit: String = String(repeating: "a", count: 40)
    ) -> JSONValue {
        [
            "type": "deploy", "schema": 1, "subject": .string(subject), "git_commit": .string(commit),
            "branch": "main", "environment": .string(environment), "at": .string(time),
        ]
    }

    static func rollback(_ subject: String, in environment: String = "production", at time: String) -> JSONValue {
        [
            "type": "rollback", "schema": 1, "subject": .string(subject), "environment": .string(environment),
            "at": .string(time), "reason": "error rate above 2% after deploy",
        ]
    }

    static func rewrite(
        _ old: String, _ new: String, kind: String, at time: String = "2026-11-21T00:00:00Z"
    )
        -> JSONValue
    {
        [
            "type": "rewrite", "schema": 1, "old_commit": .string(old), "new_commit": .string(new),
            "kind": .string(kind), "at": .string(time),
        ]
    }

    static func correction(
        of digest: SHA256Digest, reason: String, patch: JSONValue, at time: String? = "2026-11-22T00:00:00Z"
    ) -> JSONValue {
        var object: JSONObject = [
            "type": "correction", "schema": 1, "corrects": .string(digest.description), "author": "erin@example.com",
            "reason": .string(reason), "patch": patch,
        ]
        if let time { object["at"] = .string(time) }
        return .object(object)
    }
}

/// A git repository in a temporary directory, driven through the git program.
struct TestRepository {
    let dir: TemporaryDirectory
    var path: String { dir.path }

    init() throws {
        dir = try TemporaryDirectory()
        try git("init", "-q", "-b", "main")
        try git("config", "user.name", "Test Author")
        try git("config", "user.email", "author@example.com")
        try git("config", "commit.gpgsign", "false")
    }

    /// Runs git in the repository and returns its trimmed stdout; throws when it fails.
    @discardableResult
    func git(_ arguments: String..., environment: [String: String] = [:]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git", "-C", path] + arguments
        var env = ProcessInfo.processInfo.environment
        env["GIT_AUTHOR_DATE"] = "2026-11-20T09:00:00Z"
        env["GIT_COMMITTER_DATE"] = "2026-11-20T09:00:00Z"
        for (key, value) in environment { env[key] = value }
        process.environment = env
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errors = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw GitFailure(
                message: "git \(arguments.joined(separator: " ")): \(String(decoding: errors, as: UTF8.self))")
        }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Writes `file`, commits it with `message` (trailers go after a blank line), returns the id.
    @discardableResult
    func commit(_ message: String, file: String, content: String, trailers: [String] = []) throws -> String {
        try Data(content.utf8).write(to: URL(fileURLWithPath: path + "/" + file))
        try git("add", file)
        let full =
            trailers.isEmpty
            ? message : message + "\n\n" + trailers.map { "Cairn-Checkpoint: " + $0 }.joined(separator: "\n")
        try git("commit", "-q", "-m", full)
        return try git("rev-parse", "HEAD")
    }

    struct GitFailure: Error, CustomStringConvertible {
        let message: String
        var description: String { message }
    }
}
