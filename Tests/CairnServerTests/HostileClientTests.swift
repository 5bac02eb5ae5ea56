import CairnCrypto
import CairnJSON
import CairnLedger
import CairnServer
import CairnTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Issue 10, item 14: what a hostile client can no longer do — hold every descriptor, make the
/// writer do quadratic work, make the server parse millions of records, get a 500 for a garbled
/// request, have its upload rendered as a page, or give one entry several names.
@Suite("Hostile clients")
struct HostileClientTests {
    /// Sends raw bytes to 127.0.0.1:`port` and returns what comes back before the server closes.
    static func raw(_ bytes: [UInt8], port: Int) throws -> String {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #expect(fd >= 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        #expect(connected == 0)
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            out += buffer[0..<n]
        }
        return String(decoding: out, as: UTF8.self)
    }

    @Test("a request that is not HTTP gets the API's JSON error with a request id, not a bare 400")
    func garbledRequest() async throws {
        let fixture = try await ServerFixture()
        try await fixture.live { client in
            let port = try #require(client.client.port)
            let reply = try Self.raw(Array("GARBAGE\r\n\r\n".utf8), port: port)
            #expect(reply.hasPrefix("HTTP/1.1 400"), "\(reply)")
            #expect(reply.lowercased().contains("cairn-request-id: "), "\(reply)")
            #expect(reply.contains(#""error":"bad_request""#), "\(reply)")
        }
    }

    @Test("a malformed chunked body is 400 bad_request (not 500), and nothing is appended")
    func malformedChunkedBody() async throws {
        let fixture = try await ServerFixture()
        try await fixture.live { client in
            let port = try #require(client.client.port)
            let token = fixture.tokens["append"]!
            let request =
                "POST /v1/entries HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(token)\r\n"
                + "Content-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\nabc\r\n0\r\n\r\n"
            let reply = try Self.raw(Array(request.utf8), port: port)
            // 400 bad_request, or nothing at all (the connection closed): never a 500.
            #expect(!reply.hasPrefix("HTTP/1.1 5"), "\(reply)")
            if !reply.isEmpty {
                #expect(reply.hasPrefix("HTTP/1.1 400"), "\(reply)")
                #expect(reply.contains(#""error":"bad_request""#) || reply.contains("Content-Length: 0"), "\(reply)")
            }
            #expect(try fixture.ledger.treeSize() == 0)
        }
    }

    @Test("records per request are counted while the body streams in: a flood of tiny records is 413 early")
    func recordsPerRequest() async throws {
        let fixture = try await ServerFixture { $0.maxRecordsPerRequest = 100 }
        try await fixture.live { client in
            let flood = Array(repeating: "{}", count: 50_000)
            let reply = try await client.post("/v1/entries", ndjson: flood)
            #expect(reply.code == 413, "\(reply.text)")
            #expect(reply.text.contains("more than 100 lines"), "\(reply.text)")
            let fits = try await client.post("/v1/entries", ndjson: (0..<100).map { note("n\($0)") })
            #expect(fits.code == 200, "\(fits.text)")
        }
    }

    @Test("corrections of corrections are bounded in depth, so a long chain cannot stall the writer")
    func correctionDepth() async throws {
        let fixture = try await ServerFixture(profile: .provenance)
        try await fixture.live { client in
            try await client.append([ServerFixture.provenanceRecords[0]])
            var target = SHA256.hash(try fixture.ledger.entry(at: 0)).description
            func link(_ n: Int) -> String {
                #"{"type":"correction","schema":1,"corrects":"\#(target)","author":"a@example.com","reason":"link \#(n)","patch":{"work_item":"W-\#(n)"}}"#
            }
            // A chain as deep as allowed is fine…
            for n in 1...Ledger.maxCorrectionDepth {
                let reply = try await client.post("/v1/entries", ndjson: [link(n)])
                #expect(reply.code == 200, "link \(n): \(reply.text)")
                target = try #require(reply.json[0]?["digest"]?.stringValue)
            }
            // …one more level is refused, naming the limit; the ledger is unchanged.
            let size = try fixture.ledger.treeSize()
            let deeper = try await client.post("/v1/entries", ndjson: [link(99)])
            #expect(deeper.code == 422, "\(deeper.text)")
            #expect(deeper.problems.first?["code"]?.stringValue == "correctionTooDeep")
            #expect(try fixture.ledger.treeSize() == size)
            // A 1,000-link chain in one request is refused as a whole, cheaply.
            var chain: [String] = []
            var previous = try #require(
                (try await client.post("/v1/entries", ndjson: [ServerFixture.provenanceRecords[3]])).json[0]?["digest"]?
                    .stringValue)
            for n in 0..<1_000 {
                let record =
                    #"{"type":"correction","schema":1,"corrects":"\#(previous)","author":"a@example.com","reason":"c\#(n)","patch":{"work_item":"X-\#(n)"}}"#
                chain.append(record)
                previous = SHA256.hash(try JCS.canonicalize(try JSONParser.parse(Array(record.utf8)))).description
            }
            let long = try await client.post("/v1/entries", ndjson: chain)
            #expect(long.code == 422, "\(long.text.prefix(300))")
            #expect(long.text.contains("correctionTooDeep"))
            #expect(try fixture.ledger.fsck().leaves == size + 1)
        }
    }

    @Test("an entry has one name: leading zeros and upper-case hex are 400, not a second spelling")
    func canonicalNames() async throws {
        let fixture = try await ServerFixture()
        try await fixture.live { client in
            try await client.append([note("x")])
            let digest = SHA256.hash(try fixture.ledger.entry(at: 0)).description
            #expect(try await client.get("/v1/entries/0", as: "read").code == 200)
            #expect(try await client.get("/v1/entries/\(digest)", as: "read").code == 200)
            for bad in ["00", "01", "+0", digest.uppercased(), "sha256:" + digest.dropFirst(7).uppercased()] {
                let reply = try await client.get("/v1/entries/\(bad)", as: "read")
                #expect(reply.code == 400, "\(bad): \(reply.text)")
            }
            #expect(try await client.get("/v1/proof/inclusion?entry=00", as: "read").code == 400)
        }
    }

    @Test("blobs are never rendered as pages: nosniff, a sandboxing CSP and a download disposition")
    func blobHeaders() async throws {
        let fixture = try await ServerFixture()
        try await fixture.live { client in
            let html = Array("<html><script>alert(1)</script></html>".utf8)
            let stored = try await client.send(.post, "/v1/blobs", as: "append", body: html, contentType: "text/html")
            let address = try #require(stored.json["blob"]?.stringValue)
            let reply = try await client.get("/v1/blobs/\(address)", as: "read")
            #expect(reply.code == 200)
            #expect(reply.body == html)
            #expect(reply.headers[.xContentTypeOptions] == "nosniff")
            #expect(reply.headers[.contentSecurityPolicy] == "default-src 'none'; sandbox")
            #expect(reply.headers[.contentDisposition] == "attachment")
            // Every response says nosniff.
            #expect(try await client.get("/healthz").headers[.xContentTypeOptions] == "nosniff")
        }
    }
}
