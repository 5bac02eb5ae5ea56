/// `s3://BUCKET/PREFIX`: a bucket and a key prefix (possibly empty) under which objects are named.
///
/// The bucket follows S3's naming rules (3–63 characters: lowercase letters, digits, `.` and `-`, starting and
/// ending with a letter or digit). The prefix is any text without control characters; slashes at its ends are
/// dropped, and the keys are `PREFIX/` + the relative path (or the path alone for an empty prefix).
package struct S3Location: Sendable, Hashable, CustomStringConvertible {
    package let bucket: String
    package let prefix: String

    package init(_ text: String) throws(S3Error) {
        guard text.hasPrefix("s3://") else {
            throw S3Error(.invalidLocation, "expected s3://BUCKET/PREFIX, got \(String(reflecting: text))")
        }
        let rest = text.dropFirst(5)
        let bucket = rest.prefix { $0 != "/" }
        let isValid =
            (3...63).contains(bucket.utf8.count)
            && bucket.utf8.allSatisfy {
                (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x2E || $0 == 0x2D
            }
            && bucket.first != "." && bucket.first != "-" && bucket.last != "." && bucket.last != "-"
        guard isValid else {
            throw S3Error(
                .invalidLocation,
                "\(String(reflecting: String(bucket))) is not an S3 bucket name (3 to 63 lowercase letters, digits, "
                    + "dots and hyphens)")
        }
        var prefix = Substring(rest.dropFirst(bucket.count))
        while prefix.hasPrefix("/") { prefix = prefix.dropFirst() }
        while prefix.hasSuffix("/") { prefix = prefix.dropLast() }
        guard !prefix.unicodeScalars.contains(where: { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) }),
            prefix.utf8.count <= 512
        else {
            throw S3Error(.invalidLocation, "the key prefix in \(String(reflecting: text)) is not usable")
        }
        self.bucket = String(bucket)
        self.prefix = String(prefix)
    }

    /// The object key of `path` (relative, e.g. `tile/0/000`) under the prefix.
    package func key(_ path: String) -> String { prefix.isEmpty ? path : prefix + "/" + path }

    /// `s3://bucket/prefix/path`, for messages.
    package func url(_ path: String) -> String { "s3://\(bucket)/\(key(path))" }

    package var description: String { prefix.isEmpty ? "s3://\(bucket)" : "s3://\(bucket)/\(prefix)" }
}
