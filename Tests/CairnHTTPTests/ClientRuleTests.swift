import CairnHTTP
import CairnTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Sends one request through `client` and returns its response or its `HTTPError`.
func exchange(
    _ url: String, client: CairnHTTPClient = .shared, method: HTTPRequest.Method = .get, path: String = "/",
    headers: [(name: String, value: String)] = [], body: [UInt8]? = nil, timeout: Duration = .seconds(20),
    maxResponseBytes: Int = 1 << 20
) async throws -> Result<HTTPResponse, HTTPError> {
    let target = try HTTPURL(url).appending(path: path)
    do {
        return .success(
            try await client.send(
                HTTPRequest(method: method, url: target, headers: headers, body: body), timeout: timeout,
                maxResponseBytes: maxResponseBytes))
    } catch {
        return .failure(error)
    }
}

extension Result where Failure == HTTPError {
    var errorKind: HTTPError.Kind? {
        if case .failure(let error) = self { return error.kind }
        return nil
    }
    var response: Success? { try? get() }
}

@Suite("CairnHTTPClient: the rules every Cairn request follows")
struct ClientRuleTests {
    @Test("A request reaches the server with its method, path, headers, body and User-Agent cairn/<version>")
    func requestAsGiven() async throws {
        let server = try TestServer { _ in .respond(status: 201, headers: [("X-Answer", "yes")], body: Array("ok".utf8))
        }
        let result = try await exchange(
            server.url, method: .post, path: "/v1/entries",
            headers: [("Content-Type", "application/json"), ("User-Agent", "impostor/9")], body: Array("{}".utf8))
        let response = try #require(result.response)
        #expect(response.status == 201 && response.body == Array("ok".utf8) && response.header("x-answer") == "yes")
        let request = try #require(server.requests.first)
        #expect(request.method == "POST" && request.target == "/v1/entries" && request.body == Array("{}".utf8))
        #expect(request.headers["content-type"] == "application/json")
        #expect(request.headers["user-agent"] == "cairn/\(CairnHTTPClient.version)")
    }

    @Test(
        "A redirect is returned, never followed: the target never sees the request or the token",
        arguments: [301, 302, 303, 307, 308])
    func redirectsAreNotFollowed(status: Int) async throws {
        let elsewhere = try TestServer()
        let server = try TestServer { _ in
            .respond(status: status, headers: [("Location", elsewhere.url + "/collect")], body: [])
        }
        let result = try await exchange(
            server.url, method: .post, path: "/v1/entries", headers: [("Authorization", "Bearer s3cret")],
            body: Array("{}".utf8))
        let response = try #require(result.response)
        #expect(response.status == status)
        #expect(response.header("location") == elsewhere.url + "/collect")
        #expect(server.requests.count == 1)
        #expect(elsewhere.requests.isEmpty)
    }

