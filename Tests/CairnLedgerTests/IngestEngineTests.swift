import CairnCrypto
import CairnLedger
import CairnTestSupport
import Foundation
import Synchronization
import Testing

@Suite("Group-commit ingest engine")
struct IngestEngineTests {
    func record(_ producer: Int, _ n: Int) -> PreparedEntry {
        PreparedEntry(canonicalBytes: Array("{\"n\":\(n),\"p\":\(producer)}".utf8))
    }

    @Test("Many concurrent producers get distinct, gap-free indexes; batches are shared; fsck passes")
    func concurrentProducers() async throws {
        let dir = try TemporaryDirectory()
        let ledger = try makeLedger(dir)
        let engine = IngestEngine(ledger: ledger)
        let producers = 64, perProducer = 40
        let results = try await withThrowingTaskGroup(of: [(Int, AppendResult)].self) { group in
            for p in 0..<producers {
                group.addTask {
                    var mine: [(Int, AppendResult)] = []
                    for n in 0..<perProducer { mine.append((n, try await engine.append(record(p, n)))) }
                    return mine
                }
            }
            var all: [(Int, AppendResult)] = []
            for try await part in group { all += part }
            return all
        }
        engine.shutdown()
        #expect(results.map(\.1.index).sorted() == Array(0..<UInt64(producers * perProducer)))
        #expect(results.allSatisfy { !$0.1.duplicate })
        // Each acknowledged record is at its index.
        for (_, result) in results.prefix(200) {
            #expect(SHA256.hash(try ledger.entry(at: result.index)) == result.digest)
        }
        let stats = engine.statistics
        #expect(stats.records == UInt64(producers * perProducer))
        #expect(stats.batches < UInt64(producers * perProducer), "records should share commits")
        #expect(try ledger.fsck().checkpoints == stats.batches + 1)
    }

    @Test("A producer's records keep their order and are acknowledged after commit; duplicates are reported")
    func ordering() async throws {
        let dir = try TemporaryDirectory()
        let ledger = try makeLedger(dir)
        let engine = IngestEngine(ledger: ledger)
        defer { engine.shutdown() }
        let entries = (0..<1000).map { record(0, $0) }
        let outcomes = try await engine.append(contentsOf: entries)
        #expect(outcomes.compactMap(\.result?.index) == Array(0..<1000))
        #expect(try ledger.treeSize() == 1000)
        let again = try await engine.append(contentsOf: Array(entries[10..<20]) + [record(1, 0)])
        #expect(again.compactMap(\.result?.duplicate) == Array(repeating: true, count: 10) + [false])
        #expect(again.last?.result?.index == 1000)
    }

    @Test("Overload produces back-pressure: a full queue refuses at once, or makes a patient producer wait")
    func backPressure() async throws {
        let dir = try TemporaryDirectory()
        let ledger = try makeLedger(dir)
        var configuration = IngestEngine.Configuration()
        configuration.maxQueuedRecords = 100
        configuration.maxBatchRecords = 100
        configuration.maxBatchDelay = .milliseconds(50)
        let engine = IngestEngine(ledger: ledger, configuration: configuration)
        defer { engine.shutdown() }
        // Flood with many small submissions at once: some must be refused, none lost.
        let outcomes = await withTaskGroup(of: Result<AppendResult, Error>.self) { group in
            for n in 0..<2000 {
                group.addTask {
                    do {
                        return .success(try await engine.append(record(2, n)))
                    } catch {
                        return .failure(error)
                    }
                }
            }
            var all: [Result<AppendResult, Error>] = []
            for await outcome in group { all.append(outcome) }
            return all
        }
        let busy = outcomes.filter {
            if case .failure(let e) = $0 { return e is IngestBusyError } else { return false }
        }
        let ok = outcomes.compactMap { try? $0.get() }
        #expect(!busy.isEmpty, "2000 concurrent submissions into a queue of 100 must be refused in part")
        #expect(busy.count + ok.count == 2000)
        #expect(engine.statistics.busyRefusals == UInt64(busy.count))
        #expect(try ledger.treeSize() == UInt64(ok.count))
        #expect(engine.queuedRecords <= 100)
        // A producer that agrees to wait gets in, whatever the load.
        let waited = try await engine.append(contentsOf: (0..<500).map { record(3, $0) }, whenBusy: .wait)
        #expect(waited.count == 500)
    }

