import CairnCrypto
import CairnJSON
import CairnLedger

/// Closes the one window in which an appended entry can miss its access-log record: the process
/// dies (or the access log fails) after the main log commits and before the append entry is
/// durable, and the client never retries (specs/http-api.md §6, "Reconciliation").
///
/// `cairn serve` runs it once at start-up, before it listens. It reads the access log backwards
/// to its last `reconcile` entry, which says up to which main-log size every entry was accounted
/// for; collects what the `append` (and `unrecorded`) entries written since then name; and records
/// every entry of the main log beyond that size that none of them names, with its appender from
/// the ledger's `appenders` table, in `unrecorded` entries — then a new `reconcile` entry with the
/// main log's current size. The work is proportional to the access-log entries written since the
/// last start, not to the size of either log.
package struct AccessLogReconciliation: Sendable {
    /// Runs of unrecorded entries per `unrecorded` entry (an access-log entry must stay small).
    package static let runsPerEntry = 100

    /// What one reconciliation found and recorded.
    package struct Outcome: Sendable, Equatable {
        /// The main-log size the previous `reconcile` entry accounted for (0 if there was none).
        package var from: UInt64
        /// The main-log size accounted for now.
        package var through: UInt64
        /// Entries in `from..<through` that no access-log entry named, now in `unrecorded` entries.
        package var unrecordedEntries: UInt64
        /// The runs of those entries, by appender.
        package var runs: Int
        /// Access-log entries read to find them.
        package var accessEntriesRead: UInt64
    }

    let main: Ledger
    let accessLog: AccessLog

    package init(main: Ledger, accessLog: AccessLog) {
        self.main = main
        self.accessLog = accessLog
    }

    /// Finds the unrecorded entries and records them; returns once the records are durable.
    @discardableResult
    package func run(at time: String = Clock.now()) async throws -> Outcome {
        let through = try await main.read { $0.treeSize }
        let scan = try await accessLog.ledger.read { snapshot in try Self.scanBack(snapshot) }
        let from = min(scan.reconciledThrough, through)
        var coverage = scan.coverage
        let gaps = coverage.gaps(in: from..<through)
        let runs = try await main.read { snapshot -> [UnrecordedRun] in
            var runs: [UnrecordedRun] = []
            for gap in gaps {
                for run in try snapshot.appenders(in: gap) {
                    var hasher = SHA256Hasher()
                    for index in run.entries {
                        SHA256.hash(try snapshot.entry(at: index)).withUnsafeBytes { hasher.update($0) }
                    }
                    runs.append(UnrecordedRun(run: run, entriesSHA256: hasher.finalize()))
                }
            }
            return runs
        }
        var chunkStart = 0
        while chunkStart < runs.count {
            let chunk = runs[chunkStart..<min(chunkStart + Self.runsPerEntry, runs.count)]
            try await record(
                [
                    "type": "unrecorded", "schema": 1, "at": .string(time),
                    "request_id": .string(AccessLog.makeID()), "via": "start-up reconciliation",
                    "runs": .array(chunk.map(\.json)),
                ])
            chunkStart += chunk.count
        }
        let unrecorded = runs.reduce(UInt64(0)) { $0 + UInt64($1.run.entries.count) }
        try await record(
            [
                "type": "reconcile", "schema": 1, "at": .string(time), "request_id": .string(AccessLog.makeID()),
                "from": .uint(from), "through": .uint(through), "unrecorded": .uint(unrecorded),
            ])
        return Outcome(
            from: from, through: through, unrecordedEntries: unrecorded, runs: runs.count,
            accessEntriesRead: scan.entriesRead)
    }

    private func record(_ object: JSONObject) async throws {
        let entry = try PreparedEntry.prepare(
            json: JSONWriter.compactBytes(.object(object)), maxEntryBytes: accessLog.ledger.maxEntryBytes)
        _ = try await accessLog.engine.append(entry, whenBusy: .wait)
    }

    struct Scan: Sendable {
        var reconciledThrough: UInt64 = 0
        var coverage = IndexCoverage()
        var entriesRead: UInt64 = 0
    }

    /// Reads the access log from its end back to the last `reconcile` entry.
    static func scanBack(_ snapshot: LedgerSnapshot) throws -> Scan {
        var scan = Scan()
        var index = snapshot.treeSize
        while index > 0 {
            index -= 1
            scan.entriesRead += 1
            let bytes = try snapshot.entry(at: index)
            // Entries that are not JSON objects of a known type are not ours to interpret.
            guard let value = try? JSONParser.parse(bytes), let type = value["type"]?.stringValue else { continue }
            switch type {
            case "reconcile":
                if let through = value["through"]?.indexValue { scan.reconciledThrough = through }
                return scan
            case "append":
                if let first = value["first"]?.indexValue, let count = value["count"]?.indexValue {
                    scan.coverage.add(first, count: count)
                }
                for run in value["duplicate_runs"]?.arrayValue ?? [] {
                    if let first = run[0]?.indexValue, let count = run[1]?.indexValue {
                        scan.coverage.add(first, count: count)
                    }
                }
            case "unrecorded":
                for run in value["runs"]?.arrayValue ?? [] {
                    if let first = run["first"]?.indexValue, let count = run["count"]?.indexValue {
                        scan.coverage.add(first, count: count)
                    }
                }
            default:
                continue
            }
        }
        return scan
    }
}

/// A run of entries recorded by reconciliation.
struct UnrecordedRun: Sendable {
    var run: AppenderRun
    var entriesSHA256: SHA256Digest

    var json: JSONValue {
        [
            "first": .uint(run.entries.lowerBound), "count": .uint(UInt64(run.entries.count)),
            "appended_by": run.principal?.json ?? .null, "entries_sha256": .string(entriesSHA256.hex),
        ]
    }
}

/// A set of log indexes, as ranges; memory stays proportional to the number of disjoint ranges.
package struct IndexCoverage: Sendable {
    private var pending: [Range<UInt64>] = []
    private var merged: [Range<UInt64>] = []

    package init() {}

    /// Adds `count` indexes from `first` (saturating at the top of the index space).
    package mutating func add(_ first: UInt64, count: UInt64) {
        guard count > 0 else { return }
        let (end, overflow) = first.addingReportingOverflow(count)
        pending.append(first..<(overflow ? UInt64.max : end))
        if pending.count >= 1 << 16 { compact() }
    }

    /// The ranges inside `range` that nothing added covers, in order.
    package mutating func gaps(in range: Range<UInt64>) -> [Range<UInt64>] {
        compact()
        var gaps: [Range<UInt64>] = []
        var position = range.lowerBound
        for covered in merged where covered.upperBound > position {
            guard covered.lowerBound < range.upperBound else { break }
            if covered.lowerBound > position { gaps.append(position..<covered.lowerBound) }
            position = max(position, covered.upperBound)
            if position >= range.upperBound { break }
        }
        if position < range.upperBound { gaps.append(position..<range.upperBound) }
        return gaps
    }

    private mutating func compact() {
        guard !pending.isEmpty else { return }
        let all = (merged + pending).sorted { $0.lowerBound < $1.lowerBound }
        pending.removeAll(keepingCapacity: true)
        merged.removeAll(keepingCapacity: true)
        for range in all {
            if let last = merged.last, range.lowerBound <= last.upperBound {
                merged[merged.count - 1] = last.lowerBound..<max(last.upperBound, range.upperBound)
            } else {
                merged.append(range)
            }
        }
    }
}

extension JSONValue {
    /// A non-negative integer (a log index or count), if this is one.
    fileprivate var indexValue: UInt64? { nonNegativeIntValue.map(UInt64.init) }
}
