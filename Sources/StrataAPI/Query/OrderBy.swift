import StrataModel
import StrataPayload
/// How `scroll(orderBy:)` and an `orderBy` query order points (Qdrant's `order_by`).
public struct OrderBy: Sendable, Equatable {
    public var key: String
    public var descending: Bool
    /// Start at this value (inclusive): the first value of the page.
    public var startFrom: Double?
    public init(key: String, descending: Bool = false, startFrom: Double? = nil) {
        self.key = key
        self.descending = descending
        self.startFrom = startFrom
    }
}
