import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs a program as a child process (posix_spawn) and collects its output: the one process
/// runner of the test targets.
///
/// Standard input, output and error are pipes by default; `StandardStream` replaces any of them
/// with a file (such as /dev/full), a closed descriptor, or (for stdout) a pipe that is closed
/// after `closeAfter` bytes. The parent reads both pipes with poll(2) and writes stdin as the
/// child takes it, so no amount of output or input can deadlock it.
public enum ProcessRunner {
    /// What a finished child left behind.
    public struct Output: Sendable {
        /// The exit status, or 128 + the signal number for a child killed by a signal.
        public let status: Int32
        /// The signal that killed the child, if one did.
        public let signal: Int32?
        public let stdout: [UInt8]
        public let stderrBytes: [UInt8]

        public var stderr: String { String(decoding: stderrBytes, as: UTF8.self) }
        public var text: String { String(decoding: stdout, as: UTF8.self) }
        public var lines: [String] { text.split(separator: "\n").map(String.init) }
        /// Alias of `stderr`, for tests that read it as the process's diagnostics.
        public var output: String { text + stderr }
    }

    /// Where one of the child's standard streams goes.
    public enum StandardStream: Sendable {
        /// A pipe to the parent (the default).
        case pipe
        /// A file opened with `flags` (e.g. `/dev/full` for writing, a directory for reading).
        case file(String, flags: Int32)
        /// No descriptor at all: the child starts with it closed.
        case closed
        /// stdout or stderr: a pipe whose reading end the parent closes after `bytes` bytes (0: at
        /// once, so every write fails with EPIPE), like `cairn … | head -c N`.
        case pipeClosedAfter(bytes: Int)
    }

    /// The error of a child that could not be started.
    public struct SpawnError: Error, CustomStringConvertible {
        public let description: String
    }

