import CairnCrypto
import CairnJSON
import CairnRecords
import CairnStorage
import Synchronization

/// A question about AI changes: which checkpoints match every given filter (and, with a `type`
/// other than `checkpoint`, which entries of that type concern those checkpoints; model calls concern the
/// checkpoints with their request id).
///
/// Every filter is answered from LMDB secondary indexes maintained in the append transaction:
/// each filter's posting list (the checkpoints it admits, in log order) is counted up to a bound,
/// and the lists are intersected by seeks, led by the shortest (``QueryPlan``), so a selective
/// query — or a selective combination of broad filters — costs the same on a ledger of any size.
/// Filters see effective records (corrections applied).
public struct RecordQuery: Sendable, Hashable {
    /// The kind of entry to list: checkpoints (default), or entries of this type about the
    /// matching checkpoints (reviews, deploys…).
    public var type: RecordType = .checkpoint
    /// `model.id` of the checkpoint.
    public var model: String?
    public var requestedBy: String?
    /// A reviewer who reviewed the checkpoint (any decision).
    public var reviewer: String?
    public var toolPath: String?
    /// An output repository of the checkpoint.
    public var repo: String?
    /// An output commit of the checkpoint, or a commit a `rewrite` mapped one of them to.
    public var commit: String?
    /// An output path of the checkpoint.
    public var path: String?
    /// With `path`: only checkpoints whose ranges for that path overlap these lines.
    public var lines: ClosedRange<UInt32>?
    public var workItem: String?
    /// The provider's request id (`request_id`) of the checkpoint. With `type` `model-call` and no other
    /// checkpoint filter: the model calls with that request id, whether or not a checkpoint names it.
    public var requestID: String?
    /// Timestamp bounds (ms since the epoch), `since` inclusive, `until` exclusive, applied to
    /// the listed entries' own timestamps.
    public var since: Int64?
    public var until: Int64?
    /// Only checkpoints that no review names.
    public var unreviewed = false
    /// `model.version` (else `model.release_date`) of the checkpoint: with `model`, one model version.
    public var modelVersion: String?
    /// Only checkpoints in this state (what an aggregate counter counts: `cairn stats` drill-downs). With `repo`,
    /// judged on that repository's outputs (`sensitive`).
    public var state: CheckpointCondition?
    /// At most this many results (the first ones in log order).
    public var limit: Int?

    public init() {}

    var hasCheckpointFilter: Bool {
        requestID != nil || hasCheckpointFilterBesidesRequestID
    }

    var hasCheckpointFilterBesidesRequestID: Bool {
        model != nil || requestedBy != nil || reviewer != nil || toolPath != nil || repo != nil || commit != nil
            || path != nil || workItem != nil || unreviewed || modelVersion != nil || state != nil
    }

    /// The values a checkpoint's `tool_path` can have (specs/record-schema.md).
    public static let toolPaths = ["ide", "cli", "ci", "chat", "agent"]

    /// Throws when a filter can match nothing because it is malformed — a tool path the schema
    /// does not have, line 0, an abbreviated commit id, `since` not before `until` — rather than
    /// let the query answer an empty list that looks like "no such change". Both `cairn query`
    /// and `GET /v1/query` call it.
    ///
    /// Commit ids are compared whole: records hold full git object ids (40 or 64 lowercase hex
    /// digits), and a prefix would be ambiguous as a repository grows, so `git rev-parse` it.
    public func validate() throws(RecordQueryError) {
        if let toolPath, !Self.toolPaths.contains(toolPath) {
            throw RecordQueryError(
                parameter: "tool_path",
                "expected one of \(Self.toolPaths.joined(separator: ", ")), got \(toolPath.debugDescription)")
        }
        if let lines, lines.lowerBound < 1 {
            throw RecordQueryError(parameter: "lines", "lines are numbered from 1, got \(lines.lowerBound)")
        }
        if let commit {
            let hex = commit.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
            guard hex && (commit.utf8.count == 40 || commit.utf8.count == 64) else {
                throw RecordQueryError(
                    parameter: "commit",
                    "expected a full git commit id, 40 or 64 lowercase hex digits (abbreviated ids are not "
                        + "matched: expand one with `git rev-parse`), got \(commit.debugDescription)")
            }
        }
        if let since, let until, since >= until {
            throw RecordQueryError(
                parameter: "until", "the period is empty: until (exclusive) must be after since (inclusive)")
        }
        if let limit, limit < 1 {
            throw RecordQueryError(parameter: "limit", "expected a positive number of results, got \(limit)")
        }
    }
}

