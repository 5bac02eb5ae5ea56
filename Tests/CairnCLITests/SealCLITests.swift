import CairnTestSupport
import Foundation
import Testing

/// `cairn seal`, `cairn init --successor-of` and `cairn verify successor` (specs/sealing.md), through the real
/// commands.
@Suite("Sealing and successor logs through the CLI")
struct SealCLITests {
    /// `cairn seal --json`, parsed.
    static func seal(_ cli: CLI, _ extra: [String] = []) throws -> [String: Any] {
        let out = try cli.run(
            ["seal", "--reason", "2026 shard closed", "--author", "ops@example.com", "--json"] + extra)
        #expect(out.status == 0, "seal: \(out.stderr)")
        return parseJSONLine(out.text)
    }

    @Test("A sealed log refuses every append, keeps its proofs, and fsck is clean")
    func sealRefusesAppends() throws {
        let f = try LedgerFixture(origin: "example.com/shard-2026")
        try f.cli.ok("append", stdin: (0..<5).map { "{\"n\":\($0)}" }.joined(separator: "\n"))
        let before = try f.dir.write("before.checkpoint", try f.cli.ok("checkpoint").text)
        let proof = try f.dir.write("p2.proof", try f.cli.ok("prove", "inclusion", "2").text)
        let entry = try f.dir.write("e2.json", try f.cli.ok("get", "2", "--raw").text)

        let sealed = try Self.seal(f.cli)
        #expect(sealed["entry_index"] as? Int == 5 && sealed["size"] as? Int == 6)
        #expect(
            sealed["origin"] as? String == "example.com/shard-2026"
                && sealed["reason"] as? String == "2026 shard closed")
        // The final checkpoint is the log's checkpoint, and stays so.
        let final = try #require(sealed["checkpoint"] as? String)
        #expect(try f.cli.ok("checkpoint").text == final)
        let record = parseJSONLine(try f.cli.ok("get", "5", "--raw").text)
        #expect(record["type"] as? String == "seal" && record["origin"] as? String == "example.com/shard-2026")
        #expect(record["author"] as? String == "ops@example.com")

