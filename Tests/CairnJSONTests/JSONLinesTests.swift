import CairnJSON
import Testing

@Suite("JSON Lines: splitting a body into numbered lines")
struct JSONLinesTests {
    func texts(_ body: String) -> [(Int, String)] {
        let bytes = Array(body.utf8)
        return JSONLines.lines(bytes).map { ($0.number, String(decoding: bytes[$0.range], as: UTF8.self)) }
    }

    @Test("LF and CRLF end lines; the last line needs no end; blank lines keep their numbers")
    func splitting() {
        #expect(texts("").isEmpty)
        #expect(texts("a").map(\.1) == ["a"])
        #expect(texts("a\n").map(\.1) == ["a"])
        #expect(texts("a\r\nb\n\nc").map(\.0) == [1, 2, 3, 4])
        #expect(texts("a\r\nb\n\nc").map(\.1) == ["a", "b", "", "c"])
        #expect(texts("\r\n").map(\.1) == [""])
        // A CR not followed by LF stays in the line; a lone CR at the very start is content.
        #expect(texts("a\rb\n").map(\.1) == ["a\rb"])
        #expect(texts("\r").map(\.1) == ["\r"])
    }

    @Test("blank means JSON whitespace only")
    func blank() {
        #expect(JSONLines.isBlank(Array(" \t\r\n".utf8)))
        #expect(JSONLines.isBlank([UInt8]()))
        #expect(!JSONLines.isBlank(Array(" x ".utf8)))
        #expect(!JSONLines.isBlank([0x0b]))  // vertical tab is not JSON whitespace
    }
}
