import CairnCrypto
import CairnJSON
import CairnMerkle
import CairnNote
import CairnRecords

/// A `key-rotation` record (specs/key-rotation.md §2): the log's signing key replaced by a new one, named by both
/// vkeys, with the old key's endorsement of the new one.
///
/// ```json
/// {"type":"key-rotation","schema":1,"old_vkey":"…","new_vkey":"…","endorsement":"<base64>",
///  "at":"2026-12-01T10:00:00Z","author":"ops@example.com","reason":"yearly rotation"}
/// ```
public struct KeyRotationRecord: Sendable, Hashable {
    /// The record's `type`.
    public static let type = RecordType.keyRotation.rawValue
    /// The first line of the endorsed message.
    public static let endorsementFormat = "cairn-key-rotation/v1"

    /// The key being replaced.
    public let oldKey: NoteVerifierKey
    /// The key that signs from the rotation on.
    public let newKey: NoteVerifierKey
    /// The old key's Ed25519 signature of ``endorsementMessage(old:new:)`` (64 bytes).
    public let endorsement: [UInt8]
    /// When the rotation was made (RFC 3339 UTC).
    public let at: String
    /// Who made it.
    public let author: String
    /// Why.
    public let reason: String
    /// Set when the old key is declared compromised: its signatures count only for tree sizes below this.
    public let revokedFromSize: UInt64?

    public init(
        oldKey: NoteVerifierKey, newKey: NoteVerifierKey, endorsement: [UInt8], at: String, author: String,
        reason: String, revokedFromSize: UInt64? = nil
    ) {
        self.oldKey = oldKey
        self.newKey = newKey
        self.endorsement = endorsement
        self.at = at
        self.author = author
        self.reason = reason
        self.revokedFromSize = revokedFromSize
    }

    /// What the old key signs to endorse the new one: `cairn-key-rotation/v1`, the old vkey and the new vkey, each
    /// on a line of its own ending in LF. Its second line holds `+`, so it never parses as a checkpoint.
    public static func endorsementMessage(old: NoteVerifierKey, new: NoteVerifierKey) -> [UInt8] {
        Array((endorsementFormat + "\n" + old.description + "\n" + new.description + "\n").utf8)
    }

    /// Whether ``endorsement`` is the old key's signature of the endorsement message.
    public var endorsementIsValid: Bool {
        guard let key = try? Ed25519PublicKey(rawRepresentation: oldKey.publicKey) else { return false }
        return key.isValidSignature(endorsement, for: Self.endorsementMessage(old: oldKey, new: newKey))
    }

    /// The record as JSON.
    public var json: JSONValue {
        var object: JSONObject = [
            "type": .string(Self.type), "schema": .int(RecordType.schemaVersion),
            "old_vkey": .string(oldKey.description),
            "new_vkey": .string(newKey.description), "endorsement": .string(Base64.encode(endorsement)),
            "at": .string(at), "author": .string(author), "reason": .string(reason),
        ]
        if let revokedFromSize { object["revoked_from_size"] = .uint(revokedFromSize) }
        return .object(object)
    }

    /// Reads a logged entry as a key-rotation record: valid under schema 1 (`RecordValidator`), both keys type
    /// 0x01 Ed25519 note keys of the same name, different, and the endorsement valid.
    public init(entry bytes: [UInt8]) throws(KeyHistoryError) {
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes)
        } catch {
            throw KeyHistoryError(.invalidRotation, "the entry is not JSON: \(error)")
        }
        guard value["type"]?.stringValue == Self.type else {
            throw KeyHistoryError(
                .invalidRotation,
                "the entry is not a key-rotation record (its type is \(value["type"].map(JSONWriter.compact) ?? "missing"))"
            )
        }
        let issues = RecordValidator.issues(in: value, options: .stored)
        guard issues.isEmpty else {
            throw KeyHistoryError(
                .invalidRotation,
                "the key-rotation record is not valid: " + issues.map(\.description).joined(separator: "; "))
        }
        func key(_ field: String) throws(KeyHistoryError) -> NoteVerifierKey {
            do {
                return try NoteVerifierKey(parsing: value[field]?.stringValue ?? "")
            } catch {
                throw KeyHistoryError(.invalidRotation, "the record's \(field): \(error.message)")
            }
        }
        let old = try key("old_vkey")
        let new = try key("new_vkey")
        guard old.name.sameBytes(as: new.name) else {
            throw KeyHistoryError(
                .invalidRotation, "the record's new_vkey is named \(new.name), not \(old.name) like its old_vkey")
        }
        guard old != new else { throw KeyHistoryError(.invalidRotation, "the record's new_vkey is its old_vkey") }
        self.init(
            oldKey: old, newKey: new, endorsement: Base64.decode(value["endorsement"]?.stringValue ?? "") ?? [],
            at: value["at"]?.stringValue ?? "", author: value["author"]?.stringValue ?? "",
            reason: value["reason"]?.stringValue ?? "",
            revokedFromSize: value["revoked_from_size"]?.nonNegativeIntValue.map { UInt64($0) })
        guard endorsementIsValid else {
            throw KeyHistoryError(
                .invalidRotation,
                "the record's endorsement is not \(old.nameAndID)'s signature of the new key \(new.nameAndID)")
        }
    }
}

