import CairnCrypto
import CairnJSON
import CairnRecords
import CairnStorage

/// A question about AI changes: which checkpoints match every given filter (and, with a `type`
/// other than `checkpoint`, which entries of that type concern those checkpoints).
///
/// Every filter is answered from LMDB secondary indexes maintained in the append transaction;
/// the most selective one drives the search, the others are checked on its candidates, so a
/// selective query costs the same on a ledger of any size. Filters see effective records
/// (corrections applied).
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
    /// Timestamp bounds (ms since the epoch), `since` inclusive, `until` exclusive, applied to
    /// the listed entries' own timestamps.
    public var since: Int64?
    public var until: Int64?
    /// Only checkpoints that no review names.
    public var unreviewed = false
    /// At most this many results (the first ones in log order).
    public var limit: Int?

    public init() {}

    var hasCheckpointFilter: Bool {
        model != nil || requestedBy != nil || reviewer != nil || toolPath != nil || repo != nil || commit != nil
            || path != nil || workItem != nil || unreviewed
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
    /// The effective record (corrections applied).
    public let record: JSONValue
    public let facts: RecordFacts
    /// For entries about a checkpoint, that checkpoint's index.
    public let checkpoint: UInt64?
    /// For checkpoint matches: the reviews of the checkpoint, in log order.
    public let reviews: [Review]
    /// When the ledger committed the entry (Unix milliseconds); nil when it holds no time for it.
    public let appendedAt: Int64?

    /// A review of a matched checkpoint.
    public struct Review: Sendable, Hashable {
        public let index: UInt64
        public let reviewer: String
        public let decision: String
    }
}

extension LedgerSnapshot {
    /// Runs `query` on this snapshot and returns the matches in log order.
    public func query(_ query: RecordQuery) throws(LedgerError) -> [QueryMatch] {
        guard ledger.profile == .provenance else {
            throw LedgerError(.invalidArgument, "queries need a ledger created with the provenance profile")
        }
        if query.lines != nil && query.path == nil {
            throw LedgerError(.invalidArgument, "a line filter needs a path filter")
        }
        return try run { try ledger.run(query, txn) }
    }
}

extension Ledger {
    fileprivate func run(_ query: RecordQuery, _ txn: ReadTransaction) throws -> [QueryMatch] {
        let limit = query.limit ?? .max
        var matches: [QueryMatch] = []
        func inTime(_ facts: RecordFacts) -> Bool {
            guard query.since != nil || query.until != nil else { return true }
            guard let ms = facts.timestamp else { return false }
            return ms >= (query.since ?? .min) && ms < (query.until ?? .max)
        }
        func match(_ index: UInt64, _ facts: RecordFacts, checkpoint: UInt64?) throws -> QueryMatch {
            var reviews: [QueryMatch.Review] = []
            if facts.type == .checkpoint {
                for source in try references(txn, to: index) where source.type == .review {
                    let review = try self.facts(txn, source.index)
                    reviews.append(
                        .init(index: source.index, reviewer: review.reviewer ?? "", decision: review.decision ?? ""))
                }
            }
            return QueryMatch(
                index: index, digest: SHA256.hash(try entry(txn, index)), record: try effectiveRecord(txn, index),
                facts: facts, checkpoint: checkpoint, reviews: reviews, appendedAt: try appendedAt(txn, index))
        }

        guard query.hasCheckpointFilter || query.type == .checkpoint else {
            // No checkpoint filter: list entries of the type directly.
            for index in try candidates(byTypeOrTime: query, txn) {
                let facts = try self.facts(txn, index)
                guard facts.type == query.type, inTime(facts) else { continue }
                let subject = try facts.subject.flatMap { try resolveSubject(txn, $0) }
                matches.append(try match(index, facts, checkpoint: subject))
                if matches.count >= limit { break }
            }
            return matches
        }

        let candidates =
            try checkpointCandidates(query, txn) ?? candidates(byTypeOrTime: query, txn, type: .checkpoint)
        for checkpoint in candidates {
            let facts = try self.facts(txn, checkpoint)
            guard facts.type == .checkpoint, try satisfies(query, checkpoint: checkpoint, facts: facts, txn) else {
                continue
            }
            if query.type == .checkpoint {
                guard inTime(facts) else { continue }
                matches.append(try match(checkpoint, facts, checkpoint: checkpoint))
            } else {
                for source in try references(txn, to: checkpoint) where source.type == query.type {
                    let sourceFacts = try self.facts(txn, source.index)
                    guard inTime(sourceFacts) else { continue }
                    matches.append(try match(source.index, sourceFacts, checkpoint: checkpoint))
                }
            }
            if matches.count >= limit { break }
        }
        matches.sort { $0.index < $1.index }
        return Array(matches.prefix(limit))
    }

    /// Candidate checkpoints from the most selective filter given, or `nil` if none is given.
    private func checkpointCandidates(_ query: RecordQuery, _ txn: ReadTransaction) throws -> [UInt64]? {
        if let commit = query.commit {
            return try scan(txn, IndexKey(.commit, commit)) + scan(txn, IndexKey(.commitAlias, commit))
        }
        if let path = query.path {
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
            return found.sorted()
        }
        let drivers: [(IndexTag, String?)] = [
            (.workItem, query.workItem), (.reviewedBy, query.reviewer), (.model, query.model),
            (.requestedBy, query.requestedBy), (.repo, query.repo), (.toolPath, query.toolPath),
        ]
        for case (let tag, let value?) in drivers {
            return try scan(txn, IndexKey(tag, value))
        }
        if query.unreviewed { return try scan(txn, IndexKey(.unreviewed)) }
        return nil
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
        var out: [UInt64] = []
        try txn.forEach(tables.index, prefix: key.bytes) { k, _ in
            out.append(readUInt64(k, at: key.bytes.count))
            return true
        }
        return Array(Set(out)).sorted()
    }

    private func exists(_ txn: ReadTransaction, prefix: IndexKey) throws -> Bool {
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
        return true
    }
}

extension QueryMatch {
    /// One result of `cairn query --json` and `GET /v1/query`: index, digest, when it was appended
    /// (when the ledger knows), type, the checkpoint it is about (when that is another entry), a
    /// checkpoint's reviews, the record.
    public var json: JSONValue {
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
        object["record"] = record
        return .object(object)
    }
}
