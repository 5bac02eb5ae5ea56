import CairnCrypto
import CairnJSON

/// Agent Trace (https://github.com/cursor/agent-trace, specification 0.1.0) records to and from checkpoint records
/// (specs/interop-formats.md): `cairn import --format agent-trace` and `cairn export agent-trace`.
package enum AgentTrace {
    /// The specification version exported records declare.
    package static let specificationVersion = "0.1.0"

    // MARK: - Reading

    /// The trace records of an input: JSON Lines (one record per line, blank lines ignored), one JSON document, or a
    /// JSON array of records (in a document or on a line). Each comes with the line it starts on; a part that is not
    /// JSON is a failure naming its line and column. Never traps, whatever the bytes.
    package static func records(in input: [UInt8]) -> [ImportedRecord] {
        var bytes = input
        // A UTF-8 byte order mark (some editors write one): blanked, so that line numbers stay as they are.
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.replaceSubrange(0..<3, with: [0x20, 0x20, 0x20]) }
        let lines = JSONLines.lines(bytes)
        guard let first = lines.first(where: { !JSONLines.isBlank(bytes[$0.range]) }) else { return [] }
        func elements(_ value: JSONValue, line: Int) -> [ImportedRecord] {
            if case .array(let items) = value {
                return items.map { ImportedRecord(line: line, result: .success($0)) }
            }
            return [ImportedRecord(line: line, result: .success(value))]
        }
        if (try? JSONParser.parse(Array(bytes[first.range]))) != nil {
            var out: [ImportedRecord] = []
            for line in lines where !JSONLines.isBlank(bytes[line.range]) {
                do {
                    out += elements(try JSONParser.parse(Array(bytes[line.range])), line: line.number)
                } catch {
                    out.append(
                        ImportedRecord(
                            line: line.number,
                            result: .failure(
                                ImportProblem(line: line.number, "column \(error.column): \(error.detail)"))))
                }
            }
            return out
        }
        do {
            return elements(try JSONParser.parse(bytes), line: first.number)
        } catch {
            return [
                ImportedRecord(
                    line: error.line,
                    result: .failure(ImportProblem(line: error.line, "column \(error.column): \(error.detail)")))
            ]
        }
    }

    /// The `(revision, path)` pairs a trace record names, for fetching the files in one go before converting.
    package static func files(of trace: JSONValue) -> (revision: String?, paths: [String]) {
        let revision = trace["vcs"]?["revision"]?.stringValue
        let paths = (trace["files"]?.arrayValue ?? []).compactMap { $0["path"]?.stringValue }.compactMap(
            ImportedCheckpoints.repositoryPath)
        return (revision, paths)
    }

    /// A contributor object: its `type` (`unknown` when absent) and `model_id`.
    private static func contributor(
        _ value: JSONValue?, at path: String, line: Int
    ) throws(ImportProblem) -> (
        type: String, model: String?
    ) {
        guard let value else { return ("unknown", nil) }
        guard case .object(let object) = value else {
            throw ImportProblem(line: line, "\(path): expected an object, found \(value.kindName)")
        }
        var type = "unknown"
        if let given = object["type"] {
            guard let text = given.stringValue, ["human", "ai", "mixed", "unknown"].contains(text) else {
                throw ImportProblem(
                    line: line,
                    "\(path).type: expected one of \"human\", \"ai\", \"mixed\", \"unknown\", found "
                        + ImportedCheckpoints.brief(given))
            }
            type = text
        }
        var model: String?
        if let given = object["model_id"] {
            guard let text = given.stringValue else {
                throw ImportProblem(line: line, "\(path).model_id: expected a string, found \(given.kindName)")
            }
            model = text.isEmpty ? nil : text
        }
        return (type, model)
    }

    // MARK: - Converting

    /// The checkpoint records of one trace record (specs/interop-formats.md, "Agent Trace → checkpoints"): one per
    /// conversation and model, with its `ai` and `mixed` ranges and the `human` ranges of the files it changed.
    ///
    /// - Throws: `ImportProblem` at `line` when the record cannot be imported: no git revision, a revision or file
    ///   the repository does not have, a range that is not one or lies beyond the end of its file, …
    package static func checkpoints(
        from trace: JSONValue, line: Int, repository: ImportRepository, requestedBy: String
    ) throws(ImportProblem) -> ImportConversion {
        func problem(_ message: String) -> ImportProblem { ImportProblem(line: line, message) }
        func string(_ key: String, in object: JSONObject, at path: String) throws(ImportProblem) -> String? {
            guard let value = object[key] else { return nil }
            guard let text = value.stringValue else {
                throw problem("\(path): expected a string, found \(value.kindName)")
            }
            return text
        }
        guard case .object(let record) = trace else {
            throw problem("expected a JSON object (an Agent Trace record), found \(trace.kindName)")
        }
        guard let stamp = try string("timestamp", in: record, at: "timestamp") else {
            throw problem("timestamp: required field is missing")
        }
        guard let timestamp = ImportedCheckpoints.timestamp(stamp) else {
            throw problem(
                "timestamp: expected an RFC 3339 date-time such as \"2026-01-23T14:30:00Z\", found "
                    + ImportedCheckpoints.quoted(stamp))
        }
        guard case .object(let vcs) = record["vcs"] ?? .null else {
            throw problem(
                record["vcs"] == nil
                    ? "vcs: the record names no revision, and a checkpoint names the commit of every output"
                    : "vcs: expected an object, found \(record["vcs"]!.kindName)")
        }
        let vcsType = try string("type", in: vcs, at: "vcs.type") ?? ""
        guard vcsType == "git" else {
            throw problem("vcs.type: only git revisions can be imported, found \(ImportedCheckpoints.quoted(vcsType))")
        }
        guard let revision = try string("revision", in: vcs, at: "vcs.revision") else {
            throw problem("vcs.revision: required field is missing")
        }
        guard ImportedCheckpoints.isHexRevision(revision) else {
            throw problem("vcs.revision: expected a git commit id, found \(ImportedCheckpoints.quoted(revision))")
        }
        guard let commit = repository.commit(revision.lowercased()) else {
            throw problem(
                "vcs.revision: the repository has no commit \(revision) (import in the repository the trace is about)")
        }
        let traceID =
            try string("id", in: record, at: "id")
            ?? SHA256.hash(JSONWriter.compactBytes(trace)).description
        var toolName: String?
        var toolVersion: String?
        if let tool = record["tool"] {
            guard case .object(let object) = tool else {
                throw problem("tool: expected an object, found \(tool.kindName)")
            }
            toolName = try string("name", in: object, at: "tool.name")
            toolVersion = try string("version", in: object, at: "tool.version")
        }
        let agent = ImportedCheckpoints.agent(toolName)
        guard let files = record["files"] else { throw problem("files: required field is missing") }
        guard case .array(let fileList) = files else {
            throw problem("files: expected an array, found \(files.kindName)")
        }

        struct Group {
            let url: String?
            let session: String?
            let model: String?
            var outputs: [(path: String, contributor: String, ranges: [ClosedRange<Int>])] = []

            mutating func add(_ path: String, _ contributor: String, _ range: ClosedRange<Int>) {
                if let at = outputs.firstIndex(where: { $0.path == path && $0.contributor == contributor }) {
                    outputs[at].ranges.append(range)
                } else {
                    outputs.append((path, contributor, [range]))
                }
            }
        }
        var groups: [Group] = []
        var humans: [(at: String, path: String, ranges: [ClosedRange<Int>])] = []
        var contents: [String: [UInt8]] = [:]
        var unknown = 0
        var conversion = ImportConversion()

        for (f, file) in fileList.enumerated() {
            let at = "files[\(f)]"
            guard case .object(let fileObject) = file else {
                throw problem("\(at): expected an object, found \(file.kindName)")
            }
            guard let rawPath = try string("path", in: fileObject, at: "\(at).path") else {
                throw problem("\(at).path: required field is missing")
            }
            guard let path = ImportedCheckpoints.repositoryPath(rawPath) else {
                throw problem(
                    "\(at).path: expected a path relative to the repository root, found "
                        + ImportedCheckpoints.quoted(rawPath))
            }
            guard case .array(let conversations) = fileObject["conversations"] ?? .null else {
                throw problem("\(at).conversations: expected an array")
            }
            guard let bytes = contents[path] ?? repository.file(commit, path) else {
                throw problem("\(at).path: no file \(ImportedCheckpoints.quoted(path)) at commit \(commit)")
            }
            contents[path] = bytes
            let lineCount = ImportedCheckpoints.lineCount(bytes)
            var humanRanges: [ClosedRange<Int>] = []
            for (c, conversation) in conversations.enumerated() {
                let cat = "\(at).conversations[\(c)]"
                guard case .object(let object) = conversation else {
                    throw problem("\(cat): expected an object, found \(conversation.kindName)")
                }
                let url = try string("url", in: object, at: "\(cat).url").flatMap { $0.isEmpty ? nil : $0 }
                let session = object["related"]?.arrayValue?.first { $0["type"]?.stringValue == "session" }?["url"]?
                    .stringValue
                let base = try contributor(object["contributor"], at: "\(cat).contributor", line: line)
                guard case .array(let ranges) = object["ranges"] ?? .null else {
                    throw problem("\(cat).ranges: expected an array")
                }
                for (r, range) in ranges.enumerated() {
                    let rat = "\(cat).ranges[\(r)]"
                    guard case .object(let rangeObject) = range else {
                        throw problem("\(rat): expected an object, found \(range.kindName)")
                    }
                    guard let start = rangeObject["start_line"]?.intValue, start >= 1,
                        let end = rangeObject["end_line"]?.intValue, end >= 1
                    else {
                        throw problem(
                            "\(rat): expected start_line and end_line, integers from 1, found "
                                + ImportedCheckpoints.brief(.object(rangeObject))
                        )
                    }
                    guard start <= end else { throw problem("\(rat): start_line \(start) is after end_line \(end)") }
                    guard end <= lineCount else {
                        throw problem(
                            "\(rat): lines \(start)-\(end), but \(ImportedCheckpoints.quoted(path)) has \(lineCount) "
                                + "line\(lineCount == 1 ? "" : "s") at commit \(commit)")
                    }
                    var who = base
                    if let override = rangeObject["contributor"] {
                        let given = try contributor(override, at: "\(rat).contributor", line: line)
                        who = (given.type, given.model ?? base.model)
                    }
                    switch who.type {
                    case "ai", "mixed":
                        if let index = groups.firstIndex(where: { $0.url == url && $0.model == who.model }) {
                            groups[index].add(path, who.type, start...end)
                        } else {
                            var group = Group(url: url, session: session ?? url, model: who.model)
                            group.add(path, who.type, start...end)
                            groups.append(group)
                        }
                    case "human":
                        humanRanges.append(start...end)
                    default:
                        unknown += 1
                    }
                }
            }
            if !humanRanges.isEmpty { humans.append((at, path, humanRanges)) }
        }
        if unknown > 0 {
            conversion.notes.append(
                problem(
                    "\(unknown) range\(unknown == 1 ? "" : "s") with contributor unknown (or none given) not imported: "
                        + "a checkpoint says who wrote each line"))
        }
        // A person's lines go with the first conversation that changed the same file, as the hooks list them.
        for human in humans {
            if let index = groups.firstIndex(where: { $0.outputs.contains { $0.path == human.path } }) {
                for range in human.ranges { groups[index].add(human.path, "human", range) }
            } else {
                conversion.notes.append(
                    problem(
                        "\(human.at): human ranges of \(ImportedCheckpoints.quoted(human.path)) not imported: no AI "
                            + "conversation of the record changed the file"))
            }
        }
        for group in groups {
            let (model, modelUnknown) = ImportedCheckpoints.model(group.model, agent: agent)
            var prompt = "(no prompt was imported: Agent Trace records carry none"
            if let url = group.url { prompt += "; the conversation is at \(url)" }
            prompt += ")"
            var members: [(String, JSONValue)] = [
                ("type", .string("checkpoint")), ("schema", .number(1)),
                (
                    "id",
                    .string(
                        ImportedCheckpoints.uuid(["agent-trace", traceID, commit, group.url ?? "", group.model ?? ""]))
                ),
                ("timestamp", .string(timestamp)), ("requested_by", .string(requestedBy)),
                ("tool_path", .string("agent")), ("model", model), ("prompt", .string(prompt)),
                (
                    "outputs",
                    .array(
                        group.outputs.map { output in
                            ImportedCheckpoints.output(
                                repo: repository.name, commit: commit, path: output.path, ranges: output.ranges,
                                file: contents[output.path] ?? [], contributor: output.contributor)
                        })
                ),
            ]
            if let session = group.session { members.append(("session_id", .string(session))) }
            var extra: [(String, JSONValue)] = [("trace_id", .string(traceID))]
            if let toolVersion { extra.append(("tool_version", .string(toolVersion))) }
            if let url = group.url { extra.append(("conversation_url", .string(url))) }
            if modelUnknown { extra.append(("model_unknown", .bool(true))) }
            members.append(
                ("x_capture", ImportedCheckpoints.capture(source: "agent-trace", agent: agent, extra: extra)))
            conversion.records.append((line, .object(JSONObject(members))))
        }
        return conversion
    }

    // MARK: - Writing

    /// The lines of one file a checkpoint produced at the exported commit.
    package struct ExportedOutput: Sendable, Equatable {
        package let path: String
        package let contributor: String
        package let ranges: [ClosedRange<Int>]

        package init(path: String, contributor: String, ranges: [ClosedRange<Int>]) {
            self.path = path
            self.contributor = contributor
            self.ranges = ranges
        }
    }

    /// How a checkpoint whose outputs name an older commit was carried to the exported one by `rewrite` records.
    package struct Rewrite: Sendable, Equatable {
        /// The commit the checkpoint's outputs name.
        package let outputCommit: String
        /// Per path, how its lines were followed: `content-hash`, `diff` or `unchecked` (as `cairn blame` says).
        package let mappings: [String: String]

        package init(outputCommit: String, mappings: [String: String]) {
            self.outputCommit = outputCommit
            self.mappings = mappings
        }
    }

    /// The Agent Trace record of a checkpoint at `commit` (specs/interop-formats.md, "Checkpoints → Agent Trace").
    package static func traceRecord(
        checkpoint record: JSONValue, commit: String, outputs: [ExportedOutput], entry: UInt64, digest: String,
        rewrite: Rewrite? = nil
    ) -> JSONValue {
        let checkpointID = record["id"]?.stringValue ?? digest
        let id =
            rewrite == nil && ImportedCheckpoints.isUUID(checkpointID)
            ? checkpointID : ImportedCheckpoints.uuid(["agent-trace-export", checkpointID, commit])
        let capture = record["x_capture"]
        var tool: [(String, JSONValue)] = [
            ("name", .string(capture?["agent"]?.stringValue ?? record["tool_path"]?.stringValue ?? "unknown"))
        ]
        if let version = capture?["tool_version"]?.stringValue { tool.append(("version", .string(version))) }
        let modelID = modelIdentifier(record)
        let url = capture?["conversation_url"]?.stringValue.flatMap { isURI($0) ? $0 : nil }
        var files: [(path: String, conversations: [JSONValue])] = []
        for output in outputs where !output.ranges.isEmpty {
            var contributor: [(String, JSONValue)] = [("type", .string(output.contributor))]
            if output.contributor != "human", let modelID { contributor.append(("model_id", .string(modelID))) }
            var conversation: [(String, JSONValue)] = []
            if let url { conversation.append(("url", .string(url))) }
            conversation.append(("contributor", .object(JSONObject(contributor))))
            conversation.append(
                (
                    "ranges",
                    .array(
                        ImportedCheckpoints.merged(output.ranges).map {
                            .object(
                                JSONObject([
                                    ("start_line", .number(Double($0.lowerBound))),
                                    ("end_line", .number(Double($0.upperBound))),
                                ]))
                        })
                ))
            if let at = files.firstIndex(where: { $0.path == output.path }) {
                files[at].conversations.append(.object(JSONObject(conversation)))
            } else {
                files.append((output.path, [.object(JSONObject(conversation))]))
            }
        }
        var cairn: [(String, JSONValue)] = [
            ("checkpoint", .string(checkpointID)), ("entry", .uint(entry)), ("digest", .string(digest)),
        ]
        if let grade = capture?["grade"]?.stringValue { cairn.append(("grade", .string(grade))) }
        if let rewrite {
            cairn.append(("output_commit", .string(rewrite.outputCommit)))
            cairn.append(
                (
                    "mapping",
                    .object(JSONObject(rewrite.mappings.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) }))
                ))
        }
        return .object(
            JSONObject([
                ("version", .string(specificationVersion)), ("id", .string(id)),
                ("timestamp", .string(record["timestamp"]?.stringValue ?? "1970-01-01T00:00:00Z")),
                ("vcs", .object(JSONObject([("type", .string("git")), ("revision", .string(commit))]))),
                ("tool", .object(JSONObject(tool))),
                (
                    "files",
                    .array(
                        files.map {
                            .object(
                                JSONObject([("path", .string($0.path)), ("conversations", .array($0.conversations))]))
                        })
                ),
                ("metadata", .object(JSONObject([("dev.cairn", .object(JSONObject(cairn)))]))),
            ]))
    }

    /// `provider/model` (models.dev, as Agent Trace names models) of a checkpoint; nil when its model is unknown.
    static func modelIdentifier(_ record: JSONValue) -> String? {
        guard let id = record["model"]?["id"]?.stringValue, !id.isEmpty, id != "unknown",
            record["x_capture"]?["model_unknown"]?.boolValue != true
        else { return nil }
        let provider = record["model"]?["provider"]?.stringValue ?? ""
        let value = id.contains("/") || provider.isEmpty ? id : provider + "/" + id
        return value.count <= 250 ? value : nil
    }

    /// Whether `text` starts with a URI scheme (`scheme:`) and holds no space or control character.
    static func isURI(_ text: String) -> Bool {
        guard let colon = text.firstIndex(of: ":"), let first = text.first, first.isASCII, first.isLetter else {
            return false
        }
        let scheme = text[..<colon]
        return scheme.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "+-.".contains($0)) }
            && !text.unicodeScalars.contains { $0.value <= 0x20 || $0.value == 0x7f }
    }

    /// The lines `ranges` cover in `old`, as the same lines of `new` (the two versions diffed as `cairn blame` does;
    /// a line changed since has no counterpart and is left out).
    package static func mapRanges(
        _ ranges: [ClosedRange<Int>], from old: [UInt8], to new: [UInt8]
    ) -> [ClosedRange<Int>] {
        let oldLines = CommitRecorder.lines(old)
        let newToOld = LineDiff.newToOld(
            oldLines.map(LineAttribution.normalize), CommitRecorder.lines(new).map(LineAttribution.normalize))
        var oldToNew: [Int: Int] = [:]
        for (new, old) in newToOld.enumerated() { if let old { oldToNew[old + 1] = new + 1 } }
        var lines: [Int] = []
        for range in ranges where range.lowerBound <= oldLines.count {
            for line in range.lowerBound...min(range.upperBound, oldLines.count) {
                if let mapped = oldToNew[line] { lines.append(mapped) }
            }
        }
        return LineAttribution.ranges(lines).map { $0[0]...$0[1] }
    }
}
