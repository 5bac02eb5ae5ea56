import CairnCrypto
import CairnHTTP
import CairnMerkle

/// One answer from a log: its HTTP status and body.
package struct TileAnswer: Sendable, Equatable {
    package let status: Int
    package let body: [UInt8]
    /// `Location`, for a redirect (never followed).
    package let location: String?

    package init(status: Int, body: [UInt8], location: String? = nil) {
        self.status = status
        self.body = body
        self.location = location
    }
}

/// Where a log's tlog-tiles resources come from: `GET <prefix>/<path>[?query]`.
///
/// `Sendable`. Implementations send one request per call and throw only when no answer came (`.unreachable`);
/// what a status means is `TileClient`'s business. `HTTPTileSource` is the real one; tests bring their own.
package protocol TileSource: Sendable {
    /// The answer to `GET <prefix>/<path>[?query]`, whose body may be at most `maxBytes` long (a longer one is
    /// `.unreachable` with a message saying so).
    func get(_ path: String, query: String?, maxBytes: Int) async throws(MirrorError) -> TileAnswer

    /// The log's URL prefix, for messages.
    var description: String { get }
}

/// A log's tlog-tiles resources over HTTP, through Cairn's one outgoing client (`CairnHTTPClient`: no redirects,
/// a deadline per request, a response size limit enforced while the body streams in, no proxies).
package struct HTTPTileSource: TileSource {
    package let base: HTTPURL
    private let token: String?
    private let timeout: Duration
    private let http: CairnHTTPClient

    /// - Parameters:
    ///   - url: the log's prefix (`https://log.example/cairn/`, `http://127.0.0.1:8080`, `unix:/run/cairn.sock`).
    ///   - token: sent as `Authorization: Bearer <token>`; nil sends none.
    ///   - timeout: the deadline of each request, in seconds (not positive or not finite: 30).
    package init(
        url: String, token: String?, timeout: Double = 30, http: CairnHTTPClient = .shared
    )
        throws(MirrorError)
    {
        do {
            base = try HTTPURL(url)
        } catch {
            throw MirrorError(.usage, "the log URL: \(error.message)")
        }
        if let token, token.isEmpty || !token.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7f }) {
            throw MirrorError(.usage, "the token must be non-empty visible ASCII without spaces")
        }
        self.token = token
        let seconds = timeout.isFinite && timeout > 0 ? min(timeout, 86_400) : 30
        self.timeout = .milliseconds(Int64(seconds * 1000))
        self.http = http
    }

    package var description: String { base.description }

    package func get(_ path: String, query: String?, maxBytes: Int) async throws(MirrorError) -> TileAnswer {
        var headers: [(name: String, value: String)] = [("Accept", "*/*")]
        if let token { headers.append(("Authorization", "Bearer " + token)) }
        let url = base.appending(path: "/" + path, query: query)
        do {
            let response = try await http.send(
                HTTPRequest(method: .get, url: url, headers: headers), timeout: timeout, maxResponseBytes: maxBytes)
            return TileAnswer(status: response.status, body: response.body, location: response.header("Location"))
        } catch {
            throw MirrorError(.unreachable, "\(url): \(error.message)")
        }
    }
}

/// A fetched entry bundle: its entries, or why the log does not serve it.
package enum BundleFetch: Sendable, Equatable {
    /// The bundle's bytes (not yet checked against the tiles).
    case bytes([UInt8])
    /// The log answered 501: the bundle holds an entry over 65,535 bytes, which the format cannot carry
    /// (specs/tiles.md §5). The reason is the log's message.
    case unservable(String)
}

