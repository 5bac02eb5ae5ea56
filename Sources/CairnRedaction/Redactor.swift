import CairnCrypto
import CairnJSON

/// Replaces secrets — and, when asked, personal data — in text and in JSON records with typed placeholders before
/// anything is stored or sent (specs/redaction.md).
///
/// A secret becomes `[REDACTED:<kind>:<tag>]`, where the tag is the first 12 hex digits of
/// HMAC-SHA-256(key, secret): under one key, the same secret always gets the same tag, so repeated use of a
/// credential can be correlated, but the secret cannot be recovered or confirmed without the key. Pure: no
/// I/O; `Sendable`.
public struct Redactor: Sendable {
    public struct Options: Sendable {
        /// Also redact long random-looking tokens that match no known shape.
        public var highEntropyTokens = true
        /// The Shannon entropy per byte, in bits, from which a token counts as random (a random base62
        /// string of 32 bytes scores about 4.7; English identifiers stay below 4.2).
        public var minimumEntropy = 4.3
        /// Also redact personal data: e-mail addresses, international phone numbers, payment card numbers, IBANs
        /// and US social security numbers (specs/redaction.md, "Personal data (optional)"). Off by default: a
        /// repository turns it on with `cairn hooks install --redact-personal-data`.
        public var personalData = false

        public init() {}
    }

    private let key: [UInt8]
    public let options: Options

    /// A redactor whose tags are keyed by `key` (keep it with the ledger's or repository's configuration:
    /// the same key keeps tags comparable over time).
    public init(key: [UInt8], options: Options = Options()) {
        self.key = key
        self.options = options
    }

    /// `text` with every secret replaced, and what was replaced (in order).
    public func redact(_ text: String) -> (text: String, findings: [RedactionFinding]) {
        // Replacing a secret changes its neighbours' context (where a random-looking run of bytes starts or
        // ends), so a second pass can find what the first did not: passes repeat until one finds nothing, which
        // makes redaction idempotent. Each pass only shortens secrets into placeholders, which no detector
        // matches; more than a few passes never happen in practice, and the bound keeps that a guarantee.
        var bytes = Array(text.utf8)
        var findings: [RedactionFinding] = []
        for _ in 0..<8 {
            let (next, found) = redactOnce(bytes)
            guard !found.isEmpty else { break }
            bytes = next
            findings += found
        }
        return findings.isEmpty ? (text, []) : (String(decoding: bytes, as: UTF8.self), findings)
    }

    private func redactOnce(_ bytes: [UInt8]) -> (bytes: [UInt8], findings: [RedactionFinding]) {
        let matches = scanner(bytes).matches()
        guard !matches.isEmpty else { return (bytes, []) }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var findings: [RedactionFinding] = []
        var position = 0
        for match in matches {
            out += bytes[position..<match.range.lowerBound]
            let finding = finding(match.kind, bytes[match.range])
            out += Array(finding.placeholder.utf8)
            findings.append(finding)
            position = match.range.upperBound
        }
        out += bytes[position...]
        return (out, findings)
    }

    /// `value` with every string redacted, recursively; object keys are kept, and a string assigned to a key
    /// that names a secret (`"password"`, `"apiKey"`, `"client_secret"` …) is redacted whole when it looks like
    /// a credential.
    public func redact(json value: JSONValue) -> (value: JSONValue, findings: [RedactionFinding]) {
        var findings: [RedactionFinding] = []
        let result = redact(value, key: nil, into: &findings)
        return (result, findings)
    }

    private func redact(_ value: JSONValue, key name: String?, into findings: inout [RedactionFinding]) -> JSONValue {
        switch value {
        case .string(let text):
            let bytes = Array(text.utf8)
            if let name, SecretScanner.isSecretName(Array(name.utf8)[...]), SecretScanner.looksSecret(bytes[...]),
                scanner(bytes).matches().first?.range != 0..<bytes.count
            {
                let finding = finding(.assignedSecret, bytes[...])
                findings.append(finding)
                return .string(finding.placeholder)
            }
            let (redacted, found) = redact(text)
            findings += found
            return found.isEmpty ? value : .string(redacted)
        case .array(let elements):
            return .array(elements.map { redact($0, key: nil, into: &findings) })
        case .object(let object):
            var members: [(String, JSONValue)] = []
            for (memberKey, member) in object {
                members.append((memberKey, redact(member, key: memberKey, into: &findings)))
            }
            return .object(JSONObject(members))
        case .null, .bool, .number:
            return value
        }
    }

    /// The tag of `secret` under this redactor's key.
    public func tag(of secret: String) -> String {
        finding(.highEntropy, Array(secret.utf8)[...]).tag
    }

    private func finding(_ kind: SecretKind, _ secret: ArraySlice<UInt8>) -> RedactionFinding {
        let mac = secret.withUnsafeBytes { HMACSHA256.code(key: key, message: $0) }
        return RedactionFinding(kind: kind, tag: String(mac.hex.prefix(12)))
    }

    private func scanner(_ bytes: [UInt8]) -> SecretScanner {
        SecretScanner(
            bytes: bytes, highEntropy: options.highEntropyTokens, minimumEntropy: options.minimumEntropy,
            personalData: options.personalData)
    }
}
