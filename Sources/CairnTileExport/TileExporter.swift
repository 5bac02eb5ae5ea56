import CairnCrypto
import CairnLedger
import CairnMerkle
import CairnNote
import CairnStorage

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Publishes a ledger as static C2SP tlog-tiles files (https://c2sp.org/tlog-tiles; normative for Cairn:
/// specs/tiles.md), for any web server, CDN or object store to serve (docs/publishing-tiles.md).
///
/// Reads through one ledger snapshot, writes only inside the export directory.
package enum TileExporter {
    /// Writes the log as static C2SP tlog-tiles files under `directory` (created if missing): `checkpoint`, every
    /// hash tile `tile/<L>/<N>[.p/<W>]` and every entry bundle `tile/entries/<N>[.p/<W>]` of the current tree.
    ///
    /// Incremental: the `checkpoint` file left by the previous export says which tiles already exist, and only the
    /// tiles of the growth since are considered (`options.rescan` considers every tile). A file that exists is never
    /// rewritten — full tiles are immutable, and a partial tile's path names its width, so an existing file always
    /// has the right contents. Each file is written to a temporary file, synced and renamed, so a web server
    /// serving the directory never sees half a file; `checkpoint` is replaced last, after every tile it needs is
    /// durable. Then the partial tiles of tiles that are now full are deleted (C2SP tlog-tiles allows it); other
    /// partial tiles stay, so every checkpoint an export has published stays servable.
    ///
    /// Only ever writes inside `directory`: every path is built from validated tile coordinates, and directories
    /// are opened relative to `directory` without following symbolic links (a symbolic link inside it is refused).
    /// Bundles that hold an entry longer than 65,535 bytes are not written; they are listed in the summary.
    /// Refuses a directory that holds another log's export or a larger tree than this ledger.
    package static func export(
        _ ledger: Ledger, to directory: String, options: TileExportOptions = TileExportOptions()
    ) throws -> TileExportSummary {
        // One snapshot: every tile, bundle and the checkpoint come from the same tree.
        try ledger.read { snapshot in try export(snapshot, to: directory, options: options) }
    }

    /// `export(_:to:options:)` from a snapshot the caller already holds.
    package static func export(
        _ snapshot: LedgerSnapshot, to directory: String, options: TileExportOptions = TileExportOptions()
    ) throws -> TileExportSummary {
        let start = ContinuousClock.now
        let signed = try snapshot.checkpoint()
        let size = signed.checkpoint.size
        let tree = try TileExportTree(directory: directory)
        defer { tree.closeAll() }

        var summary = TileExportSummary(treeSize: size)
        let checkpointBytes = Array(signed.serialized.utf8)
        let previous = try tree.contents(of: ["checkpoint"])
        var from: UInt64 = 0
        if let previous {
            let old = try previousExport(previous, snapshot: snapshot, place: directory, currentSize: size)
            summary.previousSize = old
            from = options.rescan ? 0 : old
        }

        // Hash tiles, level by level, then the entry bundles. The partials of tiles that are now full are deleted
        // only after the new checkpoint is in place: until then, readers of the old one may still fetch them.
        var stale: [String] = []
        var level = 0
        while level < 8 && size >> (8 * level) > 0 {
            let oldTiles = MerkleTile.tiles(treeSize: from, level: level)
            let newTiles = MerkleTile.tiles(treeSize: size, level: level)
            for n in oldTiles.fullCount..<newTiles.fullCount {
                let tile = MerkleTile(level: level, index: n)!
                if try tree.store(tile.path, ifAbsent: { try snapshot.hashTile(tile) }) {
                    summary.tilesWritten += 1
                } else {
                    summary.tilesSkipped += 1
                }
                stale.append(tile.path)
            }
            if let partial = newTiles.partial {
                if try tree.store(partial.path, ifAbsent: { try snapshot.hashTile(partial) }) {
                    summary.partialTilesWritten += 1
                } else {
                    summary.tilesSkipped += 1
                }
            }
            level += 1
        }
        let oldBundles = MerkleEntryBundle.bundles(treeSize: from)
        let newBundles = MerkleEntryBundle.bundles(treeSize: size)
        var bundles = (oldBundles.fullCount..<newBundles.fullCount).map { MerkleEntryBundle(index: $0)! }
        if let partial = newBundles.partial { bundles.append(partial) }
        for bundle in bundles {
            do {
                if try tree.store(bundle.path, ifAbsent: { try snapshot.entryBundle(bundle) }) {
                    if bundle.isPartial {
                        summary.partialBundlesWritten += 1
                    } else {
                        summary.bundlesWritten += 1
                    }
                } else {
                    summary.bundlesSkipped += 1
                }
                if !bundle.isPartial { stale.append(bundle.path) }
            } catch let error as LedgerError where error.code == .entryTooLarge {
                // Not written, so its partials (written before the large entry arrived) stay.
                summary.unservableBundles.append(.init(path: bundle.path, reason: error.message))
            }
        }

        // Every tile the new checkpoint needs is durable before the checkpoint appears.
        try tree.syncDirectories()
        if previous != checkpointBytes {
            try tree.replace(["checkpoint"], with: checkpointBytes)
            summary.checkpointWritten = true
        }
        for path in stale {
            summary.stalePartialsRemoved += try tree.removePartials(of: path)
        }
        try tree.syncDirectories()
        summary.filesWritten = tree.filesWritten
        summary.bytesWritten = tree.bytesWritten
        let elapsed = ContinuousClock.now - start
        summary.seconds =
            Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return summary
    }

    /// Checks the `checkpoint` a previous export left at `place` (a directory or an `s3://` location) and returns
    /// its size.
    static func previousExport(
        _ bytes: [UInt8], snapshot: LedgerSnapshot, place directory: String, currentSize: UInt64
    ) throws -> UInt64 {
        let old: Checkpoint
        do {
            old = try SignedCheckpoint(parsing: bytes).verify(
                logKey: snapshot.ledger.verifierKey, origin: snapshot.ledger.origin)
        } catch {
            throw LedgerError(
                .alreadyExists,
                "\(directory)/checkpoint is not a checkpoint of this log (\(error)): choose an empty directory, or "
                    + "the directory of an earlier export of this ledger")
        }
        guard old.size <= currentSize else {
            throw LedgerError(
                .alreadyExists,
                "\(directory) holds an export of tree size \(old.size), larger than this ledger's \(currentSize): "
                    + "it was exported from another copy of the log; refusing to publish an older tree over it")
        }
        guard try snapshot.rootHash(size: old.size) == old.rootHash else {
            throw LedgerError(
                .alreadyExists,
                "\(directory)/checkpoint (size \(old.size)) has a root hash this ledger does not have at that size: "
                    + "the directory holds an export of a different tree; refusing to mix them")
        }
        return old.size
    }
}

private func errnoText() -> String { String(cString: strerror(errno)) }

/// Options for `TileExporter.export(_:to:options:)`.
package struct TileExportOptions: Sendable {
    /// Consider every tile of the tree, not only those grown since the previous export: writes any tile that is
    /// missing from the directory (existing files are still never rewritten).
    package var rescan = false

    package init() {}
}

/// What `TileExporter.export(_:to:options:)` did.
package struct TileExportSummary: Sendable, Hashable {
    /// A bundle that was not written because one of its entries is longer than 65,535 bytes.
    package struct UnservableBundle: Sendable, Hashable {
        /// The bundle's path, e.g. `tile/entries/003`.
        package let path: String
        /// Which entry is too large, and where to read it instead.
        package let reason: String
    }

    /// The tree size of the exported checkpoint.
    package var treeSize: UInt64
    /// The tree size of the checkpoint the directory held before, or `nil` if it held none.
    package var previousSize: UInt64?
    /// Full hash tiles written.
    package var tilesWritten = 0
    /// Partial hash tiles written.
    package var partialTilesWritten = 0
    /// Hash tiles (full or partial) that already existed and were left alone.
    package var tilesSkipped = 0
    /// Full entry bundles written.
    package var bundlesWritten = 0
    /// Partial entry bundles written.
    package var partialBundlesWritten = 0
    /// Entry bundles that already existed and were left alone.
    package var bundlesSkipped = 0
    /// Partial tiles and bundles deleted because the full tile or bundle now exists.
    package var stalePartialsRemoved = 0
    /// Whether `checkpoint` was (re)written; `false` when it already held this exact checkpoint.
    package var checkpointWritten = false
    /// Files written, including `checkpoint`.
    package var filesWritten = 0
    /// Bytes written.
    package var bytesWritten: UInt64 = 0
    /// Bundles not written (entries longer than 65,535 bytes).
    package var unservableBundles: [UnservableBundle] = []
    /// Wall-clock time taken.
    package var seconds: Double = 0

    package init(treeSize: UInt64) {
        self.treeSize = treeSize
    }
}

/// The export directory, reached only through file descriptors opened relative to its root without following
/// symbolic links, so nothing is ever written outside it.
private final class TileExportTree {
    let directory: String
    private let root: Int32
    /// Open directories below the root, by relative path.
    private var directories: [String: Int32] = [:]
    /// Directories written to since the last sync.
    private var dirty: Set<String> = []
    private var temporaryCounter = 0
    private(set) var filesWritten = 0
    private(set) var bytesWritten: UInt64 = 0

    init(directory: String) throws {
        self.directory = directory
        try Self.createDirectories(directory)
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else {
            throw LedgerError(.storage, "cannot open export directory \(directory): \(errnoText())")
        }
        root = fd
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let reason = errno == EWOULDBLOCK ? "another `cairn export tiles` is writing to it" : errnoText()
            close(fd)
            throw LedgerError(.storage, "cannot lock export directory \(directory): \(reason)")
        }
    }

    func closeAll() {
        for fd in directories.values { _ = close(fd) }
        directories.removeAll()
        _ = close(root)  // also releases the lock
    }

    /// Creates `path` and its missing parents (mode 0755: the export is meant to be published).
    static func createDirectories(_ path: String) throws {
        var prefix = path.hasPrefix("/") ? "/" : ""
        for component in path.split(separator: "/") {
            prefix += component + "/"
            if mkdir(prefix, 0o755) != 0 && errno != EEXIST {
                throw LedgerError(.storage, "cannot create directory \(prefix): \(errnoText())")
            }
        }
    }

    /// Splits a relative path into components, refusing anything but the names tile paths are made of.
    private func components(_ path: String) throws -> [String] {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        for part in parts {
            guard !part.isEmpty, part != ".", part != "..", part.utf8.count <= 16,
                part.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x7a).contains($0) || $0 == 0x2e })
            else {
                throw LedgerError(.invalidArgument, "refusing to write \(path.debugDescription) in the export")
            }
        }
        return parts
    }

    /// The directory at `components` below the root, created (mode 0755) if `create`; `nil` if it does not exist
    /// and `create` is false.
    private func openDirectory(_ components: ArraySlice<String>, create: Bool) throws -> Int32? {
        guard !components.isEmpty else { return root }
        let key = components.joined(separator: "/")
        if let fd = directories[key] { return fd }
        guard let parent = try openDirectory(components.dropLast(), create: create) else { return nil }
        let name = components.last!
        var fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        if fd < 0 && errno == ENOENT && create {
            if mkdirat(parent, name, 0o755) != 0 && errno != EEXIST {
                throw LedgerError(.storage, "cannot create directory \(directory)/\(key): \(errnoText())")
            }
            dirty.insert(components.dropLast().joined(separator: "/"))
            fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        }
        if fd < 0 {
            if errno == ENOENT && !create { return nil }
            let reason =
                errno == ELOOP || errno == ENOTDIR
                ? "it is not a directory (symbolic links are refused)" : errnoText()
            throw LedgerError(.storage, "cannot open \(directory)/\(key): \(reason)")
        }
        directories[key] = fd
        return fd
    }

    /// What is at `path`: `nil` if nothing; throws if it is anything but a regular file.
    private func regularFileExists(_ parent: Int32, _ name: String, path: String) throws -> Bool {
        var st = stat()
        guard fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else {
            if errno == ENOENT { return false }
            throw LedgerError(.storage, "cannot inspect \(directory)/\(path): \(errnoText())")
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            throw LedgerError(
                .storage, "\(directory)/\(path) exists and is not a regular file (symbolic links are refused)")
        }
        return true
    }

    /// Writes `path` with the bytes `make` returns, unless a file is already there. Returns whether it wrote.
    func store(_ path: String, ifAbsent make: () throws -> [UInt8]) throws -> Bool {
        let parts = try components(path)
        let parent = try openDirectory(parts.dropLast(), create: true)!
        if try regularFileExists(parent, parts.last!, path: path) { return false }
        try writeFile(parent, parts, make())
        return true
    }

    /// Writes `path`, replacing any file there.
    func replace(_ path: [String], with bytes: [UInt8]) throws {
        let parts = try components(path.joined(separator: "/"))
        let parent = try openDirectory(parts.dropLast(), create: true)!
        _ = try regularFileExists(parent, parts.last!, path: parts.joined(separator: "/"))
        try writeFile(parent, parts, bytes)
        try syncDirectories()
    }

    /// The contents of the regular file at `path`, or `nil` if there is none.
    func contents(of path: [String]) throws -> [UInt8]? {
        let parts = try components(path.joined(separator: "/"))
        guard let parent = try openDirectory(parts.dropLast(), create: false) else { return nil }
        let fd = openat(parent, parts.last!, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT { return nil }
            throw LedgerError(
                .storage, "cannot read \(directory)/\(parts.joined(separator: "/")): \(errnoText())")
        }
        defer { _ = close(fd) }
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else {
                throw LedgerError(
                    .storage, "cannot read \(directory)/\(parts.joined(separator: "/")): \(errnoText())")
            }
            if n == 0 { return out }
            out.append(contentsOf: buffer[0..<n])
            guard out.count <= 1 << 16 else {
                throw LedgerError(
                    .invalidArgument, "\(directory)/\(parts.joined(separator: "/")) is not a checkpoint (too large)")
            }
        }
    }

    /// Writes a temporary file next to the target, syncs it and renames it into place.
    private func writeFile(_ parent: Int32, _ parts: [String], _ bytes: [UInt8]) throws {
        let path = parts.joined(separator: "/")
        temporaryCounter += 1
        let temporary = ".cairn-export-\(getpid())-\(temporaryCounter).tmp"
        let fd = openat(parent, temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw LedgerError(.storage, "cannot create a file next to \(directory)/\(path): \(errnoText())")
        }
        var ok = false
        defer {
            if !ok { unlinkat(parent, temporary, 0) }
        }
        do {
            try DurableFiles.fill(fd, path: "\(directory)/\(path)", contents: bytes, mode: 0o644)
        } catch {
            _ = close(fd)
            throw LedgerError(.storage, "cannot write \(directory)/\(path): \(error)")
        }
        _ = close(fd)
        guard renameat(parent, temporary, parent, parts.last!) == 0 else {
            throw LedgerError(
                .storage, "cannot move a file into place at \(directory)/\(path): \(errnoText())")
        }
        ok = true
        dirty.insert(parts.dropLast().joined(separator: "/"))
        filesWritten += 1
        bytesWritten += UInt64(bytes.count)
    }

    /// Deletes the partial versions `<path>.p/<W>` of the full tile or bundle at `path`, and their directory.
    /// Returns how many files were deleted.
    func removePartials(of path: String) throws -> Int {
        var parts = try components(path)
        parts[parts.count - 1] += ".p"
        guard let parent = try openDirectory(parts.dropLast(), create: false) else { return 0 }
        let removed: Int
        do {
            removed = try PartialTileDirectory.removeWidths(
                in: parts.last!, of: parent, temporaryPrefix: ".cairn-export-")
        } catch {
            throw LedgerError(
                .storage, "cannot \(error.operation) \(directory)/\(parts.joined(separator: "/")): \(error.reason)")
        }
        dirty.insert(parts.dropLast().joined(separator: "/"))
        return removed
    }

    /// Syncs every directory that gained or lost an entry, so renames are durable.
    func syncDirectories() throws {
        for key in dirty {
            guard
                let fd = try openDirectory(
                    key.isEmpty ? [] : key.split(separator: "/").map(String.init)[...], create: false)
            else { continue }
            do {
                try DurableFiles.sync(fd, path: "\(directory)/\(key)")
            } catch {
                throw LedgerError(.storage, "cannot sync the directory \(directory)/\(key): \(error)")
            }
        }
        dirty.removeAll()
    }
}
