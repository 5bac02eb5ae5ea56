import ArgumentParser
import CairnCrypto
import CairnJSON
import CairnLedger
import CairnRecords
import Foundation

struct RetentionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retention",
        abstract: "Erase payload blobs once a retention policy lets them go, except those under a legal hold.",
        discussion: prose(
            """
            A retention policy (specs/retention.md) says how long each payload of each record type
            is kept: a checkpoint's prompt, turns or raw_output, a model call's prompt or output. A
            blob is erased once every record that references it is older than its rule allows and
            no legal hold holds any of them; the records, their addresses and every proof stay
            valid, as with `cairn blob erase`. Legal holds are `legal-hold` records appended like
            any other (specs/record-schema.md): "action": "place" on a subject, a repository or a
            time range suspends erasure; "action": "release" with the same hold id ends it.

            The policy is read from --policy, by default retention.json in the ledger directory.

            EXAMPLES
              echo '{"format":"cairn-retention/1","rules":[{"name":"prompts-3y","record_type":"checkpoint","payload":"prompt","erase_after":"P3Y"}]}' > retention.json
              cairn retention plan --policy retention.json
              cairn retention plan --policy retention.json --as-of 2030-01-01T00:00:00Z --json
              cairn retention apply --policy retention.json --author records@example.com
            """),
        subcommands: [RetentionPlanCommand.self, RetentionApplyCommand.self]
    )
}

/// The options `plan` and `apply` share.
struct RetentionOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "The retention policy (default: retention.json in the ledger directory).", valueName: "file"))
    var policy: String?

    @Option(
        name: .customLong("as-of"),
        help: ArgumentHelp(
            "Measure ages at this time, an RFC 3339 UTC timestamp (default: now).", valueName: "timestamp"))
    var asOf: String?

    @Flag(help: "Print the result as one JSON object.")
    var json = false

    func validate() throws {
        if let asOf, Timestamp.parse(asOf) == nil {
            throw ValidationError(
                "--as-of \(DisplayText.escape(asOf)) is not an RFC 3339 UTC timestamp such as 2030-01-01T00:00:00Z")
        }
    }

    /// The policy file's path: --policy, or retention.json in the ledger directory.
    func policyPath(_ location: LedgerLocation) -> String {
        policy ?? (location.directory as NSString).appendingPathComponent("retention.json")
    }

    /// Reads and parses the policy; a problem in it is a data error naming the file, the line and the member.
    func loadPolicy(_ location: LedgerLocation) throws -> RetentionPolicy {
        let path = policyPath(location)
        let bytes = try readInput(path, what: "retention policy")
        do {
            return try RetentionPolicy(parsing: bytes)
        } catch {
            throw CLIError(.dataError, "\(path):\(error.line): \(error.path): \(error.message)")
        }
    }

    var asOfMilliseconds: Int64 {
        asOf.flatMap(Timestamp.parse) ?? Self.now
    }

    static var now: Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)) }
}

/// The plan as JSON and as lines of text.
enum RetentionOutput {
    static func referenceJSON(_ reference: RetentionPlan.Reference) -> JSONValue {
        var object: JSONObject = [
            "entry": .uint(reference.entry), "record_type": .string(reference.type.rawValue),
            "payload": .string(reference.payload), "timestamp": .string(Timestamp.format(reference.clock)),
        ]
        if let rule = reference.rule {
            object["rule"] = .string(rule.name)
            object["erase_after"] = .string(rule.eraseAfter.description)
        }
        if let due = reference.due { object["due"] = .string(Timestamp.format(due)) }
        return .object(object)
    }

