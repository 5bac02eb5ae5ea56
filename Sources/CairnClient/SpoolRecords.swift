import CairnCrypto
import CairnLedger
import Foundation

/// A record on its way to a server: its canonical JSON bytes and content address.
package struct OutgoingRecord: Sendable, Hashable {
    /// The record's RFC 8785 canonical JSON (one line, no newline).
    package let bytes: [UInt8]
    /// SHA-256 of `bytes`: the address the server will answer with.
    package let digest: SHA256Digest
    /// Send with `?strict=true` (refuse fields the schema does not define).
    package let strict: Bool

    package init(canonicalBytes bytes: [UInt8], strict: Bool = false) {
        self.bytes = bytes
        self.digest = SHA256.hash(bytes)
        self.strict = strict
    }

    package init(_ entry: PreparedEntry, strict: Bool = false) {
        self.bytes = entry.bytes
        self.digest = entry.digest
        self.strict = strict
    }
}

/// A record waiting in the spool.
package struct SpooledRecord: Sendable, Hashable {
    /// Its place in the spool's queue: records are replayed in increasing `sequence`.
    package let sequence: UInt64
    /// The server it is for.
    package let server: ServerAddress
    /// When it was spooled.
    package let spooledAt: Date
    package let record: OutgoingRecord
}

/// A record a server refused, kept aside so that it neither blocks the queue nor gets lost.
package struct DeadLetter: Sendable, Hashable {
    /// The sequence number it had in the queue.
    package let sequence: UInt64
    package let server: ServerAddress
    package let spooledAt: Date
    /// When the server refused it.
    package let refusedAt: Date
    /// The HTTP status of the refusal.
    package let status: Int?
    /// The server's error code (`invalid_record`, `rejected`, `too_large`…).
    package let code: String?
    package let message: String
    /// The server's problems for this record (their `line` is that of the original request).
    package let problems: [Problem]
    package let record: OutgoingRecord
}

/// What `Spool.status()` reports.
package struct SpoolStatus: Sendable, Hashable {
    /// One server's share of the spool.
    package struct Server: Sendable, Hashable {
        package let server: ServerAddress
        /// Records waiting for it.
        package var records: Int
        /// Their canonical bytes, in total.
        package var bytes: Int
        /// When the oldest of them was spooled.
        package var oldest: Date?
        /// The last failure talking to it (the reason records were spooled or a flush stopped).
        package var lastError: String?
        package var lastErrorAt: Date?
        /// The last time spooled records were acknowledged by it.
        package var lastSentAt: Date?
    }

    package let directory: String
    /// Whether the spool has been created at all.
    package let exists: Bool
    package let records: Int
    package let bytes: Int
    package let oldest: Date?
    /// Servers with waiting records or a recorded history, by URL.
    package let servers: [Server]
    package let deadLetters: Int
}
