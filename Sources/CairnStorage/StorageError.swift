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
    }

    public let code: Code
    /// The LMDB result code, for `.lmdb` errors.
    public let resultCode: LMDBResultCode?
    /// One line saying what failed and why.
    public let message: String

    public init(code: Code, resultCode: LMDBResultCode? = nil, message: String) {
        self.code = code
        self.resultCode = resultCode
        self.message = message
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
