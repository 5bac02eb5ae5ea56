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
        // By bytes, not Characters: a combining mark after `/` must not hide the separator.
        let rest = Array(text.utf8.dropFirst(5))
        let bucket = rest.prefix { $0 != 0x2F }
        let isValid =
            (3...63).contains(bucket.count)
            && bucket.allSatisfy {
                (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x2E || $0 == 0x2D
            }
            && ![0x2E, 0x2D].contains(bucket.first!) && ![0x2E, 0x2D].contains(bucket.last!)
        guard isValid else {
            throw S3Error(
                .invalidLocation,
                "\(String(reflecting: String(decoding: bucket, as: UTF8.self))) is not an S3 bucket name (3 to 63 "
                    + "lowercase letters, digits, dots and hyphens)")
        }
        var prefixBytes = rest.dropFirst(bucket.count)
        while prefixBytes.first == 0x2F { prefixBytes = prefixBytes.dropFirst() }
        while prefixBytes.last == 0x2F { prefixBytes = prefixBytes.dropLast() }
        let prefix = String(decoding: prefixBytes, as: UTF8.self)
        guard !prefix.unicodeScalars.contains(where: { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) }),
            prefixBytes.count <= 512
        else {
            throw S3Error(.invalidLocation, "the key prefix in \(String(reflecting: text)) is not usable")
        }
        self.bucket = String(decoding: bucket, as: UTF8.self)
        self.prefix = prefix
    }

    /// The object key of `path` (relative, e.g. `tile/0/000`) under the prefix.
    package func key(_ path: String) -> String { prefix.isEmpty ? path : prefix + "/" + path }

    /// `s3://bucket/prefix/path`, for messages.
    package func url(_ path: String) -> String { "s3://\(bucket)/\(key(path))" }

    package var description: String { prefix.isEmpty ? "s3://\(bucket)" : "s3://\(bucket)/\(prefix)" }
}
