import CairnNote

/// Offline verification of a signed checkpoint file.
public enum CheckpointVerifier {
    /// Parses `bytes` as a signed C2SP checkpoint and verifies it with `logKey` (the origin must
    /// be the key's name). Returns the verified checkpoint.
    public static func verify(_ bytes: [UInt8], logKey: NoteVerifierKey) throws(ProofError) -> Checkpoint {
        let signed: SignedCheckpoint
        do {
            signed = try SignedCheckpoint(parsing: bytes)
        } catch {
            throw ProofError(.malformed, error.message)
        }
        return try verifyCheckpoint(signed, key: logKey, role: "checkpoint")
    }
}
