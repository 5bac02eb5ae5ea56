import CairnLedger
import CairnServer

/// Runs `body` with an ingest engine for `ledger` — the ledger's one write path — and stops the
/// engine (committing what it holds) before returning, whether `body` succeeded or not.
func withEngine<R>(
    _ ledger: Ledger, configuration: IngestEngine.Configuration = IngestEngine.Configuration(),
    _ body: (IngestEngine) async throws -> R
) async throws -> R {
    let engine = IngestEngine(ledger: ledger, configuration: configuration)
    do {
        let result = try await body(engine)
        await engine.shutdownGracefully()
        if let failure = engine.failure { throw failure }
        return result
    } catch {
        await engine.shutdownGracefully()
        throw error
    }
}

/// Records a local append in the ledger's access log (created if it does not exist yet), so that
/// who appended every entry is provable as it is for appends over HTTP: the user running
/// `cairn`, and which entries (specs/http-api.md, section 6).
func recordLocalAppend(_ ledger: Ledger, _ outcomes: [AppendOutcome], via: String) async throws {
    guard outcomes.contains(where: { $0.result?.duplicate == false }) else { return }
    let accessLog = AccessLog(ledger: try AccessLog.openOrCreate(for: ledger))
    defer { accessLog.shutdown() }
    try await accessLog.record(AppendAccessRecord.of(outcomes, by: .currentUser, via: via))
}
