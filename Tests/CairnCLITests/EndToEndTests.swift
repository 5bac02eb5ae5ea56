import CairnTestSupport
import Foundation
import Testing

@Suite("cairn end to end")
struct EndToEndTests {
    @Test("init prints a C2SP vkey, writes it to ledger.vkey, and creates a 0600 PKCS#8 signing key")
    func initCreatesKeys() throws {
        let f = try LedgerFixture(origin: "example.com/e2e")
        let parts = f.vkey.split(separator: "+", maxSplits: 2)
        #expect(parts.count == 3)
        #expect(parts[0] == "example.com/e2e")
        #expect(parts[1].count == 8 && parts[1].allSatisfy(\.isHexDigit))
        let keyBytes = Data(base64Encoded: String(parts[2]))
        #expect(keyBytes?.count == 33 && keyBytes?.first == 1)
        let vkeyFile = try String(contentsOfFile: f.vkeyFile, encoding: .utf8)
        #expect(vkeyFile == f.vkey + "\n")
        let keyPath = f.cli.ledger + "/signing-key.pem"
        let attributes = try FileManager.default.attributesOfItem(atPath: keyPath)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        let pem = try String(contentsOfFile: keyPath, encoding: .utf8)
        #expect(pem.hasPrefix("-----BEGIN PRIVATE KEY-----\n"))
        // The empty tree's checkpoint exists from the start.
        let cp = try f.cli.ok("checkpoint")
        #expect(cp.lines[0...2] == ["example.com/e2e", "0", "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="])
    }

