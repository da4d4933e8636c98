/// One rewrite of immutable segments that the merge planner asks for.
enum MergeTask: Sendable, Equatable {
    /// Rewrite one segment without its durably deleted points.
    case vacuum(segmentID: UInt64)
    /// Rewrite these segments (smallest first) as one segment holding their live points.
    case merge(segmentIDs: [UInt64])
}

/// Which immutable segments to vacuum or merge, and in which order: the policy
/// of the collection's optimizers (Qdrant's vacuum and merge optimizers), apart
/// from the I/O that carries it out (`CollectionStore.mergeOnce`).
///
/// A pure function of its inputs: no locks, no clocks, no file system. The
/// caller describes the segment set under its state lock, plans, and carries
/// out the tasks; after carrying out any of them the segment set has changed,
/// so it plans again (the maintenance pass loops until the plan is empty).
///
/// The policy:
/// - **Vacuum first.** Every segment (in the given order, oldest first) with at
///   least `vacuumMinVectorNumber` points whose deleted fraction is at least
///   `deletedThreshold`, and at least one of whose deletions is durable, is
///   vacuumed; each is its own task. While any vacuum is due no merge is
///   planned: a vacuum rewrites one segment, a merge may rewrite many, and the
///   vacuumed segments take part in the next plan's merge at their new size.
/// - **Then merge.** When there are more segments than `targetSegmentCount`,
///   the smallest (by live points; ties keep the given order) are merged, as
///   many as bring the count down to the target, while the merged segment's
///   estimated size stays within `maxSegmentBytes`. Fewer than
///   `minimumMergeInputs` fitting segments plan nothing.
enum MergePlanner {
    /// What the planner knows of one immutable segment.
    struct Segment: Sendable, Equatable {
        var id: UInt64
        /// Points in the segment file, deleted or not.
        var pointCount: Int
        /// Points deleted (tombstoned) so far, durable or not.
        var deletedCount: Int
        /// Whether at least one deletion is durable (its operation at or below
        /// the manifest checkpoint). A vacuum drops only durable deletions.
        var hasDurableDeletion: Bool

        /// Points not deleted.
        var liveCount: Int { pointCount - deletedCount }
    }

    /// The optimizer settings the plan depends on, resolved (no "automatic" values).
    struct Config: Sendable, Equatable {
        /// `optimizers_config.deleted_threshold`: vacuum once this fraction (0…1) is deleted.
        var deletedThreshold: Double
        /// `optimizers_config.vacuum_min_vector_number`: …and the segment has at least this many points.
        var vacuumMinVectorNumber: Int
        /// `optimizers_config.default_segment_number`, resolved (`OptimizersConfig.targetSegmentCount`).
        var targetSegmentCount: Int
        /// `optimizers_config.max_segment_size`, in bytes (`OptimizersConfig.maxSegmentBytes`).
        var maxSegmentBytes: Int
        /// Estimated bytes one live point adds to a merged segment (`estimatedBytesPerPoint`).
        var bytesPerPoint: Int
    }

    // MARK: - Constants

    /// A merge needs two inputs: rewriting one segment alone does not reduce the
    /// count, and dropping deleted points from one segment is the vacuum's job.
    static let minimumMergeInputs = 2

    /// A merge writes one segment, so merging k removes k − 1 of them and
    /// bringing n segments down to the target t takes n − t + 1 inputs.
    static let mergeOutputSegments = 1

    /// A multivector's size is not known ahead; it counts as this many rows (a
    /// ColBERT-style document of a few dozen tokens). Chosen with multivectors
    /// (f2d5c3c) as an estimate only: `max_segment_size` is a soft bound.
    static let estimatedRowsPerMultiVector = 32

    /// Besides its rows, a multivector stores one aggregate row (the rows' mean,
    /// which the HNSW graph and quantization index; docs/format/segment.md).
    static let aggregateRowsPerMultiVector = 1

    /// A sparse vector's size is not known ahead; it counts as 800 bytes, about
    /// 100 non-zero entries of 8 bytes (a UInt32 index and a Float32 value), the
    /// order of a BM25 document vector. Chosen with sparse vectors (05f4a00) as
    /// an estimate only.
    static let estimatedBytesPerSparseVector = 800

