import CairnCrypto
import Foundation
import Testing

/// The provenance commands through the real binary: schema errors, show, query, blobs.
@Suite("cairn provenance commands")
struct ProvenanceCLITests {
    static let a = String(repeating: "a", count: 40)

    static func checkpoint(
        _ id: String, path: String = "src/retry.ts", range: String = "[10,20]",
        model: String = "claude-sonnet-4-5", extra: String = ""
    ) -> String {
        """
        {"type":"checkpoint","schema":1,"id":"\(id)","timestamp":"2026-11-20T09:00:00Z",\
        "requested_by":"alice@example.com","tool_path":"ide",\
        "model":{"id":"\(model)","version":"20250929","provider":"anthropic"},"prompt":"Add retries",\
        "outputs":[{"repo":"git@example.com:pay/client.git","commit":"\(a)","path":"\(path)","ranges":[\(range)],\
        "content_hash":"sha256:\(String(repeating: "c", count: 64))","contributor":"ai"}]\(extra)}
        """
    }

    @Test("Schema problems are reported per record with file, line and JSON path; nothing is appended")
    func schemaErrors() throws {
        let f = try LedgerFixture(profile: "provenance")
        let bad = Self.checkpoint("c1").replacingOccurrences(of: "\"ide\"", with: "\"telepathy\"")
            .replacingOccurrences(of: "\"commit\":\"\(Self.a)\"", with: "\"commit\":\"xyz\"")
        let out = try f.cli.run(["append"], stdin: Array((Self.checkpoint("c0") + "\n" + bad + "\n").utf8))
        #expect(out.status == 65)
        #expect(out.stderr.contains("<stdin>:2: $.tool_path:"))
        #expect(out.stderr.contains("<stdin>:2: $.outputs[0].commit:"))
        #expect(out.stderr.contains("1 invalid record; nothing was appended"))
        #expect(try f.cli.ok("checkpoint").lines[1] == "0")
        // Unknown fields are kept by default and refused with --strict-fields.
        let extra = Self.checkpoint("c9", extra: ",\"x_team\":\"payments\"")
        let strict = try f.cli.run(["append", "--strict-fields"], stdin: Array(extra.utf8))
        #expect(strict.status == 65)
        #expect(strict.stderr.contains("$.x_team"))
        try f.cli.ok("append", stdin: extra)
    }

    @Test("A reference the ledger cannot resolve is reported with the record's line")
    func contextErrors() throws {
        let f = try LedgerFixture(profile: "provenance")
        let review =
            #"{"type":"review","schema":1,"subject":"nope","reviewer":"bob","decision":"approved","at":"2026-11-20T10:00:00Z"}"#
        let out = try f.cli.run(["append"], stdin: Array((Self.checkpoint("c1") + "\n" + review + "\n").utf8))
        #expect(out.status == 65)
        #expect(out.stderr.contains("<stdin>:2: $.subject: no checkpoint"))
        #expect(try f.cli.ok("checkpoint").lines[1] == "0")
    }

    @Test("show prints the effective record and --history lists corrections and lifecycle entries")
    func show() throws {
        let f = try LedgerFixture(profile: "provenance")
        let first = try f.cli.ok("append", stdin: Self.checkpoint("c1", extra: ",\"work_item\":\"PAY-1\""))
        let digest = parseJSONLine(first.lines[0])["digest"] as! String
        try f.cli.ok(
            "append",
            stdin:
                #"{"type":"review","schema":1,"subject":"c1","reviewer":"bob@example.com","decision":"approved","at":"2026-11-20T10:00:00Z"}"#
                + "\n"
                + #"{"type":"correction","schema":1,"corrects":"\#(digest)","author":"alice@example.com","reason":"wrong ticket","patch":{"work_item":"PAY-2"}}"#
        )
        let text = try f.cli.ok("show", "c1", "--history").text
        #expect(text.contains("\"work_item\": \"PAY-2\""))
        #expect(text.contains("1 correction applied"))
        #expect(text.contains("1\treview\tbob@example.com approved"))
        #expect(text.contains("2\tcorrection\tby alice@example.com: wrong ticket"))
        #expect(text.contains("cairn prove inclusion 2"))
        let json = parseJSONLine(try f.cli.ok("show", digest, "--history", "--json").text)
        #expect(json["corrected"] as? Bool == true)
        #expect((json["original"] as? [String: Any])?["work_item"] as? String == "PAY-1")
        #expect((json["history"] as? [[String: Any]])?.count == 2)
        // get still prints the original bytes.
        #expect(try f.cli.ok("get", "0").text.contains("PAY-1"))
    }

