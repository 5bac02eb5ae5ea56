/// Strict parsing and encoding of C2SP tlog-tiles resource paths (https://c2sp.org/tlog-tiles), and the entry
/// bundle format. Normative description: specs/tiles.md.
///
/// Pure value types, `Sendable`. Only the canonical spelling of a resource is accepted — the one `path` produces —
/// so that one resource has exactly one name (a cache never holds two copies, a static file tree never two files)
/// and a path can never name anything outside the tile tree: every component is `tile`, `entries`, a decimal level,
/// a 3-digit group (`x`-prefixed except the last), `<group>.p` or a decimal width. There is no way to spell `..`,
/// an empty component, a leading or trailing slash, a sign, a space or a percent escape.

/// Why a tile path was refused.
public struct TilePathError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A stable identifier of the failure.
    public enum Code: String, Sendable, Equatable, CaseIterable {
        /// Not a canonical tlog-tiles path (HTTP servers answer 400).
        case malformed
        /// A well-formed path naming a tile or bundle that no tree of at most 2^63 − 1 leaves has: level 8…63, or
        /// an index too large (HTTP servers answer 404, like any tile beyond the current tree).
        case outOfRange
    }

    /// What failed.
    public let code: Code
    /// One line naming the path and what is wrong with it.
    public let message: String

    public var description: String { message }

    init(_ code: Code, _ path: String, _ reason: String) {
        self.code = code
        // Quote the path with its non-printable characters escaped, and never echo more than 80 characters of it.
        let shown = path.count > 80 ? String(path.prefix(80)) + "…" : path
        self.message = "tile path \(shown.debugDescription) \(reason)"
    }
}

/// An entry bundle of a C2SP tlog-tiles log: the entries of leaves `index·256 ..< index·256 + width`, served at
/// `tile/entries/<N>[.p/<W>]`.
///
/// Value type, `Sendable`. The bundle is the concatenation, for each entry in order, of its length as a big-endian
/// uint16 and its bytes; entry `i` hashes (RFC 6962 leaf hash) to entry `i` of the level-0 tile with the same index.
/// A full bundle has 256 entries; a partial one 1…255.
public struct MerkleEntryBundle: Hashable, Sendable, CustomStringConvertible {
    /// The number of entries in a full bundle.
    public static let fullWidth = 256
    /// The largest entry a bundle can hold: its length prefix is a uint16.
    public static let maxEntryBytes = Int(UInt16.max)

    /// The bundle's index `N`: it holds leaves N·256 …
    public let index: UInt64
    /// The number of entries, 1…256.
    public let width: Int

    /// A bundle, or `nil` if `width` is not in 1…256 or the bundle would reach beyond `StoredHashIndex.maxTreeSize`
    /// leaves.
    public init?(index: UInt64, width: Int = MerkleEntryBundle.fullWidth) {
        guard (1...Self.fullWidth).contains(width), index <= (StoredHashIndex.maxTreeSize - UInt64(width)) >> 8
        else { return nil }
        self.index = index
        self.width = width
    }

    /// Parses a canonical `tile/entries/<N>[.p/<W>]` path (no leading slash).
    public init(path: String) throws(TilePathError) {
        let parsed = try TilePath.parse(path)
        guard case .entries(let bundle) = parsed else {
            throw TilePathError(.malformed, path, "is a hash tile path, not an entry bundle path (tile/entries/<N>)")
        }
        self = bundle
    }

    /// Whether the bundle has fewer than 256 entries.
    public var isPartial: Bool { width < Self.fullWidth }

    /// The leaf indexes of the entries, in order.
    public var leafIndexes: Range<UInt64> { index << 8..<index << 8 + UInt64(width) }

    /// The number of leaves a tree needs for every entry of this bundle to exist.
    public var requiredTreeSize: UInt64 { leafIndexes.upperBound }

    /// The level-0 hash tile whose entries are the leaf hashes of this bundle's entries.
    public var hashTile: MerkleTile { MerkleTile(level: 0, index: index, width: width)! }

    /// The resource path `tile/entries/<N>[.p/<W>]`.
    public var path: String { "tile/entries/" + TilePath.encode(index: index, width: width) }

    /// The resource path.
    public var description: String { path }

    /// The bundles of a tree of `treeSize` leaves: how many full bundles, and the partial bundle of width
    /// treeSize mod 256, if that is not 0.
    public static func bundles(treeSize: UInt64) -> (fullCount: UInt64, partial: MerkleEntryBundle?) {
        let width = Int(treeSize % UInt64(fullWidth))
        return (treeSize >> 8, width == 0 ? nil : MerkleEntryBundle(index: treeSize >> 8, width: width))
    }

