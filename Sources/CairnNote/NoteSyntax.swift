import CairnCrypto

/// Shared lexical rules of c2sp.org/signed-note (internal).
enum NoteSyntax {
    static let newline = UInt8(ascii: "\n")
    /// A signature line starts with U+2014 EM DASH and a space.
    static let signaturePrefix: [UInt8] = [0xE2, 0x80, 0x94, 0x20]
    static let signaturePrefixText = "\u{2014} "

    // MARK: key names

    /// Why `name` is not a valid key name, or nil if it is one.
    ///
    /// signed-note: "Key names MUST be non-empty and MUST NOT contain any Unicode spaces or plus
    /// (U+002B) characters." Cairn also refuses ASCII control characters, which can never appear
    /// in a note and so could never match a signature line.
    static func keyNameProblem(_ name: some StringProtocol) -> String? {
        if name.isEmpty { return "the key name is empty; key names must be non-empty with no spaces or '+'" }
        for scalar in name.unicodeScalars {
            if scalar == "+" {
                return "key name \"\(escaped(name))\" contains '+'; key names must be non-empty with no spaces or '+'"
            }
            if scalar.properties.isWhitespace {
                return "key name \"\(escaped(name))\" contains a space (\(codePoint(scalar))); "
                    + "key names must be non-empty with no spaces or '+'"
            }
            if scalar.value < 0x20 || scalar.value == 0x7F {
                return "key name \"\(escaped(name))\" contains control character \(codePoint(scalar))"
            }
        }
        return nil
    }

    /// Throws `invalidKeyName` with `context` ("line 4", "verifier key", ...) if `name` is invalid.
    static func checkKeyName(_ name: some StringProtocol, context: String) throws(NoteError) {
        if let problem = keyNameProblem(name) { throw NoteError(.invalidKeyName, "\(context): \(problem)") }
    }

    // MARK: note text

    /// Checks that `text` can be the text of a signed note: it ends in a newline and has no ASCII
    /// control character other than newline. (Swift strings are always valid UTF-8.)
    static func checkNoteText(_ text: String) throws(NoteError) {
        guard text.utf8.last == newline else {
            throw NoteError(.malformedNote, "the note text must end with a newline")
        }
        var line = 1
        for byte in text.utf8 {
            if byte == newline {
                line += 1
            } else if byte < 0x20 {
                throw NoteError(.malformedNote, controlCharacterMessage(byte, line: line))
            }
        }
    }

    static func controlCharacterMessage(_ byte: UInt8, line: Int) -> String {
        "line \(line): control character \(codePoint(Unicode.Scalar(byte))) is not allowed; "
            + "a note may contain no ASCII control character but newline"
    }

    // MARK: signature lines

    /// Parses the content of one signature line (without its newline): `— <name> <base64>`.
    /// `context` names the place in error messages, e.g. "line 5".
    static func parseSignatureLine(_ line: ArraySlice<UInt8>, context: String) throws(NoteError) -> NoteSignature {
        guard line.starts(with: signaturePrefix) else {
            throw NoteError(
                .malformedSignatureLine,
                "\(context): not a signature line; after the last blank line every line must be "
                    + "'\u{2014} <key name> <base64 signature>' (U+2014 em dash, space)")
        }
        let rest = line.dropFirst(signaturePrefix.count)
        guard let space = rest.firstIndex(of: UInt8(ascii: " ")) else {
            throw NoteError(
                .malformedSignatureLine,
                "\(context): no space between the key name and the signature")
        }
        let name = String(decoding: rest[..<space], as: UTF8.self)
        try checkKeyName(name, context: context)
        let encoded = rest[(space + 1)...]
        guard let raw = Base64.decode(String(decoding: encoded, as: UTF8.self)) else {
            throw NoteError(
                .malformedSignatureLine,
                "\(context): the signature of \(name) is not canonical padded base64 (RFC 4648)")
        }
        guard raw.count > 4 else {
            throw NoteError(
                .malformedSignatureLine,
                "\(context): the signature of \(name) is \(raw.count) bytes; it needs a 4-byte key ID "
                    + "and at least one signature byte")
        }
        return NoteSignature(unchecked: name, keyID: readUInt32(raw, at: 0), signature: Array(raw[4...]))
    }

    // MARK: numbers

    /// The 8-digit lowercase hex of a key ID.
    static func hex8(_ value: UInt32) -> String {
        Hex.encode(bigEndianBytes(value))
    }

    static func bigEndianBytes(_ value: UInt32) -> [UInt8] {
        [
            UInt8(truncatingIfNeeded: value >> 24), UInt8(truncatingIfNeeded: value >> 16),
            UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value),
        ]
    }

    static func bigEndianBytes(_ value: UInt64) -> [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: value >> (56 - 8 * UInt64($0))) }
    }

    static func readUInt32(_ bytes: some Collection<UInt8>, at offset: Int) -> UInt32 {
        bytes.dropFirst(offset).prefix(4).reduce(0) { $0 << 8 | UInt32($1) }
    }

    static func readUInt64(_ bytes: some Collection<UInt8>, at offset: Int) -> UInt64 {
        bytes.dropFirst(offset).prefix(8).reduce(0) { $0 << 8 | UInt64($1) }
    }

    /// Parses exactly 8 lowercase hex digits.
    static func parseHex8(_ text: some StringProtocol) -> UInt32? {
        guard text.utf8.count == 8 else { return nil }
        var value: UInt32 = 0
        for c in text.utf8 {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = value << 4 | UInt32(c - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): value = value << 4 | UInt32(c - UInt8(ascii: "a") + 10)
            default: return nil
            }
        }
        return value
    }

    /// Parses ASCII decimal digits with no sign and no leading zero ("0" alone is allowed).
    enum DecimalProblem: Error { case empty, notDigits, leadingZero, tooLarge }
    static func parseDecimal(_ text: some StringProtocol) -> Result<UInt64, DecimalProblem> {
        let digits = Array(text.utf8)
        guard !digits.isEmpty else { return .failure(.empty) }
        guard digits.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
            return .failure(.notDigits)
        }
        guard digits.count == 1 || digits[0] != UInt8(ascii: "0") else { return .failure(.leadingZero) }
        var value: UInt64 = 0
        for d in digits {
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(UInt64(d - UInt8(ascii: "0")))
            guard !o1, !o2 else { return .failure(.tooLarge) }
            value = sum
        }
        return .success(value)
    }

    // MARK: message text

    static func codePoint(_ scalar: Unicode.Scalar) -> String {
        let hex = String(scalar.value, radix: 16, uppercase: true)
        return "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
    }

    /// `text` with control characters shown as U+XXXX, so that a message stays on one line.
    static func escaped(_ text: some StringProtocol) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            if scalar.value < 0x20 || scalar.value == 0x7F {
                out += "<" + codePoint(scalar) + ">"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
