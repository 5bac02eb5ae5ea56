import CairnJSON
import CairnLedger
import CairnNote
import Logging

/// Everything `cairn serve` can be told, from flags and the JSON configuration file
/// (specs/server-config.md). Defaults are safe: loopback only, nothing public.
package struct ServerConfiguration: Sendable {
    /// Where the server listens.
    package enum ListenAddress: Sendable, Hashable, CustomStringConvertible {
        case tcp(host: String, port: Int)
        case unix(path: String)

        /// Parses `HOST:PORT`, `[IPv6]:PORT` or `unix:/path`.
        package init(parsing text: String) throws(ConfigurationError) {
            if text.hasPrefix("unix:") {
                let path = String(text.dropFirst(5))
                guard path.hasPrefix("/") else {
                    throw ConfigurationError(
                        "listen: a Unix socket path must be absolute, got \(text.debugDescription)")
                }
                self = .unix(path: path)
                return
            }
            let host: Substring
            let portText: Substring
            if text.hasPrefix("[") {
                guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                    throw ConfigurationError("listen: expected [IPv6]:PORT, got \(text.debugDescription)")
                }
                host = text[text.index(after: text.startIndex)..<close]
                portText = text[text.index(close, offsetBy: 2)...]
            } else {
                guard let colon = text.lastIndex(of: ":"), !text[..<colon].contains(":") else {
                    throw ConfigurationError("listen: expected HOST:PORT or unix:/path, got \(text.debugDescription)")
                }
                host = text[..<colon]
                portText = text[text.index(after: colon)...]
            }
            guard !host.isEmpty, let port = Int(portText), (0...65535).contains(port), portText.first != "+" else {
                throw ConfigurationError("listen: expected HOST:PORT with a port 0…65535, got \(text.debugDescription)")
            }
            self = .tcp(host: String(host), port: port)
        }

        package var description: String {
            switch self {
            case .tcp(let host, let port): host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
            case .unix(let path): "unix:\(path)"
            }
        }

        /// Whether only this machine can connect.
        package var isLoopback: Bool {
            switch self {
            case .unix: true
            case .tcp(let host, _): host == "localhost" || host == "::1" || host.hasPrefix("127.")
            }
        }
    }

    /// A token bucket per client: `burst` requests at once, refilled at `requestsPerSecond`.
    package struct RateLimit: Sendable, Hashable {
        package var requestsPerSecond: Double
        package var burst: Int

        package init(requestsPerSecond: Double, burst: Int) {
            self.requestsPerSecond = requestsPerSecond
            self.burst = burst
        }
    }

    /// A witness to submit checkpoints to (C2SP tlog-witness).
    package struct Witness: Sendable, Hashable {
        package var name: String
        package var vkey: NoteVerifierKey
        package var url: String

        package init(name: String, vkey: NoteVerifierKey, url: String) {
            self.name = name
            self.vkey = vkey
            self.url = url
        }
    }

    /// How log lines are written.
    package enum LogFormat: String, Sendable, Hashable, CaseIterable {
        /// One JSON object per line (for log shippers).
        case json
        /// `time level message key=value…` (for people).
        case text
    }

    /// The ledger directory (the CLI falls back to `--ledger`, `$CAIRN_LEDGER`, `./cairn-ledger`).
    package var ledger: String?
    package var listen: ListenAddress = .tcp(host: "127.0.0.1", port: 8080)
    /// Serve `/checkpoint`, tiles and proofs without a token.
    package var publicReads = false
    /// Serve `/metrics` without a token.
    package var publicMetrics = false
    /// Peers whose `X-Forwarded-For` is believed (recorded in the access log as `forwarded_for`).
    package var trustedProxies: [String] = []
    /// The largest request body, except blobs.
    package var maxBodyBytes = 8 << 20
    /// The largest blob upload.
    package var maxBlobBytes = 32 << 20
    /// A request that takes longer is answered 503 `timeout`.
    package var requestTimeout: Duration = .seconds(30)
    /// A connection idle this long is closed.
    package var idleTimeout: Duration = .seconds(15)
    /// Per-token (per-address when anonymous) rate limit; nil: none.
    package var rateLimit: RateLimit? = RateLimit(requestsPerSecond: 50, burst: 100)
    /// The largest `limit` of a query, and its default.
    package var maxQueryResults = 10_000
    package var defaultQueryResults = 1_000
    /// `Retry-After` seconds when the ingest queue is full.
    package var busyRetryAfterSeconds = 1
    /// Expensive reads (queries, access-log searches) running at once; more wait their turn, so
    /// that a burst of them never starves appends of CPU.
    package var maxConcurrentExpensiveReads = 1
    /// Lines (records) one `POST /v1/entries` may hold, counted as the body streams in.
    package var maxRecordsPerRequest = 10_000
    /// Connections open at once; nil: derived at start from the descriptor limit (which
    /// `cairn serve` raises to its hard maximum), leaving room for the ledger's own files. Beyond
    /// it new connections wait in the kernel's backlog instead of exhausting descriptors.
    package var maxConnections: Int?
    /// Checkpoint payloads (`prompt`, `raw_output`, `turns`) over this many bytes are moved to
    /// blobs before the record is appended, as `cairn append --extract-over` does; 0: never.
    package var extractOverBytes = 16_384
    /// The main ledger's group-commit engine.
    package var ingest = IngestEngine.Configuration()
    /// The access log's engine.
    package var accessLogIngest = IngestEngine.Configuration()
    package var logLevel: Logger.Level = .info
    package var logFormat: LogFormat = .json
    /// Witnesses to collect cosignatures from; empty: none.
    package var witnesses: [Witness] = []
    /// Where to publish the log's tiles continuously; nil: nowhere.
    package var publishTiles: TilePublishing?

    package init() {}

    /// Sets `logLevel` from its name (`info`, `debug`…).
    package mutating func setLogLevel(_ name: String) throws(ConfigurationError) {
        guard let level = Logger.Level(rawValue: name) else {
            throw ConfigurationError(
                "expected one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")), got \(name.debugDescription)"
            )
        }
        logLevel = level
    }

    /// A timeout in seconds: more than zero and at most a day (larger values would overflow the
    /// nanosecond arithmetic of timers, and are no timeout anyway).
    package static func timeout(_ seconds: Double, _ name: String) throws(ConfigurationError) -> Duration {
        guard seconds.isFinite, seconds > 0, seconds <= 86_400 else {
            throw ConfigurationError("\(name): expected seconds in (0, 86400], got \(seconds)")
        }
        return .milliseconds(Int64((seconds * 1000).rounded(.up)))
    }

    /// Checks values that cannot be right.
    package func validate() throws(ConfigurationError) {
        guard maxBodyBytes > 0, maxBlobBytes > 0 else {
            throw ConfigurationError("limits: max_body_bytes and max_blob_bytes must be positive")
        }
        guard requestTimeout > .zero, idleTimeout > .zero else {
            throw ConfigurationError("limits: timeouts must be positive")
        }
        if let rateLimit {
            // Bounded so that a refill time (burst / rate) is a sane number of seconds.
            guard rateLimit.requestsPerSecond >= 0.001, rateLimit.requestsPerSecond <= 1_000_000,
                (1...1_000_000).contains(rateLimit.burst)
            else {
                throw ConfigurationError(
                    "limits.rate_limit: requests_per_second must be in [0.001, 1000000] and burst in [1, 1000000]")
            }
        }
        guard maxQueryResults >= 1, (1...maxQueryResults).contains(defaultQueryResults) else {
            throw ConfigurationError("limits: max_query_results must be >= 1 and default_query_results within it")
        }
        guard ingest.maxQueuedRecords >= 1, ingest.maxQueuedBytes >= 1, ingest.maxBatchRecords >= 1 else {
            throw ConfigurationError("ingest: queue and batch limits must be positive")
        }
        guard maxRecordsPerRequest >= 1 else {
            throw ConfigurationError("limits.max_records_per_request: must be at least 1")
        }
        guard (1...256).contains(maxConcurrentExpensiveReads) else {
            throw ConfigurationError("limits.max_concurrent_queries: must be 1 to 256")
        }
        if let maxConnections, maxConnections < 1 || maxConnections > 1_000_000 {
            throw ConfigurationError("limits.max_connections: must be 1 to 1000000")
        }
        guard extractOverBytes >= 0 else {
            throw ConfigurationError("ingest.extract_over_bytes: must be 0 (never) or a number of bytes")
        }
        var names = Set<String>()
        for witness in witnesses {
            guard names.insert(witness.name).inserted else {
                throw ConfigurationError("witnesses: the name \(witness.name.debugDescription) appears twice")
            }
            guard witness.url.hasPrefix("http://") || witness.url.hasPrefix("https://") else {
                throw ConfigurationError("witnesses.\(witness.name).url: expected an http(s) URL, got \(witness.url)")
            }
        }
    }
}

