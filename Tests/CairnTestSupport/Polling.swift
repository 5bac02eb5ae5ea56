import Foundation

/// A condition that did not become true before its deadline.
public struct PollTimeout: Error, CustomStringConvertible {
    public let what: String
    public let seconds: Double
    public var description: String { "timed out after \(seconds) s waiting for \(what)" }
}

/// Checks `condition` every few milliseconds until it holds, and throws `PollTimeout` if it
/// does not within `timeout`. Tests wait for effects this way, never by sleeping a fixed time.
public func poll(
    _ what: String, timeout: Duration = .seconds(20), every interval: Duration = .milliseconds(10),
    _ condition: () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while true {
        if try await condition() { return }
        guard ContinuousClock.now < deadline else {
            let (seconds, attoseconds) = timeout.components
            throw PollTimeout(what: what, seconds: Double(seconds) + Double(attoseconds) / 1e18)
        }
        try await Task.sleep(for: interval)
    }
}

/// `poll` for synchronous code (a thread of its own, not a Swift concurrency task).
public func pollBlocking(
    _ what: String, timeout: Double = 20, every interval: Double = 0.01, _ condition: () throws -> Bool
) throws {
    let deadline = Date().addingTimeInterval(timeout)
    while true {
        if try condition() { return }
        guard Date() < deadline else { throw PollTimeout(what: what, seconds: timeout) }
        Thread.sleep(forTimeInterval: interval)
    }
}
