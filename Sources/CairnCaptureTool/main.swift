// `cairn-capture AGENT [--json]`: `cairn capture` in a small executable that links no Foundation, no argument
// parser and no server, so that an agent's hook starts in a few milliseconds (docs/performance.md,
// "Capture"). `cairn hooks install` registers this one; both run `CaptureMain` (specs/capture.md).
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
let json = arguments.contains("--json")
let positional = arguments.filter { $0 != "--json" }
if positional.count == 1, !positional[0].hasPrefix("-") {
    exit(CaptureMain.run(agent: positional[0], json: json))
}
let usage = """
    usage: cairn-capture AGENT [--json]
           cairn-capture git-hook HOOK [ARG...]
    Records a coding agent's hook payload (JSON on standard input) in the repository's working log; always
    exits 0. AGENT: \(CaptureMain.agents.joined(separator: ", ")). See `cairn capture --help`.

    """
let help = positional == ["-h"] || positional == ["--help"]
_ = help ? CaptureMain.print(usage, to: 1) : CaptureMain.print(usage, to: 2)
exit(0)
