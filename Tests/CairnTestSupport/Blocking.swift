import Foundation

/// Runs `body` — blocking work: a child process, a socket, a long file copy — on a thread of its
/// own and returns its result to the calling task.
///
/// Swift Testing runs tests on the cooperative pool, which has one thread per core: a test that
/// blocks in `waitpid` or `recv` holds one of them for as long, and on a two-core machine two such
/// tests starve every async test of the run (their sleeps, polls and server handlers wait for a
/// free thread). Only the blocking call moves: `#expect` stays in the test's task, where Swift
/// Testing attributes issues to the test.
public func offThePool<Value: Sendable>(_ body: @escaping @Sendable () throws -> Value) async throws -> Value {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread { continuation.resume(with: Result { try body() }) }
        thread.start()
    }
}
