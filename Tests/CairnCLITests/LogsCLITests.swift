import CairnTestSupport
import Foundation
import Testing

/// `cairn logs add|list|current`, `cairn query --logs` and `cairn serve --logs` (specs/sealing.md §6-7), through the
/// real commands.
@Suite("Log directories, and serving several logs")
struct LogsCLITests {
    static let records = SpecExampleTests.repository.appendingPathComponent("examples/records.jsonl").path

    /// A log directory: shard 2026 (the example records, then sealed, with a token made before the seal), its
    /// successor 2027 (the example records again) and, with `acme`, an open log of another organisation.
    struct Shards {
        let dir: TemporaryDirectory
        let logs: String
        let y2026: CLI
        let y2027: CLI
        let token: String
        let finalCheckpoint: String

        init(acme: Bool) throws {
            dir = try TemporaryDirectory()
            logs = dir.file("logs")
            y2026 = CLI(ledger: logs + "/2026")
            y2027 = CLI(ledger: logs + "/2027")
            try y2026.ok("init", "--origin", "example.com/cairn-2026")
            token = try y2026.ok("token", "create", "--role", "append", "--role", "read", "--name", "ci").text
                .trimmingCharacters(in: .whitespacesAndNewlines)
            try y2026.ok("append", LogsCLITests.records)
            finalCheckpoint = try y2026.ok("seal", "--reason", "2026 shard closed").text
            try y2027.ok("init", "--successor-of", y2026.ledger, "--origin", "example.com/cairn-2027")
            try y2027.ok("append", LogsCLITests.records)
            for name in ["2026", "2027"] { try y2026.ok("logs", "add", logs + "/" + name, "--dir", logs) }
            if acme {
                let other = CLI(ledger: dir.file("elsewhere/acme"))
                try other.ok("init", "--origin", "example.org/acme")
                try other.ok("logs", "add", other.ledger, "--dir", logs)
            }
        }

        func cairn(_ args: String...) throws -> CLI.Output { try y2026.run(args) }

        /// The sealed shard's final size.
        var finalSize: Int { Int(finalCheckpoint.split(separator: "\n")[1]) ?? -1 }
    }

    @Test("logs add, list and current: states, links between shards, and clear refusals")
    func listAndCurrent() throws {
        let s = try Shards(acme: true)
        // logs.json stores paths inside the directory relative to it, others absolute.
        let file = try String(contentsOfFile: s.logs + "/logs.json", encoding: .utf8)
        #expect(file.contains(#"{"name":"2026","path":"2026"}"#) && file.contains(#""path":"/"#), "\(file)")

        let json = try #require(
            try JSONSerialization.jsonObject(
                with: Data(try s.y2026.ok("logs", "list", "--dir", s.logs, "--json").stdout))
                as? [[String: Any]])
        #expect(json.map { $0["name"] as? String } == ["2026", "2027", "acme"])
        let (y2026, y2027, acme) = (json[0], json[1], json[2])
        #expect((y2026["sealed"] as? [String: Any])?["checkpoint"] as? String == s.finalCheckpoint)
        #expect(y2026["current"] as? Bool == false && y2026["successor"] as? String == "2027")
        #expect((y2027["predecessor"] as? [String: Any])?["name"] as? String == "2026")
        #expect(y2027["current"] as? Bool == true && y2027["link_problem"] is NSNull)
        #expect(acme["current"] as? Bool == true && acme["predecessor"] is NSNull)
        let table = try s.y2026.ok("logs", "list", "--dir", s.logs).text
        #expect(table.contains("sealed at \(s.finalSize)") && table.contains("current"), "\(table)")

