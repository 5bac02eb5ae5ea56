import ArgumentParser
import CairnCrypto
import CairnJSON
import CairnLedger
import CairnNote
import CairnProofs
import CairnServer
import CairnWitness
import Foundation
import NIOCore

struct WitnessCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "witness",
        abstract: "Run a C2SP tlog witness, or get this ledger's checkpoint cosigned by witnesses.",
        discussion: prose(
            """
            A witness (c2sp.org/tlog-witness) follows logs it is configured with: it cosigns a log's
            new checkpoint only after verifying the log's signature and a consistency proof from the
            last checkpoint it cosigned for that log, so a log cannot show different histories to
            different people without the witnesses noticing. Auditors then require a quorum of
            witness cosignatures with `cairn verify … --policy FILE`. See specs/witness.md.

            EXAMPLES
              cairn witness init --name witness.example/w1 --dir ./w1
              cairn witness serve --dir ./w1 --listen 127.0.0.1:7380 --log "$(cat ledger/ledger.vkey)"
              cairn witness cosign --policy witnesses.policy
            """),
        subcommands: [WitnessInit.self, WitnessServe.self, WitnessCosign.self]
    )
}

/// Maps witness set-up errors onto exit statuses.
func witnessFailure(_ error: WitnessError) -> CLIError {
    let status: ExitStatus =
        switch error.code {
        case .alreadyExists: .cannotCreate
        case .notAWitness: .notFound
        case .invalidKey: .noPermission
        case .invalidConfiguration: .usage
        case .storage, .io: .ioError
        }
    return CLIError(status, error.message)
}

struct WitnessInit: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create a witness: its Ed25519 key and its cosignature verifier key.",
        discussion: prose(
            """
            Creates DIR (it must not exist, or be empty) with the witness's Ed25519 private key in
            DIR/witness-key.pem (PKCS#8 PEM, mode 0600) and its verifier key in DIR/witness.vkey, and
            prints the verifier key:

              <name>+<8 hex key id>+<base64(0x04 || public key)>

            Type 0x04 is the C2SP tlog-cosignature `cosignature/v1` (timestamped Ed25519) key type.
            Publish it: it goes on a `witness` line of the policies that trust this witness. The
            name should be a schema-less URL you control; it may not contain spaces or '+'.

            EXAMPLES
              cairn witness init --name witness.example/w1 --dir /var/lib/cairn-witness
              openssl genpkey -algorithm ed25519 -out w.pem && cairn witness init --name w.example --dir w --signing-key w.pem
            """)
    )

    @Option(help: ArgumentHelp("The witness's name (its key name), e.g. witness.example/w1.", valueName: "name"))
    var name: String

    @Option(help: ArgumentHelp("The witness directory to create.", valueName: "dir"))
    var dir: String

    @Option(
        help: ArgumentHelp(
            "Use this existing Ed25519 key (PKCS#8 PEM) instead of generating one; it is copied into DIR.",
            valueName: "pem-file"))
    var signingKey: String?

    @Flag(help: "Print a JSON object instead of the bare vkey.")
    var json = false

    func run() throws {
        try runReportingErrors {
            var key: Ed25519PrivateKey?
            if let signingKey {
                let pem = String(decoding: try readInput(signingKey, what: "signing key"), as: UTF8.self)
                do throws(CryptoError) {
                    key = try Ed25519PrivateKey(pemRepresentation: pem)
                } catch {
                    throw CLIError(.usage, "--signing-key \(signingKey): \(error.message)")
                }
            }
            let vkey: NoteVerifierKey
            do throws(WitnessError) {
                vkey = try Witness.create(at: dir, name: name, signingKey: key)
            } catch {
                throw witnessFailure(error)
            }
            if json {
                printJSON(
                    .object([
                        "name": .string(vkey.name), "vkey": .string(vkey.description), "dir": .string(dir),
                        "vkey_file": .string(dir + "/" + Witness.verifierKeyFile),
                        "key_file": .string(dir + "/" + Witness.keyFile),
                    ]))
            } else {
                Console.line(vkey.description)
            }
        }
    }
}

