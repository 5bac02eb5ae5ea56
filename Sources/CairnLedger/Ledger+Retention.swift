import CairnCrypto
import CairnJSON
import CairnRecords
import CairnStorage

/// What retention would erase under a policy, and what it withholds and why (specs/retention.md).
///
/// Made by `LedgerSnapshot.retentionPlan(policy:asOf:)`, which only reads. `cairn retention apply` appends one
/// `erasure` record per blob of `erasures`, with `reason` as the erasure's reason.
public struct RetentionPlan: Sendable, Hashable {
    /// One reference of a record to a blob, in a payload field a rule may name.
    public struct Reference: Sendable, Hashable {
        /// The referencing entry.
        public let entry: UInt64
        public let type: RecordType
        /// The payload field (`prompt`, `turns`, `raw_output`, `output`).
        public let payload: String
        /// The record's own time (its `timestamp`), in milliseconds.
        public let clock: Int64
        /// The rule that names the type and payload, if any.
        public let rule: RetentionPolicy.Rule?
        /// When the rule lets the blob go: the clock plus the rule's period; nil without a rule or after year 9999.
        public let due: Int64?
    }

    /// A blob every reference of which is due and none held: `apply` erases it.
    public struct Erasure: Sendable, Hashable {
        public let blob: SHA256Digest
        public let size: Int
        public let references: [Reference]
        /// The erasure record's reason: the rule(s), the type and payload, the period.
        public let reason: String
    }

    /// A blob that some reference makes due but that is kept.
    public struct Withheld: Sendable, Hashable {
        public let blob: SHA256Digest
        public let references: [Reference]
        /// The placed holds whose scope holds a referencing record (hold ids, in log order of their placing).
        public let holds: [String]
        /// Why it is kept besides holds: references that are not due, or not in a payload field a rule may name.
        public let blockers: [String]
    }

    /// A placed hold: its id, the entry that placed it, and its scope.
    public struct Hold: Sendable, Hashable {
        public let id: String
        public let entry: UInt64
        /// The checkpoint the hold names (`subject`), resolved to its entry.
        public let subject: UInt64?
        /// The `subject` as written (a checkpoint id or address).
        public let subjectText: String?
        /// The held checkpoint's `request_id`, as logged: the model calls of that request are held with it.
        public let subjectRequestID: String?
        public let repository: String?
        public let from: Int64?
        public let until: Int64?
    }

    /// The instant ages are measured at (milliseconds).
    public let asOf: Int64
    /// The tree size the plan read.
    public let treeSize: UInt64
    /// What `apply` erases, in the log order of the first reference.
    public let erasures: [Erasure]
    /// What is due under a rule but kept, in the log order of the first reference.
    public let withheld: [Withheld]
    /// Blobs due under a rule that are already erased: `apply` skips them.
    public let alreadyErased: [SHA256Digest]
    /// The holds in force (placed and not released), in log order.
    public let holds: [Hold]
    /// Releases of holds that were not placed (or already released) when the release was appended: they release
    /// nothing.
    public let unmatchedReleases: [Release]

    /// A `legal-hold` record that releases a hold: its entry and the hold's id.
    public struct Release: Sendable, Hashable {
        public let entry: UInt64
        public let hold: String
    }
}

/// Byte-exact string equality (Swift's `==` uses canonical equivalence; record strings compare code point by code
/// point, specs/record-schema.md §1).
private func sameText(_ a: String, _ b: String) -> Bool { a.utf8.elementsEqual(b.utf8) }

extension RetentionPlan.Hold {
    /// Whether a record (entry `index` of `type`, dated `clock`) is in this hold's scope: every scope member the
    /// hold names matches. `subject` holds that checkpoint and the model calls of its `request_id`; `repository`
    /// the checkpoints with an output in it; `from` and `until` (both included) the records whose own time is in
    /// the range.
    func holds(entry index: UInt64, type: RecordType, record: JSONValue, clock: Int64) -> Bool {
        if subjectText != nil, subject != index {
            guard type == .modelCall, let subjectRequestID, let requestID = record["request_id"]?.stringValue,
                sameText(requestID, subjectRequestID)
            else { return false }
        }
        if let repository {
            guard type == .checkpoint, let outputs = record["outputs"]?.arrayValue,
                outputs.contains(where: { $0["repo"]?.stringValue.map { sameText($0, repository) } ?? false })
            else { return false }
        }
        if let from, clock < from { return false }
        if let until, clock > until { return false }
        return true
    }
}

extension LedgerSnapshot {
    /// What retention under `policy` erases at `asOf` (milliseconds), and what it withholds: read-only.
    ///
    /// Records are read as logged (not as corrected). A blob is erased when every record that references it
    /// references it in a payload field whose rule is due at `asOf` (clock plus period ≤ `asOf`) and no placed
    /// hold holds any of them; a reference anywhere else (an extension member, a correction's patch) keeps it.
    public func retentionPlan(policy: RetentionPolicy, asOf: Int64) throws(LedgerError) -> RetentionPlan {
        guard ledger.profile == .provenance else {
            throw LedgerError(.invalidArgument, "retention needs a ledger created with the provenance profile")
        }
        let size = treeSize
        return try run { try ledger.retentionPlan(txn, policy: policy, asOf: asOf, size: size) }
    }
}

