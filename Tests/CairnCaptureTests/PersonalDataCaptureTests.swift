import CairnCapture
import CairnHooks
import CairnJSON
import CairnRedaction
import CairnTestSupport
import Foundation
import Testing

/// The repository's personal-data choice (`<git dir>/cairn/redaction.json`): written by the installer, read by every
/// capture, which then redacts personal data as well as secrets.
@Suite struct PersonalDataCaptureTests {
    static let email = "ana.lima@quillmail.io"
    static let card = "4111" + " 1111 1111 1111"

    func repository() throws -> (TemporaryDirectory, CaptureRepository) {
        let repo = try TemporaryDirectory.gitRepository("personal-data")
        return (repo, try #require(CaptureRepository.containing(repo.path)))
    }

    /// Captures one Claude Code prompt in `repo`: the working log's line and the redactions.
    func capturePrompt(_ prompt: String, in repo: TemporaryDirectory) throws -> (String, [RedactionFinding]) {
        let payload: JSONValue = .object([
            "hook_event_name": .string("UserPromptSubmit"), "session_id": .string("s"), "cwd": .string(repo.path),
            "prompt": .string(prompt),
        ])
        guard
            case .recorded(1, let log, let redactions) = try Capture.run(
                agent: "claude-code", payload: JSONWriter.compactBytes(payload), environment: [:],
                now: 1_795_166_043_120)
        else {
            Issue.record("not recorded")
            return ("", [])
        }
        let line = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").last.map(String.init) ?? ""
        return (line, redactions)
    }

    @Test("Without the marker, capture keeps personal data; with it, the working log holds placeholders instead")
    func captureHonoursTheMarker() throws {
        let (repo, repository) = try repository()
        let prompt = "charge \(Self.card) and mail \(Self.email)"
        let (kept, none) = try capturePrompt(prompt, in: repo)
        #expect(none.isEmpty && kept.contains(Self.email) && kept.contains(Self.card))
        #expect(!RedactionSettings.personalData(in: repository))

        let installer = HookInstaller(repository: repository, captureCommand: "cairn-capture")
        #expect(try installer.setPersonalDataRedaction(true) == .installed)
        #expect(RedactionSettings.personalData(in: repository) && installer.redactsPersonalData)
        let (line, redactions) = try capturePrompt(prompt, in: repo)
        #expect(redactions.map(\.kind) == [.paymentCard, .email])
        #expect(!line.contains(Self.email) && !line.contains(Self.card))
        #expect(line.contains(#"{"kind":"payment-card","tag":"\#(redactions[0].tag)"}"#))

        #expect(try installer.setPersonalDataRedaction(false) == .removed)
        #expect(!FileManager.default.fileExists(atPath: RedactionSettings.path(repository)))
        #expect(try capturePrompt(prompt, in: repo).1.isEmpty)
    }

    @Test("The marker: written once, exactly; removed once; anything but personal_data false errs toward privacy")
    func marker() throws {
        let (_, repository) = try repository()
        let installer = HookInstaller(repository: repository, captureCommand: "cairn-capture")
        let path = RedactionSettings.path(repository)
        #expect(try installer.setPersonalDataRedaction(false) == .notInstalled)
        #expect(try installer.setPersonalDataRedaction(true) == .installed)
        #expect(try installer.setPersonalDataRedaction(true) == .alreadyInstalled)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "{\"personal_data\": true}\n")
        for (content, on) in [
            (#"{"personal_data": false}"#, false), (#"{"personal_data": true, "note": "x"}"#, true), ("", true),
            ("not json", true), ("[]", true), (#"{}"#, true),
        ] {
            try Data(content.utf8).write(to: URL(fileURLWithPath: path))
            #expect(RedactionSettings.personalData(in: repository) == on, "\(content)")
            #expect(RedactionSettings.options(for: repository).personalData == on, "\(content)")
        }
        // A hand-written file is normalized by the next install.
        #expect(try installer.setPersonalDataRedaction(true) == .installed)
        #expect(try installer.setPersonalDataRedaction(false) == .removed)
        #expect(try installer.setPersonalDataRedaction(false) == .notInstalled)
    }
}
