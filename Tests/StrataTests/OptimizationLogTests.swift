import Foundation
@testable import Strata
import StrataIO
import StrataTestSupport
import Testing

/// `Collection.optimizations`: queued work (sealed segments, merges the
/// planner picks), finished optimizations with their steps and progress, a
/// failed one with its error, idle segments.
@Suite struct OptimizationLogTests {
    /// The maintenance thread stays idle (hour-long interval, few points), so
    /// only the test's own flushes and merges run, even on a loaded machine.
    static let config = CollectionConfig(size: 2, distance: .dot, optimizers: OptimizersConfig(flushIntervalSec: 3600))

    static func points(_ range: Range<Int>) -> [PointStruct] {
        range.map { PointStruct(id: .number(UInt64($0)), vectors: ["": [1, Float($0)]]) }
    }

    @Test func flushesAndMergesAreLoggedWithTheirSteps() async throws {
        let dir = TemporaryDirectory()
        let db = try Database.open(at: dir.path)
        defer { db.close() }
        let c = try db.createCollection("c", config: Self.config)
        #expect(c.optimizations.running.isEmpty && c.optimizations.completed.isEmpty)
        try await c.upsert(Self.points(0..<10))
        try c.flush()
        try await c.upsert(Self.points(10..<15))
        try c.flush()
        let report = c.optimizations
        #expect(report.completed.map(\.kind) == [.indexing, .indexing])
        let newest = try #require(report.completed.first)
        #expect(newest.status == .done && newest.finishedAt != nil)
        #expect(newest.segments.map(\.points) == [5])
        #expect(
            newest.stages.map(\.name) == ["collect points", "build indexes and write segment", "publish"])
        #expect(newest.stages[1].done == 5 && newest.stages[1].total == 5)
        #expect(newest.stages.allSatisfy { $0.finishedAt != nil })
        // Two small segments: the planner queues a merge (or none, by its config); every file is accounted for.
        let files = Set(c.storageInfo.segments.map(\.id))
        let queuedFiles = report.queued.flatMap(\.segments).compactMap { ref -> UInt64? in
            if case .file(let id) = ref.source { id } else { nil }
        }
        let idle = report.idleSegments.compactMap { ref -> UInt64? in
            if case .file(let id) = ref.source { id } else { nil }
        }
        #expect(Set(queuedFiles).union(idle) == files && Set(queuedFiles).isDisjoint(with: idle))
        try c.optimize()
        #expect(c.optimizations.completed.count >= 2)
    }

    /// Closing does not wait for a segment's graph build (minutes on a large
    /// segment; `strata serve` got SIGKILLed after its grace period): the
    /// maintenance thread's build stops between two of its batches, the
    /// optimization is logged as failed with `.closed`, and the points are all
    /// there after the reopen. Deterministic: the file system wrapper starts
    /// the close right before the build (when the store looks for a leftover
    /// segment file) and lets the build begin once the collection is stopping.
    /// Without the stop the build runs to its end and is logged as done.
    @Test func closingStopsAGraphBuildAndLosesNothing() async throws {
        let dir = TemporaryDirectory()
        let count = 20_000
        let config = CollectionConfig(
            size: 16, distance: .euclid, optimizers: OptimizersConfig(indexingThresholdKB: 1, flushIntervalSec: 3600))
        let gate = SegmentBuildGate()
        let db = try Database.open(at: dir.path, fileSystem: gate)
        let c = try db.createCollection("c", config: config)
        c.store.pauseBackgroundWork()
        var generator = SeededGenerator.forTest()
        let points = (0..<count).map { i in
            PointStruct(
                id: .number(UInt64(i)), vectors: ["": (0..<16).map { _ in Float.random(in: -1...1, using: &generator) }]
            )
        }
        try await c.upsert(points)
        let closed = Locked(false)
        gate.beforeSegmentWrite.withLock {
            $0 = {
                // On the maintenance thread, right before the build of the 20,000 points.
                Thread.detachNewThread {
                    db.close()
                    closed.withLock { $0 = true }
                }
                while !c.store.isStopping { usleep(100) }
            }
        }
        c.store.continueBackgroundWork()  // the maintenance thread seals and flushes all 20,000 points
        let deadline = ContinuousClock.now + .seconds(300)
        while !closed.withLock({ $0 }) {
            try #require(ContinuousClock.now < deadline, "the database did not close")
            try await Task.sleep(for: .milliseconds(5))
        }
        let logged = try #require(c.optimizations.completed.first)
        #expect(logged.segments.map(\.points) == [count])
        guard case .error(let message) = logged.status else {
            Issue.record("the build finished although the database closed: \(logged.status)")
            return
        }
        #expect(message.contains("closed") && message.contains("graph build of a new segment stopped at"))

        let reopened = try Database.open(at: dir.path)
        defer { reopened.close() }
        let again = try reopened.collection("c")
        #expect(again.count() == count)
        let hit = try again.search(points[123].vectors[""]!, limit: 1)
        #expect(hit.first?.id == .number(123))
    }

    @Test func aFailedFlushIsLoggedWithItsError() async throws {
        let fs = FaultInjectingFileSystem(durableDirectories: ["/"])
        let db = try Database.open(at: "/data", fileSystem: fs)
        defer { db.close() }
        let c = try db.createCollection("c", config: Self.config)
        try await c.upsert(Self.points(0..<4))
        fs.failSyncs(mode: .once, pathContains: ".seg")
        #expect(throws: StrataError.self) { try c.flush() }
        let failed = try #require(c.optimizations.completed.first)
        guard case .error(let message) = failed.status else {
            Issue.record("status \(failed.status)")
            return
        }
        #expect(message.contains("fsync") && failed.kind == .indexing)
        #expect(c.optimizations.running.isEmpty)
        try c.flush()
        #expect(c.optimizations.completed.first?.status == .done)
    }
}

/// Runs `beforeSegmentWrite` once, on the thread that is about to build and
/// write a segment (`writeSegment` first looks for a leftover file by that name).
final class SegmentBuildGate: ForwardingFileSystem, @unchecked Sendable {
    // SAFETY: `forwardedTo` is immutable and thread-safe; the action is behind its lock.
    let forwardedTo: any FileSystem = POSIXFileSystem()
    let beforeSegmentWrite = Locked<(@Sendable () -> Void)?>(nil)

    func fileKind(_ path: String) -> FileKind? {
        if path.contains("/segments/seg-"),
            let action = beforeSegmentWrite.withLock({ action in
                defer { action = nil }
                return action
            })
        {
            action()
        }
        return forwardedTo.fileKind(path)
    }
}
