import CairnJSON
import CairnRecords
import Foundation
import Testing

/// The repository root, found from this file (symbolic links resolved, so that a development package
/// that links `Tests/CairnRecordsTests` still finds `examples/` and `specs/`).
let repositoryRoot = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
    .deletingLastPathComponent()
    .deletingLastPathComponent()
    .deletingLastPathComponent()

let examplesDirectory = repositoryRoot.appendingPathComponent("examples/records")
let schemaDocument = repositoryRoot.appendingPathComponent("specs/record-schema.md")
let jsonSchemaFile = repositoryRoot.appendingPathComponent("specs/record-schema.json")

/// The text of `examples/records/<type>.json`.
func exampleText(_ type: RecordType) throws -> String {
    try String(contentsOf: examplesDirectory.appendingPathComponent(type.rawValue + ".json"), encoding: .utf8)
}

/// The parsed `examples/records/<type>.json`.
func example(_ type: RecordType) throws -> JSONValue {
    try JSONParser.parse(exampleText(type))
}

/// Parses JSON text written in a test (traps on a typo: tests hold only valid JSON).
func json(_ text: String) -> JSONValue {
    try! JSONParser.parse(text)
}

/// The issues of a record as `(path, code)` pairs, for compact expectations.
func found(_ record: JSONValue, strict: Bool = false) -> [Found] {
    RecordValidator.issues(in: record, options: .init(strictFields: strict)).map { Found($0.path, $0.code) }
}

/// An expected issue: its path text and code.
struct Found: Equatable, CustomStringConvertible {
    let path: String
    let code: ValidationIssue.Code

    init(_ path: String, _ code: ValidationIssue.Code) {
        self.path = path
        self.code = code
    }

    var description: String { "\(path) \(code)" }
}

/// Parses a path written as in messages, restricted to what tests use: `$`, `.name`, `[3]`.
func components(_ path: String) -> [RecordPath.Component] {
    var result: [RecordPath.Component] = []
    var rest = path.dropFirst()  // "$"
    while let first = rest.first {
        if first == "." {
            rest = rest.dropFirst()
            let name = rest.prefix { $0 != "." && $0 != "[" }
            result.append(.key(String(name)))
            rest = rest.dropFirst(name.count)
        } else {
            let digits = rest.dropFirst().prefix { $0 != "]" }
            result.append(.index(Int(digits)!))
            rest = rest.dropFirst(digits.count + 2)
        }
    }
    return result
}

extension JSONValue {
    /// This value with the value at `path` (`$.a[0].b`) replaced by `newValue`, or removed when nil.
    func setting(_ path: String, to newValue: JSONValue?) -> JSONValue {
        setting(components(path)[...], to: newValue)
    }

    /// This value without the member at `path`.
    func removing(_ path: String) -> JSONValue {
        setting(path, to: nil)
    }

    private func setting(_ path: ArraySlice<RecordPath.Component>, to newValue: JSONValue?) -> JSONValue {
        guard let first = path.first else { return newValue ?? .null }
        switch (self, first) {
        case (.object(var object), .key(let key)):
            if path.count == 1 {
                object[key] = newValue
            } else {
                object[key] = (object[key] ?? .null).setting(path.dropFirst(), to: newValue)
            }
            return .object(object)
        case (.array(var elements), .index(let index)):
            if path.count == 1, newValue == nil {
                elements.remove(at: index)
            } else if path.count == 1, index == elements.count {
                elements.append(newValue!)
            } else {
                elements[index] = elements[index].setting(path.dropFirst(), to: newValue)
            }
            return .array(elements)
        default:
            preconditionFailure("no \(first) in \(self)")
        }
    }
}

/// The interop policy: a skipped cross-check prints why, and fails when CAIRN_REQUIRE_INTEROP=1.
func skipInterop(_ message: String, sourceLocation: SourceLocation = #_sourceLocation) {
    if ProcessInfo.processInfo.environment["CAIRN_REQUIRE_INTEROP"] == "1" {
        Issue.record(
            Comment(rawValue: message + " — CAIRN_REQUIRE_INTEROP=1 requires it"), sourceLocation: sourceLocation)
    }
    print(message)
}

/// Runs `python3` with `arguments`; returns its exit status and standard output.
func runPython(_ arguments: [String]) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3"] + arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = FileHandle.nullDevice
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}
