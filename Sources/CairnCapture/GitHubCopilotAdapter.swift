import CairnJSON

/// GitHub Copilot's agent hooks as VS Code sends them: camelCase `hookEventName` (`UserPromptSubmit`,
/// `PreToolUse`, `PostToolUse`, `Stop`, `SessionStart`), `sessionId`, `cwd`, `toolName`, `toolInput`,
/// `transcript_path`, `model` (`copilot/<model>`). (Copilot CLI's hooks send no event name in the payload; they
/// are not supported yet.)
package enum GitHubCopilotAdapter: AgentAdapter {
    package static let name = "github-copilot"

    package static func events(
        from payload: JSONValue, environment: [String: String]
    ) throws(CaptureError) -> [CaptureEvent] {
        guard payload.objectValue != nil, let hook = payload.text("hookEventName") else {
            throw CaptureError("not a GitHub Copilot agent hook payload: no hookEventName")
        }
        var event = CaptureEvent(agent: name, kind: .other, hook: hook)
        event.session = payload.text("sessionId")
        event.cwd = payload.text("cwd")
        event.transcript = payload.text("transcript_path") ?? payload.text("transcriptPath")
        event.model = payload.text("model")
        event.tool = payload.text("toolName")
        switch hook {
        case "UserPromptSubmit":
            event.kind = .prompt
            event.prompt = payload.text("prompt")
        case "PostToolUse":
            let input = payload["toolInput"]
            if let file = input?.text("file_path") ?? input?.text("filePath") {
                if let content = input?.text("content") {
                    event.edits = [CaptureEvent.Edit(file: file, content: content)]
                } else if input?.text("oldString") != nil || input?.text("old_string") != nil {
                    event.edits = [
                        CaptureEvent.Edit(
                            file: file, old: input?.text("oldString") ?? input?.text("old_string"),
                            new: input?.text("newString") ?? input?.text("new_string"))
                    ]
                }
            }
            event.command = input?.text("command")
            event.kind = event.edits.isEmpty ? .tool : .edit
        case "Stop":
            event.kind = .stop
        case "SessionStart":
            event.kind = .sessionStart
            event.prompt = payload.text("initialPrompt")
        default:
            break
        }
        return [event]
    }
}
