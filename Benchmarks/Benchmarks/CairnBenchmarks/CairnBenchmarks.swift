import Benchmark
import CBenchOpenSSL
import CairnCrypto
import CairnJSON
import CairnLedger
import CairnMerkle
import CairnRecords
import CairnStorage
import Foundation

// Cairn's benchmark suite. Run from Benchmarks/:
//
//   swift package --allow-writing-to-directory .benchmarkBaselines benchmark
//   swift package benchmark --filter 'SHA-256.*'           # one group
//   CAIRN_BENCH_LEAVES=10000000 swift package benchmark --filter 'Proof.*'
//
// Large ledgers (proofs, queries) are built once and cached in $CAIRN_BENCH_DIR (default
// $TMPDIR/cairn-bench-cache), because building them takes longer than measuring them.
// docs/performance.md has the results and what each figure means.

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal, .peakMemoryResident],
        maxDuration: .seconds(3),
        maxIterations: 1_000_000
    )
    hashing()
    records()
    appends()
    entryStorage()
    proofs()
    queries()
    redaction()
}

// MARK: - SHA-256 call paths (the choice in CairnCrypto)

func hashing() {
    let entry = [UInt8](repeating: 0x5a, count: 256)

    Benchmark("SHA-256 256B / SHA256() one-shot", configuration: .init(scalingFactor: .kilo)) {
        benchmark in
        var out = [UInt8](repeating: 0, count: 32)
        for _ in benchmark.scaledIterations {
            entry.withUnsafeBytes { bench_sha256_lowlevel($0.baseAddress, $0.count, &out) }
            blackHole(out)
        }
    }

    Benchmark("SHA-256 256B / EVP_Digest one-shot", configuration: .init(scalingFactor: .kilo)) { benchmark in
        var out = [UInt8](repeating: 0, count: 32)
        for _ in benchmark.scaledIterations {
            entry.withUnsafeBytes { bench_sha256_evp_oneshot($0.baseAddress, $0.count, &out) }
            blackHole(out)
        }
    }

    Benchmark("SHA-256 256B / reused EVP_MD_CTX", configuration: .init(scalingFactor: .kilo)) { benchmark in
        var out = [UInt8](repeating: 0, count: 32)
        let context = EVP_MD_CTX_new()
        let md = bench_fetch_sha256()
        defer {
            EVP_MD_CTX_free(context)
            EVP_MD_free(md)
        }
        for _ in benchmark.scaledIterations {
            entry.withUnsafeBytes { bench_sha256_evp_reused(context, md, $0.baseAddress, $0.count, &out) }
            blackHole(out)
        }
    }

    Benchmark(
        "SHA-256 256B / SHA256_Init+Update+Final (CairnCrypto SHA256.hash)", configuration: .init(scalingFactor: .kilo)
    ) {
        benchmark in
        for _ in benchmark.scaledIterations { blackHole(SHA256.hash(entry)) }
    }

    // The interior node hash, SHA-256(0x01 || left || right): a proof's verification is ~20 of them.
    let left = SHA256.hash(Array("left".utf8))
    let right = SHA256.hash(Array("right".utf8))
    Benchmark("RFC 6962 node hash / SHA256_Init+Update+Final (before)", configuration: .init(scalingFactor: .kilo)) {
        benchmark in
        var out = [UInt8](repeating: 0, count: 32)
        let l = left.bytes
        let r = right.bytes
        for _ in benchmark.scaledIterations {
            bench_sha256_node_update_final(l, r, &out)
            blackHole(out)
        }
    }

    Benchmark("RFC 6962 node hash / two SHA256_Transform blocks (C)", configuration: .init(scalingFactor: .kilo)) {
        benchmark in
        var out = [UInt8](repeating: 0, count: 32)
        let l = left.bytes
        let r = right.bytes
        for _ in benchmark.scaledIterations {
            bench_sha256_node_transform(l, r, &out)
            blackHole(out)
        }
    }

    Benchmark(
        "RFC 6962 node hash / two SHA256_Transform blocks (CairnCrypto SHA256.hash(node:))",
        configuration: .init(scalingFactor: .kilo)
    ) {
        benchmark in
        for _ in benchmark.scaledIterations { blackHole(SHA256.hash(node: left, right)) }
    }

    Benchmark("RFC 6962 leaf hash 256B (SHA256.hash(prefix:))", configuration: .init(scalingFactor: .kilo)) {
        benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(entry.withUnsafeBytes { SHA256.hash(prefix: 0, $0) })
        }
    }
}

