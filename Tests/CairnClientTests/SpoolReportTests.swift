import CairnJSON
import CairnTestSupport
import Foundation
import Testing

@testable import CairnClient

@Suite("Spool reports: status, dead letters and replay lines as JSON; the API token")
struct SpoolReportTests {
    let first = try! ServerAddress("http://127.0.0.1:1")
    let second = try! ServerAddress("http://127.0.0.1:2")

    /// A spool with two records waiting for `first`, one for `second`, and one dead letter of each.
    func makeSpool(_ dir: TemporaryDirectory) throws -> Spool {
        let spool = try #require(try Spool.open(directory: dir.file("spool"), create: true))
        let at = Date(timeIntervalSince1970: 1_800_000_000)
        try spool.enqueue(makeRecords(0..<3), to: first, reason: "connection refused", now: at)
        try spool.enqueue(makeRecords(3..<5), to: second, now: at.addingTimeInterval(60))
        let refusal = ClientError(
            .rejected, "schema problems", status: 422, code: "invalid_record",
            problems: [Problem(code: "required", message: "is required", line: 7, column: 3, path: "$.type")])
        try spool.deadLetter(try spool.oldest(for: first, limit: 1)[0], error: refusal, problems: refusal.problems)
        try spool.deadLetter(
            try spool.oldest(for: second, limit: 1)[0], error: ClientError(.rejected, "too large", status: 413),
            problems: [])
        return spool
    }

    @Test("status JSON: totals, per-server figures, times in RFC 3339 and ages from now")
    func statusJSON() throws {
        let dir = try TemporaryDirectory()
        let spool = try makeSpool(dir)
        let now = Date(timeIntervalSince1970: 1_800_000_100.5)
        let json = try #require(try spool.status().json(now: now).objectValue)
        #expect(
            json.map(\.key) == [
                "spool", "exists", "records", "bytes", "oldest", "oldest_age_seconds", "dead_letters", "servers",
            ])
        #expect(json["exists"] == .bool(true))
        #expect(json["records"]?.intValue == 3)
        #expect(json["dead_letters"]?.intValue == 2)
        #expect(json["oldest"]?.stringValue == "2027-01-15T08:00:00.000Z")
        #expect(json["oldest_age_seconds"]?.numberValue == 100.5)
        let servers = try #require(json["servers"]?.arrayValue)
        #expect(servers.count == 2)
        #expect(servers[0]["server"]?.stringValue == "http://127.0.0.1:1")
        #expect(servers[0]["records"]?.intValue == 2)
        #expect(servers[0]["last_error"]?.stringValue == "connection refused")
        #expect(servers[0]["last_sent_at"] == .null)
        #expect(servers[1]["oldest_age_seconds"]?.numberValue == 40.5)
        #expect(servers[1]["last_error"] == .null)

