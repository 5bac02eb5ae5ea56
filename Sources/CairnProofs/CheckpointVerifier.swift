import CairnNote

/// Offline verification of a signed checkpoint file.
public enum CheckpointVerifier {
    /// Parses `bytes` as a signed C2SP checkpoint and verifies it with `logKey`. The origin must be
    /// `origin`, or the key's name when `origin` is nil (Cairn's convention; sum.golang.org signs
    /// the origin `go.sum database tree` with the key `sum.golang.org`). Returns the checkpoint.
    public static func verify(
        _ bytes: [UInt8], logKey: NoteVerifierKey, origin: String? = nil
    ) throws(ProofError) -> Checkpoint {
        let signed: SignedCheckpoint
        do {
            signed = try SignedCheckpoint(parsing: bytes)
        } catch {
            throw ProofError(.malformed, error.message)
        }
        return try verifyCheckpoint(signed, key: logKey, role: "checkpoint", origin: origin)
    }
}