/// A `RecordQuery` filter that cannot match anything as given.
public struct RecordQueryError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The filter, by its `GET /v1/query` parameter name (`tool_path`, `lines`, `commit`,
    /// `until`, `limit`); `cairn query` shows it as the matching option.
    public let parameter: String
    /// What is wrong and what was expected.
    public let message: String

    public init(parameter: String, _ message: String) {
        self.parameter = parameter
        self.message = message
    }

    public var description: String { "\(parameter): \(message)" }
}

/// One query result.
public struct QueryMatch: Sendable, Hashable {
    public let index: UInt64
    public let digest: SHA256Digest
    /// The effective record (corrections applied), parsed from `recordBytes` when first asked for: rows written
    /// from their bytes (`cairn query --jsonl`) never build it.
    public var record: JSONValue { parsedRecord.value }
    /// Its canonical form (RFC 8785), as stored: what `jsonBytes` writes for `record`.
    public var recordBytes: [UInt8] { parsedRecord.bytes }
    let parsedRecord: ParsedRecord
    public let facts: RecordFacts
    /// For entries about a checkpoint, that checkpoint's index.
    public let checkpoint: UInt64?
    /// For checkpoint matches: the reviews of the checkpoint, in log order.
    public let reviews: [Review]
    /// When the ledger committed the entry (Unix milliseconds); nil when it holds no time for it.
    public let appendedAt: Int64?
    /// For a checkpoint with a `request_id`: the model calls with the same request id, in log order (empty when
    /// the ledger holds none); nil for other matches.
    public let modelCalls: [ModelCallMatch]?

    /// Whether a correlated model call names another model than the checkpoint's `model.id` (compared exactly):
    /// the provider served a model other than the one the client recorded.
    public var modelMismatch: Bool {
        guard let modelCalls, let modelID = facts.modelID else { return false }
        return modelCalls.contains { $0.modelID != modelID }
    }

    /// A review of a matched checkpoint.
    public struct Review: Sendable, Hashable {
        public let index: UInt64
        public let reviewer: String
        public let decision: String
    }
}

/// A record's canonical bytes, parsed into a `JSONValue` once, when first read.
final class ParsedRecord: Sendable, Hashable {
    let bytes: [UInt8]
    private let parsed = Mutex<JSONValue?>(nil)

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    var value: JSONValue {
        parsed.withLock { parsed in
            if let parsed { return parsed }
            // The bytes were parsed when they were read (for their facts), and stored canonical: they parse.
            let value = (try? JSONParser.parse(bytes)) ?? .null
            parsed = value
            return value
        }
    }

    static func == (lhs: ParsedRecord, rhs: ParsedRecord) -> Bool { lhs.bytes == rhs.bytes }

    func hash(into hasher: inout Hasher) { hasher.combine(bytes) }
}

extension LedgerSnapshot {
    /// Runs `query` on this snapshot and returns the matches in log order.
    public func query(_ query: RecordQuery) throws(LedgerError) -> [QueryMatch] {
        var matches: [QueryMatch] = []
        try self.query(query) { match in
            matches.append(match)
            return true
        }
        return matches
    }

    /// Runs `query` on this snapshot and calls `body` with each match in log order, as it is found,
    /// until `body` returns false or `query.limit` matches were given: a long result is never held
    /// in memory. (With a `type` other than `checkpoint` and a checkpoint filter, the entries about
    /// every matching checkpoint are gathered and sorted first.)
    public func query(_ query: RecordQuery, each body: (QueryMatch) -> Bool) throws(LedgerError) {
        guard ledger.profile == .provenance else {
            throw LedgerError(.invalidArgument, "queries need a ledger created with the provenance profile")
        }
        if query.lines != nil && query.path == nil {
            throw LedgerError(.invalidArgument, "a line filter needs a path filter")
        }
        try run { try ledger.run(query, txn, body) }
    }

