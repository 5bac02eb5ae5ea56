import CairnCrypto
import CairnLedger
import Foundation

/// A record on its way to a server: its canonical JSON bytes and content address.
public struct OutgoingRecord: Sendable, Hashable {
    /// The record's RFC 8785 canonical JSON (one line, no newline).
    public let bytes: [UInt8]
    /// SHA-256 of `bytes`: the address the server will answer with.
    public let digest: SHA256Digest
    /// Send with `?strict=true` (refuse fields the schema does not define).
    public let strict: Bool

    public init(canonicalBytes bytes: [UInt8], strict: Bool = false) {
        self.bytes = bytes
        self.digest = SHA256.hash(bytes)
        self.strict = strict
    }

    public init(_ entry: PreparedEntry, strict: Bool = false) {
        self.bytes = entry.bytes
        self.digest = entry.digest
        self.strict = strict
    }
}

/// A record waiting in the spool.
public struct SpooledRecord: Sendable, Hashable {
    /// Its place in the spool's queue: records are replayed in increasing `sequence`.
    public let sequence: UInt64
    /// The server it is for.
    public let server: ServerAddress
    /// When it was spooled.
    public let spooledAt: Date
    public let record: OutgoingRecord
}

/// A record a server refused, kept aside so that it neither blocks the queue nor gets lost.
public struct DeadLetter: Sendable, Hashable {
    /// The sequence number it had in the queue.
    public let sequence: UInt64
    public let server: ServerAddress
    public let spooledAt: Date
    /// When the server refused it.
    public let refusedAt: Date
    /// The HTTP status of the refusal.
    public let status: Int?
    /// The server's error code (`invalid_record`, `rejected`, `too_large`…).
    public let code: String?
    public let message: String
    /// The server's problems for this record (their `line` is that of the original request).
    public let problems: [Problem]
    public let record: OutgoingRecord
}

/// What `Spool.status()` reports.
public struct SpoolStatus: Sendable, Hashable {
    /// One server's share of the spool.
    public struct Server: Sendable, Hashable {
        public let server: ServerAddress
        /// Records waiting for it.
        public var records: Int
        /// Their canonical bytes, in total.
        public var bytes: Int
        /// When the oldest of them was spooled.
        public var oldest: Date?
        /// The last failure talking to it (the reason records were spooled or a flush stopped).
        public var lastError: String?
        public var lastErrorAt: Date?
        /// The last time spooled records were acknowledged by it.
        public var lastSentAt: Date?
    }

    public let directory: String
    /// Whether the spool has been created at all.
    public let exists: Bool
    public let records: Int
    public let bytes: Int
    public let oldest: Date?
    /// Servers with waiting records or a recorded history, by URL.
    public let servers: [Server]
    public let deadLetters: Int
}
