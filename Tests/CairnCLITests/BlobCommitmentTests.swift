import CairnCrypto
import CairnTestSupport
import Foundation
import Testing

/// Salted blob commitments (specs/record-schema.md §3, "Blob disclosures"; specs/storage.md "Blobs"):
/// a blob's address is SHA-256(salt ‖ bytes); `cairn blob disclose` hands out bytes and salt, which
/// `cairn verify disclosure` and the spec's Python recipe check independently; once erased, nothing
/// in the ledger directory lets anyone confirm a guess of the content.
@Suite("salted blob commitments")
struct BlobCommitmentTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let prompt = "Rename the customer Jane Q. Example's account to 'jqe-2026' in staging."

    /// A provenance ledger with one checkpoint whose prompt was moved to a salted blob.
    static func ledger() throws -> (LedgerFixture, record: String, blob: String) {
        let f = try LedgerFixture(profile: "provenance")
        let record = try f.dir.write("checkpoint.json", Self.checkpoint(id: "c1", prompt: Self.prompt))
        let receipt = parseJSONLine(try f.cli.ok("append", "--extract-over", "16", record).text)
        let blob = try #require((receipt["moved_to_blobs"] as? [String: Any])?["prompt"] as? String, "\(receipt)")
        return (f, record, blob)
    }

    static func checkpoint(id: String, prompt: String) -> String {
        ProvenanceCLITests.checkpoint(id).replacingOccurrences(
            of: #""prompt":"Add retries""#, with: #""prompt":"\#(prompt)""#)
    }

    /// The ```python block of specs/record-schema.md that checks a disclosure.
    static func pythonRecipe() throws -> String {
        let spec = try String(
            contentsOf: repository.appendingPathComponent("specs/record-schema.md"), encoding: .utf8)
        for block in spec.components(separatedBy: "```python\n").dropFirst() {
            let body = block.components(separatedBy: "\n```").first ?? ""
            if body.contains("cairn-blob-disclosure/1") { return body + "\n" }
        }
        throw LedgerFixture.FixtureError(message: "specs/record-schema.md has no python disclosure recipe")
    }

    @Test("a moved payload's address is SHA-256(salt ‖ bytes); its disclosure checks with cairn and with Python")
    func disclosureVerifies() throws {
        let (f, _, blob) = try Self.ledger()
        let bytes = Array(Self.prompt.utf8)
        #expect(blob != SHA256.hash(bytes).description, "the address must not be the plain digest")
        let file = f.cli.ledger + "/blobs/" + blob.dropFirst(7).prefix(2) + "/" + blob.dropFirst(9)
        #expect(try Data(contentsOf: URL(fileURLWithPath: file)).count == 32 + bytes.count, "salt ‖ bytes")
        let disclosure = f.dir.file("d.json")
        try f.cli.ok("blob", "disclose", blob, "-o", disclosure)
        let document = parseJSONLine(try String(contentsOfFile: disclosure, encoding: .utf8))
        #expect(document["format"] as? String == "cairn-blob-disclosure/1")
        #expect((document["salt"] as? String)?.count == 64)
        let entry = try f.dir.write("entry.json", try f.cli.ok("get", "0", "--raw").stdout)
        let verified = try f.cli.ok("verify", "disclosure", disclosure, "--entry", entry)
        #expect(verified.text.contains("valid: \(blob): \(bytes.count) bytes of text/plain"), "\(verified.text)")
        #expect(verified.text.contains("referenced at $.prompt"), "\(verified.text)")
        // An independent check: the spec's recipe, Python's hashlib and base64.
        let script = try f.dir.write("check.py", try Self.pythonRecipe())
        let python = try CLI.exec("/usr/bin/env", ["python3", script, disclosure])
        #expect(python.status == 0, "\(python.stderr)")
        #expect(python.text.contains("ok \(blob)"), "\(python.text)")
    }

    @Test("mutated disclosures and records that do not reference the blob are rejected (exit 1)")
    func mutationsRejected() throws {
        let (f, _, blob) = try Self.ledger()
        let disclosure = f.dir.file("d.json")
        try f.cli.ok("blob", "disclose", blob, "-o", disclosure)
        let text = try String(contentsOfFile: disclosure, encoding: .utf8)
        let document = parseJSONLine(text)
        let salt = try #require(document["salt"] as? String)
        let content = try #require(document["content"] as? String)
        let flippedSalt = (salt.first == "0" ? "1" : "0") + salt.dropFirst()
        let otherContent = Data("Rename the customer John Q. Example's account".utf8).base64EncodedString()
        let cases: [(String, String, String)] = [
            ("salt", text.replacingOccurrences(of: salt, with: flippedSalt), "SHA-256(salt ‖ content)"),
            ("content", text.replacingOccurrences(of: content, with: otherContent), "the reference says"),
            ("no salt", text.replacingOccurrences(of: salt, with: ""), "SHA-256(salt ‖ content)"),
            ("short salt", text.replacingOccurrences(of: salt, with: String(salt.prefix(62))), "$.salt"),
            ("format", text.replacingOccurrences(of: "cairn-blob-disclosure/1", with: "x"), "$.format"),
        ]
        for (what, mutated, reason) in cases {
            let path = try f.dir.write("bad-\(what.replacingOccurrences(of: " ", with: "-")).json", mutated)
            let out = try f.cli.run("verify", "disclosure", path)
            #expect(out.status == 1, "\(what): \(out.stderr)")
            #expect(out.stderr.contains(reason), "\(what): \(out.stderr)")
        }
        let json = parseJSONLine(
            try f.cli.run("verify", "disclosure", "--json", try f.dir.write("j.json", cases[0].1)).text)
        #expect(json["valid"] as? Bool == false)
        #expect(json["code"] as? String == "commitmentMismatch")
        // A record that holds another blob (or none) is not what the disclosure is about.
        let other = try f.dir.write("other.json", Self.checkpoint(id: "c2", prompt: "short"))
        let out = try f.cli.run("verify", "disclosure", disclosure, "--entry", other)
        #expect(out.status == 1)
        #expect(out.stderr.contains("holds no blob reference"), "\(out.stderr)")
    }

    @Test("after erasure nothing in the ledger directory confirms a guess: no salt, no plain digest, no bytes")
    func erasureLeavesNothingToConfirm() throws {
        let (f, _, blob) = try Self.ledger()
        let disclosure = f.dir.file("d.json")
        try f.cli.ok("blob", "disclose", blob, "-o", disclosure)
        let salt = try #require(
            Hex.decode(parseJSONLine(try String(contentsOfFile: disclosure, encoding: .utf8))["salt"] as! String))
        try f.cli.ok("blob", "erase", blob, "--reason", "personal data (DSR-17)")
        let info = parseJSONLine(try f.cli.ok("blob", "info", blob).text)
        #expect(info["salted"] as? Bool == true)
        #expect(info["erased"] != nil)
        let disclose = try f.cli.run("blob", "disclose", blob)
        #expect(disclose.status == 66, "\(disclose.stderr)")
        #expect(disclose.stderr.contains("was erased"), "\(disclose.stderr)")
        let bytes = Array(Self.prompt.utf8)
        let plain = SHA256.hash(bytes)
        var needles: [(String, [UInt8])] = [
            ("salt", salt), ("salt in hex", Array(Hex.encode(salt).utf8)), ("plain digest", plain.bytes),
            ("plain digest in hex", Array(plain.hex.utf8)), ("prompt", Array("Jane Q. Example".utf8)),
        ]
        needles.append(("salt in base64", Array(Base64.encode(salt).utf8)))
        let files = FileManager.default.enumerator(atPath: f.cli.ledger)?.allObjects as? [String] ?? []
        for name in files {
            let path = f.cli.ledger + "/" + name
            guard let data = FileManager.default.contents(atPath: path) else { continue }
            for (what, needle) in needles {
                #expect(data.range(of: Data(needle)) == nil, "\(what) found in \(name)")
            }
        }
        // Guessing the content gives the plain digest, which is not the address.
        #expect(plain.description != blob)
        #expect(try f.cli.ok("fsck").status == 0)
    }

    @Test("a retried record gets its payload's salt again (a duplicate); another id with the same prompt does not")
    func retriesAndOtherRecords() throws {
        let (f, record, blob) = try Self.ledger()
        let again = parseJSONLine(try f.cli.ok("append", "--extract-over", "16", record).text)
        #expect(again["duplicate"] as? Bool == true, "\(again)")
        #expect((again["moved_to_blobs"] as? [String: Any])?["prompt"] as? String == blob)
        let other = try f.dir.write("c2.json", Self.checkpoint(id: "c2", prompt: Self.prompt))
        let second = parseJSONLine(try f.cli.ok("append", "--extract-over", "16", other).text)
        let secondBlob = try #require((second["moved_to_blobs"] as? [String: Any])?["prompt"] as? String)
        #expect(secondBlob != blob, "the same prompt in another record is not linkable by its address")
        // The same id with another prompt is refused as a duplicate id, and leaves no blob file behind.
        let changed = try f.dir.write("c1b.json", Self.checkpoint(id: "c1", prompt: Self.prompt + " Also prod."))
        let before = try Self.blobFiles(f)
        let refused = try f.cli.run("append", "--extract-over", "16", changed)
        #expect(refused.status == 65, "\(refused.stderr)")
        #expect(refused.stderr.contains("duplicateID") || refused.stderr.contains("already used"), "\(refused.stderr)")
        #expect(try Self.blobFiles(f) == before, "a refused record's payload file must not stay")
        #expect(try f.cli.ok("fsck").status == 0)
    }

    @Test("blobs stored before salting (or --unsalted) keep their plain addresses and disclose an empty salt")
    func unsaltedBlobs() throws {
        let f = try LedgerFixture(profile: "provenance")
        let file = try f.dir.write("public.diff", "--- a\n+++ b\n+let retries = 3\n")
        let put = parseJSONLine(try f.cli.ok("blob", "put", "--unsalted", "--media-type", "text/x-diff", file).text)
        let blob = try #require(put["blob"] as? String)
        #expect(blob == SHA256.hash(Array("--- a\n+++ b\n+let retries = 3\n".utf8)).description)
        #expect(parseJSONLine(try f.cli.ok("blob", "info", blob).text)["salted"] as? Bool == false)
        let disclosure = try f.dir.write("d.json", try f.cli.ok("blob", "disclose", blob).stdout)
        #expect(parseJSONLine(try String(contentsOfFile: disclosure, encoding: .utf8))["salt"] as? String == "")
        #expect(try f.cli.ok("verify", "disclosure", disclosure).text.contains("unsalted"))
    }

    static func blobFiles(_ f: LedgerFixture) throws -> [String] {
        (FileManager.default.enumerator(atPath: f.cli.ledger + "/blobs")?.allObjects as? [String] ?? [])
            .filter { $0.count > 3 }.sorted()
    }
}
