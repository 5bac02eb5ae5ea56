import CairnCrypto
import CairnJSON
import CairnLedger
import CairnMerkle
import CairnNote
import CairnStorage
import CairnTestSupport
import Foundation
import Testing

/// Key rotation in the ledger (`rotateSigningKey`, the key schedule, fsck) and the key history's verification
/// (`KeyHistory`, `LogKeyRing`), specs/key-rotation.md.
@Suite("Key rotation")
struct KeyRotationTests {
    static func key(_ seed: UInt8) throws -> Ed25519PrivateKey {
        try Ed25519PrivateKey(seed: [UInt8](repeating: seed, count: 32))
    }

    static func options(_ seed: UInt8, revoke: UInt64? = nil) throws -> KeyRotationOptions {
        var options = KeyRotationOptions(reason: "rotation \(seed)", author: "ops", at: "2026-12-01T00:00:00Z")
        options.newKey = try key(seed)
        options.revokeFromSize = revoke
        return options
    }

    /// A generic ledger of 5 entries, rotated at 6 (entry 5) to key 2 and at 9 (entry 8) to key 3, with 2 more
    /// entries: 11 in all.
    static func rotatedTwice(_ dir: TemporaryDirectory) throws -> (Ledger, [NoteVerifierKey]) {
        var create = Ledger.CreateOptions()
        create.signingKey = try key(1)
        let ledger = try makeLedger(dir, options: create)
        let original = ledger.verifierKey
        _ = try ledger.append(entries(0..<5))
        let first = try ledger.rotateSigningKey(try options(2))
        #expect(first.entryIndex == 5 && first.fromSize == 6 && !first.resumed)
        #expect(ledger.verifierKey == first.newKey)
        _ = try ledger.append(entries(5..<7))
        let second = try ledger.rotateSigningKey(try options(3))
        #expect(second.fromSize == 9)
        _ = try ledger.append(entries(7..<9))
        return (ledger, [original, first.newKey, second.newKey])
    }

    @Test("Each size is signed by its key (both at a rotation's size), and fsck checks exactly that")
    func schedule() throws {
        let dir = try TemporaryDirectory()
        let (ledger, keys) = try Self.rotatedTwice(dir)
        for size: UInt64 in [0, 5, 6, 8, 9, 11] {
            let checkpoint = try ledger.checkpoint(size: size)
            let signers = keys.filter { key in checkpoint.note.signatures.contains { $0.names(key) } }
            let expected: [NoteVerifierKey] =
                switch size {
                case 0, 5: [keys[0]]
                case 6: [keys[0], keys[1]]
                case 8: [keys[1]]
                case 9: [keys[1], keys[2]]
                default: [keys[2]]
                }
            #expect(signers == expected, "size \(size)")
        }
        #expect(try ledger.fsck().checkpoints == 6)
        let listed = try ledger.read { try $0.signingKeys() }
        #expect(listed.map(\.vkey) == keys)
        #expect(listed.map(\.fromSize) == [0, 6, 9] && listed.map(\.rotationEntry) == [nil, 5, 8])
        // A reopened ledger knows its current key.
        let reopened = try Ledger.open(at: dir.path)
        #expect(reopened.verifierKey == keys[2])
        _ = try reopened.append(entries(20..<21))
        #expect(try reopened.fsck().leaves == 12)
    }

    @Test("fsck refuses a rotation's checkpoint without the new key's signature, and a key history that lies")
    func fsckFindsTampering() throws {
        let dir = try TemporaryDirectory()
        let (ledger, keys) = try Self.rotatedTwice(dir)
        let env = try LMDBEnvironment.shared(directory: dir.path)
        let checkpoints = try env.openTable("checkpoints")
        let meta = try env.openTable("meta")
        let stored = try ledger.checkpoint(size: 6)
        let oldOnly = try SignedNote(
            text: stored.note.text, signatures: stored.note.signatures.filter { $0.names(keys[0]) })
        try env.write { txn in try txn.put(checkpoints, key: 6, value: Array(oldOnly.serialized.utf8)) }
        var error = #expect(throws: LedgerError.self) { try ledger.fsck() }
        #expect(
            error?.code == .corrupt
                && error?.message.contains("size 6 does not verify with \(keys[1].nameAndID)") == true)
        try env.write { txn in try txn.put(checkpoints, key: 6, value: Array(stored.serialized.utf8)) }
        #expect(try ledger.fsck().checkpoints == 6)

