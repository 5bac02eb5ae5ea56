// `cairn-capture AGENT [--event NAME] [--json] [PAYLOAD]`: `cairn capture` in a small executable that links no
// Foundation, no argument parser and no server, so that an agent's hook starts in a few milliseconds
// (docs/performance.md, "Capture"). `cairn hooks install` registers this one; both run `CaptureMain` (specs/capture.md).
// `cairn-capture git-hook HOOK ARG...` is what git's hook shims run: `cairn hooks run`, just as fast.
import CairnCapture
import CairnCommitCapture

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

let arguments = Array(CommandLine.arguments.dropFirst())
if arguments.first == "git-hook", arguments.count >= 2 {
    exit(
        GitHookMain.run(
            hook: arguments[1], arguments: Array(arguments.dropFirst(2)),
            cairn: GitHookMain.cairnBesideThisExecutable()))
}
var json = false
var event: String?
var positional: [String] = []
var malformed = false
var rest = arguments[...]
while let argument = rest.popFirst() {
    if argument == "--json" {
        json = true
    } else if argument == "--event", let name = rest.popFirst(), !name.isEmpty {
        event = name
    } else if argument.hasPrefix("--event="), argument.count > 8 {
        event = String(argument.dropFirst(8))
    } else if argument.hasPrefix("-") {
        malformed = true
    } else {
        positional.append(argument)
    }
}
// AGENT, and the payload as the last argument when given (Codex's `notify`), else on standard input.
if !malformed, positional.count == 1 || positional.count == 2 {
    exit(CaptureMain.run(agent: positional[0], json: json, event: event, argument: positional.dropFirst().first))
}
let usage = """
    usage: cairn-capture AGENT [--event NAME] [--json] [PAYLOAD]
           cairn-capture git-hook HOOK [ARG...]
    Records a coding agent's hook payload (JSON on standard input, or PAYLOAD: Codex's notify passes it as the
    last argument) in the repository's working log; always exits 0. --event NAME names the event when the
    payload does not (GitHub Copilot CLI). AGENT: \(CaptureMain.agents.joined(separator: ", ")). See `cairn
    capture --help`.

    """
let help = arguments == ["-h"] || arguments == ["--help"]
_ = help ? CaptureMain.print(usage, to: 1) : CaptureMain.print(usage, to: 2)
exit(0)
