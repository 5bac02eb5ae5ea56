import CairnTestSupport
import Foundation
import Testing

/// A local S3-compatible store: moto's server mode behind the fault-injecting proxy of Tests/Interop/s3_server.py,
/// with one bucket anyone may read. Stopped when released.
final class LocalS3: @unchecked Sendable {
    let child: ChildServer
    /// The proxy, where `cairn export tiles --to` sends its requests.
    let endpoint: String
    /// moto itself: anonymous reads of the bucket, path style.
    let direct: String
    let bucket: String

    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Interop/s3_server.py").path

    /// A local S3 server, or nil after printing why the test is skipped (recorded as a failure under
    /// CAIRN_REQUIRE_INTEROP=1).
    static func startOrSkip(_ test: String, bucket: String = "cairn-tiles") throws -> LocalS3? {
        let probe = try? CLI.exec("/usr/bin/env", ["python3", "-c", "import moto.server, boto3, flask"])
        guard probe?.status == 0 else {
            let message = "\(test) skipped: install python3 and moto's server mode (pip install 'moto[server]')"
            if ProcessInfo.processInfo.environment["CAIRN_REQUIRE_INTEROP"] == "1" {
                Issue.record(Comment(rawValue: message + " — CAIRN_REQUIRE_INTEROP=1 requires it"))
            }
            print(message)
            return nil
        }
        return try LocalS3(bucket: bucket)
    }

    init(bucket: String) throws {
        self.bucket = bucket
        child = try ChildServer(
            ["python3", Self.script, bucket],
            failure: LedgerFixture.FixtureError(message: "the local S3 server did not start"))
        let ports = child.firstLine.split(whereSeparator: \.isWhitespace).compactMap { Int($0) }
        guard ports.count == 2 else { throw LedgerFixture.FixtureError(message: "the local S3 server did not start") }
        endpoint = "http://127.0.0.1:\(ports[0])"
        direct = "http://127.0.0.1:\(ports[1])"
    }

    /// An anonymous GET straight from moto: status and body.
    func get(_ path: String) throws -> (status: Int, body: [UInt8], headers: String) {
        let file = NSTemporaryDirectory() + "cairn-s3-get-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: file) }
        let result = try CLI.exec(
            "/usr/bin/env", ["curl", "-s", "-D", "-", "-o", file, "-w", "%{http_code}", direct + "/" + path])
        // The status follows the headers' last line break ("\r\n" is one Character: split the bytes).
        let status = Int(String(decoding: result.stdout.split(separator: 0x0A).last ?? [], as: UTF8.self)) ?? 0
        let body = (try? Data(contentsOf: URL(fileURLWithPath: file))).map { Array($0) } ?? []
        return (status, body, result.text)
    }

    /// The requests the proxy forwarded so far: method and path.
    func log() throws -> [(method: String, path: String)] {
        let result = try CLI.exec("/usr/bin/env", ["curl", "-s", endpoint + "/__log"])
        return result.lines.map { line in
            let parts = line.split(separator: " ", maxSplits: 1).map(String.init)
            return (parts[0], parts.count > 1 ? parts[1] : "")
        }
    }

    /// Makes every request wait `seconds` before it is forwarded (0: none).
    func stall(_ seconds: Double) throws {
        let result = try CLI.exec("/usr/bin/env", ["curl", "-s", "-X", "POST", endpoint + "/__fault?stall=\(seconds)"])
        #expect(result.text == "ok\n")
    }

    /// Makes every request answer 403 AccessDenied (or stops doing so).
    func deny(_ on: Bool) throws {
        let result = try CLI.exec(
            "/usr/bin/env", ["curl", "-s", "-X", "POST", endpoint + "/__fault?deny=\(on ? 1 : 0)"])
        #expect(result.text == "ok\n")
    }

    /// Makes every PutObject after the next `count` answer 503 SlowDown (-1: none).
    func failPuts(after count: Int) throws {
        let result = try CLI.exec(
            "/usr/bin/env", ["curl", "-s", "-X", "POST", endpoint + "/__fault?fail-puts-after=\(count)"])
        #expect(result.text == "ok\n")
    }
}

/// `cairn export tiles --to s3://BUCKET/PREFIX` against a local S3-compatible server (moto): the same objects as
/// the directory export, checkpoint last, idempotent, resumable, read back by Go's sumdb/tlog over HTTP.
@Suite("cairn export tiles --to s3://", .timeLimit(.minutes(5)))
struct ObjectStoreExportTests {
    static let credentials = ["AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_REGION": "us-east-1"]

