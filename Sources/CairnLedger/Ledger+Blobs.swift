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

extension Ledger {
    /// Fields of a checkpoint that `extractPayloads` moves to blobs when they are large.
    public static let extractableFields = ["prompt", "raw_output", "turns"]

    // MARK: - Put and get

    /// Stores `bytes` as a content-addressed blob and returns its metadata (existing bytes are
    /// not stored twice). Refuses content that was erased: erased payloads stay erased.
    public func putBlob(_ bytes: [UInt8], mediaType: String) throws -> BlobMetadata {
        guard !isReadOnly else { throw LedgerError(.readOnly, "the ledger at \(directory) is open read-only") }
        guard Self.isValidMediaType(mediaType) else {
            throw LedgerError(
                .invalidArgument, "media type \(mediaType.debugDescription) is not of the form type/subtype")
        }
        let digest = SHA256.hash(bytes)
        if let existing = try env.read({ txn in try blobMetadata(txn, digest) }) {
            if let erasure = existing.erasure {
                throw LedgerError(
                    .blobErased,
                    "blob \(digest) was erased at \(erasure.at) (entry \(erasure.entry)): \(erasure.reason); "
                        + "erased content cannot be stored again")
            }
            if FileSystem.fileExists(blobPath(digest)) { return existing }
        }
        try writeBlobFile(digest, bytes)
        let metadata = BlobMetadata(digest: digest, size: bytes.count, mediaType: mediaType, erasure: nil)
        return try env.write { txn in
            let stored = try digest.withUnsafeBytes { key in
                try metadata.encoded.withUnsafeBytes { try txn.insertIfAbsent(tables.blobs, key: key, value: $0) }
            }
            return try stored.map { try BlobMetadata(digest: digest, decoding: $0) } ?? metadata
        }
    }

    /// The blob's metadata, or `nil` if the ledger never stored it.
    public func blobMetadata(_ digest: SHA256Digest) throws -> BlobMetadata? {
        try env.read { txn in try blobMetadata(txn, digest) }
    }

    func blobMetadata(_ txn: some TransactionReading, _ digest: SHA256Digest) throws -> BlobMetadata? {
        let raw = try digest.withUnsafeBytes { key in try txn.rawValue(tables.blobs, key: key).map { Array($0) } }
        return try raw.map { try BlobMetadata(digest: digest, decoding: $0) }
    }

    /// The blob's bytes, checked against its digest. Throws `.blobErased` (saying when, why and
    /// in which entry) for an erased blob, `.entryNotFound` for an unknown one and `.corrupt`
    /// when the stored bytes do not hash to the digest.
    public func blob(_ digest: SHA256Digest) throws -> (metadata: BlobMetadata, bytes: [UInt8]) {
        guard let metadata = try blobMetadata(digest) else {
            throw LedgerError(.entryNotFound, "no blob \(digest) in this ledger")
        }
        if let erasure = metadata.erasure {
            throw LedgerError(
                .blobErased,
                "blob \(digest) was erased at \(erasure.at) by entry \(erasure.entry)"
                    + (erasure.author.map { " (\($0))" } ?? "") + ": \(erasure.reason)")
        }
        let bytes: [UInt8]
        do {
            bytes = try FileSystem.readFile(blobPath(digest))
        } catch {
            throw LedgerError(
                .corrupt,
                "the bytes of blob \(digest) are missing from \(blobPath(digest)): \(error) (run `cairn fsck`)")
        }
        guard SHA256.hash(bytes) == digest else {
            throw LedgerError(.corrupt, "blob \(digest) is corrupted: its stored bytes hash to \(SHA256.hash(bytes))")
        }
        return (metadata, bytes)
    }

    // MARK: - Erase

