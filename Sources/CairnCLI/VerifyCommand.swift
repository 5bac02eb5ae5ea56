import ArgumentParser
import CairnCommitCapture
import CairnCrypto
import CairnJSON
import CairnLedger
import CairnMerkle
import CairnNote
import CairnProofs
import CairnRecords
import Foundation

struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Verify checkpoints and proofs offline, with only the log's verifier key.",
        discussion: prose(
            """
            These commands need no ledger: only the vkey (published by the log operator) and the
            files to check. Exit status 0 means valid; 1 means invalid, with a one-line reason on
            stderr (wrong key, bad signature, root mismatch, index out of range, malformed line N…);
            64 is a usage error (for example a malformed --vkey); 66 a missing file.

            With --policy FILE (a C2SP tlog-policy: log, witness, group and quorum lines), the
            checkpoint must also carry valid cosignatures from the policy's witnesses that meet its
            quorum ("quorum not met: group X needs 2 cosignatures, has 1 (X1)" otherwise), and
            --vkey becomes optional: the policy's log lines name the trusted log keys. A --vkey
            given with --policy replaces the policy's log lines. See specs/witness.md.

            With --key-history FILE (`cairn key history --json`, specs/key-rotation.md), --vkey is the
            key you pinned, and the log may have rotated its key since: the history is verified from
            that key (each rotation's checkpoint signed by the previous and the new key, its
            key-rotation entry included in it and naming the new key), and a checkpoint counts when a
            key the chain validly reaches signed it for a tree size that key signs. A malformed or
            forged history is invalid (exit status 1, code badKeyHistory).

            A checkpoint's origin (its first line) must be the log key's name, Cairn's convention,
            unless --origin names it: logs such as sum.golang.org sign an origin ("go.sum database
            tree") that differs from their key's name. Key names and origins are compared byte for
            byte, as C2SP and Go compare them: a look-alike spelling (a Kelvin sign for K, a
            decomposed accent) is a different name.
            """),
        subcommands: [
            VerifyCheckpoint.self, VerifyInclusion.self, VerifyConsistency.self, VerifyBundle.self, VerifyInToto.self,
            VerifyDisclosure.self, VerifySuccessor.self,
        ]
    )
}

/// Options shared by the verify commands.
struct VerifyOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "The log's verifier key: the vkey text (name+id+key) or a file holding it (optional with --policy).",
            valueName: "vkey"))
    var vkey: String?

    @Option(
        help: ArgumentHelp(
            "A C2SP tlog-policy file: the checkpoint must also meet its quorum of witness cosignatures.",
            valueName: "file"))
    var policy: String?

    @Option(
        help: ArgumentHelp(
            "The log's origin (checkpoint line 1) when it is not the key's name, as for sum.golang.org, whose "
                + "key signs the origin \"go.sum database tree\". Compared byte for byte.",
            valueName: "origin"))
    var origin: String?

    @Option(
        help: ArgumentHelp(
            "A key history file (`cairn key history --json`): follow the log's key rotations from --vkey.",
            valueName: "file"))
    var keyHistory: String?

    @Flag(help: "Print a JSON object with \"valid\" and the details or the reason.")
    var json = false

    func validate() throws {
        guard vkey != nil || policy != nil else {
            throw ValidationError("Missing expected argument '--vkey <vkey>' (or give --policy <file>)")
        }
        guard keyHistory == nil || vkey != nil else {
            throw ValidationError("--key-history needs --vkey: the key you pinned, which the history must contain")
        }
    }

    /// The keys to trust from --vkey and --key-history, or nil without --key-history. A history that is malformed
    /// or does not verify is a failed verification (`badKeyHistory`).
    func keyRing() throws -> LogKeyRing? {
        guard let keyHistory else { return nil }
        let pinned = try verifierKey()
        return try loadKeyRing(keyHistory, pinned: pinned, origin: origin)
    }

    /// The trusted log key: --vkey, or nil when only --policy is given (its log lines are used).
    func logKey() throws -> NoteVerifierKey? {
        guard vkey != nil else { return nil }
        return try verifierKey()
    }

    /// The parsed --policy file, if any (a malformed policy is a usage error).
    func loadPolicy() throws -> TlogPolicy? {
        guard let policy else { return nil }
        do {
            return try TlogPolicy(parsing: try readInput(policy, what: "policy file"))
        } catch let error as PolicyError {
            throw CLIError(.usage, "--policy \(policy): \(error.message)")
        }
    }

    func verifierKey() throws -> NoteVerifierKey {
        guard let vkey else { throw CLIError(.usage, "--vkey is required without --policy") }
        return try Self.verifierKey(vkey)
    }

    /// A --vkey value: the vkey text, or a file holding it.
    static func verifierKey(_ vkey: String) throws -> NoteVerifierKey {
        if let key = try? NoteVerifierKey(parsing: vkey) { return key }
        if FileManager.default.fileExists(atPath: vkey) {
            let text = String(decoding: try readInput(vkey, what: "vkey file"), as: UTF8.self)
            do {
                return try NoteVerifierKey(parsing: text.trimmingCharacters(in: .whitespacesAndNewlines))
            } catch {
                throw CLIError(.usage, "--vkey file \(vkey): \(error.message)")
            }
        }
        guard !namesFile(vkey) else {
            throw CLIError(.notFound, "--vkey \(vkey): no such file (and not a verifier key name+id+key either)")
        }
        do {
            _ = try NoteVerifierKey(parsing: vkey)
        } catch {
            throw CLIError(.usage, "--vkey is neither a verifier key nor an existing file: \(error.message)")
        }
        throw CLIError(.usage, "--vkey: unusable verifier key")
    }

    /// Whether a --vkey or --log value that is neither a key nor an existing file was meant as a
    /// file: a verifier key is name+id+key, so a value without '+' that looks like a path
    /// (`keys/log.vkey`, `ledger.vkey`) is a missing file (66) rather than a malformed key (64).
    static func namesFile(_ value: String) -> Bool {
        !value.contains("+") && (value.contains("/") || value.contains("."))
    }

    /// Runs a verification, printing "valid: …" or "invalid: …" (or JSON) and exiting 1 when invalid.
    func report(_ body: () throws -> (String, JSONObject)) throws {
        try reportVerification(json: json, body)
    }
}

