/// What a redacted secret was, as its placeholder names it (specs/redaction.md).
public enum SecretKind: String, CaseIterable, Sendable, Codable {
    case privateKey = "private-key"
    case awsAccessKeyID = "aws-access-key-id"
    case githubToken = "github-token"
    case gitlabToken = "gitlab-token"
    case slackToken = "slack-token"
    case slackWebhook = "slack-webhook"
    case stripeKey = "stripe-key"
    case googleAPIKey = "google-api-key"
    case anthropicKey = "anthropic-key"
    case openAIKey = "openai-key"
    case npmToken = "npm-token"
    case pypiToken = "pypi-token"
    case sendgridKey = "sendgrid-key"
    case twilioKey = "twilio-key"
    case digitalOceanToken = "digitalocean-token"
    case shopifyToken = "shopify-token"
    case vaultToken = "vault-token"
    case jwt
    /// The password of a URL or connection string (`scheme://user:PASSWORD@host`); the rest stays.
    case connectionPassword = "connection-password"
    /// The value assigned to a name that says it is secret (`DB_PASSWORD=…`, `"api_key": "…"`).
    case assignedSecret = "assigned-secret"
    /// A long random-looking token that matches no known shape.
    case highEntropy = "high-entropy"

    // Personal data: found only when `Redactor.Options.personalData` is on.

    /// An e-mail address (`local@domain.tld`).
    case email
    /// An international phone number: `+` and 8 to 15 digits, possibly grouped.
    case phoneNumber = "phone-number"
    /// A payment card number of a known issuer range that passes the Luhn check.
    case paymentCard = "payment-card"
    /// An International Bank Account Number (ISO 13616) that passes its mod-97 check.
    case iban
    /// A United States social security number, `AAA-GG-SSSS`.
    case usSSN = "us-ssn"

    /// Whether this kind is personal data rather than a secret (specs/redaction.md, "Personal data (optional)").
    public var isPersonalData: Bool {
        switch self {
        case .email, .phoneNumber, .paymentCard, .iban, .usSSN: return true
        default: return false
        }
    }
}

/// One secret the redactor replaced. It never holds the secret itself.
public struct RedactionFinding: Sendable, Hashable, Codable {
    /// What it was.
    public let kind: SecretKind
    /// The first 12 hex digits of HMAC-SHA-256(key, secret): the same secret under the same key always
    /// gets the same tag, so repeats can be correlated without the secret being stored.
    public let tag: String

    /// The text that replaced the secret: `[REDACTED:<kind>:<tag>]`.
    public var placeholder: String { "[REDACTED:\(kind.rawValue):\(tag)]" }
}
