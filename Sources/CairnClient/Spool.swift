import CairnCrypto
import CairnJSON
import CairnStorage
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why the spool could not be used (besides LMDB's own `StorageError`s).
package struct SpoolError: Error, Sendable, Equatable, CustomStringConvertible {
    package let message: String
    package init(_ message: String) { self.message = message }
    package var description: String { message }
}

/// A durable, crash-safe FIFO of records waiting to be appended to Cairn servers
/// (specs/spool.md).
///
/// Thread-safe, and safe to share between processes: the spool is one LMDB environment, whose
/// commits are `fsync`ed before they return, so a record `enqueue` accepted survives a crash or
/// `kill -9` at any later point. A record leaves the queue only through `acknowledge` (after the
/// server confirmed it durable) or `deadLetter` (after the server refused it), each one atomic
/// LMDB transaction. Replays (`Submitter.flush`) are serialized across processes by
/// `withFlushLock`.
///
/// ```swift
/// let spool = try Spool.open(directory: Spool.defaultDirectory(), create: true)!
/// try spool.enqueue([OutgoingRecord(canonicalBytes: bytes)], to: server, reason: "connection refused")
/// let next = try spool.oldest(for: server, limit: 100)
/// ```
package final class Spool: @unchecked Sendable {
    /// The spool's on-disk format (specs/spool.md); a spool of another format is refused.
    package static let format = 1

    /// The spool directory.
    package let directory: String

    private let env: LMDBEnvironment
    private let queue: Table
    private let pending: Table
    private let dead: Table
    private let servers: Table
    private let meta: Table

    private init(directory: String, env: LMDBEnvironment) throws {
        self.directory = directory
        self.env = env
        queue = try env.openTable("queue")
        pending = try env.openTable("pending")
        dead = try env.openTable("dead")
        servers = try env.openTable("servers")
        meta = try env.openTable("meta")
        let stored = try env.read { txn in try txn.value(meta, key: Array("format".utf8)) }
        if let stored {
            guard String(decoding: stored, as: UTF8.self) == String(Self.format) else {
                throw SpoolError(
                    "\(directory) is a spool of format \(String(decoding: stored, as: UTF8.self)); "
                        + "this cairn reads format \(Self.format)")
            }
        } else {
            let meta = self.meta
            try env.write { txn in
                if try txn.value(meta, key: Array("format".utf8)) == nil {
                    try txn.put(meta, key: Array("format".utf8), value: Array(String(Self.format).utf8))
                }
            }
        }
    }

    /// `$CAIRN_SPOOL`, else `$XDG_CACHE_HOME/cairn/spool`, else `~/.cache/cairn/spool`.
    package static func defaultDirectory(
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> String {
        if let explicit = environment["CAIRN_SPOOL"], !explicit.isEmpty { return explicit }
        if let cache = environment["XDG_CACHE_HOME"], cache.hasPrefix("/") { return cache + "/cairn/spool" }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return home + "/.cache/cairn/spool"
    }

    /// Opens the spool in `directory`. When it does not exist yet, creates it (mode 0700, files
    /// 0600) if `create` is true and returns `nil` otherwise.
    package static func open(directory: String, create: Bool) throws -> Spool? {
        let dataFile = directory + "/data.mdb"
        let creating = DurableFiles.kind(of: dataFile) == .missing
        if creating {
            guard create else { return nil }
            // Every directory created here has its entry synced in its parent by the file layer.
            do {
                try DurableFiles.createDirectories(directory, mode: 0o700)
            } catch {
                throw SpoolError("cannot create the spool directory \(directory): \(error.message)")
            }
        }
        var options = LMDBEnvironment.Options()
        options.initialMapSize = 64 << 20
        options.maxTables = 8
        options.fileMode = 0o600
        let env = try LMDBEnvironment.shared(directory: directory, options: options)
        let spool = try Spool(directory: directory, env: env)
        if creating {
            // The first commit fsynced data.mdb; make its entry in the spool directory durable too.
            do {
                try DurableFiles.syncDirectory(directory)
            } catch {
                throw SpoolError("cannot sync the spool directory \(directory): \(error.message)")
            }
        }
        return spool
    }

    // MARK: - Writing

    /// Appends `records` for `server` to the queue, in order, in one durable transaction; when it
    /// returns they are on disk. A record already waiting for the same server is not queued
    /// twice (its existing sequence number is returned with `alreadySpooled`).
    /// `reason` is recorded as the server's last error.
    @discardableResult
    package func enqueue(
        _ records: [OutgoingRecord], to server: ServerAddress, reason: String? = nil, now: Date = Date()
    ) throws -> [(sequence: UInt64, alreadySpooled: Bool)] {
        try env.write { txn throws -> [(sequence: UInt64, alreadySpooled: Bool)] in
            let out = try self.enqueue(txn, records, to: server, at: Self.milliseconds(now))
            if let reason { try self.updateServer(txn, server) { $0.error(reason, at: now) } }
            return out
        }
    }

    private func enqueue(
        _ txn: WriteTransaction, _ records: [OutgoingRecord], to server: ServerAddress, at: UInt64
    )
        throws -> [(sequence: UInt64, alreadySpooled: Bool)]
    {
        var next =
            try txn.value(meta, key: Array("next_seq".utf8)).flatMap { bytes in
                bytes.withUnsafeBytes { BigEndianKey.decode($0) }
            } ?? 1
        var out: [(sequence: UInt64, alreadySpooled: Bool)] = []
        out.reserveCapacity(records.count)
        for record in records {
            let indexKey = Self.pendingKey(server, record.digest)
            if let existing = try txn.value(pending, key: indexKey), existing.count == 8 {
                out.append((existing.withUnsafeBytes { BigEndianKey.decode($0)! }, true))
                continue
            }
            try txn.put(queue, key: next, value: Self.encodeQueueValue(record, server: server, at: at), mode: .append)
            try txn.put(pending, key: indexKey, value: BigEndianKey.bytes(next))
            out.append((next, false))
            next += 1
        }
        try txn.put(meta, key: Array("next_seq".utf8), value: BigEndianKey.bytes(next))
        return out
    }

    /// Removes records the server acknowledged as durable, in one durable transaction.
    package func acknowledge(_ records: [SpooledRecord], now: Date = Date()) throws {
        guard !records.isEmpty else { return }
        let (queue, pending) = (self.queue, self.pending)
        try env.write { txn in
            for spooled in records {
                try txn.delete(queue, key: BigEndianKey.bytes(spooled.sequence))
                try txn.delete(pending, key: Self.pendingKey(spooled.server, spooled.record.digest))
            }
            // The server answered: an earlier failure to reach it is history, not its status.
            for server in Set(records.map(\.server)) {
                try self.updateServer(txn, server) { $0.sent(at: now) }
            }
        }
    }

    /// Moves a record the server refused from the queue to the dead letters, in one durable
    /// transaction.
    package func deadLetter(
        _ spooled: SpooledRecord, error: ClientError, problems: [Problem], now: Date = Date()
    )
        throws
    {
        let (queue, pending, dead) = (self.queue, self.pending, self.dead)
        var reason = JSONObject()
        if let status = error.status { reason["status"] = .number(Double(status)) }
        if let code = error.code { reason["error"] = .string(code) }
        reason["message"] = .string(error.message)
        reason["problems"] = .array(problems.map(Self.json))
        let reasonBytes = JSONWriter.compactBytes(.object(reason))
        var value: [UInt8] = [UInt8(Self.format)]
        value += BigEndianKey.bytes(Self.milliseconds(now))
        value += withUnsafeBytes(of: UInt32(reasonBytes.count).bigEndian, Array.init)
        value += reasonBytes
        value += Self.encodeQueueValue(spooled.record, server: spooled.server, at: Self.milliseconds(spooled.spooledAt))
        try env.write { txn in
            try txn.delete(queue, key: BigEndianKey.bytes(spooled.sequence))
            try txn.delete(pending, key: Self.pendingKey(spooled.server, spooled.record.digest))
            try txn.put(dead, key: spooled.sequence, value: value)
        }
    }

    /// Records a failure to reach `server` (shown by `status()`).
    package func recordFailure(_ message: String, server: ServerAddress, now: Date = Date()) throws {
        try env.write { txn in try self.updateServer(txn, server) { $0.error(message, at: now) } }
    }

    /// Puts every dead letter (of `server`, or all) back at the end of the queue, in their
    /// original order; returns how many.
    @discardableResult
    package func requeueDeadLetters(server: ServerAddress? = nil, now: Date = Date()) throws -> Int {
        let letters = try deadLetters(server: server)
        let dead = self.dead
        return try env.write { txn in
            var requeued = 0
            // Only letters still there: a concurrent purge or requeue may have taken some.
            for letter in letters where try txn.delete(dead, key: BigEndianKey.bytes(letter.sequence)) {
                _ = try self.enqueue(txn, [letter.record], to: letter.server, at: Self.milliseconds(now))
                requeued += 1
            }
            return requeued
        }
    }

    /// Deletes every dead letter (of `server`, or all); returns how many.
    @discardableResult
    package func purgeDeadLetters(server: ServerAddress? = nil) throws -> Int {
        let letters = try deadLetters(server: server)
        let dead = self.dead
        return try env.write { txn in
            try letters.reduce(0) { count, letter in
                count + (try txn.delete(dead, key: BigEndianKey.bytes(letter.sequence)) ? 1 : 0)
            }
        }
    }

    /// Overwrites a `meta` value (tests use it to fake other formats).
    func setMeta(_ key: String, _ value: [UInt8]) throws {
        let meta = self.meta
        try env.write { txn in try txn.put(meta, key: Array(key.utf8), value: value) }
    }

    // MARK: - Reading

    /// The oldest records waiting for `server` with a sequence number above `after`, in queue
    /// order: at most `limit` of them and, beyond the first, at most `maxBytes` bytes in all.
    package func oldest(
        for server: ServerAddress, after: UInt64 = 0, limit: Int = .max, maxBytes: Int = .max
    ) throws -> [SpooledRecord] {
        let queue = self.queue
        let target = Array(server.description.utf8)
        return try env.read { txn in
            try txn.withCursor(queue) { cursor in
                var found: [SpooledRecord] = []
                var bytes = 0
                var entry = try cursor.seek(atLeast: after &+ 1)
                while let (key, value) = entry, found.count < limit {
                    guard let header = Self.decodeHeader(value) else {
                        throw SpoolError("corrupt spool entry \(BigEndianKey.decode(key) ?? 0) in \(self.directory)")
                    }
                    if value[header.serverRange].elementsEqual(target) {
                        let size = value.count - header.recordStart
                        if !found.isEmpty && bytes + size > maxBytes { break }
                        bytes += size
                        found.append(
                            SpooledRecord(
                                sequence: BigEndianKey.decode(key)!, server: server,
                                spooledAt: Date(timeIntervalSince1970: Double(header.at) / 1000),
                                record: OutgoingRecord(
                                    canonicalBytes: Array(value[header.recordStart...]), strict: header.strict)))
                    }
                    entry = try cursor.next()
                }
                return found
            }
        }
    }

    /// How many records wait for `server`.
    package func count(for server: ServerAddress) throws -> Int {
        let pending = self.pending
        let prefix = Array(server.description.utf8) + [0]
        return try env.read { txn in
            var n = 0
            try txn.forEach(pending, prefix: prefix) { _, _ in
                n += 1
                return true
            }
            return n
        }
    }

    /// The dead letters of `server` (all of them when `nil`), in the order the records had in
    /// the queue.
    package func deadLetters(server: ServerAddress?) throws -> [DeadLetter] {
        try deadLetters().filter { server == nil || $0.server == server }
    }

    /// Every dead letter, in the order the records had in the queue.
    package func deadLetters() throws -> [DeadLetter] {
        let dead = self.dead
        return try env.read { txn in
            var letters: [DeadLetter] = []
            try txn.forEach(dead, prefix: []) { key, value in
                guard let letter = Self.decodeDeadLetter(sequence: BigEndianKey.decode(key) ?? 0, value) else {
                    throw SpoolError("corrupt dead letter \(BigEndianKey.decode(key) ?? 0) in \(self.directory)")
                }
                letters.append(letter)
                return true
            }
            return letters
        }
    }

    /// Counts, ages and last errors, per server.
    package func status() throws -> SpoolStatus {
        let (queue, dead, servers) = (self.queue, self.dead, self.servers)
        return try env.read { txn in
            var byServer: [String: SpoolStatus.Server] = [:]
            func entry(_ url: String) -> SpoolStatus.Server {
                byServer[url]
                    ?? SpoolStatus.Server(
                        server: ServerAddress(normalized: url), records: 0, bytes: 0, oldest: nil, lastError: nil,
                        lastErrorAt: nil, lastSentAt: nil)
            }
            try txn.forEach(queue, prefix: []) { key, value in
                guard let header = Self.decodeHeader(value) else {
                    throw SpoolError("corrupt spool entry \(BigEndianKey.decode(key) ?? 0) in \(self.directory)")
                }
                let url = String(decoding: value[header.serverRange], as: UTF8.self)
                var server = entry(url)
                server.records += 1
                server.bytes += value.count - header.recordStart
                let at = Date(timeIntervalSince1970: Double(header.at) / 1000)
                if server.oldest == nil || at < server.oldest! { server.oldest = at }
                byServer[url] = server
                return true
            }
            try txn.forEach(servers, prefix: []) { key, value in
                let url = String(decoding: key, as: UTF8.self)
                let state = ServerState(Array(value))
                var server = entry(url)
                server.lastError = state.lastError
                server.lastErrorAt = state.lastErrorAt
                server.lastSentAt = state.lastSentAt
                byServer[url] = server
                return true
            }
            let list = byServer.values.sorted { $0.server < $1.server }
            return SpoolStatus(
                directory: directory, exists: true, records: list.reduce(0) { $0 + $1.records },
                bytes: list.reduce(0) { $0 + $1.bytes }, oldest: list.compactMap(\.oldest).min(), servers: list,
                deadLetters: try txn.count(dead))
        }
    }

    /// The status of a spool directory that may not exist yet (then: empty, `exists: false`).
    package static func status(directory: String) throws -> SpoolStatus {
        guard let spool = try open(directory: directory, create: false) else {
            return SpoolStatus(
                directory: directory, exists: false, records: 0, bytes: 0, oldest: nil, servers: [], deadLetters: 0)
        }
        return try spool.status()
    }

    // MARK: - Replays, one at a time

    /// Runs `body` holding the spool's flush lock (`flock` on `flush.lock`), so that only one
    /// process or task replays the spool at a time. Waits for the lock; a holder that dies
    /// releases it.
    package func withFlushLock<R>(_ body: () async throws -> R) async throws -> R {
        let path = directory + "/flush.lock"
        let fd = posixOpen(path, O_RDWR | O_CREAT, 0o600)
        guard fd >= 0 else {
            throw SpoolError("cannot open \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else { throw SpoolError("cannot lock \(path): \(String(cString: strerror(errno)))") }
        }
        defer { flock(fd, LOCK_UN) }
        return try await body()
    }

    // MARK: - Encoding (specs/spool.md)

    struct Header {
        let at: UInt64
        let strict: Bool
        let serverRange: Range<Int>
        let recordStart: Int
    }

    static func encodeQueueValue(_ record: OutgoingRecord, server: ServerAddress, at: UInt64) -> [UInt8] {
        let url = Array(server.description.utf8)
        var value: [UInt8] = [UInt8(format)]
        value.reserveCapacity(12 + url.count + record.bytes.count)
        value += BigEndianKey.bytes(at)
        value.append(record.strict ? 1 : 0)
        value += [UInt8(url.count >> 8), UInt8(url.count & 0xff)]
        value += url
        value += record.bytes
        return value
    }

    static func decodeHeader(_ value: UnsafeRawBufferPointer) -> Header? {
        guard value.count >= 12, value[0] == UInt8(format), value[9] & ~1 == 0 else { return nil }
        let at = BigEndianKey.decode(UnsafeRawBufferPointer(rebasing: value[1..<9]))!
        let length = Int(value[10]) << 8 | Int(value[11])
        guard value.count >= 12 + length else { return nil }
        return Header(at: at, strict: value[9] == 1, serverRange: 12..<(12 + length), recordStart: 12 + length)
    }

    static func decodeDeadLetter(sequence: UInt64, _ value: UnsafeRawBufferPointer) -> DeadLetter? {
        guard value.count >= 13, value[0] == UInt8(format) else { return nil }
        let refusedAt = BigEndianKey.decode(UnsafeRawBufferPointer(rebasing: value[1..<9]))!
        let length = Int(value[9]) << 24 | Int(value[10]) << 16 | Int(value[11]) << 8 | Int(value[12])
        guard value.count >= 13 + length else { return nil }
        let reason = try? JSONParser.parse(Array(value[13..<(13 + length)]))
        let rest = UnsafeRawBufferPointer(rebasing: value[(13 + length)...])
        guard let header = decodeHeader(rest) else { return nil }
        let problems = (reason?["problems"]?.arrayValue ?? []).map { item in
            Problem(
                code: item["code"]?.stringValue ?? "unknown", message: item["message"]?.stringValue ?? "",
                line: item["line"]?.intValue, column: item["column"]?.intValue, path: item["path"]?.stringValue)
        }
        return DeadLetter(
            sequence: sequence,
            server: ServerAddress(normalized: String(decoding: rest[header.serverRange], as: UTF8.self)),
            spooledAt: Date(timeIntervalSince1970: Double(header.at) / 1000),
            refusedAt: Date(timeIntervalSince1970: Double(refusedAt) / 1000),
            status: reason?["status"]?.intValue, code: reason?["error"]?.stringValue,
            message: reason?["message"]?.stringValue ?? "", problems: problems,
            record: OutgoingRecord(canonicalBytes: Array(rest[header.recordStart...]), strict: header.strict))
    }

    static func json(_ problem: Problem) -> JSONValue {
        var object = JSONObject()
        object["code"] = .string(problem.code)
        object["message"] = .string(problem.message)
        if let line = problem.line { object["line"] = .number(Double(line)) }
        if let column = problem.column { object["column"] = .number(Double(column)) }
        if let path = problem.path { object["path"] = .string(path) }
        return .object(object)
    }

    static func pendingKey(_ server: ServerAddress, _ digest: SHA256Digest) -> [UInt8] {
        Array(server.description.utf8) + [0] + digest.bytes
    }

    static func milliseconds(_ date: Date) -> UInt64 {
        UInt64(max(0, (date.timeIntervalSince1970 * 1000).rounded()))
    }

    private func updateServer(
        _ txn: WriteTransaction, _ server: ServerAddress, _ change: (inout ServerState) -> Void
    )
        throws
    {
        let key = Array(server.description.utf8)
        var state = ServerState(try txn.value(servers, key: key) ?? [])
        change(&state)
        try txn.put(servers, key: key, value: state.bytes)
    }
}

/// The `servers` table's value: what the spool remembers about talking to one server.
struct ServerState {
    var lastError: String?
    var lastErrorAt: Date?
    var lastSentAt: Date?

    init(_ bytes: [UInt8]) {
        let value = try? JSONParser.parse(bytes)
        lastError = value?["last_error"]?.stringValue
        lastErrorAt = value?["last_error_at"]?.stringValue.flatMap(RFC3339.parse)
        lastSentAt = value?["last_sent_at"]?.stringValue.flatMap(RFC3339.parse)
    }

    mutating func error(_ message: String, at date: Date) {
        lastError = message
        lastErrorAt = date
    }

    /// The server acknowledged records: the last error, if any, no longer describes it.
    mutating func sent(at date: Date) {
        lastSentAt = date
        lastError = nil
        lastErrorAt = nil
    }

    var bytes: [UInt8] {
        var object = JSONObject()
        if let lastError { object["last_error"] = .string(lastError) }
        if let lastErrorAt { object["last_error_at"] = .string(RFC3339.format(lastErrorAt)) }
        if let lastSentAt { object["last_sent_at"] = .string(RFC3339.format(lastSentAt)) }
        return JSONWriter.compactBytes(.object(object))
    }
}

/// RFC 3339 UTC timestamps with milliseconds: `2026-11-20T09:14:03.120Z`.
package enum RFC3339 {
    package static func format(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: date)
    }

    package static func parse(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text)
            ?? {
                formatter.formatOptions = [.withInternetDateTime]
                return formatter.date(from: text)
            }()
    }
}

// Inside `Spool`, `open` names `Spool.open(directory:create:)`; this reaches open(2).
private func posixOpen(_ path: String, _ flags: Int32, _ mode: mode_t = 0) -> Int32 {
    #if canImport(Glibc)
    return Glibc.open(path, flags, mode)
    #else
    return Darwin.open(path, flags, mode)
    #endif
}
