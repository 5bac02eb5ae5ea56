import CairnCrypto
import CairnInsight
import CairnJSON
import CairnLedger
import CairnProofs
import CairnRecords

/// The proof bundles the dashboard's record pages offer (`GET /ui/records/{index}/proof`), each verifiable offline
/// with the log's verifier key and nothing else:
///
/// - a checkpoint record: one file, the in-toto statement of `cairn export in-toto` in a DSSE envelope signed with
///   the log's key, holding the effective record, the record as appended when corrected, and the entry's C2SP
///   tlog-proof (specs/in-toto.md), checked by `cairn verify in-toto --vkey ledger.vkey FILE`;
/// - any other record (which has no in-toto form): the entry's C2SP tlog-proof, with the entry's bytes as a
///   second download, checked by `cairn verify inclusion --vkey ledger.vkey --proof FILE --entry ENTRY`.
///
/// The statement is `cairn export in-toto`'s (`InTotoStatement`); DashboardRoutesTests verifies a downloaded envelope
/// with the real `cairn verify in-toto`.
enum DashboardProofBundle {
    /// The format a record's bundle takes: in-toto for a checkpoint record whose outputs make subjects,
    /// a tlog-proof otherwise.
    static func format(for view: RecordView) -> DashboardProofFormat {
        guard view.effective["type"]?.stringValue == RecordType.checkpoint.rawValue,
            (try? InTotoStatement.subjects(of: view.effective)) != nil
        else { return .tlogProof }
        return .inToto
    }

    /// The bundle's bytes for `view`, whose inclusion proof is `proof`, signing with `ledger`'s key when it is an
    /// in-toto envelope. Reads the signing key: call it on the ledger I/O pool.
    static func bytes(for view: RecordView, proof: TlogProof, ledger: Ledger) throws -> [UInt8] {
        switch format(for: view) {
        case .tlogProof:
            return Array(proof.serialized.utf8)
        case .inToto:
            let payload: [UInt8]
            do {
                payload = try JCS.canonicalize(
                    try InTotoStatement.make(
                        view: view, checkpoint: proof.checkpoint.checkpoint, proofText: proof.serialized))
            } catch {
                throw APIError(
                    .internalError, "entry \(view.index): its in-toto statement cannot be made: \(error)")
            }
            let envelope = try DSSEEnvelope.sign(
                payload: payload, payloadType: DSSEEnvelope.inTotoPayloadType, keyID: ledger.verifierKey.nameAndID
            ) { try ledger.signDSSE(preAuthenticationEncoding: $0) }
            return JSONWriter.compactBytes(json(envelope)) + [0x0A]
        }
    }

    /// The standard DSSE JSON envelope (specs/in-toto.md §1).
    static func json(_ envelope: DSSEEnvelope) -> JSONValue {
        .object([
            "payload": .string(Base64.encode(envelope.payload)),
            "payloadType": .string(envelope.payloadType),
            "signatures": .array(
                envelope.signatures.map { signature in
                    var object = JSONObject()
                    if let keyID = signature.keyID { object["keyid"] = .string(keyID) }
                    object["sig"] = .string(Base64.encode(signature.signature))
                    return .object(object)
                }),
        ])
    }
}
