import CairnCrypto
import CairnJSON
import CairnRecords
import CairnStorage

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What the ledger knows about a stored payload blob.
public struct BlobMetadata: Sendable, Hashable {
    /// When and why a blob's bytes were erased, and the `erasure` entry that records it.
    public struct Erasure: Sendable, Hashable {
        public let entry: UInt64
        public let at: String
        public let reason: String
        public let author: String?
    }

    /// The blob's address: `SHA-256(salt ‖ bytes)` (`BlobCommitment`).
    public let digest: SHA256Digest
    public let size: Int
    public let mediaType: String
    /// Whether the address is a salted commitment: the blob's file then holds the 32-byte salt
    /// followed by the bytes. False for blobs stored before salting or with `--unsalted`, whose
    /// address is the plain SHA-256 of the bytes.
    public let salted: Bool
    /// Set once the bytes are gone.
    public let erasure: Erasure?

    /// The reference records use: `{"blob": "sha256:…", "size": N, "media_type": "…"}`.
    public var reference: JSONValue {
        .object(["blob": .string(digest.description), "size": .number(Double(size)), "media_type": .string(mediaType)])
    }

    var encoded: [UInt8] {
        var object: JSONObject = ["size": .number(Double(size)), "media_type": .string(mediaType)]
        if salted { object["salted"] = .bool(true) }
        if let erasure {
            var e: JSONObject = [
                "entry": .number(Double(erasure.entry)), "at": .string(erasure.at), "reason": .string(erasure.reason),
            ]
            if let author = erasure.author { e["author"] = .string(author) }
            object["erased"] = .object(e)
        }
        return JSONWriter.compactBytes(.object(object))
    }

    init(digest: SHA256Digest, size: Int, mediaType: String, salted: Bool, erasure: Erasure?) {
        self.digest = digest
        self.size = size
        self.mediaType = mediaType
        self.salted = salted
        self.erasure = erasure
    }

    init(digest: SHA256Digest, decoding bytes: [UInt8]) throws {
        guard let value = try? JSONParser.parse(bytes), let size = value["size"]?.intValue,
            let mediaType = value["media_type"]?.stringValue
        else {
            throw LedgerError(.corrupt, "metadata of blob \(digest) is malformed")
        }
        var erasure: Erasure?
        if let e = value["erased"], let entry = e["entry"]?.intValue, let at = e["at"]?.stringValue,
            let reason = e["reason"]?.stringValue
        {
            erasure = Erasure(entry: UInt64(entry), at: at, reason: reason, author: e["author"]?.stringValue)
        }
        self.init(
            digest: digest, size: size, mediaType: mediaType, salted: value["salted"] == .bool(true), erasure: erasure)
    }

    /// The size of the blob's file: the salt and the bytes.
    var fileSize: Int { size + (salted ? BlobCommitment.saltByteCount : 0) }
}

/// A payload split off a record to be stored as a blob: its bytes, salt, address and media type.
/// Computed while a record is prepared (`PayloadExtraction`, with the salt the ledger chooses);
/// written by the ingest engine before the record is committed.
public struct BlobPayload: Sendable, Hashable {
    /// The address: `SHA-256(salt ‖ bytes)`.
    public let digest: SHA256Digest
    /// SHA-256 of the bytes alone.
    public let contentDigest: SHA256Digest
    /// The salt; empty for an unsalted blob (content stored before salting, stored again).
    public let salt: [UInt8]
    public let bytes: [UInt8]
    public let mediaType: String
    /// The record field it was moved out of (`prompt`, `raw_output`, `turns`), if any.
    public let field: String?

    /// A payload of `bytes` under `salt` (default: none; the ledger salts what it stores, see
    /// `IngestEngine.store` and `Ledger.blobSalting`).
    public init(bytes: [UInt8], mediaType: String, field: String? = nil, salt: [UInt8] = []) {
        self.init(bytes: bytes, contentDigest: SHA256.hash(bytes), mediaType: mediaType, field: field, salt: salt)
    }

    private init(bytes: [UInt8], contentDigest: SHA256Digest, mediaType: String, field: String?, salt: [UInt8]) {
        self.bytes = bytes
        self.contentDigest = contentDigest
        self.salt = salt
        self.digest = salt.isEmpty ? contentDigest : BlobCommitment.address(salt: salt, bytes: bytes)
        self.mediaType = mediaType
        self.field = field
    }

    /// The same payload under another salt (the bytes are not hashed again on their own).
    public func salted(_ salt: [UInt8]) -> BlobPayload {
        BlobPayload(bytes: bytes, contentDigest: contentDigest, mediaType: mediaType, field: field, salt: salt)
    }

