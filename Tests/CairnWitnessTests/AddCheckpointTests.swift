import CairnCrypto
import CairnLedger
import CairnMerkle
import CairnNote
import CairnProofs
import CairnTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Synchronization
import Testing

@testable import CairnWitness

/// c2sp.org/tlog-witness add-checkpoint: one focused test per status code of the specification,
/// plus persistence and the check-and-update race.
@Suite("Witness: add-checkpoint")
struct AddCheckpointTests {
    @Test("200: a first checkpoint from old size 0 is cosigned with a v1 cosignature timestamped now")
    func firstCheckpoint() async throws {
        let log = try TestLedger()
        try log.append(3)
        let w = try TestWitness()
        let before = UInt64(Date().timeIntervalSince1970)
        let answer = try await withRouter(w.witness) { try await $0.addCheckpoint(try log.body(old: 0)) }
        let after = UInt64(Date().timeIntervalSince1970)
        let checkpoint = try log.ledger.checkpoint()
        let (line, timestamp) = try verifiedCosignature(answer, checkpoint: checkpoint, witness: w.vkey)
        #expect(line.name == "witness.example/w1")
        #expect(line.keyID == w.vkey.keyID)
        #expect(line.signature.count == 72)  // 8-byte timestamp + Ed25519 signature (type 0x04)
        #expect(timestamp >= before && timestamp <= after && timestamp > 0)
        #expect(answer.contentType?.hasPrefix("text/plain") == true)
        // The state: the checkpoint with the log's signature and the cosignature.
        let stored = try #require(try w.witness.latestCheckpoint(origin: TestLedger.origin))
        #expect(stored.checkpoint == checkpoint.checkpoint)
        #expect(stored.note.signatures == checkpoint.note.signatures + [line])
    }

    @Test("200: the witness follows the log from size to size, and cosigns the same checkpoint again")
    func growingLog() async throws {
        let log = try TestLedger()
        let w = try TestWitness()
        try await withRouter(w.witness) { client in
            try log.append(1)
            #expect(try await client.addCheckpoint(try log.body(old: 0)).status == 200)
            for (old, more) in [(1, 1), (2, 5), (7, 1), (8, 24)] {
                try log.append(more)
                let answer = try await client.addCheckpoint(try log.body(old: UInt64(old)))
                _ = try verifiedCosignature(answer, checkpoint: try log.ledger.checkpoint(), witness: w.vkey)
            }
            // Same size again (old = new, no proof, same root): cosigned again.
            let again = try await client.addCheckpoint(try log.body(old: 32))
            _ = try verifiedCosignature(again, checkpoint: try log.ledger.checkpoint(), witness: w.vkey)
        }
        #expect(try w.witness.latestCheckpoint(origin: TestLedger.origin)?.checkpoint.size == 32)
    }

    @Test("200: signatures from unknown keys (e.g. another witness's cosignature) are ignored")
    func unknownSignaturesIgnored() async throws {
        let log = try TestLedger()
        try log.append(2)
        let other = try CosignatureV1.sign(
            checkpoint: try log.ledger.checkpoint().checkpoint, timestamp: 7, signer: Keys.seed(0x77),
            name: "other.example/w")
        let request = try log.request(old: 0)
        let withOther = ConsistencyProofRequest(
            oldSize: 0, hashes: [], checkpoint: try request.checkpoint.adding(other))
        let w = try TestWitness()
        let answer = try await withRouter(w.witness) { try await $0.addCheckpoint(Array(withOther.serialized.utf8)) }
        _ = try verifiedCosignature(answer, checkpoint: request.checkpoint, witness: w.vkey)
        // The stored note keeps only the verified log signature and the witness's own line.
        let stored = try #require(try w.witness.latestCheckpoint(origin: TestLedger.origin))
        #expect(stored.note.signatures.map(\.name) == [TestLedger.origin, "witness.example/w1"])
    }

