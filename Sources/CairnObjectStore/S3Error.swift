import CairnRecords

/// Why an S3 operation failed. `message` is one line for people, naming the object (`s3://bucket/key`) and, for an
/// answer from the store, its HTTP status and S3 error code and message — quoted through `DisplayText.escape`, since
/// they are bytes from the network.
package struct S3Error: Error, Sendable, Hashable, CustomStringConvertible {
    package enum Kind: String, Sendable, Hashable {
        /// A malformed `s3://` location, endpoint or region.
        case invalidLocation = "invalid_location"
        /// No credentials in the environment.
        case credentials
        /// The store answered with an error status (4xx, 5xx, or an unexpected 3xx).
        case status
        /// No answer: connection refused, timeout, TLS, connection lost (`HTTPError`).
        case transport
    }

    package let kind: Kind
    package let message: String
    /// The HTTP status of a `.status` error.
    package let status: Int?
    /// S3's error code (`NoSuchBucket`, `AccessDenied`, `SlowDown`…) when the answer had one.
    package let code: String?

    package init(_ kind: Kind, _ message: String, status: Int? = nil, code: String? = nil) {
        self.kind = kind
        self.message = message
        self.status = status
        self.code = code
    }

    package var description: String { message }

    /// Whether trying again later may succeed: 5xx, 429, S3's throttling codes, and transport failures other than
    /// an invalid request.
    package var isTransient: Bool {
        switch kind {
        case .invalidLocation, .credentials: return false
        case .transport: return true
        case .status:
            if let status, status >= 500 || status == 429 { return true }
            return ["SlowDown", "RequestTimeout", "RequestTimeTooSkewed", "InternalError"].contains(code ?? "")
        }
    }
}

/// The `<Error><Code>…</Code><Message>…</Message></Error>` document S3 answers errors with, read minimally: the
/// text of the first `Code` and `Message` elements (at most 256 bytes each, within the first 64 KiB), the five
/// predefined XML entities decoded, nothing else interpreted. Anything that does not fit gives `nil` fields.
package struct S3ErrorBody: Sendable, Hashable {
    package var code: String?
    package var message: String?

    package init(parsing body: [UInt8]) {
        let text = body.prefix(64 * 1024)
        code = Self.element("Code", in: text)
        message = Self.element("Message", in: text)
    }

    static func element(_ name: String, in text: ArraySlice<UInt8>) -> String? {
        let open = Array("<\(name)>".utf8)
        let close = Array("</\(name)>".utf8)
        guard let start = firstIndex(of: open, in: text, from: text.startIndex) else { return nil }
        let contentStart = start + open.count
        guard let end = firstIndex(of: close, in: text, from: contentStart) else { return nil }
        let raw = text[contentStart..<end]
        guard raw.count <= 256, !raw.contains(UInt8(ascii: "<")) else { return nil }
        return decodeEntities(String(decoding: raw, as: UTF8.self))
    }

    static func firstIndex(of needle: [UInt8], in text: ArraySlice<UInt8>, from: Int) -> Int? {
        guard needle.count <= text.endIndex - from else { return nil }
        var i = from
        while i + needle.count <= text.endIndex {
            if text[i] == needle[0] && text[i..<(i + needle.count)].elementsEqual(needle) { return i }
            i += 1
        }
        return nil
    }

    /// `&amp;` `&lt;` `&gt;` `&quot;` `&apos;` decoded; any other `&…;` left as written. By bytes, not Characters:
    /// a combining mark after an entity's `;` must not hide the entity (found by FuzzS3Error).
    static func decodeEntities(_ text: String) -> String {
        let bytes = Array(text.utf8)
        guard bytes.contains(0x26) else { return text }
        let entities: [(name: [UInt8], value: UInt8)] = [
            (Array("&amp;".utf8), 0x26), (Array("&lt;".utf8), 0x3C), (Array("&gt;".utf8), 0x3E),
            (Array("&quot;".utf8), 0x22), (Array("&apos;".utf8), 0x27),
        ]
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        while i < bytes.count {
            if bytes[i] == 0x26,
                let entity = entities.first(where: { bytes[i...].starts(with: $0.name) })
            {
                out.append(entity.value)
                i += entity.name.count
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