    /// The metadata the ledger stores for it.
    public var metadata: BlobMetadata {
        BlobMetadata(digest: digest, size: bytes.count, mediaType: mediaType, salted: !salt.isEmpty, erasure: nil)
    }

    /// What its file holds: the salt, then the bytes (so the file hashes to the address).
    var fileBytes: [UInt8] { salt.isEmpty ? bytes : salt + bytes }

    /// Whether `text` is a media type of the form `type/subtype` (parameters allowed).
    public static func isValidMediaType(_ text: String) -> Bool {
        let main = text.split(separator: ";", maxSplits: 1).first?.trimmingSpaces ?? ""
        let parts = main.split(separator: "/", omittingEmptySubsequences: false)
        return parts.count == 2
            && parts.allSatisfy { part in
                !part.isEmpty && part.unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value < 0x7f }
            }
    }
}

/// Chooses the salt of a payload about to be moved out of a checkpoint: the salt the same field
/// of the stored checkpoint with the same id already has, if its blob is kept (so that a retried
/// record gets the same stored form and is found to be a duplicate), none if that blob is unsalted,
/// else a new random one. Nothing computed from the content alone is kept, so nothing lets anyone
/// confirm a guess of erased content. Part of a ledger's `RecordRules`; equal only to itself.
public final class BlobSalting: Sendable, Hashable {
    let known: @Sendable (_ recordID: String, _ field: String) -> [UInt8]?

    /// `known(id, field)` returns the salt of the blob that field of the stored checkpoint `id`
    /// is in (`[]` for an unsalted blob), or nil.
    public init(known: @escaping @Sendable (_ recordID: String, _ field: String) -> [UInt8]?) {
        self.known = known
    }

    /// `payload` under the salt it gets as field `field` of the checkpoint `recordID`.
    public func salt(_ payload: BlobPayload, recordID: String?, field: String?) -> BlobPayload {
        if let recordID, let field, let salt = known(recordID, field) { return payload.salted(salt) }
        return payload.salted(BlobCommitment.randomSalt())
    }

    public static func == (lhs: BlobSalting, rhs: BlobSalting) -> Bool { lhs === rhs }
    public func hash(into hasher: inout Hasher) { hasher.combine(ObjectIdentifier(self)) }
}

/// The blob files of one ledger: `blobs/ab/cdef…` under its directory (specs/storage.md,
/// "Blobs"). Their metadata lives in LMDB and is written only by the ingest engine; this type
/// does the file I/O, which blocks: call it from a thread of your own or the ledger I/O pool.
public struct BlobStore: Sendable {
    let ledger: Ledger

    /// The ledger directory.
    public var directory: String { ledger.directory }

    /// Where the bytes of `digest` are (or were) stored.
    public func path(for digest: SHA256Digest) -> String {
        let hex = digest.hex
        return Ledger.path(directory, LedgerLayout.blobDirectory) + "/" + hex.prefix(2) + "/" + hex.dropFirst(2)
    }

    /// The stored salt and bytes of a blob, checked against its address (`SHA-256(salt ‖ bytes)`:
    /// the file holds the salt, if any, then the bytes).
    public func contents(of metadata: BlobMetadata) throws(LedgerError) -> (salt: [UInt8], bytes: [UInt8]) {
        let digest = metadata.digest
        let file: [UInt8]
        do {
            file = try FileSystem.readFile(path(for: digest))
        } catch {
            throw LedgerError(
                .corrupt,
                "the bytes of blob \(digest) are missing from \(path(for: digest)): \(error) (run `cairn fsck`)")
        }
        guard SHA256.hash(file) == digest else {
            throw LedgerError(.corrupt, "blob \(digest) is corrupted: its stored file hashes to \(SHA256.hash(file))")
        }
        guard file.count == metadata.fileSize else {
            throw LedgerError(
                .corrupt, "blob \(digest) has a \(file.count)-byte file, its metadata says \(metadata.fileSize) bytes")
        }
        let saltCount = metadata.salted ? BlobCommitment.saltByteCount : 0
        return (Array(file.prefix(saltCount)), Array(file.dropFirst(saltCount)))
    }

    /// The salt of a kept salted blob: the first 32 bytes of its file (not checked against the address).
    func storedSalt(of metadata: BlobMetadata) throws -> [UInt8] {
        guard metadata.salted else { return [] }
        let salt = try FileSystem.readFile(path(for: metadata.digest), limit: BlobCommitment.saltByteCount)
        guard salt.count == BlobCommitment.saltByteCount else {
            throw LedgerError(.corrupt, "the file of salted blob \(metadata.digest) is shorter than its salt")
        }
        return salt
    }

