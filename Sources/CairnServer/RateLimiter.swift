import Hummingbird
import Synchronization

/// Token buckets, one per client key: each holds at most `burst` tokens, refills at
/// `requestsPerSecond`, and a request takes one. Thread-safe.
final class RateLimiter: Sendable {
    struct Bucket {
        var tokens: Double
        var updated: ContinuousClock.Instant
    }

    let limit: ServerConfiguration.RateLimit
    /// Buckets kept at most; when full, buckets that have refilled completely (which behave
    /// exactly like new ones) are dropped, then anonymous ones, then the least recently used half.
    let maxBuckets: Int
    private let buckets = Mutex<[String: Bucket]>([:])

    init(limit: ServerConfiguration.RateLimit, maxBuckets: Int = 100_000) {
        self.limit = limit
        self.maxBuckets = maxBuckets
    }

    /// Takes a token for `key`; returns nil when allowed, else the seconds to wait.
    func acquire(_ key: String, now: ContinuousClock.Instant = .now) -> Int? {
        buckets.withLock { buckets in
            var bucket = buckets[key] ?? Bucket(tokens: Double(limit.burst), updated: now)
            let elapsed = now - bucket.updated
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
            bucket.tokens = min(Double(limit.burst), bucket.tokens + max(0, seconds) * limit.requestsPerSecond)
            bucket.updated = now
            if bucket.tokens >= 1 {
                bucket.tokens -= 1
                if buckets[key] == nil && buckets.count >= maxBuckets { prune(&buckets, now: now) }
                buckets[key] = bucket
                return nil
            }
            buckets[key] = bucket
            return max(1, Int(((1 - bucket.tokens) / limit.requestsPerSecond).rounded(.up)))
        }
    }

    private func prune(_ buckets: inout [String: Bucket], now: ContinuousClock.Instant) {
        let refill = Duration.seconds(Double(limit.burst) / limit.requestsPerSecond)
        buckets = buckets.filter { now - $0.value.updated < refill }
        // Still full (a flood of client addresses): anonymous buckets go first, then the least
        // recently used half; a token's spent bucket survives a flood of addresses.
        if buckets.count >= maxBuckets { buckets = buckets.filter { $0.key.hasPrefix("token:") } }
        if buckets.count >= maxBuckets {
            let recent = buckets.sorted { $0.value.updated > $1.value.updated }.prefix(maxBuckets / 2)
            buckets = Dictionary(uniqueKeysWithValues: recent.map { ($0.key, $0.value) })
        }
    }
}

/// Applies the rate limit per token (per client address for anonymous requests — behind a
/// trusted proxy, the address the proxy appended to `X-Forwarded-For`): 429 with `Retry-After`
/// once a client's bucket is empty.
struct RateLimitMiddleware: RouterMiddleware {
    typealias Context = CairnRequestContext

    let limiter: RateLimiter
    let trustedProxies: Set<String>

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let key = context.token.map { "token:" + $0.id } ?? "peer:" + clientAddress(request, context)
        if let wait = limiter.acquire(key) {
            throw APIError(
                .rateLimited,
                "rate limit of \(limiter.limit.requestsPerSecond) requests/s (burst \(limiter.limit.burst)) exceeded",
                retryAfter: wait)
        }
        return try await next(request, context)
    }

    func clientAddress(_ request: Request, _ context: Context) -> String {
        let peer = context.peerAddress ?? "local"
        guard trustedProxies.contains(peer), let forwarded = request.headers[.xForwardedFor],
            let last = forwarded.split(separator: ",").last?.trimmingSpaces, !last.isEmpty
        else { return peer }
        return String(last)
    }
}
