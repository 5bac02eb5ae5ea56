import CairnTestSupport
import Foundation
import Testing

/// Checkpoints of a ledger before, at and after key rotations, and its key history, checked with Go's
/// golang.org/x/mod/sumdb/note and sumdb/tlog and crypto/ed25519 (Tests/Interop/verify_rotation_with_go.go),
/// which share no code with Cairn.
///
/// Skipped with a message when Go or golang.org/x/mod is not installed (`make interop-deps`); CI sets
/// CAIRN_REQUIRE_INTEROP=1, which turns the skip into a failure.
@Suite("Interop with Go: key rotation")
struct GoKeyRotationInteropTests {
    @Test("Go's note verifier accepts the old key before a rotation, both at it, the new key after; the chain verifies")
    func goVerifiesRotations() throws {
        guard let go = GoToolchain.binaryOrSkip("Go key rotation interop test") else { return }
        let f = try LedgerFixture(origin: "example.com/cairn-rotation")
        let out = try TemporaryDirectory()
        var sizes: [Int] = [0]
        var size = 0
        func append(_ count: Int) throws {
            let batch = (0..<count).map { "{\"n\":\(size + $0)}" }.joined(separator: "\n")
            try f.cli.ok("append", stdin: batch)
            size += count
            sizes.append(size)
        }
        func rotate() throws {
            try f.cli.ok("key", "rotate", "--reason", "interop", "--author", "ops@example.com")
            size += 1
            sizes.append(size)
        }
        try append(3)
        try append(2)
        try rotate()  // size 6: the original key and the second
        try append(4)
        try rotate()  // size 11: the second key and the third
        try append(1)
        try append(5)
        for size in sizes {
            _ = try out.write("checkpoints/\(size)", try f.cli.ok("checkpoint", "--size", String(size)).stdout)
        }
        _ = try out.write("key-history.json", try f.cli.ok("key", "history", "--json").stdout)
        try f.cli.ok("fsck")

        let gocache = try TemporaryDirectory()
        let result = try CLI.exec(
            go,
            [
                "run",
                GoInteropTests.repositoryRoot.appendingPathComponent("Tests/Interop/verify_rotation_with_go.go").path,
                out.path,
            ],
            environment: GoToolchain.environment(cache: gocache.path))
        #expect(result.status == 0, "Go verifier failed:\n\(result.stderr)\n\(result.text)")
        #expect(
            result.text.contains("go-rotation: ok: 3 keys, 2 rotations, 8 checkpoints (2 signed by both keys"),
            "\(result.text)")
    }
}
