import CairnCrypto
import CairnJSON
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
            // The right edge: the roots of the complete subtrees so far, largest first.
            var edge: [SHA256Digest] = []
            edge.reserveCapacity(64)
            var stored: UInt64 = 0
            for (index, entry) in entries.enumerated() {
                try entry.withUnsafeBytes { try txn.put(entryTable, key: UInt64(index), value: $0, mode: .append) }
                var hash = entry.withUnsafeBytes { SHA256.hash(prefix: 0, $0) }
                try hash.withUnsafeBytes { try txn.put(hashTable, key: stored, value: $0, mode: .append) }
                stored += 1
                // Each trailing 1 bit of the index completes a subtree: hash it, store it.
                var n = index
                while n & 1 == 1, let left = edge.popLast() {
                    hash = SHA256.hash(node: left, hash)
                    try hash.withUnsafeBytes { try txn.put(hashTable, key: stored, value: $0, mode: .append) }
                    stored += 1
                    n >>= 1
                }
                edge.append(hash)
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