    @Test("query answers file+line questions, with reviewers, as a table, JSON or JSON Lines")
    func query() throws {
        let f = try LedgerFixture(profile: "provenance")
        try f.cli.ok(
            "append",
            stdin: [
                Self.checkpoint("c1", range: "[10,20]"), Self.checkpoint("c2", range: "[30,40]", model: "gpt-5-codex"),
                Self.checkpoint("c3", path: "src/other.ts"),
                #"{"type":"review","schema":1,"subject":"c1","reviewer":"bob@example.com","decision":"approved","at":"2026-11-20T10:00:00Z"}"#,
            ].joined(separator: "\n"))
        let table = try f.cli.ok("query", "--path", "src/retry.ts", "--line", "15").text
        #expect(table.split(separator: "\n").count == 2)
        #expect(table.contains("c1"))
        #expect(table.contains("bob@example.com (approved)"))
        let lines = try f.cli.ok("query", "--path", "src/retry.ts", "--lines", "18-31", "--jsonl").lines
        #expect(lines.map { parseJSONLine($0)["index"] as? Int } == [0, 1])
        let json = try f.cli.ok("query", "--model", "gpt-5-codex", "--json").text
        let rows = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]]
        #expect(rows?.count == 1)
        #expect(rows?.first?["index"] as? Int == 1)
        #expect((rows?.first?["digest"] as? String)?.hasPrefix("sha256:") == true)
        // --json is streamed: several matches are one valid array on one line, no match is [].
        let all = try f.cli.ok("query", "--json").text
        #expect(all.hasPrefix("[{") && all.hasSuffix("}]\n") && all.filter { $0 == "\n" }.count == 1)
        let three = try JSONSerialization.jsonObject(with: Data(all.utf8)) as? [[String: Any]]
        #expect(three?.map { $0["index"] as? Int } == [0, 1, 2])
        #expect(try f.cli.ok("query", "--model", "no-such-model", "--json").text == "[]\n")
        #expect(try f.cli.ok("query", "--unreviewed", "--jsonl").lines.count == 2)
        #expect(try f.cli.ok("query", "--type", "review", "--reviewer", "bob@example.com", "--jsonl").lines.count == 1)
        #expect(try f.cli.ok("query", "--since", "2026-11-21", "--jsonl").text.isEmpty)
        let bad = try f.cli.run("query", "--line", "5")
        #expect(bad.status == 64)
        let badTime = try f.cli.run("query", "--since", "last tuesday")
        #expect(badTime.status == 64)
        #expect(badTime.stderr.contains("--since"))
    }

    @Test("blob put, get, info and erase; erased blobs explain themselves; fsck and proofs still pass")
    func blobs() throws {
        let f = try LedgerFixture(profile: "provenance")
        let payload = try f.dir.write("output.diff", "--- a\n+++ b\n+secret=hunter2\n")
        let put = parseJSONLine(try f.cli.ok("blob", "put", "--media-type", "text/x-diff", payload).text)
        let blob = try #require(put["blob"] as? String)
        #expect(put["size"] as? Int == 28)
        // Each put draws a new salt: the same bytes twice are two blobs with unrelated addresses.
        let again = parseJSONLine(try f.cli.ok("blob", "put", "--media-type", "text/x-diff", payload).text)
        #expect(again["blob"] as? String != blob)
        #expect(try f.cli.ok("blob", "get", blob).text == "--- a\n+++ b\n+secret=hunter2\n")
        let reference = #","raw_output":{"blob":"\#(blob)","size":28,"media_type":"text/x-diff"}"#
        try f.cli.ok("append", stdin: Self.checkpoint("c1", extra: reference))
        let proof = try f.dir.write("proof", try f.cli.ok("prove", "inclusion", "0").stdout)
        let entry = try f.dir.write("entry", try f.cli.ok("get", "0", "--raw").stdout)

        let erase = try f.cli.ok(
            "blob", "erase", blob, "--reason", "secret in a diff (SEC-7)", "--author", "sec@example.com")
        #expect(erase.text.hasPrefix("erased \(blob): entry 1"))
        let get = try f.cli.run("blob", "get", blob)
        #expect(get.status == 66)
        #expect(get.stderr.contains("was erased at"))
        #expect(get.stderr.contains("by entry 1 (sec@example.com): secret in a diff (SEC-7)"))
        let info = parseJSONLine(try f.cli.ok("blob", "info", blob).text)
        #expect((info["erased"] as? [String: Any])?["entry"] as? Int == 1)
        #expect(try f.cli.ok("show", "c1", "--history").text.contains("erasure"))
        let fsck = parseJSONLine(try f.cli.ok("fsck", "--json").text)
        #expect(fsck["ok"] as? Bool == true)
        #expect(fsck["erased_blobs"] as? Int == 1)
        // The proof made before the erasure still verifies, and so does a new one.
        #expect(
            try f.cli.run(["verify", "inclusion", "--vkey", f.vkey, "--proof", proof, "--entry", entry]).status == 0)
        let newProof = try f.dir.write("proof2", try f.cli.ok("prove", "inclusion", "0").stdout)
        #expect(
            try f.cli.run(["verify", "inclusion", "--vkey", f.vkey, "--proof", newProof, "--entry", entry]).status == 0)
        // Salted content leaves no trace once erased: storing it again gives a new address.
        let reput = parseJSONLine(try f.cli.ok("blob", "put", "--media-type", "text/x-diff", payload).text)
        #expect(reput["blob"] as? String != blob)
        #expect(parseJSONLine(try f.cli.ok("blob", "info", blob).text)["salted"] as? Bool == true)
        // Unsalted content is addressed (and stored once) by its plain SHA-256; erased, it stays erased.
        let plain = parseJSONLine(try f.cli.ok("blob", "put", "--unsalted", payload).text)
        #expect(
            parseJSONLine(try f.cli.ok("blob", "put", "--unsalted", payload).text)["blob"] as? String
                == plain["blob"] as? String)
        #expect(plain["blob"] as? String == "sha256:" + SHA256.hash(Array("--- a\n+++ b\n+secret=hunter2\n".utf8)).hex)
        try f.cli.ok("blob", "erase", plain["blob"] as! String, "--reason", "test")
        let refused = try f.cli.run("blob", "put", "--unsalted", payload)
        #expect(refused.status == 66, "\(refused.stderr)")
        #expect(refused.stderr.contains("erased content cannot be stored again"), "\(refused.stderr)")
        #expect(try f.cli.ok("fsck").status == 0)
    }

    @Test("append moves a large prompt to a blob; sending the record again is a duplicate")
    func extraction() throws {
        let f = try LedgerFixture(profile: "provenance")
        let long = String(repeating: "retry with jitter ", count: 100)
        let record = Self.checkpoint("c1").replacingOccurrences(of: "\"Add retries\"", with: "\"\(long)\"")
        let first = parseJSONLine(try f.cli.ok("append", "--extract-over", "1000", stdin: record).text)
        let stored = parseJSONLine(try f.cli.ok("get", "0", "--raw").text)
        let prompt = try #require(stored["prompt"] as? [String: Any])
        #expect(prompt["size"] as? Int == long.utf8.count)
        #expect(try f.cli.ok("blob", "get", prompt["blob"] as! String).text == long)
        let second = parseJSONLine(try f.cli.ok("append", "--extract-over", "1000", stdin: record).text)
        #expect(second["duplicate"] as? Bool == true)
        #expect(second["digest"] as? String == first["digest"] as? String)
    }
}

