#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What the meta pages of an LMDB data file (`data.mdb`) say, read with `pread` before LMDB maps
/// the file, and the check that the file is whole.
///
/// Why: LMDB maps `data.mdb` at the full map size and trusts its newest meta page. A file cut
/// short — an interrupted copy, `head -c 8192 data.mdb` — is mapped anyway, and the first read of
/// a page beyond the end kills the process with SIGBUS: no error, no message, in every command
/// including `cairn fsck`. `LMDBEnvironment` therefore checks the file first and throws a
/// `StorageError` (`.emptyDataFile`, `.invalidDataFile`, `.truncatedDataFile`) naming the file,
/// the size it must have and the size it has.
///
/// The layout is `MDB_meta` of LMDB's mdb.c (data version 1), in native byte order, with W the
/// size of a pointer (8 on the 64-bit systems Cairn runs on). Page 0 starts at offset 0 and page 1
/// at the page size; each is a page header (`mp_pgno`: W bytes, `mp_pad`: 2, `mp_flags`: 2,
/// `P_META` = 0x08; `mp_lower`/`mp_upper`: 2 + 2) followed by:
///
/// | offset (W = 8) | field |
/// | --- | --- |
/// | 16 | `mm_magic` (u32) = 0xBEEFC0DE |
/// | 20 | `mm_version` (u32) = 1 |
/// | 24 | `mm_address` (W) |
/// | 32 | `mm_mapsize` (W) |
/// | 40 | `mm_dbs[0]`, the free-page DB (`MDB_db`, 8 + 5W bytes); its `md_pad` (u32 at 40) is the page size |
/// | 88 | `mm_dbs[1]`, the main DB |
/// | 136 | `mm_last_pg` (W): the last page in use |
/// | 144 | `mm_txnid` (W): the transaction that wrote this meta page |
///
/// LMDB uses the meta page with the larger transaction id. Every page that tree can reach was
/// written (and synced) before that meta page was, so the file must hold at least every page up
/// to the highest one in use. That is not simply `mm_last_pg`: a page allocated and freed within
/// one transaction is never written, so a whole file may end before `mm_last_pg` (LMDB reads only
/// pages in use). The pages at the top that are free are found in the free-page DB — a B-tree
/// whose root is `mm_dbs[0].md_root` (byte 80; all ones when empty), keyed by transaction id,
/// whose values are page lists (a count, then page numbers, all W bytes; a long list lives in
/// overflow pages) — which is read with `pread` too. Its pages must lie within the file as well.
/// (Should the free-page DB be too large or unexpected in shape, only the roots of the two core
/// DBs are checked.) LMDB never shrinks the file, so a concurrent commit cannot make a whole file
/// fail this check.
public struct LMDBDataFile: Sendable, Equatable {
    /// The file's path.
    public let path: String
    /// Its size in bytes when it was checked.
    public let fileSize: UInt64
    /// The page size recorded in the meta pages.
    public let pageSize: UInt64
    /// The last page allocated (`mm_last_pg`), from the newest meta page.
    public let lastPage: UInt64
    /// The highest page that is not free: the file must hold it. When the file holds every page up to
    /// `lastPage`, this is `lastPage` (nothing beyond the file's end can be in use, so the free-page list is
    /// not walked: on a large ledger with a long free list the walk cost milliseconds at every open).
    public let highestPageInUse: UInt64
    /// The transaction id of the newest meta page.
    public let transactionID: UInt64
    /// The map size recorded in the newest meta page.
    public let mapSize: UInt64

    /// The size the file must have at least: `(highestPageInUse + 1) × pageSize`.
    public var requiredSize: UInt64 { (highestPageInUse + 1) * pageSize }

    /// The LMDB magic number (`MDB_MAGIC`).
    static let magic: UInt32 = 0xBEEF_C0DE
    /// The data format version of LMDB 0.9 (`MDB_DATA_VERSION`).
    static let version: UInt32 = 1
    /// `P_META`, the page flag of a meta page.
    static let metaPageFlag: UInt16 = 0x08

