import CairnCrypto
import CairnMerkle
import CairnNote
import CairnStorage

/// Reads stored tree hashes inside one LMDB transaction.
struct StoredHashReader: HashReader {
    let txn: any TransactionReading
    let table: Table

    func readHashes(at indexes: [UInt64]) throws -> [SHA256Digest] {
        try indexes.map { index in
            try txn.withValue(table, key: index) { raw in
                guard let raw else {
                    throw LedgerError(.corrupt, "stored hash \(index) is missing (run `cairn fsck`)")
                }
                guard let digest = SHA256Digest(bytes: raw) else {
                    throw LedgerError(.corrupt, "stored hash \(index) is \(raw.count) bytes, not 32 (run `cairn fsck`)")
                }
                return digest
            }
        }
    }
}

/// An inclusion proof with the signed checkpoint it is relative to.
public struct InclusionProof: Sendable, Hashable {
    /// The leaf's index.
    public let index: UInt64
    /// RFC 6962 leaf hash of the entry.
    public let leafHash: SHA256Digest
    /// The audit path, from the leaf's sibling up to the root's child.
    public let hashes: [SHA256Digest]
    /// The signed checkpoint whose root the path leads to.
    public let checkpoint: SignedCheckpoint
}

/// A consistency proof from an older tree size to the size of a signed checkpoint.
public struct ConsistencyProof: Sendable, Hashable {
    /// The older tree size.
    public let oldSize: UInt64
    /// The proof hashes (RFC 9162 section 2.1.4).
    public let hashes: [SHA256Digest]
    /// The signed checkpoint of the newer size.
    public let checkpoint: SignedCheckpoint
}

/// How to name an entry: by leaf index or by content address.
public enum EntryReference: Sendable, Hashable, CustomStringConvertible {
    case index(UInt64)
    case digest(SHA256Digest)

    /// Parses `12` or `sha256:<64 hex>`; `nil` for anything else.
    public init?(_ text: String) {
        if text.hasPrefix("sha256:") {
            guard let digest = SHA256Digest(hex: text.dropFirst(7)), text.count == 71 else { return nil }
            self = .digest(digest)
        } else if let index = UInt64(text), text.first != "+" {
            self = .index(index)
        } else {
            return nil
        }
    }

    public var description: String {
        switch self {
        case .index(let i): String(i)
        case .digest(let d): d.description
        }
    }
}

extension Ledger {
    /// The number of committed leaves.
    public func treeSize() throws -> UInt64 {
        try env.read { txn in try storedTreeSize(txn) }
    }

    func storedTreeSize(_ txn: some TransactionReading) throws -> UInt64 {
        let raw = try txn.value(tables.meta, key: Array(LedgerLayout.MetaKey.treeSize.utf8))
        guard let raw, let size = raw.withUnsafeBytes({ BigEndianKey.decode($0) }) else {
            throw LedgerError(.corrupt, "stored tree size is missing or malformed (run `cairn fsck`)")
        }
        return size
    }

    /// The entry bytes at `index`.
    public func entry(at index: UInt64) throws -> [UInt8] {
        try env.read { txn in try entry(txn, index) }
    }

    func entry(_ txn: some TransactionReading, _ index: UInt64) throws -> [UInt8] {
        guard let bytes = try txn.value(tables.leaves, key: index) else {
            let size = try storedTreeSize(txn)
            throw LedgerError(.entryNotFound, "no entry at index \(index): \(Ledger.describe(size: size))")
        }
        return bytes
    }

    /// The index of the entry whose content address is `digest`, or `nil`.
    public func index(of digest: SHA256Digest) throws -> UInt64? {
        try env.read { txn in try index(txn, of: digest) }
    }

    func index(_ txn: some TransactionReading, of digest: SHA256Digest) throws -> UInt64? {
        // Inside the writer's transaction, its hash map stands in for a scan of the log.
        if txn is WriteTransaction, let cache = activeDigestCache.withLock({ $0 }) {
            return try tables.digests.lookup(txn, digest, cache: cache)
        }
        return try tables.digests.lookup(txn, digest, readers: txn is WriteTransaction ? nil : digestReaders)
    }

    /// Resolves an index or content address to an index, or throws `.entryNotFound`.
    public func resolve(_ reference: EntryReference) throws -> UInt64 {
        try env.read { txn in try resolve(txn, reference) }
    }

    func resolve(_ txn: some TransactionReading, _ reference: EntryReference) throws -> UInt64 {
        switch reference {
        case .index(let index):
            let size = try storedTreeSize(txn)
            guard index < size else {
                throw LedgerError(.entryNotFound, "no entry at index \(index): \(Ledger.describe(size: size))")
            }
            return index
        case .digest(let digest):
            guard let index = try index(txn, of: digest) else {
                throw LedgerError(.entryNotFound, "no entry has content address \(digest)")
            }
            return index
        }
    }

    /// The root hash of the tree of the first `size` leaves (O(log n) reads).
    public func rootHash(size: UInt64) throws -> SHA256Digest {
        try env.read { txn in
            try checkSize(size, current: try storedTreeSize(txn))
            return try MerkleTree.root(treeSize: size, reader: StoredHashReader(txn: txn, table: tables.hashes))
        }
    }

    static func describe(size: UInt64) -> String {
        switch size {
        case 0: "the log is empty"
        case 1: "the log has 1 entry, index 0"
        default: "the log has \(size) entries, indexes 0…\(size - 1)"
        }
    }

    func checkSize(_ size: UInt64, current: UInt64) throws {
        guard size <= current else {
            throw LedgerError(.sizeOutOfRange, "tree size \(size) is beyond the current size \(current)")
        }
    }

