import CairnCrypto
import CairnJSON
import CairnMerkle
import CairnRecords

/// A record made ready to append: its canonical bytes and both of their hashes.
///
/// Preparing is pure and independent per record, so producers (or a pool of threads) do it in
/// parallel before handing entries to the single writer, which then does only ordered work.
public struct PreparedEntry: Sendable, Hashable {
    /// The leaf entry: the record's RFC 8785 canonical JSON bytes.
    public let bytes: [UInt8]
    /// SHA-256(bytes): the record's content address.
    public let digest: SHA256Digest
    /// SHA-256(0x00 ‖ bytes): the RFC 6962 leaf hash.
    public let leafHash: SHA256Digest
    /// What the provenance profile needs to cross-check and index the record; `nil` for
    /// entries prepared without a schema (the generic profile).
    public var facts: RecordFacts? { factsBox?.facts }
    /// Large payloads moved out of the record into blobs (`RecordRules.extractOver`): the record
    /// holds references to them, and the ingest engine stores them with it.
    public let payloads: [BlobPayload]
    /// What the record adds to the aggregates as a new entry (its `type` bucket and, for a checkpoint, its own
    /// buckets before anything names it), computed on the preparing thread with the sensitive paths it names;
    /// the writer uses it when the ledger's paths are still those, and computes it itself otherwise.
    var initialContributions: InitialContributions? { factsBox?.contributions }

    // Boxed: `RecordFacts` is ~500 bytes, and batches of entries are copied between queues.
    private let factsBox: FactsBox?

    private final class FactsBox: Sendable {
        let facts: RecordFacts
        let contributions: InitialContributions?
        init(_ facts: RecordFacts, _ contributions: InitialContributions?) {
            self.facts = facts
            self.contributions = contributions
        }
    }

    /// Wraps already-canonical entry bytes, hashing them.
    public init(canonicalBytes bytes: [UInt8], facts: RecordFacts? = nil, payloads: [BlobPayload] = []) {
        self.init(canonicalBytes: bytes, facts: facts, payloads: payloads, sensitivePaths: nil)
    }

    /// Wraps already-canonical entry bytes, hashing them, and with `sensitivePaths`, computes the record's initial
    /// contributions to the aggregates.
    init(canonicalBytes bytes: [UInt8], facts: RecordFacts?, payloads: [BlobPayload], sensitivePaths: [String]?) {
        self.bytes = bytes
        self.digest = SHA256.hash(bytes)
        self.leafHash = bytes.withUnsafeBytes { RFC6962.leafHash($0) }
        self.factsBox = facts.map { facts in
            FactsBox(
                facts,
                sensitivePaths.map { paths in
                    InitialContributions(sensitivePaths: paths, items: Ledger.initialContributions(facts, paths))
                })
        }
        self.payloads = payloads
    }

    public static func == (lhs: PreparedEntry, rhs: PreparedEntry) -> Bool {
        lhs.digest == rhs.digest && lhs.bytes == rhs.bytes
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(digest)
    }

    /// Parses a JSON text and prepares it under `rules`: for the provenance profile the record
    /// must match the record schema (every problem is reported, with its JSON path).
    public static func prepare(json: UnsafeRawBufferPointer, rules: RecordRules) throws(RecordError) -> PreparedEntry {
        guard rules.profile == .provenance else {
            return try prepare(json: json, maxEntryBytes: rules.maxEntryBytes)
        }
        // One pass over the bytes gives the record as a tape (to validate and read facts from, without building
        // a value tree) and its canonical bytes (the entry).
        let parsed: (tape: JSONTape, canonical: [UInt8])
        do {
            parsed = try JSONTape.parseAndCanonicalize(json: json)
        } catch {
            throw RecordError(.invalidJSON, error.description, parseError: error)
        }
        let record = parsed.tape.root
        guard record.kind == .object else {
            throw RecordError(.notAnObject, "expected a JSON object, found \(record.kind.name)")
        }
        // Payload extraction rewrites the record, which needs a tree; only a record whose canonical form is over
        // the threshold can have a payload over it (a payload is at most its member's canonical text).
        if rules.extractOver > 0 && parsed.canonical.count > rules.extractOver {
            return try prepare(record: record.jsonValue, rules: rules, canonical: parsed.canonical)
        }
        let facts: RecordFacts
        do {
            if rules.strictFields { try RecordValidator.validate(record, options: .init(strictFields: true)) }
            facts = try RecordFacts(record)  // validates with the default options
        } catch {
            throw RecordError(.schemaViolation, error.description, issues: error.issues)
        }
        return try sized(parsed.canonical, facts: facts, payloads: [], rules: rules)
    }

