import ArgumentParser
import CairnHTTP
import Foundation

@main
struct Cairn: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cairn",
        abstract:
            "A tamper-evident provenance ledger: append records, prove inclusion and consistency, verify offline.",
        discussion: prose(
            """
            Cairn stores each JSON record as the RFC 8785 canonical form of the object, addressed by
            sha256:<hex> of those bytes, as a leaf of an RFC 6962 Merkle log kept in LMDB. After every
            append the log signs a C2SP tlog-checkpoint with its Ed25519 key. Proofs use the C2SP
            tlog-proof and tlog-witness formats, so any C2SP-compatible tool can check them.

            The ledger directory comes from --ledger, else $CAIRN_LEDGER, else ./cairn-ledger.

            A ledger created with the default profile holds AI provenance records
            (specs/record-schema.md; examples/records.jsonl has one of each kind); the quick start
            below uses --profile generic, a plain transparency log that takes any JSON object.

            QUICK START
              cairn init --origin example.com/cairn-demo --profile generic
              echo '{"type":"note","text":"hello"}' | cairn append
              cairn prove inclusion 0 > proof.tlog-proof
              cairn get 0 --raw > entry.json
              cairn verify inclusion --vkey cairn-ledger/ledger.vkey --proof proof.tlog-proof --entry entry.json

            EXIT STATUS
              0   success (for verify: the proof or signature is valid)
              1   verification failed: invalid signature or proof, or fsck found an inconsistency
              64  usage error: bad arguments or options
              65  bad input data: a record or file is malformed (nothing was written)
              66  not found: no such ledger, file, entry or tree size
              70  internal error: a bug in cairn (please report it with the message)
              73  cannot create: the ledger directory already exists and is not empty, or an
                  output path (-o) is not a new or regular file (specs/storage.md)
              74  storage or I/O error: a file cannot be read or written (also a damaged
                  data.mdb, which fsck reports as 1), a server address is in use, or standard
                  output or error cannot be written (a full disk, a closed descriptor)
              75  temporarily unavailable: the ingest queue is full, or (append --server) the server is
                  unreachable and the records were spooled; retry later or `cairn spool flush`; or
                  (key rotate) the ledger is being served
              76  (append --server) the URL does not answer like a Cairn server
              77  the signing key is missing, unreadable or does not match the ledger
              141 standard output or error is a pipe whose reader has exited (`cairn query | head`):
                  cairn stops at once, without a message, as a process killed by SIGPIPE would

            Output is checked: a command whose output could not be written never exits 0. When
            standard error alone fails, the command finishes its work and exits 74 (141 for a
            closed pipe) instead of 0; a command that fails anyway keeps its own status.
            """),
        // One version string: the User-Agent of every request Cairn sends carries it too.
        version: CairnHTTPClient.version,
        subcommands: [
            InitCommand.self, AppendCommand.self, ImportCommand.self, GetCommand.self, ShowCommand.self,
            QueryCommand.self, StatsCommand.self,
            BlobCommand.self, CheckpointCommand.self, ProveCommand.self, VerifyCommand.self, FsckCommand.self,
            MigrateCommand.self, BackupCommand.self, RestoreCommand.self,
            AuditCommand.self, ReportCommand.self, ServeCommand.self, TokenCommand.self, ExportCommand.self,
            WitnessCommand.self, MirrorCommand.self, MonitorCommand.self, LogsCommand.self,
            SpoolCommand.self, CaptureCommand.self, HooksCommand.self, BlameCommand.self,
            RewriteCommand.self, AttestCommand.self, BenchCommand.self,
            StressAppendCommand.self, RetentionCommand.self,
            // Last: its --help examples rotate the example ledger's key (HelpExampleTests runs them in order).
            KeyCommand.self,
            // After it: its --help examples seal the example ledger.
            SealCommand.self,
        ]
    )

    /// Parses the arguments, runs the command and exits, writing every message — ArgumentParser's
    /// help and usage errors included — through `Console`, whose writes are checked, instead of
    /// ArgumentParser's `print`, whose are not (`cairn --help > /dev/full` exited 0).
    static func main() async {
        StandardStreams.prepare()
        var status: Int32 = 0
        do {
            var command = try await asyncParseAsRoot()
            let group = type(of: command)
            // A command group alone (`cairn`, `cairn prove`) has nothing to do: a usage error.
            guard group.configuration.subcommands.isEmpty else {
                Console.error(helpMessage(for: group))
                let names = group.configuration.subcommands.compactMap { $0.configuration.commandName }
                Console.error("error: missing subcommand: one of " + names.joined(separator: ", "))
                Console.exit(ExitStatus.usage.rawValue)
            }
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as CLIError {
            Console.error("error: " + error.message)
            status = error.status.rawValue
        } catch {
            status = exitCode(for: error).rawValue
            let message = fullMessage(for: error)
            if status == 0 {
                if !message.isEmpty { Console.line(message) }
            } else if let negative = CommandLine.arguments.dropFirst().first(where: isNegativeNumber) {
                // `cairn get -1` is parsed as an unknown option -1 and reported as a missing
                // argument; say what was wrong instead.
                Console.error(negativeNumberMessage(negative, parserMessage: message))
                for line in message.split(separator: "\n") where line.hasPrefix("Usage:") || line.hasPrefix("  See") {
                    Console.error(String(line))
                }
            } else if !message.isEmpty {
                Console.error(message)
            }
        }
        Console.exit(status)
    }

    /// `-1`, `-42`: a negative integer, which no option of cairn's takes.
    static func isNegativeNumber(_ argument: String) -> Bool {
        argument.count > 1 && argument.first == "-" && argument.dropFirst().allSatisfy(\.isASCIIDigit)
    }

    /// Options whose value is a tree size: a negative one reads like a negative index.
    static let sizeOptions: Set<String> = ["--size", "--old"]

    /// The message for a negative number. ArgumentParser reads `--limit -1` as the option
    /// `--limit` without a value ("Missing value for '--limit <n>'") followed by an unknown
    /// option `-1`: name the option and what it takes. An index (`get -1`) or a tree size
    /// (`--size -1`) is called what it is.
    static func negativeNumberMessage(_ negative: String, parserMessage: String) -> String {
        if let range = parserMessage.range(of: "Missing value for '"),
            let option = parserMessage[range.upperBound...].split(whereSeparator: { $0 == " " || $0 == "'" }).first,
            option.hasPrefix("-"), !sizeOptions.contains(String(option))
        {
            return "error: \(option): expected a non-negative integer, got \(negative)"
        }
        return "error: \(negative): indexes and sizes are non-negative integers (an entry can also be given as "
            + "sha256:<64 hex digits>)"
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
