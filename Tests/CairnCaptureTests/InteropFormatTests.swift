import CairnCrypto
import CairnJSON
import CairnRecords
import CairnTestSupport
import Foundation
import Testing

@testable import CairnCommitCapture

/// The converters of other provenance formats (specs/interop-formats.md), on the published vectors
/// (Tests/Vectors/capture/agent-trace, Tests/Vectors/capture/git-ai-authorship) and on malformed input: Agent Trace
/// records to checkpoints and back, git-ai authorship notes to checkpoints. Every record made is a valid checkpoint;
/// every input that cannot be imported is an `ImportProblem` naming its line, never a trap.
@Suite struct InteropFormatTests {
    // MARK: - Helpers

    static let vectors = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Vectors/capture")
    /// The revision of the Agent Trace examples.
    static let commit = "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0"
    static let origin = "https://example.com/team/app.git"

    static func bytes(_ path: String) throws -> [UInt8] {
        Array(try Data(contentsOf: vectors.appendingPathComponent(path)))
    }

    static func text(_ path: String) throws -> String { String(decoding: try bytes(path), as: UTF8.self) }

    static func json(_ path: String) throws -> JSONValue { try JSONParser.parse(try bytes(path)) }

    /// A file of `count` lines, different per path.
    static func file(_ path: String, lines count: Int = 100) -> [UInt8] {
        Array((1...count).map { "\(path) line \($0)\n" }.joined().utf8)
    }

    /// A repository with one commit (`commit`, also known by its first 7 digits) holding `paths`.
    static func repository(
        commit: String = Self.commit, paths: [String: Int] = [:], defaultLines: Int? = 100
    ) -> ImportRepository {
        ImportRepository(
            name: origin,
            commit: { revision in
                revision == commit || (revision.count >= 4 && commit.hasPrefix(revision)) ? commit : nil
            },
            file: { at, path in
                guard at == commit else { return nil }
                if let lines = paths[path] { return Self.file(path, lines: lines) }
                return defaultLines.map { Self.file(path, lines: $0) }
            })
    }

    static func agentTrace(
        _ trace: JSONValue, repository: ImportRepository = repository()
    ) throws(ImportProblem) -> ImportConversion {
        try AgentTrace.checkpoints(from: trace, line: 1, repository: repository, requestedBy: "unknown")
    }

    static func problem(_ body: () throws(ImportProblem) -> Void) -> ImportProblem? {
        do {
            try body()
            return nil
        } catch {
            return error
        }
    }

    /// `value` with `member` set (an object).
    static func setting(_ value: JSONValue, _ member: String, _ new: JSONValue?) -> JSONValue {
        guard case .object(var object) = value else { return value }
        if let new { object[member] = new } else { _ = object.removeValue(forKey: member) }
        return .object(object)
    }

    /// A trace record around `files` (a fragment's).
    static func record(files: JSONValue, id: String = "11111111-2222-4333-8444-555555555555") -> JSONValue {
        .object(
            JSONObject([
                ("version", "0.1.0"), ("id", .string(id)), ("timestamp", "2026-01-25T10:00:00Z"),
                ("vcs", .object(["type": "git", "revision": .string(commit)])), ("files", files),
            ]))
    }

    static func outputs(_ record: JSONValue) -> [(path: String, contributor: String, ranges: [[Int]])] {
        (record["outputs"]?.arrayValue ?? []).map { output in
            (
                output["path"]?.stringValue ?? "", output["contributor"]?.stringValue ?? "",
                (output["ranges"]?.arrayValue ?? []).map { ($0.arrayValue ?? []).compactMap(\.intValue) }
            )
        }
    }

    static func expectValid(_ record: JSONValue, sourceLocation: SourceLocation = #_sourceLocation) {
        let issues = RecordValidator.issues(in: record, options: .init(strictFields: false))
        #expect(issues.isEmpty, "\(issues.map(\.description))", sourceLocation: sourceLocation)
    }

    // MARK: - Shared pieces

    @Test("Derived ids are UUIDs (version 8), the same for the same parts and different otherwise")
    func derivedIDs() {
        let id = ImportedCheckpoints.uuid(["git-ai", Self.commit, "s_c9883b05a2487d"])
        #expect(ImportedCheckpoints.isUUID(id))
        #expect(Array(id)[14] == "8")
        #expect("89ab".contains(Array(id)[19]))
        #expect(id == ImportedCheckpoints.uuid(["git-ai", Self.commit, "s_c9883b05a2487d"]))
        #expect(id != ImportedCheckpoints.uuid(["git-ai", Self.commit, "s_e7f2a90b31cc48"]))
        // Parts are separated: ("ab", "c") is not ("a", "bc").
        #expect(ImportedCheckpoints.uuid(["ab", "c"]) != ImportedCheckpoints.uuid(["a", "bc"]))
        #expect(!ImportedCheckpoints.isUUID("sess_01JCX3K9Q2"))
        #expect(ImportedCheckpoints.isUUID("550e8400-e29b-41d4-a716-446655440000"))
    }

