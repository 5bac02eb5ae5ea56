import Foundation
import Testing

/// The auditor's guide shows how to verify a proof with nothing but Python's hashlib and
/// pyca/cryptography (scripts/verify_tlog_proof.py). This runs that independent verifier on
/// proofs issued by the CLI, so the guide and the code cannot drift apart.
@Suite("Verification with the standalone Python verifier")
struct PythonVerifierTests {
    static let python: String? = {
        let out = try? CLI.exec("/usr/bin/env", ["python3", "-c", "import cryptography"])
        return out?.status == 0 ? "/usr/bin/env" : nil
    }()

    static var script: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts/verify_tlog_proof.py").path
    }

    @Test(
        "scripts/verify_tlog_proof.py accepts every proof cairn issues and rejects tampered entries and keys",
        .enabled(if: python != nil || ProcessInfo.processInfo.environment["CAIRN_REQUIRE_INTEROP"] == "1"))
    func pythonVerifies() throws {
        let python = try #require(Self.python, "python3 with pyca/cryptography is required")
        let f = try LedgerFixture()
        // One append per size, so that each size is published.
        var appended = 0
        for size in [1, 2, 5, 16, 37] {
            try f.cli.ok(
                "append",
                stdin: (appended..<size).map { "{\"i\":\($0),\"text\":\"é \\\"quoted\\\"\"}" }.joined(separator: "\n"))
            appended = size
        }
        for size in [1, 2, 5, 16, 37] {
            for index in Set([0, size / 2, size - 1]) {
                let proof = try f.dir.write(
                    "p\(index)-\(size)",
                    try f.cli.ok("prove", "inclusion", String(index), "--size", String(size)).stdout)
                let entry = try f.dir.write("e\(index)", try f.cli.ok("get", String(index), "--raw").stdout)
                let out = try CLI.exec(python, ["python3", Self.script, f.vkeyFile, proof, entry])
                #expect(out.status == 0, "index \(index) size \(size): \(out.stderr)")
                #expect(out.text == "valid: entry \(index) is in example.com/cairn-test at size \(size)\n")
            }
        }
        let proof = try f.dir.write("p", try f.cli.ok("prove", "inclusion", "3").stdout)
        let wrong = try f.dir.write("wrong", try f.cli.ok("get", "4", "--raw").stdout)
        let tampered = try CLI.exec(python, ["python3", Self.script, f.vkeyFile, proof, wrong])
        #expect(tampered.status == 1)
        #expect(tampered.stderr.hasPrefix("invalid: root mismatch"))
        let other = try LedgerFixture()
        let right = try f.dir.write("right", try f.cli.ok("get", "3", "--raw").stdout)
        let wrongKey = try CLI.exec(python, ["python3", Self.script, other.vkey, proof, right])
        #expect(wrongKey.status == 1)
        #expect(wrongKey.stderr.hasPrefix("invalid: wrong key"))
    }
}
