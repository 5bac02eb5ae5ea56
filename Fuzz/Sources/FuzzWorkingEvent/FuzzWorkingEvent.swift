// FuzzWorkingEvent: lines of the working log as the commit hooks read them (CairnCommitCapture:
// `WorkingEvent(line:position:)` and `Edit.writtenLines`, specs/capture.md, "The working log"). The log is written
// by cairn-capture, but any process that can write the repository can write it too.
//
// Oracles:
// - no trap, whatever the bytes: a line that is not a version-1 event is nil;
// - a parsed event has the position it was given, and every edit names a file; an edit's written lines are at
//   most the lines of its content (or replacement text).
import CairnCommitCapture
import CairnJSON
import FuzzKit

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = bytes(data, size)
    guard let event = WorkingEvent(line: input, position: 17) else { return 0 }
    oracle(event.position == 17, "position \(event.position)")
    _ = event.sessionKey
    for edit in event.edits {
        oracle(!edit.file.isEmpty, "an edit without a file")
        let all = (edit.content ?? edit.new ?? "").split(separator: "\n", omittingEmptySubsequences: false).count
        oracle(edit.writtenLines.count <= all, "\(edit.writtenLines.count) written lines of \(all)")
    }
    return 0
}

private func seeds() -> [[UInt8]] {
    [
        #"{"v":1,"at":"2026-01-25T10:00:00Z","agent":"claude-code","event":"PostToolUse","hook":"PostToolUse","session":"s-1","model":"claude-sonnet-4","tool":"Write","edits":[{"file":"src/a.swift","content":"let a = 1\nlet b = 2\n"}]}"#,
        #"{"v":1,"at":"2026-01-25T10:00:01Z","agent":"claude-code","event":"PostToolUse","tool":"Edit","edits":[{"file":"src/a.swift","old":"let a = 1\nlet b = 2\n","new":"let a = 1\nlet b = 3\nlet c = 4\n"},{"file":""}]}"#,
        #"{"v":1,"at":"2026-01-25T10:00:02Z","agent":"codex","event":"UserPromptSubmit","prompt":"write it","message":"ok"}"#,
        #"{"v":2,"at":"x","agent":"a","event":"e"}"#,
    ].map { Array($0.utf8) }
}

@_cdecl("FuzzWorkingEvent_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    fuzzerMain(argc, argv, seeds: seeds) { fuzz($0, $1) }
}
