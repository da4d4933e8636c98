import Foundation
@testable import Strata
import StrataIO
import StrataTestSupport
import StrataVectorMath
import Testing

/// `float16` and `uint8` vectors (Qdrant's `datatype`): values are rounded
/// when written, the rounded vectors are what is stored, returned and
/// searched, in the mutable segment and in compact immutable segments (graph,
/// quantization and exact scan), across reopen; config.json is version 4.
@Suite struct VectorDatatypeTests {
    static let dim = 24

    static func config(_ datatype: VectorDatatype, _ distance: Distance, quantized: Bool = false) -> CollectionConfig {
        CollectionConfig(
            vectors: [
                "": VectorParams(size: dim, distance: distance, datatype: datatype),
                "plain": VectorParams(size: 3, distance: .dot),
            ],
            optimizers: OptimizersConfig(defaultSegmentNumber: 2, indexingThresholdKB: 1, flushIntervalSec: 3600),
            hnswConfig: HnswConfig(m: 16, efConstruct: 100, fullScanThresholdKB: 1),
            quantizationConfig: quantized ? .scalar() : nil)
    }

    /// Vectors in the datatype's natural range: bytes 0…255, or floats.
    static func vector(_ random: inout SeededGenerator, _ datatype: VectorDatatype) -> [Float] {
        datatype == .uint8 ? random.floats(dim, in: 0...255.9) : random.floats(dim, in: -3...3)
    }

    /// Exact scores in Double over the stored (rounded) vectors; `rawCosine`:
    /// Cosine over vectors that are not normalised (uint8).
    static func referenceTop(
        _ stored: [PointID: [Float]], _ query: [Float], _ distance: Distance, limit: Int, rawCosine: Bool = false
    ) -> [(id: PointID, score: Double)] {
        var hits = stored.map { id, v -> (id: PointID, score: Double) in
            let pairs = zip(query, v).map { (Double($0), Double($1)) }
            let dot = pairs.reduce(0) { $0 + $1.0 * $1.1 }
            let norms = (pairs.reduce(0) { $0 + $1.0 * $1.0 } * pairs.reduce(0) { $0 + $1.1 * $1.1 }).squareRoot()
            let score: Double =
                switch distance {
                case .cosine where rawCosine: norms > 0 ? dot / norms : 0
                case .cosine, .dot: dot
                case .euclid: pairs.reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot()
                case .manhattan: pairs.reduce(0) { $0 + abs($1.0 - $1.1) }
                }
            return (id, score)
        }
        hits.sort { distance.higherIsBetter ? $0.score > $1.score : $0.score < $1.score }
        return Array(hits.prefix(limit))
    }

    static let cases: [(VectorDatatype, Distance)] = [
        (.float16, .cosine), (.float16, .dot), (.float16, .euclid), (.uint8, .cosine), (.uint8, .dot),
        (.uint8, .euclid), (.uint8, .manhattan),
    ]

