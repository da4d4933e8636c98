import Foundation
@testable import Strata
import StrataIO
import StrataSegment
import StrataTestSupport
import Testing

/// Every filter condition, on indexed and unindexed fields, in mutable,
/// frozen and immutable segments and after reopening, against the model.
@Suite struct FilterTests {
    /// 128 points seal a segment (8 floats each, 4 KiB); graphs from 4 KiB.
    static func config() -> CollectionConfig {
        CollectionConfig(
            size: FilterTestData.dim, distance: .euclid,
            optimizers: OptimizersConfig(defaultSegmentNumber: 3, indexingThresholdKB: 4, flushIntervalSec: 3600),
            hnswConfig: HnswConfig(m: 8, efConstruct: 64, fullScanThresholdKB: 1))
    }

    /// Compares count, every scroll page, exact filtered search and graph
    /// filtered search with the model.
    static func check(
        _ collection: Collection, _ model: FilterModel, _ filter: Filter, queries: [[Float]],
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let expected = model.matching(filter)
        let label = "\(filter.json)"
        #expect(
            try collection.count(filter: filter) == expected.count, "count \(label)", sourceLocation: sourceLocation)
        let estimate = try collection.count(filter: filter, exact: false)
        #expect(
            estimate >= 0 && estimate <= collection.count(),
            "estimate \(estimate) out of 0…\(collection.count()): \(label)", sourceLocation: sourceLocation)
        var scrolled: [PointID] = []
        var offset: PointID? = nil
        repeat {
            let page = try collection.scroll(offset: offset, limit: 37, filter: filter, withPayload: false)
            scrolled += page.points.map(\.id)
            offset = page.nextOffset
        } while offset != nil
        #expect(scrolled == expected, "scroll \(label)", sourceLocation: sourceLocation)
        for query in queries {
            let exact = try collection.search(query, limit: 5, params: SearchParams(exact: true), filter: filter).map(
                \.id)
            #expect(
                exact == model.search(query, filter: filter, limit: 5), "exact search \(label)",
                sourceLocation: sourceLocation)
            let approximate = try collection.search(query, limit: 5, filter: filter, withPayload: true)
            let allowed = Set(expected)
            #expect(
                approximate.allSatisfy { allowed.contains($0.id) },
                "graph search returned a point the filter rejects: \(label)",
                sourceLocation: sourceLocation)
            #expect(
                approximate.count == min(5, expected.count), "graph search found too few: \(label)",
                sourceLocation: sourceLocation)
        }
    }

    @Test(arguments: [false, true])
    func everyConditionAgreesWithTheModel(indexed: Bool) async throws {
        try await withTemporaryDirectory { dir in
            var data = FilterTestData(seed: UInt64.random(in: 0..<1 << 40))
            var model = FilterModel()
            var db: Database? = try Database.open(at: dir)
            var c = try db!.createCollection("c", config: Self.config())
            let (early, late) = (FilterTestData.schemas.prefix(6), FilterTestData.schemas.dropFirst(6))
            if indexed { for (key, schema) in early { try await c.createFieldIndex(key, schema: schema) } }
            var next: UInt64 = 0
            func upsert(_ count: Int) async throws {
                let points = (0..<count).map { _ in
                    defer { next += 1 }; return data.point(next)
                }
                try await c.upsert(points)
                for point in points { model.points[point.id] = point }
            }
            for _ in 0..<6 { try await upsert(50) }
            try c.optimize()  // immutable segments with graphs (and, indexed, the early field indexes written in)
            if indexed { for (key, schema) in late { try await c.createFieldIndex(key, schema: schema) } }
            c.store.pauseBackgroundWork()  // keep the frozen segment frozen
            c.store.seal()
            try await upsert(60)  // a frozen segment (sealed, not yet written) ...
            c.store.seal()
            try await upsert(70)  // ... and the mutable one
            // Copy-on-write payload changes on points in immutable and frozen
            // segments, and deletes there (tombstones the filters must respect).
            let changed: [PointID] = [3, 77, 150, 299, 305, 331]
            try await c.setPayload(["city": "Oslo", "count": 7], for: changed)
            for id in changed {
                model.points[id]!.payload!["city"] = "Oslo"
                model.points[id]!.payload!["count"] = 7
            }
            let deleted: [PointID] = [10, 201, 310, 342, 400]
            try await c.delete(deleted)
            for id in deleted { model.points[id] = nil }
            let info = c.storageInfo
            #expect(info.segments.count >= 2 && info.frozenSegments >= 1 && info.mutablePoints > 0, "\(info)")

            var filters: [Filter] = []
            let tries = 5
            for kind in 0..<FilterTestData.conditionKinds {
                for _ in 0..<tries { filters.append(Filter(must: [data.condition(kind: kind)])) }
            }
            for _ in 0..<60 { filters.append(data.filter()) }
            // Every kind of condition must select a proper, non-empty subset at least once.
            for kind in 0..<FilterTestData.conditionKinds {
                let counts = filters[(kind * tries)..<(kind * tries + tries)].map { model.matching($0).count }
                #expect(
                    counts.contains { $0 > 0 && $0 < model.points.count },
                    "condition kind \(kind) selects \(counts) of \(model.points.count)")
            }
            let queries = (0..<2).map { _ in data.random.vector(FilterTestData.dim) }
            for filter in filters { try Self.check(c, model, filter, queries: queries) }

            c.store.continueBackgroundWork()
            db!.close()
            db = try Database.open(at: dir)
            c = try db!.collection("c")
            if indexed { #expect(c.payloadSchema.count == FilterTestData.schemas.count) }
            for filter in filters { try Self.check(c, model, filter, queries: queries) }
            try c.optimize()
            #expect(c.storageInfo.mutablePoints == 0)
            for filter in filters.prefix(40) { try Self.check(c, model, filter, queries: queries) }
            db!.close()
        }
    }
}

