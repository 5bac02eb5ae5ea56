import CairnCrypto
import CairnLedger
import CairnMerkle
import CairnServer
import CairnTestSupport
import CairnTileExport
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// The C2SP tlog-tiles read API: `Ledger.hashTile`/`entryBundle`, `TileRoutes`, and an independent reader (Go's
/// sumdb/tlog, Tests/Interop/tiles_verify.go) over a live socket and over a static export.
@Suite("C2SP tlog-tiles read API")
struct TileTests {
    // MARK: - Ledger API

    @Test("Tiles and bundles equal the independently computed hashes and the entries at sizes 255…65,537")
    func tileContentsAroundBoundaries() throws {
        let f = try TileLedger()
        for target in [255, 256, 257, 65_535, 65_536, 65_537] {
            try f.grow(to: target)
            try f.checkEveryTile()
        }
        // Level 1, entry 0 is MTH of leaves 0..<256; level 2, entry 0 is MTH of leaves 0..<65,536.
        #expect(try f.ledger.hashTile(level: 1, index: 0, width: 1) == f.ledger.rootHash(size: 256).bytes)
        #expect(try f.ledger.hashTile(level: 2, index: 0, width: 1) == f.ledger.rootHash(size: 65_536).bytes)
    }

    @Test("Coordinates no tile has are invalid arguments; tiles beyond the tree are sizeOutOfRange")
    func ledgerErrors() throws {
        let f = try TileLedger()
        try f.grow(to: 300)
        for (level, index, width) in [(8, 0, 1), (-1, 0, 1), (0, 0, 0), (0, 0, 257), (7, 0, 128)]
            as [(Int, UInt64, Int)]
        {
            do {
                _ = try f.ledger.hashTile(level: level, index: index, width: width)
                Issue.record("tile \(level)/\(index)/\(width) was served")
            } catch let error as LedgerError {
                #expect(error.code == .invalidArgument)
            }
        }
        for (level, index, width) in [(0, 1, 45), (0, 1, 256), (0, 2, 1), (1, 0, 2), (2, 0, 1)] as [(Int, UInt64, Int)]
        {
            do {
                _ = try f.ledger.hashTile(level: level, index: index, width: width)
                Issue.record("tile \(level)/\(index)/\(width) beyond a tree of 300 was served")
            } catch let error as LedgerError {
                #expect(error.code == .sizeOutOfRange)
                #expect(error.message.contains("beyond the current tree"), "\(error.message)")
            }
        }
        for (index, width) in [(1, 45), (2, 1)] as [(UInt64, Int)] {
            #expect(throws: LedgerError.self) { try f.ledger.entryBundle(index: index, width: width) }
        }
        #expect(throws: LedgerError.self) { try f.ledger.entryBundle(index: 0, width: 0) }
        #expect(try f.ledger.hashTile(level: 0, index: 1, width: 44).count == 44 * 32)
        #expect(try f.ledger.hashTile(level: 1, index: 0, width: 1).count == 32)
    }

    // MARK: - Routes

