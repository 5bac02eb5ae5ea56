import CairnCrypto
import CairnNote
import Testing

/// Strict parsers split text into lines at LF bytes. Split by Swift `Character`s, CR LF is one
/// character: a text ending in "\n\r\n" lost its last line silently, so two texts parsed to one
/// checkpoint (found by FuzzNote: a parsed checkpoint body did not re-serialize to its input).
@Suite("Lines are split at LF bytes, CR LF included")
struct LineSplittingTests {
    static let root = SHA256.hash(utf8: "root").base64

    @Test("linesSplitAtLF keeps a CR at the end of its line and the empty piece after a final LF")
    func splitting() {
        #expect("a\r\nb\n".linesSplitAtLF().map(String.init) == ["a\r", "b", ""])
        #expect("\n\r\n".linesSplitAtLF().map(String.init) == ["", "\r", ""])
        #expect("no newline".linesSplitAtLF().map(String.init) == ["no newline"])
        #expect("".linesSplitAtLF().map(String.init) == [""])
        // Combining characters and a CR LF inside a grapheme boundary keep their bytes.
        let text = "e\u{301}\r\n\u{1F469}\u{200D}\u{1F4BB}\n"
        let lines = text.linesSplitAtLF()
        #expect(
            lines.map { Array($0.utf8) } == [Array("e\u{301}\r".utf8), Array("\u{1F469}\u{200D}\u{1F4BB}".utf8), []])
    }

    @Test("A checkpoint body with a CR LF line is refused, at the end of the text as anywhere else")
    func checkpointWithCRLF() throws {
        for text in [
            "og\n7\n\(Self.root)\next\n\r\n",  // the fuzzer's case: dropped before
            "og\n7\n\(Self.root)\r\n",
            "og\r\n7\n\(Self.root)\n",
            "og\n7\n\(Self.root)\next\r\n",
        ] {
            let error = #expect(throws: NoteError.self, "\(text.debugDescription)") { try Checkpoint(parsing: text) }
            #expect(error?.message.contains("control character U+000D") == true, "\(error?.message ?? "")")
        }
        // Every accepted body re-serializes to its input.
        let good = "og\n7\n\(Self.root)\next one\n"
        #expect(try Checkpoint(parsing: good).text == good)
    }
}
