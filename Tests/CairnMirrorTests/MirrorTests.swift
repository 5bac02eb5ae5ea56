import CairnCrypto
import CairnMerkle
import CairnNote
import Foundation
import Testing

@testable import CairnMirror

/// `Mirror` rounds against an in-memory log: what is fetched and written, and every refusal.
@Suite("Mirror")
struct MirrorTests {
    /// The files a `cairn export tiles` of `log` at its current size holds (checkpoint and every tile and bundle),
    /// computed from the log: what the mirror directory must hold besides .cairn-mirror/.
    static func expectedFiles(_ log: FakeLog, keepingPartialsOf sizes: [UInt64] = []) -> [String: [UInt8]] {
        var out: [String: [UInt8]] = ["checkpoint": Array(log.checkpoint().serialized.utf8)]
        let size = log.size
        for level in 0..<8 {
            for index in 0..<TileTree.fullTileCount(level: level, treeSize: size) {
                out[MerkleTile(level: level, index: index)!.path] = log.tileBytes(
                    level: level, index: index, width: 256)
                if level == 0 { out[MerkleEntryBundle(index: index)!.path] = log.bundleBytes(index: index, width: 256) }
            }
        }
        // The partials of this size, and those of earlier published sizes whose tile is not full yet.
        for published in sizes + [size] {
            for level in 0..<8 {
                let tile = TileCoordinate(
                    level: level, index: TileTree.fullTileCount(level: level, treeSize: published))
                guard let width = TileTree.width(of: tile, treeSize: published), width < 256,
                    TileTree.width(of: tile, treeSize: size) != 256
                else { continue }
                out[MerkleTile(level: level, index: tile.index, width: width)!.path] =
                    log.tileBytes(level: level, index: tile.index, width: width)
                if level == 0 {
                    out[MerkleEntryBundle(index: tile.index, width: width)!.path] =
                        log.bundleBytes(index: tile.index, width: width)
                }
            }
        }
        return out
    }

    /// The mirror directory's files outside .cairn-mirror/.
    static func served(_ directory: String) -> [String: [UInt8]] {
        files(directory).filter { !$0.key.hasPrefix(".cairn-mirror") }
    }