/// Payload index sections on disk: written with the segment, read back at
/// open, damage detected and named.
@Suite struct PayloadIndexFileTests {
    @Test func indexesAreWrittenIntoSegmentsAndDamageIsNamed() async throws {
        try await withTemporaryDirectory { dir in
            var data = FilterTestData(seed: 11)
            var db = try Database.open(at: dir)
            let c = try db.createCollection("c", config: FilterTests.config())
            try await c.createFieldIndex("city", schema: PayloadFieldSchema(.keyword))
            try await c.upsert((0..<100).map { data.point($0) })
            try c.flush()
            let segment = try #require(c.storageInfo.segments.first)
            #expect(segment.sections.contains { $0.name == "payload_index[city]" })
            let paris = Filter(must: [
                .field(FieldCondition(key: try PayloadPath("city"), .match(.value(.keyword("Paris")))))
            ])
            let before = try c.count(filter: paris)
            db.close()
            // Reopen: the index comes from the section (same answers).
            db = try Database.open(at: dir)
            #expect(try db.collection("c").count(filter: paris) == before)
            db.close()
            // Flip one byte inside the section: opening names the file and section.
            let reader = try SegmentReader.open(path: segment.path, fileSystem: POSIXFileSystem())
            let range = try #require(reader.sectionRanges.first { $0.name == "payload_index[city]" }?.range)
            let handle = try #require(FileHandle(forUpdatingAtPath: segment.path))
            try handle.seek(toOffset: UInt64(range.lowerBound + range.count / 2))
            let byte = try #require(try handle.read(upToCount: 1)?.first)
            try handle.seek(toOffset: UInt64(range.lowerBound + range.count / 2))
            try handle.write(contentsOf: Data([byte ^ 0x40]))
            try handle.close()
            let error = #expect(throws: StrataError.self) { try Database.open(at: dir) }
            #expect(error?.code == .corruption)
            #expect(
                error?.message.contains("payload_index[city]") == true && error?.message.contains(segment.path) == true)
        }
    }
}

/// Updating and deleting single named vectors: in place in the mutable
/// segment, copy-on-write for flushed points, replayed after a restart.
@Suite struct VectorUpdateTests {
    @Test func updateAndDeleteNamedVectors() async throws {
        try await withTemporaryDirectory { dir in
            var db = try Database.open(at: dir)
            let config = CollectionConfig(vectors: [
                "a": VectorParams(size: 2, distance: .euclid), "b": VectorParams(size: 3, distance: .cosine),
            ])
            var c = try db.createCollection("c", config: config)
            try await c.upsert(
                (0..<6).map {
                    PointStruct(
                        id: .number($0), vectors: ["a": [Float($0), 0], "b": [1, 0, 0]], payload: ["i": .int(Int64($0))]
                    )
                })
            try c.flush()  // points 0…5 in an immutable segment
            try await c.upsert([PointStruct(id: 10, vectors: ["a": [10, 0]], payload: ["i": 10])])  // mutable
            try await c.updateVectors([
                PointVectors(id: 2, vectors: ["a": [100, 100]]), PointVectors(id: 10, vectors: ["b": [0, 3, 4]]),
            ])
            try await c.deleteVectors(["b"], for: [3])
            func check(_ c: Collection) throws {
                let records = try c.retrieve([2, 3, 10], withPayload: true, withVector: true)
                #expect(
                    records[0].vectors?["a"] == [100, 100] && records[0].vectors?["b"] == [1, 0, 0]
                        && records[0].payload == ["i": 2])
                #expect(records[1].vectors?["b"] == nil && records[1].vectors?["a"] == [3, 0])
                #expect(records[2].vectors?["b"] == [0, 0.6, 0.8], "cosine vectors are normalised")
                #expect(try c.search([100, 100], using: "a", limit: 1).first?.id == 2)
                #expect(try c.count(filter: Filter(must: [.hasVector("b")])) == 6)  // 0…5 less 3, plus 10
                #expect(c.count() == 7)
            }
            try check(c)
            // Bad input changes nothing.
            await #expect(throws: StrataError.self) {
                try await c.updateVectors([PointVectors(id: 99, vectors: ["a": [1, 1]])])
            }
            await #expect(throws: StrataError.self) {
                try await c.updateVectors([PointVectors(id: 1, vectors: ["a": [1, 1, 1]])])
            }
            await #expect(throws: StrataError.self) { try await c.deleteVectors(["nope"], for: [1]) }
            db.close()
            db = try Database.open(at: dir)  // replayed from the WAL
            c = try db.collection("c")
            try check(c)
            try c.optimize()
            try check(c)
            db.close()
        }
    }
}

