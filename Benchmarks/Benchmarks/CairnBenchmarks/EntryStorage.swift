import Benchmark
import CairnLedger
import CairnStorage
import Foundation

// MARK: - Entries: one key each, or bundles (issue 11)

// Issue 11 asks whether entries should stay one LMDB key each, appended through a long-lived MDB_APPEND
// cursor (what the ledger does), or be stored as entry bundles of 256 (one value per bundle, as hash tiles
// are; the open bundle rewritten once per commit), "whichever is measured faster for both ingest and get".
// Both layouts hold the same raw 256-byte entries; a bundle is the C2SP tlog-tiles entry bundle encoding
// (each entry a 2-byte big-endian length and its bytes), so entries over 64 KiB would need a side table.

let bundleWidth = 256

/// Appends `entry` to `bundle` in the tlog-tiles entry bundle encoding.
func appendToBundle(_ entry: [UInt8], _ bundle: inout [UInt8]) {
    bundle.append(UInt8(entry.count >> 8))
    bundle.append(UInt8(entry.count & 0xFF))
    bundle.append(contentsOf: entry)
}

/// The entry at `position` of a bundle, found by skipping the entries before it.
func entry(at position: Int, inBundle bundle: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
    var offset = 0
    var remaining = position
    while offset + 2 <= bundle.count {
        let length = Int(bundle[offset]) << 8 | Int(bundle[offset + 1])
        guard offset + 2 + length <= bundle.count else { return nil }
        if remaining == 0 { return UnsafeRawBufferPointer(rebasing: bundle[(offset + 2)..<(offset + 2 + length)]) }
        offset += 2 + length
        remaining -= 1
    }
    return nil
}

/// The bundled layout's writer state: the open bundle, kept in memory between commits.
struct BundleWriter {
    var next: UInt64 = 0
    var open: [UInt8] = []

    /// Adds `batch`, writing each bundle it completes once and the open one (if any) at the end: one
    /// durable commit.
    mutating func commit(_ batch: [[UInt8]], env: LMDBEnvironment, table: Table) throws {
        try env.write { txn in
            for entry in batch {
                appendToBundle(entry, &open)
                next += 1
                if next % UInt64(bundleWidth) == 0 {
                    try txn.put(table, key: next / UInt64(bundleWidth) - 1, value: open)
                    open.removeAll(keepingCapacity: true)
                }
            }
            if !open.isEmpty { try txn.put(table, key: next / UInt64(bundleWidth), value: open) }
        }
    }
}

/// A store of `count` raw 256-byte entries in one layout, built once in the cache directory.
func cachedEntryStore(count: Int, bundled: Bool) throws -> (LMDBEnvironment, Table) {
    let path = cacheDirectory + "/entries-\(bundled ? "bundled" : "per-key")-\(count)"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    let env = try LMDBEnvironment(directory: path)
    let table = try env.openTable("entries")
    let expected = bundled ? (count + bundleWidth - 1) / bundleWidth : count
    if try env.read({ try $0.count(table) }) == expected { return (env, table) }
    try env.write { txn in try txn.removeAll(table) }
    var writer = BundleWriter()
    for start in stride(from: 0, to: count, by: 100_000) {
        let batch = (start..<min(count, start + 100_000)).map { SyntheticRecords.raw($0, size: 256) }
        if bundled {
            try writer.commit(batch, env: env, table: table)
        } else {
            try env.write { txn in
                try txn.withAppender(table) { appender in
                    for (offset, entry) in batch.enumerated() {
                        try entry.withUnsafeBytes { try appender.append(UInt64(start + offset), $0) }
                    }
                }
            }
        }
    }
    return (env, table)
}

func entryStorage() {
    func scratchEnvironment() throws -> (String, LMDBEnvironment, Table) {
        let directory = NSTemporaryDirectory() + "cairn-entries-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let env = try LMDBEnvironment(directory: directory)
        return (directory, env, try env.openTable("entries"))
    }
    func batches(_ count: Int) -> [[[UInt8]]] {
        (0..<count).map { batch in (batch * 1000..<(batch + 1) * 1000).map { SyntheticRecords.raw($0, size: 256) } }
    }
    let appendConfiguration = Benchmark.Configuration(
        metrics: [.wallClock, .throughput, .cpuTotal], scalingFactor: .one, maxDuration: .seconds(5))

    // One iteration = one durable commit of 1,000 raw 256-byte entries.
    Benchmark("Entries / append 1000 raw 256 B per commit, one MDB_APPEND key each", configuration: appendConfiguration)
    {
        benchmark in
        let (directory, env, table) = try scratchEnvironment()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let work = batches(benchmark.scaledIterations.count)
        var index: UInt64 = 0
        benchmark.startMeasurement()
        for batch in work {
            try env.write { txn in
                try txn.withAppender(table) { appender in
                    for entry in batch {
                        try entry.withUnsafeBytes { try appender.append(index, $0) }
                        index += 1
                    }
                }
            }
        }
        benchmark.stopMeasurement()
    }

    Benchmark("Entries / append 1000 raw 256 B per commit, bundles of 256", configuration: appendConfiguration) {
        benchmark in
        let (directory, env, table) = try scratchEnvironment()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let work = batches(benchmark.scaledIterations.count)
        var writer = BundleWriter()
        benchmark.startMeasurement()
        for batch in work { try writer.commit(batch, env: env, table: table) }
        benchmark.stopMeasurement()
    }

    // One read transaction per get, as one request gets; the entry is copied out.
    Benchmark("Entries / random get, one key each, \(proofLeaves) entries", configuration: .init(scalingFactor: .kilo))
    {
        benchmark in
        let (env, table) = try cachedEntryStore(count: proofLeaves, bundled: false)
        var rng = SystemRandomNumberGenerator()
        let indexes = benchmark.scaledIterations.map { _ in UInt64.random(in: 0..<UInt64(proofLeaves), using: &rng) }
        benchmark.startMeasurement()
        for index in indexes { blackHole(try env.read { txn in try txn.value(table, key: index) }) }
    }

    Benchmark(
        "Entries / random get from bundles of 256, \(proofLeaves) entries", configuration: .init(scalingFactor: .kilo)
    ) {
        benchmark in
        let (env, table) = try cachedEntryStore(count: proofLeaves, bundled: true)
        var rng = SystemRandomNumberGenerator()
        let indexes = benchmark.scaledIterations.map { _ in UInt64.random(in: 0..<UInt64(proofLeaves), using: &rng) }
        benchmark.startMeasurement()
        for index in indexes {
            blackHole(
                try env.read { txn in
                    try txn.withValue(table, key: index / UInt64(bundleWidth)) { bundle in
                        bundle.flatMap { entry(at: Int(index % UInt64(bundleWidth)), inBundle: $0) }.map { Array($0) }
                    }
                })
        }
    }
}
