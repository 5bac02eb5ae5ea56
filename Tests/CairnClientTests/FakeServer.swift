import CairnLedger
import CairnTestSupport
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A tiny HTTP/1.1 server on 127.0.0.1 (or a Unix socket) for tests: one thread per connection,
/// one request per connection (`Connection: close`), answers from a handler the test can swap at
/// any time.
final class FakeServer: @unchecked Sendable {
    struct Request: Sendable {
        let method: String
        let target: String
        /// Header names lowercased.
        let headers: [String: String]
        let body: [UInt8]

        /// The records of an append request: the body for `application/json`, else its non-empty lines.
        var records: [[UInt8]] {
            if headers["content-type"] == "application/json" { return [body] }
            return body.split(separator: 0x0a).map(Array.init).filter { !$0.isEmpty }
        }
    }

    struct Response: Sendable {
        var status: Int
        var headers: [(String, String)] = []
        var body: [UInt8] = []
        /// Seconds to wait before answering.
        var delay: Double = 0

        static func json(_ status: Int, _ text: String, headers: [(String, String)] = []) -> Response {
            Response(status: status, headers: [("Content-Type", "application/json")] + headers, body: Array(text.utf8))
        }
    }

    typealias Handler = @Sendable (Request) -> Response

    let port: UInt16
    /// The Unix socket the server listens on instead of a port.
    let socketPath: String?
    var url: String { socketPath.map { "unix:" + $0 } ?? "http://127.0.0.1:\(port)" }

    private let listener: Int32
    private let lock = NSLock()
    private var handler: Handler
    private var log: [Request] = []
    private var stopped = false

    /// Binds a free loopback port and, if `listening`, serves it. A server created with
    /// `listening: false` holds its port without listening, so connections to it are refused
    /// (a server that is down) until `startListening()`; no other socket can take the port
    /// meanwhile.
    init(listening: Bool = true, handler: @escaping Handler = { _ in Response(status: 500) }) throws {
        self.handler = handler
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("socket: \(errno)") }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0 else {
            close(fd)
            throw TestFailure("cannot bind a port: errno \(errno)")
        }
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        self.port = UInt16(bigEndian: actual.sin_port)
        self.listener = fd
        self.socketPath = nil
        if listening { startListening() }
    }

    /// Serves the Unix socket `path` (as `cairn serve --listen unix:PATH` does).
    init(unixSocket path: String, handler: @escaping Handler) throws {
        self.handler = handler
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("socket: \(errno)") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            close(fd)
            throw TestFailure("socket path too long: \(path)")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, byte) in bytes.enumerated() { raw[i] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard bound == 0 else {
            close(fd)
            throw TestFailure("cannot bind \(path): errno \(errno)")
        }
        self.port = 0
        self.listener = fd
        self.socketPath = path
        startListening()
    }

    deinit { stop() }

    /// Starts answering on the port (the server comes up).
    func startListening() {
        precondition(listen(listener, 64) == 0, "listen: errno \(errno)")
        Thread.detachNewThread { [self] in acceptLoop() }
    }

    func setHandler(_ handler: @escaping Handler) {
        lock.withLock { self.handler = handler }
    }

    /// The requests received so far, in arrival order.
    var requests: [Request] { lock.withLock { log } }

    func stop() {
        let wasStopped = lock.withLock {
            defer { stopped = true }
            return stopped
        }
        guard !wasStopped else { return }
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    private func acceptLoop() {
        while true {
            let connection = accept(listener, nil, nil)
            if connection < 0 {
                if lock.withLock({ stopped }) { return }
                continue
            }
            Thread.detachNewThread { [self] in serve(connection) }
        }
    }

    private func serve(_ fd: Int32) {
        defer { close(fd) }
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        func fill() -> Bool {
            let n = read(fd, &chunk, chunk.count)
            guard n > 0 else { return false }
            buffer += chunk[0..<n]
            return true
        }
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        var headEnd: Int?
        while headEnd == nil {
            if let range = buffer.firstRange(of: separator) {
                headEnd = range.upperBound
            } else if !fill() {
                return
            }
        }
        let head = String(decoding: buffer[0..<headEnd!], as: UTF8.self)
        var lines = head.components(separatedBy: "\r\n")
        let requestLine = lines.removeFirst().split(separator: " ")
        guard requestLine.count >= 2 else { return }
        var headers: [String: String] = [:]
        for line in lines where !line.isEmpty {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(
                in: .whitespaces)
        }
        if headers["expect"]?.lowercased() == "100-continue" { send(fd, Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)) }
        let length = Int(headers["content-length"] ?? "0") ?? 0
        while buffer.count - headEnd! < length { if !fill() { return } }
        let request = Request(
            method: String(requestLine[0]), target: String(requestLine[1]), headers: headers,
            body: Array(buffer[headEnd!..<(headEnd! + length)]))
        let handler = lock.withLock {
            log.append(request)
            return self.handler
        }
        let response = handler(request)
        if response.delay > 0 { Thread.sleep(forTimeInterval: response.delay) }
        var text =
            "HTTP/1.1 \(response.status) Status\r\nContent-Length: \(response.body.count)\r\nConnection: close\r\n"
        for (name, value) in response.headers { text += "\(name): \(value)\r\n" }
        send(fd, Array((text + "\r\n").utf8) + response.body)
    }

    /// Writes all of `bytes`, stopping if the client went away (`MSG_NOSIGNAL`: a closed
    /// connection must not raise SIGPIPE in the test process).
    private func send(_ fd: Int32, _ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { raw -> Int in
                guard let base = raw.baseAddress else { return 0 }
                #if canImport(Glibc)
                return Glibc.send(fd, base, raw.count, Int32(MSG_NOSIGNAL))
                #else
                return Darwin.send(fd, base, raw.count, 0)
                #endif
            }
            if n <= 0 { return }
            offset += n
        }
    }
}