    static func json(_ plan: RetentionPlan, appended: [(blob: SHA256Digest, index: UInt64)]? = nil) -> JSONValue {
        var object: JSONObject = [
            "as_of": .string(Timestamp.format(plan.asOf)), "tree_size": .uint(plan.treeSize),
            "erase": .array(
                plan.erasures.map { erasure in
                    var item: JSONObject = [
                        "blob": .string(erasure.blob.description), "size": .number(Double(erasure.size)),
                        "reason": .string(erasure.reason), "references": .array(erasure.references.map(referenceJSON)),
                    ]
                    if let index = appended?.first(where: { $0.blob == erasure.blob })?.index {
                        item["erasure_entry"] = .uint(index)
                    }
                    return .object(item)
                }),
            "withheld": .array(
                plan.withheld.map {
                    .object([
                        "blob": .string($0.blob.description), "holds": .array($0.holds.map { .string($0) }),
                        "because": .array($0.blockers.map { .string($0) }),
                        "references": .array($0.references.map(referenceJSON)),
                    ])
                }),
            "already_erased": .array(plan.alreadyErased.map { .string($0.description) }),
            "holds": .array(
                plan.holds.map { hold in
                    var item: JSONObject = ["hold": .string(hold.id), "entry": .uint(hold.entry)]
                    if let subject = hold.subjectText { item["subject"] = .string(subject) }
                    if let repository = hold.repository { item["repository"] = .string(repository) }
                    if let from = hold.from { item["from"] = .string(Timestamp.format(from)) }
                    if let until = hold.until { item["until"] = .string(Timestamp.format(until)) }
                    return .object(item)
                }),
            "unmatched_releases": .array(
                plan.unmatchedReleases.map { .object(["entry": .uint($0.entry), "hold": .string($0.hold)]) }),
        ]
        if let appended { object["appended"] = .uint(UInt64(appended.count)) }
        return .object(object)
    }

    static func printText(_ plan: RetentionPlan, verb: String) {
        Console.line(
            "retention as of \(Timestamp.format(plan.asOf)), tree size \(plan.treeSize): \(plan.erasures.count) "
                + "blob(s) \(verb), \(plan.withheld.count) withheld, \(plan.alreadyErased.count) already erased")
        for erasure in plan.erasures {
            Console.line("erase \(erasure.blob) (\(erasure.size) bytes): \(DisplayText.escape(erasure.reason))")
            for ref in erasure.references { Console.line("  " + describe(ref)) }
        }
        for item in plan.withheld {
            let holds = item.holds.map { DisplayText.escape($0) }.joined(separator: ", ")
            Console.line("withheld \(item.blob)" + (item.holds.isEmpty ? "" : ": held by \(holds)"))
            for blocker in item.blockers { Console.line("  kept: " + DisplayText.escape(blocker)) }
            for ref in item.references { Console.line("  " + describe(ref)) }
        }
        for release in plan.unmatchedReleases {
            Console.line(
                "note: entry \(release.entry) releases hold \(DisplayText.escape(release.hold)), which was not placed "
                    + "then: it released nothing")
        }
    }

    static func describe(_ ref: RetentionPlan.Reference) -> String {
        var text = "entry \(ref.entry) \(ref.type.rawValue) \(ref.payload), dated \(Timestamp.format(ref.clock))"
        if let rule = ref.rule {
            text += ", rule \(DisplayText.escape(rule.name)) (\(rule.eraseAfter))"
            if let due = ref.due { text += ", due \(Timestamp.format(due))" }
        }
        return text
    }
}

struct RetentionPlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Show what `retention apply` would erase and why, and what legal holds withhold (a dry run).",
        discussion: prose(
            """
            Reads only: nothing is written, not even to the access log. Lists each blob that would be
            erased with the entries that reference it, their record type, payload field, date, rule
            and due date; each blob that some rule makes due but that is kept, with the holds that
            hold it or the reference that keeps it (a reference not yet due, or one no rule names);
            and the blobs already erased.

            EXAMPLES
              cairn retention plan --policy retention.json --as-of 2030-01-01T00:00:00Z

            EXIT STATUS
              0   the plan was printed (whether or not anything is due)
              64  usage error (a bad --as-of, a ledger without the provenance profile)
              65  the policy file is not a valid policy: the message names its line and member
              66  no such ledger or policy file
              70  internal error (a bug in cairn: please report it)
              74  the ledger or the policy cannot be read, or the plan cannot be written
              141 standard output is a pipe whose reader has exited (no message)
            """)
    )

    @OptionGroup var location: LedgerLocation
    @OptionGroup var options: RetentionOptions

    func run() throws {
        try runReportingErrors {
            let policy = try options.loadPolicy(location)
            let ledger = try location.open(readOnly: true)
            let asOf = options.asOfMilliseconds
            let plan = try ledger.read { try $0.retentionPlan(policy: policy, asOf: asOf) }
            if options.json {
                printJSON(RetentionOutput.json(plan))
            } else {
                RetentionOutput.printText(plan, verb: "to erase")
            }
        }
    }
}

