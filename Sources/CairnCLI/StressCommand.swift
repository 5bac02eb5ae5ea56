import ArgumentParser
import CairnBench
import Foundation

/// Load generator for the crash test (Tests/CairnCLITests/CrashTests.swift): `StressAppend`
/// appends unique records from concurrent producers through the ingest engine, forever or up to
/// --limit, and this prints `<index> <digest>` on stdout the moment each append is acknowledged
/// (durable). Hidden from help: it exists to be killed.
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
            var configuration = StressAppend.Configuration()
            configuration.producers = producers
            configuration.limit = limit
            configuration.recordSize = recordSize
            do {
                try await StressAppend.run(configuration, ledger: ledger) { result in
                    // One write(2) per line, unbuffered: the test kills the process at any moment
                    // and must read every acknowledgement it printed.
                    let line = "\(result.index) \(result.digest)\n"
                    _ = line.withCString { write(1, $0, strlen($0)) }
                }
            } catch let error as BenchmarkError {
                throw CLIError(benchmark: error)
            }
        }
    }
}
