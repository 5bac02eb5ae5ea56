import CairnTestSupport
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A small HTTP/1.1 server for the client's tests, on 127.0.0.1 or a Unix socket: one thread per
/// connection, one request per connection, and answers that misbehave on purpose (never answer,
/// trickle, stream without end). Every loop is bounded, and `stop()` ends every connection.
final class TestServer: @unchecked Sendable {
    struct Request: Sendable {
        let method: String
        let target: String
        /// Header names lowercased.
        let headers: [String: String]
        let body: [UInt8]
    }

    enum Answer: Sendable {
        /// A complete response with `Content-Length`.
        case respond(status: Int, headers: [(String, String)], body: [UInt8])
        /// Reads the request and never answers; the connection stays open until the client closes it.
        case silence
        /// A 200 head (chunked), then one 1-byte chunk every `interval` seconds, at most `count` of them.
        case trickle(interval: Double, count: Int)
        /// A 200 head (chunked, or with `Content-Length: length` when given), then 64 KiB chunks as
        /// fast as the client takes them, up to `limit` bytes or until it closes the connection.
        case flood(contentLength: Int?, limit: Int)
    }

    typealias Handler = @Sendable (Request) -> Answer

    /// `http://127.0.0.1:PORT` or `unix:PATH`.
    let url: String
    /// The TCP port, or 0 for a Unix socket.
    let port: UInt16

    private let listener: Int32
    private let lock = NSLock()
    private let handler: Handler
    private let greeting: [UInt8]?
    private var log: [Request] = []
    private var connections: Set<Int32> = []
    private var closedByPeer = 0
    private var accepted = 0
    private var stopped = false