struct RetentionApplyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Erase the blobs `retention plan` lists, appending one erasure record per blob.",
        discussion: prose(
            """
            Makes the plan, then appends, in one atomic batch, one erasure record per blob to erase
            ({"type":"erasure",…,"reason":"retention policy prompts-3y: checkpoint prompt older than
            P3Y"}), and deletes the bytes once it is committed, as `cairn blob erase` does. Blobs
            already erased are skipped (and bytes an interrupted run left behind are deleted), so a
            second run erases nothing and an interrupted run is finished by running it again. The
            records that reference the blobs, and every proof, stay valid. --as-of may be in the
            past (erasing less), never in the future: apply erases only what is due, and the
            erasure records say so; `retention plan --as-of` shows what a later date would erase.

            Runs where the ledger is, as a local writer (also while `cairn serve` runs); the HTTP
            API has no retention endpoint. Place legal holds before running it, not during a run.

            EXAMPLES
              cairn retention apply --policy retention.json --author records@example.com --json

            EXIT STATUS
              0   done: the blobs listed were erased (or nothing was due)
              64  usage error (a bad or future --as-of, a ledger without the provenance profile)
              65  the policy file is not a valid policy (its line and member are named), or the
                  ledger refused an erasure (another process erased the blob meanwhile: run again)
              66  no such ledger or policy file
              70  internal error (a bug in cairn: please report it)
              74  the ledger cannot be read or written, or the result cannot be written
              75  the ingest queue is full; retry later
              77  the signing key is missing, unreadable or does not match the ledger
              141 standard output is a pipe whose reader has exited (no message)
            """)
    )

    @OptionGroup var location: LedgerLocation
    @OptionGroup var options: RetentionOptions

    @Option(
        help: ArgumentHelp(
            "Who erases the blobs, as the erasure records name them (default: $USER).",
            valueName: "name"))
    var author: String?

    func validate() throws {
        if let asOf = options.asOf, let time = Timestamp.parse(asOf), time > RetentionOptions.now {
            throw ValidationError(
                "--as-of \(asOf) is in the future: apply erases only what is due now (see what a later date would "
                    + "erase with `cairn retention plan --as-of`)")
        }
    }

    func run() async throws {
        try await runReportingErrors {
            let policy = try options.loadPolicy(location)
            let ledger = try location.open()
            let who = author ?? ProcessInfo.processInfo.environment["USER"] ?? "unknown"
            let asOf = options.asOfMilliseconds
            let plan = try await ledger.read { try $0.retentionPlan(policy: policy, asOf: asOf) }
            // Finish an earlier run interrupted between its commit and the deletion of the bytes.
            for blob in plan.alreadyErased where ledger.blobStore.hasBytes(of: blob) {
                try ledger.blobStore.remove(blob)
            }
            let records = try ledger.retentionErasures(plan, author: who, at: Timestamps.now())
            var appended: [(blob: SHA256Digest, index: UInt64)] = []
            if !records.isEmpty {
                // The engine deletes the bytes once the erasures are committed.
                let outcomes = try await withEngine(ledger) { engine in
                    try await engine.append(contentsOf: records, atomic: true, whenBusy: .wait)
                }
                try await recordLocalAppend(ledger, outcomes, via: "cairn retention apply")
                for (erasure, outcome) in zip(plan.erasures, outcomes) {
                    guard let result = outcome.result else {
                        throw CLIError(.software, "the erasure of \(erasure.blob) was neither appended nor refused")
                    }
                    appended.append((erasure.blob, result.index))
                }
            }
            if options.json {
                printJSON(RetentionOutput.json(plan, appended: appended))
            } else {
                RetentionOutput.printText(plan, verb: "erased")
                for (blob, index) in appended { Console.line("erased \(blob): entry \(index) records it") }
            }
        }
    }
}
