#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A tile directory of partial versions (`<N>.p/`, holding `<W>` files) that could not be opened or listed.
public struct PartialTileDirectoryError: Error, Sendable {
    /// `open` or `list`.
    public let operation: String
    /// `strerror` of the failure.
    public let reason: String
}

/// The removal `cairn export tiles` and `cairn mirror` make once a full tile or bundle exists: its partial versions go.
public enum PartialTileDirectory {
    /// Deletes, in the directory `name` under the open directory `parent`, the partial widths (names of 1 to 3
    /// digits) and the temporary files whose names start with `temporaryPrefix` — nothing else — then the directory
    /// itself if that left it empty. Returns how many widths were deleted (0 when there is no such directory).
    public static func removeWidths(
        in name: String, of parent: Int32, temporaryPrefix: String
    ) throws(PartialTileDirectoryError) -> Int {
        let fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT { return 0 }
            throw PartialTileDirectoryError(operation: "open", reason: String(cString: strerror(errno)))
        }
        guard let listing = fdopendir(fd) else {
            let reason = String(cString: strerror(errno))
            _ = close(fd)
            throw PartialTileDirectoryError(operation: "list", reason: reason)
        }
        var names: [String] = []
        while let entry = readdir(listing) {
            let entryName = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if entryName != "." && entryName != ".." { names.append(entryName) }
        }
        var removed = 0
        for entryName in names {
            // Only partial widths (1…255) and our own temporary files; anything else stays, with its directory.
            let isWidth = entryName.utf8.count <= 3 && entryName.utf8.allSatisfy { (0x30...0x39).contains($0) }
            guard isWidth || entryName.hasPrefix(temporaryPrefix) else { continue }
            if unlinkat(fd, entryName, 0) == 0 && isWidth { removed += 1 }
        }
        closedir(listing)  // closes fd
        _ = unlinkat(parent, name, AT_REMOVEDIR)  // fails, harmlessly, if anything else is left
        return removed
    }
}
