import CairnJSON

/// Claude Code's command hooks (`hooks` in `.claude/settings.json`): one JSON object on stdin with
/// `hook_event_name`, `session_id`, `transcript_path`, `cwd`, and per event `prompt`, `tool_name` /
/// `tool_input` / `tool_response`, `last_assistant_message`, `model` (SessionStart only), `reason`.
package enum ClaudeCodeAdapter: AgentAdapter {
    package static let name = "claude-code"

    package static func events(
        from payload: JSONValue, environment: [String: String]
    ) throws(CaptureError) -> [CaptureEvent] {
        var event = try CaptureEvent(payload: payload, agent: name, product: "Claude Code")
        let hook = event.hook
        event.session = payload.text("session_id")
        event.cwd = payload.text("cwd") ?? environment["CLAUDE_PROJECT_DIR"]
        event.transcript = payload.text("transcript_path")
        event.model = payload.text("model")
        switch hook {
        case "UserPromptSubmit":
            event.kind = .prompt
            event.prompt = payload.text("prompt")
        case "PostToolUse":
            let tool = payload.text("tool_name") ?? ""
            event.tool = tool
            let input = payload["tool_input"]
            event.edits = edits(tool: tool, input: input)
            event.kind = event.edits.isEmpty ? .tool : .edit
            if tool == "Bash" { event.command = input?.text("command") }
        case "Stop", "SubagentStop":
            event.kind = .stop
            event.message = payload.text("last_assistant_message")
        case "SessionStart":
            event.kind = .sessionStart
        case "SessionEnd":
            event.kind = .sessionEnd
        default:
            event.tool = payload.text("tool_name")
        }
        return [event]
    }

    /// Write (whole content), Edit (old → new), MultiEdit (a list of them; older versions).
    static func edits(tool: String, input: JSONValue?) -> [CaptureEvent.Edit] {
        guard let input, let file = input.text("file_path") else { return [] }
        switch tool {
        case "Write":
            return [CaptureEvent.Edit(file: file, content: input.text("content"))]
        case "Edit":
            return [CaptureEvent.Edit(file: file, old: input.text("old_string"), new: input.text("new_string"))]
        case "MultiEdit":
            return (input["edits"]?.arrayValue ?? []).map {
                CaptureEvent.Edit(file: file, old: $0.text("old_string"), new: $0.text("new_string"))
            }
        default:
            return []
        }
    }
}
