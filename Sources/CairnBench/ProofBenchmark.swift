import CairnCrypto
import CairnJSON
import CairnLedger
import CairnMerkle
import CairnStorage
import Foundation

/// `cairn bench proofs`: inclusion and consistency proof generation (through the ledger's
/// snapshot door, each with its signed checkpoint) and verification (RFC 9162 §2.1.3.2/§2.1.4.2,
/// without the signature check), against a baseline of random LMDB reads of stored tiles, the
/// proof's unavoidable cost.
package enum ProofBenchmark {
    package struct Configuration: Sendable, Hashable {
        /// Leaves in the ledger.
        package var records = 1_000_000
        /// Proofs of each kind.
        package var samples = 200_000
        /// Threads generating proofs.
        package var threads = ProcessInfo.processInfo.activeProcessorCount

        package init() {}

        func validate() throws(BenchmarkError) {
            guard records > 1, samples > 0, threads > 0 else {
                throw BenchmarkError(
                    .invalidConfiguration, "a proof benchmark needs more than one leaf, samples and threads")
            }
        }
    }

    /// Entries per bulk submission while building the ledger.
    static let buildChunk = 8192
    /// Proofs verified (repeatedly) to time verification: the hashing, not memory traffic over
    /// hundreds of thousands of proof objects, is what is measured.
    static let verifySample = 2000
    /// Random reads timed for the baseline.
    static let baselineReads = 200_000
    /// Proofs of each kind timed for the per-key (full-tree) baseline.
    static let perKeySampleLimit = 100_000

    /// Builds a generic ledger of `records` small entries in `directory` (which must not exist or
    /// be empty; the caller removes it), then times proof generation and verification.
    /// `onPhase(.building)` is called once the ledger exists, before it is filled.
    package static func run(
        _ configuration: Configuration, directory: String, onPhase: (BenchmarkPhase) -> Void = { _ in }
    ) async throws -> ProofBenchmarkResult {
        try configuration.validate()
        let records = configuration.records
        let samples = configuration.samples
        var create = Ledger.CreateOptions()
        create.profile = .generic
        let ledger = try Ledger.create(at: directory, origin: "bench.cairn.local/proofs", options: create)
        onPhase(.building)
        let buildStart = nanoseconds()
        let engine = IngestEngine(ledger: ledger, configuration: .bulk)
        var pipeline = BulkPipeline<Void>(engine: engine)
        for start in stride(from: 0, to: records, by: buildChunk) {
            let entries = (start..<min(start + buildChunk, records)).map {
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
        let (inclusionSeconds, inclusion) = try timeParallel(indexes, threads: configuration.threads) { index in
            try ledger.read { try $0.inclusionProof(index: index) }
        }
        // Consistency proofs.
        let olds = (0..<samples).map { _ in UInt64.random(in: 1..<size, using: &rng) }
        let (consistencySeconds, consistency) = try timeParallel(olds, threads: configuration.threads) { old in
            try ledger.read { try $0.consistencyProof(oldSize: old) }
        }
        // Verification (no signature check), one thread.
        let sample = Array(inclusion.prefix(verifySample))
        let repeats = max(1, samples / verifySample)
        let inclusionVerify =
            try onDedicatedThread { try verifyInclusions(sample, size: size, root: root, repeats: repeats) }
            * Double(samples)
        let consistencyVerify =
            try verifyConsistencies(
                Array(consistency.prefix(verifySample)), ledger: ledger, size: size, root: root, repeats: repeats)
            * Double(samples)

        // Baseline: the random stored-tile reads a proof needs, with nothing else.
        let reads = try tilesRead(index: size / 3, treeSize: size)
        let readNs = try randomReadBaseline(ledgerPath: directory, count: baselineReads)
        // Full-tree baseline: the same proofs from a per-key store, one mdb_get per node hash, one thread.
        let perKeySamples = min(samples, perKeySampleLimit)
        let perKey = try PerKeyProofBaseline.measure(
            leaves: size, indexes: Array(indexes.prefix(perKeySamples)), oldSizes: Array(olds.prefix(perKeySamples)),
            directory: directory + ".per-key")
        return ProofBenchmarkResult(
            configuration: configuration, leaves: size, buildSeconds: buildSeconds,
            inclusionSeconds: inclusionSeconds, consistencySeconds: consistencySeconds,
            inclusionVerifySeconds: inclusionVerify, consistencyVerifySeconds: consistencyVerify,
            readNanoseconds: readNs, readsPerProof: reads, perKey: perKey)
    }

    /// Seconds per inclusion proof verification.
    private static func verifyInclusions(
        _ proofs: [InclusionProof], size: UInt64, root: SHA256Digest, repeats: Int
    ) throws -> Double {
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
    private static func verifyConsistencies(
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

    /// The number of distinct stored tiles the inclusion proof of `index` (with its leaf hash) reads.
    static func tilesRead(index: UInt64, treeSize: UInt64) throws -> Int {
        final class Recorder: HashReader {
            var indexes: [UInt64] = []
            func readHashes(at indexes: [UInt64]) throws -> [SHA256Digest] {
                self.indexes += indexes
                return indexes.map { _ in .zero }
            }
        }
        let recorder = Recorder()
        _ = try MerkleTree.inclusionProof(index: index, treeSize: treeSize, reader: recorder)
        let stored = recorder.indexes + [StoredHashIndex.index(level: 0, n: index)]
        return Set(
            stored.map { stored in
                let (level, n) = StoredHashIndex.split(stored)
                let (tileLevel, tileIndex, _, _) = StoredTile.locate(level: level, n: n)
                return StoredTile.key(level: tileLevel, index: tileIndex)
            }
        ).count
    }

    /// Nanoseconds per random read of a stored tile (storage format 2), in one read transaction.
    private static func randomReadBaseline(ledgerPath: String, count: Int) throws -> Double {
        let env = try LMDBEnvironment.shared(directory: ledgerPath)
        let tiles = try env.openTable("tiles")
        var keys: [UInt64] = []
        try env.read { txn in
            try txn.withCursor(tiles) { cursor in
                var entry = try cursor.first()
                while let (key, _) = entry {
                    if let key = BigEndianKey.decode(key) { keys.append(key) }
                    entry = try cursor.next()
                }
            }
        }
        guard !keys.isEmpty else { throw BenchmarkError(.incomplete, "the benchmark ledger holds no stored tiles") }
        let sample = (0..<count).map { _ in keys.randomElement()! }
        var bytes = 0
        let start = nanoseconds()
        try env.read { txn in
            for key in sample { bytes += try txn.withValue(tiles, key: key) { $0?.count ?? 0 } }
        }
        guard bytes > 0 else { throw BenchmarkError(.incomplete, "the random reads found no stored tile") }
        return Double(nanoseconds() - start) / Double(count)
    }
}

/// What one `ProofBenchmark.run` measured.
package struct ProofBenchmarkResult: Sendable, Hashable {
    package let configuration: ProofBenchmark.Configuration
    /// The ledger's size.
    package let leaves: UInt64
    package let buildSeconds: Double
    /// Wall time to generate `samples` proofs of each kind on `threads` threads.
    package let inclusionSeconds: Double
    package let consistencySeconds: Double
    /// One thread's time to verify `samples` proofs of each kind.
    package let inclusionVerifySeconds: Double
    package let consistencyVerifySeconds: Double
    /// Nanoseconds per random LMDB read of a stored tile.
    package let readNanoseconds: Double
    /// Stored-tile reads an inclusion proof needs (of a leaf a third into the tree, with its leaf hash).
    package let readsPerProof: Int
    /// The full-tree baseline: the same proofs from a per-key store, one thread.
    package let perKey: PerKeyProofBaseline

    private var samples: Double { Double(configuration.samples) }
    package var inclusionPerSecond: Double { samples / inclusionSeconds }
    package var consistencyPerSecond: Double { samples / consistencySeconds }
    package var inclusionVerifyPerSecond: Double { samples / inclusionVerifySeconds }
    package var consistencyVerifyPerSecond: Double { samples / consistencyVerifySeconds }
    /// The baseline: proofs per second one thread could produce doing only the reads.
    package var limitProofsPerSecondOneThread: Double { 1e9 / (readNanoseconds * Double(readsPerProof)) }

    /// The one JSON object `cairn bench proofs --json` prints (docs/performance.md quotes it).
    package var json: JSONValue {
        let object: JSONObject = [
            "benchmark": "proofs", "leaves": .uint(leaves), "samples": .number(samples),
            "threads": .number(Double(configuration.threads)), "build_seconds": .number(round3(buildSeconds)),
            "inclusion_per_second": .number(inclusionPerSecond.rounded()),
            "consistency_per_second": .number(consistencyPerSecond.rounded()),
            "inclusion_verify_per_second": .number(inclusionVerifyPerSecond.rounded()),
            "consistency_verify_per_second": .number(consistencyVerifyPerSecond.rounded()),
            "baseline": .object([
                "lmdb_random_read_ns": .number(round3(readNanoseconds)),
                "reads_per_proof": .number(Double(readsPerProof)),
                "limit_proofs_per_second_one_thread": .number(limitProofsPerSecondOneThread.rounded()),
            ]),
            "full_tree_baseline": perKey.json,
            // Per generating thread, against the one-thread per-key reference (issue 11's target: ≥ 2).
            "inclusion_per_thread_vs_full_tree": .number(
                round3(inclusionPerSecond / Double(configuration.threads) / perKey.inclusionPerSecond)),
            "consistency_per_thread_vs_full_tree": .number(
                round3(consistencyPerSecond / Double(configuration.threads) / perKey.consistencyPerSecond)),
        ]
        return .object(object)
    }
}
