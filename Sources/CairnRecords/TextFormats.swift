import CairnJSON

// The string formats of schema 1, checked on UTF-8 bytes (no regular expressions, no Foundation).
// `specs/record-schema.json` states each one as a pattern; the cross-check test keeps them in step.

/// Why a string does not have its format: the issue code and the whole message.
struct FormatProblem {
    let code: ValidationIssue.Code
    let message: String
}

enum TextFormats {
    /// The problem with `text` under `format`, or nil when it conforms.
    ///
    /// - Parameter acceptsControlCharacters: accept C0 control characters and DEL in identifiers,
    ///   and DEL in repository paths, as schema 1 did before refusing them (for stored records).
    static func problem(
        with text: String, as format: TextFormat, acceptsControlCharacters: Bool = false
    ) -> FormatProblem? {
        if format == .any { return nil }
        if text.isEmpty { return FormatProblem(code: .emptyString, message: "expected a non-empty string") }
        if format.refusesControlCharacters && !acceptsControlCharacters,
            let (position, scalar) = DisplayText.firstControlCharacter(in: text)
        {
            return FormatProblem(
                code: .controlCharacter,
                message: "expected no control character (U+0000–U+001F, U+007F) in an identifier or a name, "
                    + "found \(scalar.codePointName) at position \(position) of \(quote(text))")
        }
        switch format {
        case .any, .nonEmpty, .identifier:
            return nil
        case .nonBlank:
            guard isBlank(text) else { return nil }
            return FormatProblem(
                code: .emptyString,
                message: "expected text with at least one non-whitespace character, found \(quote(text))")
        case .timestamp:
            guard case .failure(let problem) = Timestamp.check(text) else { return nil }
            return FormatProblem(
                code: .invalidTimestamp,
                message: "expected an RFC 3339 UTC timestamp such as \"2026-11-20T09:14:03Z\", found "
                    + quote(text) + ": " + problem.reason)
        case .date:
            guard case .failure(let problem) = withUTF8Bytes(text, { Timestamp.calendarDate($0) }) else { return nil }
            let reason = problem == .syntax ? "" : ": " + problem.reason
            return FormatProblem(
                code: .invalidDate, message: "expected a date YYYY-MM-DD, found " + quote(text) + reason)
        case .digest:
            guard !isDigest(text) else { return nil }
            return FormatProblem(code: .invalidDigest, message: digestExpectation + ", found " + quote(text))
        case .commit:
            guard !isCommit(text) else { return nil }
            return FormatProblem(
                code: .invalidCommit,
                message: "expected 40 or 64 lowercase hex digits (a git object id), found " + quote(text))
        case .repositoryPath:
            guard let reason = pathProblem(text, refusesDelete: !acceptsControlCharacters) else { return nil }
            return FormatProblem(
                code: .invalidPath,
                message: "expected a repository-relative path, found " + quote(text) + ": " + reason)
        case .mediaType:
            guard !isMediaType(text) else { return nil }
            return FormatProblem(
                code: .invalidMediaType,
                message: "expected a media type such as \"text/plain\" or \"text/plain; charset=utf-8\", found "
                    + quote(text))
        case .subject:
            guard hasExactPrefix(text, "sha256:"), !isDigest(text) else { return nil }
            return FormatProblem(
                code: .invalidDigest,
                message: digestExpectation + " (a subject starting with \"sha256:\" is an address), found "
                    + quote(text))
        case .checkpointID:
            guard hasExactPrefix(text, "sha256:") else { return nil }
            return FormatProblem(
                code: .invalidValue,
                message: "a checkpoint id cannot start with \"sha256:\" (subjects starting so are addresses), found "
                    + quote(text))
        case .verifierKey:
            guard let reason = VerifierKeyText.problem(text) else { return nil }
            return FormatProblem(
                code: .invalidValue,
                message: "expected an Ed25519 verifier key <name>+<8 hex digit key ID>+<base64 of 0x01 and the "
                    + "32-byte key>, found " + quote(text) + ": " + reason)
        case .ed25519Signature:
            guard !VerifierKeyText.isSignature(text) else { return nil }
            return FormatProblem(
                code: .invalidValue,
                message: "expected the canonical padded base64 of a 64-byte Ed25519 signature (88 characters), found "
                    + quote(text))
        }
    }

    static let digestExpectation = "expected \"sha256:\" and 64 lowercase hex digits"

    // MARK: - Formats

    /// `sha256:` followed by exactly 64 lowercase hex digits.
    static func isDigest(_ text: String) -> Bool {
        withUTF8Bytes(text) { bytes in
            bytes.count == 71 && hasExactPrefix(text, "sha256:") && bytes[7...].allSatisfy(isLowerHex)
        }
    }

    /// Exactly 40 or 64 lowercase hex digits.
    static func isCommit(_ text: String) -> Bool {
        withUTF8Bytes(text) { bytes in
            (bytes.count == 40 || bytes.count == 64) && bytes.allSatisfy(isLowerHex)
        }
    }

    /// True when every character is whitespace: U+0009–U+000D, U+0020, U+0085, U+00A0, U+1680,
    /// U+2000–U+200A, U+2028, U+2029, U+202F, U+205F, U+3000 (Unicode's White_Space property).
    static func isBlank(_ text: String) -> Bool {
        text.unicodeScalars.allSatisfy { scalar in
            switch scalar.value {
            case 0x09...0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
                return true
            default:
                return false
            }
        }
    }

