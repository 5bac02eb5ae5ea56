/// Issue 12's personal-data corpus, beside `RedactionCorpus`: samples of each kind the optional personal-data pass
/// must redact, and innocent look-alikes it must leave byte for byte (specs/redaction.md, "Personal data
/// (optional)").
///
/// Card numbers, IBANs and social security numbers are generated (a seeded generator, check digits computed), so that
/// no real one is in the repository; names and domains are made up, and the phone numbers are in ranges set aside
/// for fiction or generated.
package enum PersonalDataCorpus {
    /// One sample: what it is, the kind it must be reported as, the text holding it, and the value that must not
    /// survive.
    package struct Sample: Sendable {
        package let name: String
        package let kind: String
        package let text: String
        package let value: String
    }

    /// At least 30 samples, at least 5 of each kind.
    package static func samples() -> [Sample] {
        var g = RedactionCorpus.Generator(state: 13)
        func digits(_ n: Int) -> String { g.string(n, from: RedactionCorpus.digits) }
        func sample(_ name: String, _ kind: String, _ text: String, _ value: String) -> Sample {
            Sample(name: name, kind: kind, text: text.replacingOccurrences(of: "VALUE", with: value), value: value)
        }
        let name = g.string(6, from: RedactionCorpus.lower)
        return [
            sample("e-mail in prose", "email", "please ping VALUE about the migration", "ana.lima@quillmail.io"),
            sample("e-mail in a trailer", "email", "Co-authored-by: Dana Wu <VALUE>", "dana.wu@harbor-labs.dev"),
            sample("e-mail with a tag and a subdomain", "email", "mailto:VALUE", "\(name)+ci@eu.post.\(name)corp.net"),
            sample("e-mail in JSON", "email", #"{"author": "VALUE", "n": 1}"#, "j_o-ne%x@\(name).co.uk"),
            sample("e-mail in capitals before a full stop", "email", "write to VALUE.", "JOHN.DOE@BIGCORP.COM"),
            sample(
                "GitHub's per-user noreply address", "email", "Author: octo <VALUE>",
                digits(8) + "+\(name)@users.noreply.github.com"),
            sample("e-mail in a URL's path", "email", "https://crm.harbor-labs.dev/users/VALUE/edit", "li.wei@qmx.cn"),
            sample("phone, spaces", "phone-number", "call VALUE after 6", "+49 30 " + digits(7)),
            sample("phone, US style", "phone-number", "office: VALUE", "+1 (415) 555-0132"),
            sample("phone, UK with trunk zero", "phone-number", "tel VALUE", "+44 (0)20 7946 0958"),
            sample("phone, dots, tel: URI", "phone-number", "<a href=\"tel:VALUE\">", "+33.1.23.45.67.89"),
            sample("phone, dashes", "phone-number", "VALUE (Tokyo)", "+81-3-" + digits(4) + "-" + digits(4)),
            sample("phone, ungrouped", "phone-number", "whatsapp: VALUE", "+4915" + digits(9)),
            sample("phone in parentheses", "phone-number", "call me (VALUE)", "+91 98765 " + digits(5)),
            sample("Visa, whole", "payment-card", "card VALUE declined", card("4", 16, &g)),
            sample("Mastercard 2-series, spaces", "payment-card", "pay with VALUE", grouped(card("2221", 16, &g), " ")),
            sample(
                "American Express, dashes 4-6-5", "payment-card", "amex: VALUE",
                grouped(card("37", 15, &g), "-", sizes: [4, 6, 5])),
            sample(
                "Discover with an expiry date after it", "payment-card", "VALUE 12/29 cvc 123",
                grouped(card("6011", 16, &g), " ")),
            sample("JCB in CSV", "payment-card", "id,card,name\n7,VALUE,Kim", card("3530", 16, &g)),
            sample("Visa, 13 digits", "payment-card", "old card VALUE", card("4", 13, &g)),
            sample(
                "Diners Club, 14 digits 4-6-4", "payment-card", "diners VALUE",
                grouped(card("305", 14, &g), " ", sizes: [4, 6, 4])),
            sample("UnionPay, 19 digits", "payment-card", "\"pan\": \"VALUE\"", card("62", 19, &g)),
            sample("IBAN DE, grouped", "iban", "IBAN: VALUE (Sparkasse)", grouped(iban("DE", digits(18)), " ")),
            sample(
                "IBAN GB, grouped, bank letters", "iban", "pay into VALUE",
                grouped(iban("GB", "NWBK" + digits(14)), " ")),
            sample("IBAN FR, whole, letters", "iban", "iban=VALUE&bic=X", iban("FR", digits(10) + "M" + digits(12))),
            sample("IBAN NL, whole", "iban", "rekening VALUE.", iban("NL", "ABNA" + digits(10))),
            sample("IBAN NO, the shortest", "iban", "konto VALUE", iban("NO", digits(11))),
            sample("IBAN LC, the longest grouped", "iban", "VALUE", grouped(iban("LC", "HEMM" + digits(24)), " ")),
            sample("IBAN in lower case", "iban", "iban: VALUE", iban("DE", digits(18)).lowercased()),
            sample("SSN in prose", "us-ssn", "SSN: VALUE on file", ssn(&g)),
            sample("SSN in JSON", "us-ssn", #"{"ssn": "VALUE"}"#, ssn(&g)),
            sample("SSN in CSV", "us-ssn", "name,ssn\nKim,VALUE\n", ssn(&g)),
            sample("SSN in parentheses", "us-ssn", "(VALUE)", ssn(&g)),
            sample("SSN at the end of a sentence", "us-ssn", "my number is VALUE.", ssn(&g)),
        ]
    }

    /// Text that looks a little like personal data and must come back unchanged, with the pass on.
    package static let lookAlikes: [String] = [
        "commit 9fceb02d0ae598e95dc970b74767f19372d61af8 fixed it",
        "request 0f8e7a52-3c1d-4d7e-9a41-7f1c2b6e5d01 failed",
        "ids 12345678-1234-1234-1234-123456789012 and 1234-5678-9012",
        "release 1.24.3+20240101 is out",
        "at 2026-12-07T09:14:03.120+01:00",
        "Date: Mon, 07 Dec 2026 09:14:03 +0100",
        "@@ -120,7 +120,8 @@ def retry(fn):",
        "x = 1e+12345678 and y = n+12345678",
        "signed date +2026-12-07",
        "call 555-123-4567 or (555) 123-4567, or 4930123456789",
        "order 4111111111111112 failed the Luhn check",
        "Luhn-valid, no issuer: 9999 9999 9999 9995",
        "Visa prefix, Luhn-valid, wrong length: 4111 1111 1111 116",
        "Luhn-valid, no issuer: epoch millis 1733562843123, snowflake 1712345678901234563",
        "token a4111111111111111b and 41111111111111111111",
        "hex 0x4111111111111111 and v1.4111111111111111",
        "AWS account 123456789012, amount 1,234,567,890,123",
        "git remote add origin git@github.com:acme/payments.git",
        "ssh -T git@github.com",
        "rsync -a dist/ deploy@web1.acme-corp.io:/srv/app",
        "Co-authored-by: Claude <noreply@anthropic.com>",
        "Reply-To: no-reply@notifications.acme-corp.io",
        "mail alice@example.com or bob@mail.example.org",
        "carol@ci.test, dave@host.invalid, root@box.localhost",
        "git clone https://alice@gitlab.acme-corp.io/team/repo.git",
        "<img src=\"icon@2x.png\"> and logo@3x.webp",
        "npm install lodash@4.17.21 @types/node@20.11.5",
        "uses: actions/checkout@v4 and nginx@sha256:e3b0c44298fc1c149afbf4c8996fb924",
        "@property and @Test(\"x\") and user@localhost",
        "DE89370400440532013001 fails its check digits",
        "GB29NWBK6016133192681 is one character short",
        "DE99 is not an IBAN, and neither is XX89370400440532013000",
        "ISBN 978-3-16-148410-0",
        "not SSNs: 000-12-3456 666-12-3456 900-12-3456 123-00-4567 123-45-0000",
        "123-45-67890 and 1234-56-7890 and 123 45 6789",
        "IPv4 192.168.100.200, 10.0.0.1; dates 2026/12/07, 07.12.2026",
    ]

    // MARK: - Generated values

    /// A card number of `length` digits starting with `prefix`, with its Luhn check digit.
    static func card(_ prefix: String, _ length: Int, _ g: inout RedactionCorpus.Generator) -> String {
        var digits = prefix + g.string(length - prefix.count - 1, from: RedactionCorpus.digits)
        var sum = 0
        for (index, character) in digits.reversed().enumerated() {
            var digit = Int(String(character))!
            if index % 2 == 0 {
                digit *= 2
                if digit > 9 { digit -= 9 }
            }
            sum += digit
        }
        digits += String((10 - sum % 10) % 10)
        return digits
    }

    /// `country`, the check digits of ISO 7064 mod 97, and `account`.
    static func iban(_ country: String, _ account: String) -> String {
        var remainder = 0
        for character in (account + country + "00").uppercased() {
            if let digit = character.wholeNumberValue {
                remainder = (remainder * 10 + digit) % 97
            } else {
                let value = Int(character.asciiValue!) - Int(Character("A").asciiValue!) + 10
                remainder = (remainder * 100 + value) % 97
            }
        }
        let check = 98 - remainder
        return country + (check < 10 ? "0" : "") + String(check) + account
    }

    /// `AAA-GG-SSSS` from the issued ranges.
    static func ssn(_ g: inout RedactionCorpus.Generator) -> String {
        var area = 1 + Int(g.next() % 899)
        if area == 666 { area = 665 }
        let group = 1 + Int(g.next() % 99)
        let serial = 1 + Int(g.next() % 9999)
        func padded(_ value: Int, _ width: Int) -> String {
            String(repeating: "0", count: width - String(value).count) + String(value)
        }
        return padded(area, 3) + "-" + padded(group, 2) + "-" + padded(serial, 4)
    }

    /// `digits` in groups of `sizes` (default: fours) joined by `separator`.
    static func grouped(_ digits: String, _ separator: String, sizes: [Int]? = nil) -> String {
        var groups: [String] = []
        var rest = Substring(digits)
        var index = 0
        while !rest.isEmpty {
            let size = sizes.map { index < $0.count ? $0[index] : 4 } ?? 4
            groups.append(String(rest.prefix(size)))
            rest = rest.dropFirst(size)
            index += 1
        }
        return groups.joined(separator: separator)
    }
}
