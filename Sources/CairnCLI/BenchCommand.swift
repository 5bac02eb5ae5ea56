import ArgumentParser
import CairnBench
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

    func makeDirectory(_ name: String) -> String { BenchmarkDirectory.unique(in: directory, name: name) }

    func cleanUp(_ path: String) {
        if keep {
            Console.error("kept the benchmark ledger in \(path)")
        } else {
            BenchmarkDirectory.remove(path)
        }
    }
}

/// `x` rounded, with thousands separators: 27950.4 -> "27,950".
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

extension CLIError {
    /// Maps a benchmark error onto an exit status: 70, as for any failure that is not the user's
    /// (the options were checked before the benchmark ran).
    init(benchmark error: BenchmarkError) {
        self.init(.software, error.message)
    }
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
            Cairn's rate is printed as a fraction of that limit. A second baseline, the plain
            full-tree log, is timed as one pass over the same bytes (up to 200,000 of them): every
            leaf and interior node of the RFC 6962 tree hashed, every entry and every node hash one
            MDB_APPEND key, one durable commit. Cairn's rate is printed as a fraction of it too
            (--json: "full_tree_baseline" and "fraction_of_full_tree").

            Checkpoint ledgers keep the stats aggregates (`cairn stats`) with every commit;
            --no-aggregates creates the ledger without them, so that two runs side by side show
            what keeping them costs.

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
    @Flag(help: "Create the ledger without stats aggregates (to measure what keeping them costs).")
    var noAggregates = false

    @Option(
        help: ArgumentHelp(
            "In bulk mode, also report the rate of every segment of this many records (the throughput curve).",
            valueName: "n"))
    var reportEvery: Int?

    func validate() throws {
        guard records > 0, producers > 0 else { throw ValidationError("--records and --producers must be positive") }
        guard let kind = IngestBenchmark.Kind(rawValue: kind) else {
            throw ValidationError("--kind must be checkpoint or raw")
        }
        guard recordSize >= kind.minimumRecordSize else {
            throw ValidationError("--record-size must be at least \(kind.minimumRecordSize) for --kind \(kind)")
        }
    }

    var configuration: IngestBenchmark.Configuration {
        var configuration = IngestBenchmark.Configuration()
        configuration.records = records
        configuration.recordSize = recordSize
        configuration.producers = producers
        configuration.kind = IngestBenchmark.Kind(rawValue: kind) ?? .checkpoint
        configuration.durablePerRecord = durablePerRecord
        configuration.reportEvery = reportEvery
        configuration.keepsAggregates = !noAggregates
        return configuration
    }

    func run() async throws {
        try await runReportingErrors {
            let path = options.makeDirectory("ingest")
            defer { options.cleanUp(path) }
            let result: IngestBenchmarkResult
            do {
                result = try await IngestBenchmark.run(configuration, directory: path) { _ in
                    if !options.json {
                        Console.error("generating \(records) \(kind) records of ~\(recordSize) bytes…")
                    }
                }
            } catch let error as BenchmarkError {
                throw CLIError(benchmark: error)
            }
            if options.json {
                printJSON(result.json)
                return
            }
            let stats = result.statistics
            let rate = result.recordsPerSecond
            Console.line(
                "ingest: \(records) \(kind) records (\(Int(result.bytesPerRecord)) bytes), \(producers) producer\(producers == 1 ? "" : "s")"
            )
            Console.line(
                "  \(formatRate(rate)) records/s, \(String(format: "%.1f", result.megabytesPerSecond)) MB/s, "
                    + "\(String(format: "%.1f", result.commitsPerSecond)) commits/s (\(stats.batches) commits, largest \(stats.largestBatch), "
                    + "\(String(format: "%.1f", result.commitSeconds)) s committing)")
            if let prepareSeconds = result.prepareThreadSeconds {
                Console.line(
                    "  where the time goes: preparing (parse, canonicalize, validate, hash) "
                        + String(format: "%.1f", prepareSeconds) + " thread-s; committing "
                        + String(format: "%.1f", result.commitSeconds) + " s on the writer")
            }
            if let percent = result.latency {
                Console.line(
                    String(
                        format: "  latency p50 %.2f ms, p99 %.2f ms, p999 %.2f ms, max %.2f ms", percent.p50,
                        percent.p99, percent.p999, percent.max))
            }
            let baseline = result.baseline
            Console.line(
                "  baseline: SHA-256 leaf hash \(String(format: "%.0f", baseline.hashNanoseconds)) ns + LMDB append "
                    + "\(String(format: "%.0f", baseline.appendNanoseconds)) ns per record = limit \(formatRate(baseline.limitRecordsPerSecond)) records/s"
            )
            Console.line("  cairn reaches \(String(format: "%.1f", result.fractionOfLimit * 100))% of that limit")
            let fullTree = result.fullTree
            Console.line(
                "  full-tree baseline: every leaf and node hashed, every entry and node hash one MDB_APPEND key, one "
                    + "durable commit: \(String(format: "%.0f", fullTree.nanosecondsPerRecord)) ns per record = "
                    + "\(formatRate(fullTree.recordsPerSecond)) records/s; cairn reaches "
                    + "\(String(format: "%.1f", result.fractionOfFullTree * 100))% of it")
        }
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
            let path = options.makeDirectory("proofs")
            defer { options.cleanUp(path) }
            var configuration = ProofBenchmark.Configuration()
            configuration.records = records
            configuration.samples = samples
            configuration.threads = threads
            let result: ProofBenchmarkResult
            do {
                result = try await ProofBenchmark.run(configuration, directory: path) { _ in
                    if !options.json { Console.error("building a ledger of \(records) leaves…") }
                }
            } catch let error as BenchmarkError {
                throw CLIError(benchmark: error)
            }
            if options.json {
                printJSON(result.json)
                return
            }
            Console.line(
                "proofs: ledger of \(result.leaves) leaves (built in \(String(format: "%.1f", result.buildSeconds)) s), \(samples) samples, \(threads) threads"
            )
            Console.line("  inclusion proofs    \(formatRate(result.inclusionPerSecond))/s (with signed checkpoint)")
            Console.line("  consistency proofs  \(formatRate(result.consistencyPerSecond))/s")
            Console.line(
                "  inclusion verify    \(formatRate(result.inclusionVerifyPerSecond))/s (one thread, no signature)")
            Console.line(
                "  consistency verify  \(formatRate(result.consistencyVerifyPerSecond))/s (one thread, no signature)")
            Console.line(
                "  baseline: \(result.readsPerProof) random LMDB reads of \(String(format: "%.0f", result.readNanoseconds)) ns = \(formatRate(result.limitProofsPerSecondOneThread)) proofs/s per thread"
            )
        }
    }
}
