import CairnTestSupport
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

    /// Runs any program, collecting its output (through the shared `ProcessRunner`). `stdinFile`
    /// (a file or directory opened for reading) replaces `stdin`; `stdout` and `stderr` can be
    /// redirected or closed.
    static func exec(
        _ program: String, _ args: [String], stdin: [UInt8]? = nil, environment: [String: String] = [:],
        directory: String? = nil, stdinFile: String? = nil, closeStdin: Bool = false, stdout: Target = .pipe,
        stderr: Target = .pipe
    ) throws -> Output {
        func stream(_ target: Target) -> ProcessRunner.StandardStream {
            switch target {
            case .pipe: .pipe
            case .file(let path): .file(path, flags: O_WRONLY | O_CREAT | O_TRUNC)
            case .closed: .closed
            case .brokenPipe: .pipeClosedAfter(bytes: 0)
            }
        }
        let input: ProcessRunner.StandardStream =
            closeStdin ? .closed : stdinFile.map { .file($0, flags: O_RDONLY) } ?? .pipe
        let out = try ProcessRunner.run(
            program, args, stdin: stdin, environment: environment, directory: directory, standardInput: input,
            standardOutput: stream(stdout), standardError: stream(stderr))
        return Output(status: out.status, stdout: out.stdout, stderr: out.stderr)
    }
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
