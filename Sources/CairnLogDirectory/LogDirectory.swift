import CairnJSON
import CairnLedger
import CairnNote
import CairnStorage

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a log directory cannot be read, changed or used.
public struct LogDirectoryError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable, Equatable {
        /// There is no `logs.json` in the directory.
        case notFound
        /// `logs.json` does not follow its format; the message names the member.
        case malformed
        /// A log name that cannot be used (in a URL path segment).
        case invalidName
        /// A name, ledger or origin already in the directory.
        case duplicate
        /// A ledger of the directory cannot be opened.
        case ledger
        /// The file cannot be read or written.
        case io
    }

    public let code: Code
    public let message: String
    /// The ledger error behind `.ledger`.
    public let ledgerError: LedgerError?

    public init(_ code: Code, _ message: String, ledgerError: LedgerError? = nil) {
        self.code = code
        self.message = message
        self.ledgerError = ledgerError
    }

    public var description: String { message }
}

/// A directory of logs (specs/sealing.md §6): the file `logs.json` names each ledger of the directory, in the order
/// they were added; everything else — origins, keys, sizes, seals, links between shards — is read from the ledgers
/// themselves, so the file can never contradict them.
///
/// ```json
/// {"format":"cairn-logs/v1","logs":[{"name":"2026","path":"2026"},{"name":"2027","path":"2027"}]}
/// ```
public struct LogDirectory: Sendable {
    /// The file's name in the directory.
    public static let fileName = "logs.json"
    /// The file's `format`.
    public static let format = "cairn-logs/v1"

    /// One registered log.
    public struct Entry: Sendable, Hashable {
        /// The log's name: the path segment under which `cairn serve --logs` serves it (`/logs/NAME/…`).
        public let name: String
        /// The ledger directory, relative to the log directory (or absolute).
        public let path: String
    }

    /// The log directory.
    public let directory: String
    /// The logs, in the order they were added.
    public private(set) var entries: [Entry]

    /// An empty directory listing (nothing written until `save`).
    public init(directory: String) {
        self.directory = directory
        entries = []
    }

    /// The path of `logs.json`.
    public var filePath: String { Self.join(directory, Self.fileName) }

    /// The ledger directory of `entry`.
    public func ledgerPath(_ entry: Entry) -> String {
        entry.path.hasPrefix("/") ? entry.path : Self.join(directory, entry.path)
    }

    /// Reads `logs.json` of `directory`.
    public static func load(_ directory: String) throws(LogDirectoryError) -> LogDirectory {
        var listing = LogDirectory(directory: directory)
        let bytes: [UInt8]?
        do {
            bytes = try DurableFiles.readIfPresent(listing.filePath)
        } catch {
            throw LogDirectoryError(.io, "cannot read \(listing.filePath): \(error.message)")
        }
        guard let bytes else {
            throw LogDirectoryError(
                .notFound, "no log directory at \(directory): \(fileName) is missing (`cairn logs add` creates it)")
        }
        listing.entries = try parse(bytes, path: listing.filePath)
        return listing
    }

    /// Reads `logs.json` of `directory`, or an empty listing when there is none yet.
    public static func loadOrEmpty(_ directory: String) throws(LogDirectoryError) -> LogDirectory {
        do {
            return try load(directory)
        } catch  where error.code == .notFound {
            return LogDirectory(directory: directory)
        }
    }

    /// The entries of a `logs.json` text; any deviation from the format is `.malformed`, naming the member.
    public static func parse(_ bytes: [UInt8], path: String = fileName) throws(LogDirectoryError) -> [Entry] {
        func malformed(_ what: String) -> LogDirectoryError {
            LogDirectoryError(.malformed, "\(path): \(what)")
        }
        guard let value = try? JSONParser.parse(bytes), let object = value.objectValue else {
            throw malformed("not a JSON object")
        }
        guard object["format"]?.stringValue == format else {
            throw malformed("format must be \"\(format)\"")
        }
        if let unknown = object.keys.sorted().first(where: { !["format", "logs"].contains($0) }) {
            throw malformed("unknown member \(JSONWriter.compact(.string(unknown)))")
        }
        guard let items = object["logs"]?.arrayValue else { throw malformed("logs must be an array") }
        var entries: [Entry] = []
        for (position, item) in items.enumerated() {
            guard let fields = item.objectValue, let name = fields["name"]?.stringValue,
                let ledger = fields["path"]?.stringValue, fields.count == 2
            else {
                throw malformed("logs[\(position)] must be an object with exactly a string name and a string path")
            }
            let entry = Entry(name: name, path: ledger)
            do {
                try check(entry, against: entries)
            } catch {
                throw malformed("logs[\(position)]: \(error.message)")
            }
            entries.append(entry)
        }
        return entries
    }

