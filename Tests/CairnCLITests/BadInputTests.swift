import CairnTestSupport
import Foundation
import Testing

/// Every kind of bad input gets one clear line on stderr, a documented non-zero exit status, and
/// leaves the ledger unchanged.
@Suite("cairn rejects bad input clearly")
struct BadInputTests {
    /// Appends `input` (raw bytes on stdin) and checks the failure and that nothing was written.
    func rejectAppend(
        _ input: [UInt8], mentions fragments: [String], initArgs: [String] = [],
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let f = try LedgerFixture(extraInitArgs: initArgs)
        let out = try f.cli.run(["append"], stdin: input)
        #expect(out.status == 65, "exit status \(out.status): \(out.stderr)", sourceLocation: sourceLocation)
        let lines = out.stderr.split(separator: "\n")
        #expect(lines.count == 1, "expected one line, got: \(out.stderr)", sourceLocation: sourceLocation)
        for fragment in fragments {
            #expect(
                out.stderr.contains(fragment), "\(out.stderr) should mention \(fragment)",
                sourceLocation: sourceLocation)
        }
        #expect(out.stdout.isEmpty, sourceLocation: sourceLocation)
        #expect(try f.cli.ok("checkpoint").lines[1] == "0", "nothing may be appended", sourceLocation: sourceLocation)
    }

    @Test("Input that is not JSON is rejected with file, line and column")
    func notJSON() throws {
        try rejectAppend(Array("hello\n".utf8), mentions: ["<stdin>:1:1:", "nothing was appended"])
    }

    @Test("Truncated JSON is rejected as an unexpected end")
    func truncated() throws {
        try rejectAppend(Array("{\"a\": [1, 2\n".utf8), mentions: ["<stdin>:", "end"])
    }

    @Test("Invalid UTF-8 is rejected with its position")
    func invalidUTF8() throws {
        try rejectAppend(Array("{\"a\":\"".utf8) + [0xff] + Array("\"}\n".utf8), mentions: ["<stdin>:1:", "UTF-8"])
    }

    @Test("Duplicate keys are rejected naming the key")
    func duplicateKeys() throws {
        try rejectAppend(Array("{\"id\":1,\"id\":2}\n".utf8), mentions: ["<stdin>:1:", "duplicate key", "id"])
    }

    @Test("A JSON value that is not an object is rejected")
    func notAnObject() throws {
        try rejectAppend(Array("[1,2,3]\n".utf8), mentions: ["<stdin>:1:", "object"])
    }

    @Test("Integers beyond 2^53 - 1 are rejected rather than silently rounded")
    func impreciseInteger() throws {
        try rejectAppend(Array("{\"n\":9007199254740993}\n".utf8), mentions: ["<stdin>:1:"])
    }

    @Test("An entry over the ledger's size limit is rejected with both sizes")
    func oversize() throws {
        let big = "{\"blob\":\"" + String(repeating: "x", count: 200) + "\"}\n"
        try rejectAppend(
            Array(big.utf8), mentions: ["<stdin>:1:", "211 bytes", "limit of 100 bytes"],
            initArgs: ["--max-entry-bytes", "100"])
    }

    @Test("One bad line rejects the whole batch, naming the file and line")
    func allOrNothing() throws {
        let f = try LedgerFixture()
        let file = try f.dir.write("batch.jsonl", "{\"i\":1}\n{\"i\":2,}\n{\"i\":3}\n{\"i\":4\n")
        let out = try f.cli.run("append", file)
        #expect(out.status == 65)
        #expect(out.stderr.contains("batch.jsonl:2:"))
        #expect(out.stderr.contains("batch.jsonl:4:"))
        #expect(out.stderr.contains("2 invalid records; nothing was appended"))
        #expect(try f.cli.ok("checkpoint").lines[1] == "0")
    }

    @Test("--skip-invalid appends the valid records, reports each skipped line, and exits 65 with a summary")
    func skipInvalid() throws {
        let f = try LedgerFixture()
        let out = try f.cli.run(["append", "--skip-invalid"], stdin: Array("{\"i\":1}\nnope\n{\"i\":3}\n".utf8))
        // The input did not arrive whole: a script must not take that for success.
        #expect(out.status == 65)
        #expect(out.lines.count == 2)
        #expect(out.stderr.contains("skipped <stdin>:2:"))
        #expect(
            out.stderr.hasSuffix(
                "error: appended 2 records, 0 duplicate; tree size 2; skipped 1 invalid record (listed above)\n"),
            "\(out.stderr)")
        #expect(try f.cli.ok("checkpoint").lines[1] == "2")
    }

    @Test("An unknown index or content address is 'not found' (66); a malformed reference is a usage error (64)")
    func unknownEntry() throws {
        let f = try LedgerFixture()
        try f.cli.ok("append", stdin: "{\"i\":1}\n")
        let index = try f.cli.run("get", "5")
        #expect(index.status == 66)
        #expect(index.stderr == "error: no entry at index 5: the log has 1 entry, index 0\n")
        let digest = try f.cli.run("get", "sha256:" + String(repeating: "0", count: 64))
        #expect(digest.status == 66)
        #expect(digest.stderr.contains("no entry has content address sha256:000"))
        let bad = try f.cli.run("get", "sha256:xyz")
        #expect(bad.status == 64)
        let prove = try f.cli.run("prove", "inclusion", "3")
        #expect(prove.status == 66)
    }

    @Test("A missing ledger is reported with the path and how to create one")
    func missingLedger() throws {
        let dir = try TemporaryDirectory()
        let out = try CLI(ledger: dir.file("nothing-here")).run("checkpoint")
        #expect(out.status == 66)
        #expect(out.stderr.contains("nothing-here"))
        #expect(out.stderr.contains("cairn init"))
    }

    /// A ledger with two records, a proof for index 1, and its entry file.
    func proofFixture() throws -> (LedgerFixture, proof: String, entry: String) {
        let f = try LedgerFixture()
        try f.cli.ok("append", stdin: "{\"i\":1}\n{\"i\":2}\n")
        let proof = try f.cli.ok("prove", "inclusion", "1").text
        let entry = try f.dir.write("entry.json", try f.cli.ok("get", "1", "--raw").stdout)
        return (f, proof, entry)
    }

    func verifyInclusion(_ f: LedgerFixture, proof: String, entry: String, vkey: String? = nil) throws -> CLI.Output {
        let file = try f.dir.write("proof-\(UUID().uuidString)", proof)
        return try f.cli.run(["verify", "inclusion", "--vkey", vkey ?? f.vkey, "--proof", file, "--entry", entry])
    }

    func expectInvalid(
        _ out: CLI.Output, _ fragment: String, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(out.status == 1, "exit \(out.status): \(out.stderr)", sourceLocation: sourceLocation)
        #expect(out.stderr.split(separator: "\n").count == 1, "\(out.stderr)", sourceLocation: sourceLocation)
        #expect(out.stderr.hasPrefix("invalid: "), "\(out.stderr)", sourceLocation: sourceLocation)
        #expect(
            out.stderr.contains(fragment), "\(out.stderr) should mention \(fragment)", sourceLocation: sourceLocation)
    }

    @Test("A malformed proof file is invalid, naming the line")
    func malformedProof() throws {
        let (f, proof, entry) = try proofFixture()
        var lines = proof.components(separatedBy: "\n")
        lines[2] = "not base64!"
        expectInvalid(try verifyInclusion(f, proof: lines.joined(separator: "\n"), entry: entry), "line 3")
        expectInvalid(
            try verifyInclusion(
                f, proof: proof.replacingOccurrences(of: "tlog-proof@v1", with: "tlog-proof@v9"), entry: entry),
            "line 1")
        expectInvalid(
            try verifyInclusion(f, proof: proof.replacingOccurrences(of: "index 1", with: "index 01"), entry: entry),
            "line 2")
        expectInvalid(try verifyInclusion(f, proof: "garbage", entry: entry), "newline")
    }

    @Test("A proof checked with another log's vkey fails with 'wrong key'")
    func wrongVkey() throws {
        let (f, proof, entry) = try proofFixture()
        let other = try LedgerFixture(origin: "example.com/cairn-test")
        expectInvalid(try verifyInclusion(f, proof: proof, entry: entry, vkey: other.vkey), "wrong key")
        let otherName = try LedgerFixture(origin: "example.com/elsewhere")
        expectInvalid(try verifyInclusion(f, proof: proof, entry: entry, vkey: otherName.vkey), "origin")
    }

    @Test("A malformed --vkey is a usage error (64)")
    func malformedVkey() throws {
        let (f, proof, entry) = try proofFixture()
        let out = try verifyInclusion(f, proof: proof, entry: entry, vkey: "example.com+zzzz+AAAA")
        #expect(out.status == 64)
        #expect(out.stderr.contains("--vkey"))
    }

    @Test("A forged signature fails with 'bad signature'")
    func badSignature() throws {
        let (f, proof, entry) = try proofFixture()
        // Flip one base64 character inside the signature (after the 4-byte key ID).
        var lines = proof.components(separatedBy: "\n")
        let sigLine = lines.lastIndex { $0.hasPrefix("— ") }!
        var chars = Array(lines[sigLine])
        let i = chars.count - 10
        chars[i] = chars[i] == "A" ? "B" : "A"
        lines[sigLine] = String(chars)
        expectInvalid(try verifyInclusion(f, proof: lines.joined(separator: "\n"), entry: entry), "bad signature")
    }

    @Test("A tampered entry fails with a root mismatch; an index outside the tree with 'out of range'")
    func rootMismatchAndRange() throws {
        let (f, proof, _) = try proofFixture()
        let tampered = try f.dir.write("tampered.json", "{\"i\":3}")
        expectInvalid(try verifyInclusion(f, proof: proof, entry: tampered), "root mismatch")
        let entry = try f.dir.write("e.json", "{\"i\":2}")
        expectInvalid(
            try verifyInclusion(f, proof: proof.replacingOccurrences(of: "index 1", with: "index 2"), entry: entry),
            "out of range")
        expectInvalid(
            try verifyInclusion(f, proof: proof.replacingOccurrences(of: "index 1", with: "index 0"), entry: entry),
            "root mismatch")
    }

    @Test("verify --json reports valid:false with a stable code")
    func verifyJSON() throws {
        let (f, proof, _) = try proofFixture()
        let tampered = try f.dir.write("t.json", "{\"i\":9}")
        let file = try f.dir.write("p", proof)
        let out = try f.cli.run([
            "verify", "inclusion", "--vkey", f.vkey, "--proof", file, "--entry", tampered, "--json",
        ])
        #expect(out.status == 1)
        let json = parseJSONLine(out.text)
        #expect(json["valid"] as? Bool == false)
        #expect(json["code"] as? String == "rootMismatch")
    }

    @Test("A consistency proof against the wrong old checkpoint is rejected")
    func consistencyMismatch() throws {
        let f = try LedgerFixture()
        try f.cli.ok("append", stdin: "{\"i\":1}\n{\"i\":2}\n")
        let oldCheckpoint = try f.dir.write("old", try f.cli.ok("checkpoint").stdout)
        try f.cli.ok("append", stdin: "{\"i\":3}\n")
        let proofFor1 = try f.dir.write("p1", try f.cli.ok("prove", "consistency", "--old", "1").stdout)
        let out = try f.cli.run([
            "verify", "consistency", "--vkey", f.vkey, "--old", oldCheckpoint, "--proof", proofFor1,
        ])
        #expect(out.status == 1)
        #expect(out.stderr.contains("size 1") && out.stderr.contains("size 2"))
        // An old checkpoint whose root was altered no longer carries a valid signature.
        let proofFor2 = try f.dir.write("p2", try f.cli.ok("prove", "consistency", "--old", "2").stdout)
        var forged = try String(contentsOfFile: oldCheckpoint, encoding: .utf8).components(separatedBy: "\n")
        forged[2] = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
        let forgedFile = try f.dir.write("forged", forged.joined(separator: "\n"))
        let bad = try f.cli.run(["verify", "consistency", "--vkey", f.vkey, "--old", forgedFile, "--proof", proofFor2])
        #expect(bad.status == 1)
        #expect(bad.stderr.contains("bad signature"))
    }
}
