import Foundation
@testable import Strata
import StrataTestSupport
import Testing

/// Ingest faster than indexing: writes wait once sealed segments hold more than
/// `maxUnindexedBytes`, and go on when the optimizer catches up.
@Suite struct WriteStallTests {
    @Test func writesWaitWhileTheOptimizerIsBehind() async throws {
        try await withTemporaryDirectory { dir in
            // 1 KiB seal threshold (64 points of 4 floats), 2 KiB backlog limit.
            let db = try Database.open(at: dir, options: DatabaseOptions(maxUnindexedBytes: 2048))
            let c = try db.createCollection(
                "c",
                config: CollectionConfig(
                    size: 4, distance: .euclid,
                    optimizers: OptimizersConfig(indexingThresholdKB: 1, flushIntervalSec: 3600)))
            c.store.pauseBackgroundWork()
            func batch(_ start: Int) -> [PointStruct] {
                (start..<start + 100).map { PointStruct(id: .number(UInt64($0)), vector: [Float($0), 0, 0, 1]) }
            }
            // Each batch of 100 points (1.6 KiB) is sealed on arrival; the backlog
            // is checked before a write is logged, so two go through.
            try await c.upsert(batch(0))
            try await c.upsert(batch(100))
            #expect(c.store.pendingBytes > 2048)
            let stalled = Task { try await c.upsert(batch(200)) }
            // The third write parks itself as a stalled writer (not merely slow).
            try await Self.waitUntil { c.store.stalledWriterCount == 1 }
            #expect(c.count() == 200, "the third write went through while the backlog was over the limit")
            c.store.continueBackgroundWork()
            _ = try await stalled.value
            #expect(c.count() == 300)
            db.close()
        }
    }

    @Test func closingReleasesStalledWriters() async throws {
        try await withTemporaryDirectory { dir in
            let db = try Database.open(at: dir, options: DatabaseOptions(maxUnindexedBytes: 1024))
            let c = try db.createCollection(
                "c",
                config: CollectionConfig(
                    size: 4, distance: .euclid,
                    optimizers: OptimizersConfig(indexingThresholdKB: 1, flushIntervalSec: 3600)))
            c.store.pauseBackgroundWork()
            try await c.upsert((0..<100).map { PointStruct(id: .number(UInt64($0)), vector: [1, 2, 3, 4]) })
            let stalled = Task { try await c.upsert([PointStruct(id: 1000, vector: [1, 2, 3, 4])]) }
            try await Self.waitUntil { c.store.stalledWriterCount == 1 }
            db.close()
            // The stalled write ends, it does not hang: with an error if the log was
            // already closed, or acknowledged if it got in first, and then it must
            // survive reopening.
            if case .success = await stalled.result {
                let reopened = try Database.open(at: dir)
                #expect(try reopened.collection("c").retrieve([1000]).count == 1)
                reopened.close()
            }
        }
    }

    /// Polls `condition` (every millisecond, at most 10 s): the stalled writer
    /// registers itself on another task, with nothing to await on from here.
    static func waitUntil(_ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while !condition() {
            guard ContinuousClock.now < deadline else {
                Issue.record("condition not reached within 10 s")
                return
            }
            try await Task.sleep(for: .milliseconds(1))
        }
    }
}
