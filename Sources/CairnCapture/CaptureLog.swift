import CairnRecords

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `<git dir>/cairn/capture.log`: why captures failed, one line each, for `cairn hooks status` and people —
/// the agent itself never sees a capture fail.
package enum CaptureLog {
    package static let fileName = "capture.log"

    /// Appends `message` to the capture log of the repository around the current directory, if there is one.
    /// Best effort: a failure here is not reported anywhere else.
    package static func append(_ message: String, agent: String) {
        guard let directory = POSIX.currentDirectory(), let repository = CaptureRepository.containing(directory)
        else { return }
        let line = "\(Timestamp.format(POSIX.nowMilliseconds())) \(agent): \(DisplayText.escape(message))\n"
        _ = mkdir(repository.cairnDirectory, 0o700)
        let fd = open(repository.cairnDirectory + "/" + fileName, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return }
        defer { close(fd) }
        _ = POSIX.writeAll(fd, Array(line.utf8))
    }
}