extension Ledger {
    /// The record types and fields retention reads, as `RetentionPolicy.payloads` lists them.
    private static func payloadFields(of type: RecordType) -> [String] {
        RetentionPolicy.payloads.first { $0.type == type }?.fields ?? []
    }

    /// Entries of `type` below `size`, in log order.
    private func entries(_ txn: ReadTransaction, of type: RecordType, below size: UInt64) throws -> [UInt64] {
        let prefix = IndexKey(.type, type.rawValue).bytes
        var out: [UInt64] = []
        try txn.forEach(tables.index, prefix: prefix) { key, _ in
            let index = readUInt64(key, at: prefix.count)
            guard index < size else { return false }
            out.append(index)
            return true
        }
        return out
    }

    private func storedRecord(_ txn: ReadTransaction, _ index: UInt64) throws -> JSONValue {
        do {
            return try JSONParser.parse(try entry(txn, index))
        } catch let error as JSONParseError {
            throw LedgerError(.corrupt, "entry \(index) is not JSON: \(error.description) (run `cairn fsck`)")
        }
    }

    /// The holds in force at `size`, folding every `legal-hold` record in log order; and the releases that
    /// released nothing.
    private func legalHolds(
        _ txn: ReadTransaction, size: UInt64
    ) throws -> ([RetentionPlan.Hold], [RetentionPlan.Release]) {
        var holds: [RetentionPlan.Hold] = []
        var unmatched: [RetentionPlan.Release] = []
        for index in try entries(txn, of: .legalHold, below: size) {
            let record = try storedRecord(txn, index)
            guard let id = record["hold"]?.stringValue else { continue }
            if record["action"]?.stringValue == "release" {
                let before = holds.count
                holds.removeAll { sameText($0.id, id) }
                if holds.count == before { unmatched.append(.init(entry: index, hold: id)) }
                continue
            }
            let subjectText = record["subject"]?.stringValue
            let subject = try subjectText.flatMap { SubjectReference($0) }.flatMap { try resolveSubject(txn, $0) }
            let requestID = try subject.flatMap { try storedRecord(txn, $0)["request_id"]?.stringValue }
            holds.append(
                .init(
                    id: id, entry: index, subject: subject, subjectText: subjectText, subjectRequestID: requestID,
                    repository: record["repository"]?.stringValue,
                    from: record["from"]?.stringValue.flatMap(Timestamp.parse),
                    until: record["until"]?.stringValue.flatMap(Timestamp.parse)))
        }
        return (holds, unmatched)
    }

    /// The blobs a record references, split into those in payload fields (with the field) and those anywhere
    /// else (with the top-level member they are in).
    static func payloadBlobs(
        of record: JSONValue, type: RecordType
    ) -> (
        payload: [(blob: SHA256Digest, field: String)], other: [(blob: SHA256Digest, member: String)]
    ) {
        var payload: [(SHA256Digest, String)] = []
        var other: [(SHA256Digest, String)] = []
        let fields = payloadFields(of: type)
        for (key, value) in record.objectValue ?? [:] {
            var all = Set<SHA256Digest>()
            BlobReference.collectDigests(in: value, into: &all)
            guard !all.isEmpty else { continue }
            var inPayload = Set<SHA256Digest>()
            if fields.contains(where: { sameText($0, key) }) {
                if let reference = BlobReference(value) {
                    inPayload.insert(reference.digest)
                } else if key == "turns", let turns = value.arrayValue {
                    for turn in turns {
                        if let content = turn["content"], let reference = BlobReference(content) {
                            inPayload.insert(reference.digest)
                        }
                    }
                }
            }
            for blob in inPayload.sorted() { payload.append((blob, key)) }
            for blob in all.subtracting(inPayload).sorted() { other.append((blob, key)) }
        }
        return (payload, other)
    }

