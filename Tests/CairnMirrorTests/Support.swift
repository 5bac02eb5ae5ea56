import CairnCrypto
import CairnMerkle
import CairnMirror
import CairnNote
import Foundation

/// Fixed keys: a log key (seed 0x21), another log key of the same name (seed 0x22), a witness (seed 0x31).
enum Keys {
    static let origin = "example.com/mirrored"

    static func seed(_ byte: UInt8) -> Ed25519PrivateKey {
        try! Ed25519PrivateKey(seed: [UInt8](repeating: byte, count: 32))
    }

    static let log = seed(0x21)
    static let impostor = seed(0x22)
    static let witness = seed(0x31)

    static var logVKey: NoteVerifierKey { try! NoteVerifierKey(name: origin, ed25519: log.publicKey) }
    static var witnessVKey: NoteVerifierKey {
        try! NoteVerifierKey(cosignatureName: "witness.example/w1", ed25519: witness.publicKey)
    }
}

/// An in-memory C2SP tlog-tiles log, served through `TileSource`: entries `{"n":i,"t":"<tag>"}`, its tiles and
/// bundles computed here from an `InMemoryMerkleTree`, and knobs to misbehave (serve an older checkpoint, override
/// any resource, delete partials, fail after some requests, answer Cairn's consistency proof API).
final class FakeLog: TileSource, @unchecked Sendable {
    private let lock = NSLock()
    private(set) var tree = InMemoryMerkleTree()
    private(set) var entries: [[UInt8]] = []
    let tag: String
    let key: Ed25519PrivateKey
    /// The size whose checkpoint `/checkpoint` serves (default: the current size).
    var servedSize: UInt64?
    /// Answers served instead of the real ones, by path.
    var overrides: [String: TileAnswer] = [:]
    /// Whether partial tiles and bundles of tiles that are full are gone (404), as after `cairn export tiles`.
    var partialsDeleted = false
    /// Requests answered before every further one fails as unreachable.
    var failAfter: Int?
    /// Whether `/v1/proof/consistency` answers (Cairn's API).
    var proofAPI = false
    /// Cosignatures added to every checkpoint served.
    var cosigners: [(key: Ed25519PrivateKey, name: String, time: UInt64)] = []
    /// Every path asked for, in order.
    private(set) var requests: [String] = []

    init(tag: String = "a", key: Ed25519PrivateKey = Keys.log, size: Int = 0) {
        self.tag = tag
        self.key = key
        append(size)
    }

    var description: String { "fake://\(tag)" }

    var size: UInt64 { tree.treeSize }

    func append(_ count: Int) {
        lock.withLock {
            for _ in 0..<count {
                let entry = Array("{\"n\":\(entries.count),\"t\":\"\(tag)\"}".utf8)
                entries.append(entry)
                tree.append(entry: entry)
            }
        }
    }

    /// Appends one entry of the caller's.
    func appendEntry(_ entry: [UInt8]) {
        lock.withLock {
            entries.append(entry)
            tree.append(entry: entry)
        }
    }

    func resetRequests() { lock.withLock { requests.removeAll() } }

    /// The signed checkpoint of `size` (default: the current size).
    func checkpoint(size: UInt64? = nil) -> SignedCheckpoint {
        let size = size ?? tree.treeSize
        let root = try! MerkleTree.root(treeSize: size, reader: tree)
        let signer = try! NoteSigner(name: Keys.origin, privateKey: key)
        var signed = try! SignedCheckpoint.sign(
            Checkpoint(origin: Keys.origin, size: size, rootHash: root), with: signer)
        for cosigner in cosigners {
            signed = try! signed.adding(
                CosignatureV1.sign(
                    checkpoint: signed.checkpoint, timestamp: cosigner.time, signer: cosigner.key, name: cosigner.name))
        }
        return signed
    }

    /// The hashes of tile `(level, index)` at `width` (entries are stored hashes at Merkle level 8·level).
    func tileBytes(level: Int, index: UInt64, width: Int) -> [UInt8] {
        let indexes = (0..<UInt64(width)).map { StoredHashIndex.index(level: 8 * level, n: index << 8 + $0) }
        return try! tree.readHashes(at: indexes).flatMap(\.bytes)
    }

    func bundleBytes(index: UInt64, width: Int) -> [UInt8] {
        try! MerkleEntryBundle.encode(Array(entries[Int(index << 8)..<Int(index << 8) + width]))
    }

    func get(_ path: String, query: String?, maxBytes: Int) async throws(MirrorError) -> TileAnswer {
        let answer: TileAnswer? = lock.withLock { () -> TileAnswer? in
            requests.append(path + (query.map { "?" + $0 } ?? ""))
            if let failAfter, requests.count > failAfter { return nil }
            return respond(path, query: query)
        }
        guard let answer else { throw MirrorError(.unreachable, "\(description)/\(path): connection refused") }
        guard answer.body.count <= maxBytes else {
            throw MirrorError(.unreachable, "\(description)/\(path): the answer is larger than \(maxBytes) bytes")
        }
        return answer
    }

    private func respond(_ path: String, query: String?) -> TileAnswer {
        if let override = overrides[path] { return override }
        let notFound = TileAnswer(status: 404, body: Array("not found\n".utf8))
        if path == "checkpoint" {
            return TileAnswer(status: 200, body: Array(checkpoint(size: servedSize).serialized.utf8))
        }
        if path == "v1/proof/consistency" {
            guard proofAPI, let query else { return notFound }
            var values: [String: UInt64] = [:]
            for pair in query.split(separator: "&") {
                let parts = pair.split(separator: "=")
                if parts.count == 2 { values[String(parts[0])] = UInt64(parts[1]) }
            }
            guard let old = values["old"], let size = values["size"], old > 0, old <= size, size <= tree.treeSize
            else { return TileAnswer(status: 400, body: []) }
            let hashes = try! MerkleTree.consistencyProof(oldSize: old, newSize: size, reader: tree)
            var text = "old \(old)\n" + hashes.map { $0.base64 + "\n" }.joined() + "\n"
            text += checkpoint(size: size).serialized
            return TileAnswer(status: 200, body: Array(text.utf8))
        }
        guard let resource = try? TileResource(path: path), resource.requiredTreeSize <= tree.treeSize else {
            return notFound
        }
        if partialsDeleted, resource.isPartial {
            let full: UInt64
            switch resource {
            case .hashes(let tile): full = (tile.index + 1) << (8 * UInt64(tile.level) + 8)
            case .entries(let bundle): full = (bundle.index + 1) << 8
            }
            if full <= tree.treeSize { return notFound }
        }
        switch resource {
        case .hashes(let tile):
            return TileAnswer(status: 200, body: tileBytes(level: tile.level, index: tile.index, width: tile.width))
        case .entries(let bundle):
            return TileAnswer(status: 200, body: bundleBytes(index: bundle.index, width: bundle.width))
        }
    }
}

/// A fresh temporary directory, removed when released.
final class Scratch: @unchecked Sendable {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "cairn-mirror-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> String { path + "/" + name }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// Every regular file under `root`, by relative path, with its bytes.
func files(_ root: String) -> [String: [UInt8]] {
    var out: [String: [UInt8]] = [:]
    let enumerator = FileManager.default.enumerator(atPath: root)
    while let relative = enumerator?.nextObject() as? String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root + "/" + relative, isDirectory: &isDirectory),
            !isDirectory.boolValue
        else { continue }
        out[relative] = Array((try? Data(contentsOf: URL(fileURLWithPath: root + "/" + relative))) ?? Data())
    }
    return out
}
