import ArgumentParser
import CairnLedger
import Foundation

/// Load generator for the crash test (Tests/CairnCLITests/CrashTests.swift): appends unique
/// records from concurrent producers through the ingest engine, forever or up to --limit, and
/// prints `<index> <digest>` on stdout the moment each append is acknowledged (durable). Hidden
/// from help: it exists to be killed.
struct StressAppendCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stress-append",
        abstract: "Append unique records from concurrent producers, printing each acknowledgement (for crash tests).",
        shouldDisplay: false
    )

    @OptionGroup var location: LedgerLocation
    @Option(help: "Concurrent producers.") var producers = 16
    @Option(help: "Stop after this many records (default: never).") var limit: Int?
    @Option(help: "Bytes per record.") var recordSize = 200

    func run() async throws {
        try await runReportingErrors {
            let ledger = try location.open()
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
                            let line = "\(result.index) \(result.digest)\n"
                            _ = line.withCString { write(1, $0, strlen($0)) }
                            n += 1
                        }
                    }
                }
                try await group.waitForAll()
            }
            engine.shutdown()
        }
    }
}
