/// Issue 12's redaction corpus, shared by the redactor's tests and the end-to-end capture tests: secret shapes that
/// must not survive capture, and innocent look-alikes that must come back byte for byte.
///
/// Secret values are generated (a seeded generator, prefixes split) so that the repository itself holds no string
/// a secret scanner would flag.
package enum RedactionCorpus {
    struct Generator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state >> 33
        }
        mutating func string(_ count: Int, from alphabet: String) -> String {
            let letters = Array(alphabet)
            return String((0..<count).map { _ in letters[Int(next() % UInt64(letters.count))] })
        }
    }

    package static let upper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    package static let lower = "abcdefghijklmnopqrstuvwxyz"
    package static let digits = "0123456789"
    package static let alnum = upper + lower + digits
    package static let base64url = alnum + "-_"
    package static let hex = "0123456789abcdef"

    /// (name, text containing the secret, the secret) — the secret must not survive.
    package static func secrets() -> [(String, String, String)] {
        var g = Generator(state: 12)
        func s(_ n: Int, _ alphabet: String) -> String { g.string(n, from: alphabet) }
        let pem = { (label: String) -> String in
            "-----BEGIN \(label)-----\n" + s(64, alnum + "+/") + "\n" + s(64, alnum + "+/") + "\n-----END \(label)-----"
        }
        let cases: [(String, String)] = [
            ("aws access key id", "AK" + "IA" + s(16, upper + digits)),
            ("aws temporary key id", "AS" + "IA" + s(16, upper + digits)),
            ("github classic token", "gh" + "p_" + s(36, alnum)),
            ("github oauth token", "gh" + "o_" + s(36, alnum)),
            ("github fine-grained token", "github" + "_pat_" + s(22, alnum) + "_" + s(59, alnum)),
            ("gitlab token", "gl" + "pat-" + s(20, base64url)),
            ("slack bot token", "xo" + "xb-" + s(12, digits) + "-" + s(13, digits) + "-" + s(24, alnum)),
            (
                "slack webhook",
                "https://hooks.slack.com/services/" + "T" + s(8, upper) + "/B" + s(8, upper) + "/" + s(24, alnum)
            ),
            ("stripe live key", "sk" + "_live_" + s(24, alnum)),
            ("stripe restricted test key", "rk" + "_test_" + s(24, alnum)),
            ("google api key", "AI" + "za" + s(35, base64url)),
            ("anthropic key", "sk" + "-ant-api03-" + s(80, base64url) + "7"),
            ("openai project key", "sk" + "-proj-" + s(48, base64url) + "1"),
            ("openai legacy key", "sk" + "-" + s(20, alnum) + "T3Blbk" + "FJ" + s(20, alnum) + "9"),
            ("npm token", "np" + "m_" + s(36, alnum)),
            ("pypi token", "py" + "pi-AgEIcHlwaS5vcmc" + s(60, base64url)),
            ("sendgrid key", "S" + "G." + s(22, base64url) + "." + s(43, base64url)),
            ("twilio api key", "S" + "K" + s(32, hex)),
            ("digitalocean token", "do" + "p_v1_" + s(64, hex)),
            ("shopify token", "sh" + "pat_" + s(32, hex)),
            ("vault token", "hv" + "s." + s(90, base64url)),
            ("jwt", "ey" + "JhbGciOiJIUzI1NiJ9." + "ey" + "J" + s(40, base64url) + "." + s(43, base64url)),
            ("rsa private key", pem("RSA PRIVATE " + "KEY")),
            ("openssh private key", pem("OPENSSH PRIVATE " + "KEY")),
            ("ec private key", pem("EC PRIVATE " + "KEY")),
            ("pkcs8 encrypted private key", pem("ENCRYPTED PRIVATE " + "KEY")),
            ("pgp private key block", pem("PGP PRIVATE " + "KEY BLOCK")),
            ("high-entropy token", s(40, alnum) + "Z9z"),
            ("aws secret access key", s(18, alnum) + "/" + s(9, alnum) + "+" + s(10, alnum) + "Q7q"),
        ]
        var assigned: [(String, String, String)] = [
            (
                "postgres url password", "postgres://app:" + "PLACE" + "@db.internal:5432/app",
                "Tr0ub4dor-" + s(6, alnum)
            ),
            ("mongodb url password", "mongodb+srv://admin:" + "PLACE" + "@cluster0.example.net/db", s(14, alnum) + "!"),
            ("redis url password", "redis://:" + "PLACE" + "@cache:6379", s(16, alnum)),
            ("env password", "DB_PASS" + "WORD=" + "PLACE", "hunter2" + s(8, lower)),
            ("json api key", "{\"api_key\": \"" + "PLACE" + "\"}", s(20, alnum)),
            ("yaml client secret", "client_secret: '" + "PLACE" + "'", s(24, lower + digits)),
            ("camelCase key", "const apiKey = \"" + "PLACE" + "\";", s(18, alnum)),
            (
                "azure account key", "DefaultEndpointsProtocol=https;AccountName=acme;AccountKey=" + "PLACE" + ";",
                s(86, alnum + "+/") + "=="
            ),
        ]
        for i in assigned.indices {
            assigned[i].1 = assigned[i].1.replacingOccurrences(of: "PLACE", with: assigned[i].2)
        }
        return cases.map { ($0.0, "context: \($0.1) -- end", $0.1) } + assigned
    }

    /// Text that looks a little like a secret and must come back unchanged.
    package static let lookAlikes: [String] = [
        "commit 9fceb02d0ae598e95dc970b74767f19372d61af8 fixed it",
        "content_hash sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "request 0f8e7a52-3c1d-4d7e-9a41-7f1c2b6e5d01 failed",
        "the AK" + "IA prefix marks an access key id",
        "tokens start with gh" + "p_ on GitHub",
        "pip install scikit-learn; sk-learn is a typo",
        "max_tokens=1024",
        "token_count: 4821",
        "secret_santa: true",
        "password_reset_url = /reset",
        "DB_PASSWORD=${DB_PASSWORD}",
        "password: <your password>",
        "api_key = os.environ[\"API_KEY\"]",
        "clone https://alice@example.com/repo.git",
        "postgres://app:${PGPASSWORD}@db:5432/app",
        "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----",
        "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ\n-----END CERTIFICATE-----",
        "\"integrity\": \"sha512-Q0pOX2Mw9m8e0vJNV3Iu4xo3uTR9bM1Ff3dL2sE0aZtqcXb7eR1mHkPz1yW4cJ6sN8vB5gT2uK9oL3iD0fA7hQ==\"",
        "src=\"data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==\"",
        "edit src/components/UserProfileSettings2Page.tsx",
        "call handleUserAuthenticationCallbackV2Handler() again",
        "at 2026-12-07T09:14:03.120Z",
        "version v1.24.3-beta.2+build.5",
        "color: #1a2b3c;",
        "mail alice@example.com",
        "see https://github.com/org/repo/pull/1234",
        "eyJhbGci is how JWT headers start",
        "the password must be at least 12 characters",
        "secret: the answer is 42",
        "echo SGVsbG8gd29ybGQ= | base64 -d",
        "pod my-service-7d9f8b6c5d-x2k4p restarted",
        "ThisIsALongCamelCaseSentenceWithoutAnyNumbers",
        "already [REDACTED:github-token:0123456789ab] here",
        "\"temperature\": 0.7, \"top_p\": 0.95",
        "Co-authored-by: Claude <noreply@anthropic.com>",
    ]

}
