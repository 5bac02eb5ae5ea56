import CairnCrypto
import CairnLedger
import CairnNote
import CairnProofs
import CairnTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Synchronization
import Testing

@testable import CairnServer
@testable import CairnWitness

/// Runs `body` with each witness served by a real Hummingbird server on a loopback port; passes
/// the witnesses' submission prefixes (`http://127.0.0.1:PORT`).
func withLiveWitnesses<R: Sendable>(
    _ witnesses: [Witness], _ body: @escaping @Sendable ([String]) async throws -> R
) async throws -> R {
    @Sendable func serve(_ index: Int, _ urls: [String]) async throws -> R {
        guard index < witnesses.count else { return try await body(urls) }
        let app = Application(
            router: WitnessServer.router(for: witnesses[index]),
            configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: 0)),
            logger: quietLogger)
        return try await app.test(.live) { client in
            try await serve(index + 1, urls + ["http://127.0.0.1:\(try #require(client.port))"])
        }
    }
    return try await serve(0, [])
}

/// Polls `condition` until it holds (or fails the test after `timeout`).
func eventually(
    timeout: Duration = .seconds(20), _ what: String, sourceLocation: SourceLocation = #_sourceLocation,
    _ condition: () throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try condition() { return }
        try await Task.sleep(for: .milliseconds(25))
    }
    Issue.record("timed out waiting until \(what)", sourceLocation: sourceLocation)
}

extension SignedCheckpoint {
    /// The names of the signature lines.
    var signerNames: [String] { note.signatures.map(\.name) }

    /// This checkpoint without the lines of `name`.
    func removing(_ name: String) throws -> SignedCheckpoint {
        try SignedCheckpoint(note: SignedNote(text: note.text, signatures: note.signatures.filter { $0.name != name }))
    }
}

@Suite("Witnesses: two live witnesses, a coordinator, a fork and a policy")
struct WitnessNetworkTests {
    static func fastOptions() -> WitnessCoordinator.Options {
        var options = WitnessCoordinator.Options()
        options.pollInterval = .milliseconds(20)
        options.initialBackoff = .milliseconds(50)
        options.maxBackoff = .milliseconds(200)
        // Generous: a request that times out on a loaded machine after the witness cosigned is
        // retried and answered 409 (the designed recovery), which the conflict counts would show.
        options.requestTimeout = .seconds(60)
        return options
    }

