import CairnJSON
import CairnLedger
import CairnTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Testing

@testable import CairnServer

/// Back-pressure, rate limits, timeouts, metrics and the commit observer.
@Suite("Operations")
struct OperationsTests {
    @Test("a flood against a tiny ingest queue: 503 busy with Retry-After, the rest durable, the ledger consistent")
    func backPressure() async throws {
        let fixture = try await ServerFixture {
            $0.ingest.maxQueuedRecords = 1
            $0.ingest.maxBatchDelay = .milliseconds(20)
            $0.busyRetryAfterSeconds = 2
        }
        let replies = try await fixture.inProcess { client in
            try await withThrowingTaskGroup(of: (Int, Reply).self) { group in
                for i in 0..<60 {
                    group.addTask { (i, try await client.post("/v1/entries", json: note("flood \(i)"))) }
                }
                var replies: [(Int, Reply)] = []
                for try await reply in group { replies.append(reply) }
                return replies
            }
        }
        let busy = replies.filter { $0.1.code == 503 }
        let ok = replies.filter { $0.1.code == 200 }
        #expect(busy.count + ok.count == 60, "\(replies.map { $0.1.code })")
        #expect(!busy.isEmpty, "the queue never filled up")
        #expect(!ok.isEmpty)
        for (_, reply) in busy {
            #expect(reply.error == "busy")
            #expect(reply.headers[.retryAfter] == "2")
            #expect(reply.json["retry_after"]?.intValue == 2)
        }
        // Everything acknowledged is in the log, nothing refused is, and the log checks out.
        #expect(try fixture.ledger.treeSize() == UInt64(ok.count))
        for (i, reply) in ok {
            let index = try #require(reply.json[0]?["index"]?.intValue)
            #expect(
                String(decoding: try fixture.ledger.entry(at: UInt64(index)), as: UTF8.self)
                    == #"{"text":"flood \#(i)","type":"note"}"#)
        }
        // fsck throws at the first inconsistency.
        let report = try fixture.ledger.fsck()
        #expect(report.leaves == UInt64(ok.count))
    }

