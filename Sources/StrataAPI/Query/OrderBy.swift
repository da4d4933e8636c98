import StrataModel
import StrataPayload
/// How `scroll(orderBy:)` and an `orderBy` query order points (Qdrant's `order_by`).
///
/// The key needs an integer (range), float or datetime payload index. Points
/// without a value at the key are left out; a point with several values is
/// listed once, at its smallest value ascending or its largest descending;
/// equal values are ordered by id. Each result carries the value it was
/// ordered by (`ScoredPoint.orderValue`).
///
/// ```swift
/// // The 20 newest points (a datetime index on "created_at"):
/// let newest = QueryRequest(query: .orderBy(OrderBy(key: "created_at", descending: true)), limit: 20)
/// ```
public struct OrderBy: Sendable, Equatable {
    /// The payload key to order by (a path such as `"stats.views"`).
    public var key: String
    /// Whether the largest values come first (Qdrant's `direction: "desc"`);
    /// default false (ascending).
    public var descending: Bool
    /// Start at this value (inclusive): the first value of the page.
    ///
    /// For a datetime key, in microseconds since the Unix epoch. nil: from
    /// the first value.
    public var startFrom: Double?
    /// Creates an ordering by payload `key`, ascending unless `descending`,
    /// from `startFrom` on (nil: from the start).
    public init(key: String, descending: Bool = false, startFrom: Double? = nil) {
        self.key = key
        self.descending = descending
        self.startFrom = startFrom
    }
}