    private static let word = MemoryLayout<Int>.size
    private static let headerSize = word + 8
    private static let magicOffset = headerSize
    private static let versionOffset = headerSize + 4
    private static let mapSizeOffset = headerSize + 8 + word
    private static let pageSizeOffset = headerSize + 8 + 2 * word
    /// `md_root` of `mm_dbs[0]` (free pages) and `mm_dbs[1]` (main).
    private static let freeRootOffset = headerSize + 8 + 2 * word + 8 + 4 * word
    private static let mainRootOffset = freeRootOffset + 8 + 5 * word
    private static let lastPageOffset = headerSize + 24 + 12 * word
    private static let txnidOffset = headerSize + 24 + 13 * word
    /// The bytes of a page that hold its header and meta data (`sizeof(MDB_metabuf)`).
    static let metaBytes = headerSize + 24 + 14 * word

    /// The path of the data file of the environment in `directory`.
    public static func path(inDirectory directory: String) -> String {
        directory.hasSuffix("/") ? directory + "data.mdb" : directory + "/data.mdb"
    }

    /// Reads and checks `data.mdb` in `directory`; `nil` if there is no such file. Throws
    /// `.emptyDataFile`, `.invalidDataFile` or `.truncatedDataFile`, or `.lmdb` with the system
    /// error when the file cannot be read.
    public static func inspect(directory: String) throws(StorageError) -> LMDBDataFile? {
        try inspect(path: path(inDirectory: directory))
    }

    /// Reads and checks the LMDB data file at `path`; `nil` if there is no such file.
    public static func inspect(path: String) throws(StorageError) -> LMDBDataFile? {
        let fd = sysOpen(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw StorageError.lmdb(errno, "cannot open \(path)")
        }
        defer { close(fd) }
        let first = try readMetaPage(fd, path: path, offset: 0)
        guard let first else {
            // Nothing could be read at offset 0: the file is empty.
            throw StorageError(
                code: .emptyDataFile,
                message: "\(path) is empty (0 bytes), but an LMDB data file starts with two meta pages "
                    + "(at least \(2 * UInt64(systemPageSize)) bytes): an interrupted copy or creation? "
                    + "Restore the directory from a complete copy",
                path: path, sizes: .init(expected: 2 * UInt64(systemPageSize), actual: 0))
        }
        let page0 = try parse(first, page: 0, path: path, fileSize: try size(fd, path: path))
        let second = try readMetaPage(fd, path: path, offset: page0.pageSize)
        // Sizes are read after the meta pages: a writer extends the file before it writes the
        // meta page that covers the extension, so this order never sees a false truncation.
        let fileSize = try size(fd, path: path)
        guard let second, second.count == metaBytes else {
            let expected = page0.pageSize * 2
            throw truncated(path, expected: expected, actual: fileSize, detail: "it ends before its second meta page")
        }
        let page1 = try parse(second, page: 1, path: path, fileSize: fileSize)
        guard page1.pageSize == page0.pageSize else {
            throw invalid(
                path, fileSize: fileSize,
                reason: "its meta pages disagree on the page size (\(page0.pageSize) and \(page1.pageSize))")
        }
        let newest = page1.txnid > page0.txnid ? page1 : page0
        let (pages, overflow1) = newest.lastPage.addingReportingOverflow(1)
        let (extent, overflow2) = pages.multipliedReportingOverflow(by: newest.pageSize)
        // File offsets are signed 64-bit: a larger extent cannot be a real file.
        guard !overflow1, !overflow2, extent <= UInt64(Int64.max), newest.lastPage >= 1 else {
            throw invalid(
                path, fileSize: fileSize, reason: "its meta page names an impossible last page \(newest.lastPage)")
        }
        for (name, root) in [("free-page", newest.freeRoot), ("main", newest.mainRoot)] where root != invalidPage {
            guard root >= 2, root <= newest.lastPage else {
                throw invalid(
                    path, fileSize: fileSize,
                    reason: "its newest meta page puts the root of the \(name) tree at page \(root), outside pages "
                        + "2–\(newest.lastPage)")
            }
        }
        let pagesInFile = fileSize / newest.pageSize
        let highest = try highestPageInUse(fd, path: path, meta: newest, pagesInFile: pagesInFile, fileSize: fileSize)
        let required = (highest + 1) * newest.pageSize
        guard fileSize >= required else {
            throw truncated(
                path, expected: required, actual: fileSize,
                detail: "its newest meta page (transaction \(newest.txnid)) uses pages up to \(highest) "
                    + "of \(newest.pageSize) bytes")
        }
        return LMDBDataFile(
            path: path, fileSize: fileSize, pageSize: newest.pageSize, lastPage: newest.lastPage,
            highestPageInUse: highest, transactionID: newest.txnid, mapSize: newest.mapSize)
    }

