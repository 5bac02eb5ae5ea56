import CairnJSON
import CairnLedger
import CairnTestSupport
import Foundation
import Synchronization
import Testing

@testable import CairnBench

@Suite("Benchmark harness: percentiles, configurations, results")
struct BenchmarkHarnessTests {
    @Test("Percentiles are nearest-rank quantiles in milliseconds")
    func percentiles() {
        // 1…1000 ms, shuffled: the harness sorts.
        let samples = (1...1000).map { UInt64($0) * 1_000_000 }.shuffled()
        let p = Percentiles(samples)
        #expect(p.p50 == 500)
        #expect(p.p99 == 990)
        #expect(p.p999 == 999)
        #expect(p.max == 1000)
        // One sample is every quantile; none is zero everywhere (not a trap).
        let one = Percentiles([2_500_000])
        #expect([one.p50, one.p99, one.p999, one.max] == [2.5, 2.5, 2.5, 2.5])
        let none = Percentiles([])
        #expect([none.p50, none.p99, none.p999, none.max] == [0, 0, 0, 0])
        #expect(JSONWriter.compact(Percentiles([1_234_567]).json).contains("\"p50_ms\":1.235"))
    }

    @Test("An unusable configuration is a typed error, not a trap")
    func invalidConfigurations() async throws {
        let dir = try TemporaryDirectory("bench")
        var ingest = IngestBenchmark.Configuration()
        ingest.records = 10
        ingest.producers = 0
        await #expect(throws: BenchmarkError(.invalidConfiguration, "the record and producer counts must be positive"))
        {
            try await IngestBenchmark.run(ingest, directory: dir.file("a"))
        }
        ingest.producers = 1
        ingest.kind = .checkpoint
        ingest.recordSize = 699
        await #expect(throws: BenchmarkError.self) { try await IngestBenchmark.run(ingest, directory: dir.file("b")) }
        var proofs = ProofBenchmark.Configuration()
        proofs.records = 1
        await #expect(throws: BenchmarkError.self) { try await ProofBenchmark.run(proofs, directory: dir.file("c")) }
        // Nothing was created for a configuration refused up front.
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
    }

    @Test("Benchmark directories are unique, under the base given, and not created")
    func directories() throws {
        let dir = try TemporaryDirectory("bench")
        let a = BenchmarkDirectory.unique(in: dir.path, name: "ingest")
        let b = BenchmarkDirectory.unique(in: dir.path + "/", name: "ingest")
        #expect(a != b)
        #expect(a.hasPrefix(dir.path + "/cairn-bench-ingest-\(getpid())-"))
        #expect(b.hasPrefix(dir.path + "/cairn-bench-ingest-"))
        #expect(!FileManager.default.fileExists(atPath: a))
    }
}

@Suite("Synthetic records")
struct SyntheticRecordTests {
    @Test("Raw entries have exactly the requested size and are canonical JSON; checkpoints have the requested size")
    func sizes() throws {
        for size in [17, 64, 256, 1000, 4096] {
            let raw = SyntheticRecords.raw(123, size: size)
            let expected = #"{"n":123,"p":""# + String(repeating: "x", count: size - 16) + #""}"#
            #expect(String(decoding: raw, as: UTF8.self) == expected)
            #expect(try JCS.canonicalize(json: raw) == raw)
        }
        for size in [1024, 4096] {
            let record = SyntheticRecords.checkpoint(42, size: size)
            #expect(record.count == size)
            #expect(String(decoding: record, as: UTF8.self).hasSuffix(#"ppppp"}"#))
            _ = try JSONParser.parse(record)
        }
    }
}

