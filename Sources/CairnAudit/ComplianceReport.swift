import CairnCrypto
import CairnInsight
import CairnLedger
import CairnNote
import CairnRecords

/// What a compliance report covers: its format, the time window of checkpoint timestamps, and the
/// version of the report rules it is written with.
public struct ReportQuery: Sendable, Hashable {
    public let format: ReportFormat
    /// Checkpoints whose `timestamp` is at or after this instant (ms since the epoch); nil: no bound.
    public let since: Int64?
    /// Checkpoints whose `timestamp` is before this instant (exclusive); nil: no bound.
    public let until: Int64?
    /// The version of the rows, cells and formats (specs/report-manifest.md §7), named by the
    /// manifest's first line: 3, the current one, adds the Evidence column (each checkpoint's
    /// evidence grade, `evidence` in json) after Model; 2 has nine columns and writes control and
    /// bidirectional characters in csv and md cells visibly escaped (`DisplayText.escape`), as 3
    /// does; 1 wrote them raw. 1 and 2 are kept so that reports made with them still recompute
    /// byte for byte.
    public let version: Int

    /// A query; `since` must be before `until` when both are given, and `version` one of
    /// `ReportManifest.versions`.
    public init(
        format: ReportFormat, since: Int64? = nil, until: Int64? = nil, version: Int = ReportManifest.currentVersion
    ) throws(AuditError) {
        guard ReportManifest.versions.contains(version) else {
            throw AuditError(
                .invalidArgument,
                "report version \(version) is not supported (this cairn writes versions "
                    + "\(ReportManifest.versions.lowerBound) to \(ReportManifest.versions.upperBound))")
        }
        if let since, let until, since >= until {
            throw AuditError(
                .invalidArgument,
                "the time window is empty: since \(Timestamp.format(since)) is not before until \(Timestamp.format(until))"
            )
        }
        for bound in [since, until].compactMap({ $0 }) where !Timestamp.range.contains(bound) {
            throw AuditError(.invalidArgument, "time \(bound) ms is outside the years 0000 to 9999")
        }
        self.format = format
        self.since = since
        self.until = until
        self.version = version
    }
}

/// What was written: enough to fill in the manifest.
public struct ReportSummary: Sendable, Hashable {
    public let query: ReportQuery
    /// The tree size the report was computed as of.
    public let treeSize: UInt64
    /// The number of rows (checkpoints).
    public let rows: UInt64
    /// The report's length in bytes.
    public let byteCount: UInt64
    /// SHA-256 of the report's bytes.
    public let sha256: SHA256Digest
}

/// A report and its signed manifest.
public struct SignedReport: Sendable, Hashable {
    public let summary: ReportSummary
    /// The manifest, as parsed fields.
    public let manifest: ReportManifest
    /// The manifest as a signed note, signed by the ledger's key: write `note.serialized`.
    public let note: SignedNote
}

/// The compliance report: one row per checkpoint in a time window, in log order, computed from
/// effective records as of one tree size, and therefore reproducible byte for byte.
///
/// Reports stream: rows are written as the ledger is scanned, in pieces of at most 64 KiB, so
/// memory use does not grow with the ledger.
///
/// ```swift
/// let query = try ReportQuery(format: .csv, since: Timestamp.parse("2026-11-01T00:00:00Z"))
/// let signed = try ComplianceReport.produce(query, ledger: ledger) { chunk in
///     try file.write(contentsOf: chunk)  // each piece is at most 64 KiB plus one row
/// }
/// let manifest = signed.note.serialized  // the content of report.csv.manifest
/// ```
public enum ComplianceReport {
    /// Writes the report of `query` as the ledger stood at tree size `size`, passing its bytes to
    /// `sink` in order. Does not sign anything, so it works on a read-only ledger.
    ///
    /// Do not read the ledger from `sink`: it runs inside the scan's read transaction.
    public static func write(
        _ query: ReportQuery, ledger: Ledger, asOf size: UInt64, to sink: ([UInt8]) throws -> Void
    ) throws -> ReportSummary {
        try ledger.read { snapshot in try write(query, snapshot: snapshot, asOf: size, to: sink) }
    }

