import Foundation
import StrataModel

/// A filter (or field schema) that does not follow Qdrant's JSON shape; the
/// message names where (`filter.must[1].range.gt: …`).
///
/// The HTTP API reports it as a 400 error, `Wrong input: <message>`.
public struct FilterDecodingError: Error, Sendable, CustomStringConvertible {
    /// What is wrong and where, as a client should see it.
    public let message: String
    /// Creates the error with its full message (location included).
    public init(_ message: String) { self.message = message }
    /// The `message`.
    public var description: String { message }
}

extension Filter: Codable {
    /// Decodes Qdrant's filter JSON (see `init(json:path:)`); a malformed
    /// filter throws `DecodingError.dataCorrupted` with the parser's message.
    public init(from decoder: any Decoder) throws {
        let value = try JSONValue(from: decoder)
        do {
            try self.init(json: value)
        } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.message))
        }
    }

    /// Encodes the filter as its `json`.
    public func encode(to encoder: any Encoder) throws { try json.encode(to: encoder) }

    /// Parses Qdrant's filter JSON. `must`, `should` and `must_not` take a
    /// condition or a list of them; null members are absent.
    ///
    /// `path` names the filter in error messages (`filter.must[1].range.gt: …`).
    /// Throws `FilterDecodingError` for a value that is not an object, an
    /// unknown member, a malformed `min_should` (it needs `conditions` and a
    /// `min_count` ≥ 0), or any malformed condition.
    public init(json: JSONValue, path: String = "filter") throws(FilterDecodingError) {
        guard case .object(let object) = json else { throw FilterDecodingError("\(path) must be an object") }
        let known: Set<String> = ["must", "should", "must_not", "min_should"]
        if let unknown = object.keys.sorted().first(where: { !known.contains($0) }) {
            throw FilterDecodingError(
                "\(path): unknown member \"\(unknown)\"; a filter has must, should, must_not and min_should")
        }
        func conditions(_ key: String) throws(FilterDecodingError) -> [Condition] {
            switch object[key] {
            case nil, .null?: return []
            case .array(let items)?:
                var result: [Condition] = []
                for (index, item) in items.enumerated() {
                    result.append(try Condition(json: item, path: "\(path).\(key)[\(index)]"))
                }
                return result
            case let item?:
                return [try Condition(json: item, path: "\(path).\(key)")]
            }
        }
        self.init(must: try conditions("must"), should: try conditions("should"), mustNot: try conditions("must_not"))
        if let value = object["min_should"], value != .null {
            guard case .object(let minShould) = value, case .array(let items)? = minShould["conditions"],
                case .int(let minCount)? = minShould["min_count"], minCount >= 0
            else {
                throw FilterDecodingError("\(path).min_should must be {\"conditions\": [...], \"min_count\": n ≥ 0}")
            }
            var list: [Condition] = []
            for (index, item) in items.enumerated() {
                list.append(try Condition(json: item, path: "\(path).min_should.conditions[\(index)]"))
            }
            self.minShould = MinShould(conditions: list, minCount: Int(minCount))
        }
    }

    /// The filter as Qdrant's JSON: clauses as lists, empty clauses omitted
    /// (the empty filter is `{}`); `init(json:path:)` reads it back.
    public var json: JSONValue {
        var object: [String: JSONValue] = [:]
        if !must.isEmpty { object["must"] = .array(must.map(\.json)) }
        if !should.isEmpty { object["should"] = .array(should.map(\.json)) }
        if !mustNot.isEmpty { object["must_not"] = .array(mustNot.map(\.json)) }
        if let minShould {
            object["min_should"] = [
                "conditions": .array(minShould.conditions.map(\.json)), "min_count": .int(Int64(minShould.minCount)),
            ]
        }
        return .object(object)
    }
}