    func retentionPlan(
        _ txn: ReadTransaction, policy: RetentionPolicy, asOf: Int64, size: UInt64
    ) throws -> RetentionPlan {
        let (holds, unmatched) = try legalHolds(txn, size: size)
        // Every payload reference of the record types with payloads, and the records themselves.
        var references: [SHA256Digest: [RetentionPlan.Reference]] = [:]
        var others: [SHA256Digest: [String]] = [:]
        var otherEntries: [SHA256Digest: Set<UInt64>] = [:]
        var records: [UInt64: JSONValue] = [:]
        var candidates: [SHA256Digest] = []
        for type in RetentionPolicy.payloads.map(\.type) {
            for index in try entries(txn, of: type, below: size) {
                let record = try storedRecord(txn, index)
                let blobs = Self.payloadBlobs(of: record, type: type)
                if blobs.payload.isEmpty && blobs.other.isEmpty { continue }
                records[index] = record
                for (blob, member) in blobs.other {
                    others[blob, default: []].append("entry \(index) (\(type.rawValue)) references it in $.\(member)")
                    otherEntries[blob, default: []].insert(index)
                }
                guard let clock = record["timestamp"]?.stringValue.flatMap(Timestamp.parse) else { continue }
                for (blob, field) in blobs.payload {
                    let rule = policy.rule(for: type, payload: field)
                    let due = rule.flatMap { $0.eraseAfter.end(from: clock) }
                    references[blob, default: []].append(
                        .init(entry: index, type: type, payload: field, clock: clock, rule: rule, due: due))
                    if let due, due <= asOf { candidates.append(blob) }
                }
            }
        }
        var seen = Set<SHA256Digest>()
        candidates = candidates.filter { seen.insert($0).inserted }
        func firstEntry(_ blob: SHA256Digest) -> UInt64 {
            references[blob]?.map { $0.entry }.min() ?? 0
        }
        let ordered = candidates.sorted { a, b in
            let (x, y) = (firstEntry(a), firstEntry(b))
            return x != y ? x < y : a < b
        }

        var erasures: [RetentionPlan.Erasure] = []
        var withheld: [RetentionPlan.Withheld] = []
        var alreadyErased: [SHA256Digest] = []
        for blob in ordered {
            guard let metadata = try blobMetadata(txn, blob) else { continue }
            if metadata.erasure != nil {
                alreadyErased.append(blob)
                continue
            }
            let refs = references[blob]!.sorted { ($0.entry, $0.payload) < ($1.entry, $1.payload) }
            var blockers = others[blob] ?? []
            for ref in refs {
                let what = "entry \(ref.entry)'s \(ref.type.rawValue) \(ref.payload)"
                if let rule = ref.rule {
                    guard let due = ref.due else {
                        blockers.append("\(what) is kept by rule \(rule.name) (\(rule.eraseAfter)) past year 9999")
                        continue
                    }
                    if due > asOf {
                        blockers.append("\(what) is due under rule \(rule.name) only at \(Timestamp.format(due))")
                    }
                } else {
                    blockers.append("\(what): no rule names it")
                }
            }
            // Entries that reference it otherwise: records of other types, or through a correction.
            let known = Set(refs.map { $0.entry })
            let prefix = IndexKey(.blob, digest: blob).bytes
            var referencing: [UInt64] = []
            try txn.forEach(tables.index, prefix: prefix) { key, _ in
                referencing.append(readUInt64(key, at: prefix.count))
                return true
            }
            for index in referencing where index < size && !known.contains(index) && records[index] == nil {
                let type = RecordFacts(stored: try storedRecord(txn, index)).type
                blockers.append("entry \(index) (\(type.rawValue)) references it, and no rule covers that")
            }
            for index in referencing where index < size && records[index] != nil && !known.contains(index) {
                if otherEntries[blob]?.contains(index) != true {
                    blockers.append("entry \(index) references it through a correction")
                }
            }
            var heldBy: [String] = []
            for hold in holds where !heldBy.contains(where: { sameText($0, hold.id) }) {
                if refs.contains(where: {
                    hold.holds(entry: $0.entry, type: $0.type, record: records[$0.entry] ?? .null, clock: $0.clock)
                }) {
                    heldBy.append(hold.id)
                }
            }
            if !heldBy.isEmpty || !blockers.isEmpty {
                withheld.append(.init(blob: blob, references: refs, holds: heldBy, blockers: blockers))
            } else {
                erasures.append(.init(blob: blob, size: metadata.size, references: refs, reason: Self.reason(refs)))
            }
        }
        return RetentionPlan(
            asOf: asOf, treeSize: size, erasures: erasures, withheld: withheld, alreadyErased: alreadyErased,
            holds: holds, unmatchedReleases: unmatched)
    }

    /// `retention policy prompts-3y: checkpoint prompt older than P3Y` (rules joined with `; ` when several
    /// references fall under different rules).
    private static func reason(_ references: [RetentionPlan.Reference]) -> String {
        var parts: [String] = []
        for ref in references {
            guard let rule = ref.rule else { continue }
            let part = "\(rule.name): \(ref.type.rawValue) \(ref.payload) older than \(rule.eraseAfter)"
            if !parts.contains(part) { parts.append(part) }
        }
        return "retention policy " + parts.joined(separator: "; ")
    }
}

extension Ledger {
    /// The erasure records that apply `plan`: one per blob of `plan.erasures`, its reason naming the rule.
    public func retentionErasures(
        _ plan: RetentionPlan, author: String, at timestamp: String
    ) throws(LedgerError) -> [PreparedEntry] {
        var out: [PreparedEntry] = []
        for erasure in plan.erasures {
            out.append(try erasureRecord(of: erasure.blob, reason: erasure.reason, author: author, at: timestamp))
        }
        return out
    }
}
