import Foundation
import Strata
import StrataIO
import StrataTestSupport

/// Random payloads that exercise every condition kind, random filters over
/// them, and the plain in-memory model the engine is compared with.
struct FilterTestData {
    var random: SeededGenerator
    static let dim = 8
    static let cities = ["London", "Paris", "Berlin", "Rome", "Oslo", "Lima"]
    static let words = ["red", "green", "blue", "fast", "slow", "cat", "dog", "fox", "big", "small"]

    /// The indexes the tests create: key → schema.
    static let schemas: [(String, PayloadFieldSchema)] = {
        var text = PayloadFieldSchema(.text)
        text.phraseMatching = true
        var tenant = PayloadFieldSchema(.keyword)
        tenant.isTenant = true
        return [
            ("city", PayloadFieldSchema(.keyword)), ("tags", PayloadFieldSchema(.keyword)),
            ("price", PayloadFieldSchema(.float)),
            ("count", PayloadFieldSchema(.integer)), ("sold", PayloadFieldSchema(.bool)),
            ("created", PayloadFieldSchema(.datetime)),
            ("location", PayloadFieldSchema(.geo)), ("ref", PayloadFieldSchema(.uuid)), ("text", text),
            ("reviews[].stars", PayloadFieldSchema(.integer)), ("tenant", tenant),
        ]
    }()

    init(seed: UInt64) { random = SeededGenerator.printing(seed: seed, "FilterTestData") }

    mutating func chance(_ percent: Int) -> Bool { random.int(100) < percent }
    mutating func pick<T>(_ items: [T]) -> T { items[random.int(items.count)] }

    mutating func payload() -> Payload {
        var p: Payload = [:]
        if chance(90) { p["city"] = chance(5) ? .int(Int64(random.int(3))) : .string(pick(Self.cities)) }
        if chance(80) { p["tags"] = .array((0..<random.int(4)).map { _ in .string(pick(Self.words)) }) }
        if chance(85) {
            p["price"] = chance(20) ? .int(Int64(random.int(100))) : .double(Double(random.int(10_000)) / 100)
        }
        if chance(85) {
            p["count"] =
                chance(10)
                ? .array([.int(Int64(random.int(10))), .int(Int64(random.int(10)))]) : .int(Int64(random.int(10)))
        }
        if chance(80) { p["sold"] = .bool(chance(50)) }
        if chance(80) {
            p["created"] = .string(
                String(format: "2024-%02d-%02dT%02d:00:00Z", 1 + random.int(12), 1 + random.int(28), random.int(24)))
        }
        if chance(75) {
            p["location"] = [
                "lon": .double(Double(random.int(3600)) / 100 - 18),
                "lat": .double(Double(random.int(1800)) / 100 + 40),
            ]
        }
        if chance(50) { p["ref"] = .string(pick(Self.uuids)) }
        if chance(70) {
            p["text"] = .string(
                (0..<(1 + random.int(5))).map { _ in pick(Self.words) }.joined(separator: chance(50) ? " " : ", "))
        }
        if chance(60) {
            p["reviews"] = .array(
                (0..<random.int(3)).map { _ in
                    ["stars": .int(Int64(1 + random.int(5))), "who": .string(pick(["ann", "bob", "cy"]))]
                })
        }
        if chance(20) { p["note"] = chance(50) ? .null : "x" }
        if chance(50) { p["tenant"] = .string("t\(random.int(4))") }
        return p
    }

    static let uuids = [
        "0b7e7c5a-1a1e-4c59-9b7b-6c1f8a3a9d01", "2f4e6a8c-0b1d-4e3f-8a5b-7c9d1e2f3a40",
        "9D4F1C2B-3A5E-4F60-8B7C-1D2E3F4A5B6C",
    ]

    /// A random condition over the generated fields.
    static let conditionKinds = 26

