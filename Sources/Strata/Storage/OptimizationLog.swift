import Foundation
import StrataIO

/// One optimization of a collection's segments (Qdrant's `Optimization` of
/// `GET /collections/{c}/optimizations`): writing a sealed in-memory segment
/// as an indexed file ("indexing"), merging small segments ("merge") or
/// rewriting one without its deleted points ("vacuum").
public struct OptimizationInfo: Sendable, Equatable {
    /// What an optimization does; the raw value is the name reports use
    /// (the server's `optimizer` field).
    public enum Kind: String, Sendable, Equatable {
        /// Writes a sealed in-memory segment as an immutable segment file,
        /// with its indexes.
        case indexing
        /// Merges several segment files into one.
        case merge
        /// Rewrites one segment file without its deleted points.
        case vacuum
    }
    /// Where an optimization stands.
    public enum Status: Sendable, Equatable {
        /// Still running.
        case optimizing
        /// Finished without an error.
        case done
        /// Failed; the associated value describes the error.
        case error(String)
    }
    /// A segment an optimization reads: a segment file (by id) or a sealed
    /// in-memory segment (by the op number it was sealed at), with its live points.
    public struct SegmentRef: Sendable, Equatable, Hashable {
        /// Which segment: a file or a sealed in-memory segment.
        public enum Source: Sendable, Equatable, Hashable {
            /// The immutable segment file with this id (`seg-<id>.seg`).
            case file(UInt64)
            /// The in-memory segment sealed at op number `opNum`, not yet
            /// written as a file.
            case sealed(opNum: UInt64)
        }
        /// The segment.
        public var source: Source
        /// Its live points: for a file, the points it stores minus the
        /// deleted ones; for a sealed segment, the points it holds.
        public var points: Int
    }
    /// One step of the work, with progress where it is counted.
    public struct Stage: Sendable, Equatable {
        /// What the step does, for people (such as "copy live points" or
        /// "publish").
        public var name: String
        /// When the step started.
        public var startedAt: Date
        /// When the step ended; nil while it runs.
        public var finishedAt: Date?
        /// Units of work done so far (points); nil when the step is not counted.
        public var done: Int?
        /// Units of work the step has in all; nil when the step is not counted.
        public var total: Int?
    }

    /// A random id, unique to this optimization.
    public var id: UUID
    /// What the optimization does.
    public var kind: Kind
    /// Whether it runs, finished or failed.
    public var status: Status
    /// The segments it reads.
    public var segments: [SegmentRef]
    /// When it started.
    public var startedAt: Date
    /// When it finished or failed; nil while it runs.
    public var finishedAt: Date?
    /// Its steps so far, in order; the last one is the current one while it runs.
    public var stages: [Stage]
}

/// What the optimizer is doing, would do next, and did (newest first).
public struct OptimizationsReport: Sendable, Equatable {
    /// The optimization running now (at most one per collection); empty when idle.
    public var running: [OptimizationInfo]
    /// What the optimizer would do next, in order: first each sealed segment
    /// waiting to be written, then the merges and vacuums the merge planner
    /// picks among the segment files no running optimization reads. A plan,
    /// not a promise: it is recomputed as segments change.
    public var queued: [(kind: OptimizationInfo.Kind, segments: [OptimizationInfo.SegmentRef])]
    /// The optimizations finished since the collection was opened, newest
    /// first, at most the last 64 (kept in memory only).
    public var completed: [OptimizationInfo]
    /// Segment files no queued optimization touches.
    public var idleSegments: [OptimizationInfo.SegmentRef]

    public static func == (a: Self, b: Self) -> Bool {
        a.running == b.running && a.completed == b.completed && a.idleSegments == b.idleSegments
            && a.queued.map(\.kind) == b.queued.map(\.kind) && a.queued.map(\.segments) == b.queued.map(\.segments)
    }
}

/// The running optimization and the last finished ones (in memory only).
struct OptimizationLog {
    static let keptCompleted = 64
    var running: OptimizationInfo?
    /// Oldest first.
    var completed: [OptimizationInfo] = []

