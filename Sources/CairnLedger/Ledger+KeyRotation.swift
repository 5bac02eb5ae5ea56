import CairnCrypto
import CairnJSON
import CairnMerkle
import CairnNote
import CairnRecords
import CairnStorage

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Key rotation (specs/key-rotation.md): the log's signing key is replaced by a new one. One commit appends a
// `key-rotation` record naming both vkeys, signs its checkpoint with the old and the new key, and records the new
// key in `meta/vkey` and `meta/key_history`; later checkpoints are signed by the new key alone. The key files
// follow: the new key becomes `signing-key.pem` (staged first as `signing-key.next.pem`, so that an interrupted
// rotation can be finished), the old one is kept as `signing-key.<key ID>.pem.retired` or destroyed, and
// `ledger.vkey` holds the new vkey.

/// One key of a ledger's history (`meta/key_history`, specs/storage.md).
public struct LedgerKey: Sendable, Hashable {
    /// The key.
    public let vkey: NoteVerifierKey
    /// The first tree size whose checkpoint it signs (0 for the log's first key; for a later key, the size of the
    /// checkpoint that commits its rotation, which the previous key signs too).
    public let fromSize: UInt64
    /// The index of the `key-rotation` entry that introduced it (nil for the first key).
    public let rotationEntry: UInt64?
    /// Set when the rotation that replaced it declared it compromised: its signatures count only below this size.
    public let revokedFromSize: UInt64?

    public init(vkey: NoteVerifierKey, fromSize: UInt64, rotationEntry: UInt64?, revokedFromSize: UInt64?) {
        self.vkey = vkey
        self.fromSize = fromSize
        self.rotationEntry = rotationEntry
        self.revokedFromSize = revokedFromSize
    }
}

/// A ledger's keys, oldest first, and the sizes each signed: `meta/key_history`, or the single key of `meta/vkey`.
struct KeySchedule {
    let keys: [LedgerKey]

    /// The keys whose signature the stored checkpoint of `size` carries: the key of its size, and at the size
    /// of a rotation both the old and the new key.
    func signers(forSize size: UInt64) -> [NoteVerifierKey] {
        var result: [NoteVerifierKey] = []
        for (index, key) in keys.enumerated() where key.fromSize <= size {
            let next = index + 1 < keys.count ? keys[index + 1].fromSize : nil
            if next.map({ size <= $0 }) ?? true { result.append(key.vkey) }
        }
        return result
    }

    /// Every key for the sizes the log signed with it (revocations not applied: the stored checkpoints are the
    /// log's own), for checking a checkpoint a caller holds.
    var ring: LogKeyRing {
        LogKeyRing(
            members: keys.enumerated().map { index, key in
                LogKeyRing.Member(
                    key: key.vkey, firstSize: key.fromSize,
                    lastSize: index + 1 < keys.count ? keys[index + 1].fromSize : nil)
            })
    }

    /// The stored form: compact JSON, `[{"from_size":0,"vkey":"…"},{"from_size":6,"rotation_entry":5,…}]`.
    var bytes: [UInt8] {
        let items: [JSONValue] = keys.map { key in
            var object: JSONObject = ["vkey": .string(key.vkey.description), "from_size": .uint(key.fromSize)]
            if let entry = key.rotationEntry { object["rotation_entry"] = .uint(entry) }
            if let revoked = key.revokedFromSize { object["revoked_from_size"] = .uint(revoked) }
            return .object(object)
        }
        return (try? JCS.canonicalize(.array(items))) ?? []
    }

    init(keys: [LedgerKey]) {
        self.keys = keys
    }

