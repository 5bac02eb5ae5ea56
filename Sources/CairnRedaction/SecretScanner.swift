#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Finds secrets in UTF-8 text: known credential shapes, private key blocks, JWTs, passwords in URLs,
/// values assigned to secret-sounding names, and long random-looking tokens (specs/redaction.md); with
/// `personalData`, also e-mail addresses, phone numbers, payment cards, IBANs and US SSNs (PersonalData.swift).
///
/// A hand-written scanner over bytes (no regular expressions): one pass per detector, linear in the input,
/// so capture stays within its latency budget on large prompts. Every match is a byte range of the input;
/// `matches` resolves overlaps (earliest first, then longest).
struct SecretScanner {
    let bytes: [UInt8]
    let highEntropy: Bool
    let minimumEntropy: Double
    /// Also find personal data (PersonalData.swift).
    let personalData: Bool

    struct Match: Equatable {
        var range: Range<Int>
        var kind: SecretKind
    }

    /// All secrets found, in input order, without overlaps.
    func matches() -> [Match] {
        var found: [Match] = []
        privateKeyBlocks(into: &found)
        prefixedTokens(into: &found)
        connectionPasswords(into: &found)
        assignedSecrets(into: &found)
        if personalData { personalDataMatches(into: &found) }
        if highEntropy {
            // A known shape says more than "random-looking": it wins where both match.
            let known = found
            var random: [Match] = []
            randomTokens(into: &random)
            found += random.filter { token in !known.contains { $0.range.overlaps(token.range) } }
        }
        // A placeholder of an earlier redaction is not a secret (`…-token:0123456789ab` would read as one).
        let placeholders = placeholderRanges()
        if !placeholders.isEmpty {
            found.removeAll { match in placeholders.contains { $0.overlaps(match.range) } }
        }
        found.sort {
            $0.range.lowerBound != $1.range.lowerBound
                ? $0.range.lowerBound < $1.range.lowerBound : $0.range.count > $1.range.count
        }
        var result: [Match] = []
        for match in found where result.last.map({ match.range.lowerBound >= $0.range.upperBound }) ?? true {
            result.append(match)
        }
        return result
    }

    /// `[REDACTED:<kind>:<12 hex>]` placeholders already in the text.
    private func placeholderRanges() -> [Range<Int>] {
        let open = Array("[REDACTED:".utf8)
        var ranges: [Range<Int>] = []
        var i = 0
        while let start = find(open, from: i) {
            var end = start + open.count
            while end < bytes.count, end - start < 64, bytes[end] != UInt8(ascii: "]") { end += 1 }
            guard end < bytes.count, bytes[end] == UInt8(ascii: "]") else {
                i = start + open.count
                continue
            }
            ranges.append(start..<(end + 1))
            i = end + 1
        }
        return ranges
    }

    // MARK: - Private key blocks

    /// `-----BEGIN … PRIVATE KEY-----` (RSA, EC, OPENSSH, ENCRYPTED, PGP … BLOCK) through its END line, or to
    /// the end of the text when the block is cut off.
    private func privateKeyBlocks(into found: inout [Match]) {
        let begin = Array("-----BEGIN ".utf8)
        var i = 0
        while let start = find(begin, from: i) {
            let labelStart = start + begin.count
            guard let labelEnd = find(Array("-----".utf8), from: labelStart), labelEnd - labelStart <= 40 else {
                i = labelStart
                continue
            }
            let label = Array(bytes[labelStart..<labelEnd])
            guard contains(label, Array("PRIVATE KEY".utf8)) else {
                i = labelEnd
                continue
            }
            let end = Array("-----END ".utf8) + label + Array("-----".utf8)
            let stop = find(end, from: labelEnd).map { $0 + end.count } ?? bytes.count
            found.append(Match(range: start..<stop, kind: .privateKey))
            i = stop
        }
    }

    // MARK: - Known prefixes