extension Condition {
    /// Parses one condition of Qdrant's filter JSON; `path` names it in error
    /// messages.
    ///
    /// The condition kind follows from the members: `key` with one test
    /// (`match`, `range`, `geo_bounding_box`, `geo_radius`, `geo_polygon`,
    /// `values_count`) or with `is_empty`/`is_null` as a boolean (`false`
    /// negates); `is_empty`, `is_null`, `has_id`, `has_vector`, `slice`,
    /// `nested`; or `must`/`should`/`must_not`/`min_should` for a sub-filter.
    /// Throws `FilterDecodingError` naming the first problem.
    public init(json: JSONValue, path: String) throws(FilterDecodingError) {
        guard case .object(let object) = json else { throw FilterDecodingError("\(path) must be an object") }
        func key(_ value: JSONValue?, _ where_: String) throws(FilterDecodingError) -> PayloadPath {
            guard case .string(let text)? = value else { throw FilterDecodingError("\(where_) must be a string") }
            do { return try PayloadPath(text) } catch { throw FilterDecodingError("\(where_): \(error.message)") }
        }
        if object["key"] != nil {
            let fieldKey = try key(object["key"], "\(path).key")
            // Qdrant's alternative syntax: {"key": k, "is_empty": bool} / {"key": k, "is_null": bool}.
            for (name, condition) in [
                ("is_empty", Condition.isEmpty(key: fieldKey)), ("is_null", .isNull(key: fieldKey)),
            ]
            where object[name] != nil && object[name] != .null {
                let tests = FieldCondition.testNames.filter { object[$0] != nil && object[$0] != .null }
                guard tests.isEmpty, case .bool(let wanted)? = object[name] else {
                    throw FilterDecodingError(
                        "\(path).\(name) must be a boolean, and the only test of the condition (has \(tests + [name]))")
                }
                self = wanted ? condition : .filter(Filter(mustNot: [condition]))
                return
            }
            self = .field(try FieldCondition(json: object, path: path, key: fieldKey))
        } else if let value = object["is_empty"] {
            guard case .object(let inner) = value else {
                throw FilterDecodingError("\(path).is_empty must be {\"key\": ...}")
            }
            self = .isEmpty(key: try key(inner["key"], "\(path).is_empty.key"))
        } else if let value = object["is_null"] {
            guard case .object(let inner) = value else {
                throw FilterDecodingError("\(path).is_null must be {\"key\": ...}")
            }
            self = .isNull(key: try key(inner["key"], "\(path).is_null.key"))
        } else if let value = object["has_id"] {
            guard case .array(let items) = value else {
                throw FilterDecodingError("\(path).has_id must be a list of point ids")
            }
            var ids = Set<PointID>()
            for (index, item) in items.enumerated() {
                switch item {
                case .int(let n) where n >= 0: ids.insert(.number(UInt64(n)))
                case .string(let s):
                    guard let uuid = UUID(uuidString: s) else {
                        throw FilterDecodingError(
                            "\(path).has_id[\(index)]: \"\(s)\" is not an unsigned integer or a UUID")
                    }
                    ids.insert(.uuid(uuid))
                default: throw FilterDecodingError("\(path).has_id[\(index)] must be an unsigned integer or a UUID")
                }
            }
            self = .hasID(ids)
        } else if let value = object["has_vector"] {
            guard case .string(let name) = value else {
                throw FilterDecodingError("\(path).has_vector must be a vector name")
            }
            self = .hasVector(name)
        } else if let value = object["slice"] {
            guard case .object(let inner) = value, case .int(let total)? = inner["total"],
                case .int(let index)? = inner["index"], total >= 1, total <= Int64(UInt32.max)
            else {
                throw FilterDecodingError(
                    "\(path).slice must be {\"index\": integer, \"total\": integer ≥ 1}")
            }
            guard index >= 0, index < total else {
                throw FilterDecodingError("\(path).slice.index must be in [0;\(total - 1)], got \(index)")
            }
            self = .slice(PointSlice(index: UInt32(index), total: UInt32(total)))
        } else if let value = object["nested"] {
            guard case .object(let inner) = value, let filter = inner["filter"] else {
                throw FilterDecodingError("\(path).nested must be {\"key\": ..., \"filter\": {...}}")
            }
            self = .nested(
                key: try key(inner["key"], "\(path).nested.key"),
                filter: try Filter(json: filter, path: "\(path).nested.filter"))
        } else if object.keys.contains(where: { ["must", "should", "must_not", "min_should"].contains($0) }) {
            self = .filter(try Filter(json: json, path: path))
        } else {
            throw FilterDecodingError(
                "\(path): not a condition (expected key with match/range/geo_*/values_count, is_empty, is_null, has_id, has_vector, slice, nested, or a sub-filter)"
            )
        }
    }

