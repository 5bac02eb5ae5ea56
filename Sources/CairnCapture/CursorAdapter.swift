import CairnJSON

/// Cursor's hooks (`.cursor/hooks.json`): camelCase events (`beforeSubmitPrompt`, `afterFileEdit`,
/// `afterShellExecution`, `afterAgentResponse`, `stop`, and in newer builds `sessionStart`, `postToolUse`
/// with Claude-style `tool_name`/`tool_input`), with `conversation_id`, `model` and `workspace_roots`.
package enum CursorAdapter: AgentAdapter {
    package static let name = "cursor"

    package static func events(
        from payload: JSONValue, environment: [String: String]
    ) throws(CaptureError) -> [CaptureEvent] {
        var event = try CaptureEvent(payload: payload, agent: name, product: "Cursor")
        let hook = event.hook
        event.session = payload.text("conversation_id") ?? payload.text("session_id")
        event.cwd =
            payload["workspace_roots"]?[0]?.stringValue ?? payload.text("cwd") ?? environment["CURSOR_PROJECT_DIR"]
        event.transcript = payload.text("transcript_path")
        // "default" names Cursor's automatic choice, not a model.
        event.model = payload.text("model").flatMap { $0 == "default" || $0.isEmpty ? nil : $0 }
        switch hook {
        case "beforeSubmitPrompt":
            event.kind = .prompt
            event.prompt = payload.text("prompt")
        case "afterFileEdit", "afterTabFileEdit":
            if let file = payload.text("file_path") {
                event.edits = (payload["edits"]?.arrayValue ?? []).map {
                    CaptureEvent.Edit(file: file, old: $0.text("old_string"), new: $0.text("new_string"))
                }
            }
            event.kind = event.edits.isEmpty ? .other : .edit
            event.tool = hook == "afterTabFileEdit" ? "tab" : "agent"
        case "postToolUse":
            let tool = payload.text("tool_name") ?? ""
            event.tool = tool
            event.edits = ClaudeCodeAdapter.edits(tool: tool, input: payload["tool_input"])
            event.kind = event.edits.isEmpty ? .tool : .edit
        case "afterShellExecution":
            event.kind = .tool
            event.tool = "shell"
            event.command = payload.text("command")
        case "afterAgentResponse":
            event.kind = .other
            event.message = payload.text("text")
        case "stop":
            event.kind = .stop
        case "sessionStart":
            event.kind = .sessionStart
        case "sessionEnd":
            event.kind = .sessionEnd
        default:
            break
        }
        return [event]
    }
}
