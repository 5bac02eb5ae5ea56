import CairnCapture
import CairnCrypto
import CairnJSON
import Foundation

/// `cairn hooks install|uninstall|status` for coding agents: registers `cairn-capture AGENT` in each agent's
/// own configuration, merged with what is there, and takes it out again — restoring the file byte for byte
/// when nobody changed it since (specs/capture.md, "Installing").
package struct HookInstaller {
    package let repository: CaptureRepository
    /// The capture command to register, without the agent's name (`/usr/local/bin/cairn-capture`).
    package let captureCommand: String

    package init(repository: CaptureRepository, captureCommand: String) {
        self.repository = repository
        self.captureCommand = captureCommand
    }

    /// What install or uninstall did to one agent's configuration.
    package enum Change: String, Sendable, Equatable {
        case installed, alreadyInstalled = "already-installed", restored, removed, notInstalled = "not-installed"
    }

    package struct HooksError: Error, Equatable, CustomStringConvertible {
        package let message: String
        package var description: String { message }
    }

    /// The command registered for `agent`.
    package func command(for agent: String) -> String { "\(captureCommand) \(agent)" }

    /// Whether a registered command is one of Cairn's captures (of any install location): its last words are
    /// the program and the agent, possibly followed by `--event NAME` (GitHub Copilot CLI).
    package static func isOurs(_ command: String) -> Bool {
        var words = command.split(separator: " ")
        if words.count >= 4, words[words.count - 2] == "--event" { words.removeLast(2) }
        guard words.count >= 2 else { return false }
        let program = words[words.count - 2].trimmingCharacters(in: CharacterSet(charactersIn: "'\""))
        return program.hasSuffix("cairn-capture")
            || (program == "capture" && words.count >= 3
                && words[words.count - 3].hasSuffix("cairn"))
    }

    package func configPath(_ config: AgentHookConfig) -> String { repository.root + "/" + config.file }

    // MARK: - Install

    package func install(_ config: AgentHookConfig) throws(HooksError) -> Change {
        let path = configPath(config)
        let original = FileManager.default.contents(atPath: path).map { [UInt8]($0) }
        let settings = try parse(original, path: path)
        let updated = config.add(settings, command(for: config.agent))
        if updated == settings { return .alreadyInstalled }
        var state = loadState()
        if state[config.agent] == nil {
            // The first install keeps what was there, for uninstall to put back.
            if let original { try write(original, to: backupPath(config.agent)) }
            var entry: JSONObject = ["file": .string(config.file), "existed": .bool(original != nil)]
            if original == nil { entry["created_directory"] = .string(createdDirectory(for: config.file) ?? "") }
            state[config.agent] = .object(entry)
        }
        let bytes = JSONWriter.prettyBytes(.object(updated)) + [UInt8(ascii: "\n")]
        try write(bytes, to: path)
        var entry = state[config.agent]?.objectValue ?? [:]
        entry["written_sha256"] = .string(SHA256.hash(bytes).hex)
        state[config.agent] = .object(entry)
        try saveState(state)
        return .installed
    }

    // MARK: - Uninstall

    package func uninstall(_ config: AgentHookConfig) throws(HooksError) -> Change {
        let path = configPath(config)
        let current = FileManager.default.contents(atPath: path).map { [UInt8]($0) }
        var state = loadState()
        defer {
            state[config.agent] = nil
            try? saveState(state)
            try? FileManager.default.removeItem(atPath: backupPath(config.agent))
        }
        if let entry = state[config.agent]?.objectValue, let current,
            entry["written_sha256"]?.stringValue == SHA256.hash(current).hex
        {
            // Unchanged since install: put back exactly what was there.
            if entry["existed"] == .bool(true) {
                guard let backup = FileManager.default.contents(atPath: backupPath(config.agent)) else {
                    throw HooksError(message: "the backup of \(path) is missing from \(backupPath(config.agent))")
                }
                try write([UInt8](backup), to: path)
            } else {
                do {
                    try FileManager.default.removeItem(atPath: path)
                } catch {
                    throw HooksError(message: "cannot remove \(path): \(error.localizedDescription)")
                }
                removeCreatedDirectories(of: path, entry: entry)
            }
            return .restored
        }
        // Changed since (or installed by hand): take out Cairn's hooks only.
        guard let current else { return .notInstalled }
        let settings = try parse(current, path: path)
        let updated = config.remove(settings, Self.isOurs)
        guard updated != settings else { return .notInstalled }
        try write(JSONWriter.prettyBytes(.object(updated)) + [UInt8(ascii: "\n")], to: path)
        return .removed
    }

    /// The outermost directory of `file` (relative to the working tree) that does not exist yet, which writing
    /// the file will create.
    private func createdDirectory(for file: String) -> String? {
        var created: String?
        var directory = (file as NSString).deletingLastPathComponent
        while !directory.isEmpty, !FileManager.default.fileExists(atPath: repository.root + "/" + directory) {
            created = directory
            directory = (directory as NSString).deletingLastPathComponent
        }
        return created
    }

    /// Removes the directories the install made for the file at `path` (`created_directory`: the outermost,
    /// empty when none), innermost first, while nothing else is in them. An install recorded before
    /// `created_directory` existed: the file's own directory.
    private func removeCreatedDirectories(of path: String, entry: JSONObject) {
        var directory = (path as NSString).deletingLastPathComponent
        let created = entry["created_directory"]?.stringValue
        let outermost = created.map { repository.root + "/" + $0 } ?? directory
        guard created != "" else { return }
        while directory.hasPrefix(outermost),
            (try? FileManager.default.contentsOfDirectory(atPath: directory))?.isEmpty == true
        {
            try? FileManager.default.removeItem(atPath: directory)
            directory = (directory as NSString).deletingLastPathComponent
        }
    }

    // MARK: - Status

    package struct AgentStatus: Sendable, Equatable {
        package let agent: String
        package let file: String
        package let installed: Bool
        package let commands: [String]
    }

    package func status(_ config: AgentHookConfig) -> AgentStatus {
        let path = configPath(config)
        let settings = FileManager.default.contents(atPath: path).flatMap { try? JSONParser.parse([UInt8]($0)) }
        let commands = settings?.objectValue.map { config.commands($0).filter(Self.isOurs) } ?? []
        return AgentStatus(agent: config.agent, file: config.file, installed: !commands.isEmpty, commands: commands)
    }

    // MARK: - Redaction choice

    /// Records whether capture in this repository also redacts personal data: on writes
    /// `<git dir>/cairn/redaction.json` (`installed`, or `already-installed` when it says so already), off removes it
    /// (`removed`, or `not-installed` when there was none). Every capture reads the file (specs/capture.md,
    /// "Redaction choices").
    package func setPersonalDataRedaction(_ on: Bool) throws(HooksError) -> Change {
        let path = RedactionSettings.path(repository)
        let current = FileManager.default.contents(atPath: path).map { [UInt8]($0) }
        if on {
            if current == RedactionSettings.personalDataOn { return .alreadyInstalled }
            try write(RedactionSettings.personalDataOn, to: path)
            return .installed
        }
        guard current != nil || FileManager.default.fileExists(atPath: path) else { return .notInstalled }
        do {
            try FileManager.default.removeItem(atPath: path)
        } catch {
            throw HooksError(message: "cannot remove \(path): \(error.localizedDescription)")
        }
        return .removed
    }

    /// Whether capture in this repository redacts personal data too, as a capture would decide.
    package var redactsPersonalData: Bool { RedactionSettings.personalData(in: repository) }

    // MARK: - Files

    private var stateFile: String { repository.cairnDirectory + "/hooks-installed.json" }

    private func backupPath(_ agent: String) -> String { repository.cairnDirectory + "/hooks-backup/\(agent)" }

    private func loadState() -> JSONObject {
        FileManager.default.contents(atPath: stateFile).flatMap { try? JSONParser.parse([UInt8]($0)).objectValue }
            ?? [:]
    }

    private func saveState(_ state: JSONObject) throws(HooksError) {
        try write(JSONWriter.prettyBytes(.object(state)) + [UInt8(ascii: "\n")], to: stateFile)
    }

    private func parse(_ bytes: [UInt8]?, path: String) throws(HooksError) -> JSONObject {
        guard let bytes, !bytes.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) else {
            return [:]
        }
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes)
        } catch {
            throw HooksError(
                message:
                    "\(path) is not valid JSON (\(error)); fix it or move it away, then run again: nothing was changed")
        }
        guard let object = value.objectValue else {
            throw HooksError(message: "\(path) does not hold a JSON object; nothing was changed")
        }
        return object
    }

    /// Writes `bytes` to `path` through a temporary file and a rename, creating the directory.
    private func write(_ bytes: [UInt8], to path: String) throws(HooksError) {
        try Self.write(bytes, to: path, mode: nil)
    }

    /// Writes `bytes` (with `mode`, when given) to `path` through a temporary file and a rename, creating the
    /// directory: the one way both installers replace a file.
    static func write(_ bytes: [UInt8], to path: String, mode: Int?) throws(HooksError) {
        let directory = (path as NSString).deletingLastPathComponent
        let temporary = path + ".cairn-tmp"
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try Data(bytes).write(to: URL(fileURLWithPath: temporary))
            if let mode { try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: temporary) }
            guard rename(temporary, path) == 0 else { throw HooksError(message: String(cString: strerror(errno))) }
        } catch let error as HooksError {
            try? FileManager.default.removeItem(atPath: temporary)
            throw HooksError(message: "cannot write \(path): \(error.message)")
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw HooksError(message: "cannot write \(path): \(error.localizedDescription)")
        }
    }
}
