import CairnHTTP
import CairnLedger
import Foundation
import Hummingbird
import HummingbirdTesting
import Synchronization
import Testing

@testable import CairnServer
@testable import CairnWitness

/// Runs `body` with a Hummingbird server on a loopback port whose `POST /add-checkpoint` answers
/// with `respond`; passes its URL (`http://127.0.0.1:PORT`) and the number of requests it got.
func withFakeWitness<R: Sendable>(
    _ respond: @escaping @Sendable () -> Response,
    _ body: @escaping @Sendable (String, @escaping @Sendable () -> Int) async throws -> R
) async throws -> R {
    let count = Mutex(0)
    let router = Router()
    router.post("add-checkpoint") { _, _ -> Response in
        count.withLock { $0 += 1 }
        return respond()
    }
    let app = Application(
        router: router, configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: 0)),
        logger: quietLogger)
    return try await app.test(.live) { client in
        try await body("http://127.0.0.1:\(try #require(client.port))", { count.withLock { $0 } })
    }
}

@Suite("Witness coordinator: the HTTP client's rules")
struct WitnessTransportTests {
    /// Fast retries, and a deadline far beyond what these outcomes need: the fake witness runs in
    /// this process, on the cooperative pool that other tests may keep busy for a long while.
    static func options() -> WitnessCoordinator.Options {
        var options = WitnessNetworkTests.fastOptions()
        options.requestTimeout = .seconds(600)
        return options
    }

    @Test("A redirect is not followed: the round is refused with its status; the Location never sees the checkpoint")
    func redirectIsNotFollowed() async throws {
        let log = try TestLedger()
        try log.append(3)
        let w = try TestWitness()
        try await withLiveWitnesses([w.witness]) { urls in
            let target = urls[0]
            try await withFakeWitness(
                { Response(status: .temporaryRedirect, headers: [.location: target + "/add-checkpoint"]) }
            ) { redirector, requests async throws in
                let coordinator = WitnessCoordinator(
                    ledger: log.ledger, witnesses: [WitnessEndpoint(name: "W", vkey: w.vkey, url: redirector)],
                    logger: quietLogger, options: Self.options())
                let outcomes = await coordinator.cosignCurrentCheckpoint()
                guard case .refused(status: 307, _) = outcomes[0] else {
                    Issue.record("expected the 307 as a refusal, got \(outcomes)")
                    return
                }
                #expect(requests() == 1)
                // Following the redirect (with the POST body, as 307 demands) would have had it cosigned.
                #expect(try log.ledger.checkpoint().signerNames == [TestLedger.origin])
                #expect(try w.witness.latestCheckpoint(origin: TestLedger.origin) == nil)
            }
        }
    }

    @Test("An answer beyond 64 KiB is a failed round, not a cosignature")
    func oversizedAnswer() async throws {
        let log = try TestLedger()
        try log.append(1)
        let w = try TestWitness()
        let huge = String(repeating: "x", count: WitnessHTTPClient.maxResponseBytes + 1) + "\n"
        try await withFakeWitness({ Response(status: .ok, body: ResponseBody(byteBuffer: ByteBuffer(string: huge))) }) {
            url, _ async throws in
            let coordinator = WitnessCoordinator(
                ledger: log.ledger, witnesses: [WitnessEndpoint(name: "W", vkey: w.vkey, url: url)],
                logger: quietLogger, options: Self.options())
            let outcomes = await coordinator.cosignCurrentCheckpoint()
            guard case .failed(let message) = outcomes[0] else {
                Issue.record("expected a failed round, got \(outcomes)")
                return
            }
            #expect(message.contains("larger than \(WitnessHTTPClient.maxResponseBytes) bytes"), "\(message)")
        }
    }

    @Test("Submission prefixes: absolute http(s) URLs; user information, queries and Unix sockets are refused")
    func submissionURLs() {
        #expect(
            WitnessHTTPClient.addCheckpointURL(prefix: "https://w.example/wit/")?.description
                == "https://w.example/wit/add-checkpoint")
        for bad in ["https://u:p@w.example", "https://w.example/?a=b", "unix:/run/w.sock", "w.example"] {
            #expect(WitnessHTTPClient.addCheckpointURL(prefix: bad) == nil, "\(bad)")
        }
    }
}