    /// Why `text` (non-empty) is not a repository-relative path, or nil when it is one: `/`-separated
    /// segments, none empty, `.` or `..`, and no control character (U+0000–U+001F, and U+007F when
    /// `refusesDelete`).
    static func pathProblem(_ text: String, refusesDelete: Bool = true) -> String? {
        let control = text.unicodeScalars.enumerated().first { _, scalar in
            scalar.value < 0x20 || (refusesDelete && scalar.value == 0x7F)
        }
        if let (offset, scalar) = control {
            return "control characters are not allowed (\(scalar.codePointName) at position \(offset + 1))"
        }
        return withUTF8Bytes(text) { bytes in
            if bytes.first == UInt8(ascii: "/") { return "it starts with \"/\"" }
            for segment in bytes.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false) {
                if segment.isEmpty { return "it has an empty segment (\"//\" or a trailing \"/\")" }
                if segment.count == 1 && segment.first == UInt8(ascii: ".") { return "it has a \".\" segment" }
                if segment.count == 2 && segment.allSatisfy({ $0 == UInt8(ascii: ".") }) {
                    return "it has a \"..\" segment"
                }
            }
            return nil
        }
    }

    /// `type/subtype` (RFC 6838 restricted names) followed by any number of `; name=value` parameters
    /// (RFC 9110: token names, token or quoted-string values, optional spaces or tabs around `;`).
    static func isMediaType(_ text: String) -> Bool {
        withUTF8Bytes(text) { s in
            var i = 0
            guard restrictedName(s, &i), i < s.count, s[i] == UInt8(ascii: "/") else { return false }
            i += 1
            guard restrictedName(s, &i) else { return false }
            while i < s.count {
                skipSpaces(s, &i)
                guard i < s.count, s[i] == UInt8(ascii: ";") else { return false }
                i += 1
                skipSpaces(s, &i)
                guard token(s, &i), i < s.count, s[i] == UInt8(ascii: "=") else { return false }
                i += 1
                guard token(s, &i) || quotedString(s, &i) else { return false }
            }
            return true
        }
    }

    // MARK: - Media type grammar

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        isDigit(byte) || (byte | 0x20) &- UInt8(ascii: "a") < 26
    }

    private static func isRestrictedNameCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "&"), UInt8(ascii: "-"),
            UInt8(ascii: "^"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "+"):
            return true
        default:
            return isAlphanumeric(byte)
        }
    }

    private static func isTokenCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"),
            UInt8(ascii: "'"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."),
            UInt8(ascii: "^"), UInt8(ascii: "_"), UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            return true
        default:
            return isAlphanumeric(byte)
        }
    }

    /// restricted-name = ALPHA / DIGIT, then up to 126 of ALPHA / DIGIT / ! # $ & - ^ _ . +
    private static func restrictedName(_ s: UnsafeBufferPointer<UInt8>, _ i: inout Int) -> Bool {
        guard i < s.count, isAlphanumeric(s[i]) else { return false }
        let start = i
        i += 1
        while i < s.count, isRestrictedNameCharacter(s[i]) { i += 1 }
        return i - start <= 127
    }

    /// token = 1*tchar (RFC 9110 §5.6.2).
    private static func token(_ s: UnsafeBufferPointer<UInt8>, _ i: inout Int) -> Bool {
        let start = i
        while i < s.count, isTokenCharacter(s[i]) { i += 1 }
        return i > start
    }

    /// quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE, ASCII only (RFC 9110 §5.6.4).
    private static func quotedString(_ s: UnsafeBufferPointer<UInt8>, _ i: inout Int) -> Bool {
        guard i < s.count, s[i] == UInt8(ascii: "\"") else { return false }
        var j = i + 1
        while j < s.count {
            let byte = s[j]
            if byte == UInt8(ascii: "\"") {
                i = j + 1
                return true
            }
            if byte == UInt8(ascii: "\\") {
                guard j + 1 < s.count, isQuotable(s[j + 1]) else { return false }
                j += 2
            } else {
                guard isQuotable(byte) else { return false }
                j += 1
            }
        }
        return false
    }

    /// HTAB, SP and visible ASCII.
    private static func isQuotable(_ byte: UInt8) -> Bool {
        byte == 0x09 || (0x20...0x7E).contains(byte)
    }

    private static func skipSpaces(_ s: UnsafeBufferPointer<UInt8>, _ i: inout Int) {
        while i < s.count, s[i] == UInt8(ascii: " ") || s[i] == 0x09 { i += 1 }
    }
}

/// A value as messages show it: strings quoted (JSON escaping, shortened past 60 characters), numbers
/// as RFC 8785 writes them, `true`, `false`, `null`, "an array", "an object".
func describe(_ value: JSONValue) -> String { describe(view: value) }

func describe<V: JSONView>(_ value: V) -> String { describe(view: value) }

private func describe<V: JSONView>(view value: V) -> String {
    switch value.kind {
    case .null: return "null"
    case .bool: return value.boolValue == true ? "true" : "false"
    case .number:
        let number = value.numberValue ?? 0
        return number.isFinite ? JCS.serialize(number: number) : "\(number)"
    case .string: return quote(value.stringValue ?? "")
    case .array: return "an array"
    case .object: return "an object"
    }
}

/// `text` quoted as a JSON string; beyond 60 characters, its first 48 and the total count. Besides
/// the C0 controls that JSON escapes, the characters `DisplayText.escapeJSON` names (DEL, C1
/// controls, bidirectional controls, line separators) are escaped too: messages end up on terminals.
func quote(_ text: String) -> String {
    let count = text.count
    guard count > 60 else { return DisplayText.escapeJSON(jsonQuoted(text)) }
    let head = DisplayText.escapeJSON(jsonQuoted(String(text.prefix(48))))
    return head.dropLast() + "…\" (\(count) characters)"
}
