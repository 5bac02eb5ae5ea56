import CairnHTTP
import CairnJSON
import CairnTestSupport
import Foundation
import Testing

@testable import CairnClient

@Suite("Spool: durable FIFO storage")
struct SpoolStorageTests {
    let server = try! ServerAddress("http://127.0.0.1:1")

    @Test("Records survive closing and reopening the spool, in order, with their sequence numbers")
    func survivesReopen() throws {
        let dir = try TemporaryDirectory()
        var placed: [UInt64] = []
        do {
            let spool = try #require(try Spool.open(directory: dir.path + "/spool", create: true))
            placed = try spool.enqueue(makeRecords(0..<10), to: server, reason: "connection refused").map(\.sequence)
        }
        // The environment is closed once the last reference is gone; this is a real reopen.
        let spool = try #require(try Spool.open(directory: dir.path + "/spool", create: false))
        let waiting = try spool.oldest(for: server)
        #expect(waiting.map(\.record) == makeRecords(0..<10))
        #expect(waiting.map(\.sequence) == placed)
        #expect(placed == Array(1...10))
        // Sequence numbers keep growing, even after the queue empties.
        try spool.acknowledge(waiting)
        #expect(try spool.count(for: server) == 0)
        let next = try spool.enqueue(makeRecords(10..<11), to: server)
        #expect(next.map(\.sequence) == [11])
    }

    @Test("A record already waiting for the same server is not queued twice")
    func deduplicatesPendingRecords() throws {
        let dir = try TemporaryDirectory()
        let spool = try #require(try Spool.open(directory: dir.path, create: true))
        let first = try spool.enqueue(makeRecords(0..<3), to: server)
        let second = try spool.enqueue(makeRecords(2..<5), to: server)
        #expect(first.map(\.alreadySpooled) == [false, false, false])
        #expect(second.map(\.alreadySpooled) == [true, false, false])
        #expect(second[0].sequence == first[2].sequence)
        #expect(try spool.count(for: server) == 5)
        // For another server it is a different delivery.
        let other = try ServerAddress("http://127.0.0.1:2")
        #expect(try spool.enqueue(makeRecords(0..<1), to: other).first?.alreadySpooled == false)
    }

    @Test("oldest(limit:maxBytes:) pages through the queue in order")
    func pages() throws {
        let dir = try TemporaryDirectory()
        let spool = try #require(try Spool.open(directory: dir.path, create: true))
        try spool.enqueue(makeRecords(0..<10), to: server)
        let page = try spool.oldest(for: server, limit: 4)
        #expect(page.map(\.record) == makeRecords(0..<4))
        let next = try spool.oldest(for: server, after: page.last!.sequence, limit: 4)
        #expect(next.map(\.record) == makeRecords(4..<8))
        let small = try spool.oldest(for: server, maxBytes: 1)
        #expect(small.count == 1)  // always at least one
    }

    @Test("A missing spool is reported empty and not created")
    func missingSpool() throws {
        let dir = try TemporaryDirectory()
        #expect(try Spool.open(directory: dir.path + "/none", create: false) == nil)
        let status = try Spool.status(directory: dir.path + "/none")
        #expect(!status.exists && status.records == 0)
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/none"))
    }

    @Test("A spool of another format is refused")
    func refusesOtherFormat() throws {
        let dir = try TemporaryDirectory()
        do {
            _ = try #require(try Spool.open(directory: dir.path, create: true))
        }
        do {
            let spool = try #require(try Spool.open(directory: dir.path, create: false))
            try spool.setMeta("format", Array("9".utf8))
        }
        #expect(throws: SpoolError.self) { try Spool.open(directory: dir.path, create: false) }
    }

    @Test("The default directory: $CAIRN_SPOOL, else $XDG_CACHE_HOME/cairn/spool, else ~/.cache/cairn/spool")
    func defaultDirectory() {
        #expect(Spool.defaultDirectory(environment: ["CAIRN_SPOOL": "/x", "HOME": "/h"]) == "/x")
        #expect(Spool.defaultDirectory(environment: ["XDG_CACHE_HOME": "/c", "HOME": "/h"]) == "/c/cairn/spool")
        #expect(Spool.defaultDirectory(environment: ["HOME": "/h"]) == "/h/.cache/cairn/spool")
    }

    @Test("Spool files are private to the user")
    func permissions() throws {
        let dir = try TemporaryDirectory()
        _ = try Spool.open(directory: dir.path + "/spool", create: true)
        let attributes = try FileManager.default.attributesOfItem(atPath: dir.path + "/spool")
        #expect((attributes[.posixPermissions] as? Int) == 0o700)
        let data = try FileManager.default.attributesOfItem(atPath: dir.path + "/spool/data.mdb")
        #expect((data[.posixPermissions] as? Int) == 0o600)
    }
}