    @Test("RFC 3339 timestamps in any offset become Cairn's UTC spelling; others are refused")
    func timestamps() {
        let cases: [(String, String?)] = [
            ("2026-01-23T14:30:00Z", "2026-01-23T14:30:00Z"),
            ("2026-01-23T15:30:00+01:00", "2026-01-23T14:30:00Z"),
            ("2026-01-23T09:00:00-0530", "2026-01-23T14:30:00Z"),
            ("2026-01-23t14:30:00.5z", "2026-01-23T14:30:00.500Z"),
            ("2026-01-23 14:30:00.123456789Z", "2026-01-23T14:30:00.123Z"),
            ("2026-01-01T00:30:00+01:00", "2025-12-31T23:30:00Z"),
            ("2026-02-30T00:00:00Z", nil), ("2026-01-23T24:00:00Z", nil), ("2026-01-23T14:30:00", nil),
            ("2026-01-23T14:30:00+1:00", nil), ("2026-01-23T14:30:00.Z", nil), ("yesterday", nil), ("", nil),
            ("2026-01-23T14:30:60Z", nil),
        ]
        for (text, expected) in cases {
            #expect(ImportedCheckpoints.timestamp(text) == expected, "\(text)")
        }
    }

    @Test("Models: provider/model as Agent Trace names them, bare ids as git-ai does, unknown when none")
    func models() {
        let (opus, unknownOpus) = ImportedCheckpoints.model("anthropic/claude-opus-4-5-20251101", agent: "cursor")
        #expect(!unknownOpus)
        #expect(opus["id"] == "claude-opus-4-5-20251101" && opus["provider"] == "anthropic")
        #expect(opus["version"] == "20251101" && opus["release_date"] == "2025-11-01")
        let (gpt, _) = ImportedCheckpoints.model("openai/gpt-4o", agent: "cursor")
        #expect(gpt["id"] == "gpt-4o" && gpt["provider"] == "openai" && gpt["version"] == "gpt-4o")
        let (bare, _) = ImportedCheckpoints.model("claude-4.5-opus", agent: "cursor")
        #expect(bare["id"] == "claude-4.5-opus" && bare["provider"] == "anthropic")
        for missing in [nil, "", "  ", "unknown", "default"] as [String?] {
            let (model, unknown) = ImportedCheckpoints.model(missing, agent: "claude-code")
            #expect(unknown && model["id"] == "unknown" && model["provider"] == "anthropic")
        }
        #expect(ImportedCheckpoints.agent("claude") == "claude-code")
        #expect(ImportedCheckpoints.agent("copilot") == "github-copilot")
        #expect(ImportedCheckpoints.agent("windsurf") == "windsurf")
        #expect(ImportedCheckpoints.agent(nil) == "unknown")
        #expect(ImportedCheckpoints.person("Developer <dev@example.com>") == "dev@example.com")
        #expect(ImportedCheckpoints.person(" dev@example.com ") == "dev@example.com")
        #expect(ImportedCheckpoints.person("") == nil)
    }

    @Test("Paths: ./ and Windows separators tolerated; absolute, .., empty segments refused")
    func paths() {
        #expect(ImportedCheckpoints.repositoryPath("./src/a.ts") == "src/a.ts")
        #expect(ImportedCheckpoints.repositoryPath("src\\a.ts") == "src/a.ts")
        for bad in ["/src/a.ts", "../a.ts", "src//a.ts", "src/", "", "src/\u{1b}a.ts"] {
            #expect(ImportedCheckpoints.repositoryPath(bad) == nil, "\(bad)")
        }
    }

    // MARK: - Agent Trace → checkpoints

