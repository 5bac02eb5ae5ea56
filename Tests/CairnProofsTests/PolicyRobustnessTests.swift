import CairnCrypto
import CairnNote
import CairnProofs
import Testing

/// Policies an attacker can write (issue 10 §2 item 13): deep chains of nested groups once overflowed
/// the stack in the quorum check, duplicate detection was quadratic in the number of lines, and a
/// look-alike origin could match a log key.
@Suite("tlog-policy: hostile policies and origins")
struct PolicyRobustnessTests {
    @Test("100,000 nested groups: the quorum is decided without recursion, and an unmet one is explained briefly")
    func deepNesting() throws {
        let depth = 100_000
        var text = "log \(Cosigning.logSigner.verifierKey)\nwitness A \(PolicyParsingTests.w[0])\ngroup g0 1 A\n"
        for level in 1..<depth { text += "group g\(level) any g\(level - 1)\n" }
        text += "quorum g\(depth - 1)\n"
        let policy = try TlogPolicy(parsing: text)
        #expect(policy.groups.count == depth)
        let signed = Cosigning.checkpoint()
        #expect(try policy.verify(Cosigning.cosign(signed, by: [1])).cosignatures.map(\.witness) == ["A"])
        expectProofError(.quorumNotMet, "and at least") { _ = try policy.verify(signed) }
        let error = #expect(throws: ProofError.self) { try policy.verify(signed) }
        let message = error?.message ?? ""
        #expect(message.utf8.count < 4_000, "the explanation is bounded")
        #expect(message.contains("group g\(depth - 1) needs 1 of its members (g\(depth - 2))"), "\(message)")
    }

    @Test("5,000 witnesses parse; a duplicate key on the last line names the first")
    func manyWitnesses() throws {
        let count = 5_000
        var text = ""
        for i in 0..<count {
            let key = try NoteVerifierKey(
                cosignatureName: "w\(i).example",
                ed25519: try Ed25519PrivateKey(seed: SHA256.hash(utf8: "witness \(i)").bytes).publicKey)
            text += "witness W\(i) \(key)\n"
        }
        let policy = try TlogPolicy(parsing: text + "quorum W0\n")
        #expect(policy.witnesses.count == count)
        let again = try NoteVerifierKey(
            cosignatureName: "again.example",
            ed25519: try Ed25519PrivateKey(seed: SHA256.hash(utf8: "witness 17").bytes).publicKey)
        expectPolicyError(
            .duplicateKey, line: count + 1, "as witness W17 on line 18", text + "witness X \(again)\nquorum W0\n")
    }

    @Test("With an explicit origin, a log key whose name is not the origin verifies it (as sum.golang.org)")
    func explicitOrigin() throws {
        let signer = try NoteSigner(name: "sumdb.example", privateKey: PolicyKeys.key(3))
        let signed = try SignedCheckpoint.sign(
            Checkpoint(origin: "go.sum database tree", size: 9, rootHash: SHA256.hash(utf8: "nine")), with: signer)
        let policy = try TlogPolicy(parsing: "log \(signer.verifierKey)\nquorum none\n")
        expectProofError(.originMismatch, "is not one of the policy's logs") { _ = try policy.verify(signed) }
        #expect(try policy.verify(signed, origin: "go.sum database tree").logKey == signer.verifierKey)
        expectProofError(.originMismatch, "expected origin") {
            _ = try policy.verify(signed, origin: "go.sum database tree v2")
        }
        // Another log's key does not verify it, whatever the origin.
        let other = try NoteSigner(name: "other.example", privateKey: PolicyKeys.key(4))
        let otherPolicy = try TlogPolicy(parsing: "log \(other.verifierKey)\nquorum none\n")
        expectProofError(.wrongKey, "") { _ = try otherPolicy.verify(signed, origin: "go.sum database tree") }
    }

    @Test("A checkpoint whose origin is a look-alike of a policy log's name matches no log")
    func lookAlikeOrigin() throws {
        let signer = try NoteSigner(name: "Kelvin.example", privateKey: PolicyKeys.key(5))
        let signed = try SignedCheckpoint.sign(
            Checkpoint(origin: "\u{212A}elvin.example", size: 2, rootHash: SHA256.hash(utf8: "two")), with: signer)
        let policy = try TlogPolicy(parsing: "log \(signer.verifierKey)\nquorum none\n")
        expectProofError(.originMismatch, "is not one of the policy's logs") { _ = try policy.verify(signed) }
    }
}