    /// Parses a JSON text and prepares it under `rules`.
    public static func prepare(json: [UInt8], rules: RecordRules) throws(RecordError) -> PreparedEntry {
        let result = json.withUnsafeBytes { raw in
            Result { () throws(RecordError) in try prepare(json: raw, rules: rules) }
        }
        return try result.get()
    }

    /// Prepares an already parsed record under `rules`.
    ///
    /// With `rules.extractOver`, the large payloads of a valid checkpoint are moved into `payloads`
    /// and replaced by blob references before the size limit applies (so a 50 MB prompt fits a
    /// 1 MiB entry); their salts come from `rules.blobSalting` (which reads the ledger); writing
    /// them is the ingest engine's job. Otherwise pure.
    public static func prepare(record value: JSONValue, rules: RecordRules) throws(RecordError) -> PreparedEntry {
        try prepare(record: value, rules: rules, canonical: nil)
    }

    /// `prepare(record:rules:)`, given the value's canonical bytes when the caller has them already
    /// (they are used unless payload extraction changed the record).
    private static func prepare(
        record value: JSONValue, rules: RecordRules, canonical known: [UInt8]?
    ) throws(RecordError) -> PreparedEntry {
        guard case .object = value else {
            throw RecordError(.notAnObject, "expected a JSON object, found \(value.kindName)")
        }
        var facts: RecordFacts?
        var record = value
        var payloads: [BlobPayload] = []
        var recordChanged = false
        if rules.profile == .provenance {
            do {
                if rules.strictFields { try RecordValidator.validate(value, options: .init(strictFields: true)) }
                facts = try RecordFacts(value)  // validates with the default options
                if rules.extractOver > 0,
                    let extracted = PayloadExtraction.extract(
                        from: value, over: rules.extractOver, salting: rules.blobSalting)
                {
                    record = extracted.record
                    recordChanged = true
                    payloads = extracted.payloads
                    facts = try RecordFacts(record)
                }
            } catch {
                throw RecordError(.schemaViolation, error.description, issues: error.issues)
            }
        }
        let canonical: [UInt8]
        if let known, !recordChanged {
            canonical = known
        } else {
            do {
                canonical = try JCS.canonicalize(record)
            } catch {
                throw RecordError(.invalidJSON, error.description)
            }
        }
        return try sized(canonical, facts: facts, payloads: payloads, rules: rules)
    }

    /// The entry, unless its canonical bytes are over the ledger's limit.
    private static func sized(
        _ canonical: [UInt8], facts: RecordFacts?, payloads: [BlobPayload], rules: RecordRules
    ) throws(RecordError) -> PreparedEntry {
        guard canonical.count <= rules.maxEntryBytes else {
            throw RecordError(
                .tooLarge,
                "canonical entry is \(canonical.count) bytes, over the ledger's limit of \(rules.maxEntryBytes) bytes")
        }
        return PreparedEntry(
            canonicalBytes: canonical, facts: facts, payloads: payloads, sensitivePaths: rules.sensitivePaths)
    }

    /// Parses a JSON text, requires an object, canonicalizes it (RFC 8785) and checks its size.
    public static func prepare(json: UnsafeRawBufferPointer, maxEntryBytes: Int) throws(RecordError) -> PreparedEntry {
        let canonical: [UInt8]
        do {
            // The streaming path: canonical bytes straight from the parser, no value tree.
            canonical = try JCS.canonicalize(json: json)
        } catch {
            throw RecordError(.invalidJSON, error.description, parseError: error)
        }
        guard canonical.first == UInt8(ascii: "{") else {
            throw RecordError(
                .notAnObject, "expected a JSON object, found \(kindName(canonicalFirstByte: canonical.first))")
        }
        guard canonical.count <= maxEntryBytes else {
            throw RecordError(
                .tooLarge,
                "canonical entry is \(canonical.count) bytes, over the ledger's limit of \(maxEntryBytes) bytes")
        }
        return PreparedEntry(canonicalBytes: canonical)
    }

