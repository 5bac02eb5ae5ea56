import CairnCrypto
import CairnMerkle
import CairnNote
import CairnStorage

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads stored tree hashes of a format 1 ledger (one key per hash) inside one LMDB transaction.
struct StoredHashReader: HashReader {
    let txn: any TransactionReading
    let table: Table

    /// Reads with one cursor, in ascending key order: LMDB starts a search on the cursor's current
    /// page when the key is on it, and a proof's lower subtrees are neighbours in the table.
    func readHashes(at indexes: [UInt64]) throws -> [SHA256Digest] {
        let order = indexes.indices.sorted { indexes[$0] < indexes[$1] }
        var hashes = [SHA256Digest](repeating: .zero, count: indexes.count)
        try txn.withCursor(table) { cursor in
            for position in order {
                let index = indexes[position]
                guard let (key, value) = try cursor.seek(atLeast: index), BigEndianKey.decode(key) == index else {
                    throw LedgerError(.corrupt, "stored hash \(index) is missing (run `cairn fsck`)")
                }
                guard let digest = SHA256Digest(bytes: value) else {
                    throw LedgerError(
                        .corrupt, "stored hash \(index) is \(value.count) bytes, not 32 (run `cairn fsck`)")
                }
                hashes[position] = digest
            }
        }
        return hashes
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

    /// Parses `12` or `sha256:<64 lowercase hex>` — the canonical spellings only, so that an
    /// entry has exactly one name (`012`, `+12` and upper-case hex are refused); `nil` for
    /// anything else.
    public init?(_ text: String) {
        if text.hasPrefix("sha256:") {
            guard let digest = Self.contentAddress(text) else { return nil }
            self = .digest(digest)
        } else if let index = UInt64(text), text.utf8.allSatisfy({ (0x30...0x39).contains($0) }),
            text == "0" || text.first != "0"
        {
            self = .index(index)
        } else {
            return nil
        }
    }

    /// The digest of a canonical content address, `sha256:` and 64 lower-case hex digits; nil
    /// for anything else.
    public static func contentAddress(_ text: String) -> SHA256Digest? {
        let hex = text.utf8.dropFirst(7)
        guard text.hasPrefix("sha256:"), hex.count == 64,
            hex.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) })
        else { return nil }
        return SHA256Digest(hex: text.dropFirst(7))
    }

    public var description: String {
        switch self {
        case .index(let i): String(i)
        case .digest(let d): d.description
        }
    }
}

extension Ledger {
    func storedTreeSize(_ txn: some TransactionReading) throws -> UInt64 {
        let raw = try txn.value(tables.meta, key: Array(LedgerLayout.MetaKey.treeSize.utf8))
        guard let raw, let size = raw.withUnsafeBytes({ BigEndianKey.decode($0) }) else {
            throw LedgerError(.corrupt, "stored tree size is missing or malformed (run `cairn fsck`)")
        }
        return size
    }

    func entry(_ txn: some TransactionReading, _ index: UInt64) throws -> [UInt8] {
        guard let bytes = try txn.value(tables.leaves, key: index) else {
            let size = try storedTreeSize(txn)
            throw LedgerError(.entryNotFound, "no entry at index \(index): \(Ledger.describe(size: size))")
        }
        return bytes
    }