    /// Parses the stored form; any problem is `.corrupt`.
    init(stored bytes: [UInt8]) throws {
        func corrupt(_ why: String) -> LedgerError {
            LedgerError(.corrupt, "meta/\(LedgerLayout.MetaKey.keyHistory) is malformed: \(why) (run `cairn fsck`)")
        }
        guard let items = (try? JSONParser.parse(bytes))?.arrayValue, !items.isEmpty else {
            throw corrupt("expected a non-empty JSON array")
        }
        var keys: [LedgerKey] = []
        for (index, item) in items.enumerated() {
            guard let text = item["vkey"]?.stringValue, let vkey = try? NoteVerifierKey(parsing: text),
                let from = item["from_size"]?.nonNegativeIntValue
            else { throw corrupt("key \(index) lacks a valid vkey or from_size") }
            let entry = item["rotation_entry"]?.nonNegativeIntValue
            guard (index == 0) == (entry == nil), index == 0 ? from == 0 : from > 0 else {
                throw corrupt("key \(index) has a wrong from_size or rotation_entry")
            }
            keys.append(
                LedgerKey(
                    vkey: vkey, fromSize: UInt64(from), rotationEntry: entry.map { UInt64($0) },
                    revokedFromSize: item["revoked_from_size"]?.nonNegativeIntValue.map { UInt64($0) }))
        }
        self.keys = keys
    }
}

/// What `append` needs to commit a key rotation (`Ledger.rotateSigningKey`).
package struct KeyRotationCommit: Sendable {
    /// The new key's signer, which co-signs the rotation's checkpoint.
    let newSigner: NoteSigner
    /// The content address of the `key-rotation` entry: the one key-rotation record the commit admits.
    let entryDigest: SHA256Digest
    /// The record's `revoked_from_size`: the old key is revoked from that size on.
    let revokedFromSize: UInt64?
}

/// How to rotate a ledger's signing key.
public struct KeyRotationOptions: Sendable {
    /// The new key; nil generates one.
    public var newKey: Ed25519PrivateKey?
    /// Why (the record's `reason`): non-blank.
    public var reason: String
    /// Who (the record's `author`).
    public var author: String
    /// When (the record's `at`, RFC 3339 UTC).
    public var at: String
    /// Declare the old key compromised: its signatures count only for tree sizes below this one (at most the
    /// size of the rotation's checkpoint).
    public var revokeFromSize: UInt64?
    /// Destroy the old key's file (overwritten with zeros, unlinked) instead of keeping it as
    /// `signing-key.<key ID>.pem.retired`.
    public var destroyOldKey = false

    public init(reason: String, author: String, at: String) {
        self.reason = reason
        self.author = author
        self.at = at
    }
}

/// What a key rotation did.
public struct KeyRotationResult: Sendable, Hashable {
    /// The key replaced.
    public let oldKey: NoteVerifierKey
    /// The key that signs from now on.
    public let newKey: NoteVerifierKey
    /// The index of the `key-rotation` entry.
    public let entryIndex: UInt64
    /// The size of the checkpoint signed by both keys, from which the new key signs.
    public let fromSize: UInt64
    /// Where the old key's file was kept, or nil when it was destroyed (or was not there).
    public let retiredKeyFile: String?
    /// True when this call finished a rotation that an earlier one committed but could not complete (the key
    /// files), rather than making a new one.
    public let resumed: Bool
}

extension LedgerLayout.MetaKey {
    /// The ledger's keys, oldest first, with the sizes they sign (`KeySchedule`); absent until the first rotation.
    static let keyHistory = "key_history"
}

extension Ledger {
    /// The new key of a rotation in progress, written before the rotation commits.
    static let stagedSigningKeyFile = "signing-key.next.pem"

    /// `signing-key.<8 hex key ID>.pem.retired`: where a rotation keeps the key it replaced.
    public static func retiredSigningKeyFile(_ key: NoteVerifierKey) -> String {
        "signing-key." + String(key.keyID, radix: 16).leftPadded(to: 8) + ".pem.retired"
    }

    // MARK: - The key schedule

    func keySchedule(_ txn: some TransactionReading) throws -> KeySchedule {
        if let stored = try txn.value(tables.meta, key: Array(LedgerLayout.MetaKey.keyHistory.utf8)) {
            return try KeySchedule(stored: stored)
        }
        return KeySchedule(keys: [
            LedgerKey(vkey: try storedVerifierKey(txn), fromSize: 0, rotationEntry: nil, revokedFromSize: nil)
        ])
    }