    @Test("A new mirror needs --vkey; the first round copies and verifies everything and pins the key")
    func firstRound() async throws {
        let scratch = try Scratch()
        let log = FakeLog(size: 600)
        let directory = scratch.file("mirror")
        let noKey = try Mirror(directory: directory, source: log, vkey: nil)
        let refused = try await #require(throws: MirrorError.self) { try await noKey.round() }
        #expect(refused.code == .usage && refused.message.contains("--vkey"))
        noKey.close()

        let mirror = try Mirror(directory: directory, source: log, vkey: Keys.logVKey)
        let summary = try await mirror.round()
        #expect(
            summary.treeSize == 600 && summary.previousSize == nil && summary.keyPinned && summary.checkpointUpdated)
        #expect(summary.tilesFetched == 4 && summary.bundlesFetched == 3)
        #expect(Self.served(directory) == Self.expectedFiles(log))
        #expect(
            String(decoding: files(directory)[".cairn-mirror/log.vkey"] ?? [], as: UTF8.self)
                == Keys.logVKey.description + "\n")
        let state = try #require(try mirror.loadState())
        #expect(state.checkpoint == log.checkpoint().serialized && state.pending == nil)
        #expect(state.origin == Keys.origin)
        mirror.close()

        // Later rounds use the pinned key; another key is another log.
        let again = try Mirror(directory: directory, source: log, vkey: nil)
        let unchanged = try await again.round()
        #expect(unchanged.previousSize == 600 && unchanged.treeSize == 600 && unchanged.filesWritten == 0)
        again.close()
        let other = try Mirror(
            directory: directory, source: log,
            vkey: try NoteVerifierKey(name: Keys.origin, ed25519: Keys.impostor.publicKey))
        let otherLog = try await #require(throws: MirrorError.self) { try await other.round() }
        #expect(otherLog.code == .otherLog)
        other.close()

        // A directory with other files in it is not a mirror.
        let busy = scratch.file("busy")
        try FileManager.default.createDirectory(atPath: busy, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: busy + "/index.html", contents: Data())
        #expect(throws: MirrorError.self) { try Mirror(directory: busy, source: log, vkey: Keys.logVKey) }
    }

    @Test("After growth, a round checks consistency from the tiles and fetches only the new tiles")
    func incremental() async throws {
        let scratch = try Scratch()
        let log = FakeLog(size: 600)
        let directory = scratch.file("mirror")
        let mirror = try Mirror(directory: directory, source: log, vkey: Keys.logVKey)
        defer { mirror.close() }
        _ = try await mirror.round()
        log.append(500)
        log.resetRequests()
        let summary = try await mirror.round()
        #expect(summary.previousSize == 600 && summary.treeSize == 1100 && summary.consistentWith == [600])
        // New: the right edge (0/004.p/76, 1/000.p/4), full tiles 0/002 and 0/003, and their bundles.
        #expect(
            Set(log.requests) == [
                "checkpoint", "tile/0/004.p/76", "tile/1/000.p/4", "tile/0/002", "tile/0/003", "tile/entries/002",
                "tile/entries/003", "tile/entries/004.p/76",
            ], "\(log.requests)")
        #expect(log.requests.count == 8, "a tile was fetched twice: \(log.requests)")
        #expect(summary.stalePartialsRemoved == 2)  // 0/002.p/88 and entries/002.p/88
        // The partial of level 1 that served size 600 stays (readers of that checkpoint need it).
        #expect(Self.served(directory) == Self.expectedFiles(log, keepingPartialsOf: [600]))

        // The log grows past a level-1 tile: 65,536 + 3 entries.
        log.append(65_539 - 1100)
        let big = try await mirror.round()
        #expect(big.treeSize == 65_539 && big.consistentWith == [1100])
        #expect(Self.served(directory)["tile/1/000"] == log.tileBytes(level: 1, index: 0, width: 256))
        #expect(Self.served(directory)["tile/2/000.p/1"] == log.tileBytes(level: 2, index: 0, width: 1))
        #expect(Self.served(directory)["tile/1/000.p/4"] == nil)
    }

    @Test("A fork (same key, other entries) is refused with evidence, and the directory is left as it was")
    func fork() async throws {
        let scratch = try Scratch()
        let log = FakeLog(tag: "a", size: 300)
        let directory = scratch.file("mirror")
        let mirror = try Mirror(directory: directory, source: log, vkey: Keys.logVKey)
        defer { mirror.close() }
        _ = try await mirror.round()
        let before = files(directory)

        // A log with the same key whose first 299 entries are the same: a fork from size 299 on.
        let fork = ForkedLog(prefix: log, prefixSize: 299, size: 700)
        mirror.close()
        let second = try Mirror(directory: directory, source: fork, vkey: nil)
        defer { second.close() }
        let error = try await #require(throws: MirrorError.self) { try await second.round() }
        #expect(error.code == .inconsistent, "\(error)")
        #expect(error.message.contains("at size 300, not the earlier checkpoint's"), "\(error.message)")
        let evidence = try #require(error.evidence)
        #expect(error.message.hasSuffix("evidence saved in \(evidence)"))
        let saved = files(evidence)
        #expect(saved["earlier.checkpoint"] == Array(log.checkpoint().serialized.utf8))
        #expect(saved["checkpoint"] == Array(fork.log.checkpoint().serialized.utf8))
        #expect(String(decoding: saved["evidence.json"] ?? [], as: UTF8.self).contains("\"kind\": \"inconsistent\""))
        // Nothing else changed: the mirror still serves size 300.
        #expect(files(directory).filter { !$0.key.contains("/evidence/") } == before)

        // The same size with another root.
        let sameSize = ForkedLog(prefix: log, prefixSize: 10, size: 300)
        second.close()
        let third = try Mirror(directory: directory, source: sameSize, vkey: nil)
        defer { third.close() }
        let same = try await #require(throws: MirrorError.self) { try await third.round() }
        #expect(same.code == .inconsistent && same.message.contains("a fork"), "\(same)")
    }

    @Test("A smaller checkpoint is a rollback: evidence, and whether it is a stale copy of the mirrored tree")
    func rollback() async throws {
        let scratch = try Scratch()
        let log = FakeLog(size: 1000)
        let directory = scratch.file("mirror")
        let mirror = try Mirror(directory: directory, source: log, vkey: Keys.logVKey)
        defer { mirror.close() }
        _ = try await mirror.round()
        log.servedSize = 700
        let error = try await #require(throws: MirrorError.self) { try await mirror.round() }
        #expect(error.code == .rollback && error.evidence != nil)
        #expect(error.message.contains("size 700, smaller than size 1000"))
        #expect(error.message.contains("it is a checkpoint of the mirrored tree"), "\(error.message)")
        #expect(String(decoding: files(directory)["checkpoint"] ?? [], as: UTF8.self) == log.checkpoint().serialized)

        let fork = ForkedLog(prefix: log, prefixSize: 100, size: 700)
        mirror.close()
        let second = try Mirror(directory: directory, source: fork, vkey: nil)
        defer { second.close() }
        let forked = try await #require(throws: MirrorError.self) { try await second.round() }
        #expect(forked.code == .rollback && forked.message.contains("a fork"), "\(forked.message)")
    }

    @Test("Tampered tiles and bundles, wrong keys and hostile answers are refused; nothing is published")
    func tampering() async throws {
        let scratch = try Scratch()
        let reference = FakeLog(size: 800)
        var tile = reference.tileBytes(level: 0, index: 1, width: 256)
        tile[77] ^= 1
        let cases: [(String, TileAnswer, MirrorError.Code, String)] = [
            ("tile/0/001", TileAnswer(status: 200, body: tile), .tileMismatch, "tile/0/001 hashes to"),
            (
                "tile/0/003.p/32", TileAnswer(status: 200, body: Array(repeating: 7, count: 1024)), .tileMismatch,
                "hash to root"
            ),
            ("tile/0/002", TileAnswer(status: 200, body: [1, 2, 3]), .tileMismatch, "is 3 bytes"),
            (
                "tile/entries/001", TileAnswer(status: 200, body: reference.bundleBytes(index: 2, width: 256)),
                .tileMismatch, "entry 0 hashes to"
            ),
            ("tile/entries/002", TileAnswer(status: 200, body: [0, 9, 1]), .tileMismatch, "truncated"),
            ("tile/0/002", TileAnswer(status: 404, body: []), .unavailable, "HTTP 404"),
            ("tile/0/002", TileAnswer(status: 500, body: Array("boom".utf8)), .unavailable, "HTTP 500: boom"),
            (
                "tile/0/002", TileAnswer(status: 302, body: [], location: "https://elsewhere.example/"), .unavailable,
                "not followed"
            ),
            ("tile/entries/002", TileAnswer(status: 401, body: []), .unauthorized, "token"),
            (
                "checkpoint", TileAnswer(status: 200, body: Array("<html>hello</html>\n".utf8)), .badSignature,
                "not a checkpoint"
            ),
            (
                "checkpoint",
                TileAnswer(
                    status: 200, body: Array(FakeLog(key: Keys.impostor, size: 800).checkpoint().serialized.utf8)),
                .badSignature, "signed by"
            ),
            (
                "checkpoint", TileAnswer(status: 200, body: Array(repeating: 0x41, count: 1 << 17)), .unreachable,
                "larger than"
            ),
        ]
        for (number, (path, answer, code, fragment)) in cases.enumerated() {
            let log = FakeLog(size: 300)
            let directory = scratch.file("mirror-\(number)")
            let mirror = try Mirror(directory: directory, source: log, vkey: Keys.logVKey)
            defer { mirror.close() }
            _ = try await mirror.round()
            log.append(500)
            let published = files(directory)["checkpoint"]
            log.overrides = [path: answer]
            let error = try await #require(throws: MirrorError.self, "\(path)") { try await mirror.round() }
            #expect(error.code == code, "\(path): \(error)")
            #expect(error.message.contains(fragment), "\(path): \(error.message)")
            #expect(files(directory)["checkpoint"] == published, "\(path)")
            // The log mends: the next round completes, and the directory is the log's.
            log.overrides = [:]
            let summary = try await mirror.round()
            #expect(summary.treeSize == 800)
            #expect(Self.served(directory) == Self.expectedFiles(log, keepingPartialsOf: [300]), "\(path)")
        }
    }

    @Test("A mirror stopped mid-round resumes: the tiles it wrote are authenticated again, not fetched")
    func resume() async throws {
        let scratch = try Scratch()
        let log = FakeLog(size: 10)
        let directory = scratch.file("mirror")
        let mirror = try Mirror(directory: directory, source: log, vkey: Keys.logVKey)
        defer { mirror.close() }
        _ = try await mirror.round()
        log.append(3000)
        log.resetRequests()
        // The connection breaks after 12 requests: some tiles and bundles are written, the checkpoint is not.
        log.failAfter = 12
        let error = try await #require(throws: MirrorError.self) { try await mirror.round() }
        #expect(error.code == .unreachable)
        let state = try #require(try mirror.loadState())
        #expect(state.pending == log.checkpoint().serialized)
        #expect(state.checkpoint == log.checkpoint(size: 10).serialized)
        #expect(
            String(decoding: files(directory)["checkpoint"] ?? [], as: UTF8.self) == log.checkpoint(size: 10).serialized
        )
        log.failAfter = nil
        let resumed = try await mirror.round()
        #expect(resumed.treeSize == 3010 && resumed.consistentWith.sorted() == [10, 3010])
        #expect(resumed.tilesReused + resumed.bundlesReused > 0)
        #expect(Self.served(directory) == Self.expectedFiles(log, keepingPartialsOf: [10]))
        #expect(try mirror.loadState()?.pending == nil)
    }

    @Test("Partials gone from the log are read from the full tile; 501 bundles are skipped and listed")
    func fallbacks() async throws {
        let scratch = try Scratch()
        let log = FakeLog(size: 1100)
        // The log has grown past the checkpoint it still serves, and deleted the partials that are now full.
        log.servedSize = 600
        log.partialsDeleted = true
        let directory = scratch.file("mirror")
        let mirror = try Mirror(directory: directory, source: log, vkey: Keys.logVKey)
        defer { mirror.close() }
        let summary = try await mirror.round()
        #expect(summary.treeSize == 600)
        #expect(log.requests.contains("tile/0/002.p/88") && log.requests.contains("tile/0/002"))
        let served = Self.served(directory)
        #expect(served["tile/0/002.p/88"] == log.tileBytes(level: 0, index: 2, width: 88))
        #expect(served["tile/entries/002.p/88"] == log.bundleBytes(index: 2, width: 88))

        log.servedSize = nil
        log.overrides = ["tile/entries/003": TileAnswer(status: 501, body: Array("entry 900 is 70010 bytes\n".utf8))]
        let grown = try await mirror.round()
        #expect(grown.unservableBundles.map(\.path) == ["tile/entries/003"])
        #expect(try mirror.loadState()?.unservableBundles.first?.reason == "entry 900 is 70010 bytes")
        #expect(Self.served(directory)["tile/entries/003"] == nil)
    }

    @Test("Cosignatures added to the same tree update the served checkpoint")
    func cosignatures() async throws {
        let scratch = try Scratch()
        let log = FakeLog(size: 5)
        let mirror = try Mirror(directory: scratch.file("m"), source: log, vkey: Keys.logVKey)
        defer { mirror.close() }
        _ = try await mirror.round()
        log.cosigners = [(Keys.witness, "witness.example/w1", 1_800_000_000)]
        let summary = try await mirror.round()
        #expect(summary.checkpointUpdated && summary.treeSize == 5)
        #expect(
            String(decoding: files(scratch.file("m"))["checkpoint"] ?? [], as: UTF8.self).contains("witness.example/w1")
        )
    }
}

/// A log signed with the mirrored log's key whose first `prefixSize` entries are the prefix's and the rest other
/// entries: a fork.
final class ForkedLog: TileSource, @unchecked Sendable {
    let log: FakeLog

    init(prefix: FakeLog, prefixSize: Int, size: Int) {
        log = FakeLog(tag: prefix.tag, key: prefix.key, size: prefixSize)
        log.appendForked(size - prefixSize)
    }

    var description: String { "fake://fork" }

    func get(_ path: String, query: String?, maxBytes: Int) async throws(MirrorError) -> TileAnswer {
        try await log.get(path, query: query, maxBytes: maxBytes)
    }
}

extension FakeLog {
    /// Appends entries no other log has.
    func appendForked(_ count: Int) {
        for _ in 0..<count { appendEntry(Array("{\"fork\":\(size)}".utf8)) }
    }
}
