import Foundation
import Strata
import StrataIO
import StrataTestSupport
import Testing

/// `Collection.batch(_:atomic: true)` (issue 20): one WAL record, each
/// operation seeing the ones before it, all checked before anything is
/// logged, never half visible, replayed identically after a reopen.
@Suite struct AtomicBatchTests {
    static let config = CollectionConfig(
        size: 2, distance: .dot, optimizers: OptimizersConfig(indexingThresholdKB: 1, flushIntervalSec: 3600))

    static func point(_ id: UInt64, _ tag: String, _ x: Float = 1) -> PointStruct {
        PointStruct(id: .number(id), vector: [x, 0], payload: ["tag": .string(tag)])
    }

    static func tagIs(_ tag: String) -> Filter {
        Filter(must: [.field(FieldCondition(key: try! PayloadPath("tag"), .match(.value(.keyword(tag)))))])
    }

    /// id → (tag, first vector coordinate)
    static func state(_ c: Collection) throws -> [UInt64: String] {
        var result: [UInt64: String] = [:]
        for record in try c.scroll(limit: 1000, withVector: true).points {
            guard case .number(let id) = record.id else { continue }
            let tag: String
            if case .string(let value)? = record.payload?["tag"] { tag = value } else { tag = "-" }
            let x = record.vectors?[""].map { "\($0[0])" } ?? "none"
            result[id] = "\(tag)/\(x)"
        }
        return result
    }

    @Test func operationsSeeTheOnesBeforeThemAndReplayIdentically() async throws {
        let dir = TemporaryDirectory()
        var expected: [UInt64: String] = [:]
        do {
            let db = try Database.open(at: dir.path)
            defer { db.close() }
            let c = try db.createCollection("c", config: Self.config)
            try await c.upsert([Self.point(1, "old"), Self.point(2, "old"), Self.point(3, "keep")])
            try c.flush()  // 1–3 live in an immutable segment
            let walBefore = c.storageInfo.lastOperation
            let results = try await c.batch(
                [
                    // 4 and 5 are new; 1 is replaced.
                    .upsert([Self.point(1, "new"), Self.point(4, "new"), Self.point(5, "new")]),
                    // The filter sees the upsert above: 1, 4, 5 (not 2, 3).
                    .setPayload(["tag": "touched"], .filter(Self.tagIs("new"))),
                    // 5 again, in the same batch: its vector changes.
                    .updateVectors([PointVectors(id: 5, vectors: ["": [7, 7]])]),
                    .delete(.ids([2])),
                    // Deletes what the earlier filter touched and is still "touched": 1 and 4 (5 too).
                    .deletePayloadKeys(["tag"], .filter(Self.tagIs("touched"))),
                    .upsert([Self.point(6, "six")]),
                    .deleteVectors([""], .ids([6])),
                    .overwritePayload(["tag": "kept"], .filter(Self.tagIs("keep"))),
                ], atomic: true)
            // One op number for the whole batch, one result per operation.
            #expect(results.count == 8)
            #expect(Set(results.map(\.operationID)) == [walBefore + 1])
            #expect(c.storageInfo.lastOperation == walBefore + 1)
            expected = [1: "-/1.0", 3: "kept/1.0", 4: "-/1.0", 5: "-/7.0", 6: "six/none"]
            #expect(try Self.state(c) == expected)
        }
        let db = try Database.open(at: dir.path)
        defer { db.close() }
        #expect(try Self.state(try db.collection("c")) == expected)
    }

    @Test func aBadOperationRefusesTheWholeBatch() async throws {
        let dir = TemporaryDirectory()
        let db = try Database.open(at: dir.path)
        defer { db.close() }
        let c = try db.createCollection("c", config: Self.config)
        try await c.upsert([Self.point(1, "a")])
        let before = try Self.state(c)
        let lastOp = c.storageInfo.lastOperation
        let refusals: [(BatchOperation, StrataError.Code)] = [
            (.upsert([PointStruct(id: 9, vector: [1, 2, 3])]), .invalidArgument),  // wrong dimension
            (.updateVectors([PointVectors(id: 42, vectors: ["": [1, 1]])]), .notFound),  // no such point
            (.deleteVectors(["nope"], .ids([1])), .invalidArgument),
            (.setPayload(["a": 1], .ids([1]), key: "a[["), .invalidArgument),
            (.delete(.filter(Filter(must: [.hasVector("nope")]))), .invalidArgument),
        ]
        for (bad, code) in refusals {
            do {
                try await c.batch([.upsert([Self.point(2, "b")]), .delete(.ids([1])), bad], atomic: true)
                Issue.record("\(bad) was accepted")
            } catch let error as StrataError {
                #expect(error.code == code, "\(bad): \(error)")
                #expect(error.message.contains("operation 2 of the atomic batch"), "\(error)")
            }
            #expect(try Self.state(c) == before)
            #expect(c.storageInfo.lastOperation == lastOp)
        }
        // A vector update of a point the batch upserts earlier is fine; of one it deletes earlier, not.
        try await c.batch(
            [.upsert([Self.point(2, "b")]), .updateVectors([PointVectors(id: 2, vectors: ["": [3, 3]])])],
            atomic: true)
        await #expect(throws: StrataError.self) {
            try await c.batch(
                [.delete(.ids([2])), .updateVectors([PointVectors(id: 2, vectors: ["": [4, 4]])])], atomic: true)
        }
        #expect(try Self.state(c)[2] == "b/3.0")
        // Empty: nothing logged.
        #expect(try await c.batch([], atomic: true).isEmpty)
        #expect(c.storageInfo.lastOperation == lastOp + 1)
    }

    /// A reader scrolling while batches rewrite every point in two operations
    /// sees one generation at a time (the non-atomic batch is the control:
    /// the same reader can see two).
    @Test func readersNeverSeeHalfABatch() async throws {
        let dir = TemporaryDirectory()
        let db = try Database.open(at: dir.path)
        defer { db.close() }
        let c = try db.createCollection(
            "c", config: CollectionConfig(size: 2, distance: .dot, optimizers: OptimizersConfig(flushIntervalSec: 3600))
        )
        func generation(_ k: Int) -> [BatchOperation] {
            [
                .upsert((0..<20).map { Self.point(UInt64($0), "g\(k)") }),
                .upsert((20..<40).map { Self.point(UInt64($0), "g\(k)") }),
            ]
        }
        try await c.batch(generation(0), atomic: true)
        for atomic in [true, false] {
            let mixed = Locked(0)
            let done = Locked(false)
            let reader = Thread {
                while !done.withLock({ $0 }) {
                    let tags = Set((try? c.scroll(limit: 100).points.compactMap { $0.payload?["tag"] }) ?? [])
                    if tags.count > 1 { mixed.withLock { $0 += 1 } }
                }
            }
            reader.start()
            for k in 1...300 { try await c.batch(generation(k), atomic: atomic) }
            done.withLock { $0 = true }
            while !reader.isFinished { try await Task.sleep(for: .milliseconds(1)) }
            if atomic {
                #expect(mixed.withLock { $0 } == 0)
            } else {
                print("non-atomic batches: a reader saw \(mixed.withLock { $0 }) mixed states")
            }
        }
    }
}
