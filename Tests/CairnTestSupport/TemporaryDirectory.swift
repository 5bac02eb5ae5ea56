import Foundation

/// A fresh directory under the system's temporary directory, removed (with everything in it)
/// when the value is released: the one temporary-directory helper of the test targets.
public final class TemporaryDirectory: @unchecked Sendable {
    /// The directory's absolute path.
    public let path: String

    /// Creates `<tmp>/cairn-<label>-<uuid>`.
    public init(_ label: String = "test") throws {
        path = NSTemporaryDirectory() + "cairn-\(label)-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    /// A fresh directory with an empty git repository in it (`git init`).
    public static func gitRepository(_ label: String = "repo") throws -> TemporaryDirectory {
        let directory = try TemporaryDirectory(label)
        let git = try ProcessRunner.run("/usr/bin/env", ["git", "init", "-q", directory.path])
        guard git.status == 0 else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: "git init failed: \(git.output)"])
        }
        return directory
    }

    /// `path/name` (nothing is created).
    public func file(_ name: String) -> String { path + "/" + name }

    /// Writes `text` to `path/name` (creating parent directories) and returns the path.
    @discardableResult
    public func write(_ name: String, _ text: String) throws -> String {
        try write(name, Array(text.utf8))
    }

    /// Writes `bytes` to `path/name` (creating parent directories) and returns the path.
    @discardableResult
    public func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        let target = file(name)
        try FileManager.default.createDirectory(
            atPath: URL(fileURLWithPath: target).deletingLastPathComponent().path, withIntermediateDirectories: true)
        try Data(bytes).write(to: URL(fileURLWithPath: target))
        return target
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}
