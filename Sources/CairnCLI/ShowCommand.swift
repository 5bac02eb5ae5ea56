import ArgumentParser
import CairnJSON
import CairnLedger
import CairnRecords

struct ShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show a record as it stands today (corrections applied), and its history.",
        discussion: prose(
            """
            Finds the record by checkpoint id, content address (sha256:…) or leaf index, and prints
            its effective form: the entry as appended with every correction applied in log order.
            The original bytes never change (`cairn get` prints them).

            With --history, also lists every entry that touches the record — model calls of a
            checkpoint's request id (the provider's log of the same call), corrections, reviews,
            tests, deploys, rollbacks, rewrites, erasures of blobs it references — each with its
            index, content address, the time the ledger appended it and the command that proves it
            is in the log.

            Every entry shows when the ledger appended it, by the log's own clock (the record's
            timestamp or "at" is what its producer claims); entries appended by a cairn that did
            not record commit times show an unknown time. Text from records is shown escaped:
            control, C1 and bidirectional characters appear as \\u{1B}-style escapes (\\u001b
            inside JSON), so a record cannot rewrite the terminal; --json has the exact values.

            EXAMPLES
              cairn show 0f8e7a52-3c1d-4d7e-9a41-7f1c2b6e5d01 --history
              cairn show sha256:2fc4… --json
            """)
    )

    @OptionGroup var location: LedgerLocation

    @Argument(help: ArgumentHelp("A checkpoint id, sha256:<hex> or leaf index.", valueName: "record"))
    var record: String

    @Flag(help: "List every entry that touches the record.")
    var history = false

    @Flag(help: "Print one JSON object (index, digest, appended_at, corrected, record, original, history).")
    var json = false

    func run() throws {
        try runReportingErrors {
            let ledger = try location.open(readOnly: true)
            let view = try ledger.read { snapshot in try snapshot.view(try snapshot.resolve(recordReference: record)) }
            if json {
                printJSON(view.json(history: history))
                return
            }
            let corrections = view.history.filter { $0.type == .correction }.count
            Console.line(
                "# entry \(view.index)  \(view.digest)  appended \(appended(view.appendedAt))"
                    + (view.isCorrected
                        ? "  (effective: \(corrections) correction\(corrections == 1 ? "" : "s") applied)" : ""))
            // Record text is shown escaped: JSON escapes control characters, `escapeJSON` the
            // bidirectional and C1 ones, and each history line is one line of escaped text.
            Console.line(DisplayText.escapeJSON(JSONWriter.pretty(view.effective)))
            guard history else { return }
            Console.line("")
            Console.line(view.history.isEmpty ? "# history: nothing refers to this entry" : "# history")
            for item in view.history {
                Console.line("\(item.index)\t\(item.type.rawValue)\t\(DisplayText.escape(summary(item.record)))")
                Console.line(
                    "\t\(item.digest)  appended \(appended(item.appendedAt))  "
                        + "(prove: cairn prove inclusion \(item.index))")
            }
        }
    }

    /// When the ledger appended an entry, or why it cannot say.
    private func appended(_ milliseconds: Int64?) -> String {
        milliseconds.map(Timestamp.format) ?? "at an unknown time (before commit times were recorded)"
    }

    private func summary(_ record: JSONValue) -> String {
        func field(_ name: String) -> String? { record[name]?.stringValue }
        switch record["type"]?.stringValue {
        case "correction":
            return "by \(field("author") ?? "?"): \(field("reason") ?? "")"
        case "review":
            return "\(field("reviewer") ?? "?") \(field("decision") ?? "") at \(field("at") ?? "?")"
        case "test":
            return "result \(field("result") ?? "?")"
                + (record["coverage"]?.numberValue.map { ", coverage \($0)" } ?? "")
        case "deploy":
            return "to \(field("environment") ?? "?") at \(field("at") ?? "?") (\(field("git_commit") ?? ""))"
        case "rollback":
            return "in \(field("environment") ?? "?") at \(field("at") ?? "?"): \(field("reason") ?? "")"
        case "rewrite":
            return "\(field("kind") ?? "rewrite") \(field("old_commit") ?? "?") → \(field("new_commit") ?? "?")"
        case "erasure":
            return "blob \(field("blob") ?? "?") erased at \(field("at") ?? "?"): \(field("reason") ?? "")"
        case "key-rotation":
            return "signing key \(field("old_vkey") ?? "?") replaced by \(field("new_vkey") ?? "?") at "
                + "\(field("at") ?? "?") by \(field("author") ?? "?"): \(field("reason") ?? "")"
        case "legal-hold":
            let scope = ["subject", "repository", "from", "until"].compactMap { name in
                field(name).map { "\(name) \($0)" }
            }
            return "hold \(field("hold") ?? "?") \(field("action") == "release" ? "released" : "placed")"
                + (scope.isEmpty ? "" : " on " + scope.joined(separator: ", "))
                + " at \(field("at") ?? "?") by \(field("author") ?? "?"): \(field("reason") ?? "")"
        case "model-call":
            return "\(field("provider") ?? "?") served \(record["model"]?["id"]?.stringValue ?? "?") for request "
                + "\(field("request_id") ?? "?") at \(field("timestamp") ?? "?")"
        default:
            return JSONWriter.compact(record)
        }
    }
}
