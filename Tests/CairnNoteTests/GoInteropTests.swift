import CairnCrypto
import CairnNote
import Foundation
import Testing

/// Interop with Go's reference implementation, golang.org/x/mod/sumdb/note, through
/// Interop/interop.go (run with `go run`, GOPATH mode).
@Suite("Interop with Go's golang.org/x/mod/sumdb/note")
struct GoInteropTests {
    static let gopath = "/usr/share/gocode"
    static let go: String? = {
        guard let go = Support.which("go"),
            FileManager.default.fileExists(atPath: gopath + "/src/golang.org/x/mod/sumdb/note/note.go")
        else { return nil }
        return go
    }()

    struct GoResult: Decodable {
        struct Opened: Decodable {
            let text: String?
            let signers: [String]?
            let error: String?
        }
        let opened: [Opened]
        let goVkey: String
        let goSkey: String
        let goNote: String
    }

    @Test(
        "Go verifies a checkpoint signed by Cairn (and rejects it altered); Cairn verifies a note signed by Go",
        .enabled(
            if: go != nil || Support.interopRequired,
            "needs `go` on PATH and golang.org/x/mod/sumdb/note under /usr/share/gocode"))
    func goInterop() throws {
        // Swift signs a checkpoint.
        let signer = try NoteSigner(name: "example.com/cairn-interop", privateKey: Ed25519PrivateKey.generate())
        let checkpoint = Checkpoint(origin: signer.name, size: 42, rootHash: SHA256.hash(utf8: "interop"))
        let signed = try SignedCheckpoint.sign(checkpoint, with: signer)
        let altered = signed.serialized.replacingOccurrences(of: "\n42\n", with: "\n43\n")
        let goText = "Cairn \u{2194} Go interop\n\nsecond paragraph, after a blank line\n"

        let dir = try Support.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let goodPath = dir.appendingPathComponent("good.note")
        let alteredPath = dir.appendingPathComponent("altered.note")
        let textPath = dir.appendingPathComponent("text.txt")
        try signed.serialized.write(to: goodPath, atomically: true, encoding: .utf8)
        try altered.write(to: alteredPath, atomically: true, encoding: .utf8)
        try goText.write(to: textPath, atomically: true, encoding: .utf8)

        var environment = ProcessInfo.processInfo.environment
        environment["GO111MODULE"] = "off"
        environment["GOPATH"] = Self.gopath
        environment["GOCACHE"] =
            FileManager.default.temporaryDirectory.appendingPathComponent("cairn-note-interop-gocache").path
        environment["GOFLAGS"] = ""
        let program = Support.testFile("Interop/interop.go").path
        let run = try Support.run(
            try #require(Self.go, "go is required (CAIRN_REQUIRE_INTEROP=1)"),
            [
                "run", program, signer.verifierKey.description, "go.example/interop", textPath.path, goodPath.path,
                alteredPath.path,
            ],
            environment: environment, directory: dir)
        try #require(run.status == 0, "go run failed: \(run.stderr)")
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let result = try decoder.decode(GoResult.self, from: Data(run.stdout.utf8))

        // Go opened Cairn's checkpoint with Cairn's vkey, and refused the altered copy.
        try #require(result.opened.count == 2)
        #expect(result.opened[0].error == nil)
        #expect(result.opened[0].text == checkpoint.text)
        #expect(result.opened[0].signers == [signer.verifierKey.nameAndID])
        #expect(result.opened[1].error == "invalid signature for key \(signer.verifierKey.nameAndID)")

        // Cairn verifies Go's note with Go's vkey.
        let goKey = try NoteVerifierKey(parsing: result.goVkey)
        let goNote = try SignedNote(parsing: result.goNote)
        #expect(goNote.text == goText)
        #expect(try goNote.verify(with: [goKey]) == [goKey])
        #expect(goNote.serialized == result.goNote)

        // Cairn reads Go's private key format and signs exactly as Go does.
        let goSigner = try NoteSigner(goPrivateKey: result.goSkey)
        #expect(goSigner.verifierKey == goKey)
        #expect(try goSigner.sign(text: goText) == goNote.signatures[0])
    }
}
