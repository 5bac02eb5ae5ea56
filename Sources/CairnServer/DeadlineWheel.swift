import Synchronization

/// Request deadlines kept by one timing wheel for all requests: a single ticking task cancels the
/// operations whose deadline has passed, instead of a task group and a timer per request (each
/// `Task.sleep` is a dispatch timer, armed and disarmed through libdispatch's manager thread; at
/// 10,000 requests/s that was ~8 % of the server's CPU, docs/performance.md "HTTP ingest").
///
/// Every deadline is `timeout` after registration, rounded up to the next tick (`timeout / 32`,
/// at most 25 ms): an operation is cancelled between `timeout` and `timeout` plus one tick after
/// it started. Registration and removal are O(1) under one lock; the ticking task runs only while
/// an operation is registered, so an idle server — or a test that made one — has nothing running.
package final class DeadlineWheel: Sendable {
    /// Thrown by `run` when the deadline passed before the operation finished.
    package struct Expired: Error, Sendable {}

    package let timeout: Duration
    package let tick: Duration
    private let origin = ContinuousClock.now
    private let state: Mutex<State>

    /// A wheel of `slotCount` slots covers more than `timeout`, so a slot holds only operations
    /// due at its tick or a whole turn later (none: every deadline is `timeout` ahead).
    private static let slotCount = 64

    package init(timeout: Duration) {
        precondition(timeout > .zero, "a deadline wheel needs a positive timeout")
        self.timeout = timeout
        let tick = min(max(timeout / 32, .microseconds(100)), .milliseconds(25))
        self.tick = tick
        state = Mutex(State(slotCount: Self.slotCount))
    }

    /// Runs `operation` in the current task and returns its result, or throws `Expired` when the
    /// deadline passed before it finished — even if it then finished without error (its result
    /// is dropped: the caller has been told it failed). The task is cancelled at the deadline;
    /// the operation ends when it notices (cooperative cancellation, as for any task).
    ///
    /// Call it in a task of its own (a child task): cancellation cannot be undone, and a task
    /// that lives on after `operation` (a connection's) must not stay cancelled.
    package func run<T>(_ operation: () async throws -> T) async throws -> T {
        let ticket = withUnsafeCurrentTask { task in task.map { register(CurrentTask($0)) } }
        guard let ticket else { return try await operation() }
        let result: Result<T, any Error>
        do {
            result = .success(try await operation())
        } catch {
            result = .failure(error)
        }
        if remove(ticket) { throw Expired() }
        return try result.get()
    }

    /// How many operations are registered (for tests).
    package var pending: Int { state.withLock { $0.count } }

    // MARK: - The wheel

    private struct Ticket {
        let id: UInt64
        let slot: Int
    }

    private struct Armed {
        let dueTick: Int64
        let task: CurrentTask
    }

    private struct State {
        var slots: [[UInt64: Armed]]
        var nextID: UInt64 = 0
        var count = 0
        /// Every tick up to this one has been processed.
        var processedTick: Int64 = -1
        /// Whether the ticking task runs.
        var ticking = false
        /// Ids of operations whose deadline fired and that have not been removed yet.
        var fired: Set<UInt64> = []

        init(slotCount: Int) { slots = Array(repeating: [:], count: slotCount) }
    }

    private func ticks(at instant: ContinuousClock.Instant) -> Int64 {
        let elapsed = origin.duration(to: instant)
        return Int64(elapsed / tick)
    }

    private func register(_ task: CurrentTask) -> Ticket {
        let now = ContinuousClock.now
        // Rounded up: never earlier than `timeout`.
        let due = ticks(at: now + timeout) + 1
        let (ticket, start) = state.withLock { state -> (Ticket, Bool) in
            let id = state.nextID
            state.nextID &+= 1
            let slot = Int(due % Int64(state.slots.count))
            state.slots[slot][id] = Armed(dueTick: due, task: task)
            state.count += 1
            if state.processedTick < 0 { state.processedTick = ticks(at: now) }
            let start = !state.ticking
            state.ticking = true
            return (Ticket(id: id, slot: slot), start)
        }
        if start { startTicking() }
        return ticket
    }

    /// Removes `ticket`; true when its deadline fired first.
    private func remove(_ ticket: Ticket) -> Bool {
        state.withLock { state in
            if state.slots[ticket.slot].removeValue(forKey: ticket.id) != nil {
                state.count -= 1
                return false
            }
            return state.fired.remove(ticket.id) != nil
        }
    }

    private func startTicking() {
        Task.detached { [self] in
            while true {
                try? await Task.sleep(for: tick)
                if !advance(to: ticks(at: .now)) { return }
            }
        }
    }

    /// Cancels the operations due at or before `tick`; false (and the ticking stops) when none
    /// is left. Cancellation happens under the lock, so a task is cancelled only while its `run`
    /// has not returned: `remove` waits for the lock before `run` can return.
    private func advance(to current: Int64) -> Bool {
        state.withLock { state in
            let slotCount = Int64(state.slots.count)
            var tick = state.processedTick + 1
            // After a long stall, one turn of the wheel visits every slot.
            if current - tick >= slotCount { tick = current - slotCount + 1 }
            while tick <= current {
                let slot = Int(tick % slotCount)
                if !state.slots[slot].isEmpty {
                    for (id, armed) in state.slots[slot] where armed.dueTick <= current {
                        state.slots[slot][id] = nil
                        state.count -= 1
                        state.fired.insert(id)
                        armed.task.cancel()
                    }
                }
                tick += 1
            }
            state.processedTick = max(state.processedTick, current)
            if state.count == 0 {
                state.ticking = false
                return false
            }
            return true
        }
    }
}

/// The task running a `DeadlineWheel.run`, cancellable from the ticking task. Only used while
/// that `run` has not returned (the task is alive), under the wheel's lock.
private struct CurrentTask: @unchecked Sendable {
    private let task: UnsafeCurrentTask
    init(_ task: UnsafeCurrentTask) { self.task = task }
    func cancel() { task.cancel() }
}
