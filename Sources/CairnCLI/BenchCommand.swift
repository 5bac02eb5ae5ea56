import ArgumentParser
import CairnCrypto
import CairnJSON
import CairnLedger
import CairnMerkle
import CairnStorage
import DequeModule
import Foundation

struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure ingest and proof throughput on this machine, against its own limits.",
        discussion: prose(
            """
            Each benchmark builds a fresh temporary ledger (removed afterwards unless --keep), runs,
            and measures in the same run a baseline of the machine's limits, so the figures can be
            read as a fraction of what the hardware allows. See docs/performance.md for results and
            what the targets are.
            """),
        subcommands: [BenchIngest.self, BenchProofs.self]
    )
}

/// Options shared by the benchmarks.
struct BenchOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Where to create the temporary ledger (default: $TMPDIR).", valueName: "dir"))
    var directory: String?

    @Flag(help: "Keep the ledger instead of deleting it.")
    var keep = false

    @Flag(help: "Print the results as one JSON object (for CI dashboards).")
    var json = false

    func makeDirectory(_ name: String) throws -> String {
        let base = directory ?? NSTemporaryDirectory()
        let path =
            (base.hasSuffix("/") ? base : base + "/")
            + "cairn-bench-\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        return path
    }

    func cleanUp(_ path: String) {
        if keep {
            Console.error("kept the benchmark ledger in \(path)")
        } else {
            try? FileManager.default.removeItem(atPath: path)
        }
    }
}

/// Latency percentiles from a sample of durations in nanoseconds.
struct Percentiles {
    let p50: Double
    let p99: Double
    let p999: Double
    let max: Double

    init(_ samples: [UInt64]) {
        let sorted = samples.sorted()
        func at(_ q: Double) -> Double {
            guard !sorted.isEmpty else { return 0 }
            return Double(sorted[min(sorted.count - 1, Int((Double(sorted.count) * q).rounded(.up)) - 1)]) / 1e6
        }
        p50 = at(0.5)
        p99 = at(0.99)
        p999 = at(0.999)
        max = Double(sorted.last ?? 0) / 1e6
    }

    var json: JSONValue {
        .object([
            "p50_ms": .number(round3(p50)), "p99_ms": .number(round3(p99)), "p999_ms": .number(round3(p999)),
            "max_ms": .number(round3(max)),
        ])
    }
}

func round3(_ x: Double) -> Double { (x * 1000).rounded() / 1000 }

func nanoseconds() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

func formatRate(_ x: Double) -> String {
    let n = Int(x.rounded())
    var s = String(n)
    var i = s.count - 3
    while i > 0 {
        s.insert(",", at: s.index(s.startIndex, offsetBy: i))
        i -= 3
    }
    return s
}

// MARK: - ingest

