import CairnCrypto
import CairnJSON
import CairnRecords
import Foundation
import Testing

/// `examples/records/`: one full example per record type, embedded verbatim in `specs/record-schema.md`.
@Suite struct ExampleTests {
    @Test func theExampleDirectoryHoldsOneFilePerRecordType() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: examplesDirectory.path).sorted()
        #expect(names == RecordType.allCases.map { $0.rawValue + ".json" }.sorted())
    }

    @Test(arguments: RecordType.allCases)
    func everyExampleValidatesEvenWithStrictFields(_ type: RecordType) throws {
        let record = try example(type)
        #expect(record["type"] == .string(type.rawValue))
        #expect(found(record) == [])
        #expect(found(record, strict: true) == [])
    }

    @Test(arguments: RecordType.allCases)
    func everyExampleRoundTripsThroughItsCanonicalBytes(_ type: RecordType) throws {
        let record = try example(type)
        let canonical = try JCS.canonicalize(record)
        #expect(try JSONParser.parse(canonical) == record)
        #expect(try JCS.canonicalize(json: Array(exampleText(type).utf8)) == canonical)
        #expect(JCS.isCanonical(json: canonical))
    }

    @Test func theCheckpointExampleUsesEveryFirstClassField() throws {
        let record = try example(.checkpoint)
        let fields = [
            "type", "schema", "id", "timestamp", "requested_by", "tool_path", "model", "prompt", "outputs",
            "session_id", "request_id", "work_item", "agent_role", "turns", "raw_output", "constraints",
            "alternatives", "reasoning", "cost", "context", "risk",
        ]
        #expect(record.objectValue?.keys.sorted() == fields.sorted())
        #expect(record["model"]?.objectValue?.keys == ["id", "version", "release_date", "provider"])
        #expect(record["context"]?.objectValue?.keys == ["files", "urls", "dlp_scan"])
        #expect(record["risk"]?.objectValue?.keys == ["security", "operational", "compliance"])
        #expect(record["cost"]?.objectValue?.keys == ["input_tokens", "output_tokens", "usd"])
        #expect(BlobReference(record["raw_output"]!) != nil)
        let size = try JCS.canonicalize(record).count
        #expect((1000...2300).contains(size), "the checkpoint example should be about 1–2 KB, is \(size) bytes")
    }

    @Test func theExamplesTellOneStory() throws {
        let checkpoint = try example(.checkpoint)
        let address = SHA256.hash(try JCS.canonicalize(checkpoint)).description
        let id = checkpoint["id"]!
        let commit = checkpoint["outputs"]![0]!["commit"]!
        #expect(try example(.review)["subject"] == .string(address))
        #expect(try example(.correction)["corrects"] == .string(address))
        #expect(try example(.test)["subject"] == id)
        #expect(try example(.rewrite)["subject"] == id)
        #expect(try example(.rewrite)["old_commit"] == commit)
        #expect(try example(.deploy)["git_commit"] == example(.rewrite)["new_commit"])
        #expect(try example(.deploy)["subject"] == id)
        #expect(try example(.rollback)["subject"] == id)
        #expect(try example(.erasure)["blob"] == checkpoint["raw_output"]!["blob"])
        // The provider's side of the checkpoint's API call.
        let call = try example(.modelCall)
        #expect(call["request_id"] == checkpoint["request_id"])
        #expect(call["model"]?["id"] == checkpoint["model"]?["id"])
        #expect(call["output"] == checkpoint["raw_output"])
    }

    @Test(arguments: RecordType.allCases)
    func theSpecEmbedsEachExampleVerbatimInAJSONBlock(_ type: RecordType) throws {
        let spec = try String(contentsOf: schemaDocument, encoding: .utf8)
        let block = "```json\n" + (try exampleText(type)) + "```\n"
        #expect(spec.contains(block), "specs/record-schema.md must embed examples/records/\(type.rawValue).json")
    }

    @Test func everyJSONBlockOfTheSpecParsesAndEveryRecordInOneValidates() throws {
        let spec = try String(contentsOf: schemaDocument, encoding: .utf8)
        let blocks = spec.components(separatedBy: "```json\n").dropFirst().map { $0.components(separatedBy: "```")[0] }
        #expect(blocks.count >= RecordType.allCases.count + 4)
        for block in blocks {
            let value = try JSONParser.parse(block)
            if value["type"] != nil { #expect(found(value) == [], "\(block)") }
        }
    }

    @Test func theWorkedCorrectionExampleUsesTheExamplesAddresses() throws {
        let spec = try String(contentsOf: schemaDocument, encoding: .utf8)
        for type in [RecordType.checkpoint, .correction] {
            let address = SHA256.hash(try JCS.canonicalize(example(type))).description
            #expect(spec.contains("`\(address)`"), "the worked example should name \(type.rawValue) \(address)")
        }
    }

    @Test func theSpecListsEveryErrorCode() throws {
        let spec = try String(contentsOf: schemaDocument, encoding: .utf8)
        for code in ValidationIssue.Code.allCases {
            #expect(spec.contains("| `\(code.rawValue)` |"), "the error-code table lacks \(code.rawValue)")
        }
    }

    @Test func theSpecHasASectionPerRecordType() throws {
        let spec = try String(contentsOf: schemaDocument, encoding: .utf8)
        for type in RecordType.allCases {
            #expect(spec.contains("\n### `\(type.rawValue)`"), "no section for \(type.rawValue)")
        }
    }
}
