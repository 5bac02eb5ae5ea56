import CairnCrypto
import CairnMerkle
import CairnNote
import CairnProofs
import Foundation
import Testing

/// A small log in memory with a signer, to build real proofs.
struct TestLog {
    let signer: NoteSigner
    var tree = InMemoryMerkleTree()
    let origin = "example.com/proofs-test"

    init() throws {
        signer = try NoteSigner(name: origin, privateKey: try Ed25519PrivateKey(seed: [UInt8](repeating: 7, count: 32)))
    }

    mutating func append(_ count: Int) {
        for _ in 0..<count { tree.append(entry: entry(Int(tree.treeSize))) }
    }

    func entry(_ i: Int) -> [UInt8] { Array("{\"i\":\(i)}".utf8) }

    func checkpoint(size: UInt64) throws -> SignedCheckpoint {
        let root = try MerkleTree.root(treeSize: size, reader: tree)
        return try SignedCheckpoint.sign(Checkpoint(origin: origin, size: size, rootHash: root), with: signer)
    }

    func inclusion(_ index: UInt64, size: UInt64) throws -> TlogProof {
        TlogProof(
            index: index, hashes: try MerkleTree.inclusionProof(index: index, treeSize: size, reader: tree),
            checkpoint: try checkpoint(size: size))
    }

    func consistency(_ old: UInt64, size: UInt64) throws -> ConsistencyProofRequest {
        let hashes =
            old == 0 || old == size ? [] : try MerkleTree.consistencyProof(oldSize: old, newSize: size, reader: tree)
        return ConsistencyProofRequest(oldSize: old, hashes: hashes, checkpoint: try checkpoint(size: size))
    }
}

func expectProofError(
    _ code: ProofError.Code, _ fragment: String, sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () throws -> Void
) {
    do {
        try body()
        Issue.record("expected \(code)", sourceLocation: sourceLocation)
    } catch let error as ProofError {
        #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
        if !fragment.isEmpty {
            #expect(
                error.message.contains(fragment), "\(error.message) should contain \(fragment)",
                sourceLocation: sourceLocation)
        }
    } catch {
        Issue.record("expected ProofError \(code), got \(error)", sourceLocation: sourceLocation)
    }
}