    /// The signed checkpoint for tree size `size` (default: the current size).
    ///
    /// Every committed size has a stored checkpoint. For an intermediate size that was never a
    /// commit boundary, a checkpoint is signed now (it is consistent with every other one, being
    /// a prefix of the same log) and recorded, so that every note the key signs is on record.
    public func checkpoint(size: UInt64? = nil) throws -> SignedCheckpoint {
        let (stored, root, resolvedSize): (SignedCheckpoint?, SHA256Digest?, UInt64) = try env.read { txn in
            let current = try storedTreeSize(txn)
            let size = size ?? current
            try checkSize(size, current: current)
            if let stored = try storedCheckpoint(txn, size: size) { return (stored, nil, size) }
            let root = try MerkleTree.root(treeSize: size, reader: StoredHashReader(txn: txn, table: tables.hashes))
            return (nil, root, size)
        }
        if let stored { return stored }
        return try issueCheckpoint(size: resolvedSize, root: root!)
    }

    /// Whether a signed checkpoint of `size` has been issued (every commit issues one for its new
    /// size; `checkpoint(size:)` issues one on request). Never signs or writes anything.
    public func hasIssuedCheckpoint(size: UInt64) throws -> Bool {
        try env.read { txn in try txn.withValue(tables.checkpoints, key: size) { $0 != nil } }
    }

    private func issueCheckpoint(size: UInt64, root: SHA256Digest) throws -> SignedCheckpoint {
        let signed = try SignedCheckpoint.sign(
            Checkpoint(origin: origin, size: size, rootHash: root), with: try loadSigner())
        return try env.write { txn in
            // Another process may have issued it meanwhile: the first one stays.
            if let bytes = try txn.value(tables.checkpoints, key: size) {
                return try parseStoredCheckpoint(bytes, size: size)
            }
            try txn.put(tables.checkpoints, key: size, value: Array(signed.serialized.utf8), mode: .noOverwrite)
            return signed
        }
    }

    /// The stored checkpoint for `size`, parsed once per distinct stored note and then cached.
    func storedCheckpoint(_ txn: some TransactionReading, size: UInt64) throws -> SignedCheckpoint? {
        let cached = try txn.withValue(tables.checkpoints, key: size) { raw -> SignedCheckpoint? in
            guard let raw else { return nil }
            return checkpointCache.withLock { cache in
                guard let entry = cache[size], entry.bytes.elementsEqual(raw) else { return nil }
                return entry.parsed
            }
        }
        if let cached { return cached }
        guard let bytes = try txn.value(tables.checkpoints, key: size) else { return nil }
        let parsed = try parseStoredCheckpoint(bytes, size: size)
        checkpointCache.withLock { cache in
            if cache.count >= 1024 { cache.removeAll(keepingCapacity: true) }
            cache[size] = (bytes, parsed)
        }
        return parsed
    }

    func parseStoredCheckpoint(_ bytes: [UInt8], size: UInt64) throws -> SignedCheckpoint {
        do {
            return try SignedCheckpoint(parsing: bytes)
        } catch {
            throw LedgerError(.corrupt, "stored checkpoint for size \(size) is malformed: \(error) (run `cairn fsck`)")
        }
    }

    /// An inclusion proof for `index` in the tree of size `size` (default: current size).
    public func inclusionProof(index: UInt64, size: UInt64? = nil) throws -> InclusionProof {
        let (treeSize, leafHash, hashes, checkpoint) = try env.read {
            txn -> (UInt64, SHA256Digest, [SHA256Digest], SignedCheckpoint?) in
            let current = try storedTreeSize(txn)
            let size = size ?? current
            try checkSize(size, current: current)
            guard index < size else {
                throw LedgerError(
                    .sizeOutOfRange,
                    "index \(index) is not in the tree of size \(size) (\(Ledger.describe(size: size)))")
            }
            let reader = StoredHashReader(txn: txn, table: tables.hashes)
            let leaf = try reader.readHashes(at: [StoredHashIndex.index(level: 0, n: index)])[0]
            let proof = try MerkleTree.inclusionProof(index: index, treeSize: size, reader: reader)
            return (size, leaf, proof, try storedCheckpoint(txn, size: size))
        }
        return InclusionProof(
            index: index, leafHash: leafHash, hashes: hashes,
            checkpoint: try checkpoint ?? self.checkpoint(size: treeSize))
    }

    /// A consistency proof from `oldSize` to `size` (default: current size).
    public func consistencyProof(oldSize: UInt64, size: UInt64? = nil) throws -> ConsistencyProof {
        let (newSize, hashes, checkpoint) = try env.read { txn -> (UInt64, [SHA256Digest], SignedCheckpoint?) in
            let current = try storedTreeSize(txn)
            let size = size ?? current
            try checkSize(size, current: current)
            guard oldSize <= size else {
                throw LedgerError(.sizeOutOfRange, "old size \(oldSize) is larger than the new size \(size)")
            }
            // The empty tree is consistent with every tree: the proof is empty (C2SP tlog-witness).
            let proof =
                oldSize == 0 || oldSize == size
                ? []
                : try MerkleTree.consistencyProof(
                    oldSize: oldSize, newSize: size, reader: StoredHashReader(txn: txn, table: tables.hashes))
            return (size, proof, try storedCheckpoint(txn, size: size))
        }
        return ConsistencyProof(
            oldSize: oldSize, hashes: hashes, checkpoint: try checkpoint ?? self.checkpoint(size: newSize))
    }
}