    /// The `rewrite` entries that carry checkpoint `checkpoint` to `commit`, oldest first (each one's `new_commit` is
    /// the next one's `old_commit`, the last one's is `commit`): empty when an output of the checkpoint names
    /// `commit` itself, nil when the checkpoint is not known under `commit`. `cairn blame --prove` proves them.
    public func rewriteChain(checkpoint: UInt64, to commit: String) throws(LedgerError) -> [UInt64]? {
        try run { try ledger.rewriteChain(txn, checkpoint: checkpoint, to: commit) }
    }
}

extension Ledger {
    fileprivate func run(_ query: RecordQuery, _ txn: ReadTransaction, _ body: (QueryMatch) -> Bool) throws {
        let limit = query.limit ?? .max
        var given = 0
        /// Gives `match` to `body`; false when no more are wanted.
        func give(_ match: QueryMatch) -> Bool {
            given += 1
            return body(match) && given < limit
        }
        func inTime(_ facts: RecordFacts) -> Bool {
            guard query.since != nil || query.until != nil else { return true }
            guard let ms = facts.timestamp else { return false }
            return ms >= (query.since ?? .min) && ms < (query.until ?? .max)
        }
        func match(
            _ index: UInt64, _ found: StoredRecord, checkpoint: UInt64?
        ) throws -> QueryMatch {
            let facts = found.facts
            var reviews: [QueryMatch.Review] = []
            var modelCalls: [ModelCallMatch]?
            if facts.type == .checkpoint {
                for source in try references(txn, to: index) where source.type == .review {
                    let review = try self.facts(txn, source.index)
                    reviews.append(
                        .init(index: source.index, reviewer: review.reviewer ?? "", decision: review.decision ?? ""))
                }
                if let requestID = facts.requestID { modelCalls = try self.modelCalls(txn, requestID: requestID) }
            }
            // An uncorrected entry's bytes are the entry itself: no second read to hash it.
            let stored = found.corrected ? try entry(txn, index) : found.bytes
            return QueryMatch(
                index: index, digest: SHA256.hash(stored), parsedRecord: ParsedRecord(found.bytes),
                facts: facts, checkpoint: checkpoint, reviews: reviews, appendedAt: try appendedAt(txn, index),
                modelCalls: modelCalls)
        }
        /// The model calls with request id `requestID` (from the index: model calls are always in it).
        func modelCallEntries(
            _ requestID: String
        ) throws -> [(index: UInt64, found: StoredRecord)] {
            var out: [(UInt64, StoredRecord)] = []
            for call in try modelCalls(txn, requestID: requestID) {
                let found = try recordBytesAndFacts(txn, call.index)
                if inTime(found.facts) { out.append((call.index, found)) }
            }
            return out
        }

        if query.type == .modelCall, let requestID = query.requestID, !query.hasCheckpointFilterBesidesRequestID {
            // Model calls by request id alone: listed from the index, with or without a checkpoint naming it.
            for (index, found) in try modelCallEntries(requestID) {
                guard give(try match(index, found, checkpoint: nil)) else { break }
            }
            return
        }

        guard query.hasCheckpointFilter || query.type == .checkpoint else {
            // No checkpoint filter: list entries of the type directly.
            for index in try candidates(byTypeOrTime: query, txn) {
                let found = try recordBytesAndFacts(txn, index)
                let facts = found.facts
                guard facts.type == query.type, inTime(facts) else { continue }
                let subject = try facts.subject.flatMap { try resolveSubject(txn, $0) }
                guard give(try match(index, found, checkpoint: subject)) else { break }
            }
            return
        }

        // Checkpoints in log order: the intersection of the filters' posting lists when any
        // filter is given, else every checkpoint (by type, or by time when bounded). Checkpoint
        // matches are given as found; entries about them are all gathered, then sorted.
        var gathered: [QueryMatch] = []
        var gatheredCalls = Set<UInt64>()
        var visitError: Error?
        func visit(_ checkpoint: UInt64) -> Bool {
            do {
                let found = try recordBytesAndFacts(txn, checkpoint)
                let facts = found.facts
                guard facts.type == .checkpoint, try satisfies(query, checkpoint: checkpoint, facts: facts, txn) else {
                    return true
                }
                if query.type == .checkpoint {
                    guard inTime(facts) else { return true }
                    return give(try match(checkpoint, found, checkpoint: checkpoint))
                }
                if query.type == .modelCall {
                    // Model calls concern the checkpoints with their request id; one may concern several.
                    guard let requestID = facts.requestID else { return true }
                    for (index, found) in try modelCallEntries(requestID) where gatheredCalls.insert(index).inserted {
                        gathered.append(try match(index, found, checkpoint: checkpoint))
                    }
                    return true
                }
                for source in try references(txn, to: checkpoint) where source.type == query.type {
                    let source = (index: source.index, found: try recordBytesAndFacts(txn, source.index))
                    guard inTime(source.found.facts) else { continue }
                    gathered.append(try match(source.index, source.found, checkpoint: checkpoint))
                }
                // No early stop: an entry about a later checkpoint may come first in the log, so the
                // first `limit` in log order are known only once every matching checkpoint was seen.
                return true
            } catch {
                visitError = error
                return false
            }
        }
        let postings = try postingLists(query, txn)
        if postings.isEmpty {
            for checkpoint in try candidates(byTypeOrTime: query, txn, type: .checkpoint) {
                guard visit(checkpoint) else { break }
            }
        } else {
            // One cursor per list for the whole intersection, instead of one opened and closed per seek.
            try txn.withCursors(tables.index, count: postings.count) { cursors in
                try QueryPlan(zip(postings, cursors).map { $0.using($1) }).intersect { visit($0) }
            }
        }
        if let visitError { throw visitError }
        gathered.sort { $0.index < $1.index }
        for match in gathered.prefix(limit) {
            guard body(match) else { break }
        }
    }

