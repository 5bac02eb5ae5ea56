// FuzzRedaction: any text, and any JSON document, through the secret redactor (CairnRedaction, specs/redaction.md)
// that capture runs on prompts and agent output before they are stored — once as by default, once with the optional
// personal-data pass on (e-mail addresses, phone numbers, payment cards, IBANs, US SSNs).
//
// Oracles, for both redactors:
// - no trap, whatever the bytes;
// - text without findings comes back unchanged; with findings, each finding's placeholder is in the output
//   (as bytes);
// - redaction is idempotent: redacting the output again finds nothing and changes nothing;
// - a JSON document's redacted value redacts to itself again;
// - the default redactor reports no personal-data kind.
import CairnJSON
import CairnRedaction
import FuzzKit

private let redactor = Redactor(key: Array("fuzz key".utf8))
private let personalDataRedactor: Redactor = {
    var options = Redactor.Options()
    options.personalData = true
    return Redactor(key: Array("fuzz key".utf8), options: options)
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = bytes(data, size)
    let findings = check(redactor, input)
    oracle(!findings.contains { $0.kind.isPersonalData }, "personal data redacted with the pass off")
    _ = check(personalDataRedactor, input)
    return 0
}

/// Runs the oracles on `input` through `redactor`; returns its findings on the text.
private func check(_ redactor: Redactor, _ input: [UInt8]) -> [RedactionFinding] {
    let text = String(decoding: input, as: UTF8.self)
    let (redacted, findings) = redactor.redact(text)
    if findings.isEmpty {
        oracle(redacted == text, "text without findings changed")
    }
    // Compared as bytes: `String.contains` matches whole characters, and a combining mark after a placeholder's
    // `]` makes it part of another character.
    let output = Array(redacted.utf8)
    for finding in findings {
        oracle(contains(output, Array(finding.placeholder.utf8)), "placeholder \(finding.placeholder) missing")
    }
    let again = redactor.redact(redacted)
    oracle(again.text == redacted && again.findings.isEmpty, "redaction is not idempotent: \(redacted)")
    if let value = try? JSONParser.parse(input) {
        let (clean, _) = redactor.redact(json: value)
        let twice = redactor.redact(json: clean)
        oracle(twice.value == clean && twice.findings.isEmpty, "JSON redaction is not idempotent")
    }
    return findings
}

private func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
    guard needle.count <= haystack.count else { return false }
    return (0...(haystack.count - needle.count)).contains { haystack[$0..<($0 + needle.count)].elementsEqual(needle) }
}

/// Secret-bearing texts (prefixes split so the repository holds none whole), look-alikes and JSON.
private func seeds() -> [[UInt8]] {
    let secretish = [
        "export GITHUB_TOKEN=gh" + "p_" + String(repeating: "a1B2c3", count: 6),
        "AK" + "IA" + "QWERTYUIOPASDFGH and sk" + "_live_" + String(repeating: "x9", count: 12),
        "postgres://app:S3cretPassw0rd@db:5432/app?sslmode=require",
        "-----BEGIN RSA PRIVATE " + "KEY-----\nMIIEow\n-----END RSA PRIVATE " + "KEY-----",
        "ey" + "JhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlc2lnbmF0dXJl",
        #"{"password": "correct-horse-battery", "max_tokens": 1024, "nested": ["DB_PASSWORD=hunter2hunter2"]}"#,
        "already [REDACTED:github-token:0123456789ab] here; password: <your password>",
        "sha512-Q0pOX2Mw9m8e0vJNV3Iu4xo3uTR9bM1Ff3dL2sE0aZtqcXb7eR1mHkPz1yW4cJ6sN8vB5gT2uK9oL3iD0fA7hQ==",
        // Personal data and look-alikes (the card and IBAN are the schemes' published test numbers, split).
        "mail ana.lima@quillmail.io, not git@github.com:acme/x.git or noreply@anthropic.com; icon@2x.png",
        "call +44 (0)20 7946 0958 or +1-202-555-0123; not 1.2.3+20240101 or @@ -12,7 +12,8 @@",
        "card 4111" + " 1111 1111 1111 08/27, 3782-822463-10005; not 4111111111111112",
        #"{"iban": "DE89 3704 0044 0532 0130 00", "ssn": "078-05-1120", "not": "666-12-3456"}"#,
        "postgres://ana:Sup3rSecretPw@db.acme-corp.io:5432/app ana@quillmail.io:hunter2",
    ]
    return secretish.map { Array($0.utf8) }
}

@_cdecl("FuzzRedaction_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    fuzzerMain(argc, argv, seeds: seeds) { fuzz($0, $1) }
}