    @Test("400: a body that is not old size, proof lines, an empty line and a checkpoint")
    func malformedBodies() async throws {
        let log = try TestLedger()
        try log.append(4)
        let good = try log.request(old: 0).serialized
        let w = try TestWitness()
        let bad: [(String, String)] = [
            ("", "empty body"),
            ("hello\n", "no old line"),
            (good.replacingOccurrences(of: "old 0\n", with: "old 00\n"), "leading zero"),
            (good.replacingOccurrences(of: "old 0\n", with: "old -1\n"), "negative"),
            (good.replacingOccurrences(of: "old 0\n", with: "old 0\nnot-a-hash\n"), "bad hash line"),
            (good.replacingOccurrences(of: "\n", with: "\r\n"), "CRLF"),
            (String(good.dropLast()), "no final newline"),
            (good.replacingOccurrences(of: "old 0\n\n", with: "old 0\n"), "no empty line"),
            (
                "old 0\n" + String(repeating: RFC6962.emptyRoot.base64 + "\n", count: 64) + "\n" + good.dropFirst(7),
                "64 hashes"
            ),
            (good.replacingOccurrences(of: "\u{2014} ", with: "- "), "not a signature line"),
            (String(repeating: "x", count: Witness.maxBodyBytes + 1), "too large"),
        ]
        try await withRouter(w.witness) { client in
            for (body, why) in bad {
                let answer = try await client.addCheckpoint(Array(body.utf8))
                #expect(answer.status == 400, "\(why): \(answer.status) \(answer.text)")
                #expect(!answer.text.isEmpty && answer.text.hasSuffix("\n"))
            }
        }
        #expect(try w.witness.latestCheckpoint(origin: TestLedger.origin) == nil)
    }

    @Test("400: an old size larger than the checkpoint's size")
    func oldSizeTooLarge() async throws {
        let log = try TestLedger()
        try log.append(4)
        let w = try TestWitness()
        let request = try log.request(old: 4)
        let body = request.serialized.replacingOccurrences(of: "old 4\n", with: "old 5\n")
        let answer = try await withRouter(w.witness) { try await $0.addCheckpoint(Array(body.utf8)) }
        #expect(answer.status == 400)
        #expect(answer.text.contains("old size 5 is larger than the checkpoint's size 4"))
    }

    @Test("403: no signature from a trusted key for the origin")
    func notSignedByTrustedKey() async throws {
        // Same origin, another key: a checkpoint the witness must not cosign.
        let impostor = try TestLedger(signingKey: Keys.seed(0x66))
        try impostor.append(2)
        let w = try TestWitness()
        let answer = try await withRouter(w.witness) { try await $0.addCheckpoint(try impostor.body(old: 0)) }
        #expect(answer.status == 403)
        #expect(answer.text.contains("no trusted key signed"))
        #expect(try w.witness.latestCheckpoint(origin: TestLedger.origin) == nil)
    }

    @Test("403: a line with a trusted key's name and ID whose signature fails, even next to a valid one")
    func badSignatureFromKnownKey() async throws {
        let log = try TestLedger()
        try log.append(2)
        let request = try log.request(old: 0)
        let good = request.checkpoint.note.signatures[0]
        var bytes = good.signature
        bytes[10] ^= 1
        let bad = try NoteSignature(name: good.name, keyID: good.keyID, signature: bytes)
        let note = try SignedNote(text: request.checkpoint.note.text, signatures: [good, bad])
        let body = ConsistencyProofRequest(oldSize: 0, hashes: [], checkpoint: try SignedCheckpoint(note: note))
        let w = try TestWitness()
        let answer = try await withRouter(w.witness) { try await $0.addCheckpoint(Array(body.serialized.utf8)) }
        #expect(answer.status == 403)
        #expect(answer.text.contains("does not verify"))
    }

    @Test("200 with a rotated key: any trusted key for the origin may sign")
    func severalKeysForOneOrigin() async throws {
        let rotated = try TestLedger(signingKey: Keys.seed(0x12))
        try rotated.append(2)
        let w = try TestWitness(logs: [TestLedger.logKeyVkey, rotated.vkey])
        let answer = try await withRouter(w.witness) { try await $0.addCheckpoint(try rotated.body(old: 0)) }
        _ = try verifiedCosignature(answer, checkpoint: try rotated.ledger.checkpoint(), witness: w.vkey)
    }

