import CairnCapture
import CairnHooks
import CairnTestSupport
import Foundation
import Testing

/// `cairn hooks install|uninstall|status` for git, in real repositories: the shims run under /bin/sh as git runs
/// them, with a fake cairn that logs what it is given.
@Suite struct GitHookInstallerTests {
    /// A repository with the installer, a fake cairn and the log both it and the test's own hooks write to.
    struct Fixture {
        let repo: TemporaryDirectory
        let tools: TemporaryDirectory
        let installer: GitHookInstaller
        /// What the fake cairn and the original hooks wrote, in order.
        var log: String { (try? String(contentsOfFile: tools.file("log"), encoding: .utf8)) ?? "" }

        /// git in the repository, without the user's or the system's configuration.
        @discardableResult
        func git(_ args: [String], environment: [String: String] = [:]) throws -> ProcessRunner.Output {
            var env = ["GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1", "CAIRN_HOOKS_DISABLE": ""]
            env.merge(environment) { $1 }
            return try ProcessRunner.run(
                "/usr/bin/env",
                ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-C", repo.path] + args,
                environment: env)
        }

        func head() throws -> String { try git(["rev-parse", "HEAD"]).text.trimmingCharacters(in: .newlines) }

        func clearLog() throws { try tools.write("log", "") }
    }

