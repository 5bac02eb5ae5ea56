import CairnJSON

/// Reads one agent's hook payloads. Adding an agent is one small file with one of these, listed in
/// `AgentAdapters.all` (specs/capture.md, "Agents").
package protocol AgentAdapter: Sendable {
    /// The name `cairn capture NAME` takes.
    static var name: String { get }
    /// The events in one hook payload (most payloads are one event; none for what is not worth keeping).
    ///
    /// - Throws: `CaptureError` when the payload is not this agent's.
    static func events(from payload: JSONValue, environment: [String: String]) throws(CaptureError) -> [CaptureEvent]
    /// The events in one hook payload whose event name may come from the command line instead (`cairn-capture
    /// AGENT --event NAME`), for agents whose payloads carry none (GitHub Copilot CLI). The payload's own name,
    /// when it has one, wins.
    static func events(
        from payload: JSONValue, event: String?, environment: [String: String]
    ) throws(CaptureError) -> [CaptureEvent]
}

extension AgentAdapter {
    /// By default `event` stands in for a missing `hook_event_name`, the member every other agent sends.
    package static func events(
        from payload: JSONValue, event: String?, environment: [String: String]
    ) throws(CaptureError) -> [CaptureEvent] {
        guard let event, var object = payload.objectValue, object["hook_event_name"] == nil else {
            return try events(from: payload, environment: environment)
        }
        object["hook_event_name"] = .string(event)
        return try events(from: .object(object), environment: environment)
    }
}

/// Every agent `cairn capture` knows.
package enum AgentAdapters {
    package static let all: [any AgentAdapter.Type] = [
        ClaudeCodeAdapter.self, CursorAdapter.self, GeminiCLIAdapter.self, CodexAdapter.self, GitHubCopilotAdapter.self,
    ]

    package static func named(_ name: String) -> (any AgentAdapter.Type)? {
        all.first { $0.name == name }
    }
}

/// Why a payload was not captured. Capture never fails its agent: the caller logs these and exits 0.
package struct CaptureError: Error, Sendable, Equatable, CustomStringConvertible {
    package let message: String
    package init(_ message: String) { self.message = message }
    package var description: String { message }
}

extension CaptureEvent {
    /// An event of `agent` named by the payload's `hook_event_name` (which every agent sends), of kind
    /// `other` until the adapter says more; throws when the payload has none.
    init(payload: JSONValue, agent: String, product: String) throws(CaptureError) {
        guard payload.objectValue != nil, let hook = payload.text("hook_event_name") else {
            throw CaptureError("not a \(product) hook payload: no hook_event_name")
        }
        self.init(agent: agent, kind: .other, hook: hook)
    }

    /// An event of a Claude-style payload (Claude Code, Gemini CLI, Codex), with the members they share:
    /// `session_id`, `cwd` (else `projectDirectory`, the agent's environment variable for it),
    /// `transcript_path` and `model`.
    init(
        claudeStyle payload: JSONValue, agent: String, product: String, projectDirectory: String?
    ) throws(CaptureError) {
        try self.init(payload: payload, agent: agent, product: product)
        session = payload.text("session_id")
        cwd = payload.text("cwd") ?? projectDirectory
        transcript = payload.text("transcript_path")
        model = payload.text("model")
    }

    /// The file edits of a tool call whose input names `file_path`: tool `write` writes `content`, `edit`
    /// replaces `old_string` by `new_string`, and `multiEdit` lists such replacements in `edits`.
    static func edits(tool: String?, input: JSONValue?, write: String, edit: String, multiEdit: String? = nil) -> [Edit]
    {
        guard let tool, let input, let file = input.text("file_path") else { return [] }
        switch tool {
        case write:
            return [Edit(file: file, content: input.text("content"))]
        case edit:
            return [Edit(file: file, old: input.text("old_string"), new: input.text("new_string"))]
        case multiEdit:
            return (input["edits"]?.arrayValue ?? []).map {
                Edit(file: file, old: $0.text("old_string"), new: $0.text("new_string"))
            }
        default:
            return []
        }
    }
}

extension JSONValue {
    /// The string member `key`, if there is one.
    func text(_ key: String) -> String? { self[key]?.stringValue }
}