    @Test("404: a checkpoint whose origin the witness does not follow")
    func unknownOrigin() async throws {
        let other = try TestLedger(origin: "example.com/not-followed", signingKey: Keys.seed(0x13))
        try other.append(1)
        let w = try TestWitness()
        let answer = try await withRouter(w.witness) { try await $0.addCheckpoint(try other.body(old: 0)) }
        #expect(answer.status == 404)
        #expect(answer.text.contains("does not follow the log \"example.com/not-followed\""))
        #expect(try w.witness.latestCheckpoint(origin: "example.com/not-followed") == nil)
    }

    @Test("409: an old size that is not the latest cosigned size; the body is that size and a newline")
    func conflict() async throws {
        let log = try TestLedger()
        try log.append(5)
        let w = try TestWitness()
        try await withRouter(w.witness) { client in
            // Never cosigned: the latest size is 0.
            let first = try await client.addCheckpoint(try log.body(old: 2))
            #expect(first.status == 409)
            #expect(first.text == "0\n")
            #expect(first.contentType == "text/x.tlog.size")
            #expect(try await client.addCheckpoint(try log.body(old: 0, size: 3)).status == 200)
            try log.append(2)
            for old: UInt64 in [0, 2, 5] {
                let answer = try await client.addCheckpoint(try log.body(old: old))
                #expect(answer.status == 409, "old \(old)")
                #expect(answer.text == "3\n")
                #expect(answer.contentType == "text/x.tlog.size")
            }
            #expect(try await client.addCheckpoint(try log.body(old: 3)).status == 200)
        }
    }

    @Test("422: a consistency proof that does not verify")
    func badProof() async throws {
        let log = try TestLedger()
        try log.append(3)
        let w = try TestWitness()
        try await withRouter(w.witness) { client in
            #expect(try await client.addCheckpoint(try log.body(old: 0)).status == 200)
            try log.append(4)
            var request = try log.request(old: 3)
            request.hashes[1] = SHA256.hash(utf8: "not the node")
            let tampered = try await client.addCheckpoint(Array(request.serialized.utf8))
            #expect(tampered.status == 422)
            request.hashes.removeLast()
            #expect(try await client.addCheckpoint(Array(request.serialized.utf8)).status == 422)  // too short
            // The state did not move: the right proof still works.
            #expect(try await client.addCheckpoint(try log.body(old: 3)).status == 200)
        }
    }

    @Test("422: a non-empty proof from size 0")
    func proofFromZero() async throws {
        let log = try TestLedger()
        try log.append(4)
        let w = try TestWitness()
        var request = try log.request(old: 0)
        request.hashes = [SHA256.hash(utf8: "x")]
        let body = Array(request.serialized.utf8)
        let answer = try await withRouter(w.witness) { try await $0.addCheckpoint(body) }
        #expect(answer.status == 422)
        #expect(answer.text.contains("a consistency proof from size 0 must be empty"))
    }

    @Test("422: the latest cosigned size again, with another root (a fork of the same size)")
    func equalSizesDifferentRoots() async throws {
        let log = try TestLedger()
        try log.append(4)
        let fork = try TestLedger(tag: "fork")  // same origin and key, other entries
        try fork.append(4)
        let w = try TestWitness()
        try await withRouter(w.witness) { client in
            #expect(try await client.addCheckpoint(try log.body(old: 0)).status == 200)
            let answer = try await client.addCheckpoint(try fork.body(old: 4))
            #expect(answer.status == 422)
            #expect(answer.text.contains("trees of the same size 4 must have the same root"))
        }
    }

