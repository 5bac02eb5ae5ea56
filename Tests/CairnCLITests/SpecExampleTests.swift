import CairnTestSupport
import Foundation
import Testing

/// The worked example in specs/proofs.md is reproduced here byte for byte, so the spec cannot
/// drift from what the code emits.
@Suite("specs/proofs.md worked example")
struct SpecExampleTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    @Test("The checkpoint, inclusion proof and consistency proof in specs/proofs.md are what cairn prints")
    func workedExample() throws {
        let spec = try String(contentsOf: Self.repository.appendingPathComponent("specs/proofs.md"), encoding: .utf8)
        let dir = try TemporaryDirectory()
        // The Ed25519 key with seed 32 × 0x01, as given in the spec.
        let key = try dir.write(
            "key.pem",
            "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIAEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEB\n-----END PRIVATE KEY-----\n"
        )
        let cli = CLI(ledger: dir.file("example-ledger"))
        let vkey = try cli.ok(
            "init", "--origin", "example.com/cairn-demo", "--profile", "generic", "--signing-key", key
        ).text
        #expect(spec.contains("# " + vkey))
        try cli.ok("append", stdin: "{\"type\":\"note\",\"text\":\"one\"}\n{\"type\":\"note\",\"text\":\"two\"}\n")
        let checkpoint = try cli.ok("checkpoint").text
        try cli.ok("append", stdin: "{\"type\":\"note\",\"text\":\"three\"}\n")
        #expect(try cli.ok("checkpoint", "--size", "2").text == checkpoint)
        try cli.ok("append", stdin: "{\"type\":\"note\",\"text\":\"four\"}\n{\"type\":\"note\",\"text\":\"five\"}\n")
        let inclusion = try cli.ok("prove", "inclusion", "2").text
        let consistency = try cli.ok("prove", "consistency", "--old", "2").text
        for (name, output) in [
            ("checkpoint", checkpoint), ("inclusion proof", inclusion), ("consistency proof", consistency),
        ] {
            #expect(
                spec.contains("```\n" + output + "```\n"),
                "specs/proofs.md does not show the current \(name):\n\(output)")
        }
        #expect(try cli.ok("get", "2", "--raw").text == #"{"text":"three","type":"note"}"#)
        let leafHash = parseJSONLine(try cli.ok("get", "2", "--json").text)["leaf_hash"] as? String
        #expect(spec.contains("leaf hash `\(leafHash ?? "?")`"))
    }
}