    /// The condition as Qdrant's JSON, in the form `init(json:path:)` reads
    /// (ids of `has_id` sorted).
    ///
    /// A numeric id of 2^63 or more is written as a negative integer (its bit
    /// pattern), which `init(json:path:)` refuses.
    public var json: JSONValue {
        switch self {
        case .field(let condition): return condition.json
        case .isEmpty(let key): return ["is_empty": ["key": .string(key.description)]]
        case .isNull(let key): return ["is_null": ["key": .string(key.description)]]
        case .hasID(let ids):
            return [
                "has_id": .array(
                    ids.sorted().map { id in
                        switch id {
                        case .number(let n): return .int(Int64(bitPattern: n))
                        case .uuid: return .string(id.description)
                        }
                    })
            ]
        case .hasVector(let name): return ["has_vector": .string(name)]
        case .slice(let slice):
            return ["slice": ["index": .int(Int64(slice.index)), "total": .int(Int64(slice.total))]]
        case .nested(let key, let filter): return ["nested": ["key": .string(key.description), "filter": filter.json]]
        case .filter(let filter): return filter.json
        }
    }
}

extension FieldCondition {
    static let testNames = ["match", "range", "geo_bounding_box", "geo_radius", "geo_polygon", "values_count"]

    init(json object: [String: JSONValue], path: String, key: PayloadPath) throws(FilterDecodingError) {
        let tests = Self.testNames.filter { object[$0] != nil && object[$0] != .null }
        guard tests.count == 1, let name = tests.first else {
            throw FilterDecodingError(
                "\(path) must have exactly one of match, range, geo_bounding_box, geo_radius, geo_polygon, values_count (has \(tests))"
            )
        }
        let value = object[name]!
        let at = "\(path).\(name)"
        switch name {
        case "match": self.init(key: key, .match(try Match(json: value, path: at)))
        case "range": self.init(key: key, .range(try RangeBounds(json: value, path: at, allowDatetime: true)))
        case "values_count":
            self.init(key: key, .valuesCount(try RangeBounds(json: value, path: at, allowDatetime: false)))
        case "geo_bounding_box":
            guard case .object(let box) = value else { throw FilterDecodingError("\(at) must be an object") }
            self.init(
                key: key,
                .geoBoundingBox(
                    GeoBoundingBox(
                        topLeft: try GeoPoint(json: box["top_left"], path: "\(at).top_left"),
                        bottomRight: try GeoPoint(json: box["bottom_right"], path: "\(at).bottom_right"))))
        case "geo_radius":
            guard case .object(let radius) = value, let meters = radius["radius"]?.number, meters >= 0, meters.isFinite
            else {
                throw FilterDecodingError("\(at) must be {\"center\": {\"lon\", \"lat\"}, \"radius\": meters ≥ 0}")
            }
            self.init(
                key: key,
                .geoRadius(
                    GeoRadius(center: try GeoPoint(json: radius["center"], path: "\(at).center"), radius: meters)))
        default:
            guard case .object(let polygon) = value else { throw FilterDecodingError("\(at) must be an object") }
            func ring(_ value: JSONValue?, _ where_: String) throws(FilterDecodingError) -> [GeoPoint] {
                guard case .object(let line)? = value, case .array(let items)? = line["points"] else {
                    throw FilterDecodingError("\(where_) must be {\"points\": [...]}")
                }
                var points: [GeoPoint] = []
                for (index, item) in items.enumerated() {
                    points.append(try GeoPoint(json: item, path: "\(where_).points[\(index)]"))
                }
                guard points.count >= 4, points.first == points.last else {
                    throw FilterDecodingError("\(where_) must be a closed ring of at least 4 points (first == last)")
                }
                return points
            }
            var interiors: [[GeoPoint]] = []
            if case .array(let items)? = polygon["interiors"] {
                for (index, item) in items.enumerated() {
                    interiors.append(try ring(item, "\(at).interiors[\(index)]"))
                }
            }
            self.init(
                key: key,
                .geoPolygon(GeoPolygon(exterior: try ring(polygon["exterior"], "\(at).exterior"), interiors: interiors))
            )
        }
    }