    /// The posting list of every checkpoint filter given (none when no filter is).
    private func postingLists(_ query: RecordQuery, _ txn: ReadTransaction) throws -> [PostingList] {
        var lists: [PostingList] = []
        func add(_ prefixes: [IndexKey]) throws {
            lists.append(try PostingList(prefixes: prefixes.map(\.bytes), table: tables.index, txn))
        }
        if let commit = query.commit { try add([IndexKey(.commit, commit), IndexKey(.commitAlias, commit)]) }
        if let requestID = query.requestID {
            // Entries the index does not cover yet (an older ledger) are added by a scan.
            if try requestIndexCoverage(txn) >= storedTreeSize(txn) {
                try add([IndexKey(.requestID, requestID)])
            } else {
                lists.append(PostingList(sorted: try requestIDCandidates(txn, requestID)))
            }
        }
        let fields: [(IndexTag, String?)] = [
            (.workItem, query.workItem), (.reviewedBy, query.reviewer), (.model, query.model),
            (.requestedBy, query.requestedBy), (.repo, query.repo), (.toolPath, query.toolPath),
        ]
        for case (let tag, let value?) in fields { try add([IndexKey(tag, value)]) }
        if query.unreviewed { try add([IndexKey(.unreviewed)]) }
        if let path = query.path {
            // Keys are ordered by range start, not by entry: the list is gathered and sorted.
            let prefix = IndexKey(.lines, path).bytes
            var found = Set<UInt64>()
            try txn.forEach(tables.index, prefix: prefix) { key, value in
                let start = readUInt32(key, at: prefix.count)
                if let lines = query.lines {
                    // Keys are ordered by range start: nothing further can overlap.
                    guard start <= lines.upperBound else { return false }
                    guard readUInt32(value, at: 0) >= lines.lowerBound else { return true }
                }
                found.insert(readUInt64(key, at: prefix.count + 4))
                return true
            }
            lists.append(PostingList(sorted: found.sorted()))
        }
        if !lists.isEmpty, query.type == .checkpoint, query.since != nil || query.until != nil {
            // A narrow period is a posting list too (of entries of every type: the other lists
            // hold only checkpoints); a wide one is left to the check of each candidate.
            var inPeriod: [UInt64] = []
            let base = IndexKey(.time)
            let start = base.appending(time: query.since ?? .min).bytes
            var narrow = true
            try txn.forEach(tables.index, prefix: base.bytes, from: start) { key, _ in
                if let until = query.until, IndexKey.decodeTime(readUInt64(key, at: 1)) >= until { return false }
                guard inPeriod.count < PostingList.countedAtMost else {
                    narrow = false
                    return false
                }
                inPeriod.append(readUInt64(key, at: 9))
                return true
            }
            if narrow { lists.append(PostingList(sorted: inPeriod.sorted())) }
        }
        return lists
    }

