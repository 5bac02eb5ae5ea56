import CairnCrypto
import CairnNote
import CairnRecords

/// The signed statement that describes one backup of a ledger (`cairn backup`): every file of the backup with its
/// size and SHA-256, and the tree size and root hash of each log in it. Specified byte for byte in
/// specs/backup.md; signed, as a C2SP signed note, with the ledger's key (`Ledger.sign(noteText:)`).
///
/// ```
/// cairn-backup-manifest/v1
/// origin example.com/ai-provenance
/// created 2026-12-07T16:30:00.123Z
/// signing-keys excluded
/// ledger . 1234 qJ3b…=
/// ledger access-log 56 Xy9c…=
/// files 5
/// 0b6e…c2 1245184 access-log/data.mdb
/// …
/// ```
public struct BackupManifest: Sendable, Hashable {
    /// The first line: the format and its version. It also keeps a manifest from ever reading as a checkpoint.
    public static let formatLine = "cairn-backup-manifest/v1"
    /// The name of the main log's entry in `ledger` lines: the backup's top directory.
    public static let mainDirectory = "."

    /// One log in the backup, and what its copy holds.
    public struct Log: Sendable, Hashable {
        /// Its directory in the backup: `.` for the main log, else one path segment (`access-log`).
        public let directory: String
        /// The number of entries of the copy.
        public let treeSize: UInt64
        /// The copy's root hash at `treeSize`.
        public let rootHash: SHA256Digest

        public init(directory: String, treeSize: UInt64, rootHash: SHA256Digest) {
            self.directory = directory
            self.treeSize = treeSize
            self.rootHash = rootHash
        }

        /// `path` inside this log's directory, relative to the backup.
        public func path(_ name: String) -> String {
            directory == BackupManifest.mainDirectory ? name : directory + "/" + name
        }
    }

    /// One file of the backup.
    public struct File: Sendable, Hashable {
        /// Its path relative to the backup's top directory (`blobs/ab/cdef…`, `access-log/data.mdb`).
        public let path: String
        public let size: UInt64
        public let sha256: SHA256Digest

        public init(path: String, size: UInt64, sha256: SHA256Digest) {
            self.path = path
            self.size = size
            self.sha256 = sha256
        }
    }

    /// The main log's origin: the name of the key that signs the manifest.
    public let origin: String
    /// When the backup was written, in Unix milliseconds.
    public let created: Int64
    /// Whether the backup holds the logs' signing keys (`--include-key`).
    public let signingKeysIncluded: Bool
    /// The logs, the main one first.
    public let logs: [Log]
    /// Every file, sorted by path (bytewise).
    public let files: [File]

    /// A manifest; `files` are sorted here. Throws if a path breaks the rules of `isValidPath(_:)`, a path
    /// repeats, or the logs are not the main one first and then others in order.
    public init(
        origin: String, created: Int64, signingKeysIncluded: Bool, logs: [Log], files: [File]
    ) throws(BackupError) {
        self.origin = origin
        self.created = min(max(created, Timestamp.range.lowerBound), Timestamp.range.upperBound)
        self.signingKeysIncluded = signingKeysIncluded
        self.logs = logs
        self.files = files.sorted { Self.precedes($0.path, $1.path) }
        try Self.check(origin: origin, logs: logs, files: self.files)
    }

    /// The main log (the first).
    public var main: Log { logs[0] }

    /// The total size of the files, in bytes.
    public var totalBytes: UInt64 { files.reduce(0) { $0 &+ $1.size } }

    /// The text the ledger key signs.
    public var text: String {
        var text = Self.formatLine + "\n"
        text += "origin \(origin)\n"
        text += "created \(Timestamp.format(created))\n"
        text += "signing-keys \(signingKeysIncluded ? "included" : "excluded")\n"
        for log in logs { text += "ledger \(log.directory) \(log.treeSize) \(log.rootHash.base64)\n" }
        text += "files \(files.count)\n"
        for file in files { text += "\(file.sha256.hex) \(file.size) \(file.path)\n" }
        return text
    }

