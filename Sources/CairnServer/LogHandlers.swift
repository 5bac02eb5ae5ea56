import CairnJSON
import Foundation
import Logging
import Synchronization

/// A swift-log handler writing one line per message to standard error: a JSON object
/// (`{"ts":…,"level":…,"logger":…,"msg":…,…metadata}`) or plain text
/// (`ts level logger: msg key=value…`). Lines are written whole, under a lock.
public struct StructuredLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public let label: String
    public let format: ServerConfiguration.LogFormat
    private let sink: LogSink

    public init(
        label: String, format: ServerConfiguration.LogFormat, level: Logger.Level, sink: LogSink = .standardError
    ) {
        self.label = label
        self.format = format
        self.logLevel = level
        self.sink = sink
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
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
public final class LogSink: Sendable {
    private let write: @Sendable (String) -> Void

    public init(_ write: @escaping @Sendable (String) -> Void) { self.write = write }

    func write(_ line: String) { write(line) }

    /// Standard error, one `write(2)` per line.
    public static let standardError = LogSink { line in
        lock.withLock { _ in
            var bytes = Array(line.utf8)
            var offset = 0
            while offset < bytes.count {
                let n = bytes.withUnsafeMutableBytes { raw in
                    Foundation.write(2, raw.baseAddress! + offset, raw.count - offset)
                }
                if n <= 0 { break }
                offset += n
            }
            bytes.removeAll()
        }
    }

    private static let lock = Mutex(())
}
