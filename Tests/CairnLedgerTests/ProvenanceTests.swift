import CairnCrypto
import CairnJSON
import CairnLedger
import CairnMerkle
import CairnRecords
import CairnTestSupport
import Foundation
import Testing

// MARK: - Record builders

func checkpoint(
    id: String, at time: String = "2026-11-20T09:00:00Z", by person: String = "alice@example.com",
    model: String = "claude-sonnet-4-5", tool: String = "ide", repo: String = "git@example.com:pay/client.git",
    commit: String = String(repeating: "a", count: 40), path: String = "src/retry.ts", ranges: [[Int]] = [[10, 20]],
    workItem: String? = nil, extra: JSONObject = [:]
) -> JSONValue {
    var object: JSONObject = [
        "type": "checkpoint", "schema": 1, "id": .string(id), "timestamp": .string(time),
        "requested_by": .string(person),
        "tool_path": .string(tool),
        "model": ["id": .string(model), "version": "20250929", "provider": "anthropic"],
        "prompt": "Add retries",
        "outputs": [
            [
                "repo": .string(repo), "commit": .string(commit), "path": .string(path),
                "ranges": .array(ranges.map { .array($0.map { .number(Double($0)) }) }),
                "content_hash": .string("sha256:" + String(repeating: "c", count: 64)), "contributor": "ai",
            ]
        ],
    ]
    if let workItem { object["work_item"] = .string(workItem) }
    for (key, value) in extra { object[key] = value }
    return .object(object)
}

func review(
    _ subject: String, by reviewer: String = "bob@example.com", decision: String = "approved",
    at time: String = "2026-11-20T10:00:00Z"
) -> JSONValue {
    [
        "type": "review", "schema": 1, "subject": .string(subject), "reviewer": .string(reviewer),
        "decision": .string(decision), "at": .string(time),
    ]
}

func lifecycle(_ type: String, _ subject: String, at time: String, _ fields: JSONObject) -> JSONValue {
    var object: JSONObject = ["type": .string(type), "schema": 1, "subject": .string(subject), "at": .string(time)]
    for (key, value) in fields { object[key] = value }
    return .object(object)
}

func correction(of digest: SHA256Digest, reason: String = "fix the record", patch: JSONObject) -> JSONValue {
    [
        "type": "correction", "schema": 1, "corrects": .string(digest.description), "author": "alice@example.com",
        "reason": .string(reason), "patch": .object(patch),
    ]
}

/// A provenance ledger in a temporary directory.
struct ProvenanceFixture {
    let dir: TemporaryDirectory
    let ledger: Ledger

    init() throws {
        dir = try TemporaryDirectory()
        ledger = try Ledger.create(at: dir.path, origin: "example.com/provenance")
    }

    func prepare(_ record: JSONValue) throws -> PreparedEntry {
        try PreparedEntry.prepare(record: record, rules: ledger.recordRules())
    }

    @discardableResult
    func append(_ records: JSONValue...) throws -> [AppendResult] {
        try ledger.append(try records.map(prepare)).results
    }

    func digest(_ index: UInt64) throws -> SHA256Digest { SHA256.hash(try ledger.entry(at: index)) }

    func indexes(_ configure: (inout RecordQuery) -> Void) throws -> [UInt64] {
        var query = RecordQuery()
        configure(&query)
        return try ledger.query(query).map(\.index)
    }
}

func expectRejection(
    _ codes: [String], sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void
) {
    do {
        try body()
        Issue.record("expected a rejection with \(codes)", sourceLocation: sourceLocation)
    } catch let rejection as AppendRejection {
        #expect(rejection.problems.map(\.code) == codes, "\(rejection)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected AppendRejection, got \(error)", sourceLocation: sourceLocation)
    }
}

// MARK: - Admission