    var json: JSONValue {
        var object: [String: JSONValue] = ["key": .string(key.description)]
        switch test {
        case .match(let match): object["match"] = match.json
        case .range(let range): object["range"] = range.json
        case .valuesCount(let range): object["values_count"] = range.json
        case .geoBoundingBox(let box):
            object["geo_bounding_box"] = ["top_left": box.topLeft.json, "bottom_right": box.bottomRight.json]
        case .geoRadius(let radius):
            object["geo_radius"] = ["center": radius.center.json, "radius": .double(radius.radius)]
        case .geoPolygon(let polygon):
            object["geo_polygon"] = [
                "exterior": ["points": .array(polygon.exterior.map(\.json))],
                "interiors": .array(polygon.interiors.map { ["points": .array($0.map(\.json))] }),
            ]
        }
        return .object(object)
    }
}

extension MatchValue {
    init(json: JSONValue, path: String) throws(FilterDecodingError) {
        switch json {
        case .string(let s): self = .keyword(s)
        case .int(let i): self = .integer(i)
        case .bool(let b): self = .bool(b)
        default: throw FilterDecodingError("\(path) must be a string, an integer or a boolean")
        }
    }

    var json: JSONValue {
        switch self {
        case .keyword(let s): return .string(s)
        case .integer(let i): return .int(i)
        case .bool(let b): return .bool(b)
        }
    }
}

extension Match {
    init(json: JSONValue, path: String) throws(FilterDecodingError) {
        guard case .object(let object) = json, object.count == 1, let (name, value) = object.first else {
            throw FilterDecodingError(
                "\(path) must have exactly one of value, any, except, text, text_any, phrase, prefix, substring")
        }
        func list() throws(FilterDecodingError) -> [MatchValue] {
            guard case .array(let items) = value else { throw FilterDecodingError("\(path).\(name) must be a list") }
            var result: [MatchValue] = []
            for (index, item) in items.enumerated() {
                let parsed = try MatchValue(json: item, path: "\(path).\(name)[\(index)]")
                if case .bool = parsed {
                    throw FilterDecodingError("\(path).\(name)[\(index)] must be a string or an integer")
                }
                result.append(parsed)
            }
            return result
        }
        switch name {
        case "value": self = .value(try MatchValue(json: value, path: "\(path).value"))
        case "any": self = .any(try list())
        case "except": self = .except(try list())
        case "text", "text_any", "phrase", "prefix", "substring":
            guard case .string(let text) = value else { throw FilterDecodingError("\(path).\(name) must be a string") }
            switch name {
            case "text": self = .text(text)
            case "text_any": self = .textAny(text)
            case "phrase": self = .phrase(text)
            case "prefix": self = .prefix(text)
            default: self = .substring(text)
            }
        default:
            throw FilterDecodingError(
                "\(path): unknown match \"\(name)\"; expected value, any, except, text, text_any, phrase, prefix or substring"
            )
        }
    }