    /// `meta/vkey`: the log's current key, as stored (another process may have rotated it since this one opened).
    func storedVerifierKey(_ txn: some TransactionReading) throws -> NoteVerifierKey {
        guard let bytes = try txn.value(tables.meta, key: Array(LedgerLayout.MetaKey.verifierKey.utf8)),
            let key = try? NoteVerifierKey(parsing: String(decoding: bytes, as: UTF8.self))
        else { throw LedgerError(.corrupt, "the stored verifier key (meta/vkey) is missing or malformed") }
        return key
    }

    // MARK: - Inside the commit

    /// Signs the checkpoint of a commit with the log's current key — refusing a signer that is no longer current
    /// (another process rotated the key since this one loaded it) — and, for a key rotation, with the new key
    /// too, recording the new key in the same transaction.
    func signCommit(
        _ checkpoint: Checkpoint, txn: WriteTransaction, signer: NoteSigner, keyRotation: KeyRotationCommit?,
        startSize: UInt64, outcomes: [AppendOutcome]
    ) throws -> SignedCheckpoint {
        // Compared as stored bytes: one short read per commit, no parsing unless the key changed.
        let stored = try txn.value(tables.meta, key: Array(LedgerLayout.MetaKey.verifierKey.utf8))
        guard stored.map({ $0.elementsEqual(signer.verifierKey.description.utf8) }) ?? false else {
            let current = try storedVerifierKey(txn)
            throw LedgerError(
                .signingKeyUnavailable,
                "the log's signing key was rotated to \(current.nameAndID) after this process loaded "
                    + "\(signer.verifierKey.nameAndID); nothing was appended: run the command again (restart a "
                    + "running cairn serve)")
        }
        let signed = try SignedCheckpoint.sign(checkpoint, with: signer)
        guard let keyRotation else { return signed }
        guard outcomes.count == 1, case .appended(let appended) = outcomes[0], !appended.duplicate,
            appended.digest == keyRotation.entryDigest, appended.index == startSize, checkpoint.size == startSize + 1
        else {
            throw LedgerError(
                .invalidArgument, "a key rotation commits exactly its own, new key-rotation entry; nothing was appended"
            )
        }
        if let revoked = keyRotation.revokedFromSize, revoked > checkpoint.size {
            throw LedgerError(
                .invalidArgument,
                "cannot revoke the old key from size \(revoked): the rotation's checkpoint has size "
                    + "\(checkpoint.size), which the old key signs; give a size up to \(checkpoint.size)")
        }
        let schedule = try keySchedule(txn)
        var keys = schedule.keys
        guard let last = keys.popLast() else { throw LedgerError(.corrupt, "the key history is empty") }
        keys.append(
            LedgerKey(
                vkey: last.vkey, fromSize: last.fromSize, rotationEntry: last.rotationEntry,
                revokedFromSize: keyRotation.revokedFromSize))
        let newKey = keyRotation.newSigner.verifierKey
        keys.append(
            LedgerKey(vkey: newKey, fromSize: checkpoint.size, rotationEntry: startSize, revokedFromSize: nil))
        try txn.put(
            tables.meta, key: Array(LedgerLayout.MetaKey.keyHistory.utf8), value: KeySchedule(keys: keys).bytes)
        try txn.put(
            tables.meta, key: Array(LedgerLayout.MetaKey.verifierKey.utf8), value: Array(newKey.description.utf8))
        return try signed.adding(keyRotation.newSigner.sign(text: signed.checkpoint.text))
    }

    // MARK: - Rotation

