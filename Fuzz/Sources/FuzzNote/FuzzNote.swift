// FuzzNote: C2SP signed notes, checkpoints, cosignatures, signature lines and verifier keys (CairnNote).
//
// Every input is tried as each of: a signed note, a signed checkpoint, a checkpoint body, a vkey and a
// signature line. The keys trusted are the fuzzers' fixed log and witness keys and the published test keys of
// /work/shared/vectors/note, so vector notes and generated seeds verify and their mutations reach the
// verification code. Oracles:
// - a parsed note, checkpoint body, vkey or signature line re-serializes to exactly the input bytes;
// - a signed checkpoint's body is its note's text;
// - a note that verifies names only keys that signed it, and a cosignature that verifies has a timestamp.
import CairnCrypto
import CairnNote
import FuzzKit

private let trusted = FuzzKeys.allKeys

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = bytes(data, size)
    let text = String(validating: input, as: UTF8.self)

    if let note = try? SignedNote(parsing: input) {
        oracle(text != nil, "a note that is not UTF-8 parsed")
        oracle(Array(note.serialized.utf8) == input, "the note does not re-serialize to its input")
        if let verified = try? note.verify(with: trusted) {
            oracle(!verified.isEmpty, "a note verified without a signer")
            for key in verified {
                oracle(
                    note.signatures.contains { $0.name == key.name && $0.keyID == key.keyID },
                    "verification names \(key.nameAndID), which did not sign")
            }
        }
    }

    if let signed = try? SignedCheckpoint(parsing: input) {
        oracle(signed.checkpoint.text == signed.note.text, "the checkpoint is not the note's text")
        for key in trusted where signed.note.signatures.contains(where: { $0.keyID == key.keyID }) {
            if key.type == NoteVerifierKey.ed25519Type {
                if let checkpoint = try? signed.verify(logKey: key, origin: signed.checkpoint.origin) {
                    oracle(checkpoint == signed.checkpoint, "verification returned another checkpoint")
                }
            } else if let timestamp = try? CosignatureV1.verify(signed, cosigner: key) {
                oracle(timestamp <= CosignatureV1.maxTimestamp, "cosignature timestamp \(timestamp) out of range")
            }
        }
    }

    guard let text else { return 0 }
    if let checkpoint = try? Checkpoint(parsing: text) {
        oracle(checkpoint.text == text, "the checkpoint body does not re-serialize to its input")
    }
    if input.count < 400, let key = try? NoteVerifierKey(parsing: text) {
        oracle(key.description == text, "the vkey does not re-serialize to its input")
    }
    if input.count < 400, let signature = try? NoteSignature(parsingLine: text) {
        oracle(
            signature.line == text || signature.line == text + "\n",
            "the signature line does not re-serialize to its input")
    }
    return 0
}

private func seeds() -> [[UInt8]] {
    var notes: [String] = []
    for (size, cosigners) in [(UInt64(0), 0), (1, 1), (2, 2), (600, 2)] {
        let root = FuzzLog.roots[Int(size)]
        notes.append(FuzzKeys.signedCheckpoint(size: size, root: root, cosigners: cosigners).serialized)
    }
    let withExtension = FuzzKeys.signedCheckpoint(
        size: 7, root: FuzzLog.roots[7], extensionLines: ["ext one", "Timestamp: 1"], cosigners: 1)
    notes.append(withExtension.serialized)
    notes.append(withExtension.checkpoint.text)
    notes += FuzzKeys.allKeys.map(\.description)
    notes.append(withExtension.note.signatures[0].line)
    return notes.map { Array($0.utf8) }
}

@_cdecl("FuzzNote_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    fuzzerMain(argc, argv, seeds: seeds) { fuzz($0, $1) }
}