struct WitnessServe: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the C2SP tlog-witness add-checkpoint endpoint for the configured logs.",
        discussion: prose(
            """
            Serves POST <prefix>/add-checkpoint (c2sp.org/tlog-witness) and the monitoring endpoint
            GET <prefix>/<hex SHA-256 of the origin>/checkpoint. Each --log is a log's verifier key
            (type 0x01; its key name is the log's origin), or a file of such vkeys, one per line
            (blank lines and lines starting with # are ignored). Several keys may share an origin.

            The witness cosigns a checkpoint only if it is signed by a trusted key for its origin
            (else 403; an unknown origin is 404) and the consistency proof leads from the latest
            checkpoint it cosigned for that origin (old size mismatch: 409 with that size; a proof
            that fails: 422). The latest cosigned checkpoint per origin is stored in DIR before the
            answer is sent. Once listening it prints one line, "listening on http://HOST:PORT…"
            (useful with port 0). SIGINT or SIGTERM stop it gracefully.

            EXAMPLE
              cairn witness serve --dir ./w1 --listen 127.0.0.1:7380 --log ledger/ledger.vkey
            """)
    )

    @Option(help: ArgumentHelp("The witness directory (from `cairn witness init`).", valueName: "dir"))
    var dir: String

    @Option(help: ArgumentHelp("The address to listen on, HOST:PORT (port 0: any free port).", valueName: "host:port"))
    var listen = "127.0.0.1:7380"

    @Option(
        name: .customLong("log"),
        help: ArgumentHelp("A log to follow: its vkey, or a file of vkeys (repeatable).", valueName: "vkey|file"))
    var logs: [String] = []

    @Option(
        help: ArgumentHelp("The URL path prefix of the endpoints, e.g. /witness (default: none).", valueName: "path"))
    var prefix = ""

    @Flag(help: "Log every request at debug level.")
    var verbose = false

    func validate() throws {
        guard !logs.isEmpty else { throw ValidationError("give at least one --log (the vkey of a log to follow)") }
        _ = try parseListen()
    }

    func parseListen() throws -> (host: String, port: Int) {
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]),
            (0...65535).contains(port)
        else {
            throw ValidationError("--listen must be HOST:PORT, e.g. 127.0.0.1:7380; got \(listen)")
        }
        var host = String(listen[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw ValidationError("--listen must name a host, e.g. 127.0.0.1:\(port)") }
        return (host, port)
    }

    func run() async throws {
        try await runReportingErrors {
            let keys = try logs.flatMap { try Self.logKeys($0) }
            let logger = WitnessLogging.standardError(label: "cairn.witness", verbose: verbose)
            let witness: Witness
            do throws(WitnessError) {
                witness = try Witness(directory: dir, logs: keys, logger: logger)
            } catch {
                throw witnessFailure(error)
            }
            let (host, port) = try parseListen()
            let trimmed = prefix.split(separator: "/").joined(separator: "/")
            let path = trimmed.isEmpty ? "" : "/" + trimmed
            var seen: [String] = []
            for key in keys where !seen.contains(key.name) { seen.append(key.name) }
            let origins = seen
            let app = WitnessServer.application(
                for: witness, host: host, port: port, prefix: prefix, logger: logger,
                onServerRunning: { bound in
                    let shownHost = host.contains(":") ? "[\(host)]" : host
                    Console.line(
                        "listening on http://\(shownHost):\(bound)\(path) as \(witness.verifierKey) "
                            + "(following \(origins.joined(separator: ", ")))")
                    Console.flush()
                })
            do {
                try await app.runService()
            } catch let error as IOError {
                throw listenFailure(error, address: listen)
            }
        }
    }

    /// The vkeys named by one --log value: a vkey, or a file of vkeys.
    static func logKeys(_ value: String) throws -> [NoteVerifierKey] {
        if let key = try? NoteVerifierKey(parsing: value) { return [key] }
        guard FileManager.default.fileExists(atPath: value) else {
            guard !VerifyOptions.namesFile(value) else {
                throw CLIError(.notFound, "--log \(value): no such file (and not a verifier key name+id+key either)")
            }
            do throws(NoteError) {
                _ = try NoteVerifierKey(parsing: value)
            } catch {
                throw CLIError(.usage, "--log is neither a verifier key nor an existing file: \(error.message)")
            }
            return []
        }
        let text = String(decoding: try readInput(value, what: "log key file"), as: UTF8.self)
        var keys: [NoteVerifierKey] = []
        // Split at LF bytes, and a CR LF file's CRs trimmed with the spaces.
        for (number, line) in text.linesSplitAtLF().enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            do throws(NoteError) {
                keys.append(try NoteVerifierKey(parsing: trimmed))
            } catch {
                throw CLIError(.usage, "--log \(value): line \(number + 1): \(error.message)")
            }
        }
        guard !keys.isEmpty else { throw CLIError(.usage, "--log \(value): the file holds no verifier key") }
        return keys
    }
}

