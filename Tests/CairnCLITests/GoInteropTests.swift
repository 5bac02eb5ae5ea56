import CairnTestSupport
import Foundation
import Testing

/// Checks Cairn's checkpoints and proofs with Go's golang.org/x/mod/sumdb/note and sumdb/tlog,
/// an independent implementation (Tests/Interop/verify_with_go.go).
/// Checkpoints across key rotations and the key history: `GoKeyRotationInteropTests`.
///
/// Skipped with a message when Go or golang.org/x/mod is not installed (`make interop-deps`
/// installs them); CI sets CAIRN_REQUIRE_INTEROP=1, which turns the skip into a failure.
@Suite("Interop with Go's sumdb/note and sumdb/tlog")
struct GoInteropTests {
    static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
    }

    @Test("A 1,000-record ledger built through the CLI verifies with Go: checkpoints, inclusion and consistency proofs")
    func goVerifiesLedger() throws {
        guard let go = GoToolchain.binaryOrSkip("Go interop test") else { return }

        let f = try LedgerFixture(origin: "example.com/cairn-interop")
        let out = try TemporaryDirectory()
        _ = try out.write("vkey", f.vkey + "\n")

        // Records already in canonical form (sorted keys, no whitespace), so the entry bytes are
        // exactly these lines and Go can hash them without a JCS implementation.
        var entries: [String] = []
        var appended = ""
        var committedSizes: [Int] = []
        // Commits end at these sizes, so each has a published checkpoint: the sizes the proofs below
        // are given for (reads never sign a checkpoint for a size inside a commit).
        let ends = [1, 3, 4, 6, 12, 20, 33, 54, 88, 143, 232, 377, 500, 512, 754, 985, 999, 1000]
        let batches = zip(ends, [0] + ends.dropLast()).map { $0 - $1 }  // 1,000 in all
        for size in batches {
            let batch = (0..<size).map { i -> String in
                let n = entries.count + i
                return "{\"model\":\"m-\(n % 7)\",\"n\":\(n),\"text\":\"record \(n) \\u00e9\\n\"}"
            }
            let result = try f.cli.ok("append", stdin: batch.joined(separator: "\n"))
            appended += result.text
            entries += batch
            committedSizes.append(entries.count)
        }
        #expect(entries.count == 1000)
        // The JSON text above writes é as an escape; the canonical form holds the UTF-8 bytes.
        let canonical = entries.map { $0.replacingOccurrences(of: "\\u00e9", with: "é") }
        _ = try out.write("entries.jsonl", canonical.joined(separator: "\n") + "\n")
        _ = try out.write("appended.jsonl", appended)

        // Checkpoints: every committed size.
        for size in committedSizes {
            _ = try out.write("checkpoints/\(size)", try f.cli.ok("checkpoint", "--size", String(size)).stdout)
        }
        // Inclusion proofs at several sizes, including the edges of the tree.
        let indexes = [0, 1, 2, 3, 7, 8, 63, 64, 127, 128, 255, 256, 333, 511, 512, 767, 998, 999]
        for size in [1000, 512, 999, 377] {
            for index in indexes where index < size {
                let proof = try f.cli.ok("prove", "inclusion", String(index), "--size", String(size))
                _ = try out.write("inclusion/\(index)-\(size).proof", proof.stdout)
            }
        }
        // Consistency proofs between committed and arbitrary sizes.
        for (old, new) in [
            (1, 1000), (3, 6), (6, 1000), (12, 20), (500, 1000), (511, 512), (512, 999), (999, 1000), (600, 985),
        ] {
            let proof = try f.cli.ok("prove", "consistency", "--old", String(old), "--size", String(new))
            _ = try out.write("consistency/\(old)-\(new).proof", proof.stdout)
        }

        let gocache = try TemporaryDirectory()
        let result = try CLI.exec(
            go, ["run", Self.repositoryRoot.appendingPathComponent("Tests/Interop/verify_with_go.go").path, out.path],
            environment: GoToolchain.environment(cache: gocache.path))
        #expect(result.status == 0, "Go verifier failed:\n\(result.stderr)\n\(result.text)")
        #expect(result.text.contains("go-verify: ok: 1000 entries"), "\(result.text)")
        print(result.text)
    }
    @Test(
        "A sum.golang.org-style log made by Go (origin \"go.sum database tree\", key sumdb.example) verifies with --origin"
    )
    func goSumdbOrigin() throws {
        guard let go = GoToolchain.binaryOrSkip("Go interop test") else { return }
        let out = try TemporaryDirectory()
        let gocache = try TemporaryDirectory()
        let made = try CLI.exec(
            go, ["run", Self.repositoryRoot.appendingPathComponent("Tests/Interop/sumdb_log.go").path, out.path],
            environment: GoToolchain.environment(cache: gocache.path))
        try #require(made.status == 0, "sumdb_log.go failed:\n\(made.stderr)")
        let vkey = out.file("vkey")
        let origin = "go.sum database tree"
        func cairn(_ arguments: String...) throws -> CLI.Output {
            try CLI.exec(CLI.binary, arguments, directory: out.path)
        }

        // Without --origin the origin must be the key's name, and it is not.
        let plain = try cairn("verify", "checkpoint", "--vkey", vkey, "checkpoint-5")
        #expect(plain.status == 1)
        #expect(plain.stderr.contains(#"origin "go.sum database tree" does not match"#), "\(plain.stderr)")
        #expect(plain.stderr.contains("--origin"), "the message says how to verify such a log: \(plain.stderr)")

        let checkpoint = try cairn("verify", "checkpoint", "--vkey", vkey, "--origin", origin, "checkpoint-5")
        #expect(checkpoint.status == 0, "\(checkpoint.stderr)")
        #expect(checkpoint.text.contains("valid: checkpoint of go.sum database tree at size 5"), "\(checkpoint.text)")
        let inclusion = try cairn(
            "verify", "inclusion", "--vkey", vkey, "--origin", origin, "--proof", "inclusion-1.proof", "--entry",
            "entry-1", "--raw-entry")
        #expect(inclusion.status == 0, "\(inclusion.stderr)")
        #expect(inclusion.text.contains("is entry 1 of go.sum database tree at size 5"), "\(inclusion.text)")
        let consistency = try cairn(
            "verify", "consistency", "--vkey", vkey, "--origin", origin, "--old", "checkpoint-3", "--proof",
            "consistency-3-5.proof")
        #expect(consistency.status == 0, "\(consistency.stderr)")
        #expect(consistency.text.contains("grew consistently from size 3 to 5"), "\(consistency.text)")

        // The same under a policy whose log line is Go's key.
        _ = try out.write(
            "sumdb.policy", "log " + (try String(contentsOfFile: vkey, encoding: .utf8)) + "quorum none\n")
        let policy = try cairn("verify", "checkpoint", "--policy", "sumdb.policy", "--origin", origin, "checkpoint-5")
        #expect(policy.status == 0, "\(policy.stderr)")
        #expect(try cairn("verify", "checkpoint", "--policy", "sumdb.policy", "checkpoint-5").status == 1)

        // Another origin, or a look-alike of this one, is refused.
        for wrong in ["go.sum database tree v2", "go.sum database tre\u{E9}", "go.sum database tree "] {
            let refused = try cairn("verify", "checkpoint", "--vkey", vkey, "--origin", wrong, "checkpoint-5")
            #expect(refused.status == 1, "\(wrong): \(refused.text)")
        }
    }
}
