import CairnCrypto
import CairnJSON
import CairnRecords
import CairnStorage

/// One problem with a record, with the JSON path it concerns.
public struct RecordProblem: Sendable, Hashable, CustomStringConvertible {
    /// JSON path in the record (`$.subject`), as in specs/record-schema.md.
    public let path: String
    /// A stable code: a `ValidationIssue.Code` raw value, or one of the ledger's own
    /// (`duplicateID`, `unknownSubject`, `subjectNotCheckpoint`, `unknownTarget`, `selfCorrection`,
    /// `unknownBlob`, `blobErased`, `invalidEffectiveRecord`).
    public let code: String
    public let message: String

    public init(path: String, code: String, message: String) {
        self.path = path
        self.code = code
        self.message = message
    }

    init(_ issue: ValidationIssue) {
        self.init(path: issue.path, code: issue.code.rawValue, message: issue.message)
    }

    /// `$.path: message`.
    public var description: String { "\(path): \(message)" }
}

/// A record refused in the write transaction because of what the ledger already holds (an id in
/// use, a subject or correction target that does not exist…). Nothing of the batch was written.
public struct AppendRejection: Error, Sendable, Hashable, CustomStringConvertible {
    /// The record's position in the submitted batch (0-based).
    public let position: Int
    /// The record's content address.
    public let digest: SHA256Digest
    /// Every problem found.
    public let problems: [RecordProblem]

    public var description: String {
        "record \(position + 1) (\(digest)): " + problems.map(\.description).joined(separator: "; ")
    }
}

/// A derived row: an index key, a reference or an id, written for a record and removed when a
/// correction changes the record's effective facts.
struct DerivedRow: Hashable {
    let table: Table
    let key: [UInt8]
    let value: [UInt8]
}

extension Ledger {
    /// The longest chain of corrections from a correction down to the original record it
    /// ultimately corrects (a correction of the original is depth 1).
    public static let maxCorrectionDepth = 16

    // MARK: - Admission (inside the write transaction)

