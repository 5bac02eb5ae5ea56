import CairnTestSupport
import Foundation
import Testing

/// `cairn witness serve` running as a separate process, stopped (SIGTERM) when dropped.
final class WitnessProcess: @unchecked Sendable {
    let process = Process()
    /// The submission prefix, `http://127.0.0.1:PORT`.
    let url: String
    let stderrPath: String

    init(_ args: [String], dir: TemporaryDirectory, label: String) throws {
        stderrPath = dir.file("\(label).stderr")
        FileManager.default.createFile(atPath: stderrPath, contents: nil)
        process.executableURL = URL(fileURLWithPath: CLI.binary)
        process.arguments = args
        let out = Pipe()
        process.standardOutput = out
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: stderrPath))
        try process.run()
        // The first stdout line: "listening on http://127.0.0.1:PORT as <vkey> (following …)".
        var data = Data()
        while !data.contains(0x0A) {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            data.append(chunk)
        }
        let line = String(decoding: data, as: UTF8.self)
        guard let start = line.range(of: "listening on "), let end = line.range(of: " as ") else {
            let stderr = (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? ""
            throw LedgerFixture.FixtureError(message: "cairn witness serve did not start: \(line) \(stderr)")
        }
        url = String(line[start.upperBound..<end.lowerBound])
    }

    /// Stops the witness with SIGTERM and returns its exit status.
    @discardableResult
    func stop() -> Int32 {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        return process.terminationStatus
    }

    deinit { stop() }
}

