import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A helper server a test runs as a child process (a Python web server, a local S3 store…) that prints one line on
/// standard output once it listens (its ports). Killed with SIGKILL by `stop()` or when released: a child may inherit
/// a signal mask that blocks SIGTERM.
public final class ChildServer: @unchecked Sendable {
    public let process = Process()
    /// The child's standard input, kept open while it runs (a server that exits at end of input stops with it).
    public let input = Pipe()
    /// The first line the child printed, without its line end.
    public let firstLine: String

    /// Starts `arguments` through /usr/bin/env and waits for its first line of output; throws `failure` (after
    /// killing the child) when it exits without one.
    public init(_ arguments: [String], failure: @autoclosure () -> any Error) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardInput = input
        process.standardError = FileHandle.nullDevice
        try process.run()
        var line = Data()
        while !line.contains(0x0a) {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        firstLine = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard line.contains(0x0a) else {
            stop()
            throw failure()
        }
    }

    /// Kills the child and reaps it.
    public func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    deinit { stop() }
}
