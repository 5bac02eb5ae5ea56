import CairnTestSupport
import Foundation
import Testing

/// `cairn retention plan` and `apply` (specs/retention.md) on real ledgers: the plan lists exactly what apply
/// erases, legal holds withhold and their release lets go, apply is idempotent, fsck stays clean and proofs made
/// before still verify, and a bad policy is refused with its line and member.
@Suite("cairn retention plan and apply")
struct RetentionCLITests {
    static let repoA = "git@example.com:payments/client.git"
    static let repoB = "git@example.com:ledger/core.git"

    /// A ledger, and a helper to store salted text blobs (returns the reference JSON).
    struct World {
        let f: LedgerFixture
        var cli: CLI { f.cli }

        init() throws {
            f = try LedgerFixture(profile: "provenance")
        }

        /// Stores `text` as a salted blob; returns its reference, as the record holds it.
        func blob(_ text: String) throws -> String {
            let file = try f.dir.write("blob-\(UUID().uuidString).txt", text)
            return try cli.ok("blob", "put", "--media-type", "text/plain; charset=utf-8", file).text
                .trimmingCharacters(in: .whitespacesAndNewlines)
        }

        /// The address in a blob reference.
        static func address(_ reference: String) -> String {
            parseJSONLine(reference)["blob"] as! String
        }

        /// Appends one record (a JSON object); returns its index.
        @discardableResult
        func append(_ record: String, allowErasure: Bool = false) throws -> Int {
            let args = ["append"] + (allowErasure ? ["--allow-erasure"] : [])
            let out = try cli.run(args, stdin: Array((record + "\n").utf8))
            guard out.status == 0 else {
                throw LedgerFixture.FixtureError(message: "append failed (\(out.status)): \(out.stderr)")
            }
            return parseJSONLine(out.text)["index"] as! Int
        }

