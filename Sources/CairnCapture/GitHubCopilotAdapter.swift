import CairnJSON

/// GitHub Copilot's hooks, in two shapes:
///
/// - the agent hooks as VS Code sends them: camelCase `hookEventName` (`UserPromptSubmit`, `PreToolUse`,
///   `PostToolUse`, `Stop`, `SessionStart`), `sessionId`, `cwd`, `toolName`, `toolInput`, `transcript_path`,
///   `model` (`copilot/<model>`);
/// - Copilot CLI's hooks (`.github/hooks/*.json`), whose camelCase payloads carry no event name: the hook's
///   command names it (`cairn-capture github-copilot --event postToolUse`). `sessionStart` sends `{timestamp,
///   cwd, source, initialPrompt}`, `postToolUse` `{timestamp, cwd, toolName, toolArgs, toolResult}` (`toolArgs`
///   an object or a JSON string), `userPromptSubmitted` (assumed) `{timestamp, cwd, prompt}`; no session id.
///
/// The payload's `hookEventName`, when present, wins over `--event`.
package enum GitHubCopilotAdapter: AgentAdapter {
    package static let name = "github-copilot"

    package static func events(
        from payload: JSONValue, environment: [String: String]
    ) throws(CaptureError) -> [CaptureEvent] {
        try events(from: payload, event: nil, environment: environment)
    }

    package static func events(
        from payload: JSONValue, event cliEvent: String?, environment: [String: String]
    ) throws(CaptureError) -> [CaptureEvent] {
        guard payload.objectValue != nil else {
            throw CaptureError("not a GitHub Copilot hook payload: not a JSON object")
        }
        if let hook = payload.text("hookEventName") {
            return [vsCodeEvent(payload, hook: hook)]
        }
        guard let cliEvent else {
            throw CaptureError(
                "not a GitHub Copilot agent hook payload: no hookEventName (Copilot CLI's hooks need --event NAME)")
        }
        return [cliEventOf(payload, hook: cliEvent)]
    }

    /// A VS Code agent hook's event.
    static func vsCodeEvent(_ payload: JSONValue, hook: String) -> CaptureEvent {
        var event = common(payload, hook: hook)
        switch hook {
        case "UserPromptSubmit":
            event.kind = .prompt
            event.prompt = payload.text("prompt")
        case "PostToolUse":
            toolEvent(&event, input: payload["toolInput"])
        case "Stop":
            event.kind = .stop
        case "SessionStart":
            event.kind = .sessionStart
            event.prompt = payload.text("initialPrompt")
        default:
            break
        }
        return event
    }

    /// A Copilot CLI hook's event, named by `--event`.
    static func cliEventOf(_ payload: JSONValue, hook: String) -> CaptureEvent {
        var event = common(payload, hook: hook)
        switch hook {
        case "sessionStart":
            event.kind = .sessionStart
            event.prompt = payload.text("initialPrompt")
        case "userPromptSubmitted":
            event.kind = .prompt
            event.prompt = payload.text("prompt")
        case "postToolUse":
            // A tool call that did not succeed changed nothing worth attributing.
            let result = payload["toolResult"]?.text("resultType")
            toolEvent(&event, input: arguments(payload["toolArgs"]), edits: result == nil || result == "success")
        case "agentStop":
            event.kind = .stop
        case "sessionEnd":
            event.kind = .sessionEnd
        default:
            break
        }
        return event
    }

    /// The members both shapes may have.
    static func common(_ payload: JSONValue, hook: String) -> CaptureEvent {
        var event = CaptureEvent(agent: name, kind: .other, hook: hook)
        event.session = payload.text("sessionId")
        event.cwd = payload.text("cwd")
        event.transcript = payload.text("transcript_path") ?? payload.text("transcriptPath")
        event.model = payload.text("model")
        event.tool = payload.text("toolName")
        return event
    }

    /// `toolArgs` as an object: Copilot CLI gives it as one, or as a JSON string.
    static func arguments(_ value: JSONValue?) -> JSONValue? {
        guard let text = value?.stringValue else { return value }
        return try? JSONParser.parse(Array(text.utf8))
    }

    /// A tool call: an `edit` when its input names a file (`filePath`, `file_path`, `path`) and a whole content
    /// (`content`, `file_text`) or a replacement (`oldString`/`newString`, `old_string`/`new_string`,
    /// `old_str`/`new_str`); otherwise a `tool` event, with the input's `command`.
    static func toolEvent(_ event: inout CaptureEvent, input: JSONValue?, edits: Bool = true) {
        func first(_ keys: String...) -> String? { keys.lazy.compactMap { input?.text($0) }.first }
        if edits, let file = first("filePath", "file_path", "path") {
            if let content = first("content", "file_text", "fileText") {
                event.edits = [CaptureEvent.Edit(file: file, content: content)]
            } else if let new = first("newString", "new_string", "new_str") {
                event.edits = [
                    CaptureEvent.Edit(file: file, old: first("oldString", "old_string", "old_str"), new: new)
                ]
            }
        }
        event.command = input?.text("command")
        event.kind = event.edits.isEmpty ? .tool : .edit
    }
}
