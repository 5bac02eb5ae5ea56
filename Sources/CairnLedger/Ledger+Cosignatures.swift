import CairnNote
import CairnStorage

extension IngestEngine {
    /// Adds signature lines — witness cosignatures — to the stored checkpoint of tree size `size`,
    /// so that ``checkpoint(size:)``, proofs and everything served from the stored note carry them.
    ///
    /// The checkpoint text and the log's own signature are unchanged, so the note still verifies
    /// with the log's vkey (verifiers ignore lines from keys they do not know). A line with the
    /// same key name and key ID as one already present replaces it (a witness that cosigns the
    /// same checkpoint again leaves one line, the newer). The caller verifies the signatures
    /// first (``WitnessCoordinator`` does, with each witness's vkey); this method only refuses a
    /// line that would replace the log's own signature.
    ///
    /// One short write transaction of its own on the writer thread (read, add, write):
    /// concurrent callers adding different witnesses' lines to the same checkpoint all keep
    /// theirs. Throws `.sizeOutOfRange` when no checkpoint is stored for `size`, and
    /// `.invalidArgument` when a line is the log key's or the note would exceed
    /// ``SignedNote/maxSignatures`` lines.
    public func addCosignatures(_ signatures: [NoteSignature], size: UInt64) async throws {
        guard !signatures.isEmpty else { return }
        let ledger = self.ledger
        guard !ledger.isReadOnly else {
            throw LedgerError(.readOnly, "the ledger at \(ledger.directory) is open read-only")
        }
        let key = ledger.verifierKey
        if let own = signatures.first(where: {
            $0.name.utf8.elementsEqual(key.name.utf8) && $0.keyID == key.keyID
        }) {
            throw LedgerError(
                .invalidArgument,
                "refusing to add a signature line by the log's own key \(own.nameAndID) as a cosignature")
        }
        try await perform { txn in try ledger.addCosignatures(txn, signatures, size: size) }
    }
}

extension Ledger {
    func addCosignatures(_ txn: WriteTransaction, _ signatures: [NoteSignature], size: UInt64) throws {
        guard let bytes = try txn.value(tables.checkpoints, key: size) else {
            let current = try storedTreeSize(txn)
            throw LedgerError(
                .sizeOutOfRange,
                size > current
                    ? "tree size \(size) is beyond the current size \(current)"
                    : "no checkpoint was published for tree size \(size): witnesses cosign published checkpoints")
        }
        // Never a line by one of the log's own keys: the current one, or one it signed with before a key rotation.
        let keys = try keySchedule(txn).keys.map(\.vkey)
        if let own = signatures.first(where: { line in keys.contains { line.names($0) } }) {
            throw LedgerError(
                .invalidArgument,
                "refusing to add a signature line by the log's own key \(own.nameAndID) as a cosignature")
        }
        var signed = try parseStoredCheckpoint(bytes, size: size)
        do {
            for signature in signatures { signed = try signed.adding(signature) }
        } catch {
            throw LedgerError(
                .invalidArgument, "cannot add cosignatures to the checkpoint for size \(size): \(error)")
        }
        let updated = Array(signed.serialized.utf8)
        if updated != bytes { try txn.put(tables.checkpoints, key: size, value: updated) }
        // (Cached parses of stored checkpoints are keyed by their bytes: this one no longer matches.)
    }
}
