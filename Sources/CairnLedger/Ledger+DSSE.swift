import CairnCrypto
import CairnNote

extension Ledger {
    /// What every DSSE pre-authentication encoding starts with (secure-systems-lab/dsse).
    static let dssePrefix = Array("DSSEv1 ".utf8)

    /// Signs a DSSE pre-authentication encoding (`PAE(payloadType, payload)`, as built by
    /// `CairnProofs.DSSEEnvelope`) with the log's Ed25519 key; returns the 64-byte signature.
    ///
    /// A read: nothing is stored, so it works on a ledger opened read-only (`cairn export in-toto`
    /// opens it so); it needs `signing-key.pem` readable and matching the ledger's verifier key
    /// (`.signingKeyUnavailable` otherwise).
    ///
    /// Domain separation: the message must start with `DSSEv1 ` (`.invalidArgument` otherwise).
    /// No text the log signs as a note can: a checkpoint starts with the origin, which holds no
    /// space, and every other note starts with the line naming its format. So a DSSE signature by
    /// the log's key is never a valid signature of a checkpoint, and no checkpoint signature is a
    /// valid DSSE signature.
    public func signDSSE(preAuthenticationEncoding message: [UInt8]) throws -> [UInt8] {
        guard message.starts(with: Self.dssePrefix) else {
            throw LedgerError(
                .invalidArgument, "refusing to sign bytes that are not a DSSE pre-authentication encoding")
        }
        let key = try loadSigningKey()
        do {
            return try key.signature(for: message)
        } catch {
            throw LedgerError(.signingKeyUnavailable, "cannot sign with the ledger's key: \(error.message)")
        }
    }

    /// The Ed25519 key in `signing-key.pem`, checked against the ledger's verifier key (the note signer's and the
    /// DSSE signer's key). Reading it writes nothing, so it works on a ledger opened read-only.
    func loadSigningKey() throws -> Ed25519PrivateKey {
        let keyPath = Ledger.path(directory, LedgerLayout.signingKeyFile)
        let pem: [UInt8]
        do {
            pem = try FileSystem.readFile(keyPath)
        } catch {
            throw LedgerError(.signingKeyUnavailable, "cannot read signing key \(keyPath): \(error)")
        }
        let key: Ed25519PrivateKey
        let verifier: NoteVerifierKey
        do {
            key = try Ed25519PrivateKey(pemRepresentation: String(decoding: pem, as: UTF8.self))
            verifier = try NoteVerifierKey(name: origin, ed25519: key.publicKey)
        } catch {
            throw LedgerError(.signingKeyUnavailable, "signing key \(keyPath) is unusable: \(error)")
        }
        guard verifier == verifierKey else {
            throw LedgerError(
                .signingKeyUnavailable,
                "signing key \(keyPath) does not match this ledger's verifier key \(verifierKey)")
        }
        return key
    }
}