@Suite("C2SP tlog-proof")
struct TlogProofTests {
    @Test("A proof serializes in the c2sp.org/tlog-proof@v1 layout and parses back to the same value")
    func roundTrip() throws {
        var log = try TestLog()
        log.append(6)
        let proof = try log.inclusion(2, size: 6)
        let text = proof.serialized
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines[0] == "c2sp.org/tlog-proof@v1")
        #expect(lines[1] == "index 2")
        #expect(lines[2...4].allSatisfy { SHA256Digest(base64: $0) != nil })
        #expect(lines[5] == "")
        #expect(lines[6] == "example.com/proofs-test")
        #expect(text.hasSuffix(proof.checkpoint.serialized))
        #expect(try TlogProof(parsing: Array(text.utf8)) == proof)
        var withExtra = proof
        withExtra.extra = Array("context".utf8)
        let extraText = withExtra.serialized
        #expect(extraText.split(separator: "\n")[1] == "extra Y29udGV4dA==")
        #expect(try TlogProof(parsing: Array(extraText.utf8)) == withExtra)
    }

    @Test("Every generated proof verifies, and for every other entry it fails with rootMismatch")
    func verify() throws {
        var log = try TestLog()
        log.append(9)
        let key = log.signer.verifierKey
        for size: UInt64 in 1...9 {
            for index in 0..<size {
                let proof = try log.inclusion(index, size: size)
                let checkpoint = try proof.verify(entry: log.entry(Int(index)), logKey: key)
                #expect(checkpoint.size == size)
                expectProofError(.rootMismatch, "") {
                    _ = try proof.verify(entry: log.entry(Int(index) + 100), logKey: key)
                }
            }
        }
    }

    @Test("A proof for a leaf outside the checkpointed tree fails with indexOutOfRange")
    func outOfRange() throws {
        var log = try TestLog()
        log.append(4)
        var proof = try log.inclusion(3, size: 4)
        proof.index = 4
        expectProofError(.indexOutOfRange, "out of range") {
            _ = try proof.verify(entry: log.entry(3), logKey: log.signer.verifierKey)
        }
    }

    @Test("A proof with a hash too many or too few fails with wrongProofLength")
    func wrongLength() throws {
        var log = try TestLog()
        log.append(8)
        var proof = try log.inclusion(3, size: 8)
        proof.hashes.removeLast()
        expectProofError(.wrongProofLength, "must have 3 hashes") {
            _ = try proof.verify(entry: log.entry(3), logKey: log.signer.verifierKey)
        }
    }

    @Test("Another key, another origin and a forged signature are told apart")
    func keyFailures() throws {
        var log = try TestLog()
        log.append(2)
        let proof = try log.inclusion(0, size: 2)
        let otherKey = try NoteSigner(
            name: log.origin, privateKey: try Ed25519PrivateKey(seed: [UInt8](repeating: 8, count: 32))
        ).verifierKey
        expectProofError(.wrongKey, "wrong key") { _ = try proof.verify(entry: log.entry(0), logKey: otherKey) }
        let otherName = try NoteSigner(
            name: "example.com/other", privateKey: try Ed25519PrivateKey(seed: [UInt8](repeating: 7, count: 32))
        ).verifierKey
        expectProofError(.originMismatch, "example.com/other") {
            _ = try proof.verify(entry: log.entry(0), logKey: otherName)
        }
        var text = proof.serialized
        let sig = text.range(of: "— example.com/proofs-test ")!.upperBound
        let flipAt = text.index(sig, offsetBy: 20)
        text.replaceSubrange(flipAt...flipAt, with: text[flipAt] == "A" ? "B" : "A")
        let forged = try TlogProof(parsing: Array(text.utf8))
        expectProofError(.badSignature, "bad signature") {
            _ = try forged.verify(entry: log.entry(0), logKey: log.signer.verifierKey)
        }
    }

    @Test("Malformed proof text is rejected naming the line")
    func malformed() throws {
        var log = try TestLog()
        log.append(3)
        let good = try log.inclusion(1, size: 3).serialized
        func mutate(_ body: (inout [String]) -> Void) -> [UInt8] {
            var lines = good.components(separatedBy: "\n")
            body(&lines)
            return Array(lines.joined(separator: "\n").utf8)
        }
        let cases: [(String, [UInt8], String)] = [
            ("wrong header", mutate { $0[0] = "c2sp.org/tlog-proof@v2" }, "line 1"),
            ("leading zero", mutate { $0[1] = "index 01" }, "line 2"),
            ("negative index", mutate { $0[1] = "index -1" }, "line 2"),
            ("missing index", mutate { $0.remove(at: 1) }, "line 2"),
            ("short hash", mutate { $0[2] = "AAAA" }, "line 3"),
            ("bad extra", mutate { $0.insert("extra !!", at: 1) }, "line 2"),
            ("no blank line", Array("c2sp.org/tlog-proof@v1\nindex 0\n".utf8), "empty line"),
            ("no final newline", Array(good.utf8.dropLast()), "newline"),
            ("invalid UTF-8", Array(good.utf8) + [0xff, 0x0a], "UTF-8"),
            ("bad checkpoint", mutate { $0[$0.count - 4] = "not a size" }, "checkpoint"),
        ]
        for (name, bytes, fragment) in cases {
            do {
                _ = try TlogProof(parsing: bytes)
                Issue.record("\(name) was accepted")
            } catch {
                #expect(error.code == .malformed, "\(name)")
                #expect(error.message.contains(fragment), "\(name): \(error.message)")
            }
        }
    }
}

@Suite("C2SP tlog-witness consistency bodies")
struct ConsistencyProofRequestTests {
    @Test("A body serializes as 'old N', hashes, blank line, checkpoint, and parses back")
    func roundTrip() throws {
        var log = try TestLog()
        log.append(7)
        let request = try log.consistency(3, size: 7)
        let text = request.serialized
        #expect(text.hasPrefix("old 3\n"))
        #expect(try ConsistencyProofRequest(parsing: Array(text.utf8)) == request)
        #expect(try log.consistency(0, size: 7).serialized.hasPrefix("old 0\n\nexample.com/proofs-test\n7\n"))
    }

