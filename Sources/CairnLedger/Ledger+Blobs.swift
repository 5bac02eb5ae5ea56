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

    public let digest: SHA256Digest
    public let size: Int
    public let mediaType: String
    /// Set once the bytes are gone.
    public let erasure: Erasure?

    /// The reference records use: `{"blob": "sha256:…", "size": N, "media_type": "…"}`.
    public var reference: JSONValue {
        .object(["blob": .string(digest.description), "size": .number(Double(size)), "media_type": .string(mediaType)])
    }

    var encoded: [UInt8] {
        var object: JSONObject = ["size": .number(Double(size)), "media_type": .string(mediaType)]
        if let erasure {
            var e: JSONObject = [
                "entry": .number(Double(erasure.entry)), "at": .string(erasure.at), "reason": .string(erasure.reason),
            ]
            if let author = erasure.author { e["author"] = .string(author) }
            object["erased"] = .object(e)
        }
        return JSONWriter.compactBytes(.object(object))
    }

    init(digest: SHA256Digest, size: Int, mediaType: String, erasure: Erasure?) {
        self.digest = digest
        self.size = size
        self.mediaType = mediaType
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
        self.init(digest: digest, size: size, mediaType: mediaType, erasure: erasure)
    }
}

/// A payload split off a record to be stored as a blob: its bytes, address and media type.
/// Computed purely while a record is prepared (`PayloadExtraction`); written by the ingest
/// engine before the record is committed.
public struct BlobPayload: Sendable, Hashable {
    public let digest: SHA256Digest
    public let bytes: [UInt8]
    public let mediaType: String
    /// The record field it was moved out of (`prompt`, `raw_output`, `turns`), if any.
    public let field: String?

    public init(bytes: [UInt8], mediaType: String, field: String? = nil) {
        self.bytes = bytes
        self.digest = SHA256.hash(bytes)
        self.mediaType = mediaType
        self.field = field
    }

    /// The metadata the ledger stores for it.
    public var metadata: BlobMetadata {
        BlobMetadata(digest: digest, size: bytes.count, mediaType: mediaType, erasure: nil)
    }

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

    /// The stored bytes of a blob, checked against its address.
    public func bytes(of digest: SHA256Digest) throws(LedgerError) -> [UInt8] {
        let bytes: [UInt8]
        do {
            bytes = try FileSystem.readFile(path(for: digest))
        } catch {
            throw LedgerError(
                .corrupt,
                "the bytes of blob \(digest) are missing from \(path(for: digest)): \(error) (run `cairn fsck`)")
        }
        guard SHA256.hash(bytes) == digest else {
            throw LedgerError(.corrupt, "blob \(digest) is corrupted: its stored bytes hash to \(SHA256.hash(bytes))")
        }
        return bytes
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
                try FileSystem.writeAtomically(path, contents: payload.bytes, mode: 0o640)
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
            digest: blob, size: metadata.size, mediaType: metadata.mediaType,
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
        guard let metadata = try blobMetadata(digest) else {
            throw LedgerError(.entryNotFound, "no blob \(digest) in this ledger")
        }
        if let erasure = metadata.erasure {
            throw LedgerError(
                .blobErased,
                "blob \(digest) was erased at \(erasure.at) by entry \(erasure.entry)"
                    + (erasure.author.map { " (\($0))" } ?? "") + ": \(erasure.reason)")
        }
        return (metadata, try ledger.blobStore.bytes(of: digest))
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
