// FuzzKeyHistory: key history files as `cairn verify … --key-history` reads them (CairnLedger: `KeyHistory(parsing:)`,
// then `verify(pinned:)`, specs/key-rotation.md), and the key-rotation records inside them
// (`KeyRotationRecord(entry:)`).
//
// The generated seeds are the histories of a log of the fuzzers' log key rotated twice — to the keys of seeds 0x51
// and 0x52, at sizes 6 and 9 — with every signature, endorsement and inclusion proof valid, so mutations reach the
// checks behind the signatures.
//
// Oracles:
// - never traps;
// - a parsed history serializes (`json`) to a text that parses to an equal history;
// - soundness: whichever key of the chain is pinned, a history that verifies trusts only keys of the seeds' chain,
//   each from the size it starts at there and up to the size it ends at there (or without end, for the last key
//   of a history that stops early): no mutation can add a key, move a rotation or widen a range;
// - a rotation entry that `KeyRotationRecord(entry:)` accepts has a valid endorsement.
import CairnCrypto
import CairnJSON
import CairnLedger
import CairnMerkle
import CairnNote
import FuzzKit

private let rotationKeys = [0x51, 0x52].map { try! Ed25519PrivateKey(seed: [UInt8](repeating: $0, count: 32)) }
private let signers =
    [FuzzKeys.logSigner] + rotationKeys.map { try! NoteSigner(name: FuzzKeys.logName, privateKey: $0) }
private let keys = signers.map(\.verifierKey)

/// The seeds' log: 5 entries, a rotation (entry 5, size 6), 2 entries, a rotation (entry 8, size 9), 2 entries.
private let history: KeyHistory = {
    var tree = InMemoryMerkleTree()
    var entries: [[UInt8]] = []
    var rotations: [KeyHistory.Rotation] = []
    func add(_ entry: [UInt8]) {
        entries.append(entry)
        tree.append(entry: entry)
    }
    let privateKeys = [FuzzKeys.logPrivateKey] + rotationKeys
    for step in 0..<2 {
        while entries.count < (step == 0 ? 5 : 8) { add(FuzzLog.entry(UInt64(entries.count))) }
        let record = KeyRotationRecord(
            oldKey: keys[step], newKey: keys[step + 1],
            endorsement: try! privateKeys[step].signature(
                for: KeyRotationRecord.endorsementMessage(old: keys[step], new: keys[step + 1])),
            at: "2026-12-01T00:00:00Z", author: "fuzz", reason: "rotation \(step + 1)")
        add(try! JCS.canonicalize(record.json))
        let size = UInt64(entries.count)
        let checkpoint = Checkpoint(origin: FuzzKeys.logName, size: size, rootHash: tree.root)
        let signed = try! SignedCheckpoint.sign(checkpoint, with: signers[step]).adding(
            try! signers[step + 1].sign(text: checkpoint.text))
        rotations.append(
            KeyHistory.Rotation(
                newKey: keys[step + 1], fromSize: size, entryIndex: size - 1, entry: entries[entries.count - 1],
                inclusionProof: try! MerkleTree.inclusionProof(index: size - 1, treeSize: size, reader: tree),
                checkpoint: signed))
    }
    return KeyHistory(originalKey: keys[0], rotations: rotations)
}()

private let validRing = try! history.verify(pinned: keys[0])

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = bytes(data, size)
    guard let parsed = try? KeyHistory(parsing: input) else { return 0 }
    let again = try? KeyHistory(parsing: Array(JSONWriter.compact(parsed.json).utf8))
    oracle(again == parsed, "a parsed key history does not survive its own serialization")
    for rotation in parsed.rotations {
        if let record = try? KeyRotationRecord(entry: rotation.entry) {
            oracle(record.endorsementIsValid, "a rotation record with an invalid endorsement was accepted")
        }
    }
    for pinned in keys {
        guard let ring = try? parsed.verify(pinned: pinned) else { continue }
        for member in ring.members {
            // A history may stop before the seeds' last rotation: its last key then has no end.
            oracle(
                validRing.members.contains {
                    $0.key == member.key && $0.firstSize == member.firstSize
                        && (member.lastSize == nil || member.lastSize == $0.lastSize)
                },
                "a verified history trusts \(member.key.nameAndID) for \(member.sizesText), which the chain does not")
        }
        oracle(ring.members.contains { $0.key == pinned }, "the pinned key is not trusted")
    }
    return 0
}

private func seeds() -> [[UInt8]] {
    let full = history.json
    let one = KeyHistory(originalKey: keys[0], rotations: Array(history.rotations.prefix(1))).json
    let none = KeyHistory(originalKey: keys[0], rotations: []).json
    return [full, one, none].map { Array(JSONWriter.compact($0).utf8) }
}

@_cdecl("FuzzKeyHistory_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    fuzzerMain(argc, argv, seeds: seeds) { fuzz($0, $1) }
}