    /// `write(_:ledger:asOf:to:)` from a snapshot the caller holds.
    public static func write(
        _ query: ReportQuery, snapshot: LedgerSnapshot, asOf size: UInt64, to sink: ([UInt8]) throws -> Void
    ) throws -> ReportSummary {
        try withoutActuallyEscaping(sink) { sink in
            let output = HashingOutput(sink: sink)
            if query.format == .html {
                guard query.version >= 3 else {
                    throw AuditError(.invalidArgument, "the html format needs report version 3 or later")
                }
                try output.write(Array(try htmlViews(query, snapshot: snapshot, asOf: size).utf8))
            }
            try output.write(query.format.header(version: query.version))
            var rows: UInt64 = 0
            let used = try snapshot.scan(type: .checkpoint, since: query.since, until: query.until, asOf: size) {
                entry in
                try output.write(try query.format.row(ReportRow(entry), first: rows == 0, version: query.version))
                rows += 1
                return true
            }
            try output.write(query.format.footer(empty: rows == 0))
            let (count, digest) = try output.finish()
            return ReportSummary(query: query, treeSize: used, rows: rows, byteCount: count, sha256: digest)
        }
    }

    /// How `DashboardHTML.report` ends its page: the html format writes its rows before it.
    static let htmlPageEnd = "</main></body></html>\n"

    /// The views of an html report: every insight view but health (which describes the live ledger), computed from
    /// the log as it stood at `size` (`LedgerSnapshot.aggregateTable`), so that the page can be recomputed byte for
    /// byte; the page without its end, which follows the rows.
    static func htmlViews(_ query: ReportQuery, snapshot: LedgerSnapshot, asOf size: UInt64) throws -> String {
        let table = try snapshot.aggregateTable(asOf: size)
        let window = StatsWindow(since: query.since, until: query.until)
        let documents = try StatsView.allCases.filter { $0 != .health }.map {
            try StatsEngine.document($0, window: window, table: table, in: snapshot)
        }
        let page = DashboardHTML.report(documents, title: "Cairn compliance report")
        guard page.hasSuffix(htmlPageEnd) else {
            throw AuditError(.invalidArgument, "the dashboard's report page does not end as the html format expects")
        }
        return String(page.dropLast(htmlPageEnd.count))
    }

    /// The report's bytes, in memory: for tests and small ledgers. Use `write` for large ones.
    public static func render(_ query: ReportQuery, ledger: Ledger, asOf size: UInt64) throws -> [UInt8] {
        var bytes: [UInt8] = []
        _ = try write(query, ledger: ledger, asOf: size) { bytes += $0 }
        return bytes
    }

    /// Computes the report as of the ledger's current size, streaming it to `sink`, then signs its
    /// manifest with the ledger's key. Needs the signing key (open the ledger read-write).
    public static func produce(
        _ query: ReportQuery, ledger: Ledger, to sink: ([UInt8]) throws -> Void
    ) throws -> SignedReport {
        // The report and its checkpoint come from one snapshot; the manifest is signed after it.
        let (checkpoint, summary) = try ledger.read { snapshot in
            let checkpoint = try snapshot.checkpoint()
            return (checkpoint, try write(query, snapshot: snapshot, asOf: checkpoint.checkpoint.size, to: sink))
        }
        let manifest = ReportManifest(
            query: query, rows: summary.rows, byteCount: summary.byteCount, sha256: summary.sha256,
            checkpoint: checkpoint)
        let note = try ledger.sign(noteText: manifest.text)
        return SignedReport(summary: summary, manifest: manifest, note: note)
    }
}

/// Buffers output into pieces of up to 64 KiB, counting and hashing every byte.
final class HashingOutput {
    static let chunkSize = 1 << 16
    private var buffer: [UInt8] = []
    private var hasher: SHA256Hasher? = SHA256Hasher()
    private var count: UInt64 = 0
    private let sink: ([UInt8]) throws -> Void

    init(sink: @escaping ([UInt8]) throws -> Void) {
        self.sink = sink
        buffer.reserveCapacity(Self.chunkSize)
    }

    func write(_ bytes: [UInt8]) throws {
        hasher!.update(bytes)
        count += UInt64(bytes.count)
        buffer += bytes
        if buffer.count >= Self.chunkSize { try flush() }
    }

    private func flush() throws {
        guard !buffer.isEmpty else { return }
        try sink(buffer)
        buffer.removeAll(keepingCapacity: true)
    }

    func finish() throws -> (UInt64, SHA256Digest) {
        try flush()
        return (count, hasher.take()!.finalize())
    }
}
