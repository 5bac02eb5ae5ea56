import ArgumentParser
import CairnCrypto
import CairnJSON
import CairnLedger
import CairnMerkle
import CairnRecords

/// Parses an `INDEX|sha256:HEX` argument.
func parseReference(_ text: String) throws -> EntryReference {
    guard let reference = EntryReference(text) else {
        throw CLIError(
            .usage,
            "\(text.debugDescription) is not an entry: an index is a non-negative integer without leading zeros, a "
                + "content address sha256:<64 lower-case hex digits>")
    }
    return reference
}

struct GetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get",
        abstract: "Print a record by leaf index or content address.",
        discussion: prose(
            """
            Prints the record at leaf INDEX, or the record whose content address is sha256:HEX, as
            pretty JSON. With --raw, prints the exact leaf bytes (the canonical JSON, no trailing
            newline): that is the input `cairn verify inclusion --entry` expects. With --json,
            prints an object with the index, digest, leaf hash and record.

            EXAMPLES
              cairn get 0
              cairn get sha256:1802…0cb1 --raw > entry.json
            """)
    )

    @OptionGroup var location: LedgerLocation

    @Argument(help: ArgumentHelp("A leaf index or sha256:<64 hex digits>.", valueName: "entry"))
    var entry: String

    @Flag(help: "Print the exact leaf bytes.")
    var raw = false

    @Flag(help: "Print a JSON object with index, digest, leaf_hash and record.")
    var json = false

    func validate() throws {
        if raw && json { throw ValidationError("--raw and --json cannot be combined") }
    }

    func run() throws {
        try runReportingErrors {
            let reference = try parseReference(entry)
            let ledger = try location.open(readOnly: true)
            let (index, bytes) = try ledger.read { snapshot in
                let index = try snapshot.resolve(reference)
                return (index, try snapshot.entry(at: index))
            }
            if raw {
                Console.write(bytes)
                return
            }
            let record: JSONValue
            do {
                record = try JSONParser.parse(bytes)
            } catch {
                throw CLIError(.software, "entry \(index) is not valid JSON: \(error)")
            }
            if json {
                printJSON(
                    .object([
                        "index": .uint(index),
                        "digest": .string(SHA256.hash(bytes).description),
                        "leaf_hash": .string(RFC6962.leafHash(bytes).base64),
                        "record": record,
                    ]))
            } else {
                Console.line(DisplayText.escapeJSON(JSONWriter.pretty(record)))  // --raw has the exact bytes
            }
        }
    }
}