/// A configuration file or flag that cannot be used, with what is wrong and where.
package struct ConfigurationError: Error, Sendable, Hashable, CustomStringConvertible {
    package let message: String
    package init(_ message: String) { self.message = message }
    package var description: String { message }
}

// MARK: - The JSON configuration file

extension ServerConfiguration {
    /// Applies a JSON configuration file (specs/server-config.md) on top of `self`. Unknown keys
    /// are errors: a misspelt limit must not silently fall back to its default.
    package mutating func apply(configurationFile bytes: [UInt8]) throws(ConfigurationError) {
        let root: JSONValue
        do {
            root = try JSONParser.parse(bytes)
        } catch {
            throw ConfigurationError("not valid JSON: \(error)")
        }
        var file = try ConfigObject(root, path: "")
        if let value = try file.string("ledger") { ledger = value }
        if let value = try file.string("listen") { listen = try ListenAddress(parsing: value) }
        if let value = try file.bool("public_reads") { publicReads = value }
        if let value = try file.bool("public_metrics") { publicMetrics = value }
        if let values = try file.array("trusted_proxies") {
            trustedProxies = try values.enumerated().map { (i, v) throws(ConfigurationError) in
                guard let text = v.stringValue, !text.isEmpty else {
                    throw ConfigurationError("trusted_proxies[\(i)]: expected an IP address string")
                }
                return text
            }
        }
        if var limits = try file.object("limits") {
            if let value = try limits.integer("max_body_bytes") { maxBodyBytes = value }
            if let value = try limits.integer("max_blob_bytes") { maxBlobBytes = value }
            if let value = try limits.number("request_timeout_seconds") {
                requestTimeout = try Self.timeout(value, "limits.request_timeout_seconds")
            }
            if let value = try limits.number("idle_timeout_seconds") {
                idleTimeout = try Self.timeout(value, "limits.idle_timeout_seconds")
            }
            if let value = try limits.integer("max_query_results") { maxQueryResults = value }
            if let value = try limits.integer("default_query_results") { defaultQueryResults = value }
            if let value = try limits.integer("busy_retry_after_seconds") { busyRetryAfterSeconds = value }
            if let value = try limits.integer("max_records_per_request") { maxRecordsPerRequest = value }
            if let value = try limits.integer("max_concurrent_queries") { maxConcurrentExpensiveReads = value }
            if let value = try limits.integer("max_connections") { maxConnections = value }
            if limits.has("rate_limit") {
                if limits.isNull("rate_limit") {
                    rateLimit = nil
                    limits.consume("rate_limit")
                } else if var rate = try limits.object("rate_limit") {
                    let rps = try rate.number("requests_per_second") ?? rateLimit?.requestsPerSecond ?? 50
                    let burst = try rate.integer("burst") ?? rateLimit?.burst ?? 100
                    rateLimit = RateLimit(requestsPerSecond: rps, burst: burst)
                    try rate.finish()
                }
            }
            try limits.finish()
        }
        if var engine = try file.object("ingest") {
            if let value = try engine.integer("max_batch_records") { ingest.maxBatchRecords = value }
            if let value = try engine.integer("max_batch_bytes") { ingest.maxBatchBytes = value }
            if let value = try engine.number("max_batch_delay_ms") {
                ingest.maxBatchDelay = .microseconds(value * 1000)
            }
            if let value = try engine.integer("max_queued_records") { ingest.maxQueuedRecords = value }
            if let value = try engine.integer("max_queued_bytes") { ingest.maxQueuedBytes = value }
            if let value = try engine.integer("extract_over_bytes") { extractOverBytes = value }
            try engine.finish()
        }
        if var log = try file.object("log") {
            if let value = try log.string("level") {
                do {
                    try setLogLevel(value)
                } catch {
                    throw ConfigurationError("log.level: " + error.message)
                }
            }
            if let value = try log.string("format") {
                guard let format = LogFormat(rawValue: value) else {
                    throw ConfigurationError("log.format: expected json or text, got \(value)")
                }
                logFormat = format
            }
            try log.finish()
        }
        if let values = try file.array("witnesses") {
            witnesses = try values.enumerated().map { (i, value) throws(ConfigurationError) in
                var object = try ConfigObject(value, path: "witnesses[\(i)]")
                guard let name = try object.string("name"), let vkeyText = try object.string("vkey"),
                    let url = try object.string("url")
                else {
                    throw ConfigurationError("witnesses[\(i)]: name, vkey and url are required")
                }
                let vkey: NoteVerifierKey
                do {
                    vkey = try NoteVerifierKey(parsing: vkeyText)
                } catch {
                    throw ConfigurationError("witnesses[\(i)].vkey: \(error)")
                }
                try object.finish()
                return Witness(name: name, vkey: vkey, url: url)
            }
        }
        if var publish = try file.object("publish_tiles") {
            guard let destination = try publish.string("to") else {
                throw ConfigurationError("publish_tiles.to: required (s3://BUCKET/PREFIX)")
            }
            var publishing = TilePublishing(destination: destination)
            publishing.endpoint = try publish.string("endpoint")
            publishing.region = try publish.string("region")
            if let value = try publish.number("interval_seconds") {
                publishing.interval = try Self.timeout(value, "publish_tiles.interval_seconds")
            }
            if let value = try publish.number("max_backoff_seconds") {
                publishing.maxBackoff = try Self.timeout(value, "publish_tiles.max_backoff_seconds")
            }
            try publish.finish()
            publishTiles = publishing
        }
        try file.finish()
    }
}

