import Synchronization

/// An Ed25519 (RFC 8032, pure) private key held by OpenSSL.
///
/// Immutable and thread-safe: every signing call uses its own OpenSSL context. Signing is
/// deterministic, so the same key and message always give the same 64-byte signature.
public struct Ed25519PrivateKey: Sendable {
    /// The size of a seed (RFC 8032 "secret key") in bytes.
    public static let seedByteCount = 32
    /// The size of a signature in bytes.
    public static let signatureByteCount = 64

    let key: EVPKey

    /// The matching public key.
    public let publicKey: Ed25519PublicKey

    private init(key: EVPKey) throws(CryptoError) {
        self.key = key
        self.publicKey = try Ed25519PublicKey(rawRepresentation: OpenSSLEd25519.rawPublicKey(key))
    }

    /// A new random key from OpenSSL's private random generator.
    public static func generate() throws(CryptoError) -> Ed25519PrivateKey {
        try Ed25519PrivateKey(key: OpenSSLEd25519.generatePrivateKey())
    }

    /// The key with this 32-byte RFC 8032 secret key ("seed").
    public init(seed: [UInt8]) throws(CryptoError) {
        try self.init(key: OpenSSLEd25519.privateKey(seed: seed))
    }

    /// Reads an unencrypted PKCS#8 PEM private key (`-----BEGIN PRIVATE KEY-----`), as written by
    /// `openssl genpkey -algorithm ed25519` and by ``pemRepresentation``.
    ///
    /// Other PEM blocks are refused with a message that names them: encrypted keys
    /// (`invalidKeyEncoding`), and public keys or keys of other algorithms (`wrongKeyType`).
    public init(pemRepresentation pem: String) throws(CryptoError) {
        switch PEMLabel.first(in: pem) {
        case nil:
            throw CryptoError(
                code: .invalidKeyEncoding,
                message: "no PEM block found; expected an Ed25519 key in '-----BEGIN PRIVATE KEY-----' (PKCS#8) form")
        case "PRIVATE KEY":
            try self.init(key: OpenSSLEd25519.privateKey(pem: pem))
        case "ENCRYPTED PRIVATE KEY":
            throw CryptoError(
                code: .invalidKeyEncoding,
                message: "the private key is encrypted; decrypt it first with `openssl pkey -in KEY.pem -out PLAIN.pem`"
            )
        case "PUBLIC KEY":
            throw CryptoError(
                code: .wrongKeyType,
                message: "the PEM holds a public key; signing needs the Ed25519 private key ('BEGIN PRIVATE KEY')")
        case let label?:
            throw CryptoError(
                code: .wrongKeyType,
                message: "found a '\(label)' PEM block; expected an Ed25519 key in '-----BEGIN PRIVATE KEY-----' "
                    + "(PKCS#8) form, as made by `openssl genpkey -algorithm ed25519`")
        }
    }

    /// The key as unencrypted PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`), readable by `openssl pkey`.
    public var pemRepresentation: String { OpenSSLEd25519.pkcs8PEM(key) }

    /// The 32-byte RFC 8032 secret key ("seed").
    public var seed: [UInt8] { OpenSSLEd25519.rawPrivateKey(key) }

    /// The 64-byte RFC 8032 signature of `message`.
    public func signature(for message: UnsafeRawBufferPointer) throws(CryptoError) -> [UInt8] {
        try OpenSSLEd25519.sign(key, message)
    }

    /// The 64-byte RFC 8032 signature of `message`.
    public func signature(for message: [UInt8]) throws(CryptoError) -> [UInt8] {
        try OpenSSLEd25519.sign(key, message)
    }
}

/// An Ed25519 (RFC 8032) public key: 32 bytes, verified with OpenSSL.
///
/// Equality and hashing use the 32-byte encoding. Verification follows OpenSSL, which rejects
/// non-canonical encodings of S and R and signatures whose R has a small-order residue, and
/// accepts small-order and non-canonical public keys (the common "ref10" behaviour, like Go).
public struct Ed25519PublicKey: Sendable, Hashable {
    /// The size of a public key in bytes.
    public static let byteCount = 32

    /// OpenSSL's key, made at the first verification: the first `EVP_PKEY` of a process initializes OpenSSL's
    /// EVP layer (its configuration file and algorithm tables, ~1.5 ms), which a command that opens a ledger
    /// only to read it (every one holds its verifier key) never needs.
    private let evp: LazyEVPKey

    /// The 32-byte RFC 8032 encoding.
    public let rawRepresentation: [UInt8]

    /// The key with this 32-byte RFC 8032 encoding. Only the length is checked here; an encoding
    /// that is not a point on the curve is accepted but verifies no signature.
    public init(rawRepresentation: [UInt8]) throws(CryptoError) {
        guard rawRepresentation.count == Self.byteCount else {
            throw CryptoError(
                code: .invalidKeyLength,
                message: "an Ed25519 public key is 32 bytes, got \(rawRepresentation.count)")
        }
        self.evp = LazyEVPKey(raw: rawRepresentation)
        self.rawRepresentation = rawRepresentation
    }

    /// Whether `signature` is a valid signature of `message` by this key. Never throws: any
    /// malformed signature (wrong length, bad encoding) is simply not valid.
    public func isValidSignature(_ signature: [UInt8], for message: UnsafeRawBufferPointer) -> Bool {
        guard let key = evp.key else { return false }
        return OpenSSLEd25519.verify(key, signature: signature, message: message)
    }

    /// Whether `signature` is a valid signature of `message` by this key.
    public func isValidSignature(_ signature: [UInt8], for message: [UInt8]) -> Bool {
        guard let key = evp.key else { return false }
        return OpenSSLEd25519.verify(key, signature: signature, message: message)
    }

    public static func == (lhs: Ed25519PublicKey, rhs: Ed25519PublicKey) -> Bool {
        lhs.rawRepresentation == rhs.rawRepresentation
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(rawRepresentation)
    }
}

/// An Ed25519 public key's `EVP_PKEY`, made when first asked for and then shared by every copy of the key.
final class LazyEVPKey: Sendable {
    private let raw: [UInt8]
    private let made = Mutex<EVPKey??>(nil)

    init(raw: [UInt8]) {
        self.raw = raw
    }

    /// Nil only when OpenSSL could not make the key (out of memory: it takes any 32 bytes).
    var key: EVPKey? {
        made.withLock { made in
            if let made { return made }
            let key = try? OpenSSLEd25519.publicKey(raw: raw)
            made = .some(key)
            return key
        }
    }
}

/// Finds the label of the first PEM block (`-----BEGIN <label>-----`).
enum PEMLabel {
    static func first(in text: String) -> String? {
        let utf8 = Array(text.utf8)
        let begin = Array("-----BEGIN ".utf8)
        let dashes = Array("-----".utf8)
        guard let start = find(begin, in: utf8, from: 0) else { return nil }
        let labelStart = start + begin.count
        guard let end = find(dashes, in: utf8, from: labelStart) else { return nil }
        let label = utf8[labelStart..<end]
        guard !label.contains(UInt8(ascii: "\n")) else { return nil }
        return String(decoding: label, as: UTF8.self)
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8], from: Int) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        var i = from
        while i + needle.count <= haystack.count {
            if haystack[i..<(i + needle.count)].elementsEqual(needle) { return i }
            i += 1
        }
        return nil
    }
}
