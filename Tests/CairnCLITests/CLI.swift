import Foundation
import Testing

/// Runs the real `cairn` binary (built next to the test bundle) as a separate process.
struct CLI {
    struct Output {
        let status: Int32
        let stdout: [UInt8]
        let stderr: String
        var text: String { String(decoding: stdout, as: UTF8.self) }
        var lines: [String] { text.split(separator: "\n").map(String.init) }
    }

    /// The `cairn` executable: $CAIRN_BIN, else the one in the test bundle's build directory.
    static let binary: String = {
        // A child that exits before reading all of its stdin must not kill the test process.
        signal(SIGPIPE, SIG_IGN)
        if let path = ProcessInfo.processInfo.environment["CAIRN_BIN"] { return path }
        let exe =
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? CommandLine.arguments[0]
        var dir = URL(fileURLWithPath: exe).deletingLastPathComponent()
        // Inside an .xctest bundle on some platforms the executable sits deeper.
        while !FileManager.default.fileExists(atPath: dir.appendingPathComponent("cairn").path) && dir.path != "/" {
            dir = dir.deletingLastPathComponent()
        }
        return dir.appendingPathComponent("cairn").path
    }()

    let ledger: String

    /// Runs `cairn ARGS` with `--ledger` set through CAIRN_LEDGER.
    @discardableResult
    func run(
        _ args: [String], stdin: [UInt8]? = nil, environment: [String: String] = [:], stdinFile: String? = nil,
        closeStdin: Bool = false, stdout: Target = .pipe, stderr: Target = .pipe
    ) throws -> Output {
        try CLI.exec(
            CLI.binary, args, stdin: stdin, environment: ["CAIRN_LEDGER": ledger].merging(environment) { $1 },
            stdinFile: stdinFile, closeStdin: closeStdin, stdout: stdout, stderr: stderr)
    }

    @discardableResult
    func run(_ args: String..., stdin: String? = nil) throws -> Output {
        try run(args, stdin: stdin.map { Array($0.utf8) })
    }

    /// Runs `cairn ARGS`, requiring exit status 0.
    @discardableResult
    func ok(_ args: String..., stdin: String? = nil, sourceLocation: SourceLocation = #_sourceLocation) throws -> Output
    {
        let out = try run(args, stdin: stdin.map { Array($0.utf8) })
        #expect(
            out.status == 0, "cairn \(args.joined(separator: " ")) failed: \(out.stderr)",
            sourceLocation: sourceLocation)
        return out
    }

    /// Where a child's standard output or error goes.
    enum Target: Sendable {
        /// A pipe the runner reads (the default): the bytes end up in `Output`.
        case pipe
        /// A file opened for writing, such as /dev/full (every write fails with ENOSPC).
        case file(String)
        /// Closed, as with `>&-` or `2>&-`.
        case closed
        /// A pipe whose reading end is closed before the child starts: every write fails with
        /// EPIPE (a `| head` that has already exited).
        case brokenPipe
    }

    /// Runs any program, collecting its output. `stdinFile` (a file or directory opened for
    /// reading) replaces `stdin`; `stdout` and `stderr` can be redirected or closed.
    static func exec(
        _ program: String, _ args: [String], stdin: [UInt8]? = nil, environment: [String: String] = [:],
        directory: String? = nil, stdinFile: String? = nil, closeStdin: Bool = false, stdout: Target = .pipe,
        stderr: Target = .pipe
    ) throws -> Output {
        let process = Process()
        // Redirections Foundation cannot express (closed descriptors, a directory as stdin) are
        // made by a shell that then execs the program in its place.
        var redirections: [String] = []
        func quoted(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'" }
        if let stdinFile { redirections.append("<" + quoted(stdinFile)) }
        if closeStdin { redirections.append("<&-") }
        for (descriptor, target) in [(1, stdout), (2, stderr)] {
            switch target {
            case .file(let path): redirections.append("\(descriptor)>" + quoted(path))
            case .closed: redirections.append("\(descriptor)>&-")
            case .pipe, .brokenPipe: break
            }
        }
        if redirections.isEmpty {
            process.executableURL = URL(fileURLWithPath: program)
            process.arguments = args
        } else {
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", "exec \"$0\" \"$@\" " + redirections.joined(separator: " "), program] + args
        }
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        process.environment = env
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let outPipe = Pipe()
        let errPipe = Pipe()
        let inPipe = Pipe()
        // Foundation closes every other descriptor in the child, so once the reading end is
        // closed here, nobody can read the pipe.
        if case .brokenPipe = stdout { try outPipe.fileHandleForReading.close() }
        if case .brokenPipe = stderr { try errPipe.fileHandleForReading.close() }
        process.standardOutput = outPipe
        process.standardError = errPipe
        process.standardInput = inPipe
        try process.run()
        // Drain stderr and feed stdin on other threads so a chatty child never blocks.
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var errData = Data()
        Thread.detachNewThread {
            if case .pipe = stderr { errData = errPipe.fileHandleForReading.readDataToEndOfFile() }
            done.signal()
        }
        Thread.detachNewThread {
            if let stdin { try? inPipe.fileHandleForWriting.write(contentsOf: Data(stdin)) }
            try? inPipe.fileHandleForWriting.close()
        }
        var outData = Data()
        if case .pipe = stdout { outData = outPipe.fileHandleForReading.readDataToEndOfFile() }
        process.waitUntilExit()
        done.wait()
        return Output(
            status: process.terminationStatus, stdout: Array(outData), stderr: String(decoding: errData, as: UTF8.self))
    }
}

/// A fresh temporary directory, removed when the value is dropped.
final class TemporaryDirectory: @unchecked Sendable {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "cairn-cli-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> String { path + "/" + name }

    func write(_ name: String, _ text: String) throws -> String {
        try write(name, Array(text.utf8))
    }

    func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        let p = file(name)
        try FileManager.default.createDirectory(
            atPath: URL(fileURLWithPath: p).deletingLastPathComponent().path, withIntermediateDirectories: true)
        try Data(bytes).write(to: URL(fileURLWithPath: p))
        return p
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// A temporary directory with an initialized ledger in it.
struct LedgerFixture {
    let dir: TemporaryDirectory
    let cli: CLI
    let vkey: String

    /// A ledger with the given profile: `generic` (any JSON object, the default for tests of the
    /// log itself) or `provenance` (the record schema).
    init(origin: String = "example.com/cairn-test", profile: String = "generic", extraInitArgs: [String] = []) throws {
        dir = try TemporaryDirectory()
        cli = CLI(ledger: dir.file("ledger"))
        let out = try cli.run(["init", "--origin", origin, "--profile", profile] + extraInitArgs)
        guard out.status == 0 else { throw FixtureError(message: "cairn init failed: \(out.stderr)") }
        vkey = out.text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    var vkeyFile: String { cli.ledger + "/ledger.vkey" }

    struct FixtureError: Error { let message: String }
}

func parseJSONLine(_ line: String) -> [String: Any] {
    (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] ?? [:]
}
