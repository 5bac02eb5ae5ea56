#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file of lines that writers append to and one reader consumes, under an exclusive `flock`: the working log
/// (captures append, `post-commit` consumes) and the commit hooks' outbox (hooks append, delivery consumes).
package enum LockedLines {
    /// The most read of such a file (256 MiB).
    package static let readLimit = 256 << 20

    /// Appends `bytes` (whole lines) in one write under the lock, then `fdatasync`s the file.
    package static func append(_ bytes: [UInt8], to path: String) throws(CaptureError) {
        let fd = try POSIX.openLocked(path, flags: O_WRONLY | O_APPEND)
        defer { close(fd) }
        if let error = POSIX.writeAll(fd, bytes) { throw CaptureError("cannot write \(path): \(error)") }
        if fdatasync(fd) != 0 { throw CaptureError("cannot sync \(path): \(POSIX.lastError())") }
    }

    /// The file's lines as they are now (no lock: a line being appended may be missing); none when it is absent.
    package static func read(_ path: String) -> [[UInt8]] {
        guard let bytes = POSIX.readFile(path, limit: readLimit) else { return [] }
        return bytes.split(separator: UInt8(ascii: "\n")).map(Array.init)
    }

    /// Reads the file under its lock, lets `body` choose the lines to keep, and replaces the file by them (through a
    /// synced temporary file and a rename), so that nothing appended meanwhile is lost.
    package static func consume<R>(
        _ path: String, _ body: ([[UInt8]]) throws(CaptureError) -> (keep: [[UInt8]], result: R)
    ) throws(CaptureError) -> R {
        let fd = try POSIX.openLocked(path, flags: O_RDWR)
        defer { close(fd) }
        guard let bytes = POSIX.readAll(fd, limit: readLimit), bytes.count <= readLimit else {
            throw CaptureError("cannot read \(path) (or it is over 256 MiB)")
        }
        let (keep, result) = try body(bytes.split(separator: UInt8(ascii: "\n")).map(Array.init))
        let temporary = path + ".tmp"
        let out = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard out >= 0 else { throw CaptureError("cannot create \(temporary): \(POSIX.lastError())") }
        var failure: String?
        if let error = POSIX.writeAll(out, keep.flatMap { $0 + [UInt8(ascii: "\n")] }) {
            failure = "cannot write \(temporary): \(error)"
        } else if fsync(out) != 0 {
            failure = "cannot sync \(temporary): \(POSIX.lastError())"
        }
        close(out)
        if failure == nil, rename(temporary, path) != 0 { failure = "cannot replace \(path): \(POSIX.lastError())" }
        if let failure {
            unlink(temporary)
            throw CaptureError(failure)
        }
        return result
    }
}