    /// Listens on a free loopback port, or on the Unix socket `unixSocket`. With `backlog: 0`
    /// and `accepting: false` the server never accepts: once one connection fills the queue
    /// (`fillBacklog()`), further connection attempts hang, as with a host that drops packets.
    ///
    /// `greeting`, if given, is written as soon as a connection is accepted, before reading (a
    /// server that does not speak what the client expects, such as plain HTTP to a TLS client).
    init(
        unixSocket: String? = nil, backlog: Int32 = 64, accepting: Bool = true, greeting: [UInt8]? = nil,
        handler: @escaping Handler = { _ in .respond(status: 200, headers: [], body: []) }
    ) throws {
        self.handler = handler
        self.greeting = greeting
        if let unixSocket {
            let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { throw TestFailure("socket: errno \(errno)") }
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            let bytes = Array(unixSocket.utf8)
            guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
                close(fd)
                throw TestFailure("socket path too long")
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
                throw TestFailure("cannot bind \(unixSocket): errno \(errno)")
            }
            listener = fd
            url = "unix:" + unixSocket
            port = 0
        } else {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { throw TestFailure("socket: errno \(errno)") }
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
            listener = fd
            port = UInt16(bigEndian: actual.sin_port)
            url = "http://127.0.0.1:\(port)"
        }
        guard listen(listener, backlog) == 0 else {
            close(listener)
            throw TestFailure("listen: errno \(errno)")
        }
        if accepting { Thread.detachNewThread { [self] in acceptLoop() } }
    }

    deinit { stop() }

    /// The requests received so far, in arrival order.
    var requests: [Request] { lock.withLock { log } }

    /// Connections accepted so far.
    var acceptedConnections: Int { lock.withLock { accepted } }

    /// Connections whose client closed them while the server was still reading or writing.
    var connectionsClosedByClient: Int { lock.withLock { closedByPeer } }

    /// Ends the listener and every open connection.
    func stop() {
        let open: Set<Int32>? = lock.withLock {
            guard !stopped else { return nil }
            stopped = true
            return connections
        }
        guard let open else { return }
        for fd in open { shutdown(fd, Int32(SHUT_RDWR)) }
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    /// Opens one connection that is never accepted, filling a `backlog: 0` queue. Returns its
    /// descriptor, to be closed by the caller.
    func fillBacklog() throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            close(fd)
            throw TestFailure("cannot fill the backlog: errno \(errno)")
        }
        return fd
    }

    private func acceptLoop() {
        while true {
            let connection = accept(listener, nil, nil)
            if connection < 0 {
                if lock.withLock({ stopped }) { return }
                continue
            }
            let admitted = lock.withLock {
                guard !stopped else { return false }
                accepted += 1
                connections.insert(connection)
                return true
            }
            guard admitted else {
                close(connection)
                return
            }
            Thread.detachNewThread { [self] in
                serve(connection)
                lock.withLock { _ = connections.remove(connection) }
                close(connection)
            }
        }
    }

    private func serve(_ fd: Int32) {
        if let greeting {
            _ = write(fd, greeting)
            return
        }
        guard let request = readRequest(fd) else { return }
        let answer = lock.withLock {
            log.append(request)
            return handler
        }(request)
        switch answer {
        case .respond(let status, let headers, let body):
            var head = "HTTP/1.1 \(status) Status\r\nContent-Length: \(body.count)\r\nConnection: close\r\n"
            for (name, value) in headers { head += "\(name): \(value)\r\n" }
            _ = write(fd, Array((head + "\r\n").utf8) + body)
        case .silence:
            // Wait for the client to go away (or for stop()).
            var byte: UInt8 = 0
            while read(fd, &byte, 1) > 0 {}
            noteClosedByPeer()
        case .trickle(let interval, let count):
            guard write(fd, Array("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".utf8)) else { return }
            for _ in 0..<count {
                Thread.sleep(forTimeInterval: interval)
                guard write(fd, Array("1\r\nx\r\n".utf8)) else { return noteClosedByPeer() }
            }
            _ = write(fd, Array("0\r\n\r\n".utf8))
        case .flood(let contentLength, let limit):
            let framing = contentLength.map { "Content-Length: \($0)" } ?? "Transfer-Encoding: chunked"
            guard write(fd, Array("HTTP/1.1 200 OK\r\n\(framing)\r\n\r\n".utf8)) else { return }
            let payload = [UInt8](repeating: 0x61, count: 65536)
            let chunk = contentLength == nil ? Array("10000\r\n".utf8) + payload + Array("\r\n".utf8) : payload
            var sent = 0
            while sent < limit {
                guard write(fd, chunk) else { return noteClosedByPeer() }
                sent += payload.count
            }
        }
    }

    private func noteClosedByPeer() {
        lock.withLock { if !stopped { closedByPeer += 1 } }
    }

    private func readRequest(_ fd: Int32) -> Request? {
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        let separator = Array("\r\n\r\n".utf8)
        var headEnd: Int?
        while headEnd == nil {
            if let range = buffer.firstRange(of: separator) {
                headEnd = range.upperBound
                break
            }
            let n = read(fd, &chunk, chunk.count)
            guard n > 0 else { return nil }
            buffer += chunk[0..<n]
        }
        guard let headEnd else { return nil }
        var lines = String(decoding: buffer[0..<headEnd], as: UTF8.self).components(separatedBy: "\r\n")
        let requestLine = lines.removeFirst().split(separator: " ")
        guard requestLine.count >= 2 else { return nil }
        var headers: [String: String] = [:]
        for line in lines where !line.isEmpty {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(
                in: .whitespaces)
        }
        let length = Int(headers["content-length"] ?? "0") ?? 0
        while buffer.count - headEnd < length {
            let n = read(fd, &chunk, chunk.count)
            guard n > 0 else { return nil }
            buffer += chunk[0..<n]
        }
        return Request(
            method: String(requestLine[0]), target: String(requestLine[1]), headers: headers,
            body: Array(buffer[headEnd..<(headEnd + length)]))
    }

    /// Writes all of `bytes`; false when the client closed the connection. `MSG_NOSIGNAL`: a
    /// closed connection must not raise SIGPIPE in the test process.
    private func write(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { raw -> Int in
                guard let base = raw.baseAddress else { return 0 }
                #if canImport(Glibc)
                return send(fd, base, raw.count, Int32(MSG_NOSIGNAL))
                #else
                return send(fd, base, raw.count, 0)
                #endif
            }
            if n <= 0 { return false }
            offset += n
        }
        return true
    }
}

/// A loopback port that is bound but not listening: connections to it are refused (a server that
/// is down), and no other socket can take it while `fd` is open. Close `fd` when done.
func refusingPort() throws -> (fd: Int32, port: UInt16) {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
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
    return (fd, UInt16(bigEndian: actual.sin_port))
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Polls `condition` every 10 ms, at most `polls` times (30 s when the process is not starved);
/// returns whether it held. The budget is counted in polls, not read from the clock, so that a
/// cooperative pool kept busy by other tests does not use it up before the awaited task even ran.
func eventually(polls: Int = 3000, _ condition: () -> Bool) async -> Bool {
    for _ in 0..<polls {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return condition()
}

/// A fresh temporary directory (short, for Unix socket paths), removed when the value is dropped.
final class TemporaryDirectory: @unchecked Sendable {
    let path: String

    init() throws {
        path = "/tmp/cairn-http-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}
