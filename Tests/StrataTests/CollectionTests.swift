import Foundation
import Strata
import StrataTestSupport
import Testing

@Suite struct CollectionTests {
    func withCollection(_ config: CollectionConfig, _ body: (Collection) async throws -> Void) async throws {
        let dir = TemporaryDirectory()
        let db = try Database.open(at: dir.path)
        defer { db.close() }
        try await body(try db.createCollection("c", config: config))
    }

    @Test func invalidPointsAreRejectedAndChangeNothing() async throws {
        try await withCollection(CollectionConfig(size: 3, distance: .cosine)) { c in
            try await c.upsert([PointStruct(id: 1, vector: [1, 0, 0])])
            let bad: [[PointStruct]] = [
                [PointStruct(id: 2, vector: [1, 0])],  // wrong dimension
                [PointStruct(id: 2, vector: [1, .nan, 0])],
                [PointStruct(id: 2, vector: [1, .infinity, 0])],
                [PointStruct(id: 2, vector: [0, 0, 0])],  // zero vector under cosine
                [PointStruct(id: 2, vectors: ["other": [1, 0, 0]])],  // unknown name
                [PointStruct(id: 2, vector: [1, 1, 1]), PointStruct(id: 3, vector: [1])],  // one bad point spoils the batch
                [PointStruct(id: 2, vector: [1, 1, 1], payload: ["x": .double(.nan)])],
            ]
            for batch in bad {
                let error = await #expect(throws: StrataError.self) { try await c.upsert(batch) }
                #expect(error?.code == .invalidArgument)
                #expect(error?.message.isEmpty == false)
            }
            #expect(c.count() == 1)
            #expect(c.walStatistics.records == 1)
        }
    }

