import CairnJSON
import CairnTestSupport
import Foundation
import Testing

@testable import CairnClient

/// `{"n":i,"tag":tag}` records, canonical.
func makeRecords(_ range: Range<Int>, tag: String = "r", strict: Bool = false) -> [OutgoingRecord] {
    range.map { OutgoingRecord(canonicalBytes: Array(#"{"n":\#($0),"tag":"\#(tag)"}"#.utf8), strict: strict) }
}

/// The waits a `Submitter` asked for, recorded instead of slept.
final class Sleeps: @unchecked Sendable {
    private let lock = NSLock()
    private var recorded: [Double] = []
    var waits: [Double] { lock.withLock { recorded } }
    func sleep(_ seconds: Double) { lock.withLock { recorded.append(seconds) } }
}

func makeSubmitter(
    _ url: String, spool: String?, token: String? = nil, timeout: Double = 10, sleeps: Sleeps = Sleeps(),
    configure: (inout SubmitPolicy) -> Void = { _ in }
) throws -> Submitter {
    var policy = SubmitPolicy()
    configure(&policy)
    return Submitter(
        client: HTTPLedgerClient(server: try ServerAddress(url), token: token, timeout: timeout),
        spoolDirectory: spool, policy: policy, sleep: { sleeps.sleep($0) })
}

@Suite("Submitter: send, else spool; replay in order, exactly once")
struct SubmitterTests {
    @Test("A server that is up gets the records and answers one receipt per record, in order")
    func appendsWhenServerIsUp() async throws {
        let ledger = FakeLedger()
        let server = try FakeServer { ledger.handle($0) }
        let dir = try TemporaryDirectory()
        let submitter = try makeSubmitter(server.url, spool: dir.path + "/spool")
        var events: [SubmitEvent] = []
        let outcome = try await submitter.submit(makeRecords(0..<5)) { events.append($0) }
        #expect(outcome.appended == 5 && outcome.spooled == 0 && outcome.failure == nil)
        #expect(ledger.log == makeRecords(0..<5).map(\.bytes))
        let indexes = events.compactMap { event -> UInt64? in
            if case .appended(_, let receipt) = event { return receipt.index }
            return nil
        }
        #expect(indexes == [0, 1, 2, 3, 4])
        #expect(server.requests.count == 1)
        #expect(server.requests[0].headers["content-type"] == "application/x-ndjson")
        // Nothing needed spooling, so no spool was created.
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/spool"))
    }

    @Test("One record is sent as application/json; the token as a Bearer credential")
    func singleRecordAndToken() async throws {
        let ledger = FakeLedger(token: "s3cret")
        let server = try FakeServer { ledger.handle($0) }
        let submitter = try makeSubmitter(server.url, spool: nil, token: "s3cret")
        let outcome = try await submitter.submit(makeRecords(0..<1))
        #expect(outcome.appended == 1)
        #expect(server.requests[0].headers["content-type"] == "application/json")
        #expect(server.requests[0].headers["authorization"] == "Bearer s3cret")
    }

    @Test("Connection refused: every record is spooled, durably, before submit returns")
    func spoolsOnRefusedConnection() async throws {
        let server = try FakeServer(listening: false)
        let dir = try TemporaryDirectory()
        let submitter = try makeSubmitter(server.url, spool: dir.path)
        var spooledPositions: [Int] = []
        let outcome = try await submitter.submit(makeRecords(0..<3)) { event in
            if case .spooled(let position, _, _) = event { spooledPositions.append(position) }
        }
        #expect(outcome.failure?.kind == .transient)
        #expect(outcome.spooled == 3 && outcome.appended == 0)
        #expect(spooledPositions == [0, 1, 2])
        let spool = try #require(try Spool.open(directory: dir.path, create: false))
        let waiting = try spool.oldest(for: try ServerAddress(server.url))
        #expect(waiting.map(\.record) == makeRecords(0..<3))
        let status = try spool.status()
        #expect(status.records == 3)
        #expect(status.servers.first?.lastError?.contains("connection refused") == true)
    }

    @Test("A timeout spools the records (the outcome is unknown, so resending must be safe)")
    func spoolsOnTimeout() async throws {
        let ledger = FakeLedger()
        let server = try FakeServer { request in
            var response = ledger.handle(request)
            response.delay = 3
            return response
        }
        let dir = try TemporaryDirectory()
        let submitter = try makeSubmitter(server.url, spool: dir.path, timeout: 1)
        let outcome = try await submitter.submit(makeRecords(0..<2))
        #expect(outcome.failure?.kind == .transient)
        #expect(outcome.spooled == 2)
        // The server did append them after all: the replay gets duplicate:true, nothing twice.
        try await Task.sleep(nanoseconds: 2_500_000_000)
        server.setHandler { ledger.handle($0) }
        var duplicates: [Bool] = []
        let flushed = try await submitter.flush { event in
            if case .flushed(_, let receipt) = event { duplicates.append(receipt.duplicate) }
        }
        #expect(flushed.sent == 2 && flushed.remaining == 0)
        #expect(duplicates == [true, true])
        #expect(ledger.log.count == 2)
    }

    @Test("5xx answers spool the records once the retries are spent")
    func spoolsOnServerErrors() async throws {
        let server = try FakeServer { _ in .json(500, #"{"error":"internal","message":"storage failure"}"#) }
        let dir = try TemporaryDirectory()
        let sleeps = Sleeps()
        let submitter = try makeSubmitter(server.url, spool: dir.path, sleeps: sleeps)
        let outcome = try await submitter.submit(makeRecords(0..<2))
        #expect(outcome.failure?.kind == .transient && outcome.failure?.status == 500)
        #expect(outcome.spooled == 2)
        #expect(server.requests.count == 4)  // the first attempt and 3 retries
        #expect(sleeps.waits == [0.5, 1, 2])  // exponential backoff without Retry-After
    }

    @Test("Spooled records are replayed in FIFO order, across several appends, then leave the spool")
    func replaysInFIFOOrder() async throws {
        let server = try FakeServer(listening: false)
        let url = server.url
        let dir = try TemporaryDirectory()
        let submitter = try makeSubmitter(url, spool: dir.path)
        for batch in 0..<4 {
            let outcome = try await submitter.submit(makeRecords((batch * 5)..<(batch * 5 + 5)))
            #expect(outcome.spooled == 5)
        }
        let ledger = FakeLedger()
        server.setHandler { ledger.handle($0) }
        server.startListening()
        let replay = try makeSubmitter(url, spool: dir.path) { $0.maxRecordsPerRequest = 3 }
        var sequences: [UInt64] = []
        let flushed = try await replay.flush { event in
            if case .flushed(let spooled, _) = event { sequences.append(spooled.sequence) }
        }
        #expect(flushed.sent == 20 && flushed.remaining == 0 && flushed.failure == nil)
        #expect(ledger.log == makeRecords(0..<20).map(\.bytes))
        #expect(sequences == sequences.sorted())
        #expect(server.requests.count == 7)  // 20 records, at most 3 per request
        #expect(try Spool.status(directory: dir.path).records == 0)
    }

    @Test("append sends the server's older spooled records before the new ones")
    func submitFlushesOlderRecordsFirst() async throws {
        let server = try FakeServer(listening: false)
        let url = server.url
        let dir = try TemporaryDirectory()
        _ = try await makeSubmitter(url, spool: dir.path).submit(makeRecords(0..<3, tag: "old"))
        let ledger = FakeLedger()
        server.setHandler { ledger.handle($0) }
        server.startListening()
        let outcome = try await makeSubmitter(url, spool: dir.path).submit(makeRecords(0..<2, tag: "new"))
        #expect(outcome.flushed?.sent == 3)
        #expect(outcome.appended == 2 && outcome.failure == nil)
        #expect(ledger.log == (makeRecords(0..<3, tag: "old") + makeRecords(0..<2, tag: "new")).map(\.bytes))
    }

    @Test("While older records cannot be sent, new ones are spooled behind them")
    func newRecordsQueueBehindOlderOnes() async throws {
        let server = try FakeServer(listening: false)
        let url = server.url
        let dir = try TemporaryDirectory()
        _ = try await makeSubmitter(url, spool: dir.path).submit(makeRecords(0..<2, tag: "old"))
        let outcome = try await makeSubmitter(url, spool: dir.path).submit(makeRecords(0..<2, tag: "new"))
        #expect(outcome.failure?.kind == .transient && outcome.spooled == 2)
        let spool = try #require(try Spool.open(directory: dir.path, create: false))
        #expect(
            try spool.oldest(for: try ServerAddress(url)).map(\.record)
                == makeRecords(0..<2, tag: "old") + makeRecords(0..<2, tag: "new"))
    }

    @Test("503 with Retry-After: wait that long, then send again")
    func retriesAfter503() async throws {
        let ledger = FakeLedger()
        let calls = Counter()
        let server = try FakeServer { request in
            if calls.next() == 0 {
                return .json(
                    503, #"{"error":"busy","message":"the ingest queue is full","retry_after":2}"#,
                    headers: [("Retry-After", "2")])
            }
            return ledger.handle(request)
        }
        let dir = try TemporaryDirectory()
        let sleeps = Sleeps()
        var retried: [Double] = []
        let outcome = try await makeSubmitter(server.url, spool: dir.path, sleeps: sleeps).submit(makeRecords(0..<4)) {
            event in
            if case .retrying(let seconds, _) = event { retried.append(seconds) }
        }
        #expect(outcome.appended == 4 && outcome.spooled == 0 && outcome.failure == nil)
        #expect(sleeps.waits == [2])
        #expect(retried == [2])
        #expect(server.requests.count == 2)
        #expect(server.requests[0].body == server.requests[1].body)
    }

    @Test("429 with a Retry-After beyond the longest wait: the records are spooled, not waited for")
    func longRetryAfterSpools() async throws {
        let server = try FakeServer { _ in
            .json(429, #"{"error":"rate_limited","message":"slow down"}"#, headers: [("Retry-After", "3600")])
        }
        let dir = try TemporaryDirectory()
        let sleeps = Sleeps()
        let outcome = try await makeSubmitter(server.url, spool: dir.path, sleeps: sleeps).submit(makeRecords(0..<2))
        #expect(outcome.failure?.kind == .transient && outcome.failure?.retryAfter == 3600)
        #expect(outcome.spooled == 2)
        #expect(sleeps.waits.isEmpty)
        #expect(server.requests.count == 1)
    }

    @Test("422: no retry and no spool; the refused record is reported with its position")
    func rejectedIsNotRetried() async throws {
        let ledger = FakeLedger()
        let server = try FakeServer { ledger.handle($0) }
        let dir = try TemporaryDirectory()
        let records =
            makeRecords(0..<2) + [OutgoingRecord(canonicalBytes: Array(#"{"invalid":true}"#.utf8))]
            + makeRecords(2..<4)
        var rejected: [(Int, [Problem])] = []
        let outcome = try await makeSubmitter(server.url, spool: dir.path).submit(records) { event in
            if case .rejected(let position, let problems, _) = event { rejected.append((position, problems)) }
        }
        #expect(outcome.failure?.kind == .rejected && outcome.failure?.status == 422)
        #expect(outcome.appended == 0 && outcome.spooled == 0 && outcome.rejected == 1)
        #expect(rejected.map(\.0) == [2])
        #expect(rejected.first?.1.first?.path == "$.invalid")
        #expect(server.requests.count == 1)
        #expect(ledger.log.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/data.mdb"))
    }

    @Test("422 with skipInvalid: the refused record is left out and the others appended")
    func rejectedSkipped() async throws {
        let ledger = FakeLedger()
        let server = try FakeServer { ledger.handle($0) }
        let bad = OutgoingRecord(canonicalBytes: Array(#"{"invalid":true}"#.utf8))
        let records = makeRecords(0..<2) + [bad] + makeRecords(2..<4)
        let outcome = try await makeSubmitter(server.url, spool: nil).submit(records, skipInvalid: true)
        #expect(outcome.failure == nil && outcome.appended == 4 && outcome.rejected == 1)
        #expect(ledger.log == makeRecords(0..<4).map(\.bytes))
        #expect(server.requests.count == 2)
    }

    @Test("A spooled record the server refuses goes to the dead letters; the replay goes on")
    func refusedSpooledRecordIsDeadLettered() async throws {
        let server = try FakeServer(listening: false)
        let url = server.url
        let dir = try TemporaryDirectory()
        let bad = OutgoingRecord(canonicalBytes: Array(#"{"invalid":true}"#.utf8))
        _ = try await makeSubmitter(url, spool: dir.path).submit(makeRecords(0..<3) + [bad] + makeRecords(3..<6))
        let ledger = FakeLedger()
        server.setHandler { ledger.handle($0) }
        server.startListening()
        let flushed = try await makeSubmitter(url, spool: dir.path).flush()
        #expect(flushed.sent == 6 && flushed.deadLettered == 1 && flushed.remaining == 0 && flushed.failure == nil)
        #expect(ledger.log == makeRecords(0..<6).map(\.bytes))
        let spool = try #require(try Spool.open(directory: dir.path, create: false))
        let letters = try spool.deadLetters()
        #expect(letters.count == 1)
        #expect(letters.first?.record == bad && letters.first?.status == 422 && letters.first?.code == "invalid_record")
        #expect(letters.first?.problems.first?.path == "$.invalid")
        #expect(try spool.status().deadLetters == 1)
        // Requeued, it is sent again (and refused again).
        #expect(try spool.requeueDeadLetters() == 1)
        #expect(try spool.count(for: try ServerAddress(url)) == 1)
        let again = try await makeSubmitter(url, spool: dir.path).flush()
        #expect(again.deadLettered == 1)
        #expect(try spool.purgeDeadLetters() == 1)
        #expect(try spool.deadLetters().isEmpty)
    }

    @Test("A batch refused without saying which record is bisected down to the culprit")
    func unlocatedRefusalIsBisected() async throws {
        let ledger = FakeLedger()
        let server = try FakeServer { request in
            // Refuses any request containing the bad record, without problems.
            if request.records.contains(where: { String(decoding: $0, as: UTF8.self).contains("invalid") }) {
                return .json(422, #"{"error":"rejected","message":"nothing was appended"}"#)
            }
            return ledger.handle(request)
        }
        let bad = OutgoingRecord(canonicalBytes: Array(#"{"invalid":true}"#.utf8))
        let records = makeRecords(0..<5) + [bad] + makeRecords(5..<8)
        var rejected: [Int] = []
        let outcome = try await makeSubmitter(server.url, spool: nil).submit(records, skipInvalid: true) { event in
            if case .rejected(let position, _, _) = event { rejected.append(position) }
        }
        #expect(rejected == [5])
        #expect(outcome.appended == 8)
        #expect(ledger.log == makeRecords(0..<8).map(\.bytes))
    }

    @Test("413 for the body: requests are split until they fit")
    func tooLargeBodiesAreSplit() async throws {
        let ledger = FakeLedger(maxBody: 100)
        let server = try FakeServer { ledger.handle($0) }
        let outcome = try await makeSubmitter(server.url, spool: nil).submit(makeRecords(0..<20))
        #expect(outcome.appended == 20 && outcome.failure == nil)
        #expect(ledger.log == makeRecords(0..<20).map(\.bytes))
        #expect(server.requests.allSatisfy { $0.body.count <= 100 || $0.records.count > 1 })
    }

    @Test("401 stops at once: no retry; the records stay spooled until a good token flushes them")
    func unauthorizedStops() async throws {
        let ledger = FakeLedger(token: "right")
        let server = try FakeServer { ledger.handle($0) }
        let dir = try TemporaryDirectory()
        let sleeps = Sleeps()
        let outcome = try await makeSubmitter(server.url, spool: dir.path, token: "wrong", sleeps: sleeps).submit(
            makeRecords(0..<3))
        #expect(outcome.failure?.kind == .unauthorized && outcome.failure?.status == 401)
        #expect(outcome.appended == 0 && outcome.spooled == 3)
        #expect(server.requests.count == 1 && sleeps.waits.isEmpty)

        let refused = try await makeSubmitter(server.url, spool: dir.path, token: "wrong").flush()
        #expect(refused.failure?.kind == .unauthorized && refused.sent == 0 && refused.remaining == 3)
        let accepted = try await makeSubmitter(server.url, spool: dir.path, token: "right").flush()
        #expect(accepted.sent == 3 && accepted.remaining == 0)
        #expect(ledger.log == makeRecords(0..<3).map(\.bytes))
    }

    @Test("403 is an authorization failure too")
    func forbiddenStops() async throws {
        let server = try FakeServer { _ in .json(403, #"{"error":"forbidden","message":"token lacks role append"}"#) }
        let outcome = try await makeSubmitter(server.url, spool: nil, token: "reader").submit(makeRecords(0..<1))
        #expect(outcome.failure?.kind == .unauthorized && outcome.failure?.code == "forbidden")
        #expect(outcome.notSent == 1 && server.requests.count == 1)
    }

    @Test("A URL that is not a Cairn server (404) is a protocol error: nothing spooled")
    func wrongURLIsAProtocolError() async throws {
        let server = try FakeServer { _ in FakeServer.Response(status: 404, body: Array("<html>nope</html>".utf8)) }
        let dir = try TemporaryDirectory()
        let outcome = try await makeSubmitter(server.url + "/wrong", spool: dir.path).submit(makeRecords(0..<2))
        #expect(outcome.failure?.kind == .protocolViolation)
        #expect(outcome.spooled == 0 && outcome.notSent == 2)
        #expect(server.requests.first?.target == "/wrong/v1/entries")
    }

    @Test("A redirect is not followed: a protocol error, one request, nothing spooled, nothing dead-lettered")
    func redirectIsNotFollowed() async throws {
        let target = try FakeServer { _ in .json(200, "[]") }
        let server = try FakeServer { _ in
            FakeServer.Response(status: 307, headers: [("Location", target.url + "/v1/entries")])
        }
        let dir = try TemporaryDirectory()
        let outcome = try await makeSubmitter(server.url, spool: dir.path, token: "s3cret").submit(
            makeRecords(0..<2))
        #expect(outcome.failure?.kind == .protocolViolation && outcome.failure?.status == 307)
        #expect(outcome.spooled == 0 && outcome.notSent == 2 && outcome.rejected == 0)
        #expect(server.requests.count == 1)
        #expect(target.requests.isEmpty, "the records and the token must not go to the Location")
    }

    @Test("A server on a Unix socket (unix:PATH) gets the records; when it is down they are spooled under that name")
    func unixSocketServer() async throws {
        let dir = try TemporaryDirectory()
        let socket = dir.path + "/cairn.sock"
        // Down: no socket yet. The records are spooled for unix:PATH.
        let down = try await makeSubmitter("unix:" + socket, spool: dir.path + "/spool").submit(makeRecords(0..<2))
        #expect(down.failure?.kind == .transient && down.spooled == 2)
        let spool = try #require(try Spool.open(directory: dir.path + "/spool", create: false))
        #expect(try spool.count(for: try ServerAddress("unix:" + socket)) == 2)

        // Up: the spooled records go first, then the new one, with the token.
        let ledger = FakeLedger(token: "s3cret")
        let server = try FakeServer(unixSocket: socket) { ledger.handle($0) }
        let up = try await makeSubmitter("unix:" + socket, spool: dir.path + "/spool", token: "s3cret").submit(
            makeRecords(2..<3))
        #expect(up.failure == nil && up.appended == 1 && up.flushed?.sent == 2)
        #expect(ledger.log == makeRecords(0..<3).map(\.bytes))
        #expect(server.requests.allSatisfy { $0.target == "/v1/entries" })
    }

    @Test("The answer is limited in size: a huge one is a protocol error, and the records stay spooled")
    func oversizedAnswer() async throws {
        let dir = try TemporaryDirectory()
        let server = try FakeServer(listening: false)
        _ = try await makeSubmitter(server.url, spool: dir.path).submit(makeRecords(0..<1))
        let huge = "[" + String(repeating: " ", count: HTTPLedgerClient.maxResponseBytes) + "]"
        server.setHandler { _ in .json(200, huge) }
        server.startListening()
        let flushed = try await makeSubmitter(server.url, spool: dir.path).flush()
        #expect(flushed.failure?.kind == .protocolViolation)
        #expect(flushed.failure?.message.contains("larger than") == true)
        #expect(flushed.remaining == 1 && flushed.deadLettered == 0)
    }

    @Test("A 400 about the request, not the records, sends nothing to the dead letters")
    func requestErrorIsNotARefusal() async throws {
        let server = try FakeServer(listening: false)
        let url = server.url
        let dir = try TemporaryDirectory()
        _ = try await makeSubmitter(url, spool: dir.path).submit(makeRecords(0..<3))
        server.setHandler { _ in .json(400, #"{"error":"invalid_parameter","message":"strict: unknown"}"#) }
        server.startListening()
        let flushed = try await makeSubmitter(url, spool: dir.path).flush()
        #expect(flushed.failure?.kind == .protocolViolation)
        #expect(flushed.remaining == 3, "all three stay queued")
        #expect(server.requests.count == 1, "no bisection")
    }

    @Test("A 200 whose body is not one receipt per record is a protocol error, and the records stay spooled")
    func malformedSuccessKeepsRecords() async throws {
        let server = try FakeServer(listening: false)
        let url = server.url
        let dir = try TemporaryDirectory()
        _ = try await makeSubmitter(url, spool: dir.path).submit(makeRecords(0..<2))
        server.setHandler { _ in .json(200, #"[{"index":0}]"#) }
        server.startListening()
        let flushed = try await makeSubmitter(url, spool: dir.path).flush()
        #expect(flushed.failure?.kind == .protocolViolation && flushed.remaining == 2)
    }

    @Test("Killed between the server's acknowledgement and the spool delete: the replay gets duplicate:true")
    func ackWithoutDeleteResendsAsDuplicate() async throws {
        let server = try FakeServer(listening: false)
        let url = server.url
        let dir = try TemporaryDirectory()
        _ = try await makeSubmitter(url, spool: dir.path).submit(makeRecords(0..<4))
        // The state a crash right after the acknowledgement leaves: the ledger holds the first
        // two, the spool still holds all four.
        let ledger = FakeLedger()
        ledger.preload(makeRecords(0..<2).map(\.bytes))
        server.setHandler { ledger.handle($0) }
        server.startListening()
        var receipts: [AppendReceipt] = []
        let flushed = try await makeSubmitter(url, spool: dir.path).flush { event in
            if case .flushed(_, let receipt) = event { receipts.append(receipt) }
        }
        #expect(flushed.sent == 4 && flushed.duplicates == 2)
        #expect(receipts.map(\.duplicate) == [true, true, false, false])
        #expect(receipts.map(\.index) == [0, 1, 2, 3])
        #expect(ledger.log == makeRecords(0..<4).map(\.bytes))
    }

    @Test("Two replays of one spool at once send every record once: the flush lock serializes them")
    func concurrentFlushesAreSerialized() async throws {
        let server = try FakeServer(listening: false)
        let url = server.url
        let dir = try TemporaryDirectory()
        _ = try await makeSubmitter(url, spool: dir.path).submit(makeRecords(0..<50))
        let ledger = FakeLedger()
        server.setHandler { ledger.handle($0) }
        server.startListening()
        async let first = makeSubmitter(url, spool: dir.path) { $0.maxRecordsPerRequest = 5 }.flush()
        async let second = makeSubmitter(url, spool: dir.path) { $0.maxRecordsPerRequest = 5 }.flush()
        let (a, b) = try await (first, second)
        #expect(a.sent + b.sent == 50)
        #expect(a.duplicates + b.duplicates == 0)
        #expect(ledger.log == makeRecords(0..<50).map(\.bytes))
    }

    @Test("Replaying one server's records leaves other servers' records alone")
    func flushIsPerServer() async throws {
        let serverA = try FakeServer(listening: false)
        let serverB = try FakeServer(listening: false)
        let dir = try TemporaryDirectory()
        _ = try await makeSubmitter(serverA.url, spool: dir.path).submit(makeRecords(0..<2, tag: "a"))
        _ = try await makeSubmitter(serverB.url, spool: dir.path).submit(makeRecords(0..<3, tag: "b"))
        _ = try await makeSubmitter(serverA.url, spool: dir.path).submit(makeRecords(2..<4, tag: "a"))
        let ledger = FakeLedger()
        serverA.setHandler { ledger.handle($0) }
        serverA.startListening()
        let flushed = try await makeSubmitter(serverA.url, spool: dir.path).flush()
        #expect(flushed.sent == 4 && flushed.remaining == 0)
        #expect(ledger.log == makeRecords(0..<4, tag: "a").map(\.bytes))
        let status = try Spool.status(directory: dir.path)
        #expect(status.records == 3)
        #expect(status.servers.first { $0.records > 0 }?.server == (try ServerAddress(serverB.url)))
    }

    @Test("strict records are sent with ?strict=true, in requests of their own")
    func strictFlag() async throws {
        let ledger = FakeLedger()
        let server = try FakeServer { ledger.handle($0) }
        let records = makeRecords(0..<2) + makeRecords(2..<4, strict: true)
        _ = try await makeSubmitter(server.url, spool: nil).submit(records)
        #expect(server.requests.map(\.target) == ["/v1/entries", "/v1/entries?strict=true"])
        #expect(ledger.log == makeRecords(0..<4).map(\.bytes))
    }
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func next() -> Int {
        lock.withLock {
            defer { value += 1 }
            return value
        }
    }
}
