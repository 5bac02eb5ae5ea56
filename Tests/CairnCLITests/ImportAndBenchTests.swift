import CairnTestSupport
import Foundation
import Testing

@Suite("cairn import and cairn bench", .serialized)
struct ImportAndBenchTests {
    func jsonl(_ range: Range<Int>) -> String {
        range.map { "{\"seq\":\($0),\"kind\":\"import\"}" }.joined(separator: "\n") + "\n"
    }

    @Test("import loads a JSON Lines file through the engine and reports a JSON summary; again, all duplicates")
    func importFile() throws {
        let f = try LedgerFixture()
        let file = try f.dir.write("data.jsonl", jsonl(0..<20_000))
        let first = parseJSONLine(try f.cli.ok("import", file, "--json").text)
        #expect(first["records"] as? Int == 20_000)
        #expect(first["appended"] as? Int == 20_000)
        #expect(first["tree_size"] as? Int == 20_000)
        #expect(!FileManager.default.fileExists(atPath: file + ".cairn-import"), "progress file removed on success")
        let second = parseJSONLine(try f.cli.ok("import", file, "--json").text)
        #expect(second["duplicates"] as? Int == 20_000)
        #expect(try f.cli.ok("get", "19999", "--raw").text == #"{"kind":"import","seq":19999}"#)
        #expect(try f.cli.ok("fsck").status == 0)
    }

    @Test("import reads standard input (no size, so no fraction or ETA), also when a record is refused")
    func importStandardInput() throws {
        let f = try LedgerFixture()
        // Standard input has no size: the progress display once computed 0 − bytes read and trapped.
        let first = parseJSONLine(try f.cli.ok("import", "-", "--json", stdin: jsonl(0..<3)).text)
        #expect(first["appended"] as? Int == 3)
        let refused = try f.cli.run("import", "-", stdin: jsonl(3..<5) + #"{"type":"seal"}"# + "\n")
        #expect(refused.status == 65, "\(refused.status): \(refused.stderr)")
        #expect(refused.stderr.contains("seal records are appended only by `cairn seal`"), "\(refused.stderr)")
        #expect(try f.cli.ok("checkpoint").text.split(separator: "\n")[1] == "5")
    }

    @Test(
        "import stops at the first invalid record with its line, keeping the records before it; --skip-invalid goes on")
    func importInvalid() throws {
        let f = try LedgerFixture()
        let file = try f.dir.write("bad.jsonl", jsonl(0..<5000) + "{\"broken\": \n" + jsonl(5000..<6000))
        let out = try f.cli.run("import", file, "--chunk-size", "512")
        #expect(out.status == 65)
        #expect(out.stderr.contains("bad.jsonl:5001:"))
        #expect(out.stderr.contains("the 5000 records before it are in the ledger"))
        #expect(try f.cli.ok("checkpoint").lines[1] == "5000")
        let skipped = try f.cli.run("import", file, "--skip-invalid", "--restart", "--json")
        // Everything valid is in, but the input did not arrive whole: 65, with the summary.
        #expect(skipped.status == 65)
        #expect(skipped.stderr.contains("skipped "))
        #expect(skipped.stderr.hasSuffix("error: 1 invalid record was skipped (listed above)\n"))
        let summary = parseJSONLine(skipped.text)
        #expect(summary["skipped"] as? Int == 1)
        #expect(summary["tree_size"] as? Int == 6000)
    }

    @Test("An interrupted import resumes after the last committed record instead of starting over")
    func importResume() throws {
        let f = try LedgerFixture()
        let total = 150_000
        let file = try f.dir.write("big.jsonl", jsonl(0..<total))
        // Kill the import part-way through.
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CLI.binary)
        process.arguments = ["import", file, "--chunk-size", "1024"]
        process.environment = ProcessInfo.processInfo.environment.merging(["CAIRN_LEDGER": f.cli.ledger]) { $1 }
        process.standardError = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        var progressSeen = false
        for _ in 0..<400 {
            usleep(20_000)
            if FileManager.default.fileExists(atPath: file + ".cairn-import") {
                progressSeen = true
                usleep(100_000)
                break
            }
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        try #require(progressSeen, "the import should have recorded progress before it was killed")
        let before = Int(try f.cli.ok("checkpoint").lines[1])!
        try #require(before < total, "the import finished before it could be interrupted; make the file larger")
        let resumed = try f.cli.run("import", file, "--json")
        #expect(resumed.status == 0)
        #expect(resumed.stderr.contains("resuming \(file) at line"))
        let summary = parseJSONLine(resumed.text)
        #expect(summary["tree_size"] as? Int == total)
        // Only records committed after the last progress update are sent twice.
        #expect((summary["duplicates"] as? Int ?? total) < total / 2)
        #expect(try f.cli.ok("fsck").status == 0)
    }

    @Test("bench ingest and bench proofs run and report figures with the same-run baseline")
    func bench() throws {
        let dir = try TemporaryDirectory()
        let cli = CLI(ledger: dir.file("unused"))
        let ingest = parseJSONLine(
            try cli.ok("bench", "ingest", "--records", "2000", "--directory", dir.path, "--json").text)
        #expect(ingest["records"] as? Int == 2000)
        #expect((ingest["records_per_second"] as? Double ?? 0) > 0)
        #expect((ingest["fraction_of_limit"] as? Double ?? 0) > 0)
        #expect((ingest["baseline"] as? [String: Any])?["limit_records_per_second"] != nil)
        let producers = parseJSONLine(
            try cli.ok(
                "bench", "ingest", "--kind", "raw", "--record-size", "256", "--records", "2000", "--producers", "32",
                "--directory", dir.path, "--json"
            ).text)
        #expect((producers["latency"] as? [String: Any])?["p99_ms"] != nil)
        let proofs = parseJSONLine(
            try cli.ok("bench", "proofs", "--records", "5000", "--samples", "2000", "--directory", dir.path, "--json")
                .text)
        #expect(proofs["leaves"] as? Int == 5000)
        #expect((proofs["inclusion_per_second"] as? Double ?? 0) > 0)
        #expect((proofs["inclusion_verify_per_second"] as? Double ?? 0) > 0)
        #expect(((proofs["full_tree_baseline"] as? [String: Any])?["inclusion_per_second"] as? Double ?? 0) > 0)
        // Nothing is left behind.
        let left = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasPrefix("cairn-bench") }
        #expect(left.isEmpty, "\(left)")
    }
}