    func index(_ txn: some TransactionReading, of digest: SHA256Digest) throws -> UInt64? {
        // Inside the writer's transaction, its hash map stands in for a scan of the log.
        if txn is WriteTransaction, let cache = activeDigestCache.withLock({ $0 }) {
            return try tables.digests.lookup(txn, digest, cache: cache)
        }
        return try tables.digests.lookup(txn, digest, readers: txn is WriteTransaction ? nil : digestReaders)
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

    /// The stored checkpoint for `size`, parsed once per distinct stored note and then cached.
    func storedCheckpoint(_ txn: some TransactionReading, size: UInt64) throws -> SignedCheckpoint? {
        let cached = try txn.withValue(tables.checkpoints, key: size) { raw -> SignedCheckpoint? in
            guard let raw else { return nil }
            return checkpointCache.withLock { cache in
                // memcmp: a generic byte-by-byte comparison here cost ~3 % of a proof.
                guard let entry = cache[size], entry.bytes.count == raw.count,
                    raw.count == 0
                        || entry.bytes.withUnsafeBytes({ memcmp($0.baseAddress!, raw.baseAddress!, raw.count) }) == 0
                else { return nil }
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

    /// The published sizes nearest to `size`: the largest below it and the smallest above it.
    func publishedSizes(_ txn: some TransactionReading, around size: UInt64) throws -> (below: UInt64?, above: UInt64?)
    {
        try txn.withCursor(tables.checkpoints) { cursor in
            var above: UInt64?
            var below: UInt64?
            if let (key, _) = try cursor.seek(atLeast: size) {
                above = BigEndianKey.decode(key)
                if let (previous, _) = try cursor.previous() { below = BigEndianKey.decode(previous) }
            } else if let (last, _) = try cursor.last() {
                below = BigEndianKey.decode(last)
            }
            return (below, above)
        }
    }
}

extension LedgerSnapshot {
    /// The entry bytes at `index`.
    public func entry(at index: UInt64) throws(LedgerError) -> [UInt8] {
        try run { try ledger.entry(txn, index) }
    }

    /// The index of the entry whose content address is `digest`, or `nil`.
    public func index(of digest: SHA256Digest) throws(LedgerError) -> UInt64? {
        try run { try ledger.index(txn, of: digest) }
    }

    /// Resolves an index or content address to an index, or throws `.entryNotFound`.
    public func resolve(_ reference: EntryReference) throws(LedgerError) -> UInt64 {
        try run { try ledger.resolve(txn, reference) }
    }

    /// The root hash of the tree of the first `size` leaves (O(log n) reads).
    public func rootHash(size: UInt64) throws(LedgerError) -> SHA256Digest {
        try run {
            try ledger.checkSize(size, current: treeSize)
            return try MerkleTree.root(treeSize: size, reader: try hashReader)
        }
    }

    /// The signed checkpoint published for tree size `size` (default: this snapshot's size).
    ///
    /// Every commit publishes the checkpoint of its new size; sizes inside a commit have none,
    /// and a read never signs one (`.checkpointNotPublished`, naming the nearest published
    /// sizes).
    public func checkpoint(size: UInt64? = nil) throws(LedgerError) -> SignedCheckpoint {
        let size = size ?? treeSize
        return try run {
            try ledger.checkSize(size, current: treeSize)
            if let stored = try ledger.storedCheckpoint(txn, size: size) { return stored }
            throw try notPublished(size)
        }
    }

    /// Whether a signed checkpoint was published for `size`.
    public func hasCheckpoint(size: UInt64) throws(LedgerError) -> Bool {
        try run { try size <= treeSize && txn.withValue(ledger.tables.checkpoints, key: size) { $0 != nil } }
    }

    private func notPublished(_ size: UInt64) throws -> LedgerError {
        let (below, above) = try ledger.publishedSizes(txn, around: size)
        let near = [below, above].compactMap { $0 }.map(String.init).joined(separator: " and ")
        return LedgerError(
            .checkpointNotPublished,
            "no checkpoint was published for tree size \(size) (each append publishes one for the size it "
                + "commits; the nearest published sizes are \(near.isEmpty ? "none" : near)); ask for a "
                + "published size, or prove against a checkpoint you hold")
    }

    /// An inclusion proof for `index` in the tree of the published checkpoint of size `size`
    /// (default: this snapshot's size).
    public func inclusionProof(index: UInt64, size: UInt64? = nil) throws(LedgerError) -> InclusionProof {
        let checkpoint = try checkpoint(size: size)
        // A checkpoint this ledger published is its own (fsck checks every stored one): verifying its
        // signature and recomputing its root again would cost more than the proof itself.
        return try run {
            try makeInclusionProof(index: index, size: checkpoint.checkpoint.size, checkpoint: checkpoint)
        }
    }

    /// An inclusion proof for `index` relative to `checkpoint`, a checkpoint of this log that
    /// the caller holds (for a size that was never published on its own, say): it must verify
    /// with the log's key and its root must be this log's root at its size.
    public func inclusionProof(index: UInt64, in checkpoint: SignedCheckpoint) throws(LedgerError) -> InclusionProof {
        try run { try makeInclusionProof(index: index, size: try checkOwn(checkpoint), checkpoint: checkpoint) }
    }

    private func makeInclusionProof(
        index: UInt64, size: UInt64, checkpoint: SignedCheckpoint
    ) throws -> InclusionProof {
        guard index < size else {
            throw LedgerError(
                .sizeOutOfRange, "index \(index) is not in the tree of size \(size) (\(Ledger.describe(size: size)))")
        }
        let reader = try hashReader
        let leaf = try reader.readHashes(ofNodes: [MerkleNode(level: 0, n: index)])[0]
        let proof = try MerkleTree.inclusionProof(
            index: index, treeSize: size, reader: reader, rightEdge: try rightEdge(size: size, reader: reader))
        return InclusionProof(index: index, leafHash: leaf, hashes: proof, checkpoint: checkpoint)
    }

    /// A consistency proof from `oldSize` to the published checkpoint of size `size` (default:
    /// this snapshot's size).
    public func consistencyProof(oldSize: UInt64, size: UInt64? = nil) throws(LedgerError) -> ConsistencyProof {
        let checkpoint = try checkpoint(size: size)
        // This ledger's own published checkpoint, as for inclusion proofs.
        return try run {
            try makeConsistencyProof(oldSize: oldSize, size: checkpoint.checkpoint.size, checkpoint: checkpoint)
        }
    }

    /// A consistency proof from `oldSize` to `checkpoint`, a checkpoint of this log the caller
    /// holds (checked as for `inclusionProof(index:in:)`).
    public func consistencyProof(
        oldSize: UInt64, to checkpoint: SignedCheckpoint
    ) throws(LedgerError)
        -> ConsistencyProof
    {
        try run { try makeConsistencyProof(oldSize: oldSize, size: try checkOwn(checkpoint), checkpoint: checkpoint) }
    }

    private func makeConsistencyProof(
        oldSize: UInt64, size: UInt64, checkpoint: SignedCheckpoint
    ) throws -> ConsistencyProof {
        guard oldSize <= size else {
            throw LedgerError(.sizeOutOfRange, "old size \(oldSize) is larger than the new size \(size)")
        }
        // The empty tree is consistent with every tree: the proof is empty (C2SP tlog-witness).
        guard oldSize != 0, oldSize != size else {
            return ConsistencyProof(oldSize: oldSize, hashes: [], checkpoint: checkpoint)
        }
        let reader = try hashReader
        let proof = try MerkleTree.consistencyProof(
            oldSize: oldSize, newSize: size, reader: reader, rightEdge: try rightEdge(size: size, reader: reader))
        return ConsistencyProof(oldSize: oldSize, hashes: proof, checkpoint: checkpoint)
    }

    /// The right edge of the tree of `size` leaves when `size` is this snapshot's size (the latest
    /// checkpoint, which most proofs are asked against): the ledger's cached one, else loaded — one read
    /// of at most 63 hashes — and cached. Nil for older sizes, whose proofs read their edge as before.
    private func rightEdge(size: UInt64, reader: LedgerHashReader) throws -> MerkleRightEdge? {
        if let cached = ledger.rightEdgeCache.withLock({ $0 }), cached.treeSize == size { return cached }
        guard size == treeSize else { return nil }
        let edge = MerkleRightEdge(try MerkleFrontier(treeSize: size, reader: reader))
        ledger.rightEdgeCache.withLock { cached in
            if (cached?.treeSize ?? 0) < size { cached = edge }
        }
        return edge
    }

    /// The size of `checkpoint` once it is known to be this log's: signed by its key, for its
    /// origin, within this tree, and with this tree's root at that size.
    private func checkOwn(_ checkpoint: SignedCheckpoint) throws -> UInt64 {
        let body: Checkpoint
        do {
            // Signed by the key the log used at its size (before or after a key rotation).
            body = try ledger.verifyOwnCheckpoint(txn, checkpoint)
        } catch let error as NoteError {
            throw LedgerError(.invalidArgument, "the checkpoint is not one of this log's: \(error.message)")
        }
        try ledger.checkSize(body.size, current: treeSize)
        let root = try MerkleTree.root(
            treeSize: body.size, reader: try hashReader)
        guard root == body.rootHash else {
            throw LedgerError(
                .invalidArgument,
                "the checkpoint for size \(body.size) has root \(body.rootHash.hex), but this log's root at that "
                    + "size is \(root.hex): it belongs to a fork of the log")
        }
        return body.size
    }
}