    @Test("Routes: full and partial tiles and bundles, 404 beyond the tree, 400 for malformed paths, cache headers")
    func routes() async throws {
        let f = try TileLedger()
        try f.grow(to: 300)
        let app = Application(router: f.router())
        try await app.test(.router) { client in
            // Full tile, and partial tiles (including a partial of the tile that is now full).
            for (path, expected) in [
                ("/tile/0/000", try f.ledger.hashTile(level: 0, index: 0, width: 256)),
                ("/tile/0/001.p/44", Array(f.leafHashBytes[256 * 32..<300 * 32])),
                ("/tile/0/000.p/5", Array(f.leafHashBytes[0..<5 * 32])),
                ("/tile/1/000.p/1", try f.ledger.rootHash(size: 256).bytes),
                ("/tile/entries/000", try MerkleEntryBundle.encode(Array(f.entries[0..<256]))),
                ("/tile/entries/001.p/44", try MerkleEntryBundle.encode(Array(f.entries[256..<300]))),
                ("/tile/entries/001.p/3", try MerkleEntryBundle.encode(Array(f.entries[256..<259]))),
            ] {
                try await client.execute(uri: path, method: .get) { response in
                    #expect(response.status == .ok, "\(path): \(String(buffer: response.body))")
                    #expect(Array(response.body.readableBytesView) == expected, "\(path)")
                    #expect(response.headers[.contentType] == "application/octet-stream")
                    #expect(response.headers[.cacheControl] == "public, max-age=31536000, immutable")
                }
            }
            // Beyond the tree (or any tree): 404, never cached.
            for path in [
                "/tile/0/001", "/tile/0/001.p/45", "/tile/0/002.p/1", "/tile/1/000", "/tile/1/000.p/2",
                "/tile/2/000.p/1",
                "/tile/entries/001", "/tile/entries/001.p/45", "/tile/8/000", "/tile/63/000",
                "/tile/0/x018/x446/x744/x073/x709/x551/615",
            ] {
                try await client.execute(uri: path, method: .get) { response in
                    #expect(response.status == .notFound, "\(path)")
                    #expect(response.headers[.cacheControl] == "no-store", "\(path)")
                }
            }
            // Malformed: 400 with the reason (or the router's 404 for shapes it does not route); never a tile.
            for path in [
                "/tile/0/0", "/tile/0//000", "/tile/0/000/", "/tile/00/000", "/tile/0/000.p/0", "/tile/0/000.p/256",
                "/tile/0/x000/000", "/tile/0/../000", "/tile/entries/../0/000", "/tile/0/%30%30%30", "/tile/data/000",
                "/tile/entries/000.p/01", "/tile/0/000.p/", "/tile/0/+00", "/tile/0/x001.p/000/1",
            ] {
                try await client.execute(uri: path, method: .get) { response in
                    #expect(
                        response.status == .badRequest || response.status == .notFound, "\(path): \(response.status)")
                    #expect(response.status != .ok)
                    if response.status == .badRequest {
                        #expect(String(buffer: response.body).hasPrefix("tile path "), "\(path)")
                        #expect(response.headers[.cacheControl] == "no-store")
                    }
                }
            }
            try await client.execute(uri: "/tile/0/0", method: .get) { response in
                #expect(response.status == .badRequest)
            }
            // The checkpoint helper for the server's /checkpoint route.
            let checkpoint = try f.ledger.checkpoint().serialized
            try await client.execute(uri: "/checkpoint", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/plain; charset=utf-8")
                #expect(response.headers[.cacheControl] == "no-cache")
                #expect(String(buffer: response.body) == checkpoint)
            }
        }
    }

    @Test("A tile that was partial (or absent) is served full once the tree grows; its partials stay served")
    func growth() async throws {
        let f = try TileLedger()
        try f.grow(to: 5)
        let app = Application(router: f.router())
        try await app.test(.router) { client in
            try await client.execute(uri: "/tile/0/000.p/5", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/tile/0/000", method: .get) { #expect($0.status == .notFound) }
            try await client.execute(uri: "/tile/entries/000", method: .get) { #expect($0.status == .notFound) }
            try f.grow(to: 256)
            try await client.execute(uri: "/tile/0/000", method: .get) { response in
                #expect(response.status == .ok)
                #expect(Array(response.body.readableBytesView) == Array(f.leafHashBytes[0..<256 * 32]))
            }
            try await client.execute(uri: "/tile/entries/000", method: .get) { response in
                #expect(response.status == .ok)
                let decoded = try MerkleEntryBundle.decode(Array(response.body.readableBytesView))
                #expect(decoded == f.entries)
            }
            try await client.execute(uri: "/tile/0/000.p/5", method: .get) { response in
                #expect(response.status == .ok)
                #expect(Array(response.body.readableBytesView) == Array(f.leafHashBytes[0..<5 * 32]))
            }
            try await client.execute(uri: "/tile/1/000.p/1", method: .get) { #expect($0.status == .ok) }
        }
    }

    @Test("A bundle holding an entry over 65,535 bytes is a 501 naming the entry; its hash tile is served")
    func oversizedEntry() async throws {
        let f = try TileLedger()
        try f.grow(to: 1)
        let big = Array("{\"big\":\"".utf8) + [UInt8](repeating: 0x61, count: 70_000) + Array("\"}".utf8)
        try f.append([big])
        try f.grow(to: 3)
        let error = #expect(throws: LedgerError.self) { try f.ledger.entryBundle(index: 0, width: 3) }
        #expect(error?.code == .entryTooLarge)
        let app = Application(router: f.router())
        try await app.test(.router) { client in
            try await client.execute(uri: "/tile/entries/000.p/3", method: .get) { response in
                #expect(response.status == .notImplemented)
                #expect(String(buffer: response.body).contains("entry 1 is 70010 bytes"))
                #expect(response.headers[.cacheControl] == "no-store")
            }
            try await client.execute(uri: "/tile/entries/000.p/1", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/tile/0/000.p/3", method: .get) { response in
                #expect(response.status == .ok)
                #expect(Array(response.body.readableBytesView) == f.leafHashBytes)
            }
        }
    }

    // MARK: - Interop

    @Test("Go's sumdb/tlog reads the log through the tile routes on a live socket and through the static export")
    func goReadsTiles() async throws {
        guard let go = GoToolchain.binaryOrSkip("Go tiles interop test") else { return }
        // The spec's example size: 273 full level-0 tiles + 1 partial of 112, 1 full + 1 partial (17) at level 1,
        // 1 partial (1) at level 2.
        let f = try TileLedger()
        var sizes: [UInt64] = []
        for target in [1, 255, 256, 257, 1000, 65_535, 65_536, 65_537, 69_999, 70_000] {
            try f.grow(to: target)
            sizes.append(UInt64(target))
        }
        let out = try TileDirectory()
        let vkey = try out.write("vkey", Array((f.ledger.verifierKey.description + "\n").utf8))
        let entries = try out.write(
            "entries.jsonl",
            Array(f.entries.map { String(decoding: $0, as: UTF8.self) }.joined(separator: "\n").utf8) + [0x0a])
        var expect = ""
        var counts = (roots: 0, inclusions: 0, consistencies: 0)
        func b64(_ hashes: [SHA256Digest]) -> String { hashes.map(\.base64).joined(separator: ",") }
        for size in sizes {
            expect += "root \(size) \(try f.ledger.rootHash(size: size).base64)\n"
            counts.roots += 1
        }
        for size in [1, 256, 257, 65_537, 70_000] as [UInt64] {
            for index in [0, 1, 255, 256, 257, 65_535, 65_536, 69_999] as [UInt64] where index < size {
                let proof = try f.ledger.inclusionProof(index: index, size: size)
                expect += "inclusion \(index) \(size) \(b64(proof.hashes))\n"
                counts.inclusions += 1
            }
        }
        for (old, new) in [
            (1, 70_000), (255, 256), (256, 257), (257, 65_537), (1000, 69_999), (65_536, 70_000), (69_999, 70_000),
        ] as [(UInt64, UInt64)] {
            expect +=
                "consistency \(old) \(new) \(b64(try f.ledger.consistencyProof(oldSize: old, size: new).hashes))\n"
            counts.consistencies += 1
        }
        let expectFile = try out.write("expect.txt", Array(expect.utf8))

        let export = out.file("export")
        let summary = try TileExporter.export(f.ledger, to: export)
        #expect(summary.treeSize == 70_000 && summary.tilesWritten == 273 + 1 && summary.partialTilesWritten == 3)
        #expect(summary.bundlesWritten == 273 && summary.partialBundlesWritten == 1)

        let app = Application(router: f.router())
        let (result, port) = try await app.test(.live) { client -> (TileInterop.Output, Int) in
            let port = try #require(client.port)
            let output = try await TileInterop.run(
                go,
                [
                    "run", TileInterop.repositoryRoot.appendingPathComponent("Tests/Interop/tiles_verify.go").path,
                    "-vkey", vkey, "-expect", expectFile, "-entries", entries, "-http-checks", "-old-trees",
                    "http://localhost:\(port)/", export,
                ],
                environment: GoToolchain.environment(cache: out.file("gocache")))
            return (output, port)
        }
        #expect(result.status == 0, "Go tiles reader failed:\n\(result.stderr)\n\(result.stdout)")
        let proven =
            "size 70000, root verified against the signed checkpoint; 70000 entries in 274 bundles; 277 tiles checked; "
            + "\(counts.roots) roots, \(counts.inclusions) inclusion and \(counts.consistencies) consistency proofs "
            + "equal to Cairn's"
        #expect(result.stdout.contains("tiles-verify: ok: http://localhost:\(port)/: " + proven), "\(result.stdout)")
        #expect(result.stdout.contains("tiles-verify: ok: \(export): " + proven), "\(result.stdout)")
        print(result.stdout)

        // The reader is not vacuous: one flipped bit in a level-0 tile that Go's TileHashReader would not notice
        // (several of the tree's subtree hashes share a tile) is caught by its own tile checks.
        let tampered = out.file("tampered")
        try FileManager.default.copyItem(atPath: export, toPath: tampered)
        let tile = tampered + "/tile/0/001"
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: tile)))
        bytes[100] ^= 1
        try Data(bytes).write(to: URL(fileURLWithPath: tile))
        let caught = try await TileInterop.run(
            go,
            [
                "run", TileInterop.repositoryRoot.appendingPathComponent("Tests/Interop/tiles_verify.go").path,
                "-vkey", vkey, tampered,
            ],
            environment: GoToolchain.environment(cache: out.file("gocache")))
        #expect(caught.status == 1 && caught.stderr.contains("tiles-verify: FAIL: "), "\(caught.stderr)")
    }
}