/// Runs a verification and reports it: "valid: SUMMARY" (or the JSON details with "valid": true),
/// or "invalid: REASON" on stderr (or JSON) and exit status 1 for a `ProofError`.
func reportVerification(json: Bool, _ body: () throws -> (String, JSONObject)) throws {
    try runReportingErrors {
        do {
            let (summary, details) = try body()
            if json {
                var object: JSONObject = ["valid": true]
                for (key, value) in details { object[key] = value }
                printJSON(.object(object))
            } else {
                // Summaries and reasons quote checkpoints and proof files, which anyone can write.
                Console.line("valid: " + DisplayText.escape(summary))
            }
        } catch let error as ProofError {
            if json {
                printJSON(
                    .object([
                        "valid": false, "code": .string(error.code.rawValue), "reason": .string(error.message),
                    ]))
            } else {
                Console.error("invalid: " + DisplayText.escape(error.message))
            }
            throw ExitCode(ExitStatus.verificationFailed.rawValue)
        }
    }
}

func checkpointDetails(_ checkpoint: Checkpoint) -> JSONObject {
    [
        "origin": .string(checkpoint.origin), "size": .uint(checkpoint.size),
        "root_hash": .string(checkpoint.rootHash.base64),
    ]
}

/// The summary suffix and JSON details of a policy verification.
func policyReport(_ verification: PolicyVerification, _ policy: TlogPolicy) -> (String, JSONValue) {
    let names = verification.cosignatures.map(\.witness)
    let summary =
        "; quorum \(policy.quorum) met" + (names.isEmpty ? "" : ", cosigned by " + names.joined(separator: ", "))
    let cosigners: [JSONValue] = verification.cosignatures.map {
        .object(["witness": .string($0.witness), "key": .string($0.key.nameAndID), "timestamp": .uint($0.timestamp)])
    }
    return (
        summary,
        .object([
            "quorum": .string(policy.quorum), "log_key": .string(verification.logKey.nameAndID),
            "cosignatures": .array(cosigners),
        ])
    )
}

