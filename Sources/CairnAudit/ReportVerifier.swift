import CairnCrypto
import CairnLedger
import CairnNote
import Foundation

/// Why a report failed verification. `message` is one line meant for people.
public struct ReportVerificationError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable, Equatable, CaseIterable {
        /// The manifest is not a signed note or not a manifest of a version this cairn knows.
        case malformedManifest
        /// The manifest carries no signature by the verifier key (another key signed it).
        case wrongKey
        /// The verifier key's signature on the manifest does not verify: the manifest was changed.
        case badSignature
        /// The checkpoint embedded in the manifest is not signed by the verifier key, or names
        /// another log.
        case badCheckpoint
        /// The report's bytes do not have the manifest's length and SHA-256.
        case reportMismatch
        /// The ledger given to recompute the report is not the log the checkpoint was signed for
        /// (its root at that size differs).
        case ledgerMismatch
        /// Recomputing the report from the ledger gives different bytes.
        case recomputedMismatch
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}

/// What a successful verification established.
public struct ReportVerification: Sendable, Hashable {
    /// The verified manifest.
    public let manifest: ReportManifest
    /// Whether the report was also recomputed from a ledger and found identical.
    public let recomputed: Bool
}

/// Checks a report against its manifest (and, with a ledger, against the ledger itself).
public enum ReportVerifier {
    /// Verifies, in this order: that `manifest` is a signed note carrying a valid signature by
    /// `key`; that its text is a manifest of a known version (`ReportManifest.versions`); that its
    /// embedded checkpoint is signed by `key` for the log `key` names; that the report (read in
    /// pieces from `report`) has the manifest's length and SHA-256; and, when `ledger` is given,
    /// that the ledger has the checkpoint's root at its size and that recomputing the report there,
    /// with the rules of the manifest's version, gives the same bytes.
    ///
    /// - Parameter report: returns the report's next bytes (empty at the end); called again from
    ///   the start (after `rewind`) for the byte-by-byte comparison with a recomputed report.
    /// - Throws: `ReportVerificationError` when something does not verify; ledger and I/O
    ///   errors as they are.
    public static func verify(
        report: ReportSource, manifest: [UInt8], key: NoteVerifierKey, ledger: Ledger? = nil
    ) throws -> ReportVerification {
        let note: SignedNote
        do {
            note = try SignedNote(parsing: manifest)
        } catch {
            throw ReportVerificationError(.malformedManifest, "the manifest is not a signed note: \(error.message)")
        }
        do {
            try note.verify(with: [key])
        } catch {
            switch error.code {
            case .badSignature:
                throw ReportVerificationError(
                    .badSignature,
                    "the manifest's signature by \(key.nameAndID) does not verify: the manifest was changed after signing"
                )
            default:
                throw ReportVerificationError(
                    .wrongKey,
                    "the manifest is not signed by \(key.nameAndID) (signed by: "
                        + note.signatures.map { "\($0.name)+\(hex8($0.keyID))" }.joined(separator: ", ") + ")")
            }
        }
        let parsed: ReportManifest
        do {
            parsed = try ReportManifest(parsing: note.text)
        } catch {
            throw ReportVerificationError(.malformedManifest, "manifest \(error.message)")
        }
        do {
            try parsed.checkpoint.verify(logKey: key)
        } catch {
            throw ReportVerificationError(.badCheckpoint, "the manifest's checkpoint does not verify: \(error.message)")
        }

        let (count, digest) = try hash(report)
        guard count == parsed.byteCount, digest == parsed.sha256 else {
            throw ReportVerificationError(
                .reportMismatch,
                "the report does not match the manifest: it has \(count) bytes and SHA-256 \(digest.hex), "
                    + "the manifest says \(parsed.byteCount) bytes and \(parsed.sha256.hex)")
        }
        guard let ledger else { return ReportVerification(manifest: parsed, recomputed: false) }

        let size = parsed.treeSize
        return try ledger.read { snapshot in
            try recompute(parsed, report: report, snapshot: snapshot, size: size)
        }
    }

