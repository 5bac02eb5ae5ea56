import CairnJSON
import CairnRecords

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What `cairn capture AGENT` and the lightweight `cairn-capture AGENT` do (specs/capture.md): read the hook
/// payload (on standard input, or as the last argument), record it, and never get in the agent's way.
package enum CaptureMain {
    /// The agents `AGENT` may name.
    package static var agents: [String] { AgentAdapters.all.map { $0.name } }

    /// Writes `text` to descriptor `fd`; false when it could not.
    @discardableResult
    package static func print(_ text: String, to fd: Int32) -> Bool { POSIX.writeAll(fd, Array(text.utf8)) == nil }

    /// Hook payloads are small; a runaway one is refused rather than read.
    package static let maxPayloadBytes = 16 << 20

    /// Captures the payload for `agent` — `argument` when given (Codex's `notify` passes its JSON as the last
    /// argument; standard input is then not read), else standard input — and returns the exit status: 0,
    /// always, unless `json` output was asked for and could not be written (74). `event` names the event when
    /// the payload does not (`--event`, for Copilot CLI). Problems go to standard error and to the repository's
    /// capture log.
    package static func run(agent: String, json: Bool, event: String? = nil, argument: String? = nil) -> Int32 {
        let outcome: Result<Capture.Outcome, CaptureError>
        if let payload = argument.map({ Array($0.utf8) }) ?? POSIX.readAll(0, limit: maxPayloadBytes) {
            if payload.count > maxPayloadBytes {
                outcome = .failure(CaptureError("the hook payload is over \(maxPayloadBytes) bytes"))
            } else {
                var environment: [String: String] = [:]
                for name in ["CLAUDE_PROJECT_DIR", "CURSOR_PROJECT_DIR"] {
                    environment[name] = POSIX.environment(name)
                }
                // Where a payload without a working directory (Codex's notify) was captured.
                environment["PWD"] = POSIX.workingDirectory()
                outcome = Result { () throws(CaptureError) in
                    try Capture.run(
                        agent: agent, event: event, payload: payload, environment: environment,
                        now: POSIX.nowMilliseconds())
                }
            }
        } else {
            outcome = .failure(CaptureError("cannot read standard input: \(POSIX.lastError())"))
        }
        var summary: JSONValue
        switch outcome {
        case .success(.recorded(let events, let log, let redactions)):
            summary = .object([
                "recorded": .number(Double(events)), "log": .string(log),
                "redactions": .number(Double(redactions.count)),
            ])
        case .success(.skipped(let reason)):
            summary = .object(["recorded": .number(0), "skipped": .string(reason)])
        case .failure(let error):
            // Standard error is best effort: the agent must not fail because its hook's stderr is closed.
            _ = POSIX.writeAll(2, Array("cairn capture: \(DisplayText.escape(error.message))\n".utf8))
            CaptureLog.append(error.message, agent: agent)
            summary = .object(["recorded": .number(0), "error": .string(error.message)])
        }
        guard json else { return 0 }
        let line = DisplayText.escapeJSON(JSONWriter.compact(summary)) + "\n"
        return POSIX.writeAll(1, Array(line.utf8)) == nil ? 0 : 74
    }
}