    mutating func condition(depth: Int = 0, kind: Int? = nil) -> Condition {
        func field(_ key: String, _ test: FieldCondition.Test) -> Condition {
            .field(FieldCondition(key: try! PayloadPath(key), test))
        }
        switch kind ?? random.int(depth < 2 ? Self.conditionKinds + 2 : Self.conditionKinds) {
        case 0: return field("city", .match(.value(.keyword(pick(Self.cities)))))
        case 1:
            return field("city", .match(.any([.keyword(pick(Self.cities)), .keyword(pick(Self.cities)), .integer(1)])))
        case 2: return field("city", .match(.except([.keyword(pick(Self.cities)), .keyword(pick(Self.cities))])))
        case 3: return field("tags", .match(.value(.keyword(pick(Self.words)))))
        case 4: return field("price", .range(RangeBounds(gte: Double(random.int(50)), lt: Double(50 + random.int(50)))))
        case 5: return field("count", .match(.value(.integer(Int64(random.int(10))))))
        case 6: return field("count", .range(RangeBounds(gt: Double(random.int(5)), lte: Double(5 + random.int(5)))))
        case 7: return field("sold", .match(.value(.bool(chance(50)))))
        case 8:
            let month = 1 + random.int(11)
            return field(
                "created",
                .range(
                    RangeBounds(
                        kind: .datetime, gte: Double(Datetime.microseconds(String(format: "2024-%02d-01", month))!),
                        lt: Double(Datetime.microseconds(String(format: "2024-%02d-15", month + 1))!))))
        case 9:
            let lon = Double(random.int(30)) - 18, lat = Double(random.int(15)) + 40
            return field(
                "location",
                .geoBoundingBox(
                    GeoBoundingBox(
                        topLeft: GeoPoint(lon: lon, lat: lat + 5), bottomRight: GeoPoint(lon: lon + 8, lat: lat))))
        case 10:
            return field(
                "location",
                .geoRadius(
                    GeoRadius(
                        center: GeoPoint(lon: Double(random.int(30)) - 15, lat: Double(random.int(15)) + 42),
                        radius: 600_000)))
        case 11:
            let lon = Double(random.int(25)) - 15, lat = Double(random.int(10)) + 42
            let ring = [
                GeoPoint(lon: lon, lat: lat), GeoPoint(lon: lon + 10, lat: lat), GeoPoint(lon: lon + 5, lat: lat + 8),
                GeoPoint(lon: lon, lat: lat),
            ]
            return field("location", .geoPolygon(GeoPolygon(exterior: ring)))
        case 12: return field("tags", .valuesCount(RangeBounds(gte: Double(1 + random.int(2)))))
        case 13: return .isEmpty(key: try! PayloadPath(pick(["tags", "note", "reviews", "city", "ref"])))
        case 14: return .isNull(key: try! PayloadPath("note"))
        case 15: return .hasID(Set((0..<5).map { _ in PointID.number(UInt64(random.int(400))) }))
        case 16: return field("ref", .match(.value(.keyword(pick(Self.uuids)))))
        case 17: return field("text", .match(.text(pick(Self.words) + " " + pick(Self.words))))
        case 18: return field("text", .match(.phrase(pick(Self.words) + " " + pick(Self.words))))
        case 19:
            return .nested(
                key: try! PayloadPath("reviews"),
                filter: Filter(must: [
                    .field(
                        FieldCondition(key: try! PayloadPath("who"), .match(.value(.keyword(pick(["ann", "bob"])))))),
                    .field(
                        FieldCondition(
                            key: try! PayloadPath("stars"), .range(RangeBounds(gte: Double(1 + random.int(5)))))),
                ]))
        case 20:
            return field(
                "reviews[].stars",
                .match(.any([.integer(Int64(1 + random.int(5))), .integer(Int64(1 + random.int(5)))])))
        case 21: return field("tenant", .match(.value(.keyword("t\(random.int(4))"))))
        case 22: return field("text", .match(.textAny(pick(Self.words) + " " + pick(Self.words))))
        case 23:
            let (key, values) = chance(50) ? ("city", Self.cities) : ("tags", Self.words)
            return field(key, .match(.prefix(String(pick(values).prefix(1 + random.int(2))))))
        case 24:
            let (key, values) = chance(50) ? ("city", Self.cities) : ("tags", Self.words)
            return field(key, .match(.substring(String(pick(values).dropFirst()))))
        case 25: return .slice(PointSlice(index: UInt32(random.int(3)), total: 3))
        default: return .filter(filter(depth: depth + 1))
        }
    }

    mutating func filter(depth: Int = 0) -> Filter {
        var f = Filter()
        for _ in 0..<random.int(3) { f.must.append(condition(depth: depth)) }
        if chance(40) { for _ in 0..<(1 + random.int(2)) { f.should.append(condition(depth: depth)) } }
        if chance(30) { f.mustNot.append(condition(depth: depth)) }
        if chance(10) {
            f.minShould = Filter.MinShould(
                conditions: (0..<3).map { _ in condition(depth: depth) }, minCount: 1 + random.int(2))
        }
        return f
    }

    mutating func point(_ id: UInt64) -> PointStruct {
        PointStruct(id: .number(id), vector: random.vector(Self.dim), payload: payload())
    }
}

/// The plain in-memory model: id → point.
struct FilterModel {
    var points: [PointID: PointStruct] = [:]
    var tokenizers: [PayloadPath: TextTokenizer] = [:]

    func matching(_ filter: Filter) -> [PointID] {
        let settings = FilterSettings(tokenizers: tokenizers)
        return points.values.filter { point in
            filter.matches(
                FilterSubject(id: point.id, payload: point.payload, hasVector: { point.vectors[$0] != nil }),
                settings: settings)
        }.map(\.id).sorted()
    }

    /// Exact top-`limit` ids by Euclid distance among the matching points (ties by id).
    func search(_ query: [Float], filter: Filter, limit: Int) -> [PointID] {
        var scored: [(id: PointID, score: Float)] = []
        for id in matching(filter) {
            let vector: [Float] = points[id]!.vectors[""]!
            scored.append((id, referenceScore(query, vector, .euclid)))
        }
        scored.sort { a, b in a.score != b.score ? a.score < b.score : a.id < b.id }
        return scored.prefix(limit).map { $0.id }
    }
}
