import ArgumentParser
import CairnCrypto
import CairnJSON
import CairnLedger
import CairnNote
import CairnProofs
import CairnRecords

struct ExportInTotoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "in-toto",
        abstract: "Write a checkpoint record as an in-toto Statement in a DSSE envelope signed by the log's key.",
        discussion: prose(
            """
            Writes an in-toto Statement v1 about the checkpoint record ENTRY (a checkpoint id,
            sha256:<hex> content address or leaf index) in a DSSE envelope, so that in-toto and
            SLSA tooling — policy engines, attestation stores, any DSSE verifier — can consume
            Cairn's provenance. The envelope is one line of JSON:

              {"payload":"<base64 statement>","payloadType":"application/vnd.in-toto+json",
               "signatures":[{"keyid":"<origin>+<key id>","sig":"<base64 Ed25519 signature>"}]}

            The signature is Ed25519, by the ledger's signing key, over DSSE's pre-authentication
            encoding "DSSEv1 <len> application/vnd.in-toto+json <len> <statement>"; the key that
            verifies it is the 32-byte Ed25519 key inside the ledger's vkey (ledger.vkey). The
            keyid is the vkey's name+id: a hint, not trusted.

            The Statement's subjects are the checkpoint's commits, {"gitCommit": <commit>}, named
            by the commit id, and its files, {"sha256": <content_hash>}, named <commit>:<path> as
            git names a file in a commit (`git cat-file blob <name> | sha256sum` gives the digest);
            each carries the repository in annotations.repo. The predicate (predicateType
            https://cairn.dev/provenance/checkpoint/v1) holds the effective record (corrections
            applied), the entry's index and content address, the corrections applied, and the
            log: origin, tree size, root hash and the C2SP tlog-proof that the entry is in the
            log at the current size. So the file alone, with the vkey, shows both that the log
            signed the statement and that the record is in the log: `cairn verify in-toto`
            checks both. Specification: specs/in-toto.md.

            Exporting is a read: the ledger is opened read-only and nothing is stored. It needs
            the signing key (signing-key.pem in the ledger directory), which a read-only copy of
            the ledger without the key does not have. Ed25519 is deterministic: exporting the
            same record at the same tree size gives the same bytes.

            Output (-o, --proof): a new path is written under a temporary name and renamed when
            complete; an existing regular file is overwritten; anything else (a directory, a FIFO,
            a device) is refused with exit status 73.

            EXAMPLES
              cairn export in-toto 0 > statement.dsse.json
              cairn export in-toto 0f8e7a52-3c1d-4d7e-9a41-7f1c2b6e5d01 -o s.intoto.jsonl --proof s.tlog-proof
              jq -r .payload statement.dsse.json | base64 -d | jq '.subject[].name'
              cairn verify in-toto --vkey ledger.vkey statement.dsse.json

            EXIT STATUS
              0   written
              64  usage error, or ENTRY is not a checkpoint record
              65  the checkpoint record cannot be made into a statement (a malformed output)
              66  no such ledger or entry
              70  internal error (a bug in cairn: please report it)
              73  -o or --proof names something other than a new or regular file
              74  the ledger cannot be read, or the output cannot be written
              77  the signing key is missing, unreadable or does not match the ledger
              141 standard output is a pipe whose reader has exited (no message)
            """)
    )

    @OptionGroup var location: LedgerLocation

    @Argument(help: ArgumentHelp("A checkpoint id, sha256:<hex> or leaf index.", valueName: "entry"))
    var entry: String

    @Option(
        name: [.short, .long],
        help: ArgumentHelp(
            "Write the envelope to this file instead of stdout: a new file, or a regular file, which is overwritten.",
            valueName: "file"))
    var output: String?

    @Option(
        help: ArgumentHelp(
            "Also write the entry's C2SP tlog-proof (the one inside the statement) to this file, for "
                + "`cairn verify inclusion`.",
            valueName: "file"))
    var proof: String?

    func run() throws {
        try runReportingErrors {
            // A read: the ledger is opened read-only and nothing is stored; only the key is read.
            let ledger = try location.open(readOnly: true)
            let (view, inclusion) = try ledger.read { snapshot in
                let index = try snapshot.resolve(recordReference: entry)
                return (try snapshot.view(index), try snapshot.inclusionProof(index: index))
            }
            let type = view.effective["type"]?.stringValue
            guard type == "checkpoint" else {
                throw CLIError(
                    .usage,
                    "entry \(view.index) is \(type.map { "a \($0) record" } ?? "not a provenance record"), "
                        + "not a checkpoint: an in-toto statement covers a checkpoint's commits and files")
            }
            let tlogProof = TlogProof(
                index: inclusion.index, hashes: inclusion.hashes, checkpoint: inclusion.checkpoint)
            let statement: JSONValue
            do {
                statement = try InTotoStatement.make(
                    view: view, checkpoint: tlogProof.checkpoint.checkpoint, proofText: tlogProof.serialized)
            } catch let error as InTotoStatement.Failure {
                throw CLIError(.dataError, "entry \(view.index): \(error.message)")
            }
            let payload: [UInt8]
            do {
                payload = try JCS.canonicalize(statement)
            } catch {
                throw CLIError(.dataError, "entry \(view.index): the statement cannot be canonicalized: \(error)")
            }
            let envelope = try DSSEEnvelope.sign(
                payload: payload, payloadType: DSSEEnvelope.inTotoPayloadType, keyID: ledger.verifierKey.nameAndID
            ) { try ledger.signDSSE(preAuthenticationEncoding: $0) }
            let text = JSONWriter.compact(envelope.json) + "\n"
            if let proof { try writeOutputFile(proof, Array(tlogProof.serialized.utf8)) }
            try emit(text, to: output)
            if let output {
                let subjects = statement["subject"]?.arrayValue?.count ?? 0
                Console.line(
                    "wrote \(DisplayText.escape(output)): in-toto statement of entry \(view.index) "
                        + "(\(subjects) subject\(subjects == 1 ? "" : "s")), signed by \(ledger.verifierKey.nameAndID), "
                        + "with its inclusion proof at tree size \(inclusion.checkpoint.checkpoint.size)"
                        + (proof.map { "; proof also in \(DisplayText.escape($0))" } ?? ""))
            }
        }
    }
}