    @Test("per-token rate limit: 429 with Retry-After once the burst is spent, other tokens unaffected")
    func rateLimit() async throws {
        let fixture = try await ServerFixture { $0.rateLimit = .init(requestsPerSecond: 0.1, burst: 3) }
        try await fixture.live { client in
            for _ in 0..<3 { #expect(try await client.get("/checkpoint", as: "read").code == 200) }
            let limited = try await client.get("/checkpoint", as: "read")
            #expect(limited.code == 429)
            #expect(limited.error == "rate_limited")
            // One token refills in 10 s, minus however long the burst took: at least 1 s (rounded up), at most 10.
            let wait = try #require(limited.headers[.retryAfter].flatMap { Int($0) })
            #expect((1...10).contains(wait))
            #expect(limited.json["retry_after"]?.intValue == wait)
            #expect(try await client.get("/checkpoint", as: "audit").code == 200)
            // Anonymous requests share a bucket per address.
            for _ in 0..<3 { _ = try await client.get("/healthz") }
            #expect(try await client.get("/healthz").code == 429)
        }
    }

    @Test(
        "behind a trusted proxy, X-Forwarded-For names the client: its own bucket, and forwarded_for in the access log")
    func trustedProxy() async throws {
        let fixture = try await ServerFixture {
            $0.rateLimit = .init(requestsPerSecond: 0.1, burst: 2)
            $0.trustedProxies = ["127.0.0.1"]
        }
        try await fixture.live { client in
            let alice: HTTPFields = [.xForwardedFor: "203.0.113.7"]
            let bob: HTTPFields = [.xForwardedFor: "198.51.100.1, 203.0.113.9"]
            for _ in 0..<2 { #expect(try await client.get("/healthz", headers: alice).code == 200) }
            #expect(try await client.get("/healthz", headers: alice).code == 429)
            #expect(try await client.get("/healthz", headers: bob).code == 200)
            try await client.append([note("p")])
            _ = try await client.get("/v1/entries/0", as: "read", headers: bob)
            let record = try JSONParser.parse(try fixture.server.accessLog.ledger.entry(at: 1))  // 0: the append
            #expect(record["peer"]?.stringValue == "127.0.0.1")
            #expect(record["forwarded_for"]?.stringValue == "198.51.100.1, 203.0.113.9")
        }
    }

    @Test("the token bucket refills at its rate")
    func bucket() {
        let limiter = RateLimiter(limit: .init(requestsPerSecond: 10, burst: 2), maxBuckets: 2)
        let start = ContinuousClock.now
        #expect(limiter.acquire("a", now: start) == nil)
        #expect(limiter.acquire("a", now: start) == nil)
        #expect(limiter.acquire("a", now: start) == 1)
        #expect(limiter.acquire("a", now: start + .milliseconds(100)) == nil)
        #expect(limiter.acquire("a", now: start + .milliseconds(100)) == 1)
        #expect(limiter.acquire("b", now: start) == nil)
        // Past maxBuckets, full buckets (indistinguishable from new ones) are dropped, never a spent one.
        #expect(limiter.acquire("c", now: start + .seconds(1)) == nil)
        #expect(limiter.acquire("a", now: start + .milliseconds(1100)) == nil)
    }

    @Test("a flood of client addresses does not reset a token's spent bucket")
    func flood() {
        let limiter = RateLimiter(limit: .init(requestsPerSecond: 0.1, burst: 1), maxBuckets: 8)
        let start = ContinuousClock.now
        #expect(limiter.acquire("token:t", now: start) == nil)
        #expect(limiter.acquire("token:t", now: start) != nil)
        for i in 0..<100 { _ = limiter.acquire("peer:10.0.0.\(i)", now: start) }
        #expect(limiter.acquire("token:t", now: start) != nil, "still spent")
    }

    @Test("/metrics exposes the appends, batches, commit latency, tree sizes, errors and HTTP requests")
    func metrics() async throws {
        let fixture = try await ServerFixture()
        try await fixture.live { client in
            try await client.append([note("m1"), note("m2")])
            try await client.append([note("m1")])
            _ = try await client.get("/v1/entries/0", as: "read")
            _ = try await client.get("/v1/entries/0", as: "append")
            let reply = try await client.get("/metrics", as: "metrics")
            #expect(reply.code == 200)
            #expect(reply.contentType == "text/plain; version=0.0.4; charset=utf-8")
            let text = reply.text
            for expected in [
                #"cairn_appended_records_total{outcome="appended"} 2"#,
                #"cairn_appended_records_total{outcome="duplicate"} 1"#,
                "# TYPE cairn_ingest_batch_records histogram",
                "cairn_ingest_batch_records_count 2",
                "# TYPE cairn_ingest_commit_duration_seconds histogram",
                "cairn_ingest_commit_duration_seconds_count 2",
                "cairn_tree_size 2",
                "cairn_access_log_tree_size 3",  // two appends and a read
                "cairn_ingest_queued_records 0",
                #"cairn_errors_total{kind="forbidden"} 1"#,
                #"cairn_http_requests_total{route="/v1/entries",method="POST",status="200"} 2"#,
                #"cairn_http_requests_total{route="/v1/entries/{entry}",method="GET",status="403"} 1"#,
                "# TYPE cairn_http_request_duration_seconds histogram",
                "# HELP cairn_tree_size Leaves in the main log",
            ] {
                #expect(text.contains(expected), "missing \(expected) in:\n\(text)")
            }
        }
    }

    @Test("IngestEngine's commit observer sees every commit, before its producers resume")
    func commitObserver() async throws {
        let dir = try TemporaryDirectory()
        var options = Ledger.CreateOptions()
        options.profile = .generic
        let ledger = try Ledger.create(at: dir.file("l"), origin: "example.com/observer", options: options)
        let seen = Observations()
        var configuration = IngestEngine.Configuration()
        configuration.commitObserver = .init { seen.append($0) }
        let engine = IngestEngine(ledger: ledger, configuration: configuration)
        defer { engine.shutdown() }
        let entries = try (0..<3).map {
            try PreparedEntry.prepare(json: Array(note("o\($0)").utf8), maxEntryBytes: 1024)
        }
        _ = try await engine.append(contentsOf: entries, atomic: true)
        #expect(seen.all.count == 1)
        #expect(seen.all.first?.records == 3)
        #expect(seen.all.first?.treeSize == 3)
        #expect(seen.all.first.map { $0.duration > .zero } == true)
        _ = try await engine.append(entries[0])
        #expect(seen.all.count == 2)
        #expect(seen.all.last?.records == 1)
        #expect(seen.all.last?.treeSize == 3)
        // Observers compare by identity, keeping Configuration Hashable.
        #expect(configuration.commitObserver == configuration.commitObserver)
        #expect(IngestEngine.CommitObserver { _ in } != configuration.commitObserver)
    }

    @Test("requests slower than the timeout are 503 timeout, and their handler is cancelled")
    func timeout() async throws {
        let router = Router(context: CairnRequestContext.self)
        // The task around the timeout (a connection's, serving its next request too) must not
        // end up cancelled: only the handler's is.
        let outerCancelled = Counter()
        router.add(middleware: ObserveCancellation(cancelled: outerCancelled))
        router.add(middleware: RequestTimeoutMiddleware(timeout: .milliseconds(50)))
        let cancelled = Counter()
        router.get("/slow") { _, _ -> Response in
            do {
                try await Task.sleep(for: .seconds(10))
            } catch {
                cancelled.increment()
                throw error
            }
            return Response(status: .ok)
        }
        router.get("/fast") { _, _ in Response(status: .ok) }
        let app = Application(router: router)
        try await app.test(.router) { client in
            // Had the timeout not fired, the handler would have answered 200 after its sleep.
            let slow = try await client.execute(uri: "/slow", method: .get)
            #expect(slow.status == .serviceUnavailable)
            #expect(String(buffer: slow.body).contains("\"timeout\""))
            #expect(slow.headers[.retryAfter] == "1")
            let fast = try await client.execute(uri: "/fast", method: .get)
            #expect(fast.status == .ok)
        }
        #expect(cancelled.value == 1)
        #expect(outerCancelled.value == 0)
    }
}

/// Counts the requests after which the task that ran the rest of the chain was cancelled.
struct ObserveCancellation: RouterMiddleware {
    typealias Context = CairnRequestContext
    let cancelled: Counter

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        defer { if Task.isCancelled { cancelled.increment() } }
        return try await next(request, context)
    }
}

final class Observations: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [IngestEngine.CommitObservation] = []
    func append(_ item: IngestEngine.CommitObservation) { lock.withLock { items.append(item) } }
    var all: [IngestEngine.CommitObservation] { lock.withLock { items } }
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func increment() { lock.withLock { count += 1 } }
    var value: Int { lock.withLock { count } }
}
