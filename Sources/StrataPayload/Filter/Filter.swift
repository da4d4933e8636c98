import Foundation
import StrataModel

/// A boolean condition over points, in the shape of Qdrant's filter language
/// (docs/filtering.md): every `must` condition holds, at least one `should`
/// condition holds (when there are any), at least `minShould.minCount` of
/// `minShould.conditions` hold, and no `mustNot` condition holds. The empty
/// filter matches every point.
///
/// Build one in code, or parse Qdrant's JSON with `init(json:path:)`:
///
/// ```swift
/// // {"must": [{"key": "city", "match": {"value": "London"}}],
/// //  "must_not": [{"key": "price", "range": {"gte": 100}}]}
/// let filter = Filter(
///     must: [.field(FieldCondition(key: try PayloadPath("city"), .match(.value(.keyword("London")))))],
///     mustNot: [.field(FieldCondition(key: try PayloadPath("price"), .range(RangeBounds(gte: 100))))])
///
/// let point = FilterSubject(id: 1, payload: ["city": "London", "price": 80], hasVector: { _ in false })
/// filter.matches(point)  // true
/// ```
public struct Filter: Sendable, Hashable {
    /// Conditions that must all hold (Qdrant's `must`).
    public var must: [Condition]
    /// Conditions of which at least one must hold, when there are any
    /// (Qdrant's `should`); an empty list imposes nothing.
    public var should: [Condition]
    /// Conditions of which none may hold (Qdrant's `must_not`).
    public var mustNot: [Condition]
    /// At least `minCount` of a list of conditions must hold (Qdrant's
    /// `min_should`); nil imposes nothing.
    public var minShould: MinShould?

    /// Creates a filter from its clauses; every clause defaults to empty, so
    /// `Filter()` matches every point.
    public init(
        must: [Condition] = [], should: [Condition] = [], mustNot: [Condition] = [], minShould: MinShould? = nil
    ) {
        self.must = must
        self.should = should
        self.mustNot = mustNot
        self.minShould = minShould
    }

    /// True when the filter has no condition at all (matches everything).
    public var isEmpty: Bool { must.isEmpty && should.isEmpty && mustNot.isEmpty && minShould == nil }

    /// A clause that holds when at least `minCount` of its `conditions` hold
    /// (Qdrant's `MinShould`, JSON `{"conditions": [...], "min_count": n}`).
    ///
    /// A `minCount` of 0 always holds; one larger than the number of
    /// conditions never does.
    public struct MinShould: Sendable, Hashable {
        /// The conditions to count.
        public var conditions: [Condition]
        /// How many of `conditions` must hold at least (≥ 0 when parsed from JSON).
        public var minCount: Int
        /// Creates the clause; the values are not checked.
        public init(conditions: [Condition], minCount: Int) {
            self.conditions = conditions
            self.minCount = minCount
        }
    }
}

/// One condition of a filter: a test on a payload key, on the point's id or
/// vectors, or a nested filter (Qdrant's `Condition`).
///
/// ```swift
/// // {"should": [{"has_id": [1, 2]}, {"is_empty": {"key": "tags"}}]}
/// let either: Condition = .filter(Filter(should: [
///     .hasID([1, 2]),
///     .isEmpty(key: try PayloadPath("tags")),
/// ]))
///
/// // Some review has 5 stars and is verified, in the same array element:
/// let goodReview: Condition = .nested(
///     key: try PayloadPath("reviews"),
///     filter: Filter(must: [
///         .field(FieldCondition(key: try PayloadPath("stars"), .match(.value(.integer(5))))),
///         .field(FieldCondition(key: try PayloadPath("verified"), .match(.value(.bool(true))))),
///     ]))
/// ```
public indirect enum Condition: Sendable, Hashable {
    /// A test on the values at a payload key.
    case field(FieldCondition)
    /// The key has no value: every value it resolves to is null or an empty
    /// array (or it resolves to none).
    case isEmpty(key: PayloadPath)
    /// Some value the key resolves to is null, or an array holding null.
    case isNull(key: PayloadPath)
    /// The point's id is one of these.
    case hasID(Set<PointID>)
    /// The point has the named vector ("" is the unnamed one).
    case hasVector(String)
    /// The point's id falls into this slice of the id space.
    case slice(PointSlice)
    /// Some element of the array of objects at `key` matches `filter` on its own
    /// (keys inside `filter` are relative to the element).
    case nested(key: PayloadPath, filter: Filter)
    /// A sub-filter.
    case filter(Filter)
}

/// A test on the values at one payload key (Qdrant's `FieldCondition`, whose
/// JSON sets `key` and exactly one of `match`, `range`, `geo_bounding_box`,
/// `geo_radius`, `geo_polygon`, `values_count`).
///
/// Every test except `valuesCount` looks at the values `key` resolves to with
/// a final array flattened one level (`PayloadPath.values(in:)`), and holds
/// when some value passes.
///
/// ```swift
/// // {"key": "location", "geo_radius": {"center": {"lon": -0.1278, "lat": 51.5074}, "radius": 10000}}
/// let nearLondon = FieldCondition(
///     key: try PayloadPath("location"),
///     .geoRadius(GeoRadius(center: GeoPoint(lon: -0.1278, lat: 51.5074), radius: 10_000)))
///
/// // {"key": "tags", "values_count": {"gte": 2}}
/// let tagged = FieldCondition(key: try PayloadPath("tags"), .valuesCount(RangeBounds(gte: 2)))
/// ```
public struct FieldCondition: Sendable, Hashable {
    /// The payload path whose values are tested.
    public var key: PayloadPath
    /// What the values at `key` are tested for.
    public var test: Test