    @Test("422: a checkpoint of size 0 without the empty tree's root")
    func sizeZeroWrongRoot() async throws {
        let signer = try NoteSigner(name: TestLedger.origin, privateKey: TestLedger.logKey)
        let bad = try SignedCheckpoint.sign(
            Checkpoint(origin: TestLedger.origin, size: 0, rootHash: SHA256.hash(utf8: "x")), with: signer)
        let good = try SignedCheckpoint.sign(
            Checkpoint(origin: TestLedger.origin, size: 0, rootHash: RFC6962.emptyRoot), with: signer)
        let w = try TestWitness()
        try await withRouter(w.witness) { client in
            let answer = try await client.addCheckpoint(
                Array(ConsistencyProofRequest(oldSize: 0, hashes: [], checkpoint: bad).serialized.utf8))
            #expect(answer.status == 422)
            #expect(answer.text.contains("size 0 must have the empty tree's root"))
            let empty = try await client.addCheckpoint(
                Array(ConsistencyProofRequest(oldSize: 0, hashes: [], checkpoint: good).serialized.utf8))
            _ = try verifiedCosignature(empty, checkpoint: good, witness: w.vkey)
        }
    }

    @Test("500 and nothing stored when the clock reads 0: a cosignature's timestamp is never 0")
    func zeroClock() async throws {
        let log = try TestLedger()
        try log.append(1)
        let w = try TestWitness(clock: { 0 })
        let answer = try await withRouter(w.witness) { try await $0.addCheckpoint(try log.body(old: 0)) }
        #expect(answer.status == 500)
        #expect(try w.witness.latestCheckpoint(origin: TestLedger.origin) == nil)
    }

    @Test("The state survives a restart: the reopened witness answers 409 with the size it cosigned")
    func persistence() async throws {
        let log = try TestLedger()
        try log.append(6)
        let w = try TestWitness()
        _ = try await withRouter(w.witness) { try await $0.addCheckpoint(try log.body(old: 0)) }
        let reopened = try w.reopened()
        #expect(try reopened.latestCheckpoint(origin: TestLedger.origin)?.checkpoint.size == 6)
        try log.append(1)
        try await withRouter(reopened) { client in
            let stale = try await client.addCheckpoint(try log.body(old: 0))
            #expect(stale.status == 409)
            #expect(stale.text == "6\n")
            _ = try verifiedCosignature(
                try await client.addCheckpoint(try log.body(old: 6)), checkpoint: try log.ledger.checkpoint(),
                witness: reopened.verifierKey)
        }
        #expect(try reopened.latestCheckpoint(origin: TestLedger.origin)?.checkpoint.size == 7)
    }

