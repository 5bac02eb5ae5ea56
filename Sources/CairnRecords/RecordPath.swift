/// A location inside a record, written as a JSON path: `$` is the record, `.name` a member whose key
/// is identifier-like (`[A-Za-z_][A-Za-z0-9_]*`), `["weird key"]` any other member (the key in JSON
/// string syntax, escaped as RFC 8785 escapes it), and `[3]` an array element.
///
/// ```swift
/// RecordPath.root.appending("outputs").appending(0).appending("ranges").description  // $.outputs[0].ranges
/// RecordPath.root.appending("a b").appending("x\"y").description                    // $["a b"]["x\"y"]
/// ```
public struct RecordPath: Sendable, Hashable, CustomStringConvertible {
    /// One step: an object member or an array element.
    public enum Component: Sendable, Hashable {
        /// The member with this key.
        case key(String)
        /// The array element at this 0-based position.
        case index(Int)
    }

    /// The steps from the record to the location; empty for the record itself.
    public var components: [Component]

    /// The record itself: `$`.
    public static let root = RecordPath(components: [])

    /// Creates a path from its steps.
    public init(components: [Component]) {
        self.components = components
    }

    /// This path followed by the member `key`.
    public func appending(_ key: String) -> RecordPath {
        RecordPath(components: components + [.key(key)])
    }

    /// This path followed by the array element at `index`.
    public func appending(_ index: Int) -> RecordPath {
        RecordPath(components: components + [.index(index)])
    }

    /// The path text, e.g. `$.outputs[0].ranges[1][0]` or `$.context["x-team"]`.
    public var description: String { Self.render(components) }

    /// The path text of `components` (see the type's documentation).
    static func render(_ components: some Sequence<Component>) -> String {
        var text = "$"
        for component in components {
            switch component {
            case .key(let key) where isIdentifier(key):
                text += "."
                text += key
            case .key(let key):
                text += "["
                text += jsonQuoted(key)
                text += "]"
            case .index(let index):
                text += "["
                text += String(index)
                text += "]"
            }
        }
        return text
    }

    /// True for `[A-Za-z_][A-Za-z0-9_]*`.
    static func isIdentifier(_ key: String) -> Bool {
        withUTF8Bytes(key) { bytes in
            guard let first = bytes.first, isLetterOrUnderscore(first) else { return false }
            return bytes.allSatisfy { isLetterOrUnderscore($0) || isDigit($0) }
        }
    }

    private static func isLetterOrUnderscore(_ byte: UInt8) -> Bool {
        (byte | 0x20) &- UInt8(ascii: "a") < 26 || byte == UInt8(ascii: "_")
    }
}

/// `text` as a JSON string literal, escaped as RFC 8785 escapes it: `"`, `\` and U+0000…U+001F only
/// (short forms where they exist, else `\u00xx`), so that the result stays on one line.
func jsonQuoted(_ text: String) -> String {
    var out = "\""
    out.unicodeScalars.reserveCapacity(text.unicodeScalars.count + 2)
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\u{08}": out += "\\b"
        case "\u{09}": out += "\\t"
        case "\u{0A}": out += "\\n"
        case "\u{0C}": out += "\\f"
        case "\u{0D}": out += "\\r"
        case let control where control.value < 0x20:
            let hex = String(control.value, radix: 16)
            out += "\\u00" + (hex.count == 1 ? "0" : "") + hex
        default:
            out.unicodeScalars.append(scalar)
        }
    }
    out += "\""
    return out
}
