/// The scanner's optional personal-data pass (specs/redaction.md, "Personal data (optional)"): e-mail addresses,
/// international phone numbers, payment card numbers, IBANs and US social security numbers.
///
/// Like the secret detectors, each is one linear pass over the bytes, without regular expressions: a candidate reads
/// a bounded number of bytes past where it starts (a domain name, 19 digits, 34 characters) and the scan resumes
/// after it. Checksums (Luhn, ISO 7064 mod 97) are computed on the fly, without copying.
extension SecretScanner {
    func personalDataMatches(into found: inout [Match]) {
        emailAddresses(into: &found)
        phoneNumbers(into: &found)
        cardsAndSSNs(into: &found)
        ibans(into: &found)
    }

    // MARK: - E-mail addresses

    /// `local@domain.tld` — except SSH logins (`git@…`, `user@host:path`), URL userinfo (`scheme://user@host`),
    /// addresses nobody reads (`noreply@…`), reserved documentation domains (`example.com`, `.test` …) and
    /// image-density suffixes (`icon@2x.png`).
    private func emailAddresses(into found: inout [Match]) {
        var i = 0
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "@"), let match = emailAddress(at: i) {
                found.append(match)
                i = match.range.upperBound
            } else {
                i += 1
            }
        }
    }

    private func emailAddress(at sign: Int) -> Match? {
        var start = sign
        while start > 0, isEmailLocalByte(bytes[start - 1]) { start -= 1 }
        while start < sign, bytes[start] == UInt8(ascii: ".") { start += 1 }
        guard start < sign, let domain = emailDomain(from: sign + 1) else { return nil }
        if Self.isImpersonalLocalPart(bytes[start..<sign]) || isReservedDomain(domain) || isDensitySuffix(domain) {
            return nil
        }
        if inURLAuthority(sign) || followedByRemotePath(domain.upperBound) { return nil }
        return Match(range: start..<domain.upperBound, kind: .email)
    }

    /// The domain name starting at `start`: two or more dot-separated labels of letters, digits and inner hyphens,
    /// the last (the top-level domain) of two or more letters. A full stop after it ends a sentence, not the name.
    private func emailDomain(from start: Int) -> Range<Int>? {
        var end = start
        while end < bytes.count, isAlphanumeric(bytes[end]) || bytes[end] == UInt8(ascii: "-") || bytes[end] == dot {
            end += 1
        }
        while end > start, bytes[end - 1] == dot { end -= 1 }
        guard end > start else { return nil }
        var labels = 0
        var labelStart = start
        for k in start...end where k == end || bytes[k] == dot {
            guard k - labelStart >= 1, k - labelStart <= 63, bytes[labelStart] != UInt8(ascii: "-"),
                bytes[k - 1] != UInt8(ascii: "-")
            else { return nil }
            labels += 1
            if k < end { labelStart = k + 1 }
        }
        guard labels >= 2, end - labelStart >= 2, bytes[labelStart..<end].allSatisfy(isLetter) else { return nil }
        return start..<end
    }

    private static let impersonalLocalParts = ["git", "noreply", "no-reply", "donotreply", "do-not-reply"].map {
        Array($0.utf8)
    }

    /// `git` (the SSH login of git hosts: `git@github.com`) and the addresses of mail nobody reads (`noreply`,
    /// `no-reply`, `donotreply`, `do-not-reply`), ASCII case-insensitive: they name no person.
    static func isImpersonalLocalPart(_ local: ArraySlice<UInt8>) -> Bool {
        impersonalLocalParts.contains { equalsIgnoringCase(local, $0) }
    }

    private static let reservedDomains = ["example.com", "example.net", "example.org"].map { Array($0.utf8) }
    private static let reservedTopLevelDomains = ["example", "test", "invalid", "localhost"].map { Array($0.utf8) }

    /// Domains reserved for documentation and tests, where nobody has an address (RFC 2606, RFC 6761):
    /// `example.com`, `example.net`, `example.org` and their subdomains, and every name under the top-level
    /// domains `example`, `test`, `invalid` and `localhost`.
    private func isReservedDomain(_ domain: Range<Int>) -> Bool {
        let name = bytes[domain]
        return Self.reservedDomains.contains { hasLabelSuffix(name, $0) }
            || Self.reservedTopLevelDomains.contains { hasLabelSuffix(name, $0) }
    }

    /// Whether `name` is `suffix` or ends with `.` + `suffix` (ASCII case-insensitive).
    private func hasLabelSuffix(_ name: ArraySlice<UInt8>, _ suffix: [UInt8]) -> Bool {
        guard name.count >= suffix.count else { return false }
        let tail = name.suffix(suffix.count)
        guard Self.equalsIgnoringCase(tail, suffix) else { return false }
        return name.count == suffix.count || name[tail.startIndex - 1] == dot
    }

    /// `icon@2x.png`: an image's pixel-density suffix, not an address.
    private func isDensitySuffix(_ domain: Range<Int>) -> Bool {
        var k = domain.lowerBound
        while k < domain.upperBound, isDigit(bytes[k]) { k += 1 }
        return k > domain.lowerBound && k + 1 < domain.upperBound
            && (bytes[k] == UInt8(ascii: "x") || bytes[k] == UInt8(ascii: "X")) && bytes[k + 1] == dot
    }

    /// Whether the `@` at `at` ends a URL's userinfo (`scheme://user@host`, `scheme://user:password@host`): a login,
    /// whose password the connection-password detector handles.
    private func inURLAuthority(_ at: Int) -> Bool {
        var k = at
        while k > 0, !isURLDelimiter(bytes[k - 1]) { k -= 1 }
        return follows(Self.schemeSeparator, at: k)
    }

    /// `git@github.com:acme/app.git`, `deploy@host.example.net:/srv/app`: the scp-like form of an SSH remote (a login
    /// and a path, not an address) — a `:` and then a path that has a `/` or ends with `.git`.
    private func followedByRemotePath(_ end: Int) -> Bool {
        guard end < bytes.count, bytes[end] == UInt8(ascii: ":") else { return false }
        var k = end + 1
        while k < bytes.count, isNameByte(bytes[k]) || bytes[k] == UInt8(ascii: "/") || bytes[k] == UInt8(ascii: "~") {
            if bytes[k] == UInt8(ascii: "/") { return true }
            k += 1
        }
        return follows(Self.gitSuffix, at: k)
    }

    private func isEmailLocalByte(_ b: UInt8) -> Bool {
        isAlphanumeric(b) || b == dot || b == UInt8(ascii: "_") || b == UInt8(ascii: "%") || b == UInt8(ascii: "+")
            || b == UInt8(ascii: "-")
    }

    // MARK: - Phone numbers

    /// `+` and 8 to 15 digits (E.164), in groups joined by a single space, `-` or `.`, a group possibly in
    /// parentheses: `+49 30 901820`, `+1 (415) 555-0132`, `+44 (0)20 7946 0958`. Not after a letter, a digit or
    /// `.` (`1e+10`, `1.2.3+20240101`), not a country code starting with 0 (`+0100`), not glued to letters
    /// (`+1234567890abc`), not a signed date (`+2026-12-07`).
    private func phoneNumbers(into found: inout [Match]) {
        var i = 0
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "+"), let match = phoneNumber(at: i) {
                found.append(match)
                i = match.range.upperBound
            } else {
                i += 1
            }
        }
    }

    private func phoneNumber(at plus: Int) -> Match? {
        if plus > 0 {
            let before = bytes[plus - 1]
            if isWordByte(before) || before == UInt8(ascii: "+") || before == dot || before == UInt8(ascii: ")")
                || before == UInt8(ascii: "]") || before == UInt8(ascii: "}")
            {
                return nil
            }
        }
        var digits = 0
        var groups = 0
        var shape = (0, 0, 0)
        var dashed = true
        var end = plus
        var j = plus + 1
        var separator: UInt8?
        while j < bytes.count {
            var k = j
            let parenthesized = bytes[k] == UInt8(ascii: "(")
            if parenthesized { k += 1 }
            let runStart = k
            while k < bytes.count, isDigit(bytes[k]), k - runStart <= 15 { k += 1 }
            let run = k - runStart
            guard run > 0 else { break }
            // A country code never starts with 0.
            if groups == 0 && bytes[runStart] == UInt8(ascii: "0") { return nil }
            if parenthesized {
                guard k < bytes.count, bytes[k] == UInt8(ascii: ")") else { break }
                k += 1
            }
            if digits + run > 15 {
                // A longer number is something else — but a space may end a phone number before other digits.
                guard groups > 0, separator == UInt8(ascii: " ") else { return nil }
                break
            }
            digits += run
            groups += 1
            if groups == 1 { shape.0 = run } else if groups == 2 { shape.1 = run } else if groups == 3 { shape.2 = run }
            end = k
            j = k
            separator = nil
            if j < bytes.count, bytes[j] == UInt8(ascii: " ") || bytes[j] == UInt8(ascii: "-") || bytes[j] == dot {
                separator = bytes[j]
                j += 1
            }
            guard j < bytes.count, isDigit(bytes[j]) || bytes[j] == UInt8(ascii: "(") else { break }
            if separator != UInt8(ascii: "-") { dashed = false }
        }
        guard digits >= 8 else { return nil }
        if end < bytes.count, isAlphanumeric(bytes[end]) || bytes[end] == UInt8(ascii: "_") { return nil }
        if dashed && groups == 3 && shape == (4, 2, 2) { return nil }  // +2026-12-07
        return Match(range: plus..<end, kind: .phoneNumber)
    }

    // MARK: - Payment cards and US social security numbers

    /// Both start a run of digits that is not part of a longer word or number.
    private func cardsAndSSNs(into found: inout [Match]) {
        var i = 0
        while i < bytes.count {
            guard isDigit(bytes[i]) else {
                i += 1
                continue
            }
            var runEnd = i
            while runEnd < bytes.count, isDigit(bytes[runEnd]) { runEnd += 1 }
            if numberMayStart(at: i),
                let match = socialSecurityNumber(at: i, runEnd: runEnd) ?? card(at: i, runEnd: runEnd)
            {
                found.append(match)
                i = match.range.upperBound
            } else {
                i = runEnd
            }
        }
    }

    /// Not after a letter, a digit or `_`, nor after a `.` or `-` that follows one (`v1.4111…`, `ORD-4111…`).
    private func numberMayStart(at i: Int) -> Bool {
        guard i > 0 else { return true }
        let before = bytes[i - 1]
        if isAlphanumeric(before) || before == UInt8(ascii: "_") { return false }
        return !((before == dot || before == UInt8(ascii: "-")) && i >= 2 && isAlphanumeric(bytes[i - 2]))
    }

    /// Not before a letter, a digit or `_`, nor before a `.` or `-` that a letter or digit follows (`…1111.5`).
    private func numberMayEnd(at end: Int) -> Bool {
        guard end < bytes.count else { return true }
        let after = bytes[end]
        if isAlphanumeric(after) || after == UInt8(ascii: "_") { return false }
        return
            !((after == dot || after == UInt8(ascii: "-")) && end + 1 < bytes.count && isAlphanumeric(bytes[end + 1]))
    }

    /// `AAA-GG-SSSS`, dashes only, without the numbers never issued: area 000, 666 or 900–999, group 00, serial 0000.
    private func socialSecurityNumber(at start: Int, runEnd: Int) -> Match? {
        let end = runEnd + 8
        guard runEnd - start == 3, end <= bytes.count, bytes[runEnd] == UInt8(ascii: "-"),
            bytes[runEnd + 3] == UInt8(ascii: "-"), isDigit(bytes[runEnd + 1]), isDigit(bytes[runEnd + 2]),
            bytes[(runEnd + 4)..<end].allSatisfy(isDigit), numberMayEnd(at: end)
        else { return nil }
        let area = number(start..<runEnd)
        let group = number((runEnd + 1)..<(runEnd + 3))
        let serial = number((runEnd + 4)..<end)
        guard area != 0, area != 666, area < 900, group != 0, serial != 0 else { return nil }
        return Match(range: start..<end, kind: .usSSN)
    }

    /// 13 to 19 digits, whole or grouped by single spaces or dashes (the same one throughout, four digits first: `4111
    /// 1111 1111 1111`, `3782-822463-10005`), of a known issuer range for that length, passing the Luhn check. Of a
    /// grouped run, the longest leading groups that are a card number (an expiry date may follow).
    private func card(at start: Int, runEnd: Int) -> Match? {
        let first = runEnd - start
        if first >= 13 {
            guard first <= 19, numberMayEnd(at: runEnd), isCardNumber(start..<runEnd, digits: first) else { return nil }
            return Match(range: start..<runEnd, kind: .paymentCard)
        }
        guard first == 4, runEnd < bytes.count, bytes[runEnd] == UInt8(ascii: " ") || bytes[runEnd] == UInt8(ascii: "-")
        else { return nil }
        let separator = bytes[runEnd]
        var digits = first
        var j = runEnd
        var best: Int?
        while j + 1 < bytes.count, bytes[j] == separator, isDigit(bytes[j + 1]) {
            var k = j + 1
            while k < bytes.count, isDigit(bytes[k]), k - j <= 7 { k += 1 }
            let run = k - j - 1
            guard run <= 6, digits + run <= 19 else { break }
            digits += run
            if digits >= 13, numberMayEnd(at: k), isCardNumber(start..<k, digits: digits) { best = k }
            j = k
        }
        return best.map { Match(range: start..<$0, kind: .paymentCard) }
    }

    /// Whether the digits of `range` (separators skipped), `count` of them, are a card number.
    private func isCardNumber(_ range: Range<Int>, digits count: Int) -> Bool {
        var prefix = 0
        var taken = 0
        for byte in bytes[range] where isDigit(byte) && taken < 6 {
            prefix = prefix * 10 + Int(byte - 48)
            taken += 1
        }
        guard Self.issuerAccepts(prefix: prefix, length: count) else { return false }
        // Luhn: from the right, every second digit doubled (its digits summed); the total is a multiple of 10.
        var sum = 0
        var doubled = false
        for byte in bytes[range].reversed() where isDigit(byte) {
            var digit = Int(byte - 48)
            if doubled {
                digit *= 2
                if digit > 9 { digit -= 9 }
            }
            sum += digit
            doubled.toggle()
        }
        return sum % 10 == 0
    }

    /// Whether a card number whose first six digits are `prefix` can have `length` digits: the issuer ranges (IINs)
    /// of the networks in use.
    static func issuerAccepts(prefix: Int, length: Int) -> Bool {
        let one = prefix / 100_000
        let two = prefix / 10_000
        let three = prefix / 1000
        let four = prefix / 100
        if one == 4 { return length == 13 || length == 16 || length == 19 }  // Visa
        if (51...55).contains(two) || (2221...2720).contains(four) { return length == 16 }  // Mastercard
        if two == 34 || two == 37 { return length == 15 }  // American Express
        if four == 6011 || (644...649).contains(three) || two == 65 { return length >= 16 }  // Discover
        if (3528...3589).contains(four) { return length >= 16 }  // JCB
        if (300...305).contains(three) || two == 36 || two == 38 || two == 39 { return length >= 14 }  // Diners Club
        if two == 62 { return length >= 16 }  // UnionPay
        if (2200...2204).contains(four) { return length >= 16 }  // Mir
        switch four {
        case 5018, 5020, 5038, 5893, 6304, 6759, 6761, 6762, 6763: return true  // Maestro
        default: return false
        }
    }

    private func number(_ range: Range<Int>) -> Int {
        bytes[range].reduce(0) { $0 * 10 + Int($1 - 48) }
    }

    // MARK: - IBANs

    /// A country code, two check digits and the account (BBAN): as long as the IBAN registry says for that country,
    /// whole or in groups of four separated by single spaces (`DE89 3704 0044 0532 0130 00`), all capitals or all
    /// lower case, passing the ISO 7064 mod-97 check (ISO 13616).
    private func ibans(into found: inout [Match]) {
        var i = 0
        while i + 15 <= bytes.count {
            if isLetter(bytes[i]), i == 0 || !(isAlphanumeric(bytes[i - 1]) || bytes[i - 1] == UInt8(ascii: "_")),
                let end = iban(at: i)
            {
                found.append(Match(range: i..<end, kind: .iban))
                i = end
            } else {
                i += 1
            }
        }
    }

    /// The end of the IBAN starting at `start`, or nil.
    private func iban(at start: Int) -> Int? {
        guard isLetter(bytes[start + 1]), isDigit(bytes[start + 2]), isDigit(bytes[start + 3]),
            let length = Self.ibanLengths[Self.countryKey(bytes[start], bytes[start + 1])]
        else { return nil }
        let check = Int(bytes[start + 2] - 48) * 10 + Int(bytes[start + 3] - 48)
        guard (2...98).contains(check) else { return nil }
        // The account, then the first four characters, as one number (digits as they are, A or a = 10 … Z = 35):
        // modulo 97 it must be 1.
        var remainder = 0
        var upper = false
        var lower = false
        func add(_ byte: UInt8) {
            if isDigit(byte) {
                remainder = (remainder * 10 + Int(byte - 48)) % 97
            } else {
                upper = upper || isUpper(byte)
                lower = lower || isLower(byte)
                remainder = (remainder * 100 + Int((byte | 0x20) - UInt8(ascii: "a")) + 10) % 97
            }
        }
        var j = start + 4
        var grouped: Bool?
        for n in 4..<length {
            if n % 4 == 0 {
                let spaced = j < bytes.count && bytes[j] == UInt8(ascii: " ")
                if let grouped, grouped != spaced { return nil }
                grouped = spaced
                if spaced { j += 1 }
            }
            guard j < bytes.count, isAlphanumeric(bytes[j]) else { return nil }
            add(bytes[j])
            j += 1
        }
        for k in start..<(start + 4) { add(bytes[k]) }
        guard remainder == 1, !(upper && lower) else { return nil }
        if j < bytes.count, isAlphanumeric(bytes[j]) || bytes[j] == UInt8(ascii: "_") { return nil }
        return j
    }

    private static func countryKey(_ a: UInt8, _ b: UInt8) -> UInt16 { UInt16(a & ~0x20) << 8 | UInt16(b & ~0x20) }

    /// The length of each country's IBANs (SWIFT's IBAN registry, release 102).
    private static let ibanLengths: [UInt16: Int] = {
        let registry = """
            AD24 AE23 AL28 AT20 AZ28 BA20 BE16 BG22 BH22 BI27 BR29 BY28 CH21 CR22 CY28 CZ24 DE22 DJ27 DK18 DO28 EE20
            EG29 ES24 FI18 FK18 FO18 FR27 GB22 GE22 GI23 GL18 GR27 GT28 HN28 HR21 HU28 IE22 IL23 IQ23 IS26 IT27 JO30
            KW30 KZ20 LB28 LC32 LI21 LT20 LU20 LV21 LY25 MC27 MD24 ME22 MK19 MN20 MR27 MT31 MU30 NI28 NL18 NO15 OM23
            PK24 PL28 PS29 PT25 QA29 RO24 RS22 RU33 SA24 SC31 SD18 SE24 SI19 SK24 SM27 SO23 ST25 SV28 TL23 TN24 TR26
            UA29 VA22 VG24 XK20 YE30
            """
        var lengths: [UInt16: Int] = [:]
        for entry in registry.split(whereSeparator: { $0 == " " || $0 == "\n" }) {
            let utf8 = Array(entry.utf8)
            lengths[countryKey(utf8[0], utf8[1])] = Int(String(entry.dropFirst(2)))
        }
        return lengths
    }()

    // MARK: - Bytes

    private var dot: UInt8 { UInt8(ascii: ".") }
    private static let schemeSeparator = Array("://".utf8)
    private static let gitSuffix = Array(".git".utf8)

    /// ASCII case-insensitive equality.
    static func equalsIgnoringCase(_ a: ArraySlice<UInt8>, _ b: [UInt8]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { isLetter($0) ? $0 | 0x20 == $1 | 0x20 : $0 == $1 }
    }
}
