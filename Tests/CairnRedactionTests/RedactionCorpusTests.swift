import CairnJSON
import CairnRedaction
import CairnTestSupport
import Foundation
import Testing

/// Issue 12's redaction corpus: every secret shape is removed, and no innocent look-alike is touched.
///
/// Secret values are generated (a seeded generator, prefixes split) so that the repository itself holds no
/// string a secret scanner would flag.
@Suite struct RedactionCorpusTests {
    let redactor = Redactor(key: Array("test key".utf8))

    static func secrets() -> [(String, String, String)] { RedactionCorpus.secrets() }
    static var lookAlikes: [String] { RedactionCorpus.lookAlikes }

    /// The kind each corpus case must be reported as: its name's known shape, else the generic ones.
    static func expectedKind(_ name: String) -> String {
        let kinds: [(String, SecretKind)] = [
            ("aws access", .awsAccessKeyID), ("aws temporary", .awsAccessKeyID), ("github", .githubToken),
            ("gitlab", .gitlabToken), ("slack bot", .slackToken), ("slack webhook", .slackWebhook),
            ("stripe", .stripeKey), ("google", .googleAPIKey), ("anthropic", .anthropicKey), ("openai", .openAIKey),
            ("npm", .npmToken), ("pypi", .pypiToken), ("sendgrid", .sendgridKey), ("twilio", .twilioKey),
            ("digitalocean", .digitalOceanToken), ("shopify", .shopifyToken), ("vault", .vaultToken), ("jwt", .jwt),
            ("private key", .privateKey), ("url password", .connectionPassword), ("high-entropy", .highEntropy),
            ("aws secret", .highEntropy),
        ]
        return (kinds.first { name.contains($0.0) }?.1 ?? .assignedSecret).rawValue
    }

    @Test("At least 30 secret shapes, each gone from the text, replaced by a typed placeholder")
    func secretsAreRemoved() {
        let cases = Self.secrets()
        #expect(cases.count >= 30)
        for (name, text, secret) in cases {
            let (redacted, findings) = redactor.redact(text)
            #expect(!redacted.contains(secret), "\(name): \(redacted)")
            #expect(!findings.isEmpty, "\(name)")
            #expect(redacted.contains("[REDACTED:"), "\(name)")
            #expect(findings.map(\.kind.rawValue) == [Self.expectedKind(name)], "\(name)")
        }
    }

    @Test("At least 30 innocent look-alikes come back byte for byte")
    func lookAlikesAreKept() {
        #expect(Self.lookAlikes.count >= 30)
        for text in Self.lookAlikes {
            let (redacted, findings) = redactor.redact(text)
            #expect(redacted == text, "changed: \(text) -> \(redacted)")
            #expect(findings.isEmpty, "\(text): \(findings)")
        }
    }

    @Test("Known shapes are named by kind; the rest of the text is kept")
    func kindsAndContext() throws {
        let token = "gh" + "p_" + String(repeating: "a1B2", count: 9)
        let (redacted, findings) = redactor.redact("push with \(token) now")
        #expect(findings.map(\.kind) == [.githubToken])
        #expect(redacted == "push with \(findings[0].placeholder) now")
        let url = redactor.redact("postgres://app:S3cretPassw0rd@db:5432/app")
        #expect(url.findings.map(\.kind) == [.connectionPassword])
        #expect(
            url.text.hasPrefix("postgres://app:[REDACTED:connection-password:") && url.text.hasSuffix("]@db:5432/app"))
    }

    @Test("Tags correlate the same secret under one key, differ across keys, and never contain the secret")
    func tags() {
        let secret = "DB_PASSWORD=hunter2hunter2"
        let first = redactor.redact(secret + " and again " + secret)
        #expect(first.findings.count == 2 && first.findings[0] == first.findings[1])
        #expect(first.findings[0].tag.count == 12)
        let other = Redactor(key: Array("another key".utf8)).redact(secret)
        #expect(other.findings[0].tag != first.findings[0].tag)
        #expect(!first.text.contains("hunter2hunter2"))
    }

    @Test("Redacting twice changes nothing more")
    func idempotent() {
        for (_, text, _) in Self.secrets() {
            let once = redactor.redact(text).text
            #expect(redactor.redact(once).text == once, "\(once)")
        }
    }

    @Test("JSON: strings are redacted wherever they are; a value under a secret-named key is redacted whole")
    func json() throws {
        let token = "gh" + "p_" + String(repeating: "Zx9", count: 12)
        let record = try JSONParser.parse(
            """
            {"prompt": "use \(token) to push", "settings": {"password": "correct-horse-battery", "max_tokens": 1024,
             "token_count": 12, "apiKey": "${API_KEY}"}, "lines": ["ok", "AWS \("AK" + "IA")ABCDEFGHIJKLMNOP"]}
            """)
        let (value, findings) = redactor.redact(json: record)
        let text = JSONWriter.compact(value)
        #expect(!text.contains(token) && !text.contains("correct-horse-battery") && !text.contains("ABCDEFGHIJKLMNOP"))
        #expect(
            findings.map(\.kind).sorted { $0.rawValue < $1.rawValue } == [
                .assignedSecret, .awsAccessKeyID, .githubToken,
            ])
        #expect(value["settings"]?["max_tokens"] == .number(1024))
        #expect(value["settings"]?["apiKey"] == .string("${API_KEY}"))
        #expect(value["lines"]?[0] == .string("ok"))
    }
}
