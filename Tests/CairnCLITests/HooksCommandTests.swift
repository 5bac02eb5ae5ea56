import CairnTestSupport
import Foundation
import Testing

/// `cairn hooks install|status|uninstall` through the CLI.
@Suite struct HooksCommandTests {
    @Test("install, status and uninstall: JSON results, the capture command beside cairn, the repository put back")
    func lifecycle() throws {
        let repo = try TemporaryDirectory.gitRepository("hooks-cli")
        func hooks(_ args: String...) throws -> CLI.Output {
            try CLI.exec(CLI.binary, ["hooks"] + args + ["--json"], directory: repo.path)
        }
        let install = try hooks("install")
        #expect(install.status == 0, "\(install.stderr)")
        #expect(install.text.contains(#""result":"installed""#))
        let status = try hooks("status")
        let object = parseJSONLine(status.text)
        let agents = try #require(object["agents"] as? [[String: Any]])
        #expect(agents.map { $0["installed"] as? Bool } == [true, true, true, true])
        #expect(agents.map { $0["agent"] as? String } == ["claude-code", "cursor", "gemini-cli", "github-copilot"])
        let tool = URL(fileURLWithPath: CLI.binary).deletingLastPathComponent().appendingPathComponent("cairn-capture")
            .path
        #expect((agents[0]["commands"] as? [String])?.first == "\(tool) claude-code")
        let uninstall = try hooks("uninstall")
        #expect(uninstall.status == 0 && uninstall.text.contains(#""result":"restored""#))
        let left = try FileManager.default.contentsOfDirectory(atPath: repo.path).filter { $0 != ".git" }
        #expect(left.isEmpty, "\(left)")
    }

    @Test("Outside a repository, and with an unknown agent: clear errors, nothing written")
    func refusals() throws {
        let directory = try TemporaryDirectory("hooks-no-repo")
        let outside = try CLI.exec(CLI.binary, ["hooks", "install"], directory: directory.path)
        #expect(outside.status == 66 && outside.stderr.contains("is not inside a git repository"))
        #expect(try ProcessRunner.run("/usr/bin/env", ["git", "init", "-q", directory.path]).status == 0)
        let unknown = try CLI.exec(CLI.binary, ["hooks", "install", "--agents", "vim"], directory: directory.path)
        #expect(unknown.status == 64 && unknown.stderr.contains("unknown agent vim"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == [".git"])
    }
}
