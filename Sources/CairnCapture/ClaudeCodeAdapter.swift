import CairnJSON

/// Claude Code's command hooks (`hooks` in `.claude/settings.json`): one JSON object on stdin with
/// `hook_event_name`, `session_id`, `transcript_path`, `cwd`, and per event `prompt`, `tool_name` /
/// `tool_input` / `tool_response`, `last_assistant_message`, `model` (SessionStart only), `reason`.
package enum ClaudeCodeAdapter: AgentAdapter {
    package static let name = "claude-code"

    package static func events(
        from payload: JSONValue, environment: [String: String]
    ) throws(CaptureError) -> [CaptureEvent] {
        var event = try CaptureEvent(
            claudeStyle: payload, agent: name, product: "Claude Code",
            projectDirectory: environment["CLAUDE_PROJECT_DIR"])
        switch event.hook {
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
        CaptureEvent.edits(tool: tool, input: input, write: "Write", edit: "Edit", multiEdit: "MultiEdit")
    }
}