    /// Entries listed by the time index (when a time bound is given) or the type index.
    private func candidates(
        byTypeOrTime query: RecordQuery, _ txn: ReadTransaction, type: RecordType? = nil
    )
        throws -> [UInt64]
    {
        let type = type ?? query.type
        if query.since != nil || query.until != nil {
            let base = IndexKey(.time)
            let start = base.appending(time: query.since ?? .min).bytes
            var out: [UInt64] = []
            try txn.forEach(tables.index, prefix: base.bytes, from: start) { key, _ in
                let ms = IndexKey.decodeTime(readUInt64(key, at: 1))
                if let until = query.until, ms >= until { return false }
                out.append(readUInt64(key, at: 9))
                return true
            }
            return out.sorted()
        }
        return try scan(txn, IndexKey(.type, type.rawValue))
    }

    /// The leaf indexes stored right after `key`'s prefix, sorted and without duplicates.
    private func scan(_ txn: ReadTransaction, _ key: IndexKey) throws -> [UInt64] {
        // Keys are ordered by the index right after the prefix (big-endian): the list comes sorted, repeats (keys that
        // go on after the index) side by side. A sort is only a fallback.
        var out: [UInt64] = []
        var sorted = true
        let prefix = key.bytes
        try txn.forEach(tables.index, prefix: prefix) { k, _ in
            let index = readUInt64(k, at: prefix.count)
            if let last = out.last {
                if index == last { return true }
                if index < last { sorted = false }
            }
            out.append(index)
            return true
        }
        return sorted ? out : Array(Set(out)).sorted()
    }

    fileprivate func rewriteChain(_ txn: ReadTransaction, checkpoint: UInt64, to commit: String) throws -> [UInt64]? {
        var chain: [UInt64] = []
        var current = commit
        var seen: Set<String> = []
        while seen.insert(current).inserted {
            if try exists(txn, prefix: IndexKey(.commit, current).appending(checkpoint)) { return chain.reversed() }
            // `commitAlias ‖ new commit ‖ checkpoint ‖ rewrite`: the rewrite that brought the checkpoint here.
            let prefix = IndexKey(.commitAlias, current).appending(checkpoint)
            var rewrite: UInt64?
            try txn.forEach(tables.index, prefix: prefix.bytes) { key, _ in
                rewrite = readUInt64(key, at: prefix.bytes.count)
                return false
            }
            guard let rewrite, let old = try facts(txn, rewrite).rewrite?.old else { return nil }
            chain.append(rewrite)
            current = old
        }
        return nil
    }

    func exists(_ txn: some TransactionReading, prefix: IndexKey) throws -> Bool {
        var found = false
        try txn.forEach(tables.index, prefix: prefix.bytes) { _, _ in
            found = true
            return false
        }
        return found
    }

