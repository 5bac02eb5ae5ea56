import CairnCrypto
import CairnJSON

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `post-commit`: turns the working log's agent sessions into checkpoint records of the commit just made — one per
/// session that wrote lines the commit contains, each output a file's lines classified as `ai`, `mixed` or `human`
/// (specs/capture.md, "At commit").
package enum CommitRecorder {
    /// The repository's capture settings, from git config.
    package struct Settings: Sendable, Equatable {
        /// How records name the repository: `remote.origin.url`, else the working tree's path.
        package var repo: String
        /// `user.email`, else `user.name`, else `unknown`.
        package var requester: String
        /// `cairn.sensitivePaths`: globs (comma or space separated) whose changes get the full record.
        package var sensitivePaths: [String]
        /// `cairn.fullRecordLines` (default 200): changes of at least this many agent lines get the full record.
        package var fullRecordLines: Int

        package init(config: [String: String], root: String) {
            repo = config["remote.origin.url"].flatMap { $0.isEmpty ? nil : $0 } ?? root
            requester =
                [config["user.email"], config["user.name"]].compactMap { $0 }.first { !$0.isEmpty } ?? "unknown"
            sensitivePaths = (config["cairn.sensitivepaths"] ?? "").split(whereSeparator: { $0 == "," || $0 == " " })
                .map(String.init)
            fullRecordLines = config["cairn.fullrecordlines"].flatMap { Int($0) }.map { max(1, $0) } ?? 200
        }

        /// Whether `path` matches a sensitive glob (`fnmatch`, `*` crossing `/`).
        package func isSensitive(_ path: String) -> Bool {
            sensitivePaths.contains { fnmatch($0, path, 0) == 0 }
        }
    }

    /// A file of the commit: its bytes there and in the first parent (nil: absent).
    package struct FileVersions: Sendable {
        package let committed: [UInt8]
        package let parent: [UInt8]?

        package init(committed: [UInt8], parent: [UInt8]?) {
            self.committed = committed
            self.parent = parent
        }
    }

    package struct Plan: Sendable {
        /// The checkpoint records, one per session, in the order of the sessions' first events.
        package var records: [JSONValue] = []
        /// Their ids, with the session each is for.
        package var checkpoints: [(id: String, session: String)] = []
        /// The positions of the working-log lines to keep (everything not consumed by this commit).
        package var keep: [Int] = []
    }

    /// The sessions with edits to `paths`, in the order of their first such edit (for the trailers).
    package static func sessions(editing paths: Set<String>, in events: [WorkingEvent]) -> [String] {
        var sessions: [String] = []
        for event in events where event.edits.contains(where: { paths.contains($0.file) }) {
            if !sessions.contains(event.sessionKey) { sessions.append(event.sessionKey) }
        }
        return sessions
    }

    /// Plans the records of `commit`.
    ///
    /// - Parameters:
    ///   - files: the versions of every changed path some session edited (paths missing from it were deleted).
    ///   - ids: checkpoint ids already given to sessions (by `prepare-commit-msg`'s trailers); others get new ones.
    package static func plan(
        events: [WorkingEvent], commit: String, changed: Set<String>, files: [String: FileVersions],
        settings: Settings, ids: [String: String], newID: () -> String
    ) -> Plan {
        let sessions = Self.sessions(editing: changed, in: events)
        var plan = Plan()
        // The last position of each session's consumed edits: its events up to there belong to this commit.
        var consumedUpTo: [String: Int] = [:]
        for event in events where event.edits.contains(where: { changed.contains($0.file) }) {
            consumedUpTo[event.sessionKey] = event.position
        }
        // The turn that made the last consumed edit ends at the session's next `stop` (the agent's last message),
        // unless a new prompt or edit comes first.
        for event in events {
            guard let last = consumedUpTo[event.sessionKey], last >= 0, event.position > last else { continue }
            if event.event == "prompt" || event.event == "edit" {
                consumedUpTo[event.sessionKey] = -last - 1  // closed: no later event joins
            } else if event.event == "stop" {
                consumedUpTo[event.sessionKey] = -event.position - 1
            }
        }
        for (session, last) in consumedUpTo where last < 0 { consumedUpTo[session] = -last - 1 }
        var keptEdits: Set<String> = []
        for event in events {
            guard let last = consumedUpTo[event.sessionKey], event.position <= last else {
                plan.keep.append(event.position)
                continue
            }
            if event.event == "edit", !event.edits.contains(where: { changed.contains($0.file) }) {
                plan.keep.append(event.position)
                keptEdits.insert(event.sessionKey)
            }
        }
        // A session with edits left for a later commit keeps its prompts for that commit's record.
        for event in events where event.event == "prompt" && keptEdits.contains(event.sessionKey) {
            if let last = consumedUpTo[event.sessionKey], event.position <= last { plan.keep.append(event.position) }
        }
        plan.keep.sort()

        // What each session wrote, per file: each edit's lines on their own (edits land anywhere in the file).
        var written: [String: [String: [[Substring]]]] = [:]  // path → session → edits' lines
        for event in events {
            guard let last = consumedUpTo[event.sessionKey], event.position <= last else { continue }
            for edit in event.edits where changed.contains(edit.file) {
                written[edit.file, default: [:]][event.sessionKey, default: []].append(edit.writtenLines)
            }
        }
        // Attribute every file's added lines.
        var attributions: [(path: String, order: [String], lines: [LineAttribution.Line?])] = []
        var agentLines: [String: Int] = [:]
        for path in written.keys.sorted() {
            guard let versions = files[path], let bySession = written[path] else { continue }
            let order = sessions.filter { bySession[$0] != nil }
            let attribution = LineAttribution.attribute(
                committed: lines(versions.committed), parent: versions.parent.map(lines) ?? [],
                edits: order.map { bySession[$0] ?? [] })
            for line in attribution.compactMap({ $0 }) where line.contributor != .human {
                agentLines[order[line.session ?? 0], default: 0] += 1
            }
            attributions.append((path, order, attribution))
        }
        var outputs: [String: [(path: String, contributor: LineAttribution.Contributor, lines: [Int])]] = [:]
        for (path, order, attribution) in attributions {
            // A person's line goes to the first session that wrote to the file and has a record (agent lines).
            let human = order.first { (agentLines[$0] ?? 0) > 0 }
            var grouped: [String: [LineAttribution.Contributor: [Int]]] = [:]
            for (index, line) in attribution.enumerated() {
                guard let line, let session = line.session.map({ order[$0] }) ?? human else { continue }
                grouped[session, default: [:]][line.contributor, default: []].append(index + 1)
            }
            for (session, byContributor) in grouped {
                for contributor in byContributor.keys.sorted() {
                    outputs[session, default: []].append((path, contributor, byContributor[contributor] ?? []))
                }
            }
        }
        let hashes = files.mapValues { SHA256.hash($0.committed).description }
        for session in sessions {
            guard let sessionOutputs = outputs[session], (agentLines[session] ?? 0) > 0,
                let last = consumedUpTo[session]
            else { continue }
            let mine = events.filter { $0.sessionKey == session && $0.position <= last }
            let id = ids[session] ?? newID()
            let full =
                (agentLines[session] ?? 0) >= settings.fullRecordLines
                || sessionOutputs.contains { settings.isSensitive($0.path) }
            plan.records.append(
                record(
                    id: id, events: mine, outputs: sessionOutputs, commit: commit, hashes: hashes,
                    settings: settings, full: full, changed: changed))
            plan.checkpoints.append((id, session))
        }
        return plan
    }

    /// The most of a prompt a lightweight record keeps.
    package static let lightPromptCharacters = 2000

    private static func record(
        id: String, events: [WorkingEvent],
        outputs: [(path: String, contributor: LineAttribution.Contributor, lines: [Int])],
        commit: String, hashes: [String: String], settings: Settings, full: Bool, changed: Set<String>
    ) -> JSONValue {
        let agent = events.last?.agent ?? "unknown"
        let modelID = events.last(where: { $0.model != nil })?.model
        let prompts = events.filter { $0.prompt.map(isNonBlank) ?? false }
        var prompt = prompts.last?.prompt ?? "(no prompt was captured: the agent's hooks reported none)"
        var truncated = false
        if !full, prompt.count > lightPromptCharacters {
            prompt = String(prompt.prefix(lightPromptCharacters)) + "…"
            truncated = true
        }
        let lastEdit = events.last { !$0.edits.isEmpty }
        var members: [(String, JSONValue)] = [
            ("type", .string("checkpoint")),
            ("schema", .number(1)),
            ("id", .string(id)),
            ("timestamp", .string(lastEdit?.at ?? events.last?.at ?? "1970-01-01T00:00:00Z")),
            ("requested_by", .string(settings.requester)),
            ("tool_path", .string(events.contains { $0.hook == "afterTabFileEdit" } ? "ide" : "agent")),
            ("model", ModelNames.model(id: modelID, agent: agent)),
            ("prompt", .string(prompt)),
            (
                "outputs",
                .array(
                    outputs.map { output in
                        .object(
                            JSONObject([
                                ("repo", .string(settings.repo)), ("commit", .string(commit)),
                                ("path", .string(output.path)),
                                (
                                    "ranges",
                                    .array(
                                        LineAttribution.ranges(output.lines).map {
                                            .array($0.map { .number(Double($0)) })
                                        })
                                ),
                                ("content_hash", .string(hashes[output.path] ?? "")),
                                ("contributor", .string(output.contributor.rawValue)),
                            ]))
                    })
            ),
        ]
        if let session = events.first?.session { members.append(("session_id", .string(session))) }
        if full {
            var turns: [JSONValue] = []
            for event in events {
                if let text = event.prompt {
                    turns.append(
                        .object(
                            JSONObject([
                                ("role", .string("user")), ("content", .string(text)), ("at", .string(event.at)),
                            ])))
                } else if let text = event.message, !text.isEmpty {
                    turns.append(
                        .object(
                            JSONObject([
                                ("role", .string("assistant")), ("content", .string(text)), ("at", .string(event.at)),
                            ])))
                }
            }
            if !turns.isEmpty { members.append(("turns", .array(turns))) }
            var raw = ""
            for event in events {
                for edit in event.edits where changed.contains(edit.file) {
                    if let content = edit.content {
                        raw += "--- \(edit.file) (written)\n\(content)\n"
                    } else {
                        raw += "--- \(edit.file) (edited)\n"
                        raw += (edit.old ?? "").split(separator: "\n", omittingEmptySubsequences: false).map {
                            "-" + $0 + "\n"
                        }.joined()
                        raw += (edit.new ?? "").split(separator: "\n", omittingEmptySubsequences: false).map {
                            "+" + $0 + "\n"
                        }.joined()
                    }
                }
            }
            if !raw.isEmpty { members.append(("raw_output", .string(raw))) }
        }
        var capture: [(String, JSONValue)] = [
            ("grade", .string("hook")), ("agent", .string(agent)), ("tier", .string(full ? "full" : "light")),
        ]
        if truncated { capture.append(("prompt_truncated", .bool(true))) }
        if modelID == nil { capture.append(("model_unknown", .bool(true))) }
        members.append(("x_capture", .object(JSONObject(capture))))
        return .object(JSONObject(members))
    }

    /// Whether `text` has a character other than white space (the schema's "non-blank").
    static func isNonBlank(_ text: String) -> Bool {
        text.unicodeScalars.contains { !$0.properties.isWhitespace }
    }

    /// A file's lines (a final line feed ends the last line rather than starting an empty one).
    package static func lines(_ bytes: [UInt8]) -> [Substring] {
        let text = String(decoding: bytes, as: UTF8.self)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        if lines.last == "" { lines.removeLast() }
        return lines
    }
}