    /// Writes the files of every payload of `entries` that is not stored yet (durably: file and
    /// directory synced), skipping payloads that were erased (their records will be refused).
    func writePayloads(of entries: [PreparedEntry]) throws(LedgerError) {
        try write(entries.flatMap(\.payloads), refusingErased: false)
    }

    /// Writes the files of `payloads` that are not stored yet, durably. An erased payload is
    /// skipped, or refused with `.blobErased` when `refusingErased`.
    func write(_ payloads: [BlobPayload], refusingErased: Bool) throws(LedgerError) {
        for payload in payloads {
            guard BlobPayload.isValidMediaType(payload.mediaType) else {
                throw LedgerError(
                    .invalidArgument,
                    "media type \(payload.mediaType.debugDescription) is not of the form type/subtype")
            }
        }
        let known: [BlobMetadata?]
        do {
            known = try ledger.read { snapshot in try payloads.map { try snapshot.blobMetadata($0.digest) } }
        } catch {
            throw error as? LedgerError ?? LedgerError(.storage, "\(error)")
        }
        for (payload, metadata) in zip(payloads, known) {
            if let erasure = metadata?.erasure {
                guard refusingErased else { continue }
                throw LedgerError(
                    .blobErased,
                    "blob \(payload.digest) was erased at \(erasure.at) (entry \(erasure.entry)): \(erasure.reason); "
                        + "erased content cannot be stored again")
            }
            let path = path(for: payload.digest)
            if metadata != nil && FileSystem.fileExists(path) { continue }
            let directory = String(path[..<(path.lastIndex(of: "/") ?? path.endIndex)])
            try LedgerError.wrapping(fallback: .storage) {
                try FileSystem.createDirectories(directory)
                try FileSystem.writeAtomically(path, contents: payload.fileBytes, mode: 0o640)
            }
        }
    }

    /// Deletes a blob's bytes for good (zeroed, synced, unlinked; the directory synced). A
    /// missing file is fine: the removal may be a retry.
    public func remove(_ digest: SHA256Digest) throws(LedgerError) {
        try LedgerError.wrapping(fallback: .storage) { try FileSystem.removeDurably(path(for: digest)) }
    }

    /// Removes the bytes of `digest` if the ledger records it as erased.
    func removeIfErased(_ digest: SHA256Digest) throws(LedgerError) {
        let erased: Bool
        do {
            erased = try ledger.read { try $0.blobMetadata(digest)?.erasure != nil }
        } catch {
            throw error as? LedgerError ?? LedgerError(.storage, "\(error)")
        }
        if erased { try remove(digest) }
    }

    /// Deletes the files of the salted payloads of refused `entries` that the ledger has no
    /// metadata for. They are nobody else's: another preparation of the same content draws another
    /// salt, and one that reuses a salt reuses a stored blob. So a refused record leaves no garbage.
    func discardPayloads(of entries: [PreparedEntry]) throws(LedgerError) {
        let payloads = entries.flatMap(\.payloads).filter { !$0.salt.isEmpty }
        guard !payloads.isEmpty else { return }
        let unknown: [SHA256Digest]
        do {
            unknown = try ledger.read { snapshot in
                try payloads.map(\.digest).filter { try snapshot.blobMetadata($0) == nil }
            }
        } catch {
            throw error as? LedgerError ?? LedgerError(.storage, "\(error)")
        }
        for digest in unknown { try remove(digest) }
    }

    /// Whether bytes of `digest` are on disk.
    public func hasBytes(of digest: SHA256Digest) -> Bool {
        FileSystem.fileExists(path(for: digest))
    }
}

extension Ledger {
    /// The ledger's blob files.
    public var blobStore: BlobStore { BlobStore(ledger: self) }

    /// The record of an erasure: appending it (through the ingest engine) deletes the blob's bytes
    /// once committed and records when, why and by whom. The entries that reference the blob stay,
    /// so every proof still verifies; reading the blob afterwards reports the erasure.
    public func erasureRecord(
        of digest: SHA256Digest, reason: String, author: String, at timestamp: String
    ) throws(LedgerError) -> PreparedEntry {
        let record: JSONValue = .object([
            "type": "erasure", "schema": 1, "blob": .string(digest.description), "reason": .string(reason),
            "at": .string(timestamp), "author": .string(author),
        ])
        do {
            return try PreparedEntry.prepare(record: record, rules: recordRules())
        } catch {
            throw LedgerError(.invalidArgument, "cannot record the erasure: \(error.message)")
        }
    }

    /// The salting of the payloads this ledger moves out of records (part of its `recordRules`).
    /// A failed lookup gives a new salt: a retried record then is refused as a duplicate id
    /// instead of being recognised, which is safe.
    public var blobSalting: BlobSalting {
        BlobSalting { [self] id, field in
            try? read { snapshot in try snapshot.run { try knownSalt(snapshot.txn, checkpoint: id, field: field) } }
        }
    }