struct VerifyCheckpoint: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checkpoint",
        abstract: "Verify a signed checkpoint.",
        discussion: prose(
            """
            Checks that FILE is a C2SP tlog-checkpoint signed note whose origin is the vkey's name (or
            --origin) and which carries a valid Ed25519 signature by that key. Other signatures (e.g. witness
            cosignatures) are ignored — unless --policy is given: then the cosignatures of the
            policy's witnesses must verify and meet its quorum.

            EXAMPLES
              cairn checkpoint > cp.txt && cairn verify checkpoint --vkey ledger.vkey cp.txt
              cairn verify checkpoint --policy witnesses.policy cp.txt
              cairn key history --json > keys.json && cairn verify checkpoint --vkey ledger.vkey --key-history keys.json cp.txt
            """)
    )

    @OptionGroup var options: VerifyOptions

    @Argument(help: ArgumentHelp("The signed checkpoint file (- for stdin).", valueName: "file"))
    var file: String

    func run() throws {
        try options.report {
            if let ring = try options.keyRing() {
                return try verifyWithKeyHistory(
                    try readInput(file, what: "checkpoint file"), ring: ring, policy: try options.loadPolicy(),
                    origin: options.origin)
            }
            if let policy = try options.loadPolicy() {
                let logKey = try options.logKey()
                let bytes = try readInput(file, what: "checkpoint file")
                let signed: SignedCheckpoint
                do throws(NoteError) {
                    signed = try SignedCheckpoint(parsing: bytes)
                } catch {
                    throw ProofError(.malformed, error.message)
                }
                let verification = try policy.verify(signed, logKeys: logKey.map { [$0] }, origin: options.origin)
                let checkpoint = verification.checkpoint
                let (suffix, details) = policyReport(verification, policy)
                var object = checkpointDetails(checkpoint)
                object["policy"] = details
                return (
                    "checkpoint of \(checkpoint.origin) at size \(checkpoint.size), root \(checkpoint.rootHash.base64)"
                        + suffix,
                    object
                )
            }
            let key = try options.verifierKey()
            let checkpoint = try CheckpointVerifier.verify(
                try readInput(file, what: "checkpoint file"), logKey: key, origin: options.origin)
            return (
                "checkpoint of \(checkpoint.origin) at size \(checkpoint.size), root \(checkpoint.rootHash.base64)",
                checkpointDetails(checkpoint)
            )
        }
    }
}