/// The checkpoint's `model` object from a model id as agents report it.
package enum ModelNames {
    /// `{id, version, release_date?, provider}`: a trailing `-YYYYMMDD` is the version and release date; otherwise
    /// the id names its version itself. Without an id: `unknown`, from the agent's own provider.
    package static func model(id: String?, agent: String) -> JSONValue {
        let id = id.flatMap { $0.isEmpty ? nil : $0 } ?? "unknown"
        var members: [(String, JSONValue)] = [("id", .string(id))]
        let bare = id.split(separator: "/").last.map(String.init) ?? id
        let suffix = bare.split(separator: "-").last.map(String.init) ?? ""
        if suffix.count == 8, suffix.allSatisfy(\.isNumber), let year = Int(suffix.prefix(4)), year >= 2000,
            let month = Int(suffix.dropFirst(4).prefix(2)), (1...12).contains(month),
            let day = Int(suffix.suffix(2)), (1...31).contains(day)
        {
            members.append(("version", .string(suffix)))
            members.append(
                ("release_date", .string("\(suffix.prefix(4))-\(suffix.dropFirst(4).prefix(2))-\(suffix.suffix(2))")))
        } else {
            members.append(("version", .string(id)))
        }
        members.append(("provider", .string(provider(model: bare, agent: agent))))
        return .object(JSONObject(members))
    }

    static func provider(model: String, agent: String) -> String {
        let name = model.lowercased()
        if name.hasPrefix("claude") { return "anthropic" }
        if name.hasPrefix("gpt") || name.hasPrefix("o1") || name.hasPrefix("o3") || name.hasPrefix("o4")
            || name.contains("codex")
        {
            return "openai"
        }
        if name.hasPrefix("gemini") { return "google" }
        if name.hasPrefix("grok") { return "xai" }
        switch agent {
        case "claude-code": return "anthropic"
        case "codex": return "openai"
        case "gemini-cli": return "google"
        case "github-copilot": return "github"
        case "cursor": return "cursor"
        default: return agent
        }
    }
}
