// Every OpenSSL call and every unsafe pointer for Ed25519 lives in this file.
//
// The public types in Ed25519.swift hold an `EVPKey` and call the functions below. OpenSSL 3's
// EVP interface is used throughout (EVP_PKEY, EVP_DigestSign, EVP_DigestVerify, PEM BIOs); pure
// Ed25519 takes no digest, so the message is passed whole to the one-shot sign and verify calls.

import CCairnOpenSSL

/// Owns one OpenSSL `EVP_PKEY` and frees it when the last reference goes away.
///
/// `@unchecked Sendable` is safe because the key is never mutated after `init`: Cairn only reads
/// it (raw key export, PEM export) or hands it to `EVP_DigestSignInit`/`EVP_DigestVerifyInit` with
/// a fresh `EVP_MD_CTX` per call. OpenSSL 3 documents an `EVP_PKEY` as safe to use from several
/// threads at once in that way; its reference count is atomic and the provider-side key data is
/// immutable once created.
final class EVPKey: @unchecked Sendable {
    let pointer: OpaquePointer

    init(owning pointer: OpaquePointer) {
        self.pointer = pointer
    }

    deinit {
        EVP_PKEY_free(pointer)
    }
}

/// The OpenSSL side of Ed25519 (namespace only).
enum OpenSSLEd25519 {
    static let keyByteCount = 32
    static let signatureByteCount = 64

    // MARK: key construction