@Suite("Provenance ledger: admission")
struct AdmissionTests {
    @Test("A record that breaks the schema is refused at preparation with every JSON path")
    func schemaViolation() throws {
        let f = try ProvenanceFixture()
        var bad = checkpoint(id: "c1")
        if case .object(var object) = bad {
            object["tool_path"] = "telepathy"
            object["timestamp"] = "yesterday"
            bad = .object(object)
        }
        do {
            _ = try f.prepare(bad)
            Issue.record("accepted an invalid record")
        } catch let error as RecordError {
            #expect(error.code == .schemaViolation)
            #expect(Set(error.issues.map(\.path)) == ["$.timestamp", "$.tool_path"])
        }
        // A record without a type is refused too; the generic shape is not enough.
        #expect(throws: RecordError.self) { try f.prepare(["hello": "world"]) }
    }

    @Test("Checkpoint ids are unique per ledger; the whole batch is refused")
    func duplicateID() throws {
        let f = try ProvenanceFixture()
        try f.append(checkpoint(id: "c1"))
        expectRejection(["duplicateID"]) {
            try f.append(checkpoint(id: "c2"), checkpoint(id: "c1", by: "mallory@example.com"))
        }
        #expect(try f.ledger.treeSize() == 1)
        expectRejection(["duplicateID"]) { try f.append(checkpoint(id: "c3"), checkpoint(id: "c3", tool: "cli")) }
    }

    @Test("Lifecycle records must name an existing checkpoint, by id or content address")
    func subjects() throws {
        let f = try ProvenanceFixture()
        let results = try f.append(checkpoint(id: "c1"))
        try f.append(review("c1"), review(results[0].digest.description, by: "carol@example.com"))
        expectRejection(["unknownSubject"]) { try f.append(review("no-such-id")) }
        let reviewDigest = try f.digest(1)
        expectRejection(["subjectNotCheckpoint"]) {
            try f.append(review(reviewDigest.description, by: "dave@example.com"))
        }
        // A checkpoint and its review in one batch: the review sees the checkpoint.
        try f.append(checkpoint(id: "c2"), review("c2"))
        #expect(try f.ledger.treeSize() == 5)
    }
}

// MARK: - Corrections

@Suite("Provenance ledger: corrections")
struct CorrectionLedgerTests {
    @Test("Corrections apply in log order; the original bytes never change; history lists them")
    func chain() throws {
        let f = try ProvenanceFixture()
        try f.append(checkpoint(id: "c1", workItem: "PAY-1"))
        let original = try f.ledger.entry(at: 0)
        let target = try f.digest(0)
        try f.append(correction(of: target, patch: ["work_item": "PAY-2"]))
        try f.append(correction(of: target, patch: ["work_item": "PAY-3", "agent_role": "implementer"]))
        let view = try f.ledger.view(0)
        #expect(view.effective["work_item"]?.stringValue == "PAY-3")
        #expect(view.effective["agent_role"]?.stringValue == "implementer")
        #expect(view.original["work_item"]?.stringValue == "PAY-1")
        #expect(view.isCorrected)
        #expect(view.history.map(\.type) == [.correction, .correction])
        #expect(try f.ledger.entry(at: 0) == original)
        // Queries see the effective record only.
        #expect(try f.indexes { $0.workItem = "PAY-3" } == [0])
        #expect(try f.indexes { $0.workItem = "PAY-1" }.isEmpty)
    }

