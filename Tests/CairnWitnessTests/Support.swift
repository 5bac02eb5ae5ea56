import CairnCrypto
import CairnLedger
import CairnNote
import CairnProofs
import CairnTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Testing

@testable import CairnServer
@testable import CairnWitness

/// A fresh temporary directory, removed when the value is dropped.
final class TempDir: @unchecked Sendable {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "cairn-witness-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> String { path + "/" + name }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

enum Keys {
    static func seed(_ byte: UInt8) -> Ed25519PrivateKey {
        try! Ed25519PrivateKey(seed: [UInt8](repeating: byte, count: 32))
    }
}

/// A logger that discards everything (tests check behaviour, not log lines).
let quietLogger = Logger(label: "cairn-test") { _ in SwiftLogNoOpLogHandler() }

/// A generic-profile ledger that witnesses follow. Its key is fixed (seed 0x11) unless given, so
/// a second ledger with the same key and other entries is a fork of the first.
struct TestLedger {
    static let origin = "example.com/witnessed-log"
    static let logKey = Keys.seed(0x11)

    let dir: TempDir
    let ledger: Ledger
    let tag: String

    init(
        origin: String = TestLedger.origin, signingKey: Ed25519PrivateKey = TestLedger.logKey, tag: String = "e"
    )
        throws
    {
        dir = try TempDir()
        var options = Ledger.CreateOptions()
        options.profile = .generic
        options.signingKey = signingKey
        ledger = try Ledger.create(at: dir.file("ledger"), origin: origin, options: options)
        self.tag = tag
    }

    var vkey: NoteVerifierKey { ledger.verifierKey }

    /// Appends `count` entries `{"<tag>":i}`, one commit each (so every size has a checkpoint).
    func append(_ count: Int) throws {
        let start = Int(try ledger.treeSize())
        for i in start..<(start + count) {
            _ = try ledger.append([PreparedEntry(canonicalBytes: Array("{\"\(tag)\":\(i)}".utf8))])
        }
    }

    /// The add-checkpoint body from `old` to `size` (default: the current size).
    func request(old: UInt64, size: UInt64? = nil) throws -> ConsistencyProofRequest {
        let proof = try ledger.consistencyProof(oldSize: old, size: size)
        return ConsistencyProofRequest(oldSize: proof.oldSize, hashes: proof.hashes, checkpoint: proof.checkpoint)
    }

    func body(old: UInt64, size: UInt64? = nil) throws -> [UInt8] {
        Array(try request(old: old, size: size).serialized.utf8)
    }
}

/// A witness in a temporary directory.
struct TestWitness {
    let dir: TempDir
    let witness: Witness
    var vkey: NoteVerifierKey { witness.verifierKey }

    init(
        name: String = "witness.example/w1", seed: UInt8 = 0x21, logs: [NoteVerifierKey] = [TestLedger.logKeyVkey],
        clock: @escaping @Sendable () -> UInt64 = Witness.unixTime, afterStateCheck: (@Sendable () -> Void)? = nil
    ) throws {
        dir = try TempDir()
        try Witness.create(at: dir.file("witness"), name: name, signingKey: Keys.seed(seed))
        witness = try Witness(
            directory: dir.file("witness"), logs: logs, logger: quietLogger, clock: clock,
            afterStateCheck: afterStateCheck)
    }

    /// Reopens the same directory (a restart).
    func reopened(logs: [NoteVerifierKey] = [TestLedger.logKeyVkey]) throws -> Witness {
        try Witness(directory: dir.file("witness"), logs: logs, logger: quietLogger)
    }
}

extension TestLedger {
    /// The vkey of the fixed test log key under the default origin.
    static let logKeyVkey = try! NoteVerifierKey(name: origin, ed25519: logKey.publicKey)
}

/// An HTTP answer, flattened for assertions.
struct Answer: Sendable {
    let status: Int
    let contentType: String?
    let text: String

    init(_ response: TestResponse) {
        status = Int(response.status.code)
        contentType = response.headers[.contentType]
        text = String(buffer: response.body)
    }
}

extension TestClientProtocol {
    func addCheckpoint(_ body: [UInt8], path: String = "/add-checkpoint") async throws -> Answer {
        try await execute(uri: path, method: .post, body: ByteBuffer(bytes: body)) { Answer($0) }
    }
}

/// Runs `body` with a router-level test client of `witness` (no sockets).
func withRouter<R: Sendable>(
    _ witness: Witness, prefix: String = "", _ body: @Sendable (any TestClientProtocol) async throws -> R
) async throws -> R {
    let app = Application(router: WitnessServer.router(for: witness, prefix: prefix), logger: quietLogger)
    return try await app.test(.router) { client in try await body(client) }
}

/// Parses the 200 body: exactly one cosignature line by `witness`, valid on `checkpoint`.
func verifiedCosignature(
    _ answer: Answer, checkpoint: SignedCheckpoint, witness: NoteVerifierKey,
    sourceLocation: SourceLocation = #_sourceLocation
) throws -> (NoteSignature, UInt64) {
    #expect(answer.status == 200, "\(answer.text)", sourceLocation: sourceLocation)
    let lines = answer.text.split(separator: "\n", omittingEmptySubsequences: false)
    #expect(lines.count == 2 && lines[1].isEmpty, "one line ending in a newline: \(answer.text)")
    let line = try NoteSignature(parsingLine: String(lines[0]))
    let timestamp = try CosignatureV1.verify(checkpoint.adding(line), cosigner: witness)
    return (line, timestamp)
}

extension WitnessCoordinator {
    /// A coordinator writing through an engine of its own (tests only: the engine is never stopped).
    convenience init(ledger: Ledger, witnesses: [WitnessEndpoint], logger: Logger, options: Options = Options()) {
        self.init(engine: IngestEngine(ledger: ledger), witnesses: witnesses, logger: logger, options: options)
    }
}