    /// Parses a manifest text (the signed note's text, not the whole note). Strict: the lines in order, every
    /// value in its one canonical spelling, so that a parsed manifest prints back exactly; every path safe to
    /// join to a directory (`isValidPath(_:)`). Signatures are not checked here.
    public init(parsing text: String) throws(BackupError) {
        func fail(_ line: Int, _ message: String) -> BackupError {
            BackupError(.malformedManifest, "the manifest's line \(line): \(message)")
        }
        func shown(_ line: Substring) -> String { String(line.prefix(80)).debugDescription }
        guard text.hasSuffix("\n") else {
            throw BackupError(.malformedManifest, "the manifest text must end with a newline")
        }
        var lines = text.linesSplitAtLF()
        if lines.last == "" { lines.removeLast() }
        guard lines.first == Substring(Self.formatLine) else {
            throw fail(
                1,
                "expected \(Self.formatLine.debugDescription), found \(lines.first.map(shown) ?? "nothing") (not a Cairn "
                    + "backup manifest, or one of a newer cairn)")
        }
        var index = 1
        func field(_ key: String) throws(BackupError) -> String {
            guard index < lines.count else { throw fail(index + 1, "the manifest ends; expected \"\(key) …\"") }
            let line = lines[index]
            guard line.hasPrefix(key + " ") else {
                throw fail(index + 1, "expected \"\(key) …\", found \(shown(line))")
            }
            index += 1
            return String(line.dropFirst(key.count + 1))
        }
        let origin = try field("origin")
        let createdText = try field("created")
        guard let created = Timestamp.parse(createdText), Timestamp.format(created) == createdText else {
            throw fail(
                3, "created must be an RFC 3339 UTC time as Cairn writes it, found \(createdText.debugDescription)")
        }
        let keys = try field("signing-keys")
        guard keys == "included" || keys == "excluded" else {
            throw fail(4, "signing-keys must be included or excluded, found \(keys.debugDescription)")
        }
        var logs: [Log] = []
        while index < lines.count, lines[index].hasPrefix("ledger ") {
            let parts = lines[index].dropFirst("ledger ".count).split(separator: " ", omittingEmptySubsequences: false)
            guard parts.count == 3, let size = Self.decimal(parts[1]), let root = Self.base64Digest(parts[2]) else {
                throw fail(index + 1, "expected \"ledger DIRECTORY SIZE ROOT\", found \(shown(lines[index]))")
            }
            logs.append(Log(directory: String(parts[0]), treeSize: size, rootHash: root))
            index += 1
        }
        let countText = try field("files")
        guard let count = Self.decimal(Substring(countText)) else {
            throw fail(index, "files must be a decimal number, found \(countText.debugDescription)")
        }
        guard UInt64(lines.count - index) == count else {
            throw fail(index, "files says \(count) but \(lines.count - index) line(s) follow")
        }
        var files: [File] = []
        files.reserveCapacity(Int(count))
        while index < lines.count {
            let parts = lines[index].split(separator: " ", omittingEmptySubsequences: false)
            guard parts.count == 3, parts[0].utf8.count == 64, parts[0].utf8.allSatisfy(Self.isLowerHex),
                let digest = SHA256Digest(hex: parts[0]), let size = Self.decimal(parts[1])
            else {
                throw fail(index + 1, "expected \"SHA256 SIZE PATH\", found \(shown(lines[index]))")
            }
            files.append(File(path: String(parts[2]), size: size, sha256: digest))
            index += 1
        }
        try Self.check(origin: origin, logs: logs, files: files)
        self.origin = origin
        self.created = created
        self.signingKeysIncluded = keys == "included"
        self.logs = logs
        self.files = files
    }

    // MARK: - Rules

    /// Whether `path` may name a file of a backup: one to eight segments joined by `/`, each 1 to 255 bytes of
    /// ASCII letters, digits, `.`, `_` and `-`, none starting with `.` (no `..`, no hidden file, no absolute path,
    /// nothing a restore could write outside its directory), at most 1,024 bytes in all.
    public static func isValidPath(_ path: String) -> Bool {
        guard !path.isEmpty, path.utf8.count <= 1024 else { return false }
        let segments = path.split(separator: "/", omittingEmptySubsequences: false)
        guard segments.count <= 8 else { return false }
        return segments.allSatisfy { segment in
            guard let first = segment.utf8.first, first != UInt8(ascii: "."), segment.utf8.count <= 255 else {
                return false
            }
            return segment.utf8.allSatisfy { byte in
                (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                    || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                    || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: ".")
                    || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
            }
        }
    }