    @Test("A correction of a missing entry, of itself, or that would make the record invalid is refused")
    func invalidCorrections() throws {
        let f = try ProvenanceFixture()
        try f.append(checkpoint(id: "c1"))
        expectRejection(["unknownTarget"]) {
            try f.append(correction(of: SHA256.hash(utf8: "nothing"), patch: ["work_item": "X"]))
        }
        expectRejection(["invalidEffectiveRecord"]) {
            try f.append(correction(of: try f.digest(0), patch: ["outputs": .array([])]))
        }
        do {
            try f.append(correction(of: try f.digest(0), patch: ["model": ["id": 5]]))
            Issue.record("accepted a correction that breaks model.id")
        } catch let rejection as AppendRejection {
            #expect(
                rejection.problems.contains { $0.path == "$.patch.model.id" && $0.code == "invalidEffectiveRecord" },
                "\(rejection)")
        }
        #expect(try f.ledger.treeSize() == 1)
    }

    @Test("Correcting a correction re-folds its target with the corrected patch")
    func correctionOfCorrection() throws {
        let f = try ProvenanceFixture()
        try f.append(checkpoint(id: "c1", model: "model-a"))
        try f.append(correction(of: try f.digest(0), patch: ["model": ["id": "model-b"]]))
        #expect(try f.indexes { $0.model = "model-b" } == [0])
        try f.append(
            correction(
                of: try f.digest(1), reason: "the model was c, not b", patch: ["patch": ["model": ["id": "model-c"]]]))
        #expect(try f.ledger.view(0).effective["model"]?["id"]?.stringValue == "model-c")
        #expect(try f.indexes { $0.model = "model-c" } == [0])
        #expect(try f.indexes { $0.model = "model-b" }.isEmpty)
        #expect(try f.ledger.view(1).effective["patch"]?["model"]?["id"]?.stringValue == "model-c")
    }

    @Test("A correction appended after size N is not visible in a scan as of N")
    func scanAsOf() throws {
        let f = try ProvenanceFixture()
        try f.append(checkpoint(id: "c1", workItem: "PAY-1"))
        try f.append(review("c1"))
        let size = try f.ledger.treeSize()
        try f.append(correction(of: try f.digest(0), patch: ["work_item": "PAY-9"]))
        try f.append(review("c1", by: "late@example.com"))
        var seen: [(String?, Int)] = []
        try f.ledger.read { snapshot in
            try snapshot.scan(type: .checkpoint, asOf: size) { entry in
                seen.append((entry.facts.workItem, entry.references.count))
                return true
            }
        }
        #expect(seen.count == 1)
        #expect(seen[0].0 == "PAY-1")
        #expect(seen[0].1 == 1)
        var now: [String?] = []
        try f.ledger.read { snapshot in
            try snapshot.scan(type: .checkpoint) { entry in
                now.append(entry.facts.workItem)
                return true
            }
        }
        #expect(now == ["PAY-9"])
    }
}

// MARK: - Queries

@Suite("Provenance ledger: queries")
struct QueryTests {
    /// 0 c1 alice/model-a/ide  pay/client  commit a  src/retry.ts 10-20, 40-45  PAY-1  2026-11-20
    /// 1 c2 carol/model-b/agent pay/jobs    commit b  jobs/export.py 1-5         PAY-2  2026-11-21
    /// 2 c3 alice/model-b/cli  pay/client  commit d  src/retry.ts 30-35          PAY-1  2026-11-22
    /// 3 review c1 bob approved;  4 review c2 dave changes_requested;  5 deploy c1 production;
    /// 6 test c1 passed;  7 rewrite a→e;  8 rewrite e→f;  9 rollback c1
    func fixture() throws -> ProvenanceFixture {
        let f = try ProvenanceFixture()
        let a = String(repeating: "a", count: 40), b = String(repeating: "b", count: 40)
        let d = String(repeating: "d", count: 40), e = String(repeating: "e", count: 40)
        let g = String(repeating: "f", count: 64)
        try f.append(
            checkpoint(id: "c1", model: "model-a", commit: a, ranges: [[10, 20], [40, 45]], workItem: "PAY-1"),
            checkpoint(
                id: "c2", at: "2026-11-21T09:00:00Z", by: "carol@example.com", model: "model-b", tool: "agent",
                repo: "git@example.com:pay/jobs.git", commit: b, path: "jobs/export.py", ranges: [[1, 5]],
                workItem: "PAY-2"),
            checkpoint(
                id: "c3", at: "2026-11-22T09:00:00Z", model: "model-b", tool: "cli", commit: d, ranges: [[30, 35]],
                workItem: "PAY-1"),
            review("c1"), review("c2", by: "dave@example.com", decision: "changes_requested"),
            lifecycle(
                "deploy", "c1", at: "2026-11-21T12:00:00Z",
                ["git_commit": .string(a), "branch": "main", "environment": "production"]),
            lifecycle("test", "c1", at: "2026-11-20T11:00:00Z", ["result": "passed"]),
            [
                "type": "rewrite", "schema": 1, "old_commit": .string(a), "new_commit": .string(e), "kind": "rebase",
                "at": "2026-11-20T12:00:00Z",
            ],
            [
                "type": "rewrite", "schema": 1, "old_commit": .string(e), "new_commit": .string(g), "kind": "squash",
                "at": "2026-11-20T13:00:00Z",
            ],
            lifecycle("rollback", "c1", at: "2026-11-21T13:00:00Z", ["environment": "production", "reason": "latency"]))
        return f
    }

