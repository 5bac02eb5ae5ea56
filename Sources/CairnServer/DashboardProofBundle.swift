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
/// The statement is built as `InTotoStatement.make` in Sources/CairnCLI/ExportInTotoCommand.swift builds it
/// (the server cannot depend on the CLI); DashboardRoutesTests verifies a downloaded envelope with the real
/// `cairn verify in-toto`, so the two cannot drift apart unnoticed.
enum DashboardProofBundle {
    static let statementType = "https://in-toto.io/Statement/v1"
    static let predicateType = "https://cairn.dev/provenance/checkpoint/v1"

    /// The format a record's bundle takes: in-toto for a checkpoint record whose outputs make subjects,
    /// a tlog-proof otherwise.
    static func format(for view: RecordView) -> DashboardProofFormat {
        guard view.effective["type"]?.stringValue == RecordType.checkpoint.rawValue,
            (try? subjects(of: view.effective)) != nil
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
                payload = try JCS.canonicalize(try statement(view: view, proof: proof))
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

    /// The in-toto statement of the checkpoint record `view` (specs/in-toto.md §2).
    static func statement(view: RecordView, proof: TlogProof) throws -> JSONValue {
        let corrections = view.history.filter { $0.type == .correction }
        var entry: JSONObject = ["index": .uint(view.index), "digest": .string(view.digest.description)]
        if let appendedAt = view.appendedAt { entry["appended_at"] = .string(Timestamp.format(appendedAt)) }
        let checkpoint = proof.checkpoint.checkpoint
        var predicate: JSONObject = [
            "checkpoint": view.effective,
            "entry": .object(entry),
            "corrections": .array(
                corrections.map { .object(["index": .uint($0.index), "digest": .string($0.digest.description)]) }),
        ]
        if !corrections.isEmpty { predicate["original"] = view.original }
        predicate["log"] = .object([
            "origin": .string(checkpoint.origin),
            "tree_size": .uint(checkpoint.size),
            "root_hash": .string(checkpoint.rootHash.base64),
            "inclusion_proof": .string(proof.serialized),
        ])
        return .object([
            "_type": .string(statementType),
            "subject": .array(try subjects(of: view.effective)),
            "predicateType": .string(predicateType),
            "predicate": .object(predicate),
        ])
    }

    struct SubjectError: Error, CustomStringConvertible {
        let description: String
    }

    /// One subject per distinct commit (`gitCommit`), then one per distinct file (`sha256`, named
    /// `<commit>:<path>`), each with `annotations.repo`, in the order of the record's outputs.
    static func subjects(of record: JSONValue) throws(SubjectError) -> [JSONValue] {
        guard let outputs = record["outputs"]?.arrayValue, !outputs.isEmpty else {
            throw SubjectError(description: "the record has no outputs")
        }
        var commits: [JSONValue] = []
        var files: [JSONValue] = []
        var seenCommits: Set<[String]> = []
        var seenFiles: Set<[String]> = []
        for (i, output) in outputs.enumerated() {
            func field(_ name: String) throws(SubjectError) -> String {
                guard let value = output[name]?.stringValue, !value.isEmpty else {
                    throw SubjectError(description: "$.outputs[\(i)].\(name) is missing or not a string")
                }
                return value
            }
            let repo = try field("repo")
            let commit = try field("commit")
            let path = try field("path")
            let contentHash = try field("content_hash")
            let hex = contentHash.dropFirst("sha256:".count)
            guard contentHash.hasPrefix("sha256:"), hex.count == 64,
                hex.allSatisfy({ ("0"..."9").contains($0) || ("a"..."f").contains($0) })
            else {
                throw SubjectError(description: "$.outputs[\(i)].content_hash is not sha256:<64 lower-case hex digits>")
            }
            let annotations: JSONValue = .object(["repo": .string(repo)])
            if seenCommits.insert([repo, commit]).inserted {
                commits.append(
                    .object([
                        "name": .string(commit), "digest": .object(["gitCommit": .string(commit)]),
                        "annotations": annotations,
                    ]))
            }
            if seenFiles.insert([repo, commit, path, String(hex)]).inserted {
                files.append(
                    .object([
                        "name": .string(commit + ":" + path), "digest": .object(["sha256": .string(String(hex))]),
                        "annotations": annotations,
                    ]))
            }
        }
        return commits + files
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
