import Synchronization
import Testing

@testable import CairnServer

/// The shared request deadlines of `RequestTimeoutMiddleware`.
@Suite("Deadline wheel")
struct DeadlineWheelTests {
    @Test("an operation that finishes in time returns its value and leaves nothing registered")
    func inTime() async throws {
        let wheel = DeadlineWheel(timeout: .seconds(30))
        let value = try await wheel.run { 42 }
        #expect(value == 42)
        #expect(wheel.pending == 0)
        // Errors pass through unchanged.
        struct Boom: Error {}
        await #expect(throws: Boom.self) { try await wheel.run { throw Boom() } }
        #expect(wheel.pending == 0)
    }

    @Test("an operation past its deadline is cancelled and ends in Expired, not in its own error")
    func expired() async throws {
        let wheel = DeadlineWheel(timeout: .milliseconds(40))
        let cancelled = Flag()
        // In a task of its own, as the wheel requires: the test's task must not be cancelled.
        let outcome = Task {
            try await wheel.run {
                do {
                    try await Task.sleep(for: .seconds(30))
                } catch {
                    // Cancelled by the wheel: had it not fired, the sleep would have ended normally.
                    cancelled.set()
                    throw error
                }
            }
        }
        // Task.sleep throws CancellationError when cancelled: the wheel reports Expired instead.
        await #expect(throws: DeadlineWheel.Expired.self) { try await outcome.value }
        #expect(cancelled.value)
        #expect(wheel.pending == 0)
    }

    @Test("a result that arrives after the deadline is dropped: the caller already gave up")
    func lateSuccess() async throws {
        let wheel = DeadlineWheel(timeout: .milliseconds(20))
        let sawCancellation = Flag()
        let outcome = Task {
            try await wheel.run { () async -> Int in
                // Ignores cancellation, then succeeds.
                while !Task.isCancelled { try? await Task.sleep(for: .milliseconds(5)) }
                sawCancellation.set()
                return 1
            }
        }
        await #expect(throws: DeadlineWheel.Expired.self) { try await outcome.value }
        #expect(sawCancellation.value)
    }

    @Test("many concurrent operations: only the slow ones expire, and the wheel restarts after idling")
    func concurrent() async throws {
        let wheel = DeadlineWheel(timeout: .milliseconds(60))
        for round in 0..<2 {
            let outcomes = await withTaskGroup(of: (Int, Bool).self) { group in
                for i in 0..<200 {
                    group.addTask {
                        do {
                            try await wheel.run {
                                // Every tenth waits until cancelled; the rest return at once.
                                if i % 10 == 0 { try await Task.sleep(for: .seconds(30)) }
                            }
                            return (i, true)
                        } catch {
                            return (i, false)
                        }
                    }
                }
                var outcomes: [Int: Bool] = [:]
                for await (i, ok) in group { outcomes[i] = ok }
                return outcomes
            }
            #expect(outcomes.count == 200, "round \(round)")
            #expect(outcomes.filter { !$0.value }.keys.sorted() == Array(stride(from: 0, to: 200, by: 10)))
            #expect(wheel.pending == 0)
            // Idle long enough for the ticking task to stop; the next round must start it again.
            try await Task.sleep(for: .milliseconds(100))
        }
    }
}

final class Flag: Sendable {
    private let state = Atomic(false)
    func set() { state.store(true, ordering: .relaxed) }
    var value: Bool { state.load(ordering: .relaxed) }
}