    /// Whether checkpoint `index` (with effective `facts`) meets every checkpoint filter.
    private func satisfies(
        _ query: RecordQuery, checkpoint index: UInt64, facts: RecordFacts, _ txn: ReadTransaction
    )
        throws -> Bool
    {
        if let model = query.model, facts.modelID != model { return false }
        if let who = query.requestedBy, facts.requestedBy != who { return false }
        if let tool = query.toolPath, facts.toolPath != tool { return false }
        if let item = query.workItem, facts.workItem != item { return false }
        if let requestID = query.requestID, facts.requestID != requestID { return false }
        if let repo = query.repo, !facts.outputs.contains(where: { $0.repo == repo }) { return false }
        if let commit = query.commit, !facts.outputs.contains(where: { $0.commit == commit }) {
            guard try exists(txn, prefix: IndexKey(.commitAlias, commit).appending(index)) else { return false }
        }
        if let path = query.path {
            let touched = facts.outputs.contains { output in
                output.path == path
                    && (query.lines.map { lines in
                        output.ranges.contains { $0.start <= lines.upperBound && $0.end >= lines.lowerBound }
                    } ?? true)
            }
            guard touched else { return false }
        }
        if let reviewer = query.reviewer {
            guard try exists(txn, prefix: IndexKey(.reviewedBy, reviewer).appending(index)) else { return false }
        }
        if query.unreviewed {
            guard try exists(txn, prefix: IndexKey(.unreviewed).appending(index)) else { return false }
        }
        if let version = query.modelVersion {
            guard (facts.modelVersion ?? facts.modelReleaseDate).map({ $0.utf8.elementsEqual(version.utf8) }) ?? false
            else { return false }
        }
        if let state = query.state {
            let counters = Ledger.counters(
                of: try checkpointState(txn, index, facts: facts), scope: query.repo ?? "",
                sensitivePaths: try sensitivePaths(txn))
            guard state.holds(for: counters) else { return false }
        }
        return true
    }
}

extension QueryMatch {
    /// One result of `cairn query --json` and `GET /v1/query`: index, digest, when it was appended
    /// (when the ledger knows), type, the checkpoint it is about (when that is another entry), a
    /// checkpoint's reviews, a checkpoint's model calls and whether their model differs (when it has a
    /// `request_id`), the record.
    public var json: JSONValue {
        var object = head
        object["record"] = record
        return .object(object)
    }