        // Every way of appending is refused, with the reason, and nothing is written.
        for (name, arguments, stdin) in [
            ("append", ["append"], #"{"n":99}"#),
            ("append of an existing record", ["append"], #"{"n":1}"#),
            ("import", ["import", "-"], #"{"n":100}"#),
            ("seal again", ["seal", "--reason", "again"], ""),
            ("key rotate", ["key", "rotate", "--reason", "after the seal"], ""),
        ] {
            let out = try f.cli.run(arguments, stdin: Array(stdin.utf8))
            #expect(out.status == 77, "\(name): \(out.status) \(out.stderr)")
            #expect(out.stderr.contains("is sealed"), "\(name): \(out.stderr)")
        }
        // A blob could never be referenced: refused before its file is written.
        let blob = try f.dir.write("blob.txt", "payload")
        let put = try f.cli.run("blob", "put", "--media-type", "text/plain", blob)
        #expect(put.status == 77 && put.stderr.contains("is sealed"), "\(put.stderr)")
        let blobFiles = FileManager.default.enumerator(atPath: f.cli.ledger + "/blobs")?.allObjects ?? []
        #expect(blobFiles.allSatisfy { !($0 as? String ?? "").contains("/") }, "\(blobFiles)")
        #expect(try f.cli.ok("checkpoint").text == final)
        try f.cli.ok("fsck")

        // Everything issued before the seal still verifies, and is consistent with the final checkpoint.
        try f.cli.ok("verify", "inclusion", "--vkey", f.vkeyFile, "--proof", proof, "--entry", entry)
        let consistency = try f.dir.write(
            "c.proof", try f.cli.ok("prove", "consistency", "--old", "5").text)
        try f.cli.ok("verify", "consistency", "--vkey", f.vkeyFile, "--old", before, "--proof", consistency)
        let sealProof = try f.dir.write("p5.proof", try f.cli.ok("prove", "inclusion", "5").text)
        let sealEntry = try f.dir.write("e5.json", try f.cli.ok("get", "5", "--raw").text)
        try f.cli.ok("verify", "inclusion", "--vkey", f.vkeyFile, "--proof", sealProof, "--entry", sealEntry)
    }

    @Test("Seal and predecessor records are refused from append and import, in both profiles")
    func reservedTypes() throws {
        for profile in ["generic", "provenance"] {
            let f = try LedgerFixture(origin: "example.com/reserved", profile: profile)
            for record in [
                #"{"type":"seal","schema":1,"origin":"example.com/reserved","at":"2026-12-31T00:00:00Z","author":"a","reason":"r"}"#,
                // A nested "type" sorts first in canonical order: the top-level type is still the one looked at.
                #"{"a":{"type":"x"},"type":"seal","schema":1,"origin":"example.com/reserved","at":"2026-12-31T00:00:00Z","author":"a","reason":"r"}"#,
                #"{"a":{"type":"x"},"type":"key-rotation","schema":1}"#,
                #"{"type":"predecessor","schema":1,"origin":"example.com/x","vkey":"VKEY","checkpoint":"c","seal_entry":"{}","seal_proof":[],"at":"2026-12-31T00:00:00Z","author":"a"}"#,
            ] {
                for command in [["append"], ["import", "-"]] {
                    let out = try f.cli.run(
                        command, stdin: Array(record.replacingOccurrences(of: "VKEY", with: f.vkey).utf8))
                    #expect(out.status == 65, "\(profile) \(command): \(out.status) \(out.stderr)")
                    // (The bare key-rotation object is refused by the provenance schema before it gets that far.)
                    let reserved = profile == "generic" || !record.contains("key-rotation")
                    #expect(
                        !reserved || out.stderr.contains("reservedType") || out.stderr.contains("appended only by")
                            || out.stderr.contains("written only by"), "\(profile) \(command): \(out.stderr)")
                }
            }
            let size = try f.cli.run(["checkpoint"]).text.split(separator: "\n")[1]
            #expect(size == "0", "\(profile): something was appended")
        }
    }

    @Test("A successor's entry 0 links it to its sealed predecessor; verify successor checks the link offline")
    func successor() throws {
        let f = try LedgerFixture(origin: "example.com/shard-2026")
        try f.cli.ok("append", stdin: (0..<9).map { "{\"n\":\($0)}" }.joined(separator: "\n"))
        let next = f.dir.file("next")
        let nextCLI = CLI(ledger: next)

        // Not sealed yet: no successor.
        let early = try nextCLI.run(["init", "--successor-of", f.cli.ledger, "--origin", "example.com/shard-2027"])
        #expect(early.status == 64 && early.stderr.contains("is not sealed"), "\(early.stderr)")
        #expect(!FileManager.default.fileExists(atPath: next))

        let sealed = try Self.seal(f.cli)
        // The successor needs an origin of its own.
        let same = try nextCLI.run(["init", "--successor-of", f.cli.ledger, "--origin", "example.com/shard-2026"])
        #expect(same.status == 64 && same.stderr.contains("origin of its own"), "\(same.stderr)")

        let created = parseJSONLine(
            try nextCLI.ok(
                "init", "--successor-of", f.cli.ledger, "--origin", "example.com/shard-2027", "--author",
                "ops@example.com",
                "--json"
            ).text)
        let linked = try #require(created["predecessor"] as? [String: Any])
        #expect(linked["origin"] as? String == "example.com/shard-2026" && linked["size"] as? Int == 10)
        #expect(linked["vkey"] as? String == f.vkey)
        #expect(created["profile"] as? String == "generic", "the successor keeps its predecessor's profile")
        let successorVkey = try #require(created["vkey"] as? String)
        #expect(successorVkey != f.vkey)

        // Entry 0 is the link: it carries the final checkpoint verbatim.
        let entry0 = try f.dir.write("entry0.json", try nextCLI.ok("get", "0", "--raw").text)
        let record = parseJSONLine(try String(contentsOfFile: entry0, encoding: .utf8))
        #expect(
            record["type"] as? String == "predecessor"
                && record["checkpoint"] as? String == sealed["checkpoint"] as? String)
        #expect(record["author"] as? String == "ops@example.com")

        let valid = parseJSONLine(try f.cli.ok("verify", "successor", "--vkey", f.vkeyFile, "--json", entry0).text)
        #expect(valid["valid"] as? Bool == true)
        let predecessor = try #require(valid["predecessor"] as? [String: Any])
        #expect(
            predecessor["size"] as? Int == 10 && predecessor["root_hash"] as? String == sealed["root_hash"] as? String)
        try f.cli.ok("verify", "successor", "--vkey", f.vkeyFile, entry0)

