import CairnLedger

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
