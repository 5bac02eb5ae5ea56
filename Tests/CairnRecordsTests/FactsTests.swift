import CairnCrypto
import CairnJSON
import CairnRecords
import Testing

/// `RecordFacts`: what the ledger indexes, extracted from valid records.
@Suite struct FactsTests {
    let oldCommit = "9fceb02d0ae598e95dc970b74767f19372d61af8"
    let newCommit = "51ae1a0535e12a6729a9b09e71e4a2467dcdcb6d"
    let checkpointID = "0f8e7a52-3c1d-4d7e-9a41-7f1c2b6e5d01"

    func digest(_ text: String) -> SHA256Digest {
        SHA256Digest(hex: text.dropFirst(7))!
    }

    @Test("Facts of stored records (not validated again) equal the validated ones, for every record type")
    func storedFactsEqualValidated() throws {
        for type in RecordType.allCases {
            let record = try example(type)
            #expect(RecordFacts(stored: record) == (try RecordFacts(record)), "\(type)")
        }
    }

    @Test("Facts of stored records never trap, whatever the shape: every member of every example, as every kind")
    func storedFactsOfAnyShape() throws {
        let kinds: [JSONValue] = [
            .null, .bool(true), .number(-1), .number(1e300), .number(0.5), .string(""), .string("sha256:zz"),
            .array([]), .array([.number(3), .number(1)]), .array([.string("x")]), .object([:]),
        ]
        func variants(of value: JSONValue) -> [JSONValue] {
            // The value itself with each member (recursively) replaced by each kind.
            var result: [JSONValue] = []
            switch value {
            case .object(let object):
                for (key, member) in object {
                    for replacement in kinds + variants(of: member) {
                        var changed = object
                        changed[key] = replacement
                        result.append(.object(changed))
                    }
                }
            case .array(let elements):
                for (position, element) in elements.enumerated() {
                    for replacement in kinds + variants(of: element) {
                        var changed = elements
                        changed[position] = replacement
                        result.append(.array(changed))
                    }
                }
            default:
                break
            }
            return result
        }
        var checked = 0
        for type in RecordType.allCases {
            for variant in variants(of: try example(type)) + kinds {
                _ = RecordFacts(stored: variant)
                checked += 1
            }
        }
        #expect(checked > 1_000)
    }

    @Test func checkpointFacts() throws {
        let record = try example(.checkpoint)
        let facts = try RecordFacts(record)
        #expect(facts.type == .checkpoint)
        #expect(facts.id == checkpointID)
        #expect(facts.timestamp == 1_795_166_043_120)
        #expect(facts.modelID == "claude-sonnet-4-5-20250929")
        #expect(facts.modelVersion == "20250929")
        #expect(facts.modelReleaseDate == "2025-09-29")
        #expect(facts.provider == "anthropic")
        #expect(facts.requestedBy == "alice@example.com")
        #expect(facts.toolPath == "agent")
        #expect(facts.workItem == "PAY-1423")
        #expect(facts.sessionID == "sess_01JCX3K9Q2")
        #expect(facts.requestID == "req_011CVp3sR9mJ5")
        #expect(facts.agentRole == "implementer")
        #expect(facts.commits == [oldCommit])
        #expect(facts.subject == nil && facts.corrects == nil && facts.erasedBlob == nil && facts.rewrite == nil)
        #expect(facts.reviewer == nil && facts.decision == nil && facts.testResult == nil && facts.environment == nil)
        let blobs = [record["raw_output"]!["blob"]!, record["turns"]![1]!["content"]!["blob"]!]
        #expect(facts.blobReferences == blobs.map { digest($0.stringValue!) }.sorted())

        #expect(facts.outputs.count == 2)
        let first = facts.outputs[0]
        #expect(first.repo == "git@example.com:payments/client.git")
        #expect(first.commit == oldCommit)
        #expect(first.path == "src/retry.ts")
        #expect(first.ranges == [LineRange(start: 12, end: 58)!, LineRange(start: 71, end: 74)!])
        #expect(first.contentHash == digest(record["outputs"]![0]!["content_hash"]!.stringValue!))
        #expect(first.contributor == "ai")
        #expect(first.contains(line: 12) && first.contains(line: 74) && !first.contains(line: 60))
        #expect(facts.outputs[1].contributor == "mixed")
    }

