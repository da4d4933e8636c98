import Foundation
import StrataPayload

/// The checks of the `PayloadFilterFuzz` target (fuzz/), shared with the test
/// that replays its corpus. Byte 0 picks the parser, the rest is its input:
/// - even: a payload-index section (`FieldIndex.decode`, key "k", the point count
///   from the input's own header so the structure checks are reached), then every
///   kind of condition answered by the decoded index, checked against its bounds;
/// - odd: filter JSON, then its evaluation on a fixed set of payloads — by the
///   reference evaluator and by `SegmentFilter` over the same points with and
///   without field indexes, which must agree — and a JSON round trip.
/// Any input ends in a value or a thrown error; a broken invariant traps.
public enum PayloadFilterFuzzCheck {
    /// Runs the checks on one input; returns whether it parsed.
    @discardableResult
    public static func run(_ bytes: [UInt8]) -> Bool {
        guard let first = bytes.first else { return false }
        let body = Array(bytes.dropFirst())
        return body.withUnsafeBytes { body in
            first % 2 == 0 ? checkIndex(body) : checkFilter(body)
        }
    }

    private static func checkIndex(_ body: UnsafeRawBufferPointer) -> Bool {
        var count = 0
        if body.count >= 24 {
            count = Int(min(body.loadUnaligned(fromByteOffset: 16, as: UInt64.self).littleEndian, 1 << 16))
        }
        guard let index = try? FieldIndex.decode(body, key: try! PayloadPath("k"), pointCount: count) else {
            return false
        }
        for test in probeTests {
            if let (bits, _) = index.evaluate(test) {
                precondition(bits.count == count && bits.offsets.allSatisfy { $0 < count })
            }
            _ = index.estimate(test)
        }
        let all = PointBitset(count: count, allSet: true)
        _ = index.facetCounts(allowed: all)
        precondition(index.ordered(allowed: all, descending: true).allSatisfy { $0.offset < count })
        precondition(index.emptyPoints().count == count)
        return true
    }

    private static func checkFilter(_ body: UnsafeRawBufferPointer) -> Bool {
        guard let filter = try? JSONDecoder().decode(Filter.self, from: Data(body)) else { return false }
        let settings = FilterSettings(tokenizers: [try! PayloadPath("t"): TextTokenizer()])
        let reference = samplePayloads.indices.filter { offset in
            filter.matches(
                FilterSubject(
                    id: .number(UInt64(offset)), payload: samplePayloads[offset],
                    hasVector: { $0.isEmpty || offset % 2 == 0 }), settings: settings)
        }
        for indexes in [sampleIndexes, [:]] {
            let matched = try! SegmentFilter.matching(
                filter, in: Points(payloads: samplePayloads, indexes: indexes), settings: settings)
            precondition(matched.offsets == reference, "index answers differ from the reference for \(filter.json)")
        }
        let again = try! JSONDecoder().decode(Filter.self, from: JSONEncoder().encode(filter))
        precondition(again.json == filter.json, "the JSON form does not round-trip: \(filter.json)")
        return true
    }

    struct Points: FilterableSegment {
        let payloads: [Payload?]
        let indexes: [PayloadPath: FieldIndex]
        var filterPointCount: Int { payloads.count }
        func filterLivePoints() -> PointBitset { PointBitset(count: payloads.count, allSet: true) }
        func filterIndex(for key: PayloadPath) -> FieldIndex? { indexes[key] }
        func filterOffsets(of ids: Set<PointID>) -> [Int] {
            ids.compactMap {
                if case .number(let n) = $0, n < UInt64(payloads.count) { return Int(n) } else { return nil }
            }
        }
        func filterHasVector(_ name: String, at offset: Int) -> Bool { name.isEmpty || offset % 2 == 0 }
        func filterSubject(at offset: Int) throws -> FilterSubject {
            FilterSubject(
                id: .number(UInt64(offset)), payload: payloads[offset], hasVector: { $0.isEmpty || offset % 2 == 0 })
        }
    }

    static let samplePayloads: [Payload?] = [
        [
            "k": "a", "n": 1, "f": 1.5, "t": "red fox", "g": ["lon": 1, "lat": 2], "d": "2024-01-01T00:00:00Z",
            "arr": [["x": 1], ["x": 2]],
        ],
        [
            "k": ["a", "b"], "n": [2, 3.5], "b": true, "t": "big red dog", "g": ["lon": -10, "lat": 45],
            "arr": [["x": 3]],
        ],
        nil,
        ["k": 7, "n": "x", "b": false, "d": "2023-05-06", "u": "0b7e7c5a-1a1e-4c59-9b7b-6c1f8a3a9d01", "z": .null],
        [:],
    ]

    static let schemas: [(String, PayloadFieldSchema)] = [
        ("k", PayloadFieldSchema(.keyword)), ("n", PayloadFieldSchema(.integer)), ("f", PayloadFieldSchema(.float)),
        ("b", PayloadFieldSchema(.bool)), ("d", PayloadFieldSchema(.datetime)), ("g", PayloadFieldSchema(.geo)),
        ("t", PayloadFieldSchema(.text)), ("u", PayloadFieldSchema(.uuid)),
    ]

    static let sampleIndexes: [PayloadPath: FieldIndex] = Dictionary(
        uniqueKeysWithValues: schemas.map { key, schema in
            let path = try! PayloadPath(key)
            return (
                path,
                FieldIndex.build(key: path, schema: schema, pointCount: samplePayloads.count) { samplePayloads[$0] }
            )
        })

    static let probeTests: [FieldCondition.Test] = [
        .match(.value(.keyword("a"))), .match(.value(.integer(2))), .match(.value(.bool(true))),
        .match(.any([.keyword("b"), .integer(1)])),
        .match(.except([.keyword("a")])), .match(.text("red")), .match(.phrase("red fox")),
        .range(RangeBounds(gte: 1, lt: 3)), .range(RangeBounds(kind: .datetime, gt: 0)),
        .geoBoundingBox(GeoBoundingBox(topLeft: GeoPoint(lon: -20, lat: 50), bottomRight: GeoPoint(lon: 20, lat: 0))),
        .geoRadius(GeoRadius(center: GeoPoint(lon: 0, lat: 0), radius: 1e6)),
        .valuesCount(RangeBounds(gte: 1)),
    ]
}
