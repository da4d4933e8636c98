import Foundation
@testable import Strata
import StrataTestSupport
import Synchronization
import Testing

/// One query's segments searched on idle cores (`SegmentFanOut`): the same
/// answers, in the same order, with the same errors, as one after the other.
@Suite struct SegmentFanOutTests {
    struct Failure: Error, Equatable { var index: Int }

    static let large = SegmentFanOut.minimumPointsPerTask

    @Test func resultsKeepTheItemsOrder() throws {
        let items = Array(0..<16)
        let results = try SegmentFanOut.parallelMap(items) { item -> Int in
            // Uneven work, so that tasks finish out of order.
            var sum = 0
            for i in 0..<((16 - item) * 20_000) { sum &+= i }
            return item * 10 + (sum == -1 ? 1 : 0)
        }
        #expect(results == items.map { $0 * 10 })
    }

    @Test func theFirstErrorInOrderIsThrownAfterEveryTaskRan() {
        let ran = Atomic<Int>(0)
        let error = #expect(throws: Failure.self) {
            _ = try SegmentFanOut.parallelMap(Array(0..<8)) { item -> Int in
                ran.add(1, ordering: .relaxed)
                if item == 3 || item == 6 { throw Failure(index: item) }
                return item
            }
        }
        #expect(error == Failure(index: 3))
        #expect(ran.load(ordering: .relaxed) == 8)
    }

    @Test(arguments: [
        // (large segments, queries searching including this one, cores, fans out)
        (2, 1, 2, true), (8, 3, 64, true),
        (1, 1, 64, false),  // one large segment: nothing to share
        (0, 1, 64, false),
        (2, 2, 2, false),  // every core has a query already
        (2, 5, 4, false),
        (2, 1, 1, false),  // one core
    ])
    func fansOutOnlyOverLargeSegmentsWithIdleCores(_ row: (Int, Int, Int, Bool)) {
        #expect(SegmentFanOut.fansOut(largeSegments: row.0, searching: row.1, cores: row.2) == row.3)
    }

    /// Two immutable segments of more than `minimumPointsPerTask` points each:
    /// an exact dense search and a sparse search (fanned out on a machine with
    /// idle cores) return the brute-force top 10 over both.
    @Test func searchesOverLargeSegmentsMatchBruteForce() async throws {
        let dimension = 4
        let dir = TemporaryDirectory()
        let db = try Database.open(at: dir.path)
        defer { db.close() }
        let c = try db.createCollection(
            "c",
            config: CollectionConfig(
                vectors: ["": VectorParams(size: dimension, distance: .euclid)],
                optimizers: OptimizersConfig(defaultSegmentNumber: 2, flushIntervalSec: 3600),
                sparseVectors: ["s": SparseVectorParams()]))
        var rng = SeededGenerator(seed: 11)
        let count = Self.large + 500
        var vectors: [[Float]] = []
        var sparse: [SparseVector] = []
        for half in 0..<2 {
            let points = (0..<count).map { i -> PointStruct in
                let vector = (0..<dimension).map { _ in Float(rng.next() % 10_000) / 100 }
                let indices = Set((0..<3).map { _ in UInt32(rng.next() % 200) }).sorted()
                let terms = SparseVector(indices: indices, values: indices.map { _ in Float(rng.next() % 1000) / 100 })
                vectors.append(vector)
                sparse.append(terms)
                return PointStruct(
                    id: .number(UInt64(half * count + i)), vectors: ["": vector], sparseVectors: ["s": terms])
            }
            for start in stride(from: 0, to: points.count, by: 1000) {
                try await c.upsert(Array(points[start..<min(start + 1000, points.count)]))
            }
            try c.flush()
        }
        #expect(c.storageInfo.segments.filter { $0.points >= Self.large }.count == 2)
        for q in 0..<5 {
            let query = vectors[q * 997]
            let expected = vectors.indices.map { (id: $0, distance: referenceScore(query, vectors[$0], .euclid)) }
                .sorted { ($0.distance, $0.id) < ($1.distance, $1.id) }.prefix(10).map { PointID.number(UInt64($0.id)) }
            let hits = try c.search(query, limit: 10, params: SearchParams(exact: true))
            #expect(hits.map { $0.id } == Array(expected))

            let terms = sparse[q * 991]
            let weights = Dictionary(uniqueKeysWithValues: zip(terms.indices, terms.values))
            let sparseExpected = sparse.indices.map { id -> (id: Int, score: Float) in
                (id, zip(sparse[id].indices, sparse[id].values).reduce(Float(0)) { $0 + (weights[$1.0] ?? 0) * $1.1 })
            }
            .filter { $0.score > 0 }.sorted { ($0.score, -$0.id) > ($1.score, -$1.id) }.prefix(10)
            let sparseHits = try c.searchSparse(terms, using: "s", limit: 10)
            #expect(sparseHits.map { $0.id } == sparseExpected.map { PointID.number(UInt64($0.id)) })
        }
    }
}