    /// Rotates the log's signing key (specs/key-rotation.md): appends a `key-rotation` record naming the current
    /// and the new vkey, endorsed by the current key, under a checkpoint signed by both keys; then installs the new
    /// key as `signing-key.pem` and `ledger.vkey`, keeping the old key as `signing-key.<key ID>.pem.retired`
    /// (or destroying it). Every later checkpoint is signed by the new key alone.
    ///
    /// If an earlier rotation committed but could not finish replacing the key files (a crash), this call
    /// finishes that one instead, and says so (`resumed`). Nothing else may write the ledger meanwhile in this
    /// process; another process that appends with the old key afterwards is refused and must be restarted.
    public func rotateSigningKey(_ options: KeyRotationOptions) throws(LedgerError) -> KeyRotationResult {
        try LedgerError.wrapping(fallback: .storage) {
            guard !isReadOnly else { throw LedgerError(.readOnly, "the ledger at \(directory) is open read-only") }
            if let resumed = try finishInterruptedKeyRotation(destroyOldKey: options.destroyOldKey) { return resumed }
            let oldSigner = try loadSigner()
            let oldKey = try loadSigningKey()
            let schedule = try env.read { try keySchedule($0) }
            let newKey = try options.newKey ?? Ed25519PrivateKey.generate()
            let newSigner: NoteSigner
            do throws(NoteError) {
                newSigner = try NoteSigner(name: origin, privateKey: newKey)
            } catch {
                throw LedgerError(.invalidArgument, "the new signing key is unusable: \(error.message)")
            }
            let newVkey = newSigner.verifierKey
            guard !schedule.keys.contains(where: { $0.vkey.keyID == newVkey.keyID }) else {
                throw LedgerError(
                    .invalidArgument,
                    "the new key \(newVkey.nameAndID) is (or has the key ID of) a key this log already used; "
                        + "a rotation needs a key of its own")
            }
            let record = KeyRotationRecord(
                oldKey: oldSigner.verifierKey, newKey: newVkey,
                endorsement: try oldKey.signature(
                    for: KeyRotationRecord.endorsementMessage(old: oldSigner.verifierKey, new: newVkey)),
                at: options.at, author: options.author, reason: options.reason, revokedFromSize: options.revokeFromSize)
            let entry = try Self.prepareOwnRecord(record.json, profile: profile, maxEntryBytes: maxEntryBytes)

            let staged = Ledger.path(directory, Self.stagedSigningKeyFile)
            let newPEM = Array(newKey.pemRepresentation.utf8)
            try Self.files { () throws(FileError) in try DurableFiles.createNew(staged, contents: newPEM, mode: 0o600) }
            let committed: CommitResult
            do {
                committed = try append(
                    [entry],
                    keyRotation: KeyRotationCommit(
                        newSigner: newSigner, entryDigest: entry.digest, revokedFromSize: options.revokeFromSize))
            } catch {
                _ = try? DurableFiles.removeDurably(staged)
                throw error
            }
            adopt(newSigner)
            let retired: String?
            do {
                retired = try installSigningKey(newPEM, newKey: newVkey, destroyOldKey: options.destroyOldKey)
            } catch {
                throw LedgerError(
                    .storage,
                    "the rotation to \(newVkey.nameAndID) is committed (entry \(committed.treeSize - 1)), but the key "
                        + "files could not be replaced: \(error); run `cairn key rotate` again to finish it")
            }
            return KeyRotationResult(
                oldKey: oldSigner.verifierKey, newKey: newVkey, entryIndex: committed.treeSize - 1,
                fromSize: committed.treeSize, retiredKeyFile: retired, resumed: false)
        }
    }