    mutating func finish(_ status: OptimizationInfo.Status, at now: Date = Date()) {
        guard var finished = running else { return }
        running = nil
        finished.status = status
        finished.finishedAt = now
        if let last = finished.stages.indices.last, finished.stages[last].finishedAt == nil {
            finished.stages[last].finishedAt = now
        }
        completed.append(finished)
        if completed.count > Self.keptCompleted { completed.removeFirst(completed.count - Self.keptCompleted) }
    }
}

/// The handle an optimization reports its steps through.
struct OptimizationProgress {
    let log: Locked<OptimizationLog>

    /// Ends the current step (complete) and starts `name`, counting to `total` if known.
    func stage(_ name: String, total: Int? = nil) {
        let now = Date()
        log.withLock { log in
            guard var running = log.running else { return }
            if let last = running.stages.indices.last {
                running.stages[last].finishedAt = now
                if let total = running.stages[last].total { running.stages[last].done = total }
            }
            running.stages.append(
                OptimizationInfo.Stage(name: name, startedAt: now, done: total == nil ? nil : 0, total: total))
            log.running = running
        }
    }

    /// Adds `count` units of work done to the current step.
    func advance(_ count: Int) {
        log.withLock { log in
            guard let last = log.running?.stages.indices.last else { return }
            log.running!.stages[last].done = (log.running!.stages[last].done ?? 0) + count
        }
    }
}

extension CollectionStore {
    /// Runs `body` as optimization `kind` of `segments`, recorded as running
    /// while it runs and as done (or failed, with the error) after.
    func trackOptimization<T>(
        _ kind: OptimizationInfo.Kind, segments: [OptimizationInfo.SegmentRef],
        _ body: (OptimizationProgress) throws -> T
    ) throws -> T {
        let started = Date()
        optimizationLog.withLock {
            $0.running = OptimizationInfo(
                id: UUID(), kind: kind, status: .optimizing, segments: segments, startedAt: started, stages: [])
        }
        do {
            let result = try body(OptimizationProgress(log: optimizationLog))
            optimizationLog.withLock { $0.finish(.done) }
            return result
        } catch {
            optimizationLog.withLock { $0.finish(.error("\(error)")) }
            throw error
        }
    }

    /// The running, queued (sealed segments to write, then what the merge
    /// planner picks), completed and idle work of this collection.
    func optimizationsReport() -> OptimizationsReport {
        let log = optimizationLog.withLock { $0 }
        return withStateLock { state in
            let live = { (segment: ImmutableSegment) in
                OptimizationInfo.SegmentRef(
                    source: .file(segment.id), points: segment.reader.pointCount - segment.tombstones.count)
            }
            var queued: [(kind: OptimizationInfo.Kind, segments: [OptimizationInfo.SegmentRef])] = []
            let runningSources = Set(log.running?.segments.map(\.source) ?? [])
            for frozen in state.frozen where !runningSources.contains(.sealed(opNum: frozen.sealOpNum)) {
                queued.append(
                    (.indexing, [.init(source: .sealed(opNum: frozen.sealOpNum), points: frozen.segment.pointCount)]))
            }
            let candidates = state.immutables.filter { !runningSources.contains(.file($0.id)) }
            let planned = MergePlanner.plan(
                candidates.map { segment in
                    MergePlanner.Segment(
                        id: segment.id, pointCount: segment.reader.pointCount, deletedCount: segment.tombstones.count,
                        hasDurableDeletion: segment.tombstones.values.contains { $0 <= state.manifest.checkpoint })
                }, MergePlanner.Config(config))
            var busy = Set<UInt64>()
            for task in planned {
                let (kind, ids): (OptimizationInfo.Kind, [UInt64]) =
                    switch task {
                    case .vacuum(let id): (.vacuum, [id])
                    case .merge(let ids): (.merge, ids)
                    }
                busy.formUnion(ids)
                queued.append((kind, candidates.filter { ids.contains($0.id) }.map(live)))
            }
            return OptimizationsReport(
                running: log.running.map { [$0] } ?? [], queued: queued, completed: log.completed.reversed(),
                idleSegments: candidates.filter { !busy.contains($0.id) }.map(live))
        }
    }
}
