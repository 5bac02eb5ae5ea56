import CairnCrypto
import CairnNote
import Foundation

/// Test helpers: vector files, published test keys, and running external tools.
enum Support {
    /// CI sets CAIRN_REQUIRE_INTEROP=1: then interop tests run (and fail) even when their tool is missing.
    static let interopRequired = ProcessInfo.processInfo.environment["CAIRN_REQUIRE_INTEROP"] == "1"

    /// `Tests/Vectors/<path>`, found relative to this source file.
    static func vector(_ path: String, filePath: String = #filePath) -> URL {
        URL(fileURLWithPath: filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Vectors").appendingPathComponent(path)
    }

    /// A file next to this source file (e.g. `Interop/interop.go`).
    static func testFile(_ path: String, filePath: String = #filePath) -> URL {
        URL(fileURLWithPath: filePath).deletingLastPathComponent().appendingPathComponent(path)
    }

    static func decode<T: Decodable>(_ type: T.Type, from path: String) throws -> T {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(T.self, from: Data(contentsOf: vector(path)))
    }

    static func hex(_ text: String) -> [UInt8] {
        guard let bytes = Hex.decode(text) else { fatalError("bad hex in test data: \(text)") }
        return bytes
    }

    /// Runs `body` and returns the NoteError it throws, or nil if it throws nothing.
    static func noteError(_ body: () throws -> Void) -> NoteError? {
        do {
            try body()
            return nil
        } catch let error as NoteError {
            return error
        } catch {
            fatalError("expected a NoteError, got \(error)")
        }
    }

    // MARK: published test keys

    /// Private keys published with transparency-dev/formats log/note_test.go @ 0b850f1a
    /// (Apache-2.0): the test keys behind the checkpoint_signature_cases vectors.
    static let transparencyDevTestKeys: [String: String] = [
        "Log": "PRIVATE+KEY+Log+2271c621+AdEIq9FLRQni54Wg68T96VJO+iayOaulswav2DUMKgvQ",
        "Known": "PRIVATE+KEY+Known+451c786d+AQPRoE2+Z+Ed1HaHBA9F/FfracvcZ2rDU39kCecMEoci",
        "KnownAgain": "PRIVATE+KEY+KnownAgain+4893b26c+ARhZda/l25zjGZswYLDZsLNRzNpmv5wYTN9IoTr1OJ2+",
        "Unknown": "PRIVATE+KEY+Unknown+fdbb2e08+Aav2knTC6orbhXX8pMWuNiWgO+Wwk2DB+h1eU2Q1W1nU",
    ]

    /// The Ed25519 key inside a Go-format private key.
    static func ed25519Key(goPrivateKey text: String) throws -> Ed25519PrivateKey {
        let encoded = text.split(separator: "+", maxSplits: 4)[4]
        return try Ed25519PrivateKey(seed: Array(Base64.decode(encoded)!.dropFirst()))
    }

    // MARK: processes

    /// The full path of `tool` on PATH, or nil.
    static func which(_ tool: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for dir in path.split(separator: ":") {
            let candidate = "\(dir)/\(tool)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    struct Output {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    static func run(
        _ executable: String, _ arguments: [String], environment: [String: String]? = nil,
        directory: URL? = nil
    ) throws -> Output {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        if let directory { process.currentDirectoryURL = directory }
        let stdout = Pipe(), stderr = Pipe()
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        let out = stdout.fileHandleForReading.readDataToEndOfFile()
        let err = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Output(
            status: process.terminationStatus,
            stdout: String(decoding: out, as: UTF8.self), stderr: String(decoding: err, as: UTF8.self))
    }

    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-note-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

/// The vectors in Tests/Vectors/note/signed_note_vectors.json.
struct NoteVectors: Decodable {
    struct NoteCase: Decodable, CustomStringConvertible {
        let id: String
        let note: String?
        let noteB64: String?
        let verifierKeys: [String]
        let expected: String
        let verified: [String]?
        let unverified: [String]?
        /// The exact bytes: `note_b64` when present (it may be invalid UTF-8), else `note`.
        var bytes: [UInt8] { noteB64.map { Base64.decode($0)! } ?? Array(note!.utf8) }
        var description: String { id }
    }

    struct SigningCase: Decodable {
        let id: String
        let signerKey: String
        let text: String
        let expectedNote: String
    }

    struct CheckpointSignatureCase: Decodable, CustomStringConvertible {
        let id: String
        let note: String
        let expectedOrigin: String
        let logKey: String
        let otherVerifierKeys: [String]
        let expected: String
        let expectedVerifiedSignatureCount: Int
        var description: String { id }
    }

    struct CosignatureCase: Decodable, CustomStringConvertible {
        let id: String
        let note: String
        let cosignerVkey: String
        let expected: String
        let expectedTimestamp: UInt64?
        let signedMessage: String?
        var description: String { id }
    }

    struct ParseOnlyExample: Decodable, CustomStringConvertible {
        struct Parse: Decodable {
            struct Signature: Decodable {
                let keyName: String
                let keyIdHex: String
                let signatureLength: Int
                let cosignatureTimestamp: UInt64?
            }
            let origin: String?
            let treeSize: UInt64?
            let rootHashHex: String?
            let extensionLines: [String]?
            let signatures: [Signature]
        }
        let id: String
        let note: String
        let expectedParse: Parse
        var description: String { id }
    }

    struct ValidVKey: Decodable, CustomStringConvertible {
        let vkey: String
        let name: String
        let keyIdHex: String
        let signatureType: UInt8
        let publicKeyHex: String
        var description: String { vkey }
    }

    struct InvalidVKey: Decodable {
        let vkey: String
        let why: String
    }

    let signedNoteCases: [NoteCase]
    let signingCases: [SigningCase]
    let checkpointSignatureCases: [CheckpointSignatureCase]
    let cosignatureV1Cases: [CosignatureCase]
    let parseOnlyExamples: [ParseOnlyExample]
    let vkeyValid: [ValidVKey]
    let vkeyInvalid: [InvalidVKey]

    static let shared = try! Support.decode(NoteVectors.self, from: "note/signed_note_vectors.json")
}

/// The vectors in Tests/Vectors/note/checkpoint_body_vectors.json.
struct CheckpointBodyVectors: Decodable {
    struct Vector: Decodable, CustomStringConvertible {
        let id: String
        let body: String
        let expected: String
        let origin: String?
        let treeSize: UInt64?
        let rootHashHex: String?
        let extensionLines: [String]?
        let strictC2spNote: String?
        /// "sumdb-record" for the one vector that is not a checkpoint body.
        let kind: String?
        var description: String { id }

        enum CodingKeys: String, CodingKey {
            case id, body, expected, origin, treeSize, rootHashHex, extensionLines, kind
            case strictC2spNote = "strictC2SpNote"  // what convertFromSnakeCase makes of strict_c2sp_note
        }
    }
    let count: Int
    let vectors: [Vector]

    static let shared = try! Support.decode(CheckpointBodyVectors.self, from: "note/checkpoint_body_vectors.json")
}
