import Foundation
import Testing

/// Issue 10, item 3: a damaged `data.mdb` (an interrupted copy, an emptied file, other bytes)
/// made `fsck`, `checkpoint`, `get` and `query` die with SIGBUS or say "Bad file descriptor".
/// Now `fsck` diagnoses it (exit 1) and every other command refuses it (exit 74), each naming
/// the file, the size it must have and the size it has.
@Suite("A truncated, empty or foreign data.mdb is diagnosed, never mapped")
struct DataFileCLITests {
    /// A ledger with enough entries that data.mdb spans many pages.
    static func populated() throws -> LedgerFixture {
        let f = try LedgerFixture()
        let pad = String(repeating: "x", count: 300)
        let records = (0..<300).map { #"{"n":\#($0),"pad":"\#(pad)"}"# }.joined(separator: "\n") + "\n"
        try f.cli.ok("append", stdin: records)
        return f
    }

    /// A copy of the fixture's ledger whose data.mdb is `damage` applied to the original bytes.
    static func damagedCopy(_ f: LedgerFixture, _ damage: ([UInt8]) -> [UInt8]) throws -> CLI {
        let copy = f.dir.file("copy")
        try FileManager.default.createDirectory(atPath: copy, withIntermediateDirectories: false)
        for name in ["signing-key.pem", "ledger.vkey"] {
            try FileManager.default.copyItem(atPath: f.cli.ledger + "/" + name, toPath: copy + "/" + name)
        }
        let original = Array(try Data(contentsOf: URL(fileURLWithPath: f.cli.ledger + "/data.mdb")))
        try Data(damage(original)).write(to: URL(fileURLWithPath: copy + "/data.mdb"))
        return CLI(ledger: copy)
    }

    /// `cairn fsck` exits 1 with `problem`, in text and JSON; the other commands exit 74 with it.
    static func expectDiagnosed(
        _ cli: CLI, _ problem: String, sourceLocation: SourceLocation = #_sourceLocation
    )
        throws
    {
        let fsck = try cli.run("fsck")
        #expect(fsck.status == 1, "fsck: \(fsck.status) \(fsck.stderr)", sourceLocation: sourceLocation)
        #expect(fsck.stderr.hasPrefix("error: fsck: \(cli.ledger)/data.mdb "), sourceLocation: sourceLocation)
        #expect(fsck.stderr.contains(problem), "\(fsck.stderr)", sourceLocation: sourceLocation)
        let json = parseJSONLine(try cli.run("fsck", "--json").lines.first ?? "")
        #expect(json["ok"] as? Bool == false, sourceLocation: sourceLocation)
        #expect((json["problem"] as? String)?.contains(problem) == true, sourceLocation: sourceLocation)
        for args in [["checkpoint"], ["get", "0"], ["query"], ["prove", "inclusion", "0"], ["append"]] {
            let out = try cli.run(args, stdin: Array(#"{"late":true}"#.utf8))
            #expect(out.status == 74, "\(args): \(out.status) \(out.stderr)", sourceLocation: sourceLocation)
            #expect(out.stderr.contains("\(cli.ledger)/data.mdb"), sourceLocation: sourceLocation)
            #expect(out.stderr.contains(problem), "\(args): \(out.stderr)", sourceLocation: sourceLocation)
            #expect(out.stdout.isEmpty, sourceLocation: sourceLocation)
        }
    }

    @Test("A copy cut at 8192 bytes: fsck names the size it must have and has (exit 1); others exit 74")
    func truncated() throws {
        let f = try Self.populated()
        let whole = try Data(contentsOf: URL(fileURLWithPath: f.cli.ledger + "/data.mdb")).count
        let copy = try Self.damagedCopy(f) { Array($0.prefix(8192)) }
        let fsck = try copy.run("fsck")
        // The newest meta page's last page decides; the original file is at least that long.
        let expected = try #require(
            fsck.stderr.firstMatch(of: /must have at least (\d+) bytes, but it has 8192/).map { Int($0.1) ?? 0 })
        #expect(expected > 8192 && expected <= whole)
        try Self.expectDiagnosed(copy, "is truncated")
        try Self.expectDiagnosed(copy, "must have at least \(expected) bytes, but it has 8192")
        // Nothing was written to the copy.
        #expect(try Data(contentsOf: URL(fileURLWithPath: copy.ledger + "/data.mdb")).count == 8192)
    }

    @Test("An empty data.mdb: diagnosed (not \"Bad file descriptor\"), and append does not initialize it")
    func empty() throws {
        let f = try Self.populated()
        let copy = try Self.damagedCopy(f) { _ in [] }
        try Self.expectDiagnosed(copy, "is empty (0 bytes)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: copy.ledger + "/data.mdb")).isEmpty)
    }

    @Test("Garbage in data.mdb: diagnosed as not an LMDB data file, with its size")
    func garbage() throws {
        let f = try Self.populated()
        var generator = SystemRandomNumberGenerator()
        let noise = (0..<20000).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let copy = try Self.damagedCopy(f) { _ in noise }
        try Self.expectDiagnosed(copy, "is not an LMDB data file this cairn can read")
        try Self.expectDiagnosed(copy, "(the file has 20000 bytes)")
    }

    @Test("The intact ledger still passes fsck")
    func intact() throws {
        let f = try Self.populated()
        #expect(try f.cli.ok("fsck").text.hasPrefix("ok: 300 leaves"))
    }
}
