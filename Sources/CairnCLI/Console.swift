import Foundation
import Synchronization

/// Standard output and standard error, byte-exact, where every write is checked.
///
/// A script that runs `cairn prove inclusion 7 > proof` on a full disk must not get exit status 0
/// and an empty proof, and `cairn query | head -1` must end quietly when `head` has read its line.
/// So:
///
/// - Standard output is buffered (64 KiB) and written with `write(2)` until every byte is out
///   (EINTR and EAGAIN are retried). When a write fails, the process ends at once, as SIGPIPE
///   would have ended it and for the same reason (nothing later can reach the reader):
///   EPIPE (the reader has gone) quietly with status 141, 128 + SIGPIPE, which is what a shell
///   reports for a process killed by SIGPIPE; any other error (ENOSPC, EIO, a closed descriptor)
///   with "error: cannot write standard output: …" on standard error, if that works, and
///   status 74. Ending mid-command is as safe as a kill: every ledger change is one LMDB
///   transaction, committed whole or not at all.
/// - Standard error is not buffered: each message is one `write(2)` loop. A failed write to it
///   does not stop the command (its diagnostics are lost, not its work): the first failure is
///   remembered, later messages are dropped, and `exit(_:)` turns a status of 0 into 74 (141
///   for EPIPE), so that a caller still learns that something was not written. A command that
///   fails anyway keeps its own status, which says more than 74 would.
///
/// SIGPIPE is ignored (`StandardStreams.prepare()`), so a closed pipe is an EPIPE here rather
/// than a death that could strike in the middle of any write.
enum Console {
    private struct State {
        var buffer: [UInt8] = []
        /// The errno of the first failed write to standard error.
        var stderrFailure: Int32?
    }

    private static let state = Mutex(State())

    /// The status of a process whose reader closed the pipe: 128 + SIGPIPE.
    static let brokenPipeStatus: Int32 = 141

    static func write(_ bytes: [UInt8]) {
        state.withLock { state in
            state.buffer.append(contentsOf: bytes)
            if state.buffer.count >= 1 << 16 { flushLocked(&state) }
        }
    }

    static func write(_ text: String) { write(Array(text.utf8)) }

    static func line(_ text: String) { write(text + "\n") }

    /// Writes what is buffered for standard output; ends the process if that fails.
    static func flush() {
        state.withLock { flushLocked(&$0) }
    }

    private static func flushLocked(_ state: inout State) {
        guard !state.buffer.isEmpty else { return }
        let failure = state.buffer.withUnsafeBytes { StandardStreams.writeAll(1, $0) }
        state.buffer.removeAll(keepingCapacity: true)
        if let failure { outputFailed(failure, stderrUsable: state.stderrFailure == nil) }
    }

    /// Writes a line to standard error (after flushing standard output, so the two interleave
    /// in order on a terminal).
    static func error(_ text: String) {
        writeError(Array((text + "\n").utf8))
    }

    /// Rewrites the current standard error line (a progress indicator on a terminal); an empty
    /// `text` clears it.
    static func errorInline(_ text: String) {
        writeError(Array(("\r\u{1B}[K" + text).utf8))
    }

    private static func writeError(_ bytes: [UInt8]) {
        state.withLock { state in
            flushLocked(&state)
            guard state.stderrFailure == nil else { return }
            if let failure = bytes.withUnsafeBytes({ StandardStreams.writeAll(2, $0) }) {
                state.stderrFailure = failure
            }
        }
    }

    static var stderrIsTerminal: Bool { isatty(2) != 0 }

    /// Flushes standard output and ends the process with `status`, or with 74 (141 for EPIPE)
    /// when it is 0 but a write to standard error failed.
    static func exit(_ status: Int32) -> Never {
        let final: Int32 = state.withLock { state in
            flushLocked(&state)
            guard status == 0, let failure = state.stderrFailure else { return status }
            return failure == EPIPE ? brokenPipeStatus : ExitStatus.ioError.rawValue
        }
        Foundation.exit(final)
    }

    /// Ends the process after a failed write to standard output (see the type's documentation).
    private static func outputFailed(_ code: Int32, stderrUsable: Bool) -> Never {
        if code == EPIPE { _exit(brokenPipeStatus) }
        if stderrUsable {
            let message = Array("error: cannot write standard output: \(String(cString: strerror(code)))\n".utf8)
            _ = message.withUnsafeBytes { StandardStreams.writeAll(2, $0) }
        }
        // `_exit`, not `exit`: other threads (the ingest engine's writer) may be running, and
        // exit handlers must not run under them.
        _exit(ExitStatus.ioError.rawValue)
    }
}

/// The process's standard descriptors, made safe to use before anything else runs.
enum StandardStreams {
    /// Ignores SIGPIPE and fills closed standard descriptors.
    ///
    /// A process started with descriptor 1 or 2 closed (`2>&-`) would hand that number to the
    /// next file it opens — the ledger's `data.mdb`, say — and a later message for standard
    /// error would be written into it. Each closed one of 0, 1 and 2 is therefore opened on
    /// /dev/null in the direction it cannot be used (0 for writing, 1 and 2 for reading), so
    /// that its number stays taken and every use of it fails with EBADF, which `Console` and
    /// `InputFile` report like any other failed write or read.
    static func prepare() {
        signal(SIGPIPE, SIG_IGN)
        for descriptor: Int32 in 0...2 where fcntl(descriptor, F_GETFD) == -1 && errno == EBADF {
            let placeholder = open("/dev/null", descriptor == 0 ? O_WRONLY : O_RDONLY)
            if placeholder >= 0 && placeholder != descriptor {
                dup2(placeholder, descriptor)
                close(placeholder)
            }
        }
    }

    /// Writes all of `bytes` to `descriptor`; returns nil, or the errno of the failure.
    /// Retries EINTR, and EAGAIN (a non-blocking descriptor) after waiting until it is writable.
    static func writeAll(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer) -> Int32? {
        guard let base = bytes.baseAddress else { return nil }
        var offset = 0
        while offset < bytes.count {
            let written = Foundation.write(descriptor, base + offset, bytes.count - offset)
            if written > 0 {
                offset += written
                continue
            }
            let code = written < 0 ? errno : EIO
            if code == EINTR { continue }
            if code == EAGAIN || code == EWOULDBLOCK {
                wait(for: descriptor, events: Int16(POLLOUT))
                continue
            }
            return code
        }
        return nil
    }

    /// Waits until `descriptor` is ready for `events` (or in error, which the next call reports).
    static func wait(for descriptor: Int32, events: Int16) {
        var entry = pollfd(fd: descriptor, events: events, revents: 0)
        while poll(&entry, 1, -1) < 0 && errno == EINTR {}
    }
}