/// Why a key history was refused.
public struct KeyHistoryError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable, CaseIterable {
        /// The file does not follow the format (specs/key-rotation.md §3).
        case malformed
        /// A rotation does not verify: signatures, inclusion, the record, or the sizes.
        case invalidRotation
        /// The pinned vkey is none of the history's keys.
        case keyNotInHistory
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}

/// A log's key history file (`cairn key history --json`, specs/key-rotation.md §3): its first key and each
/// rotation with what lets a verifier who pinned any key of the chain check it offline — the `key-rotation`
/// entry, its inclusion proof and the checkpoint that commits it, signed by the old and the new key.
public struct KeyHistory: Sendable, Hashable {
    /// The value of `format`.
    public static let format = "cairn-key-history/v1"
    /// The most rotations a file may hold (each costs a few signature checks).
    public static let maxRotations = 1000
    /// The largest entry a rotation may carry, in bytes (a key-rotation record is well under 1 KiB).
    public static let maxEntryBytes = 64 * 1024

    /// One rotation.
    public struct Rotation: Sendable, Hashable {
        /// The key that signs from `fromSize` on.
        public let newKey: NoteVerifierKey
        /// The tree size of the checkpoint that commits the rotation, signed by both keys; the new key signs the
        /// checkpoints of this size and larger ones.
        public let fromSize: UInt64
        /// The index of the `key-rotation` entry: `fromSize - 1`, the last entry of that checkpoint's tree.
        public let entryIndex: UInt64
        /// The entry's bytes, as logged.
        public let entry: [UInt8]
        /// The RFC 6962 inclusion proof of the entry in the tree of `fromSize` leaves.
        public let inclusionProof: [SHA256Digest]
        /// The checkpoint of size `fromSize`, signed by the old and the new key (and perhaps by witnesses).
        public let checkpoint: SignedCheckpoint

        public init(
            newKey: NoteVerifierKey, fromSize: UInt64, entryIndex: UInt64, entry: [UInt8],
            inclusionProof: [SHA256Digest], checkpoint: SignedCheckpoint
        ) {
            self.newKey = newKey
            self.fromSize = fromSize
            self.entryIndex = entryIndex
            self.entry = entry
            self.inclusionProof = inclusionProof
            self.checkpoint = checkpoint
        }
    }

    /// The log's first key, which signs from size 0.
    public let originalKey: NoteVerifierKey
    /// The rotations, oldest first.
    public let rotations: [Rotation]

    public init(originalKey: NoteVerifierKey, rotations: [Rotation]) {
        self.originalKey = originalKey
        self.rotations = rotations
    }

    /// Every key of the chain, oldest first.
    public var keys: [NoteVerifierKey] { [originalKey] + rotations.map(\.newKey) }

    // MARK: - The file

    /// The file's JSON document.
    public var json: JSONValue {
        .object([
            "format": .string(Self.format), "original_vkey": .string(originalKey.description),
            "rotations": .array(
                rotations.map { rotation in
                    .object([
                        "new_vkey": .string(rotation.newKey.description), "from_size": .uint(rotation.fromSize),
                        "entry_index": .uint(rotation.entryIndex), "entry": .string(Base64.encode(rotation.entry)),
                        "inclusion_proof": .array(rotation.inclusionProof.map { .string($0.base64) }),
                        "checkpoint": .string(rotation.checkpoint.serialized),
                    ])
                }),
        ])
    }