        let history = try #require(try env.read { try $0.value(meta, key: Array("key_history".utf8)) })
        let lying = String(decoding: history, as: UTF8.self).replacingOccurrences(
            of: "\"from_size\":9", with: "\"from_size\":8")
        try env.write { txn in try txn.put(meta, key: Array("key_history".utf8), value: Array(lying.utf8)) }
        error = #expect(throws: LedgerError.self) { try ledger.fsck() }
        #expect(error?.code == .corrupt && error?.message.contains("key history") == true, "\(error?.message ?? "")")
        try env.write { txn in try txn.put(meta, key: Array("key_history".utf8), value: history) }
        #expect(try ledger.fsck().checkpoints == 6)
    }

    @Test("A staged key the ledger never committed to (a rotation that failed before its commit) is erased")
    func abandonedStagedKey() throws {
        let dir = try TemporaryDirectory()
        let ledger = try makeLedger(dir)
        let staged = dir.file("signing-key.next.pem")
        _ = try dir.write("signing-key.next.pem", try Self.key(8).pemRepresentation)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: staged)
        #expect(try ledger.fsck().leaves == 0)
        #expect(try ledger.finishInterruptedKeyRotation() == nil)
        #expect(!FileManager.default.fileExists(atPath: staged))
        let rotated = try ledger.rotateSigningKey(try Self.options(9))
        #expect(!rotated.resumed && rotated.fromSize == 1)
        #expect(!FileManager.default.fileExists(atPath: staged))
        #expect(try ledger.fsck().checkpoints == 2)
    }

    @Test("A line by a key the log used before a rotation is refused as a cosignature")
    func oldKeyIsNoCosigner() async throws {
        let dir = try TemporaryDirectory()
        var create = Ledger.CreateOptions()
        create.signingKey = try Self.key(1)
        let ledger = try makeLedger(dir, options: create)
        _ = try ledger.rotateSigningKey(try Self.options(2))
        let old = try NoteSigner(name: "example.com/t", privateKey: try Self.key(1))
        let line = try old.sign(text: try ledger.checkpoint(size: 1).checkpoint.text)
        await #expect(throws: LedgerError.self) { try await ledger.addCosignatures([line], size: 1) }
        #expect(try ledger.fsck().checkpoints == 2)
    }

    @Test("A process that loaded the old key is refused after another rotated it, and nothing is appended")
    func staleSigner() throws {
        let dir = try TemporaryDirectory()
        let ledger = try makeLedger(dir)
        let other = try Ledger.open(at: dir.path)
        _ = try other.append(entries(0..<1))  // loads the signer
        _ = try ledger.rotateSigningKey(try Self.options(7))
        let error = #expect(throws: LedgerError.self) { try other.append(entries(1..<2)) }
        #expect(error?.code == .signingKeyUnavailable && error?.message.contains("was rotated") == true)
        #expect(try ledger.treeSize() == 2)
        #expect(try ledger.fsck().leaves == 2)
    }

    @Test("The verified history trusts each key for its sizes, from whichever key of the chain is pinned")
    func ringFromEachPinnedKey() throws {
        let dir = try TemporaryDirectory()
        let (ledger, keys) = try Self.rotatedTwice(dir)
        let history = try ledger.read { try $0.keyHistory() }
        let parsed = try KeyHistory(parsing: Array(history.json.description.utf8))
        #expect(parsed == history)
        for pinned in keys {
            let ring = try parsed.verify(pinned: pinned)
            #expect(ring.members.map(\.key) == keys)
            #expect(ring.members.map(\.firstSize) == [0, 6, 9] && ring.members.map(\.lastSize) == [6, 9, nil])
            #expect(ring.members(forSize: 6).map(\.key) == [keys[0], keys[1]])
            #expect(ring.members(forSize: 7).map(\.key) == [keys[1]])
        }
        let stranger = try NoteSigner(name: "example.com/t", privateKey: try Self.key(9)).verifierKey
        let error = #expect(throws: KeyHistoryError.self) { try parsed.verify(pinned: stranger) }
        #expect(error?.code == .keyNotInHistory)
    }

    @Test("A revoked key counts below its revocation only, and the chain is not followed past it")
    func revocation() throws {
        let dir = try TemporaryDirectory()
        let ledger = try makeLedger(dir)
        let original = ledger.verifierKey
        _ = try ledger.append(entries(0..<5))
        let tooLate = #expect(throws: LedgerError.self) { try ledger.rotateSigningKey(try Self.options(2, revoke: 7)) }
        #expect(tooLate?.code == .invalidArgument)
        #expect(try ledger.treeSize() == 5 && ledger.verifierKey == original)
        let rotated = try ledger.rotateSigningKey(try Self.options(2, revoke: 3))
        let history = try ledger.read { try $0.keyHistory() }
        let fromOriginal = try history.verify(pinned: original)
        #expect(fromOriginal.members.map(\.key) == [original])
        #expect(fromOriginal.members[0].lastSize == 2 && fromOriginal.members[0].revokedFromSize == 3)
        #expect(fromOriginal.untrusted.map(\.key) == [rotated.newKey])
        let fromNew = try history.verify(pinned: rotated.newKey)
        #expect(fromNew.members.map(\.key) == [original, rotated.newKey])
        #expect(try ledger.fsck().checkpoints == 3)
        #expect(try ledger.read { try $0.signingKeys() }.first?.revokedFromSize == 3)
    }

    @Test("Mutated key histories never trap, and one that still verifies trusts exactly the same keys and sizes")
    func mutatedHistories() throws {
        let dir = try TemporaryDirectory()
        let (ledger, keys) = try Self.rotatedTwice(dir)
        let bytes = Array(try ledger.read { try $0.keyHistory() }.json.description.utf8)
        let valid = try KeyHistory(parsing: bytes).verify(pinned: keys[0])
        var generator = SeededGenerator(seed: 14)
        var accepted = 0
        for _ in 0..<3000 {
            var mutated = bytes
            for _ in 0..<Int.random(in: 1...3, using: &generator) {
                let position = Int.random(in: 0..<mutated.count, using: &generator)
                switch Int.random(in: 0..<3, using: &generator) {
                case 0: mutated[position] ^= UInt8(1 << Int.random(in: 0..<8, using: &generator))
                case 1: mutated.remove(at: position)
                default: mutated.insert(UInt8.random(in: 0x20...0x7e, using: &generator), at: position)
                }
            }
            guard let history = try? KeyHistory(parsing: mutated), let ring = try? history.verify(pinned: keys[0])
            else { continue }
            accepted += 1
            #expect(ring.members == valid.members, "a mutation changed what is trusted")
        }
        #expect(accepted < 3000)
    }
}