    /// `JSONWriter.compactBytes(json)`, byte for byte, without building and walking the record or the other
    /// members: the record is written as its stored canonical form, which is what the writer gives for it (same
    /// member order, escapes and numbers: RFC 8785), and the members before it (`head`) one by one. For long
    /// results (`cairn query --jsonl`, `GET /v1/query`).
    public var jsonBytes: [UInt8] {
        let record = recordBytes
        var bytes: [UInt8] = []
        bytes.reserveCapacity(record.count + 192)
        func member(_ name: StaticString) {
            bytes.append(contentsOf: UnsafeRawBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
        }
        member(#"{"index":"#)
        JSONWriter.appendNumber(index, to: &bytes)
        member(#","digest":"#)
        JSONWriter.appendString(digest.description, to: &bytes)
        if let appendedAt {
            member(#","appended_at":"#)
            JSONWriter.appendString(Timestamp.format(appendedAt), to: &bytes)
        }
        member(#","type":"#)
        JSONWriter.appendString(facts.type.rawValue, to: &bytes)
        if let checkpoint, checkpoint != index {
            member(#","checkpoint":"#)
            JSONWriter.appendNumber(checkpoint, to: &bytes)
        }
        if facts.type == .checkpoint {
            member(#","reviews":["#)
            for (position, review) in reviews.enumerated() {
                member(position == 0 ? #"{"index":"# : #",{"index":"#)
                JSONWriter.appendNumber(review.index, to: &bytes)
                member(#","reviewer":"#)
                JSONWriter.appendString(review.reviewer, to: &bytes)
                member(#","decision":"#)
                JSONWriter.appendString(review.decision, to: &bytes)
                member("}")
            }
            member("]")
        }
        if let modelCalls {
            member(#","model_calls":["#)
            for (position, call) in modelCalls.enumerated() {
                if position > 0 { member(",") }
                bytes += JSONWriter.compactBytes(call.json)
            }
            member(#"],"model_mismatch":"#)
            member(modelMismatch ? "true" : "false")
        }
        member(#","record":"#)
        bytes += record
        member("}")
        return bytes
    }

    /// Every member of `json` but the record, in order.
    private var head: JSONObject {
        var object: JSONObject = ["index": .uint(index), "digest": .string(digest.description)]
        if let appendedAt { object["appended_at"] = .string(Timestamp.format(appendedAt)) }
        object["type"] = .string(facts.type.rawValue)
        if let checkpoint, checkpoint != index { object["checkpoint"] = .uint(checkpoint) }
        if facts.type == .checkpoint {
            object["reviews"] = .array(
                reviews.map {
                    ["index": .uint($0.index), "reviewer": .string($0.reviewer), "decision": .string($0.decision)]
                })
        }
        if let modelCalls {
            object["model_calls"] = .array(modelCalls.map(\.json))
            object["model_mismatch"] = .bool(modelMismatch)
        }
        return object
    }
}

/// A sorted list of entries reached by seeks, as the query plan intersects them.
protocol PostingSource {
    /// The list's length, or a lower bound of it for a long list: the plan leads with the shortest.
    var estimate: Int { get }
    /// For a long list (one whose `estimate` is only a lower bound): the share of the entries its counted part spans
    /// that are in it (1: every entry there is), which ranks long lists and tells a broad one. Nil when unknown.
    var density: Double? { get }
    /// The first entry of the list at or after `index`, or nil when there is none.
    func first(atLeast index: UInt64) throws -> UInt64?
}

extension PostingSource {
    var density: Double? { nil }
}

/// The entries one filter admits, in log order, reached by seeks: the leaf indexes stored right
/// after one of `prefixes` in the index table (a union when there are several: a commit and the
/// commits rewritten onto it), or a list gathered beforehand. Valid while its transaction is.
struct PostingList: PostingSource {
    /// Lists are counted up to this many entries to estimate their size (a longer one only ranks
    /// as "long"), so the estimate costs at most this many key reads.
    static let countedAtMost = 4096

    private let prefixes: [[UInt8]]
    private let table: Table?
    private let txn: ReadTransaction?
    private let sorted: [UInt64]
    /// A cursor of the list's own (`using(_:)`), so that a seek does not open one.
    private var cursor: Cursor?
    /// The list's length, or `countedAtMost` for any longer list.
    let estimate: Int
    /// For a long list of one prefix: its first `countedAtMost` entries over the span of entries they cover.
    let density: Double?

    init(prefixes: [[UInt8]], table: Table, _ txn: ReadTransaction) throws {
        self.prefixes = prefixes
        self.table = table
        self.txn = txn
        self.sorted = []
        var count = 0
        var first: UInt64?
        var last: UInt64 = 0
        for prefix in prefixes where count < Self.countedAtMost {
            try txn.forEach(table, prefix: prefix) { key, _ in
                count += 1
                if prefixes.count == 1, key.count >= prefix.count + 8 {
                    last = readUInt64(key, at: prefix.count)
                    if first == nil { first = last }
                }
                return count < Self.countedAtMost
            }
        }
        estimate = count
        if count == Self.countedAtMost, let first, last >= first {
            // Entries of one prefix come in log order: the counted ones cover first...last.
            density = Double(count) / (Double(last - first) + 1)
        } else {
            density = nil
        }
    }

    init(sorted: [UInt64]) {
        prefixes = []
        table = nil
        txn = nil
        self.sorted = sorted
        estimate = sorted.count
        density = nil
    }

    /// This list, seeking with `cursor` (a cursor over its table, kept for the whole query); a gathered list
    /// is returned as it is.
    func using(_ cursor: Cursor) -> PostingList {
        guard table != nil else { return self }  // a gathered list needs no cursor
        var list = self
        list.cursor = cursor
        return list
    }

    /// The first entry of the list at or after `index`, or nil when there is none.
    func first(atLeast index: UInt64) throws -> UInt64? {
        if let cursor { return try first(atLeast: index, cursor: cursor) }
        guard let table, let txn else {
            var low = 0
            var high = sorted.count
            while low < high {
                let mid = (low + high) / 2
                if sorted[mid] < index { low = mid + 1 } else { high = mid }
            }
            return low < sorted.count ? sorted[low] : nil
        }
        var best: UInt64?
        for prefix in prefixes {
            try txn.forEach(table, prefix: prefix, from: IndexKey.bytes(prefix, index)) { key, _ in
                let found = readUInt64(key, at: prefix.count)
                if best.map({ found < $0 }) ?? true { best = found }
                return false
            }
        }
        return best
    }

    /// `first(atLeast:)` with the list's cursor: one seek per prefix, the seek key built on the stack.
    private func first(atLeast index: UInt64, cursor: Cursor) throws -> UInt64? {
        var best: UInt64?
        for prefix in prefixes {
            let found = try withUnsafeTemporaryAllocation(byteCount: prefix.count + 8, alignment: 1) { key in
                key.copyBytes(from: prefix)
                for i in 0..<8 { key[prefix.count + i] = UInt8(truncatingIfNeeded: index >> (56 - 8 * i)) }
                guard let (found, _) = try cursor.seek(atLeast: UnsafeRawBufferPointer(key)),
                    found.count >= prefix.count + 8, found.starts(with: prefix)
                else { return UInt64?.none }
                return readUInt64(found, at: prefix.count)
            }
            if let found, best.map({ found < $0 }) ?? true { best = found }
        }
        return best
    }
}

/// The intersection of posting lists in log order (a leapfrog join): the shortest list leads, and
/// each list in turn seeks to the highest entry seen so far, until all stand on the same entry. Its
/// cost follows the shortest list and how the lists interleave, not the ledger's size.
///
/// A long list that holds most of the entries it spans (`density` above `broad`: a model every checkpoint
/// names, `--unreviewed` on a ledger without reviews) is left out when a sparser list leads: seeking in it
/// touches a page per candidate and rejects almost none, while the caller checks every filter on each
/// entry it is given anyway (`Ledger.satisfies`). So `intersect` gives the intersection of the lists it
/// keeps (`lists`): a superset of the full intersection when it left one out.
struct QueryPlan<List: PostingSource> {
    /// A long list denser than this is left out when another leads.
    static var broad: Double { 0.75 }

    let lists: [List]

    init(_ lists: [List]) {
        // Short lists (exact counts) by length, then long ones (all counted up to the same bound) by density: the
        // sparser a list where it was counted, the fewer entries it is likely to hold in all.
        let ranked = lists.sorted { ($0.estimate, $0.density ?? 1) < ($1.estimate, $1.density ?? 1) }
        self.lists = Array(ranked.prefix(1)) + ranked.dropFirst().filter { ($0.density ?? 0) <= Self.broad }
    }

    /// Calls `body` with each entry that is in every list kept, in increasing order, until it returns
    /// false. No lists: no entries.
    func intersect(_ body: (UInt64) throws -> Bool) throws {
        guard let lead = lists.first else { return }
        var from: UInt64 = 0
        while true {
            guard var candidate = try lead.first(atLeast: from) else { return }
            var agreeing = 1
            var next = 1 % lists.count
            while agreeing < lists.count {
                guard let found = try lists[next].first(atLeast: candidate) else { return }
                if found == candidate {
                    agreeing += 1
                } else {
                    candidate = found
                    agreeing = 1
                }
                next = (next + 1) % lists.count
            }
            guard try body(candidate), candidate < .max else { return }
            from = candidate + 1
        }
    }
}

extension ModelCallMatch {
    /// `{"index", "provider", "model", "usage"?, "status"?}`, as in `cairn query --json`.
    public var json: JSONValue {
        var object: JSONObject = [
            "index": .uint(index), "provider": .string(provider), "model": .string(modelID),
        ]
        if let usage { object["usage"] = usage }
        if let status { object["status"] = .number(Double(status)) }
        return .object(object)
    }
}