// MARK: - Records: JCS, validation, preparation

/// The record schema's full checkpoint example (examples/records/checkpoint.json, ~2.2 KB pretty,
/// 2,155 canonical bytes) — "a realistic checkpoint record".
let checkpointExample: [UInt8] = {
    let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent(
            "examples/records/checkpoint.json")
    return Array((try? Data(contentsOf: path)) ?? Data())
}()

func records() {
    let synthetic = SyntheticRecords.checkpoint(1, size: 1024)
    let raw = SyntheticRecords.raw(1, size: 256)

    Benchmark("JCS canonicalize / checkpoint example (2.2 KB)", configuration: .init(scalingFactor: .kilo)) {
        benchmark in
        precondition(!checkpointExample.isEmpty, "examples/records/checkpoint.json not found")
        for _ in benchmark.scaledIterations { blackHole(try JCS.canonicalize(json: checkpointExample)) }
    }

    Benchmark("JCS canonicalize / synthetic checkpoint (1 KB)", configuration: .init(scalingFactor: .kilo)) {
        benchmark in
        for _ in benchmark.scaledIterations { blackHole(try JCS.canonicalize(json: synthetic)) }
    }

    Benchmark("Validate + facts / checkpoint example", configuration: .init(scalingFactor: .kilo)) { benchmark in
        let value = try JSONParser.parse(checkpointExample)
        for _ in benchmark.scaledIterations { blackHole(try RecordFacts(value)) }
    }

    Benchmark("Prepare / raw 256 B entry (canonicalize + 2 hashes)", configuration: .init(scalingFactor: .kilo)) {
        benchmark in
        let rules = RecordRules(profile: .generic, maxEntryBytes: 1 << 20)
        for _ in benchmark.scaledIterations { blackHole(try PreparedEntry.prepare(json: raw, rules: rules)) }
    }

    Benchmark(
        "Prepare / checkpoint 1 KB (parse, validate, canonicalize, hash)", configuration: .init(scalingFactor: .kilo)
    ) {
        benchmark in
        let rules = RecordRules(profile: .provenance, maxEntryBytes: 1 << 20)
        for _ in benchmark.scaledIterations { blackHole(try PreparedEntry.prepare(json: synthetic, rules: rules)) }
    }
}

// MARK: - Appends

/// A fresh temporary ledger, removed when dropped.
final class ScratchLedger: @unchecked Sendable {
    let path: String
    let ledger: Ledger