    /// The file's text: canonical JSON and a line feed.
    public var serialized: [UInt8] {
        let logs: [JSONValue] = entries.map { .object(["name": .string($0.name), "path": .string($0.path)]) }
        return ((try? JCS.canonicalize(.object(["format": .string(Self.format), "logs": .array(logs)]))) ?? [])
            + [0x0A]
    }

    /// Registers the ledger at `ledgerPath` (relative to the current directory or absolute) under `name`: the ledger
    /// must open, and neither the name, the ledger nor its origin may be in the directory already. Returns the entry;
    /// `save()` writes it.
    @discardableResult
    public mutating func add(ledger path: String, name: String) throws(LogDirectoryError) -> Entry {
        let origin = try Self.openLedger(path).origin
        let stored = Self.relative(path, to: directory)
        let entry = Entry(name: name, path: stored)
        try Self.check(entry, against: entries)
        for existing in entries {
            if let other = try? Self.openLedger(ledgerPath(existing)), other.origin.utf8.elementsEqual(origin.utf8) {
                throw LogDirectoryError(
                    .duplicate, "the log \(existing.name) already has the origin \(origin): each log needs its own")
            }
        }
        entries.append(entry)
        return entry
    }

    /// Writes `logs.json` durably (replacing it atomically), creating the directory if needed.
    public func save() throws(LogDirectoryError) {
        do {
            _ = try DurableFiles.createDirectories(directory, mode: 0o755)
            try DurableFiles.replace(filePath, contents: serialized, mode: 0o644)
        } catch {
            throw LogDirectoryError(.io, "cannot write \(filePath): \(error)")
        }
    }

    // MARK: - Status

    /// What a log of the directory is now, read from its ledger.
    public struct Status: Sendable {
        public let entry: Entry
        /// The ledger directory.
        public let path: String
        public let origin: String
        public let vkey: NoteVerifierKey
        public let treeSize: UInt64
        public let checkpoint: SignedCheckpoint
        /// Set when the log is sealed.
        public let seal: LedgerSealState?
        /// The log's link to its predecessor (its entry 0), when it is a successor.
        public let predecessor: PredecessorRecord?
        /// The registered log it succeeds, when that log is in the directory.
        public internal(set) var predecessorName: String?
        /// The registered log that succeeds it.
        public internal(set) var successorName: String?
        /// Whether the link to the registered predecessor holds (nil without one): the predecessor's current key
        /// verifies it and it names the predecessor's final checkpoint.
        public internal(set) var linkProblem: String?

        /// An open log with no successor: where appends go.
        public var isCurrent: Bool { seal == nil && successorName == nil }
    }

    /// The status of every log, in the directory's order, with the links between them checked; each ledger is
    /// opened read-only for the call.
    public func statuses() throws(LogDirectoryError) -> [Status] {
        try statuses { (entry: Entry) throws(LogDirectoryError) -> Ledger in try Self.openLedger(ledgerPath(entry)) }
    }

