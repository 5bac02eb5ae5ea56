import ArgumentParser
import CairnCapture
import CairnJSON
import CairnRecords
import Foundation

struct CaptureCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "capture",
        abstract: "Record a coding agent's hook event in the repository's working log.",
        discussion: prose(
            """
            Reads one hook payload of AGENT (JSON, on standard input, as the agent's hook gives it),
            finds the git repository around the payload's working directory, redacts secrets from
            prompts, commands, messages and the agent's file edits (specs/redaction.md), and appends
            the event to <git dir>/cairn/working-log.jsonl (specs/capture.md). The commit hooks turn
            the working log into checkpoint records.

            It is made to run inside an agent's hook, so it never gets in the agent's way: no network,
            no other process started, nothing on standard output, and it always exits 0. A payload
            that cannot be recorded (not the agent's, not JSON, an unwritable log) is reported on
            standard error and in <git dir>/cairn/capture.log when the repository is known. With
            --json, prints what was recorded (for scripts and tests).

            AGENTS
              claude-code   Claude Code hooks (.claude/settings.json)
              cursor        Cursor hooks (.cursor/hooks.json)

            EXAMPLES
              echo '{"hook_event_name":"UserPromptSubmit","cwd":".","prompt":"hi"}' | cairn capture claude-code
              echo '{"hook_event_name":"Stop","cwd":"."}' | cairn capture claude-code --json
            """)
    )

    @Argument(help: ArgumentHelp("The agent whose hook payload is on standard input.", valueName: "agent"))
    var agent: String

    @Flag(help: "Print the outcome as JSON on standard output.")
    var json = false

    /// Hook payloads are small; a runaway one is refused rather than read.
    static let maxPayloadBytes = 16 << 20

    func run() throws {
        let environment = ProcessInfo.processInfo.environment
        let outcome: Result<Capture.Outcome, CaptureError>
        do {
            let payload = try InputFile.standardInput.read(upTo: Self.maxPayloadBytes + 1)
            if payload.count > Self.maxPayloadBytes {
                outcome = .failure(CaptureError("the hook payload is over \(Self.maxPayloadBytes) bytes"))
            } else {
                let now = Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))
                outcome = Result { () throws(CaptureError) in
                    try Capture.run(agent: agent, payload: payload, environment: environment, now: now)
                }
            }
        } catch {
            outcome = .failure(CaptureError("cannot read standard input: \(error.message)"))
        }
        switch outcome {
        case .success(.recorded(let events, let log, let redactions)):
            if json {
                Console.line(
                    #"{"recorded":\#(events),"log":\#(jsonString(log)),"redactions":\#(redactions.count)}"#)
            }
        case .success(.skipped(let reason)):
            if json { Console.line(#"{"recorded":0,"skipped":\#(jsonString(reason))}"#) }
        case .failure(let error):
            Console.error("cairn capture: " + DisplayText.escape(error.message))
            CaptureLog.append(error.message, agent: agent, environment: environment)
            if json { Console.line(#"{"recorded":0,"error":\#(jsonString(error.message))}"#) }
        }
        // Never the agent's problem: a hook that fails can block or disturb it.
    }

    private func jsonString(_ text: String) -> String {
        DisplayText.escapeJSON(JSONWriter.compact(.string(text)))
    }
}