    /// Parses a key history file. Checks the form only (`malformed`); ``verify(pinned:origin:)`` checks the rest.
    /// Members the format does not define are ignored.
    public init(parsing bytes: [UInt8]) throws(KeyHistoryError) {
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes)
        } catch {
            throw KeyHistoryError(.malformed, "not JSON: \(error)")
        }
        guard let object = value.objectValue else {
            throw KeyHistoryError(.malformed, "expected a JSON object, found \(value.kindName)")
        }
        guard object["format"]?.stringValue == Self.format else {
            throw KeyHistoryError(
                .malformed,
                "$.format: expected \"\(Self.format)\", found \(object["format"].map(JSONWriter.compact) ?? "nothing")")
        }
        let original = try Self.key(object["original_vkey"], at: "$.original_vkey")
        guard let list = object["rotations"]?.arrayValue else {
            throw KeyHistoryError(.malformed, "$.rotations: expected an array of rotations")
        }
        guard list.count <= Self.maxRotations else {
            throw KeyHistoryError(
                .malformed, "$.rotations: \(list.count) rotations; a key history holds at most \(Self.maxRotations)")
        }
        var rotations: [Rotation] = []
        for (position, item) in list.enumerated() {
            rotations.append(try Self.rotation(item, at: "$.rotations[\(position)]"))
        }
        self.init(originalKey: original, rotations: rotations)
    }

    private static func rotation(_ value: JSONValue, at path: String) throws(KeyHistoryError) -> Rotation {
        guard value.objectValue != nil else {
            throw KeyHistoryError(.malformed, "\(path): expected an object, found \(value.kindName)")
        }
        let newKey = try key(value["new_vkey"], at: path + ".new_vkey")
        let fromSize = try size(value["from_size"], at: path + ".from_size")
        let entryIndex = try size(value["entry_index"], at: path + ".entry_index")
        guard let entryText = value["entry"]?.stringValue, let entry = Base64.decode(entryText) else {
            throw KeyHistoryError(.malformed, "\(path).entry: expected the entry's bytes in padded base64")
        }
        guard entry.count <= maxEntryBytes else {
            throw KeyHistoryError(
                .malformed, "\(path).entry: \(entry.count) bytes; a key-rotation entry is at most \(maxEntryBytes)")
        }
        guard let hashes = value["inclusion_proof"]?.arrayValue, hashes.count <= 63 else {
            throw KeyHistoryError(.malformed, "\(path).inclusion_proof: expected an array of at most 63 hashes")
        }
        var proof: [SHA256Digest] = []
        for (position, hash) in hashes.enumerated() {
            guard let text = hash.stringValue, let digest = SHA256Digest(base64: text) else {
                throw KeyHistoryError(
                    .malformed, "\(path).inclusion_proof[\(position)]: expected a base64 SHA-256 hash (44 characters)")
            }
            proof.append(digest)
        }
        guard let note = value["checkpoint"]?.stringValue else {
            throw KeyHistoryError(.malformed, "\(path).checkpoint: expected the signed checkpoint's text")
        }
        let checkpoint: SignedCheckpoint
        do {
            checkpoint = try SignedCheckpoint(parsing: note)
        } catch {
            throw KeyHistoryError(.malformed, "\(path).checkpoint: \(error.message)")
        }
        return Rotation(
            newKey: newKey, fromSize: fromSize, entryIndex: entryIndex, entry: entry, inclusionProof: proof,
            checkpoint: checkpoint)
    }

    private static func key(_ value: JSONValue?, at path: String) throws(KeyHistoryError) -> NoteVerifierKey {
        guard let text = value?.stringValue else {
            throw KeyHistoryError(.malformed, "\(path): expected a verifier key (name+id+key)")
        }
        let key: NoteVerifierKey
        do {
            key = try NoteVerifierKey(parsing: text)
        } catch {
            throw KeyHistoryError(.malformed, "\(path): \(error.message)")
        }
        guard key.type == NoteVerifierKey.ed25519Type else {
            throw KeyHistoryError(.malformed, "\(path): a log key has type 0x01 (Ed25519), not a cosigner's 0x04")
        }
        return key
    }

    private static func size(_ value: JSONValue?, at path: String) throws(KeyHistoryError) -> UInt64 {
        guard let number = value?.nonNegativeIntValue else {
            throw KeyHistoryError(.malformed, "\(path): expected an integer from 0 to 2^53 - 1")
        }
        return UInt64(number)
    }

    // MARK: - Verification

    /// Verifies every rotation, oldest first, and returns the keys to trust given the pinned vkey `pinned` (the
    /// original key, or any key of the chain), each with the tree sizes it signs (specs/key-rotation.md §4):
    ///
    /// 1. the new key has the log's key name and is none of the earlier keys;
    /// 2. `from_size` exceeds the previous rotation's, and `entry_index` is `from_size - 1`;
    /// 3. the checkpoint has size `from_size` and the log's origin (`origin`, or the key name), and carries a valid
    ///    signature by the previous key and by the new key;
    /// 4. the entry is included at `entry_index` in the checkpoint's tree (RFC 9162 §2.1.3.2);
    /// 5. the entry is a `key-rotation` record whose `old_vkey` is the previous key and `new_vkey` the new one,
    ///    with a valid endorsement by the previous key, and any `revoked_from_size` at most `from_size`.
    ///
    /// Trust runs forward from the pinned key through each rotation, except through one that revokes the key it
    /// replaces (a compromised key cannot vouch for its successor: pin the new key itself), and backward to every
    /// earlier key, for the sizes it signed before it was replaced or revoked.
    public func verify(pinned: NoteVerifierKey, origin: String? = nil) throws(KeyHistoryError) -> LogKeyRing {
        let keys = self.keys
        guard let position = keys.firstIndex(of: pinned) else {
            throw KeyHistoryError(
                .keyNotInHistory,
                "the pinned vkey \(pinned.nameAndID) is not in the key history (its keys: "
                    + keys.map(\.nameAndID).joined(separator: ", ") + ")")
        }
        var revoked: [UInt64?] = []  // per rotation: the revocation of the key it replaces
        var previousFrom: UInt64 = 0
        for (step, rotation) in rotations.enumerated() {
            let old = keys[step]
            let context = "rotation \(step + 1) (to \(rotation.newKey.nameAndID) at size \(rotation.fromSize))"
            func fail(_ message: String) -> KeyHistoryError {
                KeyHistoryError(.invalidRotation, "\(context): \(message)")
            }
            guard rotation.newKey.name.sameBytes(as: originalKey.name) else {
                throw fail("the new key is named \(rotation.newKey.name), not \(originalKey.name) like the log's key")
            }
            guard !keys[...step].contains(where: { $0.keyID == rotation.newKey.keyID }) else {
                throw fail("the new key has the key ID of an earlier key of the log")
            }
            guard rotation.fromSize > previousFrom else {
                throw fail("from_size \(rotation.fromSize) does not follow the previous start, size \(previousFrom)")
            }
            guard rotation.entryIndex == rotation.fromSize - 1 else {
                throw fail(
                    "entry_index \(rotation.entryIndex) is not from_size - 1: the rotation's entry is the last entry "
                        + "of the checkpoint that commits it")
            }
            let checkpoint = rotation.checkpoint
            guard checkpoint.checkpoint.size == rotation.fromSize else {
                throw fail("the checkpoint has size \(checkpoint.checkpoint.size), not from_size \(rotation.fromSize)")
            }
            for (key, role) in [(old, "previous"), (rotation.newKey, "new")] {
                do {
                    try checkpoint.verify(logKey: key, origin: origin)
                } catch {
                    throw fail("the checkpoint is not signed by the \(role) key \(key.nameAndID): \(error.message)")
                }
            }
            do {
                try MerkleVerifier.verifyInclusion(
                    leafHash: RFC6962.leafHash(rotation.entry), index: rotation.entryIndex, treeSize: rotation.fromSize,
                    proof: rotation.inclusionProof, root: checkpoint.checkpoint.rootHash)
            } catch {
                throw fail(
                    "the entry is not in the checkpoint's tree at index \(rotation.entryIndex): \(error.message)")
            }
            let record: KeyRotationRecord
            do {
                record = try KeyRotationRecord(entry: rotation.entry)
            } catch {
                throw fail(error.message)
            }
            guard record.oldKey == old else {
                throw fail("the record replaces \(record.oldKey.nameAndID), not the previous key \(old.nameAndID)")
            }
            guard record.newKey == rotation.newKey else {
                throw fail("the record names the new key \(record.newKey.nameAndID), not \(rotation.newKey.nameAndID)")
            }
            if let revokedFrom = record.revokedFromSize, revokedFrom > rotation.fromSize {
                throw fail("revoked_from_size \(revokedFrom) is beyond the rotation's size \(rotation.fromSize)")
            }
            revoked.append(record.revokedFromSize)
            previousFrom = rotation.fromSize
        }
        var members: [LogKeyRing.Member] = []
        var untrusted: [LogKeyRing.Untrusted] = []
        for (index, key) in keys.enumerated() {
            let first = index == 0 ? 0 : rotations[index - 1].fromSize
            let revokedFrom = index < rotations.count ? revoked[index] : nil
            var last = index < rotations.count ? Optional(rotations[index].fromSize) : nil
            if let revokedFrom {
                // Revoked from N: the sizes below N only, and none if it started at N or later.
                guard revokedFrom > first else {
                    untrusted.append(
                        LogKeyRing.Untrusted(
                            key: key,
                            reason: "the rotation at size \(rotations[index].fromSize) revoked it from size "
                                + "\(revokedFrom), before it signed anything"))
                    continue
                }
                last = min(last ?? .max, revokedFrom - 1)
            }
            if index > position, let blocking = (position..<index).first(where: { revoked[$0] != nil }) {
                untrusted.append(
                    LogKeyRing.Untrusted(
                        key: key,
                        reason: "the key history reaches it only through the rotation at size "
                            + "\(rotations[blocking].fromSize), which revoked the key it replaced: a compromised key "
                            + "cannot vouch for its successor; pin \(keys[blocking + 1].nameAndID) itself (published "
                            + "by the log's operator) with --vkey"))
                continue
            }
            members.append(
                LogKeyRing.Member(key: key, firstSize: first, lastSize: last, revokedFromSize: revokedFrom))
        }
        return LogKeyRing(members: members, untrusted: untrusted)
    }
}
