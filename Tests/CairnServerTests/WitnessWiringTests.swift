import CairnLedger
import CairnNote
import CairnTestSupport
import CairnWitness
import Foundation
import Hummingbird
import Logging
import Testing

@testable import CairnServer

/// The `witnesses` setting: the server runs a witness coordinator, and `GET /checkpoint`
/// serves the cosigned checkpoint.
@Suite("Witnesses configured on the server")
struct WitnessWiringTests {
    @Test("a live witness cosigns the server's checkpoints; /checkpoint carries the cosignature")
    func cosigned() async throws {
        let dir = try TemporaryDirectory()
        var logger = Logger(label: "test.witness")
        logger.logLevel = .critical
        let port = PortBox()
        // The ledger first, so the witness can follow its key.
        var configuration = ServerConfiguration()
        let fixture = try await ServerFixture { configuration = $0 }
        let witnessVKey = try Witness.create(at: dir.file("witness"), name: "witness.example/w1")
        let witness = try Witness(directory: dir.file("witness"), logs: [fixture.ledger.verifierKey], logger: logger)
        let witnessApp = WitnessServer.application(
            for: witness, host: "127.0.0.1", port: 0, logger: logger, onServerRunning: { port.set($0) })
        let witnessTask = Task { try await witnessApp.run() }
        defer { witnessTask.cancel() }
        let witnessPort = try await port.wait()

        configuration.witnesses = [.init(name: "W1", vkey: witnessVKey, url: "http://127.0.0.1:\(witnessPort)")]
        let server = try CairnServer(ledger: fixture.ledger, configuration: configuration, logger: logger)
        let coordinator = Task { try await server.makeWitnessService().run() }
        defer { coordinator.cancel() }
        try await server.makeApplication().test(.live) { client in
            let c = Client(client: client, tokens: fixture.tokens)
            try await c.append([note("witnessed")])
            let deadline = ContinuousClock.now + .seconds(20)
            var reply = try await c.get("/checkpoint", as: "read")
            while !reply.text.contains("— witness.example/w1 ") && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
                reply = try await c.get("/checkpoint", as: "read")
            }
            #expect(reply.text.contains("— witness.example/w1 "), "\(reply.text)")
            let checkpoint = try SignedCheckpoint(parsing: reply.body)
            #expect(checkpoint.checkpoint.size == 1)
            #expect(try CosignatureV1.verify(checkpoint, cosigner: witnessVKey) > 0)
            #expect(try checkpoint.verify(logKey: fixture.ledger.verifierKey).size == 1)
        }
        server.shutdown()
        fixture.server.shutdown()
    }
}

/// A port number handed from `onServerRunning` to the test.
final class PortBox: @unchecked Sendable {
    private let lock = NSLock()
    private var port: Int?

    func set(_ value: Int) { lock.withLock { port = value } }

    func wait() async throws -> Int {
        for _ in 0..<500 {
            if let port = lock.withLock({ port }) { return port }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw CancellationError()
    }
}