/// The append side of a Cairn server, in memory: content-addressed, all or nothing per request,
/// with an optional token. A record holding `"invalid":true` fails the "schema" (422 with the
/// line of the record), as the real server reports schema problems.
final class FakeLedger: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [[UInt8]] = []
    private var indexes: [String: Int] = [:]
    let token: String?
    /// Requests with a body larger than this get 413 (without problems, like the server's body limit).
    let maxBody: Int

    init(token: String? = nil, maxBody: Int = 8 << 20) {
        self.token = token
        self.maxBody = maxBody
    }

    /// The entries, in log order.
    var log: [[UInt8]] { lock.withLock { entries } }

    /// Appends `records` directly (as if an earlier request had done so).
    func preload(_ records: [[UInt8]]) {
        lock.withLock {
            for record in records { _ = append(record) }
        }
    }

    private func append(_ record: [UInt8]) -> (Int, String, Bool) {
        let digest = PreparedEntry(canonicalBytes: record).digest.description
        if let existing = indexes[digest] { return (existing, digest, true) }
        entries.append(record)
        indexes[digest] = entries.count - 1
        return (entries.count - 1, digest, false)
    }

    func handle(_ request: FakeServer.Request) -> FakeServer.Response {
        if let token, request.headers["authorization"] != "Bearer \(token)" {
            return .json(
                401, #"{"error":"unauthorized","message":"missing, unknown or revoked token"}"#,
                headers: [("WWW-Authenticate", "Bearer")])
        }
        guard request.method == "POST", request.target.hasPrefix("/v1/entries") else {
            return .json(404, #"{"error":"not_found","message":"no such route"}"#)
        }
        if request.body.count > maxBody {
            return .json(413, #"{"error":"too_large","message":"the body exceeds the limit"}"#)
        }
        let records = request.records
        var problems: [String] = []
        for (offset, record) in records.enumerated()
        where String(decoding: record, as: UTF8.self).contains(#""invalid":true"#) {
            problems.append(
                #"{"line":\#(offset + 1),"path":"$.invalid","code":"invalidValue","message":"invalid records are refused"}"#
            )
        }
        if !problems.isEmpty {
            return .json(
                422,
                #"{"error":"invalid_record","message":"\#(problems.count) of \#(records.count) records does not match the record schema; nothing was appended","problems":[\#(problems.joined(separator: ","))]}"#
            )
        }
        let results = lock.withLock { records.map { append($0) } }
        let body = results.map { #"{"index":\#($0.0),"digest":"\#($0.1)","duplicate":\#($0.2)}"# }
        return .json(200, "[" + body.joined(separator: ",") + "]")
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
