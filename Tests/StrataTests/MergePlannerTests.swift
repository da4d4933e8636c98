@testable import Strata
import Testing

/// The merge and vacuum policy as a table: segment set and config in, tasks out.
@Suite struct MergePlannerTests {
    /// One row of the table.
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var segments: [MergePlanner.Segment]
        var config: MergePlanner.Config = MergePlannerTests.config()
        var expected: [MergeTask]
        var testDescription: String { name }
    }

    /// Qdrant's vacuum defaults, a target of 3 segments, 100 bytes a point, 1 MB segments at most.
    static func config(
        deletedThreshold: Double = 0.2, vacuumMin: Int = 1000, target: Int = 3,
        maxBytes: Int = 1_000_000, bytesPerPoint: Int = 100
    ) -> MergePlanner.Config {
        MergePlanner.Config(
            deletedThreshold: deletedThreshold, vacuumMinVectorNumber: vacuumMin,
            targetSegmentCount: target, maxSegmentBytes: maxBytes, bytesPerPoint: bytesPerPoint)
    }

    /// A segment of `points` points, `deleted` of them deleted (durably, unless told).
    static func segment(_ id: UInt64, points: Int, deleted: Int = 0, durable: Bool? = nil) -> MergePlanner.Segment {
        MergePlanner.Segment(
            id: id, pointCount: points, deletedCount: deleted, hasDurableDeletion: durable ?? (deleted > 0))
    }

    static let cases: [Case] = [
        // Nothing to do.
        Case(name: "no segments", segments: [], expected: []),
        Case(name: "one clean segment", segments: [segment(1, points: 5000)], expected: []),
        Case(name: "segment count at the target", segments: (1...3).map { segment($0, points: 10) }, expected: []),

        // Vacuum: vacuum_min_vector_number.
        Case(
            name: "vacuum: one point below vacuum_min_vector_number",
            segments: [segment(1, points: 999, deleted: 500)], expected: []),
        Case(
            name: "vacuum: at vacuum_min_vector_number",
            segments: [segment(1, points: 1000, deleted: 500)], expected: [.vacuum(segmentID: 1)]),
        Case(
            name: "vacuum: vacuum_min_vector_number 0 and an empty segment",
            segments: [segment(1, points: 0)], config: config(deletedThreshold: 0, vacuumMin: 0), expected: []),

        // Vacuum: deleted_threshold (a fraction of all points, deleted or not).
        Case(
            name: "vacuum: one deletion below deleted_threshold",
            segments: [segment(1, points: 1000, deleted: 199)], expected: []),
        Case(
            name: "vacuum: at deleted_threshold",
            segments: [segment(1, points: 1000, deleted: 200)], expected: [.vacuum(segmentID: 1)]),
        Case(
            name: "vacuum: above deleted_threshold",
            segments: [segment(1, points: 1000, deleted: 1000)], expected: [.vacuum(segmentID: 1)]),
        Case(
            name: "vacuum: deleted_threshold 0 still needs a deletion",
            segments: [segment(1, points: 10), segment(2, points: 10, deleted: 1)],
            config: config(deletedThreshold: 0, vacuumMin: 0), expected: [.vacuum(segmentID: 2)]),
        Case(
            name: "vacuum: deleted_threshold 1 needs every point deleted",
            segments: [segment(1, points: 10, deleted: 9), segment(2, points: 10, deleted: 10)],
            config: config(deletedThreshold: 1, vacuumMin: 0), expected: [.vacuum(segmentID: 2)]),

        // Vacuum: only durable deletions are dropped.
        Case(
            name: "vacuum: no durable deletion",
            segments: [segment(1, points: 1000, deleted: 900, durable: false)], expected: []),

        // Vacuum: order and precedence.
        Case(
            name: "vacuum: every due segment, in the given order",
            segments: [
                segment(7, points: 2000, deleted: 1000), segment(1, points: 2000, deleted: 10),
                segment(4, points: 1000, deleted: 300),
            ],
            expected: [.vacuum(segmentID: 7), .vacuum(segmentID: 4)]),
        Case(
            name: "vacuum before merge",
            segments: [
                segment(1, points: 10), segment(2, points: 10), segment(3, points: 10), segment(4, points: 10),
                segment(5, points: 2000, deleted: 500),
            ],
            expected: [.vacuum(segmentID: 5)]),
        Case(
            name: "merge when the deletions are not durable",
            segments: [
                segment(1, points: 10), segment(2, points: 10), segment(3, points: 10),
                segment(4, points: 2000, deleted: 500, durable: false),
            ],
            expected: [.merge(segmentIDs: [1, 2])]),

        // Merge: default_segment_number.
        Case(
            name: "merge: one segment above the target merges the two smallest",
            segments: [segment(1, points: 30), segment(2, points: 10), segment(3, points: 40), segment(4, points: 20)],
            expected: [.merge(segmentIDs: [2, 4])]),
        Case(
            name: "merge: n above the target merges n + 1",
            segments: [
                segment(1, points: 60), segment(2, points: 50), segment(3, points: 40), segment(4, points: 30),
                segment(5, points: 20), segment(6, points: 10),
            ],
            expected: [.merge(segmentIDs: [6, 5, 4, 3])]),
        Case(
            name: "merge: target 1 merges everything",
            segments: [segment(1, points: 10), segment(2, points: 20), segment(3, points: 30)],
            config: config(target: 1), expected: [.merge(segmentIDs: [1, 2, 3])]),
        Case(
            name: "merge: one segment and target 0",
            segments: [segment(1, points: 10)], config: config(target: 0), expected: []),

        // Merge: order by live points, ties in the given order.
        Case(
            name: "merge: smallest by live points, not by points",
            segments: [
                segment(1, points: 500, deleted: 495, durable: false), segment(2, points: 20),
                segment(3, points: 30), segment(4, points: 40),
            ],
            expected: [.merge(segmentIDs: [1, 2])]),
        Case(
            name: "merge: ties keep the given order",
            segments: [segment(5, points: 10), segment(2, points: 10), segment(9, points: 10), segment(1, points: 10)],
            config: config(target: 2), expected: [.merge(segmentIDs: [5, 2, 9])]),
        Case(
            name: "merge: ties after a smaller segment",
            segments: [segment(8, points: 10), segment(3, points: 10), segment(6, points: 5), segment(2, points: 99)],
            expected: [.merge(segmentIDs: [6, 8])]),

        // Merge: max_segment_size (100 bytes a point, 1000 bytes at most).
        Case(
            name: "merge: inputs exactly at max_segment_size",
            segments: [segment(1, points: 6), segment(2, points: 1), segment(3, points: 3), segment(4, points: 50)],
            config: config(target: 2, maxBytes: 1000), expected: [.merge(segmentIDs: [2, 3, 1])]),
        Case(
            name: "merge: stops before passing max_segment_size",
            segments: [segment(1, points: 7), segment(2, points: 1), segment(3, points: 3), segment(4, points: 50)],
            config: config(target: 2, maxBytes: 1000), expected: [.merge(segmentIDs: [2, 3])]),
        Case(
            name: "merge: fewer than two inputs fit max_segment_size",
            segments: [segment(1, points: 6), segment(2, points: 6), segment(3, points: 6), segment(4, points: 6)],
            config: config(maxBytes: 1000), expected: []),
        Case(
            name: "merge: the smallest segment alone passes max_segment_size",
            segments: [segment(1, points: 11), segment(2, points: 12), segment(3, points: 13), segment(4, points: 14)],
            config: config(maxBytes: 1000), expected: []),
        Case(
            name: "merge: automatic target folds new segments into the largest that fits",
            segments: [segment(1, points: 8), segment(2, points: 1), segment(3, points: 1)],
            config: config(target: MergePlanner.automaticTargetSegmentCount, maxBytes: 1000),
            expected: [.merge(segmentIDs: [2, 3, 1])]),
        Case(
            name: "merge: automatic target leaves a full segment alone",
            segments: [segment(1, points: 9), segment(2, points: 1), segment(3, points: 1)],
            config: config(target: MergePlanner.automaticTargetSegmentCount, maxBytes: 1000),
            expected: [.merge(segmentIDs: [2, 3])]),
        Case(
            name: "merge: automatic target with full segments only",
            segments: [segment(1, points: 9), segment(2, points: 8), segment(3, points: 10)],
            config: config(target: MergePlanner.automaticTargetSegmentCount, maxBytes: 1000), expected: []),
        Case(
            name: "merge: points of no size always fit",
            segments: (1...4).map { segment($0, points: 1_000_000) },
            config: config(maxBytes: 0, bytesPerPoint: 0), expected: [.merge(segmentIDs: [1, 2])]),
    ]

    @Test(arguments: cases)
    func planMatchesTable(_ row: Case) {
        #expect(MergePlanner.plan(row.segments, row.config) == row.expected)
    }

    @Test func estimatedBytesPerPointCountsEveryVectorKind() {
        var config = CollectionConfig(size: 384, distance: .cosine)
        #expect(MergePlanner.estimatedBytesPerPoint(config) == 384 * 4)
        config.vectors["colbert"] = VectorParams(size: 128, distance: .dot, multivectorConfig: MultiVectorConfig())
        #expect(MergePlanner.estimatedBytesPerPoint(config) == 384 * 4 + 128 * 4 * (32 + 1))
        config.sparseVectors["bm25"] = SparseVectorParams()
        config.sparseVectors["splade"] = SparseVectorParams()
        #expect(MergePlanner.estimatedBytesPerPoint(config) == 384 * 4 + 128 * 4 * 33 + 2 * 800)
    }

    @Test func automaticSettingsResolve() {
        let automatic = MergePlanner.Config(CollectionConfig(size: 8, distance: .dot))
        #expect(automatic.targetSegmentCount == 1)
        #expect(automatic.maxSegmentBytes == 200 * 1024 * 1024)
        #expect(automatic.bytesPerPoint == 32)
        let explicit = MergePlanner.Config(
            CollectionConfig(
                size: 8, distance: .dot, optimizers: OptimizersConfig(defaultSegmentNumber: 3, maxSegmentSizeKB: 64)))
        #expect(explicit.targetSegmentCount == 3)
        #expect(explicit.maxSegmentBytes == 64 * 1024)
    }
}
