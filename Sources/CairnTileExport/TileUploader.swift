import CairnCrypto
import CairnLedger
import CairnMerkle
import CairnNote
import CairnObjectStore

/// Publishes a ledger's C2SP tlog-tiles files to an S3-compatible object store (`cairn export tiles --to s3://…`):
/// the same objects, bytes and relative paths as `TileExporter` writes to a directory, under the location's prefix.
///
/// - **Checkpoint last.** Every tile and entry bundle the new checkpoint needs is uploaded (and acknowledged by the
///   store) before `checkpoint` is replaced, so readers never see a checkpoint whose tiles are missing.
/// - **Idempotent.** Each object is stored with `x-amz-meta-sha256` (the hex SHA-256 of its contents); an object that
///   HeadObject shows with the same digest is not uploaded again. Only tiles of the growth since the store's
///   `checkpoint` are considered (all of them with `rescan`).
/// - **Resumable.** An interrupted run leaves the old checkpoint in place; the next run considers the same tiles
///   again and skips those already uploaded.
/// - Headers as specs/tiles.md section 6: tiles and bundles `application/octet-stream` with
///   `public, max-age=31536000, immutable`; `checkpoint` `text/plain; charset=utf-8` with `no-cache`.
/// - After the new checkpoint, the partials the previous checkpoint used of tiles that are now full are deleted,
///   as the directory export does.
package enum TileUploader {
    package static let tileContentType = "application/octet-stream"
    package static let tileCacheControl = "public, max-age=31536000, immutable"
    package static let checkpointContentType = "text/plain; charset=utf-8"
    package static let checkpointCacheControl = "no-cache"

    /// Where an upload is: objects considered so far out of the total (the checkpoint included).
    package struct Progress: Sendable {
        package var done: Int
        package var total: Int
        package var uploaded: Int
        package var skipped: Int
        package var bytes: UInt64
    }

    /// What happened to one tile or bundle.
    enum Outcome: Sendable {
        case uploaded(bytes: Int)
        case skipped
        case unservable(TileExportSummary.UnservableBundle)
    }

    /// Makes sure the store holds `resource`: HeadObject, then PutObject unless it is there with the same digest.
    static func publish(_ resource: TileResource, ledger: Ledger, client: S3Client) async throws -> Outcome {
        let bytes: [UInt8]
        do {
            // Full tiles and partials of a given width never change, so a later snapshot has the same bytes.
            bytes = try await ledger.read { try $0.tileData(resource) }
        } catch let error as LedgerError where error.code == .entryTooLarge {
            return .unservable(.init(path: resource.path, reason: error.message))
        }
        let key = client.configuration.location.key(resource.path)
        let existing = try await client.head(key: key)
        if let existing, existing.sha256 == SHA256.hash(bytes).hex, existing.size.map({ $0 == bytes.count }) ?? true {
            return .skipped
        }
        try await client.put(key: key, body: bytes, contentType: tileContentType, cacheControl: tileCacheControl)
        return .uploaded(bytes: bytes.count)
    }

    /// Uploads the tiles the store lacks, `concurrency` at a time, then the checkpoint (see the type's rules).
    package static func upload(
        _ ledger: Ledger, to client: S3Client, rescan: Bool = false, concurrency: Int = 8,
        progress: (Progress) -> Void = { _ in }
    ) async throws -> TileUploadSummary {
        let start = ContinuousClock.now
        let location = client.configuration.location
        let remote = try await client.get(key: location.key("checkpoint"))
        let place = location.description
        let plan = try await ledger.read { snapshot in
            try Plan(snapshot: snapshot, remoteCheckpoint: remote, place: place, rescan: rescan)
        }
        var summary = TileUploadSummary(treeSize: plan.size)
        summary.previousSize = plan.previousSize
        var state = Progress(done: 0, total: plan.resources.count + 1, uploaded: 0, skipped: 0, bytes: 0)
        progress(state)
        // Up to `concurrency` objects at once; the first failure cancels the others and ends the run before the
        // checkpoint.
        try await withThrowingTaskGroup(of: Outcome.self) { group in
            var pending = plan.resources[...]
            func startNext() {
                guard let resource = pending.popFirst() else { return }
                group.addTask { try await publish(resource, ledger: ledger, client: client) }
            }
            for _ in 0..<max(1, concurrency) { startNext() }
            while let outcome = try await group.next() {
                switch outcome {
                case .unservable(let bundle):
                    summary.unservableBundles.append(bundle)
                case .skipped:
                    summary.skipped += 1
                    state.skipped += 1
                case .uploaded(let bytes):
                    summary.uploaded += 1
                    summary.bytesUploaded += UInt64(bytes)
                    state.uploaded += 1
                    state.bytes += UInt64(bytes)
                }
                state.done += 1
                progress(state)
                startNext()
            }
        }
        summary.unservableBundles.sort { $0.path < $1.path }
        if remote != plan.checkpoint {
            try await client.put(
                key: location.key("checkpoint"), body: plan.checkpoint, contentType: checkpointContentType,
                cacheControl: checkpointCacheControl)
            summary.checkpointUploaded = true
            summary.uploaded += 1
            summary.bytesUploaded += UInt64(plan.checkpoint.count)
            state.uploaded += 1
            state.bytes += UInt64(plan.checkpoint.count)
        } else {
            state.skipped += 1
        }
        state.done += 1
        progress(state)
        // A bundle that could not be uploaded keeps its partials: they still serve the checkpoints published before.
        let unservable = Set(summary.unservableBundles.map(\.path))
        for path in plan.stalePartials where !unservable.contains(String(path.prefix { $0 != "." })) {
            do {
                try await client.delete(key: location.key(path))
                summary.stalePartialsDeleted += 1
            } catch {
                // The new checkpoint is published; a stale partial left behind is harmless (C2SP allows keeping it).
                summary.warnings.append("could not delete the stale partial \(location.url(path)): \(error.message)")
            }
        }
        let elapsed = ContinuousClock.now - start
        summary.seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return summary
    }

    /// What one upload publishes, decided from one snapshot.
    struct Plan: Sendable {
        var size: UInt64
        var previousSize: UInt64?
        var checkpoint: [UInt8]
        /// Tiles and bundles to make sure of, level by level, then the bundles.
        var resources: [TileResource] = []
        /// Partials of the previous checkpoint whose tile is now full.
        var stalePartials: [String] = []

        init(snapshot: LedgerSnapshot, remoteCheckpoint: [UInt8]?, place: String, rescan: Bool) throws {
            let signed = try snapshot.checkpoint()
            size = signed.checkpoint.size
            checkpoint = Array(signed.serialized.utf8)
            var old: UInt64 = 0
            if let remoteCheckpoint {
                old = try TileExporter.previousExport(
                    remoteCheckpoint, snapshot: snapshot, place: place, currentSize: size)
                previousSize = old
            }
            let from = rescan ? 0 : old
            var level = 0
            while level < 8 && size >> (8 * level) > 0 {
                let oldTiles = MerkleTile.tiles(treeSize: from, level: level)
                let newTiles = MerkleTile.tiles(treeSize: size, level: level)
                for n in oldTiles.fullCount..<newTiles.fullCount {
                    resources.append(.hashes(MerkleTile(level: level, index: n)!))
                }
                if let partial = newTiles.partial { resources.append(.hashes(partial)) }
                if previousSize != nil, let stale = MerkleTile.tiles(treeSize: old, level: level).partial,
                    stale.index < newTiles.fullCount
                {
                    stalePartials.append(stale.path)
                }
                level += 1
            }
            let oldBundles = MerkleEntryBundle.bundles(treeSize: from)
            let newBundles = MerkleEntryBundle.bundles(treeSize: size)
            for n in oldBundles.fullCount..<newBundles.fullCount {
                resources.append(.entries(MerkleEntryBundle(index: n)!))
            }
            if let partial = newBundles.partial { resources.append(.entries(partial)) }
            if previousSize != nil, let stale = MerkleEntryBundle.bundles(treeSize: old).partial,
                stale.index < newBundles.fullCount
            {
                stalePartials.append(stale.path)
            }
        }
    }
}

/// What `TileUploader.upload` did.
package struct TileUploadSummary: Sendable {
    /// The tree size of the published checkpoint.
    package var treeSize: UInt64
    /// The tree size of the checkpoint the store held before, or `nil` if it held none.
    package var previousSize: UInt64?
    /// Objects uploaded, `checkpoint` included.
    package var uploaded = 0
    /// Tiles and bundles already in the store with the same contents.
    package var skipped = 0
    /// Bytes uploaded.
    package var bytesUploaded: UInt64 = 0
    /// Whether `checkpoint` was uploaded; `false` when the store already held this exact checkpoint.
    package var checkpointUploaded = false
    /// Partials of the previous checkpoint deleted because their full tile now exists.
    package var stalePartialsDeleted = 0
    /// Bundles not uploaded (entries longer than 65,535 bytes).
    package var unservableBundles: [TileExportSummary.UnservableBundle] = []
    /// Problems that did not stop the upload (a stale partial that could not be deleted).
    package var warnings: [String] = []
    /// Wall-clock time taken.
    package var seconds: Double = 0

    package init(treeSize: UInt64) {
        self.treeSize = treeSize
    }
}
