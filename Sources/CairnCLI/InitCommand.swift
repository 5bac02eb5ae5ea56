import ArgumentParser
import CairnCrypto
import CairnJSON
import CairnLedger
import CairnNote
import CairnRecords

struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create a ledger and its Ed25519 signing key.",
        discussion: prose(
            """
            Creates the ledger directory (it must not exist, or be empty), an Ed25519 signing key in
            <dir>/signing-key.pem (PKCS#8 PEM, mode 0600, readable by `openssl pkey`), and signs the
            checkpoint of the empty tree. Prints the verifier key (vkey) that auditors need:

              <origin>+<8 hex key id>+<base64(0x01 || public key)>

            and writes it to <dir>/ledger.vkey. Publish the vkey out of band: it is what makes
            every later checkpoint and proof checkable without trusting the ledger's operator.

            The origin names the log in every checkpoint; use a schema-less URL you control,
            such as example.com/ai-provenance. It may not contain spaces or '+'.

            By default the ledger holds AI provenance records (specs/record-schema.md): every
            record is validated, references are checked, and queries are indexed. With
            --profile generic it accepts any JSON object (a plain transparency log).

            With --successor-of DIR, the new log succeeds a sealed one (`cairn seal`, specs/sealing.md):
            its first entry is a predecessor record carrying DIR's final checkpoint, its seal entry
            and that entry's inclusion proof, so that anyone holding DIR's vkey can check the link
            (`cairn verify successor`). The successor needs an origin of its own, and gets a key of
            its own; its profile and maximum entry size are DIR's unless given, and it accepts
            DIR's API tokens (`cairn token`: copied, so clients keep theirs; revoke them in each
            log). If the command is interrupted after creating the directory, run it again: it
            finishes the link.

            EXAMPLES
              cairn init --origin example.com/cairn-demo --ledger ./ledger
              cairn init --origin example.com/small --max-entry-bytes 65536 --json --ledger ./small
              cairn init --origin example.com/notes --profile generic --ledger ./notes
              openssl genpkey -algorithm ed25519 -out key.pem && cairn init --origin example.com/x --signing-key key.pem --ledger ./x
            """)
    )

    @OptionGroup var location: LedgerLocation

    @Option(help: ArgumentHelp("The log's origin line and key name, e.g. example.com/cairn.", valueName: "name"))
    var origin: String

    @Option(
        help: ArgumentHelp(
            "The largest canonical record accepted, in bytes (default: 1048576, or the predecessor's).",
            valueName: "bytes"))
    var maxEntryBytes: Int?

    @Option(
        help: ArgumentHelp(
            "Which records the ledger accepts: provenance (the AI provenance schema, validated and indexed) "
                + "or generic (any JSON object). Default: provenance, or the predecessor's.", valueName: "profile"))
    var profile: String?

    @Option(
        help: ArgumentHelp(
            "Start a successor of this sealed ledger: the new log's first entry commits to its final checkpoint.",
            valueName: "dir"))
    var successorOf: String?

    @Option(
        help: ArgumentHelp(
            "With --successor-of: who creates the successor (the link's author; default: the login name of the "
                + "user running cairn).", valueName: "name"))
    var author: String?

    @Option(
        help: ArgumentHelp(
            "With --successor-of: the link's time, RFC 3339 UTC such as 2027-01-01T00:00:00Z (default: now).",
            valueName: "time"))
    var at: String?

    @Option(
        help: ArgumentHelp(
            "Use this existing Ed25519 key (PKCS#8 PEM, e.g. from `openssl genpkey -algorithm ed25519`) "
                + "instead of generating one; it is copied into the ledger directory.", valueName: "pem-file"))
    var signingKey: String?

    @Flag(help: "Print a JSON object instead of the bare vkey.")
    var json = false

    func validate() throws {
        if let profile, !["provenance", "generic"].contains(profile) {
            throw ValidationError("--profile must be provenance or generic, got \(profile)")
        }
        if let maxEntryBytes, !(maxEntryBytes > 0 && maxEntryBytes <= 512 << 20) {
            throw ValidationError("--max-entry-bytes must be between 1 and \(512 << 20), got \(maxEntryBytes)")
        }
        guard (author == nil && at == nil) || successorOf != nil else {
            throw ValidationError("--author and --at describe the link to a predecessor: they need --successor-of")
        }
    }

    func run() throws {
        try runReportingErrors {
            let predecessor = try successorOf.map { directory in
                var open = Ledger.OpenOptions()
                open.readOnly = true
                return try Ledger.open(at: directory, options: open)
            }
            var options = Ledger.CreateOptions()
            options.maxEntryBytes = maxEntryBytes ?? predecessor?.maxEntryBytes ?? 1 << 20
            options.profile =
                profile.map { $0 == "generic" ? .generic : .provenance } ?? predecessor?.profile ?? .provenance
            if let signingKey {
                let pem = String(decoding: try readInput(signingKey, what: "signing key"), as: UTF8.self)
                do {
                    options.signingKey = try Ed25519PrivateKey(pemRepresentation: pem)
                } catch {
                    throw CLIError(
                        .usage, "--signing-key \(signingKey): \((error as? CryptoError)?.message ?? "\(error)")")
                }
            }
            let directory = location.directory
            let ledger =
                if let predecessor {
                    try Ledger.createSuccessor(
                        at: directory, origin: origin, of: predecessor, author: author ?? Principal.currentUser.name,
                        at: at ?? Timestamps.now(), options: options)
                } else {
                    try Ledger.create(at: directory, origin: origin, options: options)
                }
            let link = try predecessor.map { _ in try ledger.predecessorLink() }
            let vkey = ledger.verifierKey.description
            if json {
                let checkpoint = try ledger.read { try $0.checkpoint() }
                var object: JSONObject = [
                    "ledger": .string(directory),
                    "origin": .string(ledger.origin),
                    "vkey": .string(vkey),
                    "vkey_file": .string(directory + "/" + LedgerLayout.verifierKeyFile),
                    "signing_key_file": .string(directory + "/" + LedgerLayout.signingKeyFile),
                    "max_entry_bytes": .number(Double(ledger.maxEntryBytes)),
                    "profile": .string(ledger.profile.rawValue),
                    "checkpoint": .string(checkpoint.serialized),
                ]
                if let link = link ?? nil, let predecessor {
                    let final = try SignedCheckpoint(parsing: link.checkpoint).checkpoint
                    object["predecessor"] = .object([
                        "ledger": .string(predecessor.directory), "origin": .string(link.origin),
                        "vkey": .string(link.vkey.description), "size": .uint(final.size),
                        "root_hash": .string(final.rootHash.base64),
                    ])
                }
                printJSON(.object(object))
            } else {
                Console.line(vkey)
                if Console.stderrIsTerminal {
                    Console.error(
                        "created ledger \(directory) (signing key \(directory)/\(LedgerLayout.signingKeyFile), "
                            + "verifier key \(directory)/\(LedgerLayout.verifierKeyFile))"
                            + (predecessor.map { ", entry 0 links it to the sealed \($0.origin)" } ?? ""))
                }
            }
        }
    }
}
