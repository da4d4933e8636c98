import Foundation
import StrataIO

/// Qdrant's strict-mode rate limits (`read_rate_limit`, `write_rate_limit`:
/// operations per minute): a token bucket per collection and kind that holds
/// at most the per-minute limit, starts full, and refills continuously at
/// limit / 60 tokens per second. A read costs 1 plus the conditions of its
/// filter (per search of a batch); a write costs the points it names (at
/// least 1). Over budget: 429 `Rate limiting exceeded: …` with `Retry-After`.
final class RateLimits: Sendable {
    enum Kind: String, Sendable {
        case read = "Read"
        case write = "Write"
    }

    struct Bucket {
        let capacity: Double
        var tokens: Double
        var last: Double

        init(perMinute: Int, now: Double) {
            capacity = Double(perMinute)
            tokens = capacity
            last = now
        }

        /// Takes `cost` tokens, or says how long until they are there
        /// (nil when the cost is more than the bucket ever holds).
        mutating func take(_ cost: Double, now: Double) -> Result<Void, RateLimitRefusal> {
            guard cost <= capacity else { return .failure(.alwaysOverBudget) }
            tokens = min(capacity, tokens + (now - last) * capacity / 60)
            last = now
            guard tokens >= cost else {
                return .failure(.retry(available: tokens, after: (cost - tokens) / (capacity / 60)))
            }
            tokens -= cost
            return .success(())
        }
    }

    enum RateLimitRefusal: Error {
        case alwaysOverBudget
        case retry(available: Double, after: Double)
    }

    /// Keyed by the collection object (a reopened collection, e.g. after a
    /// PATCH of its strict mode, starts full, as Qdrant recreates its
    /// limiters on a config change), the kind and the limit.
    private struct Key: Hashable {
        let collection: ObjectIdentifier
        let kind: String
        let limit: Int
    }

    private let buckets = Locked<[Key: Bucket]>([:])
    private let clock: @Sendable () -> Double

    init(clock: @escaping @Sendable () -> Double = { Date().timeIntervalSinceReferenceDate }) { self.clock = clock }

    /// Takes `cost` from `collection`'s `kind` bucket of `perMinute`, or
    /// throws Qdrant's 429.
    func consume(_ cost: Int, _ kind: Kind, perMinute: Int, collection: AnyObject) throws(APIError) {
        let key = Key(collection: ObjectIdentifier(collection), kind: kind.rawValue, limit: perMinute)
        let now = clock()
        let outcome = buckets.withLock { buckets -> Result<Void, RateLimitRefusal> in
            if buckets.count > 4096 { buckets.removeAll() }  // collections come and go; a fresh bucket is full
            var bucket = buckets[key] ?? Bucket(perMinute: perMinute, now: now)
            let result = bucket.take(Double(max(cost, 1)), now: now)
            buckets[key] = bucket
            return result
        }
        switch outcome {
        case .success: return
        case .failure(.alwaysOverBudget):
            throw APIError(
                .tooManyRequests,
                "Rate limiting exceeded: \(kind.rawValue) rate limit exceeded, request larger than rate limiter capacity, please try to split your request"
            )
        case .failure(.retry(let available, let after)):
            let seconds = Int(after.rounded(.up))
            var error = APIError(
                .tooManyRequests,
                "Rate limiting exceeded: \(kind.rawValue) rate limit exceeded: Operation requires \(max(cost, 1)) tokens but only \(String(format: "%.1f", available)) were available. Retry after \(seconds)s"
            )
            error.retryAfterSeconds = seconds
            throw error
        }
    }
}
