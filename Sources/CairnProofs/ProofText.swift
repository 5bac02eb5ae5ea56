import CairnCrypto
import CairnNote

/// Splits proof text into lines for the C2SP proof formats (every line ends in U+000A).
struct ProofLines {
    let lines: [Substring]
    let text: String

    init(_ bytes: [UInt8], format: String) throws(ProofError) {
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw ProofError(.malformed, "\(format) is not valid UTF-8")
        }
        guard text.utf8.last == UInt8(ascii: "\n") else {
            throw ProofError(.malformed, "\(format) must end with a newline")
        }
        self.text = text
        var lines = text.linesSplitAtLF()
        lines.removeLast()  // after the final newline
        self.lines = lines
    }

    /// Parses `<keyword> <decimal>` with no leading zeros.
    static func number(_ line: Substring, keyword: String, lineNumber: Int) throws(ProofError) -> UInt64 {
        let prefix = keyword + " "
        guard line.hasPrefix(prefix) else {
            throw ProofError.malformed(line: lineNumber, "expected \"\(prefix)<decimal>\", found \(quote(line))")
        }
        let digits = line.dropFirst(prefix.count)
        guard let value = UInt64(digits), digits.allSatisfy({ $0.isASCII && $0.isNumber }),
            digits == "0" || !digits.hasPrefix("0")
        else {
            throw ProofError.malformed(
                line: lineNumber, "\(keyword) must be a decimal number without leading zeros, found \(quote(digits))")
        }
        return value
    }

    /// Parses hash lines from `start` up to the first empty line; returns the hashes and the
    /// index of the empty line.
    func hashes(from start: Int, max: Int) throws(ProofError) -> ([SHA256Digest], Int) {
        var hashes: [SHA256Digest] = []
        var i = start
        while i < lines.count, !lines[i].isEmpty {
            guard let hash = SHA256Digest(base64: lines[i]) else {
                throw ProofError.malformed(
                    line: i + 1, "expected a base64 SHA-256 hash (44 characters), found \(ProofLines.quote(lines[i]))")
            }
            hashes.append(hash)
            guard hashes.count <= max else {
                throw ProofError.malformed(line: i + 1, "more than \(max) proof hashes")
            }
            i += 1
        }
        guard i < lines.count else {
            throw ProofError.malformed(line: i + 1, "missing the empty line before the checkpoint")
        }
        return (hashes, i)
    }

    /// The signed checkpoint made of every line after `blankLine`.
    func checkpoint(after blankLine: Int) throws(ProofError) -> SignedCheckpoint {
        let note = lines[(blankLine + 1)...].map { $0 + "\n" }.joined()
        do {
            return try SignedCheckpoint(parsing: Array(note.utf8))
        } catch {
            throw ProofError(.malformed, "checkpoint (from line \(blankLine + 2)): \(error.message)")
        }
    }

    static func quote(_ s: Substring) -> String {
        let shown = s.count > 60 ? s.prefix(60) + "…" : s
        return "\"" + shown + "\""
    }
}

/// Verifies `signed` with `key` and maps note errors onto proof errors. The origin must be
/// `origin`, or the key's name when `origin` is nil (compared as bytes).
func verifyCheckpoint(
    _ signed: SignedCheckpoint, key: NoteVerifierKey, role: String, origin: String? = nil
) throws(ProofError) -> Checkpoint {
    do {
        return try signed.verify(logKey: key, origin: origin)
    } catch {
        switch error.code {
        case .badSignature:
            throw ProofError(.badSignature, "\(role): bad signature by \(key.name) (key ID \(hex(key.keyID)))")
        case .originMismatch:
            let expected =
                origin.map { "the expected origin \"\($0)\" (--origin)" } ?? "the verifier key's name \"\(key.name)\""
            throw ProofError(
                .originMismatch,
                "\(role): origin \"\(signed.checkpoint.origin)\" does not match \(expected)"
                    + (origin == nil ? "; for a log whose origin differs from its key name, give --origin" : ""))
        case .unknownKey, .noVerifiedSignature:
            let signers = signed.note.signatures.map { "\($0.name) (key ID \(hex($0.keyID)))" }
            // Another key of the same name: perhaps the log rotated its key (specs/key-rotation.md).
            let rotated = signed.note.signatures.contains { $0.name.utf8.elementsEqual(key.name.utf8) }
            throw ProofError(
                .wrongKey,
                "\(role): wrong key: not signed by \(key.name) (key ID \(hex(key.keyID))); signed by "
                    + (signers.isEmpty ? "nobody" : signers.joined(separator: ", "))
                    + (rotated
                        ? "; if the log rotated its key, verify with its key history (--key-history, from "
                            + "`cairn key history --json`)" : ""))
        default:
            throw ProofError(.malformed, "\(role): \(error.message)")
        }
    }
}

func hex(_ keyID: UInt32) -> String {
    withUnsafeBytes(of: keyID.bigEndian) { Hex.encode($0) }
}
