// `qdrant.Filter` → the engine's filter, through Qdrant's REST filter JSON:
// the one parser (`Filter(json:)`, as `FilterInput` uses) gives both transports
// the same semantics and the same messages. Filters are small, so the JSON
// step costs nothing that matters.
import Foundation
import Strata
import StrataGRPCProtocol
import SwiftProtobuf

extension FilterInput {
    /// A filter already parsed.
    init(_ filter: Filter) { self.filter = filter }
}

extension Qdrant_Filter {
    /// The filter in Qdrant's REST JSON shape. Conditions without a kind are
    /// left out, as Qdrant leaves them out; everything else is passed on for
    /// `Filter(json:)` to accept or refuse with its message.
    func restJSON() -> JSONValue {
        var object: [String: JSONValue] = [:]
        if !must.isEmpty { object["must"] = must.restJSON() }
        if !should.isEmpty { object["should"] = should.restJSON() }
        if !mustNot.isEmpty { object["must_not"] = mustNot.restJSON() }
        if hasMinShould {
            object["min_should"] = [
                "conditions": minShould.conditions.restJSON(),
                "min_count": .int(Int64(clamping: minShould.minCount)),
            ]
        }
        return .object(object)
    }

    /// The filter as the REST layer's inputs take it, or InvalidArgument
    /// with the REST message (`filter.must[0].range.gt must be a number`).
    func filterInput() throws(APIError) -> FilterInput {
        do { return FilterInput(try Filter(json: restJSON())) } catch { throw APIError.wrongInput(error.message) }
    }
}

extension Array where Element == Qdrant_Condition {
    fileprivate func restJSON() -> JSONValue { .array(compactMap { $0.restJSON() }) }
}

extension Qdrant_Condition {
    /// The condition's REST JSON; nil for a condition without a kind.
    func restJSON() -> JSONValue? {
        switch conditionOneOf {
        case nil: return nil
        case .field(let field)?: return field.restJSON()
        case .isEmpty(let condition)?: return ["is_empty": ["key": .string(condition.key)]]
        case .isNull(let condition)?: return ["is_null": ["key": .string(condition.key)]]
        case .hasID_p(let condition)?: return ["has_id": .array(condition.hasID_p.map(\.restJSON))]
        case .hasVector_p(let condition)?: return ["has_vector": .string(condition.hasVector_p)]
        case .filter(let filter)?: return filter.restJSON()
        case .nested(let nested)?:
            var object: [String: JSONValue] = ["key": .string(nested.key)]
            if nested.hasFilter { object["filter"] = nested.filter.restJSON() }
            return ["nested": .object(object)]
        case .slice(let slice)?:
            return ["slice": ["index": .int(Int64(slice.index)), "total": .int(Int64(slice.total))]]
        }
    }
}

extension Qdrant_PointId {
    /// The id as REST JSON: a number or a UUID string (checked by the filter parser).
    fileprivate var restJSON: JSONValue {
        switch pointIDOptions {
        case .num(let number)?: number <= UInt64(Int64.max) ? .int(Int64(number)) : .string(String(number))
        case .uuid(let text)?: .string(text)
        case nil: .null
        }
    }
}

extension Qdrant_FieldCondition {
    /// Every test the message sets, so that a condition with none or several
    /// is refused as REST refuses it.
    func restJSON() -> JSONValue {
        var object: [String: JSONValue] = ["key": .string(key)]
        if hasMatch { object["match"] = match.restJSON() }
        if hasRange { object["range"] = range.restJSON() }
        if hasDatetimeRange {
            // Both ranges set: two `range` members cannot be written, and
            // Qdrant ignores the datetime one then; so does this.
            if !hasRange { object["range"] = datetimeRange.restJSON() }
        }
        if hasGeoBoundingBox {
            var box: [String: JSONValue] = [:]
            if geoBoundingBox.hasTopLeft { box["top_left"] = geoBoundingBox.topLeft.restJSON() }
            if geoBoundingBox.hasBottomRight { box["bottom_right"] = geoBoundingBox.bottomRight.restJSON() }
            object["geo_bounding_box"] = .object(box)
        }
        if hasGeoRadius {
            var radius: [String: JSONValue] = ["radius": .double(Double(geoRadius.radius))]
            if geoRadius.hasCenter { radius["center"] = geoRadius.center.restJSON() }
            object["geo_radius"] = .object(radius)
        }
        if hasGeoPolygon {
            var polygon: [String: JSONValue] = ["interiors": .array(geoPolygon.interiors.map(\.restJSON))]
            if geoPolygon.hasExterior { polygon["exterior"] = geoPolygon.exterior.restJSON }
            object["geo_polygon"] = .object(polygon)
        }
        if hasValuesCount { object["values_count"] = valuesCount.restJSON() }
        if hasIsEmpty { object["is_empty"] = .bool(isEmpty) }
        if hasIsNull { object["is_null"] = .bool(isNull) }
        return .object(object)
    }
}