/// The checks `cairn verify in-toto` makes of a statement (CairnLedger's `InTotoStatement` builds them).
extension InTotoStatement {
    /// Checks the statement `payload` (already authenticated by its envelope) for the log key
    /// `key`: its type, that its subjects are those of the checkpoint it carries, that the entry
    /// it names is the record as appended, and that its inclusion proof verifies (against
    /// `policy` too, when given). Returns what was verified.
    static func verify(
        payload: [UInt8], key: NoteVerifierKey, origin: String?, policy: TlogPolicy?
    ) throws -> Verified {
        let statement: JSONValue
        do {
            statement = try JSONParser.parse(payload)
        } catch {
            throw ProofError(.malformed, "the payload is not JSON: \(error)")
        }
        guard statement["_type"]?.stringValue == statementType else {
            throw ProofError(.malformed, "the payload is not an in-toto Statement v1 (_type is not \(statementType))")
        }
        guard statement["predicateType"]?.stringValue == predicateType else {
            throw ProofError(
                .malformed,
                "the statement's predicateType is \((statement["predicateType"]?.stringValue ?? "missing").debugDescription), "
                    + "not \(predicateType)")
        }
        guard let predicate = statement["predicate"], let record = predicate["checkpoint"],
            record["type"]?.stringValue == "checkpoint"
        else { throw ProofError(.malformed, "the predicate holds no checkpoint record") }
        let expected: [JSONValue]
        do {
            expected = try subjects(of: record)
        } catch {
            throw ProofError(.malformed, "predicate.checkpoint: \(error.message)")
        }
        guard statement["subject"]?.arrayValue == expected else {
            throw ProofError(.claimMismatch, "the statement's subjects are not the commits and files of its checkpoint")
        }
        guard let index = predicate["entry"]?["index"]?.numberValue.flatMap({ UInt64(exactly: $0) }),
            let digestText = predicate["entry"]?["digest"]?.stringValue, let digest = SHA256Digest(address: digestText)
        else { throw ProofError(.malformed, "predicate.entry lacks its index or digest") }
        guard let corrections = predicate["corrections"]?.arrayValue else {
            throw ProofError(.malformed, "predicate.corrections is missing")
        }
        // The record as appended: the checkpoint itself, or `original` when corrections apply.
        let appended = corrections.isEmpty ? record : predicate["original"]
        guard let appended else { throw ProofError(.malformed, "predicate.original is missing") }
        let leaf: [UInt8]
        do {
            leaf = try JCS.canonicalize(appended)
        } catch {
            throw ProofError(.malformed, "the record cannot be canonicalized: \(error)")
        }
        guard SHA256.hash(leaf) == digest else {
            throw ProofError(
                .claimMismatch, "the record as appended is \(SHA256.hash(leaf)), not the entry's \(digest)")
        }
        guard let log = predicate["log"], let proofText = log["inclusion_proof"]?.stringValue else {
            throw ProofError(.malformed, "predicate.log.inclusion_proof is missing")
        }
        let proof = try TlogProof(parsing: Array(proofText.utf8))
        guard proof.index == index else {
            throw ProofError(.claimMismatch, "the inclusion proof is for entry \(proof.index), not \(index)")
        }
        let checkpoint: Checkpoint
        var policyVerification: PolicyVerification?
        if let policy {
            policyVerification = try proof.verify(entry: leaf, policy: policy, logKeys: [key], origin: origin)
            checkpoint = policyVerification!.checkpoint
        } else {
            checkpoint = try proof.verify(entry: leaf, logKey: key, origin: origin)
        }
        guard log["origin"]?.stringValue == checkpoint.origin,
            log["tree_size"]?.numberValue.flatMap({ UInt64(exactly: $0) }) == checkpoint.size,
            log["root_hash"]?.stringValue == checkpoint.rootHash.base64
        else {
            throw ProofError(.claimMismatch, "predicate.log is not the checkpoint its inclusion proof verifies against")
        }
        return Verified(
            index: index, digest: digest, id: record["id"]?.stringValue ?? "", checkpoint: checkpoint,
            subjects: expected,
            corrections: corrections.compactMap { $0["index"]?.numberValue.flatMap { UInt64(exactly: $0) } },
            policy: policyVerification)
    }

