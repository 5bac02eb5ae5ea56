import CairnJSON

/// OpenAI Codex CLI's hooks: Claude-style stdin payloads (`hook_event_name`, `session_id`, `cwd`, `tool_name`,
/// `tool_input`, `transcript_path`), where `apply_patch` edits files and `Bash` runs commands, and a nested
/// `hook_event` with the turn's `input_messages` and `last_assistant_message`. The model comes from the
/// rollout transcript (`turn_context.payload.model`).
///
/// Codex's `notify` program (`notify = ["cairn-capture", "codex"]` in `~/.codex/config.toml`) gets its JSON as
/// its last argument instead: `{"type": "agent-turn-complete", "turn-id", "input-messages": [...],
/// "last-assistant-message"}`, kebab-case, no working directory (`$PWD` then) and no session (`thread-id` or
/// `cwd` when a newer Codex sends them). A turn becomes a `prompt` and a `stop` event.
package enum CodexAdapter: AgentAdapter {
    package static let name = "codex"

    package static func events(
        from payload: JSONValue, environment: [String: String]
    ) throws(CaptureError) -> [CaptureEvent] {
        if payload.objectValue != nil, payload["hook_event_name"] == nil, let type = payload.text("type") {
            return notifyEvents(payload, type: type, environment: environment)
        }
        var event = try CaptureEvent(claudeStyle: payload, agent: name, product: "Codex", projectDirectory: nil)
        let turn = payload["hook_event"]
        switch event.hook {
        case "UserPromptSubmit":
            event.kind = .prompt
            event.prompt = payload.text("prompt")
        case "PostToolUse":
            event.tool = payload.text("tool_name")
            event.kind = .tool
            if event.tool == "Bash" { event.command = payload["tool_input"]?.text("command") }
        case "Stop":
            event.kind = .stop
        case "SessionStart":
            event.kind = .sessionStart
        case "SessionEnd":
            event.kind = .sessionEnd
        default:
            event.tool = payload.text("tool_name")
        }
        if event.prompt == nil, let messages = turn?["input_messages"]?.arrayValue {
            let texts = messages.compactMap(\.stringValue)
            if !texts.isEmpty { event.prompt = texts.joined(separator: "\n") }
        }
        event.message = event.message ?? turn?.text("last_assistant_message")
        return [event]
    }

    /// The events of a `notify` payload: `agent-turn-complete` is the turn's prompt (the input messages, joined
    /// by line feeds) and its stop (the last assistant message); any other type is kept as `other`.
    static func notifyEvents(_ payload: JSONValue, type: String, environment: [String: String]) -> [CaptureEvent] {
        func event(_ kind: CaptureEvent.Kind) -> CaptureEvent {
            var event = CaptureEvent(agent: name, kind: kind, hook: type)
            event.session = payload.text("thread-id")
            event.cwd = payload.text("cwd") ?? environment["PWD"]
            return event
        }
        guard type == "agent-turn-complete" else { return [event(.other)] }
        var prompt = event(.prompt)
        let texts = (payload["input-messages"]?.arrayValue ?? []).compactMap(\.stringValue)
        prompt.prompt = texts.isEmpty ? nil : texts.joined(separator: "\n")
        var stop = event(.stop)
        stop.message = payload.text("last-assistant-message")
        return [prompt, stop]
    }
}