    @Test(arguments: cases)
    func storedSearchedAndReturnedRounded(datatype: VectorDatatype, distance: Distance) async throws {
        var random = SeededGenerator.forTest("storedSearchedAndReturnedRounded(\(datatype),\(distance))")
        try await withTemporaryDirectory { dir in
            var given: [PointID: [Float]] = [:]
            var expected: [PointID: [Float]] = [:]
            let rawCosine = datatype == .uint8 && distance == .cosine
            func expectedStored(_ v: [Float]) -> [Float] {
                guard distance == .cosine && !rawCosine else { return datatype.rounded(v) }
                var unit = v
                _ = VectorKernels.normalize(&unit)
                return datatype.rounded(unit)
            }
            let db = try Database.open(at: dir)
            let collection = try db.createCollection("c", config: Self.config(datatype, distance, quantized: true))
            for batch in 0..<3 {
                var points: [PointStruct] = []
                for i in 0..<200 {
                    let id = PointID.number(UInt64(batch * 200 + i))
                    let v = Self.vector(&random, datatype)
                    given[id] = v
                    expected[id] = expectedStored(v)
                    points.append(PointStruct(id: id, vectors: ["": v, "plain": [1, 2, 3]]))
                }
                try await collection.upsert(points)
                if batch < 2 { try collection.flush() }
            }
            // Stored values are the rounded ones, in RAM and in compact segments alike.
            for id in [PointID.number(5), .number(250), .number(599)] {
                let record = try #require(try collection.retrieve([id], withVector: true).first)
                #expect(record.vectors?[""] == expected[id], "point \(id)")
                #expect(record.vectors?["plain"] == [1, 2, 3])
            }
            if datatype == .uint8 { #expect(expected.values.allSatisfy { $0.allSatisfy { $0 == $0.rounded() } }) }
            #expect(given != expected)  // the rounding did something

            func check(_ label: String) throws {
                for _ in 0..<8 {
                    let rawQuery = Self.vector(&random, datatype)
                    let query = expectedStored(rawQuery)
                    let all = Self.referenceTop(expected, query, distance, limit: .max, rawCosine: rawCosine)
                    let reference = Array(all.prefix(10))
                    let truth = Dictionary(uniqueKeysWithValues: all.map { ($0.id, $0.score) })
                    let exact = try collection.search(rawQuery, limit: 10, params: SearchParams(exact: true))
                    func close(_ a: Double, _ b: Double) -> Bool { abs(a - b) <= 1e-4 * max(1, abs(b)) }
                    // The same scores in the same order, each the true score of its point (uint8
                    // distances are often whole numbers, so equal scores may list other ids).
                    #expect(exact.count == reference.count, "\(label): hit count")
                    for (hit, want) in zip(exact, reference) {
                        #expect(close(Double(hit.score), want.score), "\(label): \(hit.score) vs \(want.score)")
                        #expect(
                            close(Double(hit.score), truth[hit.id] ?? .nan), "\(label): score of \(hit.id)")
                    }
                    let eleven = all.prefix(11)
                    let distinct = zip(eleven, eleven.dropFirst()).allSatisfy { $0.score != $1.score }
                    if distinct { #expect(exact.map(\.id) == reference.map(\.id), "\(label): exact ids") }
                    // Graph (with quantization and rescoring): most of the exact top 10.
                    let graph = try collection.search(rawQuery, limit: 10, params: SearchParams(hnswEf: 128))
                    // Hits as good as the exact 10th (ties included).
                    let cutoff = reference.last!.score
                    let overlap = graph.filter { hit in
                        let score = truth[hit.id]!
                        return distance.higherIsBetter ? score >= cutoff - 1e-9 : score <= cutoff + 1e-9
                    }.count
                    #expect(overlap >= 8, "\(label): graph search found \(overlap) of the exact top 10")
                }
            }
            try check("mixed segments")
            #expect(collection.storageInfo.segments.count >= 1)
            try collection.flush()
            try collection.optimize()
            try check("optimized")
            #expect(collection.verify().isEmpty)
            db.close()

            let reopened = try Database.open(at: dir)
            let again = try reopened.collection(named: "c")
            #expect(again.config.vectors[""]?.datatype == datatype)
            let record = try #require(try again.retrieve([7], withVector: true).first)
            #expect(record.vectors?[""] == expected[7])
            let configText = String(decoding: try readFile(joinPath(dir, "collections/c/config.json")), as: UTF8.self)
            #expect(
                configText.contains("\"formatVersion\" : 4") && configText.contains("\"datatype\" : \"\(datatype)\""))
            reopened.close()
        }
    }

