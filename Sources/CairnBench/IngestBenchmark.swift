import CairnCrypto
import CairnJSON
import CairnLedger
import CairnStorage
import DequeModule
import Foundation

/// `cairn bench ingest`: append throughput and latency through the group-commit engine, measured
/// against the same run's baseline of the machine's limits (`IngestBaseline`).
///
/// With one producer (and not `durablePerRecord`), records are bulk-loaded like `cairn import`:
/// prepared on all cores while the writer commits earlier ones. Otherwise `producers` concurrent
/// producers each append one record at a time and wait until it is durable; latencies are per
/// append.
///
/// ```swift
/// var configuration = IngestBenchmark.Configuration()
/// configuration.records = 10_000
/// let result = try await IngestBenchmark.run(configuration, directory: BenchmarkDirectory.unique(in: nil, name: "ingest"))
/// print(result.recordsPerSecond, result.fractionOfLimit)
/// ```
package enum IngestBenchmark {
    /// What the synthetic records are.
    package enum Kind: String, Sendable, Hashable, CaseIterable {
        /// Realistic AI checkpoint records of about `recordSize` bytes, parsed, validated against
        /// the record schema, canonicalized, hashed and indexed (a provenance ledger).
        case checkpoint
        /// Generic JSON entries of exactly `recordSize` canonical bytes (a generic ledger).
        case raw

        /// The smallest record size the generator can produce for this kind.
        package var minimumRecordSize: Int { self == .raw ? 32 : 700 }
    }

    package struct Configuration: Sendable, Hashable {
        /// How many records.
        package var records = 200_000
        /// Bytes per record (canonical).
        package var recordSize = 1024
        /// Concurrent producers.
        package var producers = 1
        package var kind = Kind.checkpoint
        /// Each producer waits for every single record to be durable (implied by producers > 1).
        package var durablePerRecord = false
        /// In bulk mode, also measure the rate of every segment of this many records.
        package var reportEvery: Int?
        /// Keep the stats aggregates (the default); false measures the ledger without them.
        package var keepsAggregates = true

        package init() {}

        /// Bulk-loaded (one producer, not durable per record) rather than appended by producers.
        package var isBulk: Bool { producers == 1 && !durablePerRecord }

        /// Checks what the benchmark needs; the CLI checks its options first, with its own words.
        func validate() throws(BenchmarkError) {
            guard records > 0, producers > 0 else {
                throw BenchmarkError(.invalidConfiguration, "the record and producer counts must be positive")
            }
            guard recordSize >= kind.minimumRecordSize else {
                throw BenchmarkError(
                    .invalidConfiguration,
                    "the record size must be at least \(kind.minimumRecordSize) for \(kind.rawValue) records")
            }
            if let reportEvery, reportEvery <= 0 {
                throw BenchmarkError(.invalidConfiguration, "the curve's segment size must be positive")
            }
        }
    }

    /// The entries measured for the baseline at most (its cost per record does not depend on
    /// more).
    static let baselineRecords = 200_000

    /// Creates a ledger in `directory` (which must not exist or be empty; the caller removes it),
    /// generates the records, appends them and measures the baseline on the same canonical
    /// bytes. `onPhase(.generating)` is called once the ledger exists, before the records are
    /// generated.
    package static func run(
        _ configuration: Configuration, directory: String, onPhase: (BenchmarkPhase) -> Void = { _ in }
    ) async throws -> IngestBenchmarkResult {
        try configuration.validate()
        let records = configuration.records
        let kind = configuration.kind
        let recordSize = configuration.recordSize
        var create = Ledger.CreateOptions()
        create.profile = kind == .raw ? .generic : .provenance
        create.maxEntryBytes = Swift.max(1 << 20, recordSize * 2)
        create.keepsAggregates = configuration.keepsAggregates
        let ledger = try Ledger.create(at: directory, origin: "bench.cairn.local/ingest", options: create)
        let rules = ledger.recordRules()
        onPhase(.generating)
        let inputs = (0..<records).map {
            kind == .raw
                ? SyntheticRecords.raw($0, size: recordSize) : SyntheticRecords.checkpoint($0, size: recordSize)
        }

        let engine = IngestEngine(
            ledger: ledger, configuration: configuration.isBulk ? .bulk : IngestEngine.Configuration())
        var latencies: [UInt64] = []
        var prepareSeconds: Double?
        var curve: [IngestBenchmarkResult.CurvePoint] = []
        let started = nanoseconds()
        if configuration.isBulk {
            (prepareSeconds, curve) = try await bulk(
                inputs, rules: rules, engine: engine, reportEvery: configuration.reportEvery)
        } else {
            latencies = try await concurrent(
                inputs, rules: rules, engine: engine, producers: configuration.producers)
        }
        let elapsed = Double(nanoseconds() - started) / 1e9
        engine.shutdown()
        let statistics = engine.statistics
        guard statistics.appended == UInt64(records) else {
            throw BenchmarkError(.incomplete, "only \(statistics.appended) of \(records) records were appended")
        }

        // The machine's limit on the same bytes.
        let canonical: [[UInt8]] = try await ledger.read { snapshot in
            try (0..<Swift.min(records, baselineRecords)).map { try snapshot.entry(at: UInt64($0)) }
        }
        let baseline = try IngestBaseline.measure(canonical, directory: directory + "-baseline")
        let fullTree = try FullTreeBaseline.measure(canonical, directory: directory + "-baseline")
        return IngestBenchmarkResult(
            configuration: configuration, seconds: elapsed, statistics: statistics, baseline: baseline,
            fullTree: fullTree,
            latency: latencies.isEmpty ? nil : Percentiles(latencies), prepareThreadSeconds: prepareSeconds,
            curve: curve)
    }

    /// Bulk-loads `inputs` like `cairn import`: chunks are prepared on all cores, a few ahead,
    /// while the writer commits earlier ones. Returns the time spent preparing (thread-seconds)
    /// and, with `reportEvery`, the rate of each segment.
    private static func bulk(
        _ inputs: [[UInt8]], rules: RecordRules, engine: IngestEngine, reportEvery: Int?
    ) async throws -> (Double, [IngestBenchmarkResult.CurvePoint]) {
        let chunk = 2048
        let lookahead = Swift.max(2, ProcessInfo.processInfo.activeProcessorCount)
        var preparing = Deque<Task<([PreparedEntry], UInt64), Error>>()
        var pipeline = BulkPipeline<Int>(engine: engine)
        var next = 0
        var prepareNanoseconds: UInt64 = 0
        var curve: [IngestBenchmarkResult.CurvePoint] = []
        var segmentStart = (records: 0, time: nanoseconds())
        func account(_ done: [(Int, [AppendOutcome])]) {
            guard let every = reportEvery else { return }
            for (end, _) in done where end - segmentStart.records >= every {
                let now = nanoseconds()
                curve.append(
                    .init(
                        records: end,
                        recordsPerSecond: Double(end - segmentStart.records) / (Double(now - segmentStart.time) / 1e9)))
                segmentStart = (end, now)
            }
        }
        while true {
            while preparing.count < lookahead && next < inputs.count {
                let slice = inputs[next..<Swift.min(next + chunk, inputs.count)]
                next += slice.count
                preparing.append(
                    Task.detached {
                        let start = nanoseconds()
                        let entries = try slice.map { try PreparedEntry.prepare(json: $0, rules: rules) }
                        return (entries, nanoseconds() - start)
                    })
            }
            guard let task = preparing.popFirst() else { break }
            let (entries, spent) = try await task.value
            prepareNanoseconds += spent
            account(try await pipeline.submit(entries, context: next - preparing.count * chunk))
        }
        account(try await pipeline.finish())
        return (Double(prepareNanoseconds) / 1e9, curve)
    }

    /// `producers` tasks, each appending its share of `inputs` one record at a time and waiting
    /// for each to be durable; returns every append's latency in nanoseconds.
    private static func concurrent(
        _ inputs: [[UInt8]], rules: RecordRules, engine: IngestEngine, producers: Int
    ) async throws -> [UInt64] {
        let perProducer = (inputs.count + producers - 1) / producers
        return try await withThrowingTaskGroup(of: [UInt64].self) { group in
            for p in 0..<producers {
                let mine = inputs[
                    Swift.min(inputs.count, p * perProducer)..<Swift.min(inputs.count, (p + 1) * perProducer)]
                group.addTask {
                    var latencies: [UInt64] = []
                    latencies.reserveCapacity(mine.count)
                    for input in mine {
                        let start = nanoseconds()
                        let entry = try PreparedEntry.prepare(json: input, rules: rules)
                        _ = try await engine.append(entry, whenBusy: .wait)
                        latencies.append(nanoseconds() - start)
                    }
                    return latencies
                }
            }
            var all: [UInt64] = []
            for try await part in group { all += part }
            return all
        }
    }
}

