import CairnJSON

/// The model id an agent's session transcript names last (Claude Code: `message.model` of assistant lines):
/// read from the end of the file, at most `limit` bytes, so a long session costs no more than a short one.
enum TranscriptModel {
    static let limit = 256 << 10

    static func lastModel(inTranscript path: String) -> String? {
        // Payloads may give the path as the user sees it (`~/.claude/projects/…`).
        let path = path.hasPrefix("~/") ? (POSIX.environment("HOME") ?? "") + path.dropFirst() : path
        guard let (bytes, cut) = POSIX.readTail(path, limit: limit) else { return nil }
        // Lines from the last; the first (possibly cut) line is skipped when the read started mid-file.
        var lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true)
        if cut, !lines.isEmpty { lines.removeFirst() }
        for line in lines.reversed() {
            guard let value = try? JSONParser.parse(Array(line)) else { continue }
            // Claude Code: message.model; Gemini CLI: model; Codex: payload.model of turn_context lines.
            let model =
                value["message"]?["model"]?.stringValue ?? value["model"]?.stringValue
                ?? value["payload"]?["model"]?.stringValue
            if let model, !model.isEmpty {
                return model
            }
        }
        return nil
    }
}
