import CairnJSON
import Foundation
import Testing

/// Cross-check against an independent RFC 8785 implementation: the PyPI package `rfc8785` (Python).
///
/// Skipped with a message when python3 cannot import `rfc8785` (`pip install rfc8785`); CI sets
/// CAIRN_REQUIRE_INTEROP=1, which turns the skip into a failure.
@Suite struct CrossCheckTests {
    /// True when `python3 -c "import rfc8785"` succeeds.
    static let pythonHasRFC8785: Bool = (try? runPython(["-c", "import rfc8785"])) == 0

    /// Reads NUL-separated JSON texts from argv[1], writes one line per text to argv[2]: the hex of
    /// `rfc8785.dumps(json.loads(text))`, or `ERR` and the exception name.
    static let script = """
        import json, sys, rfc8785
        docs = open(sys.argv[1], 'rb').read().split(b'\\x00')
        lines = []
        for doc in docs:
            try:
                lines.append(rfc8785.dumps(json.loads(doc.decode('utf-8'))).hex())
            except Exception as e:
                lines.append('ERR ' + type(e).__name__ + ' ' + str(e)[:80])
        open(sys.argv[2], 'w').write('\\n'.join(lines))
        """

    @Test func canonicalBytesMatchPythonRFC8785OverARandomCorpus() throws {
        guard Self.pythonHasRFC8785 else {
            let message = "rfc8785 cross-check skipped: python3 cannot import rfc8785 (pip install rfc8785)"
            if ProcessInfo.processInfo.environment["CAIRN_REQUIRE_INTEROP"] == "1" {
                Issue.record(Comment(rawValue: message + " — CAIRN_REQUIRE_INTEROP=1 requires it"))
            }
            print(message)
            return
        }
        // The documents mix nasty strings (controls, quotes, U+2028, non-BMP keys against U+E000...U+FFFF),
        // random escapes and whitespace, doubles from random bit patterns (including integers ≥ 2^53),
        // and long random literals that need correct rounding. Imprecise integers are allowed here so
        // that every double can take part; the default policy is tested elsewhere.
        var generator = CorpusGenerator(seed: 8785, allowImpreciseIntegers: true)
        let options = JSONParser.Options(rejectImpreciseIntegers: false)
        var documents: [String] = []
        for _ in 0..<600 {
            let literals = (0..<3).map { _ in generator.randomLiteral() }.joined(separator: ",")
            var keys = JSONObject()
            for _ in 0..<4 { keys[generator.string(maxLength: 3)] = .number(generator.double()) }
            let body = generator.messyText(generator.value())
            documents.append(
                #"{"doc":\#(body),"literals":[\#(literals)],"keys":\#(generator.messyText(.object(keys)))}"#)
        }

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-jcs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let input = directory.appendingPathComponent("docs.bin")
        let output = directory.appendingPathComponent("canonical.txt")
        try Data(documents.joined(separator: "\u{0}").utf8).write(to: input)
        let status = try Self.runPython(["-c", Self.script, input.path, output.path])
        try #require(status == 0, "python3 exited with status \(status)")

        let expected = try String(contentsOf: output, encoding: .utf8).split(
            separator: "\n", omittingEmptySubsequences: false)
        try #require(expected.count == documents.count)
        var mismatches = 0
        for (document, pythonHex) in zip(documents, expected) {
            let ours = try JCS.canonicalize(json: Array(document.utf8), options: options)
            // The ingest path of validated records: one parse, the value and the same bytes.
            let (value, teed) = try Array(document.utf8).withUnsafeBytes {
                try JCS.parseAndCanonicalize(json: $0, options: options)
            }
            #expect(teed == ours, "parseAndCanonicalize for \(document)")
            #expect(try JCS.canonicalize(value) == ours, "canonicalize(value) for \(document)")
            let oursHex = ours.map { String(format: "%02x", $0) }.joined()
            if oursHex != pythonHex {
                mismatches += 1
                Issue.record(
                    "mismatch for \(document)\nours:   \(String(decoding: ours, as: UTF8.self))\npython: \(pythonHex)")
                if mismatches >= 5 { break }
            }
        }
    }

    private static func runPython(_ arguments: [String]) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3"] + arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }
}