    /// Finishes a rotation that committed but did not finish replacing the key files, if there is one: installs
    /// the staged new key as `signing-key.pem` and its vkey as `ledger.vkey`. Returns nil when there was nothing
    /// to finish (a staged key that the ledger never committed to is erased).
    public func finishInterruptedKeyRotation(destroyOldKey: Bool = false) throws(LedgerError) -> KeyRotationResult? {
        try LedgerError.wrapping(fallback: .storage) {
            guard !isReadOnly else { throw LedgerError(.readOnly, "the ledger at \(directory) is open read-only") }
            let (current, schedule) = try env.read { txn in (try storedVerifierKey(txn), try keySchedule(txn)) }
            if current != verifierKey {
                // Rotated by another process since this one opened the ledger.
                currentKey.withLock { $0 = current }
                signer.withLock { $0 = nil }
            }
            let staged = Ledger.path(directory, Self.stagedSigningKeyFile)
            let vkeyPath = Ledger.path(directory, LedgerLayout.verifierKeyFile)
            let stagedPEM = try Self.files { () throws(FileError) in try DurableFiles.readIfPresent(staged) }
            var retired: String?
            if let stagedPEM {
                guard let key = Self.verifierKey(ofPEM: stagedPEM, origin: origin), key == current else {
                    // Written by a rotation that never committed: not a key of this log.
                    _ = try Self.files { () throws(FileError) in try DurableFiles.removeDurably(staged) }
                    return nil
                }
                retired = try installSigningKey(stagedPEM, newKey: current, destroyOldKey: destroyOldKey)
            } else {
                let listed = try Self.files { () throws(FileError) in try DurableFiles.readIfPresent(vkeyPath) }
                let text = listed.map { String(decoding: $0, as: UTF8.self) } ?? ""
                guard schedule.keys.count > 1, !text.isEmpty,
                    text.trimmingWhitespace() != current.description
                else { return nil }
                try Self.files { () throws(FileError) in
                    try DurableFiles.replace(vkeyPath, contents: Array((current.description + "\n").utf8), mode: 0o644)
                }
            }
            guard schedule.keys.count > 1, let last = schedule.keys.last else { return nil }
            let previous = schedule.keys[schedule.keys.count - 2]
            return KeyRotationResult(
                oldKey: previous.vkey, newKey: last.vkey, entryIndex: last.rotationEntry ?? 0, fromSize: last.fromSize,
                retiredKeyFile: retired, resumed: true)
        }
    }

    /// The signer and current key of this process after a rotation it made.
    private func adopt(_ newSigner: NoteSigner) {
        currentKey.withLock { $0 = newSigner.verifierKey }
        signer.withLock { $0 = newSigner }
    }

    /// Replaces `signing-key.pem` by the new key (whose PEM is also in the staged file) and `ledger.vkey` by its
    /// vkey; the old key is kept as `signing-key.<key ID>.pem.retired` (returned) or destroyed. Each step can be
    /// repeated, so a crash anywhere leaves a state that the next call finishes.
    private func installSigningKey(
        _ pem: [UInt8], newKey: NoteVerifierKey, destroyOldKey: Bool
    ) throws -> String? {
        let keyPath = Ledger.path(directory, LedgerLayout.signingKeyFile)
        let staged = Ledger.path(directory, Self.stagedSigningKeyFile)
        var retired: String?
        try Self.files { () throws(FileError) in
            if let old = try DurableFiles.readIfPresent(keyPath) {
                if let oldKey = Self.verifierKey(ofPEM: old, origin: origin), oldKey == newKey {
                    // Installed already.
                } else {
                    if !destroyOldKey, let oldKey = Self.verifierKey(ofPEM: old, origin: origin) {
                        let path = Ledger.path(directory, Self.retiredSigningKeyFile(oldKey))
                        if let kept = try DurableFiles.readIfPresent(path) {
                            guard kept == old else {
                                throw FileError(
                                    .exists, operation: .create, path: path,
                                    reason: "a different file is already there; move it away")
                            }
                        } else {
                            try DurableFiles.createNew(path, contents: old, mode: 0o600)
                        }
                        retired = path
                    }
                    try DurableFiles.removeDurably(keyPath)
                    try DurableFiles.createNew(keyPath, contents: pem, mode: 0o600)
                }
            } else {
                try DurableFiles.createNew(keyPath, contents: pem, mode: 0o600)
            }
            try DurableFiles.removeDurably(staged)
            try DurableFiles.replace(
                Ledger.path(directory, LedgerLayout.verifierKeyFile), contents: Array((newKey.description + "\n").utf8),
                mode: 0o644)
        }
        return retired
    }

    /// A record the ledger writes itself (a key rotation, a seal, a link to a predecessor) as an entry of a ledger
    /// with this profile: validated (schema 1) and canonical.
    static func prepareOwnRecord(
        _ value: JSONValue, profile: LedgerProfile, maxEntryBytes: Int
    ) throws -> PreparedEntry {
        let type = value["type"]?.stringValue ?? "?"
        let issues = RecordValidator.issues(in: value)
        guard issues.isEmpty else {
            throw LedgerError(
                .invalidArgument,
                "the \(type) record is not valid: " + issues.map(\.description).joined(separator: "; "))
        }
        let canonical = try JCS.canonicalize(value)
        guard canonical.count <= maxEntryBytes else {
            throw LedgerError(
                .entryTooLarge,
                "the \(type) record is \(canonical.count) bytes, over the ledger's limit of \(maxEntryBytes)")
        }
        let facts = profile == .provenance ? try RecordFacts(value) : nil
        return PreparedEntry(canonicalBytes: canonical, facts: facts)
    }