    @Test("Each checkpoint filter alone")
    func singleFilters() throws {
        let f = try fixture()
        #expect(try f.indexes { $0.model = "model-b" } == [1, 2])
        #expect(try f.indexes { $0.requestedBy = "alice@example.com" } == [0, 2])
        #expect(try f.indexes { $0.reviewer = "bob@example.com" } == [0])
        #expect(try f.indexes { $0.reviewer = "dave@example.com" } == [1])
        #expect(try f.indexes { $0.toolPath = "agent" } == [1])
        #expect(try f.indexes { $0.repo = "git@example.com:pay/client.git" } == [0, 2])
        #expect(try f.indexes { $0.commit = String(repeating: "b", count: 40) } == [1])
        #expect(try f.indexes { $0.workItem = "PAY-1" } == [0, 2])
        #expect(try f.indexes { $0.unreviewed = true } == [2])
        #expect(try f.indexes { $0.path = "src/retry.ts" } == [0, 2])
        #expect(try f.indexes { _ in } == [0, 1, 2])
    }

    @Test("File and line: which changes touched this line, and who reviewed them")
    func fileAndLine() throws {
        let f = try fixture()
        #expect(
            try f.indexes {
                $0.path = "src/retry.ts"; $0.lines = 15...15
            } == [0])
        #expect(
            try f.indexes {
                $0.path = "src/retry.ts"; $0.lines = 42...42
            } == [0])
        #expect(
            try f.indexes {
                $0.path = "src/retry.ts"; $0.lines = 33...33
            } == [2])
        #expect(
            try f.indexes {
                $0.path = "src/retry.ts"; $0.lines = 25...29
            }.isEmpty)
        #expect(
            try f.indexes {
                $0.path = "src/retry.ts"; $0.lines = 18...31
            } == [0, 2])
        #expect(
            try f.indexes {
                $0.path = "src/retry.ts"; $0.lines = 21...21
            }.isEmpty)
        #expect(
            try f.indexes {
                $0.path = "src/other.ts"; $0.lines = 15...15
            }.isEmpty)
        var query = RecordQuery()
        query.path = "src/retry.ts"
        query.lines = 15...15
        let match = try #require(try f.ledger.query(query).first)
        #expect(match.reviews.map(\.reviewer) == ["bob@example.com"])
        #expect(match.reviews.map(\.decision) == ["approved"])
    }

    @Test("Filters combine (all must hold)")
    func combined() throws {
        let f = try fixture()
        #expect(
            try f.indexes {
                $0.model = "model-b"; $0.requestedBy = "alice@example.com"
            } == [2])
        #expect(
            try f.indexes {
                $0.workItem = "PAY-1"; $0.unreviewed = true
            } == [2])
        #expect(
            try f.indexes {
                $0.path = "src/retry.ts"; $0.reviewer = "bob@example.com"
            } == [0])
        #expect(
            try f.indexes {
                $0.model = "model-a"; $0.toolPath = "agent"
            }.isEmpty)
    }

    @Test("Time bounds: since inclusive, until exclusive")
    func time() throws {
        let f = try fixture()
        let day21 = Timestamp.parse("2026-11-21T09:00:00Z")!
        #expect(try f.indexes { $0.since = day21 } == [1, 2])
        #expect(try f.indexes { $0.until = day21 } == [0])
        #expect(
            try f.indexes {
                $0.since = day21; $0.until = day21 + 1
            } == [1])
        #expect(
            try f.indexes {
                $0.model = "model-b"; $0.until = day21 + 1
            } == [1])
    }

    @Test("Rewrites keep provenance attached: the new commits (also after a second rewrite) find the change")
    func rewrites() throws {
        let f = try fixture()
        #expect(try f.indexes { $0.commit = String(repeating: "e", count: 40) } == [0])
        #expect(try f.indexes { $0.commit = String(repeating: "f", count: 64) } == [0])
        #expect(try f.indexes { $0.commit = String(repeating: "a", count: 40) } == [0])
        #expect(try f.ledger.view(0).history.filter { $0.type == .rewrite }.map(\.index) == [7, 8])
    }

    @Test("--type lists entries of that type about the matching checkpoints")
    func types() throws {
        let f = try fixture()
        #expect(try f.indexes { $0.type = .review } == [3, 4])
        #expect(
            try f.indexes {
                $0.type = .review; $0.model = "model-a"
            } == [3])
        #expect(
            try f.indexes {
                $0.type = .deploy; $0.commit = String(repeating: "f", count: 64)
            } == [5])
        #expect(try f.indexes { $0.type = .test } == [6])
        #expect(try f.indexes { $0.type = .rollback } == [9])
        #expect(try f.indexes { $0.type = .rewrite } == [7, 8])
        #expect(
            try f.indexes {
                $0.type = .deploy; $0.since = Timestamp.parse("2026-11-22T00:00:00Z")
            }.isEmpty)
        #expect(try f.indexes { $0.limit = 2 } == [0, 1])
    }

    @Test("show --history lists reviews, tests, deploys, rollbacks and rewrites in log order")
    func history() throws {
        let f = try fixture()
        let view = try f.ledger.view(try f.ledger.resolve(recordReference: "c1"))
        #expect(view.index == 0)
        #expect(view.history.map(\.index) == [3, 5, 6, 7, 8, 9])
        #expect(view.history.map(\.type) == [.review, .deploy, .test, .rewrite, .rewrite, .rollback])
        #expect(try f.ledger.resolve(recordReference: try f.digest(1).description) == 1)
        #expect(throws: LedgerError.self) { try f.ledger.resolve(recordReference: "no-such-id") }
    }
}