    /// Checks a provenance record against the ledger and writes its derived rows. Throws
    /// `AppendRejection` (before writing anything) when a reference does not resolve.
    func admit(
        _ entry: PreparedEntry, facts: RecordFacts, principal: Principal, index: UInt64, position: Int,
        txn: WriteTransaction, aggregates: AggregateDeltas?
    ) throws {
        var problems: [RecordProblem] = []
        func problem(_ path: String, _ code: String, _ message: String) {
            problems.append(RecordProblem(path: path, code: code, message: message))
        }

        // Resolve references.
        var subject: UInt64?
        if let reference = facts.subject {
            switch try resolveSubject(txn, reference) {
            case .some(let resolved):
                if try self.facts(txn, resolved).type == .checkpoint {
                    subject = resolved
                } else {
                    problem(
                        "$.subject", "subjectNotCheckpoint",
                        "\(reference) is entry \(resolved), which is not a checkpoint")
                }
            case .none:
                problem("$.subject", "unknownSubject", "no checkpoint \(reference) in this ledger (append it first)")
            }
        }
        if facts.type == .checkpoint, let id = facts.id, let existing = try txn.value(tables.ids, key: Array(id.utf8)) {
            let other = existing.withUnsafeBytes { BigEndianKey.decode($0) } ?? 0
            problem("$.id", "duplicateID", "checkpoint id \(id.debugDescription) is already used by entry \(other)")
        }
        var correction: (target: UInt64, effective: JSONValue)?
        if let target = facts.corrects {
            if target == entry.digest {
                problem("$.corrects", "selfCorrection", "a correction cannot correct itself")
            } else if let targetIndex = try self.index(txn, of: target) {
                // Corrections of corrections are refolded down to the original record on every
                // append: bounding the depth keeps that cost bounded (a chain of n links would
                // otherwise cost n² work while every other append waits).
                var depth = 1
                var link = targetIndex
                while depth <= Ledger.maxCorrectionDepth, let next = try self.facts(txn, link).corrects,
                    let nextIndex = try self.index(txn, of: next)
                {
                    depth += 1
                    link = nextIndex
                }
                if depth > Ledger.maxCorrectionDepth {
                    problem(
                        "$.corrects", "correctionTooDeep",
                        "entry \(targetIndex) is a correction \(depth - 1) levels deep (a correction of the original "
                            + "record is 1 level deep), and corrections may be at most \(Ledger.maxCorrectionDepth) "
                            + "levels deep: correct the original record instead")
                }
                // Only the principal that appended a record, or one trusted to correct others'
                // records, may correct it: another producer must not rewrite its history.
                if !principal.mayCorrectOthers {
                    let owner = try appender(txn, of: targetIndex)
                    if !(owner.map { $0.isSameAppender(as: principal) } ?? false) {
                        problem(
                            "$.corrects", "notPermitted",
                            "entry \(targetIndex) was appended by "
                                + (owner.map { "\($0)" } ?? "an unrecorded principal")
                                + "; only that principal, or a token with the correct role, may correct it")
                    }
                }
                do {
                    let record = try JSONParser.parse(entry.bytes)
                    let current = try effectiveRecord(txn, targetIndex)
                    correction = (targetIndex, try Corrections.apply(record, to: current))
                } catch let error as RecordValidationError {
                    for issue in error.issues {
                        problem(
                            issue.path, "invalidEffectiveRecord",
                            "the corrected entry \(targetIndex) would be invalid: \(issue.message)")
                    }
                }
            } else {
                problem("$.corrects", "unknownTarget", "no entry \(target) in this ledger")
            }
        }
        if let blob = facts.erasedBlob {
            switch try blobMetadata(txn, blob) {
            case .none: problem("$.blob", "unknownBlob", "blob \(blob) is not in this ledger's blob store")
            case .some(let meta) where meta.erasure != nil:
                problem("$.blob", "blobErased", "blob \(blob) was already erased by entry \(meta.erasure!.entry)")
            default: break
            }
        }
        for blob in facts.blobReferences where try blobMetadata(txn, blob) == nil {
            problem(
                "$", "unknownBlob",
                "the record references blob \(blob), which is not in the blob store (`cairn blob put` it first)")
        }
        guard problems.isEmpty else {
            throw AppendRejection(position: position, digest: entry.digest, problems: problems)
        }

        // Aggregates, before the rows change what they read: the subject's state without this entry, and
        // whether each of a checkpoint's commits is new (then this checkpoint is the first to name it).
        var subjectBefore: CheckpointState?
        var newCommits: [String] = []
        if let aggregates {
            if let prepared = entry.initialContributions, prepared.sensitivePaths == aggregates.sensitivePaths {
                aggregates.add(prepared.items)
            } else {
                aggregates.add(Self.initialContributions(facts, aggregates.sensitivePaths))
            }
            if facts.type.isLifecycle, let subject {
                let state = try checkpointState(txn, subject)
                aggregates.subtract(Self.contributions(of: state, sensitivePaths: aggregates.sensitivePaths))
                subjectBefore = state
            }
            if facts.type == .checkpoint {
                for commit in Self.outputCommits(facts) where try !exists(txn, prefix: IndexKey(.commit, commit)) {
                    newCommits.append(commit)
                }
            }
        }

        // Write.
        for row in try derivedRows(txn, facts: facts, index: index, subject: subject) {
            try txn.put(row.table, key: row.key, value: row.value)
        }
        if facts.type == .checkpoint {
            try txn.put(tables.index, key: IndexKey(.unreviewed).appending(index).bytes, value: [])
        }
        if facts.type == .review, let subject {
            try txn.delete(tables.index, key: IndexKey(.unreviewed).appending(subject).bytes)
        }
        if let aggregates {
            if var state = subjectBefore {
                state.lifecycle.append((index, facts))
                aggregates.add(Self.contributions(of: state, sensitivePaths: aggregates.sensitivePaths))
            }
            if facts.type == .checkpoint {
                for commit in newCommits {
                    aggregates.add(Self.commitContributions(commit: commit, firstCheckpoint: facts))
                }
            }
        }
        if let (target, effective) = correction {
            try replaceEffective(txn, index: target, with: effective, aggregates: aggregates)
        }
        if let blob = facts.erasedBlob {
            try markErased(txn, blob: blob, by: index, record: try JSONParser.parse(entry.bytes))
        }
    }