    /// Runs `program` with `arguments` and waits for it.
    public static func run(
        _ program: String, _ arguments: [String], stdin: [UInt8]? = nil, environment: [String: String] = [:],
        directory: String? = nil, standardInput: StandardStream = .pipe, standardOutput: StandardStream = .pipe,
        standardError: StandardStream = .pipe, inheritEnvironment: Bool = true
    ) throws -> Output {
        var env = inheritEnvironment ? ProcessInfo.processInfo.environment : [:]
        for (key, value) in environment { env[key] = value }

        // Ignore SIGPIPE in the test process: a child that exits early must not kill it.
        signal(SIGPIPE, SIG_IGN)

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var toClose: [Int32] = []
        defer { for fd in toClose { close(fd) } }

        func pipePair() throws -> (read: Int32, write: Int32) {
            var fds: [Int32] = [0, 0]
            guard pipeCloseOnExec(&fds) == 0 else {
                throw SpawnError(description: "pipe: \(String(cString: strerror(errno)))")
            }
            return (fds[0], fds[1])
        }

        var inWrite: Int32 = -1
        var outRead: Int32 = -1
        var errRead: Int32 = -1
        var outLimit: Int?
        var errLimit: Int?
        for (target, stream) in [(Int32(0), standardInput), (1, standardOutput), (2, standardError)] {
            switch stream {
            case .pipe, .pipeClosedAfter:
                let pair = try pipePair()
                let childEnd = target == 0 ? pair.read : pair.write
                let parentEnd = target == 0 ? pair.write : pair.read
                posix_spawn_file_actions_adddup2(&actions, childEnd, target)
                toClose.append(childEnd)
                switch target {
                case 0: inWrite = parentEnd
                case 1: outRead = parentEnd
                default: errRead = parentEnd
                }
                if case .pipeClosedAfter(let bytes) = stream {
                    if target == 1 { outLimit = bytes } else if target == 2 { errLimit = bytes }
                    if bytes == 0 {
                        // No reader from the start: the child's first write fails with EPIPE.
                        close(parentEnd)
                        if target == 1 { outRead = -1 } else if target == 2 { errRead = -1 }
                    }
                }
            case .file(let path, let flags):
                posix_spawn_file_actions_addopen(&actions, target, path, flags, 0o644)
            case .closed:
                posix_spawn_file_actions_addclose(&actions, target)
            }
        }
        // Descriptors the test process opened without close-on-exec (sockets of other tests
        // running in parallel) must not leak into the child: it would keep their ports bound.
        closeInheritedDescriptors(&actions)
        var program = program.contains("/") ? program : (which(program) ?? program)
        var arguments = arguments
        if let directory {
            // `env --chdir` (coreutils) starts the program in `directory`.
            arguments = ["-C", directory, program] + arguments
            program = which("env") ?? "/usr/bin/env"
        }
        let argv = ([program] + arguments).map { strdup($0) } + [nil]
        let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for p in argv { free(p) }
            for p in envp { free(p) }
        }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, program, &actions, nil, argv, envp)
        for fd in toClose { close(fd) }
        toClose.removeAll()
        guard rc == 0 else {
            for fd in [inWrite, outRead, errRead] where fd >= 0 { close(fd) }
            throw SpawnError(description: "cannot run \(program): \(String(cString: strerror(rc)))")
        }

        var out: [UInt8] = []
        var err: [UInt8] = []
        var input = stdin ?? []
        var inputOffset = 0
        if inWrite >= 0 {
            _ = fcntl(inWrite, F_SETFL, fcntl(inWrite, F_GETFL) | O_NONBLOCK)
            if input.isEmpty {
                close(inWrite)
                inWrite = -1
            }
        }

        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while outRead >= 0 || errRead >= 0 || inWrite >= 0 {
            var fds: [pollfd] = []
            if outRead >= 0 { fds.append(pollfd(fd: outRead, events: Int16(POLLIN), revents: 0)) }
            if errRead >= 0 { fds.append(pollfd(fd: errRead, events: Int16(POLLIN), revents: 0)) }
            if inWrite >= 0 { fds.append(pollfd(fd: inWrite, events: Int16(POLLOUT), revents: 0)) }
            let ready = poll(&fds, nfds_t(fds.count), -1)
            if ready < 0 {
                if errno == EINTR { continue }
                break
            }
            for entry in fds where entry.revents != 0 {
                if entry.fd == inWrite {
                    let n = input.withUnsafeBytes { raw in
                        write(inWrite, raw.baseAddress! + inputOffset, raw.count - inputOffset)
                    }
                    if n > 0 { inputOffset += n }
                    if n < 0 && errno == EAGAIN { continue }
                    if n <= 0 || inputOffset == input.count {
                        close(inWrite)
                        inWrite = -1
                        input = []
                    }
                    continue
                }
                let n = buffer.withUnsafeMutableBytes { read(entry.fd, $0.baseAddress!, $0.count) }
                if n < 0 && (errno == EINTR || errno == EAGAIN) { continue }
                if n <= 0 {
                    close(entry.fd)
                    if entry.fd == outRead { outRead = -1 } else { errRead = -1 }
                    continue
                }
                if entry.fd == outRead {
                    out.append(contentsOf: buffer[0..<n])
                    if let limit = outLimit, out.count >= limit {
                        out.removeLast(out.count - limit)
                        close(outRead)
                        outRead = -1
                    }
                } else {
                    err.append(contentsOf: buffer[0..<n])
                    if let limit = errLimit, err.count >= limit {
                        err.removeLast(err.count - limit)
                        close(errRead)
                        errRead = -1
                    }
                }
            }
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let exited = (status & 0x7f) == 0
        let signal: Int32? = exited ? nil : status & 0x7f
        let code: Int32 = exited ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return Output(status: code, signal: signal, stdout: out, stderrBytes: err)
    }

    /// Adds "close every descriptor from 3 up" to `actions`, so that the child inherits standard
    /// input, output and error only: with glibc's `posix_spawn_file_actions_addclosefrom_np`
    /// (2.34+, looked up at run time since Swift's Glibc module does not declare it), else by
    /// closing each descriptor open now that is not close-on-exec (those opened later by other
    /// threads can still leak there; glibc ignores a close of one that is gone by then).
    private static func closeInheritedDescriptors(_ actions: inout posix_spawn_file_actions_t) {
        typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
        if let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") {
            let closeFrom = unsafeBitCast(symbol, to: CloseFrom.self)
            if closeFrom(&actions, 3) == 0 { return }
        }
        let open = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        for fd in open.compactMap(Int32.init).sorted() where fd > 2 {
            let flags = fcntl(fd, F_GETFD)
            if flags >= 0 && flags & FD_CLOEXEC == 0 { posix_spawn_file_actions_addclose(&actions, fd) }
        }
    }

    /// pipe(2) with both ends close-on-exec from the start (pipe2 with O_CLOEXEC, looked up at run
    /// time like the above), so that no child another thread spawns in between inherits them;
    /// pipe and fcntl where there is no pipe2.
    private static func pipeCloseOnExec(_ fds: inout [Int32]) -> Int32 {
        typealias Pipe2 = @convention(c) (UnsafeMutablePointer<Int32>, Int32) -> Int32
        if let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "pipe2") {
            let pipe2 = unsafeBitCast(symbol, to: Pipe2.self)
            return fds.withUnsafeMutableBufferPointer { pipe2($0.baseAddress!, O_CLOEXEC) }
        }
        guard pipe(&fds) == 0 else { return -1 }
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        return 0
    }

    /// The absolute path of `name` on $PATH, or nil.
    public static func which(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for dir in path.split(separator: ":") {
            let candidate = "\(dir)/\(name)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }
}
