import ArgumentParser
import CairnCapture

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

            Hooks should run the `cairn-capture` executable built beside `cairn`: the same code, but it
            starts in a few milliseconds where `cairn` needs ~14 (docs/performance.md, "Capture").

            AGENTS
              claude-code     Claude Code hooks (.claude/settings.json)
              cursor          Cursor hooks (.cursor/hooks.json)
              gemini-cli      Gemini CLI hooks (.gemini/settings.json)
              codex           OpenAI Codex CLI hooks (standard-input payloads)
              github-copilot  GitHub Copilot agent hooks as VS Code sends them

            EXAMPLES
              echo '{"hook_event_name":"UserPromptSubmit","cwd":".","prompt":"hi"}' | cairn capture claude-code
              echo '{"hook_event_name":"Stop","cwd":"."}' | cairn capture claude-code --json
            """)
    )

    @Argument(help: ArgumentHelp("The agent whose hook payload is on standard input.", valueName: "agent"))
    var agent: String

    @Flag(help: "Print the outcome as JSON on standard output.")
    var json = false

    func run() throws {
        // The same code as the lightweight `cairn-capture` executable that hooks run.
        Console.flush()
        let status = CaptureMain.run(agent: agent, json: json)
        if status != 0 { throw CLIError(.ioError, "cannot write the summary to standard output") }
    }
}
