import CairnCrypto
import CairnJSON
import CairnMerkle
import CairnStorage
import Foundation

/// The plain full-tree log on the same bytes: what a minimal C-level log does per record with the
/// components Cairn uses. Every leaf and every interior node of the RFC 6962 tree is hashed with
/// SHA-256; every entry and every stored node hash is one LMDB key, appended with `MDB_APPEND` (the
/// hashes in tlog's stored-hash order, which is append order), all in one transaction with one
/// durable commit. Issue 11's targets are ratios to this rate.
///
/// Unlike ``IngestBaseline`` (leaf hashing and entry appends timed apart, then added), this is one
/// timed pass, as the C program that set the targets ran.
package struct FullTreeBaseline: Sendable, Hashable {
    /// Wall-clock nanoseconds per entry, its share of the commit and fsync included.
    package let nanosecondsPerRecord: Double
    /// Stored node hashes per entry (just under 2 for a large tree).
    package let hashesPerRecord: Double

    package var recordsPerSecond: Double { 1e9 / nanosecondsPerRecord }

    /// Measures `entries` in a scratch LMDB environment in `directory`, removed afterwards.
    package static func measure(_ entries: [[UInt8]], directory: String) throws -> FullTreeBaseline {
        guard !entries.isEmpty else {
            throw BenchmarkError(.invalidConfiguration, "the full-tree baseline needs at least one entry")
        }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let env = try LMDBEnvironment(directory: directory)
        let entryTable = try env.openTable("entries")
        let hashTable = try env.openTable("hashes")
        let start = nanoseconds()
        let stored = try env.write { txn -> UInt64 in
            // The right edge: the leaf hash and each subtree it completes are stored, in stored-hash order.
            var frontier = MerkleFrontier()
            var stored: UInt64 = 0
            for (index, entry) in entries.enumerated() {
                try entry.withUnsafeBytes { try txn.put(entryTable, key: UInt64(index), value: $0, mode: .append) }
                try storePerKey(
                    entry.withUnsafeBytes { SHA256.hash(prefix: 0, $0) }, &frontier, &stored, txn, hashTable)
            }
            return stored
        }
        let perRecord = Double(nanoseconds() - start) / Double(entries.count)
        return FullTreeBaseline(
            nanosecondsPerRecord: perRecord, hashesPerRecord: Double(stored) / Double(entries.count))
    }

    /// `{"ns_per_record","hashes_per_record","records_per_second"}`.
    package var json: JSONValue {
        .object([
            "ns_per_record": .number(round3(nanosecondsPerRecord)),
            "hashes_per_record": .number(round3(hashesPerRecord)),
            "records_per_second": .number(recordsPerSecond.rounded()),
        ])
    }
}

/// The per-key proof reference: the same log stored as the plain full-tree baseline stores it (every node hash
/// one LMDB key under its stored index), and proofs generated from it by reading each node hash with its own
/// `mdb_get`, one read transaction per proof, on one thread: what the C reference program of issue 11 did.
package struct PerKeyProofBaseline: Sendable, Hashable {
    package let inclusionPerSecond: Double
    package let consistencyPerSecond: Double

    /// Builds the per-key store of entries `{"n":0}` … `{"n":leaves-1}` (the proof benchmark's) in `directory`
    /// (removed afterwards) and times proofs for `indexes` and `oldSizes`.
    package static func measure(
        leaves: UInt64, indexes: [UInt64], oldSizes: [UInt64], directory: String
    ) throws -> PerKeyProofBaseline {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let env = try LMDBEnvironment(directory: directory)
        let hashTable = try env.openTable("hashes")
        var frontier = MerkleFrontier()
        var stored: UInt64 = 0
        for start in stride(from: 0, to: leaves, by: 1 << 20) {
            try env.write { txn in
                for index in start..<min(leaves, start + 1 << 20) {
                    let leafHash = Array("{\"n\":\(index)}".utf8).withUnsafeBytes { SHA256.hash(prefix: 0, $0) }
                    try storePerKey(leafHash, &frontier, &stored, txn, hashTable)
                }
            }
        }
        struct PerKeyReader: HashReader {
            let txn: ReadTransaction
            let table: Table
            func readHashes(at indexes: [UInt64]) throws -> [SHA256Digest] {
                try indexes.map { index in
                    try txn.withValue(table, key: index) { raw in
                        guard let raw, let hash = SHA256Digest(bytes: raw) else {
                            throw BenchmarkError(.incomplete, "the per-key baseline lacks stored hash \(index)")
                        }
                        return hash
                    }
                }
            }
        }
        let inclusion = try onDedicatedThread {
            let start = nanoseconds()
            for index in indexes {
                _ = try env.read { txn in
                    try MerkleTree.inclusionProof(
                        index: index, treeSize: leaves, reader: PerKeyReader(txn: txn, table: hashTable))
                }
            }
            return Double(indexes.count) / (Double(nanoseconds() - start) / 1e9)
        }
        let consistency = try onDedicatedThread {
            let start = nanoseconds()
            for old in oldSizes {
                _ = try env.read { txn in
                    try MerkleTree.consistencyProof(
                        oldSize: old, newSize: leaves, reader: PerKeyReader(txn: txn, table: hashTable))
                }
            }
            return Double(oldSizes.count) / (Double(nanoseconds() - start) / 1e9)
        }
        return PerKeyProofBaseline(inclusionPerSecond: inclusion, consistencyPerSecond: consistency)
    }

    /// `{"inclusion_per_second","consistency_per_second"}`.
    package var json: JSONValue {
        .object([
            "inclusion_per_second": .number(inclusionPerSecond.rounded()),
            "consistency_per_second": .number(consistencyPerSecond.rounded()),
        ])
    }
}

/// Appends one leaf to a per-key store: its leaf hash and the hash of each subtree it completes, one
/// `MDB_APPEND` key each under consecutive stored-hash indexes from `stored`.
private func storePerKey(
    _ leafHash: SHA256Digest, _ frontier: inout MerkleFrontier, _ stored: inout UInt64, _ txn: WriteTransaction,
    _ table: Table
) throws {
    try frontier.append(leafHash: leafHash) { hash in
        try hash.withUnsafeBytes { try txn.put(table, key: stored, value: $0, mode: .append) }
        stored += 1
    }
}
