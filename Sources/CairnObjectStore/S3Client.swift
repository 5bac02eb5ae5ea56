import CairnCrypto
import CairnHTTP
import CairnRecords

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A small client for the handful of S3 operations publishing needs — PutObject, HeadObject, GetObject and
/// DeleteObject — against AWS S3 or any S3-compatible store (MinIO, Ceph RGW, R2, moto…).
///
/// It exists because no maintained Swift S3 library (Soto's SotoS3) is available to this build; it is kept to what
/// Cairn uses. Requests are signed with AWS Signature Version 4 (`SignatureV4`, checked against botocore) and go
/// through `CairnHTTPClient` (no redirects, timeouts, a response size limit). Addressing: with an `endpoint`, path
/// style (`ENDPOINT/BUCKET/KEY`), which every S3-compatible store accepts; without one, AWS's virtual-hosted style
/// `https://BUCKET.s3.REGION.amazonaws.com/KEY` (path style on `s3.REGION.amazonaws.com` for bucket names with dots,
/// which TLS certificates do not cover).
package struct S3Client: Sendable {
    package struct Configuration: Sendable {
        package var location: S3Location
        /// `http(s)://host[:port][/path]` of an S3-compatible store; `nil` for AWS.
        package var endpoint: HTTPURL?
        package var region: String
        package var credentials: S3Credentials
        /// The deadline of each request.
        package var timeout: Duration = .seconds(60)
        /// Attempts per request for transient failures (5xx, throttling, transport errors), with exponential backoff.
        package var attempts = 3
        /// The first backoff; doubled after each failed attempt.
        package var backoff: Duration = .milliseconds(200)

        package init(location: S3Location, endpoint: HTTPURL?, region: String, credentials: S3Credentials) {
            self.location = location
            self.endpoint = endpoint
            self.region = region
            self.credentials = credentials
        }
    }

    /// What HeadObject says about an object.
    package struct ObjectInfo: Sendable, Hashable {
        package var size: Int?
        package var etag: String?
        /// `x-amz-meta-sha256`: the hex SHA-256 of the contents Cairn stored with the object.
        package var sha256: String?
    }

    package let configuration: Configuration
    private let http: CairnHTTPClient
    private let base: HTTPURL
    private let bucketInPath: Bool

    /// The largest response body read (error documents and `checkpoint`s are small).
    static let maxResponseBytes = 1 << 20

    package init(_ configuration: Configuration, http: CairnHTTPClient = .shared) throws(S3Error) {
        self.configuration = configuration
        self.http = http
        guard Self.isRegion(configuration.region) else {
            throw S3Error(
                .invalidLocation,
                "\(String(reflecting: configuration.region)) is not a region name (such as us-east-1)")
        }
        do {
            if let endpoint = configuration.endpoint {
                guard !endpoint.isUnixSocket else {
                    throw S3Error(.invalidLocation, "the S3 endpoint must be an http:// or https:// URL")
                }
                base = endpoint
                bucketInPath = true
            } else if configuration.location.bucket.contains(".") {
                base = try HTTPURL("https://s3.\(configuration.region).amazonaws.com")
                bucketInPath = true
            } else {
                base = try HTTPURL("https://\(configuration.location.bucket).s3.\(configuration.region).amazonaws.com")
                bucketInPath = false
            }
        } catch let error as S3Error {
            throw error
        } catch {
            throw S3Error(.invalidLocation, "invalid S3 endpoint: \(error)")
        }
    }

    static func isRegion(_ text: String) -> Bool {
        (1...32).contains(text.utf8.count)
            && text.utf8.allSatisfy { (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x2D }
    }

    /// The URL of the object `key` (or of the bucket for `nil`).
    package func url(key: String?) -> HTTPURL {
        var path = bucketInPath ? "/" + configuration.location.bucket : ""
        if let key { path += "/" + SignatureV4.percentEncode(key, keepSlash: true) }
        return base.appending(path: path.isEmpty ? "/" : path)
    }

    /// Uploads `body` as `key`, with its SHA-256 as `x-amz-meta-sha256`.
    package func put(
        key: String, body: [UInt8], contentType: String, cacheControl: String
    ) async throws(S3Error) {
        let digest = SHA256.hash(body).hex
        _ = try await send(
            .put, key: key, what: "upload", body: body,
            headers: [
                ("Content-Type", contentType), ("Cache-Control", cacheControl), ("x-amz-meta-sha256", digest),
            ])
    }

    /// What the store has at `key`, or `nil` if nothing.
    package func head(key: String) async throws(S3Error) -> ObjectInfo? {
        guard let response = try await send(.head, key: key, what: "inspect", allowNotFound: true) else { return nil }
        return ObjectInfo(
            size: response.header("Content-Length").flatMap { Int($0) }, etag: response.header("ETag"),
            sha256: response.header("x-amz-meta-sha256"))
    }

    /// The object `key`'s contents (at most 1 MiB), or `nil` if there is none.
    package func get(key: String) async throws(S3Error) -> [UInt8]? {
        try await send(.get, key: key, what: "read", allowNotFound: true)?.body
    }

    /// Deletes `key` (succeeds if there is nothing to delete, as S3 does).
    package func delete(key: String) async throws(S3Error) {
        _ = try await send(.delete, key: key, what: "delete", allowNotFound: true)
    }

    /// Sends one signed request, retrying transient failures. A 404 is `nil` when `allowNotFound`.
    private func send(
        _ method: HTTPRequest.Method, key: String?, what: String, body: [UInt8] = [],
        headers: [(name: String, value: String)] = [], allowNotFound: Bool = false
    ) async throws(S3Error) -> HTTPResponse? {
        let target = key.map { configuration.location.url(forKey: $0) } ?? "s3://\(configuration.location.bucket)"
        var delay = configuration.backoff
        var attempt = 1
        while true {
            do {
                return try await sendOnce(
                    method, key: key, target: target, what: what, body: body, headers: headers,
                    allowNotFound: allowNotFound)
            } catch {
                guard error.isTransient, attempt < configuration.attempts, !Task.isCancelled else { throw error }
            }
            attempt += 1
            try? await Task.sleep(for: delay)
            delay *= 2
        }
    }

    private func sendOnce(
        _ method: HTTPRequest.Method, key: String?, target: String, what: String, body: [UInt8],
        headers: [(name: String, value: String)], allowNotFound: Bool
    ) async throws(S3Error) -> HTTPResponse? {
        let url = url(key: key)
        let signer = SignatureV4(credentials: configuration.credentials, region: configuration.region)
        let signed = signer.sign(
            method: method.rawValue, host: url.host ?? "", encodedPath: url.encodedPathAndQuery, encodedQuery: "",
            headers: headers, payloadSHA256: SHA256.hash(body).hex, time: Int64(time(nil)))
        let request = HTTPRequest(
            method: method, url: url, headers: signed.headers, body: method == .put ? body : nil)
        let response: HTTPResponse
        do {
            response = try await http.send(
                request, timeout: configuration.timeout, maxResponseBytes: Self.maxResponseBytes)
        } catch {
            throw S3Error(.transport, "cannot \(what) \(target): \(url.description): \(error.message)")
        }
        if (200..<300).contains(response.status) { return response }
        if response.status == 404 && allowNotFound {
            // A missing bucket is an error even where a missing key is not.
            let body = S3ErrorBody(parsing: response.body)
            if body.code == nil || body.code == "NoSuchKey" || method == .head { return nil }
        }
        let parsed = S3ErrorBody(parsing: response.body)
        var detail = "HTTP \(response.status)"
        if let code = parsed.code { detail += " \(DisplayText.escape(code))" }
        if let message = parsed.message { detail += ": \(DisplayText.escape(message))" }
        if parsed.code == nil && method == .head && response.status == 403 {
            detail += " (access denied: S3 answers a missing key with 403 to credentials without s3:ListBucket)"
        }
        throw S3Error(.status, "cannot \(what) \(target): \(detail)", status: response.status, code: parsed.code)
    }
}

extension S3Location {
    /// `s3://bucket/KEY` for a full key.
    package func url(forKey key: String) -> String { "s3://\(bucket)/\(key)" }
}