    /// With `default_segment_number` 0 the target is one segment: the
    /// collection is kept in as few segments as `max_segment_size` allows,
    /// since a query walks every segment's graph and two half-size graphs cost
    /// ~45% more than one at equal recall (issue 24, docs/benchmarks.md).
    /// Qdrant's automatic count (one per CPU) is there for parallel
    /// optimisation; searching several segments in parallel (`SegmentFanOut`)
    /// only helps while cores are idle. A merge of a small new segment into a
    /// large one rewrites the large one (payloads re-encoded, codes retrained)
    /// but reuses its graph, so only the new points are inserted; under a fast
    /// ingest several flushes wait and merge in one rewrite.
    static let automaticTargetSegmentCount = 1

    /// With `max_segment_size` unset a merge stops at 200 MiB of vectors (KiB
    /// here, like the setting). Qdrant's automatic size is a per-CPU budget
    /// (200 000 KB per CPU in earlier versions, 256 000 KB now) because a large
    /// segment's index build takes disproportionately long; Strata builds a merged
    /// segment on one thread (`max_optimization_threads` nil = 1), so one CPU's
    /// budget. It bounds the time and memory of one merge (docs/benchmarks.md,
    /// `bench lsm`).
    static let automaticMaxSegmentSizeKB = 200 * 1024

    // MARK: - Planning

    /// The tasks to carry out now, in order, over disjoint segments: every due
    /// vacuum, or else at most one merge. Empty when the segment set meets the
    /// config. Complexity: O(n log n) in the number of segments.
    static func plan(_ segments: [Segment], _ config: Config) -> [MergeTask] {
        let vacuums = segments.filter { isVacuumDue($0, config) }.map { MergeTask.vacuum(segmentID: $0.id) }
        if !vacuums.isEmpty { return vacuums }
        return mergeInputs(segments, config).map { [.merge(segmentIDs: $0)] } ?? []
    }

    /// Whether `segment` holds enough deleted points to be rewritten without them.
    static func isVacuumDue(_ segment: Segment, _ config: Config) -> Bool {
        // Only a durable deletion is dropped: with none, a vacuum would copy
        // every point, still qualify, and repeat forever.
        segment.pointCount >= config.vacuumMinVectorNumber
            && Double(segment.deletedCount) >= config.deletedThreshold * Double(max(segment.pointCount, 1))
            && segment.hasDurableDeletion
    }

    /// The segments to merge into one, smallest first, or nil.
    static func mergeInputs(_ segments: [Segment], _ config: Config) -> [UInt64]? {
        guard segments.count > config.targetSegmentCount else { return nil }
        // Ties keep the given order (ascending segment id in practice).
        let bySize = segments.enumerated().sorted {
            ($0.element.liveCount, $0.offset) < ($1.element.liveCount, $1.offset)
        }
        let wanted = max(segments.count - config.targetSegmentCount + mergeOutputSegments, minimumMergeInputs)
        var inputs: [UInt64] = []
        var bytes = 0
        for (_, segment) in bySize where inputs.count < wanted {
            let segmentBytes = segment.liveCount * config.bytesPerPoint
            if bytes + segmentBytes > config.maxSegmentBytes { break }
            inputs.append(segment.id)
            bytes += segmentBytes
        }
        return inputs.count >= minimumMergeInputs ? inputs : nil
    }

    /// Estimated bytes one point adds to a segment of a collection with this
    /// config: its dense vectors, multivectors and sparse vectors.
    static func estimatedBytesPerPoint(_ config: CollectionConfig) -> Int {
        let multiVectorRows = estimatedRowsPerMultiVector + aggregateRowsPerMultiVector
        return config.vectors.values.reduce(0) {
            $0 + $1.size * $1.storedDatatype.bytesPerElement * ($1.isMultiVector ? multiVectorRows : 1)
        }
            + config.sparseVectors.count * estimatedBytesPerSparseVector
    }
}

extension MergePlanner.Config {
    /// The plan's settings for a collection with this config.
    init(_ config: CollectionConfig) {
        let optimizers = config.optimizers
        self.init(
            deletedThreshold: optimizers.deletedThreshold, vacuumMinVectorNumber: optimizers.vacuumMinVectorNumber,
            targetSegmentCount: optimizers.targetSegmentCount, maxSegmentBytes: optimizers.maxSegmentBytes,
            bytesPerPoint: MergePlanner.estimatedBytesPerPoint(config))
    }
}