/// What one `IngestBenchmark.run` measured.
package struct IngestBenchmarkResult: Sendable {
    /// The rate of one segment of a bulk load (`reportEvery`).
    package struct CurvePoint: Sendable, Hashable {
        /// The records loaded at the end of the segment.
        package let records: Int
        package let recordsPerSecond: Double
    }

    package let configuration: IngestBenchmark.Configuration
    /// Wall time of the appends, from the first submission to the last commit.
    package let seconds: Double
    /// The engine's counters at the end.
    package let statistics: IngestEngine.Statistics
    package let baseline: IngestBaseline
    /// The plain full-tree log on the same bytes (issue 11's yardstick).
    package let fullTree: FullTreeBaseline
    /// Per-append latencies (producers mode only).
    package let latency: Percentiles?
    /// Thread-seconds spent preparing records (bulk mode only).
    package let prepareThreadSeconds: Double?
    /// The throughput curve (bulk mode with `reportEvery` only).
    package let curve: [CurvePoint]

    package var recordsPerSecond: Double { Double(configuration.records) / seconds }
    /// Canonical bytes per record, on average.
    package var bytesPerRecord: Double { Double(statistics.bytes) / Double(configuration.records) }
    package var megabytesPerSecond: Double { recordsPerSecond * bytesPerRecord / 1e6 }
    package var commitsPerSecond: Double { Double(statistics.batches) / seconds }
    /// Seconds the writer spent inside commits.
    package var commitSeconds: Double { Double(statistics.commitNanoseconds) / 1e9 }
    /// The rate as a fraction of the baseline's limit (1 = the limit).
    package var fractionOfLimit: Double { recordsPerSecond / baseline.limitRecordsPerSecond }
    /// The rate as a fraction of the plain full-tree log's (1 = as fast).
    package var fractionOfFullTree: Double { recordsPerSecond / fullTree.recordsPerSecond }

    /// The one JSON object `cairn bench ingest --json` prints (docs/performance.md quotes it).
    package var json: JSONValue {
        var object: JSONObject = [
            "benchmark": "ingest", "kind": .string(configuration.kind.rawValue),
            "records": .number(Double(configuration.records)), "record_bytes": .number(bytesPerRecord.rounded()),
            "producers": .number(Double(configuration.producers)), "seconds": .number(round3(seconds)),
            "records_per_second": .number(recordsPerSecond.rounded()),
            "mb_per_second": .number(round3(megabytesPerSecond)), "commits": .uint(statistics.batches),
            "commits_per_second": .number(round3(commitsPerSecond)),
            "largest_batch": .number(Double(statistics.largestBatch)),
            "commit_seconds": .number(round3(commitSeconds)), "baseline": baseline.json,
            "fraction_of_limit": .number(round3(fractionOfLimit)), "full_tree_baseline": fullTree.json,
            "fraction_of_full_tree": .number(round3(fractionOfFullTree)),
        ]
        if let latency { object["latency"] = latency.json }
        if let prepareThreadSeconds { object["prepare_thread_seconds"] = .number(round3(prepareThreadSeconds)) }
        if !curve.isEmpty {
            object["curve"] = .array(
                curve.map {
                    .object([
                        "records": .number(Double($0.records)),
                        "records_per_second": .number($0.recordsPerSecond.rounded()),
                    ])
                })
        }
        return .object(object)
    }
}

