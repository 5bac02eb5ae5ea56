import CairnLedger
import Foundation

/// The load of the crash test (Tests/CairnCLITests/CrashTests.swift, `cairn stress-append`):
/// concurrent producers append unique records through the ingest engine, forever or up to a
/// limit, and every acknowledgement (the record is durable) is reported the moment it arrives,
/// so that a test killing the process knows exactly what must survive.
package enum StressAppend {
    package struct Configuration: Sendable, Hashable {
        /// Concurrent producers.
        package var producers = 16
        /// Stop after this many records (nil: never).
        package var limit: Int?
        /// Bytes per record (canonical).
        package var recordSize = 200

        package init() {}
    }

    /// Appends to `ledger` until the limit (or forever, or until an append fails), calling
    /// `acknowledged` for every durable append, from the producers' tasks. Record *n* is the
    /// synthetic raw record *n* with a `run` member unique to this call, so no record of one run
    /// is a duplicate of another run's.
    package static func run(
        _ configuration: Configuration, ledger: Ledger, acknowledged: @escaping @Sendable (AppendResult) -> Void
    ) async throws {
        let producers = configuration.producers
        guard producers >= 0 else {
            throw BenchmarkError(.invalidConfiguration, "the number of producers cannot be negative")
        }
        let limit = configuration.limit
        let recordSize = configuration.recordSize
        let engine = IngestEngine(ledger: ledger)
        let run = UUID().uuidString
        let rules = ledger.recordRules()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for p in 0..<producers {
                group.addTask {
                    var n = 0
                    while limit.map({ n * producers + p < $0 }) ?? true {
                        let json = SyntheticRecords.raw(n * producers + p, size: recordSize)
                        // Unique across runs: the run id makes every record new.
                        let record = Array("{\"run\":\"\(run)\",".utf8) + json.dropFirst()
                        let result = try await engine.append(
                            try PreparedEntry.prepare(json: record, rules: rules), whenBusy: .wait)
                        acknowledged(result)
                        n += 1
                    }
                }
            }
            try await group.waitForAll()
        }
        engine.shutdown()
    }
}