    /// Encodes entries as a bundle: for each, its length (big-endian uint16) then its bytes. Throws
    /// `EntryBundleError.entryTooLarge` for an entry of more than 65,535 bytes; `firstIndex` is the leaf index of
    /// the first entry, used only in that error.
    public static func encode(_ entries: [[UInt8]], firstIndex: UInt64 = 0) throws(EntryBundleError) -> [UInt8] {
        var total = 0
        for (i, entry) in entries.enumerated() {
            guard entry.count <= maxEntryBytes else {
                throw EntryBundleError.entryTooLarge(index: firstIndex + UInt64(i), size: entry.count)
            }
            total += 2 + entry.count
        }
        var out: [UInt8] = []
        out.reserveCapacity(total)
        for entry in entries {
            out.append(UInt8(entry.count >> 8))
            out.append(UInt8(entry.count & 0xff))
            out.append(contentsOf: entry)
        }
        return out
    }

    /// Decodes a bundle into its entries. Throws `EntryBundleError.truncated` when a length prefix or an entry runs
    /// past the end of the data.
    public static func decode(_ bytes: [UInt8]) throws(EntryBundleError) -> [[UInt8]] {
        var entries: [[UInt8]] = []
        var offset = 0
        while offset < bytes.count {
            guard bytes.count - offset >= 2 else { throw EntryBundleError.truncated(offset: offset) }
            let length = Int(bytes[offset]) << 8 | Int(bytes[offset + 1])
            guard bytes.count - offset - 2 >= length else { throw EntryBundleError.truncated(offset: offset) }
            entries.append(Array(bytes[offset + 2..<offset + 2 + length]))
            offset += 2 + length
        }
        return entries
    }
}

/// An entry bundle that cannot be encoded or decoded.
public struct EntryBundleError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A stable identifier of the failure.
    public enum Code: String, Sendable, Equatable, CaseIterable {
        /// An entry is longer than the 65,535 bytes a uint16 length prefix can describe.
        case entryTooLarge
        /// The bundle data ends inside a length prefix or an entry.
        case truncated
    }

    /// What failed.
    public let code: Code
    /// The leaf index of the entry that is too large, for `.entryTooLarge`.
    public let entryIndex: UInt64?
    /// One line saying what is wrong.
    public let message: String

    public var description: String { message }

    /// Entry `index` has `size` bytes, more than a bundle's uint16 length prefix allows.
    public static func entryTooLarge(index: UInt64, size: Int) -> EntryBundleError {
        EntryBundleError(
            code: .entryTooLarge, entryIndex: index,
            message: "entry \(index) is \(size) bytes, more than the \(MerkleEntryBundle.maxEntryBytes) bytes a "
                + "tlog-tiles entry bundle can hold (uint16 length prefix): the bundle holding it cannot be served; "
                + "read the entry with `cairn get \(index)` or GET /entries/\(index)")
    }

    /// The data ends inside the length prefix or entry starting at `offset`.
    public static func truncated(offset: Int) -> EntryBundleError {
        EntryBundleError(
            code: .truncated, entryIndex: nil,
            message: "entry bundle is truncated: the entry at byte offset \(offset) runs past the end of the data")
    }
}

extension MerkleTile {
    /// Parses a canonical `tile/<L>/<N>[.p/<W>]` path (no leading slash).
    public init(path: String) throws(TilePathError) {
        let parsed = try TilePath.parse(path)
        guard case .hashes(let tile) = parsed else {
            throw TilePathError(.malformed, path, "is an entry bundle path, not a hash tile path (tile/<L>/<N>)")
        }
        self = tile
    }
}

/// A tlog-tiles resource under `tile/`: a hash tile or an entry bundle.
public enum TileResource: Hashable, Sendable, CustomStringConvertible {
    /// `tile/<L>/<N>[.p/<W>]`.
    case hashes(MerkleTile)
    /// `tile/entries/<N>[.p/<W>]`.
    case entries(MerkleEntryBundle)

    /// Parses a canonical tile or entry bundle path (no leading slash).
    public init(path: String) throws(TilePathError) {
        self = try TilePath.parse(path)
    }

    /// The resource path.
    public var path: String {
        switch self {
        case .hashes(let tile): tile.path
        case .entries(let bundle): bundle.path
        }
    }

    /// Whether the resource is partial (width below 256).
    public var isPartial: Bool {
        switch self {
        case .hashes(let tile): tile.isPartial
        case .entries(let bundle): bundle.isPartial
        }
    }

    /// The number of leaves a tree needs for the resource to exist.
    public var requiredTreeSize: UInt64 {
        switch self {
        case .hashes(let tile): tile.requiredTreeSize
        case .entries(let bundle): bundle.requiredTreeSize
        }
    }

    public var description: String { path }
}

/// The `<N>[.p/<W>]` part of tile paths.
enum TilePath {
    /// Canonical paths are at most 52 characters (`tile/entries/x018/x446/x744/x073/x709/x551/615.p/255`); anything
    /// much longer is refused before it is looked at.
    static let maxLength = 128

