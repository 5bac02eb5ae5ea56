import CairnJSON

/// A git-ai authorship note (`refs/notes/ai`, format `authorship/3.0.0`; https://github.com/git-ai-project/git-ai):
/// an attestation section — file paths at column 0, each followed by indented `<key> <line ranges>` entries — then a
/// `---` divider and a JSON metadata section describing the keys. `cairn import --format git-ai` turns each note into
/// checkpoint records (specs/interop-formats.md, "git-ai notes → checkpoints").
///
/// The parser is lenient about what real notes show: session keys (`s_<hex>::t_<hex>`), legacy prompt keys (16, or
/// before git-ai 1.0 7, hex digits), human keys (`h_<hex>`) and any mix of them; quoted paths; CRLF line ends; any
/// indentation; spaces around the commas of a range list; a note without a divider (attestations only, or metadata
/// only); metadata without `sessions`, `prompts` or `humans`. What it cannot read is an `ImportProblem` naming the
/// note's line; it never traps.
package struct GitAINote: Sendable, Equatable {
    /// One `<key> <ranges>` line.
    package struct Entry: Sendable, Equatable {
        package let key: String
        package let ranges: [ClosedRange<Int>]
        /// 1-based in the note.
        package let line: Int
    }

    /// A file path line and its entries.
    package struct File: Sendable, Equatable {
        package let path: String
        package let line: Int
        package var entries: [Entry]
    }

    package var files: [File] = []
    /// The metadata section (empty when the note has none).
    package var metadata = JSONObject()

    /// The most a line number can be (specs/record-schema.md).
    static let maxLine = 4_294_967_295

    // MARK: - Parsing

    package static func parse(_ text: String) throws(ImportProblem) -> GitAINote {
        // "\r\n" is one Character: a line ends at either.
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
        var note = GitAINote()
        let divider = lines.firstIndex { $0.trimmedOfWhitespace == "---" }
        let attestation: ArraySlice<Substring>
        let metadataStart: Int?  // index of the first metadata line
        if let divider {
            attestation = lines[..<divider]
            metadataStart = divider + 1
        } else if lines.first(where: { !$0.trimmedOfWhitespace.isEmpty })?.trimmedOfWhitespace.hasPrefix("{") == true {
            attestation = []
            metadataStart = 0
        } else {
            attestation = lines[...]
            metadataStart = nil
        }

        var current: File?
        for (index, raw) in zip(attestation.indices, attestation) {
            let number = index + 1
            let line = raw.trimmingTrailingWhitespace
            if line.isEmpty { continue }
            if line.first == " " || line.first == "\t" {
                guard current != nil else {
                    throw ImportProblem(
                        line: number, "an attestation entry before any file path: \(ImportedCheckpoints.quoted(line))")
                }
                let body = line.trimmedOfWhitespace
                guard let gap = body.firstIndex(where: { $0 == " " || $0 == "\t" }) else {
                    throw ImportProblem(
                        line: number,
                        "expected `<key> <line ranges>` (such as `s_c9883b05a2487d::t_9f8e7d6c5b4a32 1-10,15-20`), "
                            + "found \(ImportedCheckpoints.quoted(body))")
                }
                let key = String(body[..<gap])
                let ranges = try parseRanges(String(body[gap...].filter { $0 != " " && $0 != "\t" }), line: number)
                current?.entries.append(Entry(key: key, ranges: ranges, line: number))
            } else {
                if let file = current { note.files.append(file) }
                let path =
                    line.count >= 2 && line.hasPrefix("\"") && line.hasSuffix("\"")
                    ? String(line.dropFirst().dropLast()) : line
                current = File(path: path, line: number, entries: [])
            }
        }
        if let file = current { note.files.append(file) }
        note.files.removeAll { $0.entries.isEmpty }

        if let metadataStart, metadataStart < lines.count {
            let json = lines[metadataStart...].joined(separator: "\n")
            if !json.trimmedOfWhitespace.isEmpty {
                let value: JSONValue
                do {
                    value = try JSONParser.parse(json)
                } catch {
                    throw ImportProblem(
                        line: metadataStart + error.line, "metadata: column \(error.column): \(error.detail)")
                }
                guard case .object(let object) = value else {
                    throw ImportProblem(
                        line: metadataStart + 1, "metadata: expected a JSON object, found \(value.kindName)")
                }
                note.metadata = object
            }
        }
        return note
    }

    /// `1-10,15,20-25`.
    static func parseRanges(_ text: String, line: Int) throws(ImportProblem) -> [ClosedRange<Int>] {
        var ranges: [ClosedRange<Int>] = []
        for part in text.split(separator: ",") where !part.isEmpty {
            let bounds = part.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
            guard let start = Int(bounds[0]), let end = bounds.count == 2 ? Int(bounds[1]) : start,
                (1...maxLine).contains(start), (1...maxLine).contains(end)
            else {
                throw ImportProblem(
                    line: line,
                    "line ranges: expected line numbers from 1, such as 1-10,15,20-25, found "
                        + ImportedCheckpoints.quoted(String(part)))
            }
            guard start <= end else {
                throw ImportProblem(line: line, "line range \(part): start \(start) is after end \(end)")
            }
            ranges.append(start...end)
        }
        guard !ranges.isEmpty else {
            throw ImportProblem(line: line, "expected line ranges after the key, found none")
        }
        return ranges
    }

    // MARK: - Converting

    /// The checkpoint records of this note, attached to `commit` (specs/interop-formats.md): one per session (a
    /// `s_…` key, with all its `::t_…` traces, or a legacy prompt key), with its lines as `ai` and the human keys'
    /// lines (`h_…`) of the files it changed as `human`.
    ///
    /// - Parameters:
    ///   - timestamp: the records' `timestamp` (the commit's committer date).
    ///   - requestedBy: `requested_by` when the session names no `human_author`.
    /// - Throws: `ImportProblem` at the note's line of a path the commit does not have, or of ranges beyond the end
    ///   of the file.
    package func checkpoints(
        commit: String, timestamp: String, repository: ImportRepository, requestedBy: String
    ) throws(ImportProblem) -> ImportConversion {
        let sessions = metadata["sessions"]?.objectValue ?? JSONObject()
        let prompts = metadata["prompts"]?.objectValue ?? JSONObject()
        let humanKeys = metadata["humans"]?.objectValue ?? JSONObject()

        struct Session {
            let key: String
            /// The note's line of the session's first entry.
            let line: Int
            var outputs: [(path: String, contributor: String, ranges: [ClosedRange<Int>])] = []

            mutating func add(_ path: String, _ contributor: String, _ ranges: [ClosedRange<Int>]) {
                if let at = outputs.firstIndex(where: { $0.path == path && $0.contributor == contributor }) {
                    outputs[at].ranges += ranges
                } else {
                    outputs.append((path, contributor, ranges))
                }
            }
        }
        var order: [Session] = []
        var humans: [(line: Int, path: String, ranges: [ClosedRange<Int>])] = []
        var contents: [String: [UInt8]] = [:]
        var conversion = ImportConversion()

        for file in files {
            guard let path = ImportedCheckpoints.repositoryPath(file.path) else {
                throw ImportProblem(
                    line: file.line,
                    "expected a path relative to the repository root, found \(ImportedCheckpoints.quoted(file.path))")
            }
            guard let bytes = contents[path] ?? repository.file(commit, path) else {
                throw ImportProblem(
                    line: file.line, "no file \(ImportedCheckpoints.quoted(path)) at commit \(commit)")
            }
            contents[path] = bytes
            let lineCount = ImportedCheckpoints.lineCount(bytes)
            for entry in file.entries {
                if let beyond = entry.ranges.first(where: { $0.upperBound > lineCount }) {
                    throw ImportProblem(
                        line: entry.line,
                        "lines \(beyond.lowerBound)-\(beyond.upperBound), but \(ImportedCheckpoints.quoted(path)) has "
                            + "\(lineCount) line\(lineCount == 1 ? "" : "s") at commit \(commit)")
                }
                let sessionKey = String(entry.key.split(separator: ":", omittingEmptySubsequences: true).first ?? "")
                let described = sessions[sessionKey] != nil || prompts[sessionKey] != nil
                if entry.key.hasPrefix("h_") || (!described && humanKeys[entry.key] != nil) {
                    humans.append((entry.line, path, entry.ranges))
                    continue
                }
                let key = sessionKey.isEmpty ? entry.key : sessionKey
                if let at = order.firstIndex(where: { $0.key == key }) {
                    order[at].add(path, "ai", entry.ranges)
                } else {
                    var session = Session(key: key, line: entry.line)
                    session.add(path, "ai", entry.ranges)
                    order.append(session)
                }
            }
        }
        // A person's lines go with the first session that changed the same file, as the hooks list them.
        for human in humans {
            if let at = order.firstIndex(where: { $0.outputs.contains { $0.path == human.path } }) {
                order[at].add(human.path, "human", human.ranges)
            } else {
                conversion.notes.append(
                    ImportProblem(
                        line: human.line,
                        "human lines of \(ImportedCheckpoints.quoted(human.path)) not imported: no AI session of the "
                            + "note changed the file"))
            }
        }
        let schema = metadata["schema_version"]?.stringValue
        for session in order {
            let described = (sessions[session.key] ?? prompts[session.key])?.objectValue
            let agentID = described?["agent_id"]
            let agent = ImportedCheckpoints.agent(agentID?["tool"]?.stringValue)
            let (model, modelUnknown) = ImportedCheckpoints.model(agentID?["model"]?.stringValue, agent: agent)
            let requester = ImportedCheckpoints.person(described?["human_author"]?.stringValue) ?? requestedBy
            var prompt = "(no prompt was imported: git-ai authorship notes carry none"
            if let url = described?["messages_url"]?.stringValue, !url.isEmpty {
                prompt += "; the messages are at \(url)"
            }
            prompt += ")"
            var members: [(String, JSONValue)] = [
                ("type", .string("checkpoint")), ("schema", .number(1)),
                ("id", .string(ImportedCheckpoints.uuid(["git-ai", commit, session.key]))),
                ("timestamp", .string(timestamp)), ("requested_by", .string(requester)),
                ("tool_path", .string("agent")), ("model", model), ("prompt", .string(prompt)),
                (
                    "outputs",
                    .array(
                        session.outputs.map { output in
                            ImportedCheckpoints.output(
                                repo: repository.name, commit: commit, path: output.path, ranges: output.ranges,
                                file: contents[output.path] ?? [], contributor: output.contributor)
                        })
                ),
            ]
            if let conversation = agentID?["id"]?.stringValue, !conversation.isEmpty {
                members.append(("session_id", .string(conversation)))
            }
            var extra: [(String, JSONValue)] = [("key", .string(session.key))]
            if let schema { extra.append(("note_schema", .string(schema))) }
            if let attributes = described?["custom_attributes"], case .object = attributes {
                extra.append(("custom_attributes", attributes))
            }
            if described == nil { extra.append(("metadata_missing", .bool(true))) }
            if modelUnknown { extra.append(("model_unknown", .bool(true))) }
            members.append(("x_capture", ImportedCheckpoints.capture(source: "git-ai", agent: agent, extra: extra)))
            conversion.records.append((session.line, .object(JSONObject(members))))
        }
        return conversion
    }
}

extension StringProtocol {
    var trimmingTrailingWhitespace: String {
        var end = endIndex
        while end > startIndex, self[index(before: end)] == " " || self[index(before: end)] == "\t" {
            end = index(before: end)
        }
        return String(self[..<end])
    }
}