// MARK: - Blobs

@Suite("Provenance ledger: blobs and erasure")
struct BlobTests {
    @Test("Blobs are salted commitments (unsalted ones deduplicated) and checked on read")
    func putGet() async throws {
        let f = try ProvenanceFixture()
        let bytes = Array("the full prompt".utf8)
        let first = try await f.ledger.putBlob(bytes, mediaType: "text/plain")
        let second = try await f.ledger.putBlob(bytes, mediaType: "text/plain")
        #expect(first.salted && second.salted)
        #expect(first.digest != second.digest, "each store draws a new salt")
        #expect(first.digest != SHA256.hash(bytes))
        let (_, salt, read) = try await f.ledger.read { try $0.blobContents(first.digest) }
        #expect(read == bytes)
        #expect(salt.count == 32 && SHA256.hash(salt + bytes) == first.digest)
        let plain = try await f.ledger.putBlob(bytes, mediaType: "text/plain", salted: false)
        #expect(plain.digest == SHA256.hash(bytes) && !plain.salted)
        #expect(try await f.ledger.putBlob(bytes, mediaType: "text/plain", salted: false) == plain)
        #expect(try f.ledger.blob(plain.digest).bytes == bytes)
        #expect(try f.ledger.blob(first.digest).bytes == bytes)
        await #expect(throws: LedgerError.self) { try await f.ledger.putBlob(bytes, mediaType: "not a type") }
        // A corrupted file is detected.
        let path = f.dir.path + "/blobs/" + first.digest.hex.prefix(2) + "/" + first.digest.hex.dropFirst(2)
        try Data("tampered".utf8).write(to: URL(fileURLWithPath: String(path)))
        let error = #expect(throws: LedgerError.self) { try f.ledger.blob(first.digest) }
        #expect(error?.code == .corrupt)
    }