    /// `N` in zero-padded 3-digit groups, all but the last prefixed by `x`, then `.p/<W>` when `width` < 256.
    static func encode(index: UInt64, width: Int) -> String {
        var encoded = ""
        var n = index
        repeat {
            let digits = String(n % 1000)
            let group = String(repeating: "0", count: 3 - digits.count) + digits
            encoded = encoded.isEmpty ? group : "x" + group + "/" + encoded
            n /= 1000
        } while n > 0
        return width < 256 ? encoded + ".p/\(width)" : encoded
    }

    static func parse(_ path: String) throws(TilePathError) -> TileResource {
        guard path.utf8.count <= maxLength else {
            throw TilePathError(.malformed, path, "is longer than any tile path (\(maxLength) bytes at most)")
        }
        let components = path.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false).map {
            Array($0)
        }
        guard components.count >= 3, components[0] == Array("tile".utf8) else {
            throw TilePathError(
                .malformed, path, "does not have the form tile/<L>/<N>[.p/<W>] or tile/entries/<N>[.p/<W>]")
        }
        // The level, or `nil` for entry bundles.
        let level: UInt64?
        if components[1] == Array("entries".utf8) {
            level = nil
        } else {
            guard let value = decimal(components[1], max: 63) else {
                throw TilePathError(
                    .malformed, path,
                    "has level \(text(components[1]).debugDescription): expected 0…63 without leading zeros")
            }
            level = value
        }
        var groups = Array(components[2...])
        // A partial tile's last two components are `<group>.p` and `<W>`.
        var width = 256
        if groups.count >= 2, groups[groups.count - 2].count == 5, groups[groups.count - 2].suffix(2) == [0x2e, 0x70] {
            guard let w = decimal(groups[groups.count - 1], max: 255), w >= 1 else {
                throw TilePathError(
                    .malformed, path,
                    "has partial width \(text(groups[groups.count - 1]).debugDescription): expected 1…255 without leading zeros"
                )
            }
            width = Int(w)
            groups.removeLast()
            groups[groups.count - 1].removeLast(2)
        }
        // All but the last group are `xDDD`, the last `DDD`.
        var index: UInt64 = 0
        var overflow = false
        for (i, group) in groups.enumerated() {
            let isLast = i == groups.count - 1
            let digits = isLast ? group[...] : (group.first == UInt8(ascii: "x") ? group.dropFirst() : [][...])
            guard digits.count == 3, digits.allSatisfy({ (0x30...0x39).contains($0) }) else {
                throw TilePathError(
                    .malformed, path,
                    "has index component \(text(group).debugDescription): expected "
                        + (isLast ? "3 digits (NNN)" : "x and 3 digits (xNNN)"))
            }
            let value = digits.reduce(UInt64(0)) { $0 * 10 + UInt64($1 - 0x30) }
            if i == 0 && !isLast && value == 0 {
                throw TilePathError(
                    .malformed, path, "has a leading x000 group: the index is not written in its shortest form")
            }
            let (scaled, o1) = index.multipliedReportingOverflow(by: 1000)
            let (sum, o2) = scaled.addingReportingOverflow(value)
            overflow = overflow || o1 || o2
            index = sum
        }
        if overflow {
            throw TilePathError(.outOfRange, path, "has an index beyond any tree of at most 2^63 − 1 leaves")
        }
        let resource: TileResource
        if let level {
            guard let tile = MerkleTile(level: Int(level), index: index, width: width) else {
                throw TilePathError(.outOfRange, path, "names a tile beyond any tree of at most 2^63 − 1 leaves")
            }
            resource = .hashes(tile)
        } else {
            guard let bundle = MerkleEntryBundle(index: index, width: width) else {
                throw TilePathError(.outOfRange, path, "names a bundle beyond any tree of at most 2^63 − 1 leaves")
            }
            resource = .entries(bundle)
        }
        // Belt and braces: exactly one spelling per resource.
        guard resource.path == path else {
            throw TilePathError(.malformed, path, "is not canonical; the canonical path is \(resource.path)")
        }
        return resource
    }

    /// A canonical decimal (`0`, or a nonzero digit then digits) no larger than `max`, or `nil`.
    private static func decimal(_ bytes: [UInt8], max: UInt64) -> UInt64? {
        guard !bytes.isEmpty, bytes.count <= 3, bytes.allSatisfy({ (0x30...0x39).contains($0) }),
            bytes.count == 1 || bytes[0] != 0x30
        else { return nil }
        let value = bytes.reduce(UInt64(0)) { $0 * 10 + UInt64($1 - 0x30) }
        return value <= max ? value : nil
    }

    private static func text(_ bytes: [UInt8]) -> String {
        String(decoding: bytes.prefix(24), as: UTF8.self) + (bytes.count > 24 ? "…" : "")
    }
}