    struct Verified {
        let index: UInt64
        let digest: SHA256Digest
        let id: String
        let checkpoint: Checkpoint
        let subjects: [JSONValue]
        let corrections: [UInt64]
        let policy: PolicyVerification?
    }
}

extension DSSEEnvelope {
    /// The standard DSSE JSON envelope.
    var json: JSONValue {
        .object([
            "payload": .string(Base64.encode(payload)),
            "payloadType": .string(payloadType),
            "signatures": .array(
                signatures.map { signature in
                    var object = JSONObject()
                    if let keyID = signature.keyID { object["keyid"] = .string(keyID) }
                    object["sig"] = .string(Base64.encode(signature.signature))
                    return .object(object)
                }),
        ])
    }

    /// Reads a DSSE JSON envelope. Empty fields may be omitted (DSSE), except `payloadType` and
    /// `signatures`; base64 may be standard or URL-safe, padded or not; other members are ignored.
    init(json bytes: [UInt8]) throws(ProofError) {
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes)
        } catch {
            throw ProofError(.malformed, "not a DSSE envelope: not JSON: \(error)")
        }
        guard value.objectValue != nil else { throw ProofError(.malformed, "not a DSSE envelope: not a JSON object") }
        func base64(_ text: JSONValue?, _ what: String) throws(ProofError) -> [UInt8] {
            guard let text else { return [] }
            guard let string = text.stringValue, let bytes = DSSEEnvelope.decodeBase64(string) else {
                throw ProofError(.malformed, "DSSE envelope: \(what) is not base64")
            }
            return bytes
        }
        guard let payloadType = value["payloadType"]?.stringValue else {
            throw ProofError(.malformed, "DSSE envelope: payloadType is missing")
        }
        guard let list = value["signatures"]?.arrayValue else {
            throw ProofError(.malformed, "DSSE envelope: signatures is missing")
        }
        var signatures: [Signature] = []
        for (i, item) in list.enumerated() {
            guard item.objectValue != nil else {
                throw ProofError(.malformed, "DSSE envelope: signatures[\(i)] is not an object")
            }
            let keyID = item["keyid"]
            guard keyID == nil || keyID == .null || keyID?.stringValue != nil else {
                throw ProofError(.malformed, "DSSE envelope: signatures[\(i)].keyid is not a string")
            }
            guard item["sig"] != nil else {
                throw ProofError(.malformed, "DSSE envelope: signatures[\(i)].sig is missing")
            }
            signatures.append(
                Signature(keyID: keyID?.stringValue, signature: try base64(item["sig"], "signatures[\(i)].sig")))
        }
        self.init(payload: try base64(value["payload"], "payload"), payloadType: payloadType, signatures: signatures)
    }
}