    /// The segments of a compact vector are 2x / 4x smaller than float32's.
    @Test func compactSegmentsAreSmaller() async throws {
        var random = SeededGenerator.forTest()
        try await withTemporaryDirectory { dir in
            let db = try Database.open(at: dir)
            var sizes: [VectorDatatype: Int] = [:]
            for datatype in VectorDatatype.allCases {
                let collection = try db.createCollection(
                    "c-\(datatype)",
                    config: CollectionConfig(
                        vectors: ["": VectorParams(size: 64, distance: .dot, datatype: datatype)],
                        optimizers: OptimizersConfig(indexingThresholdKB: 1_000_000, flushIntervalSec: 3600)))
                try await collection.upsert(
                    (0..<500).map { PointStruct(id: .number(UInt64($0)), vector: random.floats(64, in: 0...200)) })
                try collection.flush()
                sizes[datatype] =
                    collection.storageInfo.segments.flatMap(\.sections).first { $0.name == "vectors[].data" }?.bytes
                    ?? 0
            }
            #expect(sizes[.float32] == 500 * 64 * 4)
            #expect(sizes[.float16] == 500 * 64 * 2)
            #expect(sizes[.uint8] == 500 * 64)
            db.close()
        }
    }

    /// The mutable segment is sealed when its vectors take `indexing_threshold`
    /// in their datatype, so a sealed float16 segment is big enough for its graph
    /// (counted as float32 it would seal at half that and never be indexed).
    @Test func compactSegmentsAreSealedIndexed() async throws {
        var random = SeededGenerator.forTest()
        try await withTemporaryDirectory { dir in
            let db = try Database.open(at: dir)
            let collection = try db.createCollection(
                "c",
                config: CollectionConfig(
                    vectors: ["": VectorParams(size: 64, distance: .dot, datatype: .float16)],
                    optimizers: OptimizersConfig(
                        defaultSegmentNumber: 8, indexingThresholdKB: 64, flushIntervalSec: 3600)))
            for batch in 0..<12 {
                try await collection.upsert(
                    (0..<50).map { PointStruct(id: .number(UInt64(batch * 50 + $0)), vector: random.floats(64)) })
            }
            try collection.flush()
            let segments = collection.storageInfo.segments
            // 64 KiB of 128-byte rows is 512 points: sealed after the batch that
            // passes it (550 points) and indexed; the last 50 flushed unindexed.
            // Counted as float32 it would have sealed at 300 points, 37.5 KiB stored: no graph.
            #expect(segments.map(\.points).sorted() == [50, 550], "\(segments.map(\.points))")
            for segment in segments {
                #expect(segment.sections.contains { $0.name == "hnsw[]" } == (segment.points == 550))
            }
            db.close()
        }
    }

    @Test func unsupportedOrUnrepresentableInputIsRefused() async throws {
        try await withTemporaryDirectory { dir in
            let db = try Database.open(at: dir)
            #expect(throws: StrataError.self) {
                _ = try db.createCollection(
                    "bytes-cosine-multi",
                    config: CollectionConfig(vectors: [
                        "": VectorParams(
                            size: 2, distance: .cosine, multivectorConfig: MultiVectorConfig(), datatype: .uint8)
                    ]))
            }
            // uint8 under Cosine: raw bytes, scored by their cosine; a zero vector scores 0 (as Qdrant).
            let bytes = try db.createCollection(
                "bytes-cosine",
                config: CollectionConfig(vectors: ["": VectorParams(size: 2, distance: .cosine, datatype: .uint8)]))
            try await bytes.upsert([
                PointStruct(id: 1, vector: [3, 4]), PointStruct(id: 2, vector: [0, 0]),
                PointStruct(id: 3, vector: [10, 0]),
            ])
            #expect(try bytes.retrieve([1], withVector: true).first?.vectors?[""] == [3, 4])
            let hits = try bytes.search([6, 8], limit: 3)
            #expect(hits.map(\.id) == [1, 3, 2])
            #expect(abs(hits[0].score - 1) < 1e-6 && abs(hits[1].score - 0.6) < 1e-6 && hits[2].score == 0)
            let half = try db.createCollection(
                "half",
                config: CollectionConfig(vectors: ["": VectorParams(size: 2, distance: .dot, datatype: .float16)]))
            await #expect(throws: StrataError.self) { try await half.upsert([PointStruct(id: 1, vector: [1, 70000])]) }
            #expect(half.count() == 0)
            try await half.upsert([PointStruct(id: 1, vector: [1, 65504])])
            #expect(try half.retrieve([1], withVector: true).first?.vectors?[""] == [1, 65504])
            db.close()
        }
    }
}
