extension String {
    /// The text's lines, split at every LF byte (U+000A), with the empty piece after a final LF:
    /// what `split(separator: "\n", omittingEmptySubsequences: false)` would give if Swift did not
    /// treat CR LF as one `Character`. Split by `Character`, "a\r\n" is one piece and "\r\n" at the
    /// end of a text is no line break at all, so a strict parser could drop a line or miss its
    /// carriage return; here a CR stays at the end of its line, where a check for control
    /// characters finds it.
    package func linesSplitAtLF() -> [Substring] {
        var lines: [Substring] = []
        let scalars = unicodeScalars
        var start = scalars.startIndex
        var index = start
        while index < scalars.endIndex {
            if scalars[index] == "\n" {
                lines.append(Substring(scalars[start..<index]))
                start = scalars.index(after: index)
            }
            index = scalars.index(after: index)
        }
        lines.append(Substring(scalars[start..<scalars.endIndex]))
        return lines
    }
}
