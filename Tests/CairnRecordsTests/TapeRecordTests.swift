import CairnCrypto
import CairnJSON
import CairnRecords
import Testing

/// Records read from their tape (`JSONTape`, the ingest and read path) get exactly the verdict, the issues (in
/// order, with their messages) and the facts they get from their value tree.
@Suite struct TapeRecordTests {
    private static let optionSets: [RecordValidator.Options] = [
        .init(), .init(strictFields: true), .stored, .init(strictFields: true, acceptsControlCharacters: true),
    ]

    /// Values that stress every rule: wrong kinds, empty, out of range, blob references valid and not.
    private static let replacements: [JSONValue] = [
        .null, true, 1.5, -1, 0, 4_294_967_296, "x", "", "\u{1}",
        .string("sha256:" + String(repeating: "a", count: 64)),
        "2026-11-20T09:14:03Z", [], [1, 2], [2, 1], [[1, 2]], [:], ["x": 1],
        ["blob": .string("sha256:" + String(repeating: "b", count: 64)), "size": 3, "media_type": "text/plain"],
        ["blob": "sha256:zz", "size": -1, "media_type": "text"],
    ]

    /// Each example record, and for each of its members (and of its first output's, model's and first turn's
    /// members): the record without it, and with it replaced by each value of `replacements`.
    private static func corpus() throws -> [JSONValue] {
        var records: [JSONValue] = []
        for type in RecordType.allCases {
            guard case .object(let object) = try example(type) else { continue }
            records.append(.object(object))
            for (key, _) in object {
                var without = object
                without[key] = nil
                records.append(.object(without))
                for value in replacements {
                    var changed = object
                    changed[key] = value
                    records.append(.object(changed))
                }
            }
            for nested in ["outputs", "model", "turns", "cost", "x_capture"] {
                guard let member = object[nested] else { continue }
                let isList = member.arrayValue != nil
                guard case .object(let inner)? = isList ? member[0] : member else { continue }
                for (key, _) in inner {
                    for value in [JSONValue.null] + replacements {
                        var changedInner = inner
                        changedInner[key] = value.isNull ? nil : value
                        var changed = object
                        changed[nested] = isList ? .array([.object(changedInner)]) : .object(changedInner)
                        records.append(.object(changed))
                    }
                }
            }
        }
        records.append(contentsOf: [.null, 1, "checkpoint", [], [:], ["type": "nope", "schema": 2]])
        return records
    }

    @Test func issuesAndFactsAreTheSameFromTheTapeAsFromTheTree() throws {
        let records = try Self.corpus()
        #expect(records.count > 2_000)
        var valid = 0
        for record in records {
            let text = Array(JSONWriter.compact(record).utf8)
            let tape = try JSONTape(parsing: text)
            #expect(RecordFacts(stored: tape.root) == RecordFacts(stored: record), "\(record)")
            for options in Self.optionSets {
                let fromTree = RecordValidator.issues(in: record, options: options)
                let fromTape = RecordValidator.issues(in: tape.root, options: options)
                #expect(fromTape.map(\.description) == fromTree.map(\.description), "\(record)")
                let treeFacts = Result { () throws(RecordValidationError) in try RecordFacts(record, options: options) }
                let tapeFacts = Result { () throws(RecordValidationError) in
                    try RecordFacts(tape.root, options: options)
                }
                #expect(tapeFacts == treeFacts)
                if fromTree.isEmpty { valid += 1 }
            }
        }
        // The corpus holds valid and invalid records alike (a test that only saw one kind could not fail).
        #expect(valid > 100)
        #expect(valid < records.count * Self.optionSets.count / 2)
    }

    @Test func blobReferencesAreFoundInTapes() throws {
        let digest = "sha256:" + String(repeating: "c", count: 64)
        let text =
            #"{"x":[{"deep":{"blob":"\#(digest)","size":1,"media_type":"text/plain"}}],"#
            + #""bad":{"blob":"\#(digest)","size":-1,"media_type":"text/plain"}}"#
        var tapeDigests = Set<SHA256Digest>()
        var treeDigests = Set<SHA256Digest>()
        BlobReference.collectDigests(in: try JSONTape(parsing: Array(text.utf8)).root, into: &tapeDigests)
        BlobReference.collectDigests(in: json(text), into: &treeDigests)
        let fromTape = Set(tapeDigests.map(\.description))
        let fromTree = Set(treeDigests.map(\.description))
        #expect(fromTape == [digest])
        #expect(fromTape == fromTree)
    }
}