    private enum Body {
        case alphanumeric, base64url, lowerHex, upperAlphanumeric, word, slackPath, sendgrid
        func admits(_ byte: UInt8) -> Bool {
            switch self {
            case .alphanumeric: return isAlphanumeric(byte)
            case .base64url: return isAlphanumeric(byte) || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
            case .lowerHex: return isDigit(byte) || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "f"))
            case .upperAlphanumeric: return isDigit(byte) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
            case .word: return isAlphanumeric(byte) || byte == UInt8(ascii: "_")
            case .slackPath: return isAlphanumeric(byte) || byte == UInt8(ascii: "/")
            case .sendgrid: return Body.base64url.admits(byte) || byte == UInt8(ascii: ".")
            }
        }
    }

    private struct PrefixRule {
        let prefixes: [[UInt8]]
        let kind: SecretKind
        let body: Body
        let lengths: ClosedRange<Int>
        /// The body must contain a digit (tells `sk-…` keys from words such as `sk-learn`).
        var needsDigit = false
    }

    private static let prefixRules: [PrefixRule] = {
        func p(_ strings: String...) -> [[UInt8]] { strings.map { Array($0.utf8) } }
        return [
            PrefixRule(
                prefixes: p("AKIA", "ASIA", "AGPA", "AIDA", "AROA", "AIPA", "ANPA", "ANVA"), kind: .awsAccessKeyID,
                body: .upperAlphanumeric, lengths: 16...16),
            PrefixRule(prefixes: p("github_pat_"), kind: .githubToken, body: .word, lengths: 22...255),
            PrefixRule(
                prefixes: p("ghp_", "gho_", "ghu_", "ghs_", "ghr_"), kind: .githubToken, body: .alphanumeric,
                lengths: 36...255),
            PrefixRule(
                prefixes: p("glpat-", "gldt-", "glrt-", "glptt-"), kind: .gitlabToken, body: .base64url,
                lengths: 20...64),
            PrefixRule(
                prefixes: p("xoxb-", "xoxp-", "xoxa-", "xoxr-", "xoxs-", "xoxe-", "xapp-"), kind: .slackToken,
                body: .base64url, lengths: 10...255, needsDigit: true),
            PrefixRule(
                prefixes: p("https://hooks.slack.com/services/"), kind: .slackWebhook, body: .slackPath,
                lengths: 20...255),
            PrefixRule(
                prefixes: p("sk_live_", "rk_live_", "sk_test_", "rk_test_"), kind: .stripeKey, body: .alphanumeric,
                lengths: 16...255),
            PrefixRule(prefixes: p("AIza"), kind: .googleAPIKey, body: .base64url, lengths: 35...35),
            PrefixRule(
                prefixes: p("sk-ant-"), kind: .anthropicKey, body: .base64url, lengths: 20...255, needsDigit: true),
            PrefixRule(
                prefixes: p("sk-proj-", "sk-svcacct-", "sk-"), kind: .openAIKey, body: .base64url, lengths: 20...255,
                needsDigit: true),
            PrefixRule(prefixes: p("npm_"), kind: .npmToken, body: .alphanumeric, lengths: 36...36),
            PrefixRule(prefixes: p("pypi-AgEIcHlwaS5vcmc"), kind: .pypiToken, body: .base64url, lengths: 50...255),
            PrefixRule(prefixes: p("SG."), kind: .sendgridKey, body: .sendgrid, lengths: 60...80),
            PrefixRule(prefixes: p("SK"), kind: .twilioKey, body: .lowerHex, lengths: 32...32),
            PrefixRule(
                prefixes: p("dop_v1_", "doo_v1_", "dor_v1_"), kind: .digitalOceanToken, body: .lowerHex,
                lengths: 64...64),
            PrefixRule(
                prefixes: p("shpat_", "shpss_", "shpca_", "shppa_"), kind: .shopifyToken, body: .lowerHex,
                lengths: 32...32),
            PrefixRule(prefixes: p("hvs.", "hvb."), kind: .vaultToken, body: .base64url, lengths: 24...255),
        ]
    }()

    private func prefixedTokens(into found: inout [Match]) {
        var i = 0
        while i < bytes.count {
            guard atWordStart(i) else {
                i += 1
                continue
            }
            if let match = prefixedToken(at: i) ?? jwt(at: i) {
                found.append(match)
                i = match.range.upperBound
            } else {
                i += 1
            }
        }
    }

    private func prefixedToken(at i: Int) -> Match? {
        let first = bytes[i]
        for rule in Self.prefixRules {
            for prefix in rule.prefixes where prefix[0] == first && hasPrefix(prefix, at: i) {
                var end = i + prefix.count
                var hasDigit = false
                while end < bytes.count, end - i - prefix.count < rule.lengths.upperBound, rule.body.admits(bytes[end])
                {
                    hasDigit = hasDigit || isDigit(bytes[end])
                    end += 1
                }
                let length = end - i - prefix.count
                // The token must end here: a longer run of body bytes is something else.
                let bounded = end == bytes.count || !rule.body.admits(bytes[end])
                if rule.lengths.contains(length), bounded, hasDigit || !rule.needsDigit {
                    return Match(range: i..<end, kind: rule.kind)
                }
            }
        }
        return nil
    }

    /// `eyJ…​.…​.…`: three base64url segments of at least 10 bytes, the first a JSON object.
    private func jwt(at i: Int) -> Match? {
        guard hasPrefix(Array("eyJ".utf8), at: i) else { return nil }
        var end = i
        for segment in 0..<3 {
            let start = end
            while end < bytes.count, Body.base64url.admits(bytes[end]) { end += 1 }
            guard end - start >= 10 else { return nil }
            if segment < 2 {
                guard end < bytes.count, bytes[end] == UInt8(ascii: ".") else { return nil }
                end += 1
            }
        }
        return Match(range: i..<end, kind: .jwt)
    }

    // MARK: - Passwords in URLs

    /// `scheme://user:PASSWORD@host`: the password only.
    private func connectionPasswords(into found: inout [Match]) {
        let separator = Array("://".utf8)
        var i = 0
        while let at = find(separator, from: i) {
            i = at + separator.count
            // A scheme: a letter, then letters, digits, + - .
            var schemeStart = at
            while schemeStart > 0, isSchemeByte(bytes[schemeStart - 1]) { schemeStart -= 1 }
            guard at - schemeStart >= 2, isLetter(bytes[schemeStart]) else { continue }
            var end = i
            var colon: Int?
            while end < bytes.count, !isURLDelimiter(bytes[end]) {
                if bytes[end] == UInt8(ascii: ":") && colon == nil { colon = end }
                end += 1
            }
            guard end < bytes.count, bytes[end] == UInt8(ascii: "@"), let colon, colon + 1 < end else { continue }
            let password = (colon + 1)..<end
            if !isPlaceholder(password) { found.append(Match(range: password, kind: .connectionPassword)) }
            i = end
        }
    }

    func isURLDelimiter(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: "@") || byte == UInt8(ascii: "/") || byte == UInt8(ascii: "?") || byte == UInt8(ascii: "#")
            || isSpaceOrQuote(byte) || byte == UInt8(ascii: "<") || byte == UInt8(ascii: ">")
    }

    // MARK: - Assigned secrets

    /// `NAME = value`, `NAME: value`, `"NAME": "value"` where NAME ends with a word that says the value is secret.
    private func assignedSecrets(into found: inout [Match]) {
        var i = 0
        while i < bytes.count {
            guard isNameByte(bytes[i]), i == 0 || !isNameByte(bytes[i - 1]) else {
                i += 1
                continue
            }
            var nameEnd = i
            while nameEnd < bytes.count, isNameByte(bytes[nameEnd]) { nameEnd += 1 }
            defer { i = nameEnd }
            guard Self.isSecretName(bytes[i..<nameEnd]) else { continue }
            var j = nameEnd
            if j < bytes.count, isQuote(bytes[j]) { j += 1 }
            while j < bytes.count, bytes[j] == UInt8(ascii: " ") || bytes[j] == UInt8(ascii: "\t") { j += 1 }
            guard j < bytes.count, bytes[j] == UInt8(ascii: "=") || bytes[j] == UInt8(ascii: ":") else { continue }
            j += 1
            if j < bytes.count, bytes[j] == UInt8(ascii: "=") || bytes[j] == UInt8(ascii: ">") { j += 1 }  // := =>
            while j < bytes.count, bytes[j] == UInt8(ascii: " ") || bytes[j] == UInt8(ascii: "\t") { j += 1 }
            guard let value = assignedValue(at: j), Self.looksSecret(bytes[value]) else { continue }
            found.append(Match(range: value, kind: .assignedSecret))
        }
    }

    /// The value starting at `j`: up to its closing quote when quoted (a quoted value containing a space is
    /// prose, not a credential), else up to whitespace or a delimiter.
    private func assignedValue(at j: Int) -> Range<Int>? {
        guard j < bytes.count else { return nil }
        if isQuote(bytes[j]) {
            let quote = bytes[j]
            var end = j + 1
            while end < bytes.count, bytes[end] != quote, bytes[end] != UInt8(ascii: "\n") {
                if bytes[end] == UInt8(ascii: " ") { return nil }
                if bytes[end] == UInt8(ascii: "\\") { end += 1 }
                end += 1
            }
            return end <= bytes.count ? (j + 1)..<min(end, bytes.count) : nil
        }
        var end = j
        while end < bytes.count, !isSpaceOrQuote(bytes[end]), !isValueDelimiter(bytes[end]) { end += 1 }
        return j..<end
    }

    private static let secretWords: [[UInt8]] = [
        "password", "passwd", "pwd", "passphrase", "secret", "token", "apikey", "api_key", "api-key", "accesskey",
        "access_key", "secretkey", "secret_key", "privatekey", "private_key", "client_secret", "accountkey",
        "sharedaccesskey", "credential", "credentials",
    ].map { Array($0.utf8) }

    /// Whether a name ends with one of `secretWords` (ASCII case-insensitive), as a whole word: `DB_PASSWORD`,
    /// `apiKey`, `githubToken`, not `max_tokens`, `token_count` or `secret_santa`.
    static func isSecretName(_ name: ArraySlice<UInt8>) -> Bool {
        func lower(_ byte: UInt8) -> UInt8 { isUpper(byte) ? byte + 32 : byte }
        for word in secretWords where name.count >= word.count {
            // Compared from the end, without copying: most names fail on their last byte.
            var matched = true
            var i = name.endIndex
            for letter in word.reversed() {
                i -= 1
                if lower(name[i]) != letter {
                    matched = false
                    break
                }
            }
            guard matched else { continue }
            // The word starts the name, follows a separator, or starts a camelCase part.
            if i == name.startIndex || !isLetter(name[i - 1]) || isUpper(name[i]) { return true }
        }
        return false
    }

    /// Whether an assigned value looks like a credential rather than a number, a switch or a placeholder.
    static func looksSecret(_ value: ArraySlice<UInt8>) -> Bool {
        guard value.count >= 8, value.count <= 512 else { return false }
        guard !value.allSatisfy(isDigit) else { return false }
        if Set(value).count == 1 { return false }  // ******** or xxxxxxxx
        let text = String(decoding: value, as: UTF8.self).lowercased()
        if ["true", "false", "null", "none", "undefined", "required", "optional"].contains(text) { return false }
        return !placeholderShape(value)
    }

    /// `${VAR}`, `$VAR`, `<password>`, `%(pw)s`, `{{ secret }}`, `os.environ[…]`-style references: not a value.
    static func placeholderShape(_ value: ArraySlice<UInt8>) -> Bool {
        guard let first = value.first else { return true }
        if first == UInt8(ascii: "$") || first == UInt8(ascii: "<") || first == UInt8(ascii: "%") { return true }
        if value.starts(with: Array("{{".utf8)) { return true }
        let text = String(decoding: value, as: UTF8.self).lowercased()
        return text.contains("environ") || text.contains("getenv") || text.hasPrefix("process.env")
            || text.contains("redacted") || text.contains("placeholder") || text.hasPrefix("your_")
            || text.hasPrefix("your-")
    }

    private func isPlaceholder(_ range: Range<Int>) -> Bool {
        Self.placeholderShape(bytes[range]) || Set(bytes[range]).count == 1
    }

    // MARK: - Random-looking tokens

    /// Runs of base64/base64url bytes, 32 to 512 long, with upper and lower case letters and digits, whose
    /// Shannon entropy per byte is at least `minimumEntropy` — and that are not file paths or SRI hashes.
    private func randomTokens(into found: inout [Match]) {
        var i = 0
        while i < bytes.count {
            guard isBase64Byte(bytes[i]) else {
                i += 1
                continue
            }
            var end = i
            while end < bytes.count, isBase64Byte(bytes[end]) { end += 1 }
            defer { i = end }
            let token = bytes[i..<end]
            guard (32...512).contains(token.count), token.contains(where: isUpper), token.contains(where: isLower),
                token.contains(where: isDigit)
            else { continue }
            if Self.isSRIHash(token) || isPathLike(token) || follows(Array("base64,".utf8), at: i) { continue }
            if Self.entropy(token) >= minimumEntropy { found.append(Match(range: i..<end, kind: .highEntropy)) }
        }
    }

    static func isSRIHash(_ token: ArraySlice<UInt8>) -> Bool {
        ["sha1-", "sha256-", "sha384-", "sha512-"].contains { token.starts(with: Array($0.utf8)) }
    }

    /// `src/components/UserProfile2Page`: slash-separated words, one of them all letters.
    private func isPathLike(_ token: ArraySlice<UInt8>) -> Bool {
        let parts = token.split(separator: UInt8(ascii: "/"))
        return parts.count >= 2 && parts.contains { $0.count >= 2 && $0.allSatisfy(isLetter) }
    }

    /// Shannon entropy in bits per byte.
    static func entropy(_ token: ArraySlice<UInt8>) -> Double {
        var counts = [Int](repeating: 0, count: 256)
        for byte in token { counts[Int(byte)] += 1 }
        let n = Double(token.count)
        var bits = 0.0
        for count in counts where count > 0 {
            let p = Double(count) / n
            bits -= p * log2(p)
        }
        return bits
    }

    // MARK: - Bytes

    private func atWordStart(_ i: Int) -> Bool { i == 0 || !isWordByte(bytes[i - 1]) }

    private func hasPrefix(_ prefix: [UInt8], at i: Int) -> Bool {
        i + prefix.count <= bytes.count && bytes[i..<(i + prefix.count)].elementsEqual(prefix)
    }

    func follows(_ text: [UInt8], at i: Int) -> Bool {
        i >= text.count && bytes[(i - text.count)..<i].elementsEqual(text)
    }

    private func find(_ needle: [UInt8], from start: Int) -> Int? {
        guard let first = needle.first, start < bytes.count else { return nil }
        var i = start
        while i + needle.count <= bytes.count {
            if bytes[i] == first && bytes[i..<(i + needle.count)].elementsEqual(needle) { return i }
            i += 1
        }
        return nil
    }

    private func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard haystack.count >= needle.count else { return false }
        return (0...(haystack.count - needle.count)).contains {
            haystack[$0..<($0 + needle.count)].elementsEqual(needle)
        }
    }
}

