import CairnCrypto
import CairnJSON
import CairnLedger
import CairnMerkle
import CairnNote
import CairnTestSupport
import Foundation
import Testing

/// `cairn key rotate`, `cairn key history` and `cairn verify … --key-history` (specs/key-rotation.md), through the
/// real commands.
@Suite("Key rotation through the CLI")
struct KeyRotationCLITests {
    /// A PKCS#8 PEM file of the Ed25519 key with 32 bytes `seed` as its seed.
    static func keyFile(_ dir: TemporaryDirectory, _ name: String, seed: UInt8) throws -> String {
        let key = try Ed25519PrivateKey(seed: [UInt8](repeating: seed, count: 32))
        return try dir.write(name, key.pemRepresentation)
    }

    /// The permission bits of a file.
    static func mode(_ path: String) throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        return (attributes[.posixPermissions] as? Int) ?? -1
    }

    /// `cairn key rotate … --json`, parsed.
    static func rotate(_ cli: CLI, _ extra: [String] = []) throws -> [String: Any] {
        let out = try cli.run(
            ["key", "rotate", "--reason", "scheduled rotation", "--author", "ops@example.com", "--json"] + extra)
        #expect(out.status == 0, "key rotate: \(out.stderr)")
        return parseJSONLine(out.text)
    }

    @Test("Rotation: both keys sign the rotation's checkpoint, fsck is clean, every earlier proof still verifies")
    func rotation() throws {
        let f = try LedgerFixture(origin: "example.com/rotation")
        let original = f.vkey
        let dir = f.dir
        for batch in 0..<3 {
            try f.cli.ok("append", stdin: (0..<3).map { "{\"batch\":\(batch),\"n\":\($0)}" }.joined(separator: "\n"))
        }
        // What verifiers hold from before the rotation: checkpoints and proofs signed with the original key.
        let before = try dir.write("before.checkpoint", try f.cli.ok("checkpoint").text)
        let old6 = try dir.write("size6.checkpoint", try f.cli.ok("checkpoint", "--size", "6").text)
        var proofs: [(proof: String, entry: String)] = []
        for index in [0, 4, 8] {
            proofs.append(
                (
                    try dir.write("p\(index).proof", try f.cli.ok("prove", "inclusion", String(index)).text),
                    try dir.write("e\(index).json", try f.cli.ok("get", String(index), "--raw").text)
                ))
        }
        let oldConsistency = try dir.write("c6-9.proof", try f.cli.ok("prove", "consistency", "--old", "6").text)

        let rotated = try Self.rotate(f.cli)
        let newKey = try #require(rotated["new_vkey"] as? String)
        #expect(rotated["old_vkey"] as? String == original)
        #expect(rotated["entry_index"] as? Int == 9 && rotated["from_size"] as? Int == 10)
        #expect(newKey != original && newKey.hasPrefix("example.com/rotation+"))
        // The key files: the new key in signing-key.pem (0600), its vkey in ledger.vkey, the old one retired (0600).
        let retired = try #require(rotated["retired_key_file"] as? String)
        #expect(retired.hasSuffix("/signing-key.\(original.split(separator: "+")[1]).pem.retired"))
        #expect(try Self.mode(retired) == 0o600 && Self.mode(f.cli.ledger + "/signing-key.pem") == 0o600)
        #expect(try String(contentsOfFile: f.vkeyFile, encoding: .utf8) == newKey + "\n")
        #expect(!FileManager.default.fileExists(atPath: f.cli.ledger + "/signing-key.next.pem"))
        try f.cli.ok("fsck")

        // The rotation's checkpoint verifies with either key alone.
        let rotation = try dir.write("rotation.checkpoint", try f.cli.ok("checkpoint", "--size", "10").text)
        #expect(try String(contentsOfFile: rotation, encoding: .utf8).components(separatedBy: "\n— ").count == 3)
        try f.cli.ok("verify", "checkpoint", "--vkey", original, rotation)
        try f.cli.ok("verify", "checkpoint", "--vkey", newKey, rotation)
        // The entry is the key-rotation record naming both keys.
        let record = parseJSONLine(try f.cli.ok("get", "9", "--raw").text)
        #expect(record["type"] as? String == "key-rotation" && record["new_vkey"] as? String == newKey)
        #expect(record["old_vkey"] as? String == original && record["author"] as? String == "ops@example.com")

        // Later checkpoints: the new key alone.
        try f.cli.ok("append", stdin: #"{"after":1}"# + "\n" + #"{"after":2}"#)
        let after = try dir.write("after.checkpoint", try f.cli.ok("checkpoint").text)
        try f.cli.ok("verify", "checkpoint", "--vkey", newKey, after)
        let refused = try f.cli.run(["verify", "checkpoint", "--vkey", original, "--json", after])
        #expect(refused.status == 1)
        #expect(parseJSONLine(refused.text)["code"] as? String == "wrongKey")
        #expect(refused.text.contains("--key-history"), "the message points at the key history: \(refused.text)")

        // Every proof issued before the rotation still verifies with the original vkey (and nothing else).
        for (proof, entry) in proofs {
            try f.cli.ok("verify", "inclusion", "--vkey", original, "--proof", proof, "--entry", entry)
        }
        try f.cli.ok("verify", "consistency", "--vkey", original, "--old", old6, "--proof", oldConsistency)
        try f.cli.ok("verify", "checkpoint", "--vkey", original, before)

        // With the key history, the original vkey verifies checkpoints and proofs of both keys.
        let history = try dir.write("history.json", try f.cli.ok("key", "history", "--json").text)
        for checkpoint in [before, old6, rotation, after] {
            try f.cli.ok("verify", "checkpoint", "--vkey", original, "--key-history", history, checkpoint)
        }
        for (proof, entry) in proofs {
            try f.cli.ok(
                "verify", "inclusion", "--vkey", original, "--key-history", history, "--proof", proof, "--entry", entry)
            let index = proof.split(separator: "/").last!.dropFirst().prefix { $0.isNumber }
            let fresh = try dir.write("new\(index).proof", try f.cli.ok("prove", "inclusion", String(index)).text)
            try f.cli.ok("verify", "inclusion", "--vkey", newKey, "--proof", fresh, "--entry", entry)
            let json = try f.cli.ok(
                "verify", "inclusion", "--vkey", original, "--key-history", history, "--proof", fresh, "--entry", entry,
                "--json")
            #expect(json.text.contains(newKey), "signed_by names the new key: \(json.text)")
        }
        // Consistency from a checkpoint of the old key to one of the new key.
        let across = try dir.write("c6-12.proof", try f.cli.ok("prove", "consistency", "--old", "6").text)
        let consistency = try f.cli.ok(
            "verify", "consistency", "--vkey", original, "--key-history", history, "--old", old6, "--proof", across)
        #expect(consistency.text.contains("grew consistently from size 6 to 12"))
        // Without the history, the same proof needs both keys: refused with either alone.
        #expect(
            try f.cli.run(["verify", "consistency", "--vkey", newKey, "--old", old6, "--proof", across]).status == 1)
        // Pinning the new key with the history also accepts the old key's checkpoints (for the sizes it signed).
        try f.cli.ok("verify", "checkpoint", "--vkey", newKey, "--key-history", history, before)

        // The table.
        let table = try f.cli.ok("key", "history").lines
        #expect(table.count == 3)
        #expect(table[1].hasPrefix(original) && table[1].contains("sizes 0–10"))
        #expect(
            table[2].hasPrefix(newKey) && table[2].contains("sizes from 10 (current)") && table[2].contains("entry 9"))

        // A second rotation, with a given key and the old one destroyed: a chain of three keys.
        let next = try Self.keyFile(dir, "next.pem", seed: 9)
        let second = try Self.rotate(f.cli, ["--new-key", next, "--destroy-old"])
        let third = try #require(second["new_vkey"] as? String)
        #expect(second["retired_key_file"] is NSNull)
        #expect(second["from_size"] as? Int == 13)
        let retiredFiles = try FileManager.default.contentsOfDirectory(atPath: f.cli.ledger).filter {
            $0.hasSuffix(".retired")
        }
        #expect(retiredFiles.count == 1, "only the first rotation's retired key is kept: \(retiredFiles)")
        try f.cli.ok("fsck")
        try f.cli.ok("append", stdin: #"{"third":1}"#)
        let latest = try dir.write("latest.checkpoint", try f.cli.ok("checkpoint").text)
        let history2 = try dir.write("history2.json", try f.cli.ok("key", "history", "--json").text)
        for pinned in [original, newKey, third] {
            for checkpoint in [before, rotation, after, latest] {
                try f.cli.ok("verify", "checkpoint", "--vkey", pinned, "--key-history", history2, checkpoint)
            }
        }
        // The older history does not know the third key.
        #expect(
            try f.cli.run(["verify", "checkpoint", "--vkey", original, "--key-history", history, latest]).status == 1)
        // The same key again is refused.
        let reused = try f.cli.run(["key", "rotate", "--reason", "again", "--new-key", next])
        #expect(reused.status == 64 && reused.stderr.contains("already used"), "\(reused.stderr)")
    }

    @Test("A provenance ledger: the record follows the schema, queries, stats and show handle it, fsck is clean")
    func provenanceLedger() throws {
        let f = try LedgerFixture(profile: "provenance")
        try f.cli.ok("append", MessageTests.repository.appendingPathComponent("examples/records.jsonl").path)
        let rotated = try Self.rotate(f.cli)
        let index = try #require(rotated["entry_index"] as? Int)
        let rows = try f.cli.ok("query", "--type", "key-rotation", "--json").text
        #expect(rows.contains("\"index\":\(index)"), "\(rows)")
        let shown = try f.cli.ok("show", String(index)).text
        #expect(shown.contains("key-rotation"), "\(shown)")
        try f.cli.ok("fsck")
        try f.cli.ok("fsck", "--rebuild-aggregates")
        try f.cli.ok("stats")
        // Checkpoints still go in after the rotation, signed by the new key.
        let review =
            #"{"type":"review","schema":1,"subject":"0f8e7a52-3c1d-4d7e-9a41-7f1c2b6e5d01","reviewer":"dana@example.com","#
            + #""decision":"approved","at":"2026-11-22T09:30:00Z"}"#
        try f.cli.ok("append", stdin: review)
        try f.cli.ok("fsck")
        // A correction cannot change the rotation's keys.
        let digest = try #require(parseJSONLine(try f.cli.ok("get", String(index), "--json").text)["digest"] as? String)
        let correction =
            #"{"type":"correction","schema":1,"corrects":"\#(digest)","author":"mallory@example.com","#
            + #""reason":"point at my key","patch":{"new_vkey":"example.com/x+00000000+AA=="}}"#
        let refused = try f.cli.run(["append"], stdin: Array(correction.utf8))
        #expect(refused.status == 65 && refused.stderr.contains("cannot change a key rotation"), "\(refused.stderr)")
    }

    @Test("A key-rotation record sent through `cairn append` is refused, in either profile, even the log's own")
    func appendRefusesKeyRotationRecords() throws {
        for profile in ["generic", "provenance"] {
            let f = try LedgerFixture(profile: profile)
            _ = try Self.rotate(f.cli)
            let own = try f.cli.ok("get", "0", "--raw").text
            var forged = parseJSONLine(own)
            forged["reason"] = "a rotation of my own"
            let forgedText = String(
                decoding: try JSONSerialization.data(withJSONObject: forged, options: [.sortedKeys]), as: UTF8.self)
            for record in [own, forgedText] {
                let out = try f.cli.run(["append"], stdin: Array(record.utf8))
                #expect(out.status == 65, "\(profile): \(out.stderr)")
                #expect(
                    out.stderr.contains("$.type: key-rotation records are appended only by `cairn key rotate`"),
                    "\(profile): \(out.stderr)")
            }
            #expect(try f.cli.ok("checkpoint").lines[1] == "1", "nothing was appended")
        }
        // In a generic ledger only a top-level type is reserved.
        let g = try LedgerFixture()
        try g.cli.ok("append", stdin: #"{"note":{"type":"key-rotation"},"type":"key-rotation-drill"}"#)
    }

    @Test("While `cairn serve` runs, rotation is refused (75) and key-rotation records over HTTP are refused")
    func servedLedger() async throws {
        let f = try LedgerFixture()
        let token = try f.cli.ok("token", "create", "--role", "append", "--name", "ci").text
            .trimmingCharacters(in: .whitespacesAndNewlines)
        _ = try Self.rotate(f.cli)
        let record = try f.cli.ok("get", "0", "--raw").text
        let server = try ServeCLITests.Server(ledger: f.cli.ledger, stderrPath: f.dir.file("serve.log"))
        var stopped = false
        defer { if !stopped { _ = server.terminate() } }

        let refused = try f.cli.run(["key", "rotate", "--reason", "while serving"])
        #expect(refused.status == 75, "\(refused.stderr)")
        #expect(refused.stderr.contains("is being served by cairn serve") && refused.stderr.contains("stop it"))
        let reply = try await ServeCLITests.request("POST", server.url + "/v1/entries", token: token, body: record)
        #expect(reply.status == 422, "\(reply.status) \(reply.body)")
        #expect(reply.body.contains("key-rotation records are appended only by `cairn key rotate`"), "\(reply.body)")
        let sent = try CLI.exec(
            CLI.binary, ["append", "--server", server.url, "--token", token], stdin: Array(record.utf8),
            environment: ["CAIRN_LEDGER": ""])
        #expect(sent.status == 65 && sent.stderr.contains("cairn key rotate"), "\(sent.stderr)")
        // An ordinary record goes in, signed by the key the server loaded: the rotated one.
        let ok = try await ServeCLITests.request("POST", server.url + "/v1/entries", token: token, body: #"{"n":1}"#)
        #expect(ok.status == 200, "\(ok.body)")
        #expect(server.terminate() == 0)
        stopped = true
        try f.cli.ok(
            "verify", "checkpoint", "--vkey", f.vkeyFile, try f.dir.write("cp", try f.cli.ok("checkpoint").text))
        _ = try Self.rotate(f.cli)
        try f.cli.ok("fsck")
    }

    @Test("A forged or broken key history is refused: wrong key, entry not in the log, missing signatures")
    func forgedHistories() throws {
        let f = try LedgerFixture(origin: "example.com/forge", extraInitArgs: [])
        try f.cli.ok("append", stdin: #"{"n":1}"# + "\n" + #"{"n":2}"#)
        let original = f.vkey
        _ = try Self.rotate(f.cli)
        try f.cli.ok("append", stdin: #"{"n":3}"#)
        let checkpoint = try f.dir.write("cp", try f.cli.ok("checkpoint").text)
        let text = try f.cli.ok("key", "history", "--json").text
        let valid = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        try f.cli.ok(
            "verify", "checkpoint", "--vkey", original, "--key-history", try f.dir.write("valid.json", text), checkpoint
        )

        func rotationEdited(_ edit: (inout [String: Any]) throws -> Void) throws -> [String: Any] {
            var history = valid
            var rotations = history["rotations"] as! [[String: Any]]
            try edit(&rotations[0])
            history["rotations"] = rotations
            return history
        }
        let attacker = try Ed25519PrivateKey(seed: [UInt8](repeating: 0x66, count: 32))
        let attackerSigner = try NoteSigner(name: "example.com/forge", privateKey: attacker)
        let note = try #require(
            valid["rotations"].flatMap { ($0 as? [[String: Any]])?.first?["checkpoint"] as? String })
        let signed = try SignedCheckpoint(parsing: note)
        let cases: [(String, [String: Any], String)] = [
            (
                "another new key than the record names",
                try rotationEdited { $0["new_vkey"] = attackerSigner.verifierKey.description },
                "is not signed by the new key"
            ),
            (
                "the new key's signature removed",
                try rotationEdited {
                    let only = try SignedNote(text: signed.note.text, signatures: [signed.note.signatures[0]])
                    $0["checkpoint"] = only.serialized
                }, "is not signed by the new key"
            ),
            (
                "the old key's signature removed",
                try rotationEdited {
                    let only = try SignedNote(text: signed.note.text, signatures: [signed.note.signatures[1]])
                    $0["checkpoint"] = only.serialized
                }, "is not signed by the previous key"
            ),
            (
                "an entry that is not in the log",
                try rotationEdited { rotation in
                    var record =
                        try JSONSerialization.jsonObject(
                            with: Data(base64Encoded: rotation["entry"] as! String)!) as! [String: Any]
                    record["reason"] = "edited after the fact"
                    rotation["entry"] = try JSONSerialization.data(withJSONObject: record, options: [.sortedKeys])
                        .base64EncodedString()
                }, "is not in the checkpoint's tree"
            ),
            ("another index", try rotationEdited { $0["entry_index"] = 1 }, "is not from_size - 1"),
            (
                "another size",
                try rotationEdited {
                    $0["from_size"] = 4; $0["entry_index"] = 3
                }, "not from_size"
            ),
            ("not a history", ["format": "cairn-key-history/v2"], "$.format"),
        ]
        for (name, history, reason) in cases {
            let file = try f.dir.write(
                "forged.json", String(decoding: try JSONSerialization.data(withJSONObject: history), as: UTF8.self))
            let out = try f.cli.run([
                "verify", "checkpoint", "--vkey", original, "--key-history", file, "--json", checkpoint,
            ])
            #expect(out.status == 1, "\(name): \(out.text)")
            let result = parseJSONLine(out.text)
            #expect(result["code"] as? String == "badKeyHistory", "\(name): \(out.text)")
            #expect((result["reason"] as? String)?.contains(reason) == true, "\(name): \(out.text)")
        }
        // A vkey that is not in the history.
        let other = try f.cli.run([
            "verify", "checkpoint", "--vkey", attackerSigner.verifierKey.description, "--key-history",
            f.dir.file("valid.json"), checkpoint,
        ])
        #expect(other.status == 1 && other.stderr.contains("is not in the key history"), "\(other.stderr)")
        // --key-history without --vkey is a usage error; a missing file is 66.
        #expect(
            try f.cli.run(["verify", "checkpoint", "--key-history", f.dir.file("valid.json"), checkpoint]).status == 64)
        #expect(
            try f.cli.run([
                "verify", "checkpoint", "--vkey", original, "--key-history", f.dir.file("no.json"), checkpoint,
            ])
            .status == 66)
    }

    @Test("A chain forged with the original key compromised but no endorsement — or an append-only attacker's — fails")
    func forgedRotationRecord() throws {
        // A log of 3 entries whose third is a key-rotation record to an attacker's key, with an endorsement that is
        // not the old key's (what someone who can append, but not sign, could produce): the checkpoint is signed by
        // the old key (as the log signs every commit) and by the attacker's key.
        let dir = try TemporaryDirectory()
        let old = try NoteSigner(
            name: "example.com/forge", privateKey: try Ed25519PrivateKey(seed: [UInt8](repeating: 1, count: 32)))
        let attackerKey = try Ed25519PrivateKey(seed: [UInt8](repeating: 0x66, count: 32))
        let attacker = try NoteSigner(name: "example.com/forge", privateKey: attackerKey)
        let record = KeyRotationRecord(
            oldKey: old.verifierKey, newKey: attacker.verifierKey,
            endorsement: try attackerKey.signature(
                for: KeyRotationRecord.endorsementMessage(old: old.verifierKey, new: attacker.verifierKey)),
            at: "2026-12-01T00:00:00Z", author: "mallory", reason: "takeover")
        let entries: [[UInt8]] = [Array(#"{"n":1}"#.utf8), Array(#"{"n":2}"#.utf8), try JCSBytes.of(record.json)]
        var tree = InMemoryMerkleTree()
        for entry in entries { tree.append(leafHash: RFC6962.leafHash(entry)) }
        let checkpoint = try SignedCheckpoint.sign(
            Checkpoint(origin: "example.com/forge", size: 3, rootHash: tree.root), with: old
        ).adding(try attacker.sign(text: Checkpoint(origin: "example.com/forge", size: 3, rootHash: tree.root).text))
        let history = KeyHistory(
            originalKey: old.verifierKey,
            rotations: [
                KeyHistory.Rotation(
                    newKey: attacker.verifierKey, fromSize: 3, entryIndex: 2, entry: entries[2],
                    inclusionProof: try MerkleTree.inclusionProof(index: 2, treeSize: 3, reader: tree),
                    checkpoint: checkpoint)
            ])
        let file = try dir.write("forged.json", history.json.description)
        let cp = try dir.write("cp", checkpoint.serialized)
        let out = try CLI(ledger: dir.file("none")).run([
            "verify", "checkpoint", "--vkey", old.verifierKey.description, "--key-history", file, cp,
        ])
        #expect(out.status == 1)
        #expect(out.stderr.contains("endorsement is not"), "\(out.stderr)")
    }

    @Test("After a compromise: the old key counts only below the revoked size, and the chain stops there")
    func compromise() throws {
        let f = try LedgerFixture(origin: "example.com/compromise")
        for n in 0..<6 { try f.cli.ok("append", stdin: "{\"n\":\(n)}") }
        let original = f.vkey
        let size3 = try f.dir.write("size3", try f.cli.ok("checkpoint", "--size", "3").text)
        let size5 = try f.dir.write("size5", try f.cli.ok("checkpoint", "--size", "5").text)
        // Too large a size is refused, and nothing changes.
        let tooLate = try f.cli.run(["key", "rotate", "--reason", "leak", "--revoke-from-size", "8"])
        #expect(tooLate.status == 64, "\(tooLate.stderr)")
        #expect(try f.cli.ok("checkpoint").lines[1] == "6")
        let rotated = try Self.rotate(f.cli, ["--revoke-from-size", "4"])
        let newKey = try #require(rotated["new_vkey"] as? String)
        try f.cli.ok("fsck")
        #expect(try f.cli.ok("key", "history").lines[1].contains("from size 4"))
        try f.cli.ok("append", stdin: #"{"n":"after"}"#)
        let after = try f.dir.write("after", try f.cli.ok("checkpoint").text)
        let history = try f.dir.write("history.json", try f.cli.ok("key", "history", "--json").text)

        // Pinned on the original key: sizes below 4 only; the new key is not reached.
        try f.cli.ok("verify", "checkpoint", "--vkey", original, "--key-history", history, size3)
        let revoked = try f.cli.run(["verify", "checkpoint", "--vkey", original, "--key-history", history, size5])
        #expect(revoked.status == 1 && revoked.stderr.contains("revoked from size 4"), "\(revoked.stderr)")
        let blocked = try f.cli.run(["verify", "checkpoint", "--vkey", original, "--key-history", history, after])
        #expect(blocked.status == 1 && blocked.stderr.contains("cannot vouch for its successor"), "\(blocked.stderr)")
        // Pinned on the new key (published out of band): its checkpoints, and the old key's below 4.
        try f.cli.ok("verify", "checkpoint", "--vkey", newKey, "--key-history", history, after)
        try f.cli.ok("verify", "checkpoint", "--vkey", newKey, "--key-history", history, size3)
        #expect(try f.cli.run(["verify", "checkpoint", "--vkey", newKey, "--key-history", history, size5]).status == 1)
        // A consistency proof from the old key's size 3 to the new key's checkpoint re-anchors it.
        let proof = try f.dir.write("c3", try f.cli.ok("prove", "consistency", "--old", "3").text)
        try f.cli.ok(
            "verify", "consistency", "--vkey", newKey, "--key-history", history, "--old", size3, "--proof", proof)
    }

    @Test("An interrupted rotation (committed, key files not replaced) is reported by fsck and finished by rotate")
    func interruptedRotation() throws {
        let f = try LedgerFixture()
        try f.cli.ok("append", stdin: #"{"n":1}"#)
        let original = f.vkey
        let rotated = try Self.rotate(f.cli)
        let newKey = try #require(rotated["new_vkey"] as? String)
        let retired = try #require(rotated["retired_key_file"] as? String)
        // Put the files back as a crash right after the commit leaves them: the old key in place, the new one staged.
        let ledger = f.cli.ledger
        let newPEM = try Data(contentsOf: URL(fileURLWithPath: ledger + "/signing-key.pem"))
        try FileManager.default.removeItem(atPath: ledger + "/signing-key.pem")
        try FileManager.default.moveItem(atPath: retired, toPath: ledger + "/signing-key.pem")
        FileManager.default.createFile(
            atPath: ledger + "/signing-key.next.pem", contents: newPEM, attributes: [.posixPermissions: 0o600])
        try (original + "\n").write(toFile: f.vkeyFile, atomically: true, encoding: .utf8)

        let append = try f.cli.run(["append"], stdin: Array(#"{"n":2}"#.utf8))
        #expect(append.status == 77, "the old key no longer signs: \(append.stderr)")
        let fsck = try f.cli.run(["fsck"])
        #expect(fsck.status == 1 && fsck.stderr.contains("run `cairn key rotate` again to finish it"), "\(fsck.stderr)")
        let finished = try f.cli.run(["key", "rotate", "--reason", "finish"])
        #expect(finished.status == 0, "\(finished.stderr)")
        #expect(finished.text == newKey + "\n")
        #expect(
            finished.stderr.contains("finished the interrupted rotation") && finished.stderr.contains("no new rotation")
        )
        #expect(try String(contentsOfFile: f.vkeyFile, encoding: .utf8) == newKey + "\n")
        #expect(FileManager.default.fileExists(atPath: retired))
        try f.cli.ok("fsck")
        try f.cli.ok("append", stdin: #"{"n":2}"#)
        #expect(try f.cli.ok("key", "history").lines.count == 3)

        // Only ledger.vkey left behind (a crash after the key was installed): rotate rewrites it, nothing more.
        try (original + "\n").write(toFile: f.vkeyFile, atomically: true, encoding: .utf8)
        #expect(try f.cli.run(["fsck"]).status == 1)
        let again = try f.cli.run(["key", "rotate", "--reason", "finish"])
        #expect(again.status == 0 && again.stderr.contains("finished the interrupted rotation"), "\(again.stderr)")
        try f.cli.ok("fsck")
        #expect(try f.cli.ok("key", "history").lines.count == 3)
    }

    @Test("fsck finds a retired key readable by group or others")
    func fsckFindings() throws {
        let f = try LedgerFixture()
        let rotated = try Self.rotate(f.cli)
        let retired = try #require(rotated["retired_key_file"] as? String)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: retired)
        let out = try f.cli.run(["fsck"])
        #expect(out.status == 1 && out.stderr.contains("accessible by group or others"), "\(out.stderr)")
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: retired)
        try f.cli.ok("fsck")
    }
}

/// RFC 8785 bytes of a JSON value, for records built in tests.
enum JCSBytes {
    static func of(_ value: JSONValue) throws -> [UInt8] { try JCS.canonicalize(value) }
}

extension KeyRotationCLITests {
    @Test("GET /v1/key-history serves what `cairn key history --json` prints, and verifiers use it as the file")
    func keyHistoryOverHTTP() async throws {
        let f = try LedgerFixture(origin: "example.com/rotation-http")
        try f.cli.ok("append", stdin: #"{"n":1}"#)
        _ = try Self.rotate(f.cli)
        try f.cli.ok("append", stdin: #"{"n":2}"#)
        let printed = try f.cli.ok("key", "history", "--json").stdout
        let server = try ServeCLITests.Server(
            ledger: f.cli.ledger, arguments: ["--public-reads"], stderrPath: f.dir.file("serve.log"))
        defer { _ = server.terminate() }
        let served = try await ServeCLITests.request("GET", server.url + "/v1/key-history")
        #expect(served.status == 200, "\(served.body)")
        let shown = try JSONSerialization.jsonObject(with: Data(served.body.utf8)) as? NSDictionary
        let expected = try JSONSerialization.jsonObject(with: Data(printed)) as? NSDictionary
        #expect(shown != nil && shown == expected)
        // A verifier who pinned the original key follows the served history to the current checkpoint.
        let history = try f.dir.write("served-history.json", served.body)
        let checkpoint = try f.dir.write(
            "served.checkpoint", try await ServeCLITests.request("GET", server.url + "/checkpoint").body)
        let original = f.vkey
        let cli = f.cli
        let verified = try await offThePool {
            try cli.run("verify", "checkpoint", "--vkey", original, "--key-history", history, checkpoint)
        }
        #expect(verified.status == 0, "\(verified.stderr)")
        #expect(try await ServeCLITests.request("GET", server.url + "/v1/key-history?x=1").status == 400)
    }
}