    // MARK: - The free-page DB

    /// The highest page at most `meta.lastPage` that is not in the free-page DB. Throws
    /// `.truncatedDataFile` if a page of the free-page DB itself lies beyond the end of the file.
    private static func highestPageInUse(
        _ fd: Int32, path: String, meta: Meta, pagesInFile: UInt64, fileSize: UInt64
    ) throws(StorageError) -> UInt64 {
        // Every page up to the last is in the file: whatever is free, nothing in use lies beyond its end.
        if pagesInFile > meta.lastPage { return meta.lastPage }
        let roots = [meta.freeRoot, meta.mainRoot].filter { $0 != invalidPage }
        let rootBound = roots.max() ?? 1
        guard word == 8, meta.freeRoot != invalidPage else {
            // Nothing is free (or this is not a 64-bit layout): the last page is in use.
            return word == 8 ? meta.lastPage : max(1, rootBound)
        }
        var walk = FreeListWalk(fd: fd, path: path, pageSize: meta.pageSize, lastPage: meta.lastPage)
        do {
            try walk.visit(meta.freeRoot, depth: 0)
        } catch .beyondEnd(let page) {
            throw truncated(
                path, expected: (page + 1) * meta.pageSize, actual: fileSize,
                detail: "page \(page) of its free-page list (newest meta page, transaction \(meta.txnid)) "
                    + "lies beyond its end")
        } catch .unreadable(let code) {
            throw StorageError.lmdb(code, "cannot read \(path)")
        } catch {
            // An unexpected shape or a very long list: check only what is surely in use.
            return max(1, rootBound)
        }
        var highest = meta.lastPage
        while highest > 1 && walk.free.contains(highest) { highest -= 1 }
        return max(highest, rootBound)
    }

    /// LMDB's `P_INVALID`: no page (an empty tree's root).
    private static let invalidPage = UInt64.max

    /// Reads the free-page DB's B-tree with `pread`, collecting the free page numbers.
    private struct FreeListWalk {
        enum Failure: Error {
            case beyondEnd(UInt64)
            case unreadable(Int32)
            case unexpected
            case tooLarge
        }

        let fd: Int32
        let path: String
        let pageSize: UInt64
        let lastPage: UInt64
        var free: Set<UInt64> = []
        var visited = 0

        /// Pages read at most (400 MB with 4 KiB pages) before settling for the weaker check.
        static let pageLimit = 100_000
        /// The largest single read (one overflow run of a long free-page list).
        static let readLimit: UInt64 = 64 << 20
        static let branchFlag: UInt16 = 0x01
        static let leafFlag: UInt16 = 0x02
        static let overflowFlag: UInt16 = 0x04
        static let bigDataFlag: UInt16 = 0x01

        init(fd: Int32, path: String, pageSize: UInt64, lastPage: UInt64) {
            self.fd = fd
            self.path = path
            self.pageSize = pageSize
            self.lastPage = lastPage
        }

        /// `count` pages starting at `page`, which must lie within the file.
        mutating func read(_ page: UInt64, count: UInt64 = 1) throws(Failure) -> [UInt8] {
            guard page >= 2, page <= lastPage, count >= 1, count <= lastPage - page + 1 else { throw .unexpected }
            guard count <= Self.readLimit / pageSize else { throw .tooLarge }
            visited += Int(count)
            guard visited <= Self.pageLimit else { throw .tooLarge }
            let bytes = Int(count * pageSize)
            var buffer = [UInt8](repeating: 0, count: bytes)
            var filled = 0
            while filled < bytes {
                let n = buffer.withUnsafeMutableBytes { raw in
                    raw.baseAddress.map {
                        sysPread(
                            fd, $0 + filled, bytes - filled, off_t(page * pageSize) + off_t(filled), path: path)
                    } ?? -1
                }
                if n < 0 { throw .unreadable(errno) }
                if n == 0 { throw .beyondEnd(page + UInt64(filled) / pageSize) }
                filled += n
            }
            return buffer
        }

