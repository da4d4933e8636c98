import Foundation
@testable import Strata
import StrataFuzzChecks
import StrataIO
import StrataSegment
import StrataTestSupport
import Testing

/// Search through the HNSW graphs the optimizer builds into immutable segments,
/// checked against exact search.
@Suite struct IndexedSearchTests {
    static let dim = 16

    /// Segments of ≥ 16 KiB of vectors (256 points) get a graph.
    static func config(distance: Distance = .euclid, quantization: QuantizationConfig? = nil) -> CollectionConfig {
        CollectionConfig(
            size: dim, distance: distance,
            optimizers: OptimizersConfig(defaultSegmentNumber: 2, indexingThresholdKB: 16, flushIntervalSec: 3600),
            hnswConfig: HnswConfig(m: 12, efConstruct: 100), quantizationConfig: quantization)
    }

    /// Clustered points (so the graph has structure to find) with seeded noise.
    static func points(_ count: Int, seed: UInt64) -> [PointStruct] {
        var random = SeededGenerator(seed: seed)
        func uniform() -> Float { Float(random.next() % 10_000) / 10_000 }
        let centres = (0..<8).map { _ in (0..<dim).map { _ in uniform() * 10 } }
        return (0..<count).map { index in
            let centre = centres[index % centres.count]
            return PointStruct(
                id: .number(UInt64(index)), vector: centre.map { $0 + uniform() * 2 },
                payload: ["i": .int(Int64(index))])
        }
    }

    static func queries(_ count: Int, seed: UInt64) -> [[Float]] {
        var random = SeededGenerator(seed: seed)
        return (0..<count).map { _ in (0..<dim).map { _ in Float(random.next() % 10_000) / 1000 } }
    }

    func recall(_ collection: Collection, queries: [[Float]], ef: Int? = nil) throws -> Double {
        var hits = 0
        for query in queries {
            let exact = Set(try collection.search(query, limit: 10, params: SearchParams(exact: true)).map(\.id))
            let approximate = try collection.search(query, limit: 10, params: SearchParams(hnswEf: ef))
            hits += approximate.filter { exact.contains($0.id) }.count
        }
        return Double(hits) / Double(queries.count * 10)
    }