        // A spool that does not exist: empty, every time null.
        let missing = try #require(try Spool.status(directory: dir.file("none")).json(now: now).objectValue)
        #expect(missing["exists"] == .bool(false) && missing["oldest"] == .null)
        #expect(missing["oldest_age_seconds"] == .null && missing["servers"]?.arrayValue?.isEmpty == true)
    }

    @Test("dead letters: filtered by server; JSON with the record as a value and problems without positions")
    func deadLetters() throws {
        let dir = try TemporaryDirectory()
        let spool = try makeSpool(dir)
        #expect(try spool.deadLetters(server: nil).count == 2)
        let letters = try spool.deadLetters(server: first)
        #expect(letters.map(\.server) == [first])
        #expect(try spool.deadLetters(server: try ServerAddress("http://127.0.0.1:3")).isEmpty)

        let json = try #require(letters[0].json.objectValue)
        #expect(
            json.map(\.key) == [
                "sequence", "server", "spooled_at", "refused_at", "status", "error", "message", "problems", "record",
            ])
        #expect(json["status"]?.intValue == 422 && json["error"]?.stringValue == "invalid_record")
        #expect(json["record"] == (try JSONParser.parse(makeRecords(0..<1)[0].bytes)))
        // The line and column were positions in the request that carried the record.
        #expect(
            json["problems"] == .array([.object(["code": "required", "message": "is required", "path": "$.type"])]))
        let other = try #require(try spool.deadLetters(server: second).first?.json.objectValue)
        #expect(other["error"] == .null && other["problems"] == .array([]))

        // Requeue and purge act on the same selection.
        #expect(try spool.requeueDeadLetters(server: first) == 1)
        #expect(try spool.deadLetters(server: nil).map(\.server) == [second])
        #expect(try spool.purgeDeadLetters(server: first) == 0)
        #expect(try spool.purgeDeadLetters(server: nil) == 1)
    }

    @Test("A dead letter whose bytes are not JSON shows them as a string")
    func deadLetterNotJSON() throws {
        let dir = try TemporaryDirectory()
        let spool = try #require(try Spool.open(directory: dir.file("spool"), create: true))
        try spool.enqueue([OutgoingRecord(canonicalBytes: Array("not json".utf8))], to: first)
        try spool.deadLetter(
            try spool.oldest(for: first)[0], error: ClientError(.rejected, "not JSON", status: 400), problems: [])
        let letter = try #require(try spool.deadLetters().first)
        #expect(letter.recordValue == .string("not json"))
    }

    @Test("Replay lines: one per acknowledged or dead-lettered record, none for other events")
    func flushLines() throws {
        let record = makeRecords(0..<1)[0]
        let spooled = SpooledRecord(sequence: 9, server: first, spooledAt: Date(), record: record)
        let flushed = SubmitEvent.flushed(
            spooled, AppendReceipt(index: 41, digest: record.digest.description, duplicate: true))
        #expect(
            flushed.flushJSON
                == .object([
                    "sequence": 9, "index": 41, "digest": .string(record.digest.description), "duplicate": true,
                ]))
        let problem = Problem(code: "tooLarge", message: "too large", line: 1)
        let dead = SubmitEvent.deadLettered(
            spooled, problems: [problem], error: ClientError(.rejected, "refused", status: 413, code: "too_large"))
        let line = try #require(dead.flushJSON?.objectValue)
        #expect(line.map(\.key) == ["sequence", "digest", "dead_letter", "message", "problems", "error"])
        #expect(line["problems"] == .array([.object(["code": "tooLarge", "message": "too large"])]))
        let deadWithoutCode = SubmitEvent.deadLettered(spooled, problems: [], error: ClientError(.rejected, "refused"))
        #expect(deadWithoutCode.flushJSON?["error"] == nil)
        #expect(SubmitEvent.warning("odd").flushJSON == nil)
        #expect(SubmitEvent.retrying(seconds: 1, error: ClientError(.transient, "busy")).flushJSON == nil)
    }

    @Test("The API token: --token, else a token file's first line, else $CAIRN_TOKEN; checked for a header")
    func apiToken() throws {
        let files = ["t": Array("  tok_file \nsecond line\n".utf8), "empty": Array("\n\n".utf8)]
        func read(_ path: String) throws -> [UInt8] {
            guard let bytes = files[path] else { throw SpoolError("no such file \(path)") }
            return bytes
        }
        func resolve(_ token: String?, _ file: String?, _ environment: [String: String]) throws -> String? {
            try APIToken.resolve(token: token, tokenFile: file, environment: environment, readFile: read)
        }
        let everything = ["CAIRN_TOKEN": "tok_env", "CAIRN_TOKEN_FILE": "t"]
        #expect(try resolve("tok_opt", "t", everything) == "tok_opt")
        #expect(try resolve(nil, "t", ["CAIRN_TOKEN": "tok_env"]) == "tok_file")
        #expect(try resolve(nil, nil, ["CAIRN_TOKEN_FILE": "t"]) == "tok_file")
        #expect(try resolve(nil, nil, ["CAIRN_TOKEN": "tok_env", "CAIRN_TOKEN_FILE": ""]) == "tok_env")
        #expect(try resolve(nil, nil, ["CAIRN_TOKEN": ""]) == nil)
        #expect(try resolve(nil, nil, [:]) == nil)
        #expect(throws: ClientError(.invalidArgument, "token file empty is empty")) {
            try resolve(nil, "empty", [:])
        }
        // The reader's own errors come through unchanged, for the caller to word.
        #expect(throws: SpoolError("no such file missing")) { try resolve(nil, "missing", [:]) }
        #expect(throws: ClientError.self) { try resolve("a b", nil, [:]) }
        #expect(throws: ClientError.self) { try resolve(nil, nil, ["CAIRN_TOKEN": "é"]) }
    }
}
