import CairnJSON

/// OpenAI Codex CLI's hooks: Claude-style stdin payloads (`hook_event_name`, `session_id`, `cwd`, `tool_name`,
/// `tool_input`, `transcript_path`), where `apply_patch` edits files and `Bash` runs commands, and a nested
/// `hook_event` with the turn's `input_messages` and `last_assistant_message`. The model comes from the
/// rollout transcript (`turn_context.payload.model`). (Codex's older `notify` program, which gets its JSON
/// as an argument instead of on standard input, is not supported.)
package enum CodexAdapter: AgentAdapter {
    package static let name = "codex"

    package static func events(
        from payload: JSONValue, environment: [String: String]
    ) throws(CaptureError) -> [CaptureEvent] {
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
}
