import CairnJSON
import CairnRedaction
import CairnTestSupport
import Testing

/// Issue 12 item 9's optional personal-data pass: every sample of the corpus is redacted with its kind, no look-alike
/// is touched, the pass is off unless asked for, and redaction stays idempotent.
@Suite struct PersonalDataRedactionTests {
    static let key = Array("test key".utf8)
    let redactor: Redactor = {
        var options = Redactor.Options()
        options.personalData = true
        return Redactor(key: PersonalDataRedactionTests.key, options: options)
    }()

    @Test("At least 30 samples, 5 or more of each kind, each gone from the text and reported with its kind")
    func samplesAreRedacted() {
        let samples = PersonalDataCorpus.samples()
        #expect(samples.count >= 30)
        for kind in ["email", "phone-number", "payment-card", "iban", "us-ssn"] {
            #expect(samples.filter { $0.kind == kind }.count >= 5, "\(kind)")
        }
        for sample in samples {
            #expect(sample.text.contains(sample.value), "\(sample.name)")
            let (redacted, findings) = redactor.redact(sample.text)
            #expect(!redacted.contains(sample.value), "\(sample.name): \(redacted)")
            #expect(findings.map(\.kind.rawValue) == [sample.kind], "\(sample.name): \(redacted)")
            #expect(findings.allSatisfy { $0.kind.isPersonalData })
            // Only the value is replaced: the text around it is kept byte for byte.
            #expect(
                redacted == sample.text.replacingOccurrences(of: sample.value, with: findings[0].placeholder),
                "\(sample.name): \(redacted)")
        }
    }

    @Test("At least 30 innocent look-alikes come back byte for byte with the pass on")
    func lookAlikesAreKept() {
        #expect(PersonalDataCorpus.lookAlikes.count >= 30)
        for text in PersonalDataCorpus.lookAlikes {
            let (redacted, findings) = redactor.redact(text)
            #expect(redacted == text && findings.isEmpty, "changed: \(text) -> \(redacted)")
        }
    }

    @Test("The pass is off by default: personal data is kept, secrets are still redacted")
    func offByDefault() {
        #expect(Redactor.Options().personalData == false)
        let plain = Redactor(key: Self.key)
        for sample in PersonalDataCorpus.samples() {
            let (redacted, findings) = plain.redact(sample.text)
            #expect(redacted == sample.text && findings.isEmpty, "\(sample.name): \(redacted)")
        }
        let token = "gh" + "p_" + String(repeating: "a1B2", count: 9)
        #expect(plain.redact("ana.lima@quillmail.io pushes with \(token)").findings.map(\.kind) == [.githubToken])
    }

    @Test("With the pass on, the secrets corpus is redacted as before and its look-alikes are still kept")
    func secretsUnchanged() {
        let plain = Redactor(key: Self.key)
        for (name, text, _) in RedactionCorpus.secrets() {
            #expect(redactor.redact(text).text == plain.redact(text).text, "\(name)")
        }
        for text in RedactionCorpus.lookAlikes {
            #expect(redactor.redact(text).text == text, "\(text)")
        }
    }

    @Test("Redacting twice changes nothing more, also with every sample in one text")
    func idempotent() {
        let samples = PersonalDataCorpus.samples()
        let all =
            samples.map(\.text).joined(separator: "\n") + "\n" + PersonalDataCorpus.lookAlikes.joined(separator: " ")
        for text in samples.map(\.text) + [all] {
            let once = redactor.redact(text).text
            let twice = redactor.redact(once)
            #expect(twice.text == once && twice.findings.isEmpty, "\(once)")
        }
        let (redacted, findings) = redactor.redact(all)
        #expect(findings.count == samples.count, "\(redacted)")
        for sample in samples { #expect(!redacted.contains(sample.value), "\(sample.name)") }
        for text in PersonalDataCorpus.lookAlikes { #expect(redacted.contains(text), "\(text)") }
    }

    @Test("The same value gets the same tag, and the tag is the secret's HMAC under the key")
    func tags() {
        let (_, findings) = redactor.redact("ana.lima@quillmail.io wrote to ana.lima@quillmail.io")
        #expect(findings.count == 2 && findings[0] == findings[1])
        #expect(findings[0].tag == redactor.tag(of: "ana.lima@quillmail.io"))
    }

    @Test("E-mail: logins, URL userinfo and reserved domains are not addresses; the address itself is what goes")
    func emails() {
        #expect(redactor.redact("git@gitlab.acme-corp.io:group/sub/project").findings.isEmpty)
        #expect(redactor.redact("git@github.com:acme/x.git").findings.isEmpty)
        #expect(redactor.redact("deploy@web1.acme-corp.io:~/app").findings.isEmpty)
        // A colon followed by something other than a path: still an address.
        let combo = redactor.redact("ana.lima@quillmail.io:hunter2")
        #expect(combo.findings.map(\.kind) == [.email] && combo.text.hasSuffix("]:hunter2"))
        // The password of a URL is the connection-password detector's; the login is not an address.
        let url = redactor.redact("postgres://ana:Sup3rSecretPw@db.acme-corp.io:5432/app")
        #expect(url.findings.map(\.kind) == [.connectionPassword])
        #expect(redactor.redact("ssh://git@github.com/acme/x.git").findings.isEmpty)
        // A sentence's full stop and surrounding brackets stay.
        let prose = redactor.redact("(write to ana.lima@quillmail.io.)")
        #expect(prose.text.hasPrefix("(write to [REDACTED:email:") && prose.text.hasSuffix("].)"))
        #expect(redactor.redact("x@y.com").findings.map(\.kind) == [.email])
        #expect(redactor.redact("a@b.c and a@b.c0m and a@-b.com").findings.isEmpty)
    }

    @Test("Phone numbers: a + and 8 to 15 digits in groups, not glued to a word or a longer number")
    func phones() {
        for number in ["+12025550123", "+1 202 555 0123", "+1-202-555-0123", "+1.202.555.0123", "+1(202)555-0123"] {
            let (redacted, findings) = redactor.redact("call \(number) now")
            #expect(findings.map(\.kind) == [.phoneNumber] && redacted.hasSuffix("] now"), "\(number): \(redacted)")
        }
        for text in ["+1234567", "+1234567890123456", "+1-234-567-890-123-456", "+01234567890", "+12345678x"] {
            #expect(redactor.redact(text).findings.isEmpty, "\(text)")
        }
        // A space may end a number before other digits; a dash or a dot may not.
        let spaced = redactor.redact("+44 20 7946 0958 2024")
        #expect(spaced.findings.map(\.kind) == [.phoneNumber] && spaced.text.hasSuffix("] 2024"), "\(spaced.text)")
    }

    @Test("Cards: Luhn, issuer ranges and lengths, groups of one separator; a trailing group is left out if need be")
    func cards() {
        // 4111 1111 1111 1111 is the classic test Visa; split so that no scanner flags the source.
        let visa = "4111" + "111111111111"
        #expect(redactor.redact(visa).findings.map(\.kind) == [.paymentCard])
        #expect(redactor.redact("4111 1111 1111 1111").findings.map(\.kind) == [.paymentCard])
        #expect(redactor.redact("4111-1111-1111-1111").findings.map(\.kind) == [.paymentCard])
        #expect(redactor.redact("4111 1111-1111 1111").findings.isEmpty)  // mixed separators
        #expect(redactor.redact("4111  1111  1111  1111").findings.isEmpty)  // double spaces
        #expect(redactor.redact(visa + "0").findings.isEmpty)  // 17 digits: not a Visa length
        #expect(redactor.redact("-" + visa).findings.map(\.kind) == [.paymentCard])
        #expect(redactor.redact("id-" + visa).findings.isEmpty)
        #expect(redactor.redact(visa + ".5").findings.isEmpty)
        let grouped = redactor.redact("4111 1111 1111 1111 08/27")
        #expect(grouped.findings.map(\.kind) == [.paymentCard] && grouped.text.hasSuffix("] 08/27"), "\(grouped.text)")
    }

    @Test("IBANs: the registry's length for the country, groups of four or none, mod 97, one case")
    func ibans() {
        let iban = "DE89" + "370400440532013000"
        #expect(redactor.redact(iban).findings.map(\.kind) == [.iban])
        #expect(redactor.redact("DE89 3704 0044 0532 0130 00").findings.map(\.kind) == [.iban])
        #expect(redactor.redact("DE89 3704 0044 0532 0130 00 EUR").text.hasSuffix("] EUR"))
        #expect(redactor.redact("DE89 37040044 0532013000").findings.isEmpty)  // not in fours
        #expect(redactor.redact("De89370400440532013000").findings.isEmpty)  // mixed case
        #expect(redactor.redact(iban + "1").findings.isEmpty)  // longer than Germany's
        #expect(redactor.redact("X" + iban).findings.isEmpty)
    }

    @Test("US SSNs: dashes only, never-issued numbers excluded")
    func socialSecurityNumbers() {
        #expect(redactor.redact("078-05-1120").findings.map(\.kind) == [.usSSN])
        for text in ["078 05 1120", "078051120", "078-05-1120-1", "x078-05-1120", "899-99-9999x"] {
            #expect(redactor.redact(text).findings.isEmpty, "\(text)")
        }
        #expect(redactor.redact("899-99-9999").findings.map(\.kind) == [.usSSN])
    }

    @Test("JSON: strings are redacted wherever they are; keys, numbers and look-alikes are kept")
    func json() throws {
        let record = try JSONParser.parse(
            #"{"user": {"email": "ana.lima@quillmail.io", "phone": "+1 202 555 0123", "id": 4111111111111111,"#
                + #" "ref": "git@github.com:acme/x.git"}, "notes": ["IBAN DE89 3704 0044 0532 0130 00"]}"#)
        let (value, findings) = redactor.redact(json: record)
        #expect(findings.map(\.kind) == [.email, .phoneNumber, .iban])
        #expect(value["user"]?["id"] == .number(4_111_111_111_111_111))
        #expect(value["user"]?["ref"] == .string("git@github.com:acme/x.git"))
        let text = JSONWriter.compact(value)
        #expect(!text.contains("quillmail") && !text.contains("555 0123") && !text.contains("0532"))
    }

    @Test("Linear: a megabyte of digits, @ signs, + signs and IBAN-like text, thousands of findings, in seconds")
    func linear() {
        // Debug builds take a few seconds for this (two passes: the second finds nothing); a detector quadratic in
        // its candidates would take hours.
        let pieces = ["4111 ", "@", "a@b.", "+1 ", "DE89 ", "123-", "x", "9", " "]
        var text = ""
        var g = SeededGenerator(seed: 7)
        while text.utf8.count < 1_000_000 { text += pieces[Int(g.next() % UInt64(pieces.count))] }
        let clock = ContinuousClock()
        let elapsed = clock.measure { _ = redactor.redact(text) }
        #expect(elapsed < .seconds(60), "\(elapsed)")
    }
}