/// Fetches a log's checkpoint, tiles and bundles, with the limits and fallbacks of specs/mirror.md §2: every answer
/// is bounded before it is read; a partial tile or bundle that is gone (404) is read as the prefix of the full one,
/// as C2SP tlog-tiles tells clients to do; statuses are mapped onto `MirrorError`s that name the resource.
///
/// Nothing fetched here is trusted: tiles go through `TileTree`, checkpoints through their signature.
package struct TileClient: Sendable {
    /// The largest checkpoint accepted: a note of 100 signature lines is far smaller.
    package static let maxCheckpointBytes = 1 << 16
    /// The largest consistency proof answer accepted (63 hashes and a checkpoint).
    package static let maxProofBytes = 1 << 17
    /// A full entry bundle at its largest: 256 entries of 65,535 bytes, each with its 2-byte length.
    package static let maxBundleBytes = MerkleEntryBundle.fullWidth * (2 + MerkleEntryBundle.maxEntryBytes)

    package let source: any TileSource

    package init(source: any TileSource) {
        self.source = source
    }

    /// The bytes of `<prefix>/checkpoint`.
    package func checkpoint() async throws(MirrorError) -> [UInt8] {
        let answer = try await source.get("checkpoint", query: nil, maxBytes: Self.maxCheckpointBytes)
        guard answer.status == 200 else { throw failure(answer, path: "checkpoint", what: "the checkpoint") }
        return answer.body
    }

    /// The bytes of `tile` at `width` (exactly 32·`width` of them, or a `.tileMismatch` error); a partial tile that
    /// is gone is read from the full one.
    package func tile(_ tile: TileCoordinate, width: Int) async throws(MirrorError) -> [UInt8] {
        guard let resource = MerkleTile(level: tile.level, index: tile.index, width: width) else {
            throw MirrorError(.tileMismatch, "\(tile) of width \(width) is beyond any tree")
        }
        let expected = width * SHA256Digest.byteCount
        let answer = try await source.get(resource.path, query: nil, maxBytes: expected)
        if answer.status == 200 {
            guard answer.body.count == expected else {
                throw MirrorError(
                    .tileMismatch,
                    "\(location(resource.path)) is \(answer.body.count) bytes; a tile of \(width) hashes is "
                        + "\(expected) bytes")
            }
            return answer.body
        }
        guard answer.status == 404, resource.isPartial else {
            throw failure(answer, path: resource.path, what: "a tile the checkpoint implies")
        }
        let full = MerkleTile(level: tile.level, index: tile.index)!
        let fullAnswer = try await source.get(full.path, query: nil, maxBytes: MerkleTile.fullWidth * 32)
        guard fullAnswer.status == 200 else {
            throw failure(
                answer, path: resource.path, what: "a tile the checkpoint implies (nor the full tile \(full.path))")
        }
        guard fullAnswer.body.count == MerkleTile.fullWidth * SHA256Digest.byteCount else {
            throw MirrorError(
                .tileMismatch,
                "\(location(full.path)) is \(fullAnswer.body.count) bytes; a full tile is 8192 bytes")
        }
        return Array(fullAnswer.body.prefix(expected))
    }

    /// The bytes of entry bundle `index` at `width` (not yet checked); a partial bundle that is gone is read from
    /// the full one (its first `width` entries).
    package func bundle(index: UInt64, width: Int) async throws(MirrorError) -> BundleFetch {
        guard let bundle = MerkleEntryBundle(index: index, width: width) else {
            throw MirrorError(.tileMismatch, "entry bundle \(index) of width \(width) is beyond any tree")
        }
        let answer = try await source.get(
            bundle.path, query: nil, maxBytes: width * (2 + MerkleEntryBundle.maxEntryBytes))
        switch answer.status {
        case 200: return .bytes(answer.body)
        case 501: return .unservable(Self.text(answer.body))
        case 404 where bundle.isPartial:
            let full = MerkleEntryBundle(index: index)!
            let fullAnswer = try await source.get(full.path, query: nil, maxBytes: Self.maxBundleBytes)
            guard fullAnswer.status == 200 else {
                throw failure(
                    answer, path: bundle.path, what: "an entry bundle the checkpoint implies (nor \(full.path))")
            }
            // The first `width` entries of the full bundle, re-encoded as the partial bundle's bytes.
            do {
                let entries = try MerkleEntryBundle.decode(fullAnswer.body)
                guard entries.count >= width else {
                    throw MirrorError(
                        .tileMismatch, "\(location(full.path)) holds \(entries.count) entries; a full bundle has 256")
                }
                return .bytes(try MerkleEntryBundle.encode(Array(entries.prefix(width)), firstIndex: index << 8))
            } catch let error as EntryBundleError {
                throw MirrorError(.tileMismatch, "\(location(full.path)): \(error.message)")
            } catch let error as MirrorError {
                throw error
            } catch {
                throw MirrorError(.tileMismatch, "\(location(full.path)): \(error)")
            }
        default:
            throw failure(answer, path: bundle.path, what: "an entry bundle the checkpoint implies")
        }
    }

    /// Cairn's consistency proof API (`GET /v1/proof/consistency?old=OLD&size=SIZE`, specs/http-api.md): the
    /// answer's body for 200, nil for any other status (a log that is not Cairn's, or one that wants a token).
    package func consistencyProof(old: UInt64, size: UInt64) async throws(MirrorError) -> [UInt8]? {
        let answer = try await source.get(
            "v1/proof/consistency", query: "old=\(old)&size=\(size)", maxBytes: Self.maxProofBytes)
        return answer.status == 200 ? answer.body : nil
    }

    /// The error for an answer that is not the resource.
    func failure(_ answer: TileAnswer, path: String, what: String) -> MirrorError {
        let url = location(path)
        switch answer.status {
        case 401, 403:
            return MirrorError(
                .unauthorized,
                "\(url): HTTP \(answer.status): the log wants a token for \(what) (--token or $CAIRN_TOKEN; Cairn's "
                    + "entry bundles need one with the read role)")
        case 404:
            return MirrorError(.unavailable, "\(url): HTTP 404: the log does not serve \(what)")
        case 300..<400:
            return MirrorError(
                .unavailable,
                "\(url): HTTP \(answer.status) redirect to \(answer.location.map(Self.shorten) ?? "nowhere") not "
                    + "followed: give the log's final URL")
        default:
            let body = Self.text(answer.body)
            return MirrorError(
                .unavailable, "\(url): HTTP \(answer.status)" + (body.isEmpty ? "" : ": \(body)"))
        }
    }

    /// `<prefix>/<path>`, for messages.
    func location(_ path: String) -> String {
        var prefix = source.description
        while prefix.hasSuffix("/") { prefix.removeLast() }
        return prefix + "/" + path
    }

    /// The first line of a body, short, for messages.
    static func text(_ body: [UInt8]) -> String {
        shorten(
            String(decoding: body.prefix(200), as: UTF8.self).split(whereSeparator: \.isNewline).first.map {
                String($0)
            } ?? "")
    }

    static func shorten(_ text: String) -> String {
        text.count > 120 ? String(text.prefix(120)) + "…" : text
    }
}
