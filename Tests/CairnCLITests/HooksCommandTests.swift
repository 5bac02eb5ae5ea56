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

    @Test("--redact-personal-data: the marker first in the results, status in text and JSON, kept by uninstall")
    func personalData() throws {
        let repo = try TemporaryDirectory.gitRepository("hooks-personal-data")
        let marker = repo.path + "/.git/cairn/redaction.json"
        func hooks(_ args: String...) throws -> CLI.Output {
            let out = try CLI.exec(CLI.binary, ["hooks"] + args, directory: repo.path)
            #expect(out.status == 0, "\(args): \(out.stderr)")
            return out
        }
        let status = try hooks("status", "--json")
        #expect(parseJSONLine(status.text)["personal_data"] as? Bool == false)
        #expect(try hooks("status").text.contains("\npersonal data: not redacted, secrets only ("))

        let install = try hooks("install", "--redact-personal-data", "--json")
        let results = try #require(
            try JSONSerialization.jsonObject(with: Data(install.stdout)) as? [[String: Any]])
        #expect(results.first?["hook"] as? String == "personal-data")
        #expect(results.first?["file"] as? String == marker)
        #expect(results.first?["result"] as? String == "installed")
        #expect(results.count == 9)
        #expect(try String(contentsOfFile: marker, encoding: .utf8) == "{\"personal_data\": true}\n")
        #expect(parseJSONLine(try hooks("status", "--json").text)["personal_data"] as? Bool == true)
        #expect(try hooks("status").text.contains("\npersonal data: redacted (\(marker))\n"))
        // Installing again without the flag keeps the choice; with it, nothing changes.
        #expect(try hooks("install", "--agents", "none").lines.allSatisfy { !$0.hasPrefix("personal-data:") })
        #expect(
            try hooks("install", "--redact-personal-data", "--no-git", "--agents", "none").text
                == "personal-data: already-installed (\(marker))\n")
        // Uninstall takes the hooks out and leaves the choice.
        _ = try hooks("uninstall")
        #expect(FileManager.default.fileExists(atPath: marker))
        #expect(
            try hooks("install", "--no-redact-personal-data", "--no-git", "--agents", "none").text
                == "personal-data: removed (\(marker))\n")
        #expect(!FileManager.default.fileExists(atPath: marker))
        #expect(parseJSONLine(try hooks("status", "--json").text)["personal_data"] as? Bool == false)
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