    @Test("Records may only reference stored blobs")
    func unknownBlob() throws {
        let f = try ProvenanceFixture()
        let record = checkpoint(
            id: "c1",
            extra: [
                "raw_output": [
                    "blob": .string(SHA256.hash(utf8: "x").description), "size": 1, "media_type": "text/plain",
                ]
            ])
        expectRejection(["unknownBlob"]) { try f.append(record) }
    }

    @Test("Erasing a blob keeps the leaf and its proofs, records why, and fsck still passes")
    func erase() async throws {
        let f = try ProvenanceFixture()
        // Unsalted (as before salting): its erasure is remembered by its plain address.
        let secret = try await f.ledger.putBlob(Array("password=hunter2".utf8), mediaType: "text/plain", salted: false)
        try f.append(checkpoint(id: "c1", extra: ["raw_output": secret.reference]))
        try f.append(review("c1"))
        let leafBefore = try f.ledger.entry(at: 0)
        let erasure = try f.ledger.erasureRecord(
            of: secret.digest, reason: "secret in the raw output (SEC-1)", author: "sec@example.com",
            at: "2026-11-22T08:00:00Z")
        let outcomes = try await f.ledger.appendThroughEngine([erasure])
        #expect(outcomes[0].result?.index == 2)
        #expect(try f.ledger.blobMetadata(secret.digest)?.erasure?.entry == 2)
        // The bytes are gone, and reading says when and why.
        let error = #expect(throws: LedgerError.self) { try f.ledger.blob(secret.digest) }
        #expect(error?.code == .blobErased)
        #expect(error?.message.contains("secret in the raw output (SEC-1)") == true)
        #expect(error?.message.contains("2026-11-22T08:00:00Z") == true)
        #expect(error?.message.contains("entry 2") == true)
        #expect(!f.ledger.blobStore.hasBytes(of: secret.digest))
        // The leaf is unchanged and still provably in the log.
        #expect(try f.ledger.entry(at: 0) == leafBefore)
        let proof = try f.ledger.inclusionProof(index: 0)
        try MerkleVerifier.verifyInclusion(
            leafHash: RFC6962.leafHash(leafBefore), index: 0, treeSize: proof.checkpoint.checkpoint.size,
            proof: proof.hashes, root: proof.checkpoint.checkpoint.rootHash)
        #expect(try f.ledger.fsck().leaves == 3)
        // The checkpoint's history shows the erasure; erased unsalted content cannot come back unsalted.
        #expect(try f.ledger.view(0).history.map(\.type) == [.review, .erasure])
        let refused = await #expect(throws: LedgerError.self) {
            try await f.ledger.putBlob(Array("password=hunter2".utf8), mediaType: "text/plain", salted: false)
        }
        #expect(refused?.code == .blobErased)
        // A record's payload is salted: nothing recognises it as the erased content, it is stored
        // under a new address, and the erased bytes stay gone.
        let again = try PreparedEntry.prepare(
            record: checkpoint(id: "c3", extra: ["prompt": .string("password=hunter2")]),
            rules: f.ledger.recordRules(extractOver: 4))
        #expect(again.payloads.count == 1 && again.payloads[0].digest != secret.digest)
        let outcome = try await f.ledger.appendThroughEngine([again])
        #expect(outcome[0].result?.index == 3, "\(outcome)")
        #expect(!f.ledger.blobStore.hasBytes(of: secret.digest))
        #expect(try f.indexes { $0.type = .erasure } == [2])
        #expect(try f.ledger.fsck().leaves == 4)
    }

    @Test("Erasing a salted blob erases its salt: its file is gone and its metadata only says it was salted")
    func eraseSalted() async throws {
        let f = try ProvenanceFixture()
        let secret = try await f.ledger.putBlob(Array("password=hunter2".utf8), mediaType: "text/plain")
        try f.append(checkpoint(id: "c1", extra: ["raw_output": secret.reference]))
        let path = f.ledger.blobStore.path(for: secret.digest)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)).count == 32 + 16)
        let erasure = try f.ledger.erasureRecord(
            of: secret.digest, reason: "secret", author: "sec@example.com", at: "2026-11-22T08:00:00Z")
        _ = try await f.ledger.appendThroughEngine([erasure])
        #expect(!FileManager.default.fileExists(atPath: path))
        let metadata = try #require(try f.ledger.blobMetadata(secret.digest))
        #expect(metadata.salted && metadata.erasure?.entry == 1)
        // Storing the same bytes again is a new, unrelated blob.
        let again = try await f.ledger.putBlob(Array("password=hunter2".utf8), mediaType: "text/plain")
        #expect(again.digest != secret.digest)
        #expect(try f.ledger.fsck().leaves == 2)
    }

    @Test(
        "Large payloads are moved to blobs while records are prepared: purely, deterministically, before the size limit"
    )
    func extraction() async throws {
        let f = try ProvenanceFixture()
        let long = String(repeating: "please retry ", count: 100)
        let record = checkpoint(id: "c1", extra: ["prompt": .string(long)])
        let rules = f.ledger.recordRules(extractOver: 1000)
        let prepared = try PreparedEntry.prepare(record: record, rules: rules)
        let stored = try JSONParser.parse(prepared.bytes)
        let reference = try #require(stored["prompt"]?["blob"]?.stringValue)
        #expect(stored["prompt"]?["size"]?.intValue == long.utf8.count)
        #expect(prepared.payloads.map(\.bytes) == [Array(long.utf8)])
        #expect(reference == prepared.payloads[0].digest.description)
        // Salted: before the record is stored, each preparation draws its own salt; nothing is written yet.
        let salt = prepared.payloads[0].salt
        #expect(salt.count == 32)
        #expect(prepared.payloads[0].digest == SHA256.hash(salt + Array(long.utf8)))
        #expect(try PreparedEntry.prepare(record: record, rules: rules) != prepared)
        #expect(!f.ledger.blobStore.hasBytes(of: prepared.payloads[0].digest))
        #expect(
            try PreparedEntry.prepare(record: record, rules: f.ledger.recordRules(extractOver: 10_000)).payloads.isEmpty
        )
        // The engine stores the payload with its record.
        let first = try await f.ledger.appendThroughEngine([prepared])
        #expect(try f.ledger.blob(prepared.payloads[0].digest).bytes == Array(long.utf8))
        // Once stored, the same record prepares to the same entry (its payload gets the stored salt): a duplicate.
        #expect(try PreparedEntry.prepare(record: record, rules: rules) == prepared)
        let second = try await f.ledger.appendThroughEngine([try PreparedEntry.prepare(record: record, rules: rules)])
        #expect(second[0].result?.duplicate == true && second[0].result?.index == first[0].result?.index)
        // Extraction comes before the size limit: a payload far over the entry limit fits.
        var small = f.ledger.recordRules(extractOver: 1000)
        small.maxEntryBytes = 2048
        let huge = checkpoint(id: "c2", extra: ["prompt": .string(String(repeating: "x", count: 3 << 20))])
        let hugeEntry = try PreparedEntry.prepare(record: huge, rules: small)
        #expect(hugeEntry.bytes.count < 2048)
        #expect(throws: RecordError.self) {
            try PreparedEntry.prepare(record: huge, rules: f.ledger.recordRules())
        }
        // Every stored form of the original is known to verifiers given the salt (cairn verify --entry
        // original.json --disclosure …), and none without it.
        let salts = [SHA256.hash(Array(long.utf8)): salt]
        #expect(PayloadExtraction.storedForms(of: record, salts: salts).contains { $0.record == stored })
        #expect(!PayloadExtraction.storedForms(of: record).contains { $0.record == stored })
    }
}