    /// The status of every log, reading each from the ledger `ledger(entry)` returns (a process must not open one
    /// LMDB environment twice: a server passes the ledgers it holds).
    public func statuses(
        _ ledger: (Entry) throws(LogDirectoryError) -> Ledger
    ) throws(LogDirectoryError) -> [Status] {
        var result: [Status] = []
        for entry in entries {
            let path = ledgerPath(entry)
            let ledger = try ledger(entry)
            do {
                let (size, checkpoint) = try ledger.read { ($0.treeSize, try $0.checkpoint()) }
                result.append(
                    Status(
                        entry: entry, path: path, origin: ledger.origin, vkey: ledger.verifierKey, treeSize: size,
                        checkpoint: checkpoint, seal: try ledger.sealState(), predecessor: try ledger.predecessorLink())
                )
            } catch let error as LedgerError {
                throw LogDirectoryError(.ledger, "log \(entry.name) (\(path)): \(error.message)", ledgerError: error)
            } catch {
                throw LogDirectoryError(.ledger, "log \(entry.name) (\(path)): \(error)")
            }
        }
        for index in result.indices {
            guard let link = result[index].predecessor else { continue }
            guard let before = result.firstIndex(where: { $0.origin.utf8.elementsEqual(link.origin.utf8) }) else {
                continue
            }
            result[index].predecessorName = result[before].entry.name
            result[before].successorName = result[index].entry.name
            do {
                let verified = try link.verify(with: result[before].vkey)
                if let seal = result[before].seal, verified.checkpoint != seal.checkpoint.checkpoint {
                    result[index].linkProblem =
                        "links to size \(verified.checkpoint.size) of \(link.origin), which was sealed at "
                        + "\(seal.checkpoint.checkpoint.size)"
                }
            } catch {
                result[index].linkProblem = error.message
            }
        }
        return result
    }

    // MARK: - Helpers

    /// A name is 1 to 64 of A-Z, a-z, 0-9, `.`, `_` and `-`, not `.` or `..`: a URL path segment as it is.
    public static func isValidName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard (1...64).contains(bytes.count), name != ".", name != ".." else { return false }
        return bytes.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
                true
            default: false
            }
        }
    }

    private static func check(_ entry: Entry, against entries: [Entry]) throws(LogDirectoryError) {
        guard isValidName(entry.name) else {
            throw LogDirectoryError(
                .invalidName,
                "the name \(JSONWriter.compact(.string(entry.name))) is not 1 to 64 letters, digits, '.', '_' or '-'")
        }
        guard !entry.path.isEmpty, !entry.path.utf8.contains(0) else {
            throw LogDirectoryError(.malformed, "the path of \(entry.name) is empty or holds a NUL")
        }
        if entries.contains(where: { $0.name == entry.name }) {
            throw LogDirectoryError(.duplicate, "a log named \(entry.name) is already in the directory")
        }
        if entries.contains(where: { $0.path == entry.path }) {
            throw LogDirectoryError(.duplicate, "the ledger \(entry.path) is already in the directory")
        }
    }

    /// Opens a ledger read-only.
    public static func openLedger(_ path: String) throws(LogDirectoryError) -> Ledger {
        var options = Ledger.OpenOptions()
        options.readOnly = true
        do {
            return try Ledger.open(at: path, options: options)
        } catch {
            throw LogDirectoryError(.ledger, "\(path): \(error.message)", ledgerError: error)
        }
    }

    static func join(_ directory: String, _ name: String) -> String {
        directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }

    /// `path` as the directory file stores it: relative to `directory` when it lies inside it, else as given
    /// (absolute when the caller gave an absolute path).
    static func relative(_ path: String, to directory: String) -> String {
        let full = absolute(path)
        let base = absolute(directory)
        let prefix = base.hasSuffix("/") ? base : base + "/"
        return full.hasPrefix(prefix) ? String(full.dropFirst(prefix.count)) : full
    }

    /// `path` made absolute against the current directory, with `.` segments and trailing slashes removed.
    static func absolute(_ path: String) -> String {
        let start = path.hasPrefix("/") ? path : currentDirectory() + "/" + path
        var parts: [Substring] = []
        for part in start.split(separator: "/") where part != "." {
            if part == ".." { _ = parts.popLast() } else { parts.append(part) }
        }
        return "/" + parts.joined(separator: "/")
    }

    /// The process's working directory ("/" if it cannot be read).
    static func currentDirectory() -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        guard getcwd(&buffer, buffer.count) != nil else { return "/" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