        /// A checkpoint with `prompt` (a JSON value: a string or a blob reference) and, optionally, `raw_output`.
        static func checkpoint(
            id: String, at timestamp: String, repo: String = repoA, prompt: String, rawOutput: String? = nil,
            extra: String = ""
        ) -> String {
            let hash = "sha256:" + String(repeating: "ab", count: 32)
            return #"{"type":"checkpoint","schema":1,"id":"\#(id)","timestamp":"\#(timestamp)","#
                + #""requested_by":"alice@example.com","tool_path":"ide","model":{"id":"claude-sonnet-4-5","#
                + #""version":"20250929","provider":"anthropic"},"prompt":\#(prompt),"#
                + (rawOutput.map { #""raw_output":\#($0),"# } ?? "") + extra
                + #""outputs":[{"repo":"\#(repo)","commit":"9fceb02d0ae598e95dc970b74767f19372d61af8","#
                + #""path":"src/\#(id).ts","ranges":[[1,5]],"content_hash":"\#(hash)","contributor":"ai"}]}"#
        }

        static func modelCall(request: String, at timestamp: String, output: String) -> String {
            #"{"type":"model-call","schema":1,"request_id":"\#(request)","provider":"anthropic","#
                + #""timestamp":"\#(timestamp)","model":{"id":"claude-sonnet-4-5-20250929"},"output":\#(output)}"#
        }

        static func hold(_ id: String, _ scope: String) -> String {
            #"{"type":"legal-hold","schema":1,"hold":"\#(id)","action":"place","reason":"litigation","#
                + #""at":"2026-12-01T00:00:00Z","author":"legal@example.com",\#(scope)}"#
        }

        static func release(_ id: String) -> String {
            #"{"type":"legal-hold","schema":1,"hold":"\#(id)","action":"release","reason":"settled","#
                + #""at":"2026-12-02T00:00:00Z","author":"legal@example.com"}"#
        }

        func policy(_ rules: String) throws -> String {
            try f.dir.write(
                "retention-\(UUID().uuidString).json", #"{"format":"cairn-retention/1","rules":["# + rules + "]}")
        }

        static func rule(_ name: String, _ type: String, _ payload: String, _ period: String) -> String {
            #"{"name":"\#(name)","record_type":"\#(type)","payload":"\#(payload)","erase_after":"\#(period)"}"#
        }

        /// `retention plan --json` (or `apply`), parsed.
        func retention(_ command: String, policy: String, asOf: String) throws -> [String: Any] {
            var args = ["retention", command, "--policy", policy, "--as-of", asOf, "--json"]
            if command == "apply" { args += ["--author", "records@example.com"] }
            let out = try cli.run(args)
            guard out.status == 0 else {
                throw LedgerFixture.FixtureError(message: "retention \(command) failed (\(out.status)): \(out.stderr)")
            }
            return parseJSONLine(out.text)
        }

        static func blobs(_ plan: [String: Any], _ key: String) -> [String] {
            (plan[key] as? [[String: Any]] ?? []).map { $0["blob"] as! String }
        }

        static func holds(_ plan: [String: Any]) -> [String: [String]] {
            var out: [String: [String]] = [:]
            for item in plan["withheld"] as? [[String: Any]] ?? [] {
                out[item["blob"] as! String] = item["holds"] as? [String] ?? []
            }
            return out
        }

        func treeSize() throws -> Int {
            parseJSONLine(try cli.ok("checkpoint", "--json").text)["size"] as? Int ?? -1
        }

        /// The ledger's data file: its bytes and modification time.
        func dataFile() throws -> (Data, Int) {
            let path = cli.ledger + "/data.mdb"
            var st = stat()
            guard stat(path, &st) == 0 else { throw LedgerFixture.FixtureError(message: "no \(path)") }
            return (
                try Data(contentsOf: URL(fileURLWithPath: path)), st.st_mtim.tv_sec * 1_000_000_000 + st.st_mtim.tv_nsec
            )
        }
    }

    @Test("plan lists exactly what apply erases; apply is idempotent; fsck is clean and earlier proofs verify")
    func planThenApply() throws {
        let w = try World()
        let a = try w.blob("Rename customer Jane Q. Example in the invoices")
        let b = try w.blob("A recent prompt")
        let c = try w.blob("diff --git a/x b/x")
        let d = try w.blob("A prompt a review also attaches")
        try w.append(World.checkpoint(id: "cp-1", at: "2019-01-10T09:00:00Z", prompt: a, rawOutput: c))
        try w.append(World.checkpoint(id: "cp-2", at: "2020-06-01T09:00:00Z", prompt: b))
        try w.append(World.modelCall(request: "req-1", at: "2019-01-10T08:59:59Z", output: c))
        try w.append(World.checkpoint(id: "cp-3", at: "2019-02-01T09:00:00Z", prompt: d))
        try w.append(
            #"{"type":"review","schema":1,"subject":"cp-3","reviewer":"bob@example.com","decision":"approved","#
                + #""at":"2019-02-02T09:00:00Z","x_attachment":\#(d)}"#)
        let policy = try w.policy(
            [
                World.rule("prompts-1y", "checkpoint", "prompt", "P1Y"),
                World.rule("outputs-1y", "checkpoint", "raw_output", "P1Y"),
                World.rule("calls-3y", "model-call", "output", "P3Y"),
            ].joined(separator: ","))

        // Proofs and the data file before anything is erased.
        let oldSize = try w.treeSize()
        let oldCheckpoint = try w.f.dir.write("old.checkpoint", try w.cli.ok("checkpoint").stdout)
        let proof = try w.f.dir.write("p0.txt", try w.cli.ok("prove", "inclusion", "0").stdout)
        let entry = try w.f.dir.write("e0.json", try w.cli.ok("get", "0", "--raw").stdout)
        let before = try w.dataFile()

        let plan = try w.retention("plan", policy: policy, asOf: "2021-01-01T00:00:00Z")
        // a is due (cp-1's prompt, 2020-01-10); b is not (2021-06-01): not listed at all; c is due for cp-1 but
        // not for the model call (2022-01-10); d is due but a review's extension member references it.
        #expect(World.blobs(plan, "erase") == [World.address(a)])
        #expect(World.blobs(plan, "withheld") == [World.address(c), World.address(d)])
        let withheld = plan["withheld"] as? [[String: Any]] ?? []
        #expect(
            (withheld.first?["because"] as? [String])?.first?.contains("due under rule calls-3y only at 2022-01-10")
                == true)
        #expect((withheld.last?["because"] as? [String])?.first?.contains("(review) references it") == true)
        let erase = (plan["erase"] as? [[String: Any]])?.first
        #expect(erase?["reason"] as? String == "retention policy prompts-1y: checkpoint prompt older than P1Y")
        // Reads never write: the data file is the same bytes, untouched.
        let after = try w.dataFile()
        #expect(after.0 == before.0 && after.1 == before.1, "retention plan wrote to the ledger")
        #expect(try w.treeSize() == oldSize)
        // The text form says the same.
        let text = try w.cli.ok("retention", "plan", "--policy", policy, "--as-of", "2021-01-01T00:00:00Z").text
        #expect(text.contains("1 blob(s) to erase, 2 withheld"))
        #expect(text.contains("erase \(World.address(a))"))

        let applied = try w.retention("apply", policy: policy, asOf: "2021-01-01T00:00:00Z")
        #expect(World.blobs(applied, "erase") == World.blobs(plan, "erase"))
        #expect(applied["appended"] as? Int == 1)
        #expect(try w.treeSize() == oldSize + 1)
        let gone = try w.cli.run("blob", "get", World.address(a))
        #expect(gone.status == 66 && gone.stderr.contains("retention policy prompts-1y"))
        for kept in [b, c, d] { try w.cli.ok("blob", "get", World.address(kept)) }
        let erasure = parseJSONLine(try w.cli.ok("get", String(oldSize)).text)
        #expect(erasure["type"] as? String == "erasure" && erasure["author"] as? String == "records@example.com")

        // Idempotent: a second run erases nothing and appends nothing.
        let again = try w.retention("apply", policy: policy, asOf: "2021-01-01T00:00:00Z")
        #expect(World.blobs(again, "erase") == [] && again["appended"] as? Int == 0)
        #expect(again["already_erased"] as? [String] == [World.address(a)])
        #expect(try w.treeSize() == oldSize + 1)

        // Later, c is due for both records that reference it.
        let later = try w.retention("apply", policy: policy, asOf: "2022-02-01T00:00:00Z")
        // In the log order of their first reference: c (entry 0), then b (entry 1).
        #expect(World.blobs(later, "erase") == [World.address(c), World.address(b)])
        let reason = (later["erase"] as? [[String: Any]])?.first?["reason"] as? String
        #expect(
            reason
                == "retention policy outputs-1y: checkpoint raw_output older than P1Y; calls-3y: model-call output "
                + "older than P3Y")
        #expect(World.blobs(later, "withheld") == [World.address(d)])

        // fsck is clean; the proofs made before still verify, and the log grew consistently.
        try w.cli.ok("fsck")
        try w.cli.ok("verify", "inclusion", "--vkey", w.f.vkeyFile, "--proof", proof, "--entry", entry)
        let consistency = try w.f.dir.write(
            "c.txt", try w.cli.ok("prove", "consistency", "--old", String(oldSize)).stdout)
        try w.cli.ok("verify", "consistency", "--vkey", w.f.vkeyFile, "--old", oldCheckpoint, "--proof", consistency)
    }

    @Test("Holds on a subject, a repository and a time range withhold what is in scope; their release lets it go")
    func legalHolds() throws {
        let w = try World()
        let (repoA, repoB) = (RetentionCLITests.repoA, RetentionCLITests.repoB)
        let a = try w.blob("prompt one")
        let b = try w.blob("prompt two")
        let e = try w.blob("prompt three")
        let m = try w.blob("the provider's output for cp-a's request")
        let z = try w.blob("the provider's output for another request")
        let request = #""request_id":"req-a","#
        try w.append(World.checkpoint(id: "cp-a", at: "2019-01-10T09:00:00Z", repo: repoA, prompt: a, extra: request))
        try w.append(World.checkpoint(id: "cp-b", at: "2019-03-01T09:00:00Z", repo: repoB, prompt: b))
        try w.append(World.checkpoint(id: "cp-e", at: "2019-08-01T09:00:00Z", repo: repoB, prompt: e))
        try w.append(World.modelCall(request: "req-a", at: "2019-01-10T08:59:00Z", output: m))
        try w.append(World.modelCall(request: "req-z", at: "2019-01-10T08:59:00Z", output: z))
        let policy = try w.policy(
            World.rule("prompts-1y", "checkpoint", "prompt", "P1Y") + ","
                + World.rule("calls-1y", "model-call", "output", "P1Y"))
        let asOf = "2021-01-01T00:00:00Z"
        let (addressA, addressB, addressE) = (World.address(a), World.address(b), World.address(e))
        let (addressM, addressZ) = (World.address(m), World.address(z))
        #expect(
            World.blobs(try w.retention("plan", policy: policy, asOf: asOf), "erase")
                == [addressA, addressB, addressE, addressM, addressZ])

        // A subject holds the checkpoint and the model calls of its request id.
        try w.append(World.hold("H1", #""subject":"cp-a""#))
        // Both members must match: repository B from 2019-07-01 on holds cp-e, not cp-b (nor any model call).
        try w.append(World.hold("H2", #""repository":"\#(repoB)","from":"2019-07-01T00:00:00Z""#))
        try w.append(World.hold("H3", #""from":"2019-02-01T00:00:00Z","until":"2019-03-01T09:00:00Z""#))
        var plan = try w.retention("plan", policy: policy, asOf: asOf)
        #expect(World.blobs(plan, "erase") == [addressZ])
        #expect(World.holds(plan) == [addressA: ["H1"], addressB: ["H3"], addressE: ["H2"], addressM: ["H1"]])
        #expect((plan["holds"] as? [[String: Any]])?.map { $0["hold"] as! String } == ["H1", "H2", "H3"])
        // Apply erases only what no hold holds.
        let first = try w.retention("apply", policy: policy, asOf: asOf)
        #expect(World.blobs(first, "erase") == [addressZ] && first["appended"] as? Int == 1)
        for held in [addressA, addressB, addressE, addressM] { try w.cli.ok("blob", "get", held) }

        try w.append(World.release("H1"))
        try w.append(World.release("H3"))
        try w.append(World.release("H9"))
        plan = try w.retention("plan", policy: policy, asOf: asOf)
        #expect(World.blobs(plan, "erase") == [addressA, addressB, addressM])
        #expect(World.holds(plan) == [addressE: ["H2"]])
        #expect((plan["unmatched_releases"] as? [[String: Any]])?.map { $0["hold"] as! String } == ["H9"])
        let applied = try w.retention("apply", policy: policy, asOf: asOf)
        #expect(World.blobs(applied, "erase") == [addressA, addressB, addressM] && applied["appended"] as? Int == 3)
        #expect(try w.cli.run("blob", "get", addressA).status == 66)
        try w.cli.ok("blob", "get", addressE)
        // A hold placed again under a released id holds again.
        try w.append(World.hold("H1", #""subject":"cp-e""#))
        try w.append(World.release("H2"))
        #expect(World.holds(try w.retention("plan", policy: policy, asOf: asOf)) == [addressE: ["H1"]])
        // The hold is in the checkpoint's history.
        #expect(try w.cli.ok("show", "cp-e", "--history").text.contains("hold H1 placed on subject cp-e"))
        try w.cli.ok("fsck")
    }

    @Test("Records are read as logged: a blob a correction replaced is erased by its rule; one a patch brought is kept")
    func corrections() throws {
        let w = try World()
        let original = try w.blob("the prompt as first logged")
        let replacement = try w.blob("the prompt a correction put in its place")
        let placed = try w.cli.ok(
            "append", stdin: World.checkpoint(id: "cp-x", at: "2019-01-10T09:00:00Z", prompt: original) + "\n")
        let digest = try #require(parseJSONLine(placed.text)["digest"] as? String)
        try w.append(
            #"{"type":"correction","schema":1,"corrects":"\#(digest)","author":"alice@example.com","#
                + #""reason":"the prompt was another one","patch":{"prompt":\#(replacement)}}"#)
        let policy = try w.policy(World.rule("prompts-1y", "checkpoint", "prompt", "P1Y"))
        let plan = try w.retention("plan", policy: policy, asOf: "2021-01-01T00:00:00Z")
        // The checkpoint as logged names the original: due. The replacement is named only by the correction's patch
        // (and the checkpoint as corrected), which no rule covers: never due, so not listed.
        #expect(World.blobs(plan, "erase") == [World.address(original)])
        #expect(World.blobs(plan, "withheld") == [])
        let applied = try w.retention("apply", policy: policy, asOf: "2021-01-01T00:00:00Z")
        #expect(applied["appended"] as? Int == 1)
        try w.cli.ok("blob", "get", World.address(replacement))
        #expect(try w.cli.run("blob", "get", World.address(original)).status == 66)
        #expect(try w.cli.ok("show", "cp-x").text.contains(World.address(replacement)))
        try w.cli.ok("fsck")
    }

    @Test("Malformed legal holds are refused with the member at fault, and nothing is written")
    func badHolds() throws {
        let w = try World()
        try w.append(World.checkpoint(id: "cp-a", at: "2019-01-10T09:00:00Z", prompt: #""inline""#))
        let cases: [(String, String)] = [
            (
                #"{"type":"legal-hold","schema":1,"hold":"H","action":"place","reason":"r","at":"2026-12-01T00:00:00Z","author":"l"}"#,
                #"$: expected at least one of "subject" or "repository" or "from" or "until""#
            ),
            (
                #"{"type":"legal-hold","schema":1,"hold":"H","action":"release","subject":"cp-a","reason":"r","at":"2026-12-01T00:00:00Z","author":"l"}"#,
                "$.subject: a release names only the hold"
            ),
            (World.hold("H", #""subject":"cp-zz""#), "no checkpoint cp-zz"),
            (
                World.hold("H", #""from":"2026-01-02T00:00:00Z","until":"2026-01-01T00:00:00Z""#),
                #"$.until: expected a time not before "from""#
            ),
        ]
        for (record, message) in cases {
            let out = try w.cli.run(["append"], stdin: Array((record + "\n").utf8))
            #expect(out.status == 65, "\(record)")
            #expect(out.stderr.contains(message), "\(out.stderr)")
        }
        #expect(try w.treeSize() == 1)
        // A correction cannot move a hold's scope.
        let placed = try w.cli.ok("append", stdin: World.hold("H", #""subject":"cp-a""#) + "\n")
        let digest = try #require(parseJSONLine(placed.text)["digest"] as? String)
        let correction =
            #"{"type":"correction","schema":1,"corrects":"\#(digest)","author":"l","reason":"wrong scope","#
            + #""patch":{"subject":null,"repository":"x"}}"#
        let out = try w.cli.run(["append"], stdin: Array((correction + "\n").utf8))
        #expect(out.status == 65 && out.stderr.contains("cannot change which hold"), "\(out.stderr)")
    }

    @Test("A bad policy file is refused with its line and member (exit 65); a missing one is 66")
    func badPolicies() throws {
        let w = try World()
        let cases: [(String, String)] = [
            ("{\n  \"rules\": []\n}\n", #":1: $: "format" is missing"#),
            ("{\"format\": \"cairn-retention/2\", \"rules\": []}", #":1: $.format: expected "cairn-retention/1""#),
            ("{\"format\": \"cairn-retention/1\",\n \"rules\": [\n  ]\n,}", ":4: $: not JSON"),
            (
                "{\"format\": \"cairn-retention/1\",\n \"rules\": [\n  {\"name\": \"a\", \"record_type\": \"checkpoint\","
                    + "\n   \"payload\": \"prompt\",\n   \"erase_after\": \"3 years\"}]}",
                #":5: $.rules[0].erase_after: expected an ISO 8601 period"#
            ),
            (
                "{\"format\": \"cairn-retention/1\", \"rules\": [\n"
                    + World.rule("a", "review", "prompt", "P1Y") + "]}",
                #":2: $.rules[0].record_type: expected one of "checkpoint", "model-call""#
            ),
            (
                "{\"format\": \"cairn-retention/1\", \"rules\": [\n"
                    + World.rule("a", "model-call", "raw_output", "P1Y") + "]}",
                #":2: $.rules[0].payload: a model-call has no payload "raw_output""#
            ),
            (
                "{\"format\": \"cairn-retention/1\", \"rules\": [\n" + World.rule("a", "checkpoint", "prompt", "P1Y")
                    + ",\n" + World.rule("a", "checkpoint", "turns", "P1Y") + "]}",
                #":3: $.rules[1].name: rule "a" is already defined on line 2"#
            ),
            (
                "{\"format\": \"cairn-retention/1\", \"rules\": [\n" + World.rule("a", "checkpoint", "prompt", "P1Y")
                    + ",\n" + World.rule("b", "checkpoint", "prompt", "P2Y") + "]}",
                #":3: $.rules[1]: rule "b" names checkpoint prompt again"#
            ),
            (
                "{\"format\": \"cairn-retention/1\", \"rules\": [{\"name\": \"a\",\n \"keep\": true}]}",
                ":2: $.rules[0].keep: unknown member"
            ),
            (
                "{\"format\": \"cairn-retention/1\", \"rules\": [{\"name\": \"a\"}]}",
                #":1: $.rules[0]: "record_type" is missing"#
            ),
            ("[]", ":1: $: expected a JSON object"),
        ]
        for (text, message) in cases {
            let file = try w.f.dir.write("policy-\(UUID().uuidString).json", text)
            for command in ["plan", "apply"] {
                let out = try w.cli.run("retention", command, "--policy", file)
                #expect(out.status == 65, "\(command) \(text)")
                #expect(out.stderr.contains(file + message), "\(out.stderr)")
            }
        }
        // Without --policy, retention.json in the ledger directory; none there is "not found".
        let missing = try w.cli.run("retention", "plan")
        #expect(missing.status == 66 && missing.stderr.contains("retention.json"))
        _ = try w.f.dir.write("ledger/retention.json", #"{"format":"cairn-retention/1","rules":[]}"#)
        #expect(try w.cli.ok("retention", "plan").text.contains("0 blob(s) to erase"))
        let badTime = try w.cli.run("retention", "plan", "--as-of", "2021-01-01")
        #expect(badTime.status == 64)
        // plan may look ahead; apply erases only what is due now, and says so.
        try w.cli.ok("retention", "plan", "--as-of", "9999-01-01T00:00:00Z")
        let ahead = try w.cli.run("retention", "apply", "--as-of", "9999-01-01T00:00:00Z")
        #expect(ahead.status == 64 && ahead.stderr.contains("in the future"), "\(ahead.stderr)")
    }
}