// The byte classes the detectors use (ASCII only: every delimiter and token byte is ASCII).
func isDigit(_ b: UInt8) -> Bool { b >= 48 && b <= 57 }
func isUpper(_ b: UInt8) -> Bool { b >= 65 && b <= 90 }
func isLower(_ b: UInt8) -> Bool { b >= 97 && b <= 122 }
func isLetter(_ b: UInt8) -> Bool { isUpper(b) || isLower(b) }
func isAlphanumeric(_ b: UInt8) -> Bool { isLetter(b) || isDigit(b) }
func isWordByte(_ b: UInt8) -> Bool { isAlphanumeric(b) || b == UInt8(ascii: "_") || b == UInt8(ascii: "-") }
func isNameByte(_ b: UInt8) -> Bool { isWordByte(b) || b == UInt8(ascii: ".") }
func isSchemeByte(_ b: UInt8) -> Bool {
    isAlphanumeric(b) || b == UInt8(ascii: "+") || b == UInt8(ascii: "-") || b == UInt8(ascii: ".")
}
func isBase64Byte(_ b: UInt8) -> Bool {
    isAlphanumeric(b) || b == UInt8(ascii: "+") || b == UInt8(ascii: "/") || b == UInt8(ascii: "=")
        || b == UInt8(ascii: "_") || b == UInt8(ascii: "-")
}
func isQuote(_ b: UInt8) -> Bool { b == UInt8(ascii: "\"") || b == UInt8(ascii: "'") || b == UInt8(ascii: "`") }
func isSpaceOrQuote(_ b: UInt8) -> Bool {
    b == UInt8(ascii: " ") || b == UInt8(ascii: "\t") || b == UInt8(ascii: "\n") || b == UInt8(ascii: "\r")
        || isQuote(b)
}
func isValueDelimiter(_ b: UInt8) -> Bool {
    b == UInt8(ascii: ",") || b == UInt8(ascii: ";") || b == UInt8(ascii: "}") || b == UInt8(ascii: ")")
        || b == UInt8(ascii: "]") || b == UInt8(ascii: "&")
}
