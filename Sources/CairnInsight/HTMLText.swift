import CairnRecords

/// Escaping of untrusted text for HTML: every string that comes from a record (labels, ids, repository names,
/// reviewers, JSON) goes through `escape` before it reaches a page, whether as text, as an attribute value or
/// inside inline SVG.
///
/// ```swift
/// HTMLText.escape(#"<script>"onmouseover='x'&"#)   // "&lt;script&gt;&quot;onmouseover=&#39;x&#39;&amp;"
/// HTMLText.escape("mallory\u{1B}[2K")              // "mallory\\u{1B}[2K": controls are shown, not obeyed
/// ```
public enum HTMLText {
    /// `text` safe to put in HTML text or in a double- or single-quoted attribute value: `&`, `<`, `>`, `"` and
    /// `'` become character references, and control and bidirectional-formatting characters are first made
    /// visible with `DisplayText.escape` (`\u{1B}`), so that no record can hide or reorder what a page shows.
    public static func escape(_ text: String) -> String {
        references(DisplayText.escape(text))
    }

    /// Character references for `&`, `<`, `>`, `"` and `'` only, for text already made safe to show (pretty-printed
    /// JSON keeps its line breaks); a C0 control other than TAB, LF and CR, or DEL, that is still there becomes
    /// U+FFFD (HTML forbids them).
    static func references(_ text: String) -> String {
        let special: (UInt8) -> Bool = {
            $0 == 0x26 || $0 == 0x3C || $0 == 0x3E || $0 == 0x22 || $0 == 0x27 || $0 == 0x7F
                || ($0 < 0x20 && $0 != 0x09 && $0 != 0x0A && $0 != 0x0D)
        }
        guard text.utf8.contains(where: special) else { return text }
        var out = ""
        out.reserveCapacity(text.utf8.count + 16)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            case "\u{0}"..."\u{8}", "\u{B}", "\u{C}", "\u{E}"..."\u{1F}", "\u{7F}": out += "\u{FFFD}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// A query string `name=value&…` with names and values percent-encoded (RFC 3986 unreserved characters
    /// kept), as `StatsDrill.queryString` writes it; safe in an attribute once escaped.
    public static func queryString(_ parameters: [(name: String, value: String)]) -> String {
        parameters.map { StatsDrill.percentEncode($0.name) + "=" + StatsDrill.percentEncode($0.value) }
            .joined(separator: "&")
    }

    /// `text` cut to at most `limit` characters, with an ellipsis when it was longer (for chart labels; the
    /// table beside the chart has the whole text).
    static func truncated(_ text: String, to limit: Int) -> String {
        guard text.count > limit, limit > 1 else { return text }
        return String(text.prefix(limit - 1)) + "…"
    }
}