    static func upload(
        _ f: LedgerFixture, _ s3: LocalS3, prefix: String = "log", _ extra: [String] = []
    ) throws
        -> CLI.Output
    {
        try f.cli.run(
            ["export", "tiles", "--to", "s3://\(s3.bucket)/\(prefix)", "--endpoint", s3.endpoint, "--json"] + extra,
            environment: credentials)
    }

    static func summary(_ output: CLI.Output) -> [String: Any] { parseJSONLine(output.lines.last ?? "") }
    static func int(_ object: [String: Any], _ key: String) -> Int { (object[key] as? NSNumber)?.intValue ?? -1 }

    /// The keys now in the bucket under `prefix`, from the proxy's log: uploaded and not deleted since.
    static func stored(_ s3: LocalS3, prefix: String = "log") throws -> Set<String> {
        var keys: Set<String> = []
        let start = "/\(s3.bucket)/\(prefix)/"
        for (method, path) in try s3.log() where path.hasPrefix(start) {
            let key = String(path.dropFirst(start.count))
            if method == "PUT" { keys.insert(key) }
            if method == "DELETE" { keys.remove(key) }
        }
        return keys
    }

    /// Every object under the prefix equals the file of the same path in `site`, and there is nothing else — except,
    /// with `stalePartials`, partials of tiles now full that a failed round uploaded (specs/tiles.md section 7.1).
    static func sameAsDirectory(_ s3: LocalS3, _ site: String, stalePartials: Bool = false) throws {
        let files = Set(try ExportTilesTests.listing(site).keys)
        let objects = try stored(s3)
        if stalePartials {
            #expect(objects.isSuperset(of: files))
            // An extra object is a narrower partial of a tile the directory has (full, or a wider partial): its bytes
            // are a prefix of that file's.
            for extra in objects.subtracting(files) {
                let base = extra.components(separatedBy: ".p/").first ?? ""
                let local = files.first { $0 == base || $0.hasPrefix(base + ".p/") }
                #expect(extra.contains(".p/") && local != nil, "\(extra) is not a partial of a published tile")
                guard let local else { continue }
                let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: site + "/" + local)))
                let object = try s3.get("\(s3.bucket)/log/\(extra)").body
                #expect(!object.isEmpty && bytes.starts(with: object), "\(extra) is not a prefix of \(local)")
            }
        } else {
            #expect(objects == files)
        }
        for path in files {
            let object = try s3.get("\(s3.bucket)/log/\(path)")
            #expect(object.status == 200, "\(path): \(object.status)")
            #expect(object.body == Array(try Data(contentsOf: URL(fileURLWithPath: site + "/" + path))), "\(path)")
        }
    }

    /// The run's PUTs, in order, end with the checkpoint — its only one, unless `rounds` (a server may publish an
    /// intermediate size first).
    static func checkpointLast(_ log: ArraySlice<(method: String, path: String)>, rounds: Bool = false) {
        let puts = log.filter { $0.method == "PUT" }.map(\.path)
        #expect(puts.last?.hasSuffix("/log/checkpoint") == true, "\(puts)")
        if !rounds { #expect(puts.filter { $0.hasSuffix("/checkpoint") }.count == 1, "\(puts)") }
    }

    @Test("The bucket gets the directory export's files, checkpoint last; re-runs upload only what changed")
    func uploads() throws {
        guard let s3 = try LocalS3.startOrSkip("S3 export test") else { return }
        let f = try LedgerFixture()
        try f.cli.ok("append", stdin: ExportTilesTests.records(0..<600))
        let site = f.dir.file("site")

        let first = try Self.upload(f, s3)
        #expect(first.status == 0, "\(first.stderr)")
        let one = Self.summary(first)
        #expect(Self.int(one, "tree_size") == 600 && one["previous_size"] is NSNull)
        #expect(Self.int(one, "uploaded") == 8 && Self.int(one, "skipped") == 0, "\(one)")
        #expect(one["checkpoint_uploaded"] as? Bool == true && Self.int(one, "bytes") > 2 * 8192)
        #expect(first.stderr.contains("s3://cairn-tiles/log: 8/8 objects, 8 uploaded"), "\(first.stderr)")
        try f.cli.ok("export", "tiles", site)
        try Self.sameAsDirectory(s3, site)
        Self.checkpointLast(try s3.log()[...])

        // Headers as specs/tiles.md section 6.
        let tile = try s3.get("\(s3.bucket)/log/tile/0/000").headers.lowercased()
        #expect(tile.contains("content-type: application/octet-stream"), "\(tile)")
        #expect(tile.contains("cache-control: public, max-age=31536000, immutable"), "\(tile)")
        let checkpoint = try s3.get("\(s3.bucket)/log/checkpoint").headers.lowercased()
        #expect(checkpoint.contains("content-type: text/plain; charset=utf-8") && checkpoint.contains("no-cache"))

        // Again, unchanged: nothing is uploaded.
        let before = try s3.log().count
        let second = Self.summary(try Self.upload(f, s3))
        #expect(Self.int(second, "uploaded") == 0 && Self.int(second, "skipped") == 3, "\(second)")
        #expect(second["checkpoint_uploaded"] as? Bool == false && Self.int(second, "bytes") == 0)
        #expect(try s3.log()[before...].allSatisfy { $0.method != "PUT" })

        // Grown to 1,100: the new full tiles, the new partials, the checkpoint; the partials of tile 2 deleted.
        try f.cli.ok("append", stdin: ExportTilesTests.records(600..<1100))
        let mark = try s3.log().count
        let third = Self.summary(try Self.upload(f, s3))
        #expect(Self.int(third, "previous_size") == 600 && Self.int(third, "tree_size") == 1100)
        #expect(Self.int(third, "uploaded") == 8 && Self.int(third, "stale_partials_deleted") == 2, "\(third)")
        Self.checkpointLast(try s3.log()[mark...])
        try f.cli.ok("export", "tiles", site)
        try Self.sameAsDirectory(s3, site)

        // Go's sumdb/tlog reads the log back from the bucket over HTTP, with the header checks.
        let entries = try f.dir.write("entries", ExportTilesTests.records(0..<1100) + "\n")
        if let go = GoToolchain.binaryOrSkip("Go tiles reader on S3") {
            let url = "\(s3.direct)/\(s3.bucket)/log/"
            let verified = try CLI.exec(
                go,
                [
                    "run", LocalS3.script.replacingOccurrences(of: "s3_server.py", with: "tiles_verify.go"), "-vkey",
                    f.vkeyFile, "-entries", entries, "-http-checks", url,
                ],
                environment: GoToolchain.environment(cache: f.dir.file("gocache")))
            #expect(verified.status == 0, "\(verified.stderr)")
            #expect(verified.text.contains("tiles-verify: ok: \(url): size 1100, root verified"), "\(verified.text)")
        }
    }

    @Test("An upload that fails midway exits non-zero naming the object and S3's error; the re-run completes it")
    func resumes() throws {
        guard let s3 = try LocalS3.startOrSkip("S3 resume test") else { return }
        let f = try LedgerFixture()
        try f.cli.ok("append", stdin: ExportTilesTests.records(0..<1100))
        try s3.failPuts(after: 3)
        let failed = try Self.upload(f, s3)
        #expect(failed.status == 75, "\(failed.stderr)")
        // Uploads run 8 at a time, so which tile met the fourth PUT varies; the message names it.
        let failure = try #require(failed.stderr.split(separator: "\n").last { $0.hasPrefix("error: ") })
        #expect(failure.hasPrefix("error: cannot upload s3://cairn-tiles/log/tile/"), "\(failure)")
        #expect(failure.contains(": HTTP 503 SlowDown: "), "\(failure)")
        // The store's message is shown escaped, never as raw control characters.
        #expect(failed.stderr.contains("Please reduce your request rate.\\u{1B}[2K"), "\(failed.stderr)")
        #expect(!failed.stderr.contains("\u{1B}"))
        #expect(try s3.get("\(s3.bucket)/log/checkpoint").status == 404)
        #expect(try Self.stored(s3).count == 3)

        try s3.failPuts(after: -1)
        let mark = try s3.log().count
        let resumed = try Self.upload(f, s3)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        let summary = Self.summary(resumed)
        // 1,100 leaves: 4 full + 1 partial tiles at level 0, 1 partial at level 1, 4 full + 1 partial bundles.
        #expect(Self.int(summary, "skipped") == 3 && Self.int(summary, "uploaded") == 9, "\(summary)")
        Self.checkpointLast(try s3.log()[mark...])
        let site = f.dir.file("site")
        try f.cli.ok("export", "tiles", site)
        try Self.sameAsDirectory(s3, site)
    }

    @Test(
        "A bundle with an entry over 65,535 bytes is not uploaded, and the partials before it stay, as in a directory")
    func oversizedEntry() throws {
        guard let s3 = try LocalS3.startOrSkip("S3 oversized entry test") else { return }
        let f = try LedgerFixture()
        try f.cli.ok("append", stdin: "{\"n\":0}")
        #expect(try Self.upload(f, s3).status == 0)
        let big = "{\"big\":\"" + String(repeating: "a", count: 70_000) + "\"}"
        try f.cli.ok("append", stdin: big + "\n" + ExportTilesTests.records(2..<300))
        let result = try Self.upload(f, s3)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(
            result.stderr.contains("warning: tile/entries/000 not uploaded: entry 1 is 70010 bytes"), "\(result.stderr)"
        )
        let summary = Self.summary(result)
        let paths = (summary["unservable_entry_bundles"] as? [[String: Any]] ?? []).compactMap { $0["path"] as? String }
        #expect(paths == ["tile/entries/000"])
        // The partial bundle of the first checkpoint still serves it; the hash partial of a now full tile is gone.
        #expect(try s3.get("\(s3.bucket)/log/tile/entries/000.p/1").status == 200)
        #expect(try s3.get("\(s3.bucket)/log/tile/0/000.p/1").status == 404)
        let site = f.dir.file("site")
        try f.cli.run("export", "tiles", site, "--json")
        #expect(
            try Self.stored(s3).subtracting(["tile/entries/000.p/1"]) == Set(try ExportTilesTests.listing(site).keys))
    }

    @Test("Unreachable stores, missing buckets and credentials, and another log's prefix: clear errors, no upload")
    func failures() throws {
        let f = try LedgerFixture()
        try f.cli.ok("append", stdin: ExportTilesTests.records(0..<10))
        // No credentials: usage error, before any request.
        var result = try f.cli.run(
            ["export", "tiles", "--to", "s3://cairn-tiles/log", "--endpoint", "http://127.0.0.1:1"],
            environment: ["AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""])
        #expect(result.status == 64 && result.stderr.contains("AWS_ACCESS_KEY_ID"), "\(result.stderr)")
        for (arguments, message) in [
            (["--to", "s3://Bad_Bucket/x"], "is not an S3 bucket name"),
            (["--to", "file:///tmp/x"], "expected s3://BUCKET/PREFIX"),
            (["--to", "s3://cairn-tiles/x", "--endpoint", "ftp://x"], "--endpoint"),
            (["--to", "s3://cairn-tiles/x", "--region", "Not A Region"], "is not a region name"),
            (["--to", "s3://cairn-tiles/x", f.dir.file("site")], "exactly one"),
            ([f.dir.file("site"), "--region", "us-east-1"], "go with --to"),
            (["--to", "s3://cairn-tiles/x", "--timeout", "0"], "--timeout"),
        ] {
            result = try f.cli.run(["export", "tiles"] + arguments, environment: Self.credentials)
            #expect(result.status == 64 && result.stderr.contains(message), "\(arguments): \(result.stderr)")
        }
        // Connection refused: I/O error naming the object.
        var listener = sockaddr_in()
        let closedPort = try Self.closedPort(&listener)
        result = try f.cli.run(
            ["export", "tiles", "--to", "s3://cairn-tiles/log", "--endpoint", "http://127.0.0.1:\(closedPort)"],
            environment: Self.credentials)
        #expect(result.status == 74, "\(result.stderr)")
        #expect(result.stderr.contains("cannot read s3://cairn-tiles/log/checkpoint"), "\(result.stderr)")

        guard let s3 = try LocalS3.startOrSkip("S3 failure test") else { return }
        result = try f.cli.run(
            ["export", "tiles", "--to", "s3://no-such-bucket/log", "--endpoint", s3.endpoint],
            environment: Self.credentials)
        #expect(result.status == 74 && result.stderr.contains("NoSuchBucket"), "\(result.stderr)")
        #expect(result.stderr.contains("s3://no-such-bucket/log/"), "\(result.stderr)")

        // A store that does not answer in time: exit 74 after the retries, naming the object.
        try s3.stall(3)
        let started = ContinuousClock.now
        result = try f.cli.run(
            ["export", "tiles", "--to", "s3://cairn-tiles/log", "--endpoint", s3.endpoint, "--timeout", "0.5"],
            environment: Self.credentials)
        #expect(result.status == 74, "\(result.stderr)")
        #expect(result.stderr.contains("cannot read s3://cairn-tiles/log/checkpoint: "), "\(result.stderr)")
        #expect(result.stderr.contains("no complete answer within 500 ms"), "\(result.stderr)")
        #expect(ContinuousClock.now - started < .seconds(10))
        try s3.stall(0)

        // Credentials the store refuses: exit 77, with S3's code.
        try s3.deny(true)
        result = try Self.upload(f, s3)
        #expect(result.status == 77, "\(result.stderr)")
        #expect(
            result.stderr.contains("cannot read s3://cairn-tiles/log/checkpoint: HTTP 403 AccessDenied: Access Denied"),
            "\(result.stderr)")
        try s3.deny(false)

        // Another log's export under the prefix is refused, nothing uploaded.
        #expect(try Self.upload(f, s3).status == 0)
        let other = try LedgerFixture(origin: "example.com/other")
        try other.cli.ok("append", stdin: ExportTilesTests.records(0..<20))
        let mark = try s3.log().count
        result = try Self.upload(other, s3)
        #expect(result.status == 73 && result.stderr.contains("s3://cairn-tiles/log/checkpoint"), "\(result.stderr)")
        #expect(try s3.log()[mark...].allSatisfy { $0.method != "PUT" })
    }

    @Test("cairn serve with publish_tiles publishes as the log grows, checkpoint last; a failing store is retried")
    func servePublishes() throws {
        guard let s3 = try LocalS3.startOrSkip("S3 publishing from cairn serve") else { return }
        let f = try LedgerFixture()
        try f.cli.ok("append", stdin: ExportTilesTests.records(0..<300))
        let config = try f.dir.write(
            "server.json",
            #"{"publish_tiles": {"to": "s3://cairn-tiles/log", "endpoint": "\#(s3.endpoint)", "#
                + #""interval_seconds": 0.2, "max_backoff_seconds": 0.4}}"#)
        let server = try ServeCLITests.Server(
            ledger: f.cli.ledger, arguments: ["--config", config], stderrPath: f.dir.file("serve.log"),
            environment: Self.credentials)
        defer { if server.process.isRunning { _ = server.terminate() } }
        func published() throws -> [UInt8] { try s3.get("\(s3.bucket)/log/checkpoint").body }
        let first = try f.cli.ok("checkpoint").stdout
        try pollBlocking("the checkpoint of 300 in the bucket", every: 0.1) { try published() == first }

        // The store fails: appends go on, the bucket keeps the old checkpoint, the server retries.
        try s3.failPuts(after: 2)
        try f.cli.ok("append", stdin: ExportTilesTests.records(300..<700))
        try pollBlocking("a logged publishing failure", every: 0.1) {
            server.log.contains("tile publishing failed") && server.log.contains("SlowDown")
        }
        #expect(try published() == first)
        try f.cli.ok("append", stdin: ExportTilesTests.records(700..<800))

        // The store recovers: the next attempt publishes everything, the checkpoint last.
        let mark = try s3.log().count
        try s3.failPuts(after: -1)
        let current = try f.cli.ok("checkpoint").stdout
        try pollBlocking("the checkpoint of 800 in the bucket", every: 0.1) { try published() == current }
        Self.checkpointLast(try s3.log()[mark...], rounds: true)
        try f.cli.ok("export", "tiles", f.dir.file("site"))
        try Self.sameAsDirectory(s3, f.dir.file("site"), stalePartials: true)
        #expect(server.log.contains("tiles published"), "\(server.log)")
        #expect(server.terminate() == 0, "\(server.log)")
    }

    @Test("cairn serve refuses to start with an unusable publish_tiles")
    func serveRefusesBadPublishing() throws {
        let f = try LedgerFixture()
        let result = try f.cli.run(
            ["serve", "--listen", "127.0.0.1:0", "--publish-tiles", "s3://cairn-tiles/log"],
            environment: ["AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""])
        #expect(result.status == 64 && result.stderr.contains("AWS_ACCESS_KEY_ID"), "\(result.stderr)")
        let config = try f.dir.write("server.json", #"{"publish_tiles": {"to": "s3://x"}}"#)
        let bad = try f.cli.run(
            ["serve", "--listen", "127.0.0.1:0", "--config", config], environment: Self.credentials)
        #expect(bad.status == 64 && bad.stderr.contains("is not an S3 bucket name"), "\(bad.stderr)")
    }

    /// A local TCP port nothing listens on (bound, then closed).
    static func closedPort(_ address: inout sockaddr_in) throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard bound else { throw LedgerFixture.FixtureError(message: "cannot bind a port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