    @Test(
        "Two witnesses cosign through WitnessCoordinator; a fork is refused (409, then 422); 2-of-2 passes, 1-of-2 fails"
    )
    func witnessedLog() async throws {
        let log = try TestLedger()
        try log.append(3)
        let w1 = try TestWitness(name: "witness.example/w1", seed: 0x21)
        let w2 = try TestWitness(name: "witness.example/w2", seed: 0x22)
        let (vkey1, vkey2) = (w1.vkey, w2.vkey)

        try await withLiveWitnesses([w1.witness, w2.witness]) { urls in
            let endpoints = [
                WitnessEndpoint(name: "W1", vkey: vkey1, url: urls[0]),
                WitnessEndpoint(name: "W2", vkey: vkey2, url: urls[1] + "/"),  // a trailing slash is fine
            ]
            let stored = Mutex<[String: Set<UInt64>]>([:])
            var options = Self.fastOptions()
            options.onCosigned = { witness, size in stored.withLock { _ = $0[witness.name, default: []].insert(size) } }
            let coordinator = WitnessCoordinator(
                ledger: log.ledger, witnesses: endpoints, logger: quietLogger, options: options)
            let running = Task { await coordinator.run() }

            func cosigned(_ size: UInt64) throws -> Bool {
                let checkpoint = try log.ledger.checkpoint(size: size)
                return checkpoint.signerNames.contains(vkey1.name) && checkpoint.signerNames.contains(vkey2.name)
            }
            try await eventually("both witnesses cosigned size 3") { try cosigned(3) }
            // Appends keep being witnessed, each from the size the witness cosigned last.
            for _ in 0..<3 {
                try log.append(2)
                let size = try log.ledger.treeSize()
                try await eventually("both witnesses cosigned size \(size)") { try cosigned(size) }
            }
            running.cancel()
            await running.value  // run() returns once cancelled
            #expect(coordinator.status.map(\.cosignedSize) == [9, 9])
            #expect(stored.withLock { $0["W1"]?.contains(9) == true && $0["W2"]?.contains(9) == true })
            #expect(coordinator.status.map(\.conflicts) == [0, 0])

            // The stored checkpoint: the log's signature (still valid for fsck and plain verifiers)
            // and one verified cosignature per witness.
            let checkpoint = try log.ledger.checkpoint()
            #expect(checkpoint.signerNames.first == TestLedger.origin)  // the log's line stays first
            #expect(checkpoint.signerNames.sorted() == [TestLedger.origin, vkey1.name, vkey2.name])
            #expect(try checkpoint.verify(logKey: log.vkey).size == 9)
            #expect(try CosignatureV1.verify(checkpoint, cosigner: vkey1) > 0)
            #expect(try CosignatureV1.verify(checkpoint, cosigner: vkey2) > 0)
            #expect(try log.ledger.fsck().checkpoints >= 6)
            #expect(try w1.witness.latestCheckpoint(origin: TestLedger.origin)?.checkpoint == checkpoint.checkpoint)
            #expect(try w2.witness.latestCheckpoint(origin: TestLedger.origin)?.checkpoint == checkpoint.checkpoint)

            // The policy: 2 of 2 passes with both cosignatures, and fails with one.
            let policy = try TlogPolicy(
                parsing: """
                    log \(log.vkey)
                    witness W1 \(vkey1) \(urls[0])
                    witness W2 \(vkey2) \(urls[1])
                    group both 2 W1 W2
                    quorum both

                    """)
            let verified = try policy.verify(checkpoint)
            #expect(verified.cosignatures.map(\.witness) == ["W1", "W2"])
            #expect(verified.logKey == log.vkey)
            let proof = try log.ledger.inclusionProof(index: 4)  // proofs embed the cosigned checkpoint
            let tlogProof = TlogProof(index: proof.index, hashes: proof.hashes, checkpoint: proof.checkpoint)
            #expect(try tlogProof.verify(entry: try log.ledger.entry(at: 4), policy: policy).cosignatures.count == 2)
            let oneOfTwo = try checkpoint.removing(vkey2.name)
            do throws(ProofError) {
                _ = try policy.verify(oneOfTwo)
                Issue.record("1 of 2 cosignatures met a 2-of-2 quorum")
            } catch {
                #expect(error.code == .quorumNotMet)
                #expect(error.message == "quorum not met: group both needs 2 cosignatures, has 1 (W1)")
            }

            // A fork: the same origin and key (so its checkpoints are validly signed), other entries.
            let fork = try TestLedger(tag: "fork")
            try fork.append(11)
            let forkCoordinator = WitnessCoordinator(
                ledger: fork.ledger, witnesses: endpoints, logger: quietLogger, options: Self.fastOptions())
            let outcomes = await forkCoordinator.cosignCurrentCheckpoint()
            // Why 409, then 422: the fork's coordinator knows nothing and starts from old size 0.
            // Each witness has cosigned size 9 of the real log, so it answers 409 with "9\n"
            // (tlog-witness: the old size must be the latest cosigned size). The coordinator adopts 9
            // and sends the fork's proof from 9 to 11, which cannot lead from the root the witness
            // cosigned at 9 (the first 9 entries differ): the Merkle consistency proof does not
            // verify, so 422 — and nothing is cosigned.
            for outcome in outcomes {
                guard case .refused(status: 422, let message) = outcome else {
                    Issue.record("the fork was not refused with 422: \(outcome)")
                    continue
                }
                #expect(message.contains("root mismatch"))
            }
            #expect(forkCoordinator.status.map(\.conflicts) == [1, 1])
            #expect(forkCoordinator.status.map(\.witnessSize) == [9, 9])
            #expect(forkCoordinator.status.map(\.cosignedSize) == [nil, nil])
            #expect(try fork.ledger.checkpoint().signerNames == [TestLedger.origin])
            #expect(try w1.witness.latestCheckpoint(origin: TestLedger.origin)?.checkpoint.size == 9)
            let forkCheckpoint = try fork.ledger.checkpoint()
            do throws(ProofError) {
                _ = try policy.verify(forkCheckpoint)
                Issue.record("the fork's checkpoint met the quorum")
            } catch {
                #expect(error.message == "quorum not met: group both needs 2 cosignatures, has 0")
            }

            // A fork of the same size: after the 409 ("9\n"), old 9 = new 9 with another root: 422.
            let sameSize = try TestLedger(tag: "same-size-fork")
            try sameSize.append(9)
            let sameSizeCoordinator = WitnessCoordinator(
                ledger: sameSize.ledger, witnesses: endpoints, logger: quietLogger, options: Self.fastOptions())
            let sameSizeOutcomes = await sameSizeCoordinator.cosignCurrentCheckpoint()
            #expect(sameSizeOutcomes.allSatisfy { if case .refused(status: 422, _) = $0 { true } else { false } })
            #expect(sameSizeCoordinator.status.map(\.conflicts) == [1, 1])

            // A shorter fork (size 5): after the 409 the witness's size 9 is beyond the fork's tree,
            // so no proof can exist; the coordinator gives up without sending old > new.
            let shorter = try TestLedger(tag: "short-fork")
            try shorter.append(5)
            let shorterCoordinator = WitnessCoordinator(
                ledger: shorter.ledger, witnesses: endpoints, logger: quietLogger, options: Self.fastOptions())
            for round in 1...2 {
                for outcome in await shorterCoordinator.cosignCurrentCheckpoint() {
                    guard case .failed(let message) = outcome else {
                        Issue.record("expected a local failure, got \(outcome)")
                        continue
                    }
                    #expect(message.contains("has cosigned size 9 of this log, beyond its current size 5"))
                }
                // Each round asks the witnesses again (their state may have been reset) instead of
                // failing on the size remembered from the last 409.
                #expect(shorterCoordinator.status.map(\.conflicts) == [round, round])
            }

            // The real log is still witnessed after all this.
            try log.append(1)
            let again = await WitnessCoordinator(
                ledger: log.ledger, witnesses: endpoints, logger: quietLogger, options: Self.fastOptions()
            ).cosignCurrentCheckpoint()
            for outcome in again {
                guard case .cosigned(size: 10, _) = outcome else {
                    Issue.record("expected size 10 to be cosigned, got \(outcome)")
                    continue
                }
            }
            #expect(try cosigned(10))
        }
    }