    @Test("openssl pkey reads the signing key and derives the public key in the vkey")
    func opensslReadsKey() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl") else {
            print("skipping: /usr/bin/openssl not installed")
            return
        }
        let f = try LedgerFixture()
        let out = try CLI.exec(
            "/usr/bin/openssl", ["pkey", "-in", f.cli.ledger + "/signing-key.pem", "-pubout", "-outform", "DER"])
        #expect(out.status == 0, "openssl failed: \(out.stderr)")
        // An Ed25519 SubjectPublicKeyInfo is a 12-byte header followed by the 32-byte key.
        let publicKey = Array(out.stdout.suffix(32))
        let vkeyKey = Array(Data(base64Encoded: String(f.vkey.split(separator: "+", maxSplits: 2)[2]))!.dropFirst())
        #expect(out.stdout.count == 44)
        #expect(publicKey == vkeyKey)
    }

    @Test("init refuses a non-empty directory and an origin with spaces or '+'")
    func initRefusals() throws {
        let f = try LedgerFixture()
        let again = try f.cli.run("init", "--origin", "example.com/other")
        #expect(again.status == 73)
        #expect(again.stderr.contains("not empty"))
        let dir = try TemporaryDirectory()
        let cli = CLI(ledger: dir.file("l"))
        let spaced = try cli.run("init", "--origin", "example.com/has space")
        #expect(spaced.status == 64)
        #expect(spaced.stderr.contains("spaces"))
        let plus = try cli.run("init", "--origin", "a+b")
        #expect(plus.status == 64)
        #expect(plus.stderr.contains("'+'"))
    }

    @Test("append prints index, digest and duplicate per record; the same record again is a duplicate")
    func appendAndDuplicates() throws {
        let f = try LedgerFixture()
        let out = try f.cli.ok("append", stdin: "{\"b\":2,\"a\":1}\n{\"x\":\"y\"}\n")
        #expect(
            out.lines == [
                #"{"index":0,"digest":"sha256:43258cff783fe7036d8a43033f830adfc60ec037382473548ac742b888292777","duplicate":false}"#,
                #"{"index":1,"digest":"sha256:0466c472ba1be6a35700b1867dea252bc914e46ebb68522cf0a2e3b9c6e8693e","duplicate":false}"#,
            ])
        // Same content, different key order and whitespace: same canonical form, so a duplicate.
        let again = try f.cli.ok("append", stdin: "{ \"a\": 1, \"b\": 2 }\n")
        #expect(
            again.lines == [
                #"{"index":0,"digest":"sha256:43258cff783fe7036d8a43033f830adfc60ec037382473548ac742b888292777","duplicate":true}"#
            ])
        #expect(try f.cli.ok("checkpoint").lines[1] == "2")
        // A duplicate inside one batch points at the first copy.
        let batch = try f.cli.ok("append", stdin: "{\"n\":1}\n{\"n\":1}\n")
        #expect(parseJSONLine(batch.lines[0])["index"] as? Int == 2)
        #expect(parseJSONLine(batch.lines[1])["index"] as? Int == 2)
        #expect(parseJSONLine(batch.lines[1])["duplicate"] as? Bool == true)
    }

    @Test("A pretty-printed JSON file is one record; a .jsonl file is one record per line")
    func inputFormats() throws {
        let f = try LedgerFixture()
        let pretty = try f.dir.write("one.json", "{\n  \"type\": \"note\",\n  \"text\": \"multi\\nline\"\n}\n")
        let lines = try f.dir.write("many.jsonl", "{\"i\":1}\n\n{\"i\":2}\r\n{\"i\":3}")
        let out = try f.cli.ok("append", pretty, lines)
        #expect(out.lines.count == 4)
        #expect(try f.cli.ok("get", "0", "--raw").text == #"{"text":"multi\nline","type":"note"}"#)
        #expect(try f.cli.ok("get", "3").text == "{\n  \"i\": 3\n}\n")
    }

    @Test("get finds records by index and by content address; --raw prints the exact leaf bytes")
    func get() throws {
        let f = try LedgerFixture()
        let out = try f.cli.ok("append", stdin: "{\"z\":[1,2.5,\"\\u00e9\"],\"a\":null}\n")
        let digest = parseJSONLine(out.lines[0])["digest"] as! String
        let raw = try f.cli.ok("get", digest, "--raw")
        #expect(raw.stdout == Array(#"{"a":null,"z":[1,2.5,"é"]}"#.utf8))
        #expect(try f.cli.ok("get", "0", "--raw").stdout == raw.stdout)
        let json = parseJSONLine(try f.cli.ok("get", "0", "--json").text)
        #expect(json["digest"] as? String == digest)
        #expect(json["index"] as? Int == 0)
    }

    @Test("Inclusion proofs verify offline for every index, at the current and at earlier sizes")
    func inclusionProofs() throws {
        let f = try LedgerFixture()
        for batch in 0..<3 {
            let records = (0..<(batch + 2)).map { "{\"batch\":\(batch),\"i\":\($0)}" }.joined(separator: "\n")
            try f.cli.ok("append", stdin: records)
        }
        // Sizes 2, 5, 9 were committed, each publishing its checkpoint.
        for (index, size) in [(0, nil), (4, nil), (8, nil), (0, "2"), (1, "2"), (3, "5"), (2, "5")] as [(Int, String?)]
        {
            var args = ["prove", "inclusion", String(index)]
            if let size { args += ["--size", size] }
            let proof = try f.cli.run(args)
            #expect(proof.status == 0, "\(args): \(proof.stderr)")
            let proofFile = try f.dir.write("p-\(index)-\(size ?? "cur")", proof.stdout)
            let entry = try f.dir.write("e-\(index)", try f.cli.ok("get", String(index), "--raw").stdout)
            #expect(proof.lines[0] == "c2sp.org/tlog-proof@v1")
            #expect(proof.lines[1] == "index \(index)")
            let verified = try f.cli.run(
                ["verify", "inclusion", "--vkey", f.vkeyFile, "--proof", proofFile, "--entry", entry])
            #expect(verified.status == 0, "index \(index) size \(size ?? "current"): \(verified.stderr)")
            #expect(verified.text.hasPrefix("valid: sha256:"))
        }
    }

    @Test(
        "Reads never write: a size inside a commit has no checkpoint and none is signed; a held one is proved against")
    func readsNeverSign() throws {
        let f = try LedgerFixture()
        try f.cli.ok("append", stdin: "{\"i\":0}\n{\"i\":1}")
        let held = try f.dir.write("size2.checkpoint", try f.cli.ok("checkpoint").stdout)
        try f.cli.ok("append", stdin: "{\"i\":2}\n{\"i\":3}\n{\"i\":4}")
        // Size 3 was never published: every read refuses it (66), naming the nearest published sizes.
        for args in [
            ["checkpoint", "--size", "3"], ["prove", "inclusion", "1", "--size", "3"],
            ["prove", "consistency", "--old", "1", "--size", "3"],
        ] {
            let out = try f.cli.run(args)
            #expect(out.status == 66, "\(args): \(out.stderr)")
            #expect(out.stderr.contains("no checkpoint was published for tree size 3"), "\(out.stderr)")
            #expect(out.stderr.contains("2 and 5"), "\(out.stderr)")
        }
        let data = try Data(contentsOf: URL(fileURLWithPath: f.cli.ledger + "/data.mdb"))
        // ... and nothing was signed or stored by asking: the ledger file is unchanged by reads.
        for args in [["checkpoint"], ["prove", "inclusion", "1"], ["prove", "consistency", "--old", "1"]] {
            #expect(try f.cli.run(args).status == 0, "\(args)")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: f.cli.ledger + "/data.mdb")) == data)
        // A checkpoint the auditor holds (of size 2) is proved against, and verifies.
        let proof = try f.dir.write("p", try f.cli.ok("prove", "inclusion", "1", "--checkpoint", held).stdout)
        let entry = try f.dir.write("e", try f.cli.ok("get", "1", "--raw").stdout)
        try f.cli.ok("verify", "inclusion", "--vkey", f.vkeyFile, "--proof", proof, "--entry", entry)
        #expect(try String(contentsOfFile: proof, encoding: .utf8).contains("\n2\n"))
        // A checkpoint of another log is refused: it fails verification (1), naming the file.
        let other = try LedgerFixture(origin: "example.com/other")
        try other.cli.ok("append", stdin: "{\"i\":0}\n{\"i\":1}")
        let foreign = try f.dir.write("foreign.checkpoint", try other.cli.ok("checkpoint").stdout)
        let refused = try f.cli.run(["prove", "inclusion", "1", "--checkpoint", foreign])
        #expect(refused.status == 1, "\(refused.stderr)")
        #expect(refused.stderr.contains("--checkpoint \(foreign)"), "\(refused.stderr)")
        #expect(refused.stderr.contains("not one of this log's"), "\(refused.stderr)")
    }

    @Test("A read-only copy without the signing key answers every read and proof")
    func readOnlyCopy() throws {
        let f = try LedgerFixture()
        try f.cli.ok("append", stdin: "{\"i\":0}\n{\"i\":1}")
        try f.cli.ok("append", stdin: "{\"i\":2}")
        let copy = f.dir.file("copy")
        try FileManager.default.createDirectory(atPath: copy, withIntermediateDirectories: true)
        for name in ["data.mdb", "ledger.vkey"] {
            try FileManager.default.copyItem(atPath: f.cli.ledger + "/" + name, toPath: copy + "/" + name)
        }
        let auditor = CLI(ledger: copy)
        try auditor.ok("checkpoint")
        try auditor.ok("checkpoint", "--size", "2")
        try auditor.ok("prove", "inclusion", "1")
        try auditor.ok("prove", "inclusion", "1", "--size", "2")
        try auditor.ok("prove", "consistency", "--old", "2")
        try auditor.ok("get", "2")
        try auditor.ok("fsck")
        #expect(!FileManager.default.fileExists(atPath: copy + "/signing-key.pem"))
    }

    @Test("append exits cleanly every time: the engine's writer thread is joined before the process exits")
    func appendExitsCleanly() throws {
        // The writer thread used to be detached: it could still be releasing the ledger (and
        // OpenSSL's key) while the process ran its exit handlers — a rare "double free or
        // corruption" abort. Now shutdown joins it. A race cannot be forced; this repeats the
        // exit often enough to catch a regression in practice.
        let f = try LedgerFixture()
        for i in 0..<15 {
            let out = try f.cli.run(["append"], stdin: Array("{\"exit\":\(i)}".utf8))
            #expect(out.status == 0, "append \(i): \(out.status) \(out.stderr)")
            #expect(!out.stderr.contains("double free") && !out.stderr.contains("corruption"), "\(out.stderr)")
        }
        try f.cli.ok("fsck")
    }

    @Test("An auditor's copy without blobs/ passes fsck --no-blobs; plain fsck names the missing bytes")
    func copyWithoutBlobs() throws {
        let f = try LedgerFixture()
        try f.cli.ok("blob", "put", "--media-type", "text/plain", "-", stdin: "the prompt")
        try f.cli.ok("append", stdin: "{\"i\":0}")
        let copy = f.dir.file("copy")
        try FileManager.default.createDirectory(atPath: copy, withIntermediateDirectories: true)
        for name in ["data.mdb", "ledger.vkey"] {
            try FileManager.default.copyItem(atPath: f.cli.ledger + "/" + name, toPath: copy + "/" + name)
        }
        let auditor = CLI(ledger: copy)
        let full = try auditor.run(["fsck"])
        #expect(full.status == 1, "\(full.stderr)")
        #expect(full.stderr.contains("are missing"), "\(full.stderr)")
        let metadataOnly = try auditor.ok("fsck", "--no-blobs")
        #expect(metadataOnly.text.contains("1 blobs not read (--no-blobs)"), "\(metadataOnly.text)")
        let json = parseJSONLine(try auditor.ok("fsck", "--no-blobs", "--json").text)
        #expect(json["unchecked_blobs"] as? Int == 1)
    }

    @Test("The entry for verify inclusion may be the record as submitted; --raw-entry hashes exact bytes")
    func verifyEntryForms() throws {
        let f = try LedgerFixture()
        try f.cli.ok("append", stdin: "{ \"b\" : 1, \"a\" : 2 }\n")
        let proof = try f.dir.write("p", try f.cli.ok("prove", "inclusion", "0").stdout)
        let submitted = try f.dir.write("submitted.json", "{ \"b\" : 1, \"a\" : 2 }\n")
        #expect(
            try f.cli.run(["verify", "inclusion", "--vkey", f.vkey, "--proof", proof, "--entry", submitted]).status == 0
        )
        let raw = try f.cli.run([
            "verify", "inclusion", "--vkey", f.vkey, "--proof", proof, "--entry", submitted, "--raw-entry",
        ])
        #expect(raw.status == 1)
        #expect(raw.stderr.contains("root mismatch") || raw.stderr.contains("computes"))
    }

    @Test("Consistency proofs verify against every earlier checkpoint, and --json reports the details")
    func consistencyProofs() throws {
        let f = try LedgerFixture()
        var checkpoints: [(Int, String)] = []
        var size = 0
        for batch in 1...4 {
            try f.cli.ok("append", stdin: (0..<batch).map { "{\"b\":\(batch),\"i\":\($0)}" }.joined(separator: "\n"))
            size += batch
            checkpoints.append((size, try f.dir.write("cp-\(size)", try f.cli.ok("checkpoint").stdout)))
        }
        for (oldSize, oldFile) in checkpoints {
            let proof = try f.dir.write(
                "c-\(oldSize)", try f.cli.ok("prove", "consistency", "--old", String(oldSize)).stdout)
            let out = try f.cli.run([
                "verify", "consistency", "--vkey", f.vkeyFile, "--old", oldFile, "--proof", proof, "--json",
            ])
            #expect(out.status == 0, "from \(oldSize): \(out.stderr)")
            let json = parseJSONLine(out.text)
            #expect(json["valid"] as? Bool == true)
            #expect(json["old_size"] as? Int == oldSize)
            #expect(json["size"] as? Int == size)
        }
        // From the empty tree: "old 0" and no hashes, as C2SP tlog-witness requires.
        let fromEmpty = try f.cli.ok("prove", "consistency", "--old", "0")
        #expect(fromEmpty.lines[0] == "old 0")
        #expect(fromEmpty.text.hasPrefix("old 0\n\n"))
    }

    @Test("checkpoint --size returns the published checkpoint of a committed size and never signs another")
    func checkpointSizes() throws {
        let f = try LedgerFixture()
        try f.cli.ok("append", stdin: "{\"i\":1}\n{\"i\":2}\n")
        let atTwo = try f.dir.write("cp2", try f.cli.ok("checkpoint").stdout)
        try f.cli.ok("append", stdin: "{\"i\":3}\n")
        let atThree = try f.cli.ok("checkpoint", "--size", "3")
        #expect(atThree.text == (try f.cli.ok("checkpoint")).text)
        #expect(
            try f.cli.ok("checkpoint", "--size", "2").stdout == Array(try Data(contentsOf: URL(fileURLWithPath: atTwo)))
        )
        let verified = try f.cli.run(["verify", "checkpoint", "--vkey", f.vkey, atTwo])
        #expect(verified.status == 0)
        #expect(verified.text.contains("size 2"))
        let beyond = try f.cli.run("checkpoint", "--size", "4")
        #expect(beyond.status == 66)
        #expect(beyond.stderr.contains("beyond the current size 3"))
        let inside = try f.cli.run("checkpoint", "--size", "1")
        #expect(inside.status == 66)
        #expect(inside.stderr.contains("no checkpoint was published for tree size 1"))
        #expect(try f.cli.ok("fsck").text.contains("3 signed checkpoints"))  // sizes 0, 2, 3
    }

    @Test("fsck passes on a healthy ledger and reports counts with --json")
    func fsck() throws {
        let f = try LedgerFixture()
        try f.cli.ok("append", stdin: (0..<50).map { "{\"i\":\($0)}" }.joined(separator: "\n"))
        let out = parseJSONLine(try f.cli.ok("fsck", "--json").text)
        #expect(out["ok"] as? Bool == true)
        #expect(out["leaves"] as? Int == 50)
        #expect(out["hashes"] as? Int == 2 * 50 - 3)  // 2n - popcount(n); popcount(50) = 3
        #expect(out["checkpoints"] as? Int == 2)
        let progress = try f.cli.run("fsck", "--progress")
        #expect(progress.status == 0)
        #expect(progress.stderr.contains("fsck: 50/50 leaves (100.0%)"))
    }
}