    /// The vkey of the Ed25519 key in a PKCS#8 PEM file, named `origin`; nil when it is not one.
    static func verifierKey(ofPEM pem: [UInt8], origin: String) -> NoteVerifierKey? {
        guard let key = try? Ed25519PrivateKey(pemRepresentation: String(decoding: pem, as: UTF8.self)) else {
            return nil
        }
        return try? NoteVerifierKey(name: origin, ed25519: key.publicKey)
    }

    /// Runs file operations, mapping their failures onto `.storage` (or `.signingKeyUnavailable` for permission).
    static func files<R>(_ body: () throws(FileError) -> R) throws -> R {
        do {
            return try body()
        } catch {
            throw LedgerError(error.code == .permission ? .signingKeyUnavailable : .storage, error.message)
        }
    }

    /// The names of the retired signing keys (`signing-key.<key ID>.pem.retired`) in a ledger directory, sorted.
    static func retiredSigningKeyFiles(in directory: String) -> [String] {
        var names: [String] = []
        if let dir = opendir(directory) {
            defer { closedir(dir) }
            while let entry = readdir(dir) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                    String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
                }
                if isRetiredSigningKeyFile(name) { names.append(name) }
            }
        }
        return names.sorted()
    }

    /// Whether a file name is that of a retired signing key.
    static func isRetiredSigningKeyFile(_ name: String) -> Bool {
        name.hasPrefix("signing-key.") && name.hasSuffix(".pem.retired")
    }

    // MARK: - fsck

    /// The key files of rotations (checked with the other key files, before the snapshot): a staged new key that
    /// the ledger committed to means an interrupted rotation; staged and retired keys must be 0600 like the key.
    func fsckKeyRotationFiles() throws {
        let staged = Ledger.path(directory, Self.stagedSigningKeyFile)
        for name in Self.retiredSigningKeyFiles(in: directory) + [Self.stagedSigningKeyFile] {
            let path = Ledger.path(directory, name)
            var status = stat()
            guard lstat(path, &status) == 0 else { continue }
            if status.st_mode & 0o077 != 0 {
                throw LedgerError(
                    .corrupt,
                    "\(path) is accessible by group or others (mode \(String(status.st_mode & 0o7777, radix: 8))): "
                        + "whoever can read it can sign checkpoints for this log; make it 0600 (chmod 600), or delete "
                        + "it if you no longer need it")
            }
        }
        if let pem = try? DurableFiles.readIfPresent(staged),
            let key = Self.verifierKey(ofPEM: pem, origin: origin), key == verifierKey
        {
            throw LedgerError(
                .corrupt,
                "a key rotation to \(key.nameAndID) was committed but not finished (\(staged) is still there): run "
                    + "`cairn key rotate` again to finish it")
        }
    }

    /// The key history (`meta/key_history`) agrees with the log: the first key signs from 0, the last is
    /// `meta/vkey`, and each rotation's entry is a key-rotation record from the previous key to the new one,
    /// endorsed, whose checkpoint (which the checkpoint check verifies with both keys) is stored.
    func fsckKeySchedule(_ txn: ReadTransaction, treeSize size: UInt64) throws -> KeySchedule {
        let schedule = try keySchedule(txn)
        guard let last = schedule.keys.last, last.vkey == (try storedVerifierKey(txn)) else {
            throw LedgerError(.corrupt, "the key history's last key is not the stored verifier key (meta/vkey)")
        }
        for (index, key) in schedule.keys.enumerated().dropFirst() {
            let previous = schedule.keys[index - 1]
            let context = "key history: the rotation to \(key.vkey.nameAndID)"
            guard key.fromSize > previous.fromSize, key.fromSize <= size, key.rotationEntry == key.fromSize - 1 else {
                throw LedgerError(
                    .corrupt,
                    "\(context) starts at size \(key.fromSize) with entry \(key.rotationEntry.map(String.init) ?? "-"), "
                        + "which does not follow size \(previous.fromSize) or is beyond the tree size \(size)")
            }
            let record: KeyRotationRecord
            do {
                record = try KeyRotationRecord(entry: try entry(txn, key.fromSize - 1))
            } catch let error as KeyHistoryError {
                throw LedgerError(.corrupt, "\(context): entry \(key.fromSize - 1): \(error.message)")
            }
            guard record.oldKey == previous.vkey, record.newKey == key.vkey,
                record.revokedFromSize == previous.revokedFromSize
            else {
                throw LedgerError(
                    .corrupt,
                    "\(context): entry \(key.fromSize - 1) rotates \(record.oldKey.nameAndID) to "
                        + "\(record.newKey.nameAndID) (revoked from \(record.revokedFromSize.map(String.init) ?? "-")), "
                        + "which the key history does not say")
            }
            guard try txn.value(tables.checkpoints, key: key.fromSize) != nil else {
                throw LedgerError(.corrupt, "\(context): no checkpoint is stored for its size \(key.fromSize)")
            }
        }
        return schedule
    }

    /// A stored checkpoint carries a valid signature by each key the log signed its size with.
    func verifyStoredSignatures(_ signed: SignedCheckpoint, size: UInt64, schedule: KeySchedule) throws -> Checkpoint {
        let keys = schedule.signers(forSize: size)
        guard !keys.isEmpty else { throw LedgerError(.corrupt, "no key of the key history signs size \(size)") }
        var checkpoint = signed.checkpoint
        for key in keys {
            do {
                checkpoint = try signed.verify(logKey: key)
            } catch {
                throw LedgerError(
                    .corrupt,
                    "checkpoint for size \(size) does not verify with \(key.nameAndID), "
                        + (keys.count > 1 ? "one of the two keys of the rotation at this size" : "the key of this size")
                        + ": \(error)")
            }
        }
        return checkpoint
    }

    /// Verifies a checkpoint a caller holds as one of this log's: signed by the key the log used at its size.
    func verifyOwnCheckpoint(_ txn: some TransactionReading, _ checkpoint: SignedCheckpoint) throws -> Checkpoint {
        try keySchedule(txn).ring.verify(checkpoint, origin: origin).checkpoint
    }
}