struct WitnessCosign: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cosign",
        abstract: "Get the ledger's current checkpoint cosigned by the witnesses of a policy.",
        discussion: prose(
            """
            Submits the ledger's current checkpoint, with a consistency proof, to every witness of
            the C2SP tlog-policy FILE that has a URL (its tlog-witness submission prefix), verifies
            each cosignature with the witness's vkey and stores it with the checkpoint, so that
            `cairn checkpoint`, proofs and the server's checkpoint carry it. Then checks the
            checkpoint against the policy. `cairn serve` does this continuously for the witnesses of
            its configuration; this command is the one-shot equivalent (e.g. from cron).

            Prints one line per witness. Exit status 0 when the checkpoint meets the policy's
            quorum, 1 when it does not ("quorum not met: …"), 64 for an unusable policy.

            EXAMPLE
              cairn witness cosign --policy witnesses.policy && cairn checkpoint > cosigned.checkpoint
            """)
    )

    @OptionGroup var location: LedgerLocation

    @Option(
        help: ArgumentHelp(
            "The C2SP tlog-policy naming the witnesses (witness <name> <vkey> <url>).", valueName: "file"))
    var policy: String

    @Option(help: ArgumentHelp("Seconds to wait for each witness.", valueName: "seconds"))
    var timeout = 10

    @Flag(help: "Print a JSON object instead of text.")
    var json = false

    func validate() throws {
        guard timeout > 0 && timeout <= 3600 else { throw ValidationError("--timeout must be 1 to 3600 seconds") }
    }

    func run() async throws {
        try await runReportingErrors {
            let parsed: TlogPolicy
            do {
                parsed = try TlogPolicy(parsing: try readInput(policy, what: "policy file"))
            } catch let error as PolicyError {
                throw CLIError(.usage, "--policy \(policy): \(error.message)")
            }
            let endpoints = parsed.witnesses.compactMap { witness in
                witness.url.map { WitnessEndpoint(name: witness.name, vkey: witness.key, url: $0) }
            }
            guard !endpoints.isEmpty else {
                throw CLIError(.usage, "--policy \(policy): no witness line has a URL (witness <name> <vkey> <url>)")
            }
            let ledger = try location.open()
            var options = WitnessCoordinator.Options()
            options.requestTimeout = .seconds(timeout)
            let outcomes = try await withEngine(ledger) { engine in
                let coordinator = WitnessCoordinator(
                    engine: engine, witnesses: endpoints,
                    logger: WitnessLogging.standardError(label: "cairn.witness-cosign"), options: options)
                return await coordinator.cosignCurrentCheckpoint()
            }

            var lines: [String] = []
            var results: [JSONValue] = []
            for (endpoint, outcome) in zip(endpoints, outcomes) {
                switch outcome {
                case .cosigned(let size, let timestamp):
                    lines.append("\(endpoint.name): cosigned size \(size) at \(timestamp)")
                    results.append(
                        .object([
                            "witness": .string(endpoint.name), "cosigned": true, "size": .uint(size),
                            "timestamp": .uint(timestamp),
                        ]))
                case .refused(let status, let message):
                    lines.append("\(endpoint.name): refused (HTTP \(status)): \(message)")
                    results.append(
                        .object([
                            "witness": .string(endpoint.name), "cosigned": false, "status": .uint(UInt64(status)),
                            "reason": .string(message),
                        ]))
                case .failed(let message):
                    lines.append("\(endpoint.name): failed: \(message)")
                    results.append(
                        .object(["witness": .string(endpoint.name), "cosigned": false, "reason": .string(message)]))
                }
            }

            let checkpoint = try await ledger.read { try $0.checkpoint() }
            var quorumError: ProofError?
            do throws(ProofError) {
                _ = try parsed.verify(checkpoint, logKeys: parsed.logs.isEmpty ? [ledger.verifierKey] : nil)
            } catch {
                quorumError = error
            }
            if json {
                var object: JSONObject = [
                    "size": .uint(checkpoint.checkpoint.size), "witnesses": .array(results),
                    "quorum_met": .bool(quorumError == nil),
                ]
                if let quorumError { object["reason"] = .string(quorumError.message) }
                printJSON(.object(object))
            } else {
                for line in lines { Console.line(line) }
            }
            if let quorumError {
                if !json { Console.error("invalid: " + quorumError.message) }
                throw ExitCode(ExitStatus.verificationFailed.rawValue)
            }
        }
    }
}
