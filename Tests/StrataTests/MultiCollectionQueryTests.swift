import Foundation
import Strata
import StrataTestSupport
import Testing

/// `Database.query(_:collections:filters:)` (issue 20): exact merge of one
/// query over several collections.
@Suite struct MultiCollectionQueryTests {
    @Test func theMergeEqualsOneSortOfEveryCollectionsPoints() async throws {
        let dir = TemporaryDirectory()
        let db = try Database.open(at: dir.path)
        defer { db.close() }
        var rng = SeededGenerator(seed: 3)
        var all: [(distance: Float, rank: Int, id: UInt64, collection: String)] = []
        let query: [Float] = [0.3, -0.2, 0.5]
        for (rank, name) in ["a", "b", "c"].enumerated() {
            let c = try db.createCollection(name, config: CollectionConfig(size: 3, distance: .euclid))
            var points: [PointStruct] = []
            for id in 0..<40 {
                let v = (0..<3).map { _ in Float(Int(rng.next() % 2001) - 1000) / 1000 }
                points.append(PointStruct(id: .number(UInt64(id)), vector: v, payload: ["n": .int(Int64(id))]))
                let d = zip(v, query).map { ($0 - $1) * ($0 - $1) }.reduce(0, +).squareRoot()
                if name != "c" || id < 20 { all.append((d, rank, UInt64(id), name)) }
            }
            try await c.upsert(points)
        }
        try db.updateAliases([.create(alias: "the-c", collection: "c")])
        all.sort { ($0.distance, $0.rank, $0.id) < ($1.distance, $1.rank, $1.id) }
        var request = QueryRequest(query: .nearest(.vector(.dense(query))), limit: 9, offset: 4)
        request.params.exact = true
        let onlyLow = Filter(must: [.field(FieldCondition(key: try PayloadPath("n"), .range(RangeBounds(lt: 20))))])
        let hits = try db.query(request, collections: ["a", "b", "the-c"], filters: ["the-c": onlyLow])
        #expect(hits.map { "\($0.collection)/\($0.point.id)" } == all[4..<13].map { "\($0.collection)/\($0.id)" })
        for (hit, expected) in zip(hits, all[4..<13]) { #expect(abs(hit.point.score - expected.distance) < 1e-4) }

        _ = try db.createCollection("d", config: CollectionConfig(size: 3, distance: .dot))
        for bad in [["a", "d"], [], ["a", "a"], ["a", "missing"]] {
            #expect(throws: StrataError.self) { try db.query(request, collections: bad) }
        }
        #expect(throws: StrataError.self) {
            try db.query(QueryRequest(query: .sampleRandom), collections: ["a", "b"])
        }
    }
}