        mutating func visit(_ page: UInt64, depth: Int) throws(Failure) {
            guard depth < 32 else { throw .unexpected }
            let bytes = try read(page)
            let flags = u16(bytes, 10)
            let lower = Int(u16(bytes, 12))
            guard lower >= 16, lower <= bytes.count else { throw .unexpected }
            for i in 0..<((lower - 16) / 2) {
                let node = Int(u16(bytes, 16 + 2 * i))
                guard node >= 16, node + 8 <= bytes.count else { throw .unexpected }
                let lo = UInt64(u16(bytes, node))
                let hi = UInt64(u16(bytes, node + 2))
                let nodeFlags = u16(bytes, node + 4)
                let keySize = Int(u16(bytes, node + 6))
                if flags & Self.branchFlag != 0 {
                    try visit(lo | hi << 16 | UInt64(nodeFlags) << 32, depth: depth + 1)
                } else if flags & Self.leafFlag != 0 {
                    let dataSize = Int(lo | hi << 16)
                    let start = node + 8 + keySize
                    if nodeFlags & Self.bigDataFlag != 0 {
                        guard start + 8 <= bytes.count else { throw .unexpected }
                        try collectOverflow(u64(bytes, start), size: dataSize)
                    } else {
                        guard start + dataSize <= bytes.count else { throw .unexpected }
                        try collect(bytes, from: start, size: dataSize)
                    }
                } else {
                    throw .unexpected
                }
            }
        }

        /// A page list stored in overflow pages starting at `page`.
        mutating func collectOverflow(_ page: UInt64, size: Int) throws(Failure) {
            let header = try read(page)
            guard u16(header, 10) & Self.overflowFlag != 0 else { throw .unexpected }
            let count = UInt64(u32(header, 12))
            let bytes = count > 1 ? try read(page, count: count) : header
            guard 16 + size <= bytes.count else { throw .unexpected }
            try collect(bytes, from: 16, size: size)
        }

        /// An `MDB_IDL`: a count, then that many page numbers.
        mutating func collect(_ bytes: [UInt8], from start: Int, size: Int) throws(Failure) {
            guard size >= 8 else { throw .unexpected }
            let count = u64(bytes, start)
            guard count <= UInt64((size - 8) / 8) else { throw .unexpected }
            for i in 0..<Int(count) {
                let page = u64(bytes, start + 8 + 8 * i)
                if page <= lastPage { free.insert(page) }
            }
        }

        private func u16(_ bytes: [UInt8], _ offset: Int) -> UInt16 {
            UInt16(littleEndian: UInt16(bytes[offset]) | UInt16(bytes[offset + 1]) << 8)
        }

        private func u32(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
            var value: UInt32 = 0
            for i in 0..<4 { value |= UInt32(bytes[offset + i]) << (8 * i) }
            return UInt32(littleEndian: value)
        }

        private func u64(_ bytes: [UInt8], _ offset: Int) -> UInt64 {
            var value: UInt64 = 0
            for i in 0..<8 { value |= UInt64(bytes[offset + i]) << (8 * i) }
            return UInt64(littleEndian: value)
        }
    }

    private struct Meta {
        let pageSize: UInt64
        let lastPage: UInt64
        let txnid: UInt64
        let mapSize: UInt64
        let freeRoot: UInt64
        let mainRoot: UInt64
    }