    private static func recompute(
        _ parsed: ReportManifest, report: some ReportSource, snapshot: LedgerSnapshot, size: UInt64
    ) throws -> ReportVerification {
        let ledger = snapshot.ledger
        let current = snapshot.treeSize
        guard size <= current else {
            throw LedgerError(
                .sizeOutOfRange,
                "the ledger at \(ledger.directory) has \(current) entries; the report was computed at size \(size)")
        }
        guard try snapshot.rootHash(size: size) == parsed.checkpoint.checkpoint.rootHash else {
            throw ReportVerificationError(
                .ledgerMismatch,
                "the ledger at \(ledger.directory) has another root at size \(size) than the manifest's checkpoint: "
                    + "it is not the log the report was computed from, or that log was rewritten")
        }
        try report.rewind()
        let comparer = StreamComparer(report)
        do {
            _ = try ComplianceReport.write(parsed.query, snapshot: snapshot, asOf: size) { try comparer.compare($0) }
            try comparer.finish()
        } catch let difference as StreamComparer.Difference {
            throw ReportVerificationError(
                .recomputedMismatch,
                "recomputing the report from the ledger at size \(size) gives different bytes from byte "
                    + "\(difference.offset) (line \(difference.line)) on")
        }
        return ReportVerification(manifest: parsed, recomputed: true)
    }

    static func hash(_ source: ReportSource) throws -> (UInt64, SHA256Digest) {
        var hasher = SHA256Hasher()
        var count: UInt64 = 0
        while true {
            let chunk = try source.read()
            if chunk.isEmpty { break }
            hasher.update(chunk)
            count += UInt64(chunk.count)
        }
        return (count, hasher.finalize())
    }

    static func hex8(_ value: UInt32) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 8 - digits.count) + digits
    }
}

/// Where a report's bytes come from, in pieces.
public protocol ReportSource: AnyObject {
    /// The next bytes; empty at the end.
    func read() throws -> [UInt8]
    /// Starts again from the first byte.
    func rewind() throws
}

/// A report file, read in pieces of 1 MiB.
public final class ReportFile: ReportSource {
    private let handle: FileHandle
    public let path: String

    /// Opens `path` for reading.
    public init(path: String) throws(AuditError) {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw AuditError(.io, "cannot read report \(path)")
        }
        self.handle = handle
        self.path = path
    }

    deinit { try? handle.close() }

    public func read() throws -> [UInt8] {
        do {
            return Array(try handle.read(upToCount: 1 << 20) ?? Data())
        } catch {
            throw AuditError(.io, "cannot read report \(path): \(error.localizedDescription)")
        }
    }

    public func rewind() throws {
        do {
            try handle.seek(toOffset: 0)
        } catch {
            throw AuditError(.io, "cannot read report \(path) again: \(error.localizedDescription)")
        }
    }
}

/// A report held in memory.
public final class ReportBytes: ReportSource {
    private let bytes: [UInt8]
    private var offset = 0

    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    public func read() throws -> [UInt8] {
        let end = min(bytes.count, offset + (1 << 20))
        defer { offset = end }
        return Array(bytes[offset..<end])
    }

    public func rewind() throws { offset = 0 }
}

/// Compares a stream of bytes with a report source, piece by piece, in bounded memory.
final class StreamComparer {
    struct Difference: Error {
        let offset: UInt64
        let line: UInt64
    }

    private let source: ReportSource
    private var pending: ArraySlice<UInt8> = []
    private var offset: UInt64 = 0
    private var line: UInt64 = 1
    private var exhausted = false

    init(_ source: ReportSource) {
        self.source = source
    }

    /// Takes up to `count` bytes of the source.
    private func next(_ count: Int) throws -> ArraySlice<UInt8> {
        if pending.isEmpty && !exhausted {
            let chunk = try source.read()
            if chunk.isEmpty { exhausted = true } else { pending = chunk[...] }
        }
        let taken = pending.prefix(count)
        pending = pending.dropFirst(taken.count)
        return taken
    }

    func compare(_ bytes: [UInt8]) throws {
        var position = 0
        while position < bytes.count {
            let expected = try next(bytes.count - position)
            guard !expected.isEmpty else { throw Difference(offset: offset, line: line) }
            for byte in expected {
                guard byte == bytes[position] else { throw Difference(offset: offset, line: line) }
                if byte == UInt8(ascii: "\n") { line += 1 }
                offset += 1
                position += 1
            }
        }
    }

    func finish() throws {
        guard try next(1).isEmpty else { throw Difference(offset: offset, line: line) }
    }
}
