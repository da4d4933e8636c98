import Foundation
import StrataModel

/// A boolean condition over points, in the shape of Qdrant's filter language
/// (docs/filtering.md): every `must` condition holds, at least one `should`
/// condition holds (when there are any), at least `minShould.minCount` of
/// `minShould.conditions` hold, and no `mustNot` condition holds. The empty
/// filter matches every point.
public struct Filter: Sendable, Hashable {
    public var must: [Condition]
    public var should: [Condition]
    public var mustNot: [Condition]
    public var minShould: MinShould?

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

    public struct MinShould: Sendable, Hashable {
        public var conditions: [Condition]
        public var minCount: Int
        public init(conditions: [Condition], minCount: Int) {
            self.conditions = conditions
            self.minCount = minCount
        }
    }
}

/// One condition of a filter.
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

/// A test on the values at one payload key: exactly one of the members is set.
public struct FieldCondition: Sendable, Hashable {
    public var key: PayloadPath
    public var test: Test

    public init(key: PayloadPath, _ test: Test) {
        self.key = key
        self.test = test
    }

    public enum Test: Sendable, Hashable {
        case match(Match)
        case range(RangeBounds)
        case geoBoundingBox(GeoBoundingBox)
        case geoRadius(GeoRadius)
        case geoPolygon(GeoPolygon)
        /// Some value the key resolves to has a count in range (an array
        /// counts its elements, null counts 0, anything else 1; no value at
        /// all counts 0).
        case valuesCount(RangeBounds)
    }
}

/// A value `match` compares with: keyword (string), integer or bool.
public enum MatchValue: Sendable, Hashable, CustomStringConvertible {
    case keyword(String)
    case integer(Int64)
    case bool(Bool)

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
public struct RangeBounds: Sendable, Hashable {
    public enum Kind: Sendable, Hashable { case number, datetime }
    public var kind: Kind
    public var gt: Double?
    public var gte: Double?
    public var lt: Double?
    public var lte: Double?

    public init(kind: Kind = .number, gt: Double? = nil, gte: Double? = nil, lt: Double? = nil, lte: Double? = nil) {
        self.kind = kind
        self.gt = gt
        self.gte = gte
        self.lt = lt
        self.lte = lte
    }

    @inline(__always)
    public func contains(_ x: Double) -> Bool {
        if let gt, !(x > gt) { return false }
        if let gte, !(x >= gte) { return false }
        if let lt, !(x < lt) { return false }
        if let lte, !(x <= lte) { return false }
        return true
    }

    /// The smallest and largest value the bounds can contain (inclusive,
    /// possibly infinite), for binary searches over sorted values.
    public var lowest: Double { max(gte ?? -.infinity, gt.map { $0.nextUp } ?? -.infinity) }
    public var highest: Double { min(lte ?? .infinity, lt.map { $0.nextDown } ?? .infinity) }
}

public struct GeoPoint: Sendable, Hashable {
    public var lon: Double
    public var lat: Double
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

public struct GeoBoundingBox: Sendable, Hashable {
    public var topLeft: GeoPoint
    public var bottomRight: GeoPoint
    public init(topLeft: GeoPoint, bottomRight: GeoPoint) {
        self.topLeft = topLeft
        self.bottomRight = bottomRight
    }
}

public struct GeoRadius: Sendable, Hashable {
    public var center: GeoPoint
    /// Meters.
    public var radius: Double
    public init(center: GeoPoint, radius: Double) {
        self.center = center
        self.radius = radius
    }
}

public struct GeoPolygon: Sendable, Hashable {
    /// A closed ring (first point == last point), at least 4 points.
    public var exterior: [GeoPoint]
    /// Holes, each a closed ring.
    public var interiors: [[GeoPoint]]
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