/// A JSON object being read: typed accessors that remember which keys were used, so that
/// `finish()` can refuse the unknown ones.
private struct ConfigObject {
    let object: JSONObject
    let path: String
    var used = Set<String>()

    init(_ value: JSONValue, path: String) throws(ConfigurationError) {
        guard case .object(let object) = value else {
            throw ConfigurationError("\(path.isEmpty ? "the configuration" : path): expected a JSON object")
        }
        self.object = object
        self.path = path
    }

    func name(_ key: String) -> String { path.isEmpty ? key : path + "." + key }

    func has(_ key: String) -> Bool { object[key] != nil }
    func isNull(_ key: String) -> Bool { object[key]?.isNull ?? false }
    mutating func consume(_ key: String) { used.insert(key) }

    mutating func value(_ key: String) -> JSONValue? {
        used.insert(key)
        return object[key]
    }

    mutating func string(_ key: String) throws(ConfigurationError) -> String? {
        guard let value = value(key) else { return nil }
        guard let text = value.stringValue else { throw ConfigurationError("\(name(key)): expected a string") }
        return text
    }

    mutating func bool(_ key: String) throws(ConfigurationError) -> Bool? {
        guard let value = value(key) else { return nil }
        guard let flag = value.boolValue else { throw ConfigurationError("\(name(key)): expected true or false") }
        return flag
    }