@Suite("Server addresses and HTTP answers")
struct ProtocolTests {
    @Test("URLs are normalized: scheme and host lowercased, default port and trailing slash dropped")
    func normalization() throws {
        #expect(try ServerAddress("HTTP://Ledger.Example.com:80/").description == "http://ledger.example.com")
        #expect(try ServerAddress("https://x.example:443/cairn/").description == "https://x.example/cairn")
        #expect(try ServerAddress("http://127.0.0.1:8080").description == "http://127.0.0.1:8080")
        #expect(try ServerAddress("http://h/base").entriesURL().description == "http://h/base/v1/entries")
        #expect(
            try ServerAddress("http://h/base").entriesURL(strict: true).description
                == "http://h/base/v1/entries?strict=true")
        #expect(try ServerAddress("http://[::1]:8080/").entriesURL().description == "http://[::1]:8080/v1/entries")
        #expect(try ServerAddress("UNIX:/run/cairn.sock").description == "unix:/run/cairn.sock")
        #expect(
            try ServerAddress("unix:/run/cairn.sock").entriesURL().description == "unix:/run/cairn.sock:/v1/entries")
        for bad in [
            "ftp://x", "x", "http://", "http://h/?a=1", "http://u:p@h/", "unix:", "unix:relative.sock",
            "unix:/" + String(repeating: "s", count: 200),
        ] {
            #expect(throws: ClientError.self) { try ServerAddress(bad) }
        }
    }

    @Test("Transport failures map onto kinds: unreachable is transient, TLS and huge answers are protocol errors")
    func transportKinds() throws {
        let server = try ServerAddress("http://h")
        let expectations: [(HTTPError.Kind, ClientError.Kind)] = [
            (.cannotConnect, .transient), (.timeout, .transient), (.connectionLost, .transient),
            (.invalidResponse, .transient), (.cancelled, .transient), (.tls, .protocolViolation),
            (.responseTooLarge, .protocolViolation), (.invalidURL, .invalidArgument),
            (.invalidRequest, .invalidArgument),
        ]
        #expect(Set(expectations.map(\.0)) == Set(HTTPError.Kind.allCases))
        for (transport, kind) in expectations {
            let error = HTTPLedgerClient.transportError(HTTPError(transport, "why"), server: server)
            #expect(error.kind == kind, "\(transport)")
            #expect(error.message == "http://h: why")
        }
    }

    @Test("Statuses map onto kinds: transient, rejected, unauthorized, protocol")
    func statusKinds() throws {
        let server = try ServerAddress("http://h")
        let expectations: [(Int, ClientError.Kind)] = [
            (400, .rejected), (413, .rejected), (422, .rejected), (401, .unauthorized), (403, .unauthorized),
            (408, .transient), (429, .transient), (500, .transient), (502, .transient), (503, .transient),
            (404, .protocolViolation), (415, .protocolViolation), (301, .protocolViolation),
        ]
        for (status, kind) in expectations {
            let body = [400, 422].contains(status) ? Array(#"{"error":"invalid_record","message":"m"}"#.utf8) : []
            #expect(HTTPLedgerClient.error(status: status, body: body, retryAfter: nil, server: server).kind == kind)
        }
        // A 400 or 422 that is not about the records (a bad parameter, a proxy's page) is a protocol error.
        for body in [#"{"error":"invalid_parameter","message":"strict: expected true or false"}"#, "<html>", ""] {
            for status in [400, 422] {
                #expect(
                    HTTPLedgerClient.error(status: status, body: Array(body.utf8), retryAfter: nil, server: server).kind
                        == .protocolViolation, "\(status) \(body)")
            }
        }
    }

    @Test("Error bodies: code, message, located problems and retry_after are read")
    func errorBody() throws {
        let body = #"""
            {"error":"invalid_record","message":"1 of 2 records does not match","problems":[{"line":2,"path":"$.outputs[0].commit","code":"invalidCommit","message":"expected hex"}],"retry_after":3}
            """#
        let error = HTTPLedgerClient.error(
            status: 422, body: Array(body.utf8), retryAfter: nil, server: try ServerAddress("http://h"))
        #expect(error.code == "invalid_record")
        #expect(
            error.problems == [
                Problem(code: "invalidCommit", message: "expected hex", line: 2, path: "$.outputs[0].commit")
            ])
        #expect(error.retryAfter == 3)
        #expect(error.message.contains("1 of 2 records does not match"))
    }

    @Test("Retry-After: seconds or an HTTP-date")
    func retryAfter() {
        #expect(HTTPLedgerClient.parseRetryAfter("1") == 1)
        #expect(HTTPLedgerClient.parseRetryAfter(" 120 ") == 120)
        #expect(HTTPLedgerClient.parseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT") == 0)  // in the past
        #expect(HTTPLedgerClient.parseRetryAfter("soon") == nil)
    }

    @Test("200 bodies must hold one well-formed receipt per record")
    func receipts() throws {
        let server = try ServerAddress("http://h")
        let good = #"[{"index":4,"digest":"sha256:00","duplicate":true}]"#
        #expect(
            try HTTPLedgerClient.receipts(from: Array(good.utf8), count: 1, server: server)
                == [AppendReceipt(index: 4, digest: "sha256:00", duplicate: true)])
        for bad in ["[]", "{}", "nope", #"[{"index":-1,"digest":"sha256:00","duplicate":true}]"#] {
            #expect(throws: ClientError.self) {
                try HTTPLedgerClient.receipts(from: Array(bad.utf8), count: 1, server: server)
            }
        }
    }

    @Test("Tokens must be visible ASCII without spaces (they go into a header)")
    func tokens() {
        #expect(throws: Never.self) { try HTTPLedgerClient.validate(token: "cairn_0123abc") }
        for bad in ["", "a b", "a\nb", "é"] {
            #expect(throws: ClientError.self) { try HTTPLedgerClient.validate(token: bad) }
        }
    }
}