    @Test(arguments: [Distance.euclid, .cosine, .dot])
    func graphSearchFindsTheExactNeighbours(distance: Distance) async throws {
        try await withTemporaryDirectory { dir in
            let db = try Database.open(at: dir)
            let c = try db.createCollection("c", config: Self.config(distance: distance))
            let points = Self.points(3000, seed: 7)
            for start in stride(from: 0, to: points.count, by: 250) {
                try await c.upsert(Array(points[start..<start + 250]))
            }
            try c.optimize()
            let info = c.storageInfo
            #expect(info.mutablePoints == 0)
            #expect(!info.segments.isEmpty && info.segments.allSatisfy { $0.sections.contains { $0.name == "hnsw[]" } })
            let queries = Self.queries(40, seed: 9)
            // Dot product over these all-positive vectors is a maximum-inner-product
            // search, which a proximity graph serves worse (a few large-norm points
            // are everyone's neighbours). Its recall varies between 0.92 and 0.97
            // with the segment boundaries the background optimizer leaves, and a
            // wider beam (ef 256) does not lift the low end: some neighbours are
            // not reachable. Open question, noted for the vector-index work; the
            // bar here is what the graph reliably does today.
            let r = try recall(c, queries: queries, ef: 128)
            #expect(r >= (distance == .dot ? 0.9 : 0.95), "recall@10 \(r)")
            // Scores are the metric's, as the exact scan reports them.
            let query = queries[0]
            let exact = try c.search(query, limit: 3, params: SearchParams(exact: true))
            let graph = try c.search(query, limit: 3, params: SearchParams(hnswEf: 200))
            #expect(exact.map(\.id) == graph.map(\.id))
            for (a, b) in zip(exact, graph) { #expect(abs(a.score - b.score) <= 1e-4 * max(1, abs(a.score))) }
            db.close()
        }
    }

    @Test func deletedAndUpdatedPointsAreNeverReturned() async throws {
        try await withTemporaryDirectory { dir in
            let db = try Database.open(at: dir)
            let c = try db.createCollection("c", config: Self.config())
            let points = Self.points(2000, seed: 3)
            for start in stride(from: 0, to: points.count, by: 500) {
                try await c.upsert(Array(points[start..<start + 500]))
            }
            try c.optimize()
            #expect(c.storageInfo.segments.allSatisfy { $0.sections.contains { $0.name == "hnsw[]" } })
            let deleted = stride(from: 0, to: 2000, by: 3).map { PointID.number(UInt64($0)) }
            try await c.delete(deleted)
            // Move some points far away: the stale graph copies must not answer.
            let moved = (0..<50).map {
                PointStruct(id: .number(UInt64($0 * 3 + 1)), vector: [Float](repeating: 500, count: Self.dim))
            }
            try await c.upsert(moved)
            let deletedSet = Set(deleted)
            for query in Self.queries(30, seed: 5) {
                let hits = try c.search(query, limit: 50, params: SearchParams(hnswEf: 100))
                #expect(hits.count == 50)
                #expect(hits.allSatisfy { !deletedSet.contains($0.id) })
                #expect(Set(hits.map(\.id)).count == hits.count)
                #expect(hits.allSatisfy { hit in !moved.contains { $0.id == hit.id } })
            }
            let far = try c.search([Float](repeating: 500, count: Self.dim), limit: 50)
            #expect(Set(far.map(\.id)) == Set(moved.map(\.id)))
            db.close()
        }
    }

    @Test func graphsSurviveReopenAndGiveTheSameAnswers() async throws {
        try await withTemporaryDirectory { dir in
            let queries = Self.queries(20, seed: 11)
            var before: [[PointID]] = []
            do {
                let db = try Database.open(at: dir)
                let c = try db.createCollection("c", config: Self.config())
                try await c.upsert(Self.points(1500, seed: 1))
                try c.optimize()
                before = try queries.map { try c.search($0, limit: 10).map(\.id) }
                db.close()
            }
            let db = try Database.open(at: dir)
            let c = try db.collection("c")
            #expect(try queries.map { try c.search($0, limit: 10).map(\.id) } == before)
            #expect(c.verify().isEmpty)
            db.close()
        }
    }

    /// The segment file and the byte range of its graph section.
    func graphSection(in dir: String) throws -> (path: String, range: Range<Int>) {
        let segments = dir + "/collections/c/segments"
        let file = try #require(
            try FileManager.default.contentsOfDirectory(atPath: segments).first { $0.hasSuffix(".seg") })
        let path = segments + "/" + file
        let reader = try SegmentReader.open(path: path, fileSystem: POSIXFileSystem())
        return (path, try #require(reader.sectionRanges.first { $0.name == "hnsw[]" }).range)
    }

    @Test func damagedGraphsAreDetectedAndNamed() async throws {
        try await withTemporaryDirectory { dir in
            do {
                let db = try Database.open(at: dir)
                let c = try db.createCollection("c", config: Self.config())
                try await c.upsert(Self.points(600, seed: 2))
                try c.optimize()
                #expect(c.storageInfo.segments.count == 1)
                db.close()
            }
            let (path, range) = try graphSection(in: dir)
            let original = try readFile(path)
            // A flipped bit in a neighbour row: opening does not read the rows, so
            // searches still run (in bounds); verify names the section.
            var bytes = original
            bytes[range.lowerBound + 64 + 4 * 7] ^= 0x10
            try writeFile(path, bytes)
            do {
                let db = try Database.open(at: dir)
                let c = try db.collection("c")
                _ = try c.search(Self.queries(1, seed: 1)[0], limit: 10)
                let problems = c.verify()
                #expect(problems.contains { $0.contains("hnsw[]") && $0.contains(path) }, "\(problems)")
                db.close()
            }
            // A damaged header: with the section checksum fixed up (so only the
            // graph's own checks can catch it), opening fails and names the file.
            bytes = original
            bytes[range.lowerBound + 16] ^= 0x01  // node_count
            recomputeSegmentChecksums(&bytes)
            try writeFile(path, bytes)
            let error = #expect(throws: StrataError.self) { try Database.open(at: dir) }
            #expect(error?.code == .corruption)
            #expect(
                error?.message.contains(path) == true && error?.message.contains("hnsw[]") == true,
                "\(String(describing: error))")
        }
    }

