import CairnJSON
import CairnLedger
import CairnNote
import CairnProofs

// `cairn verify … --vkey PINNED --key-history FILE` (specs/key-rotation.md §4): the keys to trust are those the
// verified history reaches from the pinned vkey, each for the tree sizes it signs.

/// Reads and verifies a key history file from the pinned key. A missing file is exit 66; a malformed one, or one
/// that does not verify, is a failed verification (`badKeyHistory`, exit 1).
func loadKeyRing(_ file: String, pinned: NoteVerifierKey, origin: String?) throws -> LogKeyRing {
    let bytes = try readInput(file, what: "key history file")
    do throws(KeyHistoryError) {
        return try KeyHistory(parsing: bytes).verify(pinned: pinned, origin: origin)
    } catch {
        throw ProofError(.badKeyHistory, "key history \(file): \(error.message)")
    }
}

/// `cairn verify checkpoint` with a key history (and perhaps a policy, whose witnesses' quorum must be met too).
func verifyWithKeyHistory(
    _ bytes: [UInt8], ring: LogKeyRing, policy: TlogPolicy?, origin: String?
) throws -> (String, JSONObject) {
    let signed: SignedCheckpoint
    do throws(NoteError) {
        signed = try SignedCheckpoint(parsing: bytes)
    } catch {
        throw ProofError(.malformed, error.message)
    }
    let checkpoint = try CheckpointVerifier.verify(bytes, keyRing: ring, origin: origin)
    let (suffix, details) = try keyHistoryReport(signed, ring: ring, policy: policy)
    var object = checkpointDetails(checkpoint)
    object["key_history"] = details
    return (
        "checkpoint of \(checkpoint.origin) at size \(checkpoint.size), root \(checkpoint.rootHash.base64)" + suffix,
        object
    )
}

/// The summary suffix and JSON details of a checkpoint verified with a key ring: which keys signed it (for its
/// size), and, with a policy, the witnesses' cosignatures, which must meet its quorum.
func keyHistoryReport(
    _ signed: SignedCheckpoint, ring: LogKeyRing, policy: TlogPolicy?
) throws -> (String, JSONValue) {
    let size = signed.checkpoint.size
    let signers = ring.members(forSize: size).filter { member in
        signed.note.signatures.contains { $0.names(member.key) }
    }
    let names = signers.map(\.key.nameAndID)
    var summary = "; signed by " + names.joined(separator: " and ")
    var details: JSONObject = [
        "signed_by": .array(
            signers.map { .object(["vkey": .string($0.key.description), "sizes": .string($0.sizesText)]) })
    ]
    if let policy {
        let cosignatures = try policy.verifyCosignatures(signed)
        let witnesses = cosignatures.map(\.witness)
        summary +=
            "; quorum \(policy.quorum) met"
            + (witnesses.isEmpty ? "" : ", cosigned by " + witnesses.joined(separator: ", "))
        details["policy"] = .object([
            "quorum": .string(policy.quorum),
            "cosignatures": .array(
                cosignatures.map {
                    .object([
                        "witness": .string($0.witness), "key": .string($0.key.nameAndID),
                        "timestamp": .uint($0.timestamp),
                    ])
                }),
        ])
    }
    return (summary, .object(details))
}