    /// The structure every manifest has: an origin a key can be named after; the main log first, then other logs
    /// in their directories' order, each in one path segment; paths valid, sorted and unique; each log's
    /// `data.mdb` and `ledger.vkey` listed.
    private static func check(origin: String, logs: [Log], files: [File]) throws(BackupError) {
        func fail(_ message: String) -> BackupError {
            BackupError(.malformedManifest, "the manifest: " + message)
        }
        guard !origin.isEmpty, !origin.contains(" "), !origin.contains("+") else {
            throw fail("the origin \(origin.debugDescription) cannot be a log's origin")
        }
        guard let first = logs.first, first.directory == mainDirectory else {
            throw fail("the first ledger line must be the main log's, \"ledger . SIZE ROOT\"")
        }
        var previous: String?
        for log in logs.dropFirst() {
            guard isValidPath(log.directory), !log.directory.contains("/") else {
                throw fail("a ledger directory must be one path segment, found \(log.directory.debugDescription)")
            }
            if let previous, !precedes(previous, log.directory) {
                throw fail("the ledger lines are not sorted by directory, or repeat one (\(log.directory))")
            }
            previous = log.directory
        }
        var last: String?
        for file in files {
            guard isValidPath(file.path) else {
                throw fail("\(String(file.path.prefix(80)).debugDescription) is not a path a backup may hold")
            }
            if let last, !precedes(last, file.path) {
                throw fail("the files are not sorted by path, or repeat one (\(file.path))")
            }
            last = file.path
        }
        let paths = Set(files.map(\.path))
        for log in logs {
            for name in [LedgerBackup.dataFileName, LedgerLayout.verifierKeyFile] where !paths.contains(log.path(name))
            {
                throw fail("the files do not include \(log.path(name)), which every log's copy has")
            }
        }
    }

    /// Bytewise order of paths (what `sort` with LC_ALL=C gives).
    static func precedes(_ a: String, _ b: String) -> Bool {
        a.utf8.lexicographicallyPrecedes(b.utf8)
    }

    private static func decimal(_ text: Substring) -> UInt64? {
        guard let value = UInt64(text), String(value) == text else { return nil }
        return value
    }

    private static func base64Digest(_ text: Substring) -> SHA256Digest? {
        guard let digest = SHA256Digest(base64: text), digest.base64 == text else { return nil }
        return digest
    }

    private static func isLowerHex(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
    }
}

/// Why a backup, its verification or a restore failed, with a stable code (the CLI's exit status follows from
/// it) and a one-line message that names the file and says what to do.
public struct BackupError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable, Equatable, CaseIterable {
        // Taking a backup.
        /// DEST cannot hold the backup: a file, a non-empty directory that is not a Cairn backup, or the backup
        /// of another log.
        case destinationUnusable
        /// The ledger failed a check while it was copied (a blob's file does not hash to its address, the copy's
        /// checkpoint does not verify): run `cairn fsck` on it.
        case sourceCorrupt
        /// The signing key, needed to sign the manifest, is missing, unreadable or not the ledger's.
        case signingKeyUnavailable
        /// A file could not be read, written or synced (a full disk, an I/O error, a permission).
        case io
        // Verifying a backup, and restoring one.
        /// The backup directory (or, for a restore, SRC) does not exist.
        case notFound
        /// The backup has no manifest: interrupted, failed, or not a backup.
        case manifestMissing
        /// The manifest is not a signed note of the format specs/backup.md describes.
        case malformedManifest
        /// The manifest is not signed by the trusted key (or names another log).
        case wrongKey
        /// A signature by the trusted key does not verify: the manifest was changed after signing.
        case badSignature
        /// A file the manifest lists is missing.
        case fileMissing
        /// A file's size or SHA-256 is not the manifest's, or it is not a regular file.
        case fileMismatch
        /// The backup holds a file the manifest does not list.
        case unlistedFile
        /// A log's copy fails `fsck`.
        case copyInconsistent
        /// A log's copy has another tree size or root hash than the manifest says.
        case rootMismatch
        /// The restore's target directory exists and is not empty (or is a file).
        case targetNotEmpty
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// Whether this says the backup is not what its manifest claims (or not a valid backup at all) — as opposed
    /// to an error that stopped the check (a missing directory, an unreadable file).
    public var isVerificationFailure: Bool {
        switch code {
        case .manifestMissing, .malformedManifest, .wrongKey, .badSignature, .fileMissing, .fileMismatch,
            .unlistedFile, .copyInconsistent, .rootMismatch:
            true
        default:
            false
        }
    }

    public var description: String { message }
}
