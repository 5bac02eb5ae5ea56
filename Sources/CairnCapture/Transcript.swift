import CairnJSON
import Foundation

/// The model id an agent's session transcript names last (Claude Code: `message.model` of assistant lines):
/// read from the end of the file, at most `limit` bytes, so a long session costs no more than a short one.
enum TranscriptModel {
    static let limit = 256 << 10

    static func lastModel(inTranscript path: String) -> String? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        guard let size = try? handle.seekToEnd() else { return nil }
        let start = size > UInt64(limit) ? size - UInt64(limit) : 0
        guard (try? handle.seek(toOffset: start)) != nil, let data = try? handle.readToEnd() else { return nil }
        let bytes = [UInt8](data)
        // Lines from the last; the first (possibly cut) line is skipped when the read started mid-file.
        var lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true)
        if start > 0, !lines.isEmpty { lines.removeFirst() }
        for line in lines.reversed() {
            guard let value = try? JSONParser.parse(Array(line)) else { continue }
            if let model = value["message"]?["model"]?.stringValue ?? value["model"]?.stringValue, !model.isEmpty {
                return model
            }
        }
        return nil
    }
}