    /// The salt of the blob that `field` of the stored checkpoint `id` is in: `[]` for an unsalted
    /// blob, the salt from its file for a kept salted one, nil when there is no such checkpoint,
    /// field or kept blob.
    func knownSalt(_ txn: some TransactionReading, checkpoint id: String, field: String) throws -> [UInt8]? {
        guard let index = try resolveSubject(txn, .id(id)),
            let stored = try? JSONParser.parse(try entry(txn, index)),
            let value = stored[field], let reference = BlobReference(value),
            let metadata = try blobMetadata(txn, reference.digest), metadata.erasure == nil
        else {
            return nil
        }
        return try blobStore.storedSalt(of: metadata)
    }

    // MARK: - Inside write transactions

    /// Stores `metadata` unless the blob is already known; returns what is stored.
    func storeBlobMetadata(_ txn: WriteTransaction, _ metadata: BlobMetadata) throws -> BlobMetadata {
        let stored = try metadata.digest.withUnsafeBytes { key in
            try metadata.encoded.withUnsafeBytes { try txn.insertIfAbsent(tables.blobs, key: key, value: $0) }
        }
        return try stored.map { try BlobMetadata(digest: metadata.digest, decoding: $0) } ?? metadata
    }

    func blobMetadata(_ txn: some TransactionReading, _ digest: SHA256Digest) throws -> BlobMetadata? {
        let raw = try digest.withUnsafeBytes { key in try txn.rawValue(tables.blobs, key: key).map { Array($0) } }
        return try raw.map { try BlobMetadata(digest: digest, decoding: $0) }
    }

    func markErased(_ txn: WriteTransaction, blob: SHA256Digest, by index: UInt64, record: JSONValue) throws {
        guard let metadata = try blobMetadata(txn, blob) else { return }
        let erased = BlobMetadata(
            digest: blob, size: metadata.size, mediaType: metadata.mediaType, salted: metadata.salted,
            erasure: .init(
                entry: index, at: record["at"]?.stringValue ?? "", reason: record["reason"]?.stringValue ?? "",
                author: record["author"]?.stringValue))
        try blob.withUnsafeBytes { key in
            try erased.encoded.withUnsafeBytes { try txn.put(tables.blobs, key: key, value: $0) }
        }
        // Every entry that references the blob gets the erasure in its history.
        let prefix = IndexKey(.blob, digest: blob).bytes
        var referencing: [UInt64] = []
        try txn.forEach(tables.index, prefix: prefix) { key, _ in
            referencing.append(readUInt64(key, at: prefix.count))
            return true
        }
        for source in referencing {
            try txn.put(
                tables.refs, key: BigEndianKey.bytes(source) + BigEndianKey.bytes(index),
                value: Array(RecordType.erasure.rawValue.utf8))
        }
    }
}

extension LedgerSnapshot {
    /// The blob's metadata, or `nil` if the ledger never stored it.
    public func blobMetadata(_ digest: SHA256Digest) throws(LedgerError) -> BlobMetadata? {
        try run { try ledger.blobMetadata(txn, digest) }
    }

    /// The blob's metadata and bytes, checked against its digest. Throws `.blobErased` (saying
    /// when, why and in which entry) for an erased blob, `.entryNotFound` for an unknown one and
    /// `.corrupt` when the stored bytes do not hash to the digest. Reads the blob's file.
    public func blob(_ digest: SHA256Digest) throws(LedgerError) -> (metadata: BlobMetadata, bytes: [UInt8]) {
        let (metadata, _, bytes) = try blobContents(digest)
        return (metadata, bytes)
    }

    /// `blob(_:)` with the blob's salt (`[]` for an unsalted blob): what a disclosure hands out.
    public func blobContents(
        _ digest: SHA256Digest
    ) throws(LedgerError) -> (metadata: BlobMetadata, salt: [UInt8], bytes: [UInt8]) {
        guard let metadata = try blobMetadata(digest) else {
            throw LedgerError(.entryNotFound, "no blob \(digest) in this ledger")
        }
        if let erasure = metadata.erasure {
            throw LedgerError(
                .blobErased,
                "blob \(digest) was erased at \(erasure.at) by entry \(erasure.entry)"
                    + (erasure.author.map { " (\($0))" } ?? "") + ": \(erasure.reason)")
        }
        let (salt, bytes) = try ledger.blobStore.contents(of: metadata)
        return (metadata, salt, bytes)
    }
}

extension Substring {
    var trimmingSpaces: Substring {
        var s = self
        while s.first == " " { s = s.dropFirst() }
        while s.last == " " { s = s.dropLast() }
        return s
    }
}
