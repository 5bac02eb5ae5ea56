import CairnCrypto
import CairnJSON
import CairnMerkle
import CairnNote

/// What one mirror round did.
package struct MirrorSummary: Sendable {
    /// The mirror directory.
    package var directory: String
    /// The log's URL prefix.
    package var url: String
    /// The size of the checkpoint the directory served before this round (nil for a new mirror).
    package var previousSize: UInt64?
    /// The size and root of the checkpoint the directory serves now.
    package var treeSize: UInt64 = 0
    package var root: SHA256Digest = RFC6962.emptyRoot
    /// Whether `checkpoint` changed (a new tree, or the same tree with other cosignatures).
    package var checkpointUpdated = false
    /// Whether this round pinned the log's key (the first verified round of a new mirror).
    package var keyPinned = false
    /// The earlier checkpoints the new one was shown to extend (sizes), from its tiles.
    package var consistentWith: [UInt64] = []
    /// Hash tiles and entry bundles fetched from the log.
    package var tilesFetched = 0
    package var bundlesFetched = 0
    /// Tiles and bundles already in the directory from an interrupted round, authenticated again instead of fetched.
    package var tilesReused = 0
    package var bundlesReused = 0
    /// Files written outside `.cairn-mirror/` (tiles, bundles, `checkpoint`: what readers are served) and their bytes.
    package var filesWritten = 0
    package var bytesWritten: UInt64 = 0
    /// Partial tiles and bundles deleted because their full tile is now in place.
    package var stalePartialsRemoved = 0
    /// Bundles the log does not serve (entries over 65,535 bytes).
    package var unservableBundles: [MirrorState.UnservableBundle] = []
    /// Wall-clock time of the round.
    package var seconds: Double = 0

    /// The JSON object `cairn mirror --json` prints for the round.
    package var json: JSONObject {
        [
            "ok": true,
            "directory": .string(directory),
            "url": .string(url),
            "previous_size": previousSize.map { .uint($0) } ?? .null,
            "tree_size": .uint(treeSize),
            "root": .string(root.base64),
            "checkpoint_updated": .bool(checkpointUpdated),
            "key_pinned": .bool(keyPinned),
            "consistent_with": .array(consistentWith.map { .uint($0) }),
            "tiles_fetched": .uint(UInt64(tilesFetched)),
            "tiles_reused": .uint(UInt64(tilesReused)),
            "entry_bundles_fetched": .uint(UInt64(bundlesFetched)),
            "entry_bundles_reused": .uint(UInt64(bundlesReused)),
            "files_written": .uint(UInt64(filesWritten)),
            "bytes_written": .uint(bytesWritten),
            "stale_partials_removed": .uint(UInt64(stalePartialsRemoved)),
            "unservable_entry_bundles": .array(
                unservableBundles.map { .object(["path": .string($0.path), "reason": .string($0.reason)]) }),
            "seconds": .number((seconds * 1000).rounded() / 1000),
        ]
    }
}

