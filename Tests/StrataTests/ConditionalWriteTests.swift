import Foundation
import Strata
import StrataTestSupport
import Testing

/// Qdrant's `update_mode` and `update_filter` (issue 19): decided per point
/// when the write is applied, and decided the same way again when the WAL is
/// replayed after a crash.
@Suite struct ConditionalWriteTests {
    static let config = CollectionConfig(
        size: 2, distance: .dot, optimizers: OptimizersConfig(indexingThresholdKB: 1, flushIntervalSec: 3600))

    static func point(_ id: UInt64, _ tag: String, _ x: Float = 1) -> PointStruct {
        PointStruct(id: .number(id), vector: [x, 0], payload: ["tag": .string(tag)])
    }

    static func state(_ c: Collection) throws -> [UInt64: String] {
        var result: [UInt64: String] = [:]
        for record in try c.scroll(limit: 1000).points {
            guard case .number(let id) = record.id, case .string(let tag)? = record.payload?["tag"] else { continue }
            result[id] = tag
        }
        return result
    }

    static let tagIsKeep = Filter(must: [
        .field(FieldCondition(key: try! PayloadPath("tag"), .match(.value(.keyword("keep")))))
    ])

    /// The same writes, some of them flushed into segments and some only in
    /// the WAL, must leave the same state before and after a reopen.
    @Test func modesAndFiltersDecidePerPointAndReplayIdentically() async throws {
        let dir = TemporaryDirectory()
        var expected: [UInt64: String] = [:]
        do {
            let db = try Database.open(at: dir.path)
            defer { db.close() }
            let c = try db.createCollection("c", config: Self.config)
            try await c.upsert([Self.point(1, "keep"), Self.point(2, "old"), Self.point(3, "keep")])
            try c.flush()  // 1–3 now live in an immutable segment
            // insert_only: 1 exists (unchanged), 4 is new.
            try await c.upsert([Self.point(1, "x"), Self.point(4, "new")], mode: .insertOnly)
            // update_only: 2 exists (replaced), 5 does not (ignored).
            try await c.upsert([Self.point(2, "updated"), Self.point(5, "ghost")], mode: .updateOnly)
            // update_filter: 1 and 3 match tag=keep (replaced), 2 does not, 6 is new (inserted).
            try await c.upsert(
                [Self.point(1, "f1"), Self.point(2, "f2"), Self.point(3, "f3"), Self.point(6, "f6")], mode: .upsert,
                filter: Self.tagIsKeep)
            // update_only with a filter: only existing points that match (3), not 1 (f1), not 5 (absent).
            let tagIsF3 = Filter(must: [
                .field(FieldCondition(key: try PayloadPath("tag"), .match(.value(.keyword("f3")))))
            ])
            try await c.upsert(
                [Self.point(1, "g1"), Self.point(3, "g3"), Self.point(5, "g5")], mode: .updateOnly, filter: tagIsF3)
            // Vector updates under a filter: 4 (tag new) is skipped, 6 (tag f6) too.
            try await c.upsert([Self.point(7, "keep")])
            try await c.updateVectors(
                [PointVectors(id: 4, vectors: ["": [9, 9]]), PointVectors(id: 7, vectors: ["": [5, 5]])],
                filter: Self.tagIsKeep)
            expected = [1: "f1", 2: "updated", 3: "g3", 4: "new", 6: "f6", 7: "keep"]
            #expect(try Self.state(c) == expected)
            let vectors = try c.retrieve([4, 7], withPayload: false, withVector: true)
            #expect(vectors.first { $0.id == 4 }?.vectors?[""] == [1, 0])
            #expect(vectors.first { $0.id == 7 }?.vectors?[""] == [5, 5])
            // A filter naming a vector the collection lacks is refused, nothing logged.
            let bad = Filter(must: [.hasVector("nope")])
            await #expect(throws: StrataError.self) {
                try await c.upsert([Self.point(1, "bad")], mode: .upsert, filter: bad)
            }
            await #expect(throws: StrataError.self) {
                try await c.updateVectors([PointVectors(id: 99, vectors: ["": [1, 1]])], filter: Self.tagIsKeep)
            }
        }
        // Reopen: the conditional writes after the flush replay from the WAL.
        let db = try Database.open(at: dir.path)
        defer { db.close() }
        let c = try db.collection("c")
        #expect(try Self.state(c) == expected)
        #expect(try c.retrieve([7], withPayload: false, withVector: true).first?.vectors?[""] == [5, 5])
    }

    /// Two writers race for the same new id with insert_only: exactly one wins,
    /// and every other write to it is ignored, because the condition is decided
    /// in op order, not when the call is made.
    @Test func insertOnlyIsDecidedInOpOrder() async throws {
        try await withTemporaryDirectory { dir in
            let db = try Database.open(at: dir)
            defer { db.close() }
            let c = try db.createCollection("c", config: Self.config)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for writer in 0..<8 {
                    group.addTask { try await c.upsert([Self.point(1, "w\(writer)")], mode: .insertOnly) }
                }
                try await group.waitForAll()
            }
            let winner = try #require(try Self.state(c)[1])
            for writer in 0..<8 where "w\(writer)" != winner {
                try await c.upsert([Self.point(1, "w\(writer)")], mode: .insertOnly)
            }
            #expect(try Self.state(c)[1] == winner)
        }
    }
}