    /// Qdrant allows a collection without vectors (`vectors_config={}`): a
    /// payload store with filters, ordering and ids, through flush, merge and reopen.
    @Test func collectionWithoutVectorsKeepsPayloadsThroughFlushMergeAndReopen() async throws {
        let dir = TemporaryDirectory()
        do {
            let db = try Database.open(at: dir.path)
            defer { db.close() }
            let c = try db.createCollection("c", config: CollectionConfig(vectors: [:]))
            try await c.createFieldIndex("n", schema: PayloadFieldSchema(.integer))
            for batch in 0..<4 {
                try await c.upsert(
                    (0..<25).map { i in
                        PointStruct(id: .number(UInt64(batch * 25 + i)), vectors: [:], payload: ["n": .int(Int64(i))])
                    })
                try c.flush()
            }
            try c.optimize()
            let error = await #expect(throws: StrataError.self) {
                try await c.upsert([PointStruct(id: 1, vector: [0.1, 0.2])])
            }
            #expect(error?.code == .invalidArgument)
            #expect(c.count() == 100)
        }
        let db = try Database.open(at: dir.path)
        defer { db.close() }
        let c = try db.collection("c")
        #expect(c.count() == 100)
        let n3 = Filter(must: [.field(FieldCondition(key: try PayloadPath("n"), .match(.value(.integer(3)))))])
        #expect(try c.count(filter: n3) == 4)
        #expect(try c.retrieve([.number(99)]).first?.payload == ["n": 24])
    }

    @Test func errorMessagesSayWhatIsWrong() async throws {
        try await withCollection(CollectionConfig(size: 3, distance: .dot)) { c in
            let error = await #expect(throws: StrataError.self) {
                try await c.upsert([PointStruct(id: 9, vector: [1, 2])])
            }
            #expect(error?.message.contains("expected 3, got 2") == true)
            #expect(error?.message.contains("point 9") == true)
        }
    }

    @Test func cosineVectorsAreNormalisedAndScoredAsDotProduct() async throws {
        try await withCollection(CollectionConfig(size: 2, distance: .cosine)) { c in
            try await c.upsert([PointStruct(id: 1, vector: [3, 4]), PointStruct(id: 2, vector: [0, 2])])
            let stored = try #require(c.retrieve([1], withVector: true).first?.vectors?[""])
            #expect(abs(stored[0] - 0.6) < 1e-6 && abs(stored[1] - 0.8) < 1e-6)
            let hits = try c.search([0, 10], limit: 2)
            #expect(hits.map(\.id) == [2, 1])
            #expect(abs(hits[0].score - 1) < 1e-6)
            #expect(abs(hits[1].score - 0.8) < 1e-6)
        }
    }

    @Test(arguments: [Distance.dot, .cosine, .euclid, .manhattan])
    func exactSearchMatchesBruteForce(distance: Distance) async throws {
        var random = SeededGenerator.printing(seed: 0x5EED + UInt64(distance.rawValue.count))
        try await withCollection(CollectionConfig(size: 19, distance: distance)) { c in
            var stored: [UInt64: [Float]] = [:]
            for batch in 0..<10 {
                let points = (0..<100).map { i -> PointStruct in
                    PointStruct(id: .number(UInt64(batch * 100 + i)), vector: random.vector(19))
                }
                try await c.upsert(points)
            }
            for record in try c.scroll(limit: .max, withVector: true).points {
                guard case .number(let id) = record.id else { continue }
                stored[id] = record.vectors?[""]
            }
            try await c.delete((0..<50).map { PointID.number(UInt64($0 * 3)) })
            for id in (0..<50).map({ UInt64($0 * 3) }) { stored[id] = nil }
            for _ in 0..<20 {
                var query = random.vector(19)
                if distance == .cosine {
                    let norm = query.reduce(0) { $0 + $1 * $1 }.squareRoot()
                    query = query.map { $0 / norm }
                }
                let hits = try c.search(query, limit: 10)
                let reference = stored.map { (id: $0.key, score: referenceScore($0.value, query, distance)) }
                    .sorted { distance.higherIsBetter ? $0.score > $1.score : $0.score < $1.score }
                    .prefix(10)
                #expect(hits.count == 10)
                for (hit, want) in zip(hits, reference) {
                    #expect(abs(hit.score - want.score) <= 1e-4 * max(1, abs(want.score)))
                }
            }
        }
    }

    @Test func payloadOperationsFollowQdrantSemantics() async throws {
        try await withCollection(CollectionConfig(size: 1, distance: .dot)) { c in
            try await c.upsert([
                PointStruct(id: 1, vector: [1], payload: ["a": 1, "b": 2]),
                PointStruct(id: 2, vector: [1]),
            ])
            try await c.setPayload(["b": 3, "c": "x"], for: [1, 2, 99])
            #expect(try c.retrieve([1]).first?.payload == ["a": 1, "b": 3, "c": "x"])
            #expect(try c.retrieve([2]).first?.payload == ["b": 3, "c": "x"])
            try await c.deletePayloadKeys(["a", "c"], for: [1])
            #expect(try c.retrieve([1]).first?.payload == ["b": 3])
            try await c.overwritePayload(["z": true], for: [1])
            #expect(try c.retrieve([1]).first?.payload == ["z": true])
            try await c.clearPayload(for: [1, 2])
            #expect(try c.retrieve([1, 2]).map(\.payload) == [[:], [:]])
            #expect(c.count() == 2)  // id 99 was not created
        }
    }

    @Test func repeatedIdInOneBatchKeepsTheLastOccurrence() async throws {
        try await withCollection(CollectionConfig(size: 1, distance: .dot)) { c in
            try await c.upsert([
                PointStruct(id: 1, vector: [1], payload: ["v": 1]),
                PointStruct(id: 1, vector: [2], payload: ["v": 2]),
            ])
            #expect(c.count() == 1)
            #expect(try c.retrieve([1], withVector: true).first?.vectors?[""] == [2])
        }
    }

    @Test func namedVectorsMayBeMissingAndSearchSkipsPointsWithoutThem() async throws {
        let config = CollectionConfig(vectors: [
            "image": VectorParams(size: 2, distance: .euclid),
            "text": VectorParams(size: 3, distance: .dot),
        ])
        try await withCollection(config) { c in
            try await c.upsert([
                PointStruct(id: 1, vectors: ["image": [0, 0], "text": [1, 0, 0]]),
                PointStruct(id: 2, vectors: ["text": [0, 1, 0]]),
            ])
            #expect(try c.search([0, 0], using: "image", limit: 10).map(\.id) == [1])
            #expect(try c.search([0, 1, 0], using: "text", limit: 10).map(\.id) == [2, 1])
            let error = #expect(throws: StrataError.self) { try c.search([0, 0], limit: 10) }
            #expect(error?.code == .invalidArgument)
        }
    }

    @Test func scrollPagesThroughAllPointsInIdOrder() async throws {
        try await withCollection(CollectionConfig(size: 1, distance: .dot)) { c in
            try await c.upsert((0..<25).reversed().map { PointStruct(id: .number(UInt64($0)), vector: [1]) })
            var seen: [PointID] = []
            var offset: PointID? = nil
            repeat {
                let page = try c.scroll(offset: offset, limit: 10)
                seen += page.points.map(\.id)
                offset = page.nextOffset
            } while offset != nil
            #expect(seen == (0..<25).map { PointID.number(UInt64($0)) })
        }
    }

    @Test func concurrentWritersShareGroupCommits() async throws {
        try await withCollection(CollectionConfig(size: 4, distance: .dot)) { c in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for writer in 0..<16 {
                    group.addTask {
                        for i in 0..<20 {
                            try await c.upsert([
                                PointStruct(id: .number(UInt64(writer * 1000 + i)), vector: [1, 2, 3, 4])
                            ])
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(c.count() == 320)
            let stats = c.walStatistics
            #expect(stats.records == 320)
            #expect(stats.syncs < 320, "16 concurrent writers should share fdatasyncs; got \(stats.syncs) syncs")
        }
    }

    /// An operation changes each point once, however often its id is listed:
    /// deleting `r[0]` for ids [1, 1] removes one element, in the mutable
    /// segment and (copy-on-write) for a flushed point.
    @Test func aRepeatedIdIsChangedOnce() async throws {
        let dir = TemporaryDirectory()
        let db = try Database.open(at: dir.path)
        defer { db.close() }
        let c = try db.createCollection("c", config: CollectionConfig(size: 2, distance: .dot))
        let payload: Payload = ["r": .array([.int(1), .int(2), .int(3)])]
        try await c.upsert([
            PointStruct(id: 1, vector: [1, 0], payload: payload), PointStruct(id: 2, vector: [0, 1], payload: payload),
        ])
        try c.flush()
        try await c.upsert([PointStruct(id: 1, vector: [1, 0], payload: payload)])  // 1 in the mutable segment, 2 flushed
        try await c.deletePayloadKeys(["r[0]"], for: [1, 1, 2, 2])
        for record in try c.retrieve([1, 2]) {
            #expect(record.payload?["r"] == .array([.int(2), .int(3)]), "point \(record.id)")
        }
    }
}