    /// Creates a condition testing the values at `key`.
    public init(key: PayloadPath, _ test: Test) {
        self.key = key
        self.test = test
    }

    /// The test a field condition applies, one per JSON member of Qdrant's
    /// `FieldCondition`.
    public enum Test: Sendable, Hashable {
        /// Some value matches (`match`).
        case match(Match)
        /// Some number (or, for a datetime range, some RFC 3339 string) is
        /// within the bounds (`range`).
        case range(RangeBounds)
        /// Some geo point is strictly inside the box (`geo_bounding_box`).
        case geoBoundingBox(GeoBoundingBox)
        /// Some geo point is strictly closer than the radius (`geo_radius`).
        case geoRadius(GeoRadius)
        /// Some geo point is inside the polygon and outside its holes
        /// (`geo_polygon`).
        case geoPolygon(GeoPolygon)
        /// Some value the key resolves to has a count in range (an array
        /// counts its elements, null counts 0, anything else 1; no value at
        /// all counts 0).
        case valuesCount(RangeBounds)
    }
}

/// A value `match` compares with: keyword (string), integer or bool.
public enum MatchValue: Sendable, Hashable, CustomStringConvertible {
    /// A string; equals a JSON string with the same characters.
    case keyword(String)
    /// An integer; equals a JSON integer (never a float, so `3` misses `3.0`).
    case integer(Int64)
    /// A boolean; equals the same JSON boolean.
    case bool(Bool)

    /// The value as JSON text would write it: a string quoted, a number or
    /// boolean bare.
    public var description: String {
        switch self {
        case .keyword(let s): return "\"\(s)\""
        case .integer(let i): return String(i)
        case .bool(let b): return String(b)
        }
    }

    /// True when the payload value is exactly this value (same JSON type).
    public func equals(_ value: JSONValue) -> Bool {
        switch (self, value) {
        case (.keyword(let a), .string(let b)): return a == b
        case (.integer(let a), .int(let b)): return a == b
        case (.bool(let a), .bool(let b)): return a == b
        default: return false
        }
    }
}

/// What a `match` condition looks for in the values at a key (Qdrant's
/// `Match`: `{"value": …}`, `{"any": […]}`, `{"except": […]}`, `{"text": …}`,
/// `{"text_any": …}`, `{"phrase": …}`, `{"prefix": …}` or `{"substring": …}`).
///
/// ```swift
/// let tags = try PayloadPath("tags")
/// // {"key": "tags", "match": {"any": ["red", "blue"]}}
/// let redOrBlue = FieldCondition(key: tags, .match(.any([.keyword("red"), .keyword("blue")])))
/// // {"key": "title", "match": {"text": "vector database"}}
/// let aboutVectors = FieldCondition(key: try PayloadPath("title"), .match(.text("vector database")))
/// ```
///
/// `text`, `textAny` and `phrase` compare tokens (the key's full-text index
/// settings, else the default word tokenizer; see `FilterSettings`);
/// `prefix` and `substring` compare raw UTF-8 bytes.
public enum Match: Sendable, Hashable {
    /// Some value equals this one.
    case value(MatchValue)
    /// Some value equals one of these.
    case any([MatchValue])
    /// Some non-null value equals none of these.
    case except([MatchValue])
    /// Some string value contains every token of the text (word tokenizer,
    /// lowercase; the field's full-text index settings when it has one). A
    /// text without tokens matches nothing.
    case text(String)
    /// Some string value contains at least one token of the text.
    case textAny(String)
    /// Some string value contains the tokens of the text consecutively, in
    /// order. A phrase without tokens matches nothing.
    case phrase(String)
    /// Some string value starts with this string (byte-wise, case-sensitive).
    case prefix(String)
    /// Some string value contains this string (byte-wise, case-sensitive).
    case substring(String)
}

