import StrataModel
import StrataPayload
import Foundation

/// Expiring points (issue 20): a collection's `ttl_config`.
///
/// A point expires at the time its payload holds at `key` (an RFC 3339
/// datetime string, or a number of seconds since the Unix epoch). With
/// `defaultSeconds`, a write that leaves a point without `key` (an upsert, a
/// payload overwrite or clear, a removal of the key) sets it to the write's
/// time plus that many seconds, in the payload that is logged: the expiry is
/// visible, can be changed like any payload value, and replicas, snapshots and
/// replay agree on it.
///
/// From the moment a point expires no read returns it (reads judge expiry
/// against the clock when they start); a background task deletes expired
/// points through the WAL (`Collection.deleteExpiredPoints`).
public struct TTLConfig: Sendable, Equatable, Codable {
    /// The payload key expiry is read from unless another is given: `expires_at`.
    public static let defaultKey = "expires_at"

    /// The payload key holding each point's expiry.
    public var key: String
    /// Seconds from a write to the expiry of a point it leaves without `key`
    /// (nil: such points never expire).
    public var defaultSeconds: Int?

    /// Creates a TTL config that reads each point's expiry at `key` (default
    /// `expires_at`) and gives points written without it `defaultSeconds` to
    /// live (nil: they never expire).
    public init(key: String = defaultKey, defaultSeconds: Int? = nil) {
        self.key = key
        self.defaultSeconds = defaultSeconds
    }

    /// Throws `.invalidArgument` when `key` is not a single top-level
    /// payload key (no `.` or `[`) or `defaultSeconds` is not positive.
    public func validate() throws {
        let path: PayloadPath
        do { path = try PayloadPath(key) } catch {
            throw StrataError.invalid("ttl_config.key \"\(key)\": \(error.message)")
        }
        guard path.description == key, !key.contains("."), !key.contains("[") else {
            throw StrataError.invalid("ttl_config.key \"\(key)\" must be a top-level payload key")
        }
        if let defaultSeconds, defaultSeconds <= 0 {
            throw StrataError.invalid("ttl_config.default_seconds must be positive, got \(defaultSeconds)")
        }
    }

    /// The points expired at `time`: a value at `key` at or before it.
    ///
    /// The filter matches a number of Unix seconds or an RFC 3339 datetime at
    /// `key`. Call it on a validated config only: a `key` that is not a valid
    /// payload path traps.
    public func expired(at time: Date) -> Filter {
        let path = try! PayloadPath(key)
        let seconds = time.timeIntervalSince1970
        return Filter(should: [
            .field(FieldCondition(key: path, .range(RangeBounds(kind: .number, lte: seconds)))),
            .field(
                FieldCondition(key: path, .range(RangeBounds(kind: .datetime, lte: (seconds * 1e6).rounded(.down))))),
        ])
    }

    /// The expiry a write at `time` gives a point without `key` (RFC 3339,
    /// UTC, whole seconds rounded up: never earlier than asked).
    package func defaultExpiry(writtenAt time: Date) -> JSONValue? {
        guard let defaultSeconds else { return nil }
        let seconds = (time.timeIntervalSince1970 + Double(defaultSeconds)).rounded(.up)
        return .string(Self.rfc3339(seconds: seconds))
    }

    /// `seconds` since the Unix epoch as an RFC 3339 datetime in UTC, to the
    /// second (`2027-01-15T08:00:00Z`).
    package static func rfc3339(seconds: Double) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: Date(timeIntervalSince1970: seconds))
    }
}

/// The wall clock a database judges expiry by: the system's, or one a test
/// sets. Equal only to itself.
public final class WallClock: Sendable, Equatable {
    private let read: @Sendable () -> Date

    /// Creates a clock whose time is what `read` returns (a test's clock that
    /// it moves by hand, for example).
    public init(_ read: @escaping @Sendable () -> Date) { self.read = read }

    /// The system's clock (`Date()`), the default of a database.
    public static let system = WallClock { Date() }

    /// The current time by this clock.
    public var now: Date { read() }

    /// Whether `lhs` and `rhs` are the same clock object.
    public static func == (lhs: WallClock, rhs: WallClock) -> Bool { lhs === rhs }
}