    var json: JSONValue {
        switch self {
        case .value(let v): return ["value": v.json]
        case .any(let vs): return ["any": .array(vs.map(\.json))]
        case .except(let vs): return ["except": .array(vs.map(\.json))]
        case .text(let t): return ["text": .string(t)]
        case .textAny(let t): return ["text_any": .string(t)]
        case .phrase(let t): return ["phrase": .string(t)]
        case .prefix(let t): return ["prefix": .string(t)]
        case .substring(let t): return ["substring": .string(t)]
        }
    }
}

extension RangeBounds {
    init(json: JSONValue, path: String, allowDatetime: Bool) throws(FilterDecodingError) {
        guard case .object(let object) = json else {
            throw FilterDecodingError("\(path) must be an object with gt/gte/lt/lte")
        }
        if let unknown = object.keys.sorted().first(where: { !["gt", "gte", "lt", "lte"].contains($0) }) {
            throw FilterDecodingError("\(path): unknown bound \"\(unknown)\"; expected gt, gte, lt, lte")
        }
        let present = object.filter { $0.value != .null }
        let isDatetime = present.values.contains { if case .string = $0 { return true } else { return false } }
        if isDatetime && !allowDatetime { throw FilterDecodingError("\(path): bounds must be numbers") }
        self.init(kind: isDatetime ? .datetime : .number)
        for (name, value) in present {
            let bound: Double
            switch (value, isDatetime) {
            case (.string(let text), true):
                guard let micros = Datetime.microseconds(text) else {
                    throw FilterDecodingError("\(path).\(name): \"\(text)\" is not an RFC 3339 datetime")
                }
                bound = Double(micros)
            case (_, false):
                guard let number = value.number, number.isFinite else {
                    throw FilterDecodingError("\(path).\(name) must be a number")
                }
                bound = number
            default:
                throw FilterDecodingError("\(path).\(name): a datetime range needs every bound as a datetime string")
            }
            switch name {
            case "gt": gt = bound
            case "gte": gte = bound
            case "lt": lt = bound
            default: lte = bound
            }
        }
    }

    var json: JSONValue {
        var object: [String: JSONValue] = [:]
        func render(_ v: Double) -> JSONValue {
            guard kind == .datetime else { return .double(v) }
            return .string(Datetime.rfc3339(microseconds: Int64(v)))
        }
        if let gt { object["gt"] = render(gt) }
        if let gte { object["gte"] = render(gte) }
        if let lt { object["lt"] = render(lt) }
        if let lte { object["lte"] = render(lte) }
        return .object(object)
    }
}

extension GeoPoint {
    init(json: JSONValue?, path: String) throws(FilterDecodingError) {
        guard let json, let point = GeoPoint(json) else {
            throw FilterDecodingError("\(path) must be {\"lon\": -180…180, \"lat\": -90…90}")
        }
        self = point
    }

    var json: JSONValue { ["lon": .double(lon), "lat": .double(lat)] }
}

extension Datetime {
    /// `YYYY-MM-DDTHH:MM:SS.ffffffZ` for microseconds since the epoch (the
    /// inverse of `microseconds(_:)` for UTC text).
    public static func rfc3339(microseconds: Int64) -> String {
        var seconds = microseconds / 1_000_000
        var micros = microseconds % 1_000_000
        if micros < 0 { micros += 1_000_000; seconds -= 1 }
        var days = seconds / 86_400
        var secondOfDay = seconds % 86_400
        if secondOfDay < 0 { secondOfDay += 86_400; days -= 1 }
        // Civil date from days since 1970-01-01 (proleptic Gregorian).
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        func pad(_ n: Int64, _ width: Int) -> String {
            let text = String(n)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return
            "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(secondOfDay / 3600, 2)):\(pad(secondOfDay / 60 % 60, 2)):\(pad(secondOfDay % 60, 2)).\(pad(micros, 6))Z"
    }
}
