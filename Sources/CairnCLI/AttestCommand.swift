import ArgumentParser
import CairnCapture
import CairnCommitCapture
import CairnCrypto
import CairnJSON
import CairnLedger
import CairnRecords
import Foundation

/// `cairn attest`: a developer's declaration, for one commit, of the AI tools used, the approximate AI share and
/// whether sensitive paths were touched — a checkpoint of evidence grade `attested`, for flows without agent hooks
/// (specs/capture.md, "Attestations").
struct AttestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "attest",
        abstract: "Declare the AI tools a commit used, recorded as a checkpoint of grade `attested`.",
        discussion: prose(
            """
            For work no agent hook captured. The record is a checkpoint of the commit (default HEAD)
            whose outputs are the lines the commit added to each text file (against its first
            parent), all with contributor `mixed` (AI was involved, the split is not known), and whose
            `x_capture` holds the declaration: `grade` `attested`, `tools`, `ai_share` (when given),
            `sensitive_paths` and `attested_by` (user.email). Its id is `attest-<commit>-<12 hex>`,
            from the declaration, so attesting the same thing twice records nothing new. The
            tool_path is `agent`; without --model the model is `unknown`.

            Without --tool, on a terminal, it asks for the tools, the model, the AI share and whether
            sensitive paths were touched. --sensitive defaults to whether a changed path matches git
            config cairn.sensitivePaths.

            The record is printed (its id; with --json the record), then put in the repository's
            outbox and delivered like the hooks' records: to --ledger, else git config cairn.ledger,
            else cairn.server's spool; with neither it waits in the outbox for `cairn hooks flush`.

            EXIT STATUS
              0   recorded (or already recorded, or waiting in the outbox)
              64  usage error: --tool missing without a terminal, --ai-share outside 0-100, a bad tool name
              65  the commit adds no lines to a text file, or is a merge
              66  not inside a git repository, or no such revision
              70  internal error (a bug in cairn: please report it)
              74  the outbox cannot be written, or the output cannot be written

            EXAMPLES
              cairn attest --commit HEAD~1 --tool github-copilot --no-sensitive --dry-run --json
              cairn attest --tool claude-code --model claude-sonnet-4-5-20250929 --ai-share 40 --ledger cairn-ledger
            """)
    )

    @Option(help: ArgumentHelp("The repository (default: the one around the current directory).", valueName: "dir"))
    var repo: String?

    @Option(help: ArgumentHelp("The commit attested (default: HEAD).", valueName: "rev"))
    var commit = "HEAD"

    @Option(help: ArgumentHelp("The AI tools used, comma separated (e.g. claude-code,cursor).", valueName: "name"))
    var tool: [String] = []

    @Option(help: ArgumentHelp("The model used (default: unknown).", valueName: "id"))
    var model: String?

    @Option(help: ArgumentHelp("The approximate share of the change the AI wrote (0-100).", valueName: "percent"))
    var aiShare: String?

    @Flag(
        inversion: .prefixedNo,
        help: "Whether the change touched sensitive paths (default: whether one matches cairn.sensitivePaths).")
    var sensitive: Bool?

    @Option(help: ArgumentHelp("The prompt, when one is worth recording.", valueName: "text"))
    var prompt: String?

    @Option(
        help: ArgumentHelp("The ledger to append to (default: git config cairn.ledger).", valueName: "dir"))
    var ledger: String?

    @Flag(help: "Print the record without recording it.")
    var dryRun = false

    @Flag(help: "Print the record as JSON rather than its id.")
    var json = false

    /// The declaration, once every answer is known.
    struct Declaration {
        var tools: [String]
        var model: String?
        var aiShare: Int?
        var sensitive: Bool?
        var prompt: String?
    }

    static let noPrompt = "(attested after the fact: no prompt was captured)"

    func run() async throws {
        try await runReportingErrors {
            let directory = repo ?? FileManager.default.currentDirectoryPath
            guard let repository = CaptureRepository.containing(directory) else {
                throw CLIError(.notFound, "\(directory) is not inside a git repository")
            }
            var declaration = try Self.declaration(
                tools: tool, model: model, aiShare: aiShare, sensitive: sensitive, prompt: prompt)
            if declaration.tools.isEmpty {
                guard isatty(0) != 0 else {
                    throw CLIError(.usage, "--tool is required (the AI tools used, e.g. --tool claude-code)")
                }
                declaration = try Self.ask(declaration)
            }
            let facts = GitFacts(root: repository.root)
            var config = facts.settings()
            if let ledger { config["cairn.ledger"] = ledger }
            let settings = CommitRecorder.Settings(config: config, root: repository.root)
            let record = try Self.record(
                revision: commit, declaration: declaration, facts: facts, settings: settings,
                now: Timestamp.format(Int64(Date().timeIntervalSince1970 * 1000)))
            let id = record.objectValue?["id"]?.stringValue ?? ""
            if json { printJSON(record) } else { Console.line(id) }
            guard !dryRun else { return }
            try await Self.store(record, id: id, repository: repository, config: config)
        }
    }

    // MARK: - The declaration

    /// The declaration from the options, checked.
    static func declaration(
        tools: [String], model: String?, aiShare: String?, sensitive: Bool?, prompt: String?
    ) throws -> Declaration {
        Declaration(
            tools: try parseTools(tools.joined(separator: ",")),
            model: try model.map { try identifier($0, option: "--model") }.flatMap { $0.isEmpty ? nil : $0 },
            aiShare: try aiShare.map(parseShare), sensitive: sensitive,
            prompt: prompt.flatMap { $0.unicodeScalars.contains { !$0.properties.isWhitespace } ? $0 : nil })
    }

    /// Comma-separated tool names, trimmed, without empty ones or repeats (in the order given).
    static func parseTools(_ text: String) throws -> [String] {
        var tools: [String] = []
        for name in text.split(separator: ",") {
            let name = try identifier(String(name), option: "--tool")
            if !name.isEmpty, !tools.contains(name) { tools.append(name) }
        }
        return tools
    }

    /// `text` trimmed, refused when it holds a control character (the schema's identifiers).
    static func identifier(_ text: String, option: String) throws -> String {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard !trimmed.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
            throw CLIError(.usage, "\(option) \(trimmed.debugDescription): a name cannot hold control characters")
        }
        return trimmed
    }

    /// A whole percentage from 0 to 100 (a trailing `%` allowed).
    static func parseShare(_ text: String) throws -> Int {
        let digits = text.hasSuffix("%") ? String(text.dropLast()) : text
        guard let value = Int(digits.trimmingCharacters(in: .whitespaces)), (0...100).contains(value) else {
            throw CLIError(.usage, "--ai-share \(text): the AI share is a whole percentage from 0 to 100")
        }
        return value
    }

    /// Asks, on the terminal, for every answer the options did not give.
    static func ask(_ given: Declaration) throws -> Declaration {
        var declaration = given
        func question(_ text: String) -> String? {
            // On standard error: standard output stays the record's alone.
            Console.flush()
            FileHandle.standardError.write(Data(text.utf8))
            return readLine(strippingNewline: true)
        }
        while declaration.tools.isEmpty {
            guard let answer = question("AI tools used (comma separated, e.g. claude-code,cursor): ") else {
                throw CLIError(.usage, "--tool is required (no answer was given)")
            }
            do { declaration.tools = try parseTools(answer) } catch let error as CLIError {
                Console.error(error.message)
            }
        }
        if declaration.model == nil, let answer = question("Model (Enter: unknown): ") {
            declaration.model = try? identifier(answer, option: "--model").nilIfEmpty
        }
        while declaration.aiShare == nil, let answer = question("Approximate AI share, 0-100 % (Enter: skip): "),
            !answer.trimmingCharacters(in: .whitespaces).isEmpty
        {
            do { declaration.aiShare = try parseShare(answer) } catch let error as CLIError {
                Console.error(error.message)
            }
        }
        if declaration.sensitive == nil,
            let answer = question("Sensitive paths touched? y/n (Enter: from cairn.sensitivePaths): ")?.lowercased()
        {
            if answer.hasPrefix("y") {
                declaration.sensitive = true
            } else if answer.hasPrefix("n") {
                declaration.sensitive = false
            }
        }
        return declaration
    }

    // MARK: - The record

    /// The checkpoint attesting `revision`.
    static func record(
        revision: String, declaration: Declaration, facts: GitFacts, settings: CommitRecorder.Settings, now: String
    ) throws -> JSONValue {
        guard facts.hasCommit(revision) else {
            throw CLIError(.notFound, "no commit \(revision) in \(facts.root)")
        }
        let found: (commit: GitFacts.Commit, changed: [String])
        do { found = try facts.commitAndChanges(revision) } catch { throw CLIError(.notFound, error.message) }
        let commit = found.commit
        guard commit.parents.count <= 1 else {
            throw CLIError(.dataError, "\(commit.id) is a merge: attest the commits it merges")
        }
        let parent = commit.parents.first
        let blobs: [[UInt8]?]
        do {
            blobs = try facts.blobs(
                found.changed.map { commit.id + ":" + $0 } + found.changed.map { (parent ?? commit.id) + ":" + $0 })
        } catch { throw CLIError(.ioError, error.message) }
        var outputs: [JSONValue] = []
        for (position, path) in found.changed.enumerated().sorted(by: { $0.element < $1.element }) {
            // Deleted files and binary files have no lines to attest.
            guard let committed = blobs[position], !committed.contains(0) else { continue }
            let before = parent == nil ? nil : blobs[found.changed.count + position]
            let attribution = LineAttribution.attribute(
                committed: CommitRecorder.lines(committed), parent: before.map(CommitRecorder.lines) ?? [],
                sessions: [])
            let added = attribution.enumerated().compactMap { $0.element == nil ? nil : $0.offset + 1 }
            guard !added.isEmpty else { continue }
            outputs.append(
                .object(
                    JSONObject([
                        ("repo", .string(settings.repo)), ("commit", .string(commit.id)), ("path", .string(path)),
                        (
                            "ranges",
                            .array(LineAttribution.ranges(added).map { .array($0.map { .number(Double($0)) }) })
                        ),
                        ("content_hash", .string(SHA256.hash(committed).description)),
                        ("contributor", .string("mixed")),
                    ])))
        }
        guard !outputs.isEmpty else {
            throw CLIError(.dataError, "\(commit.id) adds no lines to a text file: there is nothing to attest")
        }
        let sensitive =
            declaration.sensitive ?? found.changed.contains { settings.isSensitive($0) }
        // The id: the commit and the declaration's canonical form, so that the same attestation has the same id.
        var fields: [(String, JSONValue)] = [
            ("commit", .string(commit.id)), ("tools", .array(declaration.tools.sorted().map { .string($0) })),
            ("model", declaration.model.map { .string($0) } ?? .null),
            ("ai_share", declaration.aiShare.map { .number(Double($0)) } ?? .null),
            ("sensitive_paths", .bool(sensitive)), ("prompt", declaration.prompt.map { .string($0) } ?? .null),
            ("attested_by", .string(settings.requester)),
        ]
        fields.sort { $0.0 < $1.0 }
        let canonical = try JCS.canonicalize(.object(JSONObject(fields)))
        let digest = SHA256.hash(canonical).description.dropFirst("sha256:".count).prefix(12)
        var capture: [(String, JSONValue)] = [
            ("grade", .string("attested")), ("tools", .array(declaration.tools.map { .string($0) })),
        ]
        if let share = declaration.aiShare { capture.append(("ai_share", .number(Double(share)))) }
        capture.append(("sensitive_paths", .bool(sensitive)))
        capture.append(("attested_by", .string(settings.requester)))
        if declaration.model == nil { capture.append(("model_unknown", .bool(true))) }
        return .object(
            JSONObject([
                ("type", .string("checkpoint")), ("schema", .number(1)),
                ("id", .string("attest-\(commit.id)-\(digest)")), ("timestamp", .string(now)),
                ("requested_by", .string(settings.requester)), ("tool_path", .string("agent")),
                ("model", ModelNames.model(id: declaration.model, agent: declaration.tools.first ?? "unknown")),
                ("prompt", .string(declaration.prompt ?? noPrompt)), ("outputs", .array(outputs)),
                ("x_capture", .object(JSONObject(capture))),
            ]))
    }

    // MARK: - Storing

    /// Puts the record in the outbox and delivers it, unless the ledger or the outbox holds its id already.
    static func store(
        _ record: JSONValue, id: String, repository: CaptureRepository, config: [String: String]
    ) async throws {
        let delivery = CommitDelivery(repository: repository, config: config)
        let waiting = LockedLines.read(delivery.outboxPath).contains { line in
            (try? JSONParser.parse(line))?.objectValue?["id"]?.stringValue == id
        }
        if waiting {
            Console.error("\(id) already waits in the outbox: nothing new recorded")
            return
        }
        if case .ledger(let directory) = delivery.destination {
            let known = try await Self.ledger(directory, holds: id)
            if known {
                Console.error("\(id) is already in the ledger: nothing new recorded")
                return
            }
        }
        let bytes = JSONWriter.compactBytes(record) + [UInt8(ascii: "\n")]
        do {
            try LockedLines.append(bytes, to: delivery.outboxPath)
        } catch {
            throw CLIError(.ioError, error.message)
        }
        guard delivery.destination != nil else {
            Console.error(
                "\(id) waits in the outbox: no destination (pass --ledger, or set git config cairn.ledger or cairn.server)"
            )
            return
        }
        do {
            let outcome = try await delivery.deliver(detachFlush: false)
            if Console.stderrIsTerminal {
                Console.error(
                    "delivered \(outcome.delivered), rejected \(outcome.rejected), waiting \(outcome.waiting)")
            }
        } catch {
            // As with the hooks: the record stays in the outbox for the next delivery.
            Console.error("\(id) waits in the outbox (`cairn hooks flush` delivers it): \(CLIError(error).message)")
        }
    }

    /// Whether the ledger in `directory` holds a checkpoint with this id (false when it does not open).
    static func ledger(_ directory: String, holds id: String) async throws -> Bool {
        var options = Ledger.OpenOptions()
        options.readOnly = true
        guard let store = try? LedgerLocation.open(directory, options: options) else { return false }
        return try await store.read { snapshot in (try? snapshot.resolve(recordReference: id)) != nil }
    }
}

extension String {
    fileprivate var nilIfEmpty: String? { isEmpty ? nil : self }
}