    @Test("The full example: one checkpoint per conversation and model, content hashes from the repository")
    func agentTraceFullExample() throws {
        let traces = AgentTrace.records(in: try Self.bytes("agent-trace/example-full-record.json"))
        #expect(traces.count == 1 && traces[0].line == 1)
        let trace = try traces[0].result.get()
        let conversion = try Self.agentTrace(trace)
        #expect(conversion.notes.isEmpty)
        let records = conversion.records.map(\.record)
        #expect(records.count == 2)
        for record in records { Self.expectValid(record) }
        let parser = records[0]
        #expect(parser["type"] == "checkpoint" && parser["schema"] == 1)
        #expect(parser["timestamp"] == "2026-01-23T14:30:00Z")
        #expect(parser["requested_by"] == "unknown" && parser["tool_path"] == "agent")
        #expect(parser["model"]?["id"] == "claude-opus-4-5-20251101" && parser["model"]?["provider"] == "anthropic")
        #expect(parser["session_id"] == "https://api.cursor.com/v1/sessions/67890")
        #expect(parser["prompt"]?.stringValue?.hasPrefix("(no prompt was imported") == true)
        let output = try #require(parser["outputs"]?[0])
        #expect(output["repo"]?.stringValue == Self.origin && output["commit"]?.stringValue == Self.commit)
        #expect(output["path"] == "src/utils/parser.ts" && output["contributor"] == "ai")
        #expect(output["ranges"] == [[42, 67]])
        // Agent Trace's murmur3 range hash is not Cairn's: the file's SHA-256 at the commit is.
        #expect(
            output["content_hash"]?.stringValue == SHA256.hash(Self.file("src/utils/parser.ts")).description)
        let capture = try #require(parser["x_capture"])
        #expect(capture["grade"] == "import" && capture["source"] == "agent-trace" && capture["agent"] == "cursor")
        #expect(capture["trace_id"] == "550e8400-e29b-41d4-a716-446655440000" && capture["tool_version"] == "2.4.0")
        #expect(capture["conversation_url"] == "https://api.cursor.com/v1/conversations/12345")
        #expect(
            records[1]["model"]?["id"] == "gpt-4o" && Self.outputs(records[1]).map(\.path) == ["src/utils/helpers.ts"])
        // The same record converts to the same checkpoints; a short revision names the same commit.
        #expect(try Self.agentTrace(trace).records.map(\.record) == records)
        let short = Self.setting(trace, "vcs", .object(["type": "git", "revision": "A1B2C3D"]))
        #expect(try Self.agentTrace(short).records.map(\.record) == records)
        #expect(Set(records.compactMap { $0["id"]?.stringValue }).count == 2)
    }

    @Test("The minimal example names no revision: refused; with one, a checkpoint of an unknown model")
    func agentTraceMinimalExample() throws {
        let trace = try Self.json("agent-trace/example-minimal-record.json")
        let refused = Self.problem { () throws(ImportProblem) in _ = try Self.agentTrace(trace) }
        #expect(refused?.line == 1 && refused?.message.hasPrefix("vcs: the record names no revision") == true)
        let placed = Self.setting(trace, "vcs", .object(["type": "git", "revision": .string(Self.commit)]))
        let records = try Self.agentTrace(placed).records.map(\.record)
        #expect(records.count == 1)
        Self.expectValid(records[0])
        #expect(records[0]["model"]?["id"] == "unknown" && records[0]["x_capture"]?["model_unknown"] == true)
        #expect(records[0]["x_capture"]?["agent"] == "unknown" && records[0]["session_id"] == nil)
        #expect(Self.outputs(records[0]).first?.ranges == [[1, 50]])
    }

    @Test("Line ranges of two conversations and two models; related sessions; per-range contributors")
    func agentTraceFragments() throws {
        let ranges = try Self.json("agent-trace/fragment-line-ranges.json")
        let records = try Self.agentTrace(Self.record(files: try #require(ranges["files"]))).records.map(\.record)
        #expect(records.count == 2)
        records.forEach { Self.expectValid($0) }
        #expect(Self.outputs(records[0]).first?.ranges == [[10, 25], [30, 45], [80, 95]])
        #expect(records[0]["model"]?["id"] == "claude-sonnet-4-20250514")
        #expect(records[1]["model"]?["id"] == "gpt-4o" && Self.outputs(records[1]).first?.ranges == [[50, 52]])
        #expect(records[0]["session_id"] == "https://api.example.com/v1/conversations/abc")

        let related = try Self.json("agent-trace/fragment-related-resources.json")
        let linked = try Self.agentTrace(Self.record(files: try #require(related["files"]))).records.map(\.record)
        #expect(linked.count == 1 && linked[0]["session_id"] == "https://api.example.com/v1/sessions/xyz789")

        // A handoff: a range's own contributor (another model), a person's range, and a range nobody claims.
        let handoff: JSONValue = [
            [
                "path": "src/a.ts",
                "conversations": [
                    [
                        "url": "https://example.com/c/1",
                        "contributor": ["type": "ai", "model_id": "anthropic/claude-sonnet-4-5"],
                        "ranges": [
                            ["start_line": 1, "end_line": 5],
                            [
                                "start_line": 6, "end_line": 8,
                                "contributor": ["type": "ai", "model_id": "openai/gpt-5"],
                            ],
                            ["start_line": 9, "end_line": 9, "contributor": ["type": "human"]],
                            ["start_line": 10, "end_line": 12, "contributor": ["type": "unknown"]],
                            ["start_line": 13, "end_line": 14, "contributor": ["type": "mixed"]],
                        ],
                    ]
                ],
            ],
            [
                "path": "src/b.ts",
                "conversations": [["contributor": ["type": "human"], "ranges": [["start_line": 1, "end_line": 2]]]],
            ],
        ]
        let conversion = try Self.agentTrace(Self.record(files: handoff))
        let made = conversion.records.map(\.record)
        #expect(made.count == 2)
        #expect(made[0]["model"]?["id"] == "claude-sonnet-4-5" && made[1]["model"]?["id"] == "gpt-5")
        let first = Self.outputs(made[0])
        #expect(first.map(\.contributor) == ["ai", "mixed", "human"])
        #expect(first.map(\.ranges) == [[[1, 5]], [[13, 14]], [[9, 9]]])
        #expect(Self.outputs(made[1]).map(\.ranges) == [[[6, 8]]])
        #expect(conversion.notes.count == 2, "\(conversion.notes)")
        #expect(conversion.notes.contains { $0.message.hasPrefix("1 range with contributor unknown") })
        #expect(conversion.notes.contains { $0.message.contains("\"src/b.ts\"") })
    }

    @Test("Agent Trace input: JSON Lines, a document, an array; lines that are not JSON are named")
    func agentTraceInput() throws {
        let full = try Self.json("agent-trace/example-full-record.json")
        let line = JSONWriter.compact(full)
        let jsonl = Array("\n\(line)\n\n{\"version\": \n\(line)\r\n".utf8)
        let read = AgentTrace.records(in: jsonl)
        #expect(read.map(\.line) == [2, 4, 5])
        #expect((try? read[0].result.get()) == full && (try? read[2].result.get()) == full)
        guard case .failure(let bad) = read[1].result else {
            Issue.record("line 4 is not JSON")
            return
        }
        #expect(bad.line == 4 && bad.message.hasPrefix("column "))
        let array = AgentTrace.records(in: Array("[\n\(line),\n\(line)\n]\n".utf8))
        #expect(array.count == 2 && array.allSatisfy { (try? $0.result.get()) == full })
        let bom = AgentTrace.records(in: [0xEF, 0xBB, 0xBF] + (try Self.bytes("agent-trace/example-full-record.json")))
        #expect(bom.count == 1 && (try? bom[0].result.get()) == full)
        #expect(AgentTrace.records(in: Array(" \n\n".utf8)).isEmpty)
        // The fragment with `//` comments is not JSON: one failure, at its first line.
        let jsonc = AgentTrace.records(in: try Self.bytes("agent-trace/fragment-vcs-variants.jsonc"))
        #expect(jsonc.count == 1 && jsonc[0].line == 1)
        // A pretty document broken on its 5th line.
        let broken = AgentTrace.records(
            in: Array("{\n  \"version\": \"0.1.0\",\n  \"id\": \"x\",\n\n  \"files\": [,]\n}\n".utf8))
        #expect(broken.count == 1 && broken[0].line == 5)
    }

    @Test("What cannot be imported is refused with its place in the record")
    func agentTraceProblems() throws {
        let full = try Self.json("agent-trace/example-full-record.json")
        // The vcs variants of the fragment: only git revisions name commits.
        for (type, revision) in [("jj", "kkmpptxz"), ("hg", "a1b2c3d4e5f6")] {
            let other = Self.setting(full, "vcs", .object(["type": .string(type), "revision": .string(revision)]))
            let problem = Self.problem { () throws(ImportProblem) in _ = try Self.agentTrace(other) }
            #expect(problem?.message == "vcs.type: only git revisions can be imported, found \"\(type)\"")
        }
        func refused(_ trace: JSONValue, repository: ImportRepository = Self.repository()) -> String {
            Self.problem { () throws(ImportProblem) in _ = try Self.agentTrace(trace, repository: repository) }?
                .message ?? "accepted"
        }
        let files = try #require(full["files"]?.arrayValue)
        func withRange(_ range: JSONValue) -> JSONValue {
            Self.record(files: [
                ["path": "src/a.ts", "conversations": [["contributor": ["type": "ai"], "ranges": [range]]]]
            ])
        }
        #expect(
            refused(withRange(["start_line": 30, "end_line": 10]))
                == "files[0].conversations[0].ranges[0]: start_line 30 is after end_line 10")
        #expect(
            refused(withRange(["start_line": 0, "end_line": 10])).hasPrefix(
                "files[0].conversations[0].ranges[0]: expected"))
        #expect(
            refused(withRange(["start_line": 1.5, "end_line": 10])).hasPrefix(
                "files[0].conversations[0].ranges[0]: expected"))
        #expect(
            refused(withRange(["start_line": 90, "end_line": 120]))
                == "files[0].conversations[0].ranges[0]: lines 90-120, but \"src/a.ts\" has 100 lines at commit "
                + Self.commit
        )
        #expect(
            refused(full, repository: Self.repository(paths: ["src/utils/parser.ts": 60], defaultLines: nil))
                .hasPrefix("files[0].conversations[0].ranges[0]: lines 42-67, but"))
        #expect(
            refused(full, repository: Self.repository(paths: ["src/utils/parser.ts": 100], defaultLines: nil))
                == "files[1].path: no file \"src/utils/helpers.ts\" at commit \(Self.commit)")
        #expect(
            refused(full, repository: Self.repository(commit: String(repeating: "c", count: 40))).hasPrefix(
                "vcs.revision: the repository has no commit"))
        #expect(
            refused(Self.setting(full, "vcs", .object(["type": "git", "revision": "HEAD"]))).hasPrefix(
                "vcs.revision: expected a git commit id"))
        #expect(refused(Self.setting(full, "timestamp", "2026-01-23")).hasPrefix("timestamp: expected an RFC 3339"))
        #expect(refused(Self.setting(full, "timestamp", nil)) == "timestamp: required field is missing")
        #expect(refused(Self.setting(full, "files", nil)) == "files: required field is missing")
        #expect(refused(Self.setting(full, "files", "none")) == "files: expected an array, found a string")
        #expect(refused("a string") == "expected a JSON object (an Agent Trace record), found a string")
        var absolute = files[0]
        if case .object(var object) = absolute {
            object["path"] = "/home/ada/src/utils/parser.ts"; absolute = .object(object)
        }
        #expect(refused(Self.setting(full, "files", [absolute])).hasPrefix("files[0].path: expected a path relative"))
        let badType = withRange(["start_line": 1, "end_line": 2, "contributor": ["type": "robot"]])
        #expect(refused(badType).hasPrefix("files[0].conversations[0].ranges[0].contributor.type: expected one of"))
        // An id-less record gets a derived trace id: still deterministic.
        let anonymous = Self.setting(full, "id", nil)
        #expect(
            try Self.agentTrace(anonymous).records.map(\.record) == Self.agentTrace(anonymous).records.map(\.record))
        // The reference implementation's "1.0" version is accepted (the version is not checked).
        #expect(try Self.agentTrace(Self.setting(full, "version", "1.0")).records.count == 2)
    }

    // MARK: - Checkpoints → Agent Trace

    @Test("Export: the checkpoint's id, model as provider/model, contributors, ranges, metadata; reads back")
    func agentTraceExport() throws {
        let full = try Self.json("agent-trace/example-full-record.json")
        let checkpoint = try Self.agentTrace(full).records[0].record
        let outputs = [
            AgentTrace.ExportedOutput(path: "src/utils/parser.ts", contributor: "ai", ranges: [42...67]),
            AgentTrace.ExportedOutput(path: "src/utils/parser.ts", contributor: "human", ranges: [70...71, 68...69]),
            AgentTrace.ExportedOutput(path: "src/empty.ts", contributor: "ai", ranges: []),
        ]
        let trace = AgentTrace.traceRecord(
            checkpoint: checkpoint, commit: Self.commit, outputs: outputs, entry: 7,
            digest: "sha256:" + String(repeating: "0", count: 64))
        #expect(trace["version"] == "0.1.0" && trace["id"] == checkpoint["id"])
        #expect(trace["timestamp"] == "2026-01-23T14:30:00Z")
        #expect(trace["vcs"] == ["type": "git", "revision": .string(Self.commit)])
        #expect(trace["tool"] == ["name": "cursor", "version": "2.4.0"])
        let files = try #require(trace["files"]?.arrayValue)
        #expect(files.count == 1 && files[0]["path"] == "src/utils/parser.ts")
        let conversations = try #require(files[0]["conversations"]?.arrayValue)
        #expect(conversations.count == 2)
        #expect(conversations[0]["url"] == "https://api.cursor.com/v1/conversations/12345")
        #expect(conversations[0]["contributor"] == ["type": "ai", "model_id": "anthropic/claude-opus-4-5-20251101"])
        #expect(conversations[1]["contributor"] == ["type": "human"])
        #expect(conversations[1]["ranges"] == [["start_line": 68, "end_line": 71]])
        #expect(trace["metadata"]?["dev.cairn"]?["checkpoint"] == checkpoint["id"])
        #expect(trace["metadata"]?["dev.cairn"]?["entry"] == 7 && trace["metadata"]?["dev.cairn"]?["grade"] == "import")
        // Read back, the lines are the same.
        let again = try Self.agentTrace(trace).records.map(\.record)
        #expect(again.count == 1 && Self.outputs(again[0]).map(\.ranges) == [[[42, 67]], [[68, 71]]])

        // Carried by a rewrite: another id (the record is about another commit), and where it comes from.
        let rewritten = AgentTrace.traceRecord(
            checkpoint: checkpoint, commit: String(repeating: "d", count: 40), outputs: [outputs[0]], entry: 7,
            digest: "sha256:" + String(repeating: "0", count: 64),
            rewrite: .init(outputCommit: Self.commit, mappings: ["src/utils/parser.ts": "content-hash"]))
        let id = try #require(rewritten["id"]?.stringValue)
        #expect(ImportedCheckpoints.isUUID(id) && rewritten["id"] != checkpoint["id"])
        #expect(rewritten["metadata"]?["dev.cairn"]?["output_commit"]?.stringValue == Self.commit)
        #expect(rewritten["metadata"]?["dev.cairn"]?["mapping"] == ["src/utils/parser.ts": "content-hash"])

        // A checkpoint of Cairn's own hooks: id not a UUID, an unknown model, no conversation URL.
        var hook = try #require(checkpoint.objectValue)
        hook["id"] = "cp-1"
        hook["x_capture"] = ["grade": "hook", "agent": "claude-code", "tier": "light", "model_unknown": true]
        let own = AgentTrace.traceRecord(
            checkpoint: .object(hook), commit: Self.commit, outputs: [outputs[0]], entry: 1, digest: "sha256:00")
        #expect(own["id"]?.stringValue.map(ImportedCheckpoints.isUUID) == true)
        #expect(own["tool"] == ["name": "claude-code"])
        let conversation = own["files"]?[0]?["conversations"]?[0]
        #expect(conversation?["contributor"] == ["type": "ai"] && conversation?["url"] == nil)
    }

    @Test("Ranges followed through a rewrite: lines moved by an insertion, lines changed since left out")
    func mapRanges() {
        let old = Array("a\nb\nc\nd\n".utf8)
        let new = Array("new\na\nb\nC\nd\n".utf8)
        #expect(AgentTrace.mapRanges([1...2], from: old, to: new) == [2...3])
        #expect(AgentTrace.mapRanges([1...4], from: old, to: new) == [2...3, 5...5])
        #expect(AgentTrace.mapRanges([3...3], from: old, to: new).isEmpty)
        #expect(AgentTrace.mapRanges([4...4_294_967_295], from: old, to: new) == [5...5])
    }

    // MARK: - git-ai notes

    static let noteCommit = String(repeating: "7", count: 40)

    static func gitAI(
        _ note: GitAINote, repository: ImportRepository? = nil, requestedBy: String = "unknown"
    ) throws(ImportProblem) -> ImportConversion {
        try note.checkpoints(
            commit: noteCommit, timestamp: "2026-05-18T10:00:00Z",
            repository: repository ?? Self.repository(commit: noteCommit), requestedBy: requestedBy)
    }

    @Test("The sessions format: a checkpoint per session (its traces together), human lines with it")
    func gitAISessions() throws {
        let note = try GitAINote.parse(try Self.text("git-ai-authorship/notes/spec-1.2.5-sessions-format.note"))
        #expect(note.files.map(\.path) == ["src/main.rs", "src/lib.rs"])
        #expect(
            note.files[0].entries.map(\.key) == [
                "s_c9883b05a2487d::t_9f8e7d6c5b4a32", "s_c9883b05a2487d::t_a1b2c3d4e5f678", "h_31dce776f88375",
            ])
        #expect(note.files[0].entries.map(\.line) == [2, 3, 4])
        #expect(note.files[0].entries[0].ranges == [1...10, 15...20])
        #expect(note.metadata["schema_version"] == "authorship/3.0.0")
        let conversion = try Self.gitAI(note)
        #expect(conversion.notes.isEmpty)
        let records = conversion.records.map(\.record)
        #expect(records.count == 2 && conversion.records.map(\.line) == [2, 6])
        records.forEach { Self.expectValid($0) }
        let first = records[0]
        #expect(Self.outputs(first).map(\.contributor) == ["ai", "human"])
        #expect(Self.outputs(first).map(\.ranges) == [[[1, 10], [15, 20], [25, 25], [30, 35]], [[42, 50]]])
        #expect(
            first["requested_by"] == "dev@example.com" && first["session_id"] == "6ef2299e-a67f-432b-aa80-3d2fb4d28999")
        #expect(first["timestamp"] == "2026-05-18T10:00:00Z" && first["tool_path"] == "agent")
        #expect(first["model"]?["id"] == "claude-sonnet-4-5-20250514" && first["model"]?["provider"] == "anthropic")
        #expect(first["model"]?["release_date"] == "2025-05-14")
        #expect(first["id"]?.stringValue == ImportedCheckpoints.uuid(["git-ai", Self.noteCommit, "s_c9883b05a2487d"]))
        #expect(
            first["x_capture"] == [
                "grade": "import", "source": "git-ai", "agent": "cursor", "key": "s_c9883b05a2487d",
                "note_schema": "authorship/3.0.0",
            ])
        let second = records[1]
        #expect(second["x_capture"]?["agent"] == "claude-code" && second["session_id"] == "conv_abc123def456")
        #expect(second["x_capture"]?["custom_attributes"] == ["team": "backend"])
        #expect(Self.outputs(second).map(\.path) == ["src/lib.rs"])
        // Content hashes are the files' at the commit.
        #expect(second["outputs"]?[0]?["content_hash"]?.stringValue == SHA256.hash(Self.file("src/lib.rs")).description)
        // Deterministic: the same note converts to the same records; another commit, other ids.
        #expect(try Self.gitAI(note).records.map(\.record) == records)
        let elsewhere = try note.checkpoints(
            commit: Self.commit, timestamp: "2026-05-18T10:00:00Z", repository: Self.repository(),
            requestedBy: "unknown")
        #expect(elsewhere.records[0].record["id"] != first["id"])
    }

    @Test("The legacy prompts format: a checkpoint per prompt key, the person from `Name <email>`")
    func gitAILegacy() throws {
        let note = try GitAINote.parse(try Self.text("git-ai-authorship/notes/spec-1.2.6-legacy-format.note"))
        let records = try Self.gitAI(note).records.map(\.record)
        #expect(records.count == 2)
        records.forEach { Self.expectValid($0) }
        #expect(Self.outputs(records[0]).map(\.path) == ["src/main.rs", "src/lib.rs"])
        #expect(Self.outputs(records[0]).map(\.ranges) == [[[1, 10], [15, 20]], [[1, 50]]])
        #expect(Self.outputs(records[1]).map(\.ranges) == [[[25, 25], [30, 35]]])
        #expect(records[0]["requested_by"] == "dev@example.com")
        #expect(
            records[0]["model"] == ["id": "claude-4.5-opus", "version": "claude-4.5-opus", "provider": "anthropic"])
        #expect(
            records[1]["model"]?["id"] == "claude-3-sonnet" && records[0]["x_capture"]?["key"] == "abcd1234abcd1234")
    }

    @Test("The mixed format: session, human and legacy keys in one note")
    func gitAIMixed() throws {
        let note = try GitAINote.parse(try Self.text("git-ai-authorship/notes/spec-1.2.7-mixed-format.note"))
        let records = try Self.gitAI(note).records.map(\.record)
        #expect(records.count == 2)
        records.forEach { Self.expectValid($0) }
        #expect(Self.outputs(records[0]).map(\.contributor) == ["ai", "human"])
        #expect(Self.outputs(records[0]).map(\.ranges) == [[[1, 10]], [[15, 20]]])
        #expect(records[0]["x_capture"]?["agent"] == "claude-code")
        #expect(records[1]["model"]?["provider"] == "openai" && records[1]["session_id"] == "old_session_id")
    }

    @Test("Lenient about what real notes show: CRLF, quoted paths, tabs, spaces, short keys, no divider")
    func gitAIVariants() throws {
        let mixed = try Self.text("git-ai-authorship/notes/spec-1.2.7-mixed-format.note")
        let crlf = try GitAINote.parse(mixed.replacingOccurrences(of: "\n", with: "\r\n"))
        #expect(crlf == (try GitAINote.parse(mixed)))
        let loose = """
            "docs/README (copy).md"
            \tabc1234 1-3 , 5,\t7-8
            src/main.rs

            ---
            {"schema_version": "authorship/3.0.0",
             "prompts": {"abc1234": {"agent_id": {"tool": "cursor", "id": "x", "model": "default"}}}}
            """
        let note = try GitAINote.parse(loose)
        #expect(note.files.count == 1 && note.files[0].path == "docs/README (copy).md")
        #expect(note.files[0].entries == [GitAINote.Entry(key: "abc1234", ranges: [1...3, 5...5, 7...8], line: 2)])
        let records = try Self.gitAI(note).records.map(\.record)
        #expect(records.count == 1 && records[0]["x_capture"]?["model_unknown"] == true)
        records.forEach { Self.expectValid($0) }
        // Attestations only: the sessions are not described.
        let bare = try GitAINote.parse("src/a.rs\n  s_0123456789abcd::t_0123456789abcd 1-2\n")
        let undescribed = try Self.gitAI(bare, requestedBy: "ops@example.com").records.map(\.record)
        #expect(undescribed.count == 1 && undescribed[0]["requested_by"] == "ops@example.com")
        #expect(undescribed[0]["x_capture"]?["metadata_missing"] == true && undescribed[0]["model"]?["id"] == "unknown")
        undescribed.forEach { Self.expectValid($0) }
        // Metadata only: nothing to import.
        let metadataOnly = try GitAINote.parse("{\"schema_version\": \"authorship/3.0.0\", \"prompts\": {}}\n")
        #expect(metadataOnly.files.isEmpty && metadataOnly.metadata["schema_version"] == "authorship/3.0.0")
        #expect(try Self.gitAI(metadataOnly).records.isEmpty)
        #expect(try GitAINote.parse("").files.isEmpty)
        // A file only people changed: noted, not imported.
        let human = try GitAINote.parse("src/a.rs\n  h_31dce776f88375 1-2\n---\n{}\n")
        let conversion = try Self.gitAI(human)
        #expect(conversion.records.isEmpty && conversion.notes.map(\.line) == [2])
    }

    @Test("Malformed notes are refused with the note's line")
    func gitAIProblems() throws {
        func refused(_ text: String, repository: ImportRepository? = nil) -> ImportProblem? {
            Self.problem { () throws(ImportProblem) in
                _ = try Self.gitAI(try GitAINote.parse(text), repository: repository)
            }
        }
        let cases: [(String, Int, String)] = [
            ("src/a.rs\n  s_1 10-5\n", 2, "line range 10-5: start 10 is after end 5"),
            (
                "src/a.rs\n  s_1 a-b\n", 2,
                "line ranges: expected line numbers from 1, such as 1-10,15,20-25, found \"a-b\""
            ),
            ("src/a.rs\n  s_1 0\n", 2, "line ranges: expected line numbers from 1, such as 1-10,15,20-25, found \"0\""),
            ("src/a.rs\n  s_1 1-99999999999999999999\n", 2, "line ranges: expected line numbers from 1"),
            ("src/a.rs\n  s_1 ,\n", 2, "expected line ranges after the key, found none"),
            ("  s_1 1-2\nsrc/a.rs\n", 1, "an attestation entry before any file path"),
            ("src/a.rs\n\n  s_1\n", 3, "expected `<key> <line ranges>`"),
            ("src/a.rs\n  s_1 1-2\n---\n{\n  \"prompts\": {,}\n}\n", 5, "metadata: column"),
            ("src/a.rs\n  s_1 1-2\n---\n[1, 2]\n", 4, "metadata: expected a JSON object, found an array"),
            (
                "src/a.rs\n  s_1 1-2\n  s_1 99-101\n---\n{}\n", 3,
                "lines 99-101, but \"src/a.rs\" has 100 lines at commit"
            ),
            ("src/gone.rs\n  s_1 1-2\n---\n{}\n", 1, "no file \"src/gone.rs\" at commit"),
            ("/etc/passwd\n  s_1 1-2\n---\n{}\n", 1, "expected a path relative to the repository root"),
        ]
        let repository = Self.repository(commit: Self.noteCommit, paths: ["src/a.rs": 100], defaultLines: nil)
        for (text, line, message) in cases {
            let problem = refused(text, repository: repository)
            #expect(problem?.line == line, "\(text.debugDescription): \(String(describing: problem))")
            #expect(
                problem?.message.hasPrefix(message) == true, "\(text.debugDescription): \(String(describing: problem))")
        }
    }

    @Test("Never a trap: every truncation and thousands of byte mutations of the vectors are read or refused")
    func neverTraps() throws {
        var generator = SeededGenerator(seed: 12)
        let repository = Self.repository(defaultLines: 60)
        let noteRepository = Self.repository(commit: Self.noteCommit, defaultLines: 60)
        var inputs: [(bytes: [UInt8], note: Bool)] = [
            (try Self.bytes("agent-trace/example-full-record.json"), false),
            (try Self.bytes("agent-trace/example-minimal-record.json"), false),
        ]
        for name in ["spec-1.2.5-sessions-format", "spec-1.2.6-legacy-format", "spec-1.2.7-mixed-format"] {
            inputs.append((try Self.bytes("git-ai-authorship/notes/\(name).note"), true))
        }
        var attempts = 0
        for input in inputs {
            var variants = (0...input.bytes.count).map { Array(input.bytes.prefix($0)) }
            for _ in 0..<600 {
                var mutated = input.bytes
                for _ in 0..<Int.random(in: 1...4, using: &generator) {
                    let at = Int.random(in: 0..<mutated.count, using: &generator)
                    let choices: [UInt8] = Array("-,:\n \"{}[]0123456789_sthx/\\".utf8) + [0, 0xFF, 0xC3]
                    mutated[at] = choices.randomElement(using: &generator)!
                }
                variants.append(mutated)
            }
            for bytes in variants {
                attempts += 1
                if input.note {
                    if let note = try? GitAINote.parse(String(decoding: bytes, as: UTF8.self)) {
                        for record in ((try? Self.gitAI(note, repository: noteRepository))?.records ?? []) {
                            _ = RecordValidator.issues(in: record.record)
                        }
                    }
                } else {
                    for trace in AgentTrace.records(in: bytes) {
                        guard let value = try? trace.result.get() else { continue }
                        let placed = Self.setting(
                            value, "vcs", .object(["type": "git", "revision": .string(Self.commit)]))
                        for record in ((try? Self.agentTrace(placed, repository: repository))?.records ?? []) {
                            _ = RecordValidator.issues(in: record.record)
                        }
                    }
                }
            }
        }
        #expect(attempts > 3000)
    }
}
