import ArgumentParser
import CairnCapture

struct CaptureCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "capture",
        abstract: "Record a coding agent's hook event in the repository's working log.",
        discussion: prose(
            """
            Reads one hook payload of AGENT (JSON, on standard input, as the agent's hook gives it;
            or PAYLOAD, the last argument, as Codex's notify program gets it), finds the git repository around the payload's working directory, redacts secrets from
            prompts, commands, messages and the agent's file edits (specs/redaction.md), and appends
            the event to <git dir>/cairn/working-log.jsonl (specs/capture.md). The commit hooks turn
            the working log into checkpoint records.

            It is made to run inside an agent's hook, so it never gets in the agent's way: no network,
            no other process started, nothing on standard output, and it always exits 0. A payload
            that cannot be recorded (not the agent's, not JSON, an unwritable log) is reported on
            standard error and in <git dir>/cairn/capture.log when the repository is known. With
            --json, prints what was recorded (for scripts and tests). --event NAME names the event
            when the payload does not (GitHub Copilot CLI's payloads carry no event name, so each of
            its hooks runs `cairn-capture github-copilot --event NAME`).

            Hooks should run the `cairn-capture` executable built beside `cairn`: the same code, but it
            starts in a few milliseconds where `cairn` needs ~14 (docs/performance.md, "Capture").

            AGENTS
              claude-code     Claude Code hooks (.claude/settings.json)
              cursor          Cursor hooks (.cursor/hooks.json)
              gemini-cli      Gemini CLI hooks (.gemini/settings.json)
              codex           OpenAI Codex CLI hooks (standard input), and its notify
                              program (the JSON as the last argument): add the line
                              notify = ["/usr/local/bin/cairn-capture", "codex"]
                              to ~/.codex/config.toml
              github-copilot  GitHub Copilot agent hooks (VS Code), and Copilot CLI hooks
                              (.github/hooks/*.json) with --event NAME

            EXAMPLES
              echo '{"hook_event_name":"UserPromptSubmit","cwd":".","prompt":"hi"}' | cairn capture claude-code
              echo '{"hook_event_name":"Stop","cwd":"."}' | cairn capture claude-code --json
              echo '{"cwd":".","toolName":"bash","toolArgs":{"command":"ls"}}' | cairn capture github-copilot --event postToolUse
              cairn capture codex '{"type":"agent-turn-complete","input-messages":["hi"]}'
            """)
    )

    @Argument(help: ArgumentHelp("The agent whose hook payload is read.", valueName: "agent"))
    var agent: String

    @Argument(
        help: ArgumentHelp(
            "The payload, when the agent passes it as an argument (Codex's notify); standard input is then not read.",
            valueName: "payload"))
    var payload: String?

    @Option(
        help: ArgumentHelp("The event's name, for payloads that carry none (GitHub Copilot CLI).", valueName: "name"))
    var event: String?

    @Flag(help: "Print the outcome as JSON on standard output.")
    var json = false

    func run() throws {
        // The same code as the lightweight `cairn-capture` executable that hooks run.
        Console.flush()
        let status = CaptureMain.run(agent: agent, json: json, event: event, argument: payload)
        if status != 0 { throw CLIError(.ioError, "cannot write the summary to standard output") }
    }
}
