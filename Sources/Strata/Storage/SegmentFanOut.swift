import Dispatch
import Foundation
import Synchronization

/// Runs one query's per-segment searches on idle cores.
///
/// A query over several large segments walks one graph per segment; on one
/// thread their times add up. When fewer queries are searching in this
/// process than there are cores, the segments are searched in parallel
/// (`DispatchQueue.concurrentPerform`, the calling thread taking part), which
/// cuts the query's latency. When the process is already as busy as it has
/// cores, a query searches its segments one after the other: fanning out would
/// only add hand-offs, and throughput under load must not get worse.
///
/// Segments are safe to read from several threads at once (concurrent queries
/// already do); the caller keeps its read lock for the whole fan-out, so the
/// segment set cannot change underneath.
enum SegmentFanOut {
    /// Queries searching segments in this process right now (any collection).
    private static let searching = Atomic<Int>(0)

    /// Cores this process may use.
    static let cores = ProcessInfo.processInfo.activeProcessorCount

    /// Below this many live points a segment's search is too short to be worth
    /// handing to another thread (a wake-up costs ~10 µs; a walk of a graph of
    /// 10,000 points at ef 64 takes ~100 µs on the machines measured).
    static let minimumPointsPerTask = 10_000

    /// `body` of every segment, results in the segments' order: the segments
    /// in parallel (`parallelMap`) when `fansOut` says so, else one after the
    /// other. Throws the first error in the segments' order.
    static func map<T>(
        _ segments: [any ReadableSegment], _ body: (any ReadableSegment) throws -> T
    ) throws -> [T] {
        let active = searching.add(1, ordering: .relaxed).newValue
        defer { searching.subtract(1, ordering: .relaxed) }
        let large = segments.filter { $0.liveCount >= minimumPointsPerTask }.count
        guard fansOut(largeSegments: large, searching: active, cores: cores) else { return try segments.map(body) }
        return try parallelMap(segments, body)
    }

    /// Whether a search fans out: at least two segments are worth a thread
    /// of their own, and the `searching` queries (this one included) leave a
    /// core idle.
    static func fansOut(largeSegments: Int, searching: Int, cores: Int) -> Bool {
        largeSegments >= 2 && searching < cores
    }

    /// `body` of every item on `concurrentPerform`'s threads (the caller's
    /// among them), results in the items' order. Every item runs even when
    /// one throws; then the first error in the items' order is rethrown.
    static func parallelMap<Item, T>(_ items: [Item], _ body: (Item) throws -> T) throws -> [T] {
        var results = [Result<T, any Error>?](repeating: nil, count: items.count)
        withoutActuallyEscaping(body) { body in
            results.withUnsafeMutableBufferPointer { slots in
                let tasks = UncheckedTasks(items: items, body: body, slots: slots)
                DispatchQueue.concurrentPerform(iterations: items.count) { tasks.run($0) }
            }
        }
        return try results.map { try $0!.get() }
    }
}

/// What the fan-out's tasks share. SAFETY: `concurrentPerform` returns only
/// after every task has run, so `body`, the items and the slots outlive the
/// tasks; each task writes only its own slot; `body` reads segments, which
/// concurrent readers may do.
private struct UncheckedTasks<Item, T>: @unchecked Sendable {
    let items: [Item]
    let body: (Item) throws -> T
    let slots: UnsafeMutableBufferPointer<Result<T, any Error>?>

    func run(_ index: Int) {
        slots[index] = Result { try body(items[index]) }
    }
}