struct VerifyInclusion: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inclusion",
        abstract: "Verify that an entry is in the log (C2SP tlog-proof).",
        discussion: prose(
            """
            Checks a c2sp.org/tlog-proof@v1 proof: the checkpoint inside it is signed by the vkey, and
            the inclusion proof leads from the entry's leaf hash, at the proof's index, to the
            checkpoint's root (RFC 9162 section 2.1.3.2).

            The entry file is canonicalized with RFC 8785 before hashing, so the output of
            `cairn get N --raw`, the record as originally submitted, or a pretty-printed copy all
            work. A checkpoint whose large prompt, raw_output or turns were moved to blobs when it
            was appended (--extract-over) is stored with blob references in their place; given the
            record as submitted, verify recognises that stored form (it tries each way the fields
            could have been moved, which needs no threshold) and says which fields are in which
            blobs. A blob's address commits to a random salt as well as its bytes (so that an
            erased prompt cannot be confirmed by guessing): give the disclosure of each moved
            payload (`cairn blob disclose`) with --disclosure. With --raw-entry the file's bytes are
            hashed exactly as they are.

            EXAMPLE
              cairn verify inclusion --vkey ledger.vkey --proof p.tlog-proof --entry entry.json
            """)
    )

    @OptionGroup var options: VerifyOptions

    @Option(help: ArgumentHelp("The tlog-proof file (- for stdin).", valueName: "file"))
    var proof: String

    @Option(help: ArgumentHelp("The entry: a JSON record, or raw bytes with --raw-entry.", valueName: "file"))
    var entry: String

    @Flag(help: "Hash the entry file's bytes as they are, without canonicalizing.")
    var rawEntry = false

    @Option(
        help: ArgumentHelp(
            "A blob disclosure (`cairn blob disclose`) of a payload moved out of the entry: its salt lets the "
                + "stored form be recomputed. Repeatable.",
            valueName: "file"))
    var disclosure: [String] = []

    func run() throws {
        try options.report {
            var salts: [SHA256Digest: [UInt8]] = [:]
            for file in disclosure {
                let disclosed = try readDisclosure(file)
                salts[SHA256.hash(disclosed.bytes)] = disclosed.salt
            }
            let policy = try options.loadPolicy()
            let key: NoteVerifierKey? = try policy == nil ? options.verifierKey() : options.logKey()
            let ring = try options.keyRing()
            let entryBytes = try readInput(entry, what: "entry file")
            // The forms the entry may be stored in: as given (canonical), or, for a checkpoint
            // whose payloads were moved to blobs at append, with references in their place.
            var forms: [(leaf: [UInt8], moved: [String: String])] = []
            if rawEntry {
                forms = [(entryBytes, [:])]
            } else {
                let value: JSONValue
                do {
                    value = try JSONParser.parse(entryBytes)
                } catch {
                    throw CLIError(
                        .dataError, "entry file \(entry) is not JSON (\(error)); use --raw-entry to hash it as bytes")
                }
                for form in PayloadExtraction.storedForms(of: value, salts: salts) {
                    guard let canonical = try? JCS.canonicalize(form.record) else { continue }
                    var moved: [String: String] = [:]
                    for field in form.moved { moved[field] = form.record[field]?["blob"]?.stringValue ?? "" }
                    forms.append((canonical, moved))
                }
                if forms.isEmpty {
                    throw CLIError(.dataError, "entry file \(entry) cannot be canonicalized (RFC 8785)")
                }
            }
            let parsed = try TlogProof(parsing: try readInput(proof, what: "proof file"))
            let checkpoint: Checkpoint
            var suffix = ""
            var policyDetails: JSONValue?
            var leaf = forms[0].leaf
            var moved = forms[0].moved
            var firstFailure: (any Error)?
            func verify(_ candidate: [UInt8]) throws -> (Checkpoint, String, JSONValue?) {
                if let ring {
                    let checkpoint = try parsed.verify(entry: candidate, keyRing: ring, origin: options.origin)
                    let (suffix, details) = try keyHistoryReport(parsed.checkpoint, ring: ring, policy: policy)
                    return (checkpoint, suffix, details)
                }
                if let policy {
                    let verification = try parsed.verify(
                        entry: candidate, policy: policy, logKeys: key.map { [$0] }, origin: options.origin)
                    let (suffix, details) = policyReport(verification, policy)
                    return (verification.checkpoint, suffix, details)
                }
                return (try parsed.verify(entry: candidate, logKey: key!, origin: options.origin), "", nil)
            }
            var result: (Checkpoint, String, JSONValue?)?
            for form in forms {
                do {
                    result = try verify(form.leaf)
                    leaf = form.leaf
                    moved = form.moved
                    break
                } catch {
                    if firstFailure == nil { firstFailure = error }
                    // Only a root mismatch can be a different stored form; anything else is final.
                    guard (error as? ProofError)?.code == .rootMismatch else { throw error }
                }
            }
            guard let result else {
                if let failure = firstFailure as? ProofError, failure.code == .rootMismatch, forms.count > 1,
                    salts.count < forms.count - 1
                {
                    throw ProofError(
                        .rootMismatch,
                        failure.message + " (nor does any form with its payloads moved to blobs; if they were, give "
                            + "each blob's disclosure with --disclosure: a blob's address commits to its salt)")
                }
                throw firstFailure ?? CLIError(.verificationFailed, "the proof does not verify")
            }
            (checkpoint, suffix, policyDetails) = result
            if !moved.isEmpty {
                suffix +=
                    "; the entry file is stored with "
                    + moved.keys.sorted().map { "\($0) moved to blob \(moved[$0] ?? "")" }.joined(separator: ", ")
            }
            var details = checkpointDetails(checkpoint)
            if !moved.isEmpty {
                details["moved_to_blobs"] = .object(
                    JSONObject(moved.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) }))
            }
            details["index"] = .uint(parsed.index)
            details["digest"] = .string(SHA256.hash(leaf).description)
            if let policyDetails { details[ring == nil ? "policy" : "key_history"] = policyDetails }
            return (
                "\(SHA256.hash(leaf)) is entry \(parsed.index) of \(checkpoint.origin) at size \(checkpoint.size)"
                    + suffix,
                details
            )
        }
    }
}

