import CairnCrypto
import CairnJSON
import CairnMerkle
import CairnNote
import CairnRecords

// Sealed logs and their successors (specs/sealing.md): a `seal` record is a log's last entry; a `predecessor`
// record is its successor's first, carrying the sealed log's final checkpoint, the seal entry that checkpoint ends
// with and its inclusion proof, so that anyone holding the predecessor's vkey can check the link offline.

/// Why a seal or a link between logs does not hold.
public struct SuccessionError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable, Equatable {
        /// The entry is not a valid record of the expected type.
        case invalidRecord
        /// The predecessor's final checkpoint does not verify with the key given, or names another log.
        case badCheckpoint
        /// The seal entry is not the last leaf of the predecessor's final checkpoint.
        case badProof
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}

/// A `seal` record: the last entry of the log named `origin`.
///
/// ```json
/// {"type":"seal","schema":1,"origin":"example.com/cairn-2026","at":"2026-12-31T23:59:59Z",
///  "author":"ops@example.com","reason":"yearly shard closed"}
/// ```
public struct SealRecord: Sendable, Hashable {
    /// The record's `type`.
    public static let type = RecordType.seal.rawValue

    /// The log sealed.
    public let origin: String
    /// When (RFC 3339 UTC).
    public let at: String
    /// Who sealed it.
    public let author: String
    /// Why.
    public let reason: String

    public init(origin: String, at: String, author: String, reason: String) {
        self.origin = origin
        self.at = at
        self.author = author
        self.reason = reason
    }

    /// The record as JSON.
    public var json: JSONValue {
        .object([
            "type": .string(Self.type), "schema": .int(RecordType.schemaVersion), "origin": .string(origin),
            "at": .string(at), "author": .string(author), "reason": .string(reason),
        ])
    }

    /// Reads a logged entry as a seal record, valid under schema 1.
    public init(entry bytes: [UInt8]) throws(SuccessionError) {
        let value = try Self.record(bytes, type: Self.type)
        origin = value["origin"]?.stringValue ?? ""
        at = value["at"]?.stringValue ?? ""
        author = value["author"]?.stringValue ?? ""
        reason = value["reason"]?.stringValue ?? ""
    }

    /// `bytes` parsed as a valid schema-1 record of `type`.
    static func record(_ bytes: [UInt8], type: String) throws(SuccessionError) -> JSONValue {
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes)
        } catch {
            throw SuccessionError(.invalidRecord, "the entry is not JSON: \(error)")
        }
        guard value["type"]?.stringValue == type else {
            throw SuccessionError(
                .invalidRecord,
                "the entry is not a \(type) record (its type is \(value["type"].map(JSONWriter.compact) ?? "missing"))")
        }
        let issues = RecordValidator.issues(in: value, options: .stored)
        guard issues.isEmpty else {
            throw SuccessionError(
                .invalidRecord,
                "the \(type) record is not valid: " + issues.map(\.description).joined(separator: "; "))
        }
        return value
    }
}

/// A `predecessor` record: the first entry of a successor log, committing to its sealed predecessor.
///
/// `checkpoint` is the predecessor's final signed checkpoint (a C2SP signed note, verbatim), `sealEntry` the exact
/// bytes of its last entry (a `seal` record in canonical JSON), and `sealProof` that entry's inclusion proof in the
/// checkpoint's tree (index size − 1), so the link can be checked with nothing but the predecessor's vkey.
public struct PredecessorRecord: Sendable, Hashable {
    /// The record's `type`.
    public static let type = RecordType.predecessor.rawValue

    /// The predecessor's origin.
    public let origin: String
    /// The predecessor's key that signed `checkpoint`.
    public let vkey: NoteVerifierKey
    /// The predecessor's final signed checkpoint, verbatim.
    public let checkpoint: String
    /// The predecessor's last entry: its seal record, as logged.
    public let sealEntry: [UInt8]
    /// The seal entry's inclusion proof in `checkpoint`'s tree.
    public let sealProof: [SHA256Digest]
    /// When the successor was created.
    public let at: String
    /// Who created it.
    public let author: String