    /// Up to `metaBytes` bytes at `offset`; `nil` when the file ends at or before `offset`.
    private static func readMetaPage(_ fd: Int32, path: String, offset: UInt64) throws(StorageError) -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: metaBytes)
        var filled = 0
        while filled < metaBytes {
            let n = buffer.withUnsafeMutableBytes { raw in
                raw.baseAddress.map {
                    sysPread(fd, $0 + filled, metaBytes - filled, off_t(offset) + off_t(filled), path: path)
                } ?? -1
            }
            if n < 0 { throw StorageError.lmdb(errno, "cannot read \(path)") }
            if n == 0 { break }
            filled += n
        }
        return filled == 0 ? nil : Array(buffer[0..<filled])
    }

    private static func parse(_ bytes: [UInt8], page: Int, path: String, fileSize: UInt64) throws(StorageError) -> Meta
    {
        guard bytes.count == metaBytes else {
            if page == 0, bytes.count >= magicOffset + 4, uint32(bytes, magicOffset) == magic {
                var pageSize = UInt64(systemPageSize)
                if bytes.count >= pageSizeOffset + 4 {
                    let recorded = UInt64(uint32(bytes, pageSizeOffset))
                    if recorded >= 512 && recorded <= 65536 && recorded & (recorded - 1) == 0 { pageSize = recorded }
                }
                throw truncated(
                    path, expected: 2 * pageSize, actual: fileSize,
                    detail: "it ends inside its first meta page")
            }
            throw invalid(
                path, fileSize: fileSize,
                reason: "it is too short to hold an LMDB meta page (\(metaBytes) bytes) and does not start with one")
        }
        let flags = UInt16(bytes[word + 2]) | UInt16(bytes[word + 3]) << 8
        let foundMagic = uint32(bytes, magicOffset)
        guard foundMagic == magic else {
            throw invalid(
                path, fileSize: fileSize,
                reason: "meta page \(page) has magic number 0x\(String(foundMagic, radix: 16)), "
                    + "not LMDB's 0x\(String(magic, radix: 16))")
        }
        guard flags & metaPageFlag != 0 else {
            throw invalid(path, fileSize: fileSize, reason: "page \(page) is not marked as a meta page")
        }
        let foundVersion = uint32(bytes, versionOffset)
        guard foundVersion == version else {
            throw invalid(
                path, fileSize: fileSize,
                reason: "meta page \(page) has data format version \(foundVersion); this LMDB reads version \(version)")
        }
        let pageSize = UInt64(uint32(bytes, pageSizeOffset))
        guard pageSize >= 512, pageSize <= 65536, pageSize & (pageSize - 1) == 0 else {
            throw invalid(path, fileSize: fileSize, reason: "meta page \(page) has an impossible page size \(pageSize)")
        }
        return Meta(
            pageSize: pageSize, lastPage: pointerSized(bytes, lastPageOffset), txnid: pointerSized(bytes, txnidOffset),
            mapSize: pointerSized(bytes, mapSizeOffset), freeRoot: pointerSized(bytes, freeRootOffset),
            mainRoot: pointerSized(bytes, mainRootOffset))
    }

    private static func size(_ fd: Int32, path: String) throws(StorageError) -> UInt64 {
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw StorageError.lmdb(errno, "cannot inspect \(path)") }
        return UInt64(max(0, st.st_size))
    }

    private static func uint32(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
        var value: UInt32 = 0
        for i in 0..<4 { value |= UInt32(bytes[offset + i]) << (8 * i) }
        return UInt32(littleEndian: value)
    }

    private static func pointerSized(_ bytes: [UInt8], _ offset: Int) -> UInt64 {
        var value: UInt64 = 0
        for i in 0..<word { value |= UInt64(bytes[offset + i]) << (8 * i) }
        return UInt64(littleEndian: value)
    }

    private static var systemPageSize: Int { max(4096, Int(sysconf(Int32(_SC_PAGESIZE)))) }

    private static func truncated(_ path: String, expected: UInt64, actual: UInt64, detail: String) -> StorageError {
        StorageError(
            code: .truncatedDataFile,
            message: "\(path) is truncated: \(detail), so it must have at least \(expected) bytes, "
                + "but it has \(actual) (an interrupted copy?); restore the directory from a complete copy",
            path: path, sizes: .init(expected: expected, actual: actual))
    }

    private static func invalid(_ path: String, fileSize: UInt64, reason: String) -> StorageError {
        StorageError(
            code: .invalidDataFile,
            message: "\(path) is not an LMDB data file this cairn can read: \(reason) (the file has \(fileSize) bytes)",
            path: path)
    }
}