extension Qdrant_Match {
    /// `{"value": …}`, `{"any": […]}`, `{"except": […]}`, `{"text": …}` and so
    /// on; `{}` (refused) when no variant is set.
    func restJSON() -> JSONValue {
        switch matchValue {
        case nil: return [:]
        case .keyword(let text)?: return ["value": .string(text)]
        case .integer(let number)?: return ["value": .int(number)]
        case .boolean(let flag)?: return ["value": .bool(flag)]
        case .text(let text)?: return ["text": .string(text)]
        case .phrase(let text)?: return ["phrase": .string(text)]
        case .textAny(let text)?: return ["text_any": .string(text)]
        case .prefix(let text)?: return ["prefix": .string(text)]
        case .substring(let text)?: return ["substring": .string(text)]
        case .keywords(let list)?: return ["any": .array(list.strings.map(JSONValue.string))]
        case .integers(let list)?: return ["any": .array(list.integers.map(JSONValue.int))]
        case .exceptKeywords(let list)?: return ["except": .array(list.strings.map(JSONValue.string))]
        case .exceptIntegers(let list)?: return ["except": .array(list.integers.map(JSONValue.int))]
        }
    }
}

extension Qdrant_Range {
    func restJSON() -> JSONValue {
        var object: [String: JSONValue] = [:]
        if hasLt { object["lt"] = .double(lt) }
        if hasGt { object["gt"] = .double(gt) }
        if hasGte { object["gte"] = .double(gte) }
        if hasLte { object["lte"] = .double(lte) }
        return .object(object)
    }
}

extension Qdrant_DatetimeRange {
    /// The bounds as RFC 3339 text, as REST sends them.
    func restJSON() -> JSONValue {
        var object: [String: JSONValue] = [:]
        if hasLt { object["lt"] = lt.rfc3339 }
        if hasGt { object["gt"] = gt.rfc3339 }
        if hasGte { object["gte"] = gte.rfc3339 }
        if hasLte { object["lte"] = lte.rfc3339 }
        return .object(object)
    }
}

extension Google_Protobuf_Timestamp {
    /// Microseconds since the epoch (Strata's datetime resolution, as Qdrant's).
    var microseconds: Int64 {
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000)
        guard !overflow else { return seconds < 0 ? Int64.min : Int64.max }
        return scaled.addingReportingOverflow(Int64(nanos / 1000)).partialValue
    }

    fileprivate var rfc3339: JSONValue { .string(Datetime.rfc3339(microseconds: microseconds)) }
}

extension Qdrant_ValuesCount {
    func restJSON() -> JSONValue {
        var object: [String: JSONValue] = [:]
        if hasLt { object["lt"] = .int(Int64(clamping: lt)) }
        if hasGt { object["gt"] = .int(Int64(clamping: gt)) }
        if hasGte { object["gte"] = .int(Int64(clamping: gte)) }
        if hasLte { object["lte"] = .int(Int64(clamping: lte)) }
        return .object(object)
    }
}

extension Qdrant_GeoPoint {
    func restJSON() -> JSONValue { ["lon": .double(lon), "lat": .double(lat)] }
}

extension Qdrant_GeoLineString {
    fileprivate var restJSON: JSONValue { ["points": .array(points.map { $0.restJSON() })] }
}