// MARK: - Fixtures

/// A generic-profile ledger in a temporary directory, grown with small distinct entries `{"n":i}`, with the
/// expected leaf hashes computed here (SHA-256 of 0x00 ‖ entry), not read from the ledger.
final class TileLedger: @unchecked Sendable {
    let dir: TileDirectory
    let ledger: Ledger
    private(set) var entries: [[UInt8]] = []
    private(set) var leafHashes: [SHA256Digest] = []
    /// The complete 256-leaf subtree hashes (Merkle level 8), computed from `leafHashes`.
    private(set) var level8: [SHA256Digest] = []

    init() throws {
        dir = try TileDirectory()
        var options = Ledger.CreateOptions()
        options.profile = .generic
        ledger = try Ledger.create(at: dir.file("ledger"), origin: "example.com/cairn-tiles", options: options)
    }

    var leafHashBytes: [UInt8] { leafHashes.flatMap(\.bytes) }

    func append(_ batch: [[UInt8]]) throws {
        _ = try ledger.append(batch.map { PreparedEntry(canonicalBytes: $0) })
        for entry in batch {
            entries.append(entry)
            leafHashes.append(SHA256.hash([0x00] + entry))
            if leafHashes.count % 256 == 0 {
                level8.append(Self.perfectRoot(leafHashes[(leafHashes.count - 256)...]))
            }
        }
    }