    mutating func number(_ key: String) throws(ConfigurationError) -> Double? {
        guard let value = value(key) else { return nil }
        guard let number = value.numberValue, number.isFinite, number >= 0 else {
            throw ConfigurationError("\(name(key)): expected a non-negative number")
        }
        return number
    }

    mutating func integer(_ key: String) throws(ConfigurationError) -> Int? {
        guard let number = try number(key) else { return nil }
        guard number == number.rounded(), number <= 9_007_199_254_740_991 else {
            throw ConfigurationError("\(name(key)): expected a whole number")
        }
        return Int(number)
    }

    mutating func array(_ key: String) throws(ConfigurationError) -> [JSONValue]? {
        guard let value = value(key) else { return nil }
        guard let items = value.arrayValue else { throw ConfigurationError("\(name(key)): expected an array") }
        return items
    }

    mutating func object(_ key: String) throws(ConfigurationError) -> ConfigObject? {
        guard let value = value(key) else { return nil }
        return try ConfigObject(value, path: name(key))
    }

    func finish() throws(ConfigurationError) {
        let unknown = object.keys.filter { !used.contains($0) }
        guard unknown.isEmpty else {
            throw ConfigurationError(
                "unknown setting\(unknown.count == 1 ? "" : "s") "
                    + unknown.map { name($0).debugDescription }.joined(separator: ", ")
                    + " (see specs/server-config.md)")
        }
    }
}
