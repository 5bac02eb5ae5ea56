import CairnCrypto

/// A c2sp.org/signed-note: a text, a blank line, and one or more signature lines.
///
/// Parsing keeps the text (including its final newline) and every signature line verbatim, so
/// ``serialized`` reproduces the parsed bytes exactly. Parsing checks structure only; call
/// ``verify(with:)`` before trusting the text.
public struct SignedNote: Sendable, Hashable {
    /// The most signature lines Cairn accepts in one note. signed-note requires accepting at
    /// least 16; 100 is the limit of Go's golang.org/x/mod/sumdb/note.
    public static let maxSignatures = 100

    /// The note text, including its final newline but not the blank line after it.
    public let text: String
    /// The signature lines in order, duplicates included.
    public let signatures: [NoteSignature]

    /// A note from a text and signatures. The text must end in a newline and contain no ASCII
    /// control character other than newline; there must be 1 to ``maxSignatures`` signatures.
    public init(text: String, signatures: [NoteSignature]) throws(NoteError) {
        try NoteSyntax.checkNoteText(text)
        guard !signatures.isEmpty else {
            throw NoteError(.malformedNote, "a signed note needs at least one signature")
        }
        guard signatures.count <= Self.maxSignatures else {
            throw NoteError(
                .tooManySignatures,
                "the note has \(signatures.count) signatures; Cairn accepts at most \(Self.maxSignatures)")
        }
        self.text = text
        self.signatures = signatures
    }

    /// Parses a signed note from its UTF-8 text.
    public init(parsing text: String) throws(NoteError) {
        try self.init(parsing: Array(text.utf8))
    }

    /// Parses a signed note from bytes, following c2sp.org/signed-note "Format":
    ///
    /// 1. the bytes are valid UTF-8 with no ASCII control character other than newline;
    /// 2. the text is everything up to and including the newline before the **last** blank line
    ///    (the text itself may contain blank lines);
    /// 3. after that blank line come 1 to ``maxSignatures`` lines, each
    ///    `— <key name> <base64(key ID || signature)>` and each ending in a newline.
    ///
    /// Signature lines are only checked for form here: unknown keys are kept, and signatures are
    /// not verified until ``verify(with:)``.
    public init(parsing bytes: [UInt8]) throws(NoteError) {
        try Self.checkEncoding(bytes)

        guard let split = Self.lastBlankLine(bytes) else {
            throw NoteError(
                .malformedNote,
                "no blank line before the signatures; a signed note is its text, a blank line, "
                    + "then one or more signature lines")
        }
        let textBytes = bytes[...split]  // ends with the text's final newline
        let signatureBytes = bytes[(split + 2)...]
        let blankLine = textBytes.count(where: { $0 == NoteSyntax.newline }) + 1

        guard !signatureBytes.isEmpty else {
            throw NoteError(
                .malformedNote,
                "line \(blankLine): no signature lines after this blank line; a signed note needs at least one")
        }
        let lineCount = signatureBytes.count(where: { $0 == NoteSyntax.newline })
        guard signatureBytes.last == NoteSyntax.newline else {
            throw NoteError(
                .malformedNote,
                "line \(blankLine + lineCount + 1): the last signature line does not end with a newline")
        }
        guard lineCount <= Self.maxSignatures else {
            throw NoteError(
                .tooManySignatures,
                "the note has \(lineCount) signature lines; Cairn accepts at most \(Self.maxSignatures)")
        }

        var signatures: [NoteSignature] = []
        signatures.reserveCapacity(lineCount)
        var start = signatureBytes.startIndex
        var lineNumber = blankLine + 1
        while start < signatureBytes.endIndex {
            let end = signatureBytes[start...].firstIndex(of: NoteSyntax.newline)!  // last byte is a newline
            signatures.append(try NoteSyntax.parseSignatureLine(bytes[start..<end], context: "line \(lineNumber)"))
            start = end + 1
            lineNumber += 1
        }
        self.text = String(decoding: textBytes, as: UTF8.self)
        self.signatures = signatures
    }

