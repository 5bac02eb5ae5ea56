import CairnJSON
import DequeModule
import Dispatch
import Foundation
import Logging
import Synchronization

/// A swift-log handler writing one line per message to standard error: a JSON object
/// (`{"ts":…,"level":…,"logger":…,"msg":…,…metadata}`) or plain text
/// (`ts level logger: msg key=value…`). Lines are written whole, under a lock.
package struct StructuredLogHandler: LogHandler {
    package var logLevel: Logger.Level
    package var metadata: Logger.Metadata = [:]
    package let label: String
    package let format: ServerConfiguration.LogFormat
    private let sink: LogSink

    package init(
        label: String, format: ServerConfiguration.LogFormat, level: Logger.Level, sink: LogSink = .standardError
    ) {
        self.label = label
        self.format = format
        self.logLevel = level
        self.sink = sink
    }

    package subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    package func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        let timestamp = Clock.now()
        let line: String
        switch format {
        case .json:
            var object: JSONObject = [
                "ts": .string(timestamp), "level": .string(event.level.rawValue), "logger": .string(label),
                "msg": .string(event.message.description),
            ]
            for (key, value) in merged.sorted(by: { $0.key < $1.key }) where object[key] == nil {
                object[key] = Self.json(value)
            }
            line = JSONWriter.compact(.object(object))
        case .text:
            var text = "\(timestamp) \(event.level.rawValue) \(label): \(event.message)"
            for (key, value) in merged.sorted(by: { $0.key < $1.key }) { text += " \(key)=\(value)" }
            line = text
        }
        sink.write(line + "\n")
    }

    static func json(_ value: Logger.Metadata.Value) -> JSONValue {
        switch value {
        case .string(let text): .string(text)
        case .stringConvertible(let convertible):
            switch convertible {
            case let number as Int: .number(Double(number))
            case let number as UInt64: .number(Double(number))
            case let number as Double where number.isFinite: .number(number)
            case let flag as Bool: .bool(flag)
            default: .string(convertible.description)
            }
        case .array(let items): .array(items.map(json))
        case .dictionary(let dictionary):
            .object(JSONObject(dictionary.sorted { $0.key < $1.key }.map { ($0.key, json($0.value)) }))
        }
    }
}

/// Where log lines go.
package final class LogSink: Sendable {
    private let write: @Sendable (String) -> Void

    package init(_ write: @escaping @Sendable (String) -> Void) { self.write = write }

    func write(_ line: String) { write(line) }

    /// Standard error, written by a thread of its own: logging never blocks a request, however
    /// slow the reader of stderr (journald, a full pipe). Lines beyond a bounded backlog are
    /// dropped and counted (`droppedLines`), and the count is reported in the next line written.
    package static let standardError = LogSink { line in standardErrorWriter.enqueue(line) }

    /// Lines dropped so far because stderr could not keep up.
    package static var droppedLines: UInt64 { standardErrorWriter.dropped }

    /// Waits (up to two seconds) until every queued line reached stderr: call before exiting.
    package static func drainStandardError() {
        standardErrorWriter.drain(timeout: .seconds(2))
    }

    private static let standardErrorWriter = LineWriter(fd: 2, maxBacklog: 10_000)
}

/// A bounded queue of lines and the thread that writes them to a file descriptor.
final class LineWriter: Sendable {
    private struct State {
        var lines = Deque<String>()
        var dropped: UInt64 = 0
        var unreported: UInt64 = 0
        /// A line taken off the queue and not yet written.
        var writing = false
    }

    private let state = Mutex(State())
    private let wakeUp = DispatchSemaphore(value: 0)
    private let fd: Int32
    private let maxBacklog: Int

    init(fd: Int32, maxBacklog: Int) {
        self.fd = fd
        self.maxBacklog = maxBacklog
        let thread = Thread { [self] in self.run() }
        thread.name = "cairn-log-writer"
        thread.start()
    }

    var dropped: UInt64 { state.withLock { $0.dropped } }

    func enqueue(_ line: String) {
        let queued = state.withLock { state -> Bool in
            guard state.lines.count < maxBacklog else {
                state.dropped += 1
                state.unreported += 1
                return false
            }
            state.lines.append(line)
            return true
        }
        if queued { wakeUp.signal() }
    }

    private func run() {
        while true {
            wakeUp.wait()
            let (line, unreported) = state.withLock { state -> (String?, UInt64) in
                defer { state.unreported = 0 }
                state.writing = true
                return (state.lines.popFirst(), state.unreported)
            }
            if unreported > 0 {
                writeAll(
                    "{\"level\":\"warning\",\"msg\":\"log lines dropped: stderr is not keeping up\","
                        + "\"dropped\":\(unreported)}\n")
            }
            if let line { writeAll(line) }
            state.withLock { $0.writing = false }
        }
    }

    /// Waits (up to `timeout`) until every queued line is written: before the process exits.
    func drain(timeout: Duration) {
        let deadline = ContinuousClock.now + timeout
        while state.withLock({ !$0.lines.isEmpty || $0.writing }) && ContinuousClock.now < deadline {
            usleep(1000)
        }
    }

    /// Writes the whole line, retrying interrupted and partial writes; gives up on an error
    /// (a closed or full stderr must not stop the server).
    private func writeAll(_ line: String) {
        var bytes = Array(line.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeMutableBytes { raw in
                Foundation.write(fd, raw.baseAddress! + offset, raw.count - offset)
            }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }
            offset += n
        }
        bytes.removeAll()
    }
}
