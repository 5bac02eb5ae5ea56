import CairnNote

extension Ledger {
    /// Signs a note other than a checkpoint (for example a report manifest) with the log's key.
    ///
    /// Domain separation: the text must start with a line naming its format (e.g.
    /// `cairn-report-manifest/v1`) and must not parse as a c2sp.org/tlog-checkpoint body, so a
    /// signed manifest can never be mistaken for a tree head; nor may it start like a DSSE
    /// pre-authentication encoding (`DSSEv1 `), which `signDSSE` alone signs with the same key, nor like the
    /// endorsement of a key rotation (`cairn-key-rotation/v1`), which only `rotateSigningKey` signs.
    public func sign(noteText text: String) throws -> SignedNote {
        guard (try? Checkpoint(parsing: text)) == nil else {
            throw LedgerError(.invalidArgument, "refusing to sign a note that reads as a checkpoint")
        }
        guard !text.utf8.starts(with: Self.dssePrefix) else {
            throw LedgerError(.invalidArgument, "refusing to sign a note that starts like a DSSE envelope's PAE")
        }
        guard !text.utf8.starts(with: (KeyRotationRecord.endorsementFormat + "\n").utf8) else {
            throw LedgerError(.invalidArgument, "refusing to sign a note that reads as a key rotation's endorsement")
        }
        let signer = try loadSigner()
        do {
            return try SignedNote(text: text, signatures: [try signer.sign(text: text)])
        } catch {
            throw LedgerError(.invalidArgument, "cannot sign the note: \(error.message)")
        }
    }
}
