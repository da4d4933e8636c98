import StrataModel
import StrataPayload
import Foundation

/// How a collection's segments are sealed, flushed, merged and vacuumed, with
/// Qdrant's names and defaults (`optimizers_config`).
public struct OptimizersConfig: Sendable, Equatable, Codable {
    /// Vacuum a segment once this fraction of its points is deleted.
    public var deletedThreshold: Double = 0.2
    /// …and it has at least this many points.
    public var vacuumMinVectorNumber: Int = 1000
    /// Target number of immutable segments; more are merged, smallest first.
    /// 0 = automatic: as few as `max_segment_size` allows
    /// (`MergePlanner.automaticTargetSegmentCount`).
    public var defaultSegmentNumber: Int = 0
    /// Merges never produce a segment larger than this (vector bytes, KiB).
    /// nil = automatic (200 MiB).
    public var maxSegmentSizeKB: Int? = nil
    /// The mutable segment is sealed and written as an immutable segment once
    /// its vectors take this many KiB.
    public var indexingThresholdKB: Int = 10_000
    /// The mutable segment is also flushed when it holds writes this old, so
    /// the WAL stays short under a slow trickle of writes.
    public var flushIntervalSec: Int = 5
    /// Threads for flushes and merges per collection. nil = 1 today.
    public var maxOptimizationThreads: Int? = nil

    /// Creates Qdrant's defaults (see each property).
    public init() {}

    /// Creates optimizer settings; each one left out keeps its default (see
    /// the properties). Values out of range are refused when the collection
    /// config is validated.
    public init(
        deletedThreshold: Double = 0.2, vacuumMinVectorNumber: Int = 1000, defaultSegmentNumber: Int = 0,
        maxSegmentSizeKB: Int? = nil, indexingThresholdKB: Int = 10_000, flushIntervalSec: Int = 5,
        maxOptimizationThreads: Int? = nil
    ) {
        self.deletedThreshold = deletedThreshold
        self.vacuumMinVectorNumber = vacuumMinVectorNumber
        self.defaultSegmentNumber = defaultSegmentNumber
        self.maxSegmentSizeKB = maxSegmentSizeKB
        self.indexingThresholdKB = indexingThresholdKB
        self.flushIntervalSec = flushIntervalSec
        self.maxOptimizationThreads = maxOptimizationThreads
    }

    /// Throws `.invalidArgument` naming the first setting out of range:
    /// `deletedThreshold` outside 0…1, a negative count, or a size, interval
    /// or thread count that is not positive.
    package func validate() throws {
        guard (0...1).contains(deletedThreshold) else {
            throw StrataError.invalid("deleted_threshold must be within 0…1, got \(deletedThreshold)")
        }
        guard vacuumMinVectorNumber >= 0 else {
            throw StrataError.invalid("vacuum_min_vector_number must not be negative")
        }
        guard defaultSegmentNumber >= 0 else {
            throw StrataError.invalid("default_segment_number must not be negative")
        }
        guard (maxSegmentSizeKB ?? 1) > 0 else { throw StrataError.invalid("max_segment_size_kb must be positive") }
        guard indexingThresholdKB > 0 else { throw StrataError.invalid("indexing_threshold_kb must be positive") }
        guard flushIntervalSec > 0 else { throw StrataError.invalid("flush_interval_sec must be positive") }
        guard (maxOptimizationThreads ?? 1) > 0 else {
            throw StrataError.invalid("max_optimization_threads must be positive")
        }
    }
}
