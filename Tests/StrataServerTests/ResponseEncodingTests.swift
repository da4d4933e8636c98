import Foundation
import Strata
import StrataJSON
import StrataTestSupport
import Testing

@testable import StrataServer

/// The server's response bodies, written by JSONBodyEncoder, against what
/// JSONEncoder (`.withoutEscapingSlashes`, what the server used) writes for
/// the same values: the same tokens, byte for byte, in the same structure;
/// only the order of an object's members may differ (JSONEncoder's changes
/// from one encoding to the next; ours is the order the types encode them).
@Suite struct ResponseEncodingTests {
    private func reference<T: Encodable>(_ value: T) throws -> [UInt8] { try JSONCanonical.foundationBytes(value) }

    /// `sameBytes`: also the same bytes as the generic path (`encode(to:)` for
    /// every value), for values whose dictionaries are built once: two
    /// dictionaries built alike may iterate in different orders (Swift seeds
    /// each one's hashing), so an `encode(to:)` that builds one per call (the
    /// quantization config's) is compared as JSON only.
    private func expectSameJSON<T: Encodable>(
        _ value: T, sameBytes: Bool = false, _ sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let mine = try Reply.encode(value)
        let canonical = JSONCanonical.canonical(mine)
        #expect(canonical != nil, "not JSON: \(String(decoding: mine, as: UTF8.self))", sourceLocation: sourceLocation)
        #expect(canonical == JSONCanonical.canonical(try reference(value)), sourceLocation: sourceLocation)
        // The types that write themselves (JSONBodyWritable) write the bytes their encode(to:) writes.
        let generic = try JSONBodyEncoder.encodeGenerically(value)
        if sameBytes {
            #expect(
                String(decoding: mine, as: UTF8.self) == String(decoding: generic, as: UTF8.self),
                sourceLocation: sourceLocation)
        } else {
            #expect(canonical == JSONCanonical.canonical(generic), sourceLocation: sourceLocation)
        }
    }

    private func randomPayload(using generator: inout SeededGenerator) -> Payload? {
        switch generator.next() % 4 {
        case 0: return nil
        case 1: return [:]
        default:
            var payload: Payload = [:]
            for index in 0..<Int(generator.next() % 8) {
                let value: JSONValue
                switch generator.next() % 6 {
                case 0: value = .int(Int64(bitPattern: generator.next()))
                case 1: value = .double(Double(Float.random(in: -1e6...1e6, using: &generator)))
                case 2: value = .string("v\(index) \"/\\\n é")
                case 3: value = .array([.bool(true), .null, .int(-1)])
                case 4: value = .object(["nested": .double(1e21), "x": .string("")])
                default: value = .bool(false)
                }
                payload["key\(index)"] = value
            }
            return payload
        }
    }

    private func randomVectors(
        using generator: inout SeededGenerator
    ) -> (
        [String: [Float]]?, [String: SparseVector]?, VectorSelector, [String: Int]
    ) {
        let floats = { (count: Int, generator: inout SeededGenerator) in
            (0..<count).map { _ in Float(bitPattern: UInt32(truncatingIfNeeded: generator.next()) & 0xBF7F_FFFF) }
        }
        switch generator.next() % 6 {
        case 0: return (nil, nil, .none, [:])
        case 1: return ([CollectionConfig.defaultVectorName: floats(8, &generator)], nil, .all, [:])
        case 2:  // a multivector, unnamed
            return ([CollectionConfig.defaultVectorName: floats(6, &generator)], nil, .all, ["": 3])
        case 3:
            return (
                ["a": floats(4, &generator), "b": floats(3, &generator)],
                ["s": SparseVector(indices: [1, 7, 4_000_000_000], values: floats(3, &generator))], .all, [:]
            )
        case 4: return (["a": floats(4, &generator), "m": floats(4, &generator)], nil, .names(["m"]), ["m": 2])
        default: return (nil, ["": SparseVector(indices: [], values: [])], .all, [:])
        }
    }

    private func randomHit(using generator: inout SeededGenerator) -> ScoredPoint {
        let (vectors, sparse, _, _) = randomVectors(using: &generator)
        let id: PointID = generator.next() % 2 == 0 ? .number(generator.next()) : .uuid(UUID())
        let orderValue: Double? =
            switch generator.next() % 3 {
            case 0: nil
            case 1: Double(Int64(bitPattern: generator.next()) >> 20)
            default: Double.random(in: -1e20...1e20, using: &generator)
            }
        return ScoredPoint(
            id: id, version: generator.next(), score: Float.random(in: -2...2, using: &generator),
            payload: randomPayload(using: &generator), vectors: vectors, orderValue: orderValue,
            sparseVectors: sparse)
    }

    @Test func searchScrollAndGroupResultsAreTheSameJSON() throws {
        var generator = SeededGenerator.forTest()
        for _ in 0..<300 {
            let (_, _, selector, rowSizes) = randomVectors(using: &generator)
            let hits = (0..<Int(generator.next() % 5)).map { _ in
                ScoredPointOutput(
                    randomHit(using: &generator), payload: .all, vector: selector, rowSizes: rowSizes)
            }
            try expectSameJSON(Envelope(result: hits, time: 0.5), sameBytes: true)
            try expectSameJSON(Envelope(result: QueryResponseOutput(points: hits), time: 1e-7), sameBytes: true)
            let records = hits.map { hit in
                RecordOutput(
                    Record(id: hit.id, version: hit.version, payload: hit.payload), payload: .all, vector: selector,
                    rowSizes: rowSizes, orderValue: hit.order_value)
            }
            try expectSameJSON(
                Envelope(
                    result: ScrollResultOutput(points: records, next_page_offset: records.first?.id), time: 0.25),
                sameBytes: true)
            let group = PointGroup(
                id: .string("g"), hits: [randomHit(using: &generator)],
                lookup: Record(id: 1, version: 2, payload: randomPayload(using: &generator)))
            try expectSameJSON(
                GroupsResultOutput(groups: [
                    PointGroupOutput(
                        group, payload: .all, vector: .all, rowSizes: [:], lookup: (.all, .all, rowSizes: [:]))
                ]))
        }
        try expectSameJSON(Envelope(result: CountResultOutput(count: 42), time: 0))
        try expectSameJSON(Envelope(result: UpdateResultOutput(operation_id: .max), time: 0))
        try expectSameJSON(Envelope(result: true, time: 0))
        try expectSameJSON(
            AliasesOutput(aliases: [AliasDescriptionOutput(alias_name: "a/b", collection_name: "c\"")]))
        try expectSameJSON(ErrorEnvelope(status: .init(error: "Wrong input: \u{1}\n/"), time: 3.5))
    }

    @Test func membersComeInTheOrderTheTypesEncodeThem() throws {
        let hit = ScoredPointOutput(
            ScoredPoint(id: 7, version: 3, score: 0.5, payload: ["a": 1], vectors: ["": [1, 0.25]], orderValue: 2),
            payload: .all, vector: .all, rowSizes: [:])
        let body = try Reply.encodeOK([hit], elapsed: 0.125)
        #expect(
            String(decoding: body, as: UTF8.self)
                == #"{"result":[{"id":7,"version":3,"score":0.5,"payload":{"a":1},"vector":[1,0.25],"order_value":2}],"status":"ok","time":0.125}"#
        )
        let record = RecordOutput(Record(id: 7, version: 3), payload: .none, vector: .none, rowSizes: [:])
        #expect(
            String(
                decoding: try Reply.encode(ScrollResultOutput(points: [record], next_page_offset: nil)), as: UTF8.self)
                == #"{"points":[{"id":7,"payload":null,"vector":null}],"next_page_offset":null}"#)
    }

    @Test func collectionInfoIsTheSameJSON() async throws {
        try await withServer { client, database in
            let create = #"""
                {"vectors":{"a":{"size":4,"distance":"Cosine","on_disk":true,
                                 "quantization_config":{"scalar":{"type":"int8","quantile":0.99}}},
                            "m":{"size":2,"distance":"Dot","multivector_config":{"comparator":"max_sim"},
                                 "datatype":"float16"}},
                 "sparse_vectors":{"s":{"modifier":"idf"}},
                 "hnsw_config":{"m":8},"metadata":{"team":"x/y"}}
                """#
            #expect(try await client.send(.put, "/collections/c", json: create).status == 200)
            #expect(
                try await client.send(
                    .put, "/collections/c/index", json: #"{"field_name":"t","field_schema":"keyword"}"#
                ).status == 200)
            let info = CollectionInfoOutput(collection: try database.collection("c"), walFileSize: 32 << 20)
            try expectSameJSON(Envelope(result: info, time: 0.01))
            #expect(
                try await client.send(.put, "/collections/d", json: #"{"vectors":{"size":3,"distance":"Euclid"}}"#)
                    .status == 200)
            try expectSameJSON(CollectionInfoOutput(collection: try database.collection("d"), walFileSize: 1 << 20))
            // The bytes on the wire are the encoder's.
            let (status, body, text) = try await client.send(.post, "/collections/c/points/count", json: "{}")
            #expect(status == 200)
            #expect(text.hasPrefix(#"{"result":{"count":0},"status":"ok","time":"#))
            #expect(body?["result"]?["count"] == .int(0))
            let missing = try await client.send(.get, "/collections/nope")
            #expect(missing.status == 404)
            #expect(missing.text.hasPrefix(#"{"status":{"error":"#))
        }
    }

    @Test func benchmarkBodiesAreTheSameJSON() throws {
        for body in JSONCodecBenchmark.Body.allCases {
            let (strata, foundation) = try JSONCodecBenchmark.encodedBodies(body)
            #expect(JSONCanonical.canonical(strata) != nil)
            #expect(JSONCanonical.canonical(strata) == JSONCanonical.canonical(foundation))
            let measurement = try JSONCodecBenchmark.measure(body, encoder: .strata, iterations: 1)
            #expect(measurement.bytes == strata.count)
        }
    }

    /// A NaN score cannot be written: the same error (and so the same 500
    /// message) as JSONEncoder's.
    @Test func nonFiniteNumbersFailAsJSONEncoderFails() throws {
        let hit = ScoredPointOutput(
            ScoredPoint(id: 1, version: 1, score: 1, payload: ["p": .array([.double(.infinity)])]), payload: .all,
            vector: .none, rowSizes: [:])
        var mine: (any Error)?
        var theirs: (any Error)?
        do { _ = try Reply.encodeOK([hit], elapsed: 0) } catch { mine = error }
        do { _ = try reference(Envelope(result: [hit], time: 0)) } catch { theirs = error }
        #expect(mine != nil)
        #expect(APIError.from(mine!).message == APIError.from(theirs!).message)
        #expect(APIError.from(mine!).message.contains("Path: result[0].payload.p[0]"))
    }
}
