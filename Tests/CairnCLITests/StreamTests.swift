import Foundation
import Testing

/// Standard input, output and error that fail (issue 10 §2 items 1 and 2): a directory or a closed
/// descriptor as standard input, standard output on a full device, closed, or a pipe whose reader
/// has gone, standard error likewise. Each ends with a documented status and, where the stream
/// still works, a message — never a trap (status 132), never status 0 with the output lost.
@Suite("cairn's standard streams fail cleanly")
struct StreamTests {
    /// A generic ledger holding one record and one blob, with the files the commands below read.
    struct World {
        let f: LedgerFixture
        let entry: String
        let blob: String

        init() throws {
            f = try LedgerFixture()
            try f.cli.ok("append", stdin: "{\"n\":1}\n")
            entry = try f.dir.write("entry.json", "{\"n\":1}")
            let put = try f.cli.ok("blob", "put", try f.dir.write("payload.txt", "payload\n"))
            blob = parseJSONLine(put.text)["blob"] as? String ?? "?"
        }

        var treeSize: String { (try? f.cli.ok("checkpoint").lines[1]) ?? "?" }
    }

    /// No crash report, no Swift runtime error.
    static func expectNoTrap(_ out: CLI.Output, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(out.status != 132 && out.status != 134, "\(what) trapped", sourceLocation: sourceLocation)
        #expect(
            !out.stderr.contains("Fatal error") && !out.stderr.contains("crashed"), "\(what): \(out.stderr)",
            sourceLocation: sourceLocation)
    }

    // MARK: - Reading (item 1)

    @Test("A directory as standard input is exit 74 with a message, for every command that reads stdin")
    func directoryAsStandardInput() throws {
        let w = try World()
        let proof = try w.f.dir.write("p.tlog-proof", try w.f.cli.ok("prove", "inclusion", "0").text)
        let old = try w.f.dir.write("old.checkpoint", try w.f.cli.ok("checkpoint").text)
        let commands: [[String]] = [
            ["append"], ["append", "-"], ["blob", "put", "-"],
            ["verify", "checkpoint", "--vkey", w.f.vkeyFile, "-"],
            ["verify", "inclusion", "--vkey", w.f.vkeyFile, "--proof", "-", "--entry", w.entry],
            ["verify", "inclusion", "--vkey", w.f.vkeyFile, "--proof", proof, "--entry", "-"],
            ["verify", "consistency", "--vkey", w.f.vkeyFile, "--old", old, "--proof", "-"],
        ]
        for args in commands {
            let out = try w.f.cli.run(args, stdinFile: w.f.dir.path)
            Self.expectNoTrap(out, args.joined(separator: " "))
            #expect(out.status == 74, "\(args): \(out.status) \(out.stderr)")
            #expect(
                out.stderr == "error: cannot read standard input: it is a directory, not a file\n",
                "\(args): \(out.stderr)")
        }
        #expect(w.treeSize == "1")
    }

    @Test("A closed standard input is exit 74 with a message")
    func closedStandardInput() throws {
        let w = try World()
        for args in [["append"], ["blob", "put", "-"], ["verify", "checkpoint", "--vkey", w.f.vkeyFile, "-"]] {
            let out = try w.f.cli.run(args, closeStdin: true)
            Self.expectNoTrap(out, args.joined(separator: " "))
            #expect(out.status == 74, "\(args): \(out.status) \(out.stderr)")
            #expect(out.stderr.hasPrefix("error: cannot read standard input: "), "\(args): \(out.stderr)")
        }
    }

    @Test("A directory or a missing file named as input is exit 66 naming it")
    func directoryOrMissingFileAsInput() throws {
        let w = try World()
        let dir = w.f.dir.file("a-directory")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let missing = w.f.dir.file("missing.jsonl")
        let cases: [([String], String)] = [
            (["append", dir], "input file \(dir) is a directory, not a file"),
            (["import", dir], "input file \(dir) is a directory, not a file"),
            (["blob", "put", dir], "blob file \(dir) is a directory, not a file"),
            (
                ["verify", "checkpoint", "--vkey", w.f.vkeyFile, dir],
                "checkpoint file \(dir) is a directory, not a file"
            ),
            (["append", missing], "input file \(missing): no such file"),
            (["import", missing], "input file \(missing): no such file"),
        ]
        for (args, message) in cases {
            let out = try w.f.cli.run(args)
            Self.expectNoTrap(out, args.joined(separator: " "))
            #expect(out.status == 66, "\(args): \(out.status) \(out.stderr)")
            #expect(out.stderr == "error: \(message)\n", "\(args)")
        }
        #expect(w.treeSize == "1")
    }

    // MARK: - Standard output (item 2)

    /// Commands whose whole job is their standard output.
    func outputCommands(_ w: World) -> [([String], String?)] {
        [
            (["get", "0", "--raw"], nil), (["get", "0"], nil), (["checkpoint"], nil),
            (["prove", "inclusion", "0"], nil),
            (["blob", "get", w.blob], nil), (["append"], "{\"n\":2}\n"), (["--help"], nil), (["get", "--help"], nil),
        ]
    }

    @Test("Standard output on a full device: exit 74 and a message, never 0 with nothing written")
    func standardOutputFull() throws {
        let w = try World()
        for (args, input) in outputCommands(w) {
            let out = try w.f.cli.run(args, stdin: input.map { Array($0.utf8) }, stdout: .file("/dev/full"))
            Self.expectNoTrap(out, args.joined(separator: " "))
            #expect(out.status == 74, "\(args): \(out.status) \(out.stderr)")
            #expect(
                out.stderr.hasSuffix("error: cannot write standard output: No space left on device\n"),
                "\(args): \(out.stderr)")
        }
        // The append itself was committed before its line could not be printed; appending the
        // record again is a no-op, as the help says.
        #expect(w.treeSize == "2")
    }

    @Test("Standard output closed: exit 74 and a message")
    func standardOutputClosed() throws {
        let w = try World()
        for (args, input) in outputCommands(w) {
            let out = try w.f.cli.run(args, stdin: input.map { Array($0.utf8) }, stdout: .closed)
            Self.expectNoTrap(out, args.joined(separator: " "))
            #expect(out.status == 74, "\(args): \(out.status) \(out.stderr)")
            #expect(out.stderr.hasSuffix("error: cannot write standard output: Bad file descriptor\n"), "\(args)")
        }
    }

    @Test("Standard output a pipe whose reader has gone: exit 141 quietly, as `| head` users expect")
    func standardOutputBrokenPipe() throws {
        let w = try World()
        for (args, input) in outputCommands(w) {
            let out = try w.f.cli.run(args, stdin: input.map { Array($0.utf8) }, stdout: .brokenPipe)
            Self.expectNoTrap(out, args.joined(separator: " "))
            #expect(out.status == 141, "\(args): \(out.status) \(out.stderr)")
            #expect(out.stderr.isEmpty, "\(args): \(out.stderr)")
        }
    }

    @Test("A long output cut short by its reader ends the command at once, with 141")
    func longOutputToClosingReader() throws {
        let f = try LedgerFixture()
        let records = (0..<3000).map { "{\"n\":\($0),\"pad\":\"\(String(repeating: "x", count: 100))\"}\n" }.joined()
        try f.cli.ok("append", stdin: records)
        // `get --json` of every entry would be slow; `append` of the same records prints 3000
        // duplicate lines (~300 KB, more than a pipe buffer) to a reader that reads one line.
        let script = "\"$CAIRN\" append < \"$1\" | head -n 1 > /dev/null; echo \"${PIPESTATUS[0]}\""
        let input = try f.dir.write("records.jsonl", records)
        let out = try CLI.exec(
            "/bin/bash", ["-c", script, "bash", input],
            environment: ["CAIRN": CLI.binary, "CAIRN_LEDGER": f.cli.ledger])
        #expect(out.text == "141\n", "\(out.text) \(out.stderr)")
        #expect(out.stderr.isEmpty, "\(out.stderr)")
    }

    // MARK: - Standard error (item 2)

    @Test("A failing command with standard error full or closed keeps its status and never traps")
    func failingCommandWithBrokenStandardError() throws {
        let w = try World()
        let bad = try w.f.dir.write("bad.json", "{\"n\":\n")
        for target in [CLI.Target.file("/dev/full"), .closed, .brokenPipe] {
            let out = try w.f.cli.run(["append", bad], stderr: target)
            Self.expectNoTrap(out, "append bad.json with stderr \(target)")
            #expect(out.status == 65, "stderr \(target): \(out.status)")
            #expect(out.stdout.isEmpty)
        }
        #expect(w.treeSize == "1")
    }

    @Test("A command that succeeds but cannot write to standard error exits 74 (141 for a closed pipe)")
    func succeedingCommandWithBrokenStandardError() throws {
        let w = try World()
        // `fsck --progress` reports its progress on stderr and its result on stdout.
        for (target, status) in [(CLI.Target.file("/dev/full"), Int32(74)), (.closed, 74), (.brokenPipe, 141)] {
            let out = try w.f.cli.run(["fsck", "--progress"], stderr: target)
            Self.expectNoTrap(out, "fsck with stderr \(target)")
            #expect(out.status == status, "stderr \(target): \(out.status)")
            #expect(out.text.hasPrefix("ok: 1 leaves"), "stderr \(target): \(out.text)")
        }
        #expect(try w.f.cli.run(["fsck", "--progress"]).status == 0)
    }

    @Test("With standard error closed, no file the command opens takes its place (the ledger stays intact)")
    func closedStandardErrorIsNotReused() throws {
        let f = try LedgerFixture()
        let records = (0..<500).map { "{\"n\":\($0)}\n" }.joined()
        let input = try f.dir.write("records.jsonl", records)
        // `import` prints its summary on stderr after opening the input and the ledger: with
        // descriptor 2 closed, one of those would have been descriptor 2.
        let out = try f.cli.run(["import", input], stderr: .closed)
        Self.expectNoTrap(out, "import with stderr closed")
        #expect(out.status == 74, "\(out.status)")
        #expect(try f.cli.ok("checkpoint").lines[1] == "500")
        #expect(try f.cli.run(["fsck"]).status == 0)
        #expect(try String(contentsOfFile: input, encoding: .utf8) == records)
    }

    // MARK: - Command groups

    @Test("A command group without a subcommand is a usage error (64) that lists the subcommands")
    func groupsWithoutSubcommand() throws {
        let f = try LedgerFixture()
        for (group, subcommand) in [
            ([String](), "append"), (["prove"], "inclusion"), (["verify"], "consistency"), (["blob"], "erase"),
            (["audit"], "completeness"), (["token"], "revoke"), (["export"], "tiles"), (["witness"], "cosign"),
            (["spool"], "flush"), (["bench"], "proofs"),
        ] {
            let out = try f.cli.run(group)
            #expect(out.status == 64, "cairn \(group): \(out.status)")
            #expect(out.stdout.isEmpty, "cairn \(group)")
            #expect(out.stderr.contains("error: missing subcommand: one of ") && out.stderr.contains(subcommand))
            #expect(out.stderr.contains("USAGE: cairn"), "cairn \(group): \(out.stderr)")
        }
        #expect(try f.cli.run(["--help"]).status == 0)
        #expect(try f.cli.run(["prove", "--help"]).status == 0)
    }
}