    /// A fresh repository whose hooks are in `.git/hooks` (unless `hooksPath` is set), and a fake cairn.
    func fixture(hooksPath: String? = nil) throws -> Fixture {
        let repo = try TemporaryDirectory.gitRepository("git-hooks")
        let tools = try TemporaryDirectory("git-hooks-tools")
        let log = tools.file("log")
        // Logs its arguments, and its input for the hooks git gives input to.
        let fake = try tools.write(
            "bin/cairn",
            """
            #!/bin/sh
            printf 'cairn %s\\n' "$*" >>'\(log)'
            case "$3" in post-rewrite|pre-push) cat >>'\(log)' ;; esac
            exit 9

            """)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: fake)
        let repository = try #require(CaptureRepository.containing(repo.path))
        let fixture = Fixture(
            repo: repo, tools: tools,
            installer: GitHookInstaller(repository: repository, hookCommand: fake + " hooks run"))
        if let hooksPath {
            #expect(try fixture.git(["config", "core.hooksPath", hooksPath]).status == 0)
        }
        // Never the user's own hooks: a global core.hooksPath would send the test's hooks there.
        try #require(try fixture.installer.hooksDirectory == repo.path + "/" + (hooksPath ?? ".git/hooks"))
        return fixture
    }

    /// A hook script that logs its name, its arguments and (for `stdin`) its input, then exits with `status`.
    func originalHook(_ name: String, stdin: Bool = false, status: Int = 0, log: String) -> String {
        """
        #!/bin/sh
        # the project's own \(name) hook
        printf 'original \(name) (%s)\\n' "$*" >>'\(log)'
        \(stdin ? "cat >>'\(log)'" : "")
        exit \(status)

        """
    }

    @discardableResult
    func writeHook(_ fixture: Fixture, _ name: String, _ text: String, mode: Int = 0o755) throws -> String {
        let path = try fixture.installer.hooksDirectory + "/" + name
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
        return path
    }

    func permissions(_ path: String) throws -> Int {
        try #require(FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
    }

    func bytes(_ path: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: path)) }

    func changes(_ result: [(hook: String, change: HookInstaller.Change)]) -> [String] {
        result.map { "\($0.hook) \($0.change.rawValue)" }
    }

    @Test("Install writes four executable shims; installing again changes nothing; commits and amends run cairn")
    func installFresh() throws {
        let f = try fixture()
        let hooks = try f.installer.hooksDirectory
        #expect(changes(try f.installer.install()) == GitHookInstaller.hooks.map { "\($0) installed" })
        var shims: [Data] = []
        for hook in GitHookInstaller.hooks {
            let path = hooks + "/" + hook
            #expect(try permissions(path) == 0o755)
            #expect(FileManager.default.isExecutableFile(atPath: path))
            shims.append(try bytes(path))
            let shim = GitHookInstaller.shim(hook: hook, hookCommand: f.tools.file("bin/cairn") + " hooks run")
            #expect(try bytes(path) == Data(shim.utf8))
            // Valid for dash (/bin/sh here) as for any POSIX sh.
            #expect(try ProcessRunner.run("/bin/sh", ["-n", path]).status == 0)
        }
        #expect(f.installer.status().map(\.installed) == [true, true, true, true])
        #expect(f.installer.status().map(\.chained) == [false, false, false, false])
        #expect(f.installer.status().map(\.path) == GitHookInstaller.hooks.map { hooks + "/" + $0 })
        #expect(changes(try f.installer.install()) == GitHookInstaller.hooks.map { "\($0) already-installed" })
        #expect(try GitHookInstaller.hooks.map { try bytes(hooks + "/" + $0) } == shims)

        // cairn failing (the fake exits 9) fails nothing.
        try f.repo.write("a.txt", "a\n")
        #expect(try f.git(["add", "a.txt"]).status == 0)
        let commit = try f.git(["commit", "-q", "-m", "first"])
        #expect(commit.status == 0, "\(commit.output)")
        #expect(
            f.log == "cairn hooks run prepare-commit-msg .git/COMMIT_EDITMSG message\ncairn hooks run post-commit\n")
        try f.clearLog()
        let old = try f.head()
        let amend = try f.git(["commit", "-q", "--amend", "-m", "x"])
        #expect(amend.status == 0, "\(amend.output)")
        let new = try f.head()
        #expect(old != new)
        #expect(
            f.log == """
                cairn hooks run prepare-commit-msg .git/COMMIT_EDITMSG message
                cairn hooks run post-commit
                cairn hooks run post-rewrite amend
                \(old) \(new)

                """)
    }

    @Test("Existing hooks are chained: they run first with the same arguments and input, then cairn")
    func chainsExistingHooks() throws {
        let f = try fixture()
        let log = f.tools.file("log")
        let hooks = try f.installer.hooksDirectory
        try writeHook(f, "prepare-commit-msg", originalHook("prepare-commit-msg", log: log), mode: 0o750)
        try writeHook(f, "post-commit", originalHook("post-commit", status: 4, log: log), mode: 0o700)
        try writeHook(f, "post-rewrite", originalHook("post-rewrite", stdin: true, log: log))
        try writeHook(f, "pre-push", originalHook("pre-push", stdin: true, log: log))
        #expect(changes(try f.installer.install()) == GitHookInstaller.hooks.map { "\($0) installed" })
        for hook in GitHookInstaller.hooks {
            #expect(try String(contentsOfFile: hooks + "/" + hook + ".cairn-chained", encoding: .utf8).contains("own"))
        }
        #expect(try permissions(hooks + "/prepare-commit-msg.cairn-chained") == 0o750)
        #expect(try permissions(hooks + "/post-commit.cairn-chained") == 0o700)
        #expect(f.installer.status().map(\.chained) == [true, true, true, true])

        try f.repo.write("a.txt", "a\n")
        #expect(try f.git(["add", "a.txt"]).status == 0)
        let commit = try f.git(["commit", "-q", "-m", "first"])
        #expect(commit.status == 0, "\(commit.output)")
        #expect(
            f.log == """
                original prepare-commit-msg (.git/COMMIT_EDITMSG message)
                cairn hooks run prepare-commit-msg .git/COMMIT_EDITMSG message
                original post-commit ()
                cairn hooks run post-commit

                """)

        try f.clearLog()
        let old = try f.head()
        let amend = try f.git(["commit", "-q", "--amend", "-m", "x"])
        #expect(amend.status == 0, "\(amend.output)")
        let new = try f.head()
        #expect(
            f.log == """
                original prepare-commit-msg (.git/COMMIT_EDITMSG message)
                cairn hooks run prepare-commit-msg .git/COMMIT_EDITMSG message
                original post-commit ()
                cairn hooks run post-commit
                original post-rewrite (amend)
                \(old) \(new)
                cairn hooks run post-rewrite amend
                \(old) \(new)

                """)

        // A real push: pre-push gets the remote's name and URL, and the refs on its input.
        try f.clearLog()
        let remote = try TemporaryDirectory("git-hooks-remote")
        #expect(try f.git(["init", "-q", "--bare", remote.path]).status == 0)
        #expect(try f.git(["remote", "add", "origin", remote.path]).status == 0)
        let push = try f.git(["push", "-q", "origin", "HEAD:refs/heads/main"])
        #expect(push.status == 0, "\(push.output)")
        let refs = "HEAD \(new) refs/heads/main \(String(repeating: "0", count: 40))"
        #expect(
            f.log == """
                original pre-push (origin \(remote.path))
                \(refs)
                cairn hooks run pre-push origin \(remote.path)
                \(refs)

                """)

        // CAIRN_HOOKS_DISABLE=1: the chained hooks still run, cairn does not.
        try f.clearLog()
        let disabled = try f.git(
            ["commit", "-q", "--allow-empty", "-m", "y"], environment: ["CAIRN_HOOKS_DISABLE": "1"])
        #expect(disabled.status == 0, "\(disabled.output)")
        #expect(f.log == "original prepare-commit-msg (.git/COMMIT_EDITMSG message)\noriginal post-commit ()\n")
    }

    @Test("A failing chained prepare-commit-msg or pre-push still aborts git's command, and cairn is not run")
    func failingChainedHookAborts() throws {
        let f = try fixture()
        let log = f.tools.file("log")
        try f.repo.write("a.txt", "a\n")
        #expect(try f.git(["add", "a.txt"]).status == 0)
        #expect(try f.git(["commit", "-q", "-m", "first"]).status == 0)
        let head = try f.head()
        try writeHook(f, "prepare-commit-msg", originalHook("prepare-commit-msg", status: 3, log: log))
        try writeHook(f, "pre-push", originalHook("pre-push", stdin: true, status: 1, log: log))
        _ = try f.installer.install()

        let commit = try f.git(["commit", "-q", "--allow-empty", "-m", "second"])
        #expect(commit.status != 0)
        #expect(try f.head() == head)
        #expect(f.log == "original prepare-commit-msg (.git/COMMIT_EDITMSG message)\n")
        // The shim's status is the chained hook's.
        let hooks = try f.installer.hooksDirectory
        #expect(try ProcessRunner.run("/bin/sh", [hooks + "/prepare-commit-msg", "msg", "message"]).status == 3)

        try f.clearLog()
        let remote = try TemporaryDirectory("git-hooks-remote")
        #expect(try f.git(["init", "-q", "--bare", remote.path]).status == 0)
        let push = try f.git(["push", "-q", remote.path, "HEAD:refs/heads/main"])
        #expect(push.status != 0)
        let refsLine = "HEAD \(head) refs/heads/main \(String(repeating: "0", count: 40))"
        #expect(f.log == "original pre-push (\(remote.path) \(remote.path))\n\(refsLine)\n")
        let refs = try ProcessRunner.run("/usr/bin/env", ["git", "-C", remote.path, "for-each-ref"])
        #expect(refs.status == 0 && refs.stdout.isEmpty)
    }

    @Test("Input is given byte for byte to the chained hook and to cairn, through a temporary file removed after")
    func sameInputToBoth() throws {
        let f = try fixture()
        let log = f.tools.file("log")
        try writeHook(f, "post-rewrite", originalHook("post-rewrite", stdin: true, status: 6, log: log))
        _ = try f.installer.install()
        let temporary = try TemporaryDirectory("git-hooks-tmp")
        var input: [UInt8] =
            Array("first line\n".utf8) + (0...255).map { UInt8($0) } + Array(repeating: 0x61, count: 200_000)
        input += Array("no final newline".utf8)
        let run = try ProcessRunner.run(
            "/bin/sh", [try f.installer.hooksDirectory + "/post-rewrite", "rebase"], stdin: input,
            environment: ["TMPDIR": temporary.path, "CAIRN_HOOKS_DISABLE": ""])
        // post-rewrite's status is ignored by git: cairn runs after a failing one, the status is kept.
        #expect(run.status == 6, "\(run.output)")
        let logged = try [UInt8](bytes(log))
        let expected =
            Array("original post-rewrite (rebase)\n".utf8) + input + Array("cairn hooks run post-rewrite rebase\n".utf8)
            + input
        #expect(logged == expected)
        #expect(try FileManager.default.contentsOfDirectory(atPath: temporary.path).isEmpty)
    }

    @Test("core.hooksPath, relative to the working tree, is where the hooks go")
    func hooksPath() throws {
        let f = try fixture(hooksPath: ".githooks")
        #expect(changes(try f.installer.install()) == GitHookInstaller.hooks.map { "\($0) installed" })
        for hook in GitHookInstaller.hooks {
            #expect(FileManager.default.isExecutableFile(atPath: f.repo.path + "/.githooks/" + hook))
            #expect(!FileManager.default.fileExists(atPath: f.repo.path + "/.git/hooks/" + hook))
        }
        #expect(f.installer.status().allSatisfy { $0.installed && $0.path.hasPrefix(f.repo.path + "/.githooks/") })
        let commit = try f.git(["commit", "-q", "--allow-empty", "-m", "first"])
        #expect(commit.status == 0, "\(commit.output)")
        #expect(
            f.log == "cairn hooks run prepare-commit-msg .git/COMMIT_EDITMSG message\ncairn hooks run post-commit\n")
    }

    @Test("Uninstall puts every original back byte for byte, with its mode, and removes the other shims")
    func uninstallRestores() throws {
        let f = try fixture()
        let hooks = try f.installer.hooksDirectory
        let originals: [(hook: String, bytes: [UInt8], mode: Int)] = [
            ("prepare-commit-msg", Array("#!/bin/sh\nexit 0".utf8), 0o750),
            ("post-commit", Array("#!/bin/sh\r\n# caf\u{E9}\r\n".utf8) + [0xFF, 0x00, 0x0A], 0o700),
            ("post-rewrite", Array("#!/bin/sh\ncat >/dev/null\n".utf8), 0o755),
        ]
        for original in originals {
            let path = hooks + "/" + original.hook
            try Data(original.bytes).write(to: URL(fileURLWithPath: path))
            try FileManager.default.setAttributes([.posixPermissions: original.mode], ofItemAtPath: path)
        }
        _ = try f.installer.install()
        #expect(
            changes(try f.installer.uninstall()) == [
                "prepare-commit-msg restored", "post-commit restored", "post-rewrite restored", "pre-push removed",
            ])
        for original in originals {
            let path = hooks + "/" + original.hook
            #expect(try [UInt8](bytes(path)) == original.bytes)
            #expect(try permissions(path) == original.mode)
        }
        #expect(!FileManager.default.fileExists(atPath: hooks + "/pre-push"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: hooks).filter { $0.contains("cairn") } == [])
        #expect(f.installer.status().allSatisfy { !$0.installed && !$0.chained })
        #expect(changes(try f.installer.uninstall()) == GitHookInstaller.hooks.map { "\($0) not-installed" })
    }

    @Test("A hook replaced since install is left alone by uninstall")
    func userReplacedHook() throws {
        let f = try fixture()
        _ = try f.installer.install()
        let replaced = "#!/bin/sh\necho mine\n"
        let path = try writeHook(f, "post-commit", replaced, mode: 0o711)
        #expect(!f.installer.status()[1].installed)
        #expect(
            changes(try f.installer.uninstall()) == [
                "prepare-commit-msg removed", "post-commit not-installed", "post-rewrite removed", "pre-push removed",
            ])
        #expect(try String(contentsOfFile: path, encoding: .utf8) == replaced)
        #expect(try permissions(path) == 0o711)
    }

    @Test("A .cairn-chained file in the way refuses the install, before anything changes")
    func refusesChainedInTheWay() throws {
        let f = try fixture()
        let hooks = try f.installer.hooksDirectory
        try writeHook(f, "post-commit", "#!/bin/sh\necho new\n")
        try writeHook(f, "post-commit.cairn-chained", "#!/bin/sh\necho old\n")
        #expect {
            try f.installer.install()
        } throws: { error in
            "\(error)".contains(hooks + "/post-commit.cairn-chained")
        }
        #expect(try String(contentsOfFile: hooks + "/post-commit", encoding: .utf8) == "#!/bin/sh\necho new\n")
        let chained = try String(contentsOfFile: hooks + "/post-commit.cairn-chained", encoding: .utf8)
        #expect(chained == "#!/bin/sh\necho old\n")
        #expect(!FileManager.default.fileExists(atPath: hooks + "/prepare-commit-msg"))
        #expect(f.installer.status().allSatisfy { !$0.installed })
    }

    @Test("A shim naming another cairn is rewritten by install")
    func updatesMovedCairn() throws {
        let f = try fixture()
        let repository = try #require(CaptureRepository.containing(f.repo.path))
        _ = try GitHookInstaller(repository: repository, hookCommand: "/old/cairn hooks run").install()
        #expect(changes(try f.installer.install()) == GitHookInstaller.hooks.map { "\($0) installed" })
        let shim = try String(contentsOfFile: try f.installer.hooksDirectory + "/post-commit", encoding: .utf8)
        #expect(!shim.contains("/old/cairn") && shim.contains(f.tools.file("bin/cairn")))
        #expect(f.installer.status().allSatisfy { !$0.chained })
    }

    @Test("The destination is kept in the repository's configuration: a ledger or a server, not both")
    func destination() throws {
        let f = try fixture()
        #expect(f.installer.destination() == (nil, nil))
        try f.installer.setDestination(ledger: "/srv/cairn/ledger", server: nil)
        #expect(f.installer.destination() == ("/srv/cairn/ledger", nil))
        #expect(try f.git(["config", "--local", "--get", "cairn.ledger"]).text == "/srv/cairn/ledger\n")
        try f.installer.setDestination(ledger: nil, server: "https://cairn.example.com/")
        #expect(f.installer.destination() == (nil, "https://cairn.example.com/"))
        try f.installer.setDestination(ledger: "ledgers/../ledger", server: nil)
        #expect(f.installer.destination() == (FileManager.default.currentDirectoryPath + "/ledger", nil))
        #expect(throws: HookInstaller.HooksError.self) {
            try f.installer.setDestination(ledger: "/a", server: "https://b")
        }
        #expect(f.installer.destination() == (FileManager.default.currentDirectoryPath + "/ledger", nil))
        try f.installer.setDestination(ledger: nil, server: nil)
        #expect(f.installer.destination() == (nil, nil))
    }
}