    @Test("Consistency verifies between every pair of sizes, including from the empty tree and equal sizes")
    func verifyAllPairs() throws {
        var log = try TestLog()
        log.append(10)
        let key = log.signer.verifierKey
        for size: UInt64 in 0...10 {
            for old in 0...size {
                let request = try log.consistency(old, size: size)
                #expect(try request.verify(oldCheckpoint: log.checkpoint(size: old), logKey: key).size == size)
            }
        }
    }

    @Test("The old size must match the old checkpoint, and a shrinking log is refused")
    func sizeMismatch() throws {
        var log = try TestLog()
        log.append(6)
        let key = log.signer.verifierKey
        let request = try log.consistency(3, size: 6)
        expectProofError(.sizeMismatch, "old checkpoint has size 4") {
            _ = try request.verify(oldCheckpoint: log.checkpoint(size: 4), logKey: key)
        }
        var shrink = try log.consistency(3, size: 3)
        shrink.oldSize = 5
        expectProofError(.sizeMismatch, "shrank") {
            _ = try shrink.verify(oldCheckpoint: log.checkpoint(size: 5), logKey: key)
        }
    }

    @Test("A proof against a checkpoint of a different history fails with rootMismatch")
    func fork() throws {
        var log = try TestLog()
        log.append(6)
        var fork = try TestLog()
        fork.tree.append(entry: Array("{\"forked\":true}".utf8))
        fork.append(5)
        let request = try log.consistency(3, size: 6)
        expectProofError(.rootMismatch, "") {
            _ = try request.verify(oldCheckpoint: fork.checkpoint(size: 3), logKey: log.signer.verifierKey)
        }
        var nonEmpty = try log.consistency(0, size: 6)
        nonEmpty.hashes = [RFC6962.emptyRoot]
        expectProofError(.wrongProofLength, "empty tree") {
            _ = try nonEmpty.verify(oldCheckpoint: log.checkpoint(size: 0), logKey: log.signer.verifierKey)
        }
    }

    @Test("Malformed bodies are rejected naming the line; more than 63 hashes are refused")
    func malformed() throws {
        var log = try TestLog()
        log.append(4)
        let checkpoint = try log.checkpoint(size: 4).serialized
        let cases: [(String, String)] = [
            ("old x\n\n" + checkpoint, "line 1"),
            ("old 3\nnot-a-hash\n\n" + checkpoint, "line 2"),
            (
                "old 3\n" + String(repeating: RFC6962.emptyRoot.base64 + "\n", count: 64) + "\n" + checkpoint,
                "more than 63"
            ),
            ("old 3\n", "empty line"),
        ]
        for (text, fragment) in cases {
            do {
                _ = try ConsistencyProofRequest(parsing: Array(text.utf8))
                Issue.record("accepted: \(text.prefix(30))")
            } catch {
                #expect(error.code == .malformed)
                #expect(error.message.contains(fragment), "\(error.message)")
            }
        }
    }
}

@Suite("Checkpoint verification")
struct CheckpointVerifierTests {
    @Test("A signed checkpoint verifies with the log's key and is refused with another")
    func verify() throws {
        var log = try TestLog()
        log.append(3)
        let bytes = Array(try log.checkpoint(size: 3).serialized.utf8)
        #expect(try CheckpointVerifier.verify(bytes, logKey: log.signer.verifierKey).size == 3)
        let other = try NoteSigner(name: log.origin, privateKey: try Ed25519PrivateKey.generate()).verifierKey
        expectProofError(.wrongKey, "wrong key") { _ = try CheckpointVerifier.verify(bytes, logKey: other) }
        expectProofError(.malformed, "") { _ = try CheckpointVerifier.verify(Array("hello\n".utf8), logKey: other) }
    }
}