    /// Deletes a blob's bytes and appends an `erasure` entry saying when, why and by whom. The
    /// entries that reference the blob stay, so every proof still verifies; reading the blob
    /// afterwards reports the erasure. Safe to run again after a crash: the bytes are deleted
    /// first, then the erasure is committed.
    public func eraseBlob(
        _ digest: SHA256Digest, reason: String, author: String, at timestamp: String
    ) throws -> (metadata: BlobMetadata, commit: CommitResult) {
        guard let metadata = try blobMetadata(digest) else {
            throw LedgerError(.entryNotFound, "no blob \(digest) in this ledger")
        }
        if let erasure = metadata.erasure {
            // Finish an erasure interrupted between its commit and the deletion of the bytes.
            let leftover = FileSystem.fileExists(blobPath(digest))
            try FileSystem.removeDurably(blobPath(digest))
            throw LedgerError(
                .blobErased,
                "blob \(digest) was already erased at \(erasure.at) by entry \(erasure.entry)"
                    + (leftover ? "; its leftover bytes have now been deleted" : ""))
        }
        let record: JSONValue = .object([
            "type": "erasure", "schema": 1, "blob": .string(digest.description), "reason": .string(reason),
            "at": .string(timestamp), "author": .string(author),
        ])
        let entry: PreparedEntry
        do {
            entry = try PreparedEntry.prepare(record: record, rules: recordRules())
        } catch {
            throw LedgerError(.invalidArgument, "cannot record the erasure: \(error.message)")
        }
        try FileSystem.removeDurably(blobPath(digest))
        let commit = try append([entry])
        guard let erased = try blobMetadata(digest) else {
            throw LedgerError(.corrupt, "blob \(digest) metadata vanished during erasure")
        }
        return (erased, commit)
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

    // MARK: - Extraction

    /// Moves large payload fields of a checkpoint (`prompt`, `raw_output`: strings; `turns`:
    /// any JSON) into blobs when their size exceeds `threshold` bytes, replacing each with a blob
    /// reference. Other records are returned unchanged. Deterministic: the same input always
    /// yields the same record, so retries stay idempotent.
    public func extractPayloads(_ record: JSONValue, over threshold: Int) throws -> JSONValue {
        guard threshold > 0, case .object(var object) = record, object["type"]?.stringValue == "checkpoint" else {
            return record
        }
        for field in Self.extractableFields {
            guard let value = object[field] else { continue }
            let bytes: [UInt8]
            let mediaType: String
            switch value {
            case .string(let text):
                bytes = Array(text.utf8)
                mediaType = "text/plain; charset=utf-8"
            case .object(let inner) where inner["blob"] != nil:
                continue  // already a reference
            default:
                guard let canonical = try? JCS.canonicalize(value) else { continue }
                bytes = canonical
                mediaType = "application/json"
            }
            guard bytes.count > threshold else { continue }
            object[field] = try putBlob(bytes, mediaType: mediaType).reference
        }
        return .object(object)
    }

    /// Prepares one record given as JSON text under `rules`, first moving its large payloads to
    /// blobs (`extractPayloads`) when `extractOver > 0` — what `cairn append`, `cairn import` and
    /// `POST /v1/entries` do. The prepared entry is the record as stored: with blob references.
    public func prepareRecord(
        json raw: UnsafeRawBufferPointer, rules: RecordRules, extractOver: Int
    ) throws(RecordError) -> PreparedEntry {
        guard rules.profile == .provenance, extractOver > 0 else {
            return try PreparedEntry.prepare(json: raw, rules: rules)
        }
        let value: JSONValue
        switch Result(catching: { () throws(JSONParseError) in try JSONParser.parse(raw) }) {
        case .success(let parsed): value = parsed
        case .failure(let error): throw RecordError(.invalidJSON, error.description, parseError: error)
        }
        // Validate first, so that an invalid record leaves no blob behind.
        let entry = try PreparedEntry.prepare(record: value, rules: rules)
        let extracted: JSONValue
        do {
            extracted = try extractPayloads(value, over: extractOver)
        } catch {
            throw RecordError(.invalidJSON, "cannot move a large payload to a blob: \(error)")
        }
        return extracted == value ? entry : try PreparedEntry.prepare(record: extracted, rules: rules)
    }

    // MARK: - Files

    func blobPath(_ digest: SHA256Digest) -> String {
        let hex = digest.hex
        return Ledger.path(directory, LedgerLayout.blobDirectory) + "/" + hex.prefix(2) + "/" + hex.dropFirst(2)
    }

    private func writeBlobFile(_ digest: SHA256Digest, _ bytes: [UInt8]) throws {
        let path = blobPath(digest)
        let dir = String(path[..<path.lastIndex(of: "/")!])
        try FileSystem.createDirectories(dir)
        try FileSystem.writeAtomically(path, contents: bytes, mode: 0o640)
    }

    static func isValidMediaType(_ text: String) -> Bool {
        let main = text.split(separator: ";", maxSplits: 1)[0].trimmingSpaces
        let parts = main.split(separator: "/", omittingEmptySubsequences: false)
        return parts.count == 2 && parts.allSatisfy { !$0.isEmpty && !$0.contains(" ") }
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