    @Test("A witness that is down is retried with backoff; its cosignature arrives when it comes back")
    func unreachableWitnessIsRetried() async throws {
        let log = try TestLedger()
        try log.append(2)
        let w = try TestWitness()
        // A port with nothing listening: take a live server's port, then stop it.
        let deadURL = try await withLiveWitnesses([w.witness]) { urls in urls[0] }
        let endpoint = WitnessEndpoint(name: "W", vkey: w.vkey, url: deadURL)
        let coordinator = WitnessCoordinator(
            ledger: log.ledger, witnesses: [endpoint], logger: quietLogger, options: Self.fastOptions())
        let outcomes = await coordinator.cosignCurrentCheckpoint()
        guard case .failed = outcomes[0] else {
            Issue.record("expected a connection failure, got \(outcomes)")
            return
        }
        #expect(try log.ledger.checkpoint().signerNames == [TestLedger.origin])

        // Cancellation ends run() promptly even while it backs off.
        let running = Task { await coordinator.run() }
        try await Task.sleep(for: .milliseconds(100))
        running.cancel()
        await running.value
    }

    @Test("Endpoints from configuration text are checked: a type-0x04 vkey and an http(s) URL")
    func validatedEndpoints() throws {
        let vkey = try NoteVerifierKey(cosignatureName: "w.example", ed25519: Keys.seed(1).publicKey)
        let endpoint = try WitnessEndpoint.validated(name: "W", vkey: vkey.description, url: "https://w.example/wit")
        #expect(endpoint == WitnessEndpoint(name: "W", vkey: vkey, url: "https://w.example/wit"))
        for (key, url) in [
            (TestLedger.logKeyVkey.description, "https://w.example"),  // a log key (0x01)
            ("not-a-vkey", "https://w.example"),
            (vkey.description, "w.example/wit"),  // no scheme
            (vkey.description, "ftp://w.example"),
        ] {
            #expect(throws: WitnessError.self) { try WitnessEndpoint.validated(name: "W", vkey: key, url: url) }
        }
    }

    @Test("Witness responses: lines of other keys are ignored; a bad or missing cosignature is refused")
    func responseValidation() throws {
        let log = try TestLedger()
        try log.append(2)
        let checkpoint = try log.ledger.checkpoint()
        let key = Keys.seed(0x21)
        let vkey = try NoteVerifierKey(cosignatureName: "witness.example/w1", ed25519: key.publicKey)
        let line = try CosignatureV1.sign(
            checkpoint: checkpoint.checkpoint, timestamp: 1_700_000_000, signer: key, name: vkey.name)
        let other = try CosignatureV1.sign(
            checkpoint: checkpoint.checkpoint, timestamp: 5, signer: Keys.seed(0x22), name: "other.example")
        let (parsed, timestamp) = try WitnessCoordinator.cosignature(
            fromResponse: Array((other.line + line.line).utf8), for: checkpoint, witness: vkey)
        #expect(parsed == line && timestamp == 1_700_000_000)

        func refusal(_ body: String) -> NoteError.Code? {
            do {
                _ = try WitnessCoordinator.cosignature(fromResponse: Array(body.utf8), for: checkpoint, witness: vkey)
                return nil
            } catch {
                return error.code
            }
        }
        #expect(refusal(other.line) == .unknownKey)
        #expect(refusal("") == .malformedSignatureLine)
        #expect(refusal(String(line.line.dropLast())) == .malformedSignatureLine)  // no final newline
        #expect(refusal("hello\n") == .malformedSignatureLine)
        var bytes = line.signature
        bytes[30] ^= 1
        #expect(refusal(try NoteSignature(name: line.name, keyID: line.keyID, signature: bytes).line) == .badSignature)
        let zero = try CosignatureV1.sign(checkpoint: checkpoint.checkpoint, timestamp: 0, signer: key, name: vkey.name)
        #expect(refusal(zero.line) == .invalidTimestamp)
        // A cosignature of another checkpoint.
        try log.append(1)
        let newer = try CosignatureV1.sign(
            checkpoint: try log.ledger.checkpoint().checkpoint, timestamp: 9, signer: key, name: vkey.name)
        #expect(refusal(newer.line) == .badSignature)
        #expect(WitnessCoordinator.parseSize(Array("12\n".utf8)) == 12)
        #expect(WitnessCoordinator.parseSize(Array("0\n".utf8)) == 0)
        for bad in ["12", "012\n", "-1\n", "\n", "1 2\n", "18446744073709551616\n"] {
            #expect(WitnessCoordinator.parseSize(Array(bad.utf8)) == nil, "\(bad)")
        }
    }
}
