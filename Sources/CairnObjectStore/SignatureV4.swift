import CairnCrypto

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// AWS credentials: an access key, its secret, and the session token of temporary credentials.
package struct S3Credentials: Sendable, Hashable {
    package var accessKeyID: String
    package var secretAccessKey: String
    package var sessionToken: String?

    package init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }

    /// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and (optional) `AWS_SESSION_TOKEN` from `environment`.
    package static func fromEnvironment(_ environment: [String: String]) throws(S3Error) -> S3Credentials {
        func value(_ name: String) -> String? {
            guard let v = environment[name], !v.isEmpty else { return nil }
            return v
        }
        guard let key = value("AWS_ACCESS_KEY_ID"), let secret = value("AWS_SECRET_ACCESS_KEY") else {
            throw S3Error(
                .credentials,
                "no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for "
                    + "temporary credentials) in the environment")
        }
        return S3Credentials(accessKeyID: key, secretAccessKey: secret, sessionToken: value("AWS_SESSION_TOKEN"))
    }
}

/// AWS Signature Version 4 (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html)
/// for S3 requests sent with the `Authorization` header, over CairnCrypto's HMAC-SHA-256 (OpenSSL's SHA-256).
///
/// S3 flavour: the canonical URI is the request's percent-encoded path as sent (S3 does not normalize or re-encode
/// it), and `x-amz-content-sha256` carries the hex SHA-256 of the body, which is also the canonical request's
/// payload hash. Checked byte for byte against botocore's `S3SigV4Auth` (Tests/Interop/sigv4_botocore.py).
package struct SignatureV4: Sendable {
    package var credentials: S3Credentials
    package var region: String
    package var service: String

    package init(credentials: S3Credentials, region: String, service: String = "s3") {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    /// What signing produced: the headers to send (those given, plus `x-amz-date`, `x-amz-content-sha256`,
    /// `x-amz-security-token` with a session token, and `Authorization`), and the intermediate texts.
    package struct Signed: Sendable {
        package var headers: [(name: String, value: String)]
        package var canonicalRequest: String
        package var stringToSign: String
        package var authorization: String
    }

    /// Signs a request.
    ///
    /// - Parameters:
    ///   - method: `GET`, `PUT`, `HEAD`…
    ///   - host: the `Host` header's value (authority without a default port).
    ///   - encodedPath: the percent-encoded path as sent (`/bucket/key`), `/` if empty.
    ///   - encodedQuery: the percent-encoded query as sent, without `?` (empty for none).
    ///   - headers: the other headers to send and sign (names in any case; `User-Agent` is sent but not signed).
    ///   - payloadSHA256: the lowercase hex SHA-256 of the body (of no bytes for an empty body).
    ///   - time: seconds since the Unix epoch.
    package func sign(
        method: String, host: String, encodedPath: String, encodedQuery: String,
        headers: [(name: String, value: String)], payloadSHA256: String, time: Int64
    ) -> Signed {
        let amzDate = Self.timestamp(time)
        let day = String(amzDate.prefix(8))
        var all = headers.filter { $0.name.lowercased() != "host" }
        all.append(("X-Amz-Date", amzDate))
        all.append(("X-Amz-Content-SHA256", payloadSHA256))
        if let token = credentials.sessionToken { all.append(("X-Amz-Security-Token", token)) }

        // Canonical headers: lower-case names, sorted; values trimmed with inner runs of white space collapsed;
        // repeated names joined with commas.
        var byName: [String: [String]] = ["host": [host]]
        for (name, value) in all where !Self.unsigned.contains(name.lowercased()) {
            byName[name.lowercased(), default: []].append(Self.collapse(value))
        }
        let names = byName.keys.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        let canonicalHeaders = names.map { "\($0):\(byName[$0]!.joined(separator: ","))\n" }.joined()
        let signedHeaders = names.joined(separator: ";")
        let canonicalRequest = [
            method.uppercased(), encodedPath.isEmpty ? "/" : encodedPath, Self.canonicalQuery(encodedQuery),
            canonicalHeaders, signedHeaders, payloadSHA256,
        ].joined(separator: "\n")

        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let stringToSign = [
            "AWS4-HMAC-SHA256", amzDate, scope, SHA256.hash(Array(canonicalRequest.utf8)).hex,
        ].joined(separator: "\n")
        var key = HMACSHA256.code(key: Array("AWS4\(credentials.secretAccessKey)".utf8), message: Array(day.utf8)).bytes
        for part in [region, service, "aws4_request"] {
            key = HMACSHA256.code(key: key, message: Array(part.utf8)).bytes
        }
        let signature = HMACSHA256.code(key: key, message: Array(stringToSign.utf8)).hex
        let authorization =
            "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope), SignedHeaders=\(signedHeaders), "
            + "Signature=\(signature)"
        var out: [(name: String, value: String)] = [("Host", host)]
        out += all
        out.append(("Authorization", authorization))
        return Signed(
            headers: out, canonicalRequest: canonicalRequest, stringToSign: stringToSign, authorization: authorization)
    }

    /// Headers sent but never signed (botocore's list): proxies and clients may change them.
    static let unsigned: Set<String> = [
        "expect", "transfer-encoding", "user-agent", "x-amzn-trace-id", "authorization",
    ]

    /// `YYYYMMDD'T'HHMMSS'Z'` in UTC.
    package static func timestamp(_ time: Int64) -> String {
        var t = time_t(time)
        var parts = tm()
        gmtime_r(&t, &parts)
        func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(parts.tm_year + 1900)\(two(parts.tm_mon + 1))\(two(parts.tm_mday))T"
            + "\(two(parts.tm_hour))\(two(parts.tm_min))\(two(parts.tm_sec))Z"
    }

    /// The query's `name=value` pairs (as encoded) sorted by name, then value; `name` alone becomes `name=`.
    static func canonicalQuery(_ query: String) -> String {
        guard !query.isEmpty else { return "" }
        let pairs = query.split(separator: "&", omittingEmptySubsequences: false).map { pair -> (String, String) in
            guard let equals = pair.firstIndex(of: "=") else { return (String(pair), "") }
            return (String(pair[..<equals]), String(pair[pair.index(after: equals)...]))
        }
        return pairs.sorted { a, b in
            a.0 != b.0
                ? Array(a.0.utf8).lexicographicallyPrecedes(Array(b.0.utf8))
                : Array(a.1.utf8).lexicographicallyPrecedes(Array(b.1.utf8))
        }.map { "\($0.0)=\($0.1)" }.joined(separator: "&")
    }

    /// `value` trimmed, with each inner run of white space replaced by one space.
    static func collapse(_ value: String) -> String {
        value.split(whereSeparator: {
            $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" || $0 == "\u{0B}" || $0 == "\u{0C}"
        })
        .joined(separator: " ")
    }

    /// RFC 3986 percent-encoding as AWS requires: every byte but the unreserved `A–Z a–z 0–9 - . _ ~` is `%XX`
    /// (uppercase hex), and `/` too unless `keepSlash` (object keys keep their slashes).
    package static func percentEncode(_ text: String, keepSlash: Bool) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case 0x41...0x5A, 0x61...0x7A, 0x30...0x39, 0x2D, 0x2E, 0x5F, 0x7E:
                out.unicodeScalars.append(Unicode.Scalar(byte))
            case 0x2F where keepSlash:
                out.append("/")
            default:
                let hex = Array("0123456789ABCDEF".utf8)
                out.unicodeScalars.append("%")
                out.unicodeScalars.append(Unicode.Scalar(hex[Int(byte >> 4)]))
                out.unicodeScalars.append(Unicode.Scalar(hex[Int(byte & 15)]))
            }
        }
        return out
    }
}