    @Test func reviewFacts() throws {
        let checkpoint = try example(.checkpoint)
        let facts = try RecordFacts(example(.review))
        #expect(facts.type == .review)
        #expect(facts.subject == .digest(SHA256.hash(try JCS.canonicalize(checkpoint))))
        #expect(facts.reviewer == "bob@example.com")
        #expect(facts.decision == "approved")
        #expect(facts.timestamp == Timestamp.parse("2026-11-20T10:02:41Z"))
        #expect(facts.id == nil && facts.commits.isEmpty && facts.outputs.isEmpty && facts.blobReferences.isEmpty)
    }

    @Test func testFacts() throws {
        let facts = try RecordFacts(example(.test))
        #expect(facts.subject == .id(checkpointID))
        #expect(facts.testResult == "passed")
        #expect(facts.timestamp == Timestamp.parse("2026-11-20T10:20:00Z"))
        #expect(try RecordFacts(example(.test).removing("$.at")).timestamp == nil)
    }

    @Test func deployAndRollbackFacts() throws {
        let deploy = try RecordFacts(example(.deploy))
        #expect(deploy.subject == .id(checkpointID))
        #expect(deploy.environment == "production")
        #expect(deploy.commits == [newCommit])
        #expect(deploy.timestamp == Timestamp.parse("2026-11-21T18:00:00Z"))
        let rollback = try RecordFacts(example(.rollback))
        #expect(rollback.environment == "production")
        #expect(rollback.subject == .id(checkpointID))
        #expect(rollback.commits.isEmpty)
    }

    @Test("A model call's facts: its request id, provider, model and time; no subject, no outputs")
    func modelCallFacts() throws {
        let record = try example(.modelCall)
        let facts = try RecordFacts(record)
        #expect(facts.type == .modelCall)
        #expect(facts.requestID == "req_011CVp3sR9mJ5")
        #expect(facts.provider == "anthropic")
        #expect(facts.modelID == "claude-sonnet-4-5-20250929")
        #expect(facts.modelVersion == "20250929" && facts.modelReleaseDate == "2025-09-29")
        #expect(facts.timestamp == Timestamp.parse("2026-11-20T09:14:01.870Z"))
        #expect(facts.blobReferences == [digest(record["output"]!["blob"]!.stringValue!)])
        #expect(facts.id == nil && facts.subject == nil && facts.requestedBy == nil && facts.toolPath == nil)
        #expect(facts.outputs.isEmpty && facts.commits.isEmpty)
        #expect(!RecordType.modelCall.isLifecycle)
        #expect(RecordType(rawValue: "model-call") == .modelCall)
    }

