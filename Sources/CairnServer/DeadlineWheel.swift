import Foundation

/// Request deadlines kept by one timing wheel for all requests: a single ticking thread cancels the
/// operations whose deadline has passed, instead of a task group and a timer per request (each
/// `Task.sleep` is a dispatch timer, armed and disarmed through libdispatch's manager thread; at
/// 10,000 requests/s that was ~8 % of the server's CPU, docs/performance.md "HTTP: one deadline wheel").
///
/// Every deadline is `timeout` after registration, rounded up to the next tick (`timeout / 32`,
/// at most 25 ms): an operation is cancelled between `timeout` and `timeout` plus one tick after
/// it started. Registration and removal are O(1) under one lock. The ticking thread is the wheel's
/// own, not a task: it cancels on time even when every thread of Swift's cooperative pool is busy
/// (handlers doing blocking ledger work); it sleeps while nothing is registered and ends with the
/// wheel.
package final class DeadlineWheel: Sendable {
    /// Thrown by `run` when the deadline passed before the operation finished.
    package struct Expired: Error, Sendable {}

    package let timeout: Duration
    package let tick: Duration
    private let core: Core

    /// A wheel of `slotCount` slots covers more than `timeout`, so a slot holds only operations
    /// due at its tick (every deadline is `timeout` ahead, at most 33 ticks).
    private static let slotCount = 64

    package init(timeout: Duration) {
        precondition(timeout > .zero, "a deadline wheel needs a positive timeout")
        self.timeout = timeout
        tick = min(max(timeout / 32, .microseconds(100)), .milliseconds(25))
        core = Core(slotCount: Self.slotCount, tick: tick)
        let core = core
        let thread = Thread { core.tickUntilStopped() }
        thread.name = "cairn-deadlines"
        thread.start()
    }

    deinit {
        core.stop()
    }

    /// Runs `operation` in the current task and returns its result, or throws `Expired` when the
    /// deadline passed before it finished — even if it then finished without error (its result
    /// is dropped: the caller has been told it failed). The task is cancelled at the deadline;
    /// the operation ends when it notices (cooperative cancellation, as for any task).
    ///
    /// Call it in a task of its own (a child task): cancellation cannot be undone, and a task
    /// that lives on after `operation` (a connection's) must not stay cancelled.
    package func run<T>(_ operation: () async throws -> T) async throws -> T {
        let due = core.ticks(at: .now + timeout) + 1  // rounded up: never earlier than `timeout`
        let ticket = withUnsafeCurrentTask { task in task.map { core.register(CurrentTask($0), due: due) } }
        guard let ticket else { return try await operation() }
        let result: Result<T, any Error>
        do {
            result = .success(try await operation())
        } catch {
            result = .failure(error)
        }
        if core.remove(ticket) { throw Expired() }
        return try result.get()
    }

    /// How many operations are registered (for tests).
    package var pending: Int { core.pending }
}

/// The wheel's state and its ticking thread's loop, shared by the wheel and the thread (which must not
/// keep the wheel alive). Every field is guarded by `condition`.
private final class Core: @unchecked Sendable {
    struct Ticket {
        let id: UInt64
        let slot: Int
    }

    private struct Armed {
        let dueTick: Int64
        let task: CurrentTask
    }

    private let condition = NSCondition()
    private let tick: Duration
    private let origin = ContinuousClock.now
    private var slots: [[UInt64: Armed]]
    private var nextID: UInt64 = 0
    private var count = 0
    /// Every tick up to this one has been processed.
    private var processedTick: Int64 = 0
    private var stopped = false
    /// Ids of operations whose deadline fired and that have not been removed yet.
    private var fired: Set<UInt64> = []

    init(slotCount: Int, tick: Duration) {
        slots = Array(repeating: [:], count: slotCount)
        self.tick = tick
    }

    func ticks(at instant: ContinuousClock.Instant) -> Int64 {
        Int64(origin.duration(to: instant) / tick)
    }

    var pending: Int {
        condition.lock()
        defer { condition.unlock() }
        return count
    }

    func register(_ task: CurrentTask, due: Int64) -> Ticket {
        condition.lock()
        defer { condition.unlock() }
        let id = nextID
        nextID &+= 1
        let slot = Int(due % Int64(slots.count))
        slots[slot][id] = Armed(dueTick: due, task: task)
        count += 1
        if count == 1 {
            // The thread slept while nothing was registered: ticks from now on.
            processedTick = max(processedTick, ticks(at: .now))
            condition.signal()
        }
        return Ticket(id: id, slot: slot)
    }

    /// Removes `ticket`; true when its deadline fired first.
    func remove(_ ticket: Ticket) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        if slots[ticket.slot].removeValue(forKey: ticket.id) != nil {
            count -= 1
            return false
        }
        return fired.remove(ticket.id) != nil
    }

    func stop() {
        condition.lock()
        stopped = true
        condition.signal()
        condition.unlock()
    }

    /// The ticking thread: sleeps while nothing is registered, else wakes every tick and cancels the
    /// operations due. Cancellation happens under the lock, so a task is cancelled only while its `run`
    /// has not returned (`remove` waits for the lock before `run` can return).
    func tickUntilStopped() {
        condition.lock()
        defer { condition.unlock() }
        while !stopped {
            if count == 0 {
                condition.wait()
                continue
            }
            let next = Date(
                timeIntervalSinceNow: Double(tick.components.attoseconds) * 1e-18
                    + Double(tick.components.seconds))
            _ = condition.wait(until: next)
            advance(to: ticks(at: .now))
        }
    }

    private func advance(to current: Int64) {
        let slotCount = Int64(slots.count)
        var tick = processedTick + 1
        // After a long stall, one turn of the wheel visits every slot.
        if current - tick >= slotCount { tick = current - slotCount + 1 }
        while tick <= current {
            let slot = Int(tick % slotCount)
            if !slots[slot].isEmpty {
                for (id, armed) in slots[slot] where armed.dueTick <= current {
                    slots[slot][id] = nil
                    count -= 1
                    fired.insert(id)
                    armed.task.cancel()
                }
            }
            tick += 1
        }
        processedTick = max(processedTick, current)
    }
}

/// The task running a `DeadlineWheel.run`, cancellable from the ticking thread. Only used while
/// that `run` has not returned (the task is alive), under the wheel's lock.
private struct CurrentTask: @unchecked Sendable {
    private let task: UnsafeCurrentTask
    init(_ task: UnsafeCurrentTask) { self.task = task }
    func cancel() { task.cancel() }
}