    /// Every row derived from a record's (effective) facts.
    func derivedRows(
        _ txn: some TransactionReading, facts: RecordFacts, index: UInt64, subject: UInt64?
    ) throws
        -> [DerivedRow]
    {
        var rows: [DerivedRow] = []
        func add(_ key: IndexKey, value: [UInt8] = []) {
            rows.append(DerivedRow(table: tables.index, key: key.bytes, value: value))
        }
        func reference(from target: UInt64) {
            rows.append(
                DerivedRow(
                    table: tables.refs, key: BigEndianKey.bytes(target) + BigEndianKey.bytes(index),
                    value: Array(facts.type.rawValue.utf8)))
        }
        add(IndexKey(.type, facts.type.rawValue).appending(index))
        if let ms = facts.timestamp { add(IndexKey(.time).appending(time: ms).appending(index)) }
        // Checkpoints and model calls: the provider's request id correlates the two (`Ledger+RequestIndex`).
        if let requestID = facts.requestID { add(IndexKey(.requestID, requestID).appending(index)) }
        for blob in facts.blobReferences { add(IndexKey(.blob, digest: blob).appending(index)) }
        if let subject { reference(from: subject) }

        switch facts.type {
        case .checkpoint:
            if let id = facts.id {
                rows.append(DerivedRow(table: tables.ids, key: Array(id.utf8), value: BigEndianKey.bytes(index)))
            }
            let fields: [(IndexTag, String?)] = [
                (.model, facts.modelID), (.requestedBy, facts.requestedBy), (.toolPath, facts.toolPath),
                (.workItem, facts.workItem),
            ]
            for case (let tag, let value?) in fields { add(IndexKey(tag, value).appending(index)) }
            for output in facts.outputs {
                add(IndexKey(.repo, output.repo).appending(index))
                add(IndexKey(.commit, output.commit).appending(index))
                for range in output.ranges {
                    add(
                        IndexKey(.lines, output.path).appending(range.start).appending(index),
                        value: withUnsafeBytes(of: range.end.bigEndian) { Array($0) })
                }
            }
        case .review:
            if let reviewer = facts.reviewer {
                add(IndexKey(.reviewer, reviewer).appending(index))
                if let subject { add(IndexKey(.reviewedBy, reviewer).appending(subject).appending(index)) }
            }
        case .deploy, .rollback:
            if let environment = facts.environment { add(IndexKey(.environment, environment).appending(index)) }
        case .rewrite:
            if let rewrite = facts.rewrite {
                // Every checkpoint known under the old commit (directly or through earlier
                // rewrites) is also found under the new one.
                var affected = Set<UInt64>()
                for tag in [IndexTag.commit, .commitAlias] {
                    let prefix = IndexKey(tag, rewrite.old).bytes
                    try txn.forEach(tables.index, prefix: prefix) { key, _ in
                        affected.insert(readUInt64(key, at: prefix.count))
                        return true
                    }
                }
                for checkpoint in affected.sorted() {
                    add(IndexKey(.commitAlias, rewrite.new).appending(checkpoint).appending(index))
                    if checkpoint != subject { reference(from: checkpoint) }
                }
            }
        case .correction:
            if let target = facts.corrects, let targetIndex = try self.index(txn, of: target) {
                reference(from: targetIndex)
            }
        case .erasure, .test, .modelCall, .keyRotation, .seal, .predecessor, .legalHold:
            break
        }
        return rows
    }