    public init(
        origin: String, vkey: NoteVerifierKey, checkpoint: String, sealEntry: [UInt8], sealProof: [SHA256Digest],
        at: String, author: String
    ) {
        self.origin = origin
        self.vkey = vkey
        self.checkpoint = checkpoint
        self.sealEntry = sealEntry
        self.sealProof = sealProof
        self.at = at
        self.author = author
    }

    /// The record as JSON.
    public var json: JSONValue {
        .object([
            "type": .string(Self.type), "schema": .int(RecordType.schemaVersion), "origin": .string(origin),
            "vkey": .string(vkey.description), "checkpoint": .string(checkpoint),
            "seal_entry": .string(String(decoding: sealEntry, as: UTF8.self)),
            "seal_proof": .array(sealProof.map { .string($0.base64) }), "at": .string(at), "author": .string(author),
        ])
    }

    /// Reads a logged entry as a predecessor record, valid under schema 1 (the link itself is checked by
    /// ``verify(with:)``).
    public init(entry bytes: [UInt8]) throws(SuccessionError) {
        let value = try SealRecord.record(bytes, type: Self.type)
        do {
            vkey = try NoteVerifierKey(parsing: value["vkey"]?.stringValue ?? "")
        } catch {
            throw SuccessionError(.invalidRecord, "the record's vkey: \(error.message)")
        }
        var proof: [SHA256Digest] = []
        for (position, item) in (value["seal_proof"]?.arrayValue ?? []).enumerated() {
            guard let hash = item.stringValue.flatMap({ SHA256Digest(base64: $0) }) else {
                throw SuccessionError(
                    .invalidRecord, "the record's seal_proof[\(position)] is not the base64 of a 32-byte hash")
            }
            proof.append(hash)
        }
        origin = value["origin"]?.stringValue ?? ""
        checkpoint = value["checkpoint"]?.stringValue ?? ""
        sealEntry = Array((value["seal_entry"]?.stringValue ?? "").utf8)
        sealProof = proof
        at = value["at"]?.stringValue ?? ""
        author = value["author"]?.stringValue ?? ""
    }

    /// What a verified link says about the predecessor.
    public struct Link: Sendable, Hashable {
        /// The predecessor's final checkpoint (its size counts the seal entry).
        public let checkpoint: Checkpoint
        /// The seal, the predecessor's entry `checkpoint.size - 1`.
        public let seal: SealRecord
    }

    /// Checks the link with `key`, the predecessor's vkey the verifier trusts: the checkpoint verifies with it and
    /// names the record's origin; the seal entry is canonical JSON, a valid seal record of that origin; and the
    /// proof shows it is the checkpoint tree's last leaf. Nothing here is trusted from the successor log.
    public func verify(with key: NoteVerifierKey) throws(SuccessionError) -> Link {
        let final: Checkpoint
        do {
            final = try SignedCheckpoint(parsing: checkpoint).verify(logKey: key, origin: origin)
        } catch {
            throw SuccessionError(
                .badCheckpoint,
                "the predecessor's final checkpoint does not verify with \(key.nameAndID) for origin \(origin): "
                    + error.message)
        }
        guard let canonical = try? JCS.canonicalize(try JSONParser.parse(sealEntry)), canonical == sealEntry else {
            throw SuccessionError(.invalidRecord, "seal_entry is not a record in canonical JSON (RFC 8785)")
        }
        let seal = try SealRecord(entry: sealEntry)
        guard seal.origin.utf8.elementsEqual(origin.utf8) else {
            throw SuccessionError(
                .invalidRecord, "the seal entry seals \(seal.origin), not the predecessor \(origin)")
        }
        guard final.size > 0 else {
            throw SuccessionError(.badProof, "the predecessor's final checkpoint is of the empty tree: it has no seal")
        }
        do {
            try MerkleVerifier.verifyInclusion(
                leafHash: RFC6962.leafHash(sealEntry), index: final.size - 1, treeSize: final.size, proof: sealProof,
                root: final.rootHash)
        } catch {
            throw SuccessionError(
                .badProof,
                "the seal entry is not the last entry (\(final.size - 1)) of the predecessor's final checkpoint: "
                    + "\(error)")
        }
        return Link(checkpoint: final, seal: seal)
    }
}