struct VerifyConsistency: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "consistency",
        abstract: "Verify that the log only grew since an older checkpoint.",
        discussion: prose(
            """
            Checks a consistency proof in the C2SP tlog-witness add-checkpoint body format (as
            printed by `cairn prove consistency`): both the old checkpoint and the proof's new
            checkpoint are signed by the vkey, the proof's "old" size is the old checkpoint's size,
            and the proof shows the new tree extends the old one (RFC 9162 section 2.1.4.2).

            EXAMPLE
              cairn verify consistency --vkey ledger.vkey --old yesterday.checkpoint --proof p.txt
            """)
    )

    @OptionGroup var options: VerifyOptions

    @Option(help: ArgumentHelp("The older signed checkpoint you trust.", valueName: "file"))
    var old: String

    @Option(help: ArgumentHelp("The consistency proof file (- for stdin).", valueName: "file"))
    var proof: String

    func run() throws {
        try options.report {
            let policy = try options.loadPolicy()
            let key: NoteVerifierKey? = try policy == nil ? options.verifierKey() : options.logKey()
            let oldBytes = try readInput(old, what: "old checkpoint file")
            let oldCheckpoint: SignedCheckpoint
            do {
                oldCheckpoint = try SignedCheckpoint(parsing: oldBytes)
            } catch {
                throw ProofError(.malformed, "old checkpoint: \((error as? NoteError)?.message ?? "\(error)")")
            }
            let request = try ConsistencyProofRequest(parsing: try readInput(proof, what: "proof file"))
            let new: Checkpoint
            var suffix = ""
            var policyDetails: JSONValue?
            if let ring = try options.keyRing() {
                new = try request.verify(oldCheckpoint: oldCheckpoint, keyRing: ring, origin: options.origin)
                (suffix, policyDetails) = try keyHistoryReport(request.checkpoint, ring: ring, policy: policy)
                var details = checkpointDetails(new)
                details["old_size"] = .uint(request.oldSize)
                details["key_history"] = policyDetails
                return ("\(new.origin) grew consistently from size \(request.oldSize) to \(new.size)" + suffix, details)
            }
            if let policy {
                let verification = try request.verify(
                    oldCheckpoint: oldCheckpoint, policy: policy, logKeys: key.map { [$0] }, origin: options.origin)
                new = verification.checkpoint
                (suffix, policyDetails) = policyReport(verification, policy)
            } else {
                new = try request.verify(oldCheckpoint: oldCheckpoint, logKey: key!, origin: options.origin)
            }
            var details = checkpointDetails(new)
            details["old_size"] = .uint(request.oldSize)
            if let policyDetails { details["policy"] = policyDetails }
            return ("\(new.origin) grew consistently from size \(request.oldSize) to \(new.size)" + suffix, details)
        }
    }
}

struct VerifyBundle: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bundle",
        abstract: "Verify a line's provenance bundle from `cairn blame --prove`.",
        discussion: prose(
            """
            Checks, offline, that every record in the bundle is in the log (a C2SP tlog-proof of each,
            all to one checkpoint signed by --vkey), that the first is a checkpoint whose output for
            the claimed path and commit covers the claimed line with the claimed contributor (ai,
            mixed, human), and that the rewrite records lead, one after the other, from that commit
            to the commit git blame gives for the line. Which line of today's file that is, git shows
            (`git blame`); the bundle proves what the ledger says about it (specs/capture.md, "Line
            bundles"). Prints the checkpoint, model, session, requester and evidence grade.

            EXAMPLES
              cairn blame src/app.py --prove 12 > line12.json
              cairn verify bundle --vkey ledger.vkey line12.json
            """)
    )

    @OptionGroup var options: VerifyOptions

    @Argument(help: ArgumentHelp("The bundle file (- for stdin).", valueName: "file"))
    var file: String

    func run() throws {
        try options.report {
            let key = try options.verifierKey()
            let bundle = try LineBundle(parsing: try readInput(file, what: "bundle file"))
            let verified = try bundle.verify(key: key)
            var details = checkpointDetails(verified.checkpoint)
            details["checkpoint_id"] = .string(verified.checkpointID)
            details["model"] = .string(verified.model)
            details["session"] = verified.session.map { .string($0) } ?? .null
            details["requested_by"] = verified.requester.map { .string($0) } ?? .null
            details["grade"] = verified.grade.map { .string($0) } ?? .null
            details["contributor"] = .string(bundle.contributor)
            details["path"] = .string(bundle.path)
            details["commit"] = .string(bundle.commit)
            details["line"] = .number(Double(bundle.line))
            details["rewrites"] = .number(Double(verified.rewrites))
            return (
                "line \(bundle.line) of \(bundle.path) at \(bundle.commit.prefix(12)): \(bundle.contributor), "
                    + "checkpoint \(verified.checkpointID), model \(verified.model), session "
                    + "\(verified.session ?? "-"), grade \(verified.grade ?? "-"), \(verified.rewrites) rewrite"
                    + (verified.rewrites == 1 ? "" : "s") + "; proven in \(verified.checkpoint.origin) at size "
                    + "\(verified.checkpoint.size)",
                details
            )
        }
    }
}