        // The wrong key, a changed seal, a changed checkpoint, a short proof: each fails with a reason.
        let wrongKey = try f.cli.run(["verify", "successor", "--vkey", successorVkey, "--json", entry0])
        #expect(
            wrongKey.status == 1 && parseJSONLine(wrongKey.text)["code"] as? String == "badLink", "\(wrongKey.text)")
        let text = try String(contentsOfFile: entry0, encoding: .utf8)
        var tampered: [String: String] = [
            "changed seal": text.replacingOccurrences(of: #"2026 shard closed"#, with: #"2026 shard closes"#),
            "changed size": text.replacingOccurrences(of: #"shard-2026\n10\n"#, with: #"shard-2026\n11\n"#),
        ]
        var shortProof = record
        shortProof["seal_proof"] = Array(((record["seal_proof"] as? [String]) ?? []).dropLast())
        tampered["short proof"] = String(
            decoding: try JSONSerialization.data(withJSONObject: shortProof), as: UTF8.self)
        for (name, body) in tampered {
            #expect(body != text, "\(name): the tampering changed nothing")
            let file = try f.dir.write("bad.json", body)
            let out = try f.cli.run(["verify", "successor", "--vkey", f.vkeyFile, "--json", file])
            #expect(out.status == 1, "\(name): \(out.text)")
            #expect(
                ["badLink", "malformed"].contains(parseJSONLine(out.text)["code"] as? String ?? ""),
                "\(name): \(out.text)")
        }
        // Not a predecessor record at all.
        let notLink = try f.cli.run([
            "verify", "successor", "--vkey", f.vkeyFile, try f.dir.write("n.json", #"{"n":1}"#),
        ])
        #expect(notLink.status == 1 && notLink.stderr.contains("not a predecessor record"), "\(notLink.stderr)")

        // The successor takes appends, and both logs pass fsck.
        try nextCLI.ok("append", stdin: #"{"n":"first of 2027"}"#)
        try nextCLI.ok("fsck")
        try f.cli.ok("fsck")
        // Entry 0 is in the successor's log as any entry is.
        let proof0 = try f.dir.write("p0.proof", try nextCLI.ok("prove", "inclusion", "0").text)
        try nextCLI.ok("verify", "inclusion", "--vkey", successorVkey, "--proof", proof0, "--entry", entry0)
    }

    @Test("An interrupted successor creation is finished by running init --successor-of again")
    func interruptedSuccessor() throws {
        let f = try LedgerFixture(origin: "example.com/shard-a")
        try f.cli.ok("append", stdin: #"{"n":1}"#)
        _ = try Self.seal(f.cli)
        // What a crash between creating the successor and committing its link leaves: an empty ledger.
        let next = CLI(ledger: f.dir.file("next"))
        try next.ok("init", "--origin", "example.com/shard-b", "--profile", "generic")
        try next.ok("init", "--successor-of", f.cli.ledger, "--origin", "example.com/shard-b")
        #expect(parseJSONLine(try next.ok("get", "0", "--raw").text)["type"] as? String == "predecessor")
        try next.ok("fsck")
        // A successor that already holds entries is not touched.
        let again = try next.run(["init", "--successor-of", f.cli.ledger, "--origin", "example.com/shard-b"])
        #expect(again.status == 73, "\(again.stderr)")
        #expect(try next.ok("checkpoint").text.split(separator: "\n")[1] == "1")
    }

    @Test("A running server refuses appends with 410 from the seal's commit on, and keeps serving reads")
    func sealWhileServing() async throws {
        let f = try LedgerFixture(origin: "example.com/served-shard")
        let token = try f.cli.ok("token", "create", "--role", "append", "--role", "read", "--name", "ci").text
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let server = try ServeCLITests.Server(ledger: f.cli.ledger, stderrPath: f.dir.file("serve.log"))
        defer { _ = server.terminate() }
        let first = try await ServeCLITests.request(
            "POST", server.url + "/v1/entries", token: token, body: #"{"n":"before the seal"}"#)
        #expect(first.status == 200, "\(first.body)")
        let cli = f.cli
        let sealedText = try await offThePool {
            try cli.ok("seal", "--reason", "2026 shard closed", "--author", "ops@example.com", "--json").text
        }
        let sealed = parseJSONLine(sealedText)
        #expect(sealed["size"] as? Int == 2)
        let refused = try await ServeCLITests.request(
            "POST", server.url + "/v1/entries", token: token, body: #"{"n":"after the seal"}"#)
        #expect(refused.status == 410, "\(refused.status) \(refused.body)")
        #expect(refused.body.contains("is sealed"), "\(refused.body)")
        let checkpoint = try await ServeCLITests.request("GET", server.url + "/checkpoint", token: token)
        #expect(checkpoint.status == 200 && checkpoint.body == sealed["checkpoint"] as? String, "\(checkpoint.body)")
        let entry = try await ServeCLITests.request("GET", server.url + "/v1/entries/1?raw=true", token: token)
        #expect(entry.status == 200 && entry.body.contains(#""type":"seal""#), "\(entry.body)")
    }

    @Test("Go's note and tlog verify the successor's link, the seal as the final leaf, and consistency before it")
    func goVerifiesSuccession() throws {
        guard let go = GoToolchain.binaryOrSkip("Go succession interop test") else { return }
        let f = try LedgerFixture(origin: "example.com/go-shard-2026")
        try f.cli.ok("append", stdin: (0..<6).map { "{\"n\":\($0)}" }.joined(separator: "\n"))
        let out = try TemporaryDirectory()
        _ = try out.write("old.checkpoint", try f.cli.ok("checkpoint").stdout)
        try f.cli.ok("append", stdin: (6..<13).map { "{\"n\":\($0)}" }.joined(separator: "\n"))
        _ = try Self.seal(f.cli)
        _ = try out.write("old.consistency", try f.cli.ok("prove", "consistency", "--old", "6", "--json").stdout)
        let next = CLI(ledger: f.dir.file("next"))
        try next.ok("init", "--successor-of", f.cli.ledger, "--origin", "example.com/go-shard-2027")
        try next.ok("append", stdin: #"{"n":"2027"}"#)
        _ = try out.write("predecessor.vkey", f.vkey)
        _ = try out.write("successor.vkey", try String(contentsOfFile: next.ledger + "/ledger.vkey", encoding: .utf8))
        _ = try out.write("entry0.json", try next.ok("get", "0", "--raw").stdout)
        _ = try out.write("entry0.proof", try next.ok("prove", "inclusion", "0").stdout)

        let gocache = try TemporaryDirectory()
        let result = try CLI.exec(
            go,
            [
                "run",
                GoInteropTests.repositoryRoot.appendingPathComponent("Tests/Interop/verify_succession_with_go.go").path,
                out.path,
            ],
            environment: GoToolchain.environment(cache: gocache.path))
        #expect(result.status == 0, "Go verifier failed:\n\(result.stderr)\n\(result.text)")
        #expect(
            result.text.contains(
                "go-succession: ok: example.com/go-shard-2026 sealed at size 14 (seal is entry 13), successor "
                    + "example.com/go-shard-2027 links to it at entry 0; size 6 is consistent"),
            "\(result.text)")
    }

    @Test("specs/sealing.md: the predecessor record of §3 verifies with the vkey of §6 and prints what §6 shows")
    func specExample() throws {
        let spec = try String(
            contentsOf: SpecExampleTests.repository.appendingPathComponent("specs/sealing.md"), encoding: .utf8)
        let block = try #require(
            spec.components(separatedBy: "## 3.").dropFirst().first?.components(separatedBy: "```json\n").dropFirst()
                .first?.components(separatedBy: "```")[0])
        let dir = try TemporaryDirectory()
        let link = try dir.write("link.json", block)
        let cli = CLI(ledger: dir.file("none"))
        let vkey = "example.com/cairn-2026+18e31400+Afo0NLOrgylNa8PdMdzDJcVaJd1NXyBr0Fu4vWDCpEH+"
        #expect(spec.contains("    " + vkey + "\n"))
        let verified = try cli.ok("verify", "successor", "--vkey", vkey, link).text
        #expect(spec.contains("    " + verified.replacingOccurrences(of: dir.path + "/", with: "")), "\(verified)")
        // The record of specs/record-schema.md is the same.
        let schema = try String(
            contentsOf: SpecExampleTests.repository.appendingPathComponent("examples/records/predecessor.json"),
            encoding: .utf8)
        let shown = try JSONSerialization.jsonObject(with: Data(block.utf8)) as? NSDictionary
        let listed = try JSONSerialization.jsonObject(with: Data(schema.utf8)) as? NSDictionary
        #expect(shown != nil && shown == listed)
    }
}