/// The witness commands end to end: `cairn witness init`, two `cairn witness serve` processes,
/// `cairn witness cosign`, and `cairn verify … --policy`.
@Suite("cairn witness and cairn verify --policy")
struct WitnessCLITests {
    @Test(
        "Two witnesses cosign through the CLI; verify --policy passes with 2 of 2 and fails with 1 of 2",
        .timeLimit(.minutes(3)))
    func twoOfTwoThroughTheCLI() throws {
        let f = try LedgerFixture()
        try f.cli.ok("append", stdin: (0..<3).map { "{\"n\":\($0)}" }.joined(separator: "\n"))

        // Two witnesses: the bare vkey, and the JSON form.
        let init1 = try f.cli.ok("witness", "init", "--name", "witness.example/w1", "--dir", f.dir.file("w1"))
        let vkey1 = init1.text.trimmingCharacters(in: .newlines)
        #expect(vkey1.hasPrefix("witness.example/w1+"))
        let mode = try FileManager.default.attributesOfItem(atPath: f.dir.file("w1/witness-key.pem"))[.posixPermissions]
        #expect(mode as? Int == 0o600)
        let init2 = try f.cli.ok("witness", "init", "--name", "witness.example/w2", "--dir", f.dir.file("w2"), "--json")
        let vkey2 = try #require(parseJSONLine(init2.text)["vkey"] as? String)
        #expect(try f.cli.run("witness", "init", "--name", "x.example", "--dir", f.dir.file("w1")).status == 73)

        let w1 = try WitnessProcess(
            ["witness", "serve", "--dir", f.dir.file("w1"), "--listen", "127.0.0.1:0", "--log", f.vkeyFile],
            dir: f.dir, label: "w1")
        let w2 = try WitnessProcess(
            ["witness", "serve", "--dir", f.dir.file("w2"), "--listen", "127.0.0.1:0", "--log", f.vkey],
            dir: f.dir, label: "w2")

        let policy = try f.dir.write(
            "witnesses.policy",
            """
            # The ledger, and two witnesses that must both cosign.
            log \(f.vkey)
            witness W1 \(vkey1) \(w1.url)
            witness W2 \(vkey2) \(w2.url)
            group both 2 W1 W2
            quorum both

            """)
        let cosign = try f.cli.ok("witness", "cosign", "--policy", policy)
        #expect(cosign.lines.count == 2)
        #expect(cosign.lines[0].hasPrefix("W1: cosigned size 3 at "))
        #expect(cosign.lines[1].hasPrefix("W2: cosigned size 3 at "))

        // 2 of 2: the checkpoint and an inclusion proof verify with only the policy (no --vkey).
        let checkpoint = try f.dir.write("cp3", try f.cli.ok("checkpoint").stdout)
        let valid = try f.cli.ok("verify", "checkpoint", "--policy", policy, checkpoint)
        #expect(valid.text.hasPrefix("valid: checkpoint of example.com/cairn-test at size 3, root "))
        #expect(valid.text.hasSuffix("; quorum both met, cosigned by W1, W2\n"))
        // Plain verification still works and ignores the cosignatures.
        try f.cli.ok("verify", "checkpoint", "--vkey", f.vkeyFile, checkpoint)
        let proof = try f.dir.write("proof", try f.cli.ok("prove", "inclusion", "1").stdout)
        let entry = try f.dir.write("entry", try f.cli.ok("get", "1", "--raw").stdout)
        let inclusion = try f.cli.ok("verify", "inclusion", "--policy", policy, "--proof", proof, "--entry", entry)
        #expect(inclusion.text.contains("is entry 1 of example.com/cairn-test at size 3; quorum both met"))
        let json = parseJSONLine(
            try f.cli.ok("verify", "checkpoint", "--policy", policy, "--json", checkpoint).text)
        #expect(json["valid"] as? Bool == true)
        let details = try #require(json["policy"] as? [String: Any])
        #expect((details["cosignatures"] as? [[String: Any]])?.compactMap { $0["witness"] as? String } == ["W1", "W2"])
        #expect(try f.cli.ok("fsck").status == 0)  // cosigned checkpoints pass fsck

        // 1 of 2: the second witness goes away; the next checkpoint gets one cosignature.
        #expect(w2.stop() == 0)  // SIGTERM is a graceful shutdown
        try f.cli.ok("append", stdin: "{\"n\":3}")
        let partial = try f.cli.run("witness", "cosign", "--policy", policy, "--timeout", "5")
        #expect(partial.status == 1)
        #expect(partial.lines.first?.hasPrefix("W1: cosigned size 4 at ") == true)
        #expect(partial.lines.last?.hasPrefix("W2: failed: ") == true)
        #expect(partial.stderr.hasSuffix("invalid: quorum not met: group both needs 2 cosignatures, has 1 (W1)\n"))

        let checkpoint4 = try f.dir.write("cp4", try f.cli.ok("checkpoint").stdout)
        let refused = try f.cli.run("verify", "checkpoint", "--policy", policy, checkpoint4)
        #expect(refused.status == 1)
        #expect(refused.stderr == "invalid: quorum not met: group both needs 2 cosignatures, has 1 (W1)\n")
        let refusedJSON = try f.cli.run("verify", "checkpoint", "--policy", policy, "--json", checkpoint4)
        #expect(refusedJSON.status == 1)
        #expect(parseJSONLine(refusedJSON.text)["code"] as? String == "quorumNotMet")
        let proof4 = try f.dir.write("proof4", try f.cli.ok("prove", "inclusion", "1").stdout)
        let refusedInclusion = try f.cli.run(
            "verify", "inclusion", "--policy", policy, "--proof", proof4, "--entry", entry)
        #expect(refusedInclusion.status == 1)
        #expect(refusedInclusion.stderr.contains("quorum not met: group both needs 2 cosignatures, has 1 (W1)"))
        let consistency = try f.dir.write("c", try f.cli.ok("prove", "consistency", "--old", "3").stdout)
        let refusedConsistency = try f.cli.run(
            "verify", "consistency", "--policy", policy, "--old", checkpoint, "--proof", consistency)
        #expect(refusedConsistency.status == 1)
        #expect(refusedConsistency.stderr.contains("quorum not met"))

        // The same files meet a 1-of-2 policy; --vkey supplies the log when the policy has none.
        let anyPolicy = try f.dir.write(
            "any.policy", "witness W1 \(vkey1)\nwitness W2 \(vkey2)\ngroup either any W1 W2\nquorum either\n")
        let either = try f.cli.ok(
            "verify", "consistency", "--policy", anyPolicy, "--vkey", f.vkeyFile, "--old", checkpoint, "--proof",
            consistency)
        #expect(
            either.text
                == "valid: example.com/cairn-test grew consistently from size 3 to 4; quorum either met, cosigned by W1\n"
        )
        let noLog = try f.cli.run("verify", "checkpoint", "--policy", anyPolicy, checkpoint4)
        #expect(noLog.status == 1)
        #expect(noLog.stderr.contains("is not one of the policy's logs (logs: none)"))
        #expect(w1.stop() == 0)
    }

    @Test("verify: --vkey or --policy is required; a malformed policy is a usage error naming its line")
    func policyUsageErrors() throws {
        let f = try LedgerFixture()
        let checkpoint = try f.dir.write("cp", try f.cli.ok("checkpoint").stdout)
        let neither = try f.cli.run("verify", "checkpoint", checkpoint)
        #expect(neither.status == 64)
        #expect(neither.stderr.contains("--vkey"))
        let bad = try f.dir.write("bad.policy", "log \(f.vkey)\nwitness W1 \(f.vkey)\nquorum W1\n")
        let malformed = try f.cli.run("verify", "checkpoint", "--policy", bad, checkpoint)
        #expect(malformed.status == 64)
        #expect(malformed.stderr.contains("--policy \(bad): line 2: witness W1: key example.com/cairn-test+"))
        let missing = try f.cli.run("verify", "checkpoint", "--policy", f.dir.file("nope"), checkpoint)
        #expect(missing.status == 66)
        // quorum none: only the log signature is needed.
        let none = try f.dir.write("none.policy", "log \(f.vkey)\nquorum none\n")
        let ok = try f.cli.ok("verify", "checkpoint", "--policy", none, checkpoint)
        #expect(ok.text.hasSuffix("; quorum none met\n"))
        // Without --policy, behaviour is unchanged.
        #expect(try f.cli.ok("verify", "checkpoint", "--vkey", f.vkey, checkpoint).text.hasPrefix("valid: checkpoint"))
        // witness serve needs a log, and a usable --listen.
        #expect(try f.cli.run("witness", "serve", "--dir", f.dir.path).status == 64)
        #expect(
            try f.cli.run("witness", "serve", "--dir", f.dir.path, "--log", f.vkey, "--listen", "nope").status == 64)
        #expect(try f.cli.run("witness", "serve", "--dir", f.dir.file("none"), "--log", f.vkey).status == 66)
        // A key file with CR LF line ends is read (its keys parse: the run gets as far as the missing
        // --dir); a CR inside a line is still refused.
        let crlf = try f.dir.write("logs-crlf", "# log keys\r\n\(f.vkey)\r\n\r\n")
        let readCRLF = try f.cli.run("witness", "serve", "--dir", f.dir.file("none"), "--log", crlf)
        #expect(readCRLF.status == 66, "\(readCRLF.stderr)")
        let crInside = try f.dir.write("logs-cr", "\(f.vkey)\rjunk\n")
        let refused = try f.cli.run("witness", "serve", "--dir", f.dir.file("none"), "--log", crInside)
        #expect(refused.status == 64 && refused.stderr.contains("line 1"), "\(refused.stderr)")
        // cosign needs witnesses with URLs.
        let noURL = try f.dir.write("nourl.policy", "quorum none\n")
        #expect(try f.cli.run("witness", "cosign", "--policy", noURL).status == 64)
    }
}