    @Test("A producer cancelled while waiting does not corrupt the batch or the ledger")
    func cancellation() async throws {
        let dir = try TemporaryDirectory()
        let ledger = try makeLedger(dir)
        var configuration = IngestEngine.Configuration()
        configuration.maxBatchDelay = .milliseconds(20)
        let engine = IngestEngine(ledger: ledger, configuration: configuration)
        defer { engine.shutdown() }
        var cancelled = 0
        var acknowledged: [AppendResult] = []
        for round in 0..<20 {
            let tasks = (0..<10).map { n in Task { try await engine.append(record(round, n)) } }
            tasks[round % 10].cancel()
            for task in tasks {
                do {
                    acknowledged.append(try await task.value)
                } catch is CancellationError {
                    cancelled += 1
                }
            }
        }
        // Every acknowledged record is in the log exactly where it was acknowledged.
        for result in acknowledged {
            #expect(SHA256.hash(try ledger.entry(at: result.index)) == result.digest)
        }
        #expect(Set(acknowledged.map(\.index)).count == acknowledged.count)
        #expect(try ledger.treeSize() >= UInt64(acknowledged.count))
        #expect(acknowledged.count + cancelled == 200)
        #expect(cancelled > 0, "cancelling right after submission, with a 20 ms linger, must withdraw some")
        #expect(try ledger.fsck().leaves == ledger.treeSize())
    }