struct BenchIngest: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest",
        abstract: "Measure append throughput and latency through the group-commit engine.",
        discussion: prose(
            """
            --kind checkpoint (default) generates realistic AI checkpoint records of about
            --record-size bytes, which are parsed, validated against the record schema,
            canonicalized, hashed and indexed; --kind raw generates generic JSON entries of exactly
            --record-size canonical bytes (a ledger with --profile generic).

            With one producer, records are bulk-loaded like `cairn import`: prepared on all cores
            while the writer commits earlier ones. With --producers P > 1 (or
            --durable-per-record), P concurrent producers each append one record at a time and wait
            until it is durable; latency percentiles are per append.

            The baseline, measured in the same run on the same canonical bytes: SHA-256 leaf hashing
            alone (one core) plus LMDB MDB_APPEND of the entries in one transaction with one fsync.
            Cairn's rate is printed as a fraction of that limit.

            EXAMPLES
              cairn bench ingest
              cairn bench ingest --kind raw --record-size 256 --records 1000000
              cairn bench ingest --producers 256 --records 100000 --json
            """)
    )

    @OptionGroup var options: BenchOptions

    @Option(help: ArgumentHelp("How many records.", valueName: "n")) var records = 200_000
    @Option(help: ArgumentHelp("Bytes per record (canonical).", valueName: "bytes")) var recordSize = 1024
    @Option(help: ArgumentHelp("Concurrent producers.", valueName: "p")) var producers = 1
    @Option(help: ArgumentHelp("checkpoint or raw.", valueName: "kind")) var kind = "checkpoint"
    @Flag(help: "Each producer waits for every single record to be durable (implied by --producers > 1).")
    var durablePerRecord = false

    @Option(
        help: ArgumentHelp(
            "In bulk mode, also report the rate of every segment of this many records (the throughput curve).",
            valueName: "n"))
    var reportEvery: Int?

    func validate() throws {
        guard records > 0, producers > 0 else { throw ValidationError("--records and --producers must be positive") }
        guard ["checkpoint", "raw"].contains(kind) else { throw ValidationError("--kind must be checkpoint or raw") }
        guard recordSize >= (kind == "raw" ? 32 : 700) else {
            throw ValidationError("--record-size must be at least \(kind == "raw" ? 32 : 700) for --kind \(kind)")
        }
    }

    func run() async throws {
        try await runReportingErrors {
            let path = try options.makeDirectory("ingest")
            defer { options.cleanUp(path) }
            var create = Ledger.CreateOptions()
            create.profile = kind == "raw" ? .generic : .provenance
            create.maxEntryBytes = max(1 << 20, recordSize * 2)
            let ledger = try Ledger.create(at: path, origin: "bench.cairn.local/ingest", options: create)
            let rules = ledger.recordRules()
            if !options.json { Console.error("generating \(records) \(kind) records of ~\(recordSize) bytes…") }
            let inputs = (0..<records).map {
                kind == "raw"
                    ? SyntheticRecords.raw($0, size: recordSize) : SyntheticRecords.checkpoint($0, size: recordSize)
            }

            let bulkMode = producers == 1 && !durablePerRecord
            let engine = IngestEngine(ledger: ledger, configuration: bulkMode ? .bulk : IngestEngine.Configuration())
            var latencies: [UInt64] = []
            var prepareSeconds: Double?
            var curve: [(Int, Double)] = []
            let started = nanoseconds()
            if bulkMode {
                (prepareSeconds, curve) = try await bulk(inputs, rules: rules, engine: engine)
            } else {
                latencies = try await concurrent(inputs, rules: rules, engine: engine)
            }
            let elapsed = Double(nanoseconds() - started) / 1e9
            engine.shutdown()
            let stats = engine.statistics
            guard stats.appended == UInt64(records) else {
                throw CLIError(.software, "only \(stats.appended) of \(records) records were appended")
            }

            // The machine's limit on the same bytes.
            let canonical: [[UInt8]] = try await ledger.read { snapshot in
                try (0..<min(records, 200_000)).map { try snapshot.entry(at: UInt64($0)) }
            }
            let baseline = try Baseline.measure(canonical, directory: path + "-baseline")
            let rate = Double(records) / elapsed
            let bytesPerRecord = Double(stats.bytes) / Double(records)
            let percent = Percentiles(latencies)
            var object: JSONObject = [
                "benchmark": "ingest", "kind": .string(kind), "records": .number(Double(records)),
                "record_bytes": .number(bytesPerRecord.rounded()), "producers": .number(Double(producers)),
                "seconds": .number(round3(elapsed)), "records_per_second": .number(rate.rounded()),
                "mb_per_second": .number(round3(rate * bytesPerRecord / 1e6)),
                "commits": .uint(stats.batches), "commits_per_second": .number(round3(Double(stats.batches) / elapsed)),
                "largest_batch": .number(Double(stats.largestBatch)),
                "commit_seconds": .number(round3(Double(stats.commitNanoseconds) / 1e9)),
                "baseline": baseline.json,
                "fraction_of_limit": .number(round3(rate / baseline.limitRecordsPerSecond)),
            ]
            if !latencies.isEmpty { object["latency"] = percent.json }
            if let prepareSeconds { object["prepare_thread_seconds"] = .number(round3(prepareSeconds)) }
            if !curve.isEmpty {
                object["curve"] = .array(
                    curve.map {
                        .object(["records": .number(Double($0.0)), "records_per_second": .number($0.1.rounded())])
                    })
            }
            if options.json {
                printJSON(.object(object))
                return
            }
            Console.line(
                "ingest: \(records) \(kind) records (\(Int(bytesPerRecord)) bytes), \(producers) producer\(producers == 1 ? "" : "s")"
            )
            Console.line(
                "  \(formatRate(rate)) records/s, \(String(format: "%.1f", rate * bytesPerRecord / 1e6)) MB/s, "
                    + "\(String(format: "%.1f", Double(stats.batches) / elapsed)) commits/s (\(stats.batches) commits, largest \(stats.largestBatch), "
                    + "\(String(format: "%.1f", Double(stats.commitNanoseconds) / 1e9)) s committing)")
            if let prepareSeconds {
                Console.line(
                    "  where the time goes: preparing (parse, canonicalize, validate, hash) "
                        + String(format: "%.1f", prepareSeconds) + " thread-s; committing "
                        + String(format: "%.1f", Double(stats.commitNanoseconds) / 1e9) + " s on the writer")
            }
            if !latencies.isEmpty {
                Console.line(
                    String(
                        format: "  latency p50 %.2f ms, p99 %.2f ms, p999 %.2f ms, max %.2f ms", percent.p50,
                        percent.p99, percent.p999, percent.max))
            }
            Console.line(
                "  baseline: SHA-256 leaf hash \(String(format: "%.0f", baseline.hashNanoseconds)) ns + LMDB append "
                    + "\(String(format: "%.0f", baseline.appendNanoseconds)) ns per record = limit \(formatRate(baseline.limitRecordsPerSecond)) records/s"
            )
            Console.line(
                "  cairn reaches \(String(format: "%.1f", rate / baseline.limitRecordsPerSecond * 100))% of that limit")
        }
    }

    /// Bulk-loads `inputs` like `cairn import`; returns the time spent preparing (thread-seconds)
    /// and, with --report-every, the rate of each segment.
    private func bulk(
        _ inputs: [[UInt8]], rules: RecordRules, engine: IngestEngine
    ) async throws
        -> (Double, [(Int, Double)])
    {
        let chunk = 2048
        let lookahead = max(2, ProcessInfo.processInfo.activeProcessorCount)
        var preparing = Deque<Task<([PreparedEntry], UInt64), Error>>()
        var pipeline = BulkPipeline<Int>(engine: engine)
        var next = 0
        var prepareNanoseconds: UInt64 = 0
        var curve: [(Int, Double)] = []
        var segmentStart = (records: 0, time: nanoseconds())
        func account(_ done: [(Int, [AppendOutcome])]) {
            guard let every = reportEvery else { return }
            for (end, _) in done where end - segmentStart.records >= every {
                let now = nanoseconds()
                curve.append((end, Double(end - segmentStart.records) / (Double(now - segmentStart.time) / 1e9)))
                segmentStart = (end, now)
            }
        }
        while true {
            while preparing.count < lookahead && next < inputs.count {
                let slice = inputs[next..<min(next + chunk, inputs.count)]
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

    private func concurrent(_ inputs: [[UInt8]], rules: RecordRules, engine: IngestEngine) async throws -> [UInt64] {
        let perProducer = (inputs.count + producers - 1) / producers
        return try await withThrowingTaskGroup(of: [UInt64].self) { group in
            for p in 0..<producers {
                let mine = inputs[min(inputs.count, p * perProducer)..<min(inputs.count, (p + 1) * perProducer)]
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

/// The machine's limit for ingesting the same bytes: SHA-256 leaf hashing on one core plus an
/// LMDB MDB_APPEND of every entry in one transaction with one fsync.
struct Baseline {
    let hashNanoseconds: Double
    let appendNanoseconds: Double
    var limitRecordsPerSecond: Double { 1e9 / (hashNanoseconds + appendNanoseconds) }

    static func measure(_ entries: [[UInt8]], directory: String) throws -> Baseline {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var sink = SHA256Digest.zero
        let hashStart = nanoseconds()
        for entry in entries { sink = entry.withUnsafeBytes { SHA256.hash(prefix: 0, $0) } }
        let hashNs = Double(nanoseconds() - hashStart) / Double(entries.count)
        precondition(sink != .zero || entries.isEmpty)
        let env = try LMDBEnvironment(directory: directory)
        let table = try env.openTable("leaves")
        let appendStart = nanoseconds()
        try env.write { txn in
            for (i, entry) in entries.enumerated() {
                try entry.withUnsafeBytes { try txn.put(table, key: UInt64(i), value: $0, mode: .append) }
            }
        }
        let appendNs = Double(nanoseconds() - appendStart) / Double(entries.count)
        return Baseline(hashNanoseconds: hashNs, appendNanoseconds: appendNs)
    }

    var json: JSONValue {
        .object([
            "sha256_leaf_ns": .number(round3(hashNanoseconds)), "lmdb_append_ns": .number(round3(appendNanoseconds)),
            "limit_records_per_second": .number(limitRecordsPerSecond.rounded()),
        ])
    }
}

// MARK: - proofs

struct BenchProofs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "proofs",
        abstract: "Measure inclusion and consistency proof generation and verification.",
        discussion: prose(
            """
            Builds a generic ledger of --records small entries (bulk-loaded through the engine),
            then generates --samples inclusion proofs (random leaf, current size) and consistency
            proofs (random older size), each through the ledger API with its signed checkpoint,
            and verifies them (RFC 9162 §2.1.3.2/§2.1.4.2, without the signature check).
            Baseline: random LMDB reads of stored hashes, the proof's unavoidable cost.

            EXAMPLES
              cairn bench proofs
              cairn bench proofs --records 10000000 --samples 500000 --json
            """)
    )

    @OptionGroup var options: BenchOptions

    @Option(help: ArgumentHelp("Leaves in the ledger.", valueName: "n")) var records = 1_000_000
    @Option(help: ArgumentHelp("Proofs of each kind.", valueName: "n")) var samples = 200_000
    @Option(help: ArgumentHelp("Threads generating proofs.", valueName: "n"))
    var threads = ProcessInfo.processInfo.activeProcessorCount

    func validate() throws {
        guard records > 1, samples > 0, threads > 0 else {
            throw ValidationError("--records must be > 1, --samples and --threads > 0")
        }
    }

    func run() async throws {
        try await runReportingErrors {
            let path = try options.makeDirectory("proofs")
            defer { options.cleanUp(path) }
            var create = Ledger.CreateOptions()
            create.profile = .generic
            let ledger = try Ledger.create(at: path, origin: "bench.cairn.local/proofs", options: create)
            if !options.json { Console.error("building a ledger of \(records) leaves…") }
            let buildStart = nanoseconds()
            let engine = IngestEngine(ledger: ledger, configuration: .bulk)
            var pipeline = BulkPipeline<Void>(engine: engine)
            for start in stride(from: 0, to: records, by: 8192) {
                let entries = (start..<min(start + 8192, records)).map {
                    PreparedEntry(canonicalBytes: Array("{\"n\":\($0)}".utf8))
                }
                _ = try await pipeline.submit(entries, context: ())
            }
            _ = try await pipeline.finish()
            engine.shutdown()
            let buildSeconds = Double(nanoseconds() - buildStart) / 1e9
            let (size, root) = try await ledger.read { snapshot in
                (snapshot.treeSize, try snapshot.rootHash(size: snapshot.treeSize))
            }

            // Inclusion proofs.
            var rng = SystemRandomNumberGenerator()
            let indexes = (0..<samples).map { _ in UInt64.random(in: 0..<size, using: &rng) }
            let (inclusionSeconds, inclusion) = try timeParallel(indexes) { index in
                try ledger.read { try $0.inclusionProof(index: index) }
            }
            // Consistency proofs.
            let olds = (0..<samples).map { _ in UInt64.random(in: 1..<size, using: &rng) }
            let (consistencySeconds, consistency) = try timeParallel(olds) { old in
                try ledger.read { try $0.consistencyProof(oldSize: old) }
            }
            // Verification (no signature check), one thread.
            // Verification cost: 2,000 proofs verified repeatedly (the hashing, not memory traffic
            // over hundreds of thousands of proof objects, is what is measured).
            let sample = Array(inclusion.prefix(2000))
            let repeats = max(1, samples / 2000)
            let inclusionVerify =
                try onDedicatedThread { try verifyInclusions(sample, size: size, root: root, repeats: repeats) }
                * Double(samples)
            let consistencyVerify =
                try verifyConsistencies(
                    Array(consistency.prefix(2000)), ledger: ledger, size: size, root: root,
                    repeats: max(1, samples / 2000)
                ) * Double(samples)

            // Baseline: the random stored-hash reads a proof needs, with nothing else.
            let reads = MerkleVerifier.inclusionProofLength(index: size / 3, treeSize: size)
            let readNs = try randomReadBaseline(ledgerPath: path, count: 200_000)
            let limit = 1e9 / (readNs * Double(reads))

            let results: JSONObject = [
                "benchmark": "proofs", "leaves": .uint(size), "samples": .number(Double(samples)),
                "threads": .number(Double(threads)), "build_seconds": .number(round3(buildSeconds)),
                "inclusion_per_second": .number((Double(samples) / inclusionSeconds).rounded()),
                "consistency_per_second": .number((Double(samples) / consistencySeconds).rounded()),
                "inclusion_verify_per_second": .number((Double(samples) / inclusionVerify).rounded()),
                "consistency_verify_per_second": .number((Double(samples) / consistencyVerify).rounded()),
                "baseline": .object([
                    "lmdb_random_read_ns": .number(round3(readNs)), "reads_per_proof": .number(Double(reads)),
                    "limit_proofs_per_second_one_thread": .number(limit.rounded()),
                ]),
            ]
            if options.json {
                printJSON(.object(results))
                return
            }
            Console.line(
                "proofs: ledger of \(size) leaves (built in \(String(format: "%.1f", buildSeconds)) s), \(samples) samples, \(threads) threads"
            )
            Console.line(
                "  inclusion proofs    \(formatRate(Double(samples) / inclusionSeconds))/s (with signed checkpoint)")
            Console.line("  consistency proofs  \(formatRate(Double(samples) / consistencySeconds))/s")
            Console.line(
                "  inclusion verify    \(formatRate(Double(samples) / inclusionVerify))/s (one thread, no signature)")
            Console.line(
                "  consistency verify  \(formatRate(Double(samples) / consistencyVerify))/s (one thread, no signature)")
            Console.line(
                "  baseline: \(reads) random LMDB reads of \(String(format: "%.0f", readNs)) ns = \(formatRate(limit)) proofs/s per thread"
            )
        }
    }

    /// Runs `body` on a thread of its own (outside Swift concurrency's cooperative pool).
    private func onDedicatedThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) throws -> T {
        let result = UnsafeResults<T>(count: 1)
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            result.set(0, Result { [try body()] })
            done.signal()
        }
        thread.start()
        done.wait()
        return try result.all()[0][0]
    }

    /// Seconds per inclusion proof verification.
    private func verifyInclusions(
        _ proofs: [InclusionProof], size: UInt64, root: SHA256Digest, repeats: Int
    ) throws
        -> Double
    {
        let start = nanoseconds()
        for _ in 0..<repeats {
            for proof in proofs {
                try MerkleVerifier.verifyInclusion(
                    leafHash: proof.leafHash, index: proof.index, treeSize: size, proof: proof.hashes, root: root)
            }
        }
        return Double(nanoseconds() - start) / 1e9 / Double(repeats * proofs.count)
    }

    /// Seconds per consistency proof verification.
    private func verifyConsistencies(
        _ proofs: [ConsistencyProof], ledger: Ledger, size: UInt64, root: SHA256Digest, repeats: Int
    ) throws -> Double {
        let oldRoots = try ledger.read { snapshot in try proofs.map { try snapshot.rootHash(size: $0.oldSize) } }
        let hashes = proofs.map(\.hashes)
        let olds = proofs.map(\.oldSize)
        let start = nanoseconds()
        for _ in 0..<repeats {
            for i in 0..<hashes.count {
                try MerkleVerifier.verifyConsistency(
                    oldSize: olds[i], newSize: size, oldRoot: oldRoots[i], newRoot: root, proof: hashes[i])
            }
        }
        return Double(nanoseconds() - start) / 1e9 / Double(repeats * proofs.count)
    }

    /// Runs `body` over `inputs` on `threads` threads; returns the wall time and the results.
    private func timeParallel<T: Sendable>(
        _ inputs: [UInt64], _ body: @escaping @Sendable (UInt64) throws -> T
    ) throws -> (Double, [T]) {
        let slices = stride(from: 0, to: inputs.count, by: (inputs.count + threads - 1) / threads).map {
            Array(inputs[$0..<min($0 + (inputs.count + threads - 1) / threads, inputs.count)])
        }
        let results = UnsafeResults<T>(count: slices.count)
        let start = nanoseconds()
        DispatchQueue.concurrentPerform(iterations: slices.count) { i in
            results.set(i, Result { try slices[i].map(body) })
        }
        let seconds = Double(nanoseconds() - start) / 1e9
        return (seconds, try results.all().flatMap { $0 })
    }

    private func randomReadBaseline(ledgerPath: String, count: Int) throws -> Double {
        let env = try LMDBEnvironment.shared(directory: ledgerPath)
        let hashes = try env.openTable("hashes")
        let total = try env.read { txn in try txn.count(hashes) }
        let keys = (0..<count).map { _ in UInt64.random(in: 0..<UInt64(total)) }
        var bytes = 0
        let start = nanoseconds()
        try env.read { txn in
            for key in keys { bytes += try txn.withValue(hashes, key: key) { $0?.count ?? 0 } }
        }
        precondition(bytes > 0)
        return Double(nanoseconds() - start) / Double(count)
    }
}

/// Results written by concurrent workers, one slot each.
final class UnsafeResults<T>: @unchecked Sendable {
    private var slots: [Result<[T], Error>?]
    private let lock = NSLock()

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    func set(_ i: Int, _ value: Result<[T], Error>) {
        lock.lock()
        slots[i] = value
        lock.unlock()
    }

    func all() throws -> [[T]] { try slots.map { try $0!.get() } }
}