/// Reads and checks a blob disclosure file: malformed or not matching its address is a failed
/// verification (exit 1), a missing file exit 66.
func readDisclosure(_ file: String) throws -> BlobDisclosure {
    let disclosed: BlobDisclosure
    do {
        disclosed = try BlobDisclosure(json: try readInput(file, what: "disclosure file"))
    } catch let error as BlobDisclosureError {
        throw ProofError(.malformed, "disclosure \(file): \(error.message)")
    }
    do {
        try disclosed.verify()
    } catch {
        throw ProofError(.commitmentMismatch, "disclosure \(file): \(error.message)")
    }
    return disclosed
}

struct VerifyDisclosure: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "disclosure",
        abstract: "Check a blob disclosure: its bytes and salt hash to the blob's address.",
        discussion: prose(
            """
            A record holds a payload blob as {"blob": "sha256:…", "size": N, "media_type": "…"},
            where the address is SHA-256(salt ‖ bytes) with a random 32-byte salt kept beside the
            blob (an empty salt for blobs stored before salting). `cairn blob disclose` writes the
            bytes and the salt as one JSON file; this checks it without the ledger: the content has
            the stated size and SHA-256(salt ‖ content) is the address. With --entry, the record
            (for example `cairn get N --raw`, whose inclusion `cairn verify inclusion` proves) must
            also hold exactly that blob reference, and the JSON path where it does is printed.
            Exit status 0: valid; 1: not (the reason on stderr); 66: a file is missing.

            EXAMPLE
              cairn verify disclosure prompt.disclosure.json
            """)
    )

    @Argument(help: ArgumentHelp("The disclosure file (- for stdin).", valueName: "file"))
    var file: String

    @Option(help: ArgumentHelp("A record that must reference the disclosed blob.", valueName: "file"))
    var entry: String?

    @Flag(help: "Print a JSON object with \"valid\" and the details or the reason.")
    var json = false

    func run() throws {
        try reportVerification(json: json) {
            let disclosed = try readDisclosure(file)
            let reference = disclosed.reference
            var details: JSONObject = [
                "blob": .string(reference.digest.description), "size": .uint(UInt64(reference.size)),
                "media_type": .string(reference.mediaType), "salted": .bool(!disclosed.salt.isEmpty),
            ]
            var summary =
                "\(reference.digest): \(reference.size) bytes of \(reference.mediaType), "
                + (disclosed.salt.isEmpty ? "unsalted" : "salted")
            if let entry {
                let record: JSONValue
                do {
                    record = try JSONParser.parse(try readInput(entry, what: "entry file"))
                } catch let error as JSONParseError {
                    throw ProofError(.malformed, "entry file \(entry) is not JSON: \(error)")
                }
                let paths = referencePaths(in: record, to: reference.jsonValue)
                guard !paths.isEmpty else {
                    throw ProofError(
                        .commitmentMismatch,
                        "entry file \(entry) holds no blob reference {\"blob\": \"\(reference.digest)\", \"size\": "
                            + "\(reference.size), \"media_type\": …} equal to the disclosed one")
                }
                details["referenced_at"] = .array(paths.map { .string($0) })
                summary += "; referenced at " + paths.joined(separator: ", ")
            }
            return (summary, details)
        }
    }

    /// The JSON paths (`$.prompt`, `$.turns[2].content`) where `value` holds `reference`.
    private func referencePaths(in value: JSONValue, to reference: JSONValue, at path: String = "$") -> [String] {
        if value == reference { return [path] }
        switch value {
        case .object(let object):
            return object.keys.sorted().flatMap { key in
                referencePaths(in: object[key]!, to: reference, at: path + "." + key)
            }
        case .array(let items):
            return items.enumerated().flatMap { referencePaths(in: $1, to: reference, at: path + "[\($0)]") }
        default:
            return []
        }
    }
}
