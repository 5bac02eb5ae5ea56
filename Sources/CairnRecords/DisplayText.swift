// Showing record content to people without letting it drive their terminal.
//
// A record's strings are chosen by whoever appended it. Printed raw, a reviewer named
// "mallory\u{1B}[2K\rbob@example.com" erases its own line and prints a forged one, and a right-to-left
// override (U+202E) makes "txt.exe" read as "exe.txt". Every human-readable output of Cairn (tables,
// summaries, reports in csv and md, messages that quote record content or file names) passes such
// strings through `DisplayText.escape`; JSON output passes through `DisplayText.escapeJSON`.
// specs/record-schema.md ("Showing strings to people") documents the notation.

/// Makes untrusted text safe to show on a terminal or in a report, visibly.
public enum DisplayText {
    /// Whether Cairn shows `scalar` escaped: the C0 controls U+0000–U+001F (tab, line feed and
    /// carriage return included: a field is one line), DEL U+007F, the C1 controls U+0080–U+009F
    /// (U+009B is an 8-bit CSI to some terminals), and the invisible characters that reorder or
    /// break text: ARABIC LETTER MARK U+061C, LEFT-TO-RIGHT and RIGHT-TO-LEFT MARK U+200E and
    /// U+200F, LINE and PARAGRAPH SEPARATOR U+2028 and U+2029, the bidirectional embeddings and
    /// overrides U+202A–U+202E and the isolates U+2066–U+2069.
    public static func needsEscaping(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F, 0x061C, 0x200E, 0x200F, 0x2028...0x202E, 0x2066...0x2069:
            return true
        default:
            return false
        }
    }

    /// `text` with every character that `needsEscaping` written as `\u{` + its code point in
    /// uppercase hexadecimal, at least two digits + `}` (Swift's notation): ESC is `\u{1B}`, a line
    /// feed `\u{0A}`, RIGHT-TO-LEFT OVERRIDE `\u{202E}`. Everything else, backslashes included, is
    /// unchanged, so text without such characters comes back as it was; the exact value is always
    /// in the `--json` output.
    public static func escape(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: needsEscaping) else { return text }
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            guard needsEscaping(scalar) else {
                out.append(scalar)
                continue
            }
            out.append(contentsOf: "\\u{".unicodeScalars)
            let hex = String(scalar.value, radix: 16, uppercase: true)
            if hex.utf8.count < 2 { out.append("0") }
            out.append(contentsOf: hex.unicodeScalars)
            out.append("}")
        }
        return String(out)
    }

    /// A JSON text (as `JSONWriter` writes it) with every character that `needsEscaping` and that
    /// JSON writers leave raw — DEL, the C1 controls, U+061C, U+200E, U+200F, U+2028–U+202E and
    /// U+2066–U+2069 — written as the JSON escape `\u` + four lowercase hex digits. Such
    /// characters can only occur inside JSON strings, so the result is valid JSON with the same
    /// value. C0 controls are left alone: inside strings JSON writers already escape them, and
    /// outside strings they are the text's own line breaks and indentation.
    public static func escapeJSON(_ json: String) -> String {
        func needsJSONEscape(_ scalar: Unicode.Scalar) -> Bool { scalar.value >= 0x7F && needsEscaping(scalar) }
        // Pure ASCII below DEL (the common case) needs nothing: a byte scan, no scalar decoding.
        let plain =
            json.utf8.withContiguousStorageIfAvailable { bytes in bytes.allSatisfy { $0 < 0x7F } }
            ?? json.utf8.allSatisfy { $0 < 0x7F }
        guard !plain else { return json }
        guard json.unicodeScalars.contains(where: needsJSONEscape) else { return json }
        var out = String.UnicodeScalarView()
        for scalar in json.unicodeScalars {
            guard needsJSONEscape(scalar) else {
                out.append(scalar)
                continue
            }
            let hex = String(scalar.value, radix: 16, uppercase: false)
            out.append(contentsOf: "\\u".unicodeScalars)
            out.append(contentsOf: String(repeating: "0", count: max(0, 4 - hex.utf8.count)).unicodeScalars)
            out.append(contentsOf: hex.unicodeScalars)
        }
        return String(out)
    }

    /// The position of the first C0 control character (U+0000–U+001F) or DEL (U+007F) in `text`,
    /// counting Unicode code points from 1, with the character; nil when there is none. Schema 1
    /// refuses such characters in identifier and person fields.
    static func firstControlCharacter(in text: String) -> (position: Int, scalar: Unicode.Scalar)? {
        // C0 controls and DEL are single bytes in UTF-8 that never occur inside another character's encoding: a
        // byte scan finds whether there is one (most identifiers have none); positions count Unicode scalars.
        let hasOne = withUTF8Bytes(text) { bytes in bytes.contains { $0 < 0x20 || $0 == 0x7F } }
        guard hasOne else { return nil }
        for (offset, scalar) in text.unicodeScalars.enumerated() where scalar.value < 0x20 || scalar.value == 0x7F {
            return (offset + 1, scalar)
        }
        return nil
    }
}

extension Unicode.Scalar {
    /// `U+001B`: the code point as Unicode writes it (at least four uppercase hex digits).
    var codePointName: String {
        let hex = String(value, radix: 16, uppercase: true)
        return "U+" + String(repeating: "0", count: max(0, 4 - hex.utf8.count)) + hex
    }
}
