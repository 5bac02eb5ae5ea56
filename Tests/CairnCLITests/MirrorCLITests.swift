import CairnTestSupport
import Foundation
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A static HTTP server (Python's http.server) serving a directory, as any web server serves a `cairn export tiles`
/// directory or a mirror; optionally slow, so that a client can be stopped mid-round. Stopped when released.
final class StaticServer: @unchecked Sendable {
    let child: ChildServer
    let url: String

    static let script = """
        import functools, http.server, sys, time
        delay = float(sys.argv[2])
        class Handler(http.server.SimpleHTTPRequestHandler):
            def log_message(self, *args):
                pass
            def do_GET(self):
                if delay:
                    time.sleep(delay)
                super().do_GET()
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=sys.argv[1]))
        print(server.server_address[1], flush=True)
        server.serve_forever()
        """

    /// Serves `root`; the log's prefix is `<url>/<prefix>/`.
    init(root: String, prefix: String = "log", delay: Double = 0) throws {
        child = try ChildServer(
            ["python3", "-c", Self.script, root, String(delay)],
            failure: LedgerFixture.FixtureError(message: "the static server did not start"))
        guard let port = Int(child.firstLine) else {
            throw LedgerFixture.FixtureError(message: "the static server did not start")
        }
        url = "http://127.0.0.1:\(port)/\(prefix)/"
    }

    /// Whether python3 is there to run it.
    static var available: Bool { (try? CLI.exec("/usr/bin/env", ["python3", "-c", "pass"]))?.status == 0 }
}

/// `cairn mirror` and `cairn monitor` end to end: against `cairn export tiles` directories behind a static server
/// (the log's prefix a symbolic link the tests point at other exports: grown, tampered, forked, rolled back) and
/// against a live `cairn serve`; the mirror read back by independent readers; the commands' --help examples.
@Suite("cairn mirror and cairn monitor", .timeLimit(.minutes(5)))
struct MirrorCLITests {
    /// A PKCS#8 PEM Ed25519 key from a 32-byte seed: the same key for a log and its fork.
    static func pem(seed: UInt8) -> String {
        let der =
            Data([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20])
            + Data(repeating: seed, count: 32)
        return "-----BEGIN PRIVATE KEY-----\n\(der.base64EncodedString())\n-----END PRIVATE KEY-----\n"
    }

    /// The scratch world: a key, the web root `www/` whose `log` link the server follows, and ledgers.
    struct World {
        let dir: TemporaryDirectory
        let server: StaticServer
        var www: String { dir.file("www") }

        init(delay: Double = 0) throws {
            dir = try TemporaryDirectory("mirror")
            try FileManager.default.createDirectory(atPath: dir.file("www"), withIntermediateDirectories: true)
            server = try StaticServer(root: dir.file("www"), delay: delay)
        }

        /// A ledger `name` signed with the key of `seed` (the shared one by default; same origin): two of them with
        /// other entries are a fork.
        func ledger(_ name: String, seed: UInt8 = 0x42) throws -> CLI {
            let cli = CLI(ledger: dir.file(name))
            let key = try dir.write("key-\(seed).pem", MirrorCLITests.pem(seed: seed))
            let out = try cli.run([
                "init", "--origin", "example.com/mirrored", "--profile", "generic", "--signing-key", key,
            ])
            guard out.status == 0 else { throw LedgerFixture.FixtureError(message: out.stderr) }
            return cli
        }

        /// Exports `cli`'s ledger into www/<site>.
        func export(_ cli: CLI, _ site: String) throws {
            let out = try cli.run(["export", "tiles", www + "/" + site])
            guard out.status == 0 else { throw LedgerFixture.FixtureError(message: out.stderr) }
        }

        /// Points the log's URL at www/<site>.
        func serve(_ site: String) throws {
            try? FileManager.default.removeItem(atPath: www + "/log")
            try FileManager.default.createSymbolicLink(atPath: www + "/log", withDestinationPath: site)
        }

        /// `cairn ARGS` in the scratch directory, without a ledger or token from the environment.
        func cairn(_ args: String..., environment: [String: String] = [:]) throws -> CLI.Output {
            try CLI.exec(
                CLI.binary, args,
                environment: ["CAIRN_LEDGER": "", "CAIRN_TOKEN": "", "CAIRN_TOKEN_FILE": ""].merging(environment) {
                    $1
                },
                directory: dir.path)
        }
    }

    static func records(_ range: Range<Int>, tag: String = "a") -> String {
        range.map { "{\"n\":\($0),\"t\":\"\(tag)\"}" }.joined(separator: "\n")
    }

    /// The regular files under `root` (relative paths) and their bytes, without the mirror's own directory.
    static func served(_ root: String) -> [String: Data] {
        var out: [String: Data] = [:]
        let enumerator = FileManager.default.enumerator(atPath: root)
        while let relative = enumerator?.nextObject() as? String {
            guard !relative.hasPrefix(".cairn-mirror") else { continue }
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: root + "/" + relative, isDirectory: &isDirectory),
                !isDirectory.boolValue
            {
                out[relative] = try? Data(contentsOf: URL(fileURLWithPath: root + "/" + relative))
            }
        }
        return out
    }

    /// The mirror serves what the export does, byte for byte; what else it has are partial tiles of sizes it
    /// published before whose tile is still partial (the export did not publish those sizes).
    static func expectMirror(
        _ mirror: String, of export: String, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let mirrored = served(mirror)
        let exported = served(export)
        for (path, bytes) in exported {
            #expect(mirrored[path] == bytes, "\(path) differs or is missing", sourceLocation: sourceLocation)
        }
        for path in Set(mirrored.keys).subtracting(exported.keys) {
            let full = String(path[..<(path.range(of: ".p/")?.lowerBound ?? path.endIndex)])
            #expect(
                path.contains(".p/") && exported[full] == nil, "\(path) is extra", sourceLocation: sourceLocation)
        }
    }

    static func json(_ output: CLI.Output) -> [String: Any] { parseJSONLine(output.lines.last ?? "") }

    @Test("mirror --once copies an export and verifies it; after growth it fetches only new tiles; readers agree")
    func mirrorAnExport() throws {
        guard StaticServer.available else {
            print("mirror tests skipped: no python3")
            return
        }
        let w = try World()
        let a = try w.ledger("a")
        try a.ok("append", stdin: Self.records(0..<600))
        try w.export(a, "a")
        try w.serve("a")
        let mirror = w.dir.file("mirror")

        let noKey = try w.cairn("mirror", w.server.url, mirror, "--once")
        #expect(
            noKey.status == 64 && noKey.stderr.contains("give the log's verifier key with --vkey"), "\(noKey.stderr)")
        let first = try w.cairn("mirror", w.server.url, mirror, "--vkey", w.dir.file("a/ledger.vkey"), "--once")
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.text.hasPrefix("mirrored size 600 of \(w.server.url) into \(mirror): "), "\(first.text)")
        #expect(Self.served(mirror) == Self.served(w.www + "/a"))
        let checkpoint600 = try w.dir.write("checkpoint-600", try a.ok("checkpoint").stdout)

        try a.ok("append", stdin: Self.records(600..<1100))
        try w.export(a, "a")
        let second = try w.cairn("mirror", w.server.url, mirror, "--once", "--json")
        #expect(second.status == 0, "\(second.stderr)")
        let summary = Self.json(second)
        #expect(summary["previous_size"] as? Int == 600 && summary["tree_size"] as? Int == 1100)
        #expect(summary["consistent_with"] as? [Int] == [600])
        // Only what grew: the two new partials, full tiles 002 and 003, and three bundles.
        #expect(summary["tiles_fetched"] as? Int == 4 && summary["entry_bundles_fetched"] as? Int == 3, "\(summary)")
        #expect(Self.served(mirror) == Self.served(w.www + "/a"))
        let unchanged = Self.json(try w.cairn("mirror", w.server.url, mirror, "--once", "--json"))
        #expect(unchanged["files_written"] as? Int == 0 && unchanged["tiles_fetched"] as? Int == 0)

        // Independent readers: Python's at both published checkpoints, and Go's sumdb/tlog (when installed).
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        let entries = try w.dir.write("entries", Self.records(0..<1100) + "\n")
        for checkpoint in [checkpoint600, mirror + "/checkpoint"] {
            let read = try CLI.exec(
                "/usr/bin/env",
                [
                    "python3", repository.appendingPathComponent("Interop/tiles_read.py").path, mirror, "--vkey",
                    w.dir.file("a/ledger.vkey"), "--checkpoint", checkpoint, "--entries", entries,
                ])
            #expect(read.status == 0 && read.text.hasPrefix("tiles-read: ok: size "), "\(read.stderr)")
        }
        if let go = GoToolchain.binaryOrSkip("Go tiles reader on a mirror") {
            let verified = try CLI.exec(
                go,
                [
                    "run", repository.appendingPathComponent("Interop/tiles_verify.go").path, "-vkey",
                    w.dir.file("a/ledger.vkey"), "-entries", entries, mirror,
                ],
                environment: GoToolchain.environment(cache: w.dir.file("gocache")))
            #expect(verified.status == 0, "\(verified.stderr)")
            #expect(verified.text.contains("tiles-verify: ok: \(mirror): size 1100, root verified"), "\(verified.text)")
        }
    }

    @Test(
        "serve --mirror serves a mirror read-only, as the log did: a mirror of it is the same; partials cut from fulls")
    func serveAMirror() async throws {
        guard StaticServer.available else { return }
        let w = try World()
        let a = try w.ledger("a")
        try a.ok("append", stdin: Self.records(0..<600))
        try w.export(a, "a")
        try w.serve("a")
        let vkey = w.dir.file("a/ledger.vkey")
        let mirror = w.dir.file("mirror")
        #expect(try w.cairn("mirror", w.server.url, mirror, "--vkey", vkey, "--once").status == 0)
        // What the log published at 600: the partial tile and bundle of size 600.
        let partialTile = try Data(contentsOf: URL(fileURLWithPath: w.www + "/a/tile/0/002.p/88"))
        let partialBundle = try Data(contentsOf: URL(fileURLWithPath: w.www + "/a/tile/entries/002.p/88"))
        try a.ok("append", stdin: Self.records(600..<1100))
        try w.export(a, "a")
        #expect(try w.cairn("mirror", w.server.url, mirror, "--once").status == 0)

        let server = try ServeCLITests.Server(
            ledger: nil, arguments: ["--mirror", mirror], stderrPath: w.dir.file("serve-mirror.log"))
        defer { _ = server.terminate() }
        let url = server.url
        let second = w.dir.file("mirror-of-mirror")
        let mirrored = try await offThePool { try w.cairn("mirror", url, second, "--vkey", vkey, "--once") }
        #expect(mirrored.status == 0, "\(mirrored.stderr)")
        // Every file the second mirror fetched (and verified against the checkpoint) is the first mirror's.
        let first = Self.served(mirror)
        let copied = Self.served(second)
        #expect(copied.count >= 12 && copied["checkpoint"] != nil, "\(copied.keys.sorted())")
        for (path, bytes) in copied { #expect(first[path] == bytes, "\(path)") }

        func get(_ path: String) async throws -> (Int, Data, String?) {
            let (data, response) = try await URLSession.shared.data(from: URL(string: url + path)!)
            let http = response as? HTTPURLResponse
            return (http?.statusCode ?? 0, data, http?.value(forHTTPHeaderField: "Cache-Control"))
        }
        // A partial the full tile replaced is cut from it, byte for byte what the log served at 600.
        let (tileStatus, tile, tileCache) = try await get("/tile/0/002.p/88")
        #expect(tileStatus == 200 && tile == partialTile && tileCache == "public, max-age=31536000, immutable")
        let (bundleStatus, bundle, _) = try await get("/tile/entries/002.p/88")
        #expect(bundleStatus == 200 && bundle == partialBundle)
        let (checkpointStatus, checkpoint, checkpointCache) = try await get("/checkpoint")
        #expect(checkpointStatus == 200 && checkpointCache == "no-cache")
        #expect(checkpoint == (try Data(contentsOf: URL(fileURLWithPath: mirror + "/checkpoint"))))
        // Nothing but tiles and the checkpoint: no other file of the directory, no path out of it.
        // (curl --path-as-is: URLSession would resolve the dot segments before sending.)
        for path in [
            "/.cairn-mirror/state.json", "/tile/0/../../checkpoint", "/tile/0/x001", "/tile/0/099", "/v1/entries/0",
        ] {
            let out = try await offThePool {
                try CLI.exec(
                    "/usr/bin/env", ["curl", "-s", "--path-as-is", "-o", "/dev/null", "-w", "%{http_code}", url + path])
            }
            #expect(["400", "404"].contains(out.text), "\(path): \(out.text)")
        }
    }

    @Test("A tampered tile, a fork from the same key and a rollback are refused with exit 1; the mirror is unchanged")
    func refusals() throws {
        guard StaticServer.available else { return }
        let w = try World()
        let a = try w.ledger("a")
        try a.ok("append", stdin: Self.records(0..<300))
        try w.export(a, "a")
        try FileManager.default.copyItem(atPath: w.www + "/a", toPath: w.www + "/a-300")
        try a.ok("append", stdin: Self.records(300..<1100))
        try w.export(a, "a")
        try w.serve("a")
        let mirror = w.dir.file("mirror")
        #expect(
            try w.cairn("mirror", w.server.url, mirror, "--vkey", w.dir.file("a/ledger.vkey"), "--once").status == 0)
        let before = Self.served(mirror)

        // A tampered tile that is new since the mirrored size.
        try a.ok("append", stdin: Self.records(1100..<1400))
        try w.export(a, "a")
        try FileManager.default.copyItem(atPath: w.www + "/a", toPath: w.www + "/tampered")
        let tile = w.www + "/tampered/tile/0/004"
        var bytes = try Data(contentsOf: URL(fileURLWithPath: tile))
        bytes[1000] ^= 1
        try bytes.write(to: URL(fileURLWithPath: tile))
        try w.serve("tampered")
        let tampered = try w.cairn("mirror", w.server.url, mirror, "--once")
        #expect(tampered.status == 1, "\(tampered.stderr)")
        #expect(tampered.stderr.contains("tile/0/004 hashes to"), "\(tampered.stderr)")
        #expect(tampered.stderr.contains("the tile is not part of the signed tree"))
        #expect(Self.served(mirror)["checkpoint"] == before["checkpoint"])

        // A fork: another ledger with the same key and origin, other entries.
        let b = try w.ledger("b")
        try b.ok("append", stdin: Self.records(0..<1500, tag: "b"))
        try w.export(b, "b")
        try w.serve("b")
        let forked = try w.cairn("mirror", w.server.url, mirror, "--once", "--json")
        #expect(forked.status == 1)
        #expect(forked.stderr.hasPrefix("error: inconsistent: the log's tree of size 1500"), "\(forked.stderr)")
        let failure = Self.json(forked)
        #expect(failure["ok"] as? Bool == false && failure["error"] as? String == "inconsistent")
        let evidence = try #require(failure["evidence"] as? String)
        #expect(
            try String(contentsOfFile: evidence + "/earlier.checkpoint", encoding: .utf8)
                == String(decoding: before["checkpoint"] ?? Data(), as: UTF8.self))
        #expect(try String(contentsOfFile: evidence + "/checkpoint", encoding: .utf8) == b.ok("checkpoint").text)

        // A rollback: an old copy of the log served again.
        try w.serve("a-300")
        let rollback = try w.cairn("mirror", w.server.url, mirror, "--once")
        #expect(rollback.status == 1)
        #expect(rollback.stderr.contains("rollback: "), "\(rollback.stderr)")
        #expect(rollback.stderr.contains("it is a checkpoint of the mirrored tree"), "\(rollback.stderr)")
        #expect(Self.served(mirror) == before)

        // The honest log again: the mirror goes on.
        try w.serve("a")
        let resumed = try w.cairn("mirror", w.server.url, mirror, "--once")
        #expect(resumed.status == 0, "\(resumed.stderr)")
        try a.ok("export", "tiles", w.dir.file("fresh"))
        Self.expectMirror(mirror, of: w.dir.file("fresh"))

        // Another log's key on the same directory is refused (73); a server that is down is 74.
        _ = try w.ledger("c", seed: 0x43)
        let otherKey = try w.cairn("mirror", w.server.url, mirror, "--vkey", w.dir.file("c/ledger.vkey"), "--once")
        #expect(otherKey.status == 73 && otherKey.stderr.contains("pinned in"), "\(otherKey.stderr)")
        let down = try w.cairn(
            "mirror", "http://127.0.0.1:9/", w.dir.file("m2"), "--vkey", w.dir.file("a/ledger.vkey"), "--once")
        #expect(down.status == 74, "\(down.stderr)")
    }

    @Test("A mirror killed mid-round resumes: the next run completes and the result is the log")
    func killedMirrorResumes() throws {
        guard StaticServer.available else { return }
        // Slow answers leave time to stop the mirror between the first tile it writes and its checkpoint.
        let w = try World(delay: 0.02)
        let a = try w.ledger("a")
        try a.ok("append", stdin: Self.records(0..<5000))
        try w.export(a, "a")
        try w.serve("a")
        let mirror = w.dir.file("mirror")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CLI.binary)
        process.arguments = ["mirror", w.server.url, mirror, "--vkey", w.dir.file("a/ledger.vkey"), "--once"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Wait until it has recorded the checkpoint it installs and written some bundles, then kill it (SIGKILL).
        try pollBlocking("the mirror to start writing bundles", timeout: 60, every: 0.005) {
            let state = (try? String(contentsOfFile: mirror + "/.cairn-mirror/state.json", encoding: .utf8)) ?? ""
            let bundles = ((try? FileManager.default.contentsOfDirectory(atPath: mirror + "/tile/entries")) ?? [])
                .filter { !$0.hasPrefix(".") }  // not a temporary file being written
            return state.contains("\"pending\": \"example.com") && bundles.count >= 3
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal)
        #expect(!FileManager.default.fileExists(atPath: mirror + "/checkpoint"))

        let resumed = try w.cairn("mirror", w.server.url, mirror, "--once", "--json")
        #expect(resumed.status == 0, "\(resumed.stderr)")
        let summary = Self.json(resumed)
        #expect(summary["tree_size"] as? Int == 5000)
        #expect((summary["entry_bundles_reused"] as? Int ?? 0) >= 3, "\(summary)")
        #expect(Self.served(mirror) == Self.served(w.www + "/a"))
    }

    @Test("mirror and monitor against a live cairn serve: the token for entry bundles, Cairn's consistency proofs")
    func againstCairnServe() async throws {
        let f = try LedgerFixture()
        try f.cli.ok("append", stdin: Self.records(0..<300))
        let reader = try f.cli.ok("token", "create", "--role", "read", "--name", "mirror").text
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let writer = try f.cli.ok("token", "create", "--role", "append", "--name", "ci").text
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let server = try ServeCLITests.Server(
            ledger: f.cli.ledger, arguments: ["--public-reads"], stderrPath: f.dir.file("serve.log"))
        defer { _ = server.terminate() }
        let mirror = f.dir.file("mirror")
        let environment = ["CAIRN_LEDGER": "", "CAIRN_TOKEN": "", "CAIRN_TOKEN_FILE": ""]

        // Hash tiles are public; entry bundles need a read token.
        let anonymous = try CLI.exec(
            CLI.binary, ["mirror", server.url, mirror, "--vkey", f.vkeyFile, "--once"], environment: environment)
        #expect(anonymous.status == 77, "\(anonymous.stderr)")
        #expect(anonymous.stderr.contains("HTTP 401") && anonymous.stderr.contains("read role"), "\(anonymous.stderr)")
        let mirrored = try CLI.exec(
            CLI.binary, ["mirror", server.url, mirror, "--once"],
            environment: environment.merging(["CAIRN_TOKEN": reader]) { $1 })
        #expect(mirrored.status == 0, "\(mirrored.stderr)")
        let monitorState = f.dir.file("monitor.json")
        let first = try CLI.exec(
            CLI.binary, ["monitor", server.url, "--vkey", f.vkeyFile, "--state", monitorState, "--once", "--json"],
            environment: environment)
        #expect(first.status == 0, "\(first.stderr)")

        // Growth through the API; the mirror follows, the monitor checks Cairn's consistency proof.
        let appended = try await ServeCLITests.request(
            "POST", server.url + "/v1/entries", token: writer, body: Self.records(300..<700) + "\n",
            contentType: "application/x-ndjson")
        #expect(appended.status == 200, "\(appended.body)")
        let grown = try CLI.exec(
            CLI.binary, ["mirror", server.url, mirror, "--once", "--token", reader], environment: environment)
        #expect(grown.status == 0, "\(grown.stderr)")
        let export = f.dir.file("export")
        try f.cli.ok("export", "tiles", export)
        Self.expectMirror(mirror, of: export)
        let second = try CLI.exec(
            CLI.binary, ["monitor", server.url, "--state", monitorState, "--once", "--json"], environment: environment)
        #expect(second.status == 0, "\(second.stderr)")
        let event = parseJSONLine(second.lines.first ?? "")
        #expect(event["event"] as? String == "ok" && event["size"] as? Int == 700)
        #expect(
            (event["detail"] as? String)?.contains("consistent with size 300 (proof from /v1/proof/consistency)")
                == true,
            "\(second.text)")
    }

    @Test("monitor --once: ok, rollback, inconsistent and bad_signature, as JSON lines and exit statuses")
    func monitorOnce() throws {
        guard StaticServer.available else { return }
        let w = try World()
        let a = try w.ledger("a")
        try a.ok("append", stdin: Self.records(0..<300))
        try w.export(a, "a")
        try FileManager.default.copyItem(atPath: w.www + "/a", toPath: w.www + "/a-300")
        try a.ok("append", stdin: Self.records(300..<900))
        try w.export(a, "a")
        try w.serve("a")
        let state = w.dir.file("monitor.json")
        let vkey = w.dir.file("a/ledger.vkey")

        let noKey = try w.cairn("monitor", w.server.url, "--state", state, "--once")
        #expect(noKey.status == 64, "\(noKey.stderr)")
        let ok = try w.cairn("monitor", w.server.url, "--vkey", vkey, "--state", state, "--once", "--json")
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(ok.lines.count == 2)
        let event = parseJSONLine(ok.lines[0])
        #expect(Set(event.keys).isSuperset(of: ["at", "event", "size", "detail"]))
        #expect(event["event"] as? String == "ok" && event["size"] as? Int == 900)
        let summary = parseJSONLine(ok.lines[1])
        #expect(summary["event"] as? String == "summary" && summary["exit_status"] as? Int == 0)
        #expect((summary["counters"] as? [String: Int])?["ok"] == 1)
        let text = try w.cairn("monitor", w.server.url, "--state", state, "--once")
        #expect(text.status == 0 && text.text.contains(" ok size 900: size 900, root "), "\(text.text)")

        // An older copy served again: rollback.
        try w.serve("a-300")
        let rollback = try w.cairn("monitor", w.server.url, "--state", state, "--once", "--json")
        #expect(rollback.status == 1)
        let rolled = parseJSONLine(rollback.lines[0])
        #expect(rolled["event"] as? String == "rollback" && rolled["size"] as? Int == 300)
        #expect((rolled["previous"] as? String)?.contains("\n900\n") == true)

        // A fork from the same key: inconsistent (consistency computed from its tiles).
        let b = try w.ledger("b")
        try b.ok("append", stdin: Self.records(0..<1200, tag: "b"))
        try w.export(b, "b")
        try w.serve("b")
        let forked = try w.cairn("monitor", w.server.url, "--state", state, "--once")
        #expect(forked.status == 1)
        #expect(forked.text.contains(" inconsistent size 1200: "), "\(forked.text)")

        // Another log's key: bad_signature (without --state: nothing to compare, the signature still fails).
        _ = try w.ledger("c", seed: 0x43)
        try w.serve("a")
        let wrongKey = try w.cairn("monitor", w.server.url, "--vkey", w.dir.file("c/ledger.vkey"), "--once", "--json")
        #expect(wrongKey.status == 1)
        #expect(parseJSONLine(wrongKey.lines[0])["event"] as? String == "bad_signature", "\(wrongKey.text)")

        // Unreachable: 74. The pinned key is kept in the state file; another --vkey is refused.
        let down = try w.cairn("monitor", "http://127.0.0.1:9/", "--vkey", vkey, "--once", "--json")
        #expect(down.status == 74 && parseJSONLine(down.lines[0])["event"] as? String == "unreachable")
        let other = try w.cairn(
            "monitor", w.server.url, "--vkey", w.dir.file("c/ledger.vkey"), "--state", state, "--once")
        #expect(other.status == 64 && other.stderr.contains("follows the log of key"), "\(other.stderr)")
        // The log is honest again: ok, and the counters remember every round.
        let back = try w.cairn("monitor", w.server.url, "--state", state, "--once", "--json")
        #expect(back.status == 0, "\(back.text)")
        let counters = parseJSONLine(back.lines.last ?? "")["counters"] as? [String: Int] ?? [:]
        #expect(counters["rounds"] == 5 && counters["ok"] == 3 && counters["rollback"] == 1, "\(counters)")
    }

    /// The examples of `cairn mirror --help` and `cairn monitor --help` (HelpExampleTests leaves them to this test:
    /// they need a log at a URL), run against one: a line with --once must exit 0; a line without it must still be
    /// running after its first round, having printed it.
    @Test("The --help examples of mirror and monitor run against a live log")
    func helpExamples() throws {
        guard StaticServer.available else { return }
        let w = try World()
        let a = try w.ledger("a")
        try a.ok("append", stdin: Self.records(0..<300))
        try w.export(a, "a")
        try w.serve("a")
        try FileManager.default.copyItem(atPath: w.dir.file("a/ledger.vkey"), toPath: w.dir.file("ledger.vkey"))
        let witness = try w.cairn("witness", "init", "--name", "witness.example/w1", "--dir", w.dir.file("w1"))
        #expect(witness.status == 0)
        try FileManager.default.copyItem(atPath: w.dir.file("w1/witness.vkey"), toPath: w.dir.file("witness.vkey"))

        let examples = try HelpExampleTests.examples().filter {
            $0.command == "cairn mirror" || $0.command == "cairn monitor"
        }
        #expect(examples.count >= 6)
        for example in examples {
            #expect(HelpExampleTests.notRun[example.line] != nil, "HelpExampleTests.notRun should list \(example.line)")
            let line = example.line.replacingOccurrences(of: "https://log.example.com/cairn/", with: w.server.url)
                .replacingOccurrences(of: " /srv/", with: " " + w.dir.path + "/srv/")
            let arguments = line.split(separator: " ").dropFirst().map(String.init)
            if arguments.contains("--once") {
                let out = try CLI.exec(
                    CLI.binary, arguments, environment: ["CAIRN_LEDGER": "", "CAIRN_TOKEN": ""], directory: w.dir.path)
                #expect(out.status == 0, "`\(line)` exited \(out.status): \(out.stderr)")
            } else {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: CLI.binary)
                process.arguments = arguments
                process.currentDirectoryURL = URL(fileURLWithPath: w.dir.path)
                let out = Pipe()
                process.standardOutput = out
                process.standardError = FileHandle.nullDevice
                try process.run()
                var first = Data()
                while !first.contains(0x0a) {
                    let chunk = out.fileHandleForReading.availableData
                    if chunk.isEmpty { break }
                    first.append(chunk)
                }
                #expect(process.isRunning, "`\(line)` stopped: \(String(decoding: first, as: UTF8.self))")
                #expect(!first.isEmpty, "`\(line)` printed nothing")
                kill(process.processIdentifier, SIGKILL)  // a round stopped anywhere is safe (specs/mirror.md §4)
                process.waitUntilExit()
            }
        }
    }
}