        // Two current logs: one per chain; --origin-prefix picks one.
        let current = try s.y2026.ok("logs", "current", "--dir", s.logs).text.split(separator: "\n")
        #expect(current.count == 2 && current[0].hasSuffix("/2027") && current[1].hasSuffix("/acme"), "\(current)")
        #expect(
            try s.y2026.ok("logs", "current", "--dir", s.logs, "--origin-prefix", "example.com/").text
                .hasSuffix("/2027\n"))
        let none = try s.cairn("logs", "current", "--dir", s.logs, "--origin-prefix", "example.net/")
        #expect(none.status == 66 && none.stderr.contains("no current log"), "\(none.stderr)")

        // Refusals: a name, ledger or origin already there; a bad name; no directory; a malformed file.
        let again = try s.cairn("logs", "add", s.logs + "/2027", "--name", "again", "--dir", s.logs)
        #expect(again.status == 64 && again.stderr.contains("already in the directory"), "\(again.stderr)")
        let sameName = try s.cairn(
            "logs", "add", s.dir.file("elsewhere/acme"), "--name", "2026", "--dir", s.dir.file("x"))
        #expect(sameName.status == 0, "another directory is another listing: \(sameName.stderr)")
        let twin = CLI(ledger: s.dir.file("twin"))
        try twin.ok("init", "--origin", "example.com/cairn-2027")
        let sameOrigin = try s.cairn("logs", "add", twin.ledger, "--dir", s.logs)
        #expect(sameOrigin.status == 64 && sameOrigin.stderr.contains("already has the origin"), "\(sameOrigin.stderr)")
        let badName = try s.cairn("logs", "add", twin.ledger, "--name", "a/b", "--dir", s.logs)
        #expect(badName.status == 64 && badName.stderr.contains("is not 1 to 64"), "\(badName.stderr)")
        let missing = try s.cairn("logs", "list", "--dir", s.dir.file("nothing"))
        #expect(missing.status == 66 && missing.stderr.contains("logs.json is missing"), "\(missing.stderr)")
        try FileManager.default.createDirectory(atPath: s.dir.file("bad"), withIntermediateDirectories: true)
        _ = try s.dir.write("bad/logs.json", #"{"format":"cairn-logs/v1","logs":[{"name":"a"}]}"#)
        let malformed = try s.cairn("logs", "list", "--dir", s.dir.file("bad"))
        #expect(malformed.status == 65 && malformed.stderr.contains("logs[0]"), "\(malformed.stderr)")
        let noDir = try s.cairn("logs", "list")
        #expect(noDir.status == 64 && noDir.stderr.contains("--dir"), "\(noDir.stderr)")
    }

    @Test("serve --logs refuses a directory that lists one ledger twice (through a symbolic link)")
    func sameLedgerTwice() throws {
        let dir = try TemporaryDirectory()
        let a = CLI(ledger: dir.file("logs/a"))
        try a.ok("init", "--origin", "example.com/twice", "--profile", "generic")
        try FileManager.default.createSymbolicLink(atPath: dir.file("logs/alias"), withDestinationPath: "a")
        _ = try dir.write(
            "logs/logs.json",
            #"{"format":"cairn-logs/v1","logs":[{"name":"a","path":"a"},{"name":"alias","path":"alias"}]}"#)
        let out = try a.run(
            ["serve", "--logs", dir.file("logs"), "--listen", "127.0.0.1:0"], environment: ["CAIRN_LEDGER": ""])
        #expect(out.status == 64 && out.stderr.contains("are the same ledger"), "\(out.status) \(out.stderr)")
    }

    @Test("logs list reports a link that does not hold, with exit status 1")
    func brokenLink() throws {
        let dir = try TemporaryDirectory()
        let a = CLI(ledger: dir.file("a"))
        try a.ok("init", "--origin", "example.com/shard-a", "--profile", "generic")
        try a.ok("append", stdin: #"{"n":1}"#)
        try a.ok("seal", "--reason", "closed")
        let b = CLI(ledger: dir.file("b"))
        try b.ok("init", "--successor-of", a.ledger, "--origin", "example.com/shard-b")
        // Another log of the predecessor's origin and another key, registered in its place.
        let impostor = CLI(ledger: dir.file("impostor"))
        try impostor.ok("init", "--origin", "example.com/shard-a", "--profile", "generic")
        try a.ok("logs", "add", impostor.ledger, "--name", "a", "--dir", dir.file("logs"))
        try a.ok("logs", "add", b.ledger, "--dir", dir.file("logs"))
        let out = try a.run("logs", "list", "--dir", dir.file("logs"))
        #expect(out.status == 1 && out.text.contains("LINK BROKEN"), "\(out.text) \(out.stderr)")
    }

    @Test("query --logs searches every shard (generic logs left out); rows name their log; --limit counts them all")
    func queryAcrossShards() throws {
        let s = try Shards(acme: true)
        // A log of the generic profile has no provenance records to query: it is left out, not an error.
        let notes = CLI(ledger: s.dir.file("notes"))
        try notes.ok("init", "--origin", "example.org/notes", "--profile", "generic")
        try notes.ok("append", stdin: #"{"n":1}"#)
        try notes.ok("logs", "add", notes.ledger, "--dir", s.logs)
        let one = try s.y2026.ok("query", "--json").stdout
        let perLog = (try JSONSerialization.jsonObject(with: Data(one)) as? [[String: Any]])?.count ?? 0
        #expect(perLog > 1)
        let all = try #require(
            try JSONSerialization.jsonObject(with: Data(try s.y2026.ok("query", "--logs", s.logs, "--json").stdout))
                as? [[String: Any]])
        #expect(all.count == 2 * perLog)
        #expect(all.prefix(perLog).allSatisfy { $0["log"] as? String == "2026" })
        #expect(all.suffix(perLog).allSatisfy { $0["log"] as? String == "2027" })
        let lines = try s.y2026.ok("query", "--logs", s.logs, "--jsonl", "--limit", String(perLog + 1)).text
            .split(separator: "\n")
        #expect(lines.count == perLog + 1 && lines.last?.hasPrefix(#"{"log":"2027","#) == true, "\(lines.last ?? "")")
        let table = try s.y2026.ok("query", "--logs", s.logs).text
        #expect(table.hasPrefix("LOG "), "\(table)")
        let both = try s.cairn("query", "--logs", s.logs, "--ledger", s.y2026.ledger)
        #expect(both.status == 64)
    }

    @Test("serve --logs: each log under /logs/NAME/, the current one also unprefixed; /v1/logs; queries span logs")
    func serveLogs() async throws {
        let s = try Shards(acme: false)
        let server = try ServeCLITests.Server(
            ledger: nil, arguments: ["--logs", s.logs], stderrPath: s.dir.file("serve.log"))
        defer { _ = server.terminate() }
        let token = s.token
        func get(_ path: String) async throws -> ServeCLITests.HTTPReply {
            try await ServeCLITests.request("GET", server.url + path, token: token)
        }

        let listing = try await get("/v1/logs")
        #expect(listing.status == 200, "\(listing.body)")
        let logs = try #require(parseJSONLine(listing.body)["logs"] as? [[String: Any]])
        #expect(logs.map { $0["name"] as? String } == ["2026", "2027"])
        #expect(logs[1]["default"] as? Bool == true && logs[1]["url"] as? String == "/logs/2027/")
        #expect(logs.allSatisfy { $0["path"] == nil }, "server paths are not published")
        #expect(try await ServeCLITests.request("GET", server.url + "/v1/logs").status == 401)

        // Unprefixed appends go to the current log; the successor took the token of its predecessor.
        let size2027 = try await get("/logs/2027/checkpoint").body.split(separator: "\n")[1]
        let appended = try await ServeCLITests.request(
            "POST", server.url + "/v1/entries", token: token,
            body: try String(contentsOfFile: LogsCLITests.records, encoding: .utf8)
                .split(separator: "\n").first.map(String.init) ?? "")
        #expect(appended.status == 200 && appended.body.contains(#""duplicate":true"#), "\(appended.body)")
        let note =
            #"{"type":"review","schema":1,"subject":"0f8e7a52-3c1d-4d7e-9a41-7f1c2b6e5d01","reviewer":"eve@example.com","decision":"approved","at":"2027-01-02T10:00:00Z"}"#
        let fresh = try await ServeCLITests.request("POST", server.url + "/v1/entries", token: token, body: note)
        #expect(fresh.status == 200 && fresh.body.contains("\"index\":\(size2027)"), "\(fresh.body)")
        // The sealed shard refuses, and keeps serving its final checkpoint, entries and tiles.
        let refused = try await ServeCLITests.request(
            "POST", server.url + "/logs/2026/v1/entries", token: token, body: note)
        #expect(refused.status == 410 && refused.body.contains("is sealed"), "\(refused.body)")
        #expect(try await get("/logs/2026/checkpoint").body == s.finalCheckpoint)
        let link = try await get("/logs/2027/v1/entries/0?raw=true")
        #expect(link.status == 200 && link.body.contains(#""type":"predecessor""#))
        #expect(try await get("/logs/2026/tile/0/000.p/\(s.finalSize)").status == 200)
        #expect(try await get("/logs/nowhere/checkpoint").status == 404)

        // One query over both shards: each match names its log.
        let spanning = try await get("/v1/query?logs=all&model=claude-sonnet-4-5")
        #expect(spanning.status == 200, "\(spanning.body)")
        let matches = try #require(parseJSONLine(spanning.body)["matches"] as? [[String: Any]])
        let names = Set(matches.compactMap { $0["log"] as? String })
        #expect(names == ["2026", "2027"], "\(spanning.body.prefix(400))")
        #expect(parseJSONLine(spanning.body)["count"] as? Int == matches.count)
        let limited = try await get("/v1/query?logs=all&limit=1")
        #expect((parseJSONLine(limited.body)["matches"] as? [Any])?.count == 1)
        let bad = try await get("/v1/query?logs=all&bogus=1")
        #expect(bad.status == 400, "\(bad.body)")

        // The sealed shard, followed by a mirror through its prefix, is exactly its tiles.
        let mirror = s.dir.file("mirror")
        let vkey = s.y2026.ledger + "/ledger.vkey"
        let url = server.url + "/logs/2026/"
        let mirrored = try await offThePool {
            try CLI.exec(
                CLI.binary, ["mirror", url, mirror, "--vkey", vkey, "--once", "--token", token])
        }
        #expect(mirrored.status == 0, "\(mirrored.stderr)")
        #expect(try String(contentsOfFile: mirror + "/checkpoint", encoding: .utf8) == s.finalCheckpoint)
    }

    @Test("blame --logs and audit missing --logs find each commit's checkpoint in the shard that holds it")
    func blameAcrossShards() throws {
        let world = try AttestCommandTests.World()  // commits "one" and "two"; an empty ledger, the 2026 shard
        defer { world.cleanUp() }
        let attest = ["attest", "--tool", "claude-code", "--model", "claude-sonnet-4-5", "--no-sensitive"]
        #expect(try world.cairn(attest + ["--ledger", world.ledger]).status == 0)
        #expect(try world.cairn(["seal", "--reason", "closed", "--ledger", world.ledger]).status == 0)
        let next = world.repo.path + "-ledger-2027"
        defer { try? FileManager.default.removeItem(atPath: next) }
        let created = try world.cairn([
            "init", "--successor-of", world.ledger, "--origin", "example.com/attest-2027", "--ledger", next,
        ])
        #expect(created.status == 0, "\(created.stderr)")
        // A third commit, attested in the successor: line 5 of a.txt.
        try world.repo.write("a.txt", "one\nTWO\nthree\nfour\nfive\n")
        try world.git(["commit", "-q", "-am", "three"])
        #expect(try world.cairn(attest + ["--ledger", next]).status == 0)
        let logs = world.repo.path + "-logs"
        defer { try? FileManager.default.removeItem(atPath: logs) }
        for ledger in [world.ledger, next] {
            #expect(try world.cairn(["logs", "add", ledger, "--dir", logs]).status == 0)
        }
        let names = [
            URL(fileURLWithPath: world.ledger).lastPathComponent, URL(fileURLWithPath: next).lastPathComponent,
        ]

        let blame = try world.cairn(["blame", "a.txt", "--json", "--logs", logs])
        #expect(blame.status == 0, "\(blame.stderr)")
        let lines = blame.lines.map(parseJSONLine)
        #expect(lines.map { $0["log"] as? String } == [nil, names[0], names[0], names[0], names[1]], "\(blame.text)")
        // One shard alone explains only its own lines.
        let alone = try world.cairn(["blame", "a.txt", "--json", "--ledger", next]).lines.map(parseJSONLine)
        #expect(alone.filter { $0["checkpoint"] != nil }.count == 1)
        let text = try world.cairn(["blame", "a.txt", "--logs", logs]).text
        #expect(text.contains("log:" + names[1]), "\(text)")

        // audit missing: a commit any shard covers is not missing; one shard alone misses the other's.
        func missing(_ scope: [String]) throws -> [String] {
            let out = try world.cairn(["audit", "missing", "--repo", world.repo.path, "--json"] + scope)
            #expect(out.status == 1, "\(out.stderr)")
            return ((parseJSONLine(out.text)["missing"] as? [[String: Any]]) ?? []).compactMap {
                $0["subject"] as? String
            }
        }
        #expect(try missing(["--logs", logs]) == ["one"])
        #expect(try missing(["--ledger", next]) == ["two", "one"])
        #expect(try world.cairn(["audit", "missing", "--repo", ".", "--logs", logs, "--save"]).status == 64)

        // Each line's bundle is proven in its own shard, and verifies with that shard's key only.
        for (line, ledger, other) in [(2, world.ledger, next), (5, next, world.ledger)] {
            let bundle = try world.cairn(["blame", "a.txt", "--logs", logs, "--prove", String(line)])
            #expect(bundle.status == 0, "\(bundle.stderr)")
            let path = try world.repo.write("line\(line).json", bundle.text)
            #expect(try world.cairn(["verify", "bundle", "--vkey", ledger + "/ledger.vkey", path]).status == 0)
            #expect(try world.cairn(["verify", "bundle", "--vkey", other + "/ledger.vkey", path]).status == 1)
        }
    }
}
