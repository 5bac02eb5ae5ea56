#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs a program without Foundation (which would cost the git hooks ~6 ms of start-up each): `posix_spawn`, with
/// standard input written and standard output and error read together through `poll`, so that neither side can
/// block the other however much each writes.
package enum Subprocess {
    /// `POSIX_SPAWN_SETSID`, which Glibc's Swift module does not export (it needs `_GNU_SOURCE`).
    #if os(Linux)
    static let setsidFlag: Int32 = 0x80
    #else
    static let setsidFlag = Int32(POSIX_SPAWN_SETSID)
    #endif

    package struct Output: Sendable {
        package let status: Int32
        package let stdout: [UInt8]
        package let stderr: [UInt8]

        /// Standard output as text, without its final line feed.
        package var text: String {
            var bytes = stdout[...]
            if bytes.last == UInt8(ascii: "\n") { bytes = bytes.dropLast() }
            return String(decoding: bytes, as: UTF8.self)
        }

        /// The first line of standard error, or the exit status.
        package var firstErrorLine: String {
            let line = stderr.split(separator: UInt8(ascii: "\n")).first.map { String(decoding: $0, as: UTF8.self) }
            return line ?? "exited with status \(status)"
        }
    }

    /// Runs `arguments[0]` (looked up in `PATH`) with `arguments`, with `environment` added to (or, for nil values,
    /// removed from) this process's, and `input` on standard input (none: /dev/null).
    package static func run(
        _ arguments: [String], environment: [String: String?] = [:], input: [UInt8]? = nil
    ) throws(CaptureError) -> Output {
        guard let program = arguments.first else { throw CaptureError("nothing to run") }
        var fds: [Int32] = [-1, -1, -1, -1, -1, -1]  // in r/w, out r/w, err r/w
        defer { for fd in fds where fd >= 0 { close(fd) } }
        for pair in 0..<3 {
            var ends: [Int32] = [-1, -1]
            guard pipe(&ends) == 0 else { throw CaptureError("cannot run \(program): \(POSIX.lastError())") }
            fds[2 * pair] = ends[0]
            fds[2 * pair + 1] = ends[1]
            _ = fcntl(ends[0], F_SETFD, FD_CLOEXEC)
            _ = fcntl(ends[1], F_SETFD, FD_CLOEXEC)
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if input != nil {
            posix_spawn_file_actions_adddup2(&actions, fds[0], 0)
        } else {
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        }
        posix_spawn_file_actions_adddup2(&actions, fds[3], 1)
        posix_spawn_file_actions_adddup2(&actions, fds[5], 2)

        var variables: [String: String] = [:]
        var index = 0
        while let entry = environ[index] {
            let text = String(cString: entry)
            if let equals = text.firstIndex(of: "=") {
                variables[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
            index += 1
        }
        for (key, value) in environment { variables[key] = value }
        let path = variables["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        let executable =
            program.contains("/")
            ? program
            : path.split(separator: ":").map { "\($0)/\(program)" }.first { access($0, X_OK) == 0 } ?? program

        var pid = pid_t()
        let argv = arguments.map { strdup($0) } + [nil]
        let envp = variables.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        let spawned = posix_spawn(&pid, executable, &actions, nil, argv, envp)
        guard spawned == 0 else {
            throw CaptureError("cannot run \(program): \(String(cString: strerror(spawned)))")
        }
        // The child's ends are the child's alone now.
        for position in [0, 3, 5] {
            close(fds[position])
            fds[position] = -1
        }
        if input == nil {
            close(fds[1])
            fds[1] = -1
        }
        var stdout: [UInt8] = []
        var stderr: [UInt8] = []
        var written = 0
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        _ = fcntl(fds[1], F_SETFL, O_NONBLOCK)
        while fds[2] >= 0 || fds[4] >= 0 || fds[1] >= 0 {
            var polled = [fds[1], fds[2], fds[4]].map {
                pollfd(fd: $0, events: Int16($0 == fds[1] ? POLLOUT : POLLIN), revents: 0)
            }
            let ready = poll(&polled, nfds_t(polled.count), -1)
            if ready < 0 {
                if errno == EINTR { continue }
                break
            }
            if fds[1] >= 0, polled[0].revents != 0 {
                let bytes = input ?? []
                let count = bytes[written...].withUnsafeBytes { write(fds[1], $0.baseAddress, $0.count) }
                if count > 0 { written += count }
                if count < 0 && errno != EAGAIN && errno != EINTR || written >= bytes.count {
                    close(fds[1])  // done, or the child stopped reading
                    fds[1] = -1
                }
            }
            for (slot, position) in [(1, 2), (2, 4)] where fds[position] >= 0 && polled[slot].revents != 0 {
                let count = buffer.withUnsafeMutableBytes { read(fds[position], $0.baseAddress, $0.count) }
                if count > 0 {
                    if position == 2 { stdout += buffer[0..<count] } else { stderr += buffer[0..<count] }
                } else if count == 0 || errno != EINTR && errno != EAGAIN {
                    close(fds[position])
                    fds[position] = -1
                }
            }
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let exitStatus = status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return Output(status: exitStatus, stdout: stdout, stderr: stderr)
    }

    /// Starts `arguments` in a session of its own, not waited for, with no standard streams: work that must not
    /// hold up its caller (delivering records after a commit).
    package static func detach(_ arguments: [String]) {
        guard let program = arguments.first else { return }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for fd: Int32 in 0...2 {
            posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", fd == 0 ? O_RDONLY : O_WRONLY, 0)
        }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(setsidFlag))
        var pid = pid_t()
        let argv = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        if program.contains("/") {
            _ = posix_spawn(&pid, program, &actions, &attributes, argv, environ)
        } else {
            _ = posix_spawnp(&pid, program, &actions, &attributes, argv, environ)
        }
        // Not waited for: the child is reaped by init once this process exits (it is in its own session).
    }
}