    /// The note as text: the text, a blank line, and the signature lines.
    public var serialized: String {
        text + "\n" + signatures.map(\.line).joined()
    }

    /// This note with one more signature. A signature already present with the same key name and
    /// key ID is replaced (as Go's `note.Sign` does), so re-signing does not duplicate lines.
    public func adding(_ signature: NoteSignature) throws(NoteError) -> SignedNote {
        let others = signatures.filter { !$0.namesSameKey(as: signature) }
        return try SignedNote(text: text, signatures: others + [signature])
    }

    /// Verifies the note against trusted keys, following c2sp.org/signed-note "Signatures":
    ///
    /// - a signature line whose name and key ID match no trusted key is ignored;
    /// - every line whose name and key ID match a trusted key must verify, or the whole note is
    ///   rejected (`badSignature`);
    /// - at least one trusted key must have signed (`noVerifiedSignature`);
    /// - two trusted keys with the same name and key ID are a configuration error once a line
    ///   matches them (`ambiguousKey`), as in Go's `note.VerifierList`.
    ///
    /// Returns the trusted keys that signed, each once, in the order of their first signature.
    /// Keys of type 0x04 verify cosignature/v1 lines (see ``CosignatureV1``).
    @discardableResult
    public func verify(with keys: [NoteVerifierKey]) throws(NoteError) -> [NoteVerifierKey] {
        var trusted: [KeyRef: [NoteVerifierKey]] = [:]
        for key in keys { trusted[KeyRef(name: key.name, keyID: key.keyID), default: []].append(key) }

        let textBytes = Array(text.utf8)
        var verified: [NoteVerifierKey] = []
        for signature in signatures {
            guard let candidates = trusted[KeyRef(name: signature.name, keyID: signature.keyID)] else {
                continue  // unknown key: ignored
            }
            guard candidates.count == 1 else {
                throw NoteError(
                    .ambiguousKey,
                    "the trusted keys include \(signature.nameAndID) \(candidates.count) times; "
                        + "remove the duplicates from the key list")
            }
            let key = candidates[0]
            guard key.verifies(signature, text: textBytes) else {
                throw NoteError(
                    .badSignature,
                    "the signature by \(key.nameAndID) does not verify; the note was changed after "
                        + "signing or the signature is corrupt")
            }
            if !verified.contains(key) { verified.append(key) }
        }
        guard !verified.isEmpty else {
            let trustedList = keys.isEmpty ? "none" : keys.map(\.nameAndID).joined(separator: ", ")
            throw NoteError(
                .noVerifiedSignature,
                "no trusted key signed this note (trusted: \(trustedList); signed by: \(signerList))")
        }
        return verified
    }

    /// `A+0123abcd, B+4567ef01`: the distinct signers, for messages.
    var signerList: String {
        var seen: [String] = []
        for s in signatures where !seen.contains(s.nameAndID) { seen.append(s.nameAndID) }
        return seen.joined(separator: ", ")
    }

    // MARK: parsing helpers

    /// Throws unless `bytes` is UTF-8 with no ASCII control character other than newline.
    private static func checkEncoding(_ bytes: [UInt8]) throws(NoteError) {
        var line = 1
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let scalar):
                if scalar == "\n" {
                    line += 1
                } else if scalar.value < 0x20 {
                    throw NoteError(.malformedNote, NoteSyntax.controlCharacterMessage(UInt8(scalar.value), line: line))
                }
            case .emptyInput:
                return
            case .error:
                throw NoteError(.malformedNote, "line \(line): invalid UTF-8; a signed note must be UTF-8 text")
            }
        }
    }

    /// The index of the newline that ends the text: the first of the last "\n\n" pair.
    private static func lastBlankLine(_ bytes: [UInt8]) -> Int? {
        var i = bytes.count - 2
        while i >= 0 {
            if bytes[i] == NoteSyntax.newline && bytes[i + 1] == NoteSyntax.newline { return i }
            i -= 1
        }
        return nil
    }
}

/// A (key name, key ID) pair: what a signature line names.
struct KeyRef: Hashable {
    let name: String
    let keyID: UInt32
}
