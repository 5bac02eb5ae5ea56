import ArgumentParser
import CairnJSON
import CairnLedger
import CairnRecords
import CairnServer

struct TokenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Create, list and revoke the API tokens of `cairn serve`.",
        discussion: prose(
            """
            Clients of `cairn serve` authenticate with `Authorization: Bearer <token>`. A token has
            one or more roles:

              append   POST /v1/entries, POST /v1/blobs
              read     read entries, records, queries, blobs, checkpoints and proofs
              audit    read, and the access log (/v1/access-log/…)
              metrics  GET /metrics
              erase    append `erasure` records, which destroy a blob's bytes (with append)
              correct  correct what other principals appended (with append); without
                       it, a token corrects only what it appended itself
              admin    everything

            `audit` includes `read`, `admin` includes everything; nothing else implies another
            role, so destroying data or rewriting someone else's record is granted only on purpose.

            The ledger stores only each token's SHA-256 (table `tokens`, specs/storage.md): the
            token itself is printed once, by `create`, and cannot be shown again. Changes reach
            a running server within one second.
            """),
        subcommands: [TokenCreate.self, TokenList.self, TokenRevoke.self]
    )
}

func tokenJSON(_ token: APIToken) -> JSONValue {
    var object: JSONObject = [
        "id": .string(token.id), "name": .string(token.name), "roles": .array(token.roles.map { .string($0.rawValue) }),
        "created": .string(token.created),
    ]
    if let revoked = token.revoked { object["revoked"] = .string(revoked) }
    return .object(object)
}

struct TokenCreate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Create a token and print it (once).",
        discussion: prose(
            """
            Prints the token on standard output — store it now (in your CI's secret store, a
            password manager…): only its hash is kept. The token's id, which logs and the access
            log show, is printed on standard error (or with --json, in the object).

            EXAMPLES
              cairn token create --role append --name ci-pipeline
              cairn token create --role read --role audit --name auditor-laptop --json
            """)
    )

    @OptionGroup var location: LedgerLocation

    @Option(
        name: .customLong("role"),
        help: ArgumentHelp(
            "append, read, audit, metrics, erase, correct or admin (repeat for several).", valueName: "role"))
    var roles: [String] = []

    @Option(help: ArgumentHelp("A label for the token (who or what uses it).", valueName: "name"))
    var name: String

    @Flag(help: "Print {\"id\",\"name\",\"roles\",\"created\",\"token\"} as JSON.")
    var json = false

    func validate() throws {
        guard !roles.isEmpty else { throw ValidationError("give at least one --role") }
        _ = try parsedRoles()
    }

    func parsedRoles() throws -> Set<TokenRole> {
        var parsed = Set<TokenRole>()
        for text in roles.flatMap({ $0.split(separator: ",") }) {
            guard let role = TokenRole(rawValue: String(text)) else {
                throw ValidationError(
                    "--role must be one of \(TokenRole.allCases.map(\.rawValue).joined(separator: ", ")); got \(text)")
            }
            parsed.insert(role)
        }
        return parsed
    }

    func run() async throws {
        try await runReportingErrors {
            let ledger = try location.open()
            let roles = try parsedRoles()
            let created = try await withEngine(ledger) { engine in
                try await TokenStore(ledger: ledger).create(
                    name: name, roles: roles, at: Timestamps.now(), using: engine)
            }
            if json {
                guard case .object(var object) = tokenJSON(created.token) else { return }
                object["token"] = .string(created.secret)
                printJSON(.object(object))
            } else {
                Console.line(created.secret)
                Console.error(
                    "created \(created.token.id) (\(created.token.name): "
                        + "\(created.token.roles.map(\.rawValue).joined(separator: ", "))); "
                        + "the token above is shown only once")
            }
        }
    }
}

struct TokenList: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List tokens (ids, names, roles, dates; never the tokens themselves)."
    )

    @OptionGroup var location: LedgerLocation

    @Flag(help: "Print a JSON array.")
    var json = false

    func run() throws {
        try runReportingErrors {
            let tokens = try TokenStore(ledger: try location.open(readOnly: true)).tokens()
            if json {
                printJSON(.array(tokens.map(tokenJSON)))
                return
            }
            var rows = [["ID", "NAME", "ROLES", "CREATED", "REVOKED"]]
            for token in tokens {
                // Names are refused with control characters, but a ledger may hold older ones.
                rows.append(
                    [
                        token.id, token.name, token.roles.map(\.rawValue).joined(separator: ","), token.created,
                        token.revoked ?? "-",
                    ].map(DisplayText.escape))
            }
            printColumns(rows)
        }
    }
}

struct TokenRevoke: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revoke",
        abstract: "Revoke a token by id; requests with it are refused from now on.",
        discussion: prose(
            """
            The token stays listed (with its revocation time) so that access-log entries naming
            its id can still be attributed. Revoking a revoked token changes nothing.

            EXAMPLE
              cairn token revoke tok_5d1e9c0b7a3f2e41
            """)
    )

    @OptionGroup var location: LedgerLocation

    @Argument(help: ArgumentHelp("The token's id (tok_…), from `cairn token list`.", valueName: "id"))
    var id: String

    @Flag(help: "Print the revoked token as JSON.")
    var json = false

    func run() async throws {
        try await runReportingErrors {
            let ledger = try location.open()
            let token = try await withEngine(ledger) { engine in
                try await TokenStore(ledger: ledger).revoke(id: id, at: Timestamps.now(), using: engine)
            }
            if json {
                printJSON(tokenJSON(token))
            } else {
                Console.line("revoked \(token.id) (\(DisplayText.escape(token.name))) at \(token.revoked ?? "?")")
            }
        }
    }
}
