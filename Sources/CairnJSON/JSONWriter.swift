/// Writes JSON for people and scripts (CLI output): stateless, every function callable from any thread.
///
/// Not canonical: use `JCS` for bytes that are hashed.
///
/// Members are written in stored order. Strings are escaped exactly as `JCS` escapes them and numbers
/// are formatted as `JCS` formats them. NaN and ±infinity, which `JSONParser` never produces, are
/// written as `null` (as ECMAScript's `JSON.stringify` does), so the output is always valid JSON.
///
/// ```swift
/// JSONWriter.compact(["b": 1, "a": [true]])   // {"b":1,"a":[true]}
/// JSONWriter.pretty(["b": 1, "a": [true]])
/// // {
/// //   "b": 1,
/// //   "a": [
/// //     true
/// //   ]
/// // }
/// ```
public enum JSONWriter {
    /// JSON text without any whitespace.
    public static func compact(_ value: JSONValue) -> String {
        var out = ByteWriter(capacity: 256)
        write(value, to: &out, indent: nil)
        return out.string()
    }

    /// JSON text with one member or element per line, indented by two spaces per level, `": "` after
    /// keys, empty containers as `[]` and `{}`, and no trailing newline.
    public static func pretty(_ value: JSONValue) -> String {
        var out = ByteWriter(capacity: 256)
        write(value, to: &out, indent: 0)
        return out.string()
    }

    /// Appends `string` to `bytes` as `compact(.string(string))` writes it (quoted, escaped as RFC 8785 says), for
    /// callers that write JSON a member at a time.
    public static func appendString(_ string: String, to bytes: inout [UInt8]) {
        var plain = true
        for byte in string.utf8 where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
            plain = false
            break
        }
        guard plain else {
            var out = ByteWriter(capacity: string.utf8.count + 16)
            appendQuotedString(string, to: &out)
            out.withWrittenBytes { bytes.append(contentsOf: UnsafeRawBufferPointer($0)) }
            return
        }
        bytes.append(UInt8(ascii: "\""))
        bytes.append(contentsOf: string.utf8)
        bytes.append(UInt8(ascii: "\""))
    }

    /// Appends `value` to `bytes` as `compact(.uint(value))` writes it.
    public static func appendNumber(_ value: UInt64, to bytes: inout [UInt8]) {
        // Integers up to 2^53 are exact doubles, written in plain decimal (RFC 8785 §3.2.2.3).
        guard value <= 1 << 53 else {
            var out = ByteWriter(capacity: 32)
            appendES6Number(Double(value), to: &out)
            out.withWrittenBytes { bytes.append(contentsOf: UnsafeRawBufferPointer($0)) }
            return
        }
        bytes.append(contentsOf: String(value).utf8)
    }

    /// The UTF-8 bytes of `compact(_:)`.
    public static func compactBytes(_ value: JSONValue) -> [UInt8] {
        var out = ByteWriter(capacity: 256)
        write(value, to: &out, indent: nil)
        return out.bytes()
    }

    /// The UTF-8 bytes of `pretty(_:)`.
    public static func prettyBytes(_ value: JSONValue) -> [UInt8] {
        var out = ByteWriter(capacity: 256)
        write(value, to: &out, indent: 0)
        return out.bytes()
    }

    /// Writes `value`; `indent` is the current nesting level when pretty printing, or nil for compact.
    private static func write(_ value: JSONValue, to out: inout ByteWriter, indent: Int?) {
        switch value {
        case .null:
            out.appendASCII("null")
        case .bool(let b):
            out.appendASCII(b ? "true" : "false")
        case .number(let d):
            if d.isFinite {
                appendES6Number(d, to: &out)
            } else {
                out.appendASCII("null")
            }
        case .string(let s):
            appendQuotedString(s, to: &out)
        case .array(let elements):
            out.append(UInt8(ascii: "["))
            for (position, element) in elements.enumerated() {
                separate(first: position == 0, to: &out, indent: indent.map { $0 + 1 })
                write(element, to: &out, indent: indent.map { $0 + 1 })
            }
            if !elements.isEmpty { newline(to: &out, indent: indent) }
            out.append(UInt8(ascii: "]"))
        case .object(let object):
            out.append(UInt8(ascii: "{"))
            for (position, member) in object.enumerated() {
                separate(first: position == 0, to: &out, indent: indent.map { $0 + 1 })
                appendQuotedString(member.key, to: &out)
                out.append(UInt8(ascii: ":"))
                if indent != nil { out.append(UInt8(ascii: " ")) }
                write(member.value, to: &out, indent: indent.map { $0 + 1 })
            }
            if !object.isEmpty { newline(to: &out, indent: indent) }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// Writes the `,` before every element but the first, then the line break when pretty printing.
    private static func separate(first: Bool, to out: inout ByteWriter, indent: Int?) {
        if !first { out.append(UInt8(ascii: ",")) }
        newline(to: &out, indent: indent)
    }

    private static func newline(to out: inout ByteWriter, indent: Int?) {
        guard let indent else { return }
        out.append(UInt8(ascii: "\n"))
        out.append(repeating: UInt8(ascii: " "), count: 2 * indent)
    }
}