    @Test("A server that never answers: .timeout at the request's deadline")
    func deadlineWithoutAnswer() async throws {
        let server = try TestServer { _ in .silence }
        let result = try await exchange(server.url, timeout: .seconds(1))
        #expect(result.errorKind == .timeout)
        // The abandoned request's connection is closed, not left to the server (which has it
        // unless a very busy machine kept the request from reaching it within the second).
        if !server.requests.isEmpty { #expect(await eventually { server.connectionsClosedByClient == 1 }) }
    }

    @Test("The deadline covers the body: a body trickling in past it is a .timeout")
    func deadlineCoversTheBody() async throws {
        // 600 chunks, 0.1 s apart: a minute, far beyond the two-second deadline.
        let server = try TestServer { _ in .trickle(interval: 0.1, count: 600) }
        let result = try await exchange(server.url, timeout: .seconds(2))
        #expect(result.errorKind == .timeout)
        if !server.requests.isEmpty { #expect(await eventually { server.connectionsClosedByClient == 1 }) }
    }

    @Test("A connection that cannot be established in the connect timeout is a .timeout, before the deadline")
    func connectTimeout() async throws {
        // A listener that never accepts, its one-place queue full: the next connection attempt hangs.
        let server = try TestServer(backlog: 0, accepting: false)
        let filler = try server.fillBacklog()
        defer { close(filler) }
        var configuration = CairnHTTPClient.Configuration()
        configuration.connectTimeout = .milliseconds(200)
        let client = CairnHTTPClient(configuration: configuration)
        let result = try await exchange(server.url, client: client, timeout: .seconds(60))
        try await client.shutdown()
        guard case .failure(let error) = result else {
            Issue.record("expected a connect timeout, got \(result)")
            return
        }
        #expect(error.kind == .timeout)
        #expect(error.message.contains("connect"))
    }

    @Test("A refused connection is .cannotConnect")
    func refusedConnection() async throws {
        let (fd, port) = try refusingPort()
        defer { close(fd) }
        let result = try await exchange("http://127.0.0.1:\(port)", timeout: .seconds(60))
        guard case .failure(let error) = result else {
            Issue.record("expected a refused connection, got \(result)")
            return
        }
        #expect(error.kind == .cannotConnect)
        #expect(error.message == "connection refused")
    }

    @Test("A failed connection is reported, not retried until the connect timeout: one attempt, then .tls")
    func failedConnectionIsNotRetried() async throws {
        // An https request to a server that answers in plain text: the TLS handshake fails. With
        // AsyncHTTPClient's default, it would try again and again for the two minutes below.
        let server = try TestServer(greeting: Array("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n".utf8))
        var configuration = CairnHTTPClient.Configuration()
        configuration.connectTimeout = .seconds(120)
        let client = CairnHTTPClient(configuration: configuration)
        let result = try await exchange("https://127.0.0.1:\(server.port)", client: client, timeout: .seconds(120))
        try await client.shutdown()
        #expect(result.errorKind == .tls)
        #expect(server.acceptedConnections == 1)
    }

    @Test("Cancelling the calling task aborts a request awaiting its answer: .cancelled, connection closed")
    func cancellationWhileWaiting() async throws {
        let server = try TestServer { _ in .silence }
        let url = server.url
        let task = Task { try await exchange(url, timeout: .seconds(120)) }
        #expect(await eventually { server.requests.count == 1 })
        task.cancel()
        let result = try await task.value
        #expect(result.errorKind == .cancelled)
        #expect(await eventually { server.connectionsClosedByClient == 1 })
    }

    @Test("Cancelling the calling task aborts a request whose body is streaming in")
    func cancellationWhileReceivingTheBody() async throws {
        let server = try TestServer { _ in .trickle(interval: 0.05, count: 2400) }
        let url = server.url
        let task = Task { try await exchange(url, timeout: .seconds(120)) }
        #expect(await eventually { server.requests.count == 1 })
        try await Task.sleep(for: .milliseconds(200))  // some chunks arrive
        task.cancel()
        let result = try await task.value
        #expect(result.errorKind == .cancelled)
        #expect(await eventually { server.connectionsClosedByClient == 1 })
    }

    @Test("A Content-Length beyond the limit is refused before the body is read")
    func declaredBodyTooLarge() async throws {
        let server = try TestServer { _ in .flood(contentLength: 64 << 20, limit: 64 << 20) }
        let result = try await exchange(server.url, maxResponseBytes: 1 << 20)
        #expect(result.errorKind == .responseTooLarge)
        // The server could not deliver its 64 MiB: the client closed the connection.
        #expect(await eventually { server.connectionsClosedByClient == 1 })
    }

    @Test("A chunked body is stopped as soon as it passes the limit, not buffered whole")
    func streamedBodyTooLarge() async throws {
        let server = try TestServer { _ in .flood(contentLength: nil, limit: 64 << 20) }
        let result = try await exchange(server.url, timeout: .seconds(60), maxResponseBytes: 1 << 20)
        guard case .failure(let error) = result else {
            Issue.record("expected responseTooLarge, got \(result)")
            return
        }
        #expect(error.kind == .responseTooLarge)
        #expect(error.message.contains("\(1 << 20) bytes"))
        #expect(await eventually { server.connectionsClosedByClient == 1 })
    }

    @Test("A body of exactly the limit is accepted")
    func bodyAtTheLimit() async throws {
        let body = [UInt8](repeating: 0x62, count: 4096)
        let server = try TestServer { _ in .respond(status: 200, headers: [], body: body) }
        let result = try await exchange(server.url, maxResponseBytes: 4096)
        #expect(result.response?.body == body)
        let over = try await exchange(server.url, maxResponseBytes: 4095)
        #expect(over.errorKind == .responseTooLarge)
    }

    @Test("Unix sockets: unix:PATH reaches a server on that socket, with the request path and query")
    func unixSocket() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/cairn.sock"
        let server = try TestServer(unixSocket: path) { _ in .respond(status: 200, headers: [], body: Array("u".utf8)) }
        let url = try HTTPURL("unix:" + path).appending(path: "/v1/entries", query: "strict=true")
        #expect(url.description == "unix:\(path):/v1/entries?strict=true")
        let response = try await CairnHTTPClient.shared.send(
            HTTPRequest(method: .post, url: url, body: Array("{}".utf8)), timeout: .seconds(20),
            maxResponseBytes: 16)
        #expect(response.status == 200 && response.body == Array("u".utf8))
        #expect(server.requests.first?.target == "/v1/entries?strict=true")
        #expect(server.requests.first?.body == Array("{}".utf8))

        // No socket at the path: the server is down.
        let missing = try await exchange("unix:" + directory.path + "/absent.sock")
        #expect(missing.errorKind == .cannotConnect)
    }

    @Test("A client of one's own is shut down once; the shared one is never shut down and keeps working")
    func lifetimes() async throws {
        let server = try TestServer()
        let own = CairnHTTPClient()
        #expect(try await exchange(server.url, client: own).response?.status == 200)
        try await own.shutdown()
        try await CairnHTTPClient.shared.shutdown()
        #expect(try await exchange(server.url).response?.status == 200)
    }
}

@Suite("HTTPURL: what the client accepts as a URL")
struct HTTPURLTests {
    @Test("http(s) URLs and Unix sockets, with paths appended")
    func accepted() throws {
        #expect(
            try HTTPURL("http://127.0.0.1:8080").appending(path: "/v1/entries").description
                == "http://127.0.0.1:8080/v1/entries")
        #expect(
            try HTTPURL("HTTPS://w.example/wit/").appending(path: "/add-checkpoint").description
                == "https://w.example/wit/add-checkpoint")
        #expect(try HTTPURL("http://[::1]:9/").appending(path: "/x").description == "http://[::1]:9/x")
        #expect(try HTTPURL("unix:/run/cairn.sock").description == "unix:/run/cairn.sock")
        #expect(try HTTPURL("UNIX:/run/cairn.sock").isUnixSocket)
        #expect(try !HTTPURL("http://h").isUnixSocket)
    }

    @Test("Refused: other schemes, no host, user information, query, fragment, bad socket paths")
    func refused() {
        let long = "unix:/" + String(repeating: "s", count: HTTPURL.maxSocketPathLength)
        for text in [
            "ftp://h", "h:80", "http://", "http://user:pw@h", "http://h/?q=1", "http://h/#f", "unix:relative.sock",
            "unix:", "unix:/a\u{0}b", long, "",
        ] {
            #expect(throws: HTTPError.self, "\(text.debugDescription)") { try HTTPURL(text) }
        }
        #expect(throws: HTTPError(.invalidURL, "a Unix socket path must not contain NUL bytes")) {
            try HTTPURL("unix:/a\u{0}b")
        }
    }
}