@Suite("Benchmarks run end to end on small inputs", .serialized)
struct BenchmarkRunTests {
    @Test("Bulk ingest appends every record, measures the baseline and the curve, and cleans the baseline up")
    func bulkIngest() async throws {
        let dir = try TemporaryDirectory("bench")
        var configuration = IngestBenchmark.Configuration()
        configuration.records = 3000
        configuration.reportEvery = 1000
        let path = dir.file("ledger")
        let phases = Mutex<[BenchmarkPhase]>([])
        let result = try await IngestBenchmark.run(configuration, directory: path) { phase in
            phases.withLock { $0.append(phase) }
        }
        #expect(phases.withLock { $0 } == [.generating])
        #expect(result.statistics.appended == 3000)
        #expect(result.latency == nil)
        #expect(result.prepareThreadSeconds != nil)
        #expect(!result.curve.isEmpty && result.curve.allSatisfy { $0.records % 1000 == 0 })
        #expect(result.baseline.limitRecordsPerSecond > 0 && result.fractionOfLimit > 0)
        #expect(result.fullTree.recordsPerSecond > 0 && result.fractionOfFullTree > 0)
        // 3,000 leaves store 2n - popcount(n) hashes (every complete subtree's root).
        #expect(result.fullTree.hashesPerRecord == Double(2 * 3000 - 3000.nonzeroBitCount) / 3000)
        // The ledger holds the records and is sound; the baseline's scratch environment is gone.
        let ledger = try Ledger.open(at: path)
        #expect(try await ledger.read { $0.treeSize } == 3000)
        #expect(!FileManager.default.fileExists(atPath: path + "-baseline"))

        let json = try #require(result.json.objectValue)
        #expect(json.map(\.key).prefix(5) == ["benchmark", "kind", "records", "record_bytes", "producers"])
        #expect(json["benchmark"] == "ingest" && json["kind"] == "checkpoint")
        #expect(json["records"]?.intValue == 3000)
        #expect(json["latency"] == nil && json["prepare_thread_seconds"] != nil && json["curve"] != nil)
        #expect(json["baseline"]?["limit_records_per_second"] != nil)
        #expect(json["full_tree_baseline"]?["records_per_second"] != nil && json["fraction_of_full_tree"] != nil)
    }

    @Test("Producers append one record at a time and report per-append latencies")
    func producers() async throws {
        let dir = try TemporaryDirectory("bench")
        var configuration = IngestBenchmark.Configuration()
        configuration.records = 500
        configuration.producers = 8
        configuration.kind = .raw
        configuration.recordSize = 64
        let result = try await IngestBenchmark.run(configuration, directory: dir.file("ledger"))
        #expect(result.statistics.appended == 500)
        #expect(result.bytesPerRecord == 64)
        let latency = try #require(result.latency)
        #expect(latency.p50 <= latency.p99 && latency.p99 <= latency.p999 && latency.p999 <= latency.max)
        #expect(result.prepareThreadSeconds == nil && result.curve.isEmpty)
        let json = try #require(result.json.objectValue)
        #expect(json["kind"] == "raw" && json["record_bytes"]?.intValue == 64 && json["latency"] != nil)
    }

    @Test("The proof benchmark builds the ledger, and generates and verifies both kinds of proof")
    func proofs() async throws {
        let dir = try TemporaryDirectory("bench")
        var configuration = ProofBenchmark.Configuration()
        configuration.records = 3000
        configuration.samples = 500
        configuration.threads = 2
        let result = try await ProofBenchmark.run(configuration, directory: dir.file("ledger"))
        #expect(result.leaves == 3000)
        #expect(result.inclusionPerSecond > 0 && result.consistencyPerSecond > 0)
        #expect(result.inclusionVerifyPerSecond > 0 && result.consistencyVerifyPerSecond > 0)
        // The inclusion proof of leaf 1000 in a tree of 3000 leaves (12 hashes) reads 3 stored tiles: its own
        // (0, 3), level 1's partial tile (1, 0) for the subtrees of 256 and more, and the partial tile (0, 11)
        // for the right edge's small subtrees.
        #expect(result.readsPerProof == 3)
        let json = try #require(result.json.objectValue)
        #expect(json["benchmark"] == "proofs" && json["leaves"]?.intValue == 3000)
        #expect(json["baseline"]?["reads_per_proof"]?.intValue == 3)
        // The full-tree (per-key) baseline timed the same kinds of proof.
        #expect(result.perKey.inclusionPerSecond > 0 && result.perKey.consistencyPerSecond > 0)
        #expect(json["full_tree_baseline"]?["inclusion_per_second"] != nil)
        #expect(json["inclusion_per_thread_vs_full_tree"] != nil && json["consistency_per_thread_vs_full_tree"] != nil)
    }

    @Test("stress-append acknowledges every durable record, each once, up to the limit")
    func stress() async throws {
        let dir = try TemporaryDirectory("bench")
        var create = Ledger.CreateOptions()
        create.profile = .generic
        let ledger = try Ledger.create(at: dir.file("ledger"), origin: "test.example/stress", options: create)
        var configuration = StressAppend.Configuration()
        configuration.producers = 4
        configuration.limit = 200
        let acknowledged = Mutex<[AppendResult]>([])
        try await StressAppend.run(configuration, ledger: ledger) { result in
            acknowledged.withLock { $0.append(result) }
        }
        let results = acknowledged.withLock { $0 }
        #expect(results.count == 200)
        #expect(Set(results.map(\.index)) == Set(0..<200))
        #expect(results.allSatisfy { !$0.duplicate })
        // Another run appends new records: the run id makes them unique.
        try await StressAppend.run(configuration, ledger: ledger) { _ in }
        #expect(try await ledger.read { $0.treeSize } == 400)
    }
}