    /// A private key from a 32-byte RFC 8032 secret key (seed).
    static func privateKey(seed: [UInt8]) throws(CryptoError) -> EVPKey {
        guard seed.count == keyByteCount else {
            throw CryptoError(
                code: .invalidKeyLength,
                message: "an Ed25519 seed is 32 bytes, got \(seed.count)")
        }
        let key = seed.withUnsafeBufferPointer { buf in
            EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nil, buf.baseAddress, buf.count)
        }
        guard let key else {
            throw CryptoError(
                code: .invalidKeyEncoding,
                message: "OpenSSL rejected the Ed25519 seed" + openSSLErrorSuffix())
        }
        return EVPKey(owning: key)
    }

    /// A new private key from 32 bytes of OpenSSL's private random generator.
    static func generatePrivateKey() throws(CryptoError) -> EVPKey {
        var seed = [UInt8](repeating: 0, count: keyByteCount)
        defer { seed.withUnsafeMutableBytes { OPENSSL_cleanse($0.baseAddress, $0.count) } }
        let ok = seed.withUnsafeMutableBufferPointer { RAND_priv_bytes($0.baseAddress, Int32($0.count)) }
        guard ok == 1 else {
            throw CryptoError(
                code: .randomFailed,
                message: "OpenSSL's random generator failed to produce a key" + openSSLErrorSuffix())
        }
        return try privateKey(seed: seed)
    }

    /// A public key from its 32-byte RFC 8032 encoding. (OpenSSL does not decode the point here;
    /// an encoding that is not a curve point makes every verification fail.)
    static func publicKey(raw: [UInt8]) throws(CryptoError) -> EVPKey {
        guard raw.count == keyByteCount else {
            throw CryptoError(
                code: .invalidKeyLength,
                message: "an Ed25519 public key is 32 bytes, got \(raw.count)")
        }
        let key = raw.withUnsafeBufferPointer { buf in
            EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nil, buf.baseAddress, buf.count)
        }
        guard let key else {
            throw CryptoError(
                code: .invalidKeyEncoding,
                message: "OpenSSL rejected the Ed25519 public key" + openSSLErrorSuffix())
        }
        return EVPKey(owning: key)
    }

    /// A private key from a PKCS#8 PEM block (`-----BEGIN PRIVATE KEY-----`). The caller has
    /// already checked the PEM label.
    static func privateKey(pem: String) throws(CryptoError) -> EVPKey {
        let bytes = Array(pem.utf8)
        let decoded: OpaquePointer? = bytes.withUnsafeBytes { buf in
            guard let bio = BIO_new_mem_buf(buf.baseAddress, Int32(buf.count)) else { return nil }
            defer { BIO_free(bio) }
            // A callback that supplies no passphrase, so OpenSSL never prompts on the terminal.
            return PEM_read_bio_PrivateKey(bio, nil, { _, _, _, _ in 0 }, nil)
        }
        guard let decoded else {
            throw CryptoError(
                code: .invalidKeyEncoding,
                message: "the PEM block is not a readable PKCS#8 private key" + openSSLErrorSuffix())
        }
        let key = EVPKey(owning: decoded)
        ERR_clear_error()  // the PEM decoders may queue errors from formats they tried and rejected
        guard EVP_PKEY_get_id(decoded) == EVP_PKEY_ED25519 else {
            let name = EVP_PKEY_get0_type_name(decoded).map { String(cString: $0) } ?? "unknown"
            throw CryptoError(
                code: .wrongKeyType,
                message: "the PEM holds a key of type \(name), not Ed25519; create one with "
                    + "`openssl genpkey -algorithm ed25519`")
        }
        return key
    }

    // MARK: key export

    /// The 32-byte public key.
    static func rawPublicKey(_ key: EVPKey) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: keyByteCount)
        var len = out.count
        let ok = out.withUnsafeMutableBufferPointer { EVP_PKEY_get_raw_public_key(key.pointer, $0.baseAddress, &len) }
        // Cannot fail for an Ed25519 EVP_PKEY, which is the only kind EVPKey holds.
        precondition(ok == 1 && len == keyByteCount, "OpenSSL could not export an Ed25519 public key")
        return out
    }

    /// The 32-byte seed of a private key.
    static func rawPrivateKey(_ key: EVPKey) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: keyByteCount)
        var len = out.count
        let ok = out.withUnsafeMutableBufferPointer { EVP_PKEY_get_raw_private_key(key.pointer, $0.baseAddress, &len) }
        // Cannot fail: private keys are only ever built from a seed or a PKCS#8 private key.
        precondition(ok == 1 && len == keyByteCount, "OpenSSL could not export an Ed25519 private key")
        return out
    }

    /// The unencrypted PKCS#8 PEM encoding of a private key.
    static func pkcs8PEM(_ key: EVPKey) -> String {
        guard let bio = BIO_new(BIO_s_mem()) else { fatalError("OpenSSL could not allocate a memory BIO") }
        defer { BIO_free(bio) }
        // PEM_write_bio_PrivateKey writes PKCS#8 ("BEGIN PRIVATE KEY"); no cipher, no passphrase.
        let ok = PEM_write_bio_PrivateKey(bio, key.pointer, nil, nil, 0, nil, nil)
        precondition(ok == 1, "OpenSSL could not encode an Ed25519 key as PEM" + openSSLErrorSuffix())
        var data: UnsafeMutablePointer<CChar>? = nil
        let count = cairn_bio_get_mem_data(bio, &data)
        guard let data, count > 0 else { fatalError("OpenSSL wrote an empty PEM") }
        return data.withMemoryRebound(to: UInt8.self, capacity: count) {
            String(decoding: UnsafeBufferPointer(start: $0, count: count), as: UTF8.self)
        }
    }

    // MARK: signatures

    /// RFC 8032 Ed25519 signature (64 bytes) of `message`.
    static func sign(_ key: EVPKey, _ message: UnsafeRawBufferPointer) throws(CryptoError) -> [UInt8] {
        guard let ctx = EVP_MD_CTX_new() else {
            throw CryptoError(code: .internalError, message: "OpenSSL could not allocate a signing context")
        }
        defer { EVP_MD_CTX_free(ctx) }
        guard EVP_DigestSignInit(ctx, nil, nil, nil, key.pointer) == 1 else {
            throw CryptoError(code: .signingFailed, message: "OpenSSL could not start signing" + openSSLErrorSuffix())
        }
        var signature = [UInt8](repeating: 0, count: signatureByteCount)
        var length = signature.count
        let ok = withMessagePointer(message) { msg, count in
            signature.withUnsafeMutableBufferPointer { EVP_DigestSign(ctx, $0.baseAddress, &length, msg, count) }
        }
        guard ok == 1, length == signatureByteCount else {
            throw CryptoError(code: .signingFailed, message: "OpenSSL could not sign" + openSSLErrorSuffix())
        }
        return signature
    }

    /// RFC 8032 Ed25519 signature (64 bytes) of `message`.
    static func sign(_ key: EVPKey, _ message: [UInt8]) throws(CryptoError) -> [UInt8] {
        let result = message.withUnsafeBytes { bytes in
            Result { () throws(CryptoError) -> [UInt8] in try sign(key, bytes) }
        }
        return try result.get()
    }

    /// Whether `signature` is a valid RFC 8032 signature of `message` under the public key.
    static func verify(_ key: EVPKey, signature: [UInt8], message: [UInt8]) -> Bool {
        message.withUnsafeBytes { verify(key, signature: signature, message: $0) }
    }

    /// Whether `signature` is a valid RFC 8032 signature of `message` under the public key.
    /// OpenSSL rejects non-canonical S and R encodings and small-order R residues ("ref10" rules).
    static func verify(_ key: EVPKey, signature: [UInt8], message: UnsafeRawBufferPointer) -> Bool {
        guard signature.count == signatureByteCount, let ctx = EVP_MD_CTX_new() else { return false }
        defer {
            EVP_MD_CTX_free(ctx)
            ERR_clear_error()  // a failed verification leaves an entry; don't leak it to later calls
        }
        guard EVP_DigestVerifyInit(ctx, nil, nil, nil, key.pointer) == 1 else { return false }
        let ok = withMessagePointer(message) { msg, count in
            signature.withUnsafeBufferPointer { EVP_DigestVerify(ctx, $0.baseAddress, $0.count, msg, count) }
        }
        return ok == 1
    }

    // MARK: helpers

    /// Calls `body` with a non-null pointer to the message (an empty buffer may have a nil base).
    private static func withMessagePointer<R>(
        _ message: UnsafeRawBufferPointer, _ body: (UnsafePointer<UInt8>, Int) -> R
    ) -> R {
        if let base = message.baseAddress, message.count > 0 {
            return body(base.assumingMemoryBound(to: UInt8.self), message.count)
        }
        var empty: UInt8 = 0
        return body(&empty, 0)
    }

    /// `": <OpenSSL error text>"`, or an empty string if OpenSSL queued no error. Clears the queue.
    private static func openSSLErrorSuffix() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        buffer.withUnsafeMutableBufferPointer { cairn_last_error($0.baseAddress, $0.count) }
        let text = buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        return text.isEmpty ? "" : " (OpenSSL: \(text))"
    }
}
