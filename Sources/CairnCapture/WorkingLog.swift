import CairnCrypto
import CairnJSON
import CairnRecords
import CairnRedaction

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The repository's capture working log, `<git dir>/cairn/working-log.jsonl`: one JSON object per captured
/// event, appended and synced (specs/capture.md). The commit hooks turn it into checkpoint records.
package struct WorkingLog: Sendable {
    package static let fileName = "working-log.jsonl"
    package static let keyFileName = "redaction.key"
    /// The format of each line (`"v"`).
    package static let version = 1

    package let repository: CaptureRepository

    package init(repository: CaptureRepository) {
        self.repository = repository
    }

    package var path: String { repository.cairnDirectory + "/" + Self.fileName }

    /// Appends `events`, redacted, as one write of whole lines, then syncs the file. Returns what was redacted.
    package func append(
        _ events: [CaptureEvent], at milliseconds: Int64
    ) throws(CaptureError) -> [RedactionFinding] {
        let redactor = Redactor(key: try redactionKey(), options: RedactionSettings.options(for: repository))
        var bytes: [UInt8] = []
        var findings: [RedactionFinding] = []
        for event in events {
            let (line, found) = self.line(event, at: milliseconds, redactor: redactor)
            bytes += JSONWriter.compactBytes(line)
            bytes.append(UInt8(ascii: "\n"))
            findings += found
        }
        try LockedLines.append(bytes, to: path)
        return findings
    }

    /// The log's lines as they are now (no lock: a line being appended may be missing).
    package func lines() -> [[UInt8]] { LockedLines.read(path) }

    /// Reads the log under its lock (captures wait), lets `body` choose the lines to keep, and replaces the log by
    /// them, so that no capture appended meanwhile is lost.
    package func consume<R>(
        _ body: ([[UInt8]]) throws(CaptureError) -> (keep: [[UInt8]], result: R)
    ) throws(CaptureError) -> R {
        try LockedLines.consume(path, body)
    }

    /// The line of `event`: its text fields redacted, files relative to the repository.
    func line(_ event: CaptureEvent, at milliseconds: Int64, redactor: Redactor) -> (JSONValue, [RedactionFinding]) {
        var findings: [RedactionFinding] = []
        func clean(_ text: String?) -> JSONValue {
            guard let text else { return .null }
            let (redacted, found) = redactor.redact(text)
            findings += found
            return .string(redacted)
        }
        var members: [(String, JSONValue)] = [
            ("v", .number(Double(Self.version))),
            ("at", .string(Timestamp.format(milliseconds))),
            ("agent", .string(event.agent)),
            ("event", .string(event.kind.rawValue)),
            ("hook", .string(event.hook)),
            ("grade", .string("hook")),
        ]
        func add(_ key: String, _ value: String?) { if let value { members.append((key, .string(value))) } }
        add("session", event.session)
        add("cwd", event.cwd)
        add("transcript", event.transcript)
        add("model", event.model)
        add("tool", event.tool)
        if event.prompt != nil { members.append(("prompt", clean(event.prompt))) }
        if event.command != nil { members.append(("command", clean(event.command))) }
        if event.message != nil { members.append(("message", clean(event.message))) }
        if !event.edits.isEmpty {
            members.append(
                (
                    "edits",
                    .array(
                        event.edits.map { edit in
                            var fields: [(String, JSONValue)] = [
                                ("file", .string(repository.relativePath(edit.file, cwd: event.cwd)))
                            ]
                            if edit.content != nil { fields.append(("content", clean(edit.content))) }
                            if edit.old != nil { fields.append(("old", clean(edit.old))) }
                            if edit.new != nil { fields.append(("new", clean(edit.new))) }
                            return .object(JSONObject(fields))
                        })
                ))
        }
        if !findings.isEmpty {
            members.append(
                (
                    "redactions",
                    .array(
                        findings.map {
                            .object(JSONObject([("kind", .string($0.kind.rawValue)), ("tag", .string($0.tag))]))
                        })
                ))
        }
        return (.object(JSONObject(members)), findings)
    }

    /// The repository's redaction key (32 random bytes, hex, in `redaction.key`), created on first use.
    package func redactionKey() throws(CaptureError) -> [UInt8] {
        let file = repository.cairnDirectory + "/" + Self.keyFileName
        func stored() -> [UInt8]? {
            guard let bytes = POSIX.readFile(file, limit: 256) else { return nil }
            let text = String(decoding: bytes, as: UTF8.self).split(whereSeparator: { $0 == "\n" || $0 == " " }).first
            return text.flatMap { Hex.decode($0) }.flatMap { $0.count == 32 ? $0 : nil }
        }
        if let key = stored() { return key }
        var generator = SystemRandomNumberGenerator()
        let key = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        try POSIX.makeDirectory(repository.cairnDirectory)
        // O_EXCL: two captures racing to create it keep the first one's key.
        let fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if fd < 0 {
            let openError = errno
            if openError == EEXIST {
                // Another capture is creating it: its key is written and synced within moments.
                for _ in 0..<200 {
                    if let existing = stored() { return existing }
                    usleep(1000)
                }
            }
            throw CaptureError(
                openError == EEXIST
                    ? "\(file) exists but holds no key (64 hex digits): remove it, and a new key is made"
                    : "cannot create \(file): \(String(cString: strerror(openError)))")
        }
        defer { close(fd) }
        try writeAll(fd, Array((Hex.encode(key) + "\n").utf8), path: file)
        guard fsync(fd) == 0 else { throw CaptureError("cannot sync \(file): \(String(cString: strerror(errno)))") }
        return key
    }

    private func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws(CaptureError) {
        if let error = POSIX.writeAll(fd, bytes) { throw CaptureError("cannot write \(path): \(error)") }
    }
}
