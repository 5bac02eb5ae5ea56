/// An error from a CairnCrypto key or signature operation.
///
/// `code` is stable and meant for programs; `message` is one line meant for people and, where
/// OpenSSL reported something, ends with OpenSSL's own error text.
public struct CryptoError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong. The raw value is the case name and will not change.
    public enum Code: String, Sendable, CaseIterable {
        /// A key or seed has the wrong number of bytes (Ed25519 keys and seeds are 32 bytes).
        case invalidKeyLength
        /// Key text could not be decoded: not PEM, not PKCS#8, encrypted, or rejected by OpenSSL.
        case invalidKeyEncoding
        /// The key decoded, but it is not an Ed25519 key (for example RSA or a public key).
        case wrongKeyType
        /// OpenSSL failed to produce a signature.
        case signingFailed
        /// The OpenSSL random number generator failed.
        case randomFailed
        /// OpenSSL failed in a way that does not depend on the input (for example, out of memory).
        case internalError
    }

    public let code: Code
    public let message: String

    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    /// `<code>: <message>`.
    public var description: String { "\(code.rawValue): \(message)" }
}