/// The machine's limit for ingesting the same bytes: SHA-256 leaf hashing on one core plus an
/// LMDB MDB_APPEND of every entry in one transaction with one fsync. Nothing Cairn does per
/// record can be cheaper, so Cairn's rate is reported as a fraction of it.
package struct IngestBaseline: Sendable, Hashable {
    /// Nanoseconds per SHA-256 leaf hash.
    package let hashNanoseconds: Double
    /// Nanoseconds per entry of the raw LMDB append (its commit and fsync included).
    package let appendNanoseconds: Double
    package var limitRecordsPerSecond: Double { 1e9 / (hashNanoseconds + appendNanoseconds) }

    /// Measures `entries` in a scratch LMDB environment in `directory`, removed afterwards.
    package static func measure(_ entries: [[UInt8]], directory: String) throws -> IngestBaseline {
        guard !entries.isEmpty else {
            throw BenchmarkError(.invalidConfiguration, "the baseline needs at least one entry")
        }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let hashNs = try measureHashing(entries)
        let env = try LMDBEnvironment(directory: directory)
        let table = try env.openTable("leaves")
        let appendStart = nanoseconds()
        try env.write { txn in
            for (i, entry) in entries.enumerated() {
                try entry.withUnsafeBytes { try txn.put(table, key: UInt64(i), value: $0, mode: .append) }
            }
        }
        let appendNs = Double(nanoseconds() - appendStart) / Double(entries.count)
        return IngestBaseline(hashNanoseconds: hashNs, appendNanoseconds: appendNs)
    }

    /// Nanoseconds per RFC 6962 leaf hash of `entries`, on this thread.
    private static func measureHashing(_ entries: [[UInt8]]) throws -> Double {
        var sink = SHA256Digest.zero
        let start = nanoseconds()
        for entry in entries { sink = entry.withUnsafeBytes { SHA256.hash(prefix: 0, $0) } }
        let perEntry = Double(nanoseconds() - start) / Double(entries.count)
        // Uses the last digest, so that the hashing cannot be optimized away.
        guard sink != .zero else { throw BenchmarkError(.incomplete, "SHA-256 returned no digest") }
        return perEntry
    }

    /// `{"sha256_leaf_ns","lmdb_append_ns","limit_records_per_second"}`.
    package var json: JSONValue {
        .object([
            "sha256_leaf_ns": .number(round3(hashNanoseconds)), "lmdb_append_ns": .number(round3(appendNanoseconds)),
            "limit_records_per_second": .number(limitRecordsPerSecond.rounded()),
        ])
    }
}