extension LedgerSnapshot {
    /// The log's keys, oldest first, with the sizes each signs (`cairn key history`).
    public func signingKeys() throws(LedgerError) -> [LedgerKey] {
        try run { try ledger.keySchedule(txn).keys }
    }

    /// The log's keys as a verifier who trusts every one of them sees them, each for the sizes the log signed
    /// with it.
    public func keyRing() throws(LedgerError) -> LogKeyRing {
        try run { try ledger.keySchedule(txn).ring }
    }

    /// The key history file of this snapshot (`cairn key history --json`, specs/key-rotation.md §3): each
    /// rotation's entry, its inclusion proof and the checkpoint signed by both keys that commits it.
    public func keyHistory() throws(LedgerError) -> KeyHistory {
        let keys = try signingKeys()
        var rotations: [KeyHistory.Rotation] = []
        for key in keys.dropFirst() {
            guard let index = key.rotationEntry else { continue }
            let proof = try inclusionProof(index: index, size: key.fromSize)
            rotations.append(
                KeyHistory.Rotation(
                    newKey: key.vkey, fromSize: key.fromSize, entryIndex: index, entry: try entry(at: index),
                    inclusionProof: proof.hashes, checkpoint: proof.checkpoint))
        }
        guard let first = keys.first else { throw LedgerError(.corrupt, "the key history is empty") }
        return KeyHistory(originalKey: first.vkey, rotations: rotations)
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        String(repeating: "0", count: Swift.max(0, width - count)) + self
    }

    fileprivate func trimmingWhitespace() -> Substring {
        var slice = Substring(self)
        while let last = slice.last, last.isWhitespace { slice.removeLast() }
        while let first = slice.first, first.isWhitespace { slice.removeFirst() }
        return slice
    }
}
