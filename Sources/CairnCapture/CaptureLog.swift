import CairnRecords
import Foundation

/// `<git dir>/cairn/capture.log`: why captures failed, one line each, for `cairn hooks status` and people —
/// the agent itself never sees a capture fail.
package enum CaptureLog {
    package static let fileName = "capture.log"

    /// Appends `message` to the capture log of the repository around the current directory, if there is one.
    /// Best effort: a failure here is not reported anywhere else.
    package static func append(_ message: String, agent: String, environment: [String: String]) {
        let directory = FileManager.default.currentDirectoryPath
        guard let repository = CaptureRepository.containing(directory) else { return }
        let now = Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))
        let line = "\(Timestamp.format(now)) \(agent): \(DisplayText.escape(message))\n"
        let path = repository.cairnDirectory + "/" + fileName
        try? FileManager.default.createDirectory(atPath: repository.cairnDirectory, withIntermediateDirectories: true)
        if let handle = FileHandle(forWritingAtPath: path)
            ?? {
                FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600])
                return FileHandle(forWritingAtPath: path)
            }()
        {
            defer { try? handle.close() }
            _ = try? handle.seekToEnd()
            try? handle.write(contentsOf: Data(line.utf8))
        }
    }
}
