import CairnTestSupport
import Foundation
import Testing

/// The worked example of specs/key-rotation.md §8, reproduced byte for byte, so the spec cannot drift from what
/// the code emits.
@Suite("specs/key-rotation.md worked example")
struct KeyRotationSpecTests {
    static let spec = SpecExampleTests.repository.appendingPathComponent("specs/key-rotation.md")

    /// The ledger of the example: the log of specs/proofs.md, rotated to the key of seed 32 × 0x03.
    static func example(_ dir: TemporaryDirectory) throws -> CLI {
        let key = try dir.write(
            "key.pem",
            "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIAEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEB\n-----END PRIVATE KEY-----\n"
        )
        let next = try dir.write(
            "next-key.pem",
            "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIAMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMD\n-----END PRIVATE KEY-----\n"
        )
        let cli = CLI(ledger: dir.file("example-ledger"))
        try cli.ok("init", "--origin", "example.com/cairn-demo", "--profile", "generic", "--signing-key", key)
        try cli.ok("append", stdin: "{\"type\":\"note\",\"text\":\"one\"}\n{\"type\":\"note\",\"text\":\"two\"}\n")
        try cli.ok("append", stdin: "{\"type\":\"note\",\"text\":\"three\"}\n")
        try cli.ok("append", stdin: "{\"type\":\"note\",\"text\":\"four\"}\n{\"type\":\"note\",\"text\":\"five\"}\n")
        try cli.ok(
            "key", "rotate", "--new-key", next, "--reason", "yearly rotation", "--author", "ops@example.com", "--at",
            "2026-12-01T10:00:00Z")
        return cli
    }

    @Test("The record, checkpoint, key history and verification in the spec are what cairn prints")
    func workedExample() throws {
        let spec = try String(contentsOf: Self.spec, encoding: .utf8)
        let dir = try TemporaryDirectory()
        let cli = try Self.example(dir)
        let vkey = try String(contentsOfFile: cli.ledger + "/ledger.vkey", encoding: .utf8)
        #expect(spec.contains("# " + vkey))
        let entry = try cli.ok("get", "5", "--raw").text
        #expect(spec.contains("```\n" + entry + "\n```\n"), "the spec does not show entry 5:\n\(entry)")
        let checkpoint = try cli.ok("checkpoint").text
        #expect(spec.contains("```\n" + checkpoint + "```\n"), "the spec does not show the checkpoint:\n\(checkpoint)")

        // The indented key history in the spec is the same JSON value as the one cairn prints.
        let history = try cli.ok("key", "history", "--json").stdout
        let block = try #require(
            spec.components(separatedBy: "```json\n").dropFirst().first?.components(separatedBy: "```")[0])
        let shown = try JSONSerialization.jsonObject(with: Data(block.utf8)) as? NSDictionary
        let printed = try JSONSerialization.jsonObject(with: Data(history)) as? NSDictionary
        #expect(shown != nil && shown == printed)

        let historyFile = try dir.write("key-history.json", history)
        let now = try dir.write("now.checkpoint", checkpoint)
        let original = "example.com/cairn-demo+2684b6a0+AYqI4910CfGV/VLbLTy6XXLKZwm/HZQSG/N0iAG0D29c"
        let verified = try cli.ok("verify", "checkpoint", "--vkey", original, "--key-history", historyFile, now).text
        #expect(spec.contains("# " + verified), "the spec does not show the verification:\n\(verified)")
    }
}
