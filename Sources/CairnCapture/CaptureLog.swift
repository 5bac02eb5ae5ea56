import CairnRecords

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
        try? POSIX.append(Array(line.utf8), to: repository.cairnDirectory + "/" + fileName, sync: false)
    }
}
