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

    /// The repository containing `directory` (relative ones against the current directory), or nil.
    package static func containing(_ directory: String) -> CaptureRepository? {
        var current = POSIX.normalize(directory, base: POSIX.currentDirectory() ?? "/")
        while true {
            let dotGit = (current == "/" ? "" : current) + "/.git"
            let kind = POSIX.kind(of: dotGit)
            if kind.isDirectory { return CaptureRepository(root: current, gitDirectory: dotGit) }
            if kind.exists, let bytes = POSIX.readFile(dotGit, limit: 4096) {
                let line = String(decoding: bytes, as: UTF8.self).split(separator: "\n").first ?? ""
                if line.hasPrefix("gitdir: ") {
                    let target = String(line.dropFirst("gitdir: ".count))
                    return CaptureRepository(root: current, gitDirectory: POSIX.normalize(target, base: current))
                }
            }
            if current == "/" { return nil }
            current = POSIX.parent(current)
        }
    }

    /// `path` relative to the working tree when it lies inside it (absolute or relative to `cwd`), else as given.
    package func relativePath(_ path: String, cwd: String?) -> String {
        let absolute = POSIX.normalize(path, base: cwd.map { POSIX.normalize($0, base: root) } ?? root)
        let prefix = root == "/" ? "/" : root + "/"
        return absolute.hasPrefix(prefix) ? String(absolute.dropFirst(prefix.count)) : path
    }
}