    func grow(to size: Int) throws {
        while entries.count < size {
            let n = min(size - entries.count, 8192)
            try append((entries.count..<entries.count + n).map { Array("{\"n\":\($0)}".utf8) })
        }
        #expect(try ledger.treeSize() == UInt64(size))
    }

    /// The root of a perfect subtree from its 2^k leaves, by pairwise RFC 6962 node hashes.
    static func perfectRoot(_ hashes: ArraySlice<SHA256Digest>) -> SHA256Digest {
        var level = Array(hashes)
        precondition(level.count.nonzeroBitCount == 1)
        while level.count > 1 {
            level = stride(from: 0, to: level.count, by: 2).map {
                SHA256.hash([0x01] + level[$0].bytes + level[$0 + 1].bytes)
            }
        }
        return level[0]
    }

    /// Every tile and bundle of the current tree equals what is expected; the next ones are beyond the tree.
    func checkEveryTile() throws {
        let size = UInt64(entries.count)
        let expectedLevels: [[SHA256Digest]] = [
            leafHashes, level8, level8.count >= 256 ? [Self.perfectRoot(level8[0..<256])] : [],
        ]
        for level in 0..<3 {
            let (full, partial) = MerkleTile.tiles(treeSize: size, level: level)
            var tiles = (0..<full).map { MerkleTile(level: level, index: $0)! }
            if let partial { tiles.append(partial) }
            for tile in tiles {
                let first = Int(tile.index) * 256
                let expected = expectedLevels[level][first..<first + tile.width].flatMap(\.bytes)
                #expect(
                    try ledger.hashTile(level: level, index: tile.index, width: tile.width) == expected,
                    "\(tile.path) at size \(size)")
            }
            // One more hash at this level is beyond the tree.
            let next = MerkleTile(level: level, index: full, width: (partial?.width ?? 0) + 1)!
            #expect(throws: LedgerError.self, "\(next.path) at size \(size)") { try ledger.hashTile(next) }
        }
        let (full, partial) = MerkleEntryBundle.bundles(treeSize: size)
        var bundles = (0..<full).map { MerkleEntryBundle(index: $0)! }
        if let partial { bundles.append(partial) }
        for bundle in bundles {
            let bytes = try ledger.entryBundle(index: bundle.index, width: bundle.width)
            let range = Int(bundle.leafIndexes.lowerBound)..<Int(bundle.leafIndexes.upperBound)
            #expect(try MerkleEntryBundle.decode(bytes) == Array(entries[range]), "\(bundle.path) at size \(size)")
        }
        #expect(throws: LedgerError.self) {
            try ledger.entryBundle(index: full, width: (partial?.width ?? 0) + 1)
        }
    }

    /// A router with the tile routes and a `/checkpoint` route built with `TileRoutes.checkpointResponse`.
    func router() -> Router<BasicRequestContext> {
        let router = Router()
        TileRoutes(ledger: ledger).register(on: router)
        let ledger = self.ledger
        router.get("/checkpoint") { _, _ in TileRoutes.checkpointResponse(try ledger.checkpoint()) }
        return router
    }
}

/// A fresh temporary directory, removed when the value is dropped.
final class TileDirectory: @unchecked Sendable {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "cairn-tiles-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> String { path + "/" + name }

    func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        let p = file(name)
        try Data(bytes).write(to: URL(fileURLWithPath: p))
        return p
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

enum TileInterop {
    static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
    }

    struct Output: Sendable {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    /// Runs a program without blocking a thread of the cooperative pool (the live server's handlers need them):
    /// the shared process runner, on a thread of its own. (Not Foundation's `Process`: on Linux it leaves each
    /// child's `Process`, termination handler and file handles in a reference cycle that is never freed.)
    static func run(_ program: String, _ args: [String], environment: [String: String]) async throws -> Output {
        let result = try await offThePool {
            try ProcessRunner.run(
                program, args, environment: environment, standardInput: .file("/dev/null", flags: O_RDONLY))
        }
        return Output(status: result.status, stdout: result.text, stderr: result.stderr)
    }
}
