import CairnTestSupport
import Foundation
import Testing

/// Messages that name the problem (issue 10 §2 item 11): each case here printed something raw or
/// misleading, or silently answered nothing, before.
@Suite("cairn says what is wrong")
struct MessageTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// A provenance ledger holding examples/records.jsonl (six records).
    static func provenanceLedger() throws -> LedgerFixture {
        let f = try LedgerFixture(profile: "provenance")
        try f.cli.ok("append", Self.repository.appendingPathComponent("examples/records.jsonl").path)
        return f
    }

    @Test("import of a directory names it (no NSCocoaErrorDomain)")
    func importDirectory() throws {
        let f = try LedgerFixture()
        let out = try f.cli.run(["import", f.dir.path])
        #expect(out.status == 66)
        #expect(out.stderr == "error: input file \(f.dir.path) is a directory, not a file\n")
    }

    @Test("serve on an address in use says so, naming the address (no `bind(...) errno 98`)")
    func serveOnBusyAddress() throws {
        let f = try LedgerFixture()
        let (socket, port) = try Self.listeningSocket()
        defer { close(socket) }
        let out = try f.cli.run(["serve", "--listen", "127.0.0.1:\(port)"])
        #expect(out.status == 74, "\(out.stderr)")
        #expect(
            out.stderr.hasPrefix("error: cannot listen on 127.0.0.1:\(port): the address is already in use"),
            "\(out.stderr)")
        #expect(!out.stderr.contains("errno"))
    }

    /// A loopback TCP socket listening on a free port.
    static func listeningSocket() throws -> (Int32, UInt16) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && listen(fd, 1) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard ok else { throw LedgerFixture.FixtureError(message: "cannot listen: \(errno)") }
        return (fd, UInt16(bigEndian: address.sin_port))
    }

    @Test("A negative index is a usage error that says indexes are non-negative (not 'Missing expected argument')")
    func negativeIndex() throws {
        let f = try LedgerFixture()
        try f.cli.ok("append", stdin: "{\"n\":1}\n")
        for args in [
            ["get", "-1"], ["show", "-1"], ["prove", "inclusion", "-1"], ["prove", "inclusion", "0", "--size", "-1"],
        ] {
            let out = try f.cli.run(args)
            #expect(out.status == 64, "\(args)")
            #expect(
                out.stderr.hasPrefix("error: -1: indexes and sizes are non-negative integers"), "\(args): \(out.stderr)"
            )
            #expect(!out.stderr.contains("Missing"), "\(args): \(out.stderr)")
        }
        let dashDash = try f.cli.run(["get", "--", "-1"])
        #expect(dashDash.status == 64)
        #expect(dashDash.stderr.contains("an index is a non-negative integer"), "\(dashDash.stderr)")
    }

    @Test("A ledger path that is a file is called a file, not a missing ledger")
    func ledgerPathIsAFile() throws {
        let dir = try TemporaryDirectory()
        let file = try dir.write("notes.txt", "hello\n")
        for args in [["get", "0"], ["fsck"], ["checkpoint"], ["serve", "--listen", "127.0.0.1:0"]] {
            let out = try CLI(ledger: file).run(args)
            #expect(out.status == 66, "\(args)")
            #expect(out.stderr == "error: the ledger path \(file) is a file, not a ledger directory\n", "\(args)")
        }
    }

    @Test("--vkey naming a missing file is 'no such file' (66), like every other missing input")
    func missingVkeyFile() throws {
        let f = try LedgerFixture()
        let checkpoint = try f.dir.write("cp.txt", try f.cli.ok("checkpoint").text)
        let out = try f.cli.run(["verify", "checkpoint", "--vkey", f.dir.file("missing.vkey"), checkpoint])
        #expect(out.status == 66)
        #expect(out.stderr.contains("missing.vkey: no such file"), "\(out.stderr)")
        #expect(!out.stderr.contains("found 0 '+'"))
        let nested = try f.cli.run(["verify", "checkpoint", "--vkey", "keys/log", checkpoint])
        #expect(nested.status == 66)
        // A malformed key text stays a usage error.
        for malformed in ["a+b", "not-a-key"] {
            #expect(try f.cli.run(["verify", "checkpoint", "--vkey", malformed, checkpoint]).status == 64)
        }
    }

    @Test("query filters that can match nothing are usage errors naming the option and what was expected")
    func queryFilters() throws {
        let f = try Self.provenanceLedger()
        let cases: [([String], String)] = [
            (["--tool-path", "IDE"], "error: --tool-path: expected one of ide, cli, ci, chat, agent, got \"IDE\""),
            (["--path", "src/retry.ts", "--line", "0"], "error: --line: lines are numbered from 1, got 0"),
            (["--path", "src/retry.ts", "--lines", "0-5"], "error: --lines: lines are numbered from 1, got 0"),
            (["--commit", "9fceb02"], "error: --commit: expected a full git commit id, 40 or 64 lowercase hex"),
            (["--since", "2026-12-01", "--until", "2026-11-01"], "error: --until: the period is empty"),
            (["--since", "2026-11-01", "--until", "2026-11-01"], "error: --until: the period is empty"),
            (["--limit", "0"], "error: --limit: expected a positive number of results, got 0"),
        ]
        for (args, message) in cases {
            let out = try f.cli.run(["query"] + args)
            #expect(out.status == 64, "\(args): \(out.stderr)")
            #expect(out.stderr.hasPrefix(message), "\(args): \(out.stderr)")
        }
        // The well-formed versions of the same filters answer.
        let full = try f.cli.ok("query", "--commit", "9fceb02d0ae598e95dc970b74767f19372d61af8", "--json")
        #expect(full.text.contains("0f8e7a52-3c1d-4d7e-9a41-7f1c2b6e5d01"))
        try f.cli.ok("query", "--tool-path", "ide", "--path", "src/retry.ts", "--line", "1")
    }

    @Test("Empty input to append is exit 65 'no records in the input', locally and for a server")
    func emptyAppend() throws {
        let f = try LedgerFixture()
        for input in ["", "\n\n  \n"] {
            let out = try f.cli.run(["append"], stdin: Array(input.utf8))
            #expect(out.status == 65)
            #expect(out.stderr == "error: no records in the input; nothing was appended\n")
        }
        let empty = try f.dir.write("empty.jsonl", "")
        #expect(try f.cli.run(["append", empty]).status == 65)
        // To a server: refused before anything is sent (the port is closed) or spooled.
        let out = try CLI.exec(
            CLI.binary, ["append", "--server", "http://127.0.0.1:9", "--spool", f.dir.file("spool")], stdin: [],
            environment: ["CAIRN_LEDGER": ""])
        #expect(out.status == 65)
        #expect(out.stderr == "error: no records in the input; nothing was appended\n")
        #expect(!FileManager.default.fileExists(atPath: f.dir.file("spool")))
        #expect(try f.cli.ok("checkpoint").lines[1] == "0")
    }

    @Test("--skip-invalid that dropped every record is exit 65, and nothing is appended")
    func skipInvalidAllDropped() throws {
        let f = try LedgerFixture()
        let out = try f.cli.run(["append", "--skip-invalid", "--format", "jsonl"], stdin: Array("nope\n[1]\n".utf8))
        #expect(out.status == 65)
        #expect(out.stderr.contains("skipped <stdin>:1:") && out.stderr.contains("skipped <stdin>:2:"))
        #expect(out.stderr.hasSuffix("error: all 2 records were invalid; nothing was appended\n"))
        #expect(try f.cli.ok("checkpoint").lines[1] == "0")
    }

    @Test("fsck checks the key files: ledger.vkey matches, the signing key matches, neither is writable by others")
    func fsckKeyFiles() throws {
        let f = try LedgerFixture()
        try f.cli.ok("append", stdin: "{\"n\":1}\n")
        let vkey = f.vkeyFile
        let key = f.cli.ledger + "/signing-key.pem"
        func fsck(_ expected: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
            let out = try f.cli.run(["fsck"])
            #expect(out.status == 1, "\(out.text) \(out.stderr)", sourceLocation: sourceLocation)
            #expect(out.stderr.contains(expected), "\(out.stderr)", sourceLocation: sourceLocation)
        }
        try f.cli.ok("fsck")

        let original = try String(contentsOfFile: vkey, encoding: .utf8)
        chmod(vkey, 0o666)
        try fsck("ledger.vkey is writable by group or others (mode 0666)")
        chmod(vkey, 0o644)
        let other = try LedgerFixture(origin: "example.com/cairn-test")
        try (other.vkey + "\n").write(toFile: vkey, atomically: false, encoding: .utf8)
        try fsck("ledger.vkey holds \"\(other.vkey)\", not this ledger's verifier key \(f.vkey)")
        try original.write(toFile: vkey, atomically: false, encoding: .utf8)
        try f.cli.ok("fsck")

        chmod(key, 0o620)
        try fsck("signing-key.pem is accessible by group or others (mode 0620)")
        chmod(key, 0o644)
        try fsck("signing-key.pem is accessible by group or others (mode 0644)")
        chmod(key, 0o600)
        let ownKey = try String(contentsOfFile: key, encoding: .utf8)
        let otherKey = try String(contentsOfFile: other.cli.ledger + "/signing-key.pem", encoding: .utf8)
        try otherKey.write(toFile: key, atomically: false, encoding: .utf8)
        try fsck("signing-key.pem is the key of \(other.vkey), not of this ledger's verifier key \(f.vkey)")
        try ownKey.write(toFile: key, atomically: false, encoding: .utf8)
        try f.cli.ok("fsck")

        // An auditor's copy has no signing key: that is not a finding.
        try FileManager.default.removeItem(atPath: key)
        try f.cli.ok("fsck")
    }

    @Test("Every EXIT STATUS table lists the statuses any command can end with: 64, 70, 74")
    func exitStatusTables() throws {
        let dump = try CLI.exec(CLI.binary, ["--experimental-dump-help"])
        let tool = try #require(try JSONSerialization.jsonObject(with: Data(dump.stdout)) as? [String: Any])
        var tables = 0
        func walk(_ command: [String: Any], _ path: String) {
            let discussion = command["discussion"] as? String ?? ""
            if let range = discussion.range(of: "EXIT STATUS\n") {
                tables += 1
                let table = discussion[range.upperBound...]
                for status in ["64", "70", "74"] {
                    #expect(
                        table.contains("\n  \(status) ") || table.hasPrefix("  \(status) "), "\(path): no \(status)")
                }
            }
            for sub in command["subcommands"] as? [[String: Any]] ?? [] {
                walk(sub, path + " " + (sub["commandName"] as? String ?? "?"))
            }
        }
        walk(tool["command"] as? [String: Any] ?? [:], "cairn")
        #expect(tables >= 6)
        let root = try CLI.exec(CLI.binary, ["--help"]).text
        #expect(root.contains("141"))
    }
}