    init(profile: LedgerProfile) throws {
        path = NSTemporaryDirectory() + "cairn-bench-\(UUID().uuidString)"
        var options = Ledger.CreateOptions()
        options.profile = profile
        ledger = try Ledger.create(at: path, origin: "bench.cairn.local/scratch", options: options)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

func appends() {
    // One iteration = one durable commit of 1,000 prepared raw 256-byte entries.
    Benchmark(
        "Append / single writer, 1000 raw 256 B entries per commit",
        configuration: .init(
            metrics: [.wallClock, .throughput, .cpuTotal], scalingFactor: .one, maxDuration: .seconds(5))
    ) { benchmark in
        let scratch = try ScratchLedger(profile: .generic)
        // The ledger's one write path: each batch is one atomic submission, one commit.
        let engine = IngestEngine(ledger: scratch.ledger)
        defer { engine.shutdown() }
        var next = 0
        let batches = benchmark.scaledIterations.map { _ -> [PreparedEntry] in
            defer { next += 1000 }
            return (next..<(next + 1000)).map { PreparedEntry(canonicalBytes: SyntheticRecords.raw($0, size: 256)) }
        }
        benchmark.startMeasurement()
        for batch in batches { blackHole(try await engine.append(contentsOf: batch, atomic: true, whenBusy: .wait)) }
        benchmark.stopMeasurement()
    }

    // The plain full-tree baseline of the benchmark above, in the same run (issue 11's targets are ratios to
    // it): the same 1,000 entries per durable commit, each leaf and every interior node hashed, each entry and
    // each node hash one key appended with MDB_APPEND (cairn bench's FullTreeBaseline does the same).
    Benchmark(
        "Append / full-tree baseline, 1000 raw 256 B entries per commit",
        configuration: .init(
            metrics: [.wallClock, .throughput, .cpuTotal], scalingFactor: .one, maxDuration: .seconds(5))
    ) { benchmark in
        let directory = NSTemporaryDirectory() + "cairn-full-tree-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let env = try LMDBEnvironment(directory: directory)
        let entryTable = try env.openTable("entries")
        let hashTable = try env.openTable("hashes")
        var next = 0
        let batches = benchmark.scaledIterations.map { _ -> [[UInt8]] in
            defer { next += 1000 }
            return (next..<(next + 1000)).map { SyntheticRecords.raw($0, size: 256) }
        }
        var frontier = MerkleFrontier()
        var stored: UInt64 = 0
        var index: UInt64 = 0
        benchmark.startMeasurement()
        for batch in batches {
            try env.write { txn in
                for entry in batch {
                    try entry.withUnsafeBytes { try txn.put(entryTable, key: index, value: $0, mode: .append) }
                    let leafHash = entry.withUnsafeBytes { SHA256.hash(prefix: 0, $0) }
                    try storePerKey(leafHash, &frontier, &stored, txn, hashTable)
                    index += 1
                }
            }
        }
        benchmark.stopMeasurement()
    }

    // One iteration = 256 single-record appends by P concurrent producers, each waiting until
    // its record is durable (group commit).
    for producers in [1, 16, 256] {
        Benchmark(
            "Group commit / \(producers) producers, 256 durable single-record appends",
            configuration: .init(metrics: [.wallClock, .throughput], scalingFactor: .one, maxDuration: .seconds(5))
        ) { benchmark in
            let scratch = try ScratchLedger(profile: .generic)
            let engine = IngestEngine(ledger: scratch.ledger)
            defer { engine.shutdown() }
            var next = 0
            for _ in benchmark.scaledIterations {
                let base = next
                next += 256
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for p in 0..<producers {
                        group.addTask {
                            for n in stride(from: base + p, to: base + 256, by: producers) {
                                _ = try await engine.append(
                                    PreparedEntry(canonicalBytes: SyntheticRecords.raw(n, size: 256)))
                            }
                        }
                    }
                    try await group.waitForAll()
                }
            }
        }
    }
}

// MARK: - Proofs (cached ledgers)

let cacheDirectory: String = {
    let dir = ProcessInfo.processInfo.environment["CAIRN_BENCH_DIR"] ?? (NSTemporaryDirectory() + "cairn-bench-cache")
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}()

let proofLeaves = Int(ProcessInfo.processInfo.environment["CAIRN_BENCH_LEAVES"] ?? "") ?? 1_000_000

/// `ledger.read` through its synchronous door, from the benchmarks' async closures (where a plain
/// call would pick the async overload, which also measures the hop to the ledger I/O pool).
func readNow<R>(_ ledger: Ledger, _ body: (LedgerSnapshot) throws -> R) throws -> R {
    try ledger.read(body)
}

/// A generic ledger of `leaves` small entries, built once and reused across runs.
func cachedLedger(leaves: Int) async throws -> Ledger {
    // Named by storage format: a cache built by an older cairn would measure the old layout.
    let path = cacheDirectory + "/proofs-format\(LedgerLayout.formatVersion)-\(leaves)"
    if let ledger = try? Ledger.open(at: path), try readNow(ledger, { $0.treeSize }) == UInt64(leaves) { return ledger }
    try? FileManager.default.removeItem(atPath: path)
    var options = Ledger.CreateOptions()
    options.profile = .generic
    let ledger = try Ledger.create(at: path, origin: "bench.cairn.local/proofs", options: options)
    let engine = IngestEngine(ledger: ledger, configuration: .bulk)
    defer { engine.shutdown() }
    for start in stride(from: 0, to: leaves, by: 100_000) {
        _ = try await engine.append(
            contentsOf: (start..<min(start + 100_000, leaves)).map {
                PreparedEntry(canonicalBytes: Array("{\"n\":\($0)}".utf8))
            }, atomic: true, whenBusy: .wait)
    }
    return ledger
}

/// The full-tree baseline's store of the same entries: every node hash one LMDB key under its stored index
/// (as the C reference program of issue 11 kept them), built once in the cache directory.
func cachedPerKeyStore(leaves: Int) throws -> (LMDBEnvironment, Table) {
    let path = cacheDirectory + "/per-key-\(leaves)"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    let env = try LMDBEnvironment(directory: path)
    let table = try env.openTable("hashes")
    let expected = StoredHashIndex.count(treeSize: UInt64(leaves))
    if try env.read({ try $0.count(table) }) == Int(expected) { return (env, table) }
    try env.write { txn in try txn.removeAll(table) }
    var frontier = MerkleFrontier()
    var stored: UInt64 = 0
    for start in stride(from: 0, to: leaves, by: 1 << 20) {
        try env.write { txn in
            for index in start..<min(leaves, start + 1 << 20) {
                let leafHash = Array("{\"n\":\(index)}".utf8).withUnsafeBytes { SHA256.hash(prefix: 0, $0) }
                try storePerKey(leafHash, &frontier, &stored, txn, table)
            }
        }
    }
    return (env, table)
}

/// Appends one leaf to a per-key store (the full-tree baselines): its leaf hash and the hash of each subtree
/// it completes (`MerkleFrontier`), one `MDB_APPEND` key each under consecutive stored-hash indexes.
func storePerKey(
    _ leafHash: SHA256Digest, _ frontier: inout MerkleFrontier, _ stored: inout UInt64, _ txn: WriteTransaction,
    _ table: Table
) throws {
    try frontier.append(leafHash: leafHash) { hash in
        try hash.withUnsafeBytes { try txn.put(table, key: stored, value: $0, mode: .append) }
        stored += 1
    }
}

/// Reads each node hash with its own `mdb_get`, as the per-key reference does.
struct PerKeyReader: HashReader {
    let txn: ReadTransaction
    let table: Table
    func readHashes(at indexes: [UInt64]) throws -> [SHA256Digest] {
        try indexes.map { index in try txn.withValue(table, key: index) { SHA256Digest(bytes: $0!)! } }
    }
}

func proofs() {
    // The full-tree (per-key) baselines of the two proof benchmarks below, in the same run: the same
    // proofs from a store with one key per node hash, one read transaction per proof.
    Benchmark(
        "Proof / full-tree baseline: inclusion from per-key hashes, \(proofLeaves) leaves",
        configuration: .init(scalingFactor: .kilo)
    ) {
        benchmark in
        let (env, table) = try cachedPerKeyStore(leaves: proofLeaves)
        var rng = SystemRandomNumberGenerator()
        let size = UInt64(proofLeaves)
        let indexes = benchmark.scaledIterations.map { _ in UInt64.random(in: 0..<size, using: &rng) }
        benchmark.startMeasurement()
        for index in indexes {
            blackHole(
                try env.read { txn in
                    try MerkleTree.inclusionProof(
                        index: index, treeSize: size, reader: PerKeyReader(txn: txn, table: table))
                })
        }
    }

    Benchmark(
        "Proof / full-tree baseline: consistency from per-key hashes, \(proofLeaves) leaves",
        configuration: .init(scalingFactor: .kilo)
    ) {
        benchmark in
        let (env, table) = try cachedPerKeyStore(leaves: proofLeaves)
        var rng = SystemRandomNumberGenerator()
        let size = UInt64(proofLeaves)
        let olds = benchmark.scaledIterations.map { _ in UInt64.random(in: 1..<size, using: &rng) }
        benchmark.startMeasurement()
        for old in olds {
            blackHole(
                try env.read { txn in
                    try MerkleTree.consistencyProof(
                        oldSize: old, newSize: size, reader: PerKeyReader(txn: txn, table: table))
                })
        }
    }

    Benchmark(
        "Proof / inclusion with signed checkpoint, \(proofLeaves) leaves", configuration: .init(scalingFactor: .kilo)
    ) {
        benchmark in
        let ledger = try await cachedLedger(leaves: proofLeaves)
        var rng = SystemRandomNumberGenerator()
        let indexes = benchmark.scaledIterations.map { _ in UInt64.random(in: 0..<UInt64(proofLeaves), using: &rng) }
        benchmark.startMeasurement()
        // One snapshot per proof, as one request gets.
        for index in indexes { blackHole(try readNow(ledger) { try $0.inclusionProof(index: index) }) }
    }

    Benchmark(
        "Proof / consistency with signed checkpoint, \(proofLeaves) leaves", configuration: .init(scalingFactor: .kilo)
    ) {
        benchmark in
        let ledger = try await cachedLedger(leaves: proofLeaves)
        var rng = SystemRandomNumberGenerator()
        let olds = benchmark.scaledIterations.map { _ in UInt64.random(in: 1..<UInt64(proofLeaves), using: &rng) }
        benchmark.startMeasurement()
        for old in olds { blackHole(try readNow(ledger) { try $0.consistencyProof(oldSize: old) }) }
    }

    // Verification without the signature check, on an in-memory tree.
    var tree = InMemoryMerkleTree()
    for n in 0..<65_536 { tree.append(entry: Array("{\"n\":\(n)}".utf8)) }
    let size = tree.treeSize
    let root = tree.root
    let index: UInt64 = 40_000
    let leaf = RFC6962.leafHash(Array("{\"n\":\(index)}".utf8))
    let inclusion = try! MerkleTree.inclusionProof(index: index, treeSize: size, reader: tree)
    let old: UInt64 = 40_001
    let oldRoot = try! MerkleTree.root(treeSize: old, reader: tree)
    let consistency = try! MerkleTree.consistencyProof(oldSize: old, newSize: size, reader: tree)

    Benchmark("Verify / inclusion proof (65536 leaves, no signature)", configuration: .init(scalingFactor: .kilo)) {
        benchmark in
        for _ in benchmark.scaledIterations {
            try MerkleVerifier.verifyInclusion(
                leafHash: leaf, index: index, treeSize: size, proof: inclusion, root: root)
        }
    }

    Benchmark("Verify / consistency proof (65536 leaves, no signature)", configuration: .init(scalingFactor: .kilo)) {
        benchmark in
        for _ in benchmark.scaledIterations {
            try MerkleVerifier.verifyConsistency(
                oldSize: old, newSize: size, oldRoot: oldRoot, newRoot: root, proof: consistency)
        }
    }
}

// MARK: - Queries (cached provenance ledger)

let queryRecords = Int(ProcessInfo.processInfo.environment["CAIRN_BENCH_QUERY_RECORDS"] ?? "") ?? 1_000_000

/// A provenance ledger of `records` synthetic checkpoints, built once and reused.
func cachedQueryLedger(records: Int) async throws -> Ledger {
    let path = cacheDirectory + "/query-\(records)"
    if let ledger = try? Ledger.open(at: path), try readNow(ledger, { $0.treeSize }) == UInt64(records) {
        return ledger
    }
    try? FileManager.default.removeItem(atPath: path)
    let ledger = try Ledger.create(at: path, origin: "bench.cairn.local/query")
    let rules = ledger.recordRules()
    let engine = IngestEngine(ledger: ledger, configuration: .bulk)
    defer { engine.shutdown() }
    for start in stride(from: 0, to: records, by: 50_000) {
        let entries = try (start..<min(start + 50_000, records)).map {
            try PreparedEntry.prepare(json: SyntheticRecords.checkpoint($0, size: 900), rules: rules)
        }
        _ = try await engine.append(contentsOf: entries, atomic: true, whenBusy: .wait)
    }
    return ledger
}

func queries() {
    // SyntheticRecords.checkpoint(n) touches src/module{n%211}/file{n%1009}.ts, lines n%400+1…n%400+40:
    // about records/1009 checkpoints per file, of which ~10% touch a given line.
    Benchmark("Query / file + line, \(queryRecords) checkpoints", configuration: .init(scalingFactor: .one)) {
        benchmark in
        let ledger = try await cachedQueryLedger(records: queryRecords)
        var query = RecordQuery()
        query.path = "src/module\(500 % 211)/file\(500 % 1009).ts"
        query.lines = 120...120
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { blackHole(try readNow(ledger) { try $0.query(query) }) }
    }
}
