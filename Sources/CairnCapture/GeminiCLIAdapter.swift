import CairnJSON

/// Gemini CLI's command hooks (`hooks` in `.gemini/settings.json`): Claude-style payloads with
/// `hook_event_name` (`BeforeAgent` with `prompt`, `AfterTool` with `tool_name`/`tool_input`, `AfterAgent`,
/// `SessionStart`, `SessionEnd`), `session_id`, `cwd`, `transcript_path`. File tools are `write_file`
/// (`content`) and `replace` (`old_string`, `new_string`); the shell is `run_shell_command`.
package enum GeminiCLIAdapter: AgentAdapter {
    package static let name = "gemini-cli"

    package static func events(
        from payload: JSONValue, environment: [String: String]
    ) throws(CaptureError) -> [CaptureEvent] {
        var event = try CaptureEvent(
            claudeStyle: payload, agent: name, product: "Gemini CLI",
            projectDirectory: environment["GEMINI_PROJECT_DIR"])
        switch event.hook {
        case "BeforeAgent":
            event.kind = .prompt
            event.prompt = payload.text("prompt")
        case "AfterTool":
            let input = payload["tool_input"]
            event.tool = payload.text("tool_name")
            event.edits = CaptureEvent.edits(tool: event.tool, input: input, write: "write_file", edit: "replace")
            if event.tool == "run_shell_command" { event.command = input?.text("command") }
            event.kind = event.edits.isEmpty ? .tool : .edit
        case "AfterAgent":
            event.kind = .stop
            event.message = payload.text("prompt_response")
        case "SessionStart":
            event.kind = .sessionStart
        case "SessionEnd":
            event.kind = .sessionEnd
        default:
            event.tool = payload.text("tool_name")
        }
        return [event]
    }
}
