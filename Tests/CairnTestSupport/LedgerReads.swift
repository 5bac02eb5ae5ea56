import CairnCrypto
import CairnLedger
import CairnMerkle
import CairnNote

// Short-hands for tests: each opens one snapshot through the ledger's door (`Ledger.read`) and
// makes one read. Production code reads through `read { snapshot in … }` directly, one
// snapshot per request.
extension Ledger {
    public func treeSize() throws -> UInt64 { try read { $0.treeSize } }
    public func entry(at index: UInt64) throws -> [UInt8] { try read { try $0.entry(at: index) } }
    public func index(of digest: SHA256Digest) throws -> UInt64? { try read { try $0.index(of: digest) } }
    public func resolve(_ reference: EntryReference) throws -> UInt64 { try read { try $0.resolve(reference) } }
    public func resolve(recordReference text: String) throws -> UInt64 {
        try read { try $0.resolve(recordReference: text) }
    }
    public func rootHash(size: UInt64) throws -> SHA256Digest { try read { try $0.rootHash(size: size) } }
    public func checkpoint(size: UInt64? = nil) throws -> SignedCheckpoint {
        try read { try $0.checkpoint(size: size) }
    }
    public func inclusionProof(index: UInt64, size: UInt64? = nil) throws -> InclusionProof {
        try read { try $0.inclusionProof(index: index, size: size) }
    }
    public func consistencyProof(oldSize: UInt64, size: UInt64? = nil) throws -> ConsistencyProof {
        try read { try $0.consistencyProof(oldSize: oldSize, size: size) }
    }
    public func view(_ index: UInt64) throws -> RecordView { try read { try $0.view(index) } }
    public func query(_ query: RecordQuery) throws -> [QueryMatch] { try read { try $0.query(query) } }
    public func blobMetadata(_ digest: SHA256Digest) throws -> BlobMetadata? {
        try read { try $0.blobMetadata(digest) }
    }
    public func blob(_ digest: SHA256Digest) throws -> (metadata: BlobMetadata, bytes: [UInt8]) {
        try read { try $0.blob(digest) }
    }
    public func hashTile(level: Int, index: UInt64, width: Int) throws -> [UInt8] {
        try read { try $0.hashTile(level: level, index: index, width: width) }
    }
    public func hashTile(_ tile: MerkleTile) throws -> [UInt8] { try read { try $0.hashTile(tile) } }
    public func entryBundle(_ bundle: MerkleEntryBundle) throws -> [UInt8] { try read { try $0.entryBundle(bundle) } }
    public func entryBundle(index: UInt64, width: Int) throws -> [UInt8] {
        try read { try $0.entryBundle(index: index, width: width) }
    }

    /// Appends through a one-shot ingest engine (the ledger's write path) and waits.
    public func appendThroughEngine(_ entries: [PreparedEntry]) async throws -> [AppendOutcome] {
        let engine = IngestEngine(ledger: self)
        defer { engine.shutdown() }
        return try await engine.append(contentsOf: entries, atomic: true, whenBusy: .wait)
    }

    /// Stores a blob through a one-shot ingest engine and returns its metadata.
    public func putBlob(_ bytes: [UInt8], mediaType: String, salted: Bool = true) async throws -> BlobMetadata {
        let engine = IngestEngine(ledger: self)
        defer { engine.shutdown() }
        return try await engine.store(
            [BlobPayload(bytes: bytes, mediaType: mediaType)], salted: salted, whenBusy: .wait)[0]
    }
}

extension Ledger {
    /// Adds cosignatures through a one-shot ingest engine and waits.
    public func addCosignatures(_ signatures: [NoteSignature], size: UInt64) async throws {
        let engine = IngestEngine(ledger: self)
        defer { engine.shutdown() }
        try await engine.addCosignatures(signatures, size: size)
    }
}

extension Ledger {
    /// Erases a blob: appends its erasure record through `engine` (a one-shot engine if nil),
    /// which deletes the bytes once committed. Returns the erasure's outcome.
    @discardableResult
    public func eraseBlob(
        _ digest: SHA256Digest, reason: String, author: String, at timestamp: String, using engine: IngestEngine? = nil
    ) async throws -> AppendResult {
        let record = try erasureRecord(of: digest, reason: reason, author: author, at: timestamp)
        if let engine { return try await engine.append(record, whenBusy: .wait) }
        let oneShot = IngestEngine(ledger: self)
        defer { oneShot.shutdown() }
        return try await oneShot.append(record, whenBusy: .wait)
    }
}

extension Ledger {
    /// Every hash tile of every tree size in `sizes`, by path, from one snapshot: the tiles an auditor or a
    /// mirror could have fetched (the migration tests compare them before and after).
    public func hashTiles(sizes: [UInt64]) throws -> [String: [UInt8]] {
        try read { snapshot in
            var result: [String: [UInt8]] = [:]
            for size in sizes {
                for level in 0..<8 {
                    let (full, partial) = MerkleTile.tiles(treeSize: size, level: level)
                    var all = (0..<full).compactMap { MerkleTile(level: level, index: $0) }
                    if let partial { all.append(partial) }
                    for tile in all { result[tile.path] = try snapshot.hashTile(tile) }
                }
            }
            return result
        }
    }
}
