import Foundation
import Testing

@Suite("cairn at scale", .serialized)
struct BulkAndConcurrencyTests {
    @Test("100,000 records in one append are durable, pass fsck, and appending them again adds nothing")
    func hundredThousand() throws {
        let f = try LedgerFixture()
        var input = ""
        input.reserveCapacity(100_000 * 40)
        for i in 0..<100_000 { input += "{\"seq\":\(i),\"kind\":\"bulk\"}\n" }
        let file = try f.dir.write("bulk.jsonl", input)
        let first = try f.cli.ok("append", file)
        #expect(first.lines.count == 100_000)
        #expect(first.lines.last?.hasPrefix("{\"index\":99999,") == true)
        // A new process sees every record.
        #expect(try f.cli.ok("checkpoint").lines[1] == "100000")
        #expect(try f.cli.ok("get", "99999", "--raw").text == #"{"kind":"bulk","seq":99999}"#)
        let fsck = parseJSONLine(try f.cli.ok("fsck", "--json").text)
        #expect(fsck["ok"] as? Bool == true)
        #expect(fsck["leaves"] as? Int == 100_000)
        let again = try f.cli.ok("append", file)
        #expect(again.lines.count == 100_000)
        #expect(again.lines.allSatisfy { $0.hasSuffix("\"duplicate\":true}") })
        #expect(try f.cli.ok("checkpoint").lines[1] == "100000")
    }

    @Test("Another process can prove and read while appends are committed")
    func concurrentReaders() throws {
        let f = try LedgerFixture()
        try f.cli.ok("append", stdin: "{\"first\":true}\n")
        let writerDone = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var writerFailures: [String] = []
        let cli = f.cli
        Thread.detachNewThread {
            for batch in 0..<20 {
                let records = (0..<500).map { "{\"batch\":\(batch),\"i\":\($0)}" }.joined(separator: "\n")
                if let out = try? cli.run(["append"], stdin: Array(records.utf8)), out.status != 0 {
                    writerFailures.append(out.stderr)
                }
            }
            writerDone.signal()
        }
        var reads = 0
        var lastSize = 0
        while writerDone.wait(timeout: .now()) == .timedOut {
            let checkpoint = try f.cli.ok("checkpoint")
            let size = Int(checkpoint.lines[1])!
            #expect(size >= lastSize, "tree size went backwards")
            lastSize = size
            let proof = try f.cli.ok("prove", "inclusion", "0")
            let proofFile = try f.dir.write("p\(reads)", proof.stdout)
            let entry = try f.dir.write("e", "{\"first\":true}")
            let verified = try f.cli.run([
                "verify", "inclusion", "--vkey", f.vkey, "--proof", proofFile, "--entry", entry,
            ])
            #expect(verified.status == 0, "\(verified.stderr)")
            reads += 1
        }
        #expect(writerFailures.isEmpty, "\(writerFailures)")
        #expect(reads > 0)
        #expect(try f.cli.ok("checkpoint").lines[1] == "10001")
        #expect(try f.cli.ok("fsck").status == 0)
    }
}