@Suite("specs/record-schema.md examples")
struct RecordExampleCLITests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    @Test("The schema's examples append in order as §10 says, and tell one story in show --history")
    func examplesAppend() throws {
        let f = try LedgerFixture(profile: "provenance")
        let root = Self.repository.path
        try f.cli.ok(
            "blob", "put", "--unsalted", "--media-type", "text/markdown; charset=utf-8",
            root + "/examples/blobs/assistant-turn-1.md")
        try f.cli.ok(
            "blob", "put", "--unsalted", "--media-type", "text/x-diff; charset=utf-8",
            root + "/examples/blobs/raw-output.diff")
        let order = [
            "checkpoint", "review", "test", "correction", "rewrite", "deploy", "rollback", "model-call", "erasure",
            "legal-hold",
        ]
        for (i, type) in order.enumerated() {
            let out = try f.cli.ok("append", "--allow-erasure", root + "/examples/records/\(type).json")
            #expect(parseJSONLine(out.text)["index"] as? Int == i, "\(type)")
        }
        let history = try f.cli.ok("show", "0f8e7a52-3c1d-4d7e-9a41-7f1c2b6e5d01", "--history", "--json").text
        let items = (parseJSONLine(history)["history"] as? [[String: Any]])?.compactMap { $0["type"] as? String }
        #expect(
            items == [
                "review", "test", "correction", "rewrite", "deploy", "rollback", "model-call", "erasure", "legal-hold",
            ])
        #expect((parseJSONLine(history)["record"] as? [String: Any])?["work_item"] as? String == "PAY-1432")
        let raw = try f.cli.run(
            "blob", "get", "sha256:f9ad8b9948f10f690222ef25d281999899ed0034176dae9ffc2b47e07d2dcd37")
        #expect(raw.status == 66)
        #expect(raw.stderr.contains("card number"))
        #expect(try f.cli.ok("fsck").status == 0)
        let spec = try String(contentsOfFile: root + "/specs/record-schema.md", encoding: .utf8)
        #expect(spec.contains("for t in " + order.joined(separator: " ") + "; do"))
    }

    @Test("A 2 MB prompt is moved to a blob before the size limit; the receipt and verify explain the stored form")
    func largePromptExtraction() throws {
        let f = try LedgerFixture(profile: "provenance")
        let template = try String(
            contentsOfFile: Self.repository.path + "/examples/records.jsonl", encoding: .utf8
        ).split(separator: "\n")[0]
        let prompt = String(repeating: "Please add retries. ", count: 100_000)  // 2,000,000 bytes
        let original = template.replacingOccurrences(
            of: #""prompt":"Add retry with exponential backoff to the payment client""#,
            with: #""prompt":"\#(prompt)""#)
        let file = try f.dir.write("original.json", original)
        // Over the ledger's 1 MiB entry limit as submitted, appended with the default --extract-over.
        let receipt = parseJSONLine(try f.cli.ok("append", file).text)
        let moved = try #require(receipt["moved_to_blobs"] as? [String: Any], "\(receipt)")
        let blob = try #require(moved["prompt"] as? String)
        #expect(try f.cli.ok("blob", "get", blob).text == prompt)
        #expect(!(try f.cli.ok("get", "0", "--raw").text.contains("Please add retries.")))
        // The submitted file verifies given the blob's disclosure (its salt): verify recognises the
        // stored form and says so. Without the disclosure it cannot, and says what is missing.
        let proof = try f.dir.write("p", try f.cli.ok("prove", "inclusion", "0").stdout)
        let alone = try f.cli.run(["verify", "inclusion", "--vkey", f.vkeyFile, "--proof", proof, "--entry", file])
        #expect(alone.status == 1)
        #expect(alone.stderr.contains("--disclosure"), "\(alone.stderr)")
        let disclosure = f.dir.file("prompt.disclosure.json")
        try f.cli.ok("blob", "disclose", blob, "-o", disclosure)
        let verified = try f.cli.ok(
            "verify", "inclusion", "--vkey", f.vkeyFile, "--proof", proof, "--entry", file, "--disclosure", disclosure)
        #expect(verified.text.contains("prompt moved to blob \(blob)"), "\(verified.text)")
        let json = parseJSONLine(
            try f.cli.ok(
                "verify", "inclusion", "--vkey", f.vkeyFile, "--proof", proof, "--entry", file, "--disclosure",
                disclosure, "--json"
            ).text)
        #expect((json["moved_to_blobs"] as? [String: Any])?["prompt"] as? String == blob)
        // Without extraction the same record is too large.
        let refused = try f.cli.run(["append", "--extract-over", "0", file])
        #expect(refused.status == 65, "\(refused.stderr)")
        #expect(refused.stderr.contains("over the ledger's limit"), "\(refused.stderr)")
    }

    @Test("Locally, appending an erasure record needs --allow-erasure; without it nothing is appended or destroyed")
    func erasureNeedsDeliberateFlag() throws {
        let f = try LedgerFixture(profile: "provenance")
        let blob =
            parseJSONLine(
                try f.cli.ok("blob", "put", "--media-type", "text/plain", "-", stdin: "secret prompt").text)["blob"]
            as? String
        let address = try #require(blob)
        let erasure =
            #"{"type":"erasure","schema":1,"blob":"\#(address)","reason":"leak","at":"2026-11-22T08:00:00Z","author":"sec@example.com"}"#
        let refused = try f.cli.run(["append"], stdin: Array(erasure.utf8))
        #expect(refused.status == 64, "\(refused.stderr)")
        #expect(refused.stderr.contains("--allow-erasure"), "\(refused.stderr)")
        #expect(try f.cli.ok("blob", "get", address).text == "secret prompt")
        #expect(try f.cli.ok("checkpoint").lines[1] == "0")
        try f.cli.ok("append", "--allow-erasure", stdin: erasure)
        let gone = try f.cli.run(["blob", "get", address])
        #expect(gone.status == 66)
        #expect(gone.stderr.contains("leak"))
        // Who appended it is recorded and shown: the local user.
        let view = parseJSONLine(try f.cli.ok("show", "0", "--json").text)
        #expect((view["appended_by"] as? [String: Any])?["kind"] as? String == "local")
    }

}
