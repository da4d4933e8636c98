import Foundation
import Synchronization

/// What `strata clustertest` knows about every write it sent: per point,
/// the writes in the order its one writer sent them, each acknowledged or in
/// flight (failed, timed out: maybe applied, maybe not). A point is written by
/// one writer only, one write at a time, and every write replaces it whole
/// (an upsert of `{"v": seq}` or a delete), so after the last acknowledged
/// write only that write or a later in-flight one can show.
///
/// Thread safety: all methods may be called from any thread.
public final class ClusterTestOracle: Sendable {
    /// What a point looks like after a write: deleted (nil) or its `v`.
    public typealias Value = Int64?

    struct Write {
        var value: Value
        var acked: Bool
        /// When the acknowledgement arrived (for telling stale acks).
        var ackedAt: ContinuousClock.Instant?
    }

    private let writes = Mutex<[UInt64: [Write]]>([:])
    private let ackCount = Mutex(0)

    public init() {}

    /// Records a write before it is sent; returns its index for `settle`.
    public func intend(_ id: UInt64, _ value: Value) -> Int {
        writes.withLock { map in
            map[id, default: []].append(Write(value: value, acked: false, ackedAt: nil))
            return map[id]!.count - 1
        }
    }

    /// Marks a write acknowledged.
    public func acknowledge(_ id: UInt64, _ index: Int) {
        writes.withLock { $0[id]?[index].acked = true }
        writes.withLock { $0[id]?[index].ackedAt = .now }
        ackCount.withLock { $0 += 1 }
    }

    public var acknowledged: Int { ackCount.withLock { $0 } }

    /// The first acknowledgement that arrived after `instant`, if any.
    /// The first acknowledgement after `instant` of a write to a point `of` accepts (all without it).
    public func firstAcknowledgement(
        after instant: ContinuousClock.Instant, of accepts: ((UInt64) -> Bool)? = nil
    ) -> ContinuousClock.Instant? {
        writes.withLock { map in
            map.filter { accepts?($0.key) ?? true }.values.lazy.flatMap { $0 }.compactMap(\.ackedAt)
                .filter { $0 > instant }.min()
        }
    }

    public var ids: [UInt64] { writes.withLock { Array($0.keys) } }

    public enum Verdict: Equatable {
        case ok
        /// An acknowledged write's effect is missing (acknowledged at `ackedAt`).
        case lost(ackedAt: ContinuousClock.Instant?)
        /// A value no write could have left.
        case phantom
    }

    /// Judges what a replica shows for point `id`.
    public func judge(_ id: UInt64, shows value: Value) -> Verdict {
        let history = writes.withLock { $0[id] ?? [] }
        let lastAcked = history.lastIndex { $0.acked }
        var allowed: [Value] = []
        if let lastAcked {
            allowed.append(history[lastAcked].value)
            allowed += history[(lastAcked + 1)...].map(\.value)
        } else {
            allowed.append(nil)  // never acknowledged: absent, or any write in flight
            allowed += history.map(\.value)
        }
        if allowed.contains(where: { $0 == value }) { return .ok }
        if let lastAcked, history.contains(where: { $0.value == value }) || value == nil {
            return .lost(ackedAt: history[lastAcked].ackedAt)
        }
        return history.contains { $0.value == value } ? .lost(ackedAt: nil) : .phantom
    }
}