    @Test func damagedQuantizedCodesAreDetectedAndNamed() async throws {
        try await withTemporaryDirectory { dir in
            do {
                let db = try Database.open(at: dir)
                var config = Self.config()
                config.quantizationConfig = .scalar(quantile: nil, alwaysRam: true)
                let c = try db.createCollection("c", config: config)
                try await c.upsert(Self.points(600, seed: 2))
                try c.optimize()
                db.close()
            }
            let segments = dir + "/collections/c/segments"
            let file = try #require(
                try FileManager.default.contentsOfDirectory(atPath: segments).first { $0.hasSuffix(".seg") })
            let path = segments + "/" + file
            let range = try #require(
                try SegmentReader.open(path: path, fileSystem: POSIXFileSystem()).sectionRanges
                    .first { $0.name == "quantized[]" }
            ).range
            var bytes = try readFile(path)
            bytes[range.lowerBound + 2] ^= 0x01  // magic
            recomputeSegmentChecksums(&bytes)
            try writeFile(path, bytes)
            let error = #expect(throws: StrataError.self) { try Database.open(at: dir) }
            #expect(error?.code == .corruption)
            #expect(
                error?.message.contains(path) == true && error?.message.contains("quantized[]") == true,
                "\(String(describing: error))")
        }
    }

    /// Embedding-like points: unit vectors near a 12-dimensional subspace of
    /// `dimension` dimensions (binary codes need many dimensions to rank well).
    static func embeddingPoints(_ count: Int, dimension: Int, seed: UInt64) -> [PointStruct] {
        var random = SeededGenerator(seed: seed)
        func gaussian() -> Float {
            let u = (Double(random.next() >> 11) + 1) / Double(1 << 53),
                v = Double(random.next() >> 11) / Double(1 << 53)
            return Float((-2 * log(u)).squareRoot() * cos(2 * .pi * v))
        }
        let basis = (0..<12).map { _ in (0..<dimension).map { _ in gaussian() } }
        return (0..<count).map { index in
            let weights = (0..<12).map { _ in gaussian() }
            var vector = (0..<dimension).map { d in
                0.1 * gaussian() + zip(weights, basis).reduce(0) { $0 + $1.0 * $1.1[d] }
            }
            let norm = vector.reduce(0) { $0 + $1 * $1 }.squareRoot()
            vector = vector.map { $0 / norm }
            return PointStruct(id: .number(UInt64(index)), vector: vector)
        }
    }

    @Test(arguments: [
        QuantizationConfig.scalar(quantile: nil, alwaysRam: true),
        .binary(encoding: .oneBit, queryEncoding: .scalar8Bits, alwaysRam: true),
        .binary(encoding: .twoBits, queryEncoding: .default, alwaysRam: true),
        .product(compression: .x8, alwaysRam: true),
    ])
    func quantizedSearchRescoresWithFullVectors(quantization: QuantizationConfig) async throws {
        try await withTemporaryDirectory { dir in
            let db = try Database.open(at: dir)
            let dimension = 128
            let config = CollectionConfig(
                size: dimension, distance: .cosine,
                optimizers: OptimizersConfig(defaultSegmentNumber: 2, indexingThresholdKB: 128, flushIntervalSec: 3600),
                hnswConfig: HnswConfig(m: 12, efConstruct: 100), quantizationConfig: quantization)
            let c = try db.createCollection("c", config: config)
            let all = Self.embeddingPoints(3030, dimension: dimension, seed: 4)
            try await c.upsert(Array(all.prefix(3000)))
            try c.optimize()
            #expect(c.storageInfo.segments.allSatisfy { $0.sections.contains { $0.name == "quantized[]" } })
            let queries = all.suffix(30).map { $0.vectors[""]! }
            var hits = 0
            for query in queries {
                let exact = try c.search(query, limit: 10, params: SearchParams(exact: true))
                let found = try c.search(
                    query, limit: 10,
                    params: SearchParams(
                        hnswEf: 128, quantization: QuantizationSearchParams(rescore: true, oversampling: 4)))
                hits += found.filter { f in exact.contains { $0.id == f.id } }.count
                // Rescored hits carry their exact scores.
                let exactScores = try c.search(query, limit: 3000, params: SearchParams(exact: true))
                    .filter { e in found.contains { $0.id == e.id } }
                for hit in found {
                    let want = try #require(exactScores.first { $0.id == hit.id }).score
                    #expect(abs(hit.score - want) <= 1e-4)
                }
            }
            let recall = Double(hits) / Double(queries.count * 10)
            print("quantized search \(quantization): recall@10 \(recall) (ef 128, oversampling 4, rescored)")
            #expect(recall >= 0.9, "\(quantization): recall@10 \(recall)")
            // ignore: the graph walk uses the full vectors; same answers as without codes.
            let ignored = try c.search(
                queries[0], limit: 10,
                params: SearchParams(hnswEf: 200, quantization: QuantizationSearchParams(ignore: true)))
            let exact = try c.search(queries[0], limit: 10, params: SearchParams(exact: true))
            #expect(Set(ignored.map(\.id)).intersection(exact.map(\.id)).count >= 9)
            db.close()
            // Codes survive reopen.
            let reopened = try Database.open(at: dir)
            #expect(try reopened.collection("c").verify().isEmpty)
            reopened.close()
        }
    }

    @Test func indexedOnlyLeavesOutSegmentsWaitingForTheOptimizer() async throws {
        try await withTemporaryDirectory { dir in
            let db = try Database.open(at: dir)
            var config = Self.config()
            config.hnswConfig.fullScanThresholdKB = 1
            let c = try db.createCollection("c", config: config)
            try await c.upsert(Self.points(600, seed: 2))
            try c.optimize()
            // 40 new points (2.5 KiB of vectors) stay in the mutable segment.
            let fresh = (0..<40).map {
                PointStruct(id: .number(UInt64(10_000 + $0)), vector: [Float](repeating: 300, count: Self.dim))
            }
            try await c.upsert(fresh)
            let query = [Float](repeating: 300, count: Self.dim)
            let freshIDs = Set(fresh.map(\.id))
            #expect(try c.search(query, limit: 5).allSatisfy { freshIDs.contains($0.id) })
            let indexed = try c.search(query, limit: 5, params: SearchParams(indexedOnly: true))
            #expect(indexed.count == 5 && indexed.allSatisfy { !freshIDs.contains($0.id) })
            db.close()
        }
    }
}
