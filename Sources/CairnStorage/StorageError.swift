import CCairnLMDB

/// An LMDB result code, as a value callers can switch on (like GRDB's `ResultCode`).
public struct LMDBResultCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    public static let success = LMDBResultCode(rawValue: MDB_SUCCESS)
    public static let keyExists = LMDBResultCode(rawValue: MDB_KEYEXIST)
    public static let notFound = LMDBResultCode(rawValue: MDB_NOTFOUND)
    public static let mapFull = LMDBResultCode(rawValue: MDB_MAP_FULL)
    public static let mapResized = LMDBResultCode(rawValue: MDB_MAP_RESIZED)
    public static let readersFull = LMDBResultCode(rawValue: MDB_READERS_FULL)
    public static let tablesFull = LMDBResultCode(rawValue: MDB_DBS_FULL)
    public static let invalid = LMDBResultCode(rawValue: MDB_INVALID)
    public static let corrupted = LMDBResultCode(rawValue: MDB_CORRUPTED)
    public static let versionMismatch = LMDBResultCode(rawValue: MDB_VERSION_MISMATCH)

    /// LMDB's own text for the code (also covers errno values such as ENOENT or EACCES).
    public var description: String { String(cString: mdb_strerror(rawValue)) }
}

/// An error from the storage layer: which operation failed, on what, and LMDB's reason.
public struct StorageError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of failure this is, for callers that want to react to it.
    public enum Code: Sendable, Equatable {
        /// LMDB returned a non-success code (see `resultCode`).
        case lmdb
        /// A stored value does not have the size or shape the caller expects.
        case corruptValue
        /// A key or value is larger than LMDB allows.
        case tooLarge
        /// Committing a write transaction failed (writing or syncing its pages or meta page):
        /// the caller cannot know what reached the disk, and must not retry as if nothing had.
        case commitFailed
        /// `data.mdb` exists but is empty (0 bytes): an interrupted copy or creation, not an
        /// environment. Checked before LMDB maps the file.
        case emptyDataFile
        /// `data.mdb` is not an LMDB data file this library reads: its meta pages are short, or
        /// have the wrong magic number, page flags, version or page size.
        case invalidDataFile
        /// `data.mdb` is shorter than its newest meta page says (an interrupted copy): mapping it
        /// would fault (SIGBUS) on the first page beyond the end.
        case truncatedDataFile
        /// A previous map resize failed and LMDB's map could not be restored; the environment
        /// must be reopened (by restarting the process).
        case unusable
    }

    public let code: Code
    /// The LMDB result code, for `.lmdb` errors.
    public let resultCode: LMDBResultCode?
    /// One line saying what failed and why.
    public let message: String
    /// The file concerned, for the data-file codes.
    public let path: String?
    /// The size the file must have at least and the size it has, for `.truncatedDataFile`
    /// (and `.emptyDataFile`, with the smallest possible environment as the expectation).
    public let sizes: SizeMismatch?

    /// An expected minimum size and the actual size of a file, in bytes.
    public struct SizeMismatch: Sendable, Equatable {
        public let expected: UInt64
        public let actual: UInt64

        public init(expected: UInt64, actual: UInt64) {
            self.expected = expected
            self.actual = actual
        }
    }

    public init(
        code: Code, resultCode: LMDBResultCode? = nil, message: String, path: String? = nil,
        sizes: SizeMismatch? = nil
    ) {
        self.code = code
        self.resultCode = resultCode
        self.message = message
        self.path = path
        self.sizes = sizes
    }

    static func lmdb(_ rc: Int32, _ operation: String) -> StorageError {
        let code = LMDBResultCode(rawValue: rc)
        return StorageError(code: .lmdb, resultCode: code, message: "\(operation): \(code)")
    }

    public var description: String { message }
}

@inline(__always)
func check(_ rc: Int32, _ operation: @autoclosure () -> String) throws {
    if rc != MDB_SUCCESS { throw StorageError.lmdb(rc, operation()) }
}
