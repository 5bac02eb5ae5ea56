/// Reads a JSON Lines file in chunks of whole lines, remembering where each chunk ends, so an
/// import can report lines and resume at a byte offset. Memory: one chunk at a time.
struct LineChunkReader {
    /// A run of consecutive non-blank lines.
    struct Chunk {
        /// The lines, with their line numbers.
        let texts: [RecordText]
        /// The byte offset just after this chunk's last line (where the next chunk starts).
        let endOffset: UInt64
        /// The line number after this chunk's last line.
        let nextLine: Int
    }

    private let input: InputFile
    private let linesPerChunk: Int
    private var buffer: [UInt8] = []
    private var bufferStart: UInt64
    private var nextLine: Int
    private var atEnd = false

    /// Starts reading `input` at `offset`, whose line number is `line`.
    init(input: InputFile, offset: UInt64 = 0, line: Int = 1, linesPerChunk: Int = 2048) throws(CLIError) {
        self.input = input
        self.linesPerChunk = linesPerChunk
        self.bufferStart = offset
        self.nextLine = line
        if offset > 0 { try input.seek(to: offset) }
    }

    /// The next chunk, or nil at the end of the file.
    mutating func next() throws(CLIError) -> Chunk? {
        var texts: [RecordText] = []
        var consumed = 0
        var lines = 0
        while lines < linesPerChunk {
            if let newline = buffer[consumed...].firstIndex(of: UInt8(ascii: "\n")) {
                append(buffer[consumed..<newline], to: &texts)
                consumed = newline + 1
                lines += 1
                continue
            }
            if atEnd {
                if consumed < buffer.count {
                    append(buffer[consumed..<buffer.count], to: &texts)
                    consumed = buffer.count
                    lines += 1
                }
                break
            }
            // Keep the unfinished line and read more.
            buffer.removeFirst(consumed)
            bufferStart += UInt64(consumed)
            consumed = 0
            let more = try input.read(upTo: 4 << 20)
            if more.isEmpty { atEnd = true } else { buffer.append(contentsOf: more) }
        }
        guard lines > 0 else { return nil }
        buffer.removeFirst(consumed)
        bufferStart += UInt64(consumed)
        return Chunk(texts: texts, endOffset: bufferStart, nextLine: nextLine)
    }

    private mutating func append(_ line: ArraySlice<UInt8>, to texts: inout [RecordText]) {
        var bytes = line
        if bytes.last == UInt8(ascii: "\r") { bytes = bytes.dropLast() }
        if !RecordSplitter.isBlank(bytes) {
            // Copy: the buffer is reused.
            texts.append(RecordText(line: nextLine, bytes: ArraySlice(Array(bytes)), isDocument: false))
        }
        nextLine += 1
    }
}
