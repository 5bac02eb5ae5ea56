import ArgumentParser
import CairnCrypto
import CairnJSON
import CairnLedger
import CairnNote
import CairnProofs

struct VerifyInToto: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "in-toto",
        abstract: "Verify an in-toto statement from `cairn export in-toto` (DSSE envelope and inclusion proof).",
        discussion: prose(
            """
            Checks, with only the vkey, a DSSE envelope written by `cairn export in-toto`:

            1. some signature of the envelope is a valid Ed25519 signature, by the vkey's key, of
               DSSE's pre-authentication encoding of the payload and its type (the keyid is a hint
               and is not trusted), and the payload type is application/vnd.in-toto+json;
            2. the payload is an in-toto Statement v1 with predicateType
               https://cairn.dev/provenance/checkpoint/v1 whose subjects are exactly the commits
               and files of the checkpoint record in its predicate;
            3. the record as appended (the checkpoint, or predicate.original when corrections
               apply) has the content address predicate.entry.digest, and the tlog-proof in
               predicate.log.inclusion_proof proves it is entry predicate.entry.index of the log,
               in a checkpoint signed by the vkey (and, with --policy, cosigned to the policy's
               quorum) whose origin, size and root are those of predicate.log.

            Corrections the effective record includes are listed but not proven here: each is
            an entry of the log, provable with `cairn prove inclusion`. Any other DSSE verifier
            can check step 1 alone (specs/in-toto.md shows how, with OpenSSL or Python).

            EXAMPLE
              cairn export in-toto 0 -o s.dsse.json && cairn verify in-toto --vkey ledger.vkey s.dsse.json
            """)
    )

    @OptionGroup var options: VerifyOptions

    @Argument(help: ArgumentHelp("The DSSE envelope file (- for stdin).", valueName: "file"))
    var file: String

    func run() throws {
        try options.report {
            guard options.vkey != nil else {
                throw CLIError(.usage, "--vkey is required: the envelope is signed by the log's key")
            }
            let key = try options.verifierKey()
            guard key.type == NoteVerifierKey.ed25519Type else {
                throw CLIError(.usage, "--vkey \(key.nameAndID) is not an Ed25519 signing key (type 0x01)")
            }
            let policy = try options.loadPolicy()
            let envelope = try DSSEEnvelope(json: try readInput(file, what: "envelope file"))
            let publicKey: Ed25519PublicKey
            do throws(CryptoError) {
                publicKey = try Ed25519PublicKey(rawRepresentation: key.publicKey)
            } catch {
                throw CLIError(.usage, "--vkey \(key.nameAndID): \(error.message)")
            }
            try envelope.verify(key: publicKey, keyID: key.nameAndID, payloadType: DSSEEnvelope.inTotoPayloadType)
            let verified = try InTotoStatement.verify(
                payload: envelope.payload, key: key, origin: options.origin, policy: policy)
            let commits = verified.subjects.filter { $0["digest"]?["gitCommit"] != nil }.count
            let files = verified.subjects.count - commits
            var summary =
                "in-toto statement of checkpoint \(verified.id) signed by \(key.nameAndID): "
                + "\(commits) commit\(commits == 1 ? "" : "s"), \(files) file\(files == 1 ? "" : "s"); "
                + "\(verified.digest) is entry \(verified.index) of \(verified.checkpoint.origin) "
                + "at size \(verified.checkpoint.size)"
            if !verified.corrections.isEmpty {
                summary +=
                    "; corrections applied (entries "
                    + verified.corrections.map(String.init).joined(separator: ", ") + ") are not proven here"
            }
            var details = checkpointDetails(verified.checkpoint)
            details["index"] = .uint(verified.index)
            details["digest"] = .string(verified.digest.description)
            details["id"] = .string(verified.id)
            details["keyid"] = .string(key.nameAndID)
            details["subjects"] = .array(verified.subjects)
            details["corrections"] = .array(verified.corrections.map { .uint($0) })
            if let verification = verified.policy, let policy {
                let (suffix, policyDetails) = policyReport(verification, policy)
                summary += suffix
                details["policy"] = policyDetails
            }
            return (summary, details)
        }
    }
}