    @Test("Concurrent submissions from the same old size: exactly one wins, the others get 409; no rollback")
    func concurrentSubmissionsCannotRollBack() async throws {
        let log = try TestLedger()
        try log.append(12)
        // Widen the window between the old-size check and the write, as litewitness's tests do.
        let w = try TestWitness(afterStateCheck: { usleep(20_000) })
        try await withRouter(w.witness) { client in
            #expect(try await client.addCheckpoint(try log.body(old: 0, size: 3)).status == 200)
            let bodies = try (4...12).map { try log.body(old: 3, size: UInt64($0)) }
            let answers = try await withThrowingTaskGroup(of: (UInt64, Answer).self) { group in
                for (i, body) in bodies.enumerated() {
                    group.addTask { (UInt64(i + 4), try await client.addCheckpoint(body)) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let winners = answers.filter { $0.1.status == 200 }
            #expect(winners.count == 1, "\(answers.map { ($0.0, $0.1.status) })")
            let winner = try #require(winners.first).0
            for (size, answer) in answers where size != winner {
                #expect(answer.status == 409)
                #expect(answer.text == "\(winner)\n")
            }
            #expect(try w.witness.latestCheckpoint(origin: TestLedger.origin)?.checkpoint.size == winner)

            // Losers retry from the size they were given; the state only ever grows.
            var stored = winner
            for size in (winner + 1)...12 {
                let answer = try await client.addCheckpoint(try log.body(old: stored, size: size))
                #expect(answer.status == 200)
                let now = try #require(try w.witness.latestCheckpoint(origin: TestLedger.origin)?.checkpoint.size)
                #expect(now == size && now > stored)
                stored = now
            }
            // A smaller checkpoint can no longer be cosigned, from any old size.
            for old: UInt64 in [0, 3, winner] where old <= 11 {
                #expect(try await client.addCheckpoint(try log.body(old: old, size: 11)).status == 409)
            }
        }
        #expect(try w.witness.latestCheckpoint(origin: TestLedger.origin)?.checkpoint.size == 12)
    }

    @Test("GET <origin hash>/checkpoint serves the latest cosigned checkpoint; 404 before and for others")
    func monitoringEndpoint() async throws {
        let log = try TestLedger()
        try log.append(2)
        let w = try TestWitness()
        let hash = SHA256.hash(utf8: TestLedger.origin).hex
        try await withRouter(w.witness) { client in
            let none = try await client.execute(uri: "/\(hash)/checkpoint", method: .get) { Answer($0) }
            #expect(none.status == 404)
            #expect(try await client.addCheckpoint(try log.body(old: 0)).status == 200)
            let answer = try await client.execute(uri: "/\(hash)/checkpoint", method: .get) { Answer($0) }
            #expect(answer.status == 200)
            let served = try SignedCheckpoint(parsing: answer.text)
            #expect(try served.verify(logKey: TestLedger.logKeyVkey).size == 2)
            #expect(try CosignatureV1.verify(served, cosigner: w.vkey) > 0)
            let upper = try await client.execute(uri: "/\(hash.uppercased())/checkpoint", method: .get) { Answer($0) }
            #expect(upper.status == 404)
            let other = try await client.execute(
                uri: "/\(SHA256.hash(utf8: "x").hex)/checkpoint", method: .get
            ) { Answer($0) }
            #expect(other.status == 404)
        }
    }

    @Test("Routes live under the submission prefix")
    func prefix() async throws {
        let log = try TestLedger()
        try log.append(1)
        let w = try TestWitness()
        try await withRouter(w.witness, prefix: "/witness/v1/") { client in
            let outside = try await client.addCheckpoint(try log.body(old: 0), path: "/add-checkpoint")
            #expect(outside.status == 404)
            let inside = try await client.addCheckpoint(try log.body(old: 0), path: "/witness/v1/add-checkpoint")
            #expect(inside.status == 200)
        }
    }

    @Test("Opening: the key must match the vkey, logs need type 0x01 keys, and at least one log")
    func openingErrors() throws {
        let dir = try TempDir()
        #expect(throws: WitnessError.self) { try Witness(directory: dir.path, logs: [TestLedger.logKeyVkey]) }
        let vkey = try Witness.create(at: dir.file("w"), name: "w.example", signingKey: Keys.seed(1))
        #expect(vkey.type == 0x04)
        #expect(vkey == (try NoteVerifierKey(cosignatureName: "w.example", ed25519: Keys.seed(1).publicKey)))
        // The key file is private.
        let attributes = try FileManager.default.attributesOfItem(atPath: dir.file("w/witness-key.pem"))
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        do {
            _ = try Witness.create(at: dir.file("w"), name: "w.example")
            Issue.record("created twice")
        } catch {
            #expect(error.code == .alreadyExists)
        }
        do {
            _ = try Witness(directory: dir.file("w"), logs: [])
            Issue.record("no logs accepted")
        } catch {
            #expect(error.code == .invalidConfiguration)
        }
        do {
            _ = try Witness(directory: dir.file("w"), logs: [vkey])  // a 0x04 key as a log key
            Issue.record("cosignature key accepted as a log key")
        } catch {
            #expect(error.code == .invalidConfiguration)
        }
        try Data(
            "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIAICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIC\n-----END PRIVATE KEY-----\n"
                .utf8
        )
        .write(to: URL(fileURLWithPath: dir.file("w/witness-key.pem")))
        do {
            _ = try Witness(directory: dir.file("w"), logs: [TestLedger.logKeyVkey])
            Issue.record("mismatched key accepted")
        } catch {
            #expect(error.code == .invalidKey)
        }
    }
}