/// Bounds of a `range` (or `values_count`) condition; nil bounds are open.
/// Datetime ranges hold microseconds since the Unix epoch and match only
/// string values that parse as RFC 3339 datetimes; numeric ranges match
/// integer and floating-point values.
///
/// Qdrant's `Range` and `DatetimeRange` in one type; every bound that is set
/// must hold.
///
/// ```swift
/// // {"range": {"gte": 10, "lt": 100}}
/// let price = RangeBounds(gte: 10, lt: 100)
/// price.contains(99.5)  // true
/// price.contains(100)  // false
///
/// // {"range": {"gte": "2024-01-01T00:00:00Z"}}
/// let since2024 = RangeBounds(kind: .datetime, gte: Double(Datetime.microseconds("2024-01-01T00:00:00Z")!))
/// ```
public struct RangeBounds: Sendable, Hashable {
    /// What the bounds measure, and so which payload values a range tests.
    public enum Kind: Sendable, Hashable {
        /// Plain numbers; the range tests integer and float values.
        case number
        /// Microseconds since 1970-01-01T00:00:00Z; the range tests string
        /// values that parse as RFC 3339 (`Datetime.microseconds(_:)`).
        case datetime
    }
    /// What the bounds measure (`number` unless a JSON bound was a string).
    public var kind: Kind
    /// Exclusive lower bound (`gt`); nil for none.
    public var gt: Double?
    /// Inclusive lower bound (`gte`); nil for none.
    public var gte: Double?
    /// Exclusive upper bound (`lt`); nil for none.
    public var lt: Double?
    /// Inclusive upper bound (`lte`); nil for none.
    public var lte: Double?

    /// Creates bounds; omitted bounds are open, so `RangeBounds()` contains
    /// every value. Bounds are not checked against each other:
    /// `gt: 5, lt: 1` is valid and contains nothing.
    public init(kind: Kind = .number, gt: Double? = nil, gte: Double? = nil, lt: Double? = nil, lte: Double? = nil) {
        self.kind = kind
        self.gt = gt
        self.gte = gte
        self.lt = lt
        self.lte = lte
    }

    /// True when `x` satisfies every bound that is set (false for NaN when
    /// any bound is set).
    @inline(__always)
    public func contains(_ x: Double) -> Bool {
        if let gt, !(x > gt) { return false }
        if let gte, !(x >= gte) { return false }
        if let lt, !(x < lt) { return false }
        if let lte, !(x <= lte) { return false }
        return true
    }

    /// The smallest value the bounds can contain (inclusive, possibly
    /// infinite), for binary searches over sorted values.
    public var lowest: Double { max(gte ?? -.infinity, gt.map { $0.nextUp } ?? -.infinity) }
    /// The largest value the bounds can contain (inclusive, possibly
    /// infinite); below `lowest` when the bounds contain nothing.
    public var highest: Double { min(lte ?? .infinity, lt.map { $0.nextDown } ?? .infinity) }
}

/// A point on the Earth in degrees (Qdrant's `GeoPoint`, JSON
/// `{"lon": x, "lat": y}`).
public struct GeoPoint: Sendable, Hashable {
    /// Longitude in degrees, −180…180 (east positive).
    public var lon: Double
    /// Latitude in degrees, −90…90 (north positive).
    public var lat: Double
    /// Creates a point; the coordinates are not checked (`init?(_:)` and the
    /// filter parser check them).
    public init(lon: Double, lat: Double) {
        self.lon = lon
        self.lat = lat
    }

    /// A payload value `{"lon": x, "lat": y}` with valid coordinates.
    public init?(_ value: JSONValue) {
        guard case .object(let object) = value, let lon = object["lon"]?.number, let lat = object["lat"]?.number,
            (-180...180).contains(lon), (-90...90).contains(lat)
        else { return nil }
        self.init(lon: lon, lat: lat)
    }
}

/// A latitude/longitude box for `geo_bounding_box` conditions (Qdrant's
/// `GeoBoundingBox`); see `contains(_:)` for the edges and the antimeridian.
public struct GeoBoundingBox: Sendable, Hashable {
    /// The north-west corner: the largest latitude and the western longitude.
    public var topLeft: GeoPoint
    /// The south-east corner: the smallest latitude and the eastern longitude.
    public var bottomRight: GeoPoint
    /// Creates a box from its north-west and south-east corners.
    public init(topLeft: GeoPoint, bottomRight: GeoPoint) {
        self.topLeft = topLeft
        self.bottomRight = bottomRight
    }
}

/// A circle on the Earth for `geo_radius` conditions (Qdrant's `GeoRadius`).
public struct GeoRadius: Sendable, Hashable {
    /// The circle's center.
    public var center: GeoPoint
    /// Meters.
    public var radius: Double
    /// Creates a circle of `radius` meters (≥ 0 when parsed from JSON) around
    /// `center`.
    public init(center: GeoPoint, radius: Double) {
        self.center = center
        self.radius = radius
    }
}

/// A polygon with optional holes for `geo_polygon` conditions (Qdrant's
/// `GeoPolygon`), its rings in the lon/lat plane.
public struct GeoPolygon: Sendable, Hashable {
    /// A closed ring (first point == last point), at least 4 points.
    public var exterior: [GeoPoint]
    /// Holes, each a closed ring.
    public var interiors: [[GeoPoint]]
    /// Creates a polygon; the rings are not checked here (the filter parser
    /// refuses rings that are not closed or have fewer than 4 points).
    public init(exterior: [GeoPoint], interiors: [[GeoPoint]] = []) {
        self.exterior = exterior
        self.interiors = interiors
    }
}

extension JSONValue {
    /// The value as a Double when it is an integer or floating-point number.
    public var number: Double? {
        switch self {
        case .int(let i): return Double(i)
        case .double(let d): return d
        default: return nil
        }
    }
}
