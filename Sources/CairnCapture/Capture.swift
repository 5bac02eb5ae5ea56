import CairnJSON
import CairnRedaction

/// `cairn capture AGENT`: one hook payload into the repository's working log (specs/capture.md).
package enum Capture {
    /// What a capture did.
    package enum Outcome: Sendable, Equatable {
        /// Appended `events` lines to `log`, with these redactions.
        case recorded(events: Int, log: String, redactions: [RedactionFinding])
        /// Nothing to record, and why (no repository around the agent's directory, nothing worth keeping).
        case skipped(String)
    }

    /// Reads `payload` as `agent`'s hook input and appends its events to the working log of the repository
    /// around the agent's directory. No network, no process started. `event` is the event's name from the
    /// command line (`--event`), for payloads that carry none.
    ///
    /// - Throws: `CaptureError` (unknown agent, a payload that is not the agent's, an unwritable log); the
    ///   caller logs it and still exits 0.
    package static func run(
        agent name: String, event: String? = nil, payload bytes: [UInt8], environment: [String: String],
        now milliseconds: Int64
    ) throws(CaptureError) -> Outcome {
        guard let adapter = AgentAdapters.named(name) else {
            let known = AgentAdapters.all.map { $0.name }.joined(separator: ", ")
            throw CaptureError("unknown agent \(name) (known: \(known))")
        }
        let payload: JSONValue
        do {
            payload = try JSONParser.parse(bytes)
        } catch {
            throw CaptureError("the \(name) hook payload is not JSON: \(error)")
        }
        var events = try adapter.events(from: payload, event: event, environment: environment)
        guard let cwd = events.first?.cwd ?? environment["PWD"] else {
            return .skipped("the payload names no directory")
        }
        guard let repository = CaptureRepository.containing(cwd) else {
            return .skipped("\(cwd) is not inside a git repository")
        }
        for index in events.indices where events[index].model == nil {
            if let transcript = events[index].transcript {
                events[index].model = TranscriptModel.lastModel(inTranscript: transcript)
            }
        }
        guard !events.isEmpty else { return .skipped("nothing to record") }
        let log = WorkingLog(repository: repository)
        let findings = try log.append(events, at: milliseconds)
        return .recorded(events: events.count, log: log.path, redactions: findings)
    }
}
