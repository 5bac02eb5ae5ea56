import CairnJSON

/// Where and how one agent registers command hooks, and Cairn's registration in it (specs/capture.md,
/// "Installing"). Adding an agent is one of these in `AgentHookConfigs.all`.
package struct AgentHookConfig: Sendable {
    /// The agent's name, as `cairn-capture` takes it.
    package let agent: String
    /// The configuration file, relative to the working tree's root.
    package let file: String
    /// Adds `command` to the configuration `settings` (an object), for every event Cairn captures, unless it is
    /// there already; returns the new settings.
    package let add: @Sendable (_ settings: JSONObject, _ command: String) -> JSONObject
    /// Removes every hook whose command `isOurs`, and the lists and groups left empty by that; returns the new
    /// settings.
    package let remove: @Sendable (_ settings: JSONObject, _ isOurs: (String) -> Bool) -> JSONObject
    /// The commands registered in `settings`.
    package let commands: @Sendable (_ settings: JSONObject) -> [String]
}

package enum AgentHookConfigs {
    package static let all: [AgentHookConfig] = [claudeCode, cursor, geminiCLI, githubCopilot]

    package static func named(_ name: String) -> AgentHookConfig? { all.first { $0.agent == name } }

    /// Claude Code: `.claude/settings.local.json` (the developer's own project settings, not committed).
    static let claudeCode = grouped(
        agent: "claude-code", file: ".claude/settings.local.json",
        events: [
            ("UserPromptSubmit", nil), ("PostToolUse", "Write|Edit|MultiEdit|Bash"), ("Stop", nil),
            ("SessionStart", nil), ("SessionEnd", nil),
        ])

    /// Gemini CLI: `.gemini/settings.json` (the project's settings).
    static let geminiCLI = grouped(
        agent: "gemini-cli", file: ".gemini/settings.json",
        events: [
            ("BeforeAgent", nil), ("AfterTool", "write_file|replace|run_shell_command"), ("AfterAgent", nil),
            ("SessionStart", nil), ("SessionEnd", nil),
        ])

    /// The configuration shape Claude Code and Gemini CLI share, `hooks`: event → [{"matcher"?, "hooks": [{"type":
    /// "command", "command"}]}].
    static func grouped(agent: String, file: String, events: [(String, String?)]) -> AgentHookConfig {
        AgentHookConfig(
            agent: agent, file: file,
            add: { settings, command in
                var settings = settings
                var hooks = settings["hooks"]?.objectValue ?? [:]
                for (event, matcher) in events {
                    var groups = hooks[event]?.arrayValue ?? []
                    let present = groups.contains { group in
                        (group["hooks"]?.arrayValue ?? []).contains { $0["command"]?.stringValue == command }
                    }
                    guard !present else { continue }
                    var group: [(String, JSONValue)] = []
                    if let matcher { group.append(("matcher", .string(matcher))) }
                    let hook = JSONObject([("type", .string("command")), ("command", .string(command))])
                    group.append(("hooks", .array([.object(hook)])))
                    groups.append(.object(JSONObject(group)))
                    hooks[event] = .array(groups)
                }
                settings["hooks"] = .object(hooks)
                return settings
            },
            remove: { settings, isOurs in
                var settings = settings
                guard var hooks = settings["hooks"]?.objectValue else { return settings }
                for (event, value) in hooks {
                    guard let groups = value.arrayValue else { continue }
                    var kept: [JSONValue] = []
                    for group in groups {
                        guard var object = group.objectValue, let list = object["hooks"]?.arrayValue else {
                            kept.append(group)
                            continue
                        }
                        let remaining = list.filter { !isOurs($0["command"]?.stringValue ?? "") }
                        if remaining.count == list.count {
                            kept.append(group)
                        } else if !remaining.isEmpty {
                            object["hooks"] = .array(remaining)
                            kept.append(.object(object))
                        }
                    }
                    hooks[event] = kept.isEmpty ? nil : .array(kept)
                }
                settings["hooks"] = hooks.isEmpty ? nil : .object(hooks)
                return settings
            },
            commands: { settings in
                (settings["hooks"]?.objectValue ?? [:]).flatMap { _, value in
                    (value.arrayValue ?? []).flatMap {
                        ($0["hooks"]?.arrayValue ?? []).compactMap { $0["command"]?.stringValue }
                    }
                }
            })
    }

    /// Cursor: `.cursor/hooks.json` (project hooks), `{"version": 1, "hooks": event → [{"command"}]}`.
    static let cursor = flat(
        agent: "cursor", file: ".cursor/hooks.json",
        events: ["beforeSubmitPrompt", "afterFileEdit", "afterTabFileEdit", "afterShellExecution", "stop"],
        member: "command", entry: [], namesEvent: false)

    /// GitHub Copilot CLI: a file of Cairn's own, `.github/hooks/cairn.json` (Copilot reads every `*.json` there),
    /// `{"version": 1, "hooks": event → [{"type": "command", "bash"}]}`. Its payloads carry no event name, so
    /// each event gets the command with `--event NAME`.
    static let githubCopilot = flat(
        agent: "github-copilot", file: ".github/hooks/cairn.json",
        events: ["sessionStart", "userPromptSubmitted", "postToolUse", "agentStop", "sessionEnd"],
        member: "bash", entry: [("type", .string("command"))], namesEvent: true)

    /// The configuration shape Cursor and GitHub Copilot CLI share, `{"version": 1, "hooks": event → [entry]}`: each
    /// entry one command, under `member`, after the members `entry`; with `namesEvent`, the command ends
    /// `--event EVENT`.
    static func flat(
        agent: String, file: String, events: [String], member: String, entry: [(String, JSONValue)],
        namesEvent: Bool
    ) -> AgentHookConfig {
        AgentHookConfig(
            agent: agent, file: file,
            add: { settings, command in
                var settings = settings
                if settings["version"] == nil { settings["version"] = .number(1) }
                var hooks = settings["hooks"]?.objectValue ?? [:]
                for event in events {
                    let registered = namesEvent ? "\(command) --event \(event)" : command
                    var list = hooks[event]?.arrayValue ?? []
                    guard !list.contains(where: { $0[member]?.stringValue == registered }) else { continue }
                    list.append(.object(JSONObject(entry + [(member, .string(registered))])))
                    hooks[event] = .array(list)
                }
                settings["hooks"] = .object(hooks)
                return settings
            },
            remove: { settings, isOurs in
                var settings = settings
                guard var hooks = settings["hooks"]?.objectValue else { return settings }
                for (event, value) in hooks {
                    guard let list = value.arrayValue else { continue }
                    let kept = list.filter { !isOurs($0[member]?.stringValue ?? "") }
                    hooks[event] = kept.isEmpty ? nil : .array(kept)
                }
                settings["hooks"] = .object(hooks)
                return settings
            },
            commands: { settings in
                (settings["hooks"]?.objectValue ?? [:]).flatMap { _, value in
                    (value.arrayValue ?? []).compactMap { $0[member]?.stringValue }
                }
            })
    }
}
