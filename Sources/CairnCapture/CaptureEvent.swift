import CairnJSON

/// One agent hook event, normalized from the agent's own payload: a line of the working log
/// (specs/capture.md).
package struct CaptureEvent: Sendable, Equatable {
    /// What happened, across agents.
    package enum Kind: String, Sendable, Equatable {
        /// The user submitted a prompt.
        case prompt
        /// The agent changed files (`edits`).
        case edit
        /// The agent ran a tool that changed no file it reported (a shell command, a search).
        case tool
        /// The agent finished its turn.
        case stop
        case sessionStart = "session-start"
        case sessionEnd = "session-end"
        /// Anything else the agent reports; kept, with its hook name.
        case other
    }

    /// A file the agent wrote or edited.
    package struct Edit: Sendable, Equatable {
        /// The path as the agent gave it; `WorkingLog` makes it relative to the repository.
        package var file: String
        /// The whole new content (a write), if the payload has it.
        package var content: String?
        /// The replaced text and its replacement (an edit), if the payload has them.
        package var old: String?
        package var new: String?

        package init(file: String, content: String? = nil, old: String? = nil, new: String? = nil) {
            self.file = file
            self.content = content
            self.old = old
            self.new = new
        }
    }

    package var agent: String
    package var kind: Kind
    /// The agent's own name for the event (`PostToolUse`, `afterFileEdit`, …).
    package var hook: String
    package var session: String?
    /// The directory the agent works in: where the repository is looked for.
    package var cwd: String?
    package var transcript: String?
    /// The exact model id, from the payload or the session's transcript.
    package var model: String?
    package var prompt: String?
    package var tool: String?
    package var command: String?
    package var edits: [Edit] = []
    /// The agent's last message of a turn.
    package var message: String?

    package init(agent: String, kind: Kind, hook: String) {
        self.agent = agent
        self.kind = kind
        self.hook = hook
    }
}