    /// Parses a JSON text, requires an object, canonicalizes it (RFC 8785) and checks its size.
    public static func prepare(json: [UInt8], maxEntryBytes: Int) throws(RecordError) -> PreparedEntry {
        let result = json.withUnsafeBytes { raw in
            Result { () throws(RecordError) in try prepare(json: raw, maxEntryBytes: maxEntryBytes) }
        }
        return try result.get()
    }
}

/// Why a record was refused, before anything was written.
public struct RecordError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable, Equatable {
        /// Not valid JSON (syntax, UTF-8, duplicate keys, unrepresentable numbers…).
        case invalidJSON
        /// Valid JSON, but not an object.
        case notAnObject
        /// The canonical entry exceeds the ledger's size limit.
        case tooLarge
        /// The record does not match the record schema (see `issues`).
        case schemaViolation
    }

    public let code: Code
    /// One line, without file or line context (the caller adds that).
    public let message: String
    /// The parser's error, with its line and column, when `code == .invalidJSON` from parsing.
    public let parseError: JSONParseError?
    /// Every schema problem, with its JSON path, when `code == .schemaViolation`.
    public let issues: [ValidationIssue]

    public init(_ code: Code, _ message: String, parseError: JSONParseError? = nil, issues: [ValidationIssue] = []) {
        self.code = code
        self.message = message
        self.parseError = parseError
        self.issues = issues
    }

    public var description: String { message }
}

/// How records are checked before they are appended.
public struct RecordRules: Sendable, Hashable {
    /// Which schema applies.
    public var profile: LedgerProfile
    /// The largest canonical entry accepted, in bytes.
    public var maxEntryBytes: Int
    /// Treat fields the schema does not define as errors instead of keeping them.
    public var strictFields: Bool
    /// Move checkpoint payloads (`prompt`, `raw_output`, `turns`) larger than this many bytes
    /// into blobs (`PayloadExtraction`); 0 keeps every payload in the record.
    public var extractOver: Int
    /// The salts of the blobs payloads are moved to (`Ledger.blobSalting`); nil: unsalted, the
    /// address being the plain SHA-256 of the bytes (as before salting; for tests and tools that
    /// recompute stored forms).
    public var blobSalting: BlobSalting?
    /// The globs of sensitive paths the ledger's aggregates count with (`Ledger.recordRules` reads them): with
    /// them, preparation also computes what each record adds to the aggregates, on the preparing thread instead
    /// of the single writer's; nil leaves it all to the writer. The result is the same either way.
    public var sensitivePaths: [String]?

    public init(
        profile: LedgerProfile, maxEntryBytes: Int, strictFields: Bool = false, extractOver: Int = 0,
        blobSalting: BlobSalting? = nil, sensitivePaths: [String]? = nil
    ) {
        self.profile = profile
        self.maxEntryBytes = maxEntryBytes
        self.strictFields = strictFields
        self.extractOver = extractOver
        self.blobSalting = blobSalting
        self.sensitivePaths = sensitivePaths
    }
}

/// A record's contributions to the aggregates as a new entry, and the sensitive paths they were computed with.
struct InitialContributions: Sendable {
    let sensitivePaths: [String]
    let items: [(key: AggregateKey, counters: AggregateCounters)]
}

/// Which records a ledger accepts, fixed at `init`.
public enum LedgerProfile: String, Sendable, Hashable, CaseIterable {
    /// AI provenance records (specs/record-schema.md): validated, cross-checked and indexed.
    case provenance = "cairn-provenance/1"
    /// Any JSON object: a plain content-addressed transparency log.
    case generic
}

/// "an array", "a string"… for messages, from the first byte of a canonical JSON text.
private func kindName(canonicalFirstByte byte: UInt8?) -> String {
    switch byte {
    case UInt8(ascii: "["): "an array"
    case UInt8(ascii: "\""): "a string"
    case UInt8(ascii: "t"), UInt8(ascii: "f"): "a boolean"
    case UInt8(ascii: "n"): "null"
    default: "a number"
    }
}
