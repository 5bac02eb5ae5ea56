import CairnJSON
import Foundation

/// Why a benchmark could not run or did not do what it measured.
package struct BenchmarkError: Error, Sendable, Equatable, CustomStringConvertible {
    package enum Code: String, Sendable, Equatable {
        /// The configuration asks for something the benchmark cannot measure (no records, a record
        /// size below the smallest record of its kind…); the CLI's option checks come first.
        case invalidConfiguration
        /// The engine did not append every record the benchmark generated: the figures would be
        /// about something else, so none are reported.
        case incomplete
    }

    package let code: Code
    package let message: String

    package init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    package var description: String { message }
}

/// A moment the caller may want to announce, before a benchmark's long set-up step.
package enum BenchmarkPhase: Sendable, Hashable {
    /// Generating the synthetic input records (ingest).
    case generating
    /// Bulk-loading the ledger the proofs are taken from (proofs).
    case building
}

/// Where a benchmark's throw-away ledger lives.
package enum BenchmarkDirectory {
    /// A path that does not exist yet under `base` (default: `$TMPDIR`), named after the benchmark,
    /// the process and a random number, so that concurrent runs never share a ledger. Not created:
    /// `Ledger.create` creates it.
    package static func unique(in base: String?, name: String) -> String {
        let base = base ?? NSTemporaryDirectory()
        return (base.hasSuffix("/") ? base : base + "/")
            + "cairn-bench-\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    }

    /// Deletes a benchmark ledger, ignoring failures: it is scratch space in a temporary directory.
    package static func remove(_ path: String) {
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// Latency percentiles, in milliseconds, from a sample of durations in nanoseconds. A quantile
/// is the smallest sample with at least that fraction of the samples at or below it (the
/// nearest-rank method), so p50 of 1…1000 is 500.
package struct Percentiles: Sendable, Hashable {
    package let p50: Double
    package let p99: Double
    package let p999: Double
    package let max: Double

    package init(_ samples: [UInt64]) {
        let sorted = samples.sorted()
        func at(_ q: Double) -> Double {
            guard !sorted.isEmpty else { return 0 }
            let rank = Int((Double(sorted.count) * q).rounded(.up)) - 1
            return Double(sorted[Swift.max(0, Swift.min(sorted.count - 1, rank))]) / 1e6
        }
        p50 = at(0.5)
        p99 = at(0.99)
        p999 = at(0.999)
        max = Double(sorted.last ?? 0) / 1e6
    }

    /// `{"p50_ms","p99_ms","p999_ms","max_ms"}`, to the microsecond.
    package var json: JSONValue {
        .object([
            "p50_ms": .number(round3(p50)), "p99_ms": .number(round3(p99)), "p999_ms": .number(round3(p999)),
            "max_ms": .number(round3(max)),
        ])
    }
}

/// `x` rounded to three decimals, as every fractional figure of the JSON results is.
func round3(_ x: Double) -> Double { (x * 1000).rounded() / 1000 }

/// A monotonic clock reading, in nanoseconds.
func nanoseconds() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

/// Results written by concurrent workers, one slot each.
final class ResultSlots<T>: @unchecked Sendable {
    private var slots: [Result<[T], Error>?]
    private let lock = NSLock()

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    func set(_ i: Int, _ value: Result<[T], Error>) {
        lock.lock()
        slots[i] = value
        lock.unlock()
    }

    /// Every slot's results in slot order; rethrows the first worker's error.
    func all() throws -> [[T]] {
        lock.lock()
        defer { lock.unlock() }
        return try slots.map { slot in
            guard let slot else {
                throw BenchmarkError(.incomplete, "a benchmark worker did not report its results")
            }
            return try slot.get()
        }
    }
}

/// Runs `body` on a thread of its own (outside Swift concurrency's cooperative pool), waiting
/// for it.
func onDedicatedThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) throws -> T {
    let result = ResultSlots<T>(count: 1)
    let done = DispatchSemaphore(value: 0)
    let thread = Thread {
        result.set(0, Result { [try body()] })
        done.signal()
    }
    thread.start()
    done.wait()
    guard let value = try result.all().first?.first else {
        throw BenchmarkError(.incomplete, "a benchmark thread did not report its result")
    }
    return value
}

/// Runs `body` over `inputs` on `threads` threads (contiguous slices); returns the wall time in
/// seconds and the results, in input order.
func timeParallel<T: Sendable>(
    _ inputs: [UInt64], threads: Int, _ body: @escaping @Sendable (UInt64) throws -> T
) throws -> (Double, [T]) {
    let step = Swift.max(1, (inputs.count + threads - 1) / threads)
    let slices = stride(from: 0, to: inputs.count, by: step).map {
        Array(inputs[$0..<Swift.min($0 + step, inputs.count)])
    }
    let results = ResultSlots<T>(count: slices.count)
    let start = nanoseconds()
    DispatchQueue.concurrentPerform(iterations: slices.count) { i in
        results.set(i, Result { try slices[i].map(body) })
    }
    let seconds = Double(nanoseconds() - start) / 1e9
    return (seconds, try results.all().flatMap { $0 })
}
