import ArgumentParser
import CairnCrypto
import CairnJSON
import CairnLedger

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

    @Option(help: ArgumentHelp("The largest canonical record accepted, in bytes.", valueName: "bytes"))
    var maxEntryBytes: Int = 1 << 20

    @Option(
        help: ArgumentHelp(
            "Which records the ledger accepts: provenance (the AI provenance schema, validated and indexed) "
                + "or generic (any JSON object).", valueName: "profile"))
    var profile: String = "provenance"

    @Option(
        help: ArgumentHelp(
            "Use this existing Ed25519 key (PKCS#8 PEM, e.g. from `openssl genpkey -algorithm ed25519`) "
                + "instead of generating one; it is copied into the ledger directory.", valueName: "pem-file"))
    var signingKey: String?

    @Flag(help: "Print a JSON object instead of the bare vkey.")
    var json = false

    func validate() throws {
        guard ["provenance", "generic"].contains(profile) else {
            throw ValidationError("--profile must be provenance or generic, got \(profile)")
        }
        guard maxEntryBytes > 0 && maxEntryBytes <= 512 << 20 else {
            throw ValidationError("--max-entry-bytes must be between 1 and \(512 << 20), got \(maxEntryBytes)")
        }
    }

    func run() throws {
        try runReportingErrors {
            var options = Ledger.CreateOptions()
            options.maxEntryBytes = maxEntryBytes
            options.profile = profile == "generic" ? .generic : .provenance
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
            let ledger = try Ledger.create(at: directory, origin: origin, options: options)
            let vkey = ledger.verifierKey.description
            if json {
                let checkpoint = try ledger.read { try $0.checkpoint() }
                printJSON(
                    .object([
                        "ledger": .string(directory),
                        "origin": .string(ledger.origin),
                        "vkey": .string(vkey),
                        "vkey_file": .string(directory + "/" + LedgerLayout.verifierKeyFile),
                        "signing_key_file": .string(directory + "/" + LedgerLayout.signingKeyFile),
                        "max_entry_bytes": .number(Double(ledger.maxEntryBytes)),
                        "profile": .string(ledger.profile.rawValue),
                        "checkpoint": .string(checkpoint.serialized),
                    ]))
            } else {
                Console.line(vkey)
                if Console.stderrIsTerminal {
                    Console.error(
                        "created ledger \(directory) (signing key \(directory)/\(LedgerLayout.signingKeyFile), "
                            + "verifier key \(directory)/\(LedgerLayout.verifierKeyFile))")
                }
            }
        }
    }
}
