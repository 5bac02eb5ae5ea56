import CairnCrypto
import CairnLedger
import CairnNote
import CairnProofs
import CairnTestSupport
import Foundation
import Testing

@testable import CairnServer
@testable import CairnWitness

/// Cosignatures checked by something other than Cairn's own verifier.
@Suite("Witness interop")
struct WitnessInteropTests {
    static let vectorsPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Vectors/note/signed_note_vectors.json").path

    @Test("cosignature_v1_cases through the log side's response check: only the published cosignature is accepted")
    func vectorsThroughResponseCheck() throws {
        let root = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: Self.vectorsPath)))
                as? [String: Any])
        let cases = try #require(root["cosignature_v1_cases"] as? [[String: Any]])
        #expect(cases.count == 4)
        for v in cases {
            let id = v["id"] as! String
            let vkey = try NoteVerifierKey(parsing: v["cosigner_vkey"] as! String)
            let full = try SignedCheckpoint(parsing: v["note"] as! String)
            // The witness's answer is the cosignature line; the log holds the note without it.
            let cosignatureLine = full.note.signatures.last!
            let submitted = try SignedCheckpoint(
                note: SignedNote(text: full.note.text, signatures: Array(full.note.signatures.dropLast())))
            let outcome = Result { () throws(NoteError) in
                try WitnessCoordinator.cosignature(
                    fromResponse: Array(cosignatureLine.line.utf8), for: submitted, witness: vkey)
            }
            switch (id, outcome) {
            case ("cosig-v1-valid", .success(let result)):
                #expect(result.timestamp == UInt64(v["expected_timestamp"] as! Int))
                #expect(result.signature == cosignatureLine)
            case ("cosig-v1-wrong-keytype", .failure(let error)):
                #expect(error.code == .unknownKey)  // a 0x01 key's ID never matches a 0x04 line
            case ("cosig-v1-timestamp-altered", .failure(let error)), ("cosig-v1-body-altered", .failure(let error)):
                #expect(error.code == .badSignature)
            default:
                Issue.record("\(id): unexpected \(outcome)")
            }
        }
    }

    static let pythonVerifier = #"""
        import base64, hashlib, sys
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
        from cryptography.exceptions import InvalidSignature

        vkey, checkpoint_path, line = sys.argv[1], sys.argv[2], sys.argv[3]
        name, key_id_hex, key_b64 = vkey.split("+", 2)
        key = base64.b64decode(key_b64, validate=True)
        assert key[0] == 0x04 and len(key) == 33, "not a cosignature/v1 vkey"
        public = key[1:]
        key_id = hashlib.sha256(name.encode() + b"\n" + b"\x04" + public).digest()[:4]
        assert key_id.hex() == key_id_hex, "key ID mismatch"

        assert line.startswith("\u2014 "), "not a signature line"
        line_name, signature_b64 = line[2:].split(" ")
        assert line_name == name, "another key name"
        raw = base64.b64decode(signature_b64, validate=True)
        assert len(raw) == 4 + 8 + 64, "not a 76-byte cosignature/v1"
        assert raw[:4] == key_id, "another key ID"
        timestamp = int.from_bytes(raw[4:12], "big")
        text = open(checkpoint_path, "rb").read()
        message = b"cosignature/v1\ntime " + str(timestamp).encode() + b"\n" + text
        try:
            Ed25519PublicKey.from_public_bytes(public).verify(raw[12:], message)
        except InvalidSignature:
            print("invalid")
            sys.exit(1)
        print("valid", timestamp)
        """#

    static let python: Bool = {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", "import cryptography"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }()

    static var interopRequired: Bool { ProcessInfo.processInfo.environment["CAIRN_REQUIRE_INTEROP"] == "1" }

    @Test(
        "A witness's cosignature verifies with Python's pyca/cryptography over 'cosignature/v1\\ntime <ts>\\n' + text",
        .enabled(if: python || interopRequired, "needs python3 with pyca/cryptography (pip install cryptography)"))
    func pythonVerifiesCosignature() async throws {
        try #require(Self.python, "python3 with pyca/cryptography is required when CAIRN_REQUIRE_INTEROP=1")
        let log = try TestLedger()
        try log.append(7)
        let w = try TestWitness()
        let answer = try await withRouter(w.witness) { try await $0.addCheckpoint(try log.body(old: 0)) }
        let checkpoint = try log.ledger.checkpoint()
        let (line, timestamp) = try verifiedCosignature(answer, checkpoint: checkpoint, witness: w.vkey)

        let dir = try TempDir()
        let script = dir.file("verify.py")
        try Data(Self.pythonVerifier.utf8).write(to: URL(fileURLWithPath: script))
        let text = dir.file("checkpoint.txt")
        try Data(checkpoint.note.text.utf8).write(to: URL(fileURLWithPath: text))
        let lineText = String(line.line.dropLast())
        let valid = try run(["python3", script, w.vkey.description, text, lineText])
        #expect(valid.status == 0, "\(valid.output)")
        #expect(valid.output == "valid \(timestamp)\n")

        // The same line over another checkpoint text (one more entry) does not verify.
        try log.append(1)
        try Data(try log.ledger.checkpoint().note.text.utf8).write(to: URL(fileURLWithPath: text))
        let invalid = try run(["python3", script, w.vkey.description, text, lineText])
        #expect(invalid.status == 1)
        #expect(invalid.output == "invalid\n")
    }

    func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