    /// Stores a new effective record for `index` and moves its derived rows from the old facts
    /// to the new ones. If `index` is itself a correction, its target's effective record is
    /// recomputed with the corrected patch.
    private func replaceEffective(
        _ txn: WriteTransaction, index: UInt64, with effective: JSONValue, aggregates: AggregateDeltas?
    ) throws {
        let oldFacts = try facts(txn, index)
        let newFacts = try RecordFacts(effective)
        let oldSubject = try oldFacts.subject.flatMap { try resolveSubject(txn, $0) }
        let newSubject = try newFacts.subject.flatMap { try resolveSubject(txn, $0) }
        let change = try aggregates.map {
            try beginAggregateChange(
                txn, index: index, old: oldFacts, new: newFacts, subjects: [oldSubject, newSubject].compactMap { $0 },
                $0)
        }
        let oldRows = Set(try derivedRows(txn, facts: oldFacts, index: index, subject: oldSubject))
        let newRows = Set(try derivedRows(txn, facts: newFacts, index: index, subject: newSubject))
        for row in oldRows.subtracting(newRows) { try txn.delete(row.table, key: row.key) }
        for row in newRows.subtracting(oldRows) { try txn.put(row.table, key: row.key, value: row.value) }
        try txn.put(tables.effective, key: index, value: try JCS.canonicalize(effective))
        if let change, let aggregates { try finish(change, txn, aggregates) }

        if newFacts.type == .correction, let target = newFacts.corrects,
            let targetIndex = try self.index(txn, of: target)
        {
            // Re-fold the target from its original with every correction's effective version.
            let original = try JSONParser.parse(try entry(txn, targetIndex))
            var corrections: [JSONValue] = []
            for source in try references(txn, to: targetIndex) where source.type == .correction {
                corrections.append(try effectiveRecord(txn, source.index))
            }
            try replaceEffective(
                txn, index: targetIndex, with: try Corrections.effective(original: original, corrections: corrections),
                aggregates: aggregates)
        }
    }

    // MARK: - Reading provenance state

    /// The effective record at `index`: the original with every correction applied.
    func effectiveRecord(_ txn: some TransactionReading, _ index: UInt64) throws -> JSONValue {
        try effectiveRecordAndBytes(txn, index).record
    }

    /// The effective record at `index` and the canonical bytes (RFC 8785) it is parsed from: the stored
    /// corrected form, or the entry itself.
    func effectiveRecordAndBytes(
        _ txn: some TransactionReading, _ index: UInt64
    ) throws -> (record: JSONValue, bytes: [UInt8]) {
        let bytes = try txn.value(tables.effective, key: index) ?? entry(txn, index)
        do {
            return (try JSONParser.parse(bytes), bytes)
        } catch {
            throw LedgerError(.corrupt, "entry \(index) is not valid JSON: \(error)")
        }
    }

    /// The facts of the effective record at `index`, read from its tape (no value tree).
    func facts(_ txn: some TransactionReading, _ index: UInt64) throws -> RecordFacts {
        try recordBytesAndFacts(txn, index).facts
    }

    /// The effective record at `index` and its facts, from one parse (not validated again: see
    /// `RecordFacts.init(stored:)`).
    func recordAndFacts(
        _ txn: some TransactionReading, _ index: UInt64
    ) throws -> (record: JSONValue, facts: RecordFacts) {
        let record = try effectiveRecord(txn, index)
        return (record, RecordFacts(stored: record))
    }

    /// An effective record's canonical bytes (RFC 8785: the stored entry, or the stored corrected form), its facts,
    /// and whether a correction applies (then the bytes are not the entry's).
    typealias StoredRecord = (bytes: [UInt8], facts: RecordFacts, corrected: Bool)

    /// The effective record's canonical bytes and its facts, read from its tape: no value tree is built (see
    /// `RecordFacts.init(stored:)`).
    func recordBytesAndFacts(_ txn: some TransactionReading, _ index: UInt64) throws -> StoredRecord {
        let effective = try txn.value(tables.effective, key: index)
        let bytes = try effective ?? entry(txn, index)
        do {
            return (bytes, RecordFacts(stored: try JSONTape(parsing: bytes).root), effective != nil)
        } catch {
            throw LedgerError(.corrupt, "entry \(index) is not valid JSON: \(error)")
        }
    }

    func resolveSubject(_ txn: some TransactionReading, _ reference: SubjectReference) throws -> UInt64? {
        switch reference {
        case .digest(let digest):
            return try index(txn, of: digest)
        case .id(let id):
            return try txn.value(tables.ids, key: Array(id.utf8)).flatMap {
                $0.withUnsafeBytes { BigEndianKey.decode($0) }
            }
        }
    }

    /// Entries that refer to `target`, in log order.
    func references(_ txn: some TransactionReading, to target: UInt64) throws -> [(index: UInt64, type: RecordType)] {
        var out: [(UInt64, RecordType)] = []
        try txn.forEach(tables.refs, prefix: BigEndianKey.bytes(target)) { key, value in
            let type = RecordType(rawValue: String(decoding: value, as: UTF8.self)) ?? .checkpoint
            out.append((readUInt64(key, at: 8), type))
            return true
        }
        return out
    }
}
