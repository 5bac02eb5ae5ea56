import DequeModule

/// Drives the ingest engine for one bulk producer (an import): submissions enter the engine in
/// order, up to `maxInFlightRecords` wait for their commit at once — enough for the writer to
/// form large batches while the producer prepares more — and completed submissions come back
/// in submission order, each with the caller's context.
///
/// Not thread-safe: one producer owns it.
public struct BulkPipeline<Context> {
    public let engine: IngestEngine
    public let maxInFlightRecords: Int
    private var inFlight = Deque<(Context, Int, PendingAppend)>()
    private var inFlightRecords = 0

    /// `maxInFlightRecords` defaults to two full batches.
    public init(engine: IngestEngine, maxInFlightRecords: Int? = nil) {
        self.engine = engine
        self.maxInFlightRecords = maxInFlightRecords ?? engine.configuration.maxBatchRecords * 2
    }

    /// Submits `entries` (waiting for room in the engine's queue if needed) and returns the
    /// submissions that completed meanwhile, oldest first.
    public mutating func submit(
        _ entries: [PreparedEntry], context: Context
    ) async throws
        -> [(Context, [AppendOutcome])]
    {
        inFlight.append((context, entries.count, try engine.enqueue(contentsOf: entries, whenBusy: .wait)))
        inFlightRecords += entries.count
        var done: [(Context, [AppendOutcome])] = []
        // Hand back whatever has already completed (so callers can record progress early), and
        // wait only while too much is in flight.
        while let oldest = inFlight.first {
            if let completed = oldest.2.completedOutcomes {
                done.append((oldest.0, try completed.get()))
            } else if inFlightRecords > maxInFlightRecords {
                done.append((oldest.0, try await oldest.2.outcomes()))
            } else {
                break
            }
            inFlight.removeFirst()
            inFlightRecords -= oldest.1
        }
        return done
    }

    /// Waits for every submission still in flight; returns them oldest first.
    public mutating func finish() async throws -> [(Context, [AppendOutcome])] {
        var done: [(Context, [AppendOutcome])] = []
        while let oldest = inFlight.popFirst() {
            done.append((oldest.0, try await oldest.2.outcomes()))
            inFlightRecords -= oldest.1
        }
        return done
    }
}

extension IngestEngine.Configuration {
    /// For bulk loading: large batches (few fsyncs, long sequential writes) and a deep queue.
    public static var bulk: Self {
        var configuration = Self()
        configuration.maxBatchRecords = 65_536
        configuration.maxBatchBytes = 48 << 20
        configuration.maxQueuedRecords = 131_072
        configuration.maxQueuedBytes = 96 << 20
        configuration.maxBatchDelay = .zero
        return configuration
    }
}
