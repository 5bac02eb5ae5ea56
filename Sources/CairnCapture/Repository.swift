import Foundation

/// The git repository a capture belongs to, found from a directory without running git (capture must stay
/// fast): the nearest ancestor with a `.git` directory, or a `.git` file naming one (`gitdir: …`, as in
/// worktrees and submodules).
package struct CaptureRepository: Sendable, Equatable {
    /// The working tree's root.
    package let root: String
    /// The git directory (`<root>/.git`, or a worktree's own).
    package let gitDirectory: String

    /// `<git dir>/cairn`: the working log, the redaction key and the capture log.
    package var cairnDirectory: String { gitDirectory + "/cairn" }

    /// The repository containing `directory`, or nil.
    package static func containing(_ directory: String) -> CaptureRepository? {
        var url = URL(fileURLWithPath: directory).standardizedFileURL
        let manager = FileManager.default
        for _ in 0..<256 {
            let dotGit = url.appendingPathComponent(".git").path
            var isDirectory: ObjCBool = false
            if manager.fileExists(atPath: dotGit, isDirectory: &isDirectory) {
                if isDirectory.boolValue { return CaptureRepository(root: url.path, gitDirectory: dotGit) }
                if let text = try? String(contentsOfFile: dotGit, encoding: .utf8),
                    let line = text.split(separator: "\n").first, line.hasPrefix("gitdir: ")
                {
                    let target = String(line.dropFirst("gitdir: ".count))
                    let resolved =
                        target.hasPrefix("/") ? target : url.appendingPathComponent(target).standardizedFileURL.path
                    return CaptureRepository(root: url.path, gitDirectory: resolved)
                }
            }
            let parent = url.deletingLastPathComponent()
            if parent.path == url.path { return nil }
            url = parent
        }
        return nil
    }

    /// `path` relative to the working tree when it lies inside it (absolute or relative to `cwd`), else as given.
    package func relativePath(_ path: String, cwd: String?) -> String {
        let absolute =
            path.hasPrefix("/") ? path : URL(fileURLWithPath: cwd ?? root).appendingPathComponent(path).path
        let standardized = URL(fileURLWithPath: absolute).standardizedFileURL.path
        let prefix = root.hasSuffix("/") ? root : root + "/"
        return standardized.hasPrefix(prefix) ? String(standardized.dropFirst(prefix.count)) : path
    }
}