/// Follows a C2SP tlog-tiles log into a directory (specs/mirror.md): each round fetches the log's checkpoint,
/// verifies its signature with the pinned key, checks from the tiles that it extends every checkpoint the log
/// signed before (the one the mirror serves, and the one a stopped round was installing), fetches the tiles and
/// entry bundles grown since, authenticates each against the checkpoint, and writes them, then the checkpoint.
///
/// Not thread-safe: one mirror per directory (it holds the directory's lock), used from one task.
package final class Mirror {
    package let directoryPath: String
    private let directory: MirrorDirectory
    private let client: TileClient
    private let url: String
    private let givenKey: NoteVerifierKey?
    private let givenOrigin: String?
    private let clock: @Sendable () -> Int64

    /// Opens and locks the mirror directory (created if missing; it must be empty or a mirror's).
    ///
    /// - Parameters:
    ///   - vkey: the log's verifier key; required for a new mirror, and must be the pinned one for an existing one.
    ///   - origin: the checkpoints' origin, when the log's key is not named after it.
    ///   - clock: POSIX seconds, for the state file and evidence.
    package init(
        directory: String, source: any TileSource, vkey: NoteVerifierKey?, origin: String? = nil,
        clock: @escaping @Sendable () -> Int64 = currentTime
    ) throws(MirrorError) {
        self.directory = try MirrorDirectory(path: directory)
        // A run killed mid-write (SIGKILL, power loss) leaves its temporary files: never served, removed here.
        self.directory.removeLeftoverTemporaryFiles()
        self.directoryPath = directory
        self.client = TileClient(source: source)
        self.url = source.description
        self.givenKey = vkey
        self.givenOrigin = origin
        self.clock = clock
    }

    /// Releases the directory's lock.
    package func close() { directory.closeAll() }

    private var statePath: String { "\(MirrorDirectory.stateDirectory)/\(MirrorDirectory.stateFile)" }
    private var keyPath: String { "\(MirrorDirectory.stateDirectory)/\(MirrorDirectory.keyFile)" }

    // MARK: - State

    /// The state file, or nil for a new mirror.
    package func loadState() throws(MirrorError) -> MirrorState? {
        guard let bytes = try directory.contents(of: statePath, maxBytes: MirrorState.maxBytes) else { return nil }
        return try MirrorState(parsing: bytes, path: "\(directoryPath)/\(statePath)")
    }

    /// The pinned key, if any.
    package func pinnedKey() throws(MirrorError) -> NoteVerifierKey? {
        guard let bytes = try directory.contents(of: keyPath, maxBytes: 4096) else { return nil }
        let text = String(decoding: bytes, as: UTF8.self).trimmingWhitespace()
        do {
            return try NoteVerifierKey(parsing: text)
        } catch {
            throw MirrorError(.invalidState, "\(directoryPath)/\(keyPath) is not a verifier key: \(error.message)")
        }
    }

    /// The key to verify with: the pinned one (which `--vkey`, if given, must equal), or for a new mirror the given
    /// one. Trust on first use is explicit: a new mirror needs `--vkey`.
    private func logKey() throws(MirrorError) -> (key: NoteVerifierKey, pinned: Bool) {
        if let pinned = try pinnedKey() {
            if let givenKey, givenKey != pinned {
                throw MirrorError(
                    .otherLog,
                    "\(directoryPath) mirrors the log of key \(pinned.nameAndID) (pinned in \(keyPath)), not "
                        + "\(givenKey.nameAndID): use another directory for another log")
            }
            return (pinned, true)
        }
        guard let givenKey else {
            throw MirrorError(
                .usage,
                "\(directoryPath) is a new mirror: give the log's verifier key with --vkey (trust on first use is "
                    + "explicit; the key is pinned in \(MirrorDirectory.stateDirectory)/\(MirrorDirectory.keyFile))")
        }
        return (givenKey, false)
    }

    private func parse(_ text: String, what: String) throws(MirrorError) -> SignedCheckpoint {
        do {
            return try SignedCheckpoint(parsing: text)
        } catch {
            throw MirrorError(.invalidState, "\(directoryPath)/\(statePath): the \(what) checkpoint: \(error.message)")
        }
    }

    private func save(_ state: MirrorState) throws(MirrorError) {
        try directory.writeDurably(statePath, state.serialized)
    }

    // MARK: - A round

    /// One round (specs/mirror.md §4). Throws `MirrorError`; a verification failure (`isVerificationFailure`)
    /// leaves the directory as it was (it keeps serving the last verified checkpoint) and, for an inconsistency or
    /// a rollback, saves evidence.
    package func round() async throws(MirrorError) -> MirrorSummary {
        let start = ContinuousClock.now
        let filesBefore = directory.filesWritten
        let bytesBefore = directory.bytesWritten
        var summary = MirrorSummary(directory: directoryPath, url: url)
        let loaded = try loadState()
        let (key, wasPinned) = try logKey()
        let origin = givenOrigin ?? loaded?.origin ?? key.name
        if let loaded, loaded.origin != origin {
            throw MirrorError(
                .otherLog, "\(directoryPath) mirrors origin \"\(loaded.origin)\", not \"\(origin)\"")
        }
        var state = loaded ?? MirrorState(url: url, origin: origin)
        state.url = url
        let previous = try state.checkpoint.map { (text) throws(MirrorError) in try parse(text, what: "mirrored") }
        let pending = try state.pending.map { (text) throws(MirrorError) in try parse(text, what: "pending") }
        summary.previousSize = previous?.checkpoint.size
        if let previous {
            // The state is written before `checkpoint`: a round stopped between the two left the old one.
            if try directory.store("checkpoint", Array(previous.serialized.utf8)) { try directory.syncDirectories() }
        }

        // 1. The log's checkpoint, verified with the log's key.
        let bytes = try await client.checkpoint()
        let signed: SignedCheckpoint
        let new: Checkpoint
        do {
            signed = try SignedCheckpoint(parsing: bytes)
            new = try signed.verify(logKey: key, origin: origin)
        } catch {
            throw MirrorError(
                .badSignature,
                "\(client.location("checkpoint")) is not a checkpoint signed by \(key.nameAndID): \(error.message)")
        }
        summary.treeSize = new.size
        summary.root = new.rootHash

        // 2. It must extend every checkpoint the log signed before: never smaller, the same tree at the same size.
        var references: [SignedCheckpoint] = []
        for reference in [previous, pending].compactMap({ $0 })
        where !references.contains(where: { $0.checkpoint == reference.checkpoint }) {
            references.append(reference)
        }
        for reference in references where reference.checkpoint.size > new.size {
            var message =
                "rollback: \(client.location("checkpoint")) has size \(new.size), smaller than size "
                + "\(reference.checkpoint.size) that the log signed before"
            if reference.checkpoint == previous?.checkpoint, let verdict = localVerdict(on: new, within: reference) {
                message += "; " + verdict
            }
            throw try evidence(.rollback, message, earlier: reference, later: signed, laterBytes: bytes)
        }
        if let previous, previous.checkpoint.size == new.size, references.count == 1 {
            guard previous.checkpoint.rootHash == new.rootHash else {
                throw try evidence(
                    .inconsistent,
                    "inconsistent: the log's checkpoint of size \(new.size) has root \(new.rootHash.base64), but the "
                        + "one it signed before has root \(previous.checkpoint.rootHash.base64): a fork",
                    earlier: previous, later: signed, laterBytes: bytes)
            }
            // The same tree; the note may carry other (newer) cosignatures: serve the log's latest.
            if previous.serialized != signed.serialized {
                state.checkpoint = signed.serialized
                state.verifiedAt = rfc3339(clock())
                try save(state)
                try directory.writeDurably("checkpoint", bytes)
                summary.checkpointUpdated = true
            } else {
                state.verifiedAt = rfc3339(clock())
                try save(state)
            }
            return finish(summary, start: start, filesBefore: filesBefore, bytesBefore: bytesBefore)
        }

        // 3. The new tree: its right edge authenticated against the signed root.
        var tree: TileTree
        do {
            tree = try TileTree(size: new.size, root: new.rootHash)
        } catch {
            throw MirrorError(.badSignature, "\(client.location("checkpoint")): \(error.message)")
        }
        let oldSize = previous?.checkpoint.size ?? 0
        summary.tilesFetched += try await client.authenticateRightEdge(of: &tree)

        // 4. Consistency with each earlier checkpoint, from the new tree's tiles. Every complete subtree of an older
        // tree lies in that tree's right edge, which in the new tree is partial or new: the check reads the log's
        // tiles only, a handful of them.
        for reference in references {
            do {
                let (_, fetched) = try await client.checkConsistency(
                    of: &tree, oldSize: reference.checkpoint.size, oldRoot: reference.checkpoint.rootHash)
                summary.tilesFetched += fetched
                summary.consistentWith.append(reference.checkpoint.size)
            } catch  where error.code == .inconsistent {
                throw try evidence(
                    .inconsistent, "inconsistent: \(error.message)", earlier: reference, later: signed,
                    laterBytes: bytes)
            }
        }

        // 5. Record what is being installed, and pin the key on the first round, before writing any tile.
        if state.pending != signed.serialized {
            if !wasPinned {
                try directory.writeDurably(keyPath, Array((key.description + "\n").utf8))
                summary.keyPinned = true
            }
            state.pending = signed.serialized
            try save(state)
        }

        // 6. Level-0 tiles and their bundles grown since, one at a time, each authenticated through its parent.
        let oldFull0 = TileTree.fullTileCount(level: 0, treeSize: oldSize)
        let newFull0 = TileTree.fullTileCount(level: 0, treeSize: new.size)
        var index = oldFull0
        while index < newFull0 {
            let tile = TileCoordinate(level: 0, index: index)
            try await mirrorLevel0(tile, width: MerkleTile.fullWidth, in: &tree, summary: &summary)
            tree.release(tile)
            index += 1
        }
        if let width = tree.width(of: TileCoordinate(level: 0, index: newFull0)) {
            try await mirrorLevel0(
                TileCoordinate(level: 0, index: newFull0), width: width, in: &tree, summary: &summary)
        }

        // 7. The tiles above level 0 grown since (held: they authenticated the tiles below), and the partial ones.
        for level in 1..<MerkleTile.height {
            let oldFull = TileTree.fullTileCount(level: level, treeSize: oldSize)
            let newFull = TileTree.fullTileCount(level: level, treeSize: new.size)
            var index = oldFull
            while index <= newFull {
                let tile = TileCoordinate(level: level, index: index)
                index += 1
                guard let width = tree.width(of: tile) else { continue }
                summary.tilesFetched += try await client.ensure(tile, in: &tree)
                let resource = MerkleTile(level: level, index: tile.index, width: width)!
                try directory.store(resource.path, TileTree.bytes(tree.hashes(of: tile)!))
            }
        }

        // 8. Every tile durable, then the state, then the checkpoint readers see.
        try directory.syncDirectories()
        let unservable = Set(state.unservableBundles.map(\.path))
        state.unservableBundles += summary.unservableBundles.filter { !unservable.contains($0.path) }
        state.checkpoint = signed.serialized
        state.pending = nil
        state.verifiedAt = rfc3339(clock())
        try save(state)
        if try directory.store("checkpoint", bytes) {
            try directory.syncDirectories()
            summary.checkpointUpdated = true
        }

        // 9. Partials of tiles that are now full, which the new checkpoint no longer needs.
        for level in 0..<MerkleTile.height {
            var index = TileTree.fullTileCount(level: level, treeSize: oldSize)
            let end = TileTree.fullTileCount(level: level, treeSize: new.size)
            while index < end {
                summary.stalePartialsRemoved += try directory.removePartials(
                    of: TileTree.fullPath(
                        TileCoordinate(level: level, index: index)))
                if level == 0, let bundle = MerkleEntryBundle(index: index),
                    !summary.unservableBundles.contains(where: { $0.path == bundle.path })
                {
                    summary.stalePartialsRemoved += try directory.removePartials(of: bundle.path)
                }
                index += 1
            }
        }
        try directory.syncDirectories()
        return finish(summary, start: start, filesBefore: filesBefore, bytesBefore: bytesBefore)
    }

    private func finish(
        _ summary: MirrorSummary, start: ContinuousClock.Instant, filesBefore: Int, bytesBefore: UInt64
    ) -> MirrorSummary {
        var summary = summary
        summary.filesWritten = directory.filesWritten - filesBefore
        summary.bytesWritten = directory.bytesWritten - bytesBefore
        let elapsed = ContinuousClock.now - start
        summary.seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return summary
    }

    /// Writes level-0 tile `tile` of `width` and its entry bundle: a file left by an interrupted round is used when it
    /// authenticates, else the tile is fetched; each is authenticated before it is written.
    private func mirrorLevel0(
        _ tile: TileCoordinate, width: Int, in tree: inout TileTree, summary: inout MirrorSummary
    ) async throws(MirrorError) {
        let resource = MerkleTile(level: 0, index: tile.index, width: width)!
        let hashes: [SHA256Digest]
        if width < MerkleTile.fullWidth {
            // The partial tile is the right edge, authenticated already.
            hashes = tree.hashes(of: tile)!
            try directory.store(resource.path, TileTree.bytes(hashes))
        } else {
            // Its ancestors first (fetched once, kept), then the tile.
            for link in tree.authenticationChain(for: tile).dropLast() {
                summary.tilesFetched += try await client.ensure(link, in: &tree)
            }
            if let held = tree.hashes(of: tile) {
                // Fetched already, for the consistency check.
                hashes = held
                try directory.store(resource.path, TileTree.bytes(held))
            } else if let local = try directory.contents(of: resource.path, maxBytes: 8192),
                let authenticated = try? tree.authenticate(tile, bytes: local)
            {
                hashes = authenticated
                summary.tilesReused += 1
            } else {
                let bytes = try await client.tile(tile, width: width)
                summary.tilesFetched += 1
                do {
                    hashes = try tree.authenticate(tile, bytes: bytes)
                } catch {
                    throw MirrorError(.tileMismatch, "\(client.source): \(error.message)")
                }
                try directory.write(resource.path, bytes)
            }
        }

        let bundle = MerkleEntryBundle(index: tile.index, width: width)!
        if let local = try directory.contents(of: bundle.path, maxBytes: TileClient.maxBundleBytes),
            (try? TileTree.checkBundle(local, leafHashes: hashes[...], path: bundle.path)) != nil
        {
            summary.bundlesReused += 1
            return
        }
        switch try await client.bundle(index: tile.index, width: width) {
        case .bytes(let bytes):
            summary.bundlesFetched += 1
            do {
                try TileTree.checkBundle(bytes, leafHashes: hashes[...], path: client.location(bundle.path))
            } catch {
                throw MirrorError(.tileMismatch, error.message)
            }
            try directory.write(bundle.path, bytes)
        case .unservable(let reason):
            summary.unservableBundles.append(.init(path: bundle.path, reason: reason))
        }
    }

    // MARK: - Evidence

    /// Saves the two checkpoints that disagree (and what was found) under `.cairn-mirror/evidence/`, and returns the
    /// error to throw, naming the evidence.
    private func evidence(
        _ code: MirrorError.Code, _ message: String, earlier: SignedCheckpoint, later: SignedCheckpoint,
        laterBytes: [UInt8]
    ) throws(MirrorError) -> MirrorError {
        let earlierBytes = Array(earlier.serialized.utf8)
        let tag = SHA256.hash(earlierBytes + laterBytes).hex.prefix(12)
        let name = "\(code.rawValue)-\(earlier.checkpoint.size)-\(later.checkpoint.size)-\(tag)"
        let details: JSONObject = [
            "kind": .string(code.rawValue),
            "detected_at": .string(rfc3339(clock())),
            "url": .string(url),
            "earlier_size": .uint(earlier.checkpoint.size),
            "earlier_root": .string(earlier.checkpoint.rootHash.base64),
            "size": .uint(later.checkpoint.size),
            "root": .string(later.checkpoint.rootHash.base64),
            "message": .string(message),
        ]
        let path = try directory.writeEvidence(
            named: name,
            files: [
                ("earlier.checkpoint", earlierBytes), ("checkpoint", laterBytes),
                ("evidence.json", JSONWriter.prettyBytes(.object(details)) + [0x0a]),
            ])
        return MirrorError(code, message).with(evidence: path)
    }

    /// For a rollback to `older` below the mirrored `mirrored`: whether `older` is a checkpoint of the mirrored
    /// tree (a stale copy served again) or not (a fork), from the directory's own tiles. Nil when that cannot be
    /// told.
    private func localVerdict(on older: Checkpoint, within mirrored: SignedCheckpoint) -> String? {
        guard var tree = try? TileTree(size: mirrored.checkpoint.size, root: mirrored.checkpoint.rootHash) else {
            return nil
        }
        var partials: [TileCoordinate: [UInt8]] = [:]
        for tile in tree.rightEdge {
            guard let path = tree.path(of: tile),
                let bytes = try? directory.contents(of: path, maxBytes: 8192)
            else { return nil }
            partials[tile] = bytes
        }
        guard (try? tree.authenticateRightEdge(partials)) != nil,
            let needed = try? tree.tilesNeeded(forRootOf: older.size)
        else { return nil }
        for tile in needed where !tree.holds(tile) {
            guard let bytes = try? directory.contents(of: TileTree.fullPath(tile), maxBytes: 8192),
                (try? tree.insertTrusted(tile, bytes: bytes)) != nil
            else { return nil }
        }
        guard let root = try? tree.rootHash(ofSize: older.size) else { return nil }
        return root == older.rootHash
            ? "it is a checkpoint of the mirrored tree (an old copy served again, by a cache for example)"
            : "its root is not the mirrored tree's at that size: a fork"
    }
}

extension String {
    /// The text without leading and trailing spaces, tabs and newlines.
    func trimmingWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        return String(drop(while: isSpace).reversed().drop(while: isSpace).reversed())
    }
}
