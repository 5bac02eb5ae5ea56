import CairnStorage
import CairnTestSupport
import Foundation
import Testing

/// A transaction begun inside another on the same environment and thread would deadlock (with the
/// resize lock, or LMDB's writer lock); `LMDBEnvironment` stops the process instead. The detection
/// is checked here through `reentrancyViolation(beginning:)` (what the precondition tests), and
/// the precondition itself in exit tests, which run the violating code in a child process.
@Suite("A nested transaction on one environment and thread fails loudly")
struct ReentrancyTests {
    /// The directory an exit test's child process (whose parent is `parent`) uses.
    static func childDirectory(_ name: String, parent: pid_t) -> String {
        NSTemporaryDirectory() + "cairn-reentrancy-\(parent)-\(name)"
    }

    @Test("Inside a read or write transaction, beginning another on the same environment is a violation")
    func detected() throws {
        let dir = try TemporaryDirectory()
        let env = try LMDBEnvironment(directory: dir.path)
        #expect(env.reentrancyViolation(beginning: "read") == nil)
        let inRead = try env.read { _ in env.reentrancyViolation(beginning: "write") }
        let message = try #require(inRead)
        #expect(message.contains("LMDB environment \(dir.path)"))
        #expect(message.contains("a write transaction was begun on a thread that already has a transaction open"))
        let inWrite = try env.write { _ in env.reentrancyViolation(beginning: "read") }
        #expect(inWrite?.contains("a read transaction was begun") == true)
        // Closed transactions leave nothing behind, also after a body that throws.
        #expect(env.reentrancyViolation(beginning: "read") == nil)
        #expect(throws: Boom.self) { try env.read { _ in throw Boom() } }
        #expect(env.reentrancyViolation(beginning: "read") == nil)
    }

    @Test("Another environment, or another thread, may begin a transaction meanwhile")
    func notViolations() throws {
        let (firstDirectory, secondDirectory) = (try TemporaryDirectory(), try TemporaryDirectory())
        let first = try LMDBEnvironment(directory: firstDirectory.path)
        let second = try LMDBEnvironment(directory: secondDirectory.path)
        let table = try second.openTable("t")
        try first.read { _ in
            #expect(second.reentrancyViolation(beginning: "write") == nil)
            try second.write { txn in try txn.put(table, key: [1], value: [2]) }
            let other = OtherThread()
            let thread = Thread { other.set(first.reentrancyViolation(beginning: "read")) }
            thread.start()
            let deadline = Date().addingTimeInterval(30)
            while !other.done && Date() < deadline { usleep(1000) }
            #expect(other.done)
            #expect(other.value == nil)
        }
        #expect(try second.read { txn in try txn.value(table, key: [1]) } == [2])
    }

    @Test("A read inside a read stops the process with a message instead of deadlocking")
    func nestedReadExits() async throws {
        // The child dies without cleaning up: it works in a directory this process removes.
        defer { try? FileManager.default.removeItem(atPath: Self.childDirectory("read-in-read", parent: getpid())) }
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let path = ReentrancyTests.childDirectory("read-in-read", parent: getppid())
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            let env = try LMDBEnvironment(directory: path)
            try env.read { _ in try env.read { _ in } }
        }
        let stderr = String(decoding: try #require(result).standardErrorContent, as: UTF8.self)
        #expect(stderr.contains("a read transaction was begun on a thread that already has a transaction open"))
    }

    @Test("A write inside a read stops the process (a map resize would wait for the read forever)")
    func writeInReadExits() async throws {
        defer { try? FileManager.default.removeItem(atPath: Self.childDirectory("write-in-read", parent: getpid())) }
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let path = ReentrancyTests.childDirectory("write-in-read", parent: getppid())
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            let env = try LMDBEnvironment(directory: path)
            let table = try env.openTable("t")
            try env.read { _ in try env.write { txn in try txn.put(table, key: [1], value: [1]) } }
        }
        let stderr = String(decoding: try #require(result).standardErrorContent, as: UTF8.self)
        #expect(stderr.contains("LMDB environment /"))
        #expect(stderr.contains("a write transaction was begun on a thread that already has a transaction open"))
    }
}

final class OtherThread: @unchecked Sendable {
    private let lock = NSLock()
    private var result: String??

    func set(_ value: String?) { lock.withLock { result = .some(value) } }
    var done: Bool { lock.withLock { result != nil } }
    var value: String? { lock.withLock { result ?? nil } }
}