extension VectorUpdateTests {
    /// A repeated id in one vector update gets its entries applied in order
    /// (the last vector of each name wins), as a repeated id in an upsert
    /// does; found by `strata crashtest --workload mixed`, where the engine
    /// kept the first entry but the model the last.
    @Test func repeatedIDInOneUpdateKeepsTheLastVector() async throws {
        try await withTemporaryDirectory { dir in
            var db = try Database.open(at: dir)
            let config = CollectionConfig(vectors: [
                "a": VectorParams(size: 2, distance: .euclid), "b": VectorParams(size: 2, distance: .euclid),
            ])
            var c = try db.createCollection("c", config: config)
            try await c.upsert([
                PointStruct(id: 1, vectors: ["a": [1, 1], "b": [2, 2]]),
                PointStruct(id: 2, vectors: ["a": [3, 3], "b": [4, 4]]),
            ])
            try c.flush()
            try await c.upsert([PointStruct(id: 3, vectors: ["a": [5, 5], "b": [6, 6]])])
            let result = try await c.updateVectors([
                PointVectors(id: 1, vectors: ["a": [10, 10]]), PointVectors(id: 3, vectors: ["a": [30, 30]]),
                PointVectors(id: 1, vectors: ["a": [11, 11], "b": [12, 12]]),
                PointVectors(id: 3, vectors: ["b": [31, 31]]),
            ])
            func check(_ c: Collection) throws {
                let records = try c.retrieve([1, 2, 3], withPayload: false, withVector: true)
                #expect(records.map { $0.vectors?["a"] } == [[11, 11], [3, 3], [30, 30]])
                #expect(records.map { $0.vectors?["b"] } == [[12, 12], [4, 4], [31, 31]])
                #expect(
                    records[0].version == result.operationID && records[2].version == result.operationID
                        && records[1].version == 1)
            }
            try check(c)
            db.close()
            db = try Database.open(at: dir)  // replayed from the WAL
            c = try db.collection("c")
            try check(c)
            db.close()
        }
    }
}

/// Changing a collection's settings after creation.
@Suite struct CollectionConfigUpdateTests {
    @Test func settingsChangeDurablyAndVectorsCannot() async throws {
        try await withTemporaryDirectory { dir in
            var db = try Database.open(at: dir)
            _ = try db.createCollection("c", config: CollectionConfig(size: 2, distance: .dot))
            try await db.collection("c").upsert([PointStruct(id: 1, vector: [1, 0], payload: ["a": 1])])
            let updated = try db.updateCollectionConfig("c") { config in
                config.optimizers.deletedThreshold = 0.5
                config.hnswConfig.m = 24
                config.quantizationConfig = .scalar(quantile: nil, alwaysRam: true)
            }
            #expect(updated.config.hnswConfig.m == 24)
            #expect(try updated.retrieve([1]).first?.payload == ["a": 1])
            #expect(throws: StrataError.self) {
                try db.updateCollectionConfig("c") { $0.vectors[""]!.size = 3 }
            }
            #expect(throws: StrataError.self) {
                try db.updateCollectionConfig("c") { $0.optimizers.deletedThreshold = 7 }
            }
            db.close()
            db = try Database.open(at: dir)
            let reopened = try db.collection("c")
            #expect(reopened.config.optimizers.deletedThreshold == 0.5 && reopened.config.hnswConfig.m == 24)
            #expect(reopened.config.quantizationConfig != nil && reopened.config.vectors[""]!.size == 2)
            #expect(reopened.count() == 1)
            db.close()
        }
    }
}
