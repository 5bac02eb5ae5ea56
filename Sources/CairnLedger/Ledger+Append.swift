import CairnCrypto
import CairnMerkle
import CairnNote
import CairnStorage

/// Where one appended record ended up.
public struct AppendResult: Sendable, Hashable {
    /// The leaf index holding the record (the earlier one, for a duplicate).
    public let index: UInt64
    /// The record's content address.
    public let digest: SHA256Digest
    /// True when the same canonical record was already in the log and nothing was appended.
    public let duplicate: Bool

    public init(index: UInt64, digest: SHA256Digest, duplicate: Bool) {
        self.index = index
        self.digest = digest
        self.duplicate = duplicate
    }
}

/// The outcome of one committed batch.
public struct CommitResult: Sendable, Hashable {
    /// One result per submitted entry, in submission order.
    public let results: [AppendResult]
    /// The tree size after the commit.
    public let treeSize: UInt64
    /// The checkpoint signed for the new size, or `nil` when every entry was a duplicate.
    public let checkpoint: SignedCheckpoint?
}

extension Ledger {
    /// Appends `entries` in one durable LMDB write transaction, in order, and signs the
    /// checkpoint of the new size in the same transaction.
    ///
    /// Entries whose content address is already in the log (or earlier in the same batch) are
    /// not appended; their result points at the existing index with `duplicate == true`.
    /// Either the whole batch is committed or nothing is. This is the ledger's only write path
    /// for records. Each entry costs O(log n): one leaf, its new tree hashes, one index entry.
    public func append(_ entries: [PreparedEntry]) throws -> CommitResult {
        let signer = try loadSigner()
        let result = try writer.withLock { frontier in
            let (result, newFrontier) = try env.write { txn in
                try commit(entries, txn: txn, frontier: frontier, signer: signer)
            }
            frontier = newFrontier
            return result
        }
        // An erasure entry, however it arrived, means the blob's bytes must go.
        for (entry, outcome) in zip(entries, result.results) where !outcome.duplicate {
            if let blob = entry.facts?.erasedBlob { try FileSystem.removeDurably(blobPath(blob)) }
        }
        return result
    }

    // Runs inside the write transaction; may run more than once if the map had to grow, so it
    // only changes state through `txn` and returns the new frontier instead of storing it.
    private func commit(
        _ entries: [PreparedEntry], txn: WriteTransaction, frontier cached: MerkleFrontier?, signer: NoteSigner
    ) throws -> (CommitResult, MerkleFrontier) {
        let startSize = try storedTreeSize(txn)
        var frontier: MerkleFrontier
        if let cached, cached.treeSize == startSize {
            frontier = cached
        } else {
            // First append in this process, or another process appended since: reload the edge.
            frontier = try MerkleFrontier(treeSize: startSize, reader: StoredHashReader(txn: txn, table: tables.hashes))
        }
        var results: [AppendResult] = []
        results.reserveCapacity(entries.count)
        var hashIndex = StoredHashIndex.count(treeSize: startSize)
        for (position, entry) in entries.enumerated() {
            let index = frontier.treeSize
            let existing = try entry.digest.withUnsafeBytes { digestKey in
                try BigEndianKey.withBytes(index) { indexValue in
                    try txn.insertIfAbsent(tables.digests, key: digestKey, value: indexValue)
                }
            }
            if let existing {
                guard let earlier = existing.withUnsafeBytes({ BigEndianKey.decode($0) }) else {
                    throw LedgerError(.corrupt, "content index entry for \(entry.digest) is malformed")
                }
                results.append(AppendResult(index: earlier, digest: entry.digest, duplicate: true))
                continue
            }
            if profile == .provenance {
                guard let facts = entry.facts else {
                    throw LedgerError(
                        .invalidArgument,
                        "record \(position + 1) was not prepared with the ledger's rules (use recordRules())")
                }
                try admit(entry, facts: facts, index: index, position: position, txn: txn)
            }
            try entry.bytes.withUnsafeBytes { try txn.put(tables.leaves, key: index, value: $0, mode: .append) }
            try frontier.append(leafHash: entry.leafHash) { hash in
                try hash.withUnsafeBytes { try txn.put(tables.hashes, key: hashIndex, value: $0, mode: .append) }
                hashIndex += 1
            }
            results.append(AppendResult(index: index, digest: entry.digest, duplicate: false))
        }
        let newSize = frontier.treeSize
        guard newSize > startSize else {
            return (CommitResult(results: results, treeSize: newSize, checkpoint: nil), frontier)
        }
        let checkpoint = try SignedCheckpoint.sign(
            Checkpoint(origin: origin, size: newSize, rootHash: frontier.root), with: signer)
        // An intermediate size may already have a checkpoint (issued on request); sizes only grow,
        // so the new size has none yet.
        try txn.put(tables.checkpoints, key: newSize, value: Array(checkpoint.serialized.utf8), mode: .noOverwrite)
        try txn.put(tables.meta, key: Array(LedgerLayout.MetaKey.treeSize.utf8), value: BigEndianKey.bytes(newSize))
        return (CommitResult(results: results, treeSize: newSize, checkpoint: checkpoint), frontier)
    }
}
