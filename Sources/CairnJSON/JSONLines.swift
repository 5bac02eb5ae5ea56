/// JSON Lines (one JSON value per line, as `application/x-ndjson` and `.jsonl` files hold
/// records): splitting a body into numbered lines, the one way the CLI and the server do it.
///
/// Lines end at LF; a CR right before the LF is not part of the line (CRLF files work); the last
/// line needs no LF. Lines are numbered from 1, blank ones included, so that problems name the
/// line a person sees in an editor.
public enum JSONLines {
    /// One line: its 1-based number and its byte range in the body (without the line end).
    public struct Line: Sendable, Hashable {
        public let number: Int
        public let range: Range<Int>
    }

    /// Every line of `bytes`, in order (an empty body has none); ranges index `bytes`.
    public static func lines(_ bytes: [UInt8]) -> [Line] {
        var lines: [Line] = []
        var start = 0
        var number = 1
        bytes.withUnsafeBufferPointer { buffer in
            for i in 0..<buffer.count where buffer[i] == UInt8(ascii: "\n") {
                let end = i > start && buffer[i - 1] == UInt8(ascii: "\r") ? i - 1 : i
                lines.append(Line(number: number, range: start..<end))
                start = i + 1
                number += 1
            }
        }
        if start < bytes.count { lines.append(Line(number: number, range: start..<bytes.count)) }
        return lines
    }

    /// Whether `bytes` hold only JSON whitespace (space, tab, CR, LF): a line to skip.
    public static func isBlank(_ bytes: some Sequence<UInt8>) -> Bool {
        bytes.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0d || $0 == 0x0a }
    }
}