    @Test("An atomic submission is all-or-nothing; a rejected record in a shared batch spares the others")
    func rejections() async throws {
        let dir = try TemporaryDirectory()
        let ledger = try Ledger.create(at: dir.path, origin: "example.com/engine")
        let engine = IngestEngine(ledger: ledger)
        defer { engine.shutdown() }
        let rules = ledger.recordRules()
        let c1 = try PreparedEntry.prepare(record: checkpoint(id: "c1"), rules: rules)
        let orphan = try PreparedEntry.prepare(record: review("missing"), rules: rules)
        await #expect(throws: AppendRejection.self) {
            _ = try await engine.append(contentsOf: [c1, orphan], atomic: true)
        }
        #expect(try ledger.treeSize() == 0)
        let outcomes = try await engine.append(contentsOf: [c1, orphan])
        #expect(outcomes[0].result?.index == 0)
        guard case .rejected(let rejection) = outcomes[1] else {
            Issue.record("expected a rejection")
            return
        }
        #expect(rejection.problems.map(\.code) == ["unknownSubject"])
        #expect(try ledger.treeSize() == 1)
        #expect(try ledger.fsck().leaves == 1)
    }

    @Test("A batch refused after some of its leaves were hashed leaves the writer's tiles to be reloaded")
    func refusedBatchReloadsTiles() throws {
        let dir = try TemporaryDirectory()
        let ledger = try Ledger.create(at: dir.path, origin: "example.com/engine")
        let rules = ledger.recordRules()
        let c0 = try PreparedEntry.prepare(record: checkpoint(id: "c0"), rules: rules)
        _ = try ledger.append([c0])
        let c1 = try PreparedEntry.prepare(record: checkpoint(id: "c1"), rules: rules)
        let orphan = try PreparedEntry.prepare(record: review("missing"), rules: rules)
        #expect(throws: AppendRejection.self) { _ = try ledger.append([c1, orphan]) }
        let c2 = try PreparedEntry.prepare(record: checkpoint(id: "c2"), rules: rules)
        #expect(try ledger.append([c2]).results.map(\.index) == [1])
        #expect(try ledger.fsck().leaves == 2)
    }

    @Test("Atomic submissions share one transaction with others; a refused one leaves the rest of the batch")
    func atomicSubmissionsShareBatches() async throws {
        let dir = try TemporaryDirectory()
        let ledger = try Ledger.create(at: dir.path, origin: "example.com/engine")
        var configuration = IngestEngine.Configuration()
        configuration.maxBatchDelay = .milliseconds(300)  // everything below is queued within it
        let engine = IngestEngine(ledger: ledger, configuration: configuration)
        defer { engine.shutdown() }
        let rules = ledger.recordRules()
        let c = try (1...4).map { try PreparedEntry.prepare(record: checkpoint(id: "c\($0)"), rules: rules) }
        let orphan = try PreparedEntry.prepare(record: review("missing"), rules: rules)
        let refused = try engine.enqueue(contentsOf: [c[0], orphan], atomic: true)
        let pair = try engine.enqueue(contentsOf: [c[1], c[2]], atomic: true)
        let single = try engine.enqueue(contentsOf: [c[3]])
        do {
            _ = try await refused.outcomes()
            Issue.record("the group with an orphan review must be refused")
        } catch let rejection as AppendRejection {
            #expect(rejection.position == 1, "counted from the submission's first record")
            #expect(rejection.problems.map(\.code) == ["unknownSubject"])
        }
        #expect(try await pair.outcomes().compactMap(\.result?.index) == [0, 1])
        #expect(try await single.outcomes().compactMap(\.result?.index) == [2])
        #expect(engine.statistics.batches == 1, "the three submissions were one commit")
        #expect(try ledger.treeSize() == 3)
        #expect(try ledger.fsck().leaves == 3)
    }

    @Test("enqueue keeps several submissions of one producer in flight, in order, even when they wait for room")
    func pipelinedSubmissions() async throws {
        let dir = try TemporaryDirectory()
        let ledger = try makeLedger(dir)
        var configuration = IngestEngine.Configuration()
        configuration.maxQueuedRecords = 150
        let engine = IngestEngine(ledger: ledger, configuration: configuration)
        defer { engine.shutdown() }
        var pending: [PendingAppend] = []
        for chunk in 0..<20 {
            pending.append(try engine.enqueue(contentsOf: (0..<100).map { record(chunk, $0) }, whenBusy: .wait))
        }
        var indexes: [UInt64] = []
        for p in pending { indexes += try await p.outcomes().compactMap(\.result?.index) }
        #expect(indexes == Array(0..<2000))
        #expect(try await pending[3].outcomes().count == 100, "outcomes can be read more than once")
        #expect(throws: IngestBusyError.self) {
            var tight = IngestEngine.Configuration()
            tight.maxQueuedRecords = 1
            tight.maxBatchDelay = .seconds(1)
            let slow = IngestEngine(ledger: ledger, configuration: tight)
            defer { slow.shutdown() }
            _ = try slow.enqueue(contentsOf: [record(9, 0)])
            _ = try slow.enqueue(contentsOf: [record(9, 1)])
        }
    }

    @Test("Every shutdown returns only once the writer has committed what was queued and exited, however many race")
    func concurrentShutdowns() throws {
        let dir = try TemporaryDirectory()
        let ledger = try makeLedger(dir)
        // A slow commit (the observer runs on the writer, inside the batch): the queued record
        // is still being committed when the shutdowns begin.
        let inCommit = DispatchSemaphore(value: 0)
        let observerDone = Mutex(false)
        var configuration = IngestEngine.Configuration()
        configuration.commitObserver = IngestEngine.CommitObserver { _ in
            inCommit.signal()
            Thread.sleep(forTimeInterval: 0.5)
            observerDone.withLock { $0 = true }
        }
        let engine = IngestEngine(ledger: ledger, configuration: configuration)
        let pending = try engine.enqueue(contentsOf: [record(0, 0)])
        inCommit.wait()
        // The first shutdown joins the writer; the second starts while the first waits in the join
        // (before the fix it returned at once, with the commit still running).
        let first = Thread { engine.shutdown() }
        first.start()
        Thread.sleep(forTimeInterval: 0.1)
        engine.shutdown()
        #expect(observerDone.withLock { $0 }, "shutdown returned while the writer was still committing")
        #expect(pending.completedOutcomes != nil, "shutdown returned before the queued record was answered")
        #expect(try ledger.treeSize() == 1)
    }

    @Test("After shutdown, submissions fail clearly")
    func shutdown() async throws {
        let dir = try TemporaryDirectory()
        let engine = IngestEngine(ledger: try makeLedger(dir))
        _ = try await engine.append(record(0, 0))
        engine.shutdown()
        await #expect(throws: IngestShutdownError.self) { try await engine.append(record(0, 1)) }
    }
}