    @Test func rewriteFactsNameTheOldAndTheNewCommit() throws {
        let facts = try RecordFacts(example(.rewrite))
        #expect(facts.commits == [oldCommit, newCommit])
        #expect(
            facts.rewrite
                == RewriteFacts(
                    old: oldCommit, new: newCommit, repo: "git@example.com:payments/client.git", kind: "rebase"))
        #expect(facts.subject == .id(checkpointID))
        let bare = try RecordFacts(example(.rewrite).removing("$.repo").removing("$.subject"))
        #expect(bare.rewrite?.repo == nil && bare.subject == nil)
    }

    @Test func correctionFacts() throws {
        let record = try example(.correction)
        let facts = try RecordFacts(record)
        #expect(facts.corrects == digest(record["corrects"]!.stringValue!))
        #expect(facts.author == "alice@example.com")
        #expect(facts.timestamp == Timestamp.parse("2026-11-20T10:31:12Z"))
        #expect(facts.subject == nil && facts.blobReferences.isEmpty)
    }

    @Test func erasureFacts() throws {
        let record = try example(.erasure)
        let facts = try RecordFacts(record)
        #expect(facts.erasedBlob == digest(record["blob"]!.stringValue!))
        #expect(facts.blobReferences.isEmpty)
        #expect(facts.author == "security@example.com")
        #expect(facts.timestamp == Timestamp.parse("2026-11-22T08:00:00Z"))
    }

    @Test func legalHoldFacts() throws {
        let record = try example(.legalHold)
        let facts = try RecordFacts(record)
        #expect(facts.type == .legalHold && !RecordType.legalHold.isLifecycle)
        #expect(facts.holdID == "LIT-2027-014" && facts.holdAction == "place")
        // The subject is a checkpoint, as a review's: the ledger resolves it and lists the hold in its history.
        #expect(facts.subject == SubjectReference(checkpointID))
        #expect(facts.author == "legal@example.com")
        #expect(facts.timestamp == Timestamp.parse("2026-11-25T09:00:00Z"))
        let release = record.setting("$.action", to: "release").setting("$.subject", to: nil)
        let released = try RecordFacts(release)
        #expect(released.holdAction == "release" && released.subject == nil)
        #expect(try RecordFacts(example(.erasure)).holdID == nil)
    }

    @Test func blobReferencesAreFoundAtAnyDepthDeduplicatedAndSorted() throws {
        func blob(_ byte: String) -> JSONValue {
            ["blob": .string("sha256:" + String(repeating: byte, count: 64)), "size": 1, "media_type": "image/png"]
        }
        let record = try example(.checkpoint)
            .setting("$.prompt", to: blob("c"))
            .setting("$.turns", to: blob("a"))
            .setting("$.raw_output", to: blob("c"))
            .setting("$.evidence", to: ["screens": [["before": blob("b"), "after": blob("0")]]])
        let facts = try RecordFacts(record)
        #expect(
            facts.blobReferences == ["0", "a", "b", "c"].map { digest("sha256:" + String(repeating: $0, count: 64)) })

        let patch = try example(.correction).setting("$.patch", to: ["raw_output": blob("d")])
        #expect(try RecordFacts(patch).blobReferences == [digest("sha256:" + String(repeating: "d", count: 64))])
    }

    @Test func commitsAreListedOnceInDocumentOrder() throws {
        let record = try example(.checkpoint)
            .setting("$.outputs[1].commit", to: .string(newCommit))
            .setting("$.outputs[2]", to: try example(.checkpoint)["outputs"]![0]!)
        #expect(try RecordFacts(record).commits == [oldCommit, newCommit])
    }

    @Test func factsRequireAValidRecord() throws {
        #expect(throws: RecordValidationError.self) { try RecordFacts(json(#"{"type":"review","schema":1}"#)) }
        let strict = try example(.review).setting("$.x", to: 1)
        #expect(try RecordFacts(strict).reviewer == "bob@example.com")
        #expect(throws: RecordValidationError.self) { try RecordFacts(strict, options: .init(strictFields: true)) }
    }

    @Test func factsOfTheEffectiveRecordFollowCorrections() throws {
        let effective = try Corrections.apply(example(.correction), to: example(.checkpoint))
        #expect(try RecordFacts(effective).workItem == "PAY-1432")
    }

    @Test func lineRangesAreOneBasedAndInclusive() {
        #expect(LineRange(start: 0, end: 3) == nil)
        #expect(LineRange(start: 4, end: 3) == nil)
        let range = LineRange(start: 3, end: 5)!
        #expect(range.contains(3) && range.contains(5) && !range.contains(2) && !range.contains(6))
        #expect(range.lineCount == 3)
        #expect(range.overlaps(LineRange(start: 5, end: 9)!) && !range.overlaps(LineRange(start: 6, end: 9)!))
        #expect(range.description == "[3,5]")
    }

    @Test func subjectReferencesParseAsInRecords() {
        let address = "sha256:" + String(repeating: "0f", count: 32)
        #expect(SubjectReference(address) == .digest(digest(address)))
        #expect(SubjectReference(address)?.description == address)
        #expect(SubjectReference("checkpoint-7") == .id("checkpoint-7"))
        #expect(SubjectReference("sha256:0F") == nil)
        #expect(SubjectReference("") == nil)
    }

    @Test func blobReferencesRoundTripThroughJSON() throws {
        let value = try example(.checkpoint)["raw_output"]!
        let reference = try #require(BlobReference(value))
        #expect(reference.size == 1488)
        #expect(reference.mediaType == "text/x-diff; charset=utf-8")
        #expect(reference.jsonValue == value)
        #expect(BlobReference(value.setting("$.extra", to: 1)) == nil)
        #expect(BlobReference(digest: reference.digest, size: -1, mediaType: "text/plain") == nil)
        #expect(BlobReference(digest: reference.digest, size: 1, mediaType: "text") == nil)
    }
}
