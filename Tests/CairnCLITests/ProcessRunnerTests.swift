import CairnTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The shared process runner starts children with standard input, output and error only. A
/// descriptor the test process holds without close-on-exec (a port reservation, a listening
/// socket or a pipe of a test running in parallel) must not leak into a child: a `cairn serve`
/// still running would keep that port bound, and a pipe's reader would not see end-of-file
/// until the child exits.
@Suite("The test process runner")
struct ProcessRunnerTests {
    /// The descriptors open in the child: `ls` of the shell's /proc/PID/fd (the shell forks `ls`,
    /// so the listing is the shell's, not that of `ls` reading it).
    static func childDescriptors(directory: String? = nil) throws -> [String] {
        let out = try ProcessRunner.run("/bin/sh", ["-c", "ls /proc/$$/fd; true"], directory: directory)
        #expect(out.status == 0, "\(out.stderr)")
        return out.lines.sorted()
    }

    @Test("A child inherits only standard input, output and error")
    func onlyStandardDescriptors() throws {
        // Inheritable on purpose: neither has close-on-exec.
        let file = open("/dev/null", O_RDONLY)
        var pipeEnds: [Int32] = [0, 0]
        #expect(pipe(&pipeEnds) == 0)
        defer { for fd in [file] + pipeEnds { close(fd) } }
        for fd in [file] + pipeEnds {
            #expect(fd > 2 && fcntl(fd, F_GETFD) & FD_CLOEXEC == 0)
        }
        #expect(try Self.childDescriptors() == ["0", "1", "2"])
        // Through `env -C` (a working directory) too.
        #expect(try Self.childDescriptors(directory: NSTemporaryDirectory()) == ["0", "1", "2"])
    }

    @Test("A child sees the end of a pipe the test process holds only when the test closes it")
    func pipeNotHeldOpenByChildren() throws {
        // A child spawned while this pipe is open must not hold its writing end: `cat` reads to
        // end-of-file once this process has closed it, whether or not the other child still runs.
        var ends: [Int32] = [0, 0]
        #expect(pipe(&ends) == 0)
        let sleeper = Thread {
            _ = try? ProcessRunner.run("/bin/sleep", ["3"])
        }
        sleeper.start()
        Thread.sleep(forTimeInterval: 0.2)
        close(ends[1])
        let started = Date()
        var buffer = [UInt8](repeating: 0, count: 16)
        let n = read(ends[0], &buffer, buffer.count)
        close(ends[0])
        #expect(n == 0)
        #expect(Date().timeIntervalSince(started) < 2, "the sleeping child held the pipe's writing end")
    }
}
